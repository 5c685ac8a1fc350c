/* SPDX-License-Identifier: MIT */
/* manifest.json: strict parse, validation, canonical form, content id. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "log.h"
#include "manifest.h"
#include "parse.h"
#include "relpath.h"

/* Sizes are JSON integers: keep them exact in a double for other readers (2^53). */
#define MAX_FILE_SIZE ((uint64_t)1 << 53)

const struct manifest_file *
manifest_file(const struct manifest *m, const char *role)
{
	for (size_t i = 0; role && i < m->n_files && i < MAX_MANIFEST_FILES; i++)
		if (streq(m->files[i].role, role))
			return &m->files[i];
	return NULL;
}

int
manifest_file_set(struct manifest *m, const char *role, const char *sha256, uint64_t size)
{
	struct manifest_file *f = (struct manifest_file *)manifest_file(m, role);

	if (!kind_role_name_is_valid(role))
		return -EINVAL;
	if (!f) {
		if (m->n_files >= MAX_MANIFEST_FILES)
			return -E2BIG;
		f = &m->files[m->n_files++];
		strcpy(f->role, role);
	}
	(void)snprintf(f->sha256, sizeof(f->sha256), "%s", sha256);
	f->size = size;
	return 0;
}

static bool
is_printable(const char *s, size_t max)
{
	size_t n = 0;

	for (; *s; s++, n++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return n <= max;
}

/* "YYYY-MM-DDTHH:MM:SSZ", UTC only, so the string sorts as time does. */
static bool
built_is_valid(const char *s)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:ddZ";

	if (strlen(s) != sizeof(pat) - 1)
		return false;
	for (size_t i = 0; pat[i]; i++) {
		if (pat[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pat[i])
			return false;
	}
	return true;
}

/* Release strings like "6.1.0-56-amd64". */
static bool
kernel_version_is_valid(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= MAX_KERNEL_VERSION &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.+-_~") == n;
}

/* A relative path under templates/: components of [A-Za-z0-9._@+-], none empty, "." or
 * "..", so bootsvc can open it beneath the version directory without surprises. */
static bool
template_path_is_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MAX_TEMPLATE_PATH)
		return false;
	if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@+-/") != n)
		return false;
	return relpath_is_plain(s);
}

/* "4.17.7", "4.18-rc": what Xen's major.minor+extra look like. */
static bool
hypervisor_version_is_valid(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= MAX_HYPERVISOR_VERSION && s[0] >= '0' && s[0] <= '9' &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.+-_~") == n;
}

/* A GNU build id as readelf and /sys/hypervisor/properties/buildid print it: whole
 * bytes of lowercase hex. */
static bool
build_id_is_valid(const char *s)
{
	size_t n = strlen(s);

	return n >= 2 && n <= MAX_HYPERVISOR_BUILD_ID && n % 2 == 0 &&
	    strspn(s, "0123456789abcdef") == n;
}

static bool
is_set(const char *s)
{
	return s && *s;
}

/* Does k's receipt hold the hypervisor against the manifest (xen)? Then its manifests
 * must say what that hypervisor is. */
static bool
kind_measures_hypervisor(const struct kind *k)
{
	for (size_t i = 0; i < kind_n_receipt(k); i++)
		if (k->receipt[i].measure == KIND_MEASURE_HYPERVISOR)
			return true;
	return false;
}

