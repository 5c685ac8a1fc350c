/* SPDX-License-Identifier: MIT */
/* bootsvc: options, config, then the loop (CONVENTIONS §1). */
#include <getopt.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bootsvc.h"
#include "boot/overlay.h"
#include "action/action.h"
#include "cluster/cluster.h"
#include "control/control.h"
#include "controller/ctrl.h"
#include "dhcp/dnsmasq.h"
#include "fdlimit.h"
#include "http/http.h"
#include "web/web.h"
#include "iscsi/disks.h"
#include "iscsi/san_watch.h"
#include "sync/sync.h"
#include "log.h"
#include "boot/nodes.h"
#include "boot/templates.h"
#include "config_check.h"
#include "pki.h"
#include "privsep/privsep.h"
#include "sdnotify.h"
#include "vm/vm.h"
#include "version.h"

static void
usage(void)
{
	printf("usage: bootsvc [-c FILE] [--check-config] [--KEY=VALUE ...]\n"
	       "  -c, --config FILE   key=value configuration (default: none, built-in defaults)\n"
	       "  --check-config      judge the configuration, report every mistake, start nothing\n"
	       "  --KEY=VALUE         override one configuration key (see docs/bootsvc.conf.md),\n"
	       "                      e.g. --state_dir=/tmp/dl --interface=br0\n"
	       "  -V, --version\n");
}

/* The systemd manager's notify socket, when there is one (sdnotify.h); loop thread only. */
static struct sdnotify sdn;

/* The --KEY=VALUE overrides over c; errors name the option. */
static int
apply_overrides(const struct bootsvc *bs, struct config *c, struct dl_err *err)
{
	int r;

	for (int i = 0; i < bs->n_overrides; i++) {
		char key[64];
		const char *o = bs->overrides[i] + 2, *eq = strchr(o, '=');
		size_t klen;
		if (!eq || (klen = (size_t)(eq - o)) == 0 || klen >= sizeof(key))
			return dl_err_set(err, -EINVAL, "option '%s' is not --KEY=VALUE",
			    bs->overrides[i]);
		memcpy(key, o, klen);
		key[klen] = '\0';
		for (char *k = key; *k; k++)
			if (*k == '-')
				*k = '_';
		r = config_set(c, key, eq + 1, err);
		if (r < 0)
			return dl_err_prefix(err, "option '%s'", bs->overrides[i]), r;
	}
	return 0;
}

/* Load config file then overrides into c; errors name file:line or the option. */
static int
load_config(struct bootsvc *bs, struct config *c, struct dl_err *err)
{
	int r;

	config_init(c);
	if (bs->config_path && bs->privsep) {
		/* the file may be readable by root alone: the parent reads it for us */
		_cleanup_free_ char *buf = NULL;
		size_t len = 0;

		if ((r = privsep_read_config(bs->privsep, &buf, &len, err)) < 0 ||
		    (r = config_parse_buffer(c, bs->config_path, buf, len, err)) < 0)
			return r;
	} else if (bs->config_path && (r = config_parse_file(c, bs->config_path, err)) < 0)
		return r;
	if ((r = apply_overrides(bs, c, err)) < 0)
		return r;
	if ((r = config_resolve(c, err)) < 0)
		return r;
	return config_validate(c, err);
}

static void
print_mistake(const char *msg, void *userdata)
{
	unsigned *n = userdata;

	(*n)++;
	fprintf(stderr, "bootsvc: %s\n", msg);
}

/* --check-config: every mistake on stderr, exit 0 only when there is none. Reads the
 * file as whoever runs it (root for /etc/diskless), writes nothing, starts nothing. */
static int
check_config(struct bootsvc *bs)
{
	struct dl_err err = { 0 };
	struct config c;
	unsigned n = 0;

	config_init(&c);
	if (bs->config_path)
		(void)config_check_file(&c, bs->config_path, print_mistake, &n);
	/* The cross-key rules judge what the admin meant: after a bad line they would judge
	 * a default in its place (a bad dhcp_mode leaves range, which then "needs an
	 * interface"), so they wait until the lines are right. */
	if (apply_overrides(bs, &c, &err) < 0 || config_resolve(&c, &err) < 0 ||
	    (n == 0 && config_validate(&c, &err) < 0))
		print_mistake(err.msg, &n);
	else
		(void)config_check_paths(&c, print_mistake, &n);
	if (n) {
		fprintf(stderr, "bootsvc: %s: %u mistake%s\n",
		    bs->config_path ? bs->config_path : "(built-in defaults)", n, n > 1 ? "s" : "");
		return EXIT_FAILURE;
	}
	printf("%s: configuration ok\n", bs->config_path ? bs->config_path : "(built-in defaults)");
	return EXIT_SUCCESS;
}

