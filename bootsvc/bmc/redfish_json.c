/* SPDX-License-Identifier: MIT */
/* Redfish JSON -> the client's structs (redfish_json.h). Anything a BMC sends is outside
 * input: every field is type-checked, strings are copied bounded, arrays are capped. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "bmc/redfish_json.h"
#include "health/sel_class.h"
#include "name_table.h"

static const char *const reset_table[_REDFISH_RESET_MAX] = {
	[REDFISH_RESET_ON] = "On",
	[REDFISH_RESET_FORCE_OFF] = "ForceOff",
	[REDFISH_RESET_GRACEFUL_SHUTDOWN] = "GracefulShutdown",
	[REDFISH_RESET_FORCE_RESTART] = "ForceRestart",
	[REDFISH_RESET_FORCE_ON] = "ForceOn",
	[REDFISH_RESET_POWER_CYCLE] = "PowerCycle",
	[REDFISH_RESET_GRACEFUL_RESTART] = "GracefulRestart",
};

DEFINE_NAME_TABLE_LOOKUP(redfish_reset, enum redfish_reset, reset_table, _REDFISH_RESET_INVALID)

enum redfish_reset
redfish_reset_choose(enum redfish_reset want, unsigned allowed)
{
	static const enum redfish_reset on[] = { REDFISH_RESET_ON, REDFISH_RESET_FORCE_ON };
	static const enum redfish_reset off[] = { REDFISH_RESET_FORCE_OFF,
		REDFISH_RESET_GRACEFUL_SHUTDOWN };
	static const enum redfish_reset restart[] = { REDFISH_RESET_FORCE_RESTART,
		REDFISH_RESET_POWER_CYCLE, REDFISH_RESET_GRACEFUL_RESTART };
	const enum redfish_reset *pref;
	size_t n;

	switch (want) {
	case REDFISH_RESET_ON:
		pref = on, n = ELEMENTSOF(on);
		break;
	case REDFISH_RESET_FORCE_OFF:
		pref = off, n = ELEMENTSOF(off);
		break;
	case REDFISH_RESET_FORCE_RESTART:
		pref = restart, n = ELEMENTSOF(restart);
		break;
	default:
		return _REDFISH_RESET_INVALID;
	}
	/* A BMC that lists no allowable values accepts the schema's: take the first. */
	if (allowed == 0)
		return pref[0];
	for (size_t i = 0; i < n; i++)
		if (allowed & (1u << pref[i]))
			return pref[i];
	return (enum redfish_reset)-ENOTSUP;
}

static int
load(const char *buf, size_t len, json_t **ret, struct dl_err *reterr)
{
	json_error_t jerr;
	json_t *j;

	/* JSON_REJECT_DUPLICATES: two PowerState keys would make "which one" our guess. */
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		return dl_err_set(reterr, -EBADMSG, "malformed JSON at line %d: %s", jerr.line,
		    jerr.text);
	if (!json_is_object(j)) {
		json_decref(j);
		return dl_err_set(reterr, -EBADMSG, "malformed answer: not a JSON object");
	}
	*ret = j;
	return 0;
}

/* o[key] as a string, or NULL when absent or not a string. */
static const char *
str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* o[key]["@odata.id"] into ret. 0, -ENOENT when absent, -EBADMSG when too long. */
static int
uri_link(const json_t *o, const char *key, char ret[static REDFISH_MAX_URI],
    struct dl_err *reterr)
{
	const char *s = str(json_object_get(o, key), "@odata.id");

	ret[0] = '\0';
	if (!s)
		return -ENOENT;
	if (strlen(s) >= REDFISH_MAX_URI || s[0] != '/')
		return dl_err_set(reterr, -EBADMSG, "link '%s' is not a path of under %d bytes",
		    key, REDFISH_MAX_URI);
	strcpy(ret, s);
	return 0;
}

