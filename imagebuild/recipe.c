/* SPDX-License-Identifier: MIT */
/* image.conf: key=value through lib/conf.c, each key checked here. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fsutil.h"
#include "log.h"
#include "macro.h"
#include "manifest.h"
#include "parse.h"
#include "readfile.h"
#include "recipe.h"
#include "name_table.h"

static const char *const base_names[_RECIPE_BASE_MAX] = {
	[RECIPE_BASE_DEBOOTSTRAP] = "debootstrap",
	[RECIPE_BASE_TARBALL] = "tarball",
	[RECIPE_BASE_OCI] = "oci",
	[RECIPE_BASE_DIRECTORY] = "directory",
	[RECIPE_BASE_BUSYBOX] = "busybox",
	[RECIPE_BASE_DISK] = "disk",
};

DEFINE_NAME_TABLE_LOOKUP(recipe_base, enum recipe_base, base_names, _RECIPE_BASE_INVALID)

bool
recipe_kernel_is_path(const struct recipe *r)
{
	return r->kernel && strchr(r->kernel, '/');
}

void
strv_done(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

void
recipe_done(struct recipe *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->suite);
	free(r->variant);
	free(r->mirror);
	strv_done(&r->packages);
	free(r->source);
	free(r->kernel);
	free(r->cmdline);
	strv_done(&r->modules);
	free(r->overlay);
	free(r->templates);
	free(r->dom0_mem);
	free(r->xen_cmdline);
	free(r->up_probe);
	free(r->dir);
	memset(r, 0, sizeof(*r));
}

/* Debian policy §5.6.1: [a-z0-9][a-z0-9+.-]+, at least two characters; a leading '-'
 * would otherwise reach debootstrap or apt-get as an option. */
static bool
package_is_valid(const char *s)
{
	size_t n = strlen(s);

	return n >= 2 && n <= 128 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789") >= 1 &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789+.-") == n;
}

