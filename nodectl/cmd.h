/* SPDX-License-Identifier: MIT */
/* nodectl's commands: each turns argv into the args object of one control-protocol verb
 * (cmd_*_parse) and the daemon's result into text (cmd_*_print). Parsing validates what
 * can be checked locally through lib/ (hostlists, MACs, names) so typos fail fast with a
 * message naming the option and the value; bootsvc checks everything again. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "err.h"

struct client;

/* Exit codes; docs/nodectl.md and --help document them, scripts rely on them. */
enum {
	NODECTL_EXIT_OK = 0,
	NODECTL_EXIT_DAEMON = 1,      /* bootsvc answered with an error; or a node failed */
	NODECTL_EXIT_USAGE = 2,       /* bad command line */
	NODECTL_EXIT_UNREACHABLE = 3, /* no usable answer from bootsvc */
	NODECTL_EXIT_TIMEOUT = 4,     /* provision --wait: not every node done in time */
	NODECTL_EXIT_INTERRUPTED = 130, /* provision --wait stopped by SIGINT (128 + 2) */
};

/* Options every command accepts, before or after the noun and verb, and the client-side
 * options of the commands that follow the event stream. */
struct cmd_opts {
	const char *socket; /* borrowed from argv; NULL: DISKLESS_SOCKET or the default */
	const char *server; /* --server host:port: control over mutual TLS */
	const char *cert, *key, *ca; /* --cert/--key/--ca: PEM files for --server */
	bool json;          /* print the daemon's result as JSON */
	bool help;          /* print the command's usage and do nothing else */
	bool follow;        /* the command's follow function runs it (events, --wait) */
	uint64_t timeout_ms; /* provision|allocate --wait: give up after this long */
};

/* Printers return this (> 0) when they printed the result but it reports that some
 * nodes failed (power status with BMC errors): nodectl exits 1. */
#define CMD_PRINT_PARTIAL 1

/* argv[0] is the verb (or the noun for one-word commands); getopt_long state is reset.
 * Returns 0 and *ret_args (new reference; caller decrefs), or -EINVAL with reterr naming
 * the option and value, or -ENOMEM. With --help: 0, opts->help set, *ret_args NULL. */
typedef int (*cmd_parse_fn)(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
/* Print result (borrowed) for people; now is the wall clock for ages. Returns 0,
 * CMD_PRINT_PARTIAL, -EPROTO with reterr when the result lacks what the protocol
 * promises, or -EIO/-ENOMEM. */
typedef int (*cmd_print_fn)(FILE *out, const json_t *result, time_t now,
    struct dl_err *reterr);
/* Run a command that reads the event stream (opts->follow) on connection c (borrowed;
 * its wake_fd ends waits on SIGINT): send verb with args (borrowed), follow, print to
 * out. Returns an exit code (NODECTL_EXIT_*; bootsvc's errors are printed to stderr by
 * the function), or -errno with reterr when bootsvc gave no usable answer (exit 3). */
typedef int (*cmd_follow_fn)(struct client *c, const char *verb, const json_t *args,
    const struct cmd_opts *opts, FILE *out, struct dl_err *reterr);

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
int cmd_node_arm_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_node_arm_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);
int cmd_node_reset_bmc_pin_parse(int argc, char **argv, struct cmd_opts *opts,
    json_t **ret_args, struct dl_err *reterr);
int cmd_node_reset_bmc_pin_print(FILE *out, const json_t *result, time_t now,
    struct dl_err *reterr);
int cmd_node_reset_disk_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_node_reset_disk_print(FILE *out, const json_t *result, time_t now,
    struct dl_err *reterr);
int cmd_node_list_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);
int cmd_node_show_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);
int cmd_node_set_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);

/* cmd_vm_plan.c: the VM layer's plans (issue 13). */
int cmd_host_drain_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_vm_migrate_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_vm_plan_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_vm_balance_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_vm_plans_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_vm_cancel_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_vm_plan_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);
int cmd_vm_plans_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);
int cmd_vm_cancel_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);
int cmd_vm_plan_follow(struct client *c, const char *verb, const json_t *args,
    const struct cmd_opts *opts, FILE *out, struct dl_err *reterr);

