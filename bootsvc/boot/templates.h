/* SPDX-License-Identifier: MIT */
/* The iPXE script templates (ipxe-scripts/NAME.ipxe), loaded into memory at start and on
 * SIGHUP, and rendered per request with lib/template.c: the fixed scripts below, and the
 * script of every kind in the kind table (kind.h), so a kind without its template stops
 * bootsvc at start-up rather than its first node at boot. */
#pragma once

#include <stddef.h>

#include "err.h"
#include "kind.h"
#include "template.h"

/* The scripts that are not a kind's: what a node gets before, or instead of, an image. */
enum tmpl_id { TMPL_START, TMPL_HOLD, TMPL_DISCOVER, TMPL_LOCAL, _TMPL_MAX };

struct tmpl {
	const char *name;          /* static: "start", or the kind's tmpl */
	char *text;                /* owned */
	size_t len;
	struct template *compiled; /* owned: the text parsed once, expanded per request */
};

struct templates {
	struct tmpl fixed[_TMPL_MAX];
	struct tmpl kinds[MAX_KINDS]; /* by kind_index() */
	struct tmpl cfgs[MAX_KINDS];  /* a kind's efi_cfg (kind.h); text NULL for none */
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
/* Kind k's UEFI loader configuration (k->efi_cfg); NULL when k has none. */
const struct tmpl *templates_kind_cfg(const struct templates *t, const struct kind *k);
