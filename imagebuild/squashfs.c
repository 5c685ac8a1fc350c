/* SPDX-License-Identifier: MIT */
#include "squashfs.h"
#include "tool.h"

/* A multi-GB rootfs on 2 cores takes minutes; an hour means something hangs. */
#define SQUASHFS_TIMEOUT_MS (60u * 60 * 1000)

int
squashfs_make(const char *rootfs, const char *out, const char *log, struct dl_err *reterr)
{
	/* -noappend: never merge into a stale file; -no-progress: the bar is noise in logs;
	 * -no-xattrs is not given, so file capabilities survive. */
	const char *argv[] = { MKSQUASHFS, rootfs, out, "-comp", "zstd", "-noappend",
		"-no-progress", NULL };
	int rc = tool_require(MKSQUASHFS, "squashfs-tools", reterr);

	if (rc < 0)
		return rc;
	return tool_run(argv, NULL, NULL, log, SQUASHFS_TIMEOUT_MS, reterr);
}
