/* SPDX-License-Identifier: MIT */
/* A day of a 1,000-node cluster's events, compressed in time, against the real store and
 * the real retention, energy and discovery code (issue 11, bounded growth). Simulated
 * time advances STEP_S seconds per step; every event kind bootsvc writes happens at a rate a
 * busy cluster sees:
 *
 *   - boots: every node reboots 4 times a day and 50 flapping nodes every 10 minutes:
 *     a power-cycle action, the controller's columns, and phases powering-on, pxe,
 *     loading, imaging, up (each a history row);
 *   - power ops: every node is powered off idle and on again once a day (idle-off and
 *     green-on actions, phase off);
 *   - health: each minute 1% of the nodes get a new health state (2 KiB of JSON, as the
 *     SEL rules keep) and a drain action;
 *   - energy: an accounting pass every energy_interval (30 s), written every energy_flush
 *     (10 min) (controller/energy_acc.c through ctrl_energy_run);
 *   - discovery: 2 requests a second for made-up MACs from 500 addresses (nodes_discover,
 *     with its rate and cap);
 *   - retention: ctrl_retention_run every second (age pruning, WAL checkpoints) with the
 *     default history_max_per_node, history_max_age.
 *
 * Each step (STEP_S simulated seconds) is one store batch, as one MHD pass is in bootsvc,
 * and one controller tick. At the end:
 *
 *   - no node has more than history_max_per_node history rows, discovered nodes are at
 *     most discover_max, energy rows at most one per node;
 *   - the store (database + WAL) is within STORE_BOUND: the steady state of the defaults
 *     is (1,000 + discover_max) nodes x 200 history rows of ~100 bytes with their index
 *     (about 25 MB) plus the nodes' rows with 2 KiB health states (about 3 MB); the day
 *     holds less, the bound is the steady state's with room for SQLite's free pages;
 *   - SQLite's heap high-water mark (page caches of 8 MiB and statements) is within
 *     SQLITE_HEAP_BOUND and the process' RSS grew by at most RSS_BOUND (under ASan,
 *     whose shadow memory and quarantine inflate RSS, the heap bytes allocated instead).
 *
 * Sizes, counts and RSS go to the test's output; no time is asserted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include <cmocka.h>

#include "../../bootsvc/controller/ctrl_internal.h"
#include "../../bootsvc/boot/nodes.h"
#include "log.h"
#include "store_dir.h"

#define NODES 1000
#define FLAPPERS 50
#define DAY_S 86400
/* Simulated seconds per step: one store batch and one controller tick each. */
#define STEP_S 10
#define ATTACK_ADDRS 500

#define MIB (1024LL * 1024)
#define STORE_BOUND (48 * MIB)
#define SQLITE_HEAP_BOUND (40 * MIB)
#define RSS_BOUND (64 * MIB)
#if defined(__SANITIZE_ADDRESS__)
/* The ASan runtime's (sanitizer/allocator_interface.h, not installed with gcc 12). */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

/* The process' memory: its RSS, or under ASan (whose shadow memory and quarantine of
 * freed blocks make RSS say nothing about the code) the heap bytes allocated now. */
static long long
rss_bytes(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return (long long)__sanitizer_get_current_allocated_bytes();
#else
	char line[256];
	long long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %lld kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
#endif
}

static long long
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

struct sim {
	struct store_dir sd;
	struct bootsvc bs;
	struct ctrl *c;
	int64_t t0_ms;
	char health_json[2048];
	uint64_t writes[8];
};

enum { W_PHASE, W_ACTION, W_CTRL, W_HEALTH, W_DISCOVER_TRIED, W_DISCOVERED };

static void
node_name(int i, char *buf, size_t size)
{
	snprintf(buf, size, "n%04d", i);
}

static void
boot(struct sim *s, int i, int64_t at)
{
	static const char *const phases[] = { "powering-on", "pxe", "loading", "imaging", "up" };
	struct node_rec n;
	char name[16];

	node_name(i, name, sizeof(name));
	assert_int_equal(store_node_get(s->bs.store, name, &n), 0);
	assert_int_equal(store_event_add(s->bs.store, name, "power-cycle", "boot to compute",
	    at), 0);
	strcpy(n.op, "booting");
	strcpy(n.power, "on");
	n.op_at_ms = at * 1000;
	assert_int_equal(store_node_update_ctrl(s->bs.store, &n), 0);
	for (size_t k = 0; k < 5; k++)
		assert_int_equal(store_node_set_phase(s->bs.store, name, phases[k], "", at + (int64_t)k),
		    0);
	n.op[0] = '\0';
	assert_int_equal(store_node_update_ctrl(s->bs.store, &n), 0);
	s->writes[W_ACTION]++;
	s->writes[W_CTRL] += 2;
	s->writes[W_PHASE] += 5;
}

