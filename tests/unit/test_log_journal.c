/* SPDX-License-Identifier: MIT */
/* lib/log.c's journal side: a log line's key=value pairs as journal native protocol
 * fields (systemd's "Native Journal Protocol": NAME=value\n, or NAME\n + 64-bit LE length
 * + value + \n when the value holds a newline), and $JOURNAL_STREAM's dev:ino match. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"

static void
expect_encoding(int line, int level, const char *in, const char *want)
{
	char buf[MAX_LOG_JOURNAL];
	int n = log_journal_encode(buf, sizeof(buf), "bootsvc", level, in, strlen(in));

	if (n < 0 || (size_t)n != strlen(want) || memcmp(buf, want, (size_t)n) != 0)
		print_error("line %d: got '%.*s'\nwant '%s'\n", line, n < 0 ? 0 : n, buf, want);
	_assert_int_equal(n, strlen(want), __FILE__, line);
	_assert_true(memcmp(buf, want, (size_t)n) == 0, "encoding", __FILE__, line);
}

static void
test_encode(void **state)
{
	(void)state;
	expect_encoding(__LINE__, LOG_NOTICE, "event=start version=0.1.0",
	    "MESSAGE=event=start version=0.1.0\nPRIORITY=5\nSYSLOG_IDENTIFIER=bootsvc\n"
	    "EVENT=start\nVERSION=0.1.0\n");
	/* quoted values lose their quotes; keys are upper-cased, '.' and '-' become '_' */
	expect_encoding(__LINE__, LOG_ERR, "event=power node=n01 mac=52:54:00:00:00:01 "
	    "msg=\"BMC did not answer\" bmc.addr=10.0.0.1 x-y=1",
	    "MESSAGE=event=power node=n01 mac=52:54:00:00:00:01 msg=\"BMC did not answer\" "
	    "bmc.addr=10.0.0.1 x-y=1\nPRIORITY=3\nSYSLOG_IDENTIFIER=bootsvc\n"
	    "EVENT=power\nNODE=n01\nMAC=52:54:00:00:00:01\nMSG=BMC did not answer\n"
	    "BMC_ADDR=10.0.0.1\nX_Y=1\n");
	/* words that are no pair, journald's own (_X) and numeric names, and the fixed fields
	 * stay in MESSAGE only */
	expect_encoding(__LINE__, LOG_INFO, "hello _pid=1 9x=2 message=m priority=1 a= b",
	    "MESSAGE=hello _pid=1 9x=2 message=m priority=1 a= b\nPRIORITY=6\n"
	    "SYSLOG_IDENTIFIER=bootsvc\nA=\n");
	/* an unterminated quote runs to the end of the line */
	expect_encoding(__LINE__, LOG_WARNING, "msg=\"open",
	    "MESSAGE=msg=\"open\nPRIORITY=4\nSYSLOG_IDENTIFIER=bootsvc\nMSG=open\n");
	/* a key longer than journald's 64 bytes is left out */
	expect_encoding(__LINE__, LOG_DEBUG,
	    "k2345678901234567890123456789012345678901234567890123456789012345=v",
	    "MESSAGE=k2345678901234567890123456789012345678901234567890123456789012345=v\n"
	    "PRIORITY=7\nSYSLOG_IDENTIFIER=bootsvc\n");
}

static void
test_encode_binary(void **state)
{
	static const char in[] = "msg=\"a\nb\"";
	static const char want[] = "MESSAGE\n\x09\0\0\0\0\0\0\0msg=\"a\nb\"\nPRIORITY=6\n"
	    "SYSLOG_IDENTIFIER=bootsvc\nMSG\n\x03\0\0\0\0\0\0\0a\nb\n";
	char buf[MAX_LOG_JOURNAL];
	int n;

	(void)state;
	n = log_journal_encode(buf, sizeof(buf), "bootsvc", LOG_INFO, in, sizeof(in) - 1);
	assert_int_equal(n, sizeof(want) - 1);
	assert_memory_equal(buf, want, sizeof(want) - 1);
}

static void
test_encode_small(void **state)
{
	char buf[MAX_LOG_JOURNAL];
	static const char in[] = "event=start node=n01";
	int full;

	(void)state;
	full = log_journal_encode(buf, sizeof(buf), "bootsvc", LOG_INFO, in, strlen(in));
	assert_true(full > 0);
	/* every size short of the whole entry is refused, never overrun */
	for (size_t size = 0; size < (size_t)full; size++)
		assert_int_equal(log_journal_encode(buf, size, "bootsvc", LOG_INFO, in, strlen(in)),
		    -ENOBUFS);
	assert_int_equal(log_journal_encode(buf, (size_t)full, "bootsvc", LOG_INFO, in,
	    strlen(in)), full);
	/* the longest log line fits the longest entry */
	{
		char line[MAX_LOG_LINE];

		memset(line, 'k', sizeof(line));
		for (size_t i = 1; i + 4 < sizeof(line); i += 4) {
			line[i] = '=';
			line[i + 1] = 'v';
			line[i + 2] = ' ';
		}
		assert_true(log_journal_encode(buf, sizeof(buf), "bootsvc", LOG_INFO, line,
		    sizeof(line) - 2) > 0);
	}
}

static void
test_stream(void **state)
{
	(void)state;
	assert_true(log_journal_stream_is("8:12345", 8, 12345));
	assert_false(log_journal_stream_is("8:12345", 8, 12346));
	assert_false(log_journal_stream_is("9:12345", 8, 12345));
	assert_false(log_journal_stream_is(NULL, 8, 12345));
	assert_false(log_journal_stream_is("", 8, 12345));
	assert_false(log_journal_stream_is("8", 8, 12345));
	assert_false(log_journal_stream_is("8:", 8, 0));
	assert_false(log_journal_stream_is(":1", 0, 1));
	assert_false(log_journal_stream_is("8:12345x", 8, 12345));
	assert_false(log_journal_stream_is("99999999999999999999999:1", 8, 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_encode_binary),
		cmocka_unit_test(test_encode_small),
		cmocka_unit_test(test_stream),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
