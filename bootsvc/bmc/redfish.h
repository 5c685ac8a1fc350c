/* SPDX-License-Identifier: MIT */
/* One Redfish conversation with one BMC over HTTPS (libcurl): the service root, a session
 * (POST SessionService/Sessions, X-Auth-Token, DELETE at the end) or basic auth where the
 * BMC has no SessionService, and bounded GET/POST/PATCH. Blocking, for worker threads.
 *
 * One session per job, not one kept per BMC: jobs on one BMC are a poll interval apart
 * (power_poll, health_poll: tens of seconds), BMCs hold few sessions (4 to 16) and expire
 * idle ones on their own clock, and a shared session would need a lock and a re-login
 * path on every call for an expiry we cannot see. Two extra requests per job is what
 * IPMI pays too (its session handshake is four messages). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "bmc/power.h"
#include "bmc/redfish_json.h"

/* Largest answer read: a ComputerSystem is 2-8 KiB, a Thermal of a big server 60 KiB, a
 * page of log entries up to a few hundred KiB. More is refused (-EBADMSG): one BMC must
 * not grow a worker's memory without bound. */
#define REDFISH_MAX_BODY (1024 * 1024)
/* Longest X-Auth-Token kept (real BMCs: 32-64 characters; OpenBMC 20). */
#define REDFISH_MAX_TOKEN 512

struct redfish {
	void *curl;                          /* CURL * */
	void *headers;                       /* struct curl_slist * */
	const struct bmc_target *t;
	char base[sizeof("https://[]:65535") + sizeof(((struct bmc_target *)0)->host)];
	char session[REDFISH_MAX_URI];       /* the session to DELETE, "" for none */
	struct redfish_root root;
	long status;                         /* the last answer's HTTP status */
	int cc;                              /* the last transfer's CURLcode */
	char *body;                          /* the last answer, NUL-terminated */
	size_t len;
};

/* Connect to t (TLS checked: t->pin, else t->ca_file, else the system CAs), read the
 * service root, log in. Errors as power.h's bmc_power_run(). On failure rf is closed. */
int redfish_open(struct redfish *rf, const struct bmc_target *t, struct dl_err *reterr);
/* Log out (DELETE the session, errors ignored: it expires on its own) and free. */
void redfish_close(struct redfish *rf);
/* method "GET", "POST", "PATCH" with body JSON (NULL for none) on path; the answer in
 * rf->body/len/status. A 2xx answer is 0; others are an errno with reterr naming what. */
int redfish_call(struct redfish *rf, const char *method, const char *path, const char *body,
    struct dl_err *reterr);
/* Whether t answers GET /redfish/v1 as a Redfish service (no credentials sent): 1 yes,
 * 0 no (the port refuses, or what answers is not Redfish), -ETIMEDOUT when nothing
 * answers in time (nothing learnt), -EKEYREJECTED for a failed TLS check. */
int redfish_probe(const struct bmc_target *t);