int
redfish_json_root(const char *buf, size_t len, struct redfish_root *ret,
    struct dl_err *reterr)
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	struct redfish_root rt = { 0 };
	const json_t *eq, *ml;
	int r;

	if ((r = load(buf, len, &j, reterr)) < 0)
		return r;
	if ((r = uri_link(j, "Systems", rt.systems, reterr)) < 0)
		return r == -ENOENT ? dl_err_set(reterr, -EBADMSG,
					  "service root has no Systems") : r;
	if ((r = uri_link(j, "Chassis", rt.chassis, reterr)) < 0 && r != -ENOENT)
		return r;
	if ((r = uri_link(j, "Managers", rt.managers, reterr)) < 0 && r != -ENOENT)
		return r;
	if ((r = uri_link(json_object_get(j, "Links"), "Sessions", rt.sessions, reterr)) < 0 &&
	    r != -ENOENT)
		return r;
	/* "$expand=.($levels=1)" needs both NoLinks (".") and Levels; a MaxLevels of 0 would
	 * refuse even one level. A service that does not say gets one GET per member. */
	eq = json_object_get(json_object_get(j, "ProtocolFeaturesSupported"), "ExpandQuery");
	ml = json_object_get(eq, "MaxLevels");
	rt.expand_levels = json_is_true(json_object_get(eq, "NoLinks")) &&
	    json_is_true(json_object_get(eq, "Levels")) &&
	    (!ml || (json_is_integer(ml) && json_integer_value(ml) >= 1));
	*ret = rt;
	return 0;
}

int
redfish_json_members(const char *buf, size_t len, char (*ret)[REDFISH_MAX_URI], size_t max,
    size_t *ret_n, struct dl_err *reterr)
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	json_t *m, *v;
	size_t i, n = 0;
	int r;

	if ((r = load(buf, len, &j, reterr)) < 0)
		return r;
	m = json_object_get(j, "Members");
	if (!json_is_array(m))
		return dl_err_set(reterr, -EBADMSG, "collection has no Members array");
	json_array_foreach(m, i, v) {
		const char *s = str(v, "@odata.id");

		if (n == max)
			break;
		if (!s || s[0] != '/' || strlen(s) >= REDFISH_MAX_URI)
			return dl_err_set(reterr, -EBADMSG,
			    "collection member %zu has no usable @odata.id", i);
		strcpy(ret[n++], s);
	}
	*ret_n = n;
	return 0;
}

int
redfish_json_first_member(const char *buf, size_t len, char ret[static REDFISH_MAX_URI],
    struct dl_err *reterr)
{
	size_t n = 0;
	int r;

	r = redfish_json_members(buf, len, (char (*)[REDFISH_MAX_URI])ret, 1, &n, reterr);
	if (r < 0)
		return r;
	if (n == 0)
		return dl_err_set(reterr, -EBADMSG, "collection is empty");
	return 0;
}

int
redfish_json_system(const char *buf, size_t len, struct redfish_system *ret,
    struct dl_err *reterr)
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	struct redfish_system s = { 0 };
	const char *ps, *target;
	json_t *action, *allowed, *v;
	size_t i;
	int r;

	if ((r = load(buf, len, &j, reterr)) < 0)
		return r;
	ps = str(j, "PowerState");
	if (!ps)
		return dl_err_set(reterr, -EBADMSG, "ComputerSystem has no PowerState");
	/* PowerState (Resource.PowerState): On, Off, PoweringOn, PoweringOff, Paused. A
	 * node powering off is still on (an off is not done yet); one powering on is not on
	 * yet, as IPMI's chassis power bit reads then. */
	if (streq(ps, "On") || streq(ps, "PoweringOff") || streq(ps, "Paused"))
		s.on = true;
	else if (streq(ps, "Off") || streq(ps, "PoweringOn"))
		s.on = false;
	else
		return dl_err_set(reterr, -EBADMSG, "unknown PowerState");
	action = json_object_get(json_object_get(j, "Actions"), "#ComputerSystem.Reset");
	target = str(action, "target");
	if (target) {
		if (target[0] != '/' || strlen(target) >= REDFISH_MAX_URI)
			return dl_err_set(reterr, -EBADMSG, "Reset target is not a short path");
		strcpy(s.reset_target, target);
	}
	allowed = json_object_get(action, "ResetType@Redfish.AllowableValues");
	json_array_foreach(allowed, i, v) {
		enum redfish_reset t = redfish_reset_from_string(json_string_value(v));

		if (t >= 0)
			s.reset_allowed |= 1u << t;
	}
	/* An allowable list naming none we know is still a list: nothing is allowed. Keep
	 * it distinguishable from "no list" (0) with a bit no reset type uses. */
	if (json_is_array(allowed) && json_array_size(allowed) && !s.reset_allowed)
		s.reset_allowed = 1u << _REDFISH_RESET_MAX;
	s.boot_override = json_is_object(json_object_get(j, "Boot"));
	if ((r = uri_link(j, "LogServices", s.log_services, reterr)) < 0 && r != -ENOENT)
		return r;
	*ret = s;
	return 0;
}

