/* SPDX-License-Identifier: MIT */
/* bootsvc/dhcp/dnsmasq.c's supervision (issue 11): a child it cannot watch is not left
 * running, and a previous run's dnsmasq is ended without blocking the loop. The child is
 * a stand-in (a shell that sleeps): what is tested is our supervision, not dnsmasq, which
 * the integration tests run for real. Faults are injected at the link (-Wl,--wrap, see
 * the Makefile) into spawn_pidfd() and loop_add_fd() as dnsmasq.c calls them. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "../../bootsvc/bootsvc.h"
#include "../../bootsvc/dhcp/dnsmasq.h"
#include "loop_wait.h"
#include "readfile.h"
#include "spawn.h"
#include "tmpdir.h"

/* Which wrapped call fails next (once): none, pidfd_open, loop_add_fd. */
enum fault { FAULT_NONE, FAULT_PIDFD, FAULT_LOOP_ADD };
static enum fault fault;

int __real_spawn_pidfd(pid_t pid);
int __wrap_spawn_pidfd(pid_t pid);
int __real_loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_fn fn,
    void *userdata);
int __wrap_loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_fn fn,
    void *userdata);

int
__wrap_spawn_pidfd(pid_t pid)
{
	if (fault == FAULT_PIDFD) {
		fault = FAULT_NONE;
		return -EMFILE;
	}
	return __real_spawn_pidfd(pid);
}

int
__wrap_loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_fn fn, void *userdata)
{
	if (fault == FAULT_LOOP_ADD) {
		fault = FAULT_NONE;
		return -ENOMEM;
	}
	return __real_loop_add_fd(l, fd, events, fn, userdata);
}

struct fixture {
	struct bootsvc bs;
	struct dnsmasq *d;
	char state[128], ipxe[128], prog[160];
};

static void
write_text(const char *path, const char *text, mode_t mode)
{
	tmpdir_write(path, text, strlen(text), mode, 0);
}

static int
setup(void **state)
{
	static const char *const bins[] = { "undionly.kpxe", "ipxe.efi", "snponly.efi" };
	struct fixture *f = calloc(1, sizeof(*f));
	struct dl_err e = { 0 };
	char path[256];

	assert_non_null(f);
	snprintf(f->state, sizeof(f->state), "%s/state", tmpdir);
	snprintf(f->ipxe, sizeof(f->ipxe), "%s/ipxe", tmpdir);
	snprintf(f->prog, sizeof(f->prog), "%s/fake-dnsmasq", tmpdir);
	assert_int_equal(mkdir(f->state, 0755), 0);
	assert_int_equal(mkdir(f->ipxe, 0755), 0);
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", f->ipxe, bins[i]);
		write_text(path, "binary", 0644);
	}
	/* exec: SIGTERM from dnsmasq_free() reaches the sleep itself */
	write_text(f->prog, "#!/bin/sh\nexec sleep 30\n", 0755);
	config_init(&f->bs.cfg);
	strcpy(f->bs.cfg.state_dir, f->state);
	strcpy(f->bs.cfg.ipxe_dir, f->ipxe);
	strcpy(f->bs.cfg.dnsmasq, f->prog);
	strcpy(f->bs.cfg.template_dir, "ipxe-scripts"); /* the repo's: tests run from its root */
	strcpy(f->bs.cfg.interface, "lo");
	strcpy(f->bs.cfg.boot_url, "http://127.0.0.1:8080");
	strcpy(f->bs.cfg.dhcp_range_start, "10.0.0.100");
	strcpy(f->bs.cfg.dhcp_range_end, "10.0.0.199");
	assert_int_equal(loop_new(&f->bs.loop), 0);
	assert_int_equal(dnsmasq_new(&f->bs, &f->d, &e), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	f->d = dnsmasq_free(f->d);
	f->bs.loop = loop_free(f->bs.loop);
	(void)!system("rm -rf /tmp/test_dnsmasq.*/state /tmp/test_dnsmasq.*/ipxe "
		      "/tmp/test_dnsmasq.*/fake-dnsmasq");
	free(f);
	return 0;
}

