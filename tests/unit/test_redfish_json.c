/* SPDX-License-Identifier: MIT */
/* bootsvc/bmc/redfish_json.c and health_sel_classify_redfish(): real-shaped Redfish JSON
 * (tests/data/redfish/, modelled on iDRAC and OpenBMC answers) mapped to the client's
 * structs, the health reading bootsvc judges, and the same SEL classes IPMI records get.
 * Table vectors carry their __LINE__. Run from the repository root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../bootsvc/bmc/redfish_json.h"
#include "../../bootsvc/health/sel_class.h"
#include "check_r.h"

/* The fixtures are a few KiB; a cap keeps a wrong path from reading a disk image. */
#define MAX_FIXTURE (64 * 1024)

static char *
fixture(const char *name, size_t *ret_len)
{
	char path[256];
	char *buf = malloc(MAX_FIXTURE);
	FILE *f;
	size_t n;

	assert_non_null(buf);
	snprintf(path, sizeof(path), "tests/data/redfish/%s", name);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s (run from the repository root)", path);
	n = fread(buf, 1, MAX_FIXTURE - 1, f);
	fclose(f);
	buf[n] = '\0';
	*ret_len = n;
	return buf;
}

static void
test_root(void **state)
{
	struct redfish_root rt;
	struct dl_err e = { 0 };
	size_t len;
	char *b = fixture("root.json", &len);
	static const char no_sessions[] = "{\"Systems\":{\"@odata.id\":\"/redfish/v1/Systems\"}}";

	(void)state;
	assert_int_equal(redfish_json_root(b, len, &rt, &e), 0);
	assert_string_equal(rt.systems, "/redfish/v1/Systems");
	assert_string_equal(rt.chassis, "/redfish/v1/Chassis");
	assert_string_equal(rt.sessions, "/redfish/v1/SessionService/Sessions");
	free(b);
	/* no SessionService: basic auth (an empty sessions link) */
	assert_int_equal(redfish_json_root(no_sessions, strlen(no_sessions), &rt, &e), 0);
	assert_string_equal(rt.sessions, "");
	assert_string_equal(rt.chassis, "");
}

static void
test_system(void **state)
{
	struct redfish_system s;
	struct dl_err e = { 0 };
	size_t len;
	char *b = fixture("system.json", &len);

	(void)state;
	assert_int_equal(redfish_json_system(b, len, &s, &e), 0);
	assert_true(s.on);
	assert_true(s.boot_override);
	assert_string_equal(s.reset_target,
	    "/redfish/v1/Systems/System.Embedded.1/Actions/ComputerSystem.Reset");
	assert_string_equal(s.log_services, "/redfish/v1/Systems/System.Embedded.1/LogServices");
	/* PushPowerButton and Nmi are not ours: ignored, the rest kept */
	assert_int_equal(s.reset_allowed,
	    (1u << REDFISH_RESET_ON) | (1u << REDFISH_RESET_FORCE_OFF) |
		(1u << REDFISH_RESET_FORCE_RESTART) | (1u << REDFISH_RESET_GRACEFUL_RESTART) |
		(1u << REDFISH_RESET_GRACEFUL_SHUTDOWN) | (1u << REDFISH_RESET_POWER_CYCLE));
	free(b);
}

#define BIT(x) (1u << REDFISH_RESET_##x)

static void
test_reset_choose(void **state)
{
	static const struct {
		int line;
		enum redfish_reset want;
		unsigned allowed;
		int got;
	} v[] = {
		/* no list: the schema's first choice */
		{ __LINE__, REDFISH_RESET_ON, 0, REDFISH_RESET_ON },
		{ __LINE__, REDFISH_RESET_FORCE_OFF, 0, REDFISH_RESET_FORCE_OFF },
		{ __LINE__, REDFISH_RESET_FORCE_RESTART, 0, REDFISH_RESET_FORCE_RESTART },
		/* the documented fallbacks */
		{ __LINE__, REDFISH_RESET_ON, BIT(FORCE_ON) | BIT(FORCE_OFF), REDFISH_RESET_FORCE_ON },
		{ __LINE__, REDFISH_RESET_FORCE_OFF, BIT(ON) | BIT(GRACEFUL_SHUTDOWN),
		    REDFISH_RESET_GRACEFUL_SHUTDOWN },
		{ __LINE__, REDFISH_RESET_FORCE_RESTART, BIT(ON) | BIT(POWER_CYCLE) |
		    BIT(GRACEFUL_RESTART), REDFISH_RESET_POWER_CYCLE },
		{ __LINE__, REDFISH_RESET_FORCE_RESTART, BIT(ON) | BIT(GRACEFUL_RESTART),
		    REDFISH_RESET_GRACEFUL_RESTART },
		/* preferred when allowed */
		{ __LINE__, REDFISH_RESET_FORCE_RESTART, BIT(FORCE_RESTART) | BIT(POWER_CYCLE),
		    REDFISH_RESET_FORCE_RESTART },
		/* nothing fits, or a list of unknown values only */
		{ __LINE__, REDFISH_RESET_FORCE_OFF, BIT(ON), -ENOTSUP },
		{ __LINE__, REDFISH_RESET_ON, 1u << _REDFISH_RESET_MAX, -ENOTSUP },
		{ __LINE__, REDFISH_RESET_POWER_CYCLE, 0, -EINVAL },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		int got = (int)redfish_reset_choose(v[i].want, v[i].allowed);

		if (got != v[i].got)
			fail_msg("line %d: got %d, want %d", v[i].line, got, v[i].got);
	}
	assert_int_equal(redfish_reset_from_string("ForceRestart"), REDFISH_RESET_FORCE_RESTART);
	assert_int_equal(redfish_reset_from_string("Nmi"), -EINVAL);
	assert_string_equal(redfish_reset_to_string(REDFISH_RESET_GRACEFUL_SHUTDOWN),
	    "GracefulShutdown");
}

