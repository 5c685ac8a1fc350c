/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/templates.h"
#include "conf.h"
#include "config_check.h"
#include "macro.h"
#include "readfile.h"
#include "store/store.h"

/* The same cap as bootsvc's own read of the file (lib/conf.c's MAX_CONF_FILE). */
#define MAX_CHECK_CONF_FILE (1024 * 1024)

struct check {
	config_check_fn report;
	void *userdata;
};

static void
on_bad_line(const struct dl_err *err, void *userdata)
{
	struct check *ck = userdata;

	ck->report(err->msg, ck->userdata);
}

static int
check_item(const char *key, const char *value, void *userdata, struct dl_err *reterr)
{
	return config_set(userdata, key, value, reterr);
}

int
config_check_file(struct config *c, const char *path, config_check_fn report, void *userdata)
{
	struct check ck = { report, userdata };
	_cleanup_free_ char *buf = NULL;
	struct dl_err err = { 0 };
	size_t len = 0;

	if (read_file(path, MAX_CHECK_CONF_FILE, READ_FILE_REGULAR, &buf, &len, &err) < 0) {
		report(err.msg, userdata);
		return 1;
	}
	return conf_check_buffer(path, buf, len, check_item, c, on_bad_line, &ck);
}

_printf_(3, 4) static int
bad(config_check_fn report, void *userdata, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	report(msg, userdata);
	return 1;
}

/* 1 (reported) unless path is what kind says: 'd' a directory, 'x' an executable file,
 * 'f' a readable file. */
static int
need(const char *key, const char *path, char kind, config_check_fn report, void *userdata)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return bad(report, userdata, "%s: '%s': %s", key, path, strerror(errno));
	if (kind == 'd' && !S_ISDIR(st.st_mode))
		return bad(report, userdata, "%s: '%s' is not a directory", key, path);
	if (kind != 'd' && !S_ISREG(st.st_mode))
		return bad(report, userdata, "%s: '%s' is not a regular file", key, path);
	if (kind == 'x' && access(path, X_OK) < 0)
		return bad(report, userdata, "%s: '%s' is not executable", key, path);
	if (kind == 'f' && access(path, R_OK) < 0)
		return bad(report, userdata, "%s: '%s' is not readable: %s", key, path,
		    strerror(errno));
	return 0;
}

int
config_check_paths(const struct config *c, config_check_fn report, void *userdata)
{
	struct dl_err err = { 0 };
	struct templates t = { 0 };
	int n = 0;

	/* The state dir is made at start (mkdir, one level), so its parent must exist. */
	if (access(c->state_dir, F_OK) == 0) {
		n += need("state_dir", c->state_dir, 'd', report, userdata);
	} else {
		char parent[MAX_CONF_PATH];

		strcpy(parent, c->state_dir);
		if (access(dirname(parent), F_OK) < 0)
			n += bad(report, userdata, "state_dir: neither '%s' nor its parent exists",
			    c->state_dir);
	}
	if (templates_load(&t, c->template_dir, &err) < 0) {
		n += bad(report, userdata, "template_dir: %s", err.msg);
		dl_err_clear(&err);
	}
	templates_done(&t);
	if (c->store[0] && store_target_check(c->store, &err) < 0) {
		n += bad(report, userdata, "store: %s", err.msg);
		dl_err_clear(&err);
	}
	if (c->dhcp_mode != DHCP_MODE_OFF) {
		n += need("dnsmasq", c->dnsmasq, 'x', report, userdata);
		n += need("ipxe_dir", c->ipxe_dir, 'd', report, userdata);
	}
	if (c->iscsi) {
		n += need("tgtd", c->tgtd, 'x', report, userdata);
		n += need("tgtadm", c->tgtadm, 'x', report, userdata);
	}
	if (c->control_tls_cert[0])
		n += need("control_tls_cert", c->control_tls_cert, 'f', report, userdata);
	if (c->control_tls_key[0])
		n += need("control_tls_key", c->control_tls_key, 'f', report, userdata);
	if (c->control_tls_ca[0])
		n += need("control_tls_ca", c->control_tls_ca, 'f', report, userdata);
	if (c->site_overlay[0])
		n += need("site_overlay", c->site_overlay, 'd', report, userdata);
	if (c->notify_hook[0])
		n += need("notify_hook", c->notify_hook, 'x', report, userdata);
	return n;
}
