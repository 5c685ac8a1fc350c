/* SPDX-License-Identifier: MIT */
/* The store's front: picks a backend from what store_open() is given, keeps the nesting
 * of transactions, and turns what backends report into messages for people. Everything
 * else goes straight to the backend (store_backend.h). */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "parse.h"
#include "sha256.h"
#include "store/store_backend.h"

/* target with any "user:password@" of a URL left out, for messages and logs. */
static const char *
target_safe(const char *target, char *buf, size_t size)
{
	const char *auth = strstr(target, "://"), *at, *end;

	if (!auth)
		return target;
	auth += 3;
	end = auth + strcspn(auth, "/?#");
	at = memchr(auth, '@', (size_t)(end - auth));
	if (!at)
		return target;
	(void)snprintf(buf, size, "%.*s%s", (int)(auth - target), target, at + 1);
	return buf;
}

/* "scheme://": RFC 3986 §3.1 scheme characters before it. */
static size_t
url_scheme_len(const char *target)
{
	static const char tail[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-";
	size_t n;

	if (!((target[0] >= 'a' && target[0] <= 'z') || (target[0] >= 'A' && target[0] <= 'Z')))
		return 0;
	n = strspn(target, tail);
	return strncmp(target + n, "://", 3) == 0 ? n : 0;
}

/* What target names, for store_open() and store_target_check() alike: PostgreSQL (0,
 * *ret_pg_shown: target without its password, in safe) or SQLite (0, *ret_path). */
static int
target_parse(const char *target, char safe[MAX_STORE_PATH], const char **ret_pg_shown,
    const char **ret_path, struct dl_err *reterr)
{
	const char *path = target;
	size_t scheme = url_scheme_len(target);

	*ret_pg_shown = NULL;
	*ret_path = NULL;
	if (strncmp(target, "sqlite:", 7) == 0) {
		path = target + 7;
		/* sqlite:///var/lib/x reads as a URL with an empty host: the path follows */
		if (strncmp(path, "//", 2) == 0)
			path += 2;
	} else if (scheme) {
		const char *shown = target_safe(target, safe, MAX_STORE_PATH);

		if ((scheme == 10 && strncmp(target, "postgresql", 10) == 0) ||
		    (scheme == 8 && strncmp(target, "postgres", 8) == 0)) {
			*ret_pg_shown = shown;
			return 0;
		}
		return dl_err_set(reterr, -EPROTONOSUPPORT, "store '%s': unknown scheme '%.*s' "
		    "(a path, sqlite:PATH or postgresql://)", shown, (int)scheme, shown);
	}
	if (!path[0])
		return dl_err_set(reterr, -EINVAL, "store '%s': no path", target);
	if (strlen(path) >= MAX_STORE_PATH)
		return dl_err_set(reterr, -ENAMETOOLONG, "store '%s': path too long", target);
	*ret_path = path;
	return 0;
}

int
store_open(const char *target, struct store **ret, struct dl_err *reterr)
{
	char safe[MAX_STORE_PATH];
	const char *shown, *path;
	int r = target_parse(target, safe, &shown, &path, reterr);

	if (r < 0)
		return r;
	return shown ? store_pg_open(target, shown, ret, reterr) :
	    store_sqlite_open(path, ret, reterr);
}

int
store_target_check(const char *target, struct dl_err *reterr)
{
	char safe[MAX_STORE_PATH];
	const char *shown, *path;
	int r = target_parse(target, safe, &shown, &path, reterr);

	if (r < 0)
		return r;
	return shown ? store_pg_check(target, shown, reterr) : 0;
}

struct store *
store_close(struct store *s)
{
	if (s)
		s->ops->close(s);
	return NULL;
}

/* The savepoint level a transaction opened now would have (0 = the outermost). */
static unsigned
tx_level(const struct store *s)
{
	return s->depth + (s->batch ? 1 : 0);
}

int
store_begin(struct store *s)
{
	struct dl_err e = { 0 };
	unsigned level = tx_level(s);
	int r;

	if (s->depth >= MAX_STORE_TX_DEPTH)
		return -EBUSY;
	r = level == 0 ? s->ops->begin(s, true, &e) : s->ops->savepoint(s, level, &e);
	if (r < 0) {
		s->errors++;
		log_debug("event=store_begin level=%u msg=\"%s\"", level, e.msg);
		return r;
	}
	s->depth++;
	return 0;
}

void
store_fault_fail_commits(struct store *s, unsigned n)
{
	s->fail_commits = n;
}

/* -EIO when a test asked this commit to fail (store_fault_fail_commits). */
static int
fault_commit(struct store *s, struct dl_err *reterr)
{
	if (!s->fail_commits)
		return 0;
	s->fail_commits--;
	log_warning("event=store_commit msg=\"failing this commit (fault injection)\"");
	return dl_err_set(reterr, -EIO, "COMMIT: fault injected");
}

int
store_commit(struct store *s)
{
	struct dl_err e = { 0 };
	unsigned level;
	int r;

	if (s->depth == 0)
		return -EIO;
	s->depth--;
	level = tx_level(s);
	if (level > 0)
		r = s->ops->release(s, level, &e);
	else if ((r = fault_commit(s, &e)) == 0)
		r = s->ops->commit(s, &e);
	if (r < 0) {
		/* The caller owns the error (it knows what the transaction was for). */
		s->errors++;
		log_debug("event=store_commit level=%u msg=\"%s\"", level, e.msg);
		if (level == 0)
			s->ops->rollback(s);
		else
			s->ops->rollback_to(s, level);
	}
	return r;
}

void
store_rollback(struct store *s)
{
	unsigned level;

	if (s->depth == 0)
		return; /* nothing to undo */
	s->depth--;
	level = tx_level(s);
	if (level == 0)
		s->ops->rollback(s);
	else
		s->ops->rollback_to(s, level);
}

uint64_t
store_errors(const struct store *s)
{
	return s->errors;
}

void
store_fence(struct store *s, int64_t token)
{
	s->fence_token = token > 0 ? token : 0;
	s->fence_refused = false;
}

bool
store_fence_refused(const struct store *s)
{
	return s->fence_refused;
}

int
store_batch_begin(struct store *s)
{
	struct dl_err e = { 0 };

	if (s->batch)
		return 0;
	if (s->depth > 0) {
		log_err("event=store_batch msg=\"begin: inside a transaction\"");
		return -EBUSY;
	}
	if (s->ops->begin(s, false, &e) < 0) {
		s->errors++;
		log_err("event=store_batch msg=\"begin: %s\"", e.msg);
		return -EIO;
	}
	s->batch = true;
	return 0;
}

int
store_batch_end(struct store *s)
{
	struct dl_err e = { 0 };

	if (!s->batch)
		return 0;
	s->batch = false;
	if (s->depth > 0) {
		/* A caller's missing commit: the batch's own commit takes its writes, as a
		 * savepoint's commit would have. */
		log_warning("event=store_batch msg=\"end: %u transactions left open, committing "
		    "them\"", s->depth);
		s->depth = 0;
	}
	if (fault_commit(s, &e) < 0 || s->ops->commit(s, &e) < 0) {
		s->errors++;
		log_err("event=store_batch msg=\"commit: %s\"", e.msg);
		s->ops->rollback(s);
		return -EIO;
	}
	return 0;
}

int
store_node_insert(struct store *s, const struct node_rec *n, struct dl_err *reterr)
{
	struct node_rec other;
	int r = s->ops->node_insert(s, n, reterr);

	if (r != -EEXIST)
		return r;
	if (s->ops->node_get(s->rd, STORE_NODE_BY_NAME, n->name, &other) == 0)
		return dl_err_set(reterr, -EEXIST, "node '%s' already exists", n->name);
	if (s->ops->node_get(s->rd, STORE_NODE_BY_MAC, n->mac, &other) == 0)
		return dl_err_set(reterr, -EEXIST, "MAC '%s' already belongs to node '%s'", n->mac,
		    other.name);
	if (n->ip[0] && s->ops->node_get(s->rd, STORE_NODE_BY_IP, n->ip, &other) == 0)
		return dl_err_set(reterr, -EEXIST, "IP '%s' already belongs to node '%s'", n->ip,
		    other.name);
	return dl_err_set(reterr, -EEXIST, "node '%s' conflicts with an existing node", n->name);
}

int
store_node_get(struct store *s, const char *name, struct node_rec *ret)
{
	return s->ops->node_get(s->rd, STORE_NODE_BY_NAME, name, ret);
}

int
store_node_get_by_mac(struct store *s, const char *mac, struct node_rec *ret)
{
	return s->ops->node_get(s->rd, STORE_NODE_BY_MAC, mac, ret);
}

int
store_node_get_by_ip(struct store *s, const char *ip, struct node_rec *ret)
{
	return s->ops->node_get(s->rd, STORE_NODE_BY_IP, ip, ret);
}

int
store_node_delete(struct store *s, const char *name)
{
	return s->ops->node_delete(s, name);
}

int
store_node_update(struct store *s, const struct node_rec *n)
{
	return s->ops->node_update(s, n);
}

int
store_node_update_ctrl(struct store *s, const struct node_rec *n)
{
	return s->ops->node_update_ctrl(s, n);
}

int
store_node_arm(struct store *s, const char *name, const char *token, bool armed,
    const char *armed_by)
{
	return s->ops->node_arm(s, name, token, armed, armed_by);
}

int
store_node_health_state_get(struct store *s, const char *name, char **ret)
{
	return s->ops->node_health_state_get(s, name, ret);
}

int
store_node_health_state_set(struct store *s, const char *name, const char *json)
{
	return s->ops->node_health_state_set(s, name, json);
}

int
store_node_set_phase(struct store *s, const char *name, const char *phase, const char *reason,
    int64_t at)
{
	return s->ops->node_set_phase(s, name, phase, reason, at);
}

int
store_node_foreach(struct store *s, store_node_fn fn, void *userdata)
{
	return s->ops->node_foreach(s, STORE_NODES_ALL, fn, userdata);
}

int
store_node_foreach_managed(struct store *s, store_node_fn fn, void *userdata)
{
	return s->ops->node_foreach(s, STORE_NODES_MANAGED, fn, userdata);
}

int
store_node_history(struct store *s, const char *name, struct phase_event *ret, size_t max,
    size_t *ret_n)
{
	return s->ops->node_history(s, name, ret, max, ret_n);
}

bool
store_ip_used(struct store *s, const char *ip)
{
	return s->ops->ip_used(s, ip);
}

int
store_node_count_by_phase(struct store *s, store_count_fn fn, void *userdata)
{
	return s->ops->node_count_by_phase(s, fn, userdata);
}

int
store_event_add(struct store *s, const char *node, const char *what, const char *reason,
    int64_t at)
{
	return s->ops->event_add(s, node, what, reason, at);
}

int
store_events_since(struct store *s, int64_t since, size_t max, store_event_fn fn,
    void *userdata)
{
	return s->ops->events_since(s, since, max, fn, userdata);
}

int64_t
store_event_last_seq(struct store *s)
{
	return s->ops->event_last_seq(s);
}

int
store_energy_get(struct store *s, const char *node, struct energy_rec *ret)
{
	return s->ops->energy_get(s, node, ret);
}

int
store_energy_put(struct store *s, const struct energy_rec *e)
{
	return s->ops->energy_put(s, e);
}

int
store_energy_image_add(struct store *s, const char *image, int64_t on_mj, int64_t off_mj,
    int64_t saved_mj)
{
	return s->ops->energy_image_add(s, image, on_mj, off_mj, saved_mj);
}

int
store_energy_foreach(struct store *s, store_energy_fn fn, void *userdata)
{
	return s->ops->energy_foreach(s, fn, userdata);
}

int
store_energy_image_foreach(struct store *s, store_energy_fn fn, void *userdata)
{
	return s->ops->energy_image_foreach(s, fn, userdata);
}

int
store_energy_nodes(struct store *s, const char *after, size_t limit,
    store_energy_node_fn fn, void *userdata)
{
	return s->ops->energy_nodes(s, after, limit > INT64_MAX ? INT64_MAX : limit, fn,
	    userdata);
}

int
store_image_insert(struct store *s, const struct image_rec *i, struct dl_err *reterr)
{
	int r = s->ops->image_insert(s, i, reterr);

	if (r == -EEXIST)
		return dl_err_set(reterr, -EEXIST, "image version '%s' is already registered",
		    i->id);
	return r;
}

int
store_image_get(struct store *s, const char *id, struct image_rec *ret)
{
	return s->ops->image_get(s->rd, id, ret);
}

int
store_image_current(struct store *s, const char *name, struct image_rec *ret)
{
	return s->ops->image_current(s->rd, name, ret);
}

/* "name", "name@idprefix" or a full id, on any read view: the loop's or a reader's. */
static int
image_resolve(struct store_reader *r, const char *ref, struct image_rec *ret,
    struct dl_err *reterr)
{
	char name[MAX_NODE_NAME] = "";
	const char *at = strchr(ref, '@'), *prefix = NULL;
	unsigned rows = 0;
	int rc;

	if (!at) {
		if (sha256_hex_is_valid(ref) && r->ops->image_get(r, ref, ret) == 0)
			return 0;
		if (r->ops->image_current(r, ref, ret) == 0)
			return 0;
		return dl_err_set(reterr, -ENOENT, "no image '%s'", ref);
	}
	if (at == ref)
		return dl_err_set(reterr, -EINVAL, "'%s' has no image name before '@'", ref);
	if ((size_t)(at - ref) >= sizeof(name))
		return dl_err_set(reterr, -EINVAL, "image name in '%s' is too long", ref);
	memcpy(name, ref, (size_t)(at - ref));
	name[at - ref] = '\0';
	prefix = at + 1;
	if (strlen(prefix) < IMAGE_ID_PREFIX_MIN || strlen(prefix) > 64 ||
	    strspn(prefix, "0123456789abcdef") != strlen(prefix))
		return dl_err_set(reterr, -EINVAL, "version '%s' is not %d to 64 lowercase hex "
		    "digits of an image id (at least %d, even when fewer are unique)", prefix,
		    IMAGE_ID_PREFIX_MIN, IMAGE_ID_PREFIX_MIN);
	if ((rc = r->ops->image_find_prefix(r, name, prefix, ret, &rows)) < 0)
		return rc;
	if (rows == 0)
		return dl_err_set(reterr, -ENOENT, "no version '%s' of image '%s'", prefix, name);
	if (rows > 1)
		return dl_err_set(reterr, -EINVAL, "version '%s' of image '%s' is ambiguous",
		    prefix, name);
	return 0;
}

int
store_image_resolve(struct store *s, const char *ref, struct image_rec *ret,
    struct dl_err *reterr)
{
	return image_resolve(s->rd, ref, ret, reterr);
}

int
store_image_delete(struct store *s, const char *id)
{
	return s->ops->image_delete(s, id);
}

int
store_image_foreach(struct store *s, store_image_fn fn, void *userdata)
{
	return s->ops->image_foreach(s, fn, userdata);
}

int64_t
store_image_users(struct store *s, const char *id)
{
	return s->ops->image_users(s, id);
}

bool
store_is_embedded(const struct store *s)
{
	return s->ops->embedded;
}

int
store_reader_open(struct store *s, struct store_reader **ret, struct dl_err *reterr)
{
	if (!s->ops->reader_open)
		return dl_err_set(reterr, -ENOTSUP, "the %s store has no readers", s->ops->name);
	return s->ops->reader_open(s, ret, reterr);
}

struct store_reader *
store_reader_close(struct store_reader *r)
{
	if (r)
		r->ops->reader_close(r);
	return NULL;
}

void
store_reader_batch_begin(struct store_reader *r)
{
	if (r->ops->reader_batch)
		r->ops->reader_batch(r, true);
}

void
store_reader_batch_end(struct store_reader *r)
{
	if (r->ops->reader_batch)
		r->ops->reader_batch(r, false);
}

int
store_reader_node_get(struct store_reader *r, const char *name, struct node_rec *ret)
{
	return r->ops->node_get(r, STORE_NODE_BY_NAME, name, ret);
}

int
store_reader_node_get_by_mac(struct store_reader *r, const char *mac, struct node_rec *ret)
{
	return r->ops->node_get(r, STORE_NODE_BY_MAC, mac, ret);
}

int
store_reader_node_get_by_ip(struct store_reader *r, const char *ip, struct node_rec *ret)
{
	return r->ops->node_get(r, STORE_NODE_BY_IP, ip, ret);
}

int
store_reader_image_get(struct store_reader *r, const char *id, struct image_rec *ret)
{
	return r->ops->image_get(r, id, ret);
}

int
store_reader_image_current(struct store_reader *r, const char *name, struct image_rec *ret)
{
	return r->ops->image_current(r, name, ret);
}

int
store_reader_image_resolve(struct store_reader *r, const char *ref, struct image_rec *ret,
    struct dl_err *reterr)
{
	return image_resolve(r, ref, ret, reterr);
}

void
store_history_keep(struct store *s, unsigned max_per_node)
{
	s->ops->history_keep(s, max_per_node);
}

int
store_history_prune(struct store *s, int64_t before, unsigned max_rows, size_t *ret_n)
{
	*ret_n = 0;
	if (max_rows == 0)
		return 0;
	return s->ops->history_prune(s, before, max_rows, ret_n);
}

uint64_t
store_wal_checkpoints(struct store *s)
{
	return s->ops->checkpoints ? s->ops->checkpoints(s) : 0;
}

int
store_checkpoint(struct store *s, int64_t *ret_frames)
{
	if (s->depth > 0 || s->batch)
		return -EBUSY;
	return s->ops->checkpoint(s, ret_frames);
}

int
store_vm_host_put(struct store *s, const struct vm_host_rec *h)
{
	return s->ops->vm_host_put(s, h);
}

int
store_vm_host_get(struct store *s, const char *node, struct vm_host_rec *ret)
{
	return s->ops->vm_host_get(s, node, ret);
}

int
store_vm_host_delete(struct store *s, const char *node)
{
	return s->ops->vm_host_delete(s, node);
}

int
store_vm_host_foreach(struct store *s, store_vm_host_fn fn, void *userdata)
{
	return s->ops->vm_host_foreach(s, fn, userdata);
}

/* A transaction in which host is a VM host: 0, or the error with nothing left open. */
static int
begin_on_host(struct store *s, const char *host)
{
	struct vm_host_rec h;
	int r;

	if ((r = store_begin(s)) < 0)
		return r;
	if ((r = s->ops->vm_host_get(s, host, &h)) < 0)
		store_rollback(s);
	return r;
}

int
store_vm_domains_reconcile(struct store *s, const char *host,
    const struct vm_domain_rec *doms, size_t n, int64_t now_ms)
{
	int r;

	if ((r = begin_on_host(s, host)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		struct vm_domain_rec d = doms[i];

		(void)snprintf(d.host, sizeof(d.host), "%s", host);
		d.last_seen = now_ms;
		if ((r = s->ops->vm_domain_put(s, &d)) < 0)
			goto fail;
	}
	/* What this listing did not have is gone from the host: everything older than it. */
	if ((r = s->ops->vm_domains_drop_stale(s, host, now_ms)) < 0)
		goto fail;
	return store_commit(s);
fail:
	store_rollback(s);
	return r;
}

int
store_vm_domain_foreach(struct store *s, const char *host, store_vm_domain_fn fn,
    void *userdata)
{
	return s->ops->vm_domain_foreach(s, host ? host : "", fn, userdata);
}

struct domain_find {
	const char *uuid;
	struct vm_domain_rec d;
	bool found;
};

static int
domain_match(const struct vm_domain_rec *d, void *userdata)
{
	struct domain_find *f = userdata;

	if (strcmp(d->uuid, f->uuid) != 0)
		return 0;
	f->d = *d;
	f->found = true;
	return -1; /* found: stop */
}

int
store_vm_domain_moved(struct store *s, const char *uuid, const char *from, const char *to,
    int64_t now_ms)
{
	struct domain_find f = { .uuid = uuid };
	int r;

	if ((r = begin_on_host(s, to)) < 0)
		return r;
	/* the source's rows only: at most MAX_VM_DOMAINS_PER_HOST, once per move */
	r = s->ops->vm_domain_foreach(s, from, domain_match, &f);
	if (!f.found) {
		r = r < 0 ? r : -ENOENT;
		goto fail;
	}
	(void)snprintf(f.d.host, sizeof(f.d.host), "%s", to);
	f.d.last_seen = now_ms;
	f.d.running_since = strcmp(f.d.state, "running") == 0 ? now_ms / 1000 : 0;
	if ((r = s->ops->vm_domain_put(s, &f.d)) < 0)
		goto fail;
	return store_commit(s);
fail:
	store_rollback(s);
	return r;
}

int
store_vm_plan_add(struct store *s, struct vm_plan_rec *p, const struct vm_step_rec *steps,
    size_t n)
{
	int64_t id = 0;
	int r;

	if (n > MAX_VM_PLAN_STEPS)
		return -EINVAL;
	if ((r = store_begin(s)) < 0)
		return r;
	if ((r = s->ops->vm_plan_insert(s, p, &id)) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		struct vm_step_rec st = steps[i];

		st.plan_id = id;
		if ((r = s->ops->vm_step_insert(s, &st)) < 0)
			goto fail;
	}
	if ((r = store_commit(s)) < 0)
		return r;
	p->id = id; /* only now that it is durable (the out-parameter rule) */
	return 0;
fail:
	store_rollback(s);
	return r;
}

int
store_vm_plan_get(struct store *s, int64_t id, struct vm_plan_rec *ret)
{
	return s->ops->vm_plan_get(s, id, ret);
}

int
store_vm_plan_put(struct store *s, const struct vm_plan_rec *p)
{
	return s->ops->vm_plan_put(s, p);
}

int
store_vm_plan_foreach(struct store *s, bool unfinished_only, store_vm_plan_fn fn,
    void *userdata)
{
	return s->ops->vm_plan_foreach(s, unfinished_only, fn, userdata);
}

int
store_vm_step_put(struct store *s, const struct vm_step_rec *st)
{
	return s->ops->vm_step_put(s, st);
}

int
store_vm_step_foreach(struct store *s, int64_t plan_id, store_vm_step_fn fn, void *userdata)
{
	return s->ops->vm_step_foreach(s, plan_id, fn, userdata);
}

int
store_vm_plan_prune(struct store *s, int64_t before_ms)
{
	return s->ops->vm_plan_prune(s, before_ms, MAX_VM_PLAN_PRUNE);
}

int
store_vm_drain_set(struct store *s, const char *node, bool drain, const char *reason)
{
	struct node_rec n;
	int r;

	if (drain)
		return s->ops->vm_drain_put(s, node, reason ? reason : "");
	r = s->ops->vm_drain_delete(s, node);
	/* undoing a drain that is not there is done, if the node is */
	if (r == -ENOENT)
		return s->ops->node_get(s->rd, STORE_NODE_BY_NAME, node, &n);
	return r;
}

bool
store_vm_drain_get(struct store *s, const char *node, char *reason, size_t size)
{
	char buf[MAX_REASON];

	if (s->ops->vm_drain_get(s, node, buf, sizeof(buf)) < 0)
		return false;
	if (reason && size)
		(void)snprintf(reason, size, "%s", buf);
	return true;
}

int
store_vm_drain_foreach(struct store *s, store_vm_drain_fn fn, void *userdata)
{
	return s->ops->vm_drain_foreach(s, fn, userdata);
}

int
store_disk_put(struct store *s, struct disk_rec *d)
{
	return s->ops->disk_put(s, d);
}

int
store_disk_get(struct store *s, const char *node, struct disk_rec *ret)
{
	return s->ops->disk_get(s->rd, node, ret);
}

int
store_reader_disk_get(struct store_reader *r, const char *node, struct disk_rec *ret)
{
	return r->ops->disk_get(r, node, ret);
}

int
store_disk_delete(struct store *s, const char *node)
{
	return s->ops->disk_delete(s, node);
}

int
store_disk_foreach(struct store *s, store_disk_fn fn, void *userdata)
{
	return s->ops->disk_foreach(s, fn, userdata);
}

int
store_disk_persistent_set(struct store *s, const char *node, bool persistent)
{
	struct node_rec n;
	int r;

	if (persistent)
		return s->ops->disk_persistent_put(s, node);
	r = s->ops->disk_persistent_delete(s, node);
	/* turning off what is not on is done, if the node is there */
	if (r == -ENOENT)
		return s->ops->node_get(s->rd, STORE_NODE_BY_NAME, node, &n);
	return r;
}

bool
store_disk_persistent_get(struct store *s, const char *node)
{
	return s->ops->disk_persistent_get(s, node);
}
