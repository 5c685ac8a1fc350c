/* SPDX-License-Identifier: MIT */
/* A domain's placement metadata (vm/vm_meta.h): what libvirt hands back, and what a
 * careless or hostile domain definition might hold. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vm/vm_meta.h"

static const struct {
	int line;
	const char *in;
	int r;
	const char *group;
	bool pin;
	const char *msg;
} cases[] = {
	{ __LINE__, "<dl:placement xmlns:dl=\"" VM_META_NS "\" group=\"db\" pin=\"no\"/>", 0,
	  "db", false, NULL },
	{ __LINE__, "<placement xmlns='" VM_META_NS "' pin='yes'></placement>", 0, "", true,
	  NULL },
	{ __LINE__, "  \n<placement group = \"web-1.a_b\" pin=\"1\" future=\"x\" />", 0,
	  "web-1.a_b", true, NULL },
	{ __LINE__, "<placement/>", 0, "", false, NULL },
	{ __LINE__, "<placement class=\"grid\" group=\"g\"/>", 0, "g", false, NULL },
	{ __LINE__, "<placement class=\"a b\"/>", -EINVAL, "", false, "class may hold" },
	{ __LINE__, "<placement group=\"a b\"/>", -EINVAL, "", false, "group may hold" },
	{ __LINE__, "<placement group=\"\"/>", -EINVAL, "", false, "group must be" },
	{ __LINE__, "<placement pin=\"maybe\"/>", -EINVAL, "", false, "pin must be yes or no" },
	{ __LINE__, "<other group=\"db\"/>", -EINVAL, "", false, "not <placement>" },
	{ __LINE__, "placement", -EINVAL, "", false, "not an XML element" },
	{ __LINE__, "<placement group=db/>", -EINVAL, "", false, "not quoted" },
	{ __LINE__, "<placement group=\"db", -EINVAL, "", false, "unterminated" },
	{ __LINE__, "<placement group/>", -EINVAL, "", false, "malformed attribute" },
	{ __LINE__, "<placement group=\"0123456789012345678901234567890123456789012345678901"
	  "234567890123\"/>", -EINVAL, "", false, "1-63 characters" },
};

static void
test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vm_placement pl;
		struct dl_err err = { 0 };
		int r = vm_meta_parse(cases[i].in, &pl, &err);

		if (r != cases[i].r || strcmp(pl.group, cases[i].group) != 0 ||
		    pl.pin != cases[i].pin ||
		    (cases[i].msg && !strstr(err.msg, cases[i].msg)))
			fail_msg("line %d: r=%d group='%s' pin=%d msg='%s'", cases[i].line, r,
			    pl.group, pl.pin, err.msg);
	}
}

static void
test_too_long(void **state)
{
	char buf[MAX_VM_META_LEN + 64];
	struct vm_placement pl;
	struct dl_err err = { 0 };

	(void)state;
	memset(buf, ' ', sizeof(buf));
	memcpy(buf + sizeof(buf) - 20, "<placement pin=\"1\"/>", 20);
	buf[sizeof(buf) - 1] = '\0';
	assert_int_equal(vm_meta_parse(buf, &pl, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "longer than"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_too_long),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
