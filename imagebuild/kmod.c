/* SPDX-License-Identifier: MIT */
#include <string.h>
#include <sys/stat.h>

#include <libkmod.h>

#include "kmod.h"
#include "log.h"

/* A dependency chain deeper than this is a cycle in a broken modules.dep. */
#define MAX_DEP_DEPTH 64

static void
ctx_unrefp(struct kmod_ctx **c)
{
	if (*c)
		kmod_unref(*c);
}

static void
list_unrefp(struct kmod_list **l)
{
	if (*l)
		kmod_module_unref_list(*l);
}

static void
module_unrefp(struct kmod_module **m)
{
	if (*m)
		kmod_module_unref(*m);
}

bool
kmod_set_has(const struct kmod_set *set, const char *name)
{
	for (size_t i = 0; i < set->n; i++)
		if (streq(set->m[i].name, name))
			return true;
	return false;
}

void
kmod_set_done(struct kmod_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		free(set->m[i].name);
		free(set->m[i].path);
		free(set->m[i].rel);
	}
	free(set->m);
	set->m = NULL;
	set->n = 0;
}

static int
set_add(struct kmod_set *set, const char *moddir, const char *name, const char *path,
    struct dl_err *reterr)
{
	struct kmod_mod *m;
	size_t dl = strlen(moddir);

	/* The initrd lays modules out as the tree does; a path outside it is not ours. */
	if (strncmp(path, moddir, dl) || path[dl] != '/')
		return dl_err_set(reterr, -EINVAL, "module '%s': path '%s' is outside %s", name, path,
		    moddir);
	m = reallocarray(set->m, set->n + 1, sizeof(*m));
	if (!m)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	set->m = m;
	m = &set->m[set->n];
	m->name = strdup(name);
	m->path = strdup(path);
	m->rel = strdup(path + dl + 1);
	if (!m->name || !m->path || !m->rel) {
		free(m->name);
		free(m->path);
		free(m->rel);
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	}
	set->n++;
	return 0;
}

/* Post-order walk: a module is appended only after everything it depends on, which is
 * the order the init must insmod them in. */
static int
visit(struct kmod_module *mod, const char *moddir, struct kmod_set *set, int depth,
    struct dl_err *reterr)
{
	_cleanup_(list_unrefp) struct kmod_list *deps = NULL;
	struct kmod_list *l;
	const char *name = kmod_module_get_name(mod), *path;
	int rc;

	if (depth > MAX_DEP_DEPTH)
		return dl_err_set(reterr, -ELOOP, "module '%s': dependency chain deeper than %d",
		    name, MAX_DEP_DEPTH);
	if (kmod_set_has(set, name))
		return 0;
	path = kmod_module_get_path(mod);
	if (!path)
		return 0; /* built into the kernel: nothing to load */
	deps = kmod_module_get_dependencies(mod);
	kmod_list_foreach(l, deps) {
		_cleanup_(module_unrefp) struct kmod_module *d = kmod_module_get_module(l);
		rc = visit(d, moddir, set, depth + 1, reterr);
		if (rc < 0)
			return rc;
	}
	if (kmod_set_has(set, name))
		return 0;
	return set_add(set, moddir, name, path, reterr);
}

int
kmod_resolve(const char *moddir, const char *const *names, size_t n, bool optional,
    struct kmod_set *set, struct dl_err *reterr)
{
	_cleanup_(ctx_unrefp) struct kmod_ctx *ctx = NULL;
	_cleanup_free_ char *dep = NULL;
	const char *null_config = NULL;
	struct stat st;
	int rc;

	if (asprintf(&dep, "%s/modules.dep.bin", moddir) < 0)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	if (stat(dep, &st) < 0)
		return dl_err_set(reterr, -EIO, "%s: %s (run depmod -b <root> <kver>)", dep,
		    strerror(errno));
	/* An empty config list: the build machine's /etc/modprobe.d (blacklists, aliases)
	 * says nothing about the image's kernel. */
	ctx = kmod_new(moddir, &null_config);
	if (!ctx)
		return dl_err_set(reterr, -ENOMEM, "kmod: cannot open %s", moddir);
	rc = kmod_load_resources(ctx);
	if (rc < 0)
		return dl_err_set(reterr, rc, "kmod: cannot load indexes of %s: %s", moddir,
		    strerror(-rc));
	for (size_t i = 0; i < n; i++) {
		_cleanup_(list_unrefp) struct kmod_list *list = NULL;
		struct kmod_list *l;
		bool found = false;

		rc = kmod_module_new_from_lookup(ctx, names[i], &list);
		if (rc < 0)
			return dl_err_set(reterr, rc, "kmod: lookup of '%s' failed: %s", names[i],
			    strerror(-rc));
		kmod_list_foreach(l, list) {
			_cleanup_(module_unrefp) struct kmod_module *mod =
			    kmod_module_get_module(l);
			/* A lookup by name may also return alias matches; take only the
			 * module itself. '-' and '_' are equal in module names. */
			char want[128];
			size_t k;
			for (k = 0; names[i][k] && k < sizeof(want) - 1; k++)
				want[k] = names[i][k] == '-' ? '_' : names[i][k];
			want[k] = '\0';
			if (!streq(kmod_module_get_name(mod), want))
				continue;
			found = true;
			rc = visit(mod, moddir, set, 0, reterr);
			if (rc < 0)
				return rc;
		}
		if (!found && !optional)
			return dl_err_set(reterr, -ENOENT, "module '%s' is not in %s", names[i],
			    moddir);
	}
	return 0;
}
