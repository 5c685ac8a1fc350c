/* SPDX-License-Identifier: MIT */
/* bench/disk_clone: the time bootsvc takes to make one node's disk (issue 14), by the
 * code a worker runs (bootsvc/iscsi/disk_clone.c): a temp name, the method, fsync of the
 * file and its directory, the rename. bench/run.sh's clone row runs it beside the same
 * clone made by hand (cp --reflink=always, cp --sparse=always, qemu-img create -b) on
 * the same golden disk, alternating.
 *
 *   disk_clone -m reflink|copy -g GOLDEN -d DIR -n NODE
 *
 * One clone per call (the row alternates calls with its reference), one line:
 * "method=<m> ms=<wall> apparent=<bytes> allocated=<bytes>". */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "err.h"
#include "iscsi/disk_clone.h"

static double
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int
main(int argc, char **argv)
{
	struct disk_clone_req q = { .method = DISK_CLONE_AUTO };
	struct disk_clone_result res;
	struct dl_err e = { 0 };
	double t0;
	int c;

	while ((c = getopt(argc, argv, "m:g:d:n:")) != -1) {
		switch (c) {
		case 'm':
			q.method = disk_clone_from_string(optarg);
			if (q.method < 0) {
				fprintf(stderr, "disk_clone: unknown method '%s'\n", optarg);
				return 2;
			}
			break;
		case 'g': q.golden = optarg; break;
		case 'd': q.dir = optarg; break;
		case 'n': q.node = optarg; break;
		default:
			fprintf(stderr, "usage: disk_clone -m METHOD -g GOLDEN -d DIR -n NODE\n");
			return 2;
		}
	}
	if (!q.golden || !q.dir || !q.node) {
		fprintf(stderr, "usage: disk_clone -m METHOD -g GOLDEN -d DIR -n NODE\n");
		return 2;
	}
	t0 = now_ms();
	if (disk_clone_make(&q, &res, &e) < 0) {
		fprintf(stderr, "disk_clone: %s\n", e.msg);
		return 1;
	}
	printf("method=%s ms=%.2f apparent=%lld allocated=%lld\n", disk_clone_to_string(res.method),
	    now_ms() - t0, (long long)res.apparent_bytes, (long long)res.allocated_bytes);
	return 0;
}
