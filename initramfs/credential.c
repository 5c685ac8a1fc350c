/* SPDX-License-Identifier: MIT */
/* The boot credential; see credential.h. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "credential.h"

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
