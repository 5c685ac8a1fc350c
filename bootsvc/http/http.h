/* SPDX-License-Identifier: MIT */
/* The HTTP servers: libmicrohttpd in external-epoll mode (CONVENTIONS §6), one on the
 * loop and, with http_threads > 1, one on each reader thread. The loop's serves every
 * route. A reader thread answers the per-node scripts that move nothing from a read-only
 * view of its own (a store reader, its own bound kind scripts) and hands every other
 * request to the loop, which stays the only writer (docs/architecture.md, "More
 * threads"). They share one listening socket; the kernel hands each connection to one
 * that is free (http_srv.h srv_accept_on). */
#pragma once

#include "bootsvc.h"

/* Bind the listening socket and make the servers (before privileges are dropped: the port
 * may be below 1024). Nobody accepts yet: http_serve. */
int http_start(struct bootsvc *bs, struct http **ret, struct dl_err *reterr);
/* Start serving (after the drop, the store open and the templates loaded): the reader
 * threads, each with its store reader, then the loop's server; each accepts as it
 * starts. */
int http_serve(struct http *h, struct dl_err *reterr);
/* Stop the reader threads, first at shutdown: what they read (the store, the templates,
 * the sync room) goes after them. Requests handed to the loop and not yet taken are
 * closed; the daemons, and the connections whose answers the loop still owes, go in
 * http_stop. */
void http_readers_stop(struct http *h);
struct http *http_stop(struct http *h);
/* The loop: write the boot records the scripts left queued (boot/boot_records.h), in a
 * store batch of their own, before something outside HTTP reads the nodes they record
 * (every control verb): they wait to fall due otherwise. */
void http_records_flush(struct bootsvc *bs);
