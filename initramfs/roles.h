/* SPDX-License-Identifier: MIT */
/* The two roles of the one static binary (main.c picks by argv[0] or first argument). */
#pragma once

/* PID 1 in the initrd: boot the node into its image. Never returns: it execs the image's
 * /sbin/init or reboots. */
__attribute__((noreturn)) void pid1_main(char **envp);

/* dl-report in the image: `up` or `phase <phase> [reason]`, with --conf/--receipt to
 * override the default paths. Returns the process exit status. */
int dlreport_main(int argc, char **argv);
