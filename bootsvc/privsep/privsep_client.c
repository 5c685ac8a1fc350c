/* SPDX-License-Identifier: MIT */
/* The child's side of privsep: one request, one answer, with a deadline. */
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loop.h"
#include "macro.h"
#include "privsep/privsep.h"
#include "privsep/privsep_msg.h"
#include "tls_pki.h"

struct privsep {
	int fd;
	/* The loop thread asks, and the disk room's workers ask for tgtd (privsep_tgt_*):
	 * the lock keeps one request and its answer together. */
	pthread_mutex_t lock;
	uint8_t buf[MAX_PRIVSEP_MSG]; /* an answer: up to a whole file */
};

struct privsep *
privsep_new(int fd)
{
	struct privsep *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->fd = fd;
	pthread_mutex_init(&p->lock, NULL);
	return p;
}

struct privsep *
privsep_free(struct privsep *p)
{
	if (!p)
		return NULL;
	if (p->fd >= 0)
		close(p->fd);
	pthread_mutex_destroy(&p->lock);
	free(p);
	return NULL;
}

/* Send req, wait for the answer into p->buf and decode it into *rep. A RESULT with rc < 0
 * is returned as that error. Called with p->lock held. */
static int
call_locked(struct privsep *p, const struct privsep_msg *req, struct privsep_msg *rep,
    struct dl_err *reterr)
{
	const char *name = privsep_type_name(req->type);
	/* tgtd's and qsd's requests wait for tgtadm or QMP runs (privsep.h); the rest answer
	 * from memory. */
	int timeout_ms = req->type >= PRIVSEP_TGT_SET && req->type <= PRIVSEP_QSD_STATUS ?
	    PRIVSEP_TGT_TIMEOUT_MS : PRIVSEP_TIMEOUT_MS;
	uint64_t deadline = loop_now_ms() + (uint64_t)timeout_ms;
	size_t len;
	ssize_t n;
	int r;

