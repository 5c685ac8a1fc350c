/* SPDX-License-Identifier: MIT */
/* nodectl: the admin's and the scheduler scripts' client of bootsvc's control socket.
 * main() parses the global options, finds the command in the table below, lets the
 * command's parser build the request (cmd_*.c), sends it (client.c) and prints the
 * result, then maps what happened to the documented exit codes. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>

#include "client.h"
#include "client_conf.h"
#include "cmd.h"
#include "cmd_args.h"
#include "macro.h"

#define DEFAULT_SOCKET "/run/diskless/control.sock"

struct cmd {
	const char *noun;
	const char *verb;       /* NULL: a one-word command */
	const char *proto_verb; /* docs/control-protocol.md */
	const char *usage;      /* after "nodectl " */
	cmd_parse_fn parse;
	cmd_print_fn print;
	cmd_follow_fn follow;   /* runs the command when its parser sets opts->follow */
	cmd_print_fn print_json; /* --json; NULL: bootsvc's result as it is */
};

static const struct cmd cmds[] = {
	{ "node", "add", "node.add",
	  "node add <hostlist> --mac <hostlist> [--ip <hostlist>] [--uuid <hostlist>]\n"
	  "      [--serial <hostlist>] [--bmc <hostlist>] [--bmc-creds FILE]\n"
	  "      [--image NAME[@IDPREFIX]]",
	  cmd_node_add_parse, cmd_node_add_print, NULL, NULL },
	{ "node", "remove", "node.remove", "node remove <hostlist>",
	  cmd_node_remove_parse, cmd_node_remove_print, NULL, NULL },
	{ "node", "list", "node.list", "node list [<hostlist>]",
	  cmd_node_list_parse, cmd_node_list_print, NULL, NULL },
	{ "node", "show", "node.show", "node show <name>",
	  cmd_node_show_parse, cmd_node_show_print, NULL, NULL },
	{ "node", "set", "node.set",
	  "node set <hostlist> [--image NAME[@IDPREFIX]] [--persistent-disk on|off]",
	  cmd_node_set_parse, cmd_node_set_print, NULL, NULL },
	{ "node", "arm", "node.arm", "node arm <hostlist>",
	  cmd_node_arm_parse, cmd_node_arm_print, NULL, NULL },
	{ "node", "reset-disk", "node.reset-disk", "node reset-disk <hostlist> [--force]",
	  cmd_node_reset_disk_parse, cmd_node_reset_disk_print, NULL, NULL },
	{ "node", "reset-bmc-pin", "node.reset-bmc-pin", "node reset-bmc-pin <hostlist>",
	  cmd_node_reset_bmc_pin_parse, cmd_node_reset_bmc_pin_print, NULL, NULL },
	{ "node", "names", "node.list", "node names   (one a line, for completion)",
	  cmd_node_names_parse, cmd_node_names_print, NULL, NULL },
	{ "image", "list", "image.list", "image list",
	  cmd_image_list_parse, cmd_image_list_print, NULL, NULL },
	{ "image", "show", "image.show", "image show <image>",
	  cmd_image_show_parse, cmd_image_show_print, NULL, NULL },
	{ "image", "add", "image.add", "image add <store-path>",
	  cmd_image_add_parse, cmd_image_show_print, NULL, NULL },
	{ "image", "remove", "image.remove", "image remove <image>",
	  cmd_image_remove_parse, cmd_image_remove_print, NULL, NULL },
	{ "image", "sync", "image.sync", "image sync <image> | image sync --all",
	  cmd_image_sync_parse, cmd_image_sync_print, NULL, NULL },
	{ "image", "names", "image.list", "image names   (one a line, for completion)",
	  cmd_image_names_parse, cmd_image_names_print, NULL, NULL },
	{ "provision", NULL, "provision",
	  "provision <hostlist> --image NAME[@IDPREFIX] [--force] [--evacuate]\n"
	  "      [--wait [--timeout 20m]]",
	  cmd_provision_parse, cmd_provision_print, cmd_provision_follow, NULL },
	{ "power", NULL, "power", "power <on|off|cycle|reset|status> <hostlist>",
	  cmd_power_parse, cmd_power_print, NULL, NULL },
	{ "hold", NULL, "hold", "hold <hostlist> [--reason TEXT]",
	  cmd_hold_parse, cmd_hold_print, NULL, NULL },
	{ "release", NULL, "release", "release <hostlist> | release --job ID",
	  cmd_release_parse, cmd_release_print, NULL, NULL },
	{ "drain", NULL, "drain", "drain <hostlist> [--reason TEXT]",
	  cmd_drain_parse, cmd_drain_print, NULL, NULL },
	{ "undrain", NULL, "undrain", "undrain <hostlist>",
	  cmd_undrain_parse, cmd_undrain_print, NULL, NULL },
	{ "allocate", NULL, "allocate",
	  "allocate --count N --image NAME[@IDPREFIX] [--class C] [--job ID]\n"
	  "      [--wait [--timeout 20m]]",
	  cmd_allocate_parse, cmd_allocate_print, cmd_allocate_follow, NULL },
	{ "health", NULL, "node.list", "health [<hostlist>] [--all]",
	  cmd_health_parse, cmd_health_print, NULL, cmd_health_print_json },
	{ "health", "clear", "health.clear", "health clear <hostlist>",
	  cmd_health_clear_parse, cmd_health_clear_print, NULL, NULL },
	{ "expect", NULL, "expect", "expect --image NAME --count N --within DURATION",
	  cmd_expect_parse, cmd_expect_print, NULL, NULL },
	{ "energy", NULL, "energy", "energy [<hostlist>]",
	  cmd_energy_parse, cmd_energy_print, NULL, NULL },
	{ "events", NULL, "events", "events [--since SEQ]",
	  cmd_events_parse, NULL, cmd_events_follow, NULL },
	{ "host", "list", "host.list", "host list",
	  cmd_host_list_parse, cmd_host_list_print, NULL, NULL },
	{ "server", "list", "server.list", "server list",
	  cmd_server_list_parse, cmd_server_list_print, NULL, NULL },
	{ "vm", "list", "vm.list", "vm list [--host NODE]",
	  cmd_vm_list_parse, cmd_vm_list_print, NULL, NULL },
	{ "host", "drain", "host.drain",
	  "host drain <host> [--reason TEXT] [--wait [--timeout 1h]] | host drain <host> --undo",
	  cmd_host_drain_parse, cmd_vm_plan_print, cmd_vm_plan_follow, NULL },
	{ "vm", "migrate", "vm.migrate", "vm migrate <vm> [--to HOST] [--wait [--timeout 1h]]",
	  cmd_vm_migrate_parse, cmd_vm_plan_print, cmd_vm_plan_follow, NULL },
	{ "vm", "plan", "vm.plan",
	  "vm plan --strategy evacuate|thermal|consolidate [--host HOST]   (a dry run)",
	  cmd_vm_plan_parse, cmd_vm_plan_print, NULL, NULL },
	{ "vm", "balance", "vm.balance",
	  "vm balance [--strategy S] [--apply [--wait [--timeout 1h]]]",
	  cmd_vm_balance_parse, cmd_vm_plan_print, cmd_vm_plan_follow, NULL },
	{ "vm", "plans", "vm.plans", "vm plans [<plan id>] [--all]",
	  cmd_vm_plans_parse, cmd_vm_plans_print, NULL, NULL },
	{ "vm", "cancel", "vm.cancel", "vm cancel <plan id>",
	  cmd_vm_cancel_parse, cmd_vm_cancel_print, NULL, NULL },
	{ "ping", NULL, "ping", "ping", cmd_ping_parse, cmd_ping_print, NULL, NULL },
};

