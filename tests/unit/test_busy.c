/* SPDX-License-Identifier: MIT */
/* bootsvc/action/busy.c, the busy map of issue #10: past 4096 nodes (the controller's
 * old fixed array held 1024 names under a cap that went to 4096, and past 1024 a node
 * was not recorded, so a second BMC job could start on it), exclusive and shared
 * holders per class, removal that keeps every other key reachable, growth. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../bootsvc/action/busy.h"

/* More nodes than ipmi_concurrency's maximum (4096), so the map must grow past it. */
#define N_NODES 5000

static void
name_of(char *buf, size_t size, unsigned i)
{
	(void)snprintf(buf, size, "n%05u", i);
}

static void
test_past_4096(void **state)
{
	struct busy *b = NULL;
	char name[16];

	(void)state;
	assert_int_equal(busy_new(&b), 0);
	for (unsigned i = 0; i < N_NODES; i++) {
		name_of(name, sizeof(name), i);
		assert_int_equal(busy_take(b, name, 0, false), 0);
	}
	assert_int_equal(busy_count(b), N_NODES);
	/* Grew: a power of two, at most half full. */
	assert_true(busy_capacity(b) >= 2 * N_NODES);
	assert_int_equal(busy_capacity(b) & (busy_capacity(b) - 1), 0);
	/* Each present once, and a second change of the same class is refused. */
	for (unsigned i = 0; i < N_NODES; i++) {
		name_of(name, sizeof(name), i);
		assert_true(busy_held(b, name, 0));
		assert_false(busy_held(b, name, 1));
		assert_int_equal(busy_take(b, name, 0, false), -EBUSY);
	}
	assert_int_equal(busy_count(b), N_NODES);
	assert_false(busy_held(b, "n99999", 0));
	busy_free(b);
}

/* Removal in a scrambled order: every key left must stay reachable (backward-shift
 * deletion moves entries within probe runs, wrapping at the table's end). */
static void
test_remove(void **state)
{
	struct busy *b = NULL;
	static bool gone[N_NODES];
	char name[16];
	unsigned removed = 0;

	(void)state;
	memset(gone, 0, sizeof(gone));
	assert_int_equal(busy_new(&b), 0);
	for (unsigned i = 0; i < N_NODES; i++) {
		name_of(name, sizeof(name), i);
		assert_int_equal(busy_take(b, name, 2, false), 0);
	}
	/* i * 2003 mod 5000 visits each index once (gcd(2003, 5000) = 1). */
	for (unsigned k = 0; k < N_NODES; k++) {
		unsigned i = (k * 2003u) % N_NODES;
		if (k % 3 == 0)
			continue;
		name_of(name, sizeof(name), i);
		busy_put(b, name, 2, false);
		gone[i] = true;
		removed++;
		if (k % 97 == 0) /* check every key now and then, not only at the end */
			for (unsigned j = 0; j < N_NODES; j++) {
				name_of(name, sizeof(name), j);
				assert_int_equal(busy_held(b, name, 2), !gone[j]);
			}
	}
	assert_int_equal(busy_count(b), N_NODES - removed);
	for (unsigned j = 0; j < N_NODES; j++) {
		name_of(name, sizeof(name), j);
		assert_int_equal(busy_held(b, name, 2), !gone[j]);
	}
	/* Taken again after removal. */
	for (unsigned j = 0; j < N_NODES; j++)
		if (gone[j]) {
			name_of(name, sizeof(name), j);
			assert_int_equal(busy_take(b, name, 2, false), 0);
		}
	assert_int_equal(busy_count(b), N_NODES);
	busy_free(b);
}

/* Classes are independent; a read (shared) never waits; a change waits for reads. */
static void
test_classes_and_shared(void **state)
{
	struct busy *b = NULL;

	(void)state;
	assert_int_equal(busy_new(&b), 0);
	assert_int_equal(busy_take(b, "n1", 0, false), 0);
	assert_int_equal(busy_take(b, "n1", 1, false), 0);   /* another class */
	assert_int_equal(busy_take(b, "n1", 0, true), 0);    /* a read beside a change */
	assert_int_equal(busy_take(b, "n1", 0, true), 0);
	assert_int_equal(busy_count(b), 1);
	busy_put(b, "n1", 0, false);
	assert_true(busy_held(b, "n1", 0));                  /* two reads left */
	assert_int_equal(busy_take(b, "n1", 0, false), -EBUSY);
	busy_put(b, "n1", 0, true);
	assert_int_equal(busy_take(b, "n1", 0, false), -EBUSY);
	busy_put(b, "n1", 0, true);
	assert_false(busy_held(b, "n1", 0));
	assert_true(busy_held(b, "n1", 1));
	assert_int_equal(busy_take(b, "n1", 0, false), 0);
	busy_put(b, "n1", 0, false);
	busy_put(b, "n1", 1, false);
	assert_int_equal(busy_count(b), 0);
	assert_false(busy_held(b, "n1", 1));
	busy_free(b);
}

static void
test_invalid(void **state)
{
	struct busy *b = NULL;
	char longest[MAX_BUSY_KEY + 1];

	(void)state;
	assert_int_equal(busy_new(&b), 0);
	memset(longest, 'a', sizeof(longest) - 1);
	longest[MAX_BUSY_KEY] = '\0';
	assert_int_equal(busy_take(b, "", 0, false), -EINVAL);
	assert_int_equal(busy_take(b, longest, 0, false), -EINVAL);
	longest[MAX_BUSY_KEY - 1] = '\0'; /* 63 bytes: the longest node name */
	assert_int_equal(busy_take(b, longest, 0, false), 0);
	assert_true(busy_held(b, longest, 0));
	assert_int_equal(busy_take(b, "n1", MAX_BUSY_CLASSES, false), -EINVAL);
	assert_false(busy_held(b, "n1", MAX_BUSY_CLASSES));
	assert_int_equal(busy_count(b), 1);
	assert_null(busy_free(b));
	assert_null(busy_free(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_past_4096),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_classes_and_shared),
		cmocka_unit_test(test_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
