/* SPDX-License-Identifier: MIT */
/* The Redfish transport (redfish.h): one libcurl easy handle per job, kept for its
 * requests (one TLS handshake), every request bounded by the target's timeout. */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>

#include "bmc/redfish.h"
#include "bmc/redfish_trust.h"
#include "log.h"

/* The service root's path (DSP0266 §6.5): fixed for every Redfish service. */
#define REDFISH_ROOT "/redfish/v1"
/* As power_ipmi.c: below this a TLS handshake on a busy host does not finish. */
#define MIN_TIMEOUT_MS 100
/* A target without a timeout (powerctl without --timeout): IPMI's 20 s default. */
#define DEFAULT_TIMEOUT_MS 20000

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
curl_init_once(void)
{
	/* libcurl 7.88 initialises itself thread-safely too; this keeps older ones right */
	(void)curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t
body_write(char *data, size_t size, size_t n, void *userdata)
{
	struct redfish *rf = userdata;
	size_t len = size * n;
	char *p;

	if (len > REDFISH_MAX_BODY - rf->len)
		return 0; /* CURLE_WRITE_ERROR: too big, reported below */
	p = realloc(rf->body, rf->len + len + 1);
	if (!p)
		return 0;
	memcpy(p + rf->len, data, len);
	rf->len += len;
	p[rf->len] = '\0';
	rf->body = p;
	return len;
}

/* libcurl's verdict as power.h's errnos, with what a person needs to know in reterr. */
static int
curl_fail(struct redfish *rf, CURLcode cc, const char *what, const char *errbuf,
    struct dl_err *reterr)
{
	const char *host = rf->t->host;
	unsigned ms = rf->t->timeout_ms ? rf->t->timeout_ms : DEFAULT_TIMEOUT_MS;

	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		return dl_err_set(reterr, -ETIMEDOUT, "BMC '%s': %s: no answer within %u ms", host,
		    what, ms);
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return dl_err_set(reterr, -ETIMEDOUT, "BMC '%s': %s: unreachable (%s)", host, what,
		    errbuf[0] ? errbuf : curl_easy_strerror(cc));
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return dl_err_set(reterr, -EKEYREJECTED,
		    "BMC '%s': %s: TLS: the certificate's public key does not match the pin", host,
		    what);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
		return dl_err_set(reterr, -EKEYREJECTED, "BMC '%s': %s: TLS: %s", host, what,
		    errbuf[0] ? errbuf : curl_easy_strerror(cc));
	case CURLE_WRITE_ERROR:
		return dl_err_set(reterr, -EBADMSG, "BMC '%s': %s: answer larger than %d bytes",
		    host, what, REDFISH_MAX_BODY);
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	default:
		return dl_err_set(reterr, -EIO, "BMC '%s': %s: %s", host, what,
		    errbuf[0] ? errbuf : curl_easy_strerror(cc));
	}
}

/* A pinned key is the BMC's identity: BMC certificates are self-signed and name no
 * address, so chain and name checks would only fail. libcurl checks the pin during the
 * handshake, before any request (or password) is sent. */
static void
use_pin(CURL *h, const char *pin)
{
	(void)curl_easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, pin);
	(void)curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
	(void)curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	/* No CA store either: libcurl's GnuTLS backend loads its default bundle and CA
	 * directory into every handle whether or not it verifies, and parsing those
	 * certificates was most of a pinned status's CPU (docs/benchmarks.md, power). */
	(void)curl_easy_setopt(h, CURLOPT_CAINFO, NULL);
	(void)curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
}

/* A setup for t on h: TLS checks, timeouts, no redirects, no signals. */
static void
setup(CURL *h, const struct bmc_target *t)
{
	long ms = (long)(t->timeout_ms ? t->timeout_ms : DEFAULT_TIMEOUT_MS);

	(void)curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	(void)curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for DNS */
	(void)curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	(void)curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, ms);
	(void)curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, ms);
	(void)curl_easy_setopt(h, CURLOPT_USERAGENT, "diskless-bootsvc");
	if (t->pin[0]) {
		use_pin(h, t->pin);
	} else {
		if (t->ca_file[0])
			(void)curl_easy_setopt(h, CURLOPT_CAINFO, t->ca_file);
		(void)curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
		(void)curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	}
}

