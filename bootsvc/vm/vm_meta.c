/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "vm/vm_meta.h"

static bool
name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '-' || c == '.' || c == ':';
}

static const char *
skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* One attribute's value by name into buf: 0, -EINVAL (malformed), -E2BIG (too long). */
/* A group or class name into dst (size bytes). */
static int
set_name(const char *what, char *dst, size_t size, const char *val, size_t vlen,
    struct dl_err *reterr)
{
	if (vlen == 0 || vlen >= size)
		return dl_err_set(reterr, -EINVAL, "placement: %s must be 1-%zu characters", what,
		    size - 1);
	for (size_t i = 0; i < vlen; i++)
		if (!name_char(val[i]) || val[i] == ':')
			return dl_err_set(reterr, -EINVAL, "placement: %s may hold letters, "
			    "digits, '.', '_' and '-' only", what);
	memcpy(dst, val, vlen);
	dst[vlen] = '\0';
	return 0;
}

static int
set_attr(struct vm_placement *pl, const char *name, size_t nlen, const char *val,
    size_t vlen, struct dl_err *reterr)
{
	if (nlen == 5 && memcmp(name, "group", 5) == 0)
		return set_name("group", pl->group, sizeof(pl->group), val, vlen, reterr);
	if (nlen == 5 && memcmp(name, "class", 5) == 0)
		return set_name("class", pl->job_class, sizeof(pl->job_class), val, vlen, reterr);
	if (nlen == 3 && memcmp(name, "pin", 3) == 0) {
		static const struct { const char *w; bool v; } words[] = {
			{ "yes", true }, { "true", true }, { "1", true },
			{ "no", false }, { "false", false }, { "0", false },
		};
		for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (strlen(words[i].w) == vlen && memcmp(words[i].w, val, vlen) == 0) {
				pl->pin = words[i].v;
				return 0;
			}
		return dl_err_set(reterr, -EINVAL, "placement: pin must be yes or no");
	}
	return 0; /* xmlns, xmlns:dl, and whatever a later version adds */
}

int
vm_meta_parse(const char *s, struct vm_placement *ret, struct dl_err *reterr)
{
	struct vm_placement pl = { 0 };
	const char *p;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (strnlen(s, MAX_VM_META_LEN + 1) > MAX_VM_META_LEN)
		return dl_err_set(reterr, -EINVAL, "placement: longer than %d bytes",
		    MAX_VM_META_LEN);
	p = skip_space(s);
	if (*p != '<')
		return dl_err_set(reterr, -EINVAL, "placement: not an XML element");
	p++;
	{
		const char *n = p, *colon;
		size_t len;

		while (name_char(*p))
			p++;
		len = (size_t)(p - n);
		/* the element's local name, whatever prefix libvirt gave it */
		colon = memchr(n, ':', len);
		if (colon) {
			len -= (size_t)(colon + 1 - n);
			n = colon + 1;
		}
		if (len != 9 || memcmp(n, "placement", 9) != 0)
			return dl_err_set(reterr, -EINVAL, "placement: the element is not "
			    "<placement>");
	}
	for (;;) {
		const char *name, *val;
		size_t nlen;
		char q;

		p = skip_space(p);
		if (*p == '/' || *p == '>')
			break;
		name = p;
		while (name_char(*p))
			p++;
		nlen = (size_t)(p - name);
		p = skip_space(p);
		if (nlen == 0 || *p != '=')
			return dl_err_set(reterr, -EINVAL, "placement: malformed attribute");
		p = skip_space(p + 1);
		q = *p;
		if (q != '"' && q != '\'')
			return dl_err_set(reterr, -EINVAL, "placement: attribute value not quoted");
		val = ++p;
		while (*p && *p != q)
			p++;
		if (!*p)
			return dl_err_set(reterr, -EINVAL, "placement: unterminated attribute value");
		if ((r = set_attr(&pl, name, nlen, val, (size_t)(p - val), reterr)) < 0)
			return r;
		p++;
	}
	*ret = pl;
	return 0;
}