static void
main_usage(FILE *out)
{
	(void)fputs("Usage: nodectl [--socket PATH | --server HOST:PORT --cert F --key F --ca F]\n"
	    "               [--json] <command> [args]\n\nCommands:\n", out);
	for (size_t i = 0; i < ELEMENTSOF(cmds); i++)
		(void)fprintf(out, "  %s\n", cmds[i].usage);
	(void)fputs("  " CMD_TLS_USAGE_INIT "\n  " CMD_TLS_USAGE_ISSUE "\n", out);
	(void)fputs(
	    "\n"
	    "<hostlist> is Slurm syntax: n[001-100,200], 52:54:00:00:00:[01-04]. <image> is a\n"
	    "name, name@idprefix or a content id.\n"
	    "\n"
	    "Options (also accepted after the command):\n"
	    "  --socket PATH  bootsvc's control socket (default: $DISKLESS_SOCKET, else\n"
	    "                 " DEFAULT_SOCKET ")\n"
	    "  --server HOST:PORT  bootsvc's control_tcp, over mutual TLS with the client\n"
	    "                 certificate --cert, its key --key and the CA --ca (PEM files);\n"
	    "                 all four may come from the client config ($DISKLESS_CLIENT_CONF,\n"
	    "                 else " CLIENT_CONF_DEFAULT ": server, cert, key, ca)\n"
	    "  --json         print bootsvc's JSON result, for scripts (events: the raw\n"
	    "                 event objects, one per line)\n"
	    "  -h, --help     this text; 'nodectl <command> --help' for one command\n"
	    "\n"
	    "Exit status:\n"
	    "  0    success\n"
	    "  1    bootsvc answered with an error (printed as 'nodectl: <message>');\n"
	    "       power: some BMC failed; provision --wait: some node failed (listed);\n"
	    "       allocate: no capacity (ENOSPC, the message says why); allocate --wait:\n"
	    "       the job could not be completed (a node failed and none replaced it)\n"
	    "  2    usage error: the message names the bad option or value\n"
	    "  3    no usable answer from bootsvc: cannot connect to the socket (the message\n"
	    "       says which and why), no answer in time, or an answer outside the protocol\n"
	    "  4    provision|allocate --wait: --timeout (default 20m) passed before every\n"
	    "       node was up on the image or failed\n"
	    "  130  --wait interrupted by SIGINT (bootsvc goes on provisioning)\n"
	    "allocate --wait prints the job's nodes as a hostlist on its last line.\n"
	    "'events' follows the stream until SIGINT and then exits 0.\n",
	    out);
}

