/* SPDX-License-Identifier: MIT */
/* Chained hash indexes, one per key, over one set of rows: every row is in each, under
 * its key of that index, so dropping it by one key unlinks it from the others too. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resident.h"
#include "store/rowcache.h"

/* A row: its keys (NUL-terminated, in key order) and then its bytes, in data[]. */
struct row {
	struct row *next[_ROWCACHE_KEY_MAX]; /* the rest of its bucket in each index */
	struct row *all_next, **all_prev;    /* every row, for a clear that walks only them */
	uint32_t hash[_ROWCACHE_KEY_MAX];
	uint32_t key_off[_ROWCACHE_KEY_MAX]; /* where each key starts in data */
	uint32_t bytes_off;                  /* where the row's bytes start in data */
	size_t len;
	char data[];
};

struct rowcache {
	struct row **bucket[_ROWCACHE_KEY_MAX]; /* n_buckets each, allocated at the first put */
	unsigned n_buckets;                     /* a power of two >= max_rows */
	unsigned max_rows, count;
	unsigned evict_at;                      /* the key-a bucket the next eviction starts at */
	struct row *all;                        /* every row, newest first */
};

#define MAX_KEY_LEN 65535

/* FNV-1a: MACs and node names are short and not chosen to collide (a node is added by an
 * admin; a discovered one's name is ours). */
static uint32_t
hash_of(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static const char *
key_of(const struct row *r, enum rowcache_key k)
{
	return r->data + r->key_off[k];
}

struct rowcache *
rowcache_new(unsigned max_rows)
{
	struct rowcache *rc = calloc(1, sizeof(*rc));

	if (!rc)
		return NULL;
	rc->max_rows = max_rows ? max_rows : 1;
	rc->n_buckets = 1;
	while (rc->n_buckets < rc->max_rows && rc->n_buckets < (1u << 30))
		rc->n_buckets <<= 1;
	return rc;
}

/* The link that points at the row whose key k is value (in its bucket); NULL if none. */
static struct row **
link_of(const struct rowcache *rc, enum rowcache_key k, const char *value, uint32_t h)
{
	struct row **p;

	if (!rc->bucket[k])
		return NULL;
	for (p = &rc->bucket[k][h & (rc->n_buckets - 1)]; *p; p = &(*p)->next[k])
		if ((*p)->hash[k] == h && strcmp(key_of(*p, k), value) == 0)
			return p;
	return NULL;
}

/* Unlink r from index k's bucket. */
static void
unlink_row(struct rowcache *rc, const struct row *r, enum rowcache_key k)
{
	struct row **p = &rc->bucket[k][r->hash[k] & (rc->n_buckets - 1)];

	while (*p && *p != r)
		p = &(*p)->next[k];
	if (*p)
		*p = r->next[k];
}

static void
drop(struct rowcache *rc, struct row *r)
{
	for (unsigned k = 0; k < _ROWCACHE_KEY_MAX; k++)
		unlink_row(rc, r, k);
	*r->all_prev = r->all_next;
	if (r->all_next)
		r->all_next->all_prev = r->all_prev;
	rc->count--;
	free(r);
}

const void *
rowcache_find(const struct rowcache *rc, enum rowcache_key k, const char *value,
    size_t *ret_len)
{
	struct row **p = link_of(rc, k, value, hash_of(value));

	if (!p)
		return NULL;
	*ret_len = (*p)->len;
	return (*p)->data + (*p)->bytes_off;
}

void
rowcache_forget(struct rowcache *rc, enum rowcache_key k, const char *value)
{
	struct row **p = link_of(rc, k, value, hash_of(value));

	if (p)
		drop(rc, *p);
}

/* Make room for one more row: drop the head of the next non-empty key-a bucket after
 * the last one emptied this way, a clock hand over the table rather than an LRU list,
 * which would cost every hit a write. */
static void
evict_one(struct rowcache *rc)
{
	for (unsigned i = 0; i < rc->n_buckets; i++) {
		unsigned b = (rc->evict_at + i) & (rc->n_buckets - 1);

		if (rc->bucket[ROWCACHE_KEY_A][b]) {
			rc->evict_at = b + 1;
			drop(rc, rc->bucket[ROWCACHE_KEY_A][b]);
			return;
		}
	}
}

int
rowcache_put(struct rowcache *rc, const char *const keys[_ROWCACHE_KEY_MAX], const void *row,
    size_t len)
{
	size_t klen[_ROWCACHE_KEY_MAX], keys_len = 0;
	struct row *r;
	size_t off = 0;

	for (unsigned k = 0; k < _ROWCACHE_KEY_MAX; k++) {
		klen[k] = strlen(keys[k]);
		if (klen[k] == 0 || klen[k] >= MAX_KEY_LEN)
			return -EINVAL;
		keys_len += klen[k] + 1;
	}
	for (unsigned k = 0; k < _ROWCACHE_KEY_MAX; k++)
		rowcache_forget(rc, k, keys[k]);
	for (unsigned k = 0; k < _ROWCACHE_KEY_MAX; k++) {
		/* resident: a lookup reads a bucket before a put writes it (resident.h) */
		if (!rc->bucket[k] &&
		    !(rc->bucket[k] = calloc_resident(rc->n_buckets, sizeof(struct row *))))
			return -ENOMEM;
	}
	if (len > SIZE_MAX - sizeof(*r) - keys_len || !(r = malloc(sizeof(*r) + keys_len + len)))
		return -ENOMEM;
	for (unsigned k = 0; k < _ROWCACHE_KEY_MAX; k++) {
		r->key_off[k] = (uint32_t)off;
		memcpy(r->data + off, keys[k], klen[k] + 1);
		off += klen[k] + 1;
		r->hash[k] = hash_of(keys[k]);
	}
	r->bytes_off = (uint32_t)off;
	r->len = len;
	if (len)
		memcpy(r->data + off, row, len);
	if (rc->count >= rc->max_rows)
		evict_one(rc);
	for (unsigned k = 0; k < _ROWCACHE_KEY_MAX; k++) {
		struct row **head = &rc->bucket[k][r->hash[k] & (rc->n_buckets - 1)];

		r->next[k] = *head;
		*head = r;
	}
	r->all_next = rc->all;
	r->all_prev = &rc->all;
	if (rc->all)
		rc->all->all_prev = &r->all_next;
	rc->all = r;
	rc->count++;
	return 0;
}

/* The rows alone, not the table: a reader clears its cache at every commit it sees (a
 * storm's boot records commit every few scripts), and walking all 16,384 buckets and
 * zeroing two 128 KiB indexes cost that much each time for the few rows read since.
 * Every row in a bucket goes, so each row's bucket heads are simply emptied. */
void
rowcache_clear(struct rowcache *rc)
{
	struct row *r, *next;

	if (!rc)
		return;
	for (r = rc->all; r; r = next) {
		next = r->all_next;
		for (unsigned k = 0; k < _ROWCACHE_KEY_MAX; k++)
			rc->bucket[k][r->hash[k] & (rc->n_buckets - 1)] = NULL;
		free(r);
	}
	rc->all = NULL;
	rc->count = 0;
}

struct rowcache *
rowcache_free(struct rowcache *rc)
{
	if (!rc)
		return NULL;
	rowcache_clear(rc);
	for (unsigned k = 0; k < _ROWCACHE_KEY_MAX; k++)
		free(rc->bucket[k]);
	free(rc);
	return NULL;
}

unsigned
rowcache_count(const struct rowcache *rc)
{
	return rc->count;
}
