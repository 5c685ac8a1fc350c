/* SPDX-License-Identifier: MIT */
/* dnsmasq as bootsvc's supervised child: generated config (DHCP or proxy-DHCP on the one
 * configured interface, TFTP of Debian's iPXE binaries, iPXE detection), restart with
 * backoff when it dies, one dhcp-host file per node in a hostsdir it re-reads itself. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bootsvc.h"

struct privsep;

/* Prepare <state>/dnsmasq/{dnsmasq.conf,hosts/,tftp/} from the config: the TFTP root gets
 * the iPXE binaries and the start script rendered from <template_dir>/start.ipxe
 * (dhcp/start_script.h), which DHCP names to every iPXE client. Does not start. */
int dnsmasq_new(struct bootsvc *bs, struct dnsmasq **ret, struct dl_err *reterr);
/* Stop the child (SIGTERM, then SIGKILL after a grace period) and free. */
struct dnsmasq *dnsmasq_free(struct dnsmasq *d);

/* Spawn the child and watch its pidfd on the loop. A dnsmasq of an earlier run that still
 * holds our config is ended first without blocking the loop (SIGTERM, SIGKILL after a
 * grace): then this returns 0 and the start follows when it is gone (an error then is
 * logged and retried with the backoff). A child that cannot be watched (pidfd_open or
 * loop_add_fd failed) is killed and reaped, and the error returned: nothing runs
 * unsupervised. A second call while starting or running does nothing. Through privsep
 * (dnsmasq_use_privsep) this asks the root parent to start it. */
int dnsmasq_start(struct dnsmasq *d, struct dl_err *reterr);
/* dnsmasq's pid, 0 when it is down (through privsep: the parent's answer). */
pid_t dnsmasq_pid(const struct dnsmasq *d);
/* Its pid (0: down) and how often it was restarted; both 0 for d NULL. */
void dnsmasq_status(const struct dnsmasq *d, pid_t *ret_pid, uint64_t *ret_restarts);

/* In bootsvc's unprivileged child: d only writes host files; starting dnsmasq and making
 * it re-read them are asked of the root parent over p (borrowed, outlives d). */
void dnsmasq_use_privsep(struct dnsmasq *d, struct privsep *p);
/* Give the host file directories to the unprivileged user (root, before the fork). */
int dnsmasq_hosts_chown(struct dnsmasq *d, uid_t uid, gid_t gid, struct dl_err *reterr);

/* Write (atomically) the host entry of one node: "mac,ip,name". Nodes without a fixed
 * address get "mac,name". */
int dnsmasq_host_write(struct dnsmasq *d, const struct node_rec *n);
/* Remove a node's entry. dnsmasq keeps records of deleted files until SIGHUP, so this
 * sends one. */
int dnsmasq_host_remove(struct dnsmasq *d, const char *name);
/* Whether the host entry of the node named name should stay: 1 yes, 0 no (the node is
 * gone), <0 cannot tell (the entry stays). */
typedef int (*dnsmasq_keep_fn)(const char *name, void *userdata);
/* Remove the entries keep says are gone, and SIGHUP dnsmasq once if any went: a node
 * deleted through another instance (issue 15) has no `node delete` here to remove its
 * entry. The number removed, or a negative errno when the directory cannot be read. */
int dnsmasq_hosts_prune(struct dnsmasq *d, dnsmasq_keep_fn keep, void *userdata);
/* Ask dnsmasq to forget entries that changed (SIGHUP re-reads the hostsdir). */
void dnsmasq_reload_hosts(struct dnsmasq *d);

/* When dnsmasq last saw a PXE DHCP exchange (firmware or iPXE) from mac: unix ms, or -1
 * for never. The evidence that a node thought up really rebooted; kept only with
 * dhcp_mode = range, where bootsvc's dnsmasq answers every DHCP of the node. */
int64_t dnsmasq_pxe_seen_at(const char *state_dir, const char *mac);

/* The address dnsmasq leased to mac, from its lease file's text ("<expiry> <mac> <ip>
 * <hostname> <client-id>" lines): 0 and ret set, or -ENOENT. Pure: text is any bytes. */
int dnsmasq_lease_find(const char *text, const char *mac, char ret[static 16]);
/* The same, read from <state_dir>/dnsmasq/leases (dhcp_mode = range: our dnsmasq leases).
 * A discovered node being assigned keeps the address it has (verbs_node.c). */
int dnsmasq_lease_ip(const char *state_dir, const char *mac, char ret[static 16]);
