/* SPDX-License-Identifier: MIT */
/* One static binary, two roles: /init (PID 1 of the initrd) and dl-report (the image's
 * up-reporter, installed by imagebuild as /usr/lib/diskless/dl-report). */
#include <string.h>
#include <unistd.h>

#include "roles.h"
#include "util.h"

int
main(int argc, char **argv, char **envp)
{
	const char *base = argc > 0 ? strrchr(argv[0], '/') : NULL;

	base = base ? base + 1 : argc > 0 ? argv[0] : "";
	if (strcmp(base, "dl-report") == 0)
		return dlreport_main(argc, argv);
	if (argc > 1 && strcmp(argv[1], "dl-report") == 0)
		return dlreport_main(argc - 1, argv + 1);
	/* The PID 1 role mounts and reboots: never let a mistyped command run it on a host. */
	if (getpid() == 1)
		pid1_main(envp);
	init_log("not PID 1: run as /init from the initrd, or as 'dl-report up|phase ...'");
	return 2;
}
