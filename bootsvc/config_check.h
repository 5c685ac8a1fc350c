/* SPDX-License-Identifier: MIT */
/* bootsvc --check-config: the whole configuration judged without starting anything or
 * touching the state (docs/install.md "Checking a configuration"). Unlike a start, which
 * stops at the first mistake, every mistake is reported, each naming its key (and the
 * file's line where there is one). */
#pragma once

#include "config.h"

/* Each mistake, one line of text. */
typedef void (*config_check_fn)(const char *msg, void *userdata);

/* Parse path over c, reporting every bad line ("path:line: ..."); the good lines are
 * applied. Returns the number of mistakes (an unreadable file is one). */
int config_check_file(struct config *c, const char *path, config_check_fn report,
    void *userdata);

/* What a start would find wrong outside the parser, for a resolved and validated c:
 * state_dir (or the directory it will be made in) exists, template_dir's templates load,
 * the store target parses (no connection, no file opened), the programs and files other
 * keys name exist (dnsmasq and ipxe_dir with DHCP on, tgtd and tgtadm with iscsi on, the
 * control_tls_* files, site_overlay, notify_hook). Returns the number of mistakes. */
int config_check_paths(const struct config *c, config_check_fn report, void *userdata);