static int
base_url(const struct bmc_target *t, char *buf, size_t size, struct dl_err *reterr)
{
	bool v6 = strchr(t->host, ':') != NULL;

	if (strnlen(t->host, sizeof(t->host)) == 0 ||
	    strnlen(t->host, sizeof(t->host)) == sizeof(t->host) || strpbrk(t->host, "/@?#[] "))
		return dl_err_set(reterr, -EINVAL, "BMC host is empty, too long or not a host");
	(void)snprintf(buf, size, v6 ? "https://[%s]:%u" : "https://%s:%u", t->host,
	    (unsigned)(t->port ? t->port : 443));
	return 0;
}

/* rf as a handle for t that has sent nothing yet: its base URL, a libcurl handle with
 * setup()'s checks and bounds. Every connection to a BMC starts here (a job's, the pin
 * probe's, bmc_protocol = auto's). -EINVAL for a host that makes no URL, -ENOMEM. */
static int
handle_open(struct redfish *rf, const struct bmc_target *t, struct dl_err *reterr)
{
	int r;

	*rf = (struct redfish){ .t = t };
	if ((r = base_url(t, rf->base, sizeof(rf->base), reterr)) < 0)
		return r;
	(void)pthread_once(&curl_once, curl_init_once);
	rf->curl = curl_easy_init();
	if (!rf->curl)
		return -ENOMEM;
	setup(rf->curl, t);
	return 0;
}

int
redfish_call(struct redfish *rf, const char *method, const char *path, const char *body,
    struct dl_err *reterr)
{
	char url[sizeof(rf->base) + REDFISH_MAX_URI], errbuf[CURL_ERROR_SIZE] = "";
	char what[64 + REDFISH_MAX_URI];
	CURL *h = rf->curl;
	CURLcode cc;

	free(rf->body);
	rf->body = NULL;
	rf->len = 0;
	rf->status = 0;
	if (strlen(path) >= REDFISH_MAX_URI || path[0] != '/')
		return dl_err_set(reterr, -EINVAL, "BMC '%s': bad path", rf->t->host);
	(void)snprintf(url, sizeof(url), "%s%s", rf->base, path);
	(void)snprintf(what, sizeof(what), "%s %s", method, path);
	(void)curl_easy_setopt(h, CURLOPT_URL, url);
	(void)curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	(void)curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_write);
	(void)curl_easy_setopt(h, CURLOPT_WRITEDATA, rf);
	(void)curl_easy_setopt(h, CURLOPT_HTTPHEADER, (struct curl_slist *)rf->headers);
	(void)curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (streq(method, "GET")) {
		(void)curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
		(void)curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
	} else if (body) {
		(void)curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		(void)curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	} else {
		(void)curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
		(void)curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
	}
	cc = curl_easy_perform(h);
	rf->cc = (int)cc;
	if (cc != CURLE_OK)
		return curl_fail(rf, cc, what, errbuf, reterr);
	(void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &rf->status);
	if (!rf->body) {
		rf->body = strdup("");
		if (!rf->body)
			return -ENOMEM;
	}
	if (rf->status >= 200 && rf->status < 300)
		return 0;
	/* 503: the BMC is up but cannot serve now (busy, rebooting its own firmware),
	 * as IPMI's "BMC busy": unreachable for now, retried. */
	if (rf->status == 503)
		return dl_err_set(reterr, -ETIMEDOUT, "BMC '%s': %s: 503 Service Unavailable",
		    rf->t->host, what);
	if (rf->status == 401 || rf->status == 403)
		return dl_err_set(reterr, -EACCES, "BMC '%s': %s: %ld (credentials or privilege)",
		    rf->t->host, what, rf->status);
	if (rf->status == 404 || rf->status == 405 || rf->status == 501)
		return dl_err_set(reterr, -ENOTSUP, "BMC '%s': %s: %ld (not supported)",
		    rf->t->host, what, rf->status);
	return dl_err_set(reterr, -EIO, "BMC '%s': %s: HTTP %ld", rf->t->host, what,
	    rf->status);
}

