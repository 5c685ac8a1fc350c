/* SPDX-License-Identifier: MIT */
/* bootsvc/http/ip_limit.c: the per-address connection counts the serving threads share. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "http/ip_limit.h"

static void
test_limits(void **state)
{
	struct ip_limit *l = NULL;

	(void)state;
	assert_int_equal(ip_limit_new(10, 3, &l), 0);
	for (int i = 0; i < 3; i++)
		assert_true(ip_limit_take(l, 0x0100000a));
	assert_false(ip_limit_take(l, 0x0100000a)); /* the fourth from one address */
	assert_int_equal(ip_limit_count(l, 0x0100000a), 3);
	ip_limit_put(l, 0x0100000a);
	assert_true(ip_limit_take(l, 0x0100000a)); /* room again */
	/* the table's own bound: 10 connections in all */
	for (uint32_t a = 1; a <= 7; a++)
		assert_true(ip_limit_take(l, a));
	assert_false(ip_limit_take(l, 8));
	assert_int_equal(ip_limit_count(l, 8), 0);
	/* a put of an address never counted gives nothing back */
	ip_limit_put(l, 9);
	assert_false(ip_limit_take(l, 8));
	ip_limit_put(l, 1);
	assert_true(ip_limit_take(l, 8));
	l = ip_limit_free(l);

	/* per_ip 0: counted, not limited */
	assert_int_equal(ip_limit_new(100, 0, &l), 0);
	for (int i = 0; i < 100; i++)
		assert_true(ip_limit_take(l, 42));
	assert_false(ip_limit_take(l, 42));
	assert_int_equal(ip_limit_count(l, 42), 100);
	ip_limit_free(l);
}

/* Random takes and puts over addresses that collide in the table, against plain counts:
 * the backward-shift deletion must keep every address findable. */
static void
test_churn(void **state)
{
	enum { ADDRS = 200, CONNS = 300, PER_IP = 4 };
	unsigned want[ADDRS] = { 0 }, total = 0;
	struct ip_limit *l = NULL;

	(void)state;
	srandom(7);
	assert_int_equal(ip_limit_new(CONNS, PER_IP, &l), 0);
	for (int step = 0; step < 200000; step++) {
		unsigned a = (unsigned)random() % ADDRS;
		/* addresses a multiple of the table's size apart share a home slot */
		uint32_t addr = a * 1024u;

		if (random() % 2) {
			bool ok = want[a] < PER_IP && total < CONNS;

			assert_int_equal(ip_limit_take(l, addr), ok);
			want[a] += ok;
			total += ok;
		} else if (want[a]) {
			ip_limit_put(l, addr);
			want[a]--;
			total--;
		}
		if (step % 1000 == 0)
			for (unsigned b = 0; b < ADDRS; b++)
				assert_int_equal(ip_limit_count(l, b * 1024u), want[b]);
	}
	ip_limit_free(l);
}

/* Two threads taking and putting at once never lose a count. */
static void *
hammer(void *arg)
{
	struct ip_limit *l = arg;

	for (int i = 0; i < 100000; i++) {
		uint32_t a = (uint32_t)(i % 50);

		if (ip_limit_take(l, a))
			ip_limit_put(l, a);
	}
	return NULL;
}

static void
test_threads(void **state)
{
	struct ip_limit *l = NULL;
	pthread_t t[2];

	(void)state;
	assert_int_equal(ip_limit_new(64, 2, &l), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer, l), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	for (uint32_t a = 0; a < 50; a++)
		assert_int_equal(ip_limit_count(l, a), 0);
	ip_limit_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_churn),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
