/* SPDX-License-Identifier: MIT */
/* Out-of-band power control of one node's BMC: IPMI 2.0 / RMCP+ through libfreeipmi.
 * Blocking calls, for worker threads only (CONVENTIONS §6): nothing here touches loop
 * state, and each call opens and closes its own session. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

enum power_op {
	POWER_STATUS,
	POWER_ON,
	POWER_OFF,
	POWER_CYCLE,
	POWER_RESET,
	_POWER_OP_MAX,
	_POWER_OP_INVALID = -EINVAL,
};

/* Longest BMC user name and password IPMI 2.0 allows (IPMI 2.0 §13.31: 16 and 20). */
#define MAX_IPMI_USER 16
#define MAX_IPMI_PASS 20
/* Longest user name and password kept for any BMC, and what a Redfish one may use.
 * Redfish itself sets no limit (ManagerAccount.UserName/Password are strings sent in a
 * JSON login body), and BMCs do: iLO 5/6 take 39-character logins and passwords,
 * OpenBMC's PAM and XCC up to 32-64, and a BMC logging in against a directory (LDAP or
 * Active Directory: user@domain names, AD passwords up to 127 characters) takes what
 * the directory does. 64 and 128 bytes cover all of those; more would only be a longer
 * secret to wipe. The file must still fit MAX_CREDS_FILE (bmc_creds.c). */
#define MAX_BMC_USER 64
#define MAX_BMC_PASS 128

/* How a BMC is spoken to: from the node's BMC address scheme (redfish://, ipmi://), else
 * the config's bmc_protocol. AUTO probes GET /redfish/v1 once per host (bmc_dispatch.c)
 * and falls back to IPMI. */
enum bmc_proto {
	BMC_PROTO_AUTO,
	BMC_PROTO_IPMI,
	BMC_PROTO_REDFISH,
	_BMC_PROTO_MAX,
	_BMC_PROTO_INVALID = -EINVAL,
};

/* A Redfish BMC's public key pin as libcurl takes it: "sha256//" and the base64 of the
 * SHA-256 of the certificate's SubjectPublicKeyInfo (44 characters). */
#define MAX_BMC_PIN (8 + 44)
/* Longest CA file path (the config's redfish_ca_file). */
#define MAX_BMC_CA_FILE 256
/* Longest path of a node's trust-on-first-use pin file (<state_dir>/bmc-pins/<node>):
 * a state_dir path and a node name fit with room to spare. */
#define MAX_BMC_PIN_FILE 512

/* Where and how to reach one BMC. A job owns a copy (the password never lives longer
 * than the job, and is never logged or returned by the API). */
struct bmc_target {
	char host[64];      /* IPv4 address or name */
	uint16_t port;      /* 623 */
	char user[MAX_BMC_USER + 1];
	char pass[MAX_BMC_PASS + 1];
	uint8_t cipher;     /* cipher suite id, 3 by default */
	unsigned timeout_ms; /* session timeout: how long an unreachable BMC takes to fail */
	bool pxe_first;     /* before ON/CYCLE/RESET: set next boot device to PXE */
	enum bmc_proto proto;
	/* Redfish TLS: the pin (credentials file key pin=) wins; else the CA file; else
	 * the system's CA store. "" for none. */
	char pin[MAX_BMC_PIN + 1];
	char ca_file[MAX_BMC_CA_FILE];
	/* redfish_tofu = on and no pin: where the key seen first is recorded and read
	 * back (bmc/redfish_trust.h). "" for no trust on first use. */
	char pin_file[MAX_BMC_PIN_FILE];
};

/* Room for "host:port": the longest host, ':' and five digits. */
#define BMC_HOSTPORT_SIZE (sizeof(((struct bmc_target *)0)->host) + sizeof(":65535"))