static void
power(struct sim *s, int i, bool on, int64_t at)
{
	struct node_rec n;
	char name[16];

	node_name(i, name, sizeof(name));
	assert_int_equal(store_node_get(s->bs.store, name, &n), 0);
	assert_int_equal(store_event_add(s->bs.store, name, on ? "green-on" : "idle-off",
	    "idle 10m", at), 0);
	strcpy(n.power, on ? "on" : "off");
	assert_int_equal(store_node_update_ctrl(s->bs.store, &n), 0);
	assert_int_equal(store_node_set_phase(s->bs.store, name, on ? "powering-on" : "off", "",
	    at), 0);
	s->writes[W_ACTION]++;
	s->writes[W_CTRL]++;
	s->writes[W_PHASE]++;
}

static void
health(struct sim *s, int i, int64_t at)
{
	char name[16];

	node_name(i, name, sizeof(name));
	s->health_json[10] = (char)('a' + rnd(26)); /* a new state each time */
	assert_int_equal(store_node_health_state_set(s->bs.store, name, s->health_json), 0);
	assert_int_equal(store_event_add(s->bs.store, name, "drain", "ecc_correctable >= 10 in 24h",
	    at), 0);
	s->writes[W_HEALTH]++;
	s->writes[W_ACTION]++;
}

static void
discover(struct sim *s)
{
	struct boot_query q = { .has_mac = true };
	struct node_rec n;
	char src[32];
	int r;

	for (int k = 0; k < 6; k++)
		q.mac.b[k] = (uint8_t)rnd(256);
	q.mac.b[0] = 0x02; /* locally administered, as made-up MACs are */
	mac_to_string(&q.mac, q.mac_str);
	snprintf(src, sizeof(src), "10.9.%u.%u", (unsigned)rnd(ATTACK_ADDRS) / 250,
	    (unsigned)rnd(250) + 1);
	s->writes[W_DISCOVER_TRIED]++;
	r = nodes_discover(&s->bs, &q, src, &n);
	assert_true(r == 0 || r == -EAGAIN || r == -ENOSPC || r == -EEXIST);
	if (r == 0)
		s->writes[W_DISCOVERED]++;
}

static int
setup(void **state)
{
	struct sim *s = calloc(1, sizeof(*s));
	struct dl_err e = { 0 };

	if (!s || store_dir_open(&s->sd) < 0)
		return -1;
	config_init(&s->bs.cfg);
	s->bs.store = s->sd.s;
	s->c = calloc(1, sizeof(*s->c));
	if (!s->c)
		return -1;
	s->c->bs = &s->bs;
	ctrl_retention_init(s->c);
	memset(s->health_json, 'x', sizeof(s->health_json) - 1);
	memcpy(s->health_json, "{\"sel\":\"", 8);
	s->health_json[sizeof(s->health_json) - 3] = '"';
	s->health_json[sizeof(s->health_json) - 2] = '}';
	assert_int_equal(store_begin(s->bs.store), 0);
	for (int i = 0; i < NODES; i++) {
		struct node_rec n = { 0 };

		node_name(i, n.name, sizeof(n.name));
		snprintf(n.mac, sizeof(n.mac), "52:54:00:00:%02x:%02x", i / 256, i % 256);
		snprintf(n.ip, sizeof(n.ip), "10.0.%d.%d", (i / 250) & 255, i % 250 + 1);
		snprintf(n.bmc, sizeof(n.bmc), "10.1.%d.%d", i / 250, i % 250 + 1);
		strcpy(n.bmc_creds, "/etc/diskless/bmc.creds");
		strcpy(n.image, "compute");
		snprintf(n.token, sizeof(n.token), "%064d", i);
		strcpy(n.phase, "up");
		strcpy(n.power, "on");
		if (store_node_insert(s->bs.store, &n, &e) < 0)
			return -1;
	}
	assert_int_equal(store_commit(s->bs.store), 0);
	log_set_level(LOG_ERR);
	*state = s;
	return 0;
}

static int
teardown(void **state)
{
	struct sim *s = *state;

	energy_acc_done(&s->c->energy);
	free(s->c);
	store_dir_remove(&s->sd);
	free(s);
	return 0;
}

/* Every history row: how many, and how many the node with the most has. */
struct hist_count {
	int64_t rows;
	int64_t per_node[NODES];
	int64_t others;  /* discovered nodes and "-" */
};

static int
count_cb(const struct event_rec *e, void *userdata)
{
	struct hist_count *h = userdata;
	int i;

	h->rows++;
	if (sscanf(e->node, "n%d", &i) == 1 && i >= 0 && i < NODES)
		h->per_node[i]++;
	else
		h->others++;
	return 0;
}

static int
energy_cb(const struct energy_rec *e, void *userdata)
{
	(void)e;
	(*(int64_t *)userdata)++;
	return 0;
}

static void
count_discovered(const char *phase, int64_t count, void *userdata)
{
	if (strcmp(phase, "discovered") == 0)
		*(int64_t *)userdata = count;
}

