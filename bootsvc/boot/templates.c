/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
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

static int
read_file(const char *path, char **ret, size_t *ret_len, struct dl_err *reterr)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t got = 0;

	if (fd < 0)
		return dl_err_set(reterr, negative_errno(), "template '%s': %s", path,
		    strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return dl_err_set(reterr, -EINVAL, "template '%s': not a regular file", path);
	if (st.st_size > MAX_TEMPLATE_SIZE)
		return dl_err_set(reterr, -E2BIG, "template '%s': larger than %d bytes", path,
		    MAX_TEMPLATE_SIZE);
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return dl_err_set(reterr, -EIO, "template '%s': short read", path);
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_len = got;
	return 0;
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
		r = read_file(path, &n.text[i], &n.len[i], reterr);
		if (r < 0)
			goto fail;
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
