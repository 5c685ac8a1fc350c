/* SPDX-License-Identifier: MIT */
/* The reader threads' boot records for the loop (boot_records.h): a ring of records, and
 * the set of nodes pending, by name, with a count each (a node may push twice before the
 * loop takes the first). The set is open addressing with linear probing, four slots a
 * record it can hold (queued and taken: 2 cap), deleted by shifting back, so a lookup
 * never walks a tombstone. One mutex: a push and a lookup are a few hundred ns under it,
 * and no lookup takes it while nothing is pending. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "boot/boot_records.h"
#include "loop.h"
#include "macro.h"
#include "resident.h"

struct slot {
	char node[MAX_NODE_NAME];
	uint32_t count;               /* 0 = empty */
};

struct boot_records {
	pthread_mutex_t lock;
	int fd;
	size_t cap;
	struct boot_record *ring;     /* queued: ring[(head + i) % cap], i < n */
	size_t head, n;
	uint64_t newest_ms;           /* the last push's queued_ms */
	char (*taken)[MAX_NODE_NAME]; /* taken and not committed, n_taken of cap */
	size_t n_taken;
	struct slot *set;
	size_t mask;                  /* set size - 1 (a power of two) */
	atomic_size_t queued;         /* n, for looks without the lock */
	atomic_size_t outstanding;    /* n + n_taken: 0 = nothing pending */
	atomic_uint_fast64_t epoch;   /* commits of taken records */
};

static size_t
hash_of(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)h;
}

/* The slot holding node, or the empty slot where it would go. */
static size_t
slot_of(const struct boot_records *q, const char *node)
{
	size_t i = hash_of(node) & q->mask;

	while (q->set[i].count && strcmp(q->set[i].node, node) != 0)
		i = (i + 1) & q->mask;
	return i;
}

static void
set_add(struct boot_records *q, const char *node)
{
	struct slot *s = &q->set[slot_of(q, node)];

	if (!s->count)
		(void)snprintf(s->node, sizeof(s->node), "%s", node);
	s->count++;
}

/* One fewer record for node; at none its slot is emptied and the slots after it in its
 * run shift back into place (Knuth's deletion for linear probing). */
static void
set_drop(struct boot_records *q, const char *node)
{
	size_t i = slot_of(q, node), j = i;

	if (!q->set[i].count || --q->set[i].count)
		return;
	for (;;) {
		size_t home;

		j = (j + 1) & q->mask;
		if (!q->set[j].count)
			break;
		home = hash_of(q->set[j].node) & q->mask;
		/* j's entry may move to i only if its home is not in (i, j] cyclically */
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		q->set[i] = q->set[j];
		i = j;
	}
	q->set[i].count = 0;
	q->set[i].node[0] = '\0';
}

int
boot_records_new(size_t cap, struct boot_records **ret)
{
	struct boot_records *q = calloc(1, sizeof(*q));
	size_t size = 1;

	if (!cap)
		cap = BOOT_RECORDS_CAP;
	while (size < 4 * cap)
		size <<= 1;
	if (!q)
		return -ENOMEM;
	/* first, so boot_records_free destroys it whatever failed after */
	(void)pthread_mutex_init(&q->lock, NULL);
	q->cap = cap;
	q->mask = size - 1;
	/* resident now, not faulted in by the storm that first fills them (resident.h) */
	q->ring = calloc_resident(cap, sizeof(*q->ring));
	q->taken = calloc_resident(cap, sizeof(*q->taken));
	q->set = calloc_resident(size, sizeof(*q->set));
	q->fd = -1;
	if (!q->ring || !q->taken || !q->set) {
		boot_records_free(q);
		return -ENOMEM;
	}
	q->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->fd < 0) {
		int r = -errno;

		boot_records_free(q);
		return r;
	}
	*ret = q;
	return 0;
}

struct boot_records *
boot_records_free(struct boot_records *q)
{
	if (!q)
		return NULL;
	if (q->fd >= 0)
		close(q->fd);
	(void)pthread_mutex_destroy(&q->lock);
	free(q->ring);
	free(q->taken);
	free(q->set);
	free(q);
	return NULL;
}

int
boot_records_fd(const struct boot_records *q)
{
	return q->fd;
}

