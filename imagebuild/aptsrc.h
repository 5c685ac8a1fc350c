/* SPDX-License-Identifier: MIT */
/* The machine's own apt sources, read for one thing: a default debootstrap mirror, so a
 * recipe without mirror= works wherever apt works on the build machine (issue 3). */
#pragma once

#include <stdbool.h>

#include "err.h"

/* Pick a mirror from the one-line (*.list, sources.list) and deb822 (*.sources) files
 * under etc_apt (normally "/etc/apt"): the first "deb" URI that serves suite, else the
 * first one serving a main suite (a name without '-', not -security or -updates).
 * *ret is a new string. Errors: -ENOENT (reterr says to set mirror=), -ENOMEM. */
int aptsrc_default_mirror(const char *etc_apt, const char *suite, char **ret,
    struct dl_err *reterr);

/* The same over a buffer: deb822 if is_deb822, else one-line format. Fills *exact and
 * *main_uri (new strings, left alone once set). For tests and the file walker above. */
int aptsrc_scan(const char *buf, bool is_deb822, const char *suite, char **exact, char **main_uri);
