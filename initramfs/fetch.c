/* SPDX-License-Identifier: MIT */
/* rootfs and overlay downloads; see fetch.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "credential.h"
#include "fetch.h"
#include "httpc.h"
#include "sha256.h"

/* Read size per syscall: large enough that the per-call cost disappears next to TCP. */
#define FETCH_CHUNK (128u << 10)
/* Log progress every this many bytes so a slow transfer is visibly alive. */
#define FETCH_PROGRESS_STEP (64ull << 20)

struct dl_state {
	int fd;
	uint64_t have;          /* bytes written and hashed */
	int64_t total;          /* -1 until the server told us */
	struct sha256_ctx sha;
	uint8_t *chunk;
};

static int
check_total(const struct dl_cmdline *c, struct dl_state *s, uint64_t total, const char *path,
    struct init_err *reterr)
{
	struct statvfs vfs;

	if (s->total >= 0 && (uint64_t)s->total != total)
		return init_err_set(reterr, -EPROTO, "rootfs size changed from %lld to %llu bytes",
		    (long long)s->total, (unsigned long long)total);
	if (c->rootfs_size && total != c->rootfs_size)
		return init_err_set(reterr, -EPROTO,
		    "server offers %llu bytes but dl.rootfs_size is %llu",
		    (unsigned long long)total, (unsigned long long)c->rootfs_size);
	if (s->total < 0 && fstatvfs(s->fd, &vfs) == 0 &&
	    total - s->have > (uint64_t)vfs.f_bavail * vfs.f_frsize)
		return init_err_set(reterr, -ENOSPC,
		    "rootfs of %llu bytes does not fit in %s (%llu bytes free): node needs more RAM",
		    (unsigned long long)total, path,
		    (unsigned long long)vfs.f_bavail * vfs.f_frsize);
	s->total = (int64_t)total;
	return 0;
}

/* One connection: request from s->have on, append what arrives. */
void
rootfs_path(const struct dl_cmdline *c, char *buf, size_t size)
{
	if (c->image[0])
		(void)snprintf(buf, size, "/images/%s/rootfs", c->image);
	else
		(void)snprintf(buf, size, "/images/n/%s/rootfs", c->node);
}

static int
fetch_once(const struct dl_cmdline *c, struct dl_state *s, const char *path,
    struct init_err *reterr)
{
	char upath[128];
	struct httpc_conn conn = { .fd = -1 };
	struct httpc_req req = { .method = "GET", .path = upath, .token = c->token,
		.range_from = s->have };
	uint64_t next_progress;
	int r;

	rootfs_path(c, upath, sizeof(upath));
	r = httpc_begin(&conn, &c->server, &req, reterr);
	if (r < 0)
		goto out_close;
	if (conn.resp.status == 200) {
		if (conn.resp.content_length < 0) {
			r = init_err_set(reterr, -EPROTO, "rootfs answer has no Content-Length");
			goto out_close;
		}
		if (s->have) {
			/* the server ignored our Range: start over rather than trust a splice */
			init_log("rootfs: server ignored Range, restarting from 0");
			if (ftruncate(s->fd, 0) < 0 || lseek(s->fd, 0, SEEK_SET) < 0) {
				r = init_err_set(reterr, -errno, "truncate %s: %s", path, strerror(errno));
				goto out_close;
			}
			s->have = 0;
			s->total = -1;
			sha256_init(&s->sha);
		}
		r = check_total(c, s, (uint64_t)conn.resp.content_length, path, reterr);
		if (r < 0)
			goto out_close;
	} else if (conn.resp.status == 206 && s->have) {
		if (!conn.resp.has_range || conn.resp.range_start != s->have ||
		    conn.resp.range_total < 0 ||
		    conn.resp.range_end + 1 != (uint64_t)conn.resp.range_total ||
		    conn.resp.content_length != (int64_t)(conn.resp.range_end - s->have + 1)) {
			r = init_err_set(reterr, -EPROTO,
			    "206 answer does not match 'Range: bytes=%llu-'",
			    (unsigned long long)s->have);
			goto out_close;
		}
		r = check_total(c, s, (uint64_t)conn.resp.range_total, path, reterr);
		if (r < 0)
			goto out_close;
		init_log("rootfs: resuming at byte %llu of %lld", (unsigned long long)s->have,
		    (long long)s->total);
	} else {
		r = init_err_set(reterr, conn.resp.status == 404 ? -ENOENT : -EPROTO,
		    "GET %s%s: HTTP %d", c->server.base, upath, conn.resp.status);
		goto out_close;
	}

