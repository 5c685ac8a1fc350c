/* SPDX-License-Identifier: MIT */
/* imagebuild: build images/<name> into the image store (docs/images.md).
 *   imagebuild build images/<name> [--store DIR] [--force] [--work DIR] [--init FILE]
 *                                  [--kernel-dir DIR]
 * The last line on stdout is "<id> <store>/<id>". Exit codes: see build.h. */
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "build.h"
#include "log.h"
#include "spawn.h"

#define DEFAULT_STORE "/var/lib/diskless/images"
#define DEFAULT_WORK "/var/tmp"
#define DEFAULT_KERNEL_CACHE "/var/cache/diskless"
/* Where make install puts the node's init when no build/init sits beside imagebuild. */
#define INSTALLED_INIT "/usr/lib/diskless/init"

static const char *arg_store = DEFAULT_STORE;
static const char *arg_work = DEFAULT_WORK;
static const char *arg_init;
static const char *arg_kernel_dir;
static bool arg_force;

static volatile sig_atomic_t got_signal;

/* SIGINT (the terminal) or SIGTERM: the running tool (debootstrap, mksquashfs, ...) is in
 * its own process group and would not see the signal; spawn ends it, the build unwinds
 * through its clean-up (overlay unmounted, work dir removed) and we exit 128+signal. */
static void
on_signal(int sig)
{
	got_signal = sig;
	spawn_interrupt();
}

static void
usage(FILE *f)
{
	(void)fputs("usage: imagebuild build images/<name> [--store DIR] [--force] [--work DIR]\n"
	    "                  [--init FILE] [--kernel-dir DIR]\n"
	    "  --store DIR       the image store (versions at DIR/<id>/; not bootsvc's node\n"
	    "                    store), default " DEFAULT_STORE "\n"
	    "  --force           rebuild even if the recipe is unchanged\n"
	    "  --work DIR        scratch space for the rootfs, default " DEFAULT_WORK "\n"
	    "  --init FILE       the node's static init, default <dir of imagebuild>/init,\n"
	    "                    else " INSTALLED_INIT "\n"
	    "  --kernel-dir DIR  kernel tree for bases without their own kernel,\n"
	    "                    default $DISKLESS_CACHE/kernel/kroot (" DEFAULT_KERNEL_CACHE ")\n", f);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "force", no_argument, NULL, 'f' },
		{ "work", required_argument, NULL, 'w' },
		{ "init", required_argument, NULL, 'i' },
		{ "kernel-dir", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	char init_buf[PATH_MAX], kdir_buf[PATH_MAX];
	struct build_result res;
	struct dl_err err = {};
	enum build_exit ex;
	int c;

	/* Options may come before the command and around the recipe dir, as the Makefile
	 * writes them: with "+" getopt stops at each operand, which is taken in order. */
	const char *command = NULL, *recipe = NULL;
	while (optind < argc) {
		c = getopt_long(argc, argv, "+s:fw:i:k:h", opts, NULL);
		if (c == -1) {
			if (optind >= argc)
				break; /* a last "--" */
			if (!command) {
				command = argv[optind++];
				if (strcmp(command, "build") != 0) {
					(void)fprintf(stderr, "imagebuild: expected the command "
					    "'build', got '%s'\n", command);
					return BUILD_EXIT_USAGE;
				}
				continue;
			}
			if (recipe) {
				(void)fprintf(stderr, "imagebuild: one recipe dir only, got '%s' "
				    "and '%s'\n", recipe, argv[optind]);
				return BUILD_EXIT_USAGE;
			}
			recipe = argv[optind++];
			continue;
		}
		switch (c) {
		case 's': arg_store = optarg; break;
		case 'f': arg_force = true; break;
		case 'w': arg_work = optarg; break;
		case 'i': arg_init = optarg; break;
		case 'k': arg_kernel_dir = optarg; break;
		case 'h': usage(stdout); return EXIT_SUCCESS;
		default: return BUILD_EXIT_USAGE;
		}
	}
	if (!command) {
		(void)fputs("imagebuild: expected the command 'build'\n", stderr);
		return BUILD_EXIT_USAGE;
	}
	if (!recipe) {
		(void)fputs("imagebuild: build: missing the recipe dir (images/<name>)\n", stderr);
		return BUILD_EXIT_USAGE;
	}
	if (!arg_init) {
		/* build/imagebuild and build/init are siblings (Makefile), wherever make ran. */
		ssize_t n = readlink("/proc/self/exe", init_buf, sizeof(init_buf) - 6);
		if (n < 0) {
			(void)fputs("imagebuild: cannot read /proc/self/exe; pass --init\n", stderr);
			return BUILD_EXIT_USAGE;
		}
		init_buf[n] = '\0';
		char *slash = strrchr(init_buf, '/');
		strcpy(slash ? slash + 1 : init_buf, "init");
		arg_init = init_buf;
		/* Installed (make install, the .deb), the init is a helper, not a program. */
		if (access(init_buf, F_OK) < 0)
			arg_init = INSTALLED_INIT;
	}
	if (!arg_kernel_dir) {
		const char *cache = getenv("DISKLESS_CACHE");
		(void)snprintf(kdir_buf, sizeof(kdir_buf), "%s/kernel/kroot",
		    cache && *cache ? cache : DEFAULT_KERNEL_CACHE);
		arg_kernel_dir = kdir_buf;
	}
	struct build_opts o = {
		.recipe_dir = recipe, .store = arg_store, .work = arg_work, .init = arg_init,
		.kernel_dir = arg_kernel_dir, .etc_apt = "/etc/apt", .force = arg_force,
	};
	{
		struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART */

		(void)sigemptyset(&sa.sa_mask);
		(void)sigaction(SIGINT, &sa, NULL);
		(void)sigaction(SIGTERM, &sa, NULL);
	}
	if (build_run(&o, &res, &ex, &err) < 0) {
		(void)fprintf(stderr, "imagebuild: %s\n", err.msg);
		if (got_signal)
			return 128 + got_signal;
		log_err("event=image_build msg=\"build failed\" recipe=%s err=%s err_at=%s:%d", recipe,
		    dl_errno_name(err.code), err.file ? err.file : "?", err.line);
		return ex;
	}
	(void)printf("%s %s/%s\n", res.id, arg_store, res.id);
	return fflush(stdout) == 0 ? EXIT_SUCCESS : BUILD_EXIT_FAILED;
}