static int
header_add(struct redfish *rf, const char *h)
{
	struct curl_slist *l = curl_slist_append(rf->headers, h);

	if (!l)
		return -ENOMEM;
	rf->headers = l;
	return 0;
}

/* Token from the login answer's headers: X-Auth-Token and Location. */
struct login_hdrs {
	char token[REDFISH_MAX_TOKEN + 1];
	char location[REDFISH_MAX_URI];
	bool token_too_long;
};

static void
header_value(const char *data, size_t len, size_t name_len, char *dst, size_t size, bool *too_long)
{
	const char *v = data + name_len;
	size_t n = len - name_len;

	while (n && (*v == ' ' || *v == '\t'))
		v++, n--;
	while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
		n--;
	if (n >= size) {
		if (too_long)
			*too_long = true;
		return;
	}
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static size_t
login_header(char *data, size_t size, size_t n, void *userdata)
{
	struct login_hdrs *lh = userdata;
	size_t len = size * n;

	if (len > 13 && strncasecmp(data, "X-Auth-Token:", 13) == 0)
		header_value(data, len, 13, lh->token, sizeof(lh->token), &lh->token_too_long);
	else if (len > 9 && strncasecmp(data, "Location:", 9) == 0)
		header_value(data, len, 9, lh->location, sizeof(lh->location), NULL);
	return len;
}

static int
login(struct redfish *rf, struct dl_err *reterr)
{
	struct login_hdrs lh = { 0 };
	char hdr[REDFISH_MAX_TOKEN + 32];
	json_t *j;
	char *body;
	int r;

	/* json_pack escapes the user and password: never printf them into JSON. */
	j = json_pack("{s:s, s:s}", "UserName", rf->t->user, "Password", rf->t->pass);
	if (!j)
		return -ENOMEM;
	body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!body)
		return -ENOMEM;
	(void)curl_easy_setopt(rf->curl, CURLOPT_HEADERFUNCTION, login_header);
	(void)curl_easy_setopt(rf->curl, CURLOPT_HEADERDATA, &lh);
	r = redfish_call(rf, "POST", rf->root.sessions, body, reterr);
	(void)curl_easy_setopt(rf->curl, CURLOPT_HEADERFUNCTION, NULL);
	(void)curl_easy_setopt(rf->curl, CURLOPT_HEADERDATA, NULL);
	explicit_bzero(body, strlen(body));
	free(body);
	if (r < 0)
		return r;
	if (lh.token_too_long || !lh.token[0])
		return dl_err_set(reterr, -EBADMSG, "BMC '%s': login: no usable X-Auth-Token",
		    rf->t->host);
	/* Location may be absolute ("https://host/redfish/v1/...") or a path. */
	{
		const char *loc = strstr(lh.location, "/redfish/");

		if (loc && strlen(loc) < sizeof(rf->session))
			strcpy(rf->session, loc);
	}
	(void)snprintf(hdr, sizeof(hdr), "X-Auth-Token: %s", lh.token);
	r = header_add(rf, hdr);
	explicit_bzero(hdr, sizeof(hdr));
	explicit_bzero(&lh, sizeof(lh));
	return r;
}

/* The pin of the key t's BMC offers, read over a connection that checks nothing and sends
 * nothing but GET of the service root: for first use and for a mismatch's message. */
