/* SPDX-License-Identifier: MIT */
/* The busy map: which nodes have an action in flight, per resource class (issue #10).
 *
 * A hash table keyed by node name that grows as entries come, so nothing but its callers
 * bounds it: the action layer admits at most its pools' concurrency caps (plus the
 * imperative requests waiting for a slot), and the map holds exactly the nodes of those.
 * It replaces a fixed array of 1024 names under a cap that went to 4096: past 1024 a
 * node was silently not recorded, and a second BMC job could start on it.
 *
 * Per class a node has either one exclusive holder (a change: power on, a migration)
 * or any number of shared ones (reads: a power status). An exclusive take needs the
 * class free of every holder; a shared take is always granted, since a read beside a
 * change does no harm (it sees one side of it) while a change beside a read or another
 * change is what this map exists to prevent.
 *
 * Loop thread only (CONVENTIONS §6): no locks. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Resource classes per node: one bit each in an entry. Eight is room for BMC power and
 * sensors today and the iSCSI target and libvirt domain of the next issues. */
#define MAX_BUSY_CLASSES 8
/* Longest key kept, NUL included: a node name (store.h MAX_NODE_NAME). */
#define MAX_BUSY_KEY 64

struct busy;

/* An empty map. -ENOMEM. */
int busy_new(struct busy **ret);
/* Free b (NULL is fine); returns NULL. */
struct busy *busy_free(struct busy *b);

/* Take class cls of key: exclusively (-EBUSY when any holder has cls of key), or as one
 * more shared holder (never -EBUSY). The table grows when it must: -ENOMEM when it
 * cannot. -EINVAL for an empty key, one of MAX_BUSY_KEY bytes or more, or cls out of
 * range. key is copied. */
int busy_take(struct busy *b, const char *key, unsigned cls, bool shared);
/* Give back what busy_take() granted with the same arguments; the entry goes with its
 * last holder. Putting what was not taken is a programmer error (asserted). */
void busy_put(struct busy *b, const char *key, unsigned cls, bool shared);
/* Whether any holder, exclusive or shared, has class cls of key. */
bool busy_held(const struct busy *b, const char *key, unsigned cls);

/* Keys with at least one holder. */
size_t busy_count(const struct busy *b);
/* Slots in the table: it doubles before it is half full (for tests and metrics). */
size_t busy_capacity(const struct busy *b);
