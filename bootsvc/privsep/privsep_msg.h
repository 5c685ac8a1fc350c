/* SPDX-License-Identifier: MIT */
/* The messages between bootsvc's two processes (docs/security.md "Privilege separation"):
 * the unprivileged child asks, the root parent answers. One message per SOCK_SEQPACKET
 * datagram: an 8-byte header (type, payload length, both host-order uint32, the peer is
 * the same binary on the same host) and a payload whose layout the type fixes. Pure: no
 * I/O, so the codec is unit-tested and fuzzed (tests/fuzz/fuzz_privsep.c). Either side
 * may be the compromised one, so both decode with the same checks. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "iscsi/tgt.h"

enum privsep_type {
	/* child -> parent */
	PRIVSEP_DHCP_START = 1,   /* empty: host files are written, start dnsmasq */
	PRIVSEP_DHCP_RELOAD = 2,  /* empty: host files changed, SIGHUP dnsmasq */
	PRIVSEP_DHCP_STATUS = 3,  /* empty: is dnsmasq up, how often was it restarted */
	PRIVSEP_READ_CREDS = 4,   /* path, NUL-terminated: a BMC credentials file */
	PRIVSEP_READ_CONFIG = 5,  /* empty: the config file bootsvc was started with */
	PRIVSEP_READ_SITE = 6,    /* path beneath site_overlay, NUL-terminated: a site file */
	PRIVSEP_READ_TLS_CA = 7,  /* "ca.crt" or "ca.key", NUL-terminated: the CA in tls_ca_dir */
	PRIVSEP_TGT_SET = 8,      /* uint32 tid, then the 8 strings of struct tgt_target in its
	                           * order, each NUL-terminated: create or replace a target */
	PRIVSEP_TGT_DEL = 9,      /* uint32 tid: delete a target and its CHAP accounts */
	PRIVSEP_TGT_STATUS = 10,  /* empty: tgtd's pid, restarts and generation */
	PRIVSEP_TGT_SESSIONS = 11, /* empty: every initiator logged in */
	PRIVSEP_DISK_EXPORT = 12, /* node, golden path, each NUL-terminated: export node's
	                           * qcow2 overlay (made by the parent if there is none) raw
	                           * through qemu-storage-daemon; answered by a RESULT whose
	                           * message is the export's path */
	PRIVSEP_DISK_UNEXPORT = 13, /* node, NUL-terminated: end that export */
	PRIVSEP_DISK_REMOVE = 14, /* node, NUL-terminated: end the export, delete the overlay */
	PRIVSEP_QSD_STATUS = 15,  /* empty: qemu-storage-daemon's pid, restarts, generation
	                           * (answered by a TGT_STATE) */
	/* parent -> child */
	PRIVSEP_RESULT = 0x81,    /* int32 rc (0 or -errno), then a NUL-terminated message */
	PRIVSEP_STATUS = 0x82,    /* int32 pid (0: down), uint32 zero, uint64 restarts */
	PRIVSEP_FILE = 0x83,      /* uint32 mode (07777 at most), the file's bytes, 0..MAX_PRIVSEP_FILE */
	PRIVSEP_TGT_STATE = 0x84, /* int32 pid (0: down), uint32 zero, uint64 restarts,
	                           * uint64 generation */
	PRIVSEP_TGT_LIST = 0x85,  /* uint32 n (<= MAX_TGT_SESSIONS), then n records: uint32
	                           * tid (1..MAX_TGT_TARGETS), initiator name and IPv4
	                           * address, each NUL-terminated */
};

/* Header: type and payload length. */
#define PRIVSEP_HDR_SIZE 8
/* A file answered whole: a config file, a credentials file or a site file (the overlay's
 * cap, MAX_SITE_FILE in boot/overlay.c). Above a unix socket's default send buffer
 * (net.core.wmem_default, 208 KiB): the root parent, the only side that sends files,
 * raises its own with SO_SNDBUFFORCE. */
