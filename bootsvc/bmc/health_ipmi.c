/* SPDX-License-Identifier: MIT */
/* Sensors and SEL of one BMC through libipmimonitoring (FreeIPMI), for worker threads.
 * libipmimonitoring opens its own IPMI 2.0 session per call (one for the sensors, one for
 * the SEL) and interprets states the way ipmi-sensors and ipmi-sel print them, so what
 * health_read() returns matches what an admin sees with those tools. Nothing is logged:
 * the caller decides what a failed read means (CONVENTIONS §9). */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ipmi_monitoring.h>
#include <ipmi_monitoring_bitmasks.h>

#include "bmc/health_ipmi.h"
#include "bmc/ipmi_timing.h"
#include "health/sel_class.h"

/* As power_ipmi.c: room for the session handshake and one retransmission. */
#define MIN_TIMEOUT_MS 100
/* libipmimonitoring's default retransmission interval is 500 ms; with a session timeout
 * we retransmit at least twice per timeout (bmc/ipmi_timing.c), never less often than
 * once a second. */
#define MAX_RETRANSMIT_MS 1000
/* libipmimonitoring's own session timeout when the target gives none (its header: 60 s
 * by default; we keep power_ipmi.c's 20 s so a dead BMC costs a worker the same). */
#define DEFAULT_TIMEOUT_MS 20000

/* ipmi_monitoring_init() must run once before any thread uses the library (its header),
 * and it reads no config file with flags 0: do it on the first read, whichever thread. */
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static int lib_errnum;

static void
lib_init(void)
{
	int errnum = 0;

	if (ipmi_monitoring_init(0, &errnum) < 0)
		lib_errnum = errnum ? errnum : IPMI_MONITORING_ERR_INTERNAL_ERROR;
}

static void
monitoring_ctx_freep(ipmi_monitoring_ctx_t *c)
{
	if (*c)
		ipmi_monitoring_ctx_destroy(*c);
}

void
health_reading_done(struct health_reading *r)
{
	if (!r)
		return;
	free(r->sensors);
	free(r->sel);
	*r = (struct health_reading){ 0 };
}

static void
reading_freep(struct health_reading *r)
{
	health_reading_done(r);
}

/* libipmimonitoring's error as one of health.h's errnos; the same split as power_ipmi.c:
 * unreachable (retry with backoff) versus a human must fix credentials or the BMC. */
