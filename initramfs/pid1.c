/* SPDX-License-Identifier: MIT */
/* The init's boot sequence as PID 1 (CONVENTIONS §7): every step either succeeds, or
 * prints "diskless: FAILED <step>: <reason>" on the console, reports `failed`, and is
 * retried or ends in a reboot. It never returns and never waits without a bound. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmdline.h"
#include "credential.h"
#include "fetch.h"
#include "hypervisor.h"
#include "mount.h"
#include "net.h"
#include "overlay.h"
#include "report.h"
#include "roles.h"
#include "sha256.h"
#include "switchroot.h"
#include "treehash.h"

/* Whole fetch/verify/mount sequences before giving up and rebooting: a reboot goes back
 * through PXE, which may pick another server or a fixed image. */
#define PID1_MAX_ATTEMPTS 3
/* Backoff between attempts: 5 s, then 10 s. */
#define PID1_BACKOFF_MS 5000
/* Time to read the console before a reboot clears it. */
#define PID1_REBOOT_DELAY_MS 10000
/* /proc/version is one line of about 150 bytes. */
#define MAX_KERNEL_BANNER 512

static struct dl_cmdline cmd;
static bool have_cmd;
static bool net_up;
/* The `imaging` report could not reach bootsvc before the rootfs fetch: posted again
 * once the rootfs is in (report_pending_imaging()). */
static bool imaging_pending;

/* Modules, then the NIC of dl.mac with the address of ip=. */
static int
bring_up_network(struct init_err *err)
{
	char ifname[32];
	int n = mount_load_modules();

	init_log("%d modules loaded", n);
	if (net_find_by_mac(cmd.mac, ifname, err) < 0 ||
	    net_configure(ifname, cmd.ip_be, cmd.mask_be, cmd.gw_be, err) < 0)
		return -1;
	init_log("%s up", ifname);
	net_up = true;
	return 0;
}