/* WATCHDOG=1 at half systemd's interval, from the loop: a stuck loop stops feeding it. */
static void
on_watchdog(struct loop *l, void *userdata)
{
	(void)userdata;
	(void)sdnotify_send(&sdn, "WATCHDOG=1");
	if (loop_add_timer(l, loop_now_ms() + sdnotify_watchdog_ms(&sdn), on_watchdog, NULL) < 0)
		log_err("event=watchdog msg=\"out of memory re-arming the watchdog ping\"");
}

static void
on_quit(struct loop *l, int sig, void *userdata)
{
	(void)userdata;
	log_notice("event=shutdown signal=%d", sig);
	(void)sdnotify_send(&sdn, "STOPPING=1");
	loop_quit(l, 0);
}

/* SIGHUP: re-read config (log level and templates take effect; listening addresses, the
 * DHCP setup, user and bmc_creds_dir need a restart) and re-send every DHCP host entry. */
static void
on_reload(struct loop *l, int sig, void *userdata)
{
	struct bootsvc *bs = userdata;
	struct dl_err err = { 0 };
	struct config c;
	int r;

	(void)l;
	(void)sig;
	if (load_config(bs, &c, &err) < 0) {
		log_err("event=reload msg=\"%s, keeping the running config\"", err.msg);
		return;
	}
	/* What the HTTP reader threads read (http/http.h) changes under their lock. */
	pthread_mutex_lock(&bs->reload_lock);
	r = templates_load(&bs->tmpl, c.template_dir, &err);
	if (r == 0)
		bs->cfg.hold_poll_ms = c.hold_poll_ms;
	pthread_mutex_unlock(&bs->reload_lock);
	if (r < 0) {
		log_err("event=reload msg=\"%s, keeping the loaded templates\"", err.msg);
		return;
	}
	log_set_level(c.log_level);
	bs->cfg.log_level = c.log_level;
	bs->cfg.discover = c.discover;
	strcpy(bs->cfg.template_dir, c.template_dir);
	/* The CA again (replaced or made meanwhile), and a fresh client certificate;
	 * tls_ca_dir and libvirt_pki_dir themselves need a restart (the root parent keeps
	 * the directory it started with). */
	if (pki_load(bs, &err) < 0)
		log_err("event=tls_client msg=\"%s\"", err.msg);
	(void)nodes_sync_dhcp_hosts(bs);
	dnsmasq_reload_hosts(bs->dnsmasq);
	log_notice("event=reload msg=\"configuration and templates reloaded\"");
}

/* Started as root: fork the privileged parent off (it never returns here: *ret_exit is
 * its exit status, and 1 is returned) or, in the child, return 0 with bs->privsep set.
 * Before the fork, as root: the state dir and store made the user's, dnsmasq's directory
 * and config written (root's: dnsmasq reads the config as root), its hosts the user's. */
static int
privsep_fork(struct bootsvc *bs, struct privsep_user *user, pid_t *ret_parent, int *ret_exit,
    struct dl_err *err)
{
	int sv[2], r;
	pid_t child, parent = getpid();

