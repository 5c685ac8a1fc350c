/* SPDX-License-Identifier: MIT */
/* The iPXE script templates (ipxe-scripts/NAME.ipxe), loaded into memory at start and on
 * SIGHUP, and rendered per request with lib/template.c. */
#pragma once

#include "bootsvc.h"
#include "err.h"

/* Load every template from dir into t (replacing what it held only if all load and
 * pass a trial render). */
int templates_load(struct templates *t, const char *dir, struct dl_err *reterr);
void templates_done(struct templates *t);
const char *templates_name(enum tmpl_id id);
