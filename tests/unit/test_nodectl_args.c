/* SPDX-License-Identifier: MIT */
/* nodectl/cmd_*.c: argv -> request args JSON. Each vector is a command line as an admin
 * types it (split on spaces) and either the args object bootsvc must receive
 * (docs/control-protocol.md) or the text the error message must contain. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../nodectl/cmd.h"
#include "macro.h"
#include "nodectl_checks.h"

struct vector {
	int line;
	cmd_parse_fn parse;
	const char *argv;  /* words separated by single spaces; argv[0] is the verb */
	const char *want;  /* args as JSON, or NULL when an error is expected */
	const char *err;   /* substring of the error message */
};

#define ADD cmd_node_add_parse
#define SET cmd_node_set_parse
#define RESET cmd_node_reset_disk_parse
#define PINRESET cmd_node_reset_bmc_pin_parse
#define PROV cmd_provision_parse
#define POWER cmd_power_parse
#define HOLD cmd_hold_parse
#define REL cmd_release_parse
#define EVENTS cmd_events_parse
#define HOSTS cmd_host_list_parse
#define VMS cmd_vm_list_parse
#define DRAIN cmd_host_drain_parse
#define MIGR cmd_vm_migrate_parse
#define VPLAN cmd_vm_plan_parse
#define BAL cmd_vm_balance_parse
#define PLANS cmd_vm_plans_parse
#define CANCEL cmd_vm_cancel_parse
#define MAC4 "--mac 52:54:00:00:00:[01-04]"

