/* SPDX-License-Identifier: MIT */
/* bootsvc/bmc/ipmi_timing.c: the retransmission interval handed to libfreeipmi. The
 * schedule is checked as a table (no wait may end within the margin around the session
 * timeout, where whether the timeout "passed" is a race), then against libfreeipmi itself:
 * a BMC that never answers (a UDP socket on loopback nobody reads from until the call
 * returns) never receives more requests than the schedule predicts (libfreeipmi resends
 * as a wait ends, then checks the timeout: one request per wait, plus the first), and
 * exactly as many in most rounds. A wait ending at the timeout made that count one larger
 * whenever the race was lost (issue 17's regression: a dead BMC took 3 s where its
 * timeout was 2 s). Fewer is no regression: a thread the machine's load keeps off the
 * CPU past a wait resends later, or not before the timeout. No time is asserted. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../bootsvc/bmc/ipmi_timing.h"
#include "../../bootsvc/bmc/power.h"
#include "silent_bmc.h"

/* What power_ipmi.c and health_ipmi.c pass as the longest interval. */
#define MAX_RT_MS 1000
/* Sessions opened against the silent socket: enough that a race lost one time in six
 * (as the bench saw it) shows, few enough to stay short (each lasts one timeout). */
#define DEAD_ROUNDS 8
/* The dead BMC's session timeout: short, above power_ipmi.c's 100 ms floor. */
#define DEAD_TIMEOUT_MS 200

/* Whether a wait of the schedule ends within margin of timeout (exclusive). */
static bool
ends_near(unsigned rt, unsigned timeout, unsigned margin)
{
	for (unsigned k = 0; k < 1024; k++) {
		uint64_t e = ipmi_wait_end_ms(rt, k);
		if (e + margin > timeout && e < (uint64_t)timeout + margin)
			return true;
		if (e >= (uint64_t)timeout + margin)
			return false;
	}
	return false;
}

/* The first wait's end at or after timeout: when a dead BMC's session gives up. */
static uint64_t
gives_up_at(unsigned rt, unsigned timeout)
{
	for (unsigned k = 0; k < 1024; k++)
		if (ipmi_wait_end_ms(rt, k) >= timeout)
			return ipmi_wait_end_ms(rt, k);
	return UINT64_MAX;
}

static void
test_backoff_model(void **state)
{
	(void)state;
	/* libfreeipmi's waits: rt, rt, 2rt, 2rt, 3rt, 3rt, ... */
	static const uint64_t sums[] = { 1, 2, 4, 6, 9, 12, 16, 20, 25, 30 };
	for (unsigned k = 0; k < sizeof(sums) / sizeof(sums[0]); k++)
		assert_int_equal(ipmi_wait_end_ms(100, k), 100 * sums[k]);
	/* the old rule, timeout / 4, ends the third wait on the timeout itself */
	assert_true(ends_near(500, 2000, ipmi_timeout_margin_ms(2000)));
	assert_true(ends_near(1000, 20000, ipmi_timeout_margin_ms(20000)));
}

static void
test_schedule(void **state)
{
	/* bmc_timeout's range (config.c: 100 ms .. 120 s) and the usual values */
	static const unsigned timeouts[] = { 100, 101, 150, 250, 333, 500, 999, 1000, 1500,
		2000, 2001, 3000, 4000, 4040, 5000, 7000, 10000, 20000, 30000, 60000, 119999,
		120000 };

	(void)state;
	for (size_t i = 0; i < sizeof(timeouts) / sizeof(timeouts[0]); i++) {
		unsigned t = timeouts[i], m = ipmi_timeout_margin_ms(t);
		unsigned rt = ipmi_retransmit_ms(t, MAX_RT_MS);
		uint64_t end = gives_up_at(rt, t);

		print_message("timeout %u ms: retransmit %u ms, margin %u ms, gives up at %llu "
		    "ms after %u sends\n", t, rt, m, (unsigned long long)end,
		    ipmi_sends_until_timeout(rt, t));
		assert_true(m > 0);
		assert_in_range(rt, 1, MAX_RT_MS);
		assert_false(ends_near(rt, t, m));
		/* gives up a margin after the timeout, and not much later: rounding the
		 * interval up adds at most one ms per multiplier (at most 132 at 120 s) */
		assert_in_range(end, (uint64_t)t + m, (uint64_t)t + m + 132);
		/* the first send and two retransmissions at least before the timeout, and
		 * the futile one libfreeipmi sends as the last wait ends */
		unsigned before = 1;
		while (ipmi_wait_end_ms(rt, before - 1) < t)
			before++;
		assert_true(before >= 3);
		assert_int_equal(ipmi_sends_until_timeout(rt, t), before + 1);
	}
	/* a smaller cap means more, shorter waits, never a wait past the cap */
	assert_in_range(ipmi_retransmit_ms(2000, 100), 1, 100);
	assert_false(ends_near(ipmi_retransmit_ms(2000, 100), 2000, ipmi_timeout_margin_ms(2000)));
}

/* Datagrams waiting on fd, emptying it. */
static unsigned
drain(int fd)
{
	char buf[512];
	unsigned n = 0;

	while (recv(fd, buf, sizeof(buf), 0) >= 0)
		n++;
	return n;
}

static void
test_dead_bmc_sends(void **state)
{
	struct bmc_target t = { .host = "127.0.0.1", .user = "admin", .pass = "unused",
		.cipher = 3, .timeout_ms = DEAD_TIMEOUT_MS };
	unsigned want = ipmi_sends_until_timeout(ipmi_retransmit_ms(DEAD_TIMEOUT_MS,
	    MAX_RT_MS), DEAD_TIMEOUT_MS);
	int fd = silent_bmc(&t.port);
	unsigned exact = 0;

	(void)state;
	for (unsigned i = 0; i < DEAD_ROUNDS; i++) {
		struct dl_err e = { 0 };
		bool on = true;
		int r = power_ipmi_run(&t, POWER_STATUS, &on, &e);
		unsigned got = drain(fd);

		print_message("round %u: r=%d, %u requests (want %u): %s\n", i, r, got, want,
		    e.msg);
		assert_int_equal(r, -ETIMEDOUT);
		assert_non_null(strstr(e.msg, "no answer within 200 ms"));
		assert_true(got <= want);
		exact += got == want;
	}
	/* the schedule is what libfreeipmi follows: most rounds meet it to the request */
	assert_true(exact * 2 > DEAD_ROUNDS);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_model),
		cmocka_unit_test(test_schedule),
		cmocka_unit_test(test_dead_bmc_sends),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
