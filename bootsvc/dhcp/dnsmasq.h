/* SPDX-License-Identifier: MIT */
/* dnsmasq as bootsvc's supervised child: generated config (DHCP or proxy-DHCP on the one
 * configured interface, TFTP of Debian's iPXE binaries, iPXE detection), restart with
 * backoff when it dies, one dhcp-host file per node in a hostsdir it re-reads itself. */
#pragma once

#include <sys/types.h>

#include "bootsvc.h"

/* Prepare <state>/dnsmasq/{dnsmasq.conf,hosts/,tftp/} from the config. Does not start. */
int dnsmasq_new(struct bootsvc *bs, struct dnsmasq **ret, struct dl_err *reterr);
/* Stop the child (SIGTERM, then SIGKILL after a grace period) and free. */
struct dnsmasq *dnsmasq_free(struct dnsmasq *d);

/* Spawn the child and watch its pidfd on the loop. */
int dnsmasq_start(struct dnsmasq *d, struct dl_err *reterr);
pid_t dnsmasq_pid(const struct dnsmasq *d);

/* Write (atomically) the host entry of one node: "mac,ip,name". Nodes without a fixed
 * address get "mac,name". */
int dnsmasq_host_write(struct dnsmasq *d, const struct node_rec *n);
/* Remove a node's entry. dnsmasq keeps records of deleted files until SIGHUP, so this
 * sends one. */
int dnsmasq_host_remove(struct dnsmasq *d, const char *name);
/* Ask dnsmasq to forget entries that changed (SIGHUP re-reads the hostsdir). */
void dnsmasq_reload_hosts(struct dnsmasq *d);
