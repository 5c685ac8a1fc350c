/* SPDX-License-Identifier: MIT */
/* Open addressing with linear probing over a power-of-two table, doubled before it is
 * half full (short probes; a few thousand entries of ~100 bytes are well under a
 * megabyte), and backward-shift deletion, so no tombstones build up as nodes come and
 * go at every tick. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "action/busy.h"

/* Slots at first: a small site's actions in flight fit without growing. */
#define BUSY_MIN_SLOTS 64

struct busy_entry {
	char key[MAX_BUSY_KEY]; /* "" when the slot is free */
	uint32_t hash;
	uint8_t exclusive;      /* bit per class */
	uint16_t shared[MAX_BUSY_CLASSES];
};

struct busy {
	struct busy_entry *slots;
	size_t n_slots; /* a power of two */
	size_t n_used;
};

/* FNV-1a: node names are short and not chosen by an attacker to collide (they are
 * registered by an admin), so a simple, well-spread hash is enough. */
static uint32_t
hash_key(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 16777619u;
	}
	return h;
}

static bool
entry_idle(const struct busy_entry *e)
{
	if (e->exclusive)
		return false;
	for (size_t i = 0; i < MAX_BUSY_CLASSES; i++)
		if (e->shared[i])
			return false;
	return true;
}

/* The slot holding key, or the free slot where it would go. */
static size_t
slot_of(const struct busy *b, const char *key, uint32_t h)
{
	size_t mask = b->n_slots - 1;

	for (size_t i = h & mask;; i = (i + 1) & mask) {
		const struct busy_entry *e = &b->slots[i];
		if (!e->key[0] || (e->hash == h && streq(e->key, key)))
			return i;
	}
}

static int
grow(struct busy *b)
{
	size_t n = b->n_slots * 2;
	struct busy_entry *old = b->slots, *slots = calloc(n, sizeof(*slots));
	size_t old_n = b->n_slots;

	if (!slots)
		return -ENOMEM;
	b->slots = slots;
	b->n_slots = n;
	for (size_t i = 0; i < old_n; i++)
		if (old[i].key[0])
			b->slots[slot_of(b, old[i].key, old[i].hash)] = old[i];
	free(old);
	return 0;
}

int
busy_new(struct busy **ret)
{
	struct busy *b = calloc(1, sizeof(*b));

	if (!b)
		return -ENOMEM;
	b->slots = calloc(BUSY_MIN_SLOTS, sizeof(*b->slots));
	if (!b->slots) {
		free(b);
		return -ENOMEM;
	}
	b->n_slots = BUSY_MIN_SLOTS;
	*ret = b;
	return 0;
}

struct busy *
busy_free(struct busy *b)
{
	if (!b)
		return NULL;
	free(b->slots);
	free(b);
	return NULL;
}

static bool
key_valid(const char *key)
{
	return key && key[0] && strnlen(key, MAX_BUSY_KEY) < MAX_BUSY_KEY;
}

int
busy_take(struct busy *b, const char *key, unsigned cls, bool shared)
{
	struct busy_entry *e;
	uint32_t h;
	size_t i;

	if (!key_valid(key) || cls >= MAX_BUSY_CLASSES)
		return -EINVAL;
	h = hash_key(key);
	i = slot_of(b, key, h);
	e = &b->slots[i];
	if (e->key[0]) {
		if (shared) {
			/* A node's shared holders are bounded by the caps; this one is not. */
			if (e->shared[cls] == UINT16_MAX)
				return -EBUSY;
			e->shared[cls]++;
			return 0;
		}
		if ((e->exclusive & (1u << cls)) || e->shared[cls])
			return -EBUSY;
		e->exclusive |= (uint8_t)(1u << cls);
		return 0;
	}
	/* A new key: keep the table at most half full. */
	if ((b->n_used + 1) * 2 > b->n_slots) {
		int r = grow(b);
		if (r < 0)
			return r;
		i = slot_of(b, key, h);
		e = &b->slots[i];
	}
	memset(e, 0, sizeof(*e));
	memcpy(e->key, key, strlen(key) + 1);
	e->hash = h;
	if (shared)
		e->shared[cls] = 1;
	else
		e->exclusive = (uint8_t)(1u << cls);
	b->n_used++;
	return 0;
}

/* Empty slot i and pull later entries of its probe run back, so every entry stays
 * reachable from its home slot without tombstones (Knuth 6.4, Algorithm R). */
static void
remove_slot(struct busy *b, size_t i)
{
	size_t mask = b->n_slots - 1;

	for (size_t j = (i + 1) & mask; b->slots[j].key[0]; j = (j + 1) & mask) {
		size_t home = b->slots[j].hash & mask;
		/* Move j into the hole at i unless its home lies cyclically in (i, j]. */
		bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
		if (stays)
			continue;
		b->slots[i] = b->slots[j];
		i = j;
	}
	memset(&b->slots[i], 0, sizeof(b->slots[i]));
	b->n_used--;
}

void
busy_put(struct busy *b, const char *key, unsigned cls, bool shared)
{
	struct busy_entry *e;
	size_t i;

	assert(key_valid(key) && cls < MAX_BUSY_CLASSES);
	i = slot_of(b, key, hash_key(key));
	e = &b->slots[i];
	assert(e->key[0]);
	if (!e->key[0])
		return;
	if (shared) {
		assert(e->shared[cls] > 0);
		if (e->shared[cls])
			e->shared[cls]--;
	} else {
		assert(e->exclusive & (1u << cls));
		e->exclusive &= (uint8_t)~(1u << cls);
	}
	if (entry_idle(e))
		remove_slot(b, i);
}

bool
busy_held(const struct busy *b, const char *key, unsigned cls)
{
	const struct busy_entry *e;

	if (!key_valid(key) || cls >= MAX_BUSY_CLASSES)
		return false;
	e = &b->slots[slot_of(b, key, hash_key(key))];
	return e->key[0] && ((e->exclusive & (1u << cls)) || e->shared[cls]);
}

size_t
busy_count(const struct busy *b)
{
	return b->n_used;
}

size_t
busy_capacity(const struct busy *b)
{
	return b->n_slots;
}
