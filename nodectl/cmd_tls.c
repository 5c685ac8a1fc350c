/* SPDX-License-Identifier: MIT */
/* nodectl tls init | issue: parse the command line, let tls_pki.c make the files, say
 * what was written and how to use it. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "macro.h"
#include "parse.h"
#include "tls_pki.h"

enum {
	TLS_OPT_DIR = 0x200,
	TLS_OPT_DAYS,
	TLS_OPT_ROLE,
	TLS_OPT_SERVER,
	TLS_OPT_SAN,
	TLS_OPT_EXPIRED,
	TLS_OPT_HELP = 'h',
};

static const struct option tls_longopts[] = {
	{ "dir", required_argument, NULL, TLS_OPT_DIR },
	{ "days", required_argument, NULL, TLS_OPT_DAYS },
	{ "role", required_argument, NULL, TLS_OPT_ROLE },
	{ "server", no_argument, NULL, TLS_OPT_SERVER },
	{ "san", required_argument, NULL, TLS_OPT_SAN },
	/* Not in the usage: a certificate that expired yesterday, for tests of refusal. */
	{ "expired", no_argument, NULL, TLS_OPT_EXPIRED },
	{ "help", no_argument, NULL, TLS_OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static void
cmd_tls_usage(FILE *out)
{
	(void)fputs("Usage:\n  nodectl " CMD_TLS_USAGE_INIT "\n  nodectl " CMD_TLS_USAGE_ISSUE
	    "\n\nDIR defaults to " TLS_PKI_DEFAULT_DIR ". init makes the CA (ca.crt, ca.key);\n"
	    "issue makes NAME.crt and NAME.key signed by it: a client certificate whose\n"
	    "subject names its role (OU=diskless-ROLE), or with --server bootsvc's own\n"
	    "(NAME and every --san are the host names and addresses clients use).\n", out);
}

int
cmd_tls_main(int argc, char **argv, FILE *out, FILE *errout)
{
	struct tls_pki_req req = { .role = _ROLE_INVALID };
	const char *dir = TLS_PKI_DEFAULT_DIR, *sub, *operand = NULL;
	struct dl_err err = { 0 };
	bool init, role_given = false;
	uint64_t days;
	int c, r;

	if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
		cmd_tls_usage(argc < 2 ? errout : out);
		return argc < 2 ? NODECTL_EXIT_USAGE : NODECTL_EXIT_OK;
	}
	sub = argv[1];
	if (!streq(sub, "init") && !streq(sub, "issue")) {
		(void)fprintf(errout, "nodectl: tls: unknown verb '%.64s' (one of: init, issue)\n",
		    sub);
		return NODECTL_EXIT_USAGE;
	}
	init = streq(sub, "init");
	req.days = init ? TLS_PKI_CA_DAYS : TLS_PKI_CERT_DAYS;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc - 1, argv + 1, "-:h", tls_longopts, NULL)) != -1) {
		switch (c) {
		case 1:
			if (init || operand) {
				(void)fprintf(errout, "nodectl: tls %s: unexpected operand '%.64s'\n",
				    sub, optarg);
				return NODECTL_EXIT_USAGE;
			}
			operand = optarg;
			break;
		case TLS_OPT_HELP:
			cmd_tls_usage(out);
			return NODECTL_EXIT_OK;
		case TLS_OPT_DIR:
			if (!optarg[0]) {
				(void)fprintf(errout, "nodectl: tls %s: option --dir is empty\n", sub);
				return NODECTL_EXIT_USAGE;
			}
			dir = optarg;
			break;
		case TLS_OPT_DAYS:
			if (parse_u64(optarg, 1, MAX_TLS_PKI_DAYS, &days, &err) < 0) {
				(void)fprintf(errout, "nodectl: tls %s: option --days: %s\n", sub,
				    err.msg);
				return NODECTL_EXIT_USAGE;
			}
			req.days = (unsigned)days;
			break;
		case TLS_OPT_ROLE:
		case TLS_OPT_SERVER:
		case TLS_OPT_SAN:
		case TLS_OPT_EXPIRED:
			if (init) {
				(void)fprintf(errout, "nodectl: tls init: option '%.64s' is for tls "
				    "issue\n", argv[optind]);
				return NODECTL_EXIT_USAGE;
			}
			if (c == TLS_OPT_ROLE) {
				req.role = role_from_name(optarg);
				role_given = true;
				if (req.role < 0) {
					(void)fprintf(errout, "nodectl: tls issue: option --role: "
					    "'%.64s' is not a role (admin, scheduler, read-only)\n",
					    optarg);
					return NODECTL_EXIT_USAGE;
				}
			} else if (c == TLS_OPT_SERVER)
				req.server = true;
			else if (c == TLS_OPT_EXPIRED)
				req.expired = true;
			else if (req.n_sans >= MAX_TLS_SANS) {
				(void)fprintf(errout, "nodectl: tls issue: more than %d --san\n",
				    MAX_TLS_SANS);
				return NODECTL_EXIT_USAGE;
			} else if (!optarg[0]) {
				(void)fprintf(errout, "nodectl: tls issue: option --san is empty\n");
				return NODECTL_EXIT_USAGE;
			} else
				req.sans[req.n_sans++] = optarg;
			break;
		case ':':
			(void)fprintf(errout, "nodectl: tls %s: option '%.64s' needs a value\n", sub,
			    argv[optind]);
			return NODECTL_EXIT_USAGE;
		default:
			(void)fprintf(errout, "nodectl: tls %s: unknown option '%.64s'\n", sub,
			    argv[optind]);
			return NODECTL_EXIT_USAGE;
		}
	}
	if (init) {
		r = tls_pki_init(dir, req.days, &err);
		if (r < 0) {
			(void)fprintf(errout, "nodectl: tls init: %s\n", err.msg);
			return NODECTL_EXIT_DAEMON;
		}
		(void)fprintf(out, "CA: %s/ca.crt (give it to bootsvc as control_tls_ca and to "
		    "clients as --ca), key %s/ca.key (keep it here)\n", dir, dir);
		return NODECTL_EXIT_OK;
	}
	if (!operand) {
		(void)fprintf(errout, "nodectl: tls issue: missing NAME\n");
		return NODECTL_EXIT_USAGE;
	}
	if (req.server == role_given) {
		(void)fprintf(errout, "nodectl: tls issue: give either --role ROLE (a client) or "
		    "--server (bootsvc's certificate)\n");
		return NODECTL_EXIT_USAGE;
	}
	if (!req.server && req.n_sans) {
		(void)fprintf(errout, "nodectl: tls issue: --san is for --server certificates\n");
		return NODECTL_EXIT_USAGE;
	}
	req.name = operand;
	char crt[4096], key[4096];
	r = tls_pki_issue(dir, &req, crt, key, sizeof(crt), &err);
	if (r < 0) {
		(void)fprintf(errout, "nodectl: tls issue: %s\n", err.msg);
		return r == -EINVAL ? NODECTL_EXIT_USAGE : NODECTL_EXIT_DAEMON;
	}
	if (req.server)
		(void)fprintf(out, "server certificate %s, key %s: bootsvc's control_tls_cert "
		    "and control_tls_key\n", crt, key);
	else
		(void)fprintf(out, "client certificate %s (role %s), key %s: nodectl --cert and "
		    "--key, or cert and key in the client config\n", crt,
		    role_to_name(req.role), key);
	return NODECTL_EXIT_OK;
}
