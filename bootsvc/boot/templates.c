/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "log.h"
#include "readfile.h"
#include "template.h"
#include "boot/templates.h"

static const char *const names[_TMPL_MAX] = {
	[TMPL_START] = "start", [TMPL_LINUX] = "linux", [TMPL_HOLD] = "hold",
	[TMPL_DISCOVER] = "discover", [TMPL_LOCAL] = "local",
};

const char *
templates_name(enum tmpl_id id)
{
	return id < _TMPL_MAX ? names[id] : NULL;
}

/* A trial render where every name resolves, so syntax errors surface at load time. */
static const char *
trial_lookup(const char *name, void *userdata)
{
	(void)name;
	(void)userdata;
	return "x";
}

int
templates_load(struct templates *t, const char *dir, struct dl_err *reterr)
{
	struct templates n = { 0 };
	int r = 0;

	for (int i = 0; i < _TMPL_MAX; i++) {
		char path[512];
		char *out = NULL;

		(void)snprintf(path, sizeof(path), "%s/%s.ipxe", dir, names[i]);
		r = read_file(path, MAX_TEMPLATE_SIZE, READ_FILE_REGULAR, &n.text[i], &n.len[i],
		    reterr);
		if (r < 0) {
			dl_err_prefix(reterr, "template");
			goto fail;
		}
		r = template_render(n.text[i], n.len[i], trial_lookup, NULL, &out, NULL, reterr);
		free(out);
		if (r < 0) {
			dl_err_prefix(reterr, "template '%s'", path);
			goto fail;
		}
	}
	templates_done(t);
	*t = n;
	return 0;
fail:
	templates_done(&n);
	return r;
}

void
templates_done(struct templates *t)
{
	for (int i = 0; i < _TMPL_MAX; i++) {
		free(t->text[i]);
		t->text[i] = NULL;
		t->len[i] = 0;
	}
}
