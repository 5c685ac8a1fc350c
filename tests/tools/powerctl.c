/* SPDX-License-Identifier: MIT */
/* powerctl: one power operation through bootsvc's own BMC code (bmc_power_run and
 * bmc_creds_load), so integration tests drive exactly what the controller runs and
 * compare it with FreeIPMI's ipmipower.
 *
 *   powerctl CREDS HOST on|off|cycle|reset|status [--pxe] [--port N] [--timeout MS] [--ca FILE]
 *            [--auto]
 *
 * HOST is a BMC address as a node's bmc field holds it: redfish://IP[:PORT], ipmi://IP, or
 * a bare IP spoken over IPMI, or with --auto as bmc_protocol = auto does (probe Redfish). *
 * Prints "HOST: on|off" (status) or "HOST: ok" and exits 0; on failure prints
 * "powerctl: error=ENAME msg=..." to stderr and exits 1; a bad command line exits 2. */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../bootsvc/bmc/power.h"
#include "parse.h"

enum {
	POWERCTL_EXIT_OK = 0,
	POWERCTL_EXIT_FAILED = 1,
	POWERCTL_EXIT_USAGE = 2,
};

/* The controller's default: a dead BMC costs a worker this long per attempt. */
#define DEFAULT_TIMEOUT_MS 5000

static void
usage(FILE *f)
{
	fprintf(f, "usage: powerctl CREDS HOST on|off|cycle|reset|status [--pxe] [--port N] "
		   "[--timeout MS] [--ca FILE] [--auto]\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pxe", no_argument, NULL, 'x' },
		{ "auto", no_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "ca", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bmc_target t = { .port = 623, .cipher = 3, .timeout_ms = DEFAULT_TIMEOUT_MS };
	struct dl_err err = { 0 };
	enum power_op op;
	uint64_t v;
	bool on;
	enum bmc_proto proto = BMC_PROTO_IPMI;
	uint16_t port = 0;
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'x':
			t.pxe_first = true;
			break;
		case 'a':
			proto = BMC_PROTO_AUTO;
			break;
		case 'p':
			if (parse_u64(optarg, 1, UINT16_MAX, &v, &err) < 0) {
				fprintf(stderr, "powerctl: option --port: %s\n", err.msg);
				return POWERCTL_EXIT_USAGE;
			}
			port = (uint16_t)v;
			break;
		case 't':
			if (parse_u64(optarg, 1, 3600 * 1000, &v, &err) < 0) {
				fprintf(stderr, "powerctl: option --timeout: %s\n", err.msg);
				return POWERCTL_EXIT_USAGE;
			}
			t.timeout_ms = (unsigned)v;
			break;
		case 'c':
			if (strlen(optarg) >= sizeof(t.ca_file)) {
				fprintf(stderr, "powerctl: option --ca: path too long\n");
				return POWERCTL_EXIT_USAGE;
			}
			strcpy(t.ca_file, optarg);
			break;
		case 'h':
			usage(stdout);
			return POWERCTL_EXIT_OK;
		default:
			usage(stderr);
			return POWERCTL_EXIT_USAGE;
		}
	}
	if (argc - optind != 3) {
		usage(stderr);
		return POWERCTL_EXIT_USAGE;
	}
	/* HOST: an address as a node's bmc field takes it (redfish://, ipmi://, bare = IPMI) */
	if (bmc_target_parse(argv[optind + 1], proto, &t, &err) < 0) {
		fprintf(stderr, "powerctl: %s\n", err.msg);
		return POWERCTL_EXIT_USAGE;
	}
	if (port)
		t.port = port;
	op = power_op_from_string(argv[optind + 2]);
	if (op < 0) {
		fprintf(stderr, "powerctl: operation '%s' is not one of on, off, cycle, reset, "
				"status\n", argv[optind + 2]);
		return POWERCTL_EXIT_USAGE;
	}

	r = bmc_creds_load(argv[optind], &t, &err);
	if (r >= 0)
		r = bmc_power_run(&t, op, &on, &err);
	explicit_bzero(t.pass, sizeof(t.pass));
	if (r < 0) {
		fprintf(stderr, "powerctl: error=%s msg=\"%s\"\n", dl_errno_name(r),
		    err.code ? err.msg : strerror(-r));
		return POWERCTL_EXIT_FAILED;
	}
	if (op == POWER_STATUS)
		printf("%s: %s\n", t.host, on ? "on" : "off");
	else
		printf("%s: ok\n", t.host);
	return POWERCTL_EXIT_OK;
}
