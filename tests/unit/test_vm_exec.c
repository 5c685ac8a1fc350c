/* SPDX-License-Identifier: MIT */
/* The executor's pure parts (bootsvc/vm/vm_exec.c): which pending steps may start now
 * (exec_pick: caps overall and per host, connected hosts, one move per VM at a time,
 * power-off after its host's migrations, priority order), and what a step found running
 * after a restart became (exec_resume_decide). Hand-made tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "macro.h"
#include "vm/vm_exec.h"

#define MAX_T_STEPS 12

/* A step in a table: plan, seq, action ('m' migrate, 'p' power-off), VM (a letter: its
 * uuid and name), src, dst, state. */
struct t_step {
	int64_t plan;
	unsigned seq;
	char action;
	char vm;
	const char *src, *dst, *state;
};

struct vector {
	const char *name;
	unsigned max, per_host;
	const char *down;          /* hosts not connected, space separated */
	struct t_step s[MAX_T_STEPS];
	const char *want;          /* the picked steps, as "plan.seq" space separated */
};

static const struct vector vectors[] = {
	{ "nothing pending", 4, 1, "", {
		{ 1, 0, 'm', 'a', "hv1", "hv2", "done" } }, "" },
	{ "one per host: the second off hv1 waits; another pair goes", 4, 1, "", {
		{ 1, 0, 'm', 'a', "hv1", "hv2", "pending" },
		{ 1, 1, 'm', 'b', "hv1", "hv3", "pending" },
		{ 1, 2, 'm', 'c', "hv4", "hv5", "pending" } }, "1.0 1.2" },
	{ "incoming counts against the destination's cap", 4, 1, "", {
		{ 1, 0, 'm', 'a', "hv1", "hv3", "pending" },
		{ 1, 1, 'm', 'b', "hv2", "hv3", "pending" } }, "1.0" },
	{ "running migrations count", 4, 1, "", {
		{ 1, 0, 'm', 'a', "hv1", "hv2", "running" },
		{ 1, 1, 'm', 'b', "hv2", "hv3", "pending" },
		{ 1, 2, 'm', 'c', "hv3", "hv4", "pending" } }, "1.2" },
	{ "two per host allowed", 4, 2, "", {
		{ 1, 0, 'm', 'a', "hv1", "hv2", "pending" },
		{ 1, 1, 'm', 'b', "hv1", "hv3", "pending" },
		{ 1, 2, 'm', 'c', "hv1", "hv4", "pending" } }, "1.0 1.1" },
	{ "overall cap", 2, 1, "", {
		{ 1, 0, 'm', 'a', "hv1", "hv2", "running" },
		{ 1, 1, 'm', 'b', "hv3", "hv4", "pending" },
		{ 1, 2, 'm', 'c', "hv5", "hv6", "pending" } }, "1.1" },
	{ "priority order: the earlier (evacuation) step takes the shared host", 4, 1, "", {
		/* the store's order: priority 0 plan 7 before priority 2 plan 3 */
		{ 7, 0, 'm', 'a', "hv1", "hv2", "pending" },
		{ 3, 0, 'm', 'b', "hv3", "hv2", "pending" } }, "7.0" },
	{ "hosts not connected: nothing to or from them", 4, 1, "hv2 hv5", {
		{ 1, 0, 'm', 'a', "hv1", "hv2", "pending" },
		{ 1, 1, 'm', 'b', "hv5", "hv3", "pending" },
		{ 1, 2, 'm', 'c', "hv1", "hv3", "pending" } }, "1.2" },
	{ "one move of a VM at a time", 4, 2, "", {
		{ 1, 0, 'm', 'a', "hv1", "hv2", "running" },
		{ 2, 0, 'm', 'a', "hv1", "hv3", "pending" },
		{ 3, 0, 'm', 'b', "hv4", "hv5", "pending" },
		{ 3, 1, 'm', 'b', "hv4", "hv6", "pending" } }, "3.0" },
	{ "no destination, or the source itself: never", 4, 1, "", {
		{ 1, 0, 'm', 'a', "hv1", "", "pending" },
		{ 1, 1, 'm', 'b', "hv2", "hv2", "pending" } }, "" },
	{ "power-off waits for its host's migrations", 4, 1, "", {
		{ 1, 0, 'm', 'a', "hv1", "hv2", "done" },
		{ 1, 1, 'm', 'b', "hv1", "hv3", "running" },
		{ 1, 2, 'p', 0, "hv1", "", "pending" } }, "" },
	{ "power-off once they are done; another host's migration does not hold it", 4, 1,
	    "hv1", {
		{ 1, 0, 'm', 'a', "hv1", "hv2", "done" },
		{ 1, 1, 'm', 'b', "hv1", "hv3", "done" },
		{ 1, 2, 'm', 'c', "hv4", "hv3", "running" },
		{ 1, 3, 'p', 0, "hv1", "", "pending" } }, "1.3" },
	{ "power-off after a failed migration: never (the VM would die)", 4, 1, "", {
		{ 1, 0, 'm', 'a', "hv1", "hv2", "failed" },
		{ 1, 1, 'p', 0, "hv1", "", "pending" } }, "" },
	{ "another plan's migration off the host holds its power-off", 4, 1, "", {
		{ 2, 0, 'm', 'z', "hv1", "hv2", "pending" },
		{ 1, 0, 'm', 'a', "hv1", "hv3", "done" },
		{ 1, 1, 'p', 0, "hv1", "", "pending" } }, "2.0" },
	{ "a power-off picked first holds migrations off its host", 4, 1, "", {
		{ 1, 0, 'm', 'a', "hv1", "hv3", "done" },
		{ 1, 1, 'p', 0, "hv1", "", "pending" },
		{ 2, 0, 'm', 'z', "hv1", "hv2", "pending" } }, "1.1" },
	{ "never onto a host a plan powers off", 4, 1, "", {
		{ 1, 0, 'm', 'a', "hv3", "hv4", "running" },
		{ 1, 1, 'p', 0, "hv3", "", "pending" },
		{ 2, 0, 'm', 'b', "hv5", "hv3", "pending" },
		{ 2, 1, 'm', 'c', "hv5", "hv6", "pending" } }, "2.1" },
};