static void
main_usage_noun(FILE *out, const char *noun)
{
	(void)fputs("Usage:\n", out);
	for (size_t i = 0; i < ELEMENTSOF(cmds); i++)
		if (streq(cmds[i].noun, noun))
			(void)fprintf(out, "  nodectl %s\n", cmds[i].usage);
}

static bool
main_is_noun(const char *s)
{
	for (size_t i = 0; i < ELEMENTSOF(cmds); i++)
		if (streq(cmds[i].noun, s))
			return true;
	return false;
}

/* "add, remove, list" for noun's verbs, or the nouns for NULL. */
static const char *
main_choices(char *buf, size_t size, const char *noun)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ELEMENTSOF(cmds); i++) {
		const char *w = noun ? cmds[i].verb : cmds[i].noun;

		if (noun ? !streq(cmds[i].noun, noun) : (i > 0 && streq(cmds[i - 1].noun, w)))
			continue;
		o += (size_t)snprintf(buf + o, size - o, "%s%s", o ? ", " : "", w);
		if (o >= size)
			break; /* the table is ours and short; truncation only cuts the hint */
	}
	return buf;
}

/* Find the command in argv[0..argc); *ret_skip is how many words precede the one the
 * command's parser gets as its argv[0]. */
static int
main_find(int argc, char **argv, const struct cmd **ret, int *ret_skip, struct dl_err *reterr)
{
	char choices[256];

	if (argc < 1)
		return dl_err_set(reterr, -EINVAL, "missing command (one of: %s)",
		    main_choices(choices, sizeof(choices), NULL));
	/* "health clear n01" is the verb clear; "health n01" the one-word command. */
	for (size_t i = 0; argc >= 2 && i < ELEMENTSOF(cmds); i++)
		if (cmds[i].verb && streq(cmds[i].noun, argv[0]) && streq(cmds[i].verb, argv[1])) {
			*ret = &cmds[i];
			*ret_skip = 1;
			return 0;
		}
	for (size_t i = 0; i < ELEMENTSOF(cmds); i++)
		if (!cmds[i].verb && streq(cmds[i].noun, argv[0])) {
			*ret = &cmds[i];
			*ret_skip = 0;
			return 0;
		}
	if (!main_is_noun(argv[0]))
		return dl_err_set(reterr, -EINVAL, "unknown command '%.64s' (one of: %s)", argv[0],
		    main_choices(choices, sizeof(choices), NULL));
	if (argc < 2)
		return dl_err_set(reterr, -EINVAL, "%s: missing verb (one of: %s)", argv[0],
		    main_choices(choices, sizeof(choices), argv[0]));
	for (size_t i = 0; i < ELEMENTSOF(cmds); i++)
		if (cmds[i].verb && streq(cmds[i].noun, argv[0]) && streq(cmds[i].verb, argv[1])) {
			*ret = &cmds[i];
			*ret_skip = 1;
			return 0;
		}
	return dl_err_set(reterr, -EINVAL, "%s: unknown verb '%.64s' (one of: %s)", argv[0],
	    argv[1], main_choices(choices, sizeof(choices), argv[0]));
}