/* No child of this process is running (all reaped): waitpid says ECHILD. */
static bool
no_children(void)
{
	int st;

	return waitpid(-1, &st, WNOHANG) < 0 && errno == ECHILD;
}

/* pidfd_open or loop_add_fd failing after the spawn: the start fails and the child it
 * spawned is gone (before the fix it ran on, unsupervised and never stopped). */
static void
test_unwatched_child_is_ended(void **state)
{
	struct fixture *f = *state;
	const enum fault faults[] = { FAULT_PIDFD, FAULT_LOOP_ADD };

	for (size_t i = 0; i < 2; i++) {
		struct dl_err e = { 0 };

		fault = faults[i];
		assert_true(dnsmasq_start(f->d, &e) < 0);
		assert_int_equal(fault, FAULT_NONE); /* the fault was reached */
		assert_true(strstr(e.msg, i == 0 ? "pidfd_open" : "watching dnsmasq") != NULL);
		assert_int_equal(dnsmasq_pid(f->d), 0);
		assert_true(no_children());
	}
	/* and without a fault it starts and is watched */
	{
		struct dl_err e = { 0 };
		assert_int_equal(dnsmasq_start(f->d, &e), 0);
		assert_true(dnsmasq_pid(f->d) > 0);
	}
}

/* A process that ignores SIGTERM whose command line names our config, its pid in
 * dnsmasq.pid: a previous run's dnsmasq. A grandchild, so init reaps it, as it would a
 * real leftover. */
static pid_t
start_stale(const struct fixture *f)
{
	char conf[256], pidpath[256], pidtext[32];
	int fds[2];
	pid_t pid, child;

	snprintf(conf, sizeof(conf), "%s/dnsmasq/dnsmasq.conf", f->state);
	assert_int_equal(pipe(fds), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		pid_t g = fork();
		if (g == 0) {
			close(fds[0]);
			close(fds[1]);
			execl("/bin/sh", "sh", "-c", "trap '' TERM; while :; do sleep 0.2; done",
			    conf, (char *)NULL);
			_exit(127);
		}
		(void)!write(fds[1], &g, sizeof(g));
		_exit(0);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &pid, sizeof(pid)), (ssize_t)sizeof(pid));
	close(fds[0]);
	assert_int_equal(waitpid(child, NULL, 0), child);
	snprintf(pidpath, sizeof(pidpath), "%s/dnsmasq/dnsmasq.pid", f->state);
	snprintf(pidtext, sizeof(pidtext), "%d\n", (int)pid);
	write_text(pidpath, pidtext, 0644);
	usleep(100000); /* let sh set its trap: the point is a SIGTERM it ignores */
	return pid;
}

/* Alive, not a zombie. */
static bool
is_running(pid_t pid)
{
	char path[64], *text = NULL, *p;
	size_t n = 0;
	bool running = false;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fp = fopen(path, "re");
	if (!fp)
		return false;
	if (getline(&text, &n, fp) > 0 && (p = strrchr(text, ')')) && p[1] == ' ')
		running = p[2] != 'Z' && p[2] != 'X';
	free(text);
	fclose(fp);
	return running;
}

static bool
started(void *arg)
{
	return dnsmasq_pid(arg) > 0;
}

/* The start returns at once with the stale one still there (before the fix it slept on
 * the loop until SIGKILL had ended it); the loop ends it and then starts ours. */
static void
test_stale_is_ended_on_the_loop(void **state)
{
	struct fixture *f = *state;
	struct dl_err e = { 0 };
	pid_t stale = start_stale(f);

	assert_true(is_running(stale));
	assert_int_equal(dnsmasq_start(f->d, &e), 0);
	assert_true(is_running(stale));     /* not waited for: the loop goes on */
	assert_int_equal(dnsmasq_pid(f->d), 0); /* ours waits for it */
	/* SIGTERM is ignored: the grace, SIGKILL, then ours (bounded wait, no timing
	 * asserted: the grace constants say how long it takes) */
	assert_true(loop_wait(f->bs.loop, started, NULL, f->d, 30000));
	assert_false(is_running(stale));
}

/* What DHCP hands iPXE is the start script in dnsmasq's own TFTP root (issue 15), in
 * both modes, never bootsvc's HTTP URL: a node gets it while bootsvc is down. */
