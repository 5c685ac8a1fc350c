/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "backoff.h"
#include "dhcp/dnsmasq.h"
#include "dhcp/ra_check.h"
#include "dhcp/start_script.h"
#include "log.h"
#include "parse.h"
#include "privsep/privsep.h"
#include "readfile.h"
#include "spawn.h"
#include "strbuf.h"
#include "template.h"

/* A dnsmasq left by an earlier run gets SIGTERM, then SIGKILL after this, then this
 * again to free its ports before ours starts anyway: dnsmasq exits at once on SIGTERM. */
#define DNSMASQ_STALE_GRACE_MS 2000
/* Restart backoff: 1 s doubling to 30 s; a child that ran a minute resets it. */
#define DNSMASQ_BACKOFF_MIN_MS 1000
#define DNSMASQ_BACKOFF_MAX_MS 30000
#define DNSMASQ_STABLE_MS 60000

struct dnsmasq {
	struct bootsvc *bs;
	char dir[MAX_STORE_PATH];
	char conf[MAX_STORE_PATH + 32];
	char hosts[MAX_STORE_PATH + 32];
	char hosts_new[MAX_STORE_PATH + 32]; /* where host files are written before the rename */
	char pxe_seen[MAX_STORE_PATH + 32];   /* a file per MAC that PXE-booted lately */
	char script[MAX_STORE_PATH + 32];     /* dhcp-script: touches them */
	pid_t pid;
	int pidfd;
	/* A previous run's dnsmasq being ended before ours starts (kill_stale()). */
	pid_t stale_pid;
	int stale_pidfd;
	int64_t stale_timer;
	bool stale_killed;
	/* In bootsvc's unprivileged child: dnsmasq is the root parent's; starting it and
	 * SIGHUP go through privsep, only the host files are written here. */
	struct privsep *privsep;
	uint64_t started_ms;
	struct backoff backoff;
	int64_t restart_timer;
	bool stopping;
};

static int
mkdir_p(const char *path, mode_t mode)
{
	char buf[MAX_STORE_PATH + 64];

	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return negative_errno();
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return negative_errno();
	/* dnsmasq drops to nobody: what it reads must be readable by others. */
	return chmod(buf, mode) < 0 ? negative_errno() : 0;
}

/* Write path atomically with mode 0644: written as tmp, then renamed. tmp must not be in
 * the hostsdir, or dnsmasq's inotify reads the half-done file too. The file is closed
 * before the rename: closed after it, the close is an IN_CLOSE_WRITE in the hostsdir on
 * top of the rename's IN_MOVED_TO, dnsmasq reads the file twice and warns "duplicate
 * dhcp-host IP address" for every node added (tests/integ/dnsmasq_hosts.sh). */
static int
write_file_via(const char *path, const char *tmp, const char *data, size_t len)
{
	_cleanup_close_ int fd = -1;
	size_t off = 0;
	int r;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return negative_errno();
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = negative_errno();
			(void)unlink(tmp);
			return r;
		}
		off += (size_t)n;
	}
	r = fchmod(fd, 0644) < 0 ? negative_errno() : 0;
	if (close(TAKE_FD(fd)) < 0 && r == 0)
		r = negative_errno();
	if (r == 0 && rename(tmp, path) < 0)
		r = negative_errno();
	if (r < 0)
		(void)unlink(tmp);
	return r;
}

static int
write_file(const char *path, const char *data, size_t len)
{
	char tmp[MAX_STORE_PATH + 96];

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	return write_file_via(path, tmp, data, len);
}

/* iPXE's binaries are up to about 1 MiB (ipxe.efi); the cap keeps a wrong ipxe_dir from
 * copying a disk image into the TFTP root. */
#define MAX_IPXE_BINARY (16 * 1024 * 1024)

/* The start script (dhcp/start_script.h) rendered from <template_dir>/start.ipxe into
 * the TFTP root, where dnsmasq serves it to every iPXE client whether bootsvc runs or not.
 * Rendered once per start, like the rest of dnsmasq's setup: a changed template or
 * peers list takes a restart (SIGHUP reloads the HTTP copy only). */
