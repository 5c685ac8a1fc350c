/* SPDX-License-Identifier: MIT */
/* One round of a version's sync on a worker thread (sync_fetch.h). libcurl does the HTTP:
 * bootsvc had no client, and the init's (initramfs/httpc.c) is bound to the init's error
 * type, numeric IPv4 servers and blocking sockets with socket timeouts; libcurl gives the
 * stall timeout (LOW_SPEED), a whole-transfer deadline, Range resume with its
 * Content-Range check and host names in peers, and its response parser is maintained and
 * fuzzed upstream. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kind.h"
#include "log.h"
#include "macro.h"
#include "manifest.h"
#include "sync/sync_fetch.h"
#include "sync/sync_limits.h"
#include "sync/sync_plan.h"

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
sync_fetch_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

/* Where a transfer's body goes: a file at an offset, or a bounded buffer. */
struct sink {
	CURL *h;
	const atomic_bool *cancelled;
	long want_status;   /* 200 for a whole body, 206 for a range */
	bool checked;       /* the status was looked at (first body bytes) */
	long status;
	int fd;             /* >= 0: a file */
	uint64_t off;       /* where the next byte goes in the file */
	uint64_t limit;     /* no byte may go at or beyond this offset (the manifest's size) */
	char *buf;          /* fd < 0: the buffer, limit bytes */
	uint64_t got;       /* bytes taken in this transfer */
	bool overflow;
	int io_err;
};

static size_t
sink_write(char *data, size_t size, size_t n, void *userdata)
{
	struct sink *s = userdata;
	size_t len = size * n;

	if (atomic_load(s->cancelled))
		return 0;
	if (!s->checked) {
		s->checked = true;
		(void)curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &s->status);
		/* Only the answer asked for may become bytes of the file: a 200 to a Range would
		 * put byte 0 at the resume offset. */
		if (s->status != s->want_status)
			return 0;
	}
	if (len > s->limit - s->off) {
		s->overflow = true;
		return 0;
	}
	if (s->fd >= 0) {
		size_t done = 0;

		while (done < len) {
			ssize_t w = pwrite(s->fd, data + done, len - done, (off_t)(s->off + done));

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				s->io_err = w < 0 ? errno : EIO;
				return 0;
			}
			done += (size_t)w;
		}
	} else {
		memcpy(s->buf + s->off, data, len);
	}
	s->off += len;
	s->got += len;
	return len;
}

/* libcurl calls this about once a second even while nothing arrives, so a cancelled round
 * (shutdown) stops within a second rather than at the stall timeout. */
static int
sink_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
    curl_off_t ulnow)
{
	struct sink *s = userdata;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return atomic_load(s->cancelled) ? 1 : 0;
}

/* GET url into s from offset from; the deadline is the file's. Returns 0 or a negative
 * errno with reterr saying what the peer did (refused, status, cut, stall). */
