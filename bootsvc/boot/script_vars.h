/* SPDX-License-Identifier: MIT */
/* The variables an iPXE script is rendered with (ipxe-scripts/, docs/boot-protocol.md):
 * the node's, and for a kind's script the image version's, with two per role of the kind
 * (<role>_sha256, <role>_size). http_ipxe.c renders with them; templates.c loads each
 * kind's template against the same set, so a name the kind's script cannot have fails
 * at start-up, not at the first boot. Pure: no store, no I/O. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kind.h"
#include "store/store.h"

/* The node's four, the image's six, a loader configuration's four, a sanboot's eight,
 * two per role. */
#define MAX_SCRIPT_VARS (22 + 2 * MAX_KIND_ROLES)

struct script_vars {
	const char *names[MAX_SCRIPT_VARS];  /* borrowed, or in the buffers below */
	const char *values[MAX_SCRIPT_VARS];
	size_t n;
	/* Storage for what is formatted here rather than borrowed. */
	char poll[24];
	char image_short[13];
	char role_var[MAX_KIND_ROLES][2][MAX_KIND_ROLE_NAME + 8];
	char role_size[MAX_KIND_ROLES][24];
	char port[8];
};

/* Add a variable; name and value are borrowed and must outlive the render. Past
 * MAX_SCRIPT_VARS the variable is dropped, and the render then fails on its name. */
void script_vars_add(struct script_vars *v, const char *name, const char *value);

/* A template_lookup_fn (lib/template.h) over userdata, a struct script_vars. */
const char *script_vars_lookup(const char *name, void *userdata);

/* A template_lookup_fn for a script bound but for {{node}} (templates_kind_bound):
 * userdata is the node's name. */
const char *script_vars_node_lookup(const char *name, void *userdata);

/* What every script may use: server (bootsvc's URL), node (its name), poll (seconds
 * between a waiting node's requests, from poll_ms). Values borrowed. */
void script_vars_node(struct script_vars *v, const char *server, const char *node,
    uint64_t poll_ms);

/* What a kind's script adds for a node booting img of kind k: image_id, image_name,
 * image_short, cmdline, and for each role of k <role>_sha256 and <role>_size ("" and "0"
 * for an optional role the version lacks). Values borrowed from img, which must outlive
 * the render. No secret: the node's credential is never in a script (boot/trust.h). */
void script_vars_image(struct script_vars *v, const struct kind *k,
    const struct image_rec *img);

/* What a sanboot kind's script adds (kind_is_sanboot, iscsi.ipxe): the node's target,
 * its initiator name, the portal (tgtd's address and port) and the CHAP names and
 * secrets, incoming and mutual ("" for none). Secrets: the caller renders them only into
 * the node's armed boot (docs/iscsi.md "Secrets"). Borrowed, except port. */
void script_vars_san(struct script_vars *v, const char *target_iqn, const char *initiator_iqn,
    const char *portal, uint16_t port, const char *chap_user, const char *chap_secret,
    const char *mutual_user, const char *mutual_secret);

/* What a kind's UEFI loader configuration adds (kind.h efi_cfg): what iPXE's own
 * ${mac}, ${ip}, ${netmask} and ${gateway} give the script, which a file iPXE fetches
 * cannot expand, passed in the request's query and checked by the caller. Borrowed. */
void script_vars_cfg(struct script_vars *v, const char *mac, const char *ip,
    const char *netmask, const char *gateway);
