/* SPDX-License-Identifier: MIT */
/* newc cpio walker; see cpio.h. Format: the kernel's Documentation/driver-api/
 * early-userspace/buffer-format.rst (110-byte header of 13 8-digit hex fields after the
 * 6-byte magic; name and data each padded to a multiple of 4 from the archive start). */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "cpio.h"
#include "relpath.h"

#define CPIO_HEADER_LEN 110
#define CPIO_FIELDS 13

enum {
	F_INO,
	F_MODE,
	F_UID,
	F_GID,
	F_NLINK,
	F_MTIME,
	F_FILESIZE,
	F_DEVMAJOR,
	F_DEVMINOR,
	F_RDEVMAJOR,
	F_RDEVMINOR,
	F_NAMESIZE,
	F_CHECK,
};

static int
hex8(const uint8_t *p, uint32_t *ret)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 8; i++) {
		uint8_t c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -EINVAL;
	}
	*ret = v;
	return 0;
}

int
cpio_name_check(const char *name)
{
	const char *p = name;

	if (!*name || *name == '/')
		return -EINVAL;
	for (p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return -EINVAL; /* a name is also a log line and a console line */
	/* empty, "." and ".." components: a name must say plainly where it goes */
	if (!relpath_is_plain(name))
		return -EINVAL;
	return strlen(name) > MAX_CPIO_NAME ? -ENAMETOOLONG : 0;
}

static size_t
pad4(size_t off)
{
	return (off + 3) & ~(size_t)3;
}

int
cpio_walk(const uint8_t *buf, size_t len, cpio_entry_fn fn, void *userdata,
    struct init_err *reterr)
{
	size_t off = 0;
	int count = 0, r;

	for (;;) {
		uint32_t f[CPIO_FIELDS];
		struct cpio_entry e;
		const char *name;
		char q[64];
		size_t name_off, data_off;
		int i;

		if (len - off < CPIO_HEADER_LEN)
			return init_err_set(reterr, -EBADMSG,
			    "overlay cpio truncated at byte %zu (no TRAILER!!!)", off);
		if (memcmp(buf + off, "07070", 5) != 0 || (buf[off + 5] != '1' && buf[off + 5] != '2'))
			return init_err_set(reterr, -EBADMSG,
			    "overlay cpio: bad magic at byte %zu (only newc is supported)", off);
		for (i = 0; i < CPIO_FIELDS; i++)
			if (hex8(buf + off + 6 + 8 * i, &f[i]) < 0)
				return init_err_set(reterr, -EBADMSG,
				    "overlay cpio: non-hex header field %d at byte %zu", i, off);
		name_off = off + CPIO_HEADER_LEN;
		if (f[F_NAMESIZE] < 2 || f[F_NAMESIZE] > MAX_CPIO_NAME + 3 ||
		    f[F_NAMESIZE] > len - name_off)
			return init_err_set(reterr, -EBADMSG,
			    "overlay cpio: bad name size %u at byte %zu", f[F_NAMESIZE], off);
		name = (const char *)buf + name_off;
		if (name[f[F_NAMESIZE] - 1] != '\0' || strlen(name) != f[F_NAMESIZE] - 1)
			return init_err_set(reterr, -EBADMSG,
			    "overlay cpio: name at byte %zu is not NUL-terminated", off);
		data_off = pad4(name_off + f[F_NAMESIZE]);
		if (data_off > len || f[F_FILESIZE] > len - data_off)
			return init_err_set(reterr, -EBADMSG,
			    "overlay cpio: member at byte %zu runs past the end", off);
		off = pad4(data_off + f[F_FILESIZE]);
		if (off > len)
			off = len; /* a missing final pad is caught by the next header check */
		if (strcmp(name, "TRAILER!!!") == 0)
			return count;

		while (name[0] == '.' && name[1] == '/')
			name += 2;
		if (strcmp(name, ".") == 0 || name[0] == '\0')
			continue; /* the archive's root: /newroot itself */
		init_sanitize(q, sizeof(q), name, strlen(name));
		if (cpio_name_check(name) < 0)
			return init_err_set(reterr, -EINVAL,
			    "overlay member '%s': name must be relative, without '..', '.', '//' or "
			    "control characters", q);
		if (++count > MAX_CPIO_ENTRIES)
			return init_err_set(reterr, -EINVAL, "overlay has more than %d members",
			    MAX_CPIO_ENTRIES);
		e = (struct cpio_entry){
			.name = name, .perm = f[F_MODE] & 07777, .uid = f[F_UID], .gid = f[F_GID],
			.mtime = f[F_MTIME], .data = buf + data_off, .size = f[F_FILESIZE],
		};
		switch (f[F_MODE] & S_IFMT) {
		case S_IFREG:
			e.type = CPIO_FILE;
			break;
		case S_IFDIR:
			e.type = CPIO_DIR;
			if (e.size)
				return init_err_set(reterr, -EINVAL,
				    "overlay member '%s': directory with data", q);
			break;
		case S_IFLNK:
			e.type = CPIO_SYMLINK;
			if (e.size == 0 || e.size > MAX_CPIO_NAME || memchr(e.data, '\0', e.size))
				return init_err_set(reterr, -EINVAL,
				    "overlay member '%s': bad symlink target", q);
			break;
		default:
			return init_err_set(reterr, -EINVAL,
			    "overlay member '%s': type 0%o is not a file, directory or symlink", q,
			    f[F_MODE] & S_IFMT);
		}
		r = fn(&e, userdata, reterr);
		if (r < 0)
			return r;
	}
}
