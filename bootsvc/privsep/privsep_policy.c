/* SPDX-License-Identifier: MIT */
/* The parent's file policy (privsep_policy.h). */
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "macro.h"
#include "readfile.h"
#include "relpath.h"
#include "privsep/privsep_msg.h"
#include "privsep/privsep_policy.h"
#include "tls_pki.h"

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

int
privsep_site_read(const char *dir, const char *rel, char **ret, size_t *ret_len,
    unsigned *ret_mode, struct dl_err *reterr)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	_cleanup_close_ int dfd = -1, fd = -1;
	struct stat st;
	int r;

	if (!dir[0])
		return dl_err_set(reterr, -EACCES, "site file '%s': no site_overlay is configured",
		    rel);
	if (strlen(rel) >= MAX_PRIVSEP_PATH || !relpath_is_plain(rel))
		return dl_err_set(reterr, -EACCES, "site file '%s' is not a plain path under '%s'",
		    rel, dir);
	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return dl_err_set(reterr, negative_errno(), "site_overlay '%s': %s", dir,
		    strerror(errno));
	fd = (int)syscall(SYS_openat2, dfd, rel, &how, sizeof(how));
	if (fd < 0)
		return dl_err_set(reterr, negative_errno(), "site file '%s/%s': %s", dir, rel,
		    strerror(errno));
	if (fstat(fd, &st) < 0)
		return dl_err_set(reterr, negative_errno(), "site file '%s/%s': %s", dir, rel,
		    strerror(errno));
	r = read_file_fd(fd, rel, MAX_PRIVSEP_FILE, READ_FILE_REGULAR, ret, ret_len, reterr);
	if (r < 0)
		return r;
	*ret_mode = st.st_mode & 07777;
	return 0;
}

bool
privsep_tls_ca_name_is_allowed(const char *name)
{
	return streq(name, "ca.crt") || streq(name, "ca.key");
}

int
privsep_tls_ca_read(const char *dir, const char *name, char **ret, size_t *ret_len,
    struct dl_err *reterr)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	_cleanup_close_ int dfd = -1, fd = -1;
	bool key;

	if (!privsep_tls_ca_name_is_allowed(name))
		return dl_err_set(reterr, -EACCES, "tls_ca_dir file '%.64s': only ca.crt and "
		    "ca.key are read there", name);
	if (dir[0] != '/')
		return dl_err_set(reterr, -EACCES, "tls_ca_dir '%s' is not absolute", dir);
	key = streq(name, "ca.key");
	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return dl_err_set(reterr, negative_errno(), "tls_ca_dir '%s': %s%s", dir,
		    strerror(errno), errno == ENOENT ? " (make the CA with 'nodectl tls init')" :
		    "");
	fd = (int)syscall(SYS_openat2, dfd, name, &how, sizeof(how));
	if (fd < 0)
		return dl_err_set(reterr, negative_errno(), "'%s/%s': %s%s", dir, name,
		    strerror(errno), errno == ENOENT ? " (make the CA with 'nodectl tls init')" :
		    errno == ELOOP ? " (a symlink)" : "");
	return read_file_fd(fd, key ? "ca.key" : "ca.crt", MAX_TLS_PEM,
	    READ_FILE_REGULAR | (key ? READ_FILE_SECRET : 0), ret, ret_len, reterr);
}