static void
test_start_script_over_tftp(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *conf = NULL, *script = NULL;
	struct dl_err e = { 0 };
	char path[256];

	snprintf(path, sizeof(path), "%s/dnsmasq/tftp/start.ipxe", f->state);
	assert_int_equal(read_file(path, 65536, 0, &script, NULL, &e), 0);
	assert_non_null(strstr(script, "\nset dl-s0 http://127.0.0.1:8080\n"));
	snprintf(path, sizeof(path), "%s/dnsmasq/dnsmasq.conf", f->state);
	assert_int_equal(read_file(path, 65536, 0, &conf, NULL, &e), 0);
	assert_non_null(strstr(conf, "\ndhcp-boot=tag:ipxe,start.ipxe\n"));
	assert_null(strstr(conf, "/ipxe/start"));
	free(conf);
	conf = NULL;

	/* proxy-DHCP: the BIOS menu entry and UEFI's boot file name the same script */
	f->d = dnsmasq_free(f->d);
	f->bs.cfg.dhcp_mode = DHCP_MODE_PROXY;
	strcpy(f->bs.cfg.proxy_subnet, "10.0.0.0");
	assert_int_equal(dnsmasq_new(&f->bs, &f->d, &e), 0);
	assert_int_equal(read_file(path, 65536, 0, &conf, NULL, &e), 0);
	assert_non_null(strstr(conf, "\ndhcp-boot=tag:ipxe,start.ipxe\n"));
	assert_non_null(strstr(conf, "\npxe-service=tag:ipxe,x86PC,\"diskless\",start.ipxe\n"));
	assert_null(strstr(conf, "/ipxe/start"));

	/* a template that does not render stops the setup, naming the file */
	f->d = dnsmasq_free(f->d);
	snprintf(path, sizeof(path), "%s/tmpl", tmpdir);
	assert_int_equal(mkdir(path, 0755), 0);
	strcpy(f->bs.cfg.template_dir, path);
	snprintf(path, sizeof(path), "%s/tmpl/start.ipxe", tmpdir);
	write_text(path, "#!ipxe\nchain {{nonsense}}\n", 0644);
	assert_int_equal(dnsmasq_new(&f->bs, &f->d, &e), -EINVAL);
	assert_null(f->d);
	assert_non_null(strstr(e.msg, "tmpl/start.ipxe"));
	assert_non_null(strstr(e.msg, "nonsense"));
	(void)!system("rm -rf /tmp/test_dnsmasq.*/tmpl");
}

static bool
host_file(const struct fixture *f, const char *name, ino_t *ret_ino)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/dnsmasq/hosts/%s", f->state, name);
	if (stat(path, &st) < 0)
		return false;
	if (ret_ino)
		*ret_ino = st.st_ino;
	return true;
}

/* Several instances (issue 15, docs/scale-out.md "Segments"): with a postgresql store, the
 * hosts dir lists only nodes whose fixed address is in this instance's node_ip_range
 * (and nodes without one); a node that moves out has its entry removed. Alone, every
 * node is listed as before. A write that changes nothing leaves the file alone (the
 * periodic resync costs no dnsmasq re-read). */
