/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_args.h"
#include "hostlist.h"
#include "macro.h"
#include "parse.h"

/* Longest option value quoted in a message. */
#define MAX_QUOTE 80

/* Copy s for a message: control characters become '?', long values are cut with "...". */
static const char *
cmd_args_quote(char buf[static MAX_QUOTE + 4], const char *s)
{
	size_t i = 0;

	for (; s[i] && i < MAX_QUOTE; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	if (s[i])
		memcpy(buf + i, "...", 3), i += 3;
	buf[i] = '\0';
	return buf;
}

static const char *
cmd_args_long_name(const struct option *longopts, int val)
{
	for (const struct option *o = longopts; o->name; o++)
		if (o->val == val)
			return o->name;
	return "?";
}

int
cmd_args_getopt(int argc, char **argv, const char *cmd, const struct option *longopts,
    cmd_args_handle_fn handle, void *userdata, struct cmd_opts *opts,
    const char **operands, int min, int max, const char *what, int *ret_n,
    struct dl_err *reterr)
{
	char q[MAX_QUOTE + 4];
	int n = 0, c, li;

	/* glibc: optind 0 reinitialises getopt completely, also its permutation state.
	 * "-" returns operands in place as option 1, so options may follow operands even
	 * under POSIXLY_CORRECT; ":" reports a missing value as ':' instead of printing. */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "-:h", longopts, &li)) != -1) {
		int r;

		switch (c) {
		case 1:
			if (n >= max)
				return dl_err_set(reterr, -EINVAL, "%s: unexpected argument '%s'",
				    cmd, cmd_args_quote(q, optarg));
			operands[n++] = optarg;
			continue;
		case ':':
			return dl_err_set(reterr, -EINVAL, "%s: option --%s needs a value", cmd,
			    cmd_args_long_name(longopts, optopt));
		case '?':
			if (optopt > 0 && optopt < 0x100)
				return dl_err_set(reterr, -EINVAL, "%s: unknown option '-%c'", cmd,
				    optopt);
			return dl_err_set(reterr, -EINVAL, "%s: unknown option '%s'", cmd,
			    cmd_args_quote(q, argv[optind - 1]));
		case CMD_ARGS_OPT_HELP:
			opts->help = true;
			*ret_n = n;
			return 0;
		default:
			break;
		}

		/* "--mac --ip x" would take "--ip" as the MAC: no value we accept starts
		 * with "--", so say what really happened. */
		if (optarg && strncmp(optarg, "--", 2) == 0)
			return dl_err_set(reterr, -EINVAL, "%s: option --%s needs a value, got '%s'",
			    cmd, cmd_args_long_name(longopts, c), cmd_args_quote(q, optarg));
		switch (c) {
		case CMD_ARGS_OPT_JSON:
			opts->json = true;
			break;
		default:
			r = cmd_args_conn_option(opts, c, optarg, reterr);
			if (r < 0) {
				(void)dl_err_prefix(reterr, "%s", cmd);
				return r;
			}
			if (r > 0)
				break;
			r = handle ? handle(c, cmd_args_long_name(longopts, c), optarg, userdata,
			    reterr) : dl_err_set(reterr, -EINVAL, "%s: unknown option", cmd);
			if (r < 0) {
				(void)dl_err_prefix(reterr, "%s", cmd);
				return r;
			}
			break;
		}
	}
	if (n < min)
		return dl_err_set(reterr, -EINVAL, "%s: missing %s", cmd, what);
	*ret_n = n;
	return 0;
}

int
cmd_args_conn_option(struct cmd_opts *opts, int opt, const char *value,
    struct dl_err *reterr)
{
	static const struct {
		int opt;
		const char *name;
		size_t off;
	} conn[] = {
		{ CMD_ARGS_OPT_SOCKET, "socket", offsetof(struct cmd_opts, socket) },
		{ CMD_ARGS_OPT_SERVER, "server", offsetof(struct cmd_opts, server) },
		{ CMD_ARGS_OPT_CERT, "cert", offsetof(struct cmd_opts, cert) },
		{ CMD_ARGS_OPT_KEY, "key", offsetof(struct cmd_opts, key) },
		{ CMD_ARGS_OPT_CA, "ca", offsetof(struct cmd_opts, ca) },
	};

