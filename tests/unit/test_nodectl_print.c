/* SPDX-License-Identifier: MIT */
/* nodectl/cmd_*.c printers: daemon results (shaped as docs/control-protocol.md says)
 * -> the text an admin sees, with the clock injected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../nodectl/cmd.h"
#include "macro.h"

/* 2024-05-01T12:00:03Z */
#define NOW 1714564803
/* Two versions of an image (issue 16's "behind"). */
#define ID_OLD "0b1d0b1d0b1d0b1d0b1d0b1d0b1d0b1d0b1d0b1d0b1d0b1d0b1d0b1d0b1d0b1d"
#define ID_NEW "5e75e75e75e75e75e75e75e75e75e75e75e75e75e75e75e75e75e75e75e75e75e"

static const struct {
	int line;
	cmd_print_fn print;
	const char *result;
	int want_r;
	const char *want; /* output, or a substring of the error */
} vectors[] = {
	{ __LINE__, cmd_node_list_print,
	  "{\"nodes\":[{\"name\":\"n01\",\"mac\":\"52:54:00:00:00:01\",\"ip\":\"10.0.0.1\","
	  "\"uuid\":null,\"serial\":null,\"bmc\":null,\"image\":\"compute\",\"image_id\":\"3f2a\","
	  "\"phase\":\"up\",\"reason\":null,\"phase_at\":1714564503},"
	  "{\"name\":\"n02\",\"mac\":\"52:54:00:00:00:02\",\"ip\":null,\"image\":null,"
	  "\"phase\":\"failed\",\"reason\":\"no image assigned\",\"phase_at\":1714560000}]}",
	  0,
	  "NAME  MAC                IP        IMAGE    POWER  PHASE   STATE  AGE  REASON\n"
	  "n01   52:54:00:00:00:01  10.0.0.1  compute  -      up      -       5m  -\n"
	  "n02   52:54:00:00:00:02  -         -        -      failed  -      80m  no image assigned\n" },
	/* The controller's view: a pinned version shown as name@id12, a hold with its
	 * reason, a boot's attempt count, a failure's last error when the phase has none. */
	{ __LINE__, cmd_node_list_print,
	  "{\"nodes\":[{\"name\":\"n01\",\"mac\":\"52:54:00:00:00:01\",\"ip\":\"\","
	  "\"image\":\"compute\","
	  "\"image_pin\":\"3f2a9c0d11e2ffffffffffffffffffffffffffffffffffffffffffffffffffff\","
	  "\"phase\":\"pxe\",\"reason\":\"\",\"phase_at\":1714564800,"
	  "\"power\":\"on\",\"op\":\"booting\",\"attempts\":2,\"hold\":false},"
	  "{\"name\":\"n02\",\"mac\":\"52:54:00:00:00:02\",\"image\":\"compute\",\"phase\":\"off\","
	  "\"reason\":\"\",\"phase_at\":1714564000,\"power\":\"off\",\"op\":\"\",\"attempts\":0,"
	  "\"hold\":true,\"hold_reason\":\"rack 3 maintenance\"},"
	  "{\"name\":\"n03\",\"mac\":\"52:54:00:00:00:03\",\"image\":\"compute\","
	  "\"phase\":\"powering-on\",\"reason\":\"\",\"phase_at\":1714564000,\"power\":\"\","
	  "\"op\":\"failed\",\"attempts\":3,\"hold\":false,"
	  "\"last_error\":\"timed out in phase powering-on after 3 attempts\"}]}",
	  0,
	  "NAME  MAC                IP  IMAGE                 POWER  PHASE        STATE       AGE  "
	  "REASON\n"
	  "n01   52:54:00:00:00:01  -   compute@3f2a9c0d11e2  on     pxe          booting(2)   3s  -\n"
	  "n02   52:54:00:00:00:02  -   compute               off    off          hold        13m  "
	  "rack 3 maintenance\n"
	  "n03   52:54:00:00:00:03  -   compute               -      powering-on  failed      13m  "
	  "timed out in phase powering-on after 3 attempts\n" },
	/* An admin's drain: STATE drain and its reason; a hold outranks it; a drained node's
	 * boot still shows the drain (it is what an admin must know first). */
	{ __LINE__, cmd_node_list_print,
	  "{\"nodes\":[{\"name\":\"n01\",\"mac\":\"52:54:00:00:00:01\",\"image\":\"tiny\","
	  "\"phase\":\"up\",\"reason\":\"\",\"phase_at\":1714564800,\"power\":\"on\",\"op\":\"\","
	  "\"hold\":false,\"drain\":true,\"drain_reason\":\"bad DIMM\",\"drained\":true},"
	  "{\"name\":\"n02\",\"mac\":\"52:54:00:00:00:02\",\"image\":\"tiny\",\"phase\":\"off\","
	  "\"reason\":\"\",\"phase_at\":1714564800,\"power\":\"off\",\"op\":\"\",\"hold\":true,"
	  "\"hold_reason\":\"rack 3\",\"drain\":true,\"drain_reason\":\"bad DIMM\"},"
	  "{\"name\":\"n03\",\"mac\":\"52:54:00:00:00:03\",\"image\":\"tiny\",\"phase\":\"pxe\","
	  "\"reason\":\"\",\"phase_at\":1714564800,\"power\":\"on\",\"op\":\"booting\","
	  "\"attempts\":1,\"hold\":false,\"drain\":true,\"drain_reason\":\"fan\"}]}",
	  0,
	  "NAME  MAC                IP  IMAGE  POWER  PHASE  STATE  AGE  REASON\n"
	  "n01   52:54:00:00:00:01  -   tiny   on     up     drain   3s  bad DIMM\n"
	  "n02   52:54:00:00:00:02  -   tiny   off    off    hold    3s  rack 3\n"
	  "n03   52:54:00:00:00:03  -   tiny   on     pxe    drain   3s  fan\n" },
	/* issue 16: n01 up on the version before its image's current one is behind (the
	 * version it runs shown); n02 up on the current one, n03 off on an old one (it boots
	 * the current at its next boot, so not behind) and n04 never served are not. */
	{ __LINE__, cmd_node_list_print,
	  "{\"nodes\":[{\"name\":\"n01\",\"mac\":\"52:54:00:00:00:01\",\"image\":\"tiny\","
	  "\"image_id\":\"" ID_NEW "\",\"served_image\":\"" ID_OLD "\",\"phase\":\"up\","
	  "\"phase_at\":1714564800},"
	  "{\"name\":\"n02\",\"mac\":\"52:54:00:00:00:02\",\"image\":\"tiny\","
	  "\"image_id\":\"" ID_NEW "\",\"served_image\":\"" ID_NEW "\",\"phase\":\"up\","
	  "\"phase_at\":1714564800},"
	  "{\"name\":\"n03\",\"mac\":\"52:54:00:00:00:03\",\"image\":\"tiny\","
	  "\"image_id\":\"" ID_NEW "\",\"served_image\":\"" ID_OLD "\",\"phase\":\"off\","
	  "\"phase_at\":1714564800},"
	  "{\"name\":\"n04\",\"mac\":\"52:54:00:00:00:04\",\"image\":\"tiny\","
	  "\"image_id\":\"" ID_NEW "\",\"served_image\":\"\",\"booted_image\":\"" ID_OLD "\","
	  "\"phase\":\"loading\",\"phase_at\":1714564800}]}",
	  0,
	  "NAME  MAC                IP  IMAGE                       POWER  PHASE    STATE  AGE  REASON\n"
	  "n01   52:54:00:00:00:01  -   tiny@0b1d0b1d0b1d (behind)  -      up       -       3s  -\n"
	  "n02   52:54:00:00:00:02  -   tiny                        -      up       -       3s  -\n"
	  "n03   52:54:00:00:00:03  -   tiny                        -      off      -       3s  -\n"
	  "n04   52:54:00:00:00:04  -   tiny@0b1d0b1d0b1d (behind)  -      loading  -       3s  -\n" },
	{ __LINE__, cmd_node_show_print,
	  "{\"node\":{\"name\":\"n01\",\"image\":\"tiny\",\"image_id\":\"" ID_NEW "\","
	  "\"served_image\":\"" ID_OLD "\",\"phase\":\"up\"}}",
	  0,
	  "name:         n01\n"
	  "mac:          -\n"
	  "ip:           -\n"
	  "uuid:         -\n"
	  "serial:       -\n"
	  "bmc:          -\n"
	  "image:        tiny\n"
	  "image_id:     " ID_NEW "\n"
	  "version:      runs 0b1d0b1d0b1d, current 5e75e75e75e7 (behind: the next boot "
	  "takes the current)\n"
	  "phase:        up\n"
	  "reason:       -\n"
	  "phase_at:     -\n"
	  "want_power:   -\n"
	  "power:        -\n"
	  "op:           -\n"
	  "attempts:     -\n"
	  "bmc_state:    -\n"
	  "last_error:   -\n"
	  "hold:         -\n"
	  "hold_reason:  -\n"
	  "drain:        -\n"
	  "drain_reason: -\n"
	  "booted_image: -\n"
	  "served_image: " ID_OLD "\n" },
	{ __LINE__, cmd_node_show_print,
	  "{\"node\":{\"name\":\"n01\",\"image\":\"tiny\",\"image_id\":\"" ID_NEW "\","
	  "\"served_image\":\"" ID_NEW "\",\"phase\":\"up\"}}",
	  0,
	  "name:         n01\n"
	  "mac:          -\n"
	  "ip:           -\n"
	  "uuid:         -\n"
	  "serial:       -\n"
	  "bmc:          -\n"
	  "image:        tiny\n"
	  "image_id:     " ID_NEW "\n"
	  "version:      runs 5e75e75e75e7 (current)\n"
	  "phase:        up\n"
	  "reason:       -\n"
	  "phase_at:     -\n"
	  "want_power:   -\n"
	  "power:        -\n"
	  "op:           -\n"
	  "attempts:     -\n"
	  "bmc_state:    -\n"
	  "last_error:   -\n"
	  "hold:         -\n"
	  "hold_reason:  -\n"
	  "drain:        -\n"
	  "drain_reason: -\n"
	  "booted_image: -\n"
	  "served_image: " ID_NEW "\n" },
	/* A mixed fleet (issue 17): the BMC column, once some node has a BMC, shows each
	 * address with its scheme, a bare one as stored (bmc_protocol decides it). */
	{ __LINE__, cmd_node_list_print,
	  "{\"nodes\":[{\"name\":\"n01\",\"mac\":\"52:54:00:00:00:01\",\"ip\":\"\","
	  "\"bmc\":\"redfish://10.0.9.1\",\"image\":\"\",\"phase\":\"off\",\"reason\":\"\","
	  "\"phase_at\":0,\"bmc_state\":\"unreachable\"},"
	  "{\"name\":\"n02\",\"mac\":\"52:54:00:00:00:02\",\"ip\":\"\",\"bmc\":\"10.0.9.2\","
	  "\"image\":\"\",\"phase\":\"off\",\"reason\":\"\",\"phase_at\":0},"
	  "{\"name\":\"n03\",\"mac\":\"52:54:00:00:00:03\",\"ip\":\"\",\"bmc\":\"\","
	  "\"image\":\"\",\"phase\":\"off\",\"reason\":\"\",\"phase_at\":0}]}", 0,
	  "NAME  MAC                IP  BMC                 IMAGE  POWER  PHASE  STATE            AGE  "
	  "REASON\n"
	  "n01   52:54:00:00:00:01  -   redfish://10.0.9.1  -      -      off    bmc-unreachable    -  -\n"
	  "n02   52:54:00:00:00:02  -   10.0.9.2            -      -      off    -                  -  -\n"
	  "n03   52:54:00:00:00:03  -   -                   -      -      off    -                  -  -\n" },
	/* What bootsvc sends for a node that never reported: "" fields, phase_at 0. */
	{ __LINE__, cmd_node_list_print,
	  "{\"nodes\":[{\"name\":\"n03\",\"mac\":\"52:54:00:00:00:03\",\"ip\":\"\","
	  "\"image\":\"\",\"phase\":\"new\",\"reason\":\"\",\"phase_at\":0}]}", 0,
	  "NAME  MAC                IP  IMAGE  POWER  PHASE  STATE  AGE  REASON\n"
	  "n03   52:54:00:00:00:03  -   -      -      new    -        -  -\n" },
	{ __LINE__, cmd_node_set_print,
	  "{\"updated\":[\"n01\",\"n02\"],\"image_id\":\"3f2a9c0d11e2aaaa\"}", 0,
	  "updated 2 nodes: n[01-02] (image 3f2a9c0d11e2)\n" },
	{ __LINE__, cmd_node_list_print, "{\"nodes\":[]}", 0,
	  "NAME  MAC  IP  IMAGE  POWER  PHASE  STATE  AGE  REASON\n" },
	{ __LINE__, cmd_node_list_print, "{}", -EPROTO, "no 'nodes' list" },
	{ __LINE__, cmd_node_list_print, "{\"nodes\":[1]}", -EPROTO, "node 0 is not an object" },
	{ __LINE__, cmd_node_show_print,
	  "{\"node\":{\"name\":\"n01\",\"mac\":\"52:54:00:00:00:01\",\"phase\":\"up\","
	  "\"phase_at\":1714564503,\"rack\":\"r1\",\"history\":["
	  "{\"phase\":\"pxe\",\"reason\":null,\"at\":1714564403},"
	  "{\"phase\":\"up\",\"reason\":null,\"at\":1714564503}]}}",
	  0,
	  "name:         n01\n"
	  "mac:          52:54:00:00:00:01\n"
	  "ip:           -\n"
	  "uuid:         -\n"
	  "serial:       -\n"
	  "bmc:          -\n"
	  "image:        -\n"
	  "image_id:     -\n"
	  "phase:        up\n"
	  "reason:       -\n"
	  "phase_at:     2024-05-01T11:55:03Z (5m ago)\n"
	  "want_power:   -\n"
	  "power:        -\n"
	  "op:           -\n"
	  "attempts:     -\n"
	  "bmc_state:    -\n"
	  "last_error:   -\n"
	  "hold:         -\n"
	  "hold_reason:  -\n"
	  "drain:        -\n"
	  "drain_reason: -\n"
	  "booted_image: -\n"
	  "rack:         r1\n"
	  "\n"
	  "history:\n"
	  "PHASE  AT                    AGE  REASON\n"
	  "pxe    2024-05-01T11:53:23Z   6m  -\n"
	  "up     2024-05-01T11:55:03Z   5m  -\n" },
	/* an iscsi node's disk (issue 14): never a secret, its sizes and target */
	{ __LINE__, cmd_node_show_print,
	  "{\"node\":{\"name\":\"n01\",\"persistent_disk\":true,\"disk\":{"
	  "\"image_id\":\"5555\",\"path\":\"/d/n01.img\",\"method\":\"reflink\","
	  "\"apparent_bytes\":17179869184,\"allocated_bytes\":1048576,\"persistent\":true,"
	  "\"state\":\"ready\",\"reason\":\"\",\"tid\":3,"
	  "\"target\":\"iqn.2026-12.local.diskless:n01\",\"made_at\":1714564503,"
	  "\"make_ms\":12,\"reset\":false}}}",
	  0,
	  "name:            n01\n"
	  "mac:             -\n"
	  "ip:              -\n"
	  "uuid:            -\n"
	  "serial:          -\n"
	  "bmc:             -\n"
	  "image:           -\n"
	  "image_id:        -\n"
	  "phase:           -\n"
	  "reason:          -\n"
	  "phase_at:        -\n"
	  "want_power:      -\n"
	  "power:           -\n"
	  "op:              -\n"
	  "attempts:        -\n"
	  "bmc_state:       -\n"
	  "last_error:      -\n"
	  "hold:            -\n"
	  "hold_reason:     -\n"
	  "drain:           -\n"
	  "drain_reason:    -\n"
	  "booted_image:    -\n"
	  "persistent_disk: yes\n"
	  "\n"
	  "disk:\n"
	  "state:      ready\n"
	  "reason:     -\n"
	  "image_id:   5555\n"
	  "method:     reflink\n"
	  "size:       16G apparent, 1.0M allocated\n"
	  "persistent: yes\n"
	  "target:     iqn.2026-12.local.diskless:n01 (tid 3)\n"
	  "made_at:    2024-05-01T11:55:03Z\n"
	  "make_ms:    12\n"
	  "reset:      no\n"
	  "path:       /d/n01.img\n" },
	{ __LINE__, cmd_node_reset_disk_print,
	  "{\"reset\":[\"n01\",\"n02\"],\"no_disk\":[\"n03\"]}", 0,
	  "disk reset (a fresh clone at the next boot) for 2 nodes: n[01-02]\n"
	  "no disk to reset on 1 node: n03\n" },
	{ __LINE__, cmd_node_show_print, "{\"node\":{\"history\":{}}}", -EPROTO,
	  "history is not a list" },
	{ __LINE__, cmd_node_add_print, "{\"added\":[\"n01\",\"n02\",\"n03\",\"n04\"]}", 0,
	  "added 4 nodes: n[01-04]\n" },
	{ __LINE__, cmd_node_remove_print, "{\"removed\":[]}", 0, "removed no nodes\n" },
	{ __LINE__, cmd_node_set_print, "{\"updated\":[\"n01\",7]}", -EPROTO, "non-string" },
	/* host list and vm list (issue 12): used/total, the lost host's reason, uptime */
	{ __LINE__, cmd_host_list_print,
	  "{\"hosts\":[{\"node\":\"hv1\",\"hypervisor\":\"QEMU\",\"cpus\":8,\"cpus_used\":3,"
	  "\"memory_mib\":16384,\"memory_used_mib\":768,\"vms\":3,\"state\":\"connected\","
	  "\"state_reason\":\"\",\"health\":\"ok\",\"health_reasons\":\"\",\"temp_c\":71.6,\"drain\":true,"
	  "\"drain_reason\":\"admin: fan swap\"},"
	  "{\"node\":\"hv2\",\"hypervisor\":\"Xen\",\"cpus\":4,\"cpus_used\":0,"
	  "\"memory_mib\":8192,\"memory_used_mib\":0,\"vms\":0,\"state\":\"lost\","
	  "\"state_reason\":\"connection to libvirtd closed\",\"health\":\"risky\","
	  "\"health_reasons\":\"libvirt unreachable\"}]}",
	  0,
	  "NODE  TYPE  CPUS  MEMORY_MIB  VMS  STATE            HEALTH  TEMP_C  REASON\n"
	  "hv1   QEMU   3/8   768/16384    3  connected+drain  ok          72  admin: fan swap\n"
	  "hv2   Xen    0/4      0/8192    0  lost             risky        -  connection to libvirtd closed\n" },
	{ __LINE__, cmd_host_list_print, "{\"vms\":[]}", -EPROTO, "no 'hosts' list" },
	{ __LINE__, cmd_vm_list_print,
	  "{\"vms\":[{\"name\":\"g1\",\"host\":\"hv1\",\"state\":\"running\",\"vcpus\":2,"
	  "\"memory_mib\":512,\"running_since\":1714564503},"
	  "{\"name\":\"g2\",\"host\":\"hv1\",\"state\":\"shutoff\",\"vcpus\":1,"
	  "\"memory_mib\":128,\"running_since\":0}]}",
	  0,
	  "NAME  HOST  STATE    VCPUS  MEMORY_MIB  UPTIME\n"
	  "g1    hv1   running      2         512      5m\n"
	  "g2    hv1   shutoff      1         128       -\n" },
	{ __LINE__, cmd_vm_list_print, "{\"vms\":[7]}", -EPROTO, "vm 0 is not an object" },
	{ __LINE__, cmd_image_list_print,
	  "{\"images\":[{\"id\":\"3f2a9c0d11e2ffffffffffffffffffffffffffffffffffffffffffffffffffff\","
	  "\"name\":\"compute\",\"kind\":\"linux\",\"kernel_version\":\"6.1.0-18-amd64\","
	  "\"built\":1714564803,\"size\":734003200,\"current\":true,\"here\":\"syncing\"}]}",
	  0,
	  "NAME     ID            KIND   KERNEL          BUILT                 SIZE  CURRENT  HERE\n"
	  "compute  3f2a9c0d11e2  linux  6.1.0-18-amd64  2024-05-01T12:00:03Z  700M  yes      syncing\n" },
	{ __LINE__, cmd_image_sync_print,
	  "{\"synced\":[{\"id\":\"3f2a9c0d11e2ffff\",\"name\":\"compute\",\"result\":\"synced\","
	  "\"peer\":\"http://10.0.0.2:8080\",\"bytes\":3145728,\"kept\":1048576,\"refetched\":0,"
	  "\"ms\":1500},{\"id\":\"aa\",\"name\":\"tiny\",\"result\":\"present\",\"bytes\":0,"
	  "\"kept\":0,\"refetched\":0,\"ms\":0}]}", 0,
	  "synced compute@3f2a9c0d11e2 from http://10.0.0.2:8080: 3.0M fetched, 1.0M kept from "
	  "before in 1.5 s\n"
	  "present tiny@aa: its files are here already\n" },
	{ __LINE__, cmd_image_sync_print, "{\"synced\":[]}", 0, "every version is here already\n" },
	{ __LINE__, cmd_image_sync_print, "{}", -EPROTO, "no 'synced' list" },
	{ __LINE__, cmd_image_show_print,
	  "{\"image\":{\"id\":\"3f2a\",\"name\":\"compute\",\"size\":2048,\"current\":false}}", 0,
	  "name:           compute\n"
	  "id:             3f2a\n"
	  "kind:           -\n"
	  "kernel_version: -\n"
	  "built:          -\n"
	  "size:           2048 (2.0K)\n"
	  "current:        no\n"
	  "here:           -\n" },
	{ __LINE__, cmd_image_remove_print, "{\"removed\":\"3f2a\"}", 0, "removed image 3f2a\n" },
	{ __LINE__, cmd_ping_print, "{\"version\":\"0.1\"}", 0, "bootsvc 0.1 is answering\n" },
	{ __LINE__, cmd_ping_print, "{}", -EPROTO, "no 'version'" },

	/* The controller's verbs (bootsvc/verbs_ctrl.c result shapes). */
	{ __LINE__, cmd_provision_print,
	  "{\"nodes\":[\"n01\",\"n02\"],\"image\":\"compute\","
	  "\"image_id\":\"3f2a9c0d11e2aaaa\",\"seq\":41}", 0,
	  "provisioning compute on 2 nodes: n[01-02] (image 3f2a9c0d11e2)\n" },
	{ __LINE__, cmd_provision_print, "{\"nodes\":[]}", -EPROTO, "no 'image'" },
	{ __LINE__, cmd_power_print, "{\"nodes\":[\"n01\",\"n02\"],\"want\":\"off\"}", 0,
	  "desired power off for 2 nodes: n[01-02]\n" },
	/* cycle/reset/status: sorted by name, an error instead of a state; exit 1. */
	{ __LINE__, cmd_power_print,
	  "{\"nodes\":[{\"name\":\"n02\",\"error\":\"ETIMEDOUT\",\"message\":\"BMC 'b2': "
	  "no answer\"},{\"name\":\"n01\",\"power\":\"on\"},{\"name\":\"n03\",\"power\":\"ok\"}]}",
	  CMD_PRINT_PARTIAL,
	  "NAME  POWER  ERROR\n"
	  "n01   on     -\n"
	  "n02   -      ETIMEDOUT: BMC 'b2': no answer\n"
	  "n03   ok     -\n" },
	{ __LINE__, cmd_power_print, "{\"nodes\":[{\"name\":\"n01\",\"power\":\"off\"}]}", 0,
	  "NAME  POWER  ERROR\n"
	  "n01   off    -\n" },
	{ __LINE__, cmd_power_print, "{\"nodes\":[3]}", -EPROTO, "node 0 is not an object" },
	{ __LINE__, cmd_hold_print, "{\"nodes\":[\"n01\"]}", 0, "held 1 node: n01\n" },
	{ __LINE__, cmd_release_print, "{\"nodes\":[\"n01\",\"n02\",\"n03\"]}", 0,
	  "released 3 nodes: n[01-03]\n" },
	{ __LINE__, cmd_drain_print, "{\"nodes\":[\"n01\",\"n02\"]}", 0,
	  "drained 2 nodes: n[01-02]\n" },
	{ __LINE__, cmd_undrain_print, "{\"nodes\":[\"n01\"]}", 0, "undrained 1 node: n01\n" },
	/* expect: the hint, then every live hint with its deadline */
	{ __LINE__, cmd_expect_print,
	  "{\"image\":\"compute\",\"count\":16,\"hints\":[{\"image\":\"compute\","
	  "\"count\":16,\"until\":1714565103},{\"image\":\"tiny\",\"count\":2,"
	  "\"until\":1714564833}]}", 0,
	  "expecting 16 nodes on compute\n"
	  "IMAGE    COUNT  UNTIL\n"
	  "compute  16     2024-05-01T12:05:03Z\n"
	  "tiny     2      2024-05-01T12:00:33Z\n" },
	{ __LINE__, cmd_expect_print, "{\"image\":\"compute\",\"count\":0,\"hints\":[]}", 0,
	  "hint for compute withdrawn\n" },
	{ __LINE__, cmd_expect_print, "{\"image\":\"compute\"}", -EPROTO, "lacks image" },
	/* energy: nodes, then images, then the total, kWh right-aligned */
	{ __LINE__, cmd_energy_print,
	  "{\"nodes\":[{\"name\":\"n01\",\"on_kwh\":1.25,\"off_kwh\":0.0125,"
	  "\"saved_kwh\":0.5,\"source\":\"bmc\"},{\"name\":\"n02\",\"on_kwh\":12.5,"
	  "\"off_kwh\":0,\"saved_kwh\":0,\"source\":\"model\"}],"
	  "\"images\":[{\"image\":\"compute\",\"on_kwh\":13.75,\"off_kwh\":0.0125,"
	  "\"saved_kwh\":0.5}],"
	  "\"total\":{\"name\":\"total\",\"on_kwh\":13.75,\"off_kwh\":0.0125,"
	  "\"saved_kwh\":0.5}}", 0,
	  "NAME           ON_KWH  OFF_KWH  SAVED_KWH  SOURCE\n"
	  "n01             1.250    0.013      0.500  bmc\n"
	  "n02            12.500    0.000      0.000  model\n"
	  "image:compute  13.750    0.013      0.500  -\n"
	  "total          13.750    0.013      0.500  -\n" },
	{ __LINE__, cmd_energy_print, "{\"nodes\":[{\"name\":\"n01\"}],\"images\":[],"
	  "\"total\":{}}", -EPROTO, "energy entry 'n01' has no 'on_kwh'" },
	{ __LINE__, cmd_energy_print, "{\"nodes\":[]}", -EPROTO, "lacks nodes, images or total" },
};

static void
test_print(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(vectors); i++) {
		json_t *result = json_loads(vectors[i].result, JSON_REJECT_DUPLICATES, NULL);
		struct dl_err err = { 0 };
		char *buf = NULL;
		size_t size = 0;
		FILE *f = open_memstream(&buf, &size);
		int r, line = vectors[i].line;

		_assert_true(result != NULL, "vector is JSON", __FILE__, line);
		r = vectors[i].print(f, result, NOW, &err);
		(void)fclose(f);
		if (r != vectors[i].want_r)
			print_error("%s:%d: r=%d err='%s'\n", __FILE__, line, r, err.msg);
		_assert_int_equal(r, vectors[i].want_r, __FILE__, line);
		if (r >= 0) {
			if (!streq(buf, vectors[i].want))
				print_error("%s:%d: got\n%s---\nwant\n%s---\n", __FILE__, line, buf,
				    vectors[i].want);
			_assert_true(streq(buf, vectors[i].want), "output", __FILE__, line);
		} else {
			_assert_true(strstr(err.msg, vectors[i].want) != NULL, "message", __FILE__,
			    line);
		}
		free(buf);
		json_decref(result);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_print),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