static const struct health_sensor *
sensor(const struct health_reading *r, const char *name)
{
	for (size_t i = 0; i < r->n_sensors; i++)
		if (streq(r->sensors[i].name, name))
			return &r->sensors[i];
	fail_msg("no sensor '%s'", name);
	return NULL;
}

static void
test_thermal_power(void **state)
{
	struct health_reading r = { 0 };
	struct dl_err e = { 0 };
	const struct health_sensor *s;
	size_t len;
	char *t = fixture("thermal.json", &len);
	double c = 0;

	(void)state;
	assert_int_equal(redfish_json_thermal(t, len, &r, &e), 0);
	free(t);
	t = fixture("power.json", &len);
	assert_int_equal(redfish_json_power(t, len, &r, &e), 0);
	free(t);
	assert_int_equal(r.n_sensors, 8); /* 3 temperatures, 2 fans, the draw, 2 supplies */
	/* 88 C: the BMC says Warning, the reading is beyond the critical threshold: the
	 * worse one, with the same words IPMI's thresholds give */
	s = sensor(&r, "CPU1 Temp");
	assert_int_equal(s->type, 0x01);
	assert_int_equal(s->state, HEALTH_SENSOR_CRITICAL);
	assert_string_equal(s->condition, "upper critical");
	assert_string_equal(s->units, "C");
	assert_true(s->has_reading);
	s = sensor(&r, "Inlet Temp");
	assert_int_equal(s->state, HEALTH_SENSOR_NOMINAL);
	assert_string_equal(s->condition, "");
	/* absent: no reading, no verdict */
	s = sensor(&r, "CPU2 Temp");
	assert_false(s->has_reading);
	assert_int_equal(s->state, HEALTH_SENSOR_UNKNOWN);
	s = sensor(&r, "Fan1");
	assert_int_equal(s->type, 0x04);
	assert_int_equal(s->state, HEALTH_SENSOR_CRITICAL);
	assert_string_equal(s->condition, "lower critical");
	assert_string_equal(s->units, "RPM");
	assert_string_equal(sensor(&r, "Fan2")->units, "%");
	s = sensor(&r, "PS2");
	assert_int_equal(s->type, 0x08);
	assert_int_equal(s->state, HEALTH_SENSOR_CRITICAL);
	assert_false(s->has_reading);
	/* the node's draw is PowerControl's, not a supply's output */
	assert_int_equal(health_power_watts(&r), 312);
	assert_true(health_temperature_c(&r, &c));
	assert_true(c > 87.9 && c < 88.1);
	health_reading_done(&r);
}

static void
test_log_entries(void **state)
{
	static const struct {
		uint32_t id;
		enum health_sel_class cls;
		bool assertion;
		uint32_t ts;
	} want[] = {
		{ 1, HEALTH_SEL_OTHER, true, 1796119200 },    /* PSU presence: not a failure */
		{ 2, HEALTH_SEL_ECC_CORRECTABLE, true, 1796122800 },
		{ 3, HEALTH_SEL_OVER_TEMPERATURE, true, 1796130000 }, /* -01:00 */
		{ 4, HEALTH_SEL_FAN, true, 0 },               /* no Created */
		{ 5, HEALTH_SEL_ECC_UNCORRECTABLE, false, 0 },
		{ 6, HEALTH_SEL_POWER_SUPPLY, true, 0 },
	};
	struct health_reading r = { 0 };
	struct dl_err e = { 0 };
	size_t len;
	char *b = fixture("entries.json", &len);

	(void)state;
	assert_int_equal(redfish_json_log_entries(b, len, 0, &r, &e), 0);
	assert_int_equal(r.n_sel, ELEMENTSOF(want));
	assert_int_equal(r.sel_last_id, 6);
	assert_false(r.sel_reset);
	for (size_t i = 0; i < ELEMENTSOF(want); i++) {
		if (r.sel[i].record_id != want[i].id || r.sel[i].cls != want[i].cls ||
		    r.sel[i].assertion != want[i].assertion || r.sel[i].timestamp != want[i].ts)
			fail_msg("entry %zu: id %u class %s assertion %d time %u", i,
			    r.sel[i].record_id, health_sel_class_to_string(r.sel[i].cls),
			    r.sel[i].assertion, r.sel[i].timestamp);
	}
	assert_string_equal(r.sel[1].sensor, "DIMM A1");
	assert_string_equal(r.sel[1].event, "Correctable ECC");
	assert_int_equal(r.sel[1].sensor_type, 0x0c);
	health_reading_done(&r);

	/* only what is new after id 3 */
	assert_int_equal(redfish_json_log_entries(b, len, 3, &r, &e), 0);
	assert_int_equal(r.n_sel, 3);
	assert_int_equal(r.sel[0].record_id, 4);
	assert_false(r.sel_reset);
	health_reading_done(&r);

	/* every id below the last one seen: the log was cleared, all are new */
	assert_int_equal(redfish_json_log_entries(b, len, 10, &r, &e), 0);
	assert_int_equal(r.n_sel, 6);
	assert_true(r.sel_reset);
	health_reading_done(&r);
	free(b);
}

