/* SPDX-License-Identifier: MIT */
/* A node's clone of the golden disk (bootsvc/iscsi/disk_clone.c) on real files: the sparse
 * copy keeps holes and leaves the golden alone, auto falls back from reflink where the
 * file system has none, an explicit method that is not there is refused, a failed write or
 * a cancel leaves no file at the final name nor a temp one, the sweep removes what a crash
 * left, and reflink on an XFS loop file made here (as root, with xfsprogs from make deps;
 * without them the test fails rather than skip). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../bootsvc/iscsi/disk_clone.h"
#include "spawn.h"

#define MIB (1024 * 1024)
#define GOLDEN_SIZE (16 * MIB)

struct fix {
	char dir[64];     /* the test's own directory */
	char golden[96];
	char disks[96];   /* disk_dir */
};

/* Write len bytes of pattern seed at off. */
static void
put(int fd, off_t off, size_t len, unsigned seed)
{
	char *b = malloc(len);

	assert_non_null(b);
	for (size_t i = 0; i < len; i++)
		b[i] = (char)(i * 31 + seed);
	assert_int_equal(pwrite(fd, b, len, off), (ssize_t)len);
	free(b);
}

/* A golden of GOLDEN_SIZE with data at 0 (64 KiB), at 5 MiB (1 MiB + 3 bytes) and a
 * trailing hole. */
static void
make_golden(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	put(fd, 0, 64 * 1024, 1);
	put(fd, 5 * MIB, MIB + 3, 2);
	assert_int_equal(ftruncate(fd, GOLDEN_SIZE), 0);
	assert_int_equal(fsync(fd), 0);
	close(fd);
}

static bool
same_bytes(const char *a, const char *b)
{
	FILE *fa = fopen(a, "re"), *fb = fopen(b, "re");
	bool same = fa && fb;
	int ca, cb;

	while (same) {
		ca = fgetc(fa);
		cb = fgetc(fb);
		if (ca != cb)
			same = false;
		if (ca == EOF)
			break;
	}
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return same;
}

/* Files in dir (not . and ..). */
static unsigned
count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	unsigned n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static int
setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/%s.XXXXXX", program_invocation_short_name);
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->golden, sizeof(f->golden), "%s/disk.img", f->dir);
	snprintf(f->disks, sizeof(f->disks), "%s/disks", f->dir);
	if (mkdir(f->disks, 0700) < 0)
		return -1;
	make_golden(f->golden);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix *f = *state;
	char p[400];
	DIR *d = opendir(f->disks);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' && (!de->d_name[1] || !strcmp(de->d_name, "..")))
			continue;
		snprintf(p, sizeof(p), "%s/%s", f->disks, de->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(f->disks);
	unlink(f->golden);
	rmdir(f->dir);
	free(f);
	return 0;
}

static struct disk_clone_req
req(const struct fix *f, const char *node, enum disk_clone m)
{
	return (struct disk_clone_req){ .golden = f->golden, .dir = f->disks, .node = node,
		.method = m };
}

