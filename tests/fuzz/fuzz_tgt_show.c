/* SPDX-License-Identifier: MIT */
/* bootsvc/iscsi/tgt_show.c on arbitrary tgtadm output: never crashes, and what it accepts
 * keeps the contract of tgt_show.h: tids in 1..MAX_TGT_TARGETS, each connection's tid one
 * of the listed targets, names of iSCSI characters only ("?" for a name marked bad) and
 * NUL-terminated within their array, addresses dotted IPv4. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../bootsvc/iscsi/tgt_show.h"
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_TIDS 64
#define FUZZ_CONNS 64

static struct tgt_show_conn conns[FUZZ_CONNS];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t tids[FUZZ_TIDS];
	size_t nt = 0, nc = 0;
	struct dl_err e = { 0 };
	int r;

	r = tgt_show_parse((const char *)data, size, tids, FUZZ_TIDS, &nt, conns, FUZZ_CONNS,
	    &nc, &e);
	if (r < 0) {
		if ((r != -EBADMSG && r != -ENOBUFS) || !e.msg[0])
			abort();
		return 0;
	}
	if (nt > FUZZ_TIDS || nc > FUZZ_CONNS)
		abort();
	for (size_t i = 0; i < nt; i++)
		if (tids[i] < 1 || tids[i] > MAX_TGT_TARGETS)
			abort();
	for (size_t i = 0; i < nc; i++) {
		const struct tgt_session *s = &conns[i].s;
		bool listed = false;
		uint32_t be;

		for (size_t k = 0; k < nt; k++)
			listed |= tids[k] == s->tid;
		if (conns[i].bad_name && strcmp(s->initiator_name, "?") != 0)
			abort();
		if (!listed || strnlen(s->initiator_name, sizeof(s->initiator_name)) == 0 ||
		    strnlen(s->initiator_name, sizeof(s->initiator_name)) >= sizeof(s->initiator_name) ||
		    strpbrk(s->initiator_name, " \t\r\"'=\\") ||
		    strnlen(s->addr, sizeof(s->addr)) >= sizeof(s->addr) ||
		    parse_ipv4(s->addr, &be, &e) < 0)
			abort();
	}
	return 0;
}
