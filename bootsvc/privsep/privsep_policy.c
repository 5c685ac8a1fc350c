/* SPDX-License-Identifier: MIT */
/* The parent's file policy (privsep_policy.h). */
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "macro.h"
#include "readfile.h"
#include "relpath.h"
#include "privsep/privsep_msg.h"
#include "privsep/privsep_policy.h"

int
privsep_creds_path_check(const char *dir, const char *path, const char **ret_rel,
    struct dl_err *reterr)
{
	size_t dlen = strlen(dir), plen = strlen(path);
	const char *rel;

	while (dlen > 1 && dir[dlen - 1] == '/')
		dlen--;
	if (dir[0] != '/')
		return dl_err_set(reterr, -EACCES, "bmc_creds_dir '%s' is not absolute", dir);
	if (plen >= MAX_PRIVSEP_PATH)
		return dl_err_set(reterr, -EACCES, "BMC credentials path of %zu bytes, at most %d",
		    plen, MAX_PRIVSEP_PATH - 1);
	/* dir "/" takes every absolute path; else path must continue dir with a '/'. */
	if (dlen == 1)
		rel = path[0] == '/' ? path + 1 : NULL;
	else
		rel = strncmp(path, dir, dlen) == 0 && path[dlen] == '/' ? path + dlen + 1 : NULL;
	if (!rel || !relpath_is_plain(rel))
		return dl_err_set(reterr, -EACCES,
		    "BMC credentials '%s' are not a plain path under bmc_creds_dir '%.*s'", path,
		    (int)dlen, dir);
	*ret_rel = rel;
	return 0;
}

int
privsep_creds_read(const char *dir, const char *path, char **ret, size_t *ret_len,
    struct dl_err *reterr)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	_cleanup_close_ int dfd = -1, fd = -1;
	const char *rel;
	int r;

	r = privsep_creds_path_check(dir, path, &rel, reterr);
	if (r < 0)
		return r;
	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return dl_err_set(reterr, negative_errno(), "bmc_creds_dir '%s': %s", dir,
		    strerror(errno));
	fd = (int)syscall(SYS_openat2, dfd, rel, &how, sizeof(how));
	if (fd < 0)
		return dl_err_set(reterr, negative_errno(), "BMC credentials '%s': %s%s", path,
		    strerror(errno), errno == ELOOP || errno == EXDEV ?
		    " (a symlink, or leaves bmc_creds_dir)" : "");
	return read_file_fd(fd, path, MAX_PRIVSEP_CREDS_FILE, READ_FILE_REGULAR | READ_FILE_SECRET,
	    ret, ret_len, reterr);
}
