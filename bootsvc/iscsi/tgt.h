/* SPDX-License-Identifier: MIT */
/* The iSCSI targets bootsvc exports through tgtd (issue 14, docs/iscsi.md): what the
 * unprivileged child asks of the root parent, which alone may drive tgtd (tgtd refuses
 * every change over its IPC socket from a uid other than 0). The parent supervises tgtd
 * as it does dnsmasq and runs tgtadm with argv, never a shell; it holds no target of its
 * own: after each (re)start of tgtd it bumps a generation, and the child, which keeps
 * every target in the store, sets them all again.
 *
 * These calls go over the privsep socket and wait for tgtadm (milliseconds each); the
 * child makes them from its worker pool, never from the loop (privsep_client.c takes a
 * lock, so workers may call at once). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "err.h"
#include "store/store.h"

/* An iSCSI name: 223 bytes at most (RFC 3720 3.2.6.1), with its NUL. */
#define MAX_ISCSI_NAME 224
/* A CHAP name and secret. iPXE and tgt take up to 255; Windows' initiator wants a secret
 * of 12-16 bytes; RFC 3720 asks 96 bits at least (16 bytes give 96 bits in base64url). */
#define MAX_CHAP_NAME 64
#define MAX_CHAP_SECRET 64
/* Targets tgtd holds at once: tids are 1..MAX_TGT_TARGETS, one per iscsi node. */
#define MAX_TGT_TARGETS 65535
/* Sessions one status answer lists (initiators logged in, all targets). */
#define MAX_TGT_SESSIONS 1024

/* One node's target. Every string is NUL-terminated within its array. */
struct tgt_target {
	uint32_t tid;                          /* 1..MAX_TGT_TARGETS, stable per node */
	char iqn[MAX_ISCSI_NAME];              /* <iscsi_iqn>:<node> */
	char backing[MAX_STORE_PATH];          /* the node's clone: a regular file (or its
	                                        * qcow2 FUSE export) below disk_dir */
	char initiator_name[MAX_ISCSI_NAME];   /* only this initiator may log in ... */
	char initiator_addr[16];               /* ... and only from this IPv4 address */
	char chap_user[MAX_CHAP_NAME];         /* incoming CHAP: the node proves itself */
	char chap_secret[MAX_CHAP_SECRET];
	char mutual_user[MAX_CHAP_NAME];       /* outgoing CHAP: the target proves itself;
	                                        * "" for none */
	char mutual_secret[MAX_CHAP_SECRET];
};

/* An initiator logged in to a target (tgtadm's I_T nexus). */
struct tgt_session {
	uint32_t tid;
	char initiator_name[MAX_ISCSI_NAME];
	char addr[16]; /* the initiator's IPv4 address */
};

/* The names of node's target and initiator under prefix (cfg->iscsi_iqn):
 * "<prefix>:<node>" and "<prefix>:<node>.initiator". -ENAMETOOLONG past size. */
int tgt_target_name(const char *prefix, const char *node, char *buf, size_t size);
int tgt_initiator_name(const char *prefix, const char *node, char *buf, size_t size);

/* Is initiator logged in from addr among sessions s[0..n)? Both must match for a login to
 * count as the node's boot (san_watch.c): tgtd admits by address (and CHAP) only, and the
 * parent drops and never lists a session whose name is not its target's node's
 * (docs/iscsi.md "Who may log in"), so this is the same rule seen from the child. */
bool tgt_session_find(const struct tgt_session *s, size_t n, const char *initiator,
    const char *addr);
