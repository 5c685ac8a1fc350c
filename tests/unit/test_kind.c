/* SPDX-License-Identifier: MIT */
/* lib/kind.c, the kind table (issue #10), and what reads it at start-up: templates_load
 * loads each kind's iPXE script (a kind without one stops bootsvc) and the linux script
 * renders from the kind's roles byte for byte as it did when linux was hard-wired. The
 * linux row's expectations are docs/boot-protocol.md's. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "kind.h"
#include "template.h"
#include "../../bootsvc/boot/nodes.h"
#include "../../bootsvc/boot/script_vars.h"
#include "../../bootsvc/boot/templates.h"

/* A name that is safe as one path component. */
static bool
file_name_is_safe(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < 64 && !streq(s, ".") && !streq(s, "..") &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* Every row: a unique valid name, a template name, roles with unique valid names and
 * unique safe file names (none the version directory's own manifest.json or templates/),
 * phases bootsvc knows in boot order with a reporter each, a receipt over its roles. */
static void
test_table(void **state)
{
	(void)state;
	assert_true(kind_count() >= 1);
	assert_true(kind_count() <= MAX_KINDS);
	assert_null(kind_at(kind_count()));
	for (size_t i = 0; i < kind_count(); i++) {
		const struct kind *k = kind_at(i);
		size_t n_roles = kind_n_roles(k), n_phases = 0;

		print_message("kind %s\n", k->name);
		assert_non_null(k->name);
		assert_true(strlen(k->name) > 0 && strlen(k->name) < MAX_KIND_NAME);
		assert_true(strspn(k->name, "abcdefghijklmnopqrstuvwxyz0123456789-") ==
		    strlen(k->name));
		assert_ptr_equal(kind_find(k->name), k);
		assert_int_equal(kind_index(k), i);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(kind_at(j)->name, k->name);
		/* every kind has a template, loaded from <template_dir>/<tmpl>.ipxe */
		assert_non_null(k->tmpl);
		assert_true(file_name_is_safe(k->tmpl));

		assert_true(n_roles >= 1);
		for (size_t r = 0; r < n_roles; r++) {
			const struct kind_role *role = &k->roles[r];

			assert_true(kind_role_name_is_valid(role->name));
			assert_non_null(role->file);
			assert_true(file_name_is_safe(role->file));
			assert_string_not_equal(role->file, "manifest.json");
			assert_string_not_equal(role->file, "templates");
			assert_int_equal(role->flags & ~(unsigned)(KIND_ROLE_REQUIRED | KIND_ROLE_SERVED), 0);
			assert_ptr_equal(kind_role(k, role->name), role);
			for (size_t q = 0; q < r; q++) {
				assert_string_not_equal(k->roles[q].name, role->name);
				assert_string_not_equal(k->roles[q].file, role->file);
			}
		}

		while (n_phases < MAX_KIND_PHASES && k->phases[n_phases].name)
			n_phases++;
		assert_true(n_phases >= 1);
		/* every boot ends up, reported by something on the node */
		assert_string_equal(k->phases[n_phases - 1].name, "up");
		for (size_t p = 0; p < n_phases; p++) {
			const struct kind_phase *ph = &k->phases[p];

			assert_true(phase_is_valid(ph->name));
			assert_true(phase_is_reportable(ph->name));
			assert_non_null(kind_reporter_to_string(ph->by));
			assert_ptr_equal(kind_phase(k, ph->name), ph);
			if (ph->by == KIND_BY_FETCH) {
				const struct kind_role *role = kind_role(k, ph->fetch_role);

				assert_non_null(role);
				assert_true(role->flags & KIND_ROLE_SERVED);
			} else {
				assert_null(ph->fetch_role);
			}
			for (size_t q = 0; q < p; q++)
				assert_string_not_equal(k->phases[q].name, ph->name);
		}

		/* a kind that runs nothing of ours (iscsi) has no receipt */
		assert_true(kind_n_receipt(k) >= 1 || kind_is_sanboot(k));
		for (size_t f = 0; f < kind_n_receipt(k); f++) {
			const struct kind_receipt *rc = &k->receipt[f];

			assert_non_null(kind_role(k, rc->role));
			assert_true(rc->measure >= 0 && rc->measure < _KIND_MEASURE_MAX);
			assert_int_equal(kind_receipt_index(k, rc->field), (int)f);
		}
	}
}

/* The linux row is what docs/boot-protocol.md describes. */
static void
test_linux(void **state)
{
	static const struct {
		const char *name, *file;
	} roles[] = { { "kernel", "vmlinuz" }, { "initrd", "initrd" }, { "rootfs", "rootfs.squashfs" } };
	const struct kind *k = kind_find("linux");
	char buf[128];

	(void)state;
	assert_non_null(k);
	assert_string_equal(k->tmpl, "linux");
	/* exactly kernel, initrd, rootfs; all required, all served */
	assert_int_equal(kind_n_roles(k), ELEMENTSOF(roles));
	for (size_t i = 0; i < ELEMENTSOF(roles); i++) {
		assert_string_equal(k->roles[i].name, roles[i].name);
		assert_string_equal(k->roles[i].file, roles[i].file);
		assert_int_equal(k->roles[i].flags, KIND_ROLE_REQUIRED | KIND_ROLE_SERVED);
	}
	kind_roles_describe(k, buf, sizeof(buf));
	assert_string_equal(buf, "exactly kernel, initrd and rootfs");

	/* pxe by bootsvc on the script, loading by bootsvc on the kernel fetch, imaging by
	 * our init, up by dl-report */
	assert_string_equal(k->phases[0].name, "pxe");
	assert_int_equal(k->phases[0].by, KIND_BY_SCRIPT);
	assert_string_equal(k->phases[1].name, "loading");
	assert_int_equal(k->phases[1].by, KIND_BY_FETCH);
	assert_string_equal(k->phases[1].fetch_role, "kernel");
	assert_string_equal(k->phases[2].name, "imaging");
	assert_int_equal(k->phases[2].by, KIND_BY_INIT);
	assert_string_equal(k->phases[3].name, "up");
	assert_int_equal(k->phases[3].by, KIND_BY_IMAGE);
	assert_null(k->phases[4].name);
	assert_string_equal(kind_script_phase(k), "pxe");
	assert_string_equal(kind_fetch_phase(k, "kernel"), "loading");
	assert_null(kind_fetch_phase(k, "initrd"));
	assert_null(kind_fetch_phase(k, "rootfs"));
	assert_null(kind_fetch_phase(k, NULL));
	assert_true(kind_passes_phase(k, "imaging"));
	assert_false(kind_passes_phase(k, "discovered"));
	assert_false(kind_passes_phase(k, "failed"));
	assert_null(kind_phase_prev(k, "pxe"));
	assert_string_equal(kind_phase_prev(k, "loading"), "pxe");
	assert_string_equal(kind_phase_next(k, "loading"), "imaging");
	assert_null(kind_phase_next(k, "up"));
	assert_null(kind_phase_next(k, "hold"));

	/* the receipt: rootfs by sha256, initrd by tree hash, kernel by banner; rootfs first */
	assert_int_equal(kind_n_receipt(k), 3);
	assert_string_equal(k->receipt[0].field, "rootfs");
	assert_int_equal(k->receipt[0].measure, KIND_MEASURE_SHA256);
	assert_string_equal(k->receipt[1].field, "initrd");
	assert_int_equal(k->receipt[1].measure, KIND_MEASURE_INITRD_TREE);
	assert_string_equal(k->receipt[2].field, "kernel");
	assert_int_equal(k->receipt[2].measure, KIND_MEASURE_KERNEL);
	assert_int_equal(kind_receipt_index(k, "disk"), -ENOENT);
	kind_receipt_describe(k, buf, sizeof(buf));
	assert_string_equal(buf, "kernel, initrd, rootfs");
}

/* A kind shaped like the iSCSI one to come (not in the table): a disk it sanboots, an
 * optional file, no init, so no imaging. The lookups work on any row. */
static const struct kind sanboot = {
	.name = "sanboot",
	.tmpl = "sanboot",
	.roles = {
		{ "disk", "disk.img", KIND_ROLE_REQUIRED },
		{ "config", "config.xml", KIND_ROLE_REQUIRED | KIND_ROLE_SERVED },
		{ "drivers", "drivers.iso", KIND_ROLE_SERVED },
	},
	.phases = {
		{ "pxe", KIND_BY_SCRIPT, NULL },
		{ "loading", KIND_BY_FETCH, "config" },
		{ "up", KIND_BY_IMAGE, NULL },
	},
	.receipt = { { "disk", "disk", KIND_MEASURE_SHA256 } },
};

static void
test_other_shapes(void **state)
{
	char buf[128], small[12];

	(void)state;
	assert_false(kind_passes_phase(&sanboot, "imaging"));
	assert_string_equal(kind_phase_next(&sanboot, "loading"), "up");
	assert_string_equal(kind_fetch_phase(&sanboot, "config"), "loading");
	kind_roles_describe(&sanboot, buf, sizeof(buf));
	assert_string_equal(buf, "disk and config, optionally drivers");
	kind_roles_describe(&sanboot, small, sizeof(small));
	assert_string_equal(small, "disk and co"); /* truncated, terminated */
	kind_receipt_describe(&sanboot, buf, sizeof(buf));
	assert_string_equal(buf, "disk");
}

static void
test_unknown_kind(void **state)
{
	const struct kind *k = &sanboot;
	struct dl_err e = { 0 };

	(void)state;
	assert_null(kind_find("foo"));
	assert_null(kind_find(""));
	assert_null(kind_find("Linux"));
	assert_null(kind_find(NULL));
	assert_int_equal(kind_lookup("foo", &k, &e), -EINVAL);
	assert_string_equal(e.msg, "unknown image kind 'foo'");
	assert_ptr_equal(k, &sanboot); /* untouched */
	/* a name from outside is quoted safely */
	assert_int_equal(kind_lookup("a\nlevel=err", &k, &e), -EINVAL);
	assert_null(strchr(e.msg, '\n'));
	assert_int_equal(kind_lookup("linux", &k, &e), 0);
	assert_ptr_equal(k, kind_find("linux"));
}

static void
test_role_names(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} v[] = {
		{ "kernel", true }, { "a", true }, { "root_fs2", true },
		{ "a23456789012345", true }, /* 15 */
		{ "a234567890123456", false }, /* 16 */
		{ "", false }, { NULL, false }, { "Kernel", false }, { "2nd", false },
		{ "_x", false }, { "root-fs", false }, { "a/b", false }, { "..", false },
		{ "rootfs.squashfs", false }, { "kernel ", false },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		if (kind_role_name_is_valid(v[i].s) != v[i].ok)
			print_error("'%s'\n", v[i].s ? v[i].s : "(null)");
		assert_int_equal(kind_role_name_is_valid(v[i].s), v[i].ok);
	}
	/* what an image URL may name: a role of some kind, as the table's own string */
	assert_ptr_equal(kind_any_role("kernel"), kind_role(kind_find("linux"), "kernel")->name);
	assert_null(kind_any_role("vmlinuz"));
	assert_null(kind_any_role("manifest.json"));
	assert_null(kind_any_role(""));
}

/* Write dir/name.ipxe with text. */
static void
write_file(const char *dir, const char *name, const char *ext, const char *text)
{
	char p[512];
	FILE *f;

	(void)snprintf(p, sizeof(p), "%s/%s.%s", dir, name, ext);
	f = fopen(p, "we");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void
write_tmpl(const char *dir, const char *name, const char *text)
{
	write_file(dir, name, "ipxe", text);
}

static void
rm_tmpl(const char *dir, const char *name)
{
	char p[512];

	(void)snprintf(p, sizeof(p), "%s/%s.ipxe", dir, name);
	(void)unlink(p);
}

/* Start-up: every fixed script and the script of every kind, or bootsvc does not start;
 * the error names the kind and the path. */
static void
test_templates_load(void **state)
{
	char dir[] = "/tmp/dl-test-kind.XXXXXX", want[600];
	struct templates t = { 0 };
	struct dl_err e = { 0 };

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (int i = 0; i < _TMPL_MAX; i++)
		write_tmpl(dir, templates_name((enum tmpl_id)i), "#!ipxe\necho {{server}}\n");

	/* no linux.ipxe */
	assert_int_equal(templates_load(&t, dir, &e), -ENOENT);
	(void)snprintf(want, sizeof(want),
	    "kind 'linux': template: '%s/linux.ipxe': No such file or directory", dir);
	assert_string_equal(e.msg, want);
	assert_null(t.fixed[TMPL_START].text); /* t untouched */

	/* a kind's script may use its roles' variables, and only the ones it gets */
	write_tmpl(dir, "linux", "#!ipxe\nkernel {{server}}/{{image_id}}/kernel "
	    "dl.rootfs={{rootfs_sha256}} {{rootfs_size}} {{kernel_size}} {{initrd_sha256}} "
	    "{{node}} {{poll}} {{image_name}}@{{image_short}} {{cmdline}}\n");
	/* no xen.ipxe */
	assert_int_equal(templates_load(&t, dir, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "kind 'xen'"));
	/* xen's script gets its hypervisor roles' variables too */
	write_tmpl(dir, "xen", "#!ipxe\nkernel {{server}}/{{image_id}}/hypervisor "
	    "{{hypervisor_cmdline}} {{hypervisor_sha256}} {{hypervisor_efi_size}}\n");
	/* no xen.cfg, xen.efi's configuration */
	assert_int_equal(templates_load(&t, dir, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "kind 'xen': template: "));
	assert_non_null(strstr(e.msg, "/xen.cfg'"));
	/* it gets what iPXE's own settings give the script, passed in the query */
	write_file(dir, "xen", "cfg", "options={{hypervisor_cmdline}}\nkernel=vmlinuz "
	    "dl.mac={{mac}} ip={{ip}}::{{gateway}}:{{netmask}}:{{node}}::off {{image_id}}\n");
	/* no iscsi.ipxe */
	assert_int_equal(templates_load(&t, dir, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "kind 'iscsi'"));
	/* a sanboot kind's script gets its target, initiator, portal and CHAP */
	write_tmpl(dir, "iscsi", "#!ipxe\nset initiator-iqn {{initiator_iqn}}\n"
	    "set username {{chap_user}}\nset password {{chap_secret}}\n"
	    "set reverse-username {{mutual_user}}\nset reverse-password {{mutual_secret}}\n"
	    "sanboot iscsi:{{portal}}::{{port}}:1:{{target_iqn}}\n");
	assert_int_equal(templates_load(&t, dir, &e), 0);
	assert_non_null(templates_kind_cfg(&t, kind_find("xen")));
	assert_null(templates_kind_cfg(&t, kind_find("linux")));
	/* ...but not a script variable that only the hold script has */
	write_file(dir, "xen", "cfg", "kernel=vmlinuz {{reason}}\n");
	assert_int_equal(templates_load(&t, dir, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "reason"));
	write_file(dir, "xen", "cfg", "kernel=vmlinuz\n");
	assert_int_equal(templates_load(&t, dir, &e), 0);
	/* the token is no script variable: a script never carries the credential */
	write_tmpl(dir, "linux", "#!ipxe\nkernel dl.token={{token}}\n");
	assert_int_equal(templates_load(&t, dir, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "token"));
	write_tmpl(dir, "linux", "#!ipxe\nkernel {{server}}/{{image_id}}/kernel\n");
	assert_int_equal(templates_load(&t, dir, &e), 0);
	assert_non_null(templates_kind(&t, kind_find("linux"))->text);
	assert_string_equal(templates_kind(&t, kind_find("linux"))->name, "linux");
	assert_string_equal(templates_fixed(&t, TMPL_HOLD)->name, "hold");
	write_tmpl(dir, "linux", "#!ipxe\nkernel {{server}}/{{disk_sha256}}\n");
	assert_int_equal(templates_load(&t, dir, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "kind 'linux': template '"));
	assert_non_null(strstr(e.msg, "disk_sha256"));
	assert_non_null(templates_kind(&t, kind_find("linux"))->text); /* kept the loaded */
	write_tmpl(dir, "linux", "#!ipxe\nkernel {{reason}}\n"); /* hold's, not a kind's */
	assert_int_equal(templates_load(&t, dir, &e), -EINVAL);

	/* a fixed script missing: named by its path */
	write_tmpl(dir, "linux", "#!ipxe\n");
	rm_tmpl(dir, "hold");
	assert_int_equal(templates_load(&t, dir, &e), -ENOENT);
	(void)snprintf(want, sizeof(want), "template: '%s/hold.ipxe'", dir);
	assert_non_null(strstr(e.msg, want));

	templates_done(&t);
	for (int i = 0; i < _TMPL_MAX; i++)
		rm_tmpl(dir, templates_name((enum tmpl_id)i));
	rm_tmpl(dir, "linux");
	rm_tmpl(dir, "iscsi");
	rm_tmpl(dir, "xen");
	{
		char p[512];

		(void)snprintf(p, sizeof(p), "%s/xen.cfg", dir);
		assert_int_equal(unlink(p), 0);
	}
	assert_int_equal(rmdir(dir), 0);
}

/* The shipped ipxe-scripts/ load (tests run from the repo root, as tests/run.sh does),
 * and linux.ipxe renders from the kind's roles exactly as the hard-wired code did: the
 * expected text is the template with the values filled in by hand. */
#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define KSHA "1111111111111111111111111111111111111111111111111111111111111111"
#define ISHA "2222222222222222222222222222222222222222222222222222222222222222"
#define RSHA "3333333333333333333333333333333333333333333333333333333333333333"
#define SRV "http://10.77.0.1:8080"
static const char linux_script[] =
	"#!ipxe\n"
	"# diskless: boot node n01 into Linux image tiny version " ID ".\n"
	"# The kernel command line carries everything the init needs but its credential\n"
	"# (docs/boot-protocol.md), including the address iPXE got, so the node needs no second\n"
	"# DHCP. The credential is a second initrd, handed out once per boot: never on the\n"
	"# command line, which every user of the booted node can read.\n"
	"echo diskless: n01 booting tiny@0123456789ab\n"
	"kernel " SRV "/images/" ID "/kernel initrd=initrd initrd=credential console=ttyS0 quiet dl.server=" SRV
	" dl.node=n01 dl.image=" ID " dl.rootfs=" RSHA
	" dl.rootfs_size=1282048 dl.initrd_id=" ISHA " dl.mac=${mac}"
	" ip=${ip}::${gateway}:${netmask}:n01::off retain_initrd || goto failed\n"
	"initrd --name initrd " SRV "/images/" ID "/initrd || goto failed\n"
	"initrd --name credential " SRV "/api/v1/nodes/n01/credential || goto failed\n"
	"boot || goto failed\n"
	"# Any fetch that fails, also one cut mid-way, lands here: " SRV " is asked again\n"
	"# after 5 s; when it cannot be reached, back to the start script's walk (exit 1).\n"
	":failed\n"
	"echo diskless: boot of n01 failed, asking again in 5 s\n"
	"sleep 5\n"
	"# What the failed attempt loaded goes first: a BIOS kernel gets every registered initrd,\n"
	"# so a stale one would boot beside the next attempt's (a receipt that does not match).\n"
	"imgfree\n"
	"chain --replace " SRV "/ipxe/boot?mac=${mac}&uuid=${uuid}&serial=${serial:uristring} || exit 1\n";

/* The shipped templates into t, and img given linux's three roles. */
static void
load_shipped(struct templates *t, struct image_rec *img)
{
	struct dl_err e = { 0 };

	if (access("ipxe-scripts/linux.ipxe", R_OK) < 0)
		fail_msg("ipxe-scripts/linux.ipxe not found: run from the repository root");
	assert_int_equal(templates_load(t, "ipxe-scripts", &e), 0);
	assert_int_equal(image_rec_file_set(img, "kernel", KSHA, 8247232), 0);
	assert_int_equal(image_rec_file_set(img, "initrd", ISHA, 2336117), 0);
	assert_int_equal(image_rec_file_set(img, "rootfs", RSHA, 1282048), 0);
}

static void
test_linux_script(void **state)
{
	const struct kind *k = kind_find("linux");
	struct node_rec n = { .name = "n01" };
	struct image_rec img = { .id = ID, .name = "tiny", .kind = "linux",
		.cmdline = "console=ttyS0 quiet" };
	struct templates t = { 0 };
	struct script_vars v = { 0 };
	struct dl_err e = { 0 };
	const struct tmpl *tp;
	char *out = NULL;
	size_t len = 0;

	(void)state;
	load_shipped(&t, &img);
	script_vars_node(&v, SRV, n.name, 5000);
	script_vars_image(&v, k, &img);
	tp = templates_kind(&t, k);
	assert_int_equal(template_render(tp->text, tp->len, script_vars_lookup, &v, &out, &len,
	    &e), 0);
	assert_string_equal(out, linux_script);
	assert_int_equal(len, strlen(linux_script));
	/* the generic per-role variables */
	assert_string_equal(script_vars_lookup("kernel_sha256", &v), KSHA);
	assert_string_equal(script_vars_lookup("initrd_size", &v), "2336117");
	assert_null(script_vars_lookup("disk_sha256", &v));
	free(out);
	templates_done(&t);
}

/* A kind's script kept rendered but for {{node}} (templates_kind_bound) renders as the
 * whole template does, for every kind that is not sanboot's; it is kept per version,
 * server and poll, never stale, and a sanboot kind (secrets) is refused. */
static void
test_bound_script(void **state)
{
	struct image_rec img = { .id = ID, .name = "tiny", .kind = "linux",
		.cmdline = "console=ttyS0 quiet", .hypervisor_cmdline = "dom0_mem=1G" };
	const struct template *b = NULL, *b2 = NULL;
	struct templates t = { 0 };
	struct tmpl_bound_cache bc = { 0 };
	struct dl_err e = { 0 };
	char dir[] = "/tmp/test_kind.XXXXXX", cmd[256];
	char *out = NULL, *whole = NULL;
	size_t len = 0;

	(void)state;
	load_shipped(&t, &img);
	for (size_t i = 0; i < kind_count(); i++) {
		const struct kind *k = kind_at(i);
		struct script_vars v = { 0 };

		if (kind_is_sanboot(k)) {
			assert_int_equal(templates_kind_bound(&t, &bc, k, &img, SRV, 5000, &b, &e),
			    -EINVAL);
			continue;
		}
		print_message("kind %s\n", k->name);
		script_vars_node(&v, SRV, "n01", 5000);
		script_vars_image(&v, k, &img);
		assert_int_equal(template_expand(templates_kind(&t, k)->compiled,
		    script_vars_lookup, &v, &whole, NULL, &e), 0);
		assert_int_equal(templates_kind_bound(&t, &bc, k, &img, SRV, 5000, &b, &e), 0);
		assert_int_equal(template_expand(b, script_vars_node_lookup, "n01", &out, &len,
		    &e), 0);
		assert_string_equal(out, whole);
		assert_int_equal(len, strlen(whole));
		if (streq(k->name, "linux"))
			assert_string_equal(out, linux_script);
		free(out);
		free(whole);
		/* asked again: the kept one */
		assert_int_equal(templates_kind_bound(&t, &bc, k, &img, SRV, 5000, &b2, &e), 0);
		assert_ptr_equal(b2, b);
	}

	/* another server, poll or version is another rendering */
	assert_int_equal(templates_kind_bound(&t, &bc, kind_find("linux"), &img, "http://10.9.9.9:80",
	    5000, &b, &e), 0);
	assert_int_equal(template_expand(b, script_vars_node_lookup, "n02", &out, &len, &e), 0);
	assert_non_null(strstr(out, "dl.server=http://10.9.9.9:80 dl.node=n02 "));
	assert_null(strstr(out, SRV));
	free(out);
	assert_int_equal(templates_kind_bound(&t, &bc, kind_find("linux"), &img, SRV, 7000, &b2, &e),
	    0);
	assert_ptr_not_equal(b2, b);
	img.id[0] = 'f';
	assert_int_equal(templates_kind_bound(&t, &bc, kind_find("linux"), &img, SRV, 5000, &b, &e),
	    0);
	assert_int_equal(template_expand(b, script_vars_node_lookup, "n01", &out, &len, &e), 0);
	assert_non_null(strstr(out, "/images/f123456789abcdef"));
	assert_null(strstr(out, "/images/0123456789abcdef"));
	free(out);
	/* more versions than kept: each still renders its own */
	for (int i = 0; i < 2 * MAX_TMPL_BOUND; i++) {
		(void)snprintf(img.id, sizeof(img.id), "%064x", i);
		assert_int_equal(templates_kind_bound(&t, &bc, kind_find("linux"), &img, SRV, 5000,
		    &b, &e), 0);
		assert_int_equal(template_expand(b, script_vars_node_lookup, "n01", &out, &len,
		    &e), 0);
		assert_non_null(strstr(out, img.id));
		free(out);
	}

	/* a reload (SIGHUP) empties the cache at its next use: the new text is rendered */
	assert_non_null(mkdtemp(dir));
	(void)snprintf(cmd, sizeof(cmd), "cp ipxe-scripts/* %s/ && echo '#reloaded' >> %s/linux.ipxe",
	    dir, dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(templates_load(&t, dir, &e), 0);
	assert_int_equal(templates_kind_bound(&t, &bc, kind_find("linux"), &img, SRV, 5000, &b,
	    &e), 0);
	assert_int_equal(template_expand(b, script_vars_node_lookup, "n01", &out, &len, &e), 0);
	assert_non_null(strstr(out, "#reloaded"));
	free(out);
	(void)snprintf(cmd, sizeof(cmd), "rm -r %s", dir);
	assert_int_equal(system(cmd), 0);
	tmpl_bound_cache_done(&bc);
	templates_done(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_linux),
		cmocka_unit_test(test_other_shapes),
		cmocka_unit_test(test_unknown_kind),
		cmocka_unit_test(test_role_names),
		cmocka_unit_test(test_templates_load),
		cmocka_unit_test(test_linux_script),
		cmocka_unit_test(test_bound_script),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