static int
offered_pin(const struct bmc_target *t, char ret[static MAX_BMC_PIN + 1], struct dl_err *reterr)
{
	struct redfish rf;
	struct curl_certinfo *ci = NULL;
	int r;

	if ((r = handle_open(&rf, t, reterr)) < 0)
		return r;
	(void)curl_easy_setopt(rf.curl, CURLOPT_PINNEDPUBLICKEY, NULL);
	(void)curl_easy_setopt(rf.curl, CURLOPT_SSL_VERIFYPEER, 0L);
	(void)curl_easy_setopt(rf.curl, CURLOPT_SSL_VERIFYHOST, 0L);
	(void)curl_easy_setopt(rf.curl, CURLOPT_CERTINFO, 1L);
	r = redfish_call(&rf, "GET", REDFISH_ROOT, NULL, reterr);
	if (rf.cc == CURLE_OK) {
		/* any HTTP status will do: the handshake is what was wanted */
		r = -EKEYREJECTED;
		if (curl_easy_getinfo(rf.curl, CURLINFO_CERTINFO, &ci) == CURLE_OK && ci &&
		    ci->num_of_certs > 0)
			for (struct curl_slist *l = ci->certinfo[0]; l; l = l->next)
				if (strncmp(l->data, "Cert:", 5) == 0) {
					r = rf_pin_of_pem(l->data + 5, ret);
					break;
				}
		if (r < 0)
			r = dl_err_set(reterr, -EKEYREJECTED,
			    "BMC '%s': TLS: no certificate to take a pin of", t->host);
	}
	redfish_close(&rf);
	return r;
}