#define MAX_PRIVSEP_FILE (1024 * 1024)
/* A path asked for: the store's and the config's path fields hold at most 256 bytes. */
#define MAX_PRIVSEP_PATH 256
/* A result's message: struct dl_err's. */
#define MAX_PRIVSEP_TEXT (MAX_ERR_MSG - 1)
/* A TGT_SET request: the tid and struct tgt_target's strings with their NULs. */
#define MAX_PRIVSEP_TGT_SET (4 + MAX_ISCSI_NAME + MAX_STORE_PATH + MAX_ISCSI_NAME + 16 + \
	2 * (MAX_CHAP_NAME + MAX_CHAP_SECRET))
/* A DISK_EXPORT request: two paths (the node name is shorter) with their NULs. */
#define MAX_PRIVSEP_DISK_EXPORT (2 * MAX_PRIVSEP_PATH)
/* The largest request the parent accepts: a target or an export, whichever is longer
 * (both longer than a path, asserted in privsep_msg.c). */
#define MAX_PRIVSEP_REQUEST (PRIVSEP_HDR_SIZE + (MAX_PRIVSEP_TGT_SET > MAX_PRIVSEP_DISK_EXPORT ? \
	MAX_PRIVSEP_TGT_SET : MAX_PRIVSEP_DISK_EXPORT))
/* The largest datagram either side sends or accepts. */
#define MAX_PRIVSEP_MSG (PRIVSEP_HDR_SIZE + 4 + MAX_PRIVSEP_FILE)

struct privsep_msg {
	enum privsep_type type;
	int32_t rc;         /* PRIVSEP_RESULT */
	int32_t pid;        /* PRIVSEP_STATUS */
	uint32_t mode;      /* PRIVSEP_FILE: the permission bits (07777 at most) */
	uint64_t restarts;  /* PRIVSEP_STATUS, PRIVSEP_TGT_STATE */
	uint64_t generation; /* PRIVSEP_TGT_STATE: bumped by each (re)start of tgtd */
	uint32_t tid;       /* PRIVSEP_TGT_DEL */
	struct tgt_target target; /* PRIVSEP_TGT_SET (holds secrets: wipe after use) */
	/* PRIVSEP_TGT_LIST: encode reads sessions[0..n_sessions); decode counts them into
	 * n_sessions and points data/data_len at the records (privsep_msg_sessions()). */
	const struct tgt_session *sessions;
	size_t n_sessions;
	/* PRIVSEP_DISK_EXPORT: NUL-terminated, each shorter than MAX_PRIVSEP_PATH (decode
	 * points them into the buffer; encode reads them). */
	const char *node, *golden;
	/* PRIVSEP_READ_CREDS, PRIVSEP_READ_SITE, PRIVSEP_DISK_UNEXPORT and _REMOVE (the node), PRIVSEP_READ_TLS_CA: the path; PRIVSEP_RESULT: the message (both NUL-terminated
	 * within data_len when decoded); PRIVSEP_FILE: the bytes. Borrowed: encode reads it,
	 * decode points it into the buffer it was given. */
	const char *data;
	size_t data_len;    /* without the NUL for strings */
};

/* True for the types the child sends (the parent accepts only these). */
bool privsep_type_is_request(uint32_t type);
/* The name of a type for logs ("read_creds"), or "unknown". */
const char *privsep_type_name(uint32_t type);

/* Encode m into buf[0..size): header and payload, *ret_len the datagram's size. Strings
 * are taken up to data_len (which must not exceed their limit) and NUL-terminated here.
 * -EINVAL (unknown type, a string with a NUL inside, rc positive or below -4095) or
 * -EMSGSIZE (too long for its type or for buf), reterr naming the type and the length. */
int privsep_msg_encode(const struct privsep_msg *m, uint8_t *buf, size_t size,
    size_t *ret_len, struct dl_err *reterr);

/* The records of a decoded PRIVSEP_TGT_LIST: the first min(max, m->n_sessions) into ret;
 * returns how many. */
size_t privsep_msg_sessions(const struct privsep_msg *m, struct tgt_session *ret, size_t max);

/* Decode the datagram buf[0..len) into *ret (whose data points into buf). Checks the
 * header against len exactly, the payload's length against its type, strings for their
 * one NUL at the end, rc and pid ranges. -EBADMSG naming what was wrong; *ret is written
 * only on success. */
int privsep_msg_decode(const uint8_t *buf, size_t len, struct privsep_msg *ret,
    struct dl_err *reterr);