static int
validate_hypervisor(const struct manifest *m, struct dl_err *reterr)
{
	char q[MAX_LOG_VALUE + 1];

	if (is_set(m->hypervisor_version) && !hypervisor_version_is_valid(m->hypervisor_version))
		return dl_err_set(reterr, -EINVAL,
		    "manifest: hypervisor_version '%s' is not a version (digits first, at most %d "
		    "of [A-Za-z0-9.+-_~])", log_safe(q, sizeof(q), m->hypervisor_version),
		    MAX_HYPERVISOR_VERSION);
	if (is_set(m->hypervisor_build_id) && !build_id_is_valid(m->hypervisor_build_id))
		return dl_err_set(reterr, -EINVAL,
		    "manifest: hypervisor_build_id '%s' is not whole bytes of lowercase hex "
		    "(at most %d digits)", log_safe(q, sizeof(q), m->hypervisor_build_id),
		    MAX_HYPERVISOR_BUILD_ID);
	if (is_set(m->hypervisor_efi_build_id) && !build_id_is_valid(m->hypervisor_efi_build_id))
		return dl_err_set(reterr, -EINVAL,
		    "manifest: hypervisor_efi_build_id '%s' is not whole bytes of lowercase hex "
		    "(at most %d digits)", log_safe(q, sizeof(q), m->hypervisor_efi_build_id),
		    MAX_HYPERVISOR_BUILD_ID);
	if (is_set(m->hypervisor_cmdline) &&
	    !is_printable(m->hypervisor_cmdline, MAX_HYPERVISOR_CMDLINE))
		return dl_err_set(reterr, -EINVAL,
		    "manifest: hypervisor_cmdline '%s' is too long or not printable",
		    log_safe(q, sizeof(q), m->hypervisor_cmdline));
	if (kind_measures_hypervisor(m->kind)) {
		if (!is_set(m->hypervisor_version))
			return dl_err_set(reterr, -EINVAL,
			    "manifest: a %s image needs hypervisor_version", m->kind->name);
		if (!is_set(m->hypervisor_build_id))
			return dl_err_set(reterr, -EINVAL,
			    "manifest: a %s image needs hypervisor_build_id", m->kind->name);
	}
	return 0;
}

int
manifest_probe_port(const char *probe, unsigned *ret_port)
{
	unsigned long v = 0;
	size_t n;

	if (!probe || strncmp(probe, "tcp:", 4) != 0)
		return -EINVAL;
	probe += 4;
	n = strlen(probe);
	if (n == 0 || n > 5 || strspn(probe, "0123456789") != n || probe[0] == '0')
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned long)(probe[i] - '0');
	if (v > 65535)
		return -EINVAL;
	*ret_port = (unsigned)v;
	return 0;
}

static int
validate_probe(const struct manifest *m, struct dl_err *reterr)
{
	char q[MAX_LOG_VALUE + 1];
	unsigned port;

	if (is_set(m->up_probe) && manifest_probe_port(m->up_probe, &port) < 0)
		return dl_err_set(reterr, -EINVAL,
		    "manifest: up_probe '%s' is not tcp:<port> (1-65535)",
		    log_safe(q, sizeof(q), m->up_probe));
	return 0;
}

/* files against the kind: each a role of it, once; every required role present. */
static int
validate_files(const struct manifest *m, struct dl_err *reterr)
{
	char q[MAX_LOG_VALUE + 1], roles[128];

	if (m->n_files > MAX_MANIFEST_FILES)
		return dl_err_set(reterr, -E2BIG, "manifest: %zu files, at most %d", m->n_files,
		    MAX_MANIFEST_FILES);
	kind_roles_describe(m->kind, roles, sizeof(roles));
	for (size_t i = 0; i < m->n_files; i++) {
		const struct manifest_file *f = &m->files[i];

		if (!kind_role(m->kind, f->role))
			return dl_err_set(reterr, -EINVAL,
			    "manifest: files of a %s image must be %s: '%s' is not one of them",
			    m->kind->name, roles, log_safe(q, sizeof(q), f->role));
		if (manifest_file(m, f->role) != f)
			return dl_err_set(reterr, -EINVAL, "manifest: files.%s appears twice", f->role);
		if (!sha256_hex_is_valid(f->sha256))
			return dl_err_set(reterr, -EINVAL, "manifest: files.%s.sha256 '%s' is not 64 hex",
			    f->role, log_safe(q, sizeof(q), f->sha256));
		if (f->size == 0 || f->size > MAX_FILE_SIZE)
			return dl_err_set(reterr, -EINVAL, "manifest: files.%s.size %llu is out of range",
			    f->role, (unsigned long long)f->size);
	}
	for (size_t i = 0; i < kind_n_roles(m->kind); i++) {
		const struct kind_role *r = &m->kind->roles[i];

		if ((r->flags & KIND_ROLE_REQUIRED) && !manifest_file(m, r->name))
			return dl_err_set(reterr, -EINVAL,
			    "manifest: files of a %s image must be %s: '%s' is missing", m->kind->name,
			    roles, r->name);
	}
	return 0;
}