/* cmd_vm.c: VM hosts and their domains (issue 12). */
int cmd_host_list_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_host_list_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);
int cmd_vm_list_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_vm_list_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);

/* cmd_server.c: the bootsvc instances sharing a database (issue 15). */
int cmd_server_list_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_server_list_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);

int cmd_image_list_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_image_show_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_image_add_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_image_remove_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_image_sync_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_image_sync_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);
int cmd_image_list_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);
/* Also prints image.add's result, which is the same {"image": {...}}. */
int cmd_image_show_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);
int cmd_image_remove_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);

/* node names, image names: one a line, for completion (cmd_names.c). */
int cmd_node_names_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_node_names_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);
int cmd_image_names_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_image_names_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);

int cmd_ping_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_ping_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);

/* provision, power, hold, release, drain, undrain (cmd_ctrl.c). */
int cmd_provision_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_provision_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);
/* provision --wait: provision, then the progress of the nodes (wait.c). */
int cmd_provision_follow(struct client *c, const char *verb, const json_t *args,
    const struct cmd_opts *opts, FILE *out, struct dl_err *reterr);
int cmd_power_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_power_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);
int cmd_hold_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_hold_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);
int cmd_release_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_release_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);
/* An admin's drain: no new allocation picks the nodes; nothing else changes. */
int cmd_drain_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_drain_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);
int cmd_undrain_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_undrain_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);

/* allocate (cmd_ctrl.c): count nodes of an image for a job. */
int cmd_allocate_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
/* "job a12: allocated 8 nodes: n[01-08] -> compute@3f2a9c0d11e2 (class mpi)" and the
 * tiers line "tiers: reuse 5, reimage 2, power-on 1". */
int cmd_allocate_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);
/* allocate --wait: allocate, then follow the job's members until all are up (wait.c). */
int cmd_allocate_follow(struct client *c, const char *verb, const json_t *args,
    const struct cmd_opts *opts, FILE *out, struct dl_err *reterr);

/* energy [<hostlist>] and expect --image --count --within (cmd_green.c). */
int cmd_energy_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_energy_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);
int cmd_expect_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_expect_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);

/* health [clear] (cmd_health.c). health sends node.list; its printers show the nodes
 * with a BMC (all nodes with --all). */
int cmd_health_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_health_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr);
/* health --json: {"nodes": [the node objects shown]}. */
int cmd_health_print_json(FILE *out, const json_t *result, time_t now,
    struct dl_err *reterr);
int cmd_health_clear_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_health_clear_print(FILE *out, const json_t *result, time_t now,
    struct dl_err *reterr);

/* The controller's view of a node (borrowed) in one word, for node list and health:
 * "hold" when held, "bmc-unreachable", else its operation with the attempt count
 * ("booting(2)", "failed", "power-off"), else NULL ("-": nothing to do). May use buf. */
const char *cmd_node_state(const json_t *node, char buf[static 64]);

/* events (cmd_events.c). */
int cmd_events_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr);
int cmd_events_follow(struct client *c, const char *verb, const json_t *args,
    const struct cmd_opts *opts, FILE *out, struct dl_err *reterr);

/* Whether result's "nodes" list holds an object with an "error" (power cycle, reset,
 * status: a BMC that failed). */
bool cmd_result_has_errors(const json_t *result);

/* Shared by the printers of node-name lists: {"<key>": ["n01", ...]} ->
 * "<verb> 4 nodes: n[01-04]" (plus " (image <id>)" when result has an image_id). */
int cmd_print_names(FILE *out, const json_t *result, const char *key, const char *verb,
    struct dl_err *reterr);

/* tls init | tls issue (cmd_tls.c): the CA and certificates of control_tcp, made
 * locally (tls_pki.c); no connection to bootsvc. argv[0] is "tls". Returns an exit
 * code (NODECTL_EXIT_OK, _USAGE, or _DAEMON when a file could not be made). */
#define CMD_TLS_USAGE_INIT "tls init [--dir DIR] [--days N]"
#define CMD_TLS_USAGE_ISSUE \
	"tls issue NAME (--role admin|scheduler|read-only | --server [--san NAME|IP]...)\n" \
	"      [--days N] [--dir DIR]"
int cmd_tls_main(int argc, char **argv, FILE *out, FILE *errout);