static void
test_classify(void **state)
{
	static const struct {
		int line;
		const char *type, *code, *msgid;
		enum health_sensor_state sev;
		enum health_sel_class want;
	} v[] = {
		{ __LINE__, "Memory", "Assert", "OpenBMC.0.1.MemoryECCCorrectable",
		    HEALTH_SENSOR_WARNING, HEALTH_SEL_ECC_CORRECTABLE },
		/* "Uncorrectable" contains "correctable": the longer key wins */
		{ __LINE__, "Memory", "Assert", "OpenBMC.0.1.MemoryECCUncorrectable",
		    HEALTH_SENSOR_CRITICAL, HEALTH_SEL_ECC_UNCORRECTABLE },
		{ __LINE__, NULL, NULL, "OpenBMC.0.1.CPUThermalTrip", HEALTH_SENSOR_CRITICAL,
		    HEALTH_SEL_OVER_TEMPERATURE },
		/* thresholds by EntryCode: only the upper critical ones of a temperature */
		{ __LINE__, "Temperature", "Upper Critical - going high", NULL,
		    HEALTH_SENSOR_CRITICAL, HEALTH_SEL_OVER_TEMPERATURE },
		{ __LINE__, "Temperature", "Upper Non-critical - going high", NULL,
		    HEALTH_SENSOR_WARNING, HEALTH_SEL_OTHER },
		{ __LINE__, "Temperature", "Lower Critical - going low", NULL,
		    HEALTH_SENSOR_CRITICAL, HEALTH_SEL_OTHER },
		{ __LINE__, "Fan", "Lower Critical - going low", NULL, HEALTH_SENSOR_CRITICAL,
		    HEALTH_SEL_FAN },
		{ __LINE__, "Fan", "Lower Non-critical - going low", NULL, HEALTH_SENSOR_WARNING,
		    HEALTH_SEL_OTHER },
		/* DMTF SensorEvent: the threshold from the message, the sensor from the entry */
		{ __LINE__, "Temperature", NULL, "SensorEvent.1.0.ReadingAboveUpperCriticalThreshold",
		    HEALTH_SENSOR_CRITICAL, HEALTH_SEL_OVER_TEMPERATURE },
		/* a discrete fan or PSU event nobody names: its severity decides, as IPMI's */
		{ __LINE__, "Fan", "Assert", "Oem.1.0.FanRedundancyLost", HEALTH_SENSOR_CRITICAL,
		    HEALTH_SEL_FAN },
		{ __LINE__, "Power Supply / Converter", "Assert", NULL, HEALTH_SENSOR_NOMINAL,
		    HEALTH_SEL_OTHER },
		{ __LINE__, "Power Supply / Converter", "Assert", "OpenBMC.0.1.PowerSupplyACLost",
		    HEALTH_SENSOR_WARNING, HEALTH_SEL_POWER_SUPPLY },
		{ __LINE__, NULL, NULL, NULL, HEALTH_SENSOR_CRITICAL, HEALTH_SEL_OTHER },
		{ __LINE__, "Processor", "Assert", "Oem.1.0.Unknown", HEALTH_SENSOR_CRITICAL,
		    HEALTH_SEL_OTHER },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		uint8_t t, et, off;
		bool a;
		enum health_sel_class c = health_sel_classify_redfish(v[i].type, v[i].code,
		    v[i].msgid, v[i].sev, &t, &et, &off, &a);

		if (c != v[i].want)
			fail_msg("line %d: got %s, want %s", v[i].line,
			    health_sel_class_to_string(c), health_sel_class_to_string(v[i].want));
	}
}

