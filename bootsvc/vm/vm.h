/* SPDX-License-Identifier: MIT */
/* The vm room (issue 12, docs/vm.md): bootsvc's libvirt connection to every VM host that
 * is up, on the libvirt worker pool (action/action.h), with keepalive and a close
 * callback (libvirt's default event loop runs on one thread of its own). Every vm_poll
 * each host's node info and domain list are read and the store reconciled with them
 * (libvirt is the truth of where a VM runs). A lost connection is a history event
 * (host-lost: <reason>) and a health input (risky, "libvirt unreachable"), and is
 * retried with backoff (vm_conn.h decides); a host whose node leaves up is dropped and
 * its connection closed. Loop thread only, except the jobs' run functions. */
#pragma once

#include <stdbool.h>

#include "bootsvc.h"
#include "err.h"
#include "kind.h"
#include "vm/vm_facts.h"

struct vm;

/* Domains kept per host: libvirt lists what it has; past this many the rest are not
 * stored (refusal logged once per host). A hypervisor of the seed ran at most a few
 * dozen guests; 1,024 bounds a listing's memory (~150 KiB) and its transaction. */
#define MAX_VM_DOMAINS_PER_HOST 1024
/* Deadline of one libvirt call (connect with its TLS handshake, or a refresh): a host
 * that stops answering holds a pool thread at most this long. */
#define VM_CALL_DEADLINE_MS 30000
/* Keepalive: a probe after 5 s of silence, the connection closed after 3 unanswered
 * (libvirt's own defaults for its daemons), so a dead host is seen within ~20 s even
 * between polls. */
#define VM_KEEPALIVE_INTERVAL_S 5
#define VM_KEEPALIVE_COUNT 3
/* Reconnect backoff (docs/vm.md). */
#define VM_BACKOFF_MIN_MS 1000
#define VM_BACKOFF_MAX_MS 60000
/* The room's pass: decisions are taken at this granularity. */
#define VM_TICK_MS 1000
/* The reason a lost host gives its node's health. */
#define VM_HEALTH_REASON "libvirt unreachable"

/* Start the room: libvirt's event loop thread, the tick, the hosts the store has whose
 * nodes are up. bs (borrowed, outlives vm) gives the loop, store, action pools and
 * config. -EINVAL for a libvirt_pki_dir that cannot be put in a URI; -ENOMEM, thread
 * errors; reterr says which. @ret *ret owned by the caller: vm_free(). */
int vm_new(struct bootsvc *bs, struct vm **ret, struct dl_err *reterr);
/* Close every connection, stop the event thread, free (NULL is fine). Call after
 * action_free(): the jobs' done() still reaches vm. Returns NULL. */
struct vm *vm_free(struct vm *vm);

/* Node n (up on kind k) reported good facts: write its host row (state connecting) and
 * have vm (may be NULL: no room, e.g. unit tests) connect at once. The URI stored is
 * the one bootsvc builds from k and n's fixed address. 0, or the store's -errno. */
int vm_host_register(struct bootsvc *bs, struct vm *vm, const struct node_rec *n,
    const struct kind *k, const struct vm_facts *f);

/* Is node a VM host whose connection is lost right now (a health input)? */
bool vm_host_is_lost(const struct vm *vm, const char *node);

/* The hottest temperature node's BMC reported in the last health poll (has false: it
 * reported none), kept in memory while node is a host: the thermal policy's input and
 * `nodectl host list`'s column. A restarted bootsvc knows it again after one health poll. */
void vm_host_temperature(struct vm *vm, const char *node, bool has, double c);
/* true and *ret set when node is a host with a temperature. */
bool vm_host_temp(const struct vm *vm, const char *node, double *ret);