/* A sensor's name: control characters become '?', as health_ipmi.c does. */
static void
copy_name(char *dst, size_t size, const char *src)
{
	size_t i;

	for (i = 0; src && src[i] && i + 1 < size; i++)
		dst[i] = (unsigned char)src[i] < 0x20 || src[i] == 0x7f ? '?' : src[i];
	dst[i] = '\0';
}

static enum health_sensor_state
status_state(const json_t *o)
{
	const json_t *st = json_object_get(o, "Status");
	const char *h = str(st, "Health");
	const char *state = str(st, "State");

	/* Absent or disabled (Status.State): no reading, no verdict. */
	if (state && !streq(state, "Enabled"))
		return HEALTH_SENSOR_UNKNOWN;
	if (!h)
		return HEALTH_SENSOR_UNKNOWN;
	if (streq(h, "OK"))
		return HEALTH_SENSOR_NOMINAL;
	if (streq(h, "Warning"))
		return HEALTH_SENSOR_WARNING;
	if (streq(h, "Critical"))
		return HEALTH_SENSOR_CRITICAL;
	return HEALTH_SENSOR_UNKNOWN;
}

static bool
num(const json_t *o, const char *key, double *ret)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_number(v) || !isfinite(json_number_value(v)))
		return false;
	*ret = json_number_value(v);
	return true;
}

static struct health_sensor *
sensor_add(struct health_reading *r)
{
	struct health_sensor *s;

	if (r->n_sensors >= MAX_HEALTH_SENSORS) {
		r->n_sensors_dropped++;
		return NULL;
	}
	if (!r->sensors) {
		r->sensors = calloc(MAX_HEALTH_SENSORS, sizeof(*r->sensors));
		if (!r->sensors)
			return NULL;
	}
	s = &r->sensors[r->n_sensors++];
	*s = (struct health_sensor){ .state = HEALTH_SENSOR_UNKNOWN };
	return s;
}

/* The threshold the reading is beyond, worst first, and the state it implies: the same
 * words health_ipmi.c's threshold_condition() gives (eval.c prints them). Thermal and
 * Power members carry them as UpperThresholdCritical: 85; a Sensor (Sensor.v1) as
 * Thresholds: {UpperCritical: {Reading: 85}}, with Caution for NonCritical. */
static void
thresholds(const json_t *o, bool sensor_schema, double v, struct health_sensor *s)
{
	static const struct {
		const char *key, *sensor_key;
		bool upper;
		enum health_sensor_state state;
		const char *text;
	} t[] = {
		{ "UpperThresholdFatal", "UpperFatal", true, HEALTH_SENSOR_CRITICAL,
		    "upper non-recoverable" },
		{ "LowerThresholdFatal", "LowerFatal", false, HEALTH_SENSOR_CRITICAL,
		    "lower non-recoverable" },
		{ "UpperThresholdCritical", "UpperCritical", true, HEALTH_SENSOR_CRITICAL,
		    "upper critical" },
		{ "LowerThresholdCritical", "LowerCritical", false, HEALTH_SENSOR_CRITICAL,
		    "lower critical" },
		{ "UpperThresholdNonCritical", "UpperCaution", true, HEALTH_SENSOR_WARNING,
		    "upper non-critical" },
		{ "LowerThresholdNonCritical", "LowerCaution", false, HEALTH_SENSOR_WARNING,
		    "lower non-critical" },
	};
	const json_t *th_obj = sensor_schema ? json_object_get(o, "Thresholds") : NULL;
	double th;

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		if (sensor_schema ? !num(json_object_get(th_obj, t[i].sensor_key), "Reading", &th) :
				    !num(o, t[i].key, &th))
			continue;
		if (t[i].upper ? v >= th : v <= th) {
			snprintf(s->condition, sizeof(s->condition), "%s", t[i].text);
			/* the BMC's own Health wins when it says worse */
			if (s->state == HEALTH_SENSOR_UNKNOWN || s->state < t[i].state)
				s->state = t[i].state;
			return;
		}
	}
}

