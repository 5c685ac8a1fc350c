/* SPDX-License-Identifier: MIT */
/* main() for fuzz targets built without libFuzzer (CONVENTIONS §11): replay every file
 * named on the command line, or every regular file in a named directory, through
 * LLVMFuzzerTestOneInput(). A crash aborts under ASan; otherwise exit 0. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inputs larger than this are not replayed: libFuzzer's default -max_len is far below. */
#define MAX_REPLAY_INPUT (16 * 1024 * 1024)

static int
replay_file(int dirfd, const char *name, const char *shown)
{
	struct stat st;
	uint8_t *buf;
	size_t off = 0;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "replay: %s: %s\n", shown, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > MAX_REPLAY_INPUT) {
		close(fd);
		return 0;
	}
	/* An exact-size heap copy, so ASan catches a read one byte past the input. */
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		close(fd);
		return -1;
	}
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + off, (size_t)st.st_size - off);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			break;
		}
		off += (size_t)n;
	}
	close(fd);
	fprintf(stderr, "replay: %s (%zu bytes)\n", shown, off);
	LLVMFuzzerTestOneInput(buf, off);
	free(buf);
	return 1;
}

int
main(int argc, char **argv)
{
	unsigned long ran = 0, failed = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		DIR *d;
		struct dirent *de;

		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			failed++;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			int r = replay_file(AT_FDCWD, argv[i], argv[i]);

			ran += r > 0;
			failed += r < 0;
			continue;
		}
		d = opendir(argv[i]);
		if (!d) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			failed++;
			continue;
		}
		while ((de = readdir(d))) {
			char shown[4096];
			int r;

			if (de->d_name[0] == '.')
				continue;
			snprintf(shown, sizeof(shown), "%s/%s", argv[i], de->d_name);
			r = replay_file(dirfd(d), de->d_name, shown);
			ran += r > 0;
			failed += r < 0;
		}
		closedir(d);
	}
	printf("replayed %lu inputs\n", ran);
	/* An unreadable input is a broken corpus, not a pass. */
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
