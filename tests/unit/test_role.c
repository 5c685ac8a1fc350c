/* SPDX-License-Identifier: MIT */
/* lib/role.c: which role a certificate subject's OUs name, and which verbs each role may
 * use (the table: admin everything; scheduler provision, power, allocate,
 * release, expect, events and reads; read-only reads), checked against every verb of
 * bootsvc's verb tables so a new verb cannot slip in unlisted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../bootsvc/control/control.h"
#include "macro.h"
#include "role.h"

#define RO ROLE_READ_ONLY
#define SC ROLE_SCHEDULER
#define AD ROLE_ADMIN

/* Every verb and the least role that may use it: the table, by hand. */
static const struct {
	const char *verb;
	enum role needs;
} verb_vectors[] = {
	{ "ping", RO }, { "node.list", RO }, { "node.show", RO }, { "image.list", RO },
	{ "image.show", RO }, { "energy", RO }, { "events", RO },
	{ "host.list", RO }, { "vm.list", RO }, { "server.list", RO },
	{ "provision", SC }, { "power", SC }, { "allocate", SC }, { "release", SC },
	{ "expect", SC },
	{ "hold", AD }, { "health.clear", AD }, { "node.add", AD }, { "node.remove", AD },
	{ "node.set", AD }, { "node.arm", AD }, { "node.reset-bmc-pin", AD }, { "image.add", AD },
	{ "image.remove", AD }, { "image.sync", AD }, { "drain", AD }, { "undrain", AD },
	/* not a verb: admin only (dispatch then says "unknown verb") */
	{ "frobnicate", AD }, { "", AD }, { "POWER", AD }, { "power ", AD },
};

static void
test_permissions(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(verb_vectors); i++) {
		const char *v = verb_vectors[i].verb;

		for (int r = 0; r < _ROLE_MAX; r++) {
			bool want = r >= (int)verb_vectors[i].needs;
			if (role_allows((enum role)r, v) != want)
				fail_msg("role %s verb '%s': allows %d, want %d", role_to_name(r), v,
				    !want, want);
		}
		assert_int_equal(role_needed(v), verb_vectors[i].needs);
	}
	assert_false(role_allows(_ROLE_INVALID, "ping"));
	assert_false(role_allows(_ROLE_MAX, "ping"));
}

static void
test_every_verb_listed(void **state)
{
	const struct control_verb *tables[] = { verbs_node, verbs_image, verbs_ctrl, verbs_vm,
		verbs_server };
	size_t n = 1;

	(void)state;
	assert_true(role_lists("ping"));
	for (size_t t = 0; t < ELEMENTSOF(tables); t++)
		for (const struct control_verb *v = tables[t]; v->name; v++, n++) {
			bool in_vectors = false;

			if (!role_lists(v->name))
				fail_msg("verb '%s' is not in lib/role.c's table", v->name);
			for (size_t i = 0; i < ELEMENTSOF(verb_vectors); i++)
				in_vectors |= streq(verb_vectors[i].verb, v->name);
			if (!in_vectors)
				fail_msg("verb '%s' is not in this test's table", v->name);
		}
	/* and the table lists nothing that is not a verb */
	for (size_t i = 0; i < ELEMENTSOF(verb_vectors); i++)
		if (role_lists(verb_vectors[i].verb))
			n--;
	assert_int_equal(n, 0);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(role_to_name(RO), "read-only");
	assert_string_equal(role_to_name(SC), "scheduler");
	assert_string_equal(role_to_name(AD), "admin");
	assert_string_equal(role_to_name(_ROLE_INVALID), "?");
	for (int r = 0; r < _ROLE_MAX; r++)
		assert_int_equal(role_from_name(role_to_name(r)), r);
	assert_int_equal(role_from_name("readonly"), _ROLE_INVALID);
	assert_int_equal(role_from_name("Admin"), _ROLE_INVALID);
	assert_int_equal(role_from_name(""), _ROLE_INVALID);
}

#define OUS(...) ((const char *const[]){ __VA_ARGS__ })
static const struct {
	int line;
	const char *const *ous;
	size_t n;
	int want_role; /* or -1: refused, err holds */
	const char *err;
} ou_vectors[] = {
	{ __LINE__, OUS("diskless-admin"), 1, AD, NULL },
	{ __LINE__, OUS("diskless-scheduler"), 1, SC, NULL },
	{ __LINE__, OUS("diskless-read-only"), 1, RO, NULL },
	{ __LINE__, OUS("hpc", "diskless-scheduler", "ops"), 3, SC, NULL },
	{ __LINE__, OUS(NULL), 0, -1, "names no role" },
	{ __LINE__, OUS("ops", "admin"), 2, -1, "names no role" },
	{ __LINE__, OUS("Diskless-admin"), 1, -1, "names no role" },
	{ __LINE__, OUS("diskless-admin", "diskless-read-only"), 2, -1, "names two roles" },
	{ __LINE__, OUS("diskless-admin", "diskless-admin"), 2, -1, "names two roles" },
	{ __LINE__, OUS("diskless-root"), 1, -1, "unknown role (OU='diskless-root'" },
	{ __LINE__, OUS("diskless-"), 1, -1, "unknown role" },
	{ __LINE__, OUS("diskless-admin "), 1, -1, "unknown role" },
	{ __LINE__, OUS("diskless-ad\x1bmin"), 1, -1, "OU='diskless-ad?min'" },
	{ __LINE__, OUS("diskless-'x"), 1, -1, "OU='diskless-?x'" },
	{ __LINE__, OUS("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o",
	  "p", "diskless-admin"), 17, -1, "17 OU values" },
};

static void
test_from_ous(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(ou_vectors); i++) {
		struct dl_err e = { 0 };
		enum role r = _ROLE_INVALID;
		int rc = role_from_ous(ou_vectors[i].ous, ou_vectors[i].n, &r, &e);

		if (ou_vectors[i].want_role >= 0) {
			if (rc != 0 || (int)r != ou_vectors[i].want_role)
				fail_msg("line %d: rc %d role %d: %s", ou_vectors[i].line, rc, r, e.msg);
			continue;
		}
		if (rc != -EACCES || !strstr(e.msg, ou_vectors[i].err))
			fail_msg("line %d: rc %d, message '%s', want '%s'", ou_vectors[i].line, rc,
			    e.msg, ou_vectors[i].err);
		assert_int_equal(r, _ROLE_INVALID); /* written only on success */
	}
}

static void
test_check_message(void **state)
{
	struct dl_err e = { 0 };

	(void)state;
	assert_int_equal(role_check(SC, "sched1", "provision", &e), 0);
	assert_int_equal(role_check(RO, "ro1", "power", &e), -EPERM);
	assert_string_equal(e.msg,
	    "role 'read-only' of 'ro1' may not use 'power' (it needs the scheduler role)");
	assert_int_equal(role_check(SC, NULL, "node.remove", &e), -EPERM);
	assert_string_equal(e.msg,
	    "role 'scheduler' may not use 'node.remove' (it needs the admin role)");
	assert_int_equal(role_check(RO, "a\nb", "x\"y", &e), -EPERM);
	assert_null(strpbrk(e.msg, "\n\""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_permissions),
		cmocka_unit_test(test_every_verb_listed),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_from_ous),
		cmocka_unit_test(test_check_message),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
