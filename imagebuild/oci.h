/* SPDX-License-Identifier: MIT */
/* Root file systems from archives: a tarball, or an OCI image (an OCI layout directory,
 * or a docker-save / OCI-layout archive) whose layers are applied in order with the OCI
 * whiteouts (image-spec layer.md "Whiteouts"): ".wh.<name>" deletes <name> from the
 * layers below, ".wh..wh..opq" empties its directory of what the layers below put there. */
#pragma once

#include "err.h"

/* Apply one layer (a tar, any compression libarchive reads) onto rootfs: first its
 * whiteouts against what is there, then its entries. Members are confined to rootfs:
 * absolute names, ".." and extraction through symlinks are refused. */
int oci_apply_layer(const char *rootfs, const char *layer, struct dl_err *reterr);

/* Unpack a plain tarball into rootfs (the same confinement as a layer). */
int oci_unpack_tarball(const char *rootfs, const char *tarball, struct dl_err *reterr);

/* Import an OCI image: source is a layout directory (index.json, blobs/) or an archive of
 * one, or a docker-save archive (manifest.json with Layers). workdir holds the unpacked
 * outer archive. Errors name the file and the field. */
int oci_import(const char *rootfs, const char *source, const char *workdir,
    struct dl_err *reterr);
