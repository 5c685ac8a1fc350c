/* SPDX-License-Identifier: MIT */
/* bootsvc/boot/overlay.c for a VM host (issue 12, docs/security.md "Hypervisor TLS"): the
 * overlay of a kvm or xen node holds a key and certificate made for that boot at
 * libvirt's default paths, with their modes; the certificate verifies against the CA
 * with GnuTLS for the node's name and fixed address, as a server and a client, and the key
 * is its key; two renders give two keys; without a fixed address the certificate names
 * the node only; a linux node's overlay has none of it; without a CA the overlay fails
 * saying why and what to run. The archive is parsed back as newc. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "bootsvc.h"
#include "boot/overlay.h"
#include "macro.h"
#include "pki.h"
#include "readfile.h"
#include "store/store.h"
#include "tls_pki.h"
#include "tmpdir.h"
#include "tls_check.h"

struct entry {
	char name[256];
	unsigned mode, size;
	const char *data;
};

static unsigned
hex8(const char *p)
{
	char s[9];

	memcpy(s, p, 8);
	s[8] = '\0';
	return (unsigned)strtoul(s, NULL, 16);
}

/* The archive's members, the trailer excluded; the count. */
static size_t
parse(const char *data, size_t len, struct entry *ret, size_t max)
{
	size_t off = 0, n = 0;

	for (;;) {
		struct entry e = { 0 };
		unsigned namesize;

		assert_true(off + 110 <= len);
		assert_memory_equal(data + off, "070701", 6);
		e.mode = hex8(data + off + 14);
		e.size = hex8(data + off + 54);
		namesize = hex8(data + off + 94);
		off += 110;
		assert_true(namesize >= 1 && namesize <= sizeof(e.name) && off + namesize <= len);
		memcpy(e.name, data + off, namesize);
		off = (off + namesize + 3) & ~(size_t)3;
		assert_true(off + e.size <= len);
		e.data = data + off;
		off = (off + e.size + 3) & ~(size_t)3;
		if (strcmp(e.name, "TRAILER!!!") == 0)
			break;
		assert_true(n < max);
		ret[n++] = e;
	}
	assert_int_equal(off, len);
	return n;
}

static const struct entry *
find(const struct entry *e, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(e[i].name, name) == 0)
			return &e[i];
	return NULL;
}

struct fixture {
	struct bootsvc bs;
	char dir[160];
	char *ca;
	size_t ca_len;
};

static struct fixture f;

static void
path_in(char *out, size_t size, const char *rel)
{
	(void)snprintf(out, size, "%s/%s", tmpdir, rel);
}