static void
test_malformed(void **state)
{
	static const struct {
		int line;
		const char *json;
		const char *msg;
	} v[] = {
		{ __LINE__, "{\"PowerState\":\"On\",\"Actions\":{", "malformed JSON" },
		{ __LINE__, "[]", "not a JSON object" },
		{ __LINE__, "{}", "no PowerState" },
		{ __LINE__, "{\"PowerState\":7}", "no PowerState" },
		{ __LINE__, "{\"PowerState\":\"Sideways\"}", "unknown PowerState" },
		{ __LINE__, "{\"PowerState\":\"On\",\"PowerState\":\"Off\"}", "malformed JSON" },
		{ __LINE__, "{\"PowerState\":\"On\",\"Actions\":{\"#ComputerSystem.Reset\":"
		    "{\"target\":\"http://elsewhere/\"}}}", "not a short path" },
	};
	struct redfish_system s;
	struct redfish_root rt;
	struct health_reading r = { 0 };
	char uri[REDFISH_MAX_URI];
	char longlink[REDFISH_MAX_URI + 64];

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		struct dl_err e = { 0 };

		check_r_at(__FILE__, v[i].line, "system",
		    redfish_json_system(v[i].json, strlen(v[i].json), &s, &e), &e, -EBADMSG,
		    v[i].msg);
	}
	{
		struct dl_err e = { 0 };
		static const char none[] = "{\"Chassis\":{\"@odata.id\":\"/redfish/v1/Chassis\"}}";
		int r0 = redfish_json_root(none, strlen(none), &rt, &e);

		check_r_at(__FILE__, __LINE__, "root", r0, &e, -EBADMSG, "no Systems");
	}
	{
		struct dl_err e = { 0 };
		int n = snprintf(longlink, sizeof(longlink), "{\"Members\":[{\"@odata.id\":\"/%0*d\"}]}",
		    REDFISH_MAX_URI, 0);

		check_r_at(__FILE__, __LINE__, "members",
		    redfish_json_first_member(longlink, (size_t)n, uri, &e), &e, -EBADMSG,
		    "no usable @odata.id");
	}
	{
		struct dl_err e = { 0 };
		static const char bad[] = "{\"Temperatures\":{\"Name\":\"x\"}}";

		check_r_at(__FILE__, __LINE__, "thermal",
		    redfish_json_thermal(bad, strlen(bad), &r, &e), &e, -EBADMSG, "not an array");
		health_reading_done(&r);
	}
	{
		struct dl_err e = { 0 };
		static const char bad[] = "{\"Members\":[1]}";

		check_r_at(__FILE__, __LINE__, "entries",
		    redfish_json_log_entries(bad, strlen(bad), 0, &r, &e), &e, -EBADMSG,
		    "not an object");
		health_reading_done(&r);
	}
}

/* More sensors than MAX_HEALTH_SENSORS: kept up to the cap, the rest counted. */
static void
test_caps(void **state)
{
	size_t size = 64 + (MAX_HEALTH_SENSORS + 10) * 40, n = 0;
	char *b = malloc(size);
	struct health_reading r = { 0 };
	struct dl_err e = { 0 };

	(void)state;
	assert_non_null(b);
	n += (size_t)snprintf(b + n, size - n, "{\"Fans\":[");
	for (int i = 0; i < MAX_HEALTH_SENSORS + 10; i++)
		n += (size_t)snprintf(b + n, size - n, "%s{\"Name\":\"F%d\",\"Reading\":%d}",
		    i ? "," : "", i, 1000 + i);
	n += (size_t)snprintf(b + n, size - n, "]}");
	assert_int_equal(redfish_json_thermal(b, n, &r, &e), 0);
	assert_int_equal(r.n_sensors, MAX_HEALTH_SENSORS);
	assert_int_equal(r.n_sensors_dropped, 10);
	health_reading_done(&r);
	free(b);
}

/* ProtocolFeaturesSupported.ExpandQuery: "$expand=.($levels=1)" only when the service
 * says NoLinks and Levels (DSP0266 §7.3.1), and a MaxLevels, when given, of at least 1. */
static void
test_root_expand(void **state)
{
	static const struct {
		int line;
		const char *eq;
		bool want;
	} v[] = {
		{ __LINE__, "{\"ExpandAll\":true,\"Levels\":true,\"Links\":true,\"NoLinks\":true,"
		    "\"MaxLevels\":6}", true },
		{ __LINE__, "{\"NoLinks\":true,\"Levels\":true}", true },
		{ __LINE__, "{\"NoLinks\":true,\"Levels\":false,\"MaxLevels\":3}", false },
		{ __LINE__, "{\"NoLinks\":true}", false },
		{ __LINE__, "{\"ExpandAll\":true,\"Levels\":true}", false },
		{ __LINE__, "{\"NoLinks\":true,\"Levels\":true,\"MaxLevels\":0}", false },
		{ __LINE__, "{\"NoLinks\":\"yes\",\"Levels\":true}", false },
		{ __LINE__, "true", false },
	};
	char buf[512];
	size_t len;
	char *b = fixture("root.json", &len);
	struct redfish_root rt;
	struct dl_err e = { 0 };

	(void)state;
	/* an iDRAC-shaped root without ProtocolFeaturesSupported: no expand */
	assert_int_equal(redfish_json_root(b, len, &rt, &e), 0);
	assert_false(rt.expand_levels);
	free(b);
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		int n = snprintf(buf, sizeof(buf), "{\"Systems\":{\"@odata.id\":\"/redfish/v1/Systems\"},"
		    "\"ProtocolFeaturesSupported\":{\"ExpandQuery\":%s}}", v[i].eq);

		_assert_int_equal(redfish_json_root(buf, (size_t)n, &rt, &e), 0, __FILE__,
		    v[i].line);
		_assert_int_equal(rt.expand_levels, v[i].want, __FILE__, v[i].line);
	}
}