/* The name libfreeipmi is given for t: t->host, or "host:port" for a port other than 623,
 * into ret. Checks what both IPMI paths need first: user and password NUL-terminated and
 * within IPMI's 16 and 20 bytes (a bmc_protocol = auto BMC may have been given Redfish's
 * longer ones, then found to speak IPMI only). 0, or -EINVAL naming the host and the
 * limit (a host with ':' cannot take a port). t->host must be
 * NUL-terminated (callers check it, each with its own message). */
int bmc_target_hostport(const struct bmc_target *t, char ret[static BMC_HOSTPORT_SIZE],
    struct dl_err *reterr);

/* Parse a node's BMC address into t->host, port and proto: "redfish://host[:port]",
 * "ipmi://host[:port]", or "host[:port]" with proto dflt. The default port is 623 for
 * IPMI and 443 for Redfish (0 for AUTO: each protocol's own). -EINVAL naming addr. */
int bmc_target_parse(const char *addr, enum bmc_proto dflt, struct bmc_target *t,
    struct dl_err *reterr);
const char *bmc_proto_to_string(enum bmc_proto p);  /* "auto", "ipmi", "redfish" */
enum bmc_proto bmc_proto_from_string(const char *s);

/* Run op against t over its protocol (t->proto; AUTO probes once per host, then
 * remembers). An op outside enum power_op is -EINVAL here, before any BMC is asked; the
 * protocol runs below take only valid ones. Same contract as power_ipmi_run(); Redfish adds -EBADMSG (the BMC's answer
 * is not the JSON it should be) and -EKEYREJECTED (its certificate fails the pin or the
 * CA), which callers treat as unreachable, like -ETIMEDOUT. */
int bmc_power_run(const struct bmc_target *t, enum power_op op, bool *ret_on,
    struct dl_err *reterr);
/* Over Redfish (power_redfish.c): ComputerSystem.Reset with the reset type the BMC
 * allows, Boot.BootSourceOverrideTarget=Pxe once before a boot when pxe_first. */
int power_redfish_run(const struct bmc_target *t, enum power_op op, bool *ret_on,
    struct dl_err *reterr);

/* The operations' names, either protocol's (bmc_dispatch.c): "status", "on", ...; NULL,
 * _POWER_OP_INVALID for none. */
const char *power_op_to_string(enum power_op op);
enum power_op power_op_from_string(const char *s);

/* Run op against t. POWER_STATUS sets *ret_on; others set it to the state requested.
 * Errors: -ETIMEDOUT (no answer: unreachable), -EACCES (credentials), -EIO (the BMC
 * answered with an error), -ENOTSUP; reterr says which host and what failed. */
int power_ipmi_run(const struct bmc_target *t, enum power_op op, bool *ret_on,
    struct dl_err *reterr);

/* Load BMC credentials from a root-only key=value file: `user=`, `password=`, optional
 * `cipher=` (0..14; ipmi_sim has no suite 17), optional `pin=sha256//BASE64` (a Redfish
 * BMC's public key pin). The user and password limits follow t->proto, which the caller
 * sets first (bmc_target_parse()): IPMI's 16 and 20 bytes for BMC_PROTO_IPMI, else
 * MAX_BMC_USER and MAX_BMC_PASS (an AUTO BMC found to speak IPMI is refused at its first
 * job by bmc_target_hostport(), naming IPMI's limit). One file per node or per group: several
 * nodes may name the same file as their bmc_creds. The file must be owned by root and
 * not accessible to group or others (else -EPERM naming the file). Fills user, pass and
 * cipher of t; never puts the password into reterr. */
int bmc_creds_load(const char *path, struct bmc_target *t, struct dl_err *reterr);
/* The parsing half of bmc_creds_load() for a file's content read elsewhere (bootsvc's
 * privileged parent reads it: privsep/privsep.h); name is for messages. buf is borrowed
 * (the caller wipes it). */
int bmc_creds_parse(const char *name, const char *buf, size_t len, struct bmc_target *t,
    struct dl_err *reterr);
