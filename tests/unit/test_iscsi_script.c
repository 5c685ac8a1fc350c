/* SPDX-License-Identifier: MIT */
/* The iSCSI kind's script (ipxe-scripts/iscsi.ipxe, issue 14) rendered as bootsvc renders
 * it for one node, for a Linux disk and for a Windows one (Windows media cannot be had
 * here, so this is where its script is checked: docs/windows.md), the names of a node's
 * target and initiator (bootsvc/iscsi/tgt_name.c), and how a node's login is told apart
 * from another's among tgtd's sessions. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kind.h"
#include "template.h"
#include "../../bootsvc/boot/script_vars.h"
#include "../../bootsvc/boot/templates.h"
#include "../../bootsvc/iscsi/tgt.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DSHA "4444444444444444444444444444444444444444444444444444444444444444"
#define SRV "http://10.77.0.1:8080"
#define PFX "iqn.2026-12.local.diskless"

/* Render iscsi.ipxe for node w01 of an image named name; *out is the caller's. */
static void
render(const char *name, const char *mutual_user, const char *mutual_secret, char **out)
{
	const struct kind *k = kind_find("iscsi");
	struct image_rec img = { .id = ID, .kind = "iscsi" };
	char target[MAX_ISCSI_NAME], initiator[MAX_ISCSI_NAME];
	struct templates t = { 0 };
	struct script_vars v = { 0 };
	struct dl_err e = { 0 };
	const struct tmpl *tp;
	size_t len = 0;

	(void)snprintf(img.name, sizeof(img.name), "%s", name);
	if (access("ipxe-scripts/iscsi.ipxe", R_OK) < 0)
		fail_msg("ipxe-scripts/iscsi.ipxe not found: run from the repository root");
	assert_int_equal(templates_load(&t, "ipxe-scripts", &e), 0);
	assert_int_equal(image_rec_file_set(&img, "disk", DSHA, 42949672960ULL), 0);
	assert_int_equal(tgt_target_name(PFX, "w01", target, sizeof(target)), 0);
	assert_int_equal(tgt_initiator_name(PFX, "w01", initiator, sizeof(initiator)), 0);
	script_vars_node(&v, SRV, "w01", 5000);
	script_vars_image(&v, k, &img);
	script_vars_san(&v, target, initiator, "10.77.0.1", 3260, "w01", "s3cr3t-0123456789",
	    mutual_user, mutual_secret);
	tp = templates_kind(&t, k);
	assert_non_null(tp);
	assert_int_equal(template_render(tp->text, tp->len, script_vars_lookup, &v, out, &len,
	    &e), 0);
	templates_done(&t);
}

/* Does s have the line l (whole)? */
static bool
has_line(const char *s, const char *l)
{
	size_t n = strlen(l);

	for (const char *p = s; (p = strstr(p, l)); p += n)
		if ((p == s || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

static void
test_windows_script(void **state)
{
	char *out = NULL;
	const char *sanboot = "sanboot iscsi:10.77.0.1::3260:1:" PFX ":w01";

	(void)state;
	render("win2022", "w01-target", "m0tu4l-0123456789", &out);
	/* What Windows' boot needs of iPXE (docs/windows.md): the disk stays attached after
	 * the loader returns, the initiator name and CHAP that go into the iBFT, the target
	 * and LUN 1 (LUN 0 is tgt's controller) on the portal. */
	assert_true(out[0] == '#' && strncmp(out, "#!ipxe\n", 7) == 0);
	assert_true(has_line(out, "set keep-san 1"));
	assert_true(has_line(out, "set initiator-iqn " PFX ":w01.initiator"));
	assert_true(has_line(out, "set username w01"));
	assert_true(has_line(out, "set password s3cr3t-0123456789"));
	assert_true(has_line(out, "set reverse-username w01-target"));
	assert_true(has_line(out, "set reverse-password m0tu4l-0123456789"));
	/* three tries, then the failure reported with iPXE's error, then the node asks again,
	 * and when bootsvc cannot be reached it goes back to the start script's walk */
	assert_true(has_line(out, "sanboot iscsi:10.77.0.1::3260:1:" PFX ":w01 || goto retry1"));
	assert_true(has_line(out, "sanboot iscsi:10.77.0.1::3260:1:" PFX ":w01 || goto retry2"));
	assert_true(has_line(out, "sanboot iscsi:10.77.0.1::3260:1:" PFX ":w01 || goto failed"));
	assert_non_null(strstr(out, "imgfetch " SRV "/ipxe/failed?mac=${mac}&what=sanboot&errno=${errno}"));
	assert_true(has_line(out, "chain --replace " SRV "/ipxe/boot?mac=${mac}&uuid=${uuid}&serial=${serial:uristring} || exit 1"));
	assert_non_null(strstr(out, "win2022@0123456789ab"));
	/* no template marker left, nothing of the disk's hash (never served) */
	assert_null(strstr(out, "{{"));
	assert_null(strstr(out, DSHA));
	{
		size_t n = 0;
		for (const char *p = out; (p = strstr(p, sanboot)); p++)
			n++;
		assert_int_equal(n, 3);
	}
	free(out);
}

static void
test_no_mutual(void **state)
{
	char *out = NULL;

	(void)state;
	/* iscsi_mutual_chap off: the reverse settings are cleared, not left from before */
	render("disk-debian", "", "", &out);
	assert_true(has_line(out, "set reverse-username "));
	assert_true(has_line(out, "set reverse-password "));
	free(out);
}

static void
test_names(void **state)
{
	char buf[MAX_ISCSI_NAME], small[16];
	char node[64];

	(void)state;
	assert_int_equal(tgt_target_name(PFX, "n01", buf, sizeof(buf)), 0);
	assert_string_equal(buf, PFX ":n01");
	assert_int_equal(tgt_initiator_name(PFX, "n01", buf, sizeof(buf)), 0);
	assert_string_equal(buf, PFX ":n01.initiator");
	assert_int_equal(tgt_target_name(PFX, "n01", small, sizeof(small)), -ENAMETOOLONG);
	assert_int_equal(tgt_initiator_name(PFX, "n01", small, sizeof(small)), -ENAMETOOLONG);
	/* the longest prefix and node name fit an iSCSI name (223 bytes) */
	memset(node, 'a', 63);
	node[63] = '\0';
	{
		char pfx[MAX_ISCSI_IQN_PREFIX];
		memset(pfx, 'b', sizeof(pfx) - 1);
		pfx[sizeof(pfx) - 1] = '\0';
		assert_int_equal(tgt_initiator_name(pfx, node, buf, sizeof(buf)), 0);
		assert_true(strlen(buf) <= 223);
	}
}

static void
test_session_find(void **state)
{
	const struct tgt_session s[] = {
		{ 1, PFX ":n01.initiator", "10.77.0.10" },
		{ 2, PFX ":n02.initiator", "10.77.0.99" }, /* n02's name from another address */
		{ 3, "iqn.1991-05.com.microsoft:win", "10.77.0.12" },
	};

	(void)state;
	assert_true(tgt_session_find(s, 3, PFX ":n01.initiator", "10.77.0.10"));
	assert_false(tgt_session_find(s, 3, PFX ":n02.initiator", "10.77.0.11"));
	assert_false(tgt_session_find(s, 3, PFX ":n01.initiator", "10.77.0.1"));
	assert_false(tgt_session_find(s, 3, PFX ":n0", "10.77.0.10")); /* whole names */
	assert_false(tgt_session_find(s, 0, PFX ":n01.initiator", "10.77.0.10"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_windows_script),
		cmocka_unit_test(test_no_mutual),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_session_find),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
