/* SPDX-License-Identifier: MIT */
/* An open-addressing table of (address, count), at most half full, with deletion by
 * backward shift so no tombstones pile up under churn. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "http/ip_limit.h"
#include "resident.h"

struct slot {
	uint32_t addr;
	uint32_t n; /* 0: empty */
};

struct ip_limit {
	pthread_mutex_t lock;
	unsigned per_ip, max_conns, total;
	uint32_t mask; /* slots - 1, slots a power of two >= 2 * max_conns */
	struct slot *slots;
};

int
ip_limit_new(unsigned max_conns, unsigned per_ip, struct ip_limit **ret)
{
	struct ip_limit *l = calloc(1, sizeof(*l));
	uint32_t n = 16;

	if (!l)
		return -ENOMEM;
	while (n < 2 * (uint64_t)max_conns && n < (1u << 30))
		n <<= 1;
	/* resident: each new address's lookup reads a slot before it is written; a storm of
	 * nodes, each from its own address, would fault the table in (resident.h) */
	if (!(l->slots = calloc_resident(n, sizeof(*l->slots)))) {
		free(l);
		return -ENOMEM;
	}
	l->mask = n - 1;
	l->per_ip = per_ip;
	l->max_conns = max_conns;
	(void)pthread_mutex_init(&l->lock, NULL);
	*ret = l;
	return 0;
}

struct ip_limit *
ip_limit_free(struct ip_limit *l)
{
	if (l) {
		(void)pthread_mutex_destroy(&l->lock);
		free(l->slots);
		free(l);
	}
	return NULL;
}

static uint32_t
home(const struct ip_limit *l, uint32_t addr)
{
	return (addr * 2654435761u) & l->mask; /* Knuth's multiplicative hash */
}

/* addr's slot, or the empty one where it would go. */
static uint32_t
find(const struct ip_limit *l, uint32_t addr)
{
	uint32_t i = home(l, addr);

	while (l->slots[i].n && l->slots[i].addr != addr)
		i = (i + 1) & l->mask;
	return i;
}

bool
ip_limit_take(struct ip_limit *l, uint32_t addr)
{
	bool ok = false;
	uint32_t i;

	pthread_mutex_lock(&l->lock);
	i = find(l, addr);
	if (l->total < l->max_conns && (!l->per_ip || l->slots[i].n < l->per_ip)) {
		l->slots[i].addr = addr;
		l->slots[i].n++;
		l->total++;
		ok = true;
	}
	pthread_mutex_unlock(&l->lock);
	return ok;
}

void
ip_limit_put(struct ip_limit *l, uint32_t addr)
{
	uint32_t i, j;

	pthread_mutex_lock(&l->lock);
	i = find(l, addr);
	if (!l->slots[i].n)
		goto out; /* not counted: nothing to give back */
	l->total--;
	if (--l->slots[i].n)
		goto out;
	/* Emptied: pull later entries of the same run back over the hole, each that may
	 * sit at or before it (its home is not cyclically inside (i, j]). */
	for (j = (i + 1) & l->mask; l->slots[j].n; j = (j + 1) & l->mask) {
		uint32_t h = home(l, l->slots[j].addr);

		if (i <= j ? (h <= i || h > j) : (h <= i && h > j)) {
			l->slots[i] = l->slots[j];
			l->slots[j].n = 0;
			i = j;
		}
	}
out:
	pthread_mutex_unlock(&l->lock);
}

unsigned
ip_limit_count(struct ip_limit *l, uint32_t addr)
{
	unsigned n;

	pthread_mutex_lock(&l->lock);
	n = l->slots[find(l, addr)].n;
	pthread_mutex_unlock(&l->lock);
	return n;
}