static int
sensor_array(const json_t *j, const char *array, const char *name_key, const char *value_key,
    uint8_t type, const char *units, struct health_reading *r, struct dl_err *reterr)
{
	const json_t *a = json_object_get(j, array), *o;
	size_t i;

	if (!a)
		return 0;
	if (!json_is_array(a))
		return dl_err_set(reterr, -EBADMSG, "'%s' is not an array", array);
	json_array_foreach(a, i, o) {
		struct health_sensor *s;
		const char *u = units;
		double v;

		if (!json_is_object(o))
			return dl_err_set(reterr, -EBADMSG, "'%s' member %zu is not an object",
			    array, i);
		s = sensor_add(r);
		if (!s) {
			if (r->n_sensors_dropped)
				continue;
			return -ENOMEM;
		}
		copy_name(s->name, sizeof(s->name), str(o, name_key) ? str(o, name_key) :
								       str(o, "MemberId"));
		s->type = type;
		s->state = status_state(o);
		/* Fans report RPM or Percent (ReadingUnits); anything else is kept as
		 * given, so no rule meant for RPM matches it. */
		if (type == 0x04 && str(o, "ReadingUnits") && streq(str(o, "ReadingUnits"), "Percent"))
			u = "%";
		if (num(o, value_key, &v)) {
			s->has_reading = true;
			s->reading = v;
			thresholds(o, false, v, s);
		}
		snprintf(s->units, sizeof(s->units), "%s", u);
		if (s->state == HEALTH_SENSOR_UNKNOWN && s->has_reading)
			s->state = HEALTH_SENSOR_NOMINAL;
	}
	return 0;
}

int
redfish_json_thermal(const char *buf, size_t len, struct health_reading *r,
    struct dl_err *reterr)
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	int k;

	if ((k = load(buf, len, &j, reterr)) < 0)
		return k;
	if ((k = sensor_array(j, "Temperatures", "Name", "ReadingCelsius", 0x01, "C", r,
		 reterr)) < 0)
		return k;
	/* Fans: "Reading" since Thermal 1.1; "Name" since 1.1 too (older: FanName). */
	if ((k = sensor_array(j, "Fans", "Name", "Reading", 0x04, "RPM", r, reterr)) < 0)
		return k;
	return 0;
}

int
redfish_json_power(const char *buf, size_t len, struct health_reading *r,
    struct dl_err *reterr)
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	int k;

	if ((k = load(buf, len, &j, reterr)) < 0)
		return k;
	/* PowerControl[].PowerConsumedWatts: the chassis' draw; health_power_watts() takes
	 * the largest W reading, as for IPMI's "Pwr Consumption". */
	if ((k = sensor_array(j, "PowerControl", "Name", "PowerConsumedWatts", 0x08, "W", r,
		 reterr)) < 0)
		return k;
	/* PowerSupplies[]: their health (failed, lost input) as power supply sensors; their
	 * LastPowerOutputWatts is not the node's draw, so it is no "W" reading. */
	if ((k = sensor_array(j, "PowerSupplies", "Name", "", 0x08, "", r, reterr)) < 0)
		return k;
	return 0;
}

/* An entry's time: Created is "2026-12-05T08:48:29+00:00" (or "Z"); 0 when absent or
 * unreadable, as an IPMI record without a timestamp. */
static uint32_t
created(const char *s)
{
	struct tm tm = { 0 };
	int off_h = 0, off_m = 0, n = 0;
	char sign = 0;
	long long t;

	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		      &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return 0;
	s += n;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			;
	if (*s == '+' || *s == '-') {
		sign = *s;
		if (sscanf(s + 1, "%2d:%2d", &off_h, &off_m) != 2)
			return 0;
	}
	if (tm.tm_year < 1970 || tm.tm_year > 2105 || tm.tm_mon < 1 || tm.tm_mon > 12 ||
	    tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 60 || off_h > 23 || off_m > 59 || off_h < 0 || off_m < 0)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = (long long)timegm(&tm);
	if (sign == '+')
		t -= off_h * 3600 + off_m * 60;
	else if (sign == '-')
		t += off_h * 3600 + off_m * 60;
	return t > 0 && t <= UINT32_MAX ? (uint32_t)t : 0;
}