/* Records queued at which the loop's wait ends: half of the queue, so the other half takes
 * the pushes that come while it writes. */
static size_t
write_at(size_t cap)
{
	return cap / 2;
}

bool
boot_records_push(struct boot_records *q, const struct boot_record *rec)
{
	uint64_t now = loop_now_ms();
	struct boot_record *slot;
	bool wake;

	pthread_mutex_lock(&q->lock);
	if (q->n == q->cap) {
		pthread_mutex_unlock(&q->lock);
		return false;
	}
	slot = &q->ring[(q->head + q->n) % q->cap];
	*slot = *rec;
	slot->queued_ms = q->newest_ms = now;
	q->n++;
	/* the first, to start the loop's wait; half full, where the wait ends */
	wake = q->n == 1 || q->n == write_at(q->cap);
	set_add(q, rec->node);
	atomic_fetch_add(&q->queued, 1);
	atomic_fetch_add(&q->outstanding, 1);
	pthread_mutex_unlock(&q->lock);
	if (wake)
		(void)eventfd_write(q->fd, 1);
	return true;
}

int64_t
boot_records_wait_ms(size_t n, size_t cap, uint64_t oldest_ms, uint64_t newest_ms,
    uint64_t now_ms)
{
	uint64_t quiet_at = newest_ms + BOOT_RECORDS_QUIET_MS;
	uint64_t late_at = oldest_ms + BOOT_RECORDS_WAIT_MS;
	uint64_t at = quiet_at < late_at ? quiet_at : late_at;

	if (n == 0)
		return -1;
	if (n >= write_at(cap) || now_ms >= at)
		return 0;
	return (int64_t)(at - now_ms);
}

int64_t
boot_records_due(struct boot_records *q, uint64_t now_ms)
{
	int64_t wait;

	pthread_mutex_lock(&q->lock);
	wait = boot_records_wait_ms(q->n, q->cap, q->n ? q->ring[q->head].queued_ms : 0,
	    q->newest_ms, now_ms);
	pthread_mutex_unlock(&q->lock);
	return wait;
}

bool
boot_records_pending(struct boot_records *q, const char *node)
{
	bool pending;

	if (!atomic_load(&q->outstanding))
		return false;
	pthread_mutex_lock(&q->lock);
	pending = q->set[slot_of(q, node)].count > 0;
	pthread_mutex_unlock(&q->lock);
	return pending;
}

bool
boot_records_queued(const struct boot_records *q)
{
	return atomic_load_explicit(&q->queued, memory_order_relaxed) > 0;
}

uint64_t
boot_records_epoch(const struct boot_records *q)
{
	return atomic_load(&q->epoch);
}

bool
boot_records_idle(const struct boot_records *q)
{
	return atomic_load(&q->outstanding) == 0;
}

size_t
boot_records_take(struct boot_records *q, struct boot_record *out, size_t max)
{
	size_t k = 0;

	pthread_mutex_lock(&q->lock);
	while (k < max && q->n && q->n_taken < q->cap) {
		const struct boot_record *rec = &q->ring[q->head];

		out[k++] = *rec;
		memcpy(q->taken[q->n_taken++], rec->node, MAX_NODE_NAME);
		q->head = (q->head + 1) % q->cap;
		q->n--;
	}
	atomic_fetch_sub(&q->queued, k);
	pthread_mutex_unlock(&q->lock);
	return k;
}

void
boot_records_committed(struct boot_records *q)
{
	bool left;

	if (!q->n_taken) /* only the loop writes it: no lock to look */
		return;
	/* counted before the nodes stop being pending: a reader that finds a node not
	 * pending and the count unmoved since its read transaction began read the commit */
	atomic_fetch_add(&q->epoch, 1);
	pthread_mutex_lock(&q->lock);
	for (size_t i = 0; i < q->n_taken; i++)
		set_drop(q, q->taken[i]);
	atomic_fetch_sub(&q->outstanding, q->n_taken);
	q->n_taken = 0;
	left = q->n > 0;
	pthread_mutex_unlock(&q->lock);
	/* taking stopped at cap taken: what is left needs the loop again */
	if (left)
		(void)eventfd_write(q->fd, 1);
}