static int
get(const char *url, struct sink *s, uint64_t from, uint64_t deadline_ms, struct dl_err *reterr)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	CURLcode cc;
	CURL *h = curl_easy_init();
	int r = 0;

	if (!h)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	s->h = h;
	s->want_status = from ? 206 : 200;
	(void)curl_easy_setopt(h, CURLOPT_URL, url);
	(void)curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
	(void)curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for DNS */
	(void)curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	(void)curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
	(void)curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)SYNC_CONNECT_TIMEOUT_MS);
	(void)curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	(void)curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)SYNC_STALL_S);
	(void)curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)deadline_ms);
	(void)curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)(s->limit - from));
	(void)curl_easy_setopt(h, CURLOPT_USERAGENT, "diskless-bootsvc-sync");
	(void)curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	(void)curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_write);
	(void)curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
	(void)curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	(void)curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, sink_progress);
	(void)curl_easy_setopt(h, CURLOPT_XFERINFODATA, s);
	if (from)
		(void)curl_easy_setopt(h, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)from);
	cc = curl_easy_perform(h);
	if (!s->checked)
		(void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &s->status);
	if (atomic_load(s->cancelled))
		r = dl_err_set(reterr, -ECANCELED, "cancelled");
	else if (s->io_err)
		r = dl_err_set(reterr, -s->io_err, "writing the copy: %s", strerror(s->io_err));
	else if (s->overflow || cc == CURLE_FILESIZE_EXCEEDED)
		r = dl_err_set(reterr, -EFBIG, "sent more than the manifest's %llu bytes",
		    (unsigned long long)s->limit);
	else if (cc == CURLE_HTTP_RETURNED_ERROR)
		r = dl_err_set(reterr, s->status == 404 ? -ENOENT : -EPROTO, "answered %ld",
		    s->status);
	else if (cc == CURLE_WRITE_ERROR && s->status != s->want_status)
		r = dl_err_set(reterr, -EPROTO, "answered %ld, not %ld", s->status, s->want_status);
	else if (cc == CURLE_COULDNT_CONNECT)
		r = dl_err_set(reterr, -ECONNREFUSED, "refused: %s", errbuf);
	else if (cc == CURLE_OPERATION_TIMEDOUT)
		r = dl_err_set(reterr, -ETIMEDOUT, "stalled or too slow after %llu bytes: %s",
		    (unsigned long long)s->got, errbuf);
	else if (cc == CURLE_PARTIAL_FILE || cc == CURLE_GOT_NOTHING || cc == CURLE_RECV_ERROR)
		r = dl_err_set(reterr, -ECONNRESET, "cut after %llu bytes: %s",
		    (unsigned long long)s->got, errbuf[0] ? errbuf : curl_easy_strerror(cc));
	else if (cc != CURLE_OK)
		r = dl_err_set(reterr, -EIO, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
	else if (s->status != s->want_status)
		r = dl_err_set(reterr, -EPROTO, "answered %ld, not %ld", s->status, s->want_status);
	curl_easy_cleanup(h);
	return r;
}

static int
mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int
fsync_path(const char *path, int flags)
{
	_cleanup_close_ int fd = open(path, flags | O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) < 0)
		return -errno;
	return 0;
}

/* The round's working state. */
struct round {
	const struct sync_fetch_in *in;
	const atomic_bool *cancelled;
	struct sync_fetch_out *out;
	char parent[MAX_STORE_PATH], partial[MAX_STORE_PATH + 80];
	char *manifest_buf;     /* the fetched manifest's bytes (the id's preimage) */
	size_t manifest_len;
	struct manifest m;
	bool have_manifest;
	bool verified[MAX_MANIFEST_FILES];
	bool counted[MAX_MANIFEST_FILES]; /* its kept bytes are in out->kept */
	bool *t_verified, *t_counted;     /* the same per template (n_templates) */
};

/* A template path goes into a URL as it is: the characters a recipe's file names use. */
static bool
url_safe(const char *p)
{
	return p[strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	    "._-+~@=,/")] == '\0';
}

/* What the sync can fetch: files within the bound, template paths that go into a URL as
 * they are (GET /images/<id>/templates/<path>). */
static int
manifest_fits(const struct manifest *m, struct dl_err *reterr)
{
	for (size_t i = 0; i < m->n_files; i++)
		if (m->files[i].size > SYNC_MAX_FILE_SIZE)
			return dl_err_set(reterr, -EFBIG, "manifest: file '%s' of %llu bytes is "
			    "over the limit", m->files[i].role,
			    (unsigned long long)m->files[i].size);
	for (size_t i = 0; i < m->n_templates; i++)
		if (!url_safe(m->templates[i].path) || m->templates[i].size > SYNC_MAX_FILE_SIZE)
			return dl_err_set(reterr, -EOPNOTSUPP, "manifest: template '%s' cannot be "
			    "fetched (a path of [A-Za-z0-9._-+~@=,/] within the size bound only): "
			    "copy the version's directory by hand", m->templates[i].path);
	return 0;
}