static int
setup(void **state)
{
	struct dl_err e = { 0 };
	char p[256];

	if (tmpdir_setup(state) < 0)
		return -1;
	memset(&f, 0, sizeof(f));
	config_init(&f.bs.cfg);
	/* every path in the temp dir */
	path_in(p, sizeof(p), "state");
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(config_set(&f.bs.cfg, "state_dir", p, &e), 0);
	path_in(p, sizeof(p), "tls");
	assert_int_equal(config_set(&f.bs.cfg, "tls_ca_dir", p, &e), 0);
	assert_int_equal(config_resolve(&f.bs.cfg, &e), 0);
	strcpy(f.bs.cfg.boot_url, "http://10.77.0.1:8080");
	if (tls_pki_init(f.bs.cfg.tls_ca_dir, 30, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(pki_load(&f.bs, &e), 0);
	assert_true(pki_has_ca(&f.bs));
	path_in(p, sizeof(p), "tls/ca.crt");
	assert_int_equal(read_file(p, MAX_TLS_PEM, 0, &f.ca, &f.ca_len, &e), 0);
	path_in(p, sizeof(p), "state/diskless.db");
	if (store_open(p, &f.bs.store, &e) < 0)
		fail_msg("%s", e.msg);
	return 0;
}

static int
teardown(void **state)
{
	char p[256];

	f.bs.store = store_close(f.bs.store);
	pki_done(&f.bs.pki);
	overlay_hosts_done(&f.bs.hosts);
	free(f.ca);
	path_in(p, sizeof(p), "tls");
	rm_rf(p);
	path_in(p, sizeof(p), "state");
	rm_rf(p);
	return tmpdir_teardown(state);
}

static struct image_rec
image(const char *kind)
{
	struct image_rec img = { .id = "0123abcd" };

	(void)snprintf(img.name, sizeof(img.name), "%s-img", kind);
	(void)snprintf(img.kind, sizeof(img.kind), "%s", kind);
	path_in(img.path, sizeof(img.path), "no-such-version"); /* no templates */
	return img;
}

static const char *const pki_files[] = {
	OVERLAY_PKI_CACERT, OVERLAY_PKI_SERVERCERT, OVERLAY_PKI_SERVERKEY,
	OVERLAY_PKI_CLIENTCERT, OVERLAY_PKI_CLIENTKEY,
};

/* The five files of a VM host's overlay, checked; *ret_key gets a copy of its key. */
static void
check_vmhost(const char *buf, size_t len, const struct node_rec *n, char **ret_key)
{
	struct entry e[64];
	size_t n_e = parse(buf, len, e, ELEMENTSOF(e));
	const struct entry *ca, *scrt, *skey, *ccrt, *ckey, *priv;

	ca = find(e, n_e, OVERLAY_PKI_CACERT);
	scrt = find(e, n_e, OVERLAY_PKI_SERVERCERT);
	skey = find(e, n_e, OVERLAY_PKI_SERVERKEY);
	ccrt = find(e, n_e, OVERLAY_PKI_CLIENTCERT);
	ckey = find(e, n_e, OVERLAY_PKI_CLIENTKEY);
	priv = find(e, n_e, "etc/pki/libvirt/private");
	assert_non_null(ca);
	assert_non_null(scrt);
	assert_non_null(skey);
	assert_non_null(ccrt);
	assert_non_null(ckey);
	assert_non_null(priv);
	assert_int_equal(ca->mode, S_IFREG | 0644);
	assert_int_equal(scrt->mode, S_IFREG | 0644);
	assert_int_equal(skey->mode, S_IFREG | 0600);
	assert_int_equal(ccrt->mode, S_IFREG | 0644);
	assert_int_equal(ckey->mode, S_IFREG | 0600);
	assert_int_equal(priv->mode, S_IFDIR | 0700);
	/* the CA as the admin made it */
	assert_int_equal(ca->size, f.ca_len);
	assert_memory_equal(ca->data, f.ca, f.ca_len);
	/* one key and certificate for both of libvirtd's roles */
	assert_int_equal(scrt->size, ccrt->size);
	assert_memory_equal(scrt->data, ccrt->data, scrt->size);
	assert_int_equal(skey->size, ckey->size);
	assert_memory_equal(skey->data, ckey->data, skey->size);
	tls_check(scrt->data, scrt->size, f.ca, f.ca_len, (&(struct tls_want){ .cn = n->name,
	    .ou = "diskless-vmhost", .dns = n->name, .ip = n->ip[0] ? n->ip : NULL,
	    .server = true, .client = true, .days = OVERLAY_VMHOST_DAYS }));
	assert_true(tls_check_key_matches(scrt->data, scrt->size, skey->data, skey->size));
	*ret_key = strndup(skey->data, skey->size);
	assert_non_null(*ret_key);
}

static void
test_kvm_node(void **state)
{
	struct node_rec n = { .name = "n1", .ip = "10.77.0.11", .mac = "52:54:00:00:00:01",
		.token = "t0k" };
	struct image_rec img = image("kvm");
	struct dl_err e = { 0 };
	char *buf = NULL, *key1 = NULL, *key2 = NULL;
	size_t len = 0;

	(void)state;
	if (overlay_build(&f.bs, &n, &img, &buf, &len, &e) < 0)
		fail_msg("%s", e.msg);
	check_vmhost(buf, len, &n, &key1);
	free(buf);
	/* the next boot: another key */
	buf = NULL;
	assert_int_equal(overlay_build(&f.bs, &n, &img, &buf, &len, &e), 0);
	check_vmhost(buf, len, &n, &key2);
	assert_true(strcmp(key1, key2) != 0);
	free(buf);
	free(key1);
	free(key2);
}

/* prepare and render apart, as api_node.c runs them: the CA key the job copied is wiped
 * and gone after overlay_input_done. */
static void
test_xen_node_async(void **state)
{
	struct node_rec n = { .name = "xen-07", .ip = "10.77.0.17", .token = "t0k" };
	struct image_rec img = image("xen");
	struct overlay_input in;
	struct dl_err e = { 0 };
	char *buf = NULL, *key = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(overlay_prepare(&f.bs, &n, &img, &in, &e), 0);
	assert_true(in.vm_host);
	assert_non_null(in.ca_key);
	assert_true(in.ca_key != f.bs.pki.key); /* a copy, not the loop's */
	if (overlay_render(&in, &buf, &len, &e) < 0)
		fail_msg("%s", e.msg);
	overlay_input_done(&in);
	assert_null(in.ca_key);
	assert_null(in.ca_crt);
	check_vmhost(buf, len, &n, &key);
	free(buf);
	free(key);
}

/* A node without a fixed address: its name only, no IP SAN. */
static void
test_no_address(void **state)
{
	struct node_rec n = { .name = "n2", .token = "t0k" };
	struct image_rec img = image("kvm");
	struct dl_err e = { 0 };
	char *buf = NULL, *key = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(overlay_build(&f.bs, &n, &img, &buf, &len, &e), 0);
	check_vmhost(buf, len, &n, &key);
	free(buf);
	free(key);
}

/* A linux node: none of it, and prepare copies no CA. */
static void
test_linux_node(void **state)
{
	struct node_rec n = { .name = "n3", .ip = "10.77.0.13", .token = "t0k" };
	struct image_rec img = image("linux");
	struct overlay_input in;
	struct entry e[64];
	struct dl_err err = { 0 };
	char *buf = NULL;
	size_t len = 0, n_e;

	(void)state;
	assert_int_equal(overlay_build(&f.bs, &n, &img, &buf, &len, &err), 0);
	n_e = parse(buf, len, e, ELEMENTSOF(e));
	assert_non_null(find(e, n_e, "etc/hostname"));
	for (size_t i = 0; i < ELEMENTSOF(pki_files); i++)
		assert_null(find(e, n_e, pki_files[i]));
	for (size_t i = 0; i < n_e; i++)
		assert_true(strncmp(e[i].name, "etc/pki", 7) != 0);
	free(buf);
	assert_int_equal(overlay_prepare(&f.bs, &n, &img, &in, &err), 0);
	assert_false(in.vm_host);
	assert_null(in.ca_key);
	overlay_input_done(&in);
}

/* No CA: a VM host's overlay fails with the reason and what to run; a linux node's is
 * still served. */
static void
test_no_ca(void **state)
{
	struct bootsvc bs = f.bs;
	struct node_rec n = { .name = "n1", .ip = "10.77.0.11", .token = "t0k" };
	struct image_rec kvm = image("kvm"), lnx = image("linux");
	struct overlay_input in;
	struct dl_err e = { 0 };
	char *buf = NULL, p[256];
	size_t len = 0;

	(void)state;
	memset(&bs.pki, 0, sizeof(bs.pki));
	path_in(p, sizeof(p), "no-ca-here");
	assert_int_equal(config_set(&bs.cfg, "tls_ca_dir", p, &e), 0);
	path_in(p, sizeof(p), "state/lv-no-ca");
	assert_int_equal(config_set(&bs.cfg, "libvirt_pki_dir", p, &e), 0);
	assert_int_equal(pki_load(&bs, &e), 0);
	assert_false(pki_has_ca(&bs));

	assert_int_equal(overlay_build(&bs, &n, &kvm, &buf, &len, &e), -ENOKEY);
	assert_null(buf);
	assert_non_null(strstr(e.msg, "node 'n1' boots 'kvm-img', a VM host image (kind kvm), "
	    "and cannot be trusted: no CA for VM hosts' TLS"));
	assert_non_null(strstr(e.msg, "nodectl tls init --dir"));
	dl_err_clear(&e);
	assert_int_equal(overlay_prepare(&bs, &n, &kvm, &in, &e), -ENOKEY);
	assert_null(in.ca_key);
	assert_null(in.hosts); /* nothing left to free */

	/* the render refuses too, should an input without a CA reach it */
	dl_err_clear(&e);
	assert_int_equal(overlay_prepare(&f.bs, &n, &kvm, &in, &e), 0);
	free(in.ca_key);
	free(in.ca_crt);
	in.ca_key = in.ca_crt = NULL;
	assert_int_equal(overlay_render(&in, &buf, &len, &e), -ENOKEY);
	assert_non_null(strstr(e.msg, "has no CA to issue its libvirt certificate"));
	overlay_input_done(&in);

	dl_err_clear(&e);
	assert_int_equal(overlay_build(&bs, &n, &lnx, &buf, &len, &e), 0);
	free(buf);
	pki_done(&bs.pki);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kvm_node),
		cmocka_unit_test(test_xen_node_async),
		cmocka_unit_test(test_no_address),
		cmocka_unit_test(test_linux_node),
		cmocka_unit_test(test_no_ca),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