static void
test_copy_keeps_holes(void **state)
{
	struct fix *f = *state;
	struct disk_clone_req q = req(f, "n1", DISK_CLONE_COPY);
	struct disk_clone_result res;
	struct dl_err e = { 0 };
	struct stat before, after;
	char final[160];

	assert_int_equal(stat(f->golden, &before), 0);
	assert_int_equal(disk_clone_make(&q, &res, &e), 0);
	snprintf(final, sizeof(final), "%s/n1.img", f->disks);
	assert_string_equal(res.path, final);
	assert_int_equal(res.method, DISK_CLONE_COPY);
	assert_int_equal(res.apparent_bytes, GOLDEN_SIZE);
	/* the data (1 MiB + 64 KiB + 3) and a block or so of slack, not 16 MiB */
	assert_true(res.allocated_bytes >= MIB);
	assert_true(res.allocated_bytes < 2 * MIB);
	print_message("copy: %lld apparent, %lld allocated, %lld ms\n",
	    (long long)res.apparent_bytes, (long long)res.allocated_bytes, (long long)res.ms);
	assert_true(same_bytes(final, f->golden));

	/* the hole between the two extents is one in the clone */
	int fd = open(final, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	off_t hole = lseek(fd, 0, SEEK_HOLE);
	assert_true(hole >= 64 * 1024 && hole < 5 * MIB);
	assert_int_equal(lseek(fd, hole, SEEK_DATA), 5 * MIB - (5 * MIB) % 4096);
	close(fd);

	/* writing to the clone leaves the golden as it was */
	fd = open(final, O_WRONLY | O_CLOEXEC);
	put(fd, 0, 4096, 9);
	close(fd);
	assert_false(same_bytes(final, f->golden));
	assert_int_equal(stat(f->golden, &after), 0);
	assert_int_equal(after.st_size, before.st_size);
	assert_int_equal(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
	assert_int_equal(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
	assert_int_equal(count_files(f->disks), 1);

	/* a new clone replaces it, fresh */
	assert_int_equal(disk_clone_make(&q, &res, &e), 0);
	assert_true(same_bytes(final, f->golden));
	assert_int_equal(count_files(f->disks), 1);
	assert_int_equal(disk_clone_remove(f->disks, "n1", &e), 0);
	assert_int_equal(disk_clone_remove(f->disks, "n1", &e), 0); /* none: done */
	assert_int_equal(count_files(f->disks), 0);
}

static bool
fs_has_reflink(const char *dir)
{
	char a[160], b[160];
	int fa, fb;
	bool yes;

	snprintf(a, sizeof(a), "%s/.probe-a", dir);
	snprintf(b, sizeof(b), "%s/.probe-b", dir);
	fa = open(a, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	fb = open(b, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fa >= 0 && fb >= 0);
	yes = ioctl(fb, FICLONE, fa) == 0;
	close(fa);
	close(fb);
	unlink(a);
	unlink(b);
	return yes;
}

static void
test_auto_falls_back(void **state)
{
	struct fix *f = *state;
	struct disk_clone_req q = req(f, "n2", DISK_CLONE_AUTO);
	struct disk_clone_result res;
	struct dl_err e = { 0 };
	bool reflink = fs_has_reflink(f->disks);

	assert_int_equal(disk_clone_make(&q, &res, &e), 0);
	assert_int_equal(res.method, reflink ? DISK_CLONE_REFLINK : DISK_CLONE_COPY);
	assert_true(same_bytes(res.path, f->golden));
	assert_int_equal(count_files(f->disks), 1);
	if (!reflink) {
		/* reflink asked for where there is none: refused, nothing left */
		q = req(f, "n3", DISK_CLONE_REFLINK);
		e = (struct dl_err){ 0 };
		assert_true(disk_clone_make(&q, &res, &e) < 0);
		assert_non_null(strstr(e.msg, "by reflink"));
		assert_int_equal(count_files(f->disks), 1);
	}
	/* qcow2 is not offered: refused naming the key, under auto skipped */
	q = req(f, "n4", DISK_CLONE_QCOW2);
	e = (struct dl_err){ 0 };
	assert_int_equal(disk_clone_make(&q, &res, &e), -EOPNOTSUPP);
	assert_non_null(strstr(e.msg, "disk_clone = qcow2"));
	assert_int_equal(count_files(f->disks), 1);
	/* offered: the overlay is the parent's, nothing is written here, and the node's
	 * plain clone of before (n2's) goes so it never has two disks */
	q = req(f, "n2", DISK_CLONE_QCOW2);
	q.qcow2_offered = true;
	e = (struct dl_err){ 0 };
	assert_int_equal(disk_clone_make(&q, &res, &e), 0);
	assert_int_equal(res.method, DISK_CLONE_QCOW2);
	assert_string_equal(res.path, "");
	assert_true(res.apparent_bytes > 0);
	assert_int_equal(count_files(f->disks), 0);
	/* under auto, qcow2 comes only where reflink is not there */
	q = req(f, "n6", DISK_CLONE_AUTO);
	q.qcow2_offered = true;
	assert_int_equal(disk_clone_make(&q, &res, &e), 0);
	assert_int_equal(res.method, reflink ? DISK_CLONE_REFLINK : DISK_CLONE_QCOW2);
	assert_int_equal(count_files(f->disks), reflink ? 1 : 0);
}

static void
test_failed_write_leaves_nothing(void **state)
{
	struct fix *f = *state;
	struct disk_clone_req q = req(f, "n5", DISK_CLONE_COPY);
	struct disk_clone_result res;
	struct dl_err e = { 0 };
	struct rlimit old, lim;
	char final[160];
	int fd;

	/* an older clone at the final name stays as it is */
	snprintf(final, sizeof(final), "%s/n5.img", f->disks);
	fd = open(final, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	put(fd, 0, 100, 7);
	close(fd);

	/* writes past 1 MiB fail with EFBIG, as a full disk would mid-copy */
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = MIB;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	int r = disk_clone_make(&q, &res, &e);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(r, -EFBIG);
	print_message("refused as it should: %s\n", e.msg);
	assert_non_null(strstr(e.msg, "n5"));
	assert_int_equal(count_files(f->disks), 1);
	struct stat st;
	assert_int_equal(stat(final, &st), 0);
	assert_int_equal(st.st_size, 100);

	/* a golden that is not there */
	q.golden = "/nonexistent/disk.img";
	assert_int_equal(disk_clone_make(&q, &res, &e), -ENOENT);
	assert_int_equal(count_files(f->disks), 1);
	/* a node name that would escape disk_dir */
	q = req(f, "../n6", DISK_CLONE_COPY);
	assert_int_equal(disk_clone_make(&q, &res, &e), -EINVAL);
	assert_int_equal(count_files(f->disks), 1);
}

static void
test_cancel(void **state)
{
	struct fix *f = *state;
	atomic_bool stop = true;
	struct disk_clone_req q = req(f, "n7", DISK_CLONE_COPY);
	struct disk_clone_result res;
	struct dl_err e = { 0 };

	q.cancel = &stop;
	assert_int_equal(disk_clone_make(&q, &res, &e), -ECANCELED);
	assert_int_equal(count_files(f->disks), 0);
}

static void
test_sweep(void **state)
{
	struct fix *f = *state;
	struct dl_err e = { 0 };
	char p[160];
	unsigned n = 99;
	int fd;

	const char *names[] = { ".n1" DISK_CLONE_TEMP_MARK "abcdef", "n2.img",
		".n3" DISK_CLONE_TEMP_MARK "XyZ123" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", f->disks, names[i]);
		fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		assert_true(fd >= 0);
		close(fd);
	}
	assert_int_equal(disk_clone_sweep(f->disks, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(count_files(f->disks), 1);
	snprintf(p, sizeof(p), "%s/n2.img", f->disks);
	assert_int_equal(access(p, F_OK), 0);
	assert_int_equal(disk_clone_sweep("/nonexistent/disks", &n, &e), -ENOENT);
}

/* Reflink on XFS: a loop file made here, mounted, the golden and disk_dir on it. */
static void
test_reflink_xfs(void **state)
{
	struct fix *f = *state;
	char img[160], mnt[160], mkfs[64], mountp[64], umountp[64];
	struct dl_err e = { 0 };
	struct disk_clone_result res;
	struct disk_clone_req q;
	char golden[200], disks[200];
	int fd;

	if (geteuid() != 0 || spawn_which("mkfs.xfs", mkfs, sizeof(mkfs)) < 0 ||
	    spawn_which("mount", mountp, sizeof(mountp)) < 0 ||
	    spawn_which("umount", umountp, sizeof(umountp)) < 0) {
		/* make check runs as root after make deps installed xfsprogs: a missing
		 * part is an install step, never a reason not to test */
		fail_msg("reflink: needs root, mkfs.xfs (xfsprogs: make deps) and mount");
	}
	snprintf(img, sizeof(img), "%s/xfs.img", f->dir);
	snprintf(mnt, sizeof(mnt), "%s/mnt", f->dir);
	fd = open(img, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 320 * MIB), 0); /* mkfs.xfs's smallest, sparse */
	close(fd);
	assert_int_equal(mkdir(mnt, 0700), 0);
	const char *mk[] = { mkfs, "-q", "-m", "reflink=1", img, NULL };
	const char *mo[] = { mountp, "-o", "loop", img, mnt, NULL };
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	if (spawn_run(mk, &o, -1, 60000, &e) < 0 || spawn_run(mo, &o, -1, 60000, &e) < 0) {
		unlink(img);
		rmdir(mnt);
		fail_msg("reflink: cannot make or mount an XFS loop file: %s", e.msg);
	}
	snprintf(golden, sizeof(golden), "%s/disk.img", mnt);
	snprintf(disks, sizeof(disks), "%s/disks", mnt);
	assert_int_equal(mkdir(disks, 0700), 0);
	make_golden(golden);
	q = (struct disk_clone_req){ .golden = golden, .dir = disks, .node = "r1",
		.method = DISK_CLONE_AUTO };
	int r = disk_clone_make(&q, &res, &e);
	if (r == 0) {
		assert_int_equal(res.method, DISK_CLONE_REFLINK);
		assert_int_equal(res.apparent_bytes, GOLDEN_SIZE);
		assert_true(same_bytes(res.path, golden));
		print_message("reflink: %lld apparent, %lld allocated, %lld ms\n",
		    (long long)res.apparent_bytes, (long long)res.allocated_bytes,
		    (long long)res.ms);
		fd = open(res.path, O_WRONLY | O_CLOEXEC);
		put(fd, 0, 4096, 9);
		close(fd);
		assert_false(same_bytes(res.path, golden));
		q.method = DISK_CLONE_REFLINK;
		q.node = "r2";
		r = disk_clone_make(&q, &res, &e);
		assert_int_equal(res.method, DISK_CLONE_REFLINK);
	}
	const char *um[] = { umountp, mnt, NULL };
	assert_int_equal(spawn_run(um, &o, -1, 60000, &e), 0);
	unlink(img);
	rmdir(mnt);
	assert_int_equal(r, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_copy_keeps_holes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_falls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_write_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reflink_xfs, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
