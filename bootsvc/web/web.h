/* SPDX-License-Identifier: MIT */
/* The admin listener (docs/web.md): HTTPS on admin_listen, apart from the boot network's
 * HTTP, serving the web view's static files from web_dir, /api/<verb> (the control
 * protocol's verbs, called with the browser user's role through control_call_as(), so roles
 * are enforced in one place) and /api/events (the event stream as server-sent events).
 * Browsers are known by a client certificate of the control CA or by a password file
 * and a session cookie. Its own MHD daemon on the loop, with its own limits, so a
 * browser never holds up a booting node's requests. */
#pragma once

#include "bootsvc.h"

struct web;

/* Read the certificate, key, CA and password file, and listen: run before privileges
 * are dropped (the key is read once, here). Off (0, *ret NULL) while admin_listen is
 * unset. -errno with reterr naming the file or address. */
int web_start(struct bootsvc *bs, struct web **ret, struct dl_err *reterr);
struct web *web_stop(struct web *w);
