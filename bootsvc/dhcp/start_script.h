/* SPDX-License-Identifier: MIT */
/* The start script (ipxe-scripts/start.ipxe): what every iPXE client runs first. dnsmasq
 * serves it from its own TFTP root (rendered there by dnsmasq_new() at each start), so a
 * node gets it while bootsvc itself is down or restarting; bootsvc also serves it as
 * GET /ipxe/start. It walks the service nodes (this one's boot_url, then each of
 * `peers`), asking each for the node's own script, and when none answers waits with a
 * doubling backoff and walks again, forever (docs/boot-protocol.md "The start script").
 * Pure: no I/O. */
#pragma once

#include <stddef.h>

#include "config.h"
#include "err.h"

/* The file in dnsmasq's TFTP root, as DHCP names it to iPXE (dnsmasq.c). */
#define START_SCRIPT_FILE "start.ipxe"
/* The walk's backoff, in whole seconds (iPXE's sleep): after a walk where no service node
 * answered the script sleeps START_WAIT_MIN_S, doubling up to START_WAIT_MAX_S. A restart
 * of bootsvc takes a few seconds, so the first waits are short; the cap bounds how late a
 * node notices a server that came back after a long outage, and keeps a site's worth of
 * waiting nodes (3,780 every 16 s: ~240 connection attempts a second) far below what a
 * refused or answered connection costs anyone. The script doubles with iPXE's `inc` and
 * stops when the wait equals the cap, so the cap must be the minimum times a power of 2. */
#define START_WAIT_MIN_S 1
#define START_WAIT_MAX_S 16

/* Render the start template (tmpl, len bytes) for config c: `server` (c->boot_url),
 * `service_nodes` (one iPXE `set dl-s<i> <url>` line per service node, boot_url first,
 * then c->peers in order), `service_node_count`, `wait_min`, `wait_max`. The URLs were
 * checked by config.c (no iPXE or URL syntax in them); an empty boot_url leaves it out.
 * *ret (malloc'd, NUL-terminated, owned by the caller) and *ret_len are written only on
 * success. Errors as template_render(): -EINVAL (syntax, unknown name), -E2BIG, -ENOMEM;
 * -EINVAL also for a config with no service node at all. */
int start_script_render(const char *tmpl, size_t len, const struct config *c, char **ret,
    size_t *ret_len, struct dl_err *reterr);