static bool
decimal_id(const char *s, uint32_t *ret)
{
	unsigned long long v = 0;

	if (!s || !*s || strlen(s) > 10)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned)(*s - '0');
	}
	if (v == 0 || v > UINT32_MAX)
		return false;
	*ret = (uint32_t)v;
	return true;
}

/* A nextLink we follow: a path under the service (never another host: the session token
 * goes with it), short enough to be kept whole, with nothing a URL would have to escape
 * or that climbs out ("..", as a BMC's proxy might not resolve it as we do). */
static bool
next_link_ok(const char *s)
{
	if (strncmp(s, "/redfish/v1/", strlen("/redfish/v1/")) != 0 ||
	    strlen(s) >= REDFISH_MAX_URI || strstr(s, ".."))
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || *s == '#' || *s == '"' ||
		    *s == '\\')
			return false;
	return true;
}

void
redfish_json_log_init(struct redfish_log_walk *w, uint32_t sel_after, const char *first_uri)
{
	*w = (struct redfish_log_walk){ .sel_after = sel_after };
	(void)snprintf(w->seen[0], sizeof(w->seen[0]), "%s", first_uri ? first_uri : "");
}

/* One entry into r->sel, keeping the newest MAX_HEALTH_SEL_NEW of all seen (_end then
 * keeps those that are new). */
static int
log_entry_add(const json_t *o, uint32_t id, struct health_reading *r)
{
	struct health_sel_entry *e;
	const char *sev, *code, *stype, *msg;

	if (!r->sel) {
		r->sel = calloc(MAX_HEALTH_SEL_NEW, sizeof(*r->sel));
		if (!r->sel)
			return -ENOMEM;
	}
	if (r->n_sel == MAX_HEALTH_SEL_NEW) {
		/* keep the newest: drop the oldest */
		memmove(r->sel, r->sel + 1, (MAX_HEALTH_SEL_NEW - 1) * sizeof(*r->sel));
		r->n_sel--;
	}
	e = &r->sel[r->n_sel++];
	*e = (struct health_sel_entry){ .record_id = id };
	e->timestamp = created(str(o, "Created"));
	sev = str(o, "Severity");
	e->severity = !sev ? HEALTH_SENSOR_UNKNOWN : streq(sev, "OK") ?
	    HEALTH_SENSOR_NOMINAL : streq(sev, "Warning") ? HEALTH_SENSOR_WARNING :
	    streq(sev, "Critical") ? HEALTH_SENSOR_CRITICAL : HEALTH_SENSOR_UNKNOWN;
	code = str(o, "EntryCode");
	stype = str(o, "SensorType");
	msg = str(o, "Message");
	/* "Deassert" and the "going low" of an upper threshold are the condition going
	 * away; health_sel_classify_redfish() says which. */
	e->cls = health_sel_classify_redfish(stype, code, str(o, "MessageId"), e->severity,
	    &e->sensor_type, &e->event_type, &e->offset, &e->assertion);
	copy_name(e->sensor, sizeof(e->sensor), str(o, "Name"));
	copy_name(e->event, sizeof(e->event), msg ? msg : code);
	return 0;
}

int
redfish_json_log_page(const char *buf, size_t len, struct redfish_log_walk *w,
    struct health_reading *r, struct dl_err *reterr)
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	const json_t *m, *o, *next;
	size_t i;
	int k;

	w->next[0] = '\0';
	w->next_bad = false;
	if ((k = load(buf, len, &j, reterr)) < 0)
		return k;
	m = json_object_get(j, "Members");
	if (!json_is_array(m))
		return dl_err_set(reterr, -EBADMSG, "log entries: no Members array");
	next = json_object_get(j, "Members@odata.nextLink");
	if (next && !json_is_string(next))
		return dl_err_set(reterr, -EBADMSG,
		    "log entries: Members@odata.nextLink is not a string");
	json_array_foreach(m, i, o)
		if (!json_is_object(o))
			return dl_err_set(reterr, -EBADMSG, "log entry %zu is not an object",
			    w->n_entries + i);
	json_array_foreach(m, i, o) {
		uint32_t id;

		if (w->n_entries >= REDFISH_MAX_LOG_ENTRIES) {
			w->truncated = true;
			break;
		}
		/* Ids without a decimal Id are positions in the whole collection, so they
		 * count on over the pages. */
		if (!decimal_id(str(o, "Id"), &id))
			id = (uint32_t)(w->n_entries + 1);
		w->n_entries++;
		if (id > w->last)
			w->last = id;
		if (id > w->sel_after)
			w->n_new++;
		if ((k = log_entry_add(o, id, r)) < 0)
			return k;
	}
	w->n_pages++;
	if (next) {
		if (next_link_ok(json_string_value(next)))
			strcpy(w->next, json_string_value(next));
		else
			w->next_bad = true;
	}
	return 0;
}

