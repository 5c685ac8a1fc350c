/* SPDX-License-Identifier: MIT */
/* /etc/diskless/node.conf, written into the image by the node overlay: key=value lines
 * (server, node, token, image, and expected ids). Read by dl-report. */
#pragma once

#include "cmdline.h"
#include "util.h"

/* The file holds a handful of short lines. */
#define MAX_NODE_CONF 8192

struct node_conf {
	struct http_server server;
	char node[MAX_HOSTNAME_LEN + 1];
	char token[MAX_TOKEN_LEN + 1];
};

/* Parse the text s (NUL-terminated). Blank lines and '#' comments are skipped; a value may
 * be wrapped in double quotes; unknown keys are ignored (the file also carries ids for
 * other readers). server, node and token are required and validated like their dl.*
 * counterparts. A line without '=' or a duplicate key is an error naming the line. */
int nodeconf_parse(const char *s, struct node_conf *ret, struct init_err *reterr);