static int
write_start_script(const struct config *c, const char *tftp, struct dl_err *reterr)
{
	char src[MAX_CONF_PATH + 32], dst[MAX_STORE_PATH + 96];
	_cleanup_free_ char *tmpl = NULL, *out = NULL;
	size_t tlen = 0, olen = 0;
	int r;

	(void)snprintf(src, sizeof(src), "%s/start.ipxe", c->template_dir);
	(void)snprintf(dst, sizeof(dst), "%s/%s", tftp, START_SCRIPT_FILE);
	r = read_file(src, MAX_TEMPLATE_SIZE, READ_FILE_REGULAR, &tmpl, &tlen, reterr);
	if (r < 0)
		return dl_err_prefix(reterr, "start script template"), r;
	r = start_script_render(tmpl, tlen, c, &out, &olen, reterr);
	if (r < 0)
		return dl_err_prefix(reterr, "template '%s'", src), r;
	r = write_file(dst, out, olen);
	if (r < 0)
		return dl_err_set(reterr, r, "writing '%s': %s", dst, strerror(-r));
	return 0;
}

static int
copy_file(const char *src, const char *dst)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r;

	/* the caller's message names src and the errno; read_file()'s would repeat it */
	r = read_file(src, MAX_IPXE_BINARY, 0, &buf, &len, NULL);
	if (r < 0)
		return r;
	return write_file(dst, buf, len);
}

/* The generated dnsmasq.conf. Three waits cost ~16 s per boot unless avoided
 * (shared/lab/pxe-boot.sh): IPv6 RA on the boot net, --no-ping, and option 175.176
 * no-pxedhcp (only when we are the DHCP server, else the client must wait for us). */
static int
write_conf(struct dnsmasq *d)
{
	const struct config *c = &d->bs->cfg;
	struct strbuf b = { 0 };
	int r;

	strbuf_printf(&b, "# generated by bootsvc; edits are lost on restart\n");
	strbuf_printf(&b, "port=0\n");               /* DHCP/TFTP only, never DNS */
	strbuf_printf(&b, "interface=%s\n", c->interface);
	strbuf_printf(&b, "bind-interfaces\n");     /* never answer on an interface not named */
	strbuf_printf(&b, "log-facility=-\n");
	strbuf_printf(&b, "log-dhcp\n");
	strbuf_printf(&b, "dhcp-leasefile=%s/leases\n", d->dir);
	strbuf_printf(&b, "dhcp-hostsdir=%s\n", d->hosts);
	strbuf_printf(&b, "enable-tftp\n");
	strbuf_printf(&b, "tftp-root=%s/tftp\n", d->dir);
	strbuf_printf(&b, "no-ping\n");
	strbuf_printf(&b, "dhcp-match=set:ipxe,175\n");
	strbuf_printf(&b, "dhcp-match=set:efi64,option:client-arch,7\n");
	strbuf_printf(&b, "dhcp-match=set:efi64,option:client-arch,9\n");
	strbuf_printf(&b, "dhcp-match=set:bios,option:client-arch,0\n");
	if (c->dhcp_mode == DHCP_MODE_RANGE) {
		strbuf_printf(&b, "dhcp-range=%s,%s,%llu\n", c->dhcp_range_start, c->dhcp_range_end,
		    (unsigned long long)c->dhcp_lease_s);
		strbuf_printf(&b, "dhcp-authoritative\n");
		/* iPXE gets the start script from our own TFTP, not from bootsvc's HTTP: it
		 * then walks the service nodes, and waits, while bootsvc is down (issue 15). */
		strbuf_printf(&b, "dhcp-boot=tag:ipxe,%s\n", START_SCRIPT_FILE);
		strbuf_printf(&b, "dhcp-boot=tag:!ipxe,tag:efi64,%s\n", c->uefi_binary);
		strbuf_printf(&b, "dhcp-boot=tag:!ipxe,tag:bios,undionly.kpxe\n");
		strbuf_printf(&b, "dhcp-option=tag:ipxe,175,b0:01:01\n");
		/* Evidence of a real reboot (pxe_seen_script below), a renewed lease too. */
		strbuf_printf(&b, "dhcp-script=%s\n", d->script);
		strbuf_printf(&b, "script-on-renewal\n");
	} else {
		/* Another server hands out addresses; we only point firmware at a binary and
		 * iPXE at its script (RFC 4578 PXE options in proxy offers). For x86PC clients
		 * dnsmasq's proxy offer carries a PXE boot menu, and a BIOS iPXE that sees one
		 * asks the menu, not dhcp-boot (tests/integ/proxy_dhcp.sh found it answering
		 * "Nothing to boot"): the script URL must be a menu entry of its own. UEFI
		 * clients get no menu and take dhcp-boot's file. */
		strbuf_printf(&b, "dhcp-range=%s,proxy\n", c->proxy_subnet);
		strbuf_printf(&b, "dhcp-boot=tag:ipxe,%s\n", START_SCRIPT_FILE);
		/* a basename with a suffix: dnsmasq adds no ".0" layer suffix */
		strbuf_printf(&b, "pxe-service=tag:ipxe,x86PC,\"diskless\",%s\n",
		    START_SCRIPT_FILE);
		strbuf_printf(&b, "pxe-service=tag:!ipxe,x86PC,\"diskless\",undionly.kpxe\n");
		strbuf_printf(&b, "pxe-service=tag:!ipxe,X86-64_EFI,\"diskless\",%s\n",
		    c->uefi_binary);
		strbuf_printf(&b, "pxe-service=tag:!ipxe,BC_EFI,\"diskless\",%s\n", c->uefi_binary);
	}
	if (c->ipv6_ra) {
		strbuf_printf(&b, "enable-ra\n");
		strbuf_printf(&b, "dhcp-range=::,constructor:%s,ra-only\n", c->interface);
	}
	if (b.oom) {
		strbuf_done(&b);
		return -ENOMEM;
	}
	r = write_file(d->conf, b.s, b.len);
	strbuf_done(&b);
	return r;
}