static bool
connected(const char *node, void *userdata)
{
	const char *down = userdata;
	size_t len = strlen(node);

	for (const char *p = down; (p = strstr(p, node)); p += len)
		if ((p == down || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0'))
			return false;
	return true;
}

static void
to_rec(const struct t_step *t, struct vm_step_rec *st)
{
	memset(st, 0, sizeof(*st));
	st->plan_id = t->plan;
	st->seq = t->seq;
	strcpy(st->action, t->action == 'm' ? "migrate" : "power-off");
	if (t->vm) {
		snprintf(st->vm_uuid, sizeof(st->vm_uuid), "%c%c%c%c%c%c%c%c-0000-4000-8000-"
		    "000000000000", t->vm, t->vm, t->vm, t->vm, t->vm, t->vm, t->vm, t->vm);
		snprintf(st->vm_name, sizeof(st->vm_name), "g%c", t->vm);
	}
	snprintf(st->src, sizeof(st->src), "%s", t->src);
	snprintf(st->dst, sizeof(st->dst), "%s", t->dst);
	snprintf(st->state, sizeof(st->state), "%s", t->state);
}

static void
test_pick(void **state)
{
	(void)state;
	for (size_t v = 0; v < ELEMENTSOF(vectors); v++) {
		const struct vector *vec = &vectors[v];
		struct vm_step_rec st[MAX_T_STEPS];
		bool start[MAX_T_STEPS];
		struct exec_limits lim = { .max = vec->max, .per_host = vec->per_host };
		char got[128] = "";
		size_t n = 0;
		int r, count = 0;

		for (; n < MAX_T_STEPS && vec->s[n].src; n++)
			to_rec(&vec->s[n], &st[n]);
		r = exec_pick(st, n, &lim, connected, (void *)vec->down, start);
		for (size_t i = 0; i < n; i++)
			if (start[i]) {
				snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%lld.%u",
				    got[0] ? " " : "", (long long)st[i].plan_id, st[i].seq);
				count++;
			}
		if (strcmp(got, vec->want) != 0 || r != count)
			fail_msg("%s: picked '%s' (%d), want '%s'", vec->name, got, r, vec->want);
	}
}

static void
test_resume(void **state)
{
	static const struct {
		const char *src, *dst;
		enum exec_resume want;
	} t[] = {
		/* libvirt lists an incoming domain paused on the destination */
		{ "running", "paused", EXEC_RESUME_WAIT },
		{ "paused", "paused", EXEC_RESUME_WAIT },     /* post-copy, both halves */
		{ NULL, "paused", EXEC_RESUME_WAIT },
		{ NULL, "running", EXEC_RESUME_DONE },
		{ "shutoff", "running", EXEC_RESUME_DONE },   /* a persistent leftover */
		{ "running", "running", EXEC_RESUME_WAIT },   /* a listing behind the hand-over */
		{ "paused", "running", EXEC_RESUME_WAIT },
		{ "running", NULL, EXEC_RESUME_PENDING },     /* the migration was lost */
		{ "paused", NULL, EXEC_RESUME_PENDING },
		{ "running", "shutoff", EXEC_RESUME_PENDING },
		{ NULL, NULL, EXEC_RESUME_NOWHERE },
		{ NULL, "shutoff", EXEC_RESUME_NOWHERE },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		enum exec_resume r = exec_resume_decide(t[i].src, t[i].dst);

		if (r != t[i].want)
			fail_msg("src %s dst %s: %s, want %s", t[i].src ? t[i].src : "-",
			    t[i].dst ? t[i].dst : "-", exec_resume_to_string(r),
			    exec_resume_to_string(t[i].want));
	}
	assert_string_equal(exec_resume_to_string(_EXEC_RESUME_MAX), "invalid");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pick),
		cmocka_unit_test(test_resume),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
