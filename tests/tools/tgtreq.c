/* SPDX-License-Identifier: MIT */
/* tgtreq: bootsvc's two processes with nothing but the iSCSI door between them, so an
 * integration test drives the child's tgtd requests before the disk room exists. The root
 * side is bootsvc's own privsep_parent_run() (the policy, tgtd's supervision, tgtadm);
 * the forked side drops to USER exactly as bootsvc's child does (privsep_drop) and calls
 * privsep_tgt_set/del/status/sessions with commands read from stdin:
 *
 *   tgtreq STATE_DIR DISK_DIR PORTAL USER [IQN_PREFIX]
 *
 *   set TID NODE ADDR USER SECRET [MUSER MSECRET]     a node's target (names from tgt.h,
 *                                                      backing DISK_DIR/NODE.img)
 *   raw TID IQN BACKING INITIATOR ADDR USER SECRET MUSER MSECRET  any fields ("-" empty)
 *   del TID | status | sessions
 *
 * Each command answers one line: "ok", "err ENAME msg" or, for status,
 * "pid=N restarts=N generation=N"; sessions lists "session TID NAME ADDR" lines, then
 * "end N". EOF ends the child, and the parent stops tgtd and exits with its status. */
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../bootsvc/bootsvc.h"
#include "../../bootsvc/iscsi/tgt.h"
#include "../../bootsvc/privsep/privsep.h"
#include "log.h"

/* A command line: a target's fields with their separators. */
#define MAX_CMD_LINE 4096
#define MAX_WORDS 12

static const char *
dash(const char *s)
{
	return streq(s, "-") ? "" : s;
}

static void
answer(int r, const struct dl_err *e)
{
	if (r < 0)
		printf("err %s %s\n", strerrorname_np(-r) ? strerrorname_np(-r) : "?", e->msg);
	else
		printf("ok\n");
	fflush(stdout);
}