/* A page of entries: ids first..first+n-1 (as "Id", or no Id when !with_id), and next
 * as its nextLink (NULL: none; a JSON value when raw). */
static size_t
page(char *buf, size_t size, int first, int n, bool with_id, const char *next, bool raw)
{
	size_t k = 0;

	k += (size_t)snprintf(buf + k, size - k, "{\"Members\":[");
	for (int i = 0; i < n; i++) {
		if (with_id)
			k += (size_t)snprintf(buf + k, size - k, "%s{\"Id\":\"%d\",\"SensorType\":"
			    "\"Memory\",\"EntryCode\":\"Assert\",\"MessageId\":\"OpenBMC.0.1."
			    "MemoryECCCorrectable\",\"Severity\":\"Warning\",\"Name\":\"DIMM\"}",
			    i ? "," : "", first + i);
		else
			k += (size_t)snprintf(buf + k, size - k, "%s{\"Name\":\"E%d\"}", i ? "," : "",
			    first + i);
	}
	k += (size_t)snprintf(buf + k, size - k, "]");
	if (next && raw)
		k += (size_t)snprintf(buf + k, size - k, ",\"Members@odata.nextLink\":%s", next);
	else if (next)
		k += (size_t)snprintf(buf + k, size - k, ",\"Members@odata.nextLink\":\"%s\"", next);
	k += (size_t)snprintf(buf + k, size - k, "}");
	assert_true(k < size);
	return k;
}

#define E "/redfish/v1/Systems/1/LogServices/SEL/Entries"

/* Three pages (ids 1-3, 4-5, 6) walked as health_redfish.c walks them. */
static void
walk3(uint32_t after, bool with_id, struct health_reading *r, struct redfish_log_walk *w)
{
	static const struct {
		int first, n;
		const char *uri, *next;
	} pages[] = {
		{ 1, 3, E, E "?$skip=3" },
		{ 4, 2, E "?$skip=3", E "?$skip=5" },
		{ 6, 1, E "?$skip=5", NULL },
	};
	char buf[4096], uri[REDFISH_MAX_URI];
	struct dl_err e = { 0 };

	redfish_json_log_init(w, after, E);
	for (size_t i = 0; i < ELEMENTSOF(pages); i++) {
		size_t n = page(buf, sizeof(buf), pages[i].first, pages[i].n, with_id,
		    pages[i].next, false);

		assert_int_equal(redfish_json_log_page(buf, n, w, r, &e), 0);
		assert_int_equal(redfish_json_log_next(w, uri, &e), pages[i].next ? 1 : 0);
		if (pages[i].next)
			assert_string_equal(uri, pages[i].next);
	}
	redfish_json_log_end(w, r);
}

static void
test_log_pages(void **state)
{
	struct redfish_log_walk *w = calloc(1, sizeof(*w));
	struct health_reading r = { 0 };

	(void)state;
	assert_non_null(w);
	walk3(0, true, &r, w);
	assert_int_equal(r.n_sel, 6);
	assert_int_equal(r.sel_last_id, 6);
	assert_int_equal(w->n_pages, 3);
	for (size_t i = 0; i < r.n_sel; i++) {
		assert_int_equal(r.sel[i].record_id, i + 1);
		assert_int_equal(r.sel[i].cls, HEALTH_SEL_ECC_CORRECTABLE);
	}
	assert_false(r.sel_reset);
	health_reading_done(&r);

	/* new since the last poll: only what is above it, wherever its page */
	walk3(4, true, &r, w);
	assert_int_equal(r.n_sel, 2);
	assert_int_equal(r.sel[0].record_id, 5);
	assert_int_equal(r.sel[1].record_id, 6);
	assert_int_equal(r.sel_last_id, 6);
	health_reading_done(&r);
	walk3(6, true, &r, w);
	assert_int_equal(r.n_sel, 0);
	assert_false(r.sel_reset);
	health_reading_done(&r);

	/* all below the last poll's id, the whole log read: it was cleared */
	walk3(10, true, &r, w);
	assert_int_equal(r.n_sel, 6);
	assert_true(r.sel_reset);
	health_reading_done(&r);

	/* no decimal Id: positions over the whole collection, not per page */
	walk3(2, false, &r, w);
	assert_int_equal(r.n_sel, 4);
	assert_int_equal(r.sel[0].record_id, 3);
	assert_string_equal(r.sel[0].sensor, "E3");
	assert_int_equal(r.sel[3].record_id, 6);
	assert_int_equal(r.sel_last_id, 6);
	health_reading_done(&r);
	free(w);
}