/* The manifest from peer (once per round): its sha256 must be the id. */
static int
round_manifest(struct round *rd, const char *peer, struct dl_err *reterr)
{
	char path[MAX_STORE_PATH + 128], url[256], hex[SHA256_HEX_SIZE];
	uint8_t d[SHA256_DIGEST_SIZE];
	_cleanup_free_ char *buf = NULL;
	struct sink s = { .cancelled = rd->cancelled, .fd = -1, .limit = SYNC_MAX_MANIFEST };
	_cleanup_close_ int fd = -1;
	int r;

	if (rd->have_manifest)
		return 0;
	buf = malloc(SYNC_MAX_MANIFEST + 1);
	if (!buf)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	s.buf = buf;
	(void)snprintf(url, sizeof(url), "%s/images/%s/manifest", peer, rd->in->id);
	r = get(url, &s, 0, SYNC_FILE_FLOOR_MS, reterr);
	if (r < 0)
		return dl_err_prefix(reterr, "manifest"), r;
	sha256_buf(buf, s.got, d);
	sha256_to_hex(d, hex);
	if (strcmp(hex, rd->in->id) != 0)
		return dl_err_set(reterr, -EBADMSG, "manifest's sha256 is %s, not the id", hex);
	buf[s.got] = '\0';
	if ((r = manifest_parse(buf, s.got, &rd->m, reterr)) < 0)
		return dl_err_prefix(reterr, "manifest"), r;
	r = manifest_fits(&rd->m, reterr);
	if (r == 0 && rd->m.n_templates) {
		rd->t_verified = calloc(rd->m.n_templates, sizeof(bool));
		rd->t_counted = calloc(rd->m.n_templates, sizeof(bool));
		if (!rd->t_verified || !rd->t_counted)
			r = dl_err_set(reterr, -ENOMEM, "out of memory");
	}
	/* Kept beside the files: the bytes whose sha256 is the id. */
	(void)snprintf(path, sizeof(path), "%s/manifest.json", rd->partial);
	if (r == 0 && ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0644)) < 0 || write(fd, buf, s.got) != (ssize_t)s.got || fsync(fd) < 0))
		r = dl_err_set(reterr, -EIO, "writing '%s': %s", path, strerror(errno));
	if (r < 0) {
		/* The next peer's copy is fetched and judged afresh. */
		free(rd->t_verified);
		free(rd->t_counted);
		rd->t_verified = rd->t_counted = NULL;
		manifest_done(&rd->m);
		memset(&rd->m, 0, sizeof(rd->m));
		return r;
	}
	rd->have_manifest = true;
	rd->manifest_buf = TAKE_PTR(buf);
	rd->manifest_len = s.got;
	return 0;
}

/* A file of the version to fetch: a role's or a template's. */
struct item {
	const char *label;      /* for messages and logs: "rootfs", "template etc/motd" */
	const char *rel;        /* its path in the version directory */
	const char *url_part;   /* what follows /images/<id>/ in its URL */
	const char *sha256;
	uint64_t size;
	bool *verified, *counted;
};

