/* SPDX-License-Identifier: MIT */
/* What a node request that moves nothing or is refused leaves behind (issue #11): an
 * event naming the source address (nodectl events) and one warning line. An attacker can
 * send such requests as fast as the network allows, so each (node, kind) pair gets a
 * burst of OBSERVE_BURST, then one more per OBSERVE_REFILL_MS; the next one that is
 * recorded says how many were left out. The history and the log stay bounded, and the
 * first refusals of every node are always there. Loop thread only; the table is the
 * server's (struct http), so each server starts with every burst whole. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http/http_srv.h"
#include "log.h"
#include "loop.h"

/* Events recorded in a row before the rate applies. */
#define OBSERVE_BURST 10
/* Then one more every 6 s: 10 a minute per node and kind. */
#define OBSERVE_REFILL_MS 6000

static size_t
slot_of(const char *node, const char *what)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (const char *p = node; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	for (const char *p = what; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h % OBSERVE_SLOTS;
}

/* May one more (node, what) be recorded now? *ret_suppressed: how many were not since. */
static bool
observe_allowed(struct observe_slot *table, const char *node, const char *what, uint64_t now,
    unsigned *ret_suppressed)
{
	struct observe_slot *s = &table[slot_of(node, what)];

	if (strcmp(s->node, node) != 0 || strcmp(s->what, what) != 0) {
		(void)snprintf(s->node, sizeof(s->node), "%s", node);
		(void)snprintf(s->what, sizeof(s->what), "%s", what);
		s->tokens = OBSERVE_BURST;
		s->at_ms = now;
		s->suppressed = 0;
	}
	while (s->tokens < OBSERVE_BURST && now - s->at_ms >= OBSERVE_REFILL_MS) {
		s->tokens++;
		s->at_ms += OBSERVE_REFILL_MS;
	}
	if (s->tokens == OBSERVE_BURST)
		s->at_ms = now;
	if (s->tokens == 0) {
		s->suppressed++;
		return false;
	}
	s->tokens--;
	*ret_suppressed = s->suppressed;
	s->suppressed = 0;
	return true;
}

void
http_observe(struct bootsvc *bs, const struct req *r, const struct node_rec *n,
    const char *what, const char *why)
{
	char reason[MAX_REASON], more[48] = "";
	const char *client = r->client[0] ? r->client : "unknown";
	unsigned suppressed = 0;

	if (!observe_allowed(bs->http->observe, n->name, what, loop_now_ms(), &suppressed))
		return;
	if (suppressed)
		(void)snprintf(more, sizeof(more), "; %u more not recorded", suppressed);
	(void)snprintf(reason, sizeof(reason), "%s: from %s (registered %s)%s", why, client,
	    n->ip[0] ? n->ip : "none", more);
	(void)store_event_add(bs->store, n->name, what, reason, (int64_t)time(NULL));
	notify(&bs->notify, NOTIFY_HISTORY);
	log_warning("event=%s node=%s client=%s registered=%s suppressed=%u msg=\"%s\"", what,
	    n->name, client, n->ip[0] ? n->ip : "-", suppressed, why);
}