int
manifest_validate(const struct manifest *m, struct dl_err *reterr)
{
	char q[MAX_LOG_VALUE + 1];
	int rc;

	if (!m->name || !image_name_is_valid(m->name))
		return dl_err_set(reterr, -EINVAL, "manifest: name '%s' is not a valid image name",
		    log_safe(q, sizeof(q), m->name));
	if (!m->kind)
		return dl_err_set(reterr, -EINVAL, "manifest: kind is not set");
	if (!built_is_valid(m->built))
		return dl_err_set(reterr, -EINVAL,
		    "manifest: built '%s' is not YYYY-MM-DDTHH:MM:SSZ", log_safe(q, sizeof(q), m->built));
	if (!sha256_hex_is_valid(m->recipe_sha256))
		return dl_err_set(reterr, -EINVAL, "manifest: recipe_sha256 '%s' is not 64 hex",
		    log_safe(q, sizeof(q), m->recipe_sha256));
	/* A kind without a kernel file (iscsi: the kernel, if any, is inside its disk) says
	 * "" for both; one with a kernel must name it. */
	bool has_kernel = kind_role(m->kind, "kernel") != NULL;
	if (!m->kernel_version || (has_kernel || *m->kernel_version ?
	    !kernel_version_is_valid(m->kernel_version) : false))
		return dl_err_set(reterr, -EINVAL, "manifest: kernel_version '%s' is not a kernel release",
		    log_safe(q, sizeof(q), m->kernel_version));
	if (!m->kernel_banner || (has_kernel && !*m->kernel_banner) ||
	    !is_printable(m->kernel_banner, MAX_KERNEL_BANNER))
		return dl_err_set(reterr, -EINVAL,
		    "manifest: kernel_banner '%s' is empty, too long or not printable",
		    log_safe(q, sizeof(q), m->kernel_banner));
	if (!m->cmdline || !is_printable(m->cmdline, MAX_MANIFEST_CMDLINE))
		return dl_err_set(reterr, -EINVAL,
		    "manifest: cmdline '%s' is too long or not printable", log_safe(q, sizeof(q), m->cmdline));
	rc = validate_files(m, reterr);
	if (rc < 0)
		return rc;
	rc = validate_hypervisor(m, reterr);
	if (rc < 0)
		return rc;
	rc = validate_probe(m, reterr);
	if (rc < 0)
		return rc;
	if (m->initrd_tree[0] && !sha256_hex_is_valid(m->initrd_tree))
		return dl_err_set(reterr, -EINVAL, "manifest: initrd_tree '%s' is not 64 hex",
		    log_safe(q, sizeof(q), m->initrd_tree));
	if (m->n_templates > MAX_MANIFEST_TEMPLATES)
		return dl_err_set(reterr, -E2BIG, "manifest: %zu templates, at most %d",
		    m->n_templates, MAX_MANIFEST_TEMPLATES);
	for (size_t i = 0; i < m->n_templates; i++) {
		const struct manifest_template *t = &m->templates[i];

		if (!t->path || !template_path_is_valid(t->path))
			return dl_err_set(reterr, -EINVAL, "manifest: templates[%zu].path '%s' is invalid",
			    i, log_safe(q, sizeof(q), t->path));
		if (!sha256_hex_is_valid(t->sha256))
			return dl_err_set(reterr, -EINVAL,
			    "manifest: templates[%zu].sha256 '%s' is not 64 hex", i,
			    log_safe(q, sizeof(q), t->sha256));
		if (t->size > MAX_FILE_SIZE)
			return dl_err_set(reterr, -EINVAL, "manifest: templates[%zu].size is out of range", i);
		/* Quadratic, but bounded by MAX_MANIFEST_TEMPLATES. */
		for (size_t j = 0; j < i; j++)
			if (streq(m->templates[j].path, t->path))
				return dl_err_set(reterr, -EINVAL,
				    "manifest: templates path '%s' appears twice",
				    log_safe(q, sizeof(q), t->path));
	}
	return 0;
}