static void
reap(void)
{
	/* orphans re-parented to us; we start no children ourselves */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* Post a phase, retried while bootsvc cannot be reached for up to budget_ms
 * (report.h). Returns report_phase_retry()'s result; a report not delivered is logged. */
static int
report_within(const char *phase, const char *reason, uint64_t budget_ms)
{
	struct init_err err = { "" };
	int r;

	if (!have_cmd)
		return 0;
	r = report_phase_retry(&cmd.server, cmd.node, cmd.token, phase, reason, NULL, NULL,
	    budget_ms, &err);
	if (r < 0)
		init_log("warning: report phase %s to %s: %s, %s", phase, cmd.server.host,
		    err.msg, r == -ETIME && budget_ms == REPORT_QUICK_MS ?
		    "will post it again once the rootfs is in" : "dropping it");
	return r;
}

static void
report(const char *phase, const char *reason)
{
	(void)report_within(phase, reason, REPORT_BUDGET_MS);
}

/* `imaging` before the fetch: a few quick tries only, so a bootsvc that is down (a
 * restart) does not delay the rootfs, whose fetch retries on its own. */
static void
report_imaging(void)
{
	imaging_pending = report_within("imaging", NULL, REPORT_QUICK_MS) == -ETIME;
}

/* The rootfs came from bootsvc, so it answers again: the `imaging` it missed now, with
 * the full budget, before switch_root. The node is still in `loading` then (nothing else
 * moved it), so the late report moves it as an early one would, and `up` follows it. */
static void
report_pending_imaging(void)
{
	if (!imaging_pending)
		return;
	imaging_pending = false;
	if (report_within("imaging", NULL, REPORT_BUDGET_MS) == 0)
		init_log("imaging reported after the rootfs fetch");
}

__attribute__((noreturn)) static void
die_reboot(void)
{
	init_log("rebooting in %d s", PID1_REBOOT_DELAY_MS / 1000);
	init_sleep_ms(PID1_REBOOT_DELAY_MS);
	sync();
	(void)reboot(RB_AUTOBOOT);
	/* only reached if reboot(2) itself failed: keep saying so rather than go quiet */
	for (;;) {
		init_log("FAILED reboot: %s; power-cycle the node", strerror(errno));
		init_sleep_ms(60000);
		reap();
	}
}

static void
fail(const char *step, const char *reason)
{
	init_log("FAILED %s: %s", step, reason);
	report("failed", reason);
}

/* The receipt: what this node really booted (docs/boot-protocol.md "The receipt"). The
 * initrd is measured as its tree hash over "/" ("The initrd tree hash"): the archive's
 * own bytes are gone once unpacked (6.1 has no /sys/firmware/initrd), the files are not,
 * and the image manifest's initrd_tree is the same digest computed by imagebuild. */
static int
write_receipt(const char *rootfs_hex, struct init_err *reterr)
{
	char kernel[MAX_KERNEL_BANNER + 1], initrd[SHA256_HEX_SIZE], buf[MAX_RECEIPT];
	char hv[MAX_HYPERVISOR_RECEIPT];
	int n, fd, r;

	n = init_read_file("/proc/version", kernel, MAX_KERNEL_BANNER);
	if (n < 0)
		return init_err_set(reterr, n, "/proc/version: %s", strerror(-n));
	while (n > 0 && (kernel[n - 1] == '\n' || kernel[n - 1] == ' '))
		kernel[--n] = '\0';
	r = treehash_compute("/", initrd, reterr);
	if (r < 0)
		return r;
	init_log("initrd tree hash %s", initrd);
	/* a Xen dom0 also says which hypervisor booted it (hypervisor.h) */
	r = hypervisor_receipt_measure(hv, sizeof(hv), reterr);
	if (r < 0)
		return r;
	if (hv[0])
		init_log("hypervisor %s", hv);
	n = report_receipt_build(buf, sizeof(buf), kernel, initrd, rootfs_hex, hv);
	if (n < 0)
		return init_err_set(reterr, n, "receipt too long");
	fd = open(DL_RUN_DIR "/receipt.json", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return init_err_set(reterr, -errno, "create receipt: %s", strerror(errno));
	r = init_write_all(fd, buf, (size_t)n);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0)
		return init_err_set(reterr, r, "write receipt: %s", strerror(-r));
	return 0;
}

/* One fetch -> verify -> mount -> overlay -> receipt sequence. *ret_step names the step
 * that failed. */
static int
attempt(const char **ret_step, struct init_err *err)
{
	char hex[SHA256_HEX_SIZE];
	uint8_t *ov = NULL;
	ssize_t len;
	int r;

	*ret_step = "fetch rootfs";
	{
		char upath[128];

		rootfs_path(&cmd, upath, sizeof(upath));
		init_log("fetching %s%s%s", cmd.server.host, cmd.server.base, upath);
	}
	r = fetch_rootfs(&cmd, DL_ROOTFS_FILE, hex, err);
	if (r < 0)
		return r;
	report_pending_imaging();
	*ret_step = "verify rootfs";
	if (strcmp(hex, cmd.rootfs) != 0) {
		init_log("rootfs sha256 %s, expected %s", hex, cmd.rootfs);
		return init_err_set(err, -EBADMSG, "checksum mismatch");
	}
	init_log("rootfs verified: sha256 %s", hex);
	*ret_step = "mount image";
	r = mount_image(err);
	if (r < 0)
		return r;
	*ret_step = "fetch overlay";
	len = fetch_overlay(&cmd, &ov, err);
	if (len < 0)
		return (int)len;
	*ret_step = "apply overlay";
	r = overlay_apply(DL_NEWROOT, ov, (size_t)len, err);
	free(ov);
	if (r < 0)
		return r;
	init_log("overlay applied: %d entries", r);
	*ret_step = "check image";
	r = switchroot_check(DL_NEWROOT, err);
	if (r < 0)
		return r;
	*ret_step = "receipt";
	return write_receipt(hex, err);
}

void
pid1_main(char **envp)
{
	static char cmdline[MAX_CMDLINE + 1];
	struct init_err err = { "" };
	const char *step = "";
	sigset_t all;
	int n, i;

	/* PID 1 gets no default signal actions; block them all so nothing interrupts a step
	 * (CONVENTIONS §7). switchroot_exec() unblocks them for the image's init. */
	sigfillset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, NULL);

	if (mount_api_filesystems(&err) < 0) {
		fail("mount", err.msg);
		die_reboot();
	}
	init_log("init starting");
	n = init_read_file("/proc/cmdline", cmdline, MAX_CMDLINE);
	if (n < 0) {
		fail("cmdline", strerror(-n));
		die_reboot();
	}
	if (cmdline_parse(cmdline, &cmd, true, &err) < 0) {
		fail("cmdline", err.msg); /* no server to report to: console only */
		die_reboot();
	}
	/* dl.cred=fetch (Xen: one initrd only): the network first, then the credential
	 * from the boot server; nothing of the image runs before it is here. Without a
	 * token no report can be made: a failure goes to the console, then a reboot. */
	if (cmd.cred_fetch) {
		char token[MAX_TOKEN_LEN + 1];

		if (bring_up_network(&err) < 0) {
			fail("network", err.msg);
			die_reboot();
		}
		if (fetch_credential(&cmd, token, &err) < 0) {
			fail("credential", err.msg);
			die_reboot();
		}
		if (cmd.token[0])
			init_log("warning: dl.token on the kernel command line too; the fetched "
			    "credential wins");
		memcpy(cmd.token, token, sizeof(token));
		explicit_bzero(token, sizeof(token));
		init_log("credential fetched from the boot server");
		/* an archive unpacked over the initramfs anyway must not stay in its tree */
		(void)unlink(CREDENTIAL_FILE);
	}
	/* The credential before anything else: its file leaves the tree at once. */
	else {
		char token[MAX_TOKEN_LEN + 1];
		int r = credential_take(CREDENTIAL_FILE, token, &err);

		if (r == 0) {
			if (cmd.token[0])
				init_log("warning: dl.token on the kernel command line too; the "
				    "credential archive's token wins");
			memcpy(cmd.token, token, sizeof(token));
			explicit_bzero(token, sizeof(token));
			init_log("credential taken from the boot server's archive");
		} else if (r == -ENOENT && cmd.token[0]) {
			init_log("warning: no credential archive; using dl.token from the kernel "
			    "command line, which every user of this node can read");
		} else {
			fail("credential", err.msg);
			die_reboot();
		}
	}
	have_cmd = true;
	if (!net_up && bring_up_network(&err) < 0) {
		fail("network", err.msg);
		die_reboot();
	}
	if (sethostname(cmd.hostname, strlen(cmd.hostname)) < 0)
		init_log("warning: sethostname '%s': %s, ignoring", cmd.hostname, strerror(errno));

	for (i = 1; i <= PID1_MAX_ATTEMPTS; i++) {
		report_imaging();
		if (attempt(&step, &err) == 0)
			break;
		fail(step, err.msg);
		mount_image_teardown();
		if (i == PID1_MAX_ATTEMPTS) {
			init_log("giving up after %d attempts", PID1_MAX_ATTEMPTS);
			die_reboot();
		}
		init_log("retrying in %d s (attempt %d of %d)", PID1_BACKOFF_MS * i / 1000, i + 1,
		    PID1_MAX_ATTEMPTS);
		init_sleep_ms((unsigned)(PID1_BACKOFF_MS * i));
		reap();
	}
	init_log("switching root to the image");
	(void)switchroot_exec(DL_NEWROOT, envp, &err);
	fail("switch_root", err.msg);
	die_reboot();
}