static void
test_segment_hosts(void **state)
{
	struct fixture *f = *state;
	struct node_rec n = { .name = "far", .mac = "52:54:00:00:00:01", .ip = "10.0.1.5" };
	struct node_rec near = { .name = "near", .mac = "52:54:00:00:00:02", .ip = "10.0.0.20" };
	struct node_rec dyn = { .name = "dyn", .mac = "52:54:00:00:00:03" };
	ino_t i1, i2;

	strcpy(f->bs.cfg.node_ip_start, "10.0.0.10");
	strcpy(f->bs.cfg.node_ip_end, "10.0.0.99");
	assert_int_equal(dnsmasq_host_write(f->d, &n), 0);
	assert_true(host_file(f, "far", NULL));          /* alone: listed */
	strcpy(f->bs.cfg.store, "postgresql://db/diskless");
	assert_int_equal(dnsmasq_host_write(f->d, &n), 0);
	assert_false(host_file(f, "far", NULL));         /* another segment's: removed */
	assert_int_equal(dnsmasq_host_write(f->d, &n), 0);
	assert_false(host_file(f, "far", NULL));
	assert_int_equal(dnsmasq_host_write(f->d, &near), 0);
	assert_true(host_file(f, "near", &i1));
	assert_int_equal(dnsmasq_host_write(f->d, &dyn), 0);
	assert_true(host_file(f, "dyn", NULL));           /* no fixed address: everywhere */
	assert_int_equal(dnsmasq_host_write(f->d, &near), 0);
	assert_true(host_file(f, "near", &i2));
	assert_true(i1 == i2);                            /* unchanged: not rewritten */
	strcpy(near.mac, "52:54:00:00:00:04");
	assert_int_equal(dnsmasq_host_write(f->d, &near), 0);
	assert_true(host_file(f, "near", &i2));
	assert_true(i1 != i2);                            /* changed: rewritten */
	strcpy(near.ip, "10.0.0.100");                     /* out of node_ip_range */
	assert_int_equal(dnsmasq_host_write(f->d, &near), 0);
	assert_false(host_file(f, "near", NULL));
}

/* Entries of nodes the store no longer has go (deleted through another instance); the
 * store's "cannot say" keeps them. */
static int
keep_named(const char *name, void *userdata)
{
	const char *gone = userdata;

	if (strcmp(name, "unsure") == 0)
		return -EIO;
	return strcmp(name, gone) != 0;
}

static void
test_hosts_prune(void **state)
{
	struct fixture *f = *state;
	struct node_rec a = { .name = "a", .mac = "52:54:00:00:00:01" };
	struct node_rec b = { .name = "b", .mac = "52:54:00:00:00:02" };
	struct node_rec u = { .name = "unsure", .mac = "52:54:00:00:00:03" };

	assert_int_equal(dnsmasq_host_write(f->d, &a), 0);
	assert_int_equal(dnsmasq_host_write(f->d, &b), 0);
	assert_int_equal(dnsmasq_host_write(f->d, &u), 0);
	assert_int_equal(dnsmasq_hosts_prune(f->d, keep_named, "b"), 1);
	assert_true(host_file(f, "a", NULL));
	assert_false(host_file(f, "b", NULL));
	assert_true(host_file(f, "unsure", NULL));
	assert_int_equal(dnsmasq_hosts_prune(f->d, keep_named, "b"), 0);
}

/* The lease file as dnsmasq writes it: a discovered node being assigned keeps its lease
 * (issue 16). */
static void
test_lease_find(void **state)
{
	static const char leases[] =
	    "duid 00:01:00:01:2c:aa:bb:cc:52:54:00:00:00:09\n"
	    "1764931200 52:54:00:00:00:01 10.0.0.150 d-525400000001 01:52:54:00:00:00:01\n"
	    "1764931300 52:54:00:aa:bb:02 10.0.0.151 * *\n"
	    "1764931400 52:54:00:00:00:03 10.0.0.1234 * *\n"
	    "1764931500 52:54:00:00:00:04";
	char ip[16] = "";

	(void)state;
	assert_int_equal(dnsmasq_lease_find(leases, "52:54:00:00:00:01", ip), 0);
	assert_string_equal(ip, "10.0.0.150");
	/* dnsmasq writes lowercase, the store keeps what mac_to_string made */
	assert_int_equal(dnsmasq_lease_find(leases, "52:54:00:AA:BB:02", ip), 0);
	assert_string_equal(ip, "10.0.0.151");
	assert_int_equal(dnsmasq_lease_find(leases, "52:54:00:00:00:03", ip), -ENOENT);
	assert_int_equal(dnsmasq_lease_find(leases, "52:54:00:00:00:04", ip), -ENOENT);
	assert_int_equal(dnsmasq_lease_find(leases, "52:54:00:00:00:05", ip), -ENOENT);
	assert_int_equal(dnsmasq_lease_find("", "52:54:00:00:00:01", ip), -ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unwatched_child_is_ended, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_is_ended_on_the_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_script_over_tftp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_segment_hosts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hosts_prune, setup, teardown),
		cmocka_unit_test(test_lease_find),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