static int
copy_hex(char dst[static SHA256_HEX_SIZE], const char *src, const char *field,
    struct dl_err *reterr)
{
	char q[MAX_LOG_VALUE + 1];

	if (!sha256_hex_is_valid(src))
		return dl_err_set(reterr, -EINVAL, "manifest: %s '%s' is not 64 lowercase hex", field,
		    log_safe(q, sizeof(q), src));
	memcpy(dst, src, SHA256_HEX_SIZE);
	return 0;
}

static int
size_from_json(json_int_t v, uint64_t *ret, const char *field, struct dl_err *reterr)
{
	if (v < 0 || (uint64_t)v > MAX_FILE_SIZE)
		return dl_err_set(reterr, -EINVAL, "manifest: %s %lld is out of range", field,
		    (long long)v);
	*ret = (uint64_t)v;
	return 0;
}

static int
parse_file(json_t *o, const struct kind_role *r, struct manifest_file *f, struct dl_err *reterr)
{
	char field[64], q[MAX_LOG_VALUE + 1];
	const char *path, *sha;
	json_int_t size;
	json_error_t je;
	int rc;

	if (json_unpack_ex(o, &je, JSON_STRICT, "{s:s, s:s, s:I}", "path", &path, "sha256", &sha,
	    "size", &size) < 0)
		return dl_err_set(reterr, -EINVAL, "manifest: files.%s: %s", r->name, je.text);
	if (!streq(path, r->file))
		return dl_err_set(reterr, -EINVAL, "manifest: files.%s.path '%s' is not '%s'",
		    r->name, log_safe(q, sizeof(q), path), r->file);
	strcpy(f->role, r->name);
	(void)snprintf(field, sizeof(field), "files.%s.sha256", r->name);
	rc = copy_hex(f->sha256, sha, field, reterr);
	if (rc < 0)
		return rc;
	(void)snprintf(field, sizeof(field), "files.%s.size", r->name);
	return size_from_json(size, &f->size, field, reterr);
}

/* files: an object of the kind's roles. Parsed in the kind's role order, so the struct
 * does not depend on the order of the keys in the file. */
static int
parse_files(json_t *files, struct manifest *m, struct dl_err *reterr)
{
	char q[MAX_LOG_VALUE + 1], roles[128];
	const char *key;
	json_t *v;
	int rc;

	if (!json_is_object(files))
		return dl_err_set(reterr, -EINVAL, "manifest: files must be an object");
	if (json_object_size(files) > MAX_MANIFEST_FILES)
		return dl_err_set(reterr, -E2BIG, "manifest: files has %zu entries, at most %d",
		    json_object_size(files), MAX_MANIFEST_FILES);
	kind_roles_describe(m->kind, roles, sizeof(roles));
	json_object_foreach(files, key, v) {
		if (!kind_role_name_is_valid(key))
			return dl_err_set(reterr, -EINVAL, "manifest: files key '%s' is not a role name",
			    log_safe(q, sizeof(q), key));
		if (!kind_role(m->kind, key))
			return dl_err_set(reterr, -EINVAL,
			    "manifest: files of a %s image must be %s: '%s' is not one of them",
			    m->kind->name, roles, key);
	}
	for (size_t i = 0; i < kind_n_roles(m->kind); i++) {
		const struct kind_role *r = &m->kind->roles[i];

		v = json_object_get(files, r->name);
		if (!v)
			continue; /* a missing required role: manifest_validate() names it */
		rc = parse_file(v, r, &m->files[m->n_files], reterr);
		if (rc < 0)
			return rc;
		m->n_files++;
	}
	return 0;
}