static void
test_day(void **state)
{
	struct sim *s = *state;
	struct store *st = s->bs.store;
	long long rss0 = rss_bytes(), rss1, db, wal;
	int64_t energy_rows = 0, discovered = 0, most = 0, boots_at[NODES][4];
	struct hist_count *h = calloc(1, sizeof(*h));
	char walpath[sizeof(s->sd.path) + 8];

	s->t0_ms = ctrl_now_ms();
	for (int i = 0; i < NODES; i++)
		for (int k = 0; k < 4; k++)
			boots_at[i][k] = rnd(DAY_S);
	/* On PostgreSQL a quarter of the day: each statement is a round trip to the server
	 * (under ASan the whole day took 6-8 minutes of make check's serial unit run), and a
	 * quarter still has every flapper past history_max_per_node (36 boots of 6 rows),
	 * so the trimming and every other bound below are reached. */
	const int64_t span = store_dir_is_pg() ? DAY_S / 4 : DAY_S;

	for (int64_t t = 0; t < span; t += STEP_S) {
		int64_t now_ms = s->t0_ms + t * 1000, at = now_ms / 1000;

		assert_int_equal(store_batch_begin(st), 0);
		/* 4,000 boots a day spread over it; the flappers every 10 minutes */
		for (int i = 0; i < NODES; i++)
			for (int k = 0; k < 4; k++)
				if (boots_at[i][k] / STEP_S == t / STEP_S)
					boot(s, i, at);
		if (t % 600 == 0)
			for (int i = 0; i < FLAPPERS; i++)
				boot(s, i, at);
		/* idle off and green on: each node once a day, on 6 hours after off */
		if (t % 60 == 0) {
			int first = (int)(t / 60) % 1440;

			for (int i = first; i < NODES; i += 1440)
				power(s, i, false, at);
			for (int i = (first + 1440 - 360) % 1440; i < NODES; i += 1440)
				power(s, i, true, at);
			/* health: 1% of the nodes a minute */
			for (int k = 0; k < NODES / 100; k++)
				health(s, (int)rnd(NODES), at);
		}
		for (int k = 0; k < 2 * STEP_S; k++)
			discover(s);
		assert_int_equal(store_batch_end(st), 0);
		/* the controller's tick: energy and retention */
		ctrl_energy_run(s->c, now_ms);
		ctrl_retention_run(s->c, now_ms);
	}
	/* as at shutdown: a pass part way finished, then everything written */
	assert_int_equal(ctrl_energy_flush(s->c), 0);

	assert_non_null(h);
	assert_int_equal(store_events_since(st, 0, SIZE_MAX, count_cb, h), 0);
	for (int i = 0; i < NODES; i++)
		if (h->per_node[i] > most)
			most = h->per_node[i];
	assert_int_equal(store_energy_foreach(st, energy_cb, &energy_rows), 0);
	assert_int_equal(store_node_count_by_phase(st, count_discovered, &discovered), 0);
	db = file_size(s->sd.path);
	snprintf(walpath, sizeof(walpath), "%s-wal", s->sd.path);
	wal = file_size(walpath);
	rss1 = rss_bytes();
	print_message("churn: phases %llu actions %llu ctrl %llu health %llu discover tried "
	    "%llu registered %llu (refused: rate %llu cap %llu)\n",
	    (unsigned long long)s->writes[W_PHASE], (unsigned long long)s->writes[W_ACTION],
	    (unsigned long long)s->writes[W_CTRL], (unsigned long long)s->writes[W_HEALTH],
	    (unsigned long long)s->writes[W_DISCOVER_TRIED],
	    (unsigned long long)s->writes[W_DISCOVERED],
	    (unsigned long long)s->bs.discover.refused_rate,
	    (unsigned long long)s->bs.discover.refused_cap);
	print_message("churn: history rows %lld (most per node %lld, appended %llu), energy "
	    "rows %lld, discovered %lld; db %lld B, wal %lld B; sqlite heap high-water %lld B; "
	    "rss %lld -> %lld B\n", (long long)h->rows, (long long)most,
	    (unsigned long long)(s->writes[W_PHASE] + s->writes[W_ACTION]), (long long)energy_rows,
	    (long long)discovered, db, wal, (long long)sqlite3_memory_highwater(0), rss0, rss1);
	assert_true(most <= (int64_t)s->bs.cfg.history_max_per_node);
	assert_true(discovered <= (int64_t)s->bs.cfg.discover_max);
	assert_true(discovered > 0); /* discovery still works for the first ones */
	assert_true(energy_rows <= NODES + discovered);
	assert_true(h->rows <= (NODES + discovered + 1) * (int64_t)s->bs.cfg.history_max_per_node);
	if (!store_dir_is_pg()) /* SQLite's files; PostgreSQL's are the server's */
		assert_true(db + wal <= STORE_BOUND);
	assert_true(sqlite3_memory_highwater(0) <= SQLITE_HEAP_BOUND);
	assert_true(rss1 - rss0 <= RSS_BOUND);
	free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_day, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
