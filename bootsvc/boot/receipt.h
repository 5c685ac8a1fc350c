/* SPDX-License-Identifier: MIT */
/* Checking a node's boot receipt (what it measured it booted) against the image version
 * bootsvc served it (docs/boot-protocol.md "The receipt"). What a receipt holds and how
 * each field is compared is its kind's (kind.h: the row's receipt). Pure functions. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "err.h"
#include "kind.h"
#include "store/store.h"

/* What a node reported: a value per field of its kind's receipt, by the field's index
 * there (kind_receipt_index()); NULL for one not reported. Values are borrowed. */
struct receipt {
	const struct kind *kind; /* borrowed: a row of the kind table */
	const char *value[MAX_KIND_RECEIPT];
};

/* An empty receipt of kind k. */
void receipt_init(struct receipt *r, const struct kind *k);
/* Set field's value (borrowed). -ENOENT when r's kind has no such field. */
int receipt_set(struct receipt *r, const char *field, const char *value);

/* The receipt object of a node's up report, for a node served kind k: exactly k's
 * fields, each a string (as the node's init writes it). Values borrow from o. -EINVAL
 * with "phase up needs receipt {kernel, initrd, rootfs}" (k's fields) in reterr. */
int receipt_from_json(const struct kind *k, const json_t *o, struct receipt *ret,
    struct dl_err *reterr);

/* Does a reported kernel identity match? The kernel's bytes are gone once it runs, so a
 * node reports either the kernel's sha256 (if it could measure it) or /proc/version;
 * the latter matches the bzImage header banner when the release (first word) and the
 * build tail from '#' agree: the banner has no compiler part, /proc/version has. */
bool receipt_kernel_matches(const char *banner, const char *sha256, const char *reported);

/* Does a reported hypervisor identity, "<version> <build id>" as a Xen dom0 reads it
 * from /sys/hypervisor (docs/boot-protocol.md), match version and build_id (hex)? Both
 * exactly, the id as dom0 can read it (up to its first zero byte,
 * manifest_build_id_as_seen); an image without either matches nothing. */
bool receipt_hypervisor_matches(const char *version, const char *build_id,
    const char *reported);

/* Compare r with img, field by field in its kind's order, each as the kind says
 * (linux: rootfs by sha256; initrd against img->initrd_tree, or the initrd file's sha256
 * when the image has no tree hash; kernel by receipt_kernel_matches). Returns true if
 * all match; else false with a reason "booted <field> <x>, expected <y>" for the first
 * that does not, in buf. */
bool receipt_check(const struct image_rec *img, const struct receipt *r, char *buf,
    size_t size);