	for (size_t i = 0; i < ELEMENTSOF(conn); i++) {
		if (conn[i].opt != opt)
			continue;
		if (!value || !value[0])
			return dl_err_set(reterr, -EINVAL, "option --%s is empty", conn[i].name);
		*(const char **)((char *)opts + conn[i].off) = value;
		return 1;
	}
	return 0;
}

int
cmd_args_once(const char **slot, const char *name, const char *value, struct dl_err *reterr)
{
	if (*slot)
		return dl_err_set(reterr, -EINVAL, "option --%s given twice", name);
	*slot = value;
	return 0;
}

static int
cmd_args_check_name(const char *what, const char *name, enum cmd_args_kind kind,
    struct dl_err *reterr)
{
	char q[MAX_QUOTE + 4];
	char uuid[UUID_STR_LEN];
	struct mac_addr mac;
	uint32_t ip;
	int r = 0;

	switch (kind) {
	case CMD_ARGS_HOSTNAME:
		if (!hostname_is_valid(name))
			r = dl_err_set(reterr, -EINVAL,
			    "'%s' is not a valid node name (lowercase letters, digits and "
			    "'-', at most %d)", cmd_args_quote(q, name), MAX_HOSTNAME);
		break;
	case CMD_ARGS_MAC:
		r = parse_mac(name, &mac, reterr);
		break;
	case CMD_ARGS_IPV4:
		r = parse_ipv4(name, &ip, reterr);
		break;
	case CMD_ARGS_UUID:
		r = parse_uuid(name, uuid, reterr);
		break;
	case CMD_ARGS_SERIAL:
		if (!serial_is_valid(name))
			r = dl_err_set(reterr, -EINVAL,
			    "'%s' is not a valid serial number (printable, no blanks, quotes, "
			    "'\\&?=/', at most 64)", cmd_args_quote(q, name));
		break;
	case CMD_ARGS_ANY:
		break;
	}
	if (r < 0)
		(void)dl_err_prefix(reterr, "%s", what);
	return r;
}

int
cmd_args_hostlist(const char *what, const char *s, enum cmd_args_kind kind,
    struct dl_err *reterr)
{
	struct hostlist hl = { 0 };
	int r;

	r = hostlist_parse(s, &hl, reterr);
	if (r < 0) {
		(void)dl_err_prefix(reterr, "%s", what);
		return r;
	}
	for (size_t i = 0; i < hl.n; i++) {
		r = cmd_args_check_name(what, hl.names[i], kind, reterr);
		if (r < 0)
			break;
	}
	if (r == 0 && hl.n == 0) {
		char q[MAX_QUOTE + 4];

		r = dl_err_set(reterr, -EINVAL, "%s: '%s' names nothing", what,
		    cmd_args_quote(q, s));
	} else if (r == 0) {
		/* MAX_HOSTLIST_NAMES bounds n far below INT_MAX. */
		r = (int)hl.n;
	}
	hostlist_done(&hl);
	return r;
}

int
cmd_args_image_ref(const char *opt, const char *s, struct dl_err *reterr)
{
	char q[MAX_QUOTE + 4];
	const char *at = strchr(s, '@');
	_cleanup_free_ char *name = NULL;

	name = at ? strndup(s, (size_t)(at - s)) : strdup(s);
	if (!name)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	if (!image_name_is_valid(name) ||
	    (at && (strlen(at + 1) < IMAGE_ID_PREFIX_MIN || strlen(at + 1) > 64 ||
	    strspn(at + 1, "0123456789abcdef") != strlen(at + 1))))
		return dl_err_set(reterr, -EINVAL,
		    "%s: '%s' is not an image name ([a-z0-9][a-z0-9._-]*, at most 63) "
		    "or name@idprefix (%d to 64 lowercase hex digits: at least %d, even when "
		    "fewer are unique)", opt, cmd_args_quote(q, s), IMAGE_ID_PREFIX_MIN,
		    IMAGE_ID_PREFIX_MIN);
	return 0;
}