/* nextLinks that must stop the walk, never loop: each keeps what was read. */
static void
test_log_pages_bad(void **state)
{
	static const struct {
		int line;
		const char *next;
		int want;
		const char *msg;
	} v[] = {
		{ __LINE__, E, -ELOOP, "is page 1 again" },
		{ __LINE__, "https://evil.example/redfish/v1/x", -EBADMSG, "not a path under /redfish/v1/" },
		{ __LINE__, "/redfish/v2/Entries?page=2", -EBADMSG, "not a path under" },
		{ __LINE__, "/redfish/v1/../../etc/passwd", -EBADMSG, "not a path under" },
		{ __LINE__, "/redfish/v1/x y", -EBADMSG, "not a path under" },
		{ __LINE__, "", -EBADMSG, "not a path under" },
	};
	struct redfish_log_walk *w = calloc(1, sizeof(*w));
	struct health_reading r = { 0 };
	char buf[4096], uri[REDFISH_MAX_URI], longnext[REDFISH_MAX_URI + 32];
	size_t n;

	(void)state;
	assert_non_null(w);
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		struct dl_err e = { 0 };

		redfish_json_log_init(w, 100, E);
		n = page(buf, sizeof(buf), 1, 3, true, v[i].next, false);
		_assert_int_equal(redfish_json_log_page(buf, n, w, &r, &e), 0, __FILE__,
		    v[i].line);
		check_r_at(__FILE__, v[i].line, "next", redfish_json_log_next(w, uri, &e), &e,
		    v[i].want, v[i].msg);
		_assert_true(w->truncated, "truncated", __FILE__, v[i].line);
		redfish_json_log_end(w, &r);
		/* a walk cut short is no proof of a cleared log: nothing new, no reset */
		_assert_int_equal(r.n_sel, 0, __FILE__, v[i].line);
		_assert_true(!r.sel_reset, "no reset", __FILE__, v[i].line);
		_assert_int_equal(r.sel_last_id, 3, __FILE__, v[i].line);
		health_reading_done(&r);
	}
	/* too long to keep whole */
	{
		struct dl_err e = { 0 };
		int k = snprintf(longnext, sizeof(longnext), "/redfish/v1/%0*d", REDFISH_MAX_URI, 7);

		assert_true(k > 0);
		redfish_json_log_init(w, 0, E);
		n = page(buf, sizeof(buf), 1, 1, true, longnext, false);
		assert_int_equal(redfish_json_log_page(buf, n, w, &r, &e), 0);
		check_r_at(__FILE__, __LINE__, "long", redfish_json_log_next(w, uri, &e), &e,
		    -EBADMSG, "of under 256 bytes");
		redfish_json_log_end(w, &r);
		assert_int_equal(r.n_sel, 1);
		health_reading_done(&r);
	}
	/* not a string: the page is malformed */
	{
		struct dl_err e = { 0 };

		redfish_json_log_init(w, 0, E);
		n = page(buf, sizeof(buf), 1, 1, true, "[\"" E "\"]", true);
		check_r_at(__FILE__, __LINE__, "page", redfish_json_log_page(buf, n, w, &r, &e), &e,
		    -EBADMSG, "nextLink is not a string");
		health_reading_done(&r);
	}
	/* the first page again under another URI: caught a page later, its entries once */
	{
		struct dl_err e = { 0 };

		redfish_json_log_init(w, 0, E);
		n = page(buf, sizeof(buf), 1, 3, true, E "?$skip=3", false);
		assert_int_equal(redfish_json_log_page(buf, n, w, &r, &e), 0);
		assert_int_equal(redfish_json_log_next(w, uri, &e), 1);
		n = page(buf, sizeof(buf), 4, 2, true, E "?$skip=0", false);
		assert_int_equal(redfish_json_log_page(buf, n, w, &r, &e), 0);
		assert_int_equal(redfish_json_log_next(w, uri, &e), 1);
		n = page(buf, sizeof(buf), 1, 3, true, E "?$skip=3", false);
		assert_int_equal(redfish_json_log_page(buf, n, w, &r, &e), 0);
		check_r_at(__FILE__, __LINE__, "alias", redfish_json_log_next(w, uri, &e), &e,
		    -ELOOP, "of page 3 is page 2 again");
		redfish_json_log_end(w, &r);
		assert_int_equal(r.n_sel, 5);
		for (size_t i = 0; i < r.n_sel; i++)
			assert_int_equal(r.sel[i].record_id, i + 1);
		assert_int_equal(r.n_sel_dropped, 0);
		health_reading_done(&r);
	}
	/* a cycle of two: page 2 points back to page 2 */
	{
		struct dl_err e = { 0 };

		redfish_json_log_init(w, 0, E);
		n = page(buf, sizeof(buf), 1, 1, true, E "?p=2", false);
		assert_int_equal(redfish_json_log_page(buf, n, w, &r, &e), 0);
		assert_int_equal(redfish_json_log_next(w, uri, &e), 1);
		n = page(buf, sizeof(buf), 2, 1, true, E "?p=2", false);
		assert_int_equal(redfish_json_log_page(buf, n, w, &r, &e), 0);
		check_r_at(__FILE__, __LINE__, "cycle", redfish_json_log_next(w, uri, &e), &e,
		    -ELOOP, "of page 2 is page 2 again");
		redfish_json_log_end(w, &r);
		assert_int_equal(r.n_sel, 2);
		health_reading_done(&r);
	}
	free(w);
}

/* A log that never ends: at most REDFISH_MAX_LOG_PAGES pages, REDFISH_MAX_LOG_ENTRIES
 * entries; the newest MAX_HEALTH_SEL_NEW kept, the other new ones counted. */