static int
child_main(struct privsep *p, const char *disk_dir, const char *prefix)
{
	char line[MAX_CMD_LINE];

	while (fgets(line, sizeof(line), stdin)) {
		char *w[MAX_WORDS], *save = NULL;
		struct dl_err e = { 0 };
		int n = 0, r;

		for (char *t = strtok_r(line, " \n", &save); t && n < MAX_WORDS;
		    t = strtok_r(NULL, " \n", &save))
			w[n++] = t;
		if (n == 0)
			continue;
		if (streq(w[0], "set") && (n == 6 || n == 8)) {
			struct tgt_target t = { .tid = (uint32_t)strtoul(w[1], NULL, 10) };
			(void)tgt_target_name(prefix, w[2], t.iqn, sizeof(t.iqn));
			(void)tgt_initiator_name(prefix, w[2], t.initiator_name,
			    sizeof(t.initiator_name));
			(void)snprintf(t.backing, sizeof(t.backing), "%s/%s.img", disk_dir, w[2]);
			(void)snprintf(t.initiator_addr, sizeof(t.initiator_addr), "%s", w[3]);
			(void)snprintf(t.chap_user, sizeof(t.chap_user), "%s", w[4]);
			(void)snprintf(t.chap_secret, sizeof(t.chap_secret), "%s", w[5]);
			if (n == 8) {
				(void)snprintf(t.mutual_user, sizeof(t.mutual_user), "%s", w[6]);
				(void)snprintf(t.mutual_secret, sizeof(t.mutual_secret), "%s", w[7]);
			}
			answer(privsep_tgt_set(p, &t, &e), &e);
		} else if (streq(w[0], "raw") && n == 10) {
			struct tgt_target t = { .tid = (uint32_t)strtoul(w[1], NULL, 10) };
			(void)snprintf(t.iqn, sizeof(t.iqn), "%s", dash(w[2]));
			(void)snprintf(t.backing, sizeof(t.backing), "%s", dash(w[3]));
			(void)snprintf(t.initiator_name, sizeof(t.initiator_name), "%s", dash(w[4]));
			(void)snprintf(t.initiator_addr, sizeof(t.initiator_addr), "%s", dash(w[5]));
			(void)snprintf(t.chap_user, sizeof(t.chap_user), "%s", dash(w[6]));
			(void)snprintf(t.chap_secret, sizeof(t.chap_secret), "%s", dash(w[7]));
			(void)snprintf(t.mutual_user, sizeof(t.mutual_user), "%s", dash(w[8]));
			(void)snprintf(t.mutual_secret, sizeof(t.mutual_secret), "%s", dash(w[9]));
			answer(privsep_tgt_set(p, &t, &e), &e);
		} else if (streq(w[0], "del") && n == 2) {
			answer(privsep_tgt_del(p, (uint32_t)strtoul(w[1], NULL, 10), &e), &e);
		} else if (streq(w[0], "status") && n == 1) {
			pid_t pid = 0;
			uint64_t restarts = 0, gen = 0;
			r = privsep_tgt_status(p, &pid, &restarts, &gen, &e);
			if (r < 0)
				answer(r, &e);
			else
				printf("pid=%d restarts=%llu generation=%llu\n", (int)pid,
				    (unsigned long long)restarts, (unsigned long long)gen);
		} else if (streq(w[0], "sessions") && n == 1) {
			static struct tgt_session s[MAX_TGT_SESSIONS];
			size_t ns = 0;
			r = privsep_tgt_sessions(p, s, MAX_TGT_SESSIONS, &ns, &e);
			if (r < 0) {
				answer(r, &e);
			} else {
				for (size_t i = 0; i < ns; i++)
					printf("session %u %s %s\n", (unsigned)s[i].tid,
					    s[i].initiator_name, s[i].addr);
				printf("end %zu\n", ns);
			}
		} else {
			printf("err EINVAL unknown command '%s'\n", w[0]);
		}
		fflush(stdout);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static struct bootsvc bs;
	struct privsep_user u = { 0 };
	struct dl_err e = { 0 };
	struct passwd *pw;
	pid_t parent, child;
	int sv[2];
	sigset_t all;

	if (argc < 5 || argc > 6) {
		fprintf(stderr, "usage: tgtreq STATE_DIR DISK_DIR PORTAL USER [IQN_PREFIX]\n");
		return 2;
	}
	config_init(&bs.cfg);
	if (config_set(&bs.cfg, "state_dir", argv[1], &e) < 0 ||
	    config_set(&bs.cfg, "disk_dir", argv[2], &e) < 0 ||
	    config_set(&bs.cfg, "iscsi_portal", argv[3], &e) < 0 ||
	    config_set(&bs.cfg, "user", argv[4], &e) < 0 ||
	    config_set(&bs.cfg, "iscsi", "on", &e) < 0 ||
	    (argc == 6 && config_set(&bs.cfg, "iscsi_iqn", argv[5], &e) < 0) ||
	    config_resolve(&bs.cfg, &e) < 0) {
		fprintf(stderr, "tgtreq: %s\n", e.msg);
		return 2;
	}
	pw = getpwnam(argv[4]);
	if (!pw || pw->pw_uid == 0) {
		fprintf(stderr, "tgtreq: user '%s' is not an unprivileged user\n", argv[4]);
		return 2;
	}
	(void)snprintf(u.name, sizeof(u.name), "%s", argv[4]);
	u.uid = pw->pw_uid;
	u.gid = pw->pw_gid;
	/* as bootsvc's main(): the loop takes signals through a signalfd */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		perror("socketpair");
		return 1;
	}
	parent = getpid();
	child = fork();
	if (child < 0) {
		perror("fork");
		return 1;
	}
	if (child > 0) {
		close(sv[1]);
		return privsep_parent_run(&bs, &u, child, sv[0]);
	}
	close(sv[0]);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
	if (privsep_drop(&u, parent, &e) < 0) {
		fprintf(stderr, "tgtreq: %s\n", e.msg);
		_exit(1);
	}
	{
		struct privsep *p = privsep_new(sv[1]);
		int r = p ? child_main(p, bs.cfg.disk_dir, bs.cfg.iscsi_iqn) : 1;
		privsep_free(p);
		_exit(r);
	}
}