	/* An answer that came after an earlier request's deadline must not be taken for
	 * this one's. */
	while (recv(p->fd, p->buf, sizeof(p->buf), MSG_DONTWAIT) > 0)
		;
	r = privsep_msg_encode(req, p->buf, sizeof(p->buf), &len, reterr);
	if (r < 0)
		return r;
	do
		n = send(p->fd, p->buf, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return dl_err_set(reterr, negative_errno(), "privsep %s: sending to the parent: %s",
		    name, strerror(errno));
	for (;;) {
		struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
		uint64_t now = loop_now_ms();

		if (now >= deadline)
			return dl_err_set(reterr, -ETIMEDOUT,
			    "privsep %s: the parent did not answer within %d ms", name,
			    timeout_ms);
		r = poll(&pfd, 1, (int)(deadline - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return dl_err_set(reterr, negative_errno(), "privsep %s: poll: %s", name,
			    strerror(errno));
		if (r == 0)
			continue;
		/* MSG_TRUNC: a datagram longer than the buffer reports its real length and
		 * fails the decode instead of passing cut. */
		n = recv(p->fd, p->buf, sizeof(p->buf), MSG_TRUNC | MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return dl_err_set(reterr, negative_errno(), "privsep %s: receiving: %s", name,
			    strerror(errno));
		if (n == 0)
			return dl_err_set(reterr, -EPIPE, "privsep %s: the parent is gone", name);
		if ((size_t)n > sizeof(p->buf))
			return dl_err_set(reterr, -EBADMSG, "privsep %s: an answer of %zd bytes", name,
			    n);
		break;
	}
	r = privsep_msg_decode(p->buf, (size_t)n, rep, reterr);
	if (r < 0)
		return r;
	if (rep->type == PRIVSEP_RESULT && rep->rc < 0)
		return dl_err_set(reterr, rep->rc, "%s", rep->data);
	return 0;
}

/* call_locked() expecting an answer of type want (or a RESULT with rc 0 when want is
 * PRIVSEP_RESULT). */
static int
call(struct privsep *p, const struct privsep_msg *req, enum privsep_type want,
    struct privsep_msg *rep, struct dl_err *reterr)
{
	int r = call_locked(p, req, rep, reterr);

	if (r >= 0 && rep->type != want)
		r = dl_err_set(reterr, -EBADMSG, "privsep %s: the parent answered %s, not %s",
		    privsep_type_name(req->type), privsep_type_name(rep->type),
		    privsep_type_name(want));
	return r;
}

static int
simple(struct privsep *p, enum privsep_type type, struct dl_err *reterr)
{
	struct privsep_msg req = { .type = type }, rep;
	int r;

	pthread_mutex_lock(&p->lock);
	r = call(p, &req, PRIVSEP_RESULT, &rep, reterr);
	pthread_mutex_unlock(&p->lock);
	return r;
}

int
privsep_dhcp_start(struct privsep *p, struct dl_err *reterr)
{
	return simple(p, PRIVSEP_DHCP_START, reterr);
}

int
privsep_dhcp_reload(struct privsep *p, struct dl_err *reterr)
{
	return simple(p, PRIVSEP_DHCP_RELOAD, reterr);
}

int
privsep_dhcp_status(struct privsep *p, pid_t *ret_pid, uint64_t *ret_restarts,
    struct dl_err *reterr)
{
	struct privsep_msg req = { .type = PRIVSEP_DHCP_STATUS }, rep;
	int r;

	pthread_mutex_lock(&p->lock);
	r = call(p, &req, PRIVSEP_STATUS, &rep, reterr);
	if (r >= 0) {
		*ret_pid = (pid_t)rep.pid;
		*ret_restarts = rep.restarts;
	}
	pthread_mutex_unlock(&p->lock);
	return r;
}

/* A FILE answer copied out (NUL-terminated), then the buffer wiped: it may hold a secret. */
static int
read_file_reply(struct privsep *p, const struct privsep_msg *req, size_t max, char **ret,
    size_t *ret_len, unsigned *ret_mode, struct dl_err *reterr)
{
	struct privsep_msg rep;
	char *s;
	int r;

	pthread_mutex_lock(&p->lock);
	r = call(p, req, PRIVSEP_FILE, &rep, reterr);
	if (r >= 0 && rep.data_len > max)
		r = dl_err_set(reterr, -E2BIG, "privsep %s: %zu bytes, at most %zu",
		    privsep_type_name(req->type), rep.data_len, max);
	if (r >= 0) {
		s = malloc(rep.data_len + 1);
		if (!s) {
			r = -ENOMEM;
		} else {
			if (rep.data_len)
				memcpy(s, rep.data, rep.data_len);
			s[rep.data_len] = '\0';
			*ret = s;
			*ret_len = rep.data_len;
			if (ret_mode)
				*ret_mode = rep.mode;
		}
	}
	explicit_bzero(p->buf, sizeof(p->buf));
	pthread_mutex_unlock(&p->lock);
	return r;
}

int
privsep_read_creds(struct privsep *p, const char *path, char **ret, size_t *ret_len,
    struct dl_err *reterr)
{
	struct privsep_msg req = { .type = PRIVSEP_READ_CREDS, .data = path,
		.data_len = strlen(path) };

	return read_file_reply(p, &req, MAX_PRIVSEP_FILE, ret, ret_len, NULL, reterr);
}

int
privsep_read_site(struct privsep *p, const char *rel, char **ret, size_t *ret_len,
    unsigned *ret_mode, struct dl_err *reterr)
{
	struct privsep_msg req = { .type = PRIVSEP_READ_SITE, .data = rel,
		.data_len = strlen(rel) };

	return read_file_reply(p, &req, MAX_PRIVSEP_FILE, ret, ret_len, ret_mode, reterr);
}

int
privsep_read_tls_ca(struct privsep *p, const char *name, char **ret, size_t *ret_len,
    struct dl_err *reterr)
{
	struct privsep_msg req = { .type = PRIVSEP_READ_TLS_CA, .data = name,
		.data_len = strlen(name) };

	return read_file_reply(p, &req, MAX_TLS_PEM, ret, ret_len, NULL, reterr);
}

int
privsep_read_config(struct privsep *p, char **ret, size_t *ret_len, struct dl_err *reterr)
{
	struct privsep_msg req = { .type = PRIVSEP_READ_CONFIG };

	return read_file_reply(p, &req, MAX_PRIVSEP_FILE, ret, ret_len, NULL, reterr);
}

int
privsep_tgt_set(struct privsep *p, const struct tgt_target *t, struct dl_err *reterr)
{
	struct privsep_msg *req = calloc(1, sizeof(*req)), rep;
	int r;

	if (!req)
		return dl_err_set(reterr, -ENOMEM, "privsep tgt_set: out of memory");
	req->type = PRIVSEP_TGT_SET;
	req->target = *t;
	pthread_mutex_lock(&p->lock);
	r = call(p, req, PRIVSEP_RESULT, &rep, reterr);
	/* the request went out through p->buf: it held the CHAP secrets */
	explicit_bzero(p->buf, MAX_PRIVSEP_REQUEST);
	pthread_mutex_unlock(&p->lock);
	explicit_bzero(req, sizeof(*req));
	free(req);
	return r;
}

int
privsep_tgt_del(struct privsep *p, uint32_t tid, struct dl_err *reterr)
{
	struct privsep_msg req = { .type = PRIVSEP_TGT_DEL, .tid = tid }, rep;
	int r;

	pthread_mutex_lock(&p->lock);
	r = call(p, &req, PRIVSEP_RESULT, &rep, reterr);
	pthread_mutex_unlock(&p->lock);
	return r;
}

int
privsep_tgt_status(struct privsep *p, pid_t *ret_pid, uint64_t *ret_restarts,
    uint64_t *ret_generation, struct dl_err *reterr)
{
	struct privsep_msg req = { .type = PRIVSEP_TGT_STATUS }, rep;
	int r;

	pthread_mutex_lock(&p->lock);
	r = call(p, &req, PRIVSEP_TGT_STATE, &rep, reterr);
	if (r >= 0) {
		*ret_pid = (pid_t)rep.pid;
		*ret_restarts = rep.restarts;
		*ret_generation = rep.generation;
	}
	pthread_mutex_unlock(&p->lock);
	return r;
}

int
privsep_tgt_sessions(struct privsep *p, struct tgt_session *ret, size_t max, size_t *ret_n,
    struct dl_err *reterr)
{
	struct privsep_msg req = { .type = PRIVSEP_TGT_SESSIONS }, rep;
	int r;

	pthread_mutex_lock(&p->lock);
	r = call(p, &req, PRIVSEP_TGT_LIST, &rep, reterr);
	if (r >= 0 && rep.n_sessions > max)
		r = dl_err_set(reterr, -ENOBUFS, "privsep tgt_sessions: %zu sessions, room for %zu",
		    rep.n_sessions, max);
	if (r >= 0)
		*ret_n = privsep_msg_sessions(&rep, ret, max);
	pthread_mutex_unlock(&p->lock);
	return r;
}

int
privsep_disk_export(struct privsep *p, const char *node, const char *golden,
    char ret_path[], size_t size, struct dl_err *reterr)
{
	struct privsep_msg req = { .type = PRIVSEP_DISK_EXPORT, .node = node,
		.golden = golden }, rep;
	int r;

	pthread_mutex_lock(&p->lock);
	r = call(p, &req, PRIVSEP_RESULT, &rep, reterr);
	if (r >= 0 && (rep.data_len == 0 || rep.data_len >= size))
		r = dl_err_set(reterr, -EBADMSG, "privsep disk_export: an export path of %zu "
		    "bytes, room for %zu", rep.data_len, size - 1);
	if (r >= 0)
		memcpy(ret_path, rep.data, rep.data_len + 1);
	pthread_mutex_unlock(&p->lock);
	return r;
}

int
privsep_disk_unexport(struct privsep *p, const char *node, bool remove,
    struct dl_err *reterr)
{
	struct privsep_msg req = { .type = remove ? PRIVSEP_DISK_REMOVE : PRIVSEP_DISK_UNEXPORT,
		.data = node,
		.data_len = strlen(node) }, rep;
	int r;

	pthread_mutex_lock(&p->lock);
	r = call(p, &req, PRIVSEP_RESULT, &rep, reterr);
	pthread_mutex_unlock(&p->lock);
	return r;
}

int
privsep_qsd_status(struct privsep *p, pid_t *ret_pid, uint64_t *ret_restarts,
    uint64_t *ret_generation, struct dl_err *reterr)
{
	struct privsep_msg req = { .type = PRIVSEP_QSD_STATUS }, rep;
	int r;

	pthread_mutex_lock(&p->lock);
	r = call(p, &req, PRIVSEP_TGT_STATE, &rep, reterr);
	if (r >= 0) {
		*ret_pid = (pid_t)rep.pid;
		*ret_restarts = rep.restarts;
		*ret_generation = rep.generation;
	}
	pthread_mutex_unlock(&p->lock);
	return r;
}