int
cmd_args_path_absolute(const char *opt, const char *path, char **ret, struct dl_err *reterr)
{
	_cleanup_free_ char *cwd = NULL, *out = NULL;
	size_t o = 0, size;
	const char *p;

	if (!path[0])
		return dl_err_set(reterr, -EINVAL, "%s: the path is empty", opt);
	if (path[0] != '/') {
		cwd = getcwd(NULL, 0);
		if (!cwd) {
			int r = negative_errno();

			return dl_err_set(reterr, r,
			    "%s: cannot make '%s' absolute: working directory: %s", opt, path,
			    strerror(-r));
		}
	}
	size = (cwd ? strlen(cwd) : 0) + strlen(path) + 3;
	out = malloc(size);
	if (!out)
		return dl_err_set(reterr, -ENOMEM, "out of memory");

	/* Append the components of cwd, then of path, skipping "" and "."; ".." stays, since
	 * dropping it lexically would be wrong across a symlink. */
	for (int pass = 0; pass < 2; pass++) {
		p = pass == 0 ? cwd : path;
		while (p && *p) {
			size_t n;

			p += strspn(p, "/");
			n = strcspn(p, "/");
			if (n == 0 || (n == 1 && p[0] == '.')) {
				p += n;
				continue;
			}
			out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
			p += n;
		}
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	*ret = TAKE_PTR(out);
	return 0;
}

/* Strict UTF-8 (RFC 3629 §4: no overlongs, no surrogates, at most U+10FFFF), as
 * jansson requires of every string it encodes. */
static bool
cmd_args_utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned c = *p;
		int n;
		uint32_t cp;

		if (c < 0x80) {
			p++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 1, cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2, cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3, cp = c & 0x07;
		} else {
			return false;
		}
		for (int i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += n + 1;
	}
	return true;
}

int
cmd_args_set_str(json_t *args, const char *key, const char *opt, const char *value,
    struct dl_err *reterr)
{
	char q[MAX_QUOTE + 4];

	if (!cmd_args_utf8_valid(value))
		return dl_err_set(reterr, -EINVAL, "%s: '%s' is not valid UTF-8", opt,
		    cmd_args_quote(q, value));
	if (json_object_set_new(args, key, json_string(value)) < 0)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	return 0;
}

int
cmd_args_new_str(json_t **ret_args, const char *key, const char *opt, const char *value,
    struct dl_err *reterr)
{
	_cleanup_(json_decrefp) json_t *args = json_object();
	int r;

	if (!args)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	if ((r = cmd_args_set_str(args, key, opt, value, reterr)) < 0)
		return r;
	*ret_args = TAKE_PTR(args);
	return 0;
}

int
cmd_args_names(json_t *args, const char *cmd, const char *names, struct dl_err *reterr)
{
	char what[64];
	int n, r;

	(void)snprintf(what, sizeof(what), "%s: node names", cmd); /* fits: cmd is ours */
	n = cmd_args_hostlist(what, names, CMD_ARGS_HOSTNAME, reterr);
	if (n < 0)
		return n;
	r = cmd_args_set_str(args, "names", what, names, reterr);
	return r < 0 ? r : n;
}

const struct option cmd_args_common_only[] = {
	CMD_ARGS_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

int
cmd_args_parse_names(int argc, char **argv, const char *cmd, const struct option *longopts,
    cmd_args_handle_fn handle, void *userdata, int min_names, struct cmd_opts *opts,
    json_t **ret_args, struct dl_err *reterr)
{
	_cleanup_(json_decrefp) json_t *args = NULL;
	const char *operands[1];
	int r, n;

	*ret_args = NULL;
	r = cmd_args_getopt(argc, argv, cmd, longopts, handle, userdata, opts, operands,
	    min_names, 1, "<hostlist> of node names", &n, reterr);
	if (r < 0 || opts->help)
		return r;
	args = json_object();
	if (!args)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	if (n > 0 && (r = cmd_args_names(args, cmd, operands[0], reterr)) < 0)
		return r;
	*ret_args = TAKE_PTR(args);
	return 0;
}

int
cmd_args_parse_none(int argc, char **argv, const char *cmd, struct cmd_opts *opts,
    json_t **ret_args, struct dl_err *reterr)
{
	const char *operands[1];
	int r, n;

	*ret_args = NULL;
	r = cmd_args_getopt(argc, argv, cmd, cmd_args_common_only, NULL, NULL, opts, operands,
	    0, 0, "", &n, reterr);
	if (r < 0 || opts->help)
		return r;
	*ret_args = json_object();
	return *ret_args ? 0 : dl_err_set(reterr, -ENOMEM, "out of memory");
}