static int
errnum_to_errno(int errnum)
{
	switch (errnum) {
	case IPMI_MONITORING_ERR_CONNECTION_TIMEOUT:
	case IPMI_MONITORING_ERR_SESSION_TIMEOUT:
	case IPMI_MONITORING_ERR_BMC_BUSY:
	case IPMI_MONITORING_ERR_HOSTNAME_INVALID:
		return -ETIMEDOUT;
	case IPMI_MONITORING_ERR_USERNAME_INVALID:
	case IPMI_MONITORING_ERR_PASSWORD_INVALID:
	case IPMI_MONITORING_ERR_PASSWORD_VERIFICATION_TIMEOUT:
	case IPMI_MONITORING_ERR_K_G_INVALID:
	case IPMI_MONITORING_ERR_PRIVILEGE_LEVEL_INSUFFICIENT:
	case IPMI_MONITORING_ERR_PRIVILEGEL_LEVEL_CANNOT_BE_OBTAINED:
		return -EACCES;
	case IPMI_MONITORING_ERR_AUTHENTICATION_TYPE_UNAVAILABLE:
	case IPMI_MONITORING_ERR_IPMI_2_0_UNAVAILABLE:
	case IPMI_MONITORING_ERR_CIPHER_SUITE_ID_UNAVAILABLE:
		return -ENOTSUP;
	case IPMI_MONITORING_ERR_OUT_OF_MEMORY:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

static int
fail_step(struct dl_err *reterr, ipmi_monitoring_ctx_t c, const char *host, const char *what,
    const char *sdr_cache_dir, unsigned timeout_ms)
{
	int errnum = ipmi_monitoring_ctx_errnum(c);
	int r = errnum_to_errno(errnum);

	if (errnum == IPMI_MONITORING_ERR_SDR_CACHE_PERMISSION ||
	    errnum == IPMI_MONITORING_ERR_SDR_CACHE_FILESYSTEM)
		return dl_err_set(reterr, r, "BMC '%s': %s: SDR cache directory '%s': %s", host,
		    what, sdr_cache_dir, ipmi_monitoring_ctx_errormsg(c));
	if (r == -ETIMEDOUT && errnum != IPMI_MONITORING_ERR_HOSTNAME_INVALID)
		return dl_err_set(reterr, r, "BMC '%s': %s: no answer within %u ms (%s)", host,
		    what, timeout_ms, ipmi_monitoring_ctx_errormsg(c));
	return dl_err_set(reterr, r, "BMC '%s': %s: %s", host, what,
	    ipmi_monitoring_ctx_errormsg(c));
}

/* Copy text from the BMC (untrusted: SDR names and strings built from its data) into dst,
 * cut to size, control characters and non-ASCII as '?': it ends up in logs and the API. */
static void
text_copy(char *dst, size_t size, const char *src)
{
	size_t i = 0;

	assert(size > 0);
	for (; src && src[i] && i + 1 < size; i++) {
		unsigned char b = (unsigned char)src[i];

		dst[i] = b < 0x20 || b >= 0x7f ? '?' : (char)b;
	}
	dst[i] = '\0';
}

static void
text_append(char *dst, size_t size, const char *src)
{
	size_t len = strlen(dst);

	if (len + 1 < size)
		text_copy(dst + len, size - len, src);
}

static enum health_sensor_state
state_from_ipmi(int s)
{
	switch (s) {
	case IPMI_MONITORING_STATE_NOMINAL:
		return HEALTH_SENSOR_NOMINAL;
	case IPMI_MONITORING_STATE_WARNING:
		return HEALTH_SENSOR_WARNING;
	case IPMI_MONITORING_STATE_CRITICAL:
		return HEALTH_SENSOR_CRITICAL;
	default:
		return HEALTH_SENSOR_UNKNOWN;
	}
}

static const char *
units_to_string(int u)
{
	switch (u) {
	case IPMI_MONITORING_SENSOR_UNITS_CELSIUS:
		return "C";
	case IPMI_MONITORING_SENSOR_UNITS_FAHRENHEIT:
		return "F";
	case IPMI_MONITORING_SENSOR_UNITS_VOLTS:
		return "V";
	case IPMI_MONITORING_SENSOR_UNITS_AMPS:
		return "A";
	case IPMI_MONITORING_SENSOR_UNITS_RPM:
		return "RPM";
	case IPMI_MONITORING_SENSOR_UNITS_WATTS:
		return "W";
	case IPMI_MONITORING_SENSOR_UNITS_PERCENT:
		return "%";
	default:
		return "";
	}
}

/* The most severe threshold a threshold sensor is beyond, for reasons like "CPU Temp
 * upper critical". (libipmimonitoring names the upper bits AT_OR_BELOW_UPPER_*; they
 * mean at or above, IPMI 2.0 Table 35-15.) */
static const char *
threshold_condition(int bitmask)
{
	static const struct {
		int bit;
		const char *text;
	} order[] = {
		{ IPMI_MONITORING_SENSOR_BITMASK_THRESHOLD_AT_OR_BELOW_UPPER_NON_RECOVERABLE_THRESHOLD,
		    "upper non-recoverable" },
		{ IPMI_MONITORING_SENSOR_BITMASK_THRESHOLD_AT_OR_BELOW_LOWER_NON_RECOVERABLE_THRESHOLD,
		    "lower non-recoverable" },
		{ IPMI_MONITORING_SENSOR_BITMASK_THRESHOLD_AT_OR_BELOW_UPPER_CRITICAL_THRESHOLD,
		    "upper critical" },
		{ IPMI_MONITORING_SENSOR_BITMASK_THRESHOLD_AT_OR_BELOW_LOWER_CRITICAL_THRESHOLD,
		    "lower critical" },
		{ IPMI_MONITORING_SENSOR_BITMASK_THRESHOLD_AT_OR_BELOW_UPPER_NON_CRITICAL_THRESHOLD,
		    "upper non-critical" },
		{ IPMI_MONITORING_SENSOR_BITMASK_THRESHOLD_AT_OR_BELOW_LOWER_NON_CRITICAL_THRESHOLD,
		    "lower non-critical" },
	};

	if (bitmask < 0)
		return "";
	for (size_t i = 0; i < ELEMENTSOF(order); i++)
		if (bitmask & order[i].bit)
			return order[i].text;
	return "";
}

static void
sensor_fill(ipmi_monitoring_ctx_t c, struct health_sensor *s)
{
	int type = ipmi_monitoring_sensor_read_sensor_type(c);
	int rtype = ipmi_monitoring_sensor_read_sensor_reading_type(c);
	void *reading = ipmi_monitoring_sensor_read_sensor_reading(c);
	char **strs = ipmi_monitoring_sensor_read_sensor_bitmask_strings(c);

	*s = (struct health_sensor){ 0 };
	text_copy(s->name, sizeof(s->name), ipmi_monitoring_sensor_read_sensor_name(c));
	s->type = type >= 0 && type <= 0xff ? (uint8_t)type : 0;
	s->state = state_from_ipmi(ipmi_monitoring_sensor_read_sensor_state(c));
	if (reading && rtype == IPMI_MONITORING_SENSOR_READING_TYPE_DOUBLE) {
		s->has_reading = true;
		s->reading = *(double *)reading;
	} else if (reading && rtype == IPMI_MONITORING_SENSOR_READING_TYPE_UNSIGNED_INTEGER32) {
		s->has_reading = true;
		s->reading = *(uint32_t *)reading;
	}
	text_copy(s->units, sizeof(s->units),
	    units_to_string(ipmi_monitoring_sensor_read_sensor_units(c)));
	if (ipmi_monitoring_sensor_read_sensor_bitmask_type(c) ==
	    IPMI_MONITORING_SENSOR_BITMASK_TYPE_THRESHOLD)
		text_copy(s->condition, sizeof(s->condition),
		    threshold_condition(ipmi_monitoring_sensor_read_sensor_bitmask(c)));
	for (size_t i = 0; strs && strs[i]; i++) {
		if (i > 0)
			text_append(s->event, sizeof(s->event), "; ");
		text_append(s->event, sizeof(s->event), strs[i]);
	}
}

static int
read_sensors(ipmi_monitoring_ctx_t c, const char *hostport, const char *host,
    struct ipmi_monitoring_ipmi_config *conf, const char *sdr_cache_dir, unsigned timeout_ms,
    struct health_reading *out, struct dl_err *reterr)
{
	/* IGNORE_NON_INTERPRETABLE_SENSORS: the MC locator and event-only records would
	 * come back as empty "Unknown" rows (lab pitfalls). */
	unsigned flags = IPMI_MONITORING_SENSOR_READING_FLAGS_IGNORE_NON_INTERPRETABLE_SENSORS;
	size_t keep;
	int n;

	n = ipmi_monitoring_sensor_readings_by_record_id(c, hostport, conf, flags, NULL, 0, NULL,
	    NULL);
	if (n < 0) {
		if (ipmi_monitoring_ctx_errnum(c) == IPMI_MONITORING_ERR_NO_SENSOR_READINGS)
			return 0;
		return fail_step(reterr, c, host, "read sensors", sdr_cache_dir, timeout_ms);
	}
	keep = (size_t)n > MAX_HEALTH_SENSORS ? MAX_HEALTH_SENSORS : (size_t)n;
	out->n_sensors_dropped = (size_t)n - keep;
	if (keep == 0)
		return 0;
	out->sensors = calloc(keep, sizeof(*out->sensors));
	if (!out->sensors)
		return -ENOMEM;
	for (size_t i = 0; i < keep; i++) {
		sensor_fill(c, &out->sensors[i]);
		out->n_sensors++;
		if (ipmi_monitoring_sensor_iterator_next(c) < 0)
			break;
	}
	return 0;
}

static void
sel_fill(ipmi_monitoring_ctx_t c, struct health_sel_entry *e)
{
	int record_class = ipmi_monitoring_sel_read_record_type_class(c);
	unsigned ts = 0;

	*e = (struct health_sel_entry){ .cls = HEALTH_SEL_OTHER, .assertion = true };
	e->record_id = (uint32_t)ipmi_monitoring_sel_read_record_id(c);
	if (record_class != IPMI_MONITORING_SEL_RECORD_TYPE_CLASS_NON_TIMESTAMPED_OEM_RECORD &&
	    ipmi_monitoring_sel_read_timestamp(c, &ts) == 0)
		e->timestamp = ts;
	e->severity = state_from_ipmi(ipmi_monitoring_sel_read_sel_state(c));

	if (record_class == IPMI_MONITORING_SEL_RECORD_TYPE_CLASS_SYSTEM_EVENT_RECORD) {
		int type = ipmi_monitoring_sel_read_sensor_type(c);
		int event_type = ipmi_monitoring_sel_read_event_type_code(c);
		unsigned d1 = 0, d2 = 0, d3 = 0;

		e->sensor_type = type >= 0 && type <= 0xff ? (uint8_t)type : 0;
		e->event_type = event_type >= 0 && event_type <= 0xff ? (uint8_t)event_type : 0;
		/* IPMI 2.0 Table 32-1: event data 1 bits 3:0 are the offset */
		if (ipmi_monitoring_sel_read_event_data(c, &d1, &d2, &d3) == 0)
			e->offset = (uint8_t)(d1 & 0x0f);
		e->assertion = ipmi_monitoring_sel_read_event_direction(c) !=
		    IPMI_MONITORING_SEL_EVENT_DIRECTION_DEASSERTION;
		text_copy(e->sensor, sizeof(e->sensor), ipmi_monitoring_sel_read_sensor_name(c));
		text_copy(e->event, sizeof(e->event), ipmi_monitoring_sel_read_event_offset_string(c));
		e->cls = health_sel_classify(e->sensor_type, e->event_type, e->offset, e->severity);
	} else {
		snprintf(e->event, sizeof(e->event), "OEM record type 0x%02x",
		    (unsigned)ipmi_monitoring_sel_read_record_type(c) & 0xff);
	}
}

static int
read_sel(ipmi_monitoring_ctx_t c, const char *hostport, const char *host,
    struct ipmi_monitoring_ipmi_config *conf, const char *sdr_cache_dir, unsigned timeout_ms,
    uint32_t sel_after, struct health_reading *out, struct dl_err *reterr)
{
	size_t n_new = 0, skip;
	uint32_t max_id = 0;
	int n;

	/* All records: the SEL has no "records after id N" command, only a walk from the
	 * first entry (IPMI 2.0 §31.5), which libipmimonitoring does in any case. */
	n = ipmi_monitoring_sel_by_record_id(c, hostport, conf, 0, NULL, 0, NULL, NULL);
	if (n < 0) {
		if (ipmi_monitoring_ctx_errnum(c) == IPMI_MONITORING_ERR_NO_SEL_RECORDS)
			n = 0;
		else
			return fail_step(reterr, c, host, "read SEL", sdr_cache_dir, timeout_ms);
	}
	if (n == 0) {
		/* an empty SEL: whatever comes next is new */
		out->sel_last_id = 0;
		out->sel_reset = sel_after > 0;
		return 0;
	}

	for (int i = 0; i < n; i++) {
		int id = ipmi_monitoring_sel_read_record_id(c);

		if (id >= 0 && (uint32_t)id > max_id)
			max_id = (uint32_t)id;
		if (ipmi_monitoring_sel_iterator_next(c) < 0)
			break;
	}
	out->sel_last_id = max_id;
	/* every id at or below what we consumed, the highest one lower: cleared in between */
	out->sel_reset = max_id < sel_after;
	if (out->sel_reset)
		sel_after = 0;

	if (ipmi_monitoring_sel_iterator_first(c) < 0)
		return fail_step(reterr, c, host, "read SEL", sdr_cache_dir, timeout_ms);
	for (int i = 0; i < n; i++) {
		int id = ipmi_monitoring_sel_read_record_id(c);

		if (id >= 0 && (uint32_t)id > sel_after)
			n_new++;
		if (ipmi_monitoring_sel_iterator_next(c) < 0)
			break;
	}
	if (n_new == 0)
		return 0;
	/* keep the newest: they are the ones the rate windows care about */
	skip = n_new > MAX_HEALTH_SEL_NEW ? n_new - MAX_HEALTH_SEL_NEW : 0;
	out->n_sel_dropped = skip;
	out->sel = calloc(n_new - skip, sizeof(*out->sel));
	if (!out->sel)
		return -ENOMEM;
	if (ipmi_monitoring_sel_iterator_first(c) < 0)
		return fail_step(reterr, c, host, "read SEL", sdr_cache_dir, timeout_ms);
	for (int i = 0; i < n && out->n_sel < n_new - skip; i++) {
		int id = ipmi_monitoring_sel_read_record_id(c);

		if (id >= 0 && (uint32_t)id > sel_after) {
			if (skip > 0)
				skip--;
			else
				sel_fill(c, &out->sel[out->n_sel++]);
		}
		if (ipmi_monitoring_sel_iterator_next(c) < 0)
			break;
	}
	return 0;
}

int
health_read(const struct bmc_target *t, const char *sdr_cache_dir, uint32_t sel_after,
    struct health_reading *ret, struct dl_err *reterr)
{
	_cleanup_(monitoring_ctx_freep) ipmi_monitoring_ctx_t c = NULL;
	_cleanup_(reading_freep) struct health_reading out = { 0 };
	struct ipmi_monitoring_ipmi_config conf = { 0 };
	char hostport[BMC_HOSTPORT_SIZE];
	char user[sizeof(t->user)], pass[sizeof(t->pass)];
	unsigned timeout_ms;
	int r;

	assert(t);
	assert(ret);

	if (strnlen(t->host, sizeof(t->host)) == 0 ||
	    strnlen(t->host, sizeof(t->host)) == sizeof(t->host))
		return dl_err_set(reterr, -EINVAL, "health: BMC host is empty or too long");
	r = bmc_target_hostport(t, hostport, reterr);
	if (r < 0)
		return r;
	if (!sdr_cache_dir || !sdr_cache_dir[0])
		return dl_err_set(reterr, -EINVAL, "BMC '%s': no SDR cache directory", t->host);
	if (t->timeout_ms && t->timeout_ms < MIN_TIMEOUT_MS)
		return dl_err_set(reterr, -EINVAL, "BMC '%s': timeout %u ms is below %d ms",
		    t->host, t->timeout_ms, MIN_TIMEOUT_MS);

	/* The library refuses a missing directory with "insufficient permission" (lab
	 * pitfall 6), which sends people looking at credentials: create it here. */
	if (mkdir(sdr_cache_dir, 0700) < 0 && errno != EEXIST)
		return dl_err_set(reterr, -errno, "BMC '%s': SDR cache directory '%s': %s",
		    t->host, sdr_cache_dir, strerror(errno));

	pthread_once(&lib_once, lib_init);
	if (lib_errnum)
		return dl_err_set(reterr, -EIO, "health: ipmi_monitoring_init: %s",
		    ipmi_monitoring_ctx_strerror(lib_errnum));

	c = ipmi_monitoring_ctx_create();
	if (!c)
		return -ENOMEM;
	if (ipmi_monitoring_ctx_sdr_cache_directory(c, sdr_cache_dir) < 0)
		return fail_step(reterr, c, t->host, "SDR cache", sdr_cache_dir, 0);

	/* libipmimonitoring wants non-const strings; copies keep t const, and the password
	 * copy is wiped before returning. */
	memcpy(user, t->user, sizeof(user));
	memcpy(pass, t->pass, sizeof(pass));
	timeout_ms = t->timeout_ms ? t->timeout_ms : DEFAULT_TIMEOUT_MS;
	conf.driver_type = -1;
	conf.protocol_version = IPMI_MONITORING_PROTOCOL_VERSION_2_0;
	conf.username = user;
	conf.password = pass;
	/* reading sensors and the SEL needs User privilege only (IPMI 2.0 Table G-1) */
	conf.privilege_level = IPMI_MONITORING_PRIVILEGE_LEVEL_USER;
	conf.authentication_type = -1;
	conf.cipher_suite_id = t->cipher;
	conf.session_timeout_len = (int)timeout_ms;
	/* its sessions are libfreeipmi's: the same schedule as power_ipmi.c's */
	conf.retransmission_timeout_len = (int)ipmi_retransmit_ms(timeout_ms, MAX_RETRANSMIT_MS);
	/* OPEN_SESSION_PRIVILEGE: ask for the real privilege in the RMCP+ Open Session
	 * request; ipmi_sim echoes "highest" back and FreeIPMI then refuses the session (lab
	 * pitfall 1). Real BMCs accept either form. */
	conf.workaround_flags =
	    IPMI_MONITORING_WORKAROUND_FLAGS_PROTOCOL_VERSION_2_0_OPEN_SESSION_PRIVILEGE;

	r = read_sensors(c, hostport, t->host, &conf, sdr_cache_dir, timeout_ms, &out, reterr);
	if (r >= 0)
		r = read_sel(c, hostport, t->host, &conf, sdr_cache_dir, timeout_ms, sel_after,
		    &out, reterr);
	explicit_bzero(pass, sizeof(pass));
	if (r < 0)
		return r;
	*ret = out;
	out = (struct health_reading){ 0 };
	return 0;
}