static int
mkdir_parents(const char *path)
{
	char buf[PATH_MAX];
	char *slash;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	slash = strrchr(buf, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	return mkdir_p(buf, 0755);
}

/* One file from peer into the partial directory, resumed from what is kept. */
static int
round_file(struct round *rd, const struct item *it, const char *peer, struct dl_err *reterr)
{
	char path[MAX_STORE_PATH + 400], url[512], hex[SHA256_HEX_SIZE];
	uint8_t d[SHA256_DIGEST_SIZE];
	uint64_t have = 0, from = 0, size = 0;
	struct stat st;
	int r;

	(void)snprintf(path, sizeof(path), "%s/%s", rd->partial, it->rel);
	if ((r = mkdir_parents(path)) < 0)
		return dl_err_set(reterr, r, "making the directory of '%s': %s", path,
		    strerror(-r));
	for (;;) {
		_cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);

		if (fd < 0 || fstat(fd, &st) < 0)
			return dl_err_set(reterr, -errno, "'%s': %s", path, strerror(errno));
		have = (uint64_t)st.st_size;
		if (!*it->counted) {
			*it->counted = true;
			rd->out->kept += have <= it->size ? have : 0;
		}
		switch (sync_plan_file(have, it->size, *it->verified, &from)) {
		case SYNC_STEP_DONE:
			return 0;
		case SYNC_STEP_DISCARD:
			log_warning("event=sync_discard image=%.12s file=\"%s\" kept=%llu size=%llu "
			    "msg=\"copy longer than the manifest says, fetched again\"",
			    rd->in->id, it->label, (unsigned long long)have,
			    (unsigned long long)it->size);
			if (ftruncate(fd, 0) < 0)
				return dl_err_set(reterr, -errno, "'%s': %s", path, strerror(errno));
			rd->out->refetched += it->size;
			continue;
		case SYNC_STEP_FETCH: {
			struct sink s = { .cancelled = rd->cancelled, .fd = fd, .off = from,
				.limit = it->size };

			if (from)
				log_info("event=sync_resume image=%.12s role=%s peer=%s kept=%llu "
				    "fetch=%llu", rd->in->id, it->label, peer,
				    (unsigned long long)from, (unsigned long long)(it->size - from));
			(void)snprintf(url, sizeof(url), "%s/images/%s/%s", peer, rd->in->id,
			    it->url_part);
			r = get(url, &s, from, sync_plan_file_deadline_ms(it->size - from),
			    reterr);
			rd->out->bytes += s.got;
			if (r < 0)
				return dl_err_prefix(reterr, "%s", it->label), r;
			continue;
		}
		case SYNC_STEP_VERIFY:
			if (lseek(fd, 0, SEEK_SET) < 0 || (r = sha256_fd(fd, d, &size)) < 0)
				return dl_err_set(reterr, -EIO, "hashing '%s': %s", path,
				    strerror(errno));
			sha256_to_hex(d, hex);
			if (sync_plan_verdict(it->sha256, hex, it->size, size) !=
			    SYNC_VERDICT_KEEP) {
				/* Which byte is wrong is unknown: none of it is kept. */
				(void)unlink(path);
				rd->out->refetched += it->size;
				return dl_err_set(reterr, -EBADMSG, "%s: sha256 %s is not the "
				    "manifest's %s: copy refused", it->label, hex, it->sha256);
			}
			if (fsync(fd) < 0)
				return dl_err_set(reterr, -errno, "fsync '%s': %s", path,
				    strerror(errno));
			*it->verified = true;
			return 0;
		case _SYNC_STEP_MAX:
			break;
		}
		return dl_err_set(reterr, -EINVAL, "unknown step");
	}
}

/* Every file of the manifest from peer: the kind's roles, then the templates. */
static int
round_files(struct round *rd, const char *peer, struct dl_err *reterr)
{
	int r;

	for (size_t i = 0; i < rd->m.n_files; i++) {
		const struct manifest_file *mf = &rd->m.files[i];
		const char *name = kind_role(rd->m.kind, mf->role)->file;
		const struct item it = { .label = mf->role, .rel = name, .url_part = mf->role,
			.sha256 = mf->sha256, .size = mf->size, .verified = &rd->verified[i],
			.counted = &rd->counted[i] };

		if ((r = round_file(rd, &it, peer, reterr)) < 0)
			return r;
	}
	for (size_t i = 0; i < rd->m.n_templates; i++) {
		const struct manifest_template *mt = &rd->m.templates[i];
		char label[MAX_TEMPLATE_PATH + 16], rel[MAX_TEMPLATE_PATH + 16];
		char part[MAX_TEMPLATE_PATH + 16];
		struct item it = { .label = label, .rel = rel, .url_part = part,
			.sha256 = mt->sha256, .size = mt->size, .verified = &rd->t_verified[i],
			.counted = &rd->t_counted[i] };

		(void)snprintf(label, sizeof(label), "template %s", mt->path);
		(void)snprintf(rel, sizeof(rel), "templates/%s", mt->path);
		(void)snprintf(part, sizeof(part), "templates/%s", mt->path);
		if ((r = round_file(rd, &it, peer, reterr)) < 0)
			return r;
	}
	return 0;
}

