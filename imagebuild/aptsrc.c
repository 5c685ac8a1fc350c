/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <string.h>

#include "aptsrc.h"
#include "fsutil.h"
#include "readfile.h"

/* sources files are small; this bounds a stray large file in sources.list.d. */
#define MAX_APT_SOURCES (1024 * 1024)

static bool
uri_usable(const char *u)
{
	return !strncmp(u, "http://", 7) || !strncmp(u, "https://", 8) || !strncmp(u, "file:///", 8);
}

/* Record uri for each suite in the space-separated suites list. */
static int
consider(const char *uri, size_t ulen, const char *suites, size_t slen, const char *suite,
    char **exact, char **main_uri)
{
	char u[1024];

	if (ulen == 0 || ulen >= sizeof(u))
		return 0;
	memcpy(u, uri, ulen);
	u[ulen] = '\0';
	if (!uri_usable(u))
		return 0;
	for (size_t i = 0; i < slen;) {
		size_t n;

		while (i < slen && (suites[i] == ' ' || suites[i] == '\t'))
			i++;
		n = 0;
		while (i + n < slen && suites[i + n] != ' ' && suites[i + n] != '\t')
			n++;
		if (n == 0)
			break;
		if (!*exact && strlen(suite) == n && !strncmp(suites + i, suite, n) &&
		    !(*exact = strdup(u)))
			return -ENOMEM;
		if (!*main_uri && !memchr(suites + i, '-', n) && !memchr(suites + i, '/', n) &&
		    !(*main_uri = strdup(u)))
			return -ENOMEM;
		i += n;
	}
	return 0;
}

static const char *
field(const char *line, const char *name, size_t *ret_len)
{
	size_t n = strlen(name);
	const char *v;

	if (strncasecmp(line, name, n) || line[n] != ':')
		return NULL;
	v = line + n + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	*ret_len = strcspn(v, "\n");
	while (*ret_len && (v[*ret_len - 1] == ' ' || v[*ret_len - 1] == '\r'))
		(*ret_len)--;
	return v;
}

int
aptsrc_scan(const char *buf, bool is_deb822, const char *suite, char **exact, char **main_uri)
{
	const char *p = buf;

	if (!is_deb822) {
		for (; *p; p += strcspn(p, "\n"), p += *p == '\n') {
			const char *l = p, *uri, *suites;
			size_t ulen, slen;

			while (*l == ' ' || *l == '\t')
				l++;
			if (strncmp(l, "deb ", 4) && strncmp(l, "deb\t", 4))
				continue;
			l += 4;
			while (*l == ' ' || *l == '\t')
				l++;
			if (*l == '[') { /* options: [arch=amd64 signed-by=...] */
				const char *e = strchr(l, ']');
				if (!e || e > l + strcspn(l, "\n"))
					continue;
				l = e + 1;
				while (*l == ' ' || *l == '\t')
					l++;
			}
			uri = l;
			ulen = strcspn(uri, " \t\n");
			suites = uri + ulen;
			while (*suites == ' ' || *suites == '\t')
				suites++;
			slen = strcspn(suites, " \t\n");
			if (consider(uri, ulen, suites, slen, suite, exact, main_uri) < 0)
				return -ENOMEM;
		}
		return 0;
	}
	/* deb822: stanzas separated by blank lines; URIs and Suites may each list several. */
	while (*p) {
		const char *types = NULL, *uris = NULL, *suites = NULL, *enabled = NULL;
		size_t tl = 0, ul = 0, sl = 0, el = 0;

		for (; *p && *p != '\n'; p += strcspn(p, "\n"), p += *p == '\n') {
			size_t n;
			const char *v;
			if ((v = field(p, "Types", &n))) { types = v; tl = n; }
			else if ((v = field(p, "URIs", &n))) { uris = v; ul = n; }
			else if ((v = field(p, "Suites", &n))) { suites = v; sl = n; }
			else if ((v = field(p, "Enabled", &n))) { enabled = v; el = n; }
		}
		while (*p == '\n')
			p++;
		if (!types || !uris || !suites || (enabled && el == 2 && !strncasecmp(enabled, "no", 2)))
			continue;
		bool deb = false;
		for (size_t i = 0; i + 3 <= tl; i++)
			if (!strncmp(types + i, "deb", 3) && (i + 3 == tl || types[i + 3] == ' ') &&
			    (i == 0 || types[i - 1] == ' '))
				deb = true;
		if (!deb)
			continue;
		for (size_t i = 0; i < ul;) {
			size_t n;
			while (i < ul && uris[i] == ' ')
				i++;
			n = 0;
			while (i + n < ul && uris[i + n] != ' ')
				n++;
			if (n && consider(uris + i, n, suites, sl, suite, exact, main_uri) < 0)
				return -ENOMEM;
			i += n ? n : 1;
		}
	}
	return 0;
}

static int
scan_file(const char *path, bool deb822, const char *suite, char **exact, char **main_uri)
{
	_cleanup_free_ char *buf = NULL;
	struct dl_err ignored = {};

	/* An unreadable sources file is apt's problem, not ours: skip it. */
	if (read_file(path, MAX_APT_SOURCES, READ_FILE_REGULAR, &buf, NULL, &ignored) < 0)
		return 0;
	return aptsrc_scan(buf, deb822, suite, exact, main_uri);
}

static int
name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int
aptsrc_default_mirror(const char *etc_apt, const char *suite, char **ret, struct dl_err *reterr)
{
	_cleanup_free_ char *exact = NULL, *main_uri = NULL, *p = NULL, *d = NULL;
	struct dirent **ents = NULL;
	int n, rc = 0;

	if (asprintf(&p, "%s/sources.list", etc_apt) < 0 ||
	    asprintf(&d, "%s/sources.list.d", etc_apt) < 0)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	rc = scan_file(p, false, suite, &exact, &main_uri);
	/* apt reads sources.list.d in name order; so do we, for the same answer. */
	n = scandir(d, &ents, NULL, name_cmp);
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		size_t len = strlen(name);
		_cleanup_free_ char *f = NULL;

		if (rc >= 0 && ((len > 5 && streq(name + len - 5, ".list")) ||
		    (len > 8 && streq(name + len - 8, ".sources")))) {
			if (asprintf(&f, "%s/%s", d, name) < 0)
				rc = -ENOMEM;
			else
				rc = scan_file(f, name[len - 1] == 's', suite, &exact, &main_uri);
		}
		free(ents[i]);
	}
	free(ents);
	if (rc < 0)
		return dl_err_set(reterr, rc, "reading apt sources: out of memory");
	if (!exact && !main_uri)
		return dl_err_set(reterr, -ENOENT,
		    "no deb source in %s/sources.list{,.d} to take a mirror from; set mirror= in image.conf",
		    etc_apt);
	*ret = exact ? TAKE_PTR(exact) : TAKE_PTR(main_uri);
	return 0;
}
