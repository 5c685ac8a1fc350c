/* SPDX-License-Identifier: MIT */
/* lib/relpath.c: which relative paths say plainly where they go. Vectors from the
 * contract in relpath.h, and the member names the callers' own tests refuse
 * (test_initrd_tree.c, test_init_cpio.c, test_manifest.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "macro.h"
#include "relpath.h"

static const struct {
	int line;
	const char *path;
	bool want;
} vectors[] = {
	{ __LINE__, "init", true },
	{ __LINE__, "lib/modules/6.1.0/kernel/loop.ko", true },
	{ __LINE__, "a/b", true },
	{ __LINE__, ".hidden", true },    /* a dot file is a name, not "." */
	{ __LINE__, "..x", true },
	{ __LINE__, "x..", true },
	{ __LINE__, "a/...", true },
	{ __LINE__, "a b/c", true },      /* characters are the caller's to judge */
	{ __LINE__, "", false },
	{ __LINE__, "/", false },
	{ __LINE__, "/init", false },
	{ __LINE__, "a//b", false },
	{ __LINE__, "a/", false },
	{ __LINE__, ".", false },
	{ __LINE__, "..", false },
	{ __LINE__, "./init", false },
	{ __LINE__, "a/./b", false },
	{ __LINE__, "a/../b", false },
	{ __LINE__, "a/..", false },
	{ __LINE__, "../a", false },
};

static void
test_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(vectors); i++)
		_assert_int_equal(relpath_is_plain(vectors[i].path), vectors[i].want, __FILE__,
		    vectors[i].line);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
