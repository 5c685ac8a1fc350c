/* SPDX-License-Identifier: MIT */
/* nodectl's commands: each turns argv into the args object of one control-protocol verb
 * (cmd_*_parse) and the daemon's result into text (cmd_*_print). Parsing validates what
 * can be checked locally through lib/ (hostlists, MACs, names) so typos fail fast with a
 * message naming the option and the value; bootsvc checks everything again. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "err.h"

/* Options every command accepts, before or after the noun and verb. */
struct cmd_opts {
	const char *socket; /* borrowed from argv; NULL: DISKLESS_SOCKET or the default */
	bool json;          /* print the daemon's result as JSON */
	bool help;          /* print the command's usage and do nothing else */
};

/* argv[0] is the verb (or the noun for one-word commands); getopt_long state is reset.
 * Returns 0 and *ret_args (new reference; caller decrefs), or -EINVAL with reterr naming
 * the option and value, or -ENOMEM. With --help: 0, opts->help set, *ret_args NULL. */
typedef int (*cmd_parse_fn)(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
/* Print result (borrowed) for people; now is the wall clock for ages. Returns 0, -EPROTO
 * with reterr when the result lacks what the protocol promises, or -EIO/-ENOMEM. */
typedef int (*cmd_print_fn)(FILE *out, const json_t *result, time_t now,
    struct dl_err *reterr);

int cmd_node_add_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_node_remove_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_node_list_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_node_show_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_node_set_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_node_add_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);
int cmd_node_remove_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);
int cmd_node_list_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);
int cmd_node_show_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);
int cmd_node_set_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);

int cmd_image_list_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_image_show_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_image_add_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_image_remove_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_image_list_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);
/* Also prints image.add's result, which is the same {"image": {...}}. */
int cmd_image_show_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);
int cmd_image_remove_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);

int cmd_ping_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_ping_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);