void
sync_fetch_run(const struct sync_fetch_in *in, const atomic_bool *cancelled,
    struct sync_fetch_out *out)
{
	struct round rd = { .in = in, .cancelled = cancelled, .out = out };
	const char *slash;
	uint64_t t0 = now_ms();
	uint32_t failed = 0;
	struct stat st;
	int peer = -1, r;

	memset(out, 0, sizeof(*out));
	slash = strrchr(in->final_dir, '/');
	if (in->final_dir[0] != '/' || !slash || strcmp(slash + 1, in->id) != 0) {
		out->r = dl_err_set(&out->err, -EINVAL, "path '%s' is not <dir>/<id>",
		    in->final_dir);
		return;
	}
	(void)snprintf(rd.parent, sizeof(rd.parent), "%.*s",
	    (int)(slash == in->final_dir ? 1 : slash - in->final_dir), in->final_dir);
	(void)snprintf(rd.partial, sizeof(rd.partial), "%s/.partial/%s", rd.parent, in->id);
	if (stat(in->final_dir, &st) == 0) {
		out->r = dl_err_set(&out->err, -EEXIST, "'%s' exists but is not a whole version: "
		    "move it away to sync it", in->final_dir);
		return;
	}
	if ((r = mkdir_p(rd.partial, 0755)) < 0) {
		out->r = dl_err_set(&out->err, r, "making '%s': %s", rd.partial, strerror(-r));
		return;
	}
	r = -ENOENT;
	(void)dl_err_set(&out->err, -ENOENT, "no peers configured");
	while ((peer = sync_plan_next_peer(peer, in->n_peers, failed)) >= 0) {
		const char *url = in->peers[peer];
		struct dl_err e = { 0 };
		char safe[256];

		r = round_manifest(&rd, url, &e);
		if (r == 0)
			r = round_files(&rd, url, &e);
		if (r == 0) {
			(void)snprintf(out->peer, sizeof(out->peer), "%s", url);
			break;
		}
		failed |= UINT32_C(1) << peer;
		log_warning("event=sync_peer_failed image=%.12s peer=%s err=%s msg=\"%s%s\"",
		    in->id, url, dl_errno_name(r), log_safe(safe, sizeof(safe), e.msg),
		    r == -ECANCELED ? "" : ", trying the next peer");
		(void)dl_err_set(&out->err, r, "peer %s: %s", url, e.msg);
		if (r == -ECANCELED)
			break;
	}
	out->files = (unsigned)rd.m.n_files;
	if (r == 0) {
		/* Every file verified and fsynced: the directory goes into place in one rename,
		 * and only then is the version present (sync.c checks the final path). */
		if ((r = fsync_path(rd.partial, O_DIRECTORY)) < 0 ||
		    (rename(rd.partial, in->final_dir) < 0 && (r = -errno) < 0) ||
		    (r = fsync_path(rd.parent, O_DIRECTORY)) < 0)
			(void)dl_err_set(&out->err, r, "putting '%s' into place: %s",
			    in->final_dir, strerror(-r));
	}
	out->r = r;
	out->ms = now_ms() - t0;
	free(rd.manifest_buf);
	free(rd.t_verified);
	free(rd.t_counted);
	if (rd.have_manifest)
		manifest_done(&rd.m);
}
