/* SPDX-License-Identifier: MIT */
/* bootsvc/iscsi/tgtd.c's tgtadm steps for one target (issue 14), with stand-ins: tgtd is a
 * shell that sleeps, tgtadm a shell that appends its arguments to a log and answers only
 * while that tgtd lives. What is tested is the order of our steps, which tgt cannot show:
 * a target opens to its node's address only once its LUN and CHAP accounts are in place,
 * so a login that lands in the middle of a set (an initiator retrying through a tgtd
 * restart) is refused and retried, never let in without CHAP or without its disk. With
 * the address bound before the accounts (as until 2026-12-07) these tests fail. The
 * integration tests (iscsi_boot, iscsi_faults) run the real tgtd. */
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

#include "../../bootsvc/config.h"
#include "../../bootsvc/iscsi/tgtd.h"
#include "../../bootsvc/loop.h"
#include "macro.h"
#include "readfile.h"
#include "tmpdir.h"

struct fixture {
	struct config cfg;
	struct loop *loop;
	struct tgtd *t;
	char state[128], log[160], pid[160], tgtd[160], tgtadm[160];
};

static void
write_text(const char *path, const char *text, mode_t mode)
{
	tmpdir_write(path, text, strlen(text), mode, 0);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct dl_err e = { 0 };
	char script[1024];

	assert_non_null(f);
	snprintf(f->state, sizeof(f->state), "%s/state", tmpdir);
	snprintf(f->log, sizeof(f->log), "%s/tgtadm.log", tmpdir);
	snprintf(f->pid, sizeof(f->pid), "%s/tgtd.pid", tmpdir);
	snprintf(f->tgtd, sizeof(f->tgtd), "%s/fake-tgtd", tmpdir);
	snprintf(f->tgtadm, sizeof(f->tgtadm), "%s/fake-tgtadm", tmpdir);
	assert_int_equal(mkdir(f->state, 0755), 0);
	/* exec: the pid written is the sleep's, which `system delete` ends */
	snprintf(script, sizeof(script), "#!/bin/sh\necho $$ >%s\nexec sleep 30\n", f->pid);
	write_text(f->tgtd, script, 0755);
	/* As tgtadm: fails while no tgtd answers (how tgtd.c sees that one is up or gone). */
	snprintf(script, sizeof(script),
	    "#!/bin/sh\n"
	    "pid=$(cat %s 2>/dev/null) && kill -0 \"$pid\" 2>/dev/null || exit 107\n"
	    /* " .": a mark after the last argument, so "--user n07 ." is not n07-target */
	    "echo \"$* .\" >>%s\n"
	    "case \"$*\" in *'--mode system --op delete'*) kill \"$pid\";; esac\n"
	    "exit 0\n", f->pid, f->log);
	write_text(f->tgtadm, script, 0755);
	config_init(&f->cfg);
	strcpy(f->cfg.state_dir, f->state);
	strcpy(f->cfg.tgtd, f->tgtd);
	strcpy(f->cfg.tgtadm, f->tgtadm);
	strcpy(f->cfg.iscsi_portal, "127.0.0.1");
	assert_int_equal(loop_new(&f->loop), 0);
	assert_int_equal(tgtd_new(f->loop, &f->cfg, 0, &f->t, &e), 0);
	{
		pid_t pid;
		uint64_t restarts, gen;

		tgtd_status(f->t, &pid, &restarts, &gen);
		assert_true(pid > 0);
		assert_int_equal(gen, 1);
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char path[160];

	f->t = tgtd_free(f->t);
	f->loop = loop_free(f->loop);
	(void)unlink(f->log);
	(void)unlink(f->pid);
	(void)unlink(f->tgtd);
	(void)unlink(f->tgtadm);
	snprintf(path, sizeof(path), "%s/tgt", f->state);
	(void)rmdir(path);
	(void)rmdir(f->state);
	free(f);
	return 0;
}

static void
target_make(struct tgt_target *tt, bool mutual)
{
	memset(tt, 0, sizeof(*tt));
	tt->tid = 7;
	strcpy(tt->iqn, "iqn.2026-12.local.diskless:n07");
	strcpy(tt->initiator_name, "iqn.2026-12.local.diskless:n07.initiator");
	strcpy(tt->initiator_addr, "10.0.0.7");
	strcpy(tt->chap_user, "n07");
	strcpy(tt->chap_secret, "in-secret-0123456789");
	if (mutual) {
		strcpy(tt->mutual_user, "n07-target");
		strcpy(tt->mutual_secret, "out-secret-0123456789");
	}
}

/* Index of the first of lines holding a (and b, when not NULL); -1 if none. */
static int
line_of(char *const *lines, size_t n, const char *a, const char *b)
{
	for (size_t i = 0; i < n; i++)
		if (strstr(lines[i], a) && (!b || strstr(lines[i], b)))
			return (int)i;
	return -1;
}

/* The tgtadm runs of one tgtd_target_set, from the log (truncated before the call). */
static void
set_and_read(struct fixture *f, const struct tgt_target *tt, char **buf, char **lines,
    size_t max, size_t *ret_n)
{
	struct dl_err e = { 0 };
	size_t len = 0, n = 0;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_true(truncate(f->log, 0) == 0 || errno == ENOENT);
	assert_int_equal(tgtd_target_set(f->t, tt, fd, &e), 0);
	close(fd);
	assert_int_equal(read_file(f->log, 1 << 16, 0, buf, &len, &e), 0);
	for (char *p = *buf, *nl; (nl = strchr(p, '\n')) && n < max; p = nl + 1) {
		*nl = '\0';
		lines[n++] = p;
	}
	*ret_n = n;
}

static void
check_order(struct fixture *f, bool mutual)
{
	struct tgt_target tt;
	_cleanup_free_ char *buf = NULL;
	char *lines[32];
	size_t n;
	int tgt, lun, acct, mut, addr;

	target_make(&tt, mutual);
	set_and_read(f, &tt, &buf, lines, 32, &n);
	tgt = line_of(lines, n, "--mode target --op new", "--tid 7");
	lun = line_of(lines, n, "--mode logicalunit --op new", "--lun 1");
	acct = line_of(lines, n, "--mode account --op bind", "--user n07 .");
	mut = line_of(lines, n, "--op bind --tid 7 --user n07-target --outgoing", NULL);
	addr = line_of(lines, n, "--op bind", "--initiator-address 10.0.0.7");
	assert_true(tgt >= 0);
	assert_true(lun > tgt);
	assert_true(acct > tgt);
	/* the address binding is the target's last step: nothing after it */
	assert_int_equal(addr, (int)n - 1);
	assert_true(addr > lun && addr > acct);
	if (mutual)
		assert_true(mut >= 0 && addr > mut);
	else
		assert_int_equal(mut, -1);
	/* the one address binding there is */
	assert_int_equal(line_of(lines + addr + 1, n - (size_t)addr - 1, "--initiator-address",
	    NULL), -1);
}

static void
test_address_last_mutual(void **state)
{
	check_order(*state, true);
}

static void
test_address_last_one_way(void **state)
{
	check_order(*state, false);
}

/* Replacing a target: its old accounts go before the new target is made, and the new
 * one still opens last. */
static void
test_replace(void **state)
{
	struct fixture *f = *state;
	struct tgt_target tt;
	_cleanup_free_ char *b1 = NULL, *b2 = NULL;
	char *lines[32];
	size_t n;

	target_make(&tt, true);
	set_and_read(f, &tt, &b1, lines, 32, &n);
	set_and_read(f, &tt, &b2, lines, 32, &n);
	assert_true(line_of(lines, n, "--mode account --op delete", "--user n07") <
	    line_of(lines, n, "--mode target --op new", NULL));
	assert_int_equal(line_of(lines, n, "--initiator-address 10.0.0.7", NULL), (int)n - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_address_last_mutual, setup, teardown),
		cmocka_unit_test_setup_teardown(test_address_last_one_way, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace, setup, teardown),
	};

	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
