/* SPDX-License-Identifier: MIT */
/* The image store directory (docs/boot-protocol.md "Image store layout"): versions at
 * <store>/<id>/, built in <store>/.tmp-XXXXXX and published by one rename(2), so a
 * reader sees a whole version or none, and an existing version is never rewritten. */
#pragma once

#include <stdbool.h>

#include "err.h"
#include "sha256.h"

/* Create a fresh temporary version directory inside store; *ret is a new path. */
int store_mktemp(const char *store, char **ret, struct dl_err *reterr);

/* The newest version (by manifest "built") of image name in store: its id and recipe
 * hash. Returns 1 if found, 0 if none, -errno on an unreadable store. Versions whose
 * manifest does not parse are skipped: they are not ours to judge here. */
int store_find_latest(const char *store, const char *name, char id[static SHA256_HEX_SIZE],
    char recipe[static SHA256_HEX_SIZE], struct dl_err *reterr);

/* Publish tmp as <store>/<id>. Returns 0, or 1 if that version already existed (tmp is
 * then removed; the existing one is left untouched). */
int store_publish(const char *store, const char *tmp, const char *id, struct dl_err *reterr);
