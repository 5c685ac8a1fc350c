/* SPDX-License-Identifier: MIT */
/* libFuzzer target: image.conf parsing (imagebuild/recipe.c) must never crash, leak or
 * accept a recipe whose fields break their own rules. */
#include <stdint.h>
#include <string.h>

#include "../../imagebuild/recipe.h"
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct recipe r;
	struct dl_err e = {};

	if (recipe_parse("image.conf", (const char *)data, size, &r, &e) < 0)
		return 0;
	/* Invariants of an accepted recipe. */
	if (!image_name_is_valid(r.name) || !r.cmdline || !r.overlay || !r.templates)
		__builtin_trap();
	if ((r.base == RECIPE_BASE_TARBALL || r.base == RECIPE_BASE_OCI ||
	    r.base == RECIPE_BASE_DIRECTORY || r.base == RECIPE_BASE_DISK) != (r.source != NULL))
		__builtin_trap();
	/* iSCSI disks: base=disk is kind iscsi; up_probe and disk_size only there; a made
	 * disk has a size in range, whole MiB. */
	if (r.kind && ((r.base == RECIPE_BASE_DISK && !kind_is_sanboot(r.kind)) ||
	    (!kind_is_sanboot(r.kind) && (r.up_probe || r.disk_size)) ||
	    (kind_is_sanboot(r.kind) && r.base != RECIPE_BASE_DISK &&
	    (r.disk_size < MIN_RECIPE_DISK_SIZE || r.disk_size > MAX_RECIPE_DISK_SIZE ||
	    r.disk_size % (1ULL << 20)))))
		__builtin_trap();
	if (!r.kind || (streq(r.kind->name, "xen") != (r.dom0_mem != NULL)) ||
	    (!kind_is_vm_host(r.kind) && (r.guest_reserve_mib || r.guest_reserve_cpus)))
		__builtin_trap();
	for (size_t i = 0; i < r.packages.n; i++)
		if (r.packages.v[i][0] == '-')
			__builtin_trap();
	recipe_done(&r);
	return 0;
}