/* dnsmasq's dhcp-script (run as root by dnsmasq's helper on lease events, with
 * script-on-renewal on every DHCP exchange that extends a lease): a DHCP exchange whose
 * vendor class is PXEClient (firmware PXE, iPXE) touches pxe-seen/<mac>. It is the
 * evidence that a node bootsvc thinks is up really rebooted: a process on the running
 * node can send any HTTP request iPXE sends, from the node's own address, but not a DHCP
 * exchange (port 68 and raw sockets are root's), and an OS's own DHCP client does not say
 * PXEClient (docs/security.md "The boot network"). Root's file in root's directory: the
 * unprivileged process reads the times and can write neither. */
static int
write_pxe_seen_script(struct dnsmasq *d)
{
	struct strbuf b = { 0 };
	int r;

	strbuf_printf(&b, "#!/bin/sh\n# generated by bootsvc: dnsmasq's dhcp-script\n"
	    "case \"$1\" in add|old) ;; *) exit 0 ;; esac\n"
	    "case \"$DNSMASQ_VENDOR_CLASS\" in PXEClient*) ;; *) exit 0 ;; esac\n"
	    "case \"$2\" in *[!0-9a-f:]*|'') exit 0 ;; esac\n"
	    "exec /usr/bin/touch -- '%s'/\"$2\"\n", d->pxe_seen);
	if (b.oom) {
		strbuf_done(&b);
		return -ENOMEM;
	}
	r = write_file(d->script, b.s, b.len);
	strbuf_done(&b);
	if (r == 0 && chmod(d->script, 0755) < 0)
		r = negative_errno();
	return r;
}