static const struct vector vectors[] = {
	/* node add: the issue's example, then every option. */
	{ __LINE__, ADD, "add n[01-04] " MAC4,
	  "{\"names\":\"n[01-04]\",\"macs\":\"52:54:00:00:00:[01-04]\"}", NULL },
	{ __LINE__, ADD, "add " MAC4 " n[01-04]", /* operands may follow options */
	  "{\"names\":\"n[01-04]\",\"macs\":\"52:54:00:00:00:[01-04]\"}", NULL },
	{ __LINE__, ADD, "add n[01-02] --mac 52:54:00:00:00:01,52-54-00-00-00-0A "
	  "--ip 10.0.0.[1-2] --uuid 0e1f5a2c-0000-4000-8000-00000000000[1-2] "
	  "--serial SN[1-2] --bmc bmc-n[01-02].mgmt --bmc-creds /etc/diskless/bmc.creds "
	  "--image compute@3f2a",
	  "{\"names\":\"n[01-02]\",\"macs\":\"52:54:00:00:00:01,52-54-00-00-00-0A\","
	  "\"ips\":\"10.0.0.[1-2]\",\"uuids\":\"0e1f5a2c-0000-4000-8000-00000000000[1-2]\","
	  "\"serials\":\"SN[1-2]\",\"bmcs\":\"bmc-n[01-02].mgmt\","
	  "\"bmc_creds\":\"/etc/diskless/bmc.creds\",\"image\":\"compute@3f2a\"}", NULL },
	{ __LINE__, ADD, "add n1 --mac=52:54:00:00:00:01 --image=compute --json",
	  "{\"names\":\"n1\",\"macs\":\"52:54:00:00:00:01\",\"image\":\"compute\"}", NULL },
	{ __LINE__, ADD, "add n1 --mac 52:54:00:00:00:01 --bmc b1 --bmc-creds //etc/./x//",
	  "{\"names\":\"n1\",\"macs\":\"52:54:00:00:00:01\",\"bmcs\":\"b1\","
	  "\"bmc_creds\":\"/etc/x\"}", NULL },

	/* node add: bad input, each message naming the option and the value. */
	{ __LINE__, ADD, "add", NULL, "node add: missing <hostlist>" },
	{ __LINE__, ADD, "add n[01-04]", NULL, "option --mac is required" },
	{ __LINE__, ADD, "add n[01-04] --mac 52:54:00:00:00:[01-03]", NULL,
	  "option --mac: 3 MAC addresses for 4 nodes" },
	{ __LINE__, ADD, "add n[01-04] " MAC4 " --ip 10.0.0.[1-5]", NULL,
	  "option --ip: 5 IP addresses for 4 nodes" },
	{ __LINE__, ADD, "add n1 --mac 52:54:00:00:00:zz", NULL,
	  "option --mac: MAC '52:54:00:00:00:zz' is not six hex octets" },
	{ __LINE__, ADD, "add n1 --mac 52:54:00:00:00:01 --ip 10.0.0.256", NULL,
	  "option --ip: " },
	{ __LINE__, ADD, "add n1 --mac 52:54:00:00:00:01 --uuid 1234", NULL,
	  "option --uuid: UUID '1234'" },
	{ __LINE__, ADD, "add n1 --mac 52:54:00:00:00:01 --serial a=b", NULL,
	  "option --serial: 'a=b' is not a valid serial" },
	{ __LINE__, ADD, "add n[01-04 " MAC4, NULL, "node add: node names: " },
	{ __LINE__, ADD, "add N01 --mac 52:54:00:00:00:01", NULL,
	  "'N01' is not a valid node name" },
	{ __LINE__, ADD, "add n1 --mac 52:54:00:00:00:01 --frob", NULL,
	  "node add: unknown option '--frob'" },
	{ __LINE__, ADD, "add n1 --mac 52:54:00:00:00:01 -x", NULL,
	  "node add: unknown option '-x'" },
	{ __LINE__, ADD, "add n1 --mac", NULL, "option --mac needs a value" },
	{ __LINE__, ADD, "add n1 --mac --ip 10.0.0.1", NULL,
	  "option --mac needs a value, got '--ip'" },
	{ __LINE__, ADD, "add n1 --mac 52:54:00:00:00:01 --mac 52:54:00:00:00:02", NULL,
	  "option --mac given twice" },
	{ __LINE__, ADD, "add n1 n2 --mac 52:54:00:00:00:01", NULL,
	  "unexpected argument 'n2'" },
	{ __LINE__, ADD, "add n1 --mac 52:54:00:00:00:01 --image Compute", NULL,
	  "option --image: 'Compute' is not an image name" },
	{ __LINE__, ADD, "add n1 --mac 52:54:00:00:00:01 --image compute@XYZ", NULL,
	  "'compute@XYZ'" },
	{ __LINE__, ADD, "add n1 --mac 52:54:00:00:00:01 --image compute@", NULL,
	  "'compute@'" },
	/* issue 16: image@6 refused though unique: the message says the minimum */
	{ __LINE__, SET, "set n01 --image tiny@6", NULL,
	  "'tiny@6' is not an image name ([a-z0-9][a-z0-9._-]*, at most 63) or name@idprefix "
	  "(4 to 64 lowercase hex digits: at least 4, even when fewer are unique)" },
	{ __LINE__, ADD, "add n1 --mac 52:54:00:00:00:01 --bmc-creds /x", NULL,
	  "option --bmc-creds needs --bmc" },
	{ __LINE__, ADD, "add n1 --mac 52:54:00:00:00:01 --bmc b1 --bmc-creds=", NULL,
	  "option --bmc-creds: the path is empty" },

	/* node set */
	{ __LINE__, SET, "set n01 --image compute",
	  "{\"names\":\"n01\",\"image\":\"compute\"}", NULL },
	{ __LINE__, SET, "set n[01-64] --image compute@3f2a9c",
	  "{\"names\":\"n[01-64]\",\"image\":\"compute@3f2a9c\"}", NULL },
	{ __LINE__, SET, "set --image compute n01",
	  "{\"names\":\"n01\",\"image\":\"compute\"}", NULL },
	{ __LINE__, SET, "set n01", NULL, "node set: nothing to change; give --image" },
	/* an iscsi node's disk kept across boots (issue 14) */
	{ __LINE__, SET, "set n01 --persistent-disk on",
	  "{\"names\":\"n01\",\"persistent_disk\":true}", NULL },
	{ __LINE__, SET, "set n01 --persistent-disk off --image win",
	  "{\"names\":\"n01\",\"image\":\"win\",\"persistent_disk\":false}", NULL },
	{ __LINE__, SET, "set n01 --persistent-disk yes", NULL,
	  "option --persistent-disk: 'yes' is not on or off" },
	{ __LINE__, SET, "set n01 --persistent-disk on --persistent-disk off", NULL,
	  "persistent-disk" },
	{ __LINE__, RESET, "reset-disk n[1-3]", "{\"names\":\"n[1-3]\"}", NULL },
	{ __LINE__, RESET, "reset-disk --force n1", "{\"names\":\"n1\",\"force\":true}",
	  NULL },
	{ __LINE__, RESET, "reset-disk", NULL, "node reset-disk: missing <hostlist>" },
	{ __LINE__, RESET, "reset-disk n1 --image x", NULL, "unknown option '--image" },
	/* a Redfish BMC's key recorded on first use, forgotten (issue 17) */
	{ __LINE__, PINRESET, "reset-bmc-pin n[1-3]", "{\"names\":\"n[1-3]\"}", NULL },
	{ __LINE__, PINRESET, "reset-bmc-pin", NULL, "node reset-bmc-pin: missing <hostlist>" },
	{ __LINE__, PINRESET, "reset-bmc-pin n1 --force", NULL, "unknown option '--force" },
	{ __LINE__, SET, "set --image compute", NULL, "node set: missing <hostlist>" },
	{ __LINE__, SET, "set n01 --image", NULL, "option --image needs a value" },
	{ __LINE__, SET, "set n01 --image a/b", NULL, "'a/b' is not an image name" },
	{ __LINE__, SET, "set n01 --mac 52:54:00:00:00:01", NULL,
	  "node set: unknown option '--mac" },
	{ __LINE__, SET, "set n01] --image compute", NULL, "node set: node names: " },

	/* provision: the issue's example, --force, and client-side options not sent. */
	{ __LINE__, PROV, "provision n[01-16] --image compute --wait",
	  "{\"names\":\"n[01-16]\",\"image\":\"compute\"}", NULL },
	{ __LINE__, PROV, "provision --image compute@3f2a n1 --force --wait --timeout 90s",
	  "{\"names\":\"n1\",\"image\":\"compute@3f2a\",\"force\":true}", NULL },
	{ __LINE__, PROV, "provision n1", NULL, "provision: option --image is required" },
	/* a VM host: --force reimages over its VMs, --evacuate asks the VM layer first */
	{ __LINE__, PROV, "provision n1 --image kvm --evacuate",
	  "{\"names\":\"n1\",\"image\":\"kvm\",\"evacuate\":true}", NULL },
	{ __LINE__, PROV, "provision n1 --image kvm --force --evacuate",
	  "{\"names\":\"n1\",\"image\":\"kvm\",\"force\":true,\"evacuate\":true}", NULL },
	{ __LINE__, PROV, "provision n1 --image kvm --evacuate=1", NULL,
	  "--evacuate" },
	/* host list and vm list (issue 12) */
	{ __LINE__, HOSTS, "list", "{}", NULL },
	{ __LINE__, HOSTS, "list --json", "{}", NULL },
	{ __LINE__, HOSTS, "list n1", NULL, "host list" },
	{ __LINE__, VMS, "list", "{}", NULL },
	{ __LINE__, VMS, "list --host hv01", "{\"host\":\"hv01\"}", NULL },
	{ __LINE__, VMS, "list --host=hv01 --json", "{\"host\":\"hv01\"}", NULL },
	{ __LINE__, VMS, "list --host HV", NULL, "vm list: option --host: 'HV' is not a node name" },
	{ __LINE__, VMS, "list --host a --host b", NULL, "option --host given twice" },
	{ __LINE__, VMS, "list --host", NULL, "--host" },
	{ __LINE__, VMS, "list g1", NULL, "vm list" },
	/* the VM layer (issue 13) */
	{ __LINE__, DRAIN, "drain hv01", "{\"host\":\"hv01\",\"undo\":false}", NULL },
	{ __LINE__, DRAIN, "drain hv01 --reason fan --wait", "{\"host\":\"hv01\",\"undo\":false,"
	  "\"reason\":\"fan\"}", NULL },
	{ __LINE__, DRAIN, "drain hv01 --undo", "{\"host\":\"hv01\",\"undo\":true}", NULL },
	{ __LINE__, DRAIN, "drain hv01 --undo --wait", NULL, "--undo moves nothing to --wait for" },
	{ __LINE__, DRAIN, "drain HV", NULL, "host drain: host 'HV' is not a node name" },
	{ __LINE__, DRAIN, "drain", NULL, "<host>" },
	{ __LINE__, DRAIN, "drain hv01 --timeout 5m", NULL, "--timeout needs --wait" },
	{ __LINE__, MIGR, "migrate g1", "{\"vm\":\"g1\"}", NULL },
	{ __LINE__, MIGR, "migrate g1 --to hv02 --wait --timeout 10m",
	  "{\"vm\":\"g1\",\"to\":\"hv02\"}", NULL },
	{ __LINE__, MIGR, "migrate g1 --to HV", NULL, "option --to 'HV' is not a node name" },
	{ __LINE__, MIGR, "migrate", NULL, "<vm>" },
	{ __LINE__, VPLAN, "plan --strategy consolidate", "{\"strategy\":\"consolidate\"}", NULL },
	{ __LINE__, VPLAN, "plan --strategy evacuate --host hv01",
	  "{\"strategy\":\"evacuate\",\"host\":\"hv01\"}", NULL },
	{ __LINE__, VPLAN, "plan", NULL, "--strategy must be evacuate, thermal or consolidate" },
	{ __LINE__, VPLAN, "plan --strategy pack", NULL, "--strategy must be" },
	{ __LINE__, BAL, "balance", "{\"strategy\":\"consolidate\",\"apply\":false}", NULL },
	{ __LINE__, BAL, "balance --strategy thermal --apply --wait",
	  "{\"strategy\":\"thermal\",\"apply\":true}", NULL },
	{ __LINE__, BAL, "balance --wait", NULL, "--wait needs --apply" },
	{ __LINE__, PLANS, "plans", "{\"all\":false}", NULL },
	{ __LINE__, PLANS, "plans --all", "{\"all\":true}", NULL },
	{ __LINE__, PLANS, "plans 7", "{\"id\":7}", NULL },
	{ __LINE__, PLANS, "plans x", NULL, "'x' is not a plan's number" },
	{ __LINE__, CANCEL, "cancel 7", "{\"id\":7}", NULL },
	{ __LINE__, CANCEL, "cancel 0", NULL, "'0' is not a plan's number" },
	{ __LINE__, CANCEL, "cancel", NULL, "<plan id>" },
	{ __LINE__, PROV, "provision --image compute", NULL, "provision: missing <hostlist>" },
	{ __LINE__, PROV, "provision n1 --image Compute", NULL,
	  "option --image: 'Compute' is not an image name" },
	{ __LINE__, PROV, "provision n1 --image compute --timeout 5m", NULL,
	  "option --timeout needs --wait" },
	{ __LINE__, PROV, "provision n1 --image compute --wait --timeout 5x", NULL,
	  "provision: option --timeout: duration '5x' has an unknown unit" },
	{ __LINE__, PROV, "provision n1 --image compute --wait --timeout 0s", NULL,
	  "option --timeout: duration '0s' is not in 1ms..7d" },
	{ __LINE__, PROV, "provision n1 --image compute --wait --timeout 8d", NULL,
	  "is not in 1ms..7d" },
	{ __LINE__, PROV, "provision n1 --image a --image b", NULL, "option --image given twice" },
	{ __LINE__, PROV, "provision N1 --image compute", NULL, "'N1' is not a valid node name" },
	{ __LINE__, PROV, "provision n1 --image compute --force=yes", NULL,
	  "unknown option '--force=yes'" },

	/* power: action first, then the hostlist. */
	{ __LINE__, POWER, "power status n[01-04]",
	  "{\"names\":\"n[01-04]\",\"action\":\"status\"}", NULL },
	{ __LINE__, POWER, "power cycle n1", "{\"names\":\"n1\",\"action\":\"cycle\"}", NULL },
	{ __LINE__, POWER, "power off n1 --json", "{\"names\":\"n1\",\"action\":\"off\"}", NULL },
	{ __LINE__, POWER, "power n1 on", NULL, "power: 'n1' is not an action" },
	{ __LINE__, POWER, "power boot n1", NULL, "'boot' is not an action (one of on, off" },
	{ __LINE__, POWER, "power on", NULL, "power: missing <on|off|cycle|reset|status>" },
	{ __LINE__, POWER, "power on n1 n2", NULL, "power: unexpected argument 'n2'" },
	{ __LINE__, POWER, "power on n[01-", NULL, "power: node names: " },
	{ __LINE__, POWER, "power on n1 --force", NULL, "power: unknown option '--force'" },

	/* hold, release */
	{ __LINE__, HOLD, "hold n[01-02] --reason rack-3",
	  "{\"names\":\"n[01-02]\",\"reason\":\"rack-3\"}", NULL },
	{ __LINE__, HOLD, "hold n1", "{\"names\":\"n1\"}", NULL },
	{ __LINE__, HOLD, "hold n1 --reason", NULL, "option --reason needs a value" },
	{ __LINE__, HOLD, "hold --reason x", NULL, "hold: missing <hostlist>" },
	{ __LINE__, HOLD, "hold n1 --reason a --reason b", NULL, "option --reason given twice" },
	{ __LINE__, REL, "release n[01-02]", "{\"names\":\"n[01-02]\"}", NULL },
	{ __LINE__, REL, "release n1 --reason x", NULL, "release: unknown option '--reason'" },

	/* drain, undrain */
	{ __LINE__, cmd_drain_parse, "drain n[01-02] --reason bad-dimm",
	  "{\"names\":\"n[01-02]\",\"reason\":\"bad-dimm\"}", NULL },
	{ __LINE__, cmd_drain_parse, "drain n1", "{\"names\":\"n1\"}", NULL },
	{ __LINE__, cmd_drain_parse, "drain n1 --reason=", NULL,
	  "drain: option --reason is empty" },
	{ __LINE__, cmd_drain_parse, "drain --reason x", NULL, "drain: missing <hostlist>" },
	{ __LINE__, cmd_drain_parse, "drain n1 --job j1", NULL, "drain: unknown option '--job'" },
	{ __LINE__, cmd_undrain_parse, "undrain n[01-02]", "{\"names\":\"n[01-02]\"}", NULL },
	{ __LINE__, cmd_undrain_parse, "undrain", NULL, "undrain: missing <hostlist>" },
	{ __LINE__, cmd_undrain_parse, "undrain n1 --reason x", NULL,
	  "undrain: unknown option '--reason'" },

	/* events */
	{ __LINE__, EVENTS, "events", "{}", NULL },
	{ __LINE__, EVENTS, "events --since 42 --json", "{\"since\":42}", NULL },
	{ __LINE__, EVENTS, "events --since 0", "{\"since\":0}", NULL },
	{ __LINE__, EVENTS, "events --since -1", NULL, "events: option --since (an event seq)" },
	{ __LINE__, EVENTS, "events --since 1x", NULL, "option --since" },
	{ __LINE__, EVENTS, "events n1", NULL, "events: unexpected argument 'n1'" },

	/* The other commands' operands. */
	{ __LINE__, cmd_node_remove_parse, "remove n[01-04]", "{\"names\":\"n[01-04]\"}", NULL },
	{ __LINE__, cmd_node_remove_parse, "remove", NULL, "node remove: missing" },
	{ __LINE__, cmd_node_list_parse, "list", "{}", NULL },
	{ __LINE__, cmd_node_list_parse, "list n[1-3] --json", "{\"names\":\"n[1-3]\"}", NULL },
	{ __LINE__, cmd_node_show_parse, "show n01", "{\"name\":\"n01\"}", NULL },
	{ __LINE__, cmd_node_show_parse, "show n[01-02]", NULL, "is not one node name" },
	{ __LINE__, cmd_image_list_parse, "list", "{}", NULL },
	{ __LINE__, cmd_image_list_parse, "list x", NULL, "unexpected argument 'x'" },
	{ __LINE__, cmd_image_show_parse, "show compute@3f2a", "{\"image\":\"compute@3f2a\"}",
	  NULL },
	{ __LINE__, cmd_image_remove_parse, "remove ../x", NULL,
	  "image remove: image: '../x' is not an image name" },
	{ __LINE__, cmd_image_add_parse, "add /var/lib/diskless/images/compute/3f2a/",
	  "{\"path\":\"/var/lib/diskless/images/compute/3f2a\"}", NULL },
	{ __LINE__, cmd_ping_parse, "ping", "{}", NULL },
	/* expect and energy (issue #7) */
	{ __LINE__, cmd_expect_parse, "expect --image compute --count 16 --within 5m",
	  "{\"count\":16,\"image\":\"compute\",\"within\":\"5m\"}", NULL },
	{ __LINE__, cmd_expect_parse, "expect --within 30s --count 0 --image compute@3f2a",
	  "{\"count\":0,\"image\":\"compute@3f2a\",\"within\":\"30s\"}", NULL },
	{ __LINE__, cmd_expect_parse, "expect --image compute --count 2", NULL,
	  "option --within (when they are wanted: 30s, 5m, 2h) is required" },
	{ __LINE__, cmd_expect_parse, "expect --image compute --within 5m", NULL,
	  "option --count (nodes; 0 withdraws the hint) is required" },
	{ __LINE__, cmd_expect_parse, "expect --image compute --count -1 --within 5m", NULL,
	  "expect: option --count" },
	{ __LINE__, cmd_expect_parse, "expect --image compute --count 2 --within 2d", NULL,
	  "'2d' is not between 1s and 24h" },
	{ __LINE__, cmd_expect_parse, "expect --image compute --count 2 --within soon", NULL,
	  "expect: option --within" },
	{ __LINE__, cmd_expect_parse, "expect --image Compute! --count 2 --within 5m", NULL,
	  "expect: option --image" },
	{ __LINE__, cmd_expect_parse, "expect n01 --image compute --count 2 --within 5m", NULL,
	  "n01" },
	{ __LINE__, cmd_energy_parse, "energy", "{}", NULL },
	{ __LINE__, cmd_energy_parse, "energy n[01-04]", "{\"names\":\"n[01-04]\"}", NULL },
	{ __LINE__, cmd_energy_parse, "energy n[01-", NULL, "energy: node names" },
	{ __LINE__, cmd_energy_parse, "energy --since 3", NULL, "since" },
};

