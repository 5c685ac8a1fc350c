/* SPDX-License-Identifier: MIT */
/* One live migration (issue 13, docs/vm.md "Executor"): the blocking libvirt call on a
 * worker of the libvirt pool, and a watcher thread beside it that samples the job's
 * statistics every VM_MIGRATE_SAMPLE_MS and acts on migrate_watch's decision (post-copy,
 * abort), or aborts when the loop asks (cancel) or the pool stops.
 *
 * The call: virDomainMigrateToURI3 on the source host's connection, peer to peer (the
 * source's libvirtd connects to the destination's at dst_uri, the destination host's own
 * qemu+tls URI, with its own certificate), live, persistent on the destination and
 * undefined on the source, auto-converge, post-copy allowed when the policy says; the
 * memory stream goes to tcp://<destination's boot-network address>, never the
 * destination's hostname (which the source cannot resolve: a lab pitfall).
 *
 * Ownership: the executor (loop) fills the inputs, hands the job to the action layer,
 * and may read its progress (vm_migrate_progress) and ask it to stop (vm_migrate_cancel)
 * until the action's done(); the action layer frees it (vm_migrate_free) once the worker
 * let go. */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <libvirt/libvirt.h>

#include "err.h"
#include "store/store.h"
#include "vm/migrate_watch.h"

struct vm;

#define MAX_VM_STREAM_URI 32 /* "tcp://" + a dotted IPv4 address */

struct vm_migrate {
	/* in: written by the loop before submitting, read-only after */
	int64_t plan_id;
	unsigned seq;
	char src[MAX_NODE_NAME], dst[MAX_NODE_NAME];
	char uuid[UUID_STR_LEN];
	char name[MAX_VM_NAME];
	char dst_uri[MAX_VM_URI];          /* the destination host row's qemu+tls URI */
	char stream_uri[MAX_VM_STREAM_URI]; /* tcp://<destination's address> */
	struct migrate_policy policy;
	virConnectPtr src_conn;            /* the job's references (vm_host_conn_ref) */
	virConnectPtr dst_conn;            /* NULL: no completed statistics are read */
	struct vm *vm;                     /* the room whose executor submitted it (outlives it) */

	/* shared between the watcher and the loop, under lock */
	pthread_mutex_t lock;
	struct migrate_sample last;        /* the latest sample (zero before one) */
	bool switched;                     /* post-copy was started */
	char why[MIGRATE_WHY_MAX];         /* the watcher's last decision's why */
	bool aborted;                      /* the watcher aborted it (deadline) */
	atomic_bool cancel;                /* the loop asks it to stop (vm_exec_cancel) */

	/* out: written by the worker, read by done() (unless the action timed out) */
	bool cancelled;                    /* it stopped because it was asked to */
	int64_t downtime_ms;               /* the completed job's, 0 unknown */
	int64_t data_total;                /* the completed job's, bytes */
};

/* A job with its lock ready, everything else zero. NULL: out of memory. */
struct vm_migrate *vm_migrate_new(void);
/* Release m's connection references and m (NULL is fine). On the loop: the references
 * are the job's extra ones, so closing them does no I/O while the vm room holds its own. */
void vm_migrate_free(struct vm_migrate *m);
/* The action's run(), on a worker: look the domain up by uuid on the source, migrate it,
 * watch it. 0 when it runs on the destination; -ENOENT (not on the source), -ECANCELED
 * (asked to stop, or the pool stops), -ETIMEDOUT (aborted at the deadline), -EIO
 * (libvirt failed: its message in reterr). */
int vm_migrate_run(void *payload, const atomic_bool *cancelled, struct dl_err *reterr);
/* The latest sample, whether post-copy was started, and the watcher's last why (may be
 * NULL). Any thread. */
void vm_migrate_progress(struct vm_migrate *m, struct migrate_sample *ret, bool *ret_switched,
    char *why, size_t why_size);
/* Ask a running migration to stop: the watcher aborts the job within one sample. */
void vm_migrate_cancel(struct vm_migrate *m);
