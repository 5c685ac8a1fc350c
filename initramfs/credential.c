/* SPDX-License-Identifier: MIT */
/* The boot credential; see credential.h. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpio.h"
#include "credential.h"

/* RFC 1952 §2.3: ID1 ID2 CM FLG MTIME(4) XFL OS; CRC32 and ISIZE after the data. */
#define GZIP_HEAD 10
#define GZIP_TAIL 8
/* RFC 1951 §3.2.4: a stored block is a 3-bit header padded to the byte, LEN, NLEN. */
#define STORED_HEAD 5

static uint32_t
crc32_ieee(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
	}
	return ~c;
}

static uint32_t
get_le(const uint8_t *p, int bytes)
{
	uint32_t v = 0;

	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

struct unwrap_state {
	char *token;
	int found;
};

static int
unwrap_entry(const struct cpio_entry *e, void *userdata, struct init_err *reterr)
{
	struct unwrap_state *st = userdata;

	if (strcmp(e->name, &CREDENTIAL_FILE[1]) != 0 || e->type != CPIO_FILE)
		return init_err_set(reterr, -EINVAL, "credential archive holds something other "
		    "than the file %s", &CREDENTIAL_FILE[1]);
	if (st->found++)
		return init_err_set(reterr, -EINVAL, "credential archive holds %s twice",
		    &CREDENTIAL_FILE[1]);
	return credential_parse((const char *)e->data, e->size, st->token, reterr);
}

int
credential_unwrap(const uint8_t *buf, size_t len, char ret[static MAX_TOKEN_LEN + 1],
    struct init_err *reterr)
{
	char token[MAX_TOKEN_LEN + 1];
	struct unwrap_state st = { .token = token };
	const uint8_t *data;
	size_t dlen;
	int r;

	if (len > MAX_CREDENTIAL_ARCHIVE)
		return init_err_set(reterr, -EFBIG, "credential archive is larger than %d bytes",
		    MAX_CREDENTIAL_ARCHIVE);
	if (len < GZIP_HEAD + STORED_HEAD + GZIP_TAIL || buf[0] != 0x1f || buf[1] != 0x8b ||
	    buf[2] != 8)
		return init_err_set(reterr, -EBADMSG, "credential archive is not a gzip member");
	if (buf[3] != 0)
		return init_err_set(reterr, -EBADMSG, "credential gzip has optional header fields "
		    "(FLG 0x%02x)", buf[3]);
	/* BFINAL 1, BTYPE 00 (stored), the rest of the byte padding */
	if (buf[GZIP_HEAD] != 0x01)
		return init_err_set(reterr, -EBADMSG, "credential gzip is not one final stored "
		    "deflate block (0x%02x)", buf[GZIP_HEAD]);
	dlen = get_le(buf + GZIP_HEAD + 1, 2);
	if ((get_le(buf + GZIP_HEAD + 3, 2) ^ 0xffffu) != dlen)
		return init_err_set(reterr, -EBADMSG, "credential gzip: stored block LEN and "
		    "NLEN disagree");
	if (dlen != len - GZIP_HEAD - STORED_HEAD - GZIP_TAIL)
		return init_err_set(reterr, -EBADMSG, "credential gzip: stored block of %zu bytes "
		    "in an archive of %zu", dlen, len);
	data = buf + GZIP_HEAD + STORED_HEAD;
	if (get_le(data + dlen, 4) != crc32_ieee(data, dlen) || get_le(data + dlen + 4, 4) != dlen)
		return init_err_set(reterr, -EBADMSG, "credential gzip: CRC-32 or size does not "
		    "match its data");
	r = cpio_walk(data, dlen, unwrap_entry, &st, reterr);
	if (r < 0) {
		explicit_bzero(token, sizeof(token));
		return r;
	}
	if (!st.found)
		return init_err_set(reterr, -EINVAL, "credential archive holds no %s",
		    &CREDENTIAL_FILE[1]);
	memcpy(ret, token, sizeof(token));
	explicit_bzero(token, sizeof(token));
	return 0;
}

static bool
is_lower_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int
credential_parse(const char *s, size_t len, char ret[static MAX_TOKEN_LEN + 1],
    struct init_err *reterr)
{
	const char *p = s, *end = s + len, *tok = NULL;
	size_t toklen = 0;
	int lineno = 0;

	if (len > MAX_CREDENTIAL)
		return init_err_set(reterr, -EFBIG, "credential is larger than %d bytes",
		    MAX_CREDENTIAL);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *eol = nl ? nl : end;

		lineno++;
		if (memchr(p, '\0', (size_t)(eol - p)))
			return init_err_set(reterr, -EINVAL, "credential line %d: NUL byte", lineno);
		if (eol == p || *p == '#') {
			p = nl ? nl + 1 : end;
			continue;
		}
		if ((size_t)(eol - p) < 6 || memcmp(p, "token=", 6) != 0)
			return init_err_set(reterr, -EINVAL, "credential line %d: not token=<hex>",
			    lineno);
		if (tok)
			return init_err_set(reterr, -EINVAL, "credential line %d: token given twice",
			    lineno);
		tok = p + 6;
		toklen = (size_t)(eol - tok);
		if (toklen < 16 || toklen > MAX_TOKEN_LEN || !is_lower_hex(tok, toklen))
			return init_err_set(reterr, -EINVAL, "credential line %d: token is not "
			    "16..128 lowercase hex characters", lineno);
		p = nl ? nl + 1 : end;
	}
	if (!tok)
		return init_err_set(reterr, -EINVAL, "credential holds no token");
	memcpy(ret, tok, toklen);
	ret[toklen] = '\0';
	return 0;
}

int
credential_take(const char *path, char ret[static MAX_TOKEN_LEN + 1], struct init_err *reterr)
{
	char buf[MAX_CREDENTIAL + 1];
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		if (r != -ENOENT)
			(void)unlink(path);
		return init_err_set(reterr, r, "credential %s: %s", path, strerror(-r));
	}
	/* Gone from the tree before anything else can look: whatever it held. */
	(void)unlink(path);
	if (fstat(fd, &st) < 0) {
		r = -errno;
		(void)close(fd);
		return init_err_set(reterr, r, "credential %s: %s", path, strerror(-r));
	}
	if (!S_ISREG(st.st_mode) || st.st_size > MAX_CREDENTIAL) {
		(void)close(fd);
		return init_err_set(reterr, -EINVAL, "credential %s: not a regular file of at "
		    "most %d bytes", path, MAX_CREDENTIAL);
	}
	while (got < sizeof(buf)) {
		n = read(fd, buf + got, sizeof(buf) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			(void)close(fd);
			explicit_bzero(buf, sizeof(buf));
			return init_err_set(reterr, r, "credential %s: read: %s", path,
			    strerror(-r));
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	(void)close(fd);
	r = credential_parse(buf, got, ret, reterr);
	explicit_bzero(buf, sizeof(buf));
	return r;
}