/* Follow commands end on SIGINT/SIGTERM cleanly (events exits 0, provision --wait says
 * what is still going on): the signals are blocked and read from a signalfd that the
 * client polls beside the socket, so no handler runs in the middle of a line. */
static int
main_signalfd(void)
{
	sigset_t mask;

	(void)sigemptyset(&mask);
	(void)sigaddset(&mask, SIGINT);
	(void)sigaddset(&mask, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return negative_errno();
	return signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		CMD_ARGS_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_(json_decrefp) json_t *args = NULL;
	struct client_reply reply = { 0 };
	struct cmd_opts opts = { 0 };
	struct dl_err err = { 0 };
	const struct cmd *cmd = NULL;
	struct client *client = NULL;
	struct client_target target;
	int c, r, skip, rest;
	char **rargv;

	/* "+": stop at the command; its own options are the command parser's business. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
		switch (c) {
		case CMD_ARGS_OPT_HELP:
			main_usage(stdout);
			return NODECTL_EXIT_OK;
		case CMD_ARGS_OPT_JSON:
			opts.json = true;
			break;
		case CMD_ARGS_OPT_SOCKET:
		case CMD_ARGS_OPT_SERVER:
		case CMD_ARGS_OPT_CERT:
		case CMD_ARGS_OPT_KEY:
		case CMD_ARGS_OPT_CA:
			if (cmd_args_conn_option(&opts, c, optarg, &err) < 0) {
				(void)fprintf(stderr, "nodectl: %s\n", err.msg);
				return NODECTL_EXIT_USAGE;
			}
			break;
		case ':':
			(void)fprintf(stderr, "nodectl: option '%.64s' needs a value\n",
			    argv[optind - 1]);
			return NODECTL_EXIT_USAGE;
		default:
			(void)fprintf(stderr, "nodectl: unknown option '%.64s'\n",
			    argv[optind - 1]);
			return NODECTL_EXIT_USAGE;
		}
	}
	rest = argc - optind;
	rargv = argv + optind;
	/* tls init|issue make files here and talk to nobody. */
	if (rest >= 1 && streq(rargv[0], "tls"))
		return cmd_tls_main(rest, rargv, stdout, stderr);
	if (rest == 2 && main_is_noun(rargv[0]) &&
	    (streq(rargv[1], "--help") || streq(rargv[1], "-h"))) {
		main_usage_noun(stdout, rargv[0]);
		return NODECTL_EXIT_OK;
	}
	r = main_find(rest, rargv, &cmd, &skip, &err);
	if (r < 0) {
		(void)fprintf(stderr, "nodectl: %s\n", err.msg);
		return NODECTL_EXIT_USAGE;
	}
	r = cmd->parse(rest - skip, rargv + skip, &opts, &args, &err);
	if (r == -EINVAL) {
		(void)fprintf(stderr, "nodectl: %s\nTry 'nodectl %s%s%s --help'.\n", err.msg,
		    cmd->noun, cmd->verb ? " " : "", cmd->verb ? cmd->verb : "");
		return NODECTL_EXIT_USAGE;
	}
	if (r < 0) {
		(void)fprintf(stderr, "nodectl: %s\n", err.msg);
		return NODECTL_EXIT_DAEMON;
	}
	if (opts.help) {
		(void)fprintf(stdout, "Usage: nodectl %s\n", cmd->usage);
		return NODECTL_EXIT_OK;
	}

	r = client_conf_resolve(&opts, getenv("DISKLESS_SOCKET"), getenv("DISKLESS_CLIENT_CONF"),
	    DEFAULT_SOCKET, &target, &err);
	if (r < 0) {
		(void)fprintf(stderr, "nodectl: %s\n", err.msg);
		return NODECTL_EXIT_USAGE;
	}
	r = target.tls ? client_connect_tls(target.server, target.cert, target.key, target.ca,
	    &client, &err) : client_connect(target.socket, &client, &err);
	if (r >= 0 && opts.follow && cmd->follow) {
		_cleanup_close_ int sfd = main_signalfd();

		if (sfd < 0) {
			(void)fprintf(stderr, "nodectl: cannot watch for SIGINT: %s\n",
			    strerror(-sfd));
			client = client_free(client);
			return NODECTL_EXIT_DAEMON;
		}
		client->wake_fd = sfd;
		r = cmd->follow(client, cmd->proto_verb, args, &opts, stdout, &err);
		client = client_free(client);
		if (r >= 0)
			return r;
		if (r == -EPROTO)
			(void)fprintf(stderr, "nodectl: unexpected answer from bootsvc: %s\n",
			    err.msg);
		else
			(void)fprintf(stderr, "nodectl: %s\n", err.msg);
		return r == -ENOMEM ? NODECTL_EXIT_DAEMON : NODECTL_EXIT_UNREACHABLE;
	}
	if (r >= 0) {
		r = client_call(client, cmd->proto_verb, args, &reply, &err);
		client = client_free(client);
	}
	if (r < 0) {
		(void)fprintf(stderr, "nodectl: %s\n", err.msg);
		return NODECTL_EXIT_UNREACHABLE;
	}
	if (!reply.ok) {
		(void)fprintf(stderr, "nodectl: %s\n", reply.message);
		client_reply_done(&reply);
		return NODECTL_EXIT_DAEMON;
	}

	if (opts.json && cmd->print_json) {
		r = cmd->print_json(stdout, reply.result, time(NULL), &err);
	} else if (opts.json) {
		r = json_dumpf(reply.result, stdout, JSON_INDENT(2)) < 0 ? -EIO : 0;
		(void)fputc('\n', stdout);
		/* Scripts get the same exit status as people: 1 when a node's BMC failed. */
		if (r == 0 && cmd_result_has_errors(reply.result))
			r = CMD_PRINT_PARTIAL;
	} else {
		r = cmd->print(stdout, reply.result, time(NULL), &err);
	}
	client_reply_done(&reply);
	if (r == -EPROTO) {
		(void)fprintf(stderr, "nodectl: unexpected answer from bootsvc: %s\n", err.msg);
		return NODECTL_EXIT_UNREACHABLE;
	}
	if (r < 0 || fflush(stdout) != 0 || ferror(stdout)) {
		(void)fprintf(stderr, "nodectl: cannot write the output: %s\n",
		    strerror(r < 0 ? -r : errno ? errno : EIO));
		return NODECTL_EXIT_DAEMON;
	}
	return r == CMD_PRINT_PARTIAL ? NODECTL_EXIT_DAEMON : NODECTL_EXIT_OK;
}
