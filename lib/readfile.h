/* SPDX-License-Identifier: MIT */
/* The whole of a small file in memory: config files, credentials, manifests, templates,
 * recipes. Bounded (a wrong path to a disk image must not be read into memory), EINTR-safe,
 * close-on-exec, and read to the end rather than to st_size, so a file that changes size
 * meanwhile, or one in /proc that says 0, reads as what is there. libc only (besides
 * err.c), so any program may link it. */
#pragma once

#include <stddef.h>

#include "err.h"

enum read_file_flags {
	/* The last component must not be a symlink (O_NOFOLLOW): -ELOOP. For names taken
	 * from a tree the caller walks, where a link could point anywhere. */
	READ_FILE_NOFOLLOW = 1 << 0,
	/* Anything but a regular file, checked on the opened fd, is refused with -EINVAL;
	 * read_file() then opens with O_NONBLOCK, so a FIFO cannot hang the open. */
	READ_FILE_REGULAR = 1 << 1,
	/* The file holds a secret (a BMC password): it must be owned by root (-EPERM) and give
	 * group and others no access (-EPERM), and buffers the read lets go are wiped before
	 * they are freed. The caller still wipes the result. */
	READ_FILE_SECRET = 1 << 2,
};

/* Read the file at path into a new NUL-terminated buffer: *ret (caller frees) and, when
 * ret_len is not NULL, *ret_len (the length without the NUL; the data may hold NULs).
 * flags: READ_FILE_* or 0. Both are written only on success.
 *
 * Errors, each with reterr naming the file in quotes ("'/etc/x.conf': ..."): -E2BIG when
 * the file is larger than max bytes ("larger than 4096 bytes"), -EINVAL for a file that is
 * not regular (READ_FILE_REGULAR: "not a regular file"; nothing else gives -EINVAL), -EPERM
 * (READ_FILE_SECRET: "owned by uid 1000, must be owned by root", "mode 0640 gives group or
 * others access (chmod 0600)"), -ENOMEM, or what open(2), fstat(2) and read(2) return
 * (-ENOENT, -EACCES, -ELOOP, -EISDIR, ...) with strerror's text. */
int read_file(const char *path, size_t max, int flags, char **ret, size_t *ret_len,
    struct dl_err *reterr);

/* The same for an fd the caller opened (and may have fstat()ed for its own checks), from
 * its current offset to its end. fd is borrowed and stays open; name is for messages.
 * READ_FILE_NOFOLLOW does not apply here (the fd is open already). */
int read_file_fd(int fd, const char *name, size_t max, int flags, char **ret, size_t *ret_len,
    struct dl_err *reterr);
