/* SPDX-License-Identifier: MIT */
/* bootsvc's CA for VM hosts and its libvirt client certificate (pki.h). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bootsvc.h"
#include "log.h"
#include "macro.h"
#include "pki.h"
#include "privsep/privsep.h"
#include "readfile.h"
#include "tls_pki.h"

void
pki_done(struct pki *p)
{
	if (p->key)
		explicit_bzero(p->key, p->key_len);
	free(p->key);
	free(p->crt);
	p->key = p->crt = NULL;
	p->key_len = p->crt_len = 0;
}

bool
pki_has_ca(const struct bootsvc *bs)
{
	return bs->pki.crt && bs->pki.key;
}

/* One CA file read by this process (started unprivileged: the files are its user's or
 * root's and readable to it). ca.key must give group and others nothing. */
static int
read_own(const char *dir, const char *name, char **ret, size_t *ret_len,
    struct dl_err *reterr)
{
	_cleanup_close_ int fd = -1;
	char path[MAX_CONF_PATH + 16];
	struct stat st;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return dl_err_set(reterr, negative_errno(), "'%s': %s%s", path, strerror(errno),
		    errno == ELOOP ? " (a symlink)" : "");
	if (fstat(fd, &st) < 0)
		return dl_err_set(reterr, negative_errno(), "'%s': %s", path, strerror(errno));
	if (streq(name, "ca.key") && (st.st_mode & 077))
		return dl_err_set(reterr, -EPERM, "'%s': mode %04o gives group or others "
		    "access (chmod 0600)", path, (unsigned)(st.st_mode & 07777));
	return read_file_fd(fd, path, MAX_TLS_PEM, READ_FILE_REGULAR, ret, ret_len, reterr);
}

static int
read_ca_file(struct bootsvc *bs, const char *name, char **ret, size_t *ret_len,
    struct dl_err *reterr)
{
	if (bs->privsep)
		return privsep_read_tls_ca(bs->privsep, name, ret, ret_len, reterr);
	return read_own(bs->cfg.tls_ca_dir, name, ret, ret_len, reterr);
}

/* Write data to dir/name through dir/.name.tmp, then rename: libvirt's connections on
 * other threads read either the old file or the new one, never half of one. */
static int
write_atomic(int dfd, const char *dir, const char *name, const char *data, size_t len,
    mode_t mode, struct dl_err *reterr)
{
	char tmp[64];
	size_t off = 0;
	int fd, r;

	(void)snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	(void)unlinkat(dfd, tmp, 0); /* a leftover of a crash: ours to replace */
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return dl_err_set(reterr, negative_errno(), "'%s/%s': %s", dir, tmp,
		    strerror(errno));
	(void)fchmod(fd, mode); /* whatever the umask */
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			goto fail;
		off += (size_t)w;
	}
	if (fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (renameat(dfd, tmp, dfd, name) < 0)
		goto fail;
	return 0;
fail:
	r = negative_errno();
	if (fd >= 0)
		close(fd);
	(void)unlinkat(dfd, tmp, 0);
	return dl_err_set(reterr, r, "writing '%s/%s': %s", dir, name, strerror(-r));
}

/* dir made 0700 if missing; an existing one must be a directory (not a symlink) and is
 * set to 0700. The fd of it, or -errno. */
static int
open_pki_dir(const char *dir, struct dl_err *reterr)
{
	struct stat st;
	int dfd;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return dl_err_set(reterr, negative_errno(), "libvirt_pki_dir '%s': %s", dir,
		    strerror(errno));
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return dl_err_set(reterr, negative_errno(), "libvirt_pki_dir '%s': %s", dir,
		    strerror(errno));
	if (fstat(dfd, &st) < 0) {
		int r = negative_errno();

		close(dfd);
		return dl_err_set(reterr, r, "libvirt_pki_dir '%s': %s", dir, strerror(-r));
	}
	/* Not another user's: it would decide who may read or replace our key. */
	if (st.st_uid != geteuid()) {
		close(dfd);
		return dl_err_set(reterr, -EPERM, "libvirt_pki_dir '%s': owned by uid %u, must "
		    "be bootsvc's own (uid %u)", dir, (unsigned)st.st_uid, (unsigned)geteuid());
	}
	if (fchmod(dfd, 0700) < 0) {
		int r = negative_errno();

		close(dfd);
		return dl_err_set(reterr, r, "libvirt_pki_dir '%s': chmod 0700: %s", dir,
		    strerror(-r));
	}
	return dfd;
}

