/* SPDX-License-Identifier: MIT */
/* Helpers shared by the cmd_*.c parsers: getopt plumbing, the common options, local
 * validation of hostlists and image references, paths made absolute. */
#pragma once

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "cmd.h"
#include "err.h"

/* getopt_long values of the options every command takes; commands' own options use
 * values from CMD_ARGS_OPT_FIRST up. */
enum {
	CMD_ARGS_OPT_HELP = 'h',
	CMD_ARGS_OPT_JSON = 0x100,
	CMD_ARGS_OPT_SOCKET,
	CMD_ARGS_OPT_SERVER,
	CMD_ARGS_OPT_CERT,
	CMD_ARGS_OPT_KEY,
	CMD_ARGS_OPT_CA,
	CMD_ARGS_OPT_FIRST,
};

/* The common long options, to end every command's option table:
 * { CMD_ARGS_COMMON_OPTIONS, { NULL, 0, NULL, 0 } } */
#define CMD_ARGS_COMMON_OPTIONS                                         \
	{ "help", no_argument, NULL, CMD_ARGS_OPT_HELP },               \
	{ "json", no_argument, NULL, CMD_ARGS_OPT_JSON },               \
	{ "socket", required_argument, NULL, CMD_ARGS_OPT_SOCKET },     \
	{ "server", required_argument, NULL, CMD_ARGS_OPT_SERVER },     \
	{ "cert", required_argument, NULL, CMD_ARGS_OPT_CERT },         \
	{ "key", required_argument, NULL, CMD_ARGS_OPT_KEY },           \
	{ "ca", required_argument, NULL, CMD_ARGS_OPT_CA }

/* Store one of the connection options (--socket, --server, --cert, --key, --ca: opt is
 * its getopt value) in opts. Returns 1 when opt is one of them, 0 when it is not, or
 * -EINVAL naming it when the value is empty. */
int cmd_args_conn_option(struct cmd_opts *opts, int opt, const char *value,
    struct dl_err *reterr);

/* The common options alone, for commands with none of their own. */
extern const struct option cmd_args_common_only[];

/* Most operands a command takes. */
#define MAX_CMD_OPERANDS 4

/* Handles one command-specific option: opt is its getopt value, name its long name
 * ("mac"), value its argument (NULL for flags). Returns 0 or -EINVAL with reterr. */
typedef int (*cmd_args_handle_fn)(int opt, const char *name, const char *value,
    void *userdata, struct dl_err *reterr);

/* Run getopt_long over argv[1..argc) (argv[0] is the verb) for command cmd ("node add"),
 * options and operands in any order (independent of POSIXLY_CORRECT). The common options
 * go into opts, every other option to handle(). The operands (borrowed from argv) go to
 * operands[], their count to *ret_n, which must be in [min, max <= MAX_CMD_OPERANDS];
 * what names them in the message ("<hostlist>"). Unknown options, missing values, wrong
 * operand counts and errors from handle() are -EINVAL naming the option or operand.
 * With --help, returns 0 at once with opts->help set. */
int cmd_args_getopt(int argc, char **argv, const char *cmd, const struct option *longopts,
    cmd_args_handle_fn handle, void *userdata, struct cmd_opts *opts,
    const char **operands, int min, int max, const char *what, int *ret_n,
    struct dl_err *reterr);

/* Store an option's value once: -EINVAL "option --x given twice" otherwise. */
int cmd_args_once(const char **slot, const char *name, const char *value,
    struct dl_err *reterr);

/* What each name of a hostlist must be. */
enum cmd_args_kind {
	CMD_ARGS_HOSTNAME,  /* parse.h hostname_is_valid() */
	CMD_ARGS_MAC,       /* parse_mac() */
	CMD_ARGS_IPV4,      /* parse_ipv4() */
	CMD_ARGS_UUID,      /* parse_uuid() */
	CMD_ARGS_SERIAL,    /* serial_is_valid() */
	CMD_ARGS_ANY,       /* hostlist syntax only (BMC addresses may be FQDNs) */
};

/* Expand hostlist s and check every name is of kind; what labels it in messages
 * ("option --mac", "node names"). Returns the number of names (>= 1), or -EINVAL naming
 * what, the offending name and why, or -ENOMEM. */
int cmd_args_hostlist(const char *what, const char *s, enum cmd_args_kind kind,
    struct dl_err *reterr);

/* A hostlist of node names from command cmd ("health"): checked as hostnames and put in
 * args as "names"; messages say "<cmd>: node names". Returns the number of names, or
 * -EINVAL/-ENOMEM with reterr. */
int cmd_args_names(json_t *args, const char *cmd, const char *names, struct dl_err *reterr);

/* An image reference: a name or name@idprefix (1..64 lowercase hex digits); a bare
 * 64-hex id is also a valid name. Returns 0, or -EINVAL naming opt and the value. */
int cmd_args_image_ref(const char *opt, const char *s, struct dl_err *reterr);

/* path made absolute against the working directory, lexically (no symlinks resolved,
 * nothing touched: bootsvc may be allowed to read what nodectl's user cannot). Removes
 * "." components and duplicate or trailing slashes. Returns a new string in *ret, or
 * -EINVAL (empty) / -ENOMEM / getcwd's error, naming opt. */
int cmd_args_path_absolute(const char *opt, const char *path, char **ret,
    struct dl_err *reterr);

/* json_object_set_new() with a string that is checked to be UTF-8. -EINVAL naming opt
 * or -ENOMEM. */
int cmd_args_set_str(json_t *args, const char *key, const char *opt, const char *value,
    struct dl_err *reterr);
/* A new args object holding only key = value (cmd_args_set_str()), in *ret_args (owned
 * by the caller; written only on success). -EINVAL naming opt or -ENOMEM. */
int cmd_args_new_str(json_t **ret_args, const char *key, const char *opt, const char *value,
    struct dl_err *reterr);

/* The whole parse of a command whose one operand, if any, is a <hostlist> of node names
 * ("energy", "health clear", "node list"): cmd_args_getopt() with longopts, handle and
 * userdata, at least min_names (0 or 1) operands, then a new args object in *ret_args
 * holding "names" when they were given ({} otherwise; the caller may add to it). *ret_args
 * is NULL on error and with --help. Errors as cmd_args_getopt() and cmd_args_names(). */
int cmd_args_parse_names(int argc, char **argv, const char *cmd, const struct option *longopts,
    cmd_args_handle_fn handle, void *userdata, int min_names, struct cmd_opts *opts,
    json_t **ret_args, struct dl_err *reterr);

/* The whole parse of a command with no operands and no options of its own ("ping",
 * "image list"): args {}. *ret_args is NULL on error and with --help. */
int cmd_args_parse_none(int argc, char **argv, const char *cmd, struct cmd_opts *opts,
    json_t **ret_args, struct dl_err *reterr);