static void
test_log_pages_caps(void **state)
{
	struct redfish_log_walk *w = calloc(1, sizeof(*w));
	struct health_reading r = { 0 };
	size_t size = 64 + (size_t)REDFISH_MAX_LOG_ENTRIES * 24, n, pages = 0;
	char *buf = malloc(size), uri[REDFISH_MAX_URI], next[64];
	struct dl_err e = { 0 };
	int k;

	(void)state;
	assert_non_null(w);
	assert_non_null(buf);
	redfish_json_log_init(w, 0, E);
	do {
		snprintf(next, sizeof(next), E "?page=%zu", pages + 2);
		n = page(buf, size, (int)pages * 10 + 1, 10, true, next, false);
		assert_int_equal(redfish_json_log_page(buf, n, w, &r, &e), 0);
		pages++;
		assert_true(pages <= REDFISH_MAX_LOG_PAGES);
	} while ((k = redfish_json_log_next(w, uri, &e)) > 0);
	check_r_at(__FILE__, __LINE__, "pages", k, &e, -E2BIG, "more than 32 pages");
	assert_int_equal(pages, REDFISH_MAX_LOG_PAGES);
	redfish_json_log_end(w, &r);
	assert_int_equal(r.n_sel, REDFISH_MAX_LOG_PAGES * 10);
	health_reading_done(&r);

	/* one page of more entries than the cap: the rest not read */
	redfish_json_log_init(w, 0, E);
	n = page(buf, size, 1, REDFISH_MAX_LOG_ENTRIES + 5, false, E "?page=2", false);
	assert_int_equal(redfish_json_log_page(buf, n, w, &r, &e), 0);
	assert_true(w->truncated);
	assert_int_equal(w->n_entries, REDFISH_MAX_LOG_ENTRIES);
	check_r_at(__FILE__, __LINE__, "entries", redfish_json_log_next(w, uri, &e), &e, -E2BIG,
	    "more than 16384 (REDFISH_MAX_LOG_ENTRIES)");
	redfish_json_log_end(w, &r);
	assert_int_equal(r.n_sel, MAX_HEALTH_SEL_NEW);
	assert_int_equal(r.n_sel_dropped, REDFISH_MAX_LOG_ENTRIES - MAX_HEALTH_SEL_NEW);
	assert_int_equal(r.sel[MAX_HEALTH_SEL_NEW - 1].record_id, REDFISH_MAX_LOG_ENTRIES);
	assert_int_equal(r.sel_last_id, REDFISH_MAX_LOG_ENTRIES);
	health_reading_done(&r);
	free(buf);
	free(w);
}

#undef E

/* Sensors (Sensor.v1, OpenBMC-shaped, expanded): the same readings Thermal and Power
 * give. */