static int
dup_str(char **dst, const char *s)
{
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

/* An optional string field: absent leaves *ret NULL; any other type is named. */
static int
opt_string(json_t *v, const char *field, const char **ret, struct dl_err *reterr)
{
	if (!v)
		return 0;
	if (!json_is_string(v))
		return dl_err_set(reterr, -EINVAL, "manifest: %s must be a string", field);
	*ret = json_string_value(v);
	return 0;
}

int
manifest_parse(const char *buf, size_t len, struct manifest *ret, struct dl_err *reterr)
{
	_cleanup_(json_decrefp) json_t *root = NULL;
	struct manifest m = {};
	const char *name, *kind, *built, *recipe, *kver, *banner, *cmdline;
	const char *hv_version = NULL, *hv_build_id = NULL, *hv_cmdline = NULL, *hv_efi = NULL;
	json_t *hv_version_j = NULL, *hv_build_id_j = NULL, *hv_cmdline_j = NULL, *hv_efi_j = NULL;
	const char *probe = NULL;
	json_t *probe_j = NULL;
	char q[MAX_LOG_VALUE + 1];
	json_t *files = NULL, *templates = NULL, *tree = NULL;
	json_int_t format;
	json_error_t je;
	int rc;

	if (len > MAX_MANIFEST_SIZE)
		return dl_err_set(reterr, -E2BIG, "manifest: %zu bytes, at most %d", len,
		    MAX_MANIFEST_SIZE);
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return dl_err_set(reterr, -EINVAL, "manifest: line %d column %d: %s", je.line,
		    je.column, je.text);
	if (json_unpack_ex(root, &je, JSON_STRICT,
	    "{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s?o, s?o, s?o, s?o, s?o, s?o, s?o}",
	    "format", &format, "name", &name, "kind", &kind, "built", &built,
	    "recipe_sha256", &recipe, "kernel_version", &kver, "kernel_banner", &banner,
	    "cmdline", &cmdline, "files", &files, "templates", &templates,
	    "initrd_tree", &tree, "hypervisor_version", &hv_version_j,
	    "hypervisor_build_id", &hv_build_id_j, "hypervisor_cmdline", &hv_cmdline_j,
	    "hypervisor_efi_build_id", &hv_efi_j, "up_probe", &probe_j) < 0)
		return dl_err_set(reterr, -EINVAL, "manifest: %s", je.text);
	rc = opt_string(hv_version_j, "hypervisor_version", &hv_version, reterr);
	if (rc >= 0)
		rc = opt_string(hv_build_id_j, "hypervisor_build_id", &hv_build_id, reterr);
	if (rc >= 0)
		rc = opt_string(hv_cmdline_j, "hypervisor_cmdline", &hv_cmdline, reterr);
	if (rc >= 0)
		rc = opt_string(hv_efi_j, "hypervisor_efi_build_id", &hv_efi, reterr);
	if (rc >= 0)
		rc = opt_string(probe_j, "up_probe", &probe, reterr);
	if (rc < 0)
		return rc;
	/* The canonical form never writes these empty: "" in a file is not ours. */
	if ((hv_version && !*hv_version) || (hv_build_id && !*hv_build_id) ||
	    (hv_cmdline && !*hv_cmdline) || (hv_efi && !*hv_efi) || (probe && !*probe))
		return dl_err_set(reterr, -EINVAL,
		    "manifest: hypervisor_version, hypervisor_build_id, hypervisor_cmdline and "
		    "up_probe are left out when empty, never \"\"");
	if (format != MANIFEST_FORMAT)
		return dl_err_set(reterr, -EINVAL, "manifest: format %lld is not %d", (long long)format,
		    MANIFEST_FORMAT);
	rc = kind_lookup(kind, &m.kind, reterr);
	if (rc < 0) {
		(void)dl_err_prefix(reterr, "manifest");
		return rc;
	}
	if (strlen(built) >= sizeof(m.built) || !built_is_valid(built))
		return dl_err_set(reterr, -EINVAL, "manifest: built '%s' is not YYYY-MM-DDTHH:MM:SSZ",
		    log_safe(q, sizeof(q), built));
	strcpy(m.built, built);
	rc = copy_hex(m.recipe_sha256, recipe, "recipe_sha256", reterr);
	if (rc < 0)
		return rc;
	/* Optional, but when present it must be a real hash: "" would read as absent. */
	if (tree) {
		if (!json_is_string(tree))
			return dl_err_set(reterr, -EINVAL, "manifest: initrd_tree must be a string");
		rc = copy_hex(m.initrd_tree, json_string_value(tree), "initrd_tree", reterr);
		if (rc < 0)
			return rc;
	}
	rc = parse_files(files, &m, reterr);
	if (rc < 0)
		return rc;
	if (dup_str(&m.name, name) < 0 || dup_str(&m.kernel_version, kver) < 0 ||
	    dup_str(&m.kernel_banner, banner) < 0 || dup_str(&m.cmdline, cmdline) < 0 ||
	    (hv_version && dup_str(&m.hypervisor_version, hv_version) < 0) ||
	    (hv_build_id && dup_str(&m.hypervisor_build_id, hv_build_id) < 0) ||
	    (hv_cmdline && dup_str(&m.hypervisor_cmdline, hv_cmdline) < 0) ||
	    (hv_efi && dup_str(&m.hypervisor_efi_build_id, hv_efi) < 0) ||
	    (probe && dup_str(&m.up_probe, probe) < 0)) {
		manifest_done(&m);
		return dl_err_set(reterr, -ENOMEM, "manifest: out of memory");
	}
	if (templates) {
		size_t n = json_array_size(templates);

		if (!json_is_array(templates)) {
			manifest_done(&m);
			return dl_err_set(reterr, -EINVAL, "manifest: templates must be an array");
		}
		if (n > MAX_MANIFEST_TEMPLATES) {
			manifest_done(&m);
			return dl_err_set(reterr, -E2BIG, "manifest: %zu templates, at most %d", n,
			    MAX_MANIFEST_TEMPLATES);
		}
		m.templates = calloc(n ? n : 1, sizeof(*m.templates));
		if (!m.templates) {
			manifest_done(&m);
			return dl_err_set(reterr, -ENOMEM, "manifest: out of memory");
		}
		for (size_t i = 0; i < n; i++) {
			struct manifest_template *t = &m.templates[i];
			const char *path, *sha;
			json_int_t size;
			char field[64];

			if (json_unpack_ex(json_array_get(templates, i), &je, JSON_STRICT,
			    "{s:s, s:s, s:I}", "path", &path, "sha256", &sha, "size", &size) < 0) {
				manifest_done(&m);
				return dl_err_set(reterr, -EINVAL, "manifest: templates[%zu]: %s", i,
				    je.text);
			}
			m.n_templates = i + 1;
			(void)snprintf(field, sizeof(field), "templates[%zu].sha256", i);
			rc = copy_hex(t->sha256, sha, field, reterr);
			if (rc >= 0) {
				(void)snprintf(field, sizeof(field), "templates[%zu].size", i);
				rc = size_from_json(size, &t->size, field, reterr);
			}
			if (rc >= 0 && dup_str(&t->path, path) < 0)
				rc = dl_err_set(reterr, -ENOMEM, "manifest: out of memory");
			if (rc < 0) {
				manifest_done(&m);
				return rc;
			}
		}
	}
	rc = manifest_validate(&m, reterr);
	if (rc < 0) {
		manifest_done(&m);
		return rc;
	}
	*ret = m;
	return 0;
}

static json_t *
file_to_json(const char *path, const char *sha, uint64_t size)
{
	return json_pack("{s:s, s:s, s:I}", "path", path, "sha256", sha, "size", (json_int_t)size);
}

int
manifest_canonical(const struct manifest *m, char **ret, struct dl_err *reterr)
{
	_cleanup_(json_decrefp) json_t *root = NULL;
	json_t *files, *templates = NULL;
	char *s;
	int rc;

	rc = manifest_validate(m, reterr);
	if (rc < 0)
		return rc;
	files = json_object();
	if (!files)
		return dl_err_set(reterr, -ENOMEM, "manifest: out of memory");
	for (size_t i = 0; i < m->n_files; i++) {
		const struct manifest_file *f = &m->files[i];

		/* The path is the kind's name for the role: the same bytes the fixed names of
		 * the three linux roles wrote before kinds were a table, so ids stay. */
		if (json_object_set_new(files, f->role,
		    file_to_json(kind_role(m->kind, f->role)->file, f->sha256, f->size)) < 0) {
			json_decref(files);
			return dl_err_set(reterr, -ENOMEM, "manifest: out of memory");
		}
	}
	if (m->n_templates) {
		templates = json_array();
		for (size_t i = 0; templates && i < m->n_templates; i++) {
			const struct manifest_template *t = &m->templates[i];
			if (json_array_append_new(templates, file_to_json(t->path, t->sha256, t->size)) < 0) {
				json_decref(templates);
				templates = NULL;
			}
		}
		if (!templates) {
			json_decref(files);
			return dl_err_set(reterr, -ENOMEM, "manifest: out of memory");
		}
	}
	/* "o" steals files and templates, also when json_pack fails. An image without
	 * templates or initrd_tree omits the key, so adding the field later kept old ids
	 * stable. */
	root = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o*, s:s*, s:s*, s:s*, s:s*, s:s*, s:s*}",
	    "format", MANIFEST_FORMAT, "name", m->name, "kind", m->kind->name,
	    "built", m->built, "recipe_sha256", m->recipe_sha256,
	    "kernel_version", m->kernel_version, "kernel_banner", m->kernel_banner,
	    "cmdline", m->cmdline, "files", files, "templates", templates,
	    "initrd_tree", m->initrd_tree[0] ? m->initrd_tree : NULL,
	    "hypervisor_version", is_set(m->hypervisor_version) ? m->hypervisor_version : NULL,
	    "hypervisor_build_id", is_set(m->hypervisor_build_id) ? m->hypervisor_build_id : NULL,
	    "hypervisor_cmdline", is_set(m->hypervisor_cmdline) ? m->hypervisor_cmdline : NULL,
	    "hypervisor_efi_build_id",
	    is_set(m->hypervisor_efi_build_id) ? m->hypervisor_efi_build_id : NULL,
	    "up_probe", is_set(m->up_probe) ? m->up_probe : NULL);
	if (!root)
		return dl_err_set(reterr, -ENOMEM, "manifest: out of memory");
	s = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	if (!s)
		return dl_err_set(reterr, -ENOMEM, "manifest: out of memory");
	*ret = s;
	return 0;
}

