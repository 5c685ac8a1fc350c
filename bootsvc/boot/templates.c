/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "log.h"
#include "name_table.h"
#include "readfile.h"
#include "template.h"
#include "boot/script_vars.h"
#include "boot/templates.h"

static const char *const names[_TMPL_MAX] = {
	[TMPL_START] = "start", [TMPL_HOLD] = "hold", [TMPL_DISCOVER] = "discover",
	[TMPL_LOCAL] = "local",
};

const char *
templates_name(enum tmpl_id id)
{
	return NAME_OF(names, id, NULL);
}

const struct tmpl *
templates_fixed(const struct templates *t, enum tmpl_id id)
{
	return &t->fixed[id];
}

const struct tmpl *
templates_kind(const struct templates *t, const struct kind *k)
{
	return &t->kinds[kind_index(k)];
}

const struct tmpl *
templates_kind_cfg(const struct templates *t, const struct kind *k)
{
	const struct tmpl *c = &t->cfgs[kind_index(k)];

	return c->text ? c : NULL;
}

void
tmpl_bound_cache_done(struct tmpl_bound_cache *bc)
{
	for (size_t i = 0; i < MAX_TMPL_BOUND; i++)
		template_free(bc->bound[i].t);
	memset(bc, 0, sizeof(*bc));
}

int
templates_kind_bound(const struct templates *t, struct tmpl_bound_cache *bc,
    const struct kind *k, const struct image_rec *img, const char *server, uint64_t poll_ms,
    const struct template **ret, struct dl_err *reterr)
{
	struct tmpl_bound *b;
	struct script_vars v = { 0 };
	struct template *bt = NULL;
	int r;

	if (bc->gen != t->gen) {
		tmpl_bound_cache_done(bc);
		bc->gen = t->gen;
	}
	for (size_t i = 0; i < MAX_TMPL_BOUND; i++) {
		b = &bc->bound[i];
		if (b->kind == k && b->poll_ms == poll_ms && strcmp(b->image_id, img->id) == 0 &&
		    strcmp(b->server, server) == 0) {
			*ret = b->t;
			return 0;
		}
	}
	if (kind_is_sanboot(k) || strlen(server) >= sizeof(b->server))
		return dl_err_set(reterr, -EINVAL, "kind '%s': no script kept for it", k->name);
	script_vars_node(&v, server, "node", poll_ms);
	script_vars_image(&v, k, img);
	r = template_bind(templates_kind(t, k)->compiled, "node", script_vars_lookup, &v, &bt,
	    reterr);
	if (r < 0) {
		dl_err_prefix(reterr, "kind '%s'", k->name);
		return r;
	}
	b = &bc->bound[bc->next];
	bc->next = (bc->next + 1) % MAX_TMPL_BOUND;
	template_free(b->t);
	*b = (struct tmpl_bound){ .kind = k, .poll_ms = poll_ms, .t = bt };
	strcpy(b->image_id, img->id);
	strcpy(b->server, server);
	*ret = bt;
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

/* Read dir/<name>.ipxe into *t and render it once: with lookup over userdata, or with
 * every name resolving when lookup is NULL. */
static int
load_one(struct tmpl *t, const char *dir, const char *name, const char *ext,
    template_lookup_fn lookup, void *userdata, struct dl_err *reterr)
{
	char path[512], *out = NULL;
	int r;

	(void)snprintf(path, sizeof(path), "%s/%s.%s", dir, name, ext);
	t->name = name;
	r = read_file(path, MAX_TEMPLATE_SIZE, READ_FILE_REGULAR, &t->text, &t->len, reterr);
	if (r < 0) {
		dl_err_prefix(reterr, "template");
		return r;
	}
	r = template_compile(t->text, t->len, &t->compiled, reterr);
	if (r == 0)
		r = template_expand(t->compiled, lookup ? lookup : trial_lookup, userdata, &out,
		    NULL, reterr);
	free(out);
	if (r < 0)
		dl_err_prefix(reterr, "template '%s'", path);
	return r;
}

/* Loads in this process, so no two share a gen (t->gen), even one done and loaded again. */
static uint64_t loads;

int
templates_load(struct templates *t, const char *dir, struct dl_err *reterr)
{
	struct templates n = { 0 };
	int r = 0;

	for (int i = 0; i < _TMPL_MAX; i++) {
		r = load_one(&n.fixed[i], dir, names[i], "ipxe", NULL, NULL, reterr);
		if (r < 0)
			goto fail;
	}
	/* Each kind's script with the variables it will get, for a node and image that
	 * have every role: a name it cannot have is a typo to catch now. */
	for (size_t i = 0; i < kind_count(); i++) {
		const struct kind *k = kind_at(i);
		struct image_rec img = { 0 };
		struct script_vars v = { 0 };

		script_vars_node(&v, "x", "x", 0);
		script_vars_image(&v, k, &img);
		if (kind_is_sanboot(k))
			script_vars_san(&v, "x", "x", "x", 1, "x", "x", "x", "x");
		r = load_one(&n.kinds[i], dir, k->tmpl, "ipxe", script_vars_lookup, &v, reterr);
		if (r == 0 && k->efi_cfg) {
			script_vars_cfg(&v, "x", "x", "x", "x");
			r = load_one(&n.cfgs[i], dir, k->efi_cfg, "cfg", script_vars_lookup, &v,
			    reterr);
		}
		if (r < 0) {
			dl_err_prefix(reterr, "kind '%s'", k->name);
			goto fail;
		}
	}
	n.gen = __atomic_add_fetch(&loads, 1, __ATOMIC_RELAXED);
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
		free(t->fixed[i].text);
		template_free(t->fixed[i].compiled);
	}
	for (size_t i = 0; i < MAX_KINDS; i++) {
		free(t->kinds[i].text);
		template_free(t->kinds[i].compiled);
		free(t->cfgs[i].text);
		template_free(t->cfgs[i].compiled);
	}
	memset(t, 0, sizeof(*t));
}
