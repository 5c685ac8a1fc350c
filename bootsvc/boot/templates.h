/* SPDX-License-Identifier: MIT */
/* The iPXE script templates (ipxe-scripts/NAME.ipxe), loaded into memory at start and on
 * SIGHUP, and rendered per request with lib/template.c: the fixed scripts below, and the
 * script of every kind in the kind table (kind.h), so a kind without its template stops
 * bootsvc at start-up rather than its first node at boot. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "kind.h"
#include "template.h"
#include "store/store.h"

/* The scripts that are not a kind's: what a node gets before, or instead of, an image. */
enum tmpl_id { TMPL_START, TMPL_HOLD, TMPL_DISCOVER, TMPL_LOCAL, _TMPL_MAX };

struct tmpl {
	const char *name;          /* static: "start", or the kind's tmpl */
	char *text;                /* owned */
	size_t len;
	struct template *compiled; /* owned: the text parsed once, expanded per request */
};

/* Image versions whose kind script is kept rendered but for the node's name
 * (templates_kind_bound): a site boots a handful at once; past it the oldest entry goes. */
#define MAX_TMPL_BOUND 16

/* A kind's script rendered for one image version, server and poll, but for {{node}}. */
struct tmpl_bound {
	const struct kind *kind;       /* NULL: an empty slot */
	char image_id[SHA256_HEX_SIZE];
	char server[128];              /* config.h's boot_url */
	uint64_t poll_ms;
	struct template *t;            /* owned */
};

struct templates {
	struct tmpl fixed[_TMPL_MAX];
	struct tmpl kinds[MAX_KINDS]; /* by kind_index() */
	struct tmpl cfgs[MAX_KINDS];  /* a kind's efi_cfg (kind.h); text NULL for none */
	uint64_t gen;                 /* which load this is: a bound cache of an older one
	                               * is emptied at its next use */
};

/* The kind scripts one thread keeps bound (templates_kind_bound). Each serving thread has
 * its own, so the reader threads never write what the loop reads (http/http.h); it holds
 * copies, not pointers into the templates, so a reload frees nothing a thread still uses. */
struct tmpl_bound_cache {
	struct tmpl_bound bound[MAX_TMPL_BOUND];
	unsigned next;                /* the slot the next miss fills */
	uint64_t gen;                 /* the templates' gen the entries were bound from */
};

/* Load every template from dir into t: the fixed ones and each kind's (replacing what t
 * held only if all load and pass a trial render; a kind's template is tried with exactly
 * the variables its script gets, boot/script_vars.h). A kind's missing or bad template
 * is an error naming the kind and the path ("kind 'linux': template '<dir>/linux.ipxe':
 * No such file or directory"). Errors: -errno of open, -EINVAL, -E2BIG, -EIO, -ENOMEM. */
int templates_load(struct templates *t, const char *dir, struct dl_err *reterr);
/* Free what t holds; t may be zeroed or half-loaded. */
void templates_done(struct templates *t);
/* "start", "hold", ...; NULL for an invalid id. */
const char *templates_name(enum tmpl_id id);
/* The loaded fixed template id, and kind k's (borrowed from t). */
const struct tmpl *templates_fixed(const struct templates *t, enum tmpl_id id);
const struct tmpl *templates_kind(const struct templates *t, const struct kind *k);
/* Kind k's script for a node booting img from server (poll_ms between a held node's
 * requests), rendered but for {{node}}: expand the result with the node's name only
 * (script_vars_node_lookup). The versions of a site's images differ between their nodes
 * only by the name, so the twenty-odd lookups and the copying of a render are done once
 * per version, not on every script request (docs/benchmarks.md, per-node scripts). An
 * image version never changes under its content id (store_image_insert/delete only) and
 * the entries go when t is reloaded (t->gen), so a kept script is never stale.
 * Not for a sanboot kind, whose script carries the node's secrets. *ret is borrowed from
 * bc until its next call. Errors as template_bind's (reterr names the kind). */
int templates_kind_bound(const struct templates *t, struct tmpl_bound_cache *bc,
    const struct kind *k, const struct image_rec *img, const char *server, uint64_t poll_ms,
    const struct template **ret, struct dl_err *reterr);
/* Free what bc holds and empty it. */
void tmpl_bound_cache_done(struct tmpl_bound_cache *bc);
/* Kind k's UEFI loader configuration (k->efi_cfg); NULL when k has none. */
const struct tmpl *templates_kind_cfg(const struct templates *t, const struct kind *k);