static void
test_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(vectors); i++) {
		const struct vector *v = &vectors[i];
		struct cmd_opts opts;

		check_cmd_vector(__FILE__, v->line, v->parse, v->argv, v->want, v->err, &opts);
	}
}

static void
test_common_options(void **state)
{
	char a0[] = "list", a1[] = "--socket", a2[] = "/tmp/s", a3[] = "--json", a4[] = "--help";
	char *argv[] = { a0, a1, a2, a3, NULL };
	char *help[] = { a0, a4, NULL };
	struct cmd_opts opts = { 0 };
	struct dl_err err = { 0 };
	json_t *args = NULL;

	(void)state;
	assert_int_equal(cmd_node_list_parse(4, argv, &opts, &args, &err), 0);
	assert_string_equal(opts.socket, "/tmp/s");
	assert_true(opts.json);
	assert_false(opts.help);
	json_decref(args);

	memset(&opts, 0, sizeof(opts));
	args = NULL;
	assert_int_equal(cmd_node_list_parse(2, help, &opts, &args, &err), 0);
	assert_true(opts.help);
	assert_null(args);
}

static void
test_relative_paths(void **state)
{
	char a0[] = "add", a1[] = "./images/compute/v1", cwd[4096];
	char *argv[] = { a0, a1, NULL };
	struct cmd_opts opts = { 0 };
	struct dl_err err = { 0 };
	json_t *args = NULL;
	char *want;

	(void)state;
	/* The daemon has another working directory: nodectl sends paths absolute. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(cmd_image_add_parse(2, argv, &opts, &args, &err), 0);
	assert_true(asprintf(&want, "%s/images/compute/v1", streq(cwd, "/") ? "" : cwd) > 0);
	assert_string_equal(json_string_value(json_object_get(args, "path")), want);
	free(want);
	json_decref(args);
}

/* provision --wait and events are followed by the client: the parsers say so in opts and
 * keep --timeout out of the request. */
static void
test_follow_options(void **state)
{
	char a0[] = "provision", a1[] = "n1", a2[] = "--image", a3[] = "compute", a4[] = "--wait",
	     a5[] = "--timeout", a6[] = "90s", e0[] = "events";
	char *wait[] = { a0, a1, a2, a3, a4, a5, a6, NULL };
	char *nowait[] = { a0, a1, a2, a3, NULL };
	char *events[] = { e0, NULL };
	struct cmd_opts opts = { 0 };
	struct dl_err err = { 0 };
	json_t *args = NULL;

	(void)state;
	assert_int_equal(cmd_provision_parse(7, wait, &opts, &args, &err), 0);
	assert_true(opts.follow);
	assert_int_equal(opts.timeout_ms, 90000);
	json_decref(args);

	memset(&opts, 0, sizeof(opts));
	assert_int_equal(cmd_provision_parse(4, nowait, &opts, &args, &err), 0);
	assert_false(opts.follow);
	assert_int_equal(opts.timeout_ms, 20 * 60 * 1000); /* the documented default */
	json_decref(args);

	memset(&opts, 0, sizeof(opts));
	assert_int_equal(cmd_events_parse(1, events, &opts, &args, &err), 0);
	assert_true(opts.follow);
	json_decref(args);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_follow_options),
		cmocka_unit_test(test_common_options),
		cmocka_unit_test(test_relative_paths),
	};

	/* getopt must permute the same way under a POSIXLY_CORRECT environment. */
	(void)setenv("POSIXLY_CORRECT", "1", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