int
pki_write_client(const char *dir, const char *crt, size_t crt_len, const char *key,
    size_t key_len, struct dl_err *reterr)
{
	struct tls_issue_req req = { .cn = PKI_CLIENT_CN, .ou = PKI_CLIENT_OU,
		.purposes = TLS_PURPOSE_CLIENT, .days = PKI_CLIENT_DAYS };
	struct tls_issued out = { 0 };
	struct tls_ca *ca = NULL;
	_cleanup_close_ int dfd = -1;
	int r;

	r = tls_ca_new(crt, crt_len, key, key_len, &ca, reterr);
	if (r < 0)
		return r;
	r = tls_ca_issue(ca, &req, &out, reterr);
	ca = tls_ca_free(ca);
	if (r < 0)
		return r;
	dfd = open_pki_dir(dir, reterr);
	if (dfd < 0) {
		r = dfd;
		goto out;
	}
	/* The key first: a client certificate never sits beside another key. */
	if ((r = write_atomic(dfd, dir, PKI_CLIENTKEY, out.key, out.key_len, 0600, reterr)) < 0 ||
	    (r = write_atomic(dfd, dir, PKI_CLIENTCERT, out.crt, out.crt_len, 0644, reterr)) < 0 ||
	    (r = write_atomic(dfd, dir, PKI_CACERT, crt, crt_len, 0644, reterr)) < 0)
		goto out;
out:
	tls_issued_done(&out);
	return r;
}

/* No CA: the client files go too, so nothing connects with a certificate of a CA that is
 * no longer ours. */
static void
remove_client(const char *dir)
{
	static const char *const files[] = { PKI_CLIENTKEY, PKI_CLIENTCERT, PKI_CACERT };
	char path[MAX_CONF_PATH + 32];

	for (size_t i = 0; i < ELEMENTSOF(files); i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (unlink(path) < 0 && errno != ENOENT)
			log_warning("event=tls_ca file=%s msg=\"cannot remove: %s, ignoring\"", path,
			    strerror(errno));
	}
}

int
pki_load(struct bootsvc *bs, struct dl_err *reterr)
{
	struct pki *p = &bs->pki, n = { 0 };
	struct dl_err e = { 0 };
	struct tls_ca *ca = NULL;
	bool had = pki_has_ca(bs), first = !p->loaded;
	int r;

	if ((r = read_ca_file(bs, "ca.crt", &n.crt, &n.crt_len, &e)) < 0 ||
	    (r = read_ca_file(bs, "ca.key", &n.key, &n.key_len, &e)) < 0 ||
	    (r = tls_ca_new(n.crt, n.crt_len, n.key, n.key_len, &ca, &e)) < 0) {
		pki_done(&n);
		pki_done(p);
		p->loaded = true;
		(void)snprintf(p->why, sizeof(p->why), "no CA for VM hosts' TLS in tls_ca_dir "
		    "'%.96s': %.200s (make one with 'nodectl tls init --dir %.96s', then SIGHUP "
		    "bootsvc)",
		    bs->cfg.tls_ca_dir, e.msg, bs->cfg.tls_ca_dir);
		if (first || had)
			log_warning("event=tls_ca msg=\"VM hosts cannot be trusted: %s\"", p->why);
		remove_client(bs->cfg.libvirt_pki_dir);
		return 0;
	}
	tls_ca_free(ca);
	pki_done(p);
	n.loaded = true;
	*p = n;
	if (first || !had)
		log_notice("event=tls_ca dir=%s msg=\"CA loaded: VM hosts get certificates it "
			   "signs\"", bs->cfg.tls_ca_dir);
	r = pki_write_client(bs->cfg.libvirt_pki_dir, p->crt, p->crt_len, p->key, p->key_len,
	    reterr);
	if (r == 0)
		log_info("event=tls_client dir=%s cn=%s days=%d msg=\"libvirt client "
			 "certificate written\"", bs->cfg.libvirt_pki_dir, PKI_CLIENT_CN,
		    PKI_CLIENT_DAYS);
	return r;
}
