/* SPDX-License-Identifier: MIT */
/* What the tests of the control verbs share: a struct bootsvc on a real store in a temp
 * dir (no loop, no dnsmasq), one request line through control_handle_line with its answer
 * parsed, the checks of an ok or error answer that name the caller's line, and a valid
 * image version directory to add. Include after <cmocka.h>. */
#pragma once

#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "../../bootsvc/control/control.h"
#include "log.h"
#include "manifest.h"
#include "store_dir.h"

struct control_fixture {
	struct store_dir sd; /* bs.store */
	struct bootsvc bs;
};

/* A default config with node_ip_range 10.0.0.10-19 and the store open; log at level.
 * 0, or -1. */
static inline int
control_fixture_open(struct control_fixture *f, int level)
{
	struct dl_err e = { 0 };

	config_init(&f->bs.cfg);
	if (config_set(&f->bs.cfg, "node_ip_range", "10.0.0.10,10.0.0.19", &e) < 0 ||
	    store_dir_open(&f->sd) < 0)
		return -1;
	f->bs.store = f->sd.s;
	log_set_level(level);
	return 0;
}

static inline void
control_fixture_close(struct control_fixture *f)
{
	store_dir_remove(&f->sd);
}

/* cmocka fixtures over a heap struct control_fixture (LOG_ERR), for tests that need no
 * more state. */
static inline int
control_setup(void **state)
{
	struct control_fixture *f = calloc(1, sizeof(*f));

	if (!f || control_fixture_open(f, LOG_ERR) < 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static inline int
control_teardown(void **state)
{
	control_fixture_close(*state);
	free(*state);
	return 0;
}

/* Send one line; the answer must be exactly one '\n'-terminated JSON object. */
static inline json_t *
control_call_at(const char *file, int line, struct bootsvc *bs, const char *req)
{
	char *out = control_handle_line(bs, req, strlen(req));
	json_error_t jerr;
	json_t *o;
	size_t n;

	_assert_true(out != NULL, "a response", file, line);
	n = strlen(out);
	_assert_true(n > 0 && out[n - 1] == '\n' && !memchr(out, '\n', n - 1),
	    "one line, newline-terminated", file, line);
	o = json_loadb(out, n - 1, 0, &jerr);
	if (!o)
		print_error("%s:%d: response is not JSON: %s\n", file, line, out);
	_assert_true(o != NULL && json_is_object(o), "response is an object", file, line);
	free(out);
	return o;
}

/* Expect ok:true; returns the result (borrowed from *resp, which the caller frees). */
static inline json_t *
check_ok_at(const char *file, int line, struct bootsvc *bs, const char *req, json_t **resp)
{
	json_t *o = control_call_at(file, line, bs, req);

	if (!json_is_true(json_object_get(o, "ok"))) {
		char *s = json_dumps(o, JSON_COMPACT);
		print_error("%s:%d: %s\n -> %s\n", file, line, req, s);
		free(s);
	}
	_assert_true(json_is_true(json_object_get(o, "ok")), "ok", file, line);
	_assert_true(json_is_object(json_object_get(o, "result")), "result", file, line);
	*resp = o;
	return json_object_get(o, "result");
}

/* Expect ok:false with code and a message containing msg (and id, when given). */
static inline void
check_err_at(const char *file, int line, struct bootsvc *bs, const char *req, const char *code,
    const char *msg, const char *id)
{
	json_t *o = control_call_at(file, line, bs, req);
	json_t *err = json_object_get(o, "error");
	const char *c = json_string_value(json_object_get(err, "code"));
	const char *m = json_string_value(json_object_get(err, "message"));
	char *idtext = json_dumps(json_object_get(o, "id"), JSON_ENCODE_ANY | JSON_COMPACT);

	if (!json_is_false(json_object_get(o, "ok")) || !c || strcmp(c, code) != 0 || !m ||
	    !strstr(m, msg) || (id && (!idtext || strcmp(idtext, id) != 0))) {
		char *s = json_dumps(o, JSON_COMPACT);
		print_error("%s:%d: %s\n -> %s\n want %s '%s' id %s\n", file, line, req, s, code,
		    msg, id ? id : "-");
		free(s);
	}
	_assert_true(json_is_false(json_object_get(o, "ok")), "ok false", file, line);
	_assert_true(c && strcmp(c, code) == 0, "code", file, line);
	_assert_true(m && strstr(m, msg) != NULL, "message", file, line);
	if (id)
		_assert_string_equal(idtext, id, file, line);
	free(idtext);
	json_decref(o);
}

#define control_call(bs, req) control_call_at(__FILE__, __LINE__, (bs), (req))
#define check_ok(bs, req, resp) check_ok_at(__FILE__, __LINE__, (bs), (req), (resp))
#define check_err(bs, req, code, msg) check_err_at(__FILE__, __LINE__, (bs), (req), (code), (msg), NULL)
#define check_err_id(bs, req, code, msg, id) \
	check_err_at(__FILE__, __LINE__, (bs), (req), (code), (msg), (id))

/* Make a valid linux image version directory named name under dir, its three files of
 * 1, 2 and 3 bytes; its id into id and its path into path. */
static inline void
control_make_image(const char *dir, const char *name, char id[static SHA256_HEX_SIZE],
    char *path, size_t path_size)
{
	static const char *const files[] = { "vmlinuz", "initrd", "rootfs.squashfs" };
	char m[2048], tmp[256], p[512];
	struct manifest man = { 0 };
	struct dl_err e = { 0 };
	FILE *fp;

	snprintf(m, sizeof(m),
	    "{\"format\":1,\"name\":\"%s\",\"kind\":\"linux\",\"built\":\"2026-11-25T03:00:00Z\","
	    "\"recipe_sha256\":\"%064d\",\"kernel_version\":\"6.1.0-56-amd64\","
	    "\"kernel_banner\":\"6.1.0-56-amd64 (x) #1 SMP\",\"cmdline\":\"console=ttyS0\","
	    "\"files\":{\"kernel\":{\"path\":\"vmlinuz\",\"sha256\":\"%064d\",\"size\":1},"
	    "\"initrd\":{\"path\":\"initrd\",\"sha256\":\"%064d\",\"size\":2},"
	    "\"rootfs\":{\"path\":\"rootfs.squashfs\",\"sha256\":\"%064d\",\"size\":3}}}",
	    name, 1, 2, 3, 4);
	assert_int_equal(manifest_parse(m, strlen(m), &man, &e), 0);
	assert_int_equal(manifest_id(&man, id, &e), 0);
	manifest_done(&man);
	snprintf(tmp, sizeof(tmp), "%s/%s", dir, id);
	assert_int_equal(mkdir(tmp, 0755), 0);
	snprintf(p, sizeof(p), "%s/manifest.json", tmp);
	fp = fopen(p, "w");
	assert_non_null(fp);
	fputs(m, fp);
	fclose(fp);
	for (int k = 0; k < 3; k++) {
		snprintf(p, sizeof(p), "%s/%s", tmp, files[k]);
		fp = fopen(p, "w");
		assert_non_null(fp);
		fwrite("xyz", 1, (size_t)k + 1, fp);
		fclose(fp);
	}
	snprintf(path, path_size, "%s", tmp);
}