int
redfish_json_log_next(struct redfish_log_walk *w, char ret[static REDFISH_MAX_URI],
    struct dl_err *reterr)
{
	if (w->truncated && w->n_entries >= REDFISH_MAX_LOG_ENTRIES)
		return dl_err_set(reterr, -E2BIG,
		    "log entries: more than %d (REDFISH_MAX_LOG_ENTRIES): the rest not read",
		    REDFISH_MAX_LOG_ENTRIES);
	if (w->next_bad) {
		/* not quoted: it is not a path we could print safely */
		w->truncated = true;
		return dl_err_set(reterr, -EBADMSG,
		    "log entries: Members@odata.nextLink of page %zu is not a path under "
		    "/redfish/v1/ of under %d bytes: the rest not read", w->n_pages,
		    REDFISH_MAX_URI);
	}
	if (!w->next[0])
		return 0;
	for (size_t i = 0; i < w->n_pages && i < REDFISH_MAX_LOG_PAGES; i++)
		if (streq(w->seen[i], w->next)) {
			w->truncated = true;
			return dl_err_set(reterr, -ELOOP,
			    "log entries: Members@odata.nextLink '%s' of page %zu is page %zu "
			    "again: the rest not read", w->next, w->n_pages, i + 1);
		}
	if (w->n_pages >= REDFISH_MAX_LOG_PAGES) {
		w->truncated = true;
		return dl_err_set(reterr, -E2BIG,
		    "log entries: more than %d pages (REDFISH_MAX_LOG_PAGES): the rest not read",
		    REDFISH_MAX_LOG_PAGES);
	}
	strcpy(w->seen[w->n_pages], w->next);
	strcpy(ret, w->next);
	return 1;
}

void
redfish_json_log_end(const struct redfish_log_walk *w, struct health_reading *r)
{
	uint32_t after = w->sel_after;
	size_t n = 0, n_new = w->n_new;

	/* As for IPMI, ids all below sel_after mean the log was cleared: all are new. Only
	 * over the whole log: a walk cut short may not have reached the newest ids, and
	 * would then call every poll a clear. */
	if (after && !w->n_new && w->last && w->last < after && !w->truncated) {
		r->sel_reset = true;
		after = 0;
		n_new = w->n_entries;
	}
	for (size_t i = 0; i < r->n_sel; i++) {
		bool dup = false;

		if (r->sel[i].record_id <= after)
			continue;
		/* A nextLink that names a page already read under another URI ("?$skip=0"
		 * for the first) is caught only one page later: its entries must not count
		 * twice. Ids are unique in a log; keep the first. */
		for (size_t k = 0; k < n && !dup; k++)
			dup = r->sel[k].record_id == r->sel[i].record_id;
		if (dup) {
			n_new = n_new ? n_new - 1 : 0;
			continue;
		}
		r->sel[n++] = r->sel[i];
	}
	r->n_sel = n;
	r->n_sel_dropped += n_new > n ? n_new - n : 0;
	r->sel_last_id = w->last;
}

int
redfish_json_log_entries(const char *buf, size_t len, uint32_t sel_after,
    struct health_reading *r, struct dl_err *reterr)
{
	_cleanup_free_ struct redfish_log_walk *w = calloc(1, sizeof(*w));
	int k;