static void
test_sensors(void **state)
{
	struct health_reading r = { 0 };
	struct dl_err e = { 0 };
	const struct health_sensor *s;
	char links[4][REDFISH_MAX_URI];
	size_t len, n = 99;
	char *b = fixture("sensors.json", &len);
	double c = 0;
	static const char one[] = "{\"@odata.id\":\"/redfish/v1/Chassis/1/Sensors/t\",\"Id\":"
	    "\"t\",\"ReadingType\":\"Temperature\",\"Reading\":40,\"Status\":{\"State\":"
	    "\"Enabled\",\"Health\":\"OK\"},\"Thresholds\":{\"UpperCritical\":{\"Reading\":85}}}";
	static const char linked[] = "{\"Members\":[{\"@odata.id\":\"/redfish/v1/Chassis/1/Sensors/a\"},"
	    "{\"@odata.id\":\"/redfish/v1/Chassis/1/Sensors/b\"}]}";

	(void)state;
	assert_int_equal(redfish_json_sensors(b, len, &r, links, 4, &n, &e), 0);
	free(b);
	assert_int_equal(n, 0);         /* all expanded: nothing to GET */
	assert_int_equal(r.n_sensors, 6); /* the voltage is no rule's */
	s = sensor(&r, "CPU0 Temp");
	assert_int_equal(s->type, 0x01);
	assert_string_equal(s->units, "C");
	assert_int_equal(s->state, HEALTH_SENSOR_CRITICAL); /* BMC says Warning; 91.5 >= 85 */
	assert_string_equal(s->condition, "upper critical");
	s = sensor(&r, "Inlet Temp");
	assert_int_equal(s->state, HEALTH_SENSOR_NOMINAL);
	assert_string_equal(s->condition, "");
	s = sensor(&r, "Fan0");
	assert_int_equal(s->type, 0x04);
	assert_string_equal(s->units, "RPM");
	assert_int_equal(s->state, HEALTH_SENSOR_CRITICAL);
	assert_string_equal(s->condition, "lower critical");
	s = sensor(&r, "Fan1 PWM");
	assert_int_equal(s->type, 0x04);
	assert_string_equal(s->units, "%");
	s = sensor(&r, "Total Power");
	assert_int_equal(s->type, 0x08);
	assert_string_equal(s->units, "W");
	/* the chassis total, not a supply's input */
	assert_int_equal(health_power_watts(&r), 287);
	assert_true(health_temperature_c(&r, &c));
	assert_true(c > 91.4 && c < 91.6);
	health_reading_done(&r);

	/* not expanded: the links to GET, each one a Sensor */
	assert_int_equal(redfish_json_sensors(linked, strlen(linked), &r, links, 4, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(links[1], "/redfish/v1/Chassis/1/Sensors/b");
	assert_int_equal(r.n_sensors, 0);
	assert_int_equal(redfish_json_sensor(one, strlen(one), &r, &e), 0);
	assert_int_equal(r.n_sensors, 1);
	assert_string_equal(r.sensors[0].name, "t"); /* no Name: its Id */
	assert_int_equal(r.sensors[0].state, HEALTH_SENSOR_NOMINAL);
	health_reading_done(&r);
	/* more links than the caller GETs: counted as dropped */
	assert_int_equal(redfish_json_sensors(linked, strlen(linked), &r, links, 1, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(r.n_sensors_dropped, 1);
	health_reading_done(&r);
}

static void
test_sensors_malformed(void **state)
{
	static const struct {
		int line;
		bool collection;
		const char *json, *msg;
	} v[] = {
		{ __LINE__, true, "{\"Members\":{}}", "no Members array" },
		{ __LINE__, true, "{}", "no Members array" },
		{ __LINE__, true, "{\"Members\":[7]}", "member 0 is not an object" },
		{ __LINE__, true, "{\"Members\":[{\"@odata.id\":\"http://x/\"}]}", "no usable @odata.id" },
		{ __LINE__, true, "{\"Members\":[{}]}", "no usable @odata.id" },
		{ __LINE__, true, "{\"Members\":[{\"ReadingType\":7,\"Reading\":1}]}",
		    "ReadingType is not a string" },
		{ __LINE__, true, "{\"Members\":[", "malformed JSON" },
		{ __LINE__, false, "{\"ReadingType\":[]}", "ReadingType is not a string" },
		{ __LINE__, false, "[]", "not a JSON object" },
		{ __LINE__, false, "{\"ReadingType\":\"Power\",\"ReadingType\":\"Power\"}",
		    "malformed JSON" },
	};
	char links[2][REDFISH_MAX_URI];

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		struct health_reading r = { 0 };
		struct dl_err e = { 0 };
		size_t n = 0;
		int k = v[i].collection ?
		    redfish_json_sensors(v[i].json, strlen(v[i].json), &r, links, 2, &n, &e) :
		    redfish_json_sensor(v[i].json, strlen(v[i].json), &r, &e);

		check_r_at(__FILE__, v[i].line, "sensors", k, &e, -EBADMSG, v[i].msg);
		health_reading_done(&r);
	}
	/* missing fields are no error: no reading, no verdict; a non-number reading none */
	{
		static const char bare[] = "{\"ReadingType\":\"Temperature\",\"Reading\":\"hot\","
		    "\"Thresholds\":7}";
		struct health_reading r = { 0 };
		struct dl_err e = { 0 };

		assert_int_equal(redfish_json_sensor(bare, strlen(bare), &r, &e), 0);
		assert_int_equal(r.n_sensors, 1);
		assert_false(r.sensors[0].has_reading);
		assert_int_equal(r.sensors[0].state, HEALTH_SENSOR_UNKNOWN);
		health_reading_done(&r);
	}
}

/* More expanded sensors than MAX_HEALTH_SENSORS: kept up to the cap, the rest counted. */
static void
test_sensors_caps(void **state)
{
	size_t size = 64 + (MAX_HEALTH_SENSORS + 10) * 64, n = 0, nl = 0;
	char *b = malloc(size);
	char links[1][REDFISH_MAX_URI];
	struct health_reading r = { 0 };
	struct dl_err e = { 0 };

	(void)state;
	assert_non_null(b);
	n += (size_t)snprintf(b + n, size - n, "{\"Members\":[");
	for (int i = 0; i < MAX_HEALTH_SENSORS + 10; i++)
		n += (size_t)snprintf(b + n, size - n,
		    "%s{\"Name\":\"T%d\",\"ReadingType\":\"Temperature\",\"Reading\":%d}",
		    i ? "," : "", i, 30 + i % 10);
	n += (size_t)snprintf(b + n, size - n, "]}");
	assert_int_equal(redfish_json_sensors(b, n, &r, links, 1, &nl, &e), 0);
	assert_int_equal(r.n_sensors, MAX_HEALTH_SENSORS);
	assert_int_equal(r.n_sensors_dropped, 10);
	health_reading_done(&r);
	free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root),
		cmocka_unit_test(test_system),
		cmocka_unit_test(test_reset_choose),
		cmocka_unit_test(test_thermal_power),
		cmocka_unit_test(test_log_entries),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_root_expand),
		cmocka_unit_test(test_log_pages),
		cmocka_unit_test(test_log_pages_bad),
		cmocka_unit_test(test_log_pages_caps),
		cmocka_unit_test(test_sensors),
		cmocka_unit_test(test_sensors_malformed),
		cmocka_unit_test(test_sensors_caps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