	next_progress = s->have + FETCH_PROGRESS_STEP;
	while (s->have < (uint64_t)s->total) {
		ssize_t n = httpc_read(&conn, s->chunk, FETCH_CHUNK, reterr);

		if (n < 0) {
			r = (int)n;
			goto out_close;
		}
		if (n == 0)
			break;
		if ((uint64_t)n > (uint64_t)s->total - s->have) {
			r = init_err_set(reterr, -EPROTO, "server sent more than %lld bytes",
			    (long long)s->total);
			goto out_close;
		}
		r = init_write_all(s->fd, s->chunk, (size_t)n);
		if (r < 0) {
			r = init_err_set(reterr, r, "write %s: %s", path, strerror(-r));
			goto out_close;
		}
		/* hash only what is safely written, so a resume continues the same digest */
		sha256_update(&s->sha, s->chunk, (size_t)n);
		s->have += (uint64_t)n;
		if (s->have >= next_progress) {
			init_log("rootfs: %llu of %lld MiB", (unsigned long long)(s->have >> 20),
			    (long long)(s->total >> 20));
			next_progress += FETCH_PROGRESS_STEP;
		}
	}
	r = s->have == (uint64_t)s->total ? 0 :
	    init_err_set(reterr, -ECONNRESET, "transfer ended at byte %llu of %lld",
	    (unsigned long long)s->have, (long long)s->total);
out_close:
	httpc_close(&conn);
	return r;
}

int
fetch_rootfs(const struct dl_cmdline *c, const char *path, char *ret_hex, struct init_err *reterr)
{
	struct dl_state s = { .total = -1 };
	uint8_t digest[SHA256_DIGEST_SIZE];
	unsigned backoff = 1000;
	int tries, r;

	s.chunk = malloc(FETCH_CHUNK);
	if (!s.chunk)
		return init_err_set(reterr, -ENOMEM, "out of memory");
	s.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (s.fd < 0) {
		r = init_err_set(reterr, -errno, "create %s: %s", path, strerror(errno));
		goto out_free_chunk;
	}
	sha256_init(&s.sha);
	for (tries = 1;; tries++) {
		r = fetch_once(c, &s, path, reterr);
		if (r == 0)
			break;
		/* a missing image, a size conflict or a full tmpfs will not heal by retrying */
		if (r == -ENOENT || r == -ENOSPC || tries >= FETCH_MAX_TRIES)
			goto out_close_fd;
		init_log("warning: rootfs: %s (try %d of %d), will retry in %u ms", reterr ? reterr->msg : "",
		    tries, FETCH_MAX_TRIES, backoff);
		init_sleep_ms(backoff);
		backoff = backoff * 2 > FETCH_BACKOFF_MAX_MS ? FETCH_BACKOFF_MAX_MS : backoff * 2;
	}
	if (fsync(s.fd) < 0 && errno != EINVAL) {
		r = init_err_set(reterr, -errno, "fsync %s: %s", path, strerror(errno));
		goto out_close_fd;
	}
	sha256_final(&s.sha, digest);
	(void)sha256_to_hex(digest, ret_hex);
	r = 0;
out_close_fd:
	if (close(s.fd) < 0 && r == 0)
		r = init_err_set(reterr, -errno, "close %s: %s", path, strerror(errno));
out_free_chunk:
	free(s.chunk);
	return r;
}

int
fetch_credential(const struct dl_cmdline *c, char ret[static MAX_TOKEN_LEN + 1],
    struct init_err *reterr)
{
	char upath[128], q[160];
	struct httpc_conn conn = { .fd = -1 };
	struct httpc_req req = { .method = "GET", .path = upath };
	char *buf = NULL;
	size_t blen = 0;
	ssize_t r;

	(void)snprintf(upath, sizeof(upath), "/api/v1/nodes/%s/credential", c->node);
	r = httpc_begin(&conn, &c->server, &req, reterr);
	if (r < 0)
		goto out_close;
	r = httpc_read_all(&conn, MAX_CREDENTIAL_ARCHIVE, &buf, reterr);
	if (r >= 0)
		blen = (size_t)r;
	if (r >= 0 && conn.resp.status != 200) {
		init_sanitize(q, sizeof(q), buf, (size_t)r);
		r = init_err_set(reterr, -EPROTO, "GET %s%s: HTTP %d %s", c->server.base, upath,
		    conn.resp.status, q);
	} else if (r >= 0) {
		r = credential_unwrap((const uint8_t *)buf, (size_t)r, ret, reterr);
	}
	if (buf)
		explicit_bzero(buf, blen);
out_close:
	free(buf);
	httpc_close(&conn);
	return (int)r;
}

ssize_t
fetch_overlay(const struct dl_cmdline *c, uint8_t **ret_buf, struct init_err *reterr)
{
	char upath[128];
	struct httpc_conn conn = { .fd = -1 };
	struct httpc_req req = { .method = "GET", .path = upath, .token = c->token };
	char *buf = NULL;
	ssize_t r;

	(void)snprintf(upath, sizeof(upath), "/api/v1/nodes/%s/overlay", c->node);
	r = httpc_begin(&conn, &c->server, &req, reterr);
	if (r < 0)
		goto out_close;
	if (conn.resp.status != 200) {
		r = init_err_set(reterr, -EPROTO, "GET %s%s: HTTP %d", c->server.base, upath,
		    conn.resp.status);
		goto out_close;
	}
	r = httpc_read_all(&conn, MAX_OVERLAY_SIZE, &buf, reterr);
	if (r >= 0)
		*ret_buf = (uint8_t *)buf;
out_close:
	httpc_close(&conn);
	return r;
}