	if (!w)
		return -ENOMEM;
	redfish_json_log_init(w, sel_after, NULL);
	if ((k = redfish_json_log_page(buf, len, w, r, reterr)) < 0)
		return k;
	redfish_json_log_end(w, r);
	return 0;
}

/* One Sensor object (a GET of it, or a member of an expanded collection) into r. */
static int
sensor_obj(const json_t *o, struct health_reading *r)
{
	const char *rt = str(o, "ReadingType"), *ru = str(o, "ReadingUnits");
	const char *ctx = str(o, "PhysicalContext");
	struct health_sensor *s;
	const char *units;
	uint8_t type;
	double v;

	if (!rt)
		return 0;
	if (streq(rt, "Temperature"))
		type = 0x01, units = "C";
	else if (streq(rt, "Rotational") || (streq(rt, "Percent") && ctx && streq(ctx, "Fan")))
		/* Fans: Rotational since Sensor 1.2, in RPM or % (ReadingUnits UCUM "RPM",
		 * "%"); before it, a fan's duty as Percent in the Fan context. */
		type = 0x04, units = (ru && streq(ru, "%")) || streq(rt, "Percent") ? "%" : "RPM";
	else if (streq(rt, "Power"))
		/* every watt sensor, the chassis total and each supply's input:
		 * health_power_watts() takes the largest, as for IPMI's */
		type = 0x08, units = "W";
	else
		return 0;
	s = sensor_add(r);
	if (!s)
		return r->n_sensors_dropped ? 0 : -ENOMEM;
	copy_name(s->name, sizeof(s->name), str(o, "Name") ? str(o, "Name") : str(o, "Id"));
	s->type = type;
	s->state = status_state(o);
	if (num(o, "Reading", &v)) {
		s->has_reading = true;
		s->reading = v;
		thresholds(o, true, v, s);
	}
	snprintf(s->units, sizeof(s->units), "%s", units);
	if (s->state == HEALTH_SENSOR_UNKNOWN && s->has_reading)
		s->state = HEALTH_SENSOR_NOMINAL;
	return 0;
}

int
redfish_json_sensor(const char *buf, size_t len, struct health_reading *r,
    struct dl_err *reterr)
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	int k;

	if ((k = load(buf, len, &j, reterr)) < 0)
		return k;
	if (json_object_get(j, "ReadingType") && !str(j, "ReadingType"))
		return dl_err_set(reterr, -EBADMSG, "Sensor: ReadingType is not a string");
	return sensor_obj(j, r);
}

int
redfish_json_sensors(const char *buf, size_t len, struct health_reading *r,
    char (*ret)[REDFISH_MAX_URI], size_t max, size_t *ret_n, struct dl_err *reterr)
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	const json_t *m, *o;
	size_t i, n = 0;
	int k;

	if ((k = load(buf, len, &j, reterr)) < 0)
		return k;
	m = json_object_get(j, "Members");
	if (!json_is_array(m))
		return dl_err_set(reterr, -EBADMSG, "Sensors: no Members array");
	json_array_foreach(m, i, o) {
		const char *id = str(o, "@odata.id");

		if (!json_is_object(o))
			return dl_err_set(reterr, -EBADMSG, "Sensors member %zu is not an object",
			    i);
		/* Expanded: the sensor itself; else a link to GET. */
		if (json_object_get(o, "ReadingType") || json_object_get(o, "Reading")) {
			if (json_object_get(o, "ReadingType") && !str(o, "ReadingType"))
				return dl_err_set(reterr, -EBADMSG,
				    "Sensors member %zu: ReadingType is not a string", i);
			if ((k = sensor_obj(o, r)) < 0)
				return k;
			continue;
		}
		if (!id || id[0] != '/' || strlen(id) >= REDFISH_MAX_URI)
			return dl_err_set(reterr, -EBADMSG,
			    "Sensors member %zu has no usable @odata.id", i);
		if (n == max) {
			r->n_sensors_dropped++;
			continue;
		}
		strcpy(ret[n++], id);
	}
	*ret_n = n;
	return 0;
}

int
redfish_json_link(const char *buf, size_t len, const char *key,
    char ret[static REDFISH_MAX_URI], struct dl_err *reterr)
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	int r;

	if ((r = load(buf, len, &j, reterr)) < 0)
		return r;
	return uri_link(j, key, ret, reterr);
}
