/* SPDX-License-Identifier: MIT */
/* dl-report: the up-reporter inside the image (docs/boot-protocol.md "The up-reporter"). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nodeconf.h"
#include "report.h"
#include "roles.h"

#define DEFAULT_CONF "/etc/diskless/node.conf"
#define DEFAULT_RECEIPT "/run/diskless/receipt.json"

static void _init_printf_(1, 2)
err_out(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	init_vlog("dl-report: ", 600, fmt, ap);
	va_end(ap);
}

static int
usage(void)
{
	err_out("usage: dl-report [--conf FILE] [--receipt FILE] up [--facts FILE] | phase <phase> [reason]");
	return 2;
}

static bool
phase_is_valid(const char *p)
{
	static const char *const phases[] = { "pxe", "loading", "imaging", "up", "failed" };
	size_t i;

	for (i = 0; i < sizeof(phases) / sizeof(phases[0]); i++)
		if (strcmp(p, phases[i]) == 0)
			return true;
	return false;
}

int
dlreport_main(int argc, char **argv)
{
	static char conf_text[MAX_NODE_CONF + 1], receipt[MAX_RECEIPT + 1], facts[MAX_FACTS + 1];
	const char *conf = DEFAULT_CONF, *receipt_path = DEFAULT_RECEIPT;
	const char *phase, *reason = NULL, *rj = NULL, *facts_path = NULL, *fj = NULL;
	struct init_err err = { "" };
	struct node_conf nc;
	int i = 1, n, r;

	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (strcmp(argv[i], "--conf") == 0)
			conf = argv[i + 1];
		else if (strcmp(argv[i], "--receipt") == 0)
			receipt_path = argv[i + 1];
		else
			return usage();
	}
	if (i >= argc)
		return usage();
	if (strcmp(argv[i], "up") == 0 && i + 1 == argc) {
		phase = "up";
	} else if (strcmp(argv[i], "up") == 0 && i + 3 == argc && strcmp(argv[i + 1], "--facts") == 0) {
		/* a VM host: up with its facts (docs/images.md "VM hosts") */
		phase = "up";
		facts_path = argv[i + 2];
	} else if (strcmp(argv[i], "phase") == 0 && (i + 2 == argc || i + 3 == argc)) {
		phase = argv[i + 1];
		reason = i + 2 < argc ? argv[i + 2] : NULL;
		if (!phase_is_valid(phase)) {
			err_out("unknown phase '%.40s' (pxe, loading, imaging, up, failed)", phase);
			return 2;
		}
		if (strcmp(phase, "failed") == 0 && !reason) {
			err_out("phase failed needs a reason");
			return 2;
		}
	} else {
		return usage();
	}

	n = init_read_file(conf, conf_text, MAX_NODE_CONF);
	if (n < 0) {
		err_out("%s: %s", conf, strerror(-n));
		return 1;
	}
	if (nodeconf_parse(conf_text, &nc, &err) < 0) {
		err_out("%s: %s", conf, err.msg);
		return 1;
	}
	if (strcmp(phase, "up") == 0) {
		n = init_read_file(receipt_path, receipt, MAX_RECEIPT);
		if (n < 0) {
			err_out("%s: %s", receipt_path, strerror(-n));
			return 1;
		}
		if (report_receipt_check(receipt, &err) < 0) {
			err_out("%s: %s", receipt_path, err.msg);
			return 1;
		}
		rj = receipt;
	}
	if (facts_path) {
		n = init_read_file(facts_path, facts, MAX_FACTS);
		if (n < 0) {
			err_out("%s: %s", facts_path, strerror(-n));
			return 1;
		}
		if (report_facts_check(facts, &err) < 0) {
			err_out("%s: %s", facts_path, err.msg);
			return 1;
		}
		fj = facts;
	}
	/* A boot races the network and bootsvc restarts: retried while bootsvc cannot be
	 * reached, for REPORT_BUDGET_MS (report.h); a 4xx is the server's considered answer. */
	r = report_phase_retry(&nc.server, nc.node, nc.token, phase, reason, rj, fj,
	    REPORT_BUDGET_MS, &err);
	if (r == 0)
		return 0;
	if (r == -ETIME)
		err_out("report %s to %s: no answer for %d s: %s", phase, nc.server.host,
		    REPORT_BUDGET_MS / 1000, err.msg);
	else
		err_out("report %s to %s failed: %s", phase, nc.server.host, err.msg);
	return 1;
}