/* The node a pin file is for: its last component (<state_dir>/bmc-pins/<node>). */
static const char *
pin_file_node(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* The recorded pin did not match: say which key was offered, so the admin can tell a
 * regenerated certificate from an impostor, and how to accept it. */
static int
pin_mismatch(struct redfish *rf, const char *recorded, struct dl_err *reterr)
{
	char offered[MAX_BMC_PIN + 1] = "?";

	(void)offered_pin(rf->t, offered, NULL);
	return dl_err_set(reterr, -EKEYREJECTED,
	    "BMC '%s': TLS: the certificate's public key %s does not match the pin %s recorded "
	    "on first use in '%s' (nodectl node reset-bmc-pin %s, or deleting the file, "
	    "trusts the new key)",
	    rf->t->host, offered, recorded, rf->t->pin_file, pin_file_node(rf->t->pin_file));
}

/* First use (redfish_tofu = on, no pin, the CA check failed): take the offered key's pin
 * and record it; from here on it is pinned. */
static int
first_use(struct redfish *rf, char pin[static MAX_BMC_PIN + 1], struct dl_err *reterr)
{
	const struct bmc_target *t = rf->t;
	int r;

	if ((r = offered_pin(t, pin, reterr)) < 0)
		return r;
	r = rf_pin_store(t->pin_file, pin, reterr);
	if (r == -EEXIST) {
		/* another job recorded one meanwhile: that one counts */
		if ((r = rf_pin_load(t->pin_file, pin, reterr)) < 0)
			return r;
		return r > 0 ? 0 : dl_err_set(reterr, -EKEYREJECTED, "BMC '%s': pin file vanished",
		    t->host);
	}
	if (r < 0)
		return dl_err_prefix(reterr, "BMC '%s': recording its pin", t->host), r;
	log_notice("event=bmc_pin_recorded node=%s bmc=%s pin=%s file=%s "
		   "msg=\"trusted on first use (redfish_tofu)\"",
	    pin_file_node(t->pin_file), t->host, pin, t->pin_file);
	return 0;
}

int
redfish_open(struct redfish *rf, const struct bmc_target *t, struct dl_err *reterr)
{
	struct rf_trust_in trust = { .have_pin = t->pin[0] != '\0',
		.tofu = t->pin_file[0] != '\0' };
	char recorded[MAX_BMC_PIN + 1] = "";
	enum rf_trust_how how;
	int r;

	assert(rf && t);
	*rf = (struct redfish){ .t = t };
	if (!trust.have_pin && trust.tofu) {
		if ((r = rf_pin_load(t->pin_file, recorded, reterr)) < 0)
			return dl_err_prefix(reterr, "BMC '%s'", t->host), r;
		trust.have_recorded = r > 0;
	}
	how = rf_trust_decide(&trust);
	if (t->timeout_ms && t->timeout_ms < MIN_TIMEOUT_MS)
		return dl_err_set(reterr, -EINVAL, "BMC '%s': timeout %u ms is below %d ms",
		    t->host, t->timeout_ms, MIN_TIMEOUT_MS);
	if (strnlen(t->user, sizeof(t->user)) == sizeof(t->user) ||
	    strnlen(t->pass, sizeof(t->pass)) == sizeof(t->pass))
		return dl_err_set(reterr, -EINVAL, "BMC '%s': user or password not terminated",
		    t->host);
	if ((r = handle_open(rf, t, reterr)) < 0)
		goto fail;
	if (how == RF_TRUST_RECORDED)
		use_pin(rf->curl, recorded);
	if ((r = header_add(rf, "Accept: application/json")) < 0 ||
	    (r = header_add(rf, "Content-Type: application/json")) < 0 ||
	    (r = header_add(rf, "OData-Version: 4.0")) < 0)
		goto fail;
	/* The service root needs no credentials (DSP0266 §13.3.1): the certificate is
	 * judged on it before a password is sent. */
	r = redfish_call(rf, "GET", REDFISH_ROOT, NULL, reterr);
	if (r == -EKEYREJECTED && how == RF_TRUST_RECORDED &&
	    rf->cc == CURLE_SSL_PINNEDPUBKEYNOTMATCH) {
		r = pin_mismatch(rf, recorded, reterr);
		goto fail;
	}
	if (r == -EKEYREJECTED && how == RF_TRUST_CA && trust.tofu &&
	    rf->cc == CURLE_PEER_FAILED_VERIFICATION) {
		trust.ca = RF_CA_FAILED;
		how = rf_trust_decide(&trust);
		assert(how == RF_TRUST_RECORD);
		if ((r = first_use(rf, recorded, reterr)) < 0)
			goto fail;
		use_pin(rf->curl, recorded);
		r = redfish_call(rf, "GET", REDFISH_ROOT, NULL, reterr);
	}
	if (r < 0)
		goto fail;
	if ((r = redfish_json_root(rf->body, rf->len, &rf->root, reterr)) < 0) {
		dl_err_prefix(reterr, "BMC '%s': %s", t->host, REDFISH_ROOT);
		goto fail;
	}
	if (rf->root.sessions[0]) {
		if ((r = login(rf, reterr)) < 0)
			goto fail;
	} else {
		/* No SessionService: HTTP basic auth on every request (DSP0266 §13.3.3). */
		(void)curl_easy_setopt(rf->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		(void)curl_easy_setopt(rf->curl, CURLOPT_USERNAME, t->user);
		(void)curl_easy_setopt(rf->curl, CURLOPT_PASSWORD, t->pass);
	}
	return 0;
fail:
	redfish_close(rf);
	return r;
}

void
redfish_close(struct redfish *rf)
{
	if (!rf)
		return;
	if (rf->curl && rf->session[0]) {
		/* A failed logout costs the BMC one session until its idle timeout. */
		(void)redfish_call(rf, "DELETE", rf->session, NULL, NULL);
	}
	if (rf->headers) {
		/* the token is in there: wipe each header before the list is freed */
		for (struct curl_slist *l = rf->headers; l; l = l->next)
			explicit_bzero(l->data, strlen(l->data));
		curl_slist_free_all(rf->headers);
	}
	if (rf->curl)
		curl_easy_cleanup(rf->curl);
	free(rf->body);
	*rf = (struct redfish){ 0 };
}

int
redfish_probe(const struct bmc_target *t)
{
	struct redfish rf;
	struct redfish_root root;
	int r;

	if ((r = handle_open(&rf, t, NULL)) < 0) {
		/* a host that makes no URL is no Redfish BMC */
		return r == -EINVAL ? 0 : r;
	}
	r = redfish_call(&rf, "GET", REDFISH_ROOT, NULL, NULL);
	if (r == -EKEYREJECTED)
		;
	else if (rf.cc == CURLE_OPERATION_TIMEDOUT)
		r = -ETIMEDOUT;
	else if (r < 0)
		r = 0;
	else
		r = redfish_json_root(rf.body, rf.len, &root, NULL) == 0 ? 1 : 0;
	redfish_close(&rf);
	return r;
}