	if ((r = privsep_prepare(&bs->cfg, user, err)) < 0)
		return r;
	if (bs->cfg.dhcp_mode != DHCP_MODE_OFF &&
	    ((r = dnsmasq_new(bs, &bs->dnsmasq, err)) < 0 ||
	    (r = dnsmasq_hosts_chown(bs->dnsmasq, user->uid, user->gid, err)) < 0))
		return r;
	/* SEQPACKET: a message is one datagram, never split or merged (privsep_msg.h). */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return dl_err_set(err, negative_errno(), "privsep socketpair: %s", strerror(errno));
	child = fork();
	if (child < 0) {
		r = dl_err_set(err, negative_errno(), "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return r;
	}
	if (child > 0) {
		close(sv[1]);
		*ret_exit = privsep_parent_run(bs, user, child, sv[0]);
		return 1;
	}
	close(sv[0]);
	bs->privsep = privsep_new(sv[1]);
	if (!bs->privsep)
		return dl_err_set(err, -ENOMEM, "privsep: out of memory");
	if (bs->dnsmasq)
		dnsmasq_use_privsep(bs->dnsmasq, bs->privsep);
	*ret_parent = parent;
	return 0;
}

static int
mkdir_state(const char *dir, struct dl_err *err)
{
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return dl_err_set(err, negative_errno(), "state_dir '%s': %s", dir,
		    strerror(errno));
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct bootsvc bs = { 0 };
	struct dl_err err = { 0 };
	struct action_pool_conf pools[_ACTION_POOL_MAX];
	struct privsep_user user = { 0 };
	pid_t parent = 0;
	char **overrides;
	char dbpath[MAX_CONF_PATH + 16];
	sigset_t mask;
	int r = 0, n_over = 0;
	bool check = false;

	overrides = calloc((size_t)argc, sizeof(char *));
	if (!overrides)
		return EXIT_FAILURE;
	/* --KEY=VALUE overrides are taken out before getopt sees argv. */
	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--", 2) == 0 && strchr(argv[i], '=') &&
		    strncmp(argv[i], "--config=", 9) != 0) {
			overrides[n_over++] = argv[i];
			memmove(&argv[i], &argv[i + 1], (size_t)(argc - i) * sizeof(char *));
			argc--;
			i--;
		}
	}
	for (int c; (c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1;) {
		switch (c) {
		case 'c':
			bs.config_path = optarg;
			break;
		case 'C':
			check = true;
			break;
		case 'h':
			usage();
			free(overrides);
			return EXIT_SUCCESS;
		case 'V':
			printf("bootsvc %s\n", DISKLESS_VERSION);
			free(overrides);
			return EXIT_SUCCESS;
		default:
			free(overrides);
			return EXIT_FAILURE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "bootsvc: unexpected argument '%s'\n", argv[optind]);
		free(overrides);
		return EXIT_FAILURE;
	}
	bs.overrides = overrides;
	bs.n_overrides = n_over;
	if (check) {
		r = check_config(&bs);
		free(overrides);
		return r;
	}
	if (load_config(&bs, &bs.cfg, &err) < 0) {
		fprintf(stderr, "bootsvc: %s\n", err.msg);
		free(overrides);
		return EXIT_FAILURE;
	}
	log_set_level(bs.cfg.log_level);
	log_open("bootsvc");

	/* Block before any thread or child exists so all inherit the mask; the loop takes
	 * them through signalfd. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* Before the fork: raising the hard limit needs root, and the child inherits it. */
	if ((r = fdlimit_raise(&bs.cfg, &err)) < 0)
		goto fail;
	/* Root forks a root parent that keeps only what needs root; this process binds the
	 * listeners and drops before it reads the store or anything from the network. */
	if (geteuid() == 0) {
		int status = EXIT_FAILURE;

		r = privsep_fork(&bs, &user, &parent, &status, &err);
		if (r > 0) {
			free(overrides);
			return status;
		}
		if (r < 0)
			goto fail;
	} else {
		log_notice("event=start uid=%d msg=\"not started as root: one process, no "
			   "privilege separation\"", (int)geteuid());
		if ((r = mkdir_state(bs.cfg.state_dir, &err)) < 0)
			goto fail;
	}
	/* The process that runs the loop speaks to systemd; under privilege separation the
	 * unit's NotifyAccess=all lets it, its parent being the unit's main process. */
	if (sdnotify_init(&sdn, getpid(), parent, &err) < 0) {
		log_warning("event=sdnotify msg=\"%s, not notifying systemd\"", err.msg);
		dl_err_clear(&err);
	}
	if ((r = loop_new(&bs.loop)) < 0) {
		dl_err_set(&err, r, "event loop: %s", strerror(-r));
		goto fail;
	}
	if ((r = loop_add_signal(bs.loop, SIGTERM, on_quit, &bs)) < 0 ||
	    (r = loop_add_signal(bs.loop, SIGINT, on_quit, &bs)) < 0 ||
	    (r = loop_add_signal(bs.loop, SIGHUP, on_reload, &bs)) < 0) {
		dl_err_set(&err, r, "signals: %s", strerror(-r));
		goto fail;
	}
	if ((r = http_start(&bs, &bs.http, &err)) < 0)
		goto fail;
	if ((r = control_start(&bs, &bs.control, &err)) < 0)
		goto fail;
	/* After the control socket: the web view calls its verbs and streams its events. */
	if ((r = web_start(&bs, &bs.web, &err)) < 0)
		goto fail;
	/* Listeners bound (a port below 1024, the socket's group): root is done. Nothing has
	 * been read from the network or the store yet, and no thread exists. */
	if (bs.privsep) {
		if ((r = privsep_drop(&user, parent, &err)) < 0)
			goto fail;
		log_notice("event=privsep_drop user=%s uid=%d gid=%d", user.name, (int)user.uid,
		    (int)user.gid);
	}
	(void)snprintf(dbpath, sizeof(dbpath), "%s/diskless.db", bs.cfg.state_dir);
	if ((r = store_open(bs.cfg.store[0] ? bs.cfg.store : dbpath, &bs.store, &err)) < 0)
		goto fail;
	if ((r = templates_load(&bs.tmpl, bs.cfg.template_dir, &err)) < 0)
		goto fail;
	/* After the drop: the client key is the unprivileged process's, the one that uses it.
	 * No CA is no reason to stop (pki.h); a client certificate that cannot be written is
	 * logged, and VM hosts are then unreachable, saying why. */
	if (pki_load(&bs, &err) < 0) {
		log_err("event=tls_client msg=\"%s\"", err.msg);
		dl_err_clear(&err);
	}
	action_pools_conf(&bs.cfg, pools);
	if ((r = action_new(&bs, pools, _ACTION_POOL_MAX, &bs.action, &err)) < 0)
		goto fail;
	if ((r = sync_new(&bs, &bs.sync, &err)) < 0)
		goto fail;
	if ((r = ctrl_new(&bs, &bs.ctrl, &err)) < 0)
		goto fail;
	if ((r = vm_new(&bs, &bs.vm, &err)) < 0)
		goto fail;
	/* tgtd is the root parent's (iscsi/tgt.h); started unprivileged there is none, and
	 * clones are made but not exported (disks.h). */
	static const struct disks_tgt_ops tgt_ops = {
		.set = privsep_tgt_set, .del = privsep_tgt_del, .status = privsep_tgt_status,
		.export = privsep_disk_export, .unexport = privsep_disk_unexport,
		.qsd_status = privsep_qsd_status,
	};
	if ((r = disks_new(&bs, bs.privsep ? &tgt_ops : NULL, &bs.disks, &err)) < 0)
		goto fail;
	if ((r = san_watch_new(&bs, &bs.san, &err)) < 0)
		goto fail;
	/* After the rooms that act: it fences them, and tells them when they lead. */
	if ((r = cluster_new(&bs, &bs.cluster, &err)) < 0)
		goto fail;
	if (bs.cfg.dhcp_mode != DHCP_MODE_OFF) {
		if (!bs.dnsmasq && (r = dnsmasq_new(&bs, &bs.dnsmasq, &err)) < 0)
			goto fail;
		if ((r = nodes_sync_dhcp_hosts(&bs)) < 0) {
			dl_err_set(&err, r, "writing DHCP host entries: %s", strerror(-r));
			goto fail;
		}
		if ((r = dnsmasq_start(bs.dnsmasq, &err)) < 0)
			goto fail;
	}
	/* Last before the loop: every room the reader threads read (the store, the templates,
	 * the sync room) exists now, and none moves under them. */
	if ((r = http_serve(bs.http, &err)) < 0)
		goto fail;
	log_notice("event=start version=%s state_dir=%s boot_url=%s", DISKLESS_VERSION,
	    bs.cfg.state_dir, bs.cfg.boot_url[0] ? bs.cfg.boot_url : "-");
	/* Listeners bound, dnsmasq started, the store open: ready for systemd's ordering. */
	if ((r = sdnotify_send(&sdn, "READY=1\nSTATUS=serving")) < 0)
		log_warning("event=sdnotify msg=\"READY=1 not delivered to NOTIFY_SOCKET: %s\"",
		    strerror(-r));
	if (sdnotify_watchdog_ms(&sdn) &&
	    loop_add_timer(bs.loop, loop_now_ms() + sdnotify_watchdog_ms(&sdn), on_watchdog,
	    NULL) < 0) {
		r = dl_err_set(&err, -ENOMEM, "watchdog timer: out of memory");
		goto fail;
	}
	r = loop_run(bs.loop);
	if (r < 0)
		dl_err_set(&err, r, "event loop: %s", strerror(-r));
fail:
	if (r < 0)
		log_err("event=exit msg=\"%s\"", err.msg);
	/* The HTTP reader threads before anything they read (the store, the templates, the
	 * sync room) goes; their connections' answers the loop still owes come back to them
	 * in the pools' cancellations, and go with the daemons in http_stop. */
	http_readers_stop(bs.http);
	/* First: closing its session frees the leader lock, so another instance takes over
	 * after its lease rather than after this one's keepalives. */
	bs.cluster = cluster_free(bs.cluster);
	bs.dnsmasq = dnsmasq_free(bs.dnsmasq);
	/* Actions first: the cancelled ones come back to the controller and the verbs. */
	bs.action = action_free(bs.action);
	/* After the pools: their cancelled libvirt jobs come back to the vm room. */
	bs.vm = vm_free(bs.vm);
	bs.san = san_watch_free(bs.san);
	bs.disks = disks_free(bs.disks);
	bs.ctrl = ctrl_free(bs.ctrl);
	/* Before the control socket: its waiters are answered. */
	bs.sync = sync_free(bs.sync);
	bs.web = web_stop(bs.web);
	bs.control = control_stop(bs.control);
	bs.http = http_stop(bs.http);
	bs.loop = loop_free(bs.loop);
	tmpl_bound_cache_done(&bs.tmpl_bound);
	templates_done(&bs.tmpl);
	pki_done(&bs.pki);
	overlay_hosts_done(&bs.hosts);
	bs.store = store_close(bs.store);
	bs.privsep = privsep_free(bs.privsep);
	free(overrides);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