int64_t
dnsmasq_pxe_seen_at(const char *state_dir, const char *mac)
{
	char path[MAX_STORE_PATH + 96], low[32];
	struct stat st;
	size_t i;

	for (i = 0; mac[i] && i + 1 < sizeof(low); i++)
		low[i] = (char)((mac[i] >= 'A' && mac[i] <= 'F') ? mac[i] - 'A' + 'a' : mac[i]);
	low[i] = '\0';
	if (snprintf(path, sizeof(path), "%s/dnsmasq/pxe-seen/%s", state_dir, low) >=
	    (int)sizeof(path) || stat(path, &st) < 0)
		return -1;
	return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

int
dnsmasq_lease_find(const char *text, const char *mac, char ret[static 16])
{
	const char *line = text;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char expiry[24], lmac[24], ip[24];
		char buf[128];
		uint32_t a;

		/* a longer line is not one of dnsmasq's v4 leases (those fit in 128 with room) */
		if (len < sizeof(buf)) {
			memcpy(buf, line, len);
			buf[len] = '\0';
			if (sscanf(buf, "%23s %23s %23s", expiry, lmac, ip) == 3 &&
			    strcasecmp(lmac, mac) == 0 && strlen(ip) < 16 &&
			    parse_ipv4(ip, &a, NULL) == 0) {
				memcpy(ret, ip, strlen(ip) + 1);
				return 0;
			}
		}
		line = end ? end + 1 : NULL;
	}
	return -ENOENT;
}

/* dnsmasq's lease file holds one line per lease: a boot network's /24 of them is ~20 KiB,
 * this bounds the read for a much larger one. */
#define MAX_LEASES_FILE (4 * 1024 * 1024)