int
manifest_id(const struct manifest *m, char id[static SHA256_HEX_SIZE], struct dl_err *reterr)
{
	_cleanup_free_ char *canon = NULL;
	uint8_t d[SHA256_DIGEST_SIZE];
	int rc;

	rc = manifest_canonical(m, &canon, reterr);
	if (rc < 0)
		return rc;
	sha256_buf(canon, strlen(canon), d);
	sha256_to_hex(d, id);
	return 0;
}

void
manifest_build_id_as_seen(const char *hex, char *out, size_t size)
{
	size_t n = 0;

	if (!size)
		return;
	while (hex && hex[n] && hex[n + 1] && !(hex[n] == '0' && hex[n + 1] == '0') &&
	    n + 2 < size)
		n += 2;
	memcpy(out, hex ? hex : "", n);
	out[n] = '\0';
}

void
manifest_done(struct manifest *m)
{
	if (!m)
		return;
	free(m->name);
	free(m->kernel_version);
	free(m->kernel_banner);
	free(m->cmdline);
	free(m->hypervisor_version);
	free(m->hypervisor_build_id);
	free(m->hypervisor_cmdline);
	free(m->hypervisor_efi_build_id);
	free(m->up_probe);
	for (size_t i = 0; i < m->n_templates; i++)
		free(m->templates[i].path);
	free(m->templates);
	memset(m, 0, sizeof(*m));
}
