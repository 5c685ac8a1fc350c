/* SPDX-License-Identifier: MIT */
/* bootsvc/overlay.c cpio_add/cpio_finish: the output is parsed back here as newc, the
 * format of the kernel's Documentation/driver-api/early-userspace/buffer-format.rst
 * ("070701", 13 fields of 8 hex digits, name + NUL padded to 4, data padded to 4, a
 * "TRAILER!!!" entry last). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "../../bootsvc/boot/overlay.h"

struct entry {
	char name[256];
	unsigned ino, mode, uid, gid, nlink, mtime, size, namesize;
	const char *data;
};

static unsigned
hex8(const char *p)
{
	unsigned v = 0;

	for (int i = 0; i < 8; i++) {
		char c = p[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 :
		    c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		assert_true(d >= 0);
		v = v << 4 | (unsigned)d;
	}
	return v;
}

/* Parse buf into entries; every offset is checked against len. Returns the count. */
static size_t
parse_newc(const char *buf, size_t len, struct entry *ret, size_t max)
{
	size_t off = 0, n = 0;

	for (;;) {
		struct entry *e;
		unsigned f[13];

		assert_true(n < max);
		e = &ret[n++];
		assert_int_equal(off % 4, 0);
		assert_true(off + 110 <= len);
		assert_memory_equal(buf + off, "070701", 6);
		for (int i = 0; i < 13; i++)
			f[i] = hex8(buf + off + 6 + 8 * i);
		e->ino = f[0];
		e->mode = f[1];
		e->uid = f[2];
		e->gid = f[3];
		e->nlink = f[4];
		e->mtime = f[5];
		e->size = f[6];
		e->namesize = f[11];
		assert_int_equal(f[12], 0); /* check field: 0 for newc */
		off += 110;
		assert_true(e->namesize >= 1 && e->namesize <= sizeof(e->name));
		assert_true(off + e->namesize <= len);
		assert_int_equal(buf[off + e->namesize - 1], '\0');
		memcpy(e->name, buf + off, e->namesize);
		assert_int_equal(strlen(e->name), e->namesize - 1);
		off += e->namesize;
		for (; off % 4; off++) {
			assert_true(off < len);
			assert_int_equal(buf[off], '\0');
		}
		assert_true(off + e->size <= len);
		e->data = buf + off;
		off += e->size;
		for (; off % 4; off++) {
			assert_true(off < len);
			assert_int_equal(buf[off], '\0');
		}
		if (strcmp(e->name, "TRAILER!!!") == 0)
			break;
	}
	assert_int_equal(off, len); /* nothing after the trailer */
	return n;
}

static void
test_entries(void **state)
{
	/* names of 1..8 chars and sizes 0..5 hit every padding case */
	static const struct {
		const char *name;
		unsigned mode;
		const char *data;
	} files[] = {
		{ "etc", S_IFDIR | 0755, "" },
		{ "etc/diskless", S_IFDIR | 0755, "" },
		{ "etc/hostname", S_IFREG | 0644, "n01\n" },
		{ "etc/hosts", S_IFREG | 0644, "10.0.0.1\tn01\n10.0.0.2\tn02\n" },
		{ "etc/diskless/node.conf", S_IFREG | 0600, "server=http://10.77.0.1:8080\n" },
		{ "a", S_IFREG | 0644, "x" },
		{ "ab", S_IFREG | 0644, "xy" },
		{ "abc", S_IFREG | 0644, "xyz" },
		{ "abcd", S_IFREG | 0644, "wxyz" },
		{ "abcde", S_IFREG | 0644, "vwxyz" },
		{ "empty", S_IFREG | 0644, "" },
		{ "usr/bin/tool", S_IFREG | 0755, "#!/bin/sh\nexit 0\n" },
	};
	struct cpio_buf b = { 0 };
	struct entry ents[32];
	size_t n;

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(files); i++)
		assert_int_equal(cpio_add(&b, files[i].name, files[i].mode, files[i].data,
		    strlen(files[i].data)), 0);
	assert_int_equal(cpio_finish(&b), 0);
	assert_int_equal(b.len % 4, 0);
	n = parse_newc(b.data, b.len, ents, ELEMENTSOF(ents));
	assert_int_equal(n, ELEMENTSOF(files) + 1);
	for (size_t i = 0; i < ELEMENTSOF(files); i++) {
		size_t len = strlen(files[i].data);

		assert_string_equal(ents[i].name, files[i].name);
		assert_int_equal(ents[i].mode, files[i].mode);
		assert_int_equal(ents[i].size, len);
		assert_memory_equal(ents[i].data, files[i].data, len);
		assert_int_equal(ents[i].uid, 0);
		assert_int_equal(ents[i].gid, 0);
		assert_true(ents[i].nlink >= 1);
		/* inode numbers are distinct: the kernel links entries with equal ones */
		for (size_t j = 0; j < i; j++)
			assert_int_not_equal(ents[i].ino, ents[j].ino);
	}
	assert_string_equal(ents[n - 1].name, "TRAILER!!!");
	assert_int_equal(ents[n - 1].size, 0);
	free(b.data);
}

/* Only the trailer: still a valid archive. */
static void
test_empty(void **state)
{
	struct cpio_buf b = { 0 };
	struct entry ents[2];

	(void)state;
	assert_int_equal(cpio_finish(&b), 0);
	assert_int_equal(parse_newc(b.data, b.len, ents, ELEMENTSOF(ents)), 1);
	/* 110 + "TRAILER!!!\0" (11) = 121, padded to 124 */
	assert_int_equal(b.len, 124);
	free(b.data);
}

/* A large file and a long name grow the buffer across its doubling steps intact. */
static void
test_large(void **state)
{
	struct cpio_buf b = { 0 };
	struct entry ents[4];
	size_t big = 100000 + 3;
	char *data = malloc(big), name[201];

	(void)state;
	assert_non_null(data);
	for (size_t i = 0; i < big; i++)
		data[i] = (char)(i * 7);
	memset(name, 'n', 200);
	name[200] = '\0';
	assert_int_equal(cpio_add(&b, name, S_IFREG | 0644, data, big), 0);
	assert_int_equal(cpio_add(&b, "after", S_IFREG | 0644, "z", 1), 0);
	assert_int_equal(cpio_finish(&b), 0);
	assert_int_equal(parse_newc(b.data, b.len, ents, ELEMENTSOF(ents)), 3);
	assert_string_equal(ents[0].name, name);
	assert_int_equal(ents[0].size, big);
	assert_memory_equal(ents[0].data, data, big);
	assert_string_equal(ents[1].name, "after");
	assert_memory_equal(ents[1].data, "z", 1);
	free(data);
	free(b.data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entries),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
