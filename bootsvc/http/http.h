/* SPDX-License-Identifier: MIT */
/* The HTTP server: libmicrohttpd in external-epoll mode on the loop (CONVENTIONS §6). */
#pragma once

#include "bootsvc.h"

int http_start(struct bootsvc *bs, struct http **ret, struct dl_err *reterr);
struct http *http_stop(struct http *h);