/* Kernel module names as modules.dep spells them; '-' and '_' are the same to kmod. */
static bool
module_is_valid(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 64 &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

/* Suite and variant become debootstrap arguments: a leading '-' would be an option. */
static bool
word_is_valid(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 64 && s[0] != '-' &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789.-_") == n;
}

static bool
mirror_is_valid(const char *s)
{
	if (strncmp(s, "http://", 7) && strncmp(s, "https://", 8) && strncmp(s, "file:///", 8))
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* A path in a recipe: printable, no leading '-' (it becomes an argument), no "..". */
static bool
path_is_valid(const char *s)
{
	if (!*s || s[0] == '-' || strlen(s) > PATH_MAX / 2)
		return false;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			return false;
	return true;
}

static bool
printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* Split a list on spaces and commas into s, each word checked by valid(). */
static int
list_add(struct strv *s, const char *key, const char *value, bool (*valid)(const char *),
    struct dl_err *reterr)
{
	char q[MAX_LOG_VALUE + 1];
	const char *p = value;

	for (;;) {
		size_t n;
		char *w, **v;

		p += strspn(p, " \t,");
		if (!*p)
			return 0;
		n = strcspn(p, " \t,");
		w = strndup(p, n);
		if (!w)
			return dl_err_set(reterr, -ENOMEM, "out of memory");
		if (!valid(w)) {
			dl_err_set(reterr, -EINVAL, "%s: '%s' is not a valid name", key,
			    log_safe(q, sizeof(q), w));
			free(w);
			return -EINVAL;
		}
		if (s->n >= MAX_RECIPE_LIST) {
			free(w);
			return dl_err_set(reterr, -E2BIG, "%s: more than %d entries", key,
			    MAX_RECIPE_LIST);
		}
		v = reallocarray(s->v, s->n + 1, sizeof(*v));
		if (!v) {
			free(w);
			return dl_err_set(reterr, -ENOMEM, "out of memory");
		}
		s->v = v;
		s->v[s->n++] = w;
		p += n;
	}
}

static int
set_once(char **dst, const char *key, const char *value, bool (*valid)(const char *),
    struct dl_err *reterr)
{
	char q[MAX_LOG_VALUE + 1];

	if (*dst)
		return dl_err_set(reterr, -EINVAL, "duplicate key '%s'", key);
	if (strlen(value) > MAX_RECIPE_VALUE)
		return dl_err_set(reterr, -E2BIG, "%s: value longer than %d bytes", key,
		    MAX_RECIPE_VALUE);
	if (!valid(value))
		return dl_err_set(reterr, -EINVAL, "%s: invalid value '%s'", key,
		    log_safe(q, sizeof(q), value));
	*dst = strdup(value);
	return *dst ? 0 : dl_err_set(reterr, -ENOMEM, "out of memory");
}

static bool
kernel_is_valid(const char *s)
{
	return strchr(s, '/') ? path_is_valid(s) : package_is_valid(s);
}

static bool
name_is_valid(const char *s)
{
	return image_name_is_valid(s);
}

/* Xen's size syntax for dom0_mem: digits and an optional unit (docs/misc/
 * xen-command-line: "<size>" is a number with a B, K, M, G or T suffix). */
static bool
dom0_mem_is_valid(const char *s)
{
	size_t n = strlen(s), d = strspn(s, "0123456789");

	return n >= 1 && n <= MAX_DOM0_MEM && d >= 1 && s[0] != '0' &&
	    (d == n || (d + 1 == n && strchr("BKMGT", s[d])));
}

static bool
up_probe_is_valid(const char *s)
{
	unsigned port;

	return manifest_probe_port(s, &port) == 0;
}

int
recipe_parse_disk_size(const char *s, uint64_t *ret, struct dl_err *reterr)
{
	char q[MAX_LOG_VALUE + 1];
	size_t d = strspn(s, "0123456789"), n = strlen(s);
	unsigned shift = 0;
	uint64_t v = 0;

	if (d == 0 || d > 15 || (d != n && (d + 1 != n || !strchr("KMGT", s[d]))))
		goto bad;
	for (size_t i = 0; i < d; i++)
		v = v * 10 + (uint64_t)(s[i] - '0'); /* at most 15 digits: no overflow */
	if (d + 1 == n)
		shift = s[d] == 'K' ? 10 : s[d] == 'M' ? 20 : s[d] == 'G' ? 30 : 40;
	if (v > (MAX_RECIPE_DISK_SIZE >> shift))
		goto bad;
	v <<= shift;
	if (v < MIN_RECIPE_DISK_SIZE || v % (1ULL << 20))
		goto bad;
	*ret = v;
	return 0;
bad:
	return dl_err_set(reterr, -EINVAL, "disk_size: '%s' is not a size of whole MiB "
	    "from 256M to 2T (digits and K, M, G or T)", log_safe(q, sizeof(q), s));
}

/* A number once, in [min, max]; the message names the key. */
static int
set_u64_once(uint64_t *dst, bool *seen, const char *key, const char *value, uint64_t min,
    uint64_t max, struct dl_err *reterr)
{
	int rc;

	if (*seen)
		return dl_err_set(reterr, -EINVAL, "duplicate key '%s'", key);
	rc = parse_u64(value, min, max, dst, reterr);
	if (rc < 0)
		return dl_err_prefix(reterr, "%s", key);
	*seen = true;
	return 0;
}

struct parse_state {
	struct recipe *r;
	char *base;
	char *kind;
	bool have_vcpus, have_reserve_mib, have_reserve_cpus, have_disk_size;
};

static int
recipe_item(const char *key, const char *value, void *userdata, struct dl_err *reterr)
{
	struct parse_state *st = userdata;
	struct recipe *r = st->r;
	char q[MAX_LOG_VALUE + 1];

	if (streq(key, "name"))
		return set_once(&r->name, key, value, name_is_valid, reterr);
	if (streq(key, "base")) {
		int rc = set_once(&st->base, key, value, printable, reterr);
		if (rc < 0)
			return rc;
		r->base = recipe_base_from_string(value);
		if (r->base < 0)
			return dl_err_set(reterr, -EINVAL,
			    "base: '%s' is not debootstrap, tarball, oci, directory, busybox or disk",
			    log_safe(q, sizeof(q), value));
		return 0;
	}
	if (streq(key, "suite"))
		return set_once(&r->suite, key, value, word_is_valid, reterr);
	if (streq(key, "variant"))
		return set_once(&r->variant, key, value, word_is_valid, reterr);
	if (streq(key, "mirror"))
		return set_once(&r->mirror, key, value, mirror_is_valid, reterr);
	if (streq(key, "packages"))
		return list_add(&r->packages, key, value, package_is_valid, reterr);
	if (streq(key, "source"))
		return set_once(&r->source, key, value, path_is_valid, reterr);
	if (streq(key, "kernel"))
		return set_once(&r->kernel, key, value, kernel_is_valid, reterr);
	if (streq(key, "cmdline"))
		return set_once(&r->cmdline, key, value, printable, reterr);
	if (streq(key, "modules"))
		return list_add(&r->modules, key, value, module_is_valid, reterr);
	if (streq(key, "overlay"))
		return set_once(&r->overlay, key, value, path_is_valid, reterr);
	if (streq(key, "templates"))
		return set_once(&r->templates, key, value, path_is_valid, reterr);
	if (streq(key, "kind")) {
		int rc = set_once(&st->kind, key, value, printable, reterr);
		if (rc < 0)
			return rc;
		/* What imagebuild knows how to build: each needs its own steps. */
		if (!streq(value, "linux") && !streq(value, "kvm") && !streq(value, "xen") &&
		    !streq(value, "iscsi"))
			return dl_err_set(reterr, -EINVAL, "kind: '%s' is not linux, kvm, xen or iscsi",
			    log_safe(q, sizeof(q), value));
		r->kind = kind_find(value);
		return r->kind ? 0 : dl_err_set(reterr, -EINVAL, "kind: '%s' is not in the kind table",
		    log_safe(q, sizeof(q), value));
	}
	if (streq(key, "up_probe"))
		return set_once(&r->up_probe, key, value, up_probe_is_valid, reterr);
	if (streq(key, "disk_size")) {
		if (st->have_disk_size)
			return dl_err_set(reterr, -EINVAL, "duplicate key '%s'", key);
		st->have_disk_size = true;
		return recipe_parse_disk_size(value, &r->disk_size, reterr);
	}
	if (streq(key, "dom0_mem"))
		return set_once(&r->dom0_mem, key, value, dom0_mem_is_valid, reterr);
	if (streq(key, "xen_cmdline"))
		return set_once(&r->xen_cmdline, key, value, printable, reterr);
	if (streq(key, "dom0_vcpus")) {
		uint64_t v;
		int rc = set_u64_once(&v, &st->have_vcpus, key, value, 1, MAX_RECIPE_CPUS, reterr);
		if (rc >= 0)
			r->dom0_vcpus = (unsigned)v;
		return rc;
	}
	if (streq(key, "guest_reserve_mib"))
		return set_u64_once(&r->guest_reserve_mib, &st->have_reserve_mib, key, value, 0,
		    MAX_RECIPE_RESERVE_MIB, reterr);
	if (streq(key, "guest_reserve_cpus")) {
		uint64_t v;
		int rc = set_u64_once(&v, &st->have_reserve_cpus, key, value, 0, MAX_RECIPE_CPUS,
		    reterr);
		if (rc >= 0)
			r->guest_reserve_cpus = (unsigned)v;
		return rc;
	}
	return dl_err_set(reterr, -EINVAL, "unknown key '%s'", log_safe(q, sizeof(q), key));
}

/* Keys that only make sense together: caught here, before any slow step runs. */
static int
recipe_check_kind(const char *fname, struct recipe *r, const struct parse_state *st,
    struct dl_err *reterr)
{
	bool xen;

	if (!r->kind)
		r->kind = kind_find(r->base == RECIPE_BASE_DISK ? "iscsi" : "linux");
	if (!r->kind)
		return dl_err_set(reterr, -EINVAL, "%s: the kind table has no linux", fname);
	xen = streq(r->kind->name, "xen");
	if (!xen && (r->dom0_mem || st->have_vcpus || r->xen_cmdline))
		return dl_err_set(reterr, -EINVAL, "%s: '%s' applies only to kind=xen, not kind=%s",
		    fname, r->dom0_mem ? "dom0_mem" : st->have_vcpus ? "dom0_vcpus" : "xen_cmdline",
		    r->kind->name);
	if (xen && (!r->dom0_mem || !st->have_vcpus))
		return dl_err_set(reterr, -EINVAL, "%s: kind=xen needs '%s'", fname,
		    !r->dom0_mem ? "dom0_mem" : "dom0_vcpus");
	if (!kind_is_vm_host(r->kind) && (st->have_reserve_mib || st->have_reserve_cpus))
		return dl_err_set(reterr, -EINVAL,
		    "%s: '%s' applies only to VM hosts (kind=kvm or xen), not kind=%s", fname,
		    st->have_reserve_mib ? "guest_reserve_mib" : "guest_reserve_cpus", r->kind->name);
	/* iscsi: a disk, imported (base=disk) or made from a debootstrap rootfs. */
	if (kind_is_sanboot(r->kind)) {
		if (r->base != RECIPE_BASE_DISK && r->base != RECIPE_BASE_DEBOOTSTRAP)
			return dl_err_set(reterr, -EINVAL, "%s: kind=%s needs base=disk or debootstrap, "
			    "not base=%s", fname, r->kind->name, base_names[r->base]);
		if (r->base == RECIPE_BASE_DEBOOTSTRAP && !st->have_disk_size)
			return dl_err_set(reterr, -EINVAL, "%s: kind=%s with base=debootstrap needs "
			    "'disk_size'", fname, r->kind->name);
	} else {
		if (r->base == RECIPE_BASE_DISK)
			return dl_err_set(reterr, -EINVAL, "%s: base=disk makes kind=iscsi, not kind=%s",
			    fname, r->kind->name);
		if (r->up_probe || st->have_disk_size)
			return dl_err_set(reterr, -EINVAL, "%s: '%s' applies only to kind=iscsi, not "
			    "kind=%s", fname, r->up_probe ? "up_probe" : "disk_size", r->kind->name);
	}
	if (r->base == RECIPE_BASE_DISK && st->have_disk_size)
		return dl_err_set(reterr, -EINVAL, "%s: 'disk_size' does not apply to base=disk "
		    "(the source disk has its size)", fname);
	if (xen) {
		_cleanup_free_ char *cmd = NULL;

		if (recipe_hypervisor_cmdline(r, &cmd) < 0)
			return dl_err_set(reterr, -ENOMEM, "out of memory");
		if (strlen(cmd) > MAX_RECIPE_VALUE)
			return dl_err_set(reterr, -E2BIG, "%s: Xen's command line from dom0_mem, "
			    "dom0_vcpus and xen_cmdline is longer than %d bytes", fname,
			    MAX_RECIPE_VALUE);
	}
	return 0;
}

int
recipe_hypervisor_cmdline(const struct recipe *r, char **ret)
{
	char *s;

	if (!r->kind || !streq(r->kind->name, "xen") || !r->dom0_mem)
		return -EINVAL;
	if (asprintf(&s, "dom0_mem=%s,max:%s dom0_max_vcpus=%u%s%s", r->dom0_mem, r->dom0_mem,
	    r->dom0_vcpus, r->xen_cmdline && *r->xen_cmdline ? " " : "",
	    r->xen_cmdline ? r->xen_cmdline : "") < 0)
		return -ENOMEM;
	*ret = s;
	return 0;
}

static int
recipe_check(const char *fname, struct recipe *r, bool have_base, struct dl_err *reterr)
{
	const char *b;

	if (!r->name)
		return dl_err_set(reterr, -EINVAL, "%s: missing key 'name'", fname);
	if (!have_base)
		return dl_err_set(reterr, -EINVAL, "%s: missing key 'base'", fname);
	b = base_names[r->base];
	if (r->base != RECIPE_BASE_DEBOOTSTRAP) {
		if (r->suite || r->variant || r->mirror)
			return dl_err_set(reterr, -EINVAL,
			    "%s: '%s' applies only to base=debootstrap, not base=%s", fname,
			    r->suite ? "suite" : r->variant ? "variant" : "mirror", b);
		if (r->kernel && !recipe_kernel_is_path(r))
			return dl_err_set(reterr, -EINVAL,
			    "%s: kernel: a package name needs base=debootstrap; give a kernel tree path",
			    fname);
	}
	if (r->packages.n && r->base != RECIPE_BASE_DEBOOTSTRAP && r->base != RECIPE_BASE_BUSYBOX)
		return dl_err_set(reterr, -EINVAL,
		    "%s: 'packages' applies only to base=debootstrap or busybox, not base=%s", fname, b);
	switch (r->base) {
	case RECIPE_BASE_DISK:
		/* Nothing is built: the disk holds its own OS, kernel and boot loader. */
		if (r->kernel || r->modules.n)
			return dl_err_set(reterr, -EINVAL, "%s: '%s' does not apply to base=disk",
			    fname, r->kernel ? "kernel" : "modules");
		fallthrough; /* it needs a source as these do */
	case RECIPE_BASE_TARBALL:
	case RECIPE_BASE_OCI:
	case RECIPE_BASE_DIRECTORY:
		if (!r->source)
			return dl_err_set(reterr, -EINVAL, "%s: base=%s needs 'source'", fname, b);
		break;
	case RECIPE_BASE_DEBOOTSTRAP:
	case RECIPE_BASE_BUSYBOX:
		if (r->source)
			return dl_err_set(reterr, -EINVAL, "%s: 'source' does not apply to base=%s",
			    fname, b);
		break;
	case _RECIPE_BASE_MAX:
	case _RECIPE_BASE_INVALID:
		return dl_err_set(reterr, -EINVAL, "%s: bad base", fname);
	}
	if ((!r->suite && !(r->suite = strdup("bookworm"))) ||
	    (!r->variant && !(r->variant = strdup("minbase"))) ||
	    (!r->cmdline && !(r->cmdline = strdup("console=ttyS0 quiet"))) ||
	    (!r->overlay && !(r->overlay = strdup("overlay"))) ||
	    (!r->templates && !(r->templates = strdup("templates"))))
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	if (r->base != RECIPE_BASE_DEBOOTSTRAP) {
		/* Defaults of debootstrap only; keep the struct free of misleading values. */
		free(r->suite);
		free(r->variant);
		r->suite = r->variant = NULL;
	}
	return 0;
}

int
recipe_parse(const char *fname, const char *buf, size_t len, struct recipe *ret,
    struct dl_err *reterr)
{
	struct recipe r = {};
	struct parse_state st = { .r = &r };
	int rc;

	rc = conf_parse_buffer(fname, buf, len, recipe_item, &st, reterr);
	if (rc >= 0)
		rc = recipe_check(fname, &r, st.base != NULL, reterr);
	if (rc >= 0)
		rc = recipe_check_kind(fname, &r, &st, reterr);
	free(st.base);
	free(st.kind);
	if (rc < 0) {
		recipe_done(&r);
		return rc;
	}
	*ret = r;
	return 0;
}

int
recipe_load(const char *dir, struct recipe *ret, struct dl_err *reterr)
{
	_cleanup_free_ char *path = NULL, *buf = NULL, *abs = NULL;
	struct recipe r;
	size_t len;
	int rc;

	if (asprintf(&path, "%s/image.conf", dir) < 0)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	rc = read_file(path, MAX_RECIPE_FILE, READ_FILE_REGULAR, &buf, &len, reterr);
	if (rc < 0)
		return rc;
	abs = realpath(dir, NULL);
	if (!abs)
		return dl_err_set(reterr, negative_errno(), "%s: %s", dir, strerror(errno));
	rc = recipe_parse(path, buf, len, &r, reterr);
	if (rc < 0)
		return rc;
	r.dir = TAKE_PTR(abs);
	*ret = r;
	return 0;
}