int
dnsmasq_lease_ip(const char *state_dir, const char *mac, char ret[static 16])
{
	char path[MAX_STORE_PATH + 32];
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r;

	if (snprintf(path, sizeof(path), "%s/dnsmasq/leases", state_dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	r = read_file(path, MAX_LEASES_FILE, READ_FILE_REGULAR, &text, &len, NULL);
	if (r < 0)
		return r;
	return dnsmasq_lease_find(text, mac, ret);
}

int
dnsmasq_new(struct bootsvc *bs, struct dnsmasq **ret, struct dl_err *reterr)
{
	static const char *const bins[] = { "undionly.kpxe", "ipxe.efi", "snponly.efi" };
	struct dnsmasq *d = calloc(1, sizeof(*d));
	char tftp[MAX_STORE_PATH + 64];
	int r;

	if (!d)
		return -ENOMEM;
	d->bs = bs;
	d->pidfd = -1;
	d->stale_pidfd = -1;
	d->backoff = (struct backoff)BACKOFF_INIT(DNSMASQ_BACKOFF_MIN_MS, DNSMASQ_BACKOFF_MAX_MS,
	    DNSMASQ_STABLE_MS);
	(void)snprintf(d->dir, sizeof(d->dir), "%s/dnsmasq", bs->cfg.state_dir);
	(void)snprintf(d->conf, sizeof(d->conf), "%s/dnsmasq.conf", d->dir);
	(void)snprintf(d->hosts, sizeof(d->hosts), "%s/hosts", d->dir);
	(void)snprintf(d->hosts_new, sizeof(d->hosts_new), "%s/hosts.new", d->dir);
	(void)snprintf(d->pxe_seen, sizeof(d->pxe_seen), "%s/pxe-seen", d->dir);
	(void)snprintf(d->script, sizeof(d->script), "%s/pxe-seen.sh", d->dir);
	(void)snprintf(tftp, sizeof(tftp), "%s/tftp", d->dir);
	if ((r = mkdir_p(d->dir, 0755)) < 0 || (r = mkdir_p(d->hosts, 0755)) < 0 ||
	    (r = mkdir_p(d->hosts_new, 0755)) < 0 || (r = mkdir_p(tftp, 0755)) < 0 ||
	    (r = mkdir_p(d->pxe_seen, 0755)) < 0 || (r = write_pxe_seen_script(d)) < 0) {
		dl_err_set(reterr, r, "dnsmasq state '%s': %s", d->dir, strerror(-r));
		free(d);
		return r;
	}
	/* Copies, not symlinks: dnsmasq's tftp-secure serves only files under its root. */
	for (size_t i = 0; i < ELEMENTSOF(bins); i++) {
		char src[MAX_CONF_PATH + 32], dst[MAX_STORE_PATH + 96];
		(void)snprintf(src, sizeof(src), "%s/%s", bs->cfg.ipxe_dir, bins[i]);
		(void)snprintf(dst, sizeof(dst), "%s/%s", tftp, bins[i]);
		r = copy_file(src, dst);
		if (r < 0) {
			dl_err_set(reterr, r, "iPXE binary '%s': %s (is the ipxe package installed?)",
			    src, strerror(-r));
			free(d);
			return r;
		}
	}
	r = write_start_script(&bs->cfg, tftp, reterr);
	if (r < 0) {
		free(d);
		return r;
	}
	r = write_conf(d);
	if (r < 0) {
		dl_err_set(reterr, r, "writing '%s': %s", d->conf, strerror(-r));
		free(d);
		return r;
	}
	if (bs->cfg.ipv6_ra)
		ra_check_warn(bs->cfg.interface);
	*ret = d;
	return 0;
}

static void dnsmasq_restart(struct loop *l, void *userdata);

static void
on_exit_event(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct dnsmasq *d = userdata;
	siginfo_t si = { 0 };
	char status[64];
	uint64_t ran, delay;

	(void)events;
	if (waitid(P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
		return;
	loop_del_fd(l, fd);
	close(fd);
	d->pidfd = -1;
	d->pid = 0;
	if (si.si_code == CLD_EXITED)
		(void)snprintf(status, sizeof(status), "exited %d", si.si_status);
	else
		(void)snprintf(status, sizeof(status), "killed by signal %d", si.si_status);
	if (d->stopping)
		return;
	ran = loop_now_ms() - d->started_ms;
	delay = backoff_next(&d->backoff, ran);
	log_warning("event=dnsmasq_exit msg=\"dnsmasq %s after %llu ms, will restart\" "
		    "restart_in_ms=%llu", status, (unsigned long long)ran,
	    (unsigned long long)delay);
	d->restart_timer = loop_add_timer(l, loop_now_ms() + delay, dnsmasq_restart, d);
}

static void
dnsmasq_restart(struct loop *l, void *userdata)
{
	struct dnsmasq *d = userdata;
	struct dl_err err = { 0 };

	(void)l;
	d->restart_timer = 0;
	d->bs->metrics.dnsmasq_restarts++;
	if (dnsmasq_start(d, &err) < 0) {
		log_err("event=dnsmasq_start msg=\"%s, will retry\"", err.msg);
		/* a failed start counts as a death at once: the delay keeps doubling */
		d->restart_timer = loop_add_timer(d->bs->loop,
		    loop_now_ms() + backoff_next(&d->backoff, 0), dnsmasq_restart, d);
	}
}

/* A pid file holds one number and a newline. */
#define MAX_PID_FILE 63
/* The command line we start dnsmasq with: its path, a few options and our config's path. */
#define MAX_STALE_CMDLINE (MAX_STORE_PATH + 127)

/* A dnsmasq left by a previous bootsvc that was killed with SIGKILL (a child cannot be
 * tied to its parent's death through posix_spawn) still holds the DHCP and TFTP ports.
 * It is ours if its command line names our config file: its pid, or 0. */
static pid_t
find_stale(struct dnsmasq *d)
{
	char path[MAX_STORE_PATH + 64];
	_cleanup_free_ char *pidtext = NULL, *cmd = NULL;
	size_t len = 0;
	uint64_t pid_u;
	pid_t pid;

	/* No pid file, or one that is not a pid: nothing of ours is running. */
	(void)snprintf(path, sizeof(path), "%s/dnsmasq.pid", d->dir);
	if (read_file(path, MAX_PID_FILE, 0, &pidtext, NULL, NULL) < 0)
		return 0;
	pidtext[strcspn(pidtext, "\n")] = '\0';
	if (parse_u64(pidtext, 2, INT32_MAX, &pid_u, NULL) < 0)
		return 0;
	pid = (pid_t)pid_u;
	/* Ours names our config; a command line longer than ours can be is someone else's. */
	(void)snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	if (read_file(path, MAX_STALE_CMDLINE, 0, &cmd, &len, NULL) < 0 || len == 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (cmd[i] == '\0')
			cmd[i] = ' ';
	return strstr(cmd, d->conf) ? pid : 0;
}

static int spawn_now(struct dnsmasq *d, struct dl_err *reterr);

static void
stale_done(struct dnsmasq *d)
{
	struct dl_err err = { 0 };

	if (d->stale_pidfd >= 0) {
		loop_del_fd(d->bs->loop, d->stale_pidfd);
		close(d->stale_pidfd);
		d->stale_pidfd = -1;
	}
	if (d->stale_timer > 0)
		loop_cancel_timer(d->bs->loop, d->stale_timer);
	d->stale_timer = 0;
	d->stale_pid = 0;
	if (d->stopping)
		return;
	if (spawn_now(d, &err) < 0) {
		log_err("event=dnsmasq_start msg=\"%s, will retry\"", err.msg);
		/* a failed start counts as a death at once: the delay keeps doubling */
		d->restart_timer = loop_add_timer(d->bs->loop,
		    loop_now_ms() + backoff_next(&d->backoff, 0), dnsmasq_restart, d);
	}
}

static void
on_stale_exit(struct loop *l, int fd, uint32_t events, void *userdata)
{
	(void)l;
	(void)fd;
	(void)events;
	stale_done(userdata);
}

/* The stale dnsmasq outlived SIGTERM's grace: SIGKILL, and one more grace for the kernel
 * to free its ports; after that ours starts whatever happened. */
static void
on_stale_timeout(struct loop *l, void *userdata)
{
	struct dnsmasq *d = userdata;

	d->stale_timer = 0;
	if (d->stale_killed) {
		log_warning("event=dnsmasq_stale pid=%d msg=\"still there after SIGKILL, "
			    "starting anyway\"", (int)d->stale_pid);
		stale_done(d);
		return;
	}
	(void)kill(d->stale_pid, SIGKILL);
	d->stale_killed = true;
	d->stale_timer = loop_add_timer(l, loop_now_ms() + DNSMASQ_STALE_GRACE_MS,
	    on_stale_timeout, d);
}

/* Not our child, so no waitid: its pidfd (pidfd_open works for any process) becomes
 * readable when it exits, and the loop goes on meanwhile (issue #11: this used to
 * usleep up to 3 s on the loop). 1: ending one, the start follows; 0: none. */
static int
kill_stale(struct dnsmasq *d)
{
	pid_t pid = find_stale(d);
	int fd;

	if (pid <= 0)
		return 0;
	log_warning("event=dnsmasq_stale pid=%d msg=\"a previous run's dnsmasq is still up, "
		    "ending it\"", (int)pid);
	fd = spawn_pidfd(pid);
	if (fd < 0)
		return 0; /* ESRCH: gone already */
	if (loop_add_fd(d->bs->loop, fd, EPOLLIN, on_stale_exit, d) < 0) {
		/* cannot wait for it without blocking: end it hard and start; a port still
		 * held shows as dnsmasq's own error and the restart backoff */
		(void)kill(pid, SIGKILL);
		close(fd);
		return 0;
	}
	d->stale_pid = pid;
	d->stale_pidfd = fd;
	d->stale_killed = false;
	d->stale_timer = loop_add_timer(d->bs->loop, loop_now_ms() + DNSMASQ_STALE_GRACE_MS,
	    on_stale_timeout, d);
	(void)kill(pid, SIGTERM);
	return 1;
}

/* Start the child now and watch it. A child we cannot watch would run unsupervised (no
 * restart, not stopped at shutdown: issue #11), so it is ended and the start fails. */
static int
spawn_now(struct dnsmasq *d, struct dl_err *reterr)
{
	char conf_arg[MAX_STORE_PATH + 64], pidpath[MAX_STORE_PATH + 32], pidbuf[32];
	const char *argv[] = { d->bs->cfg.dnsmasq, "--keep-in-foreground", conf_arg, NULL };
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	pid_t pid;
	int r, n, pidfd;

	(void)snprintf(conf_arg, sizeof(conf_arg), "--conf-file=%s", d->conf);
	r = spawn_start(argv, &o, &pid, reterr);
	if (r < 0)
		return r;
	pidfd = spawn_pidfd(pid);
	if (pidfd < 0) {
		r = dl_err_set(reterr, pidfd, "pidfd_open(dnsmasq): %s", strerror(-pidfd));
		goto out_kill;
	}
	r = loop_add_fd(d->bs->loop, pidfd, EPOLLIN, on_exit_event, d);
	if (r < 0) {
		dl_err_set(reterr, r, "watching dnsmasq: %s", strerror(-r));
		close(pidfd);
		goto out_kill;
	}
	d->pid = pid;
	d->pidfd = pidfd;
	d->started_ms = loop_now_ms();
	/* For admins and tests: which process is ours. */
	(void)snprintf(pidpath, sizeof(pidpath), "%s/dnsmasq.pid", d->dir);
	n = snprintf(pidbuf, sizeof(pidbuf), "%d\n", (int)d->pid);
	(void)write_file(pidpath, pidbuf, (size_t)n);
	log_info("event=dnsmasq_start pid=%d interface=%s conf=%s", (int)d->pid,
	    d->bs->cfg.interface, d->conf);
	return 0;

out_kill:
	/* Just started, so SIGKILL ends it at once and the blocking reap is short. */
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, NULL, 0);
	return r;
}

int
dnsmasq_start(struct dnsmasq *d, struct dl_err *reterr)
{
	if (d->privsep)
		return privsep_dhcp_start(d->privsep, reterr);
	if (d->stale_pid > 0 || d->pid > 0)
		return 0; /* starting or running */
	if (kill_stale(d) > 0)
		return 0;
	return spawn_now(d, reterr);
}

void
dnsmasq_use_privsep(struct dnsmasq *d, struct privsep *p)
{
	d->privsep = p;
}

int
dnsmasq_hosts_chown(struct dnsmasq *d, uid_t uid, gid_t gid, struct dl_err *reterr)
{
	const char *dirs[] = { d->hosts, d->hosts_new };

	for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
		if (chown(dirs[i], uid, gid) < 0)
			return dl_err_set(reterr, negative_errno(), "dnsmasq hosts '%s': %s",
			    dirs[i], strerror(errno));
	return 0;
}

void
dnsmasq_status(const struct dnsmasq *d, pid_t *ret_pid, uint64_t *ret_restarts)
{
	struct dl_err err = { 0 };

	*ret_pid = 0;
	*ret_restarts = 0;
	if (!d)
		return;
	if (!d->privsep) {
		*ret_pid = d->pid;
		*ret_restarts = d->bs->metrics.dnsmasq_restarts;
		return;
	}
	if (privsep_dhcp_status(d->privsep, ret_pid, ret_restarts, &err) < 0)
		log_warning("event=dnsmasq_status msg=\"%s, reporting it down\"", err.msg);
}

pid_t
dnsmasq_pid(const struct dnsmasq *d)
{
	pid_t pid;
	uint64_t restarts;

	dnsmasq_status(d, &pid, &restarts);
	return pid;
}

struct dnsmasq *
dnsmasq_free(struct dnsmasq *d)
{
	if (!d)
		return NULL;
	d->stopping = true;
	if (d->restart_timer > 0)
		loop_cancel_timer(d->bs->loop, d->restart_timer);
	if (d->stale_pid > 0)
		stale_done(d); /* stopping: it only lets go of the pidfd and the timer */
	if (d->pid > 0 && d->pidfd >= 0) {
		siginfo_t si;
		(void)kill(d->pid, SIGTERM);
		/* Bounded wait: 2 s, then SIGKILL. Shutdown only, so blocking is fine here. */
		for (int i = 0; i < 200; i++) {
			memset(&si, 0, sizeof(si));
			if (waitid(P_PIDFD, (id_t)d->pidfd, &si, WEXITED | WNOHANG) == 0 &&
			    si.si_pid != 0)
				break;
			usleep(10000);
			if (i == 199) {
				(void)kill(d->pid, SIGKILL);
				(void)waitid(P_PIDFD, (id_t)d->pidfd, &si, WEXITED);
			}
		}
		loop_del_fd(d->bs->loop, d->pidfd);
		close(d->pidfd);
	}
	free(d);
	return NULL;
}

/* Several instances (issue 15, docs/scale-out.md "Segments"): each serves DHCP on its
 * own segment only, and a node's segment is where its fixed address lies. A node whose
 * address is outside this instance's node_ip_range is another instance's: an entry here
 * would hand it an address of the wrong network if its DHCP ever reached us. A node with
 * no fixed address belongs to no segment and is listed everywhere. Alone (no cluster),
 * every node is listed, as before: an admin may give --ip outside the allocation range. */
static bool
serves(const struct dnsmasq *d, const char *ip)
{
	const struct config *cfg = &d->bs->cfg;
	uint32_t a, lo, hi;

	if (!config_clustered(cfg) || !cfg->node_ip_start[0] || !ip[0])
		return true;
	if (parse_ipv4(ip, &a, NULL) < 0 || parse_ipv4(cfg->node_ip_start, &lo, NULL) < 0 ||
	    parse_ipv4(cfg->node_ip_end, &hi, NULL) < 0)
		return false;
	return ntohl(a) >= ntohl(lo) && ntohl(a) <= ntohl(hi);
}

/* Whether path already holds exactly data: a periodic resync (several instances learn
 * of nodes another one added) then rewrites nothing, and dnsmasq re-reads nothing. */
static bool
same_content(const char *path, const char *data, size_t len)
{
	char buf[256];
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0 || len >= sizeof(buf))
		return false;
	n = read(fd, buf, sizeof(buf));
	return n == (ssize_t)len && memcmp(buf, data, len) == 0;
}

int
dnsmasq_host_write(struct dnsmasq *d, const struct node_rec *n)
{
	char path[MAX_STORE_PATH + 128], tmp[MAX_STORE_PATH + 128], line[160];
	int len;

	if (!d)
		return 0;
	(void)snprintf(path, sizeof(path), "%s/%s", d->hosts, n->name);
	(void)snprintf(tmp, sizeof(tmp), "%s/%s.tmp", d->hosts_new, n->name);
	if (!serves(d, n->ip)) {
		/* Moved to another segment: dnsmasq forgets a removed entry only on SIGHUP. */
		if (unlink(path) == 0)
			dnsmasq_reload_hosts(d);
		return 0;
	}
	if (n->ip[0])
		len = snprintf(line, sizeof(line), "%s,%s,%s\n", n->mac, n->ip, n->name);
	else
		len = snprintf(line, sizeof(line), "%s,%s\n", n->mac, n->name);
	if (same_content(path, line, (size_t)len))
		return 0;
	return write_file_via(path, tmp, line, (size_t)len);
}

void
dnsmasq_reload_hosts(struct dnsmasq *d)
{
	struct dl_err err = { 0 };

	if (d && d->privsep) {
		if (privsep_dhcp_reload(d->privsep, &err) < 0)
			log_warning("event=dnsmasq_reload msg=\"%s, ignoring\"", err.msg);
		return;
	}
	if (d && d->pid > 0)
		(void)kill(d->pid, SIGHUP); /* if it just died, the restart reads the dir anyway */
}

int
dnsmasq_host_remove(struct dnsmasq *d, const char *name)
{
	char path[MAX_STORE_PATH + 128];

	if (!d)
		return 0;
	(void)snprintf(path, sizeof(path), "%s/%s", d->hosts, name);
	if (unlink(path) < 0 && errno != ENOENT)
		return negative_errno();
	dnsmasq_reload_hosts(d);
	return 0;
}

int
dnsmasq_hosts_prune(struct dnsmasq *d, dnsmasq_keep_fn keep, void *userdata)
{
	struct dirent *e;
	DIR *dir;
	int removed = 0;

	if (!d)
		return 0;
	dir = opendir(d->hosts);
	if (!dir)
		return negative_errno();
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.' || keep(e->d_name, userdata) != 0)
			continue;
		if (unlinkat(dirfd(dir), e->d_name, 0) == 0) {
			log_notice("event=dhcp_host_prune node=%s msg=\"no such node in the store: "
			    "its DHCP entry is removed\"", e->d_name);
			removed++;
		}
	}
	(void)closedir(dir);
	if (removed)
		dnsmasq_reload_hosts(d);
	return removed;
}
