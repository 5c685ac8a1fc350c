/* SPDX-License-Identifier: MIT */
/* healthctl: one health read through bootsvc's own code (bmc_health_read, bmc_creds_load, the
 * health rules), so integration tests check exactly what the controller will run.
 *
 *   healthctl CREDS HOST [--sdr DIR] [--since RECID] [--state FILE] [--clear]
 *             [--rule RULE]... [--port N] [--timeout MS] [--ca FILE]
 *
 * Prints one line per sensor and per new SEL record, then the evaluation:
 *   sensor name="CPU Temp" type=temperature state=Critical reading=90.00 units=C
 *       condition="upper critical" event="At or Above (>=) Upper Critical Threshold"
 *   sel id=3 time=12 sensor="DIMM ECC" type=memory class=ecc_correctable severity=Warning
 *       dir=assertion event="Correctable ECC"
 *   sel_last_id=3 sel_new=1 sel_reset=no
 *   health=risky
 *   reason="risky: 12 correctable ECC in 24h"
 * Rules: the --rule ones if any, else the built-in defaults. --since reads the SEL records
 * after RECID (default: all, or the state file's last id). --state FILE keeps the node's
 * health state between runs, as the daemon keeps it in its store: read (when the file
 * exists), updated, evaluated and written back as JSON. --clear runs health_state_clear()
 * first.
 * Exit 0 when the BMC was read (whatever its health), 1 on failure ("healthctl:
 * error=ENAME msg=..." on stderr), 2 for a bad command line. */
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../bootsvc/bmc/health_bmc.h"
#include "../../bootsvc/health/eval.h"
#include "../../bootsvc/health/persist.h"
#include "../../bootsvc/health/sel_class.h"
#include "../../bootsvc/bmc/power.h"
#include "parse.h"
#include "readfile.h"

enum {
	HEALTHCTL_EXIT_OK = 0,
	HEALTHCTL_EXIT_FAILED = 1,
	HEALTHCTL_EXIT_USAGE = 2,
};

/* powerctl's default: a dead BMC costs this long per session. */
#define DEFAULT_TIMEOUT_MS 5000
/* libipmimonitoring's own default cache directory. */
#define DEFAULT_SDR_DIR "/var/cache/ipmimonitoringsdrcache"

static void
usage(FILE *f)
{
	fprintf(f, "usage: healthctl CREDS HOST [--sdr DIR] [--since RECID] [--state FILE] "
		   "[--clear] [--rule RULE]... [--port N] [--timeout MS] [--ca FILE]\n");
}

static int
state_load(const char *path, struct health_state *st, struct dl_err *err)
{
	_cleanup_free_ char *buf = NULL;
	int r;

	r = read_file(path, MAX_HEALTH_STATE_JSON, 0, &buf, NULL, err);
	if (r == -ENOENT)
		return 0; /* the first run: a fresh state */
	if (r < 0)
		return dl_err_prefix(err, "state file"), r;
	return health_persist_from_json(buf, st, err);
}

static int
state_save(const char *path, const struct health_state *st, struct dl_err *err)
{
	_cleanup_free_ char *json = NULL, *tmp = NULL;
	_cleanup_fclose_ FILE *f = NULL;
	int r;

	r = health_persist_to_json(st, &json);
	if (r < 0)
		return r;
	if (asprintf(&tmp, "%s.tmp", path) < 0)
		return -ENOMEM;
	f = fopen(tmp, "we");
	if (!f)
		return dl_err_set(err, -errno, "state file '%s': %s", tmp, strerror(errno));
	if (fprintf(f, "%s\n", json) < 0 || fflush(f) != 0)
		return dl_err_set(err, -EIO, "state file '%s': write error", tmp);
	if (rename(tmp, path) < 0)
		return dl_err_set(err, -errno, "state file '%s': %s", path, strerror(errno));
	return 0;
}

static void
print_reading(const struct health_reading *rd)
{
	for (size_t i = 0; i < rd->n_sensors; i++) {
		const struct health_sensor *s = &rd->sensors[i];
		const char *type = health_sensor_type_to_string(s->type);

		printf("sensor name=\"%s\" type=%s state=%s", s->name, type ? type : "unknown",
		    health_sensor_state_to_string(s->state));
		if (s->has_reading)
			printf(" reading=%.2f units=%s", s->reading, s->units[0] ? s->units : "-");
		if (s->condition[0])
			printf(" condition=\"%s\"", s->condition);
		printf(" event=\"%s\"\n", s->event);
	}
	for (size_t i = 0; i < rd->n_sel; i++) {
		const struct health_sel_entry *e = &rd->sel[i];
		const char *type = health_sensor_type_to_string(e->sensor_type);

		printf("sel id=%u time=%u sensor=\"%s\" type=%s class=%s severity=%s dir=%s "
		       "event=\"%s\"\n",
		    (unsigned)e->record_id, (unsigned)e->timestamp, e->sensor,
		    type ? type : "unknown", health_sel_class_to_string(e->cls),
		    health_sensor_state_to_string(e->severity),
		    e->assertion ? "assertion" : "deassertion", e->event);
	}
	printf("power_watts=%u\n", health_power_watts(rd));
	printf("sel_last_id=%u sel_new=%zu sel_reset=%s\n", (unsigned)rd->sel_last_id, rd->n_sel,
	    rd->sel_reset ? "yes" : "no");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sdr", required_argument, NULL, 's' },
		{ "since", required_argument, NULL, 'S' },
		{ "state", required_argument, NULL, 'f' },
		{ "clear", no_argument, NULL, 'c' },
		{ "rule", required_argument, NULL, 'r' },
		{ "port", required_argument, NULL, 'p' },
		{ "ca", required_argument, NULL, 'C' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bmc_target t = { .port = 623, .cipher = 3, .timeout_ms = DEFAULT_TIMEOUT_MS };
	struct health_reading rd = { 0 };
	struct health_state st;
	struct health_rules rules = { .n = 0 };
	struct health_verdict v;
	struct dl_err err = { 0 };
	const char *sdr = DEFAULT_SDR_DIR, *state_path = NULL;
	bool since_set = false, clear = false;
	uint32_t since = 0;
	uint64_t val;
	uint16_t port = 0;
	int c, r;

	health_state_init(&st);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			sdr = optarg;
			break;
		case 'S':
			if (parse_u64(optarg, 0, UINT32_MAX, &val, &err) < 0) {
				fprintf(stderr, "healthctl: option --since: %s\n", err.msg);
				return HEALTHCTL_EXIT_USAGE;
			}
			since = (uint32_t)val;
			since_set = true;
			break;
		case 'f':
			state_path = optarg;
			break;
		case 'c':
			clear = true;
			break;
		case 'r':
			if (health_rules_add(&rules, optarg, &err) < 0) {
				fprintf(stderr, "healthctl: option --rule: %s\n", err.msg);
				return HEALTHCTL_EXIT_USAGE;
			}
			break;
		case 'p':
			if (parse_u64(optarg, 1, UINT16_MAX, &val, &err) < 0) {
				fprintf(stderr, "healthctl: option --port: %s\n", err.msg);
				return HEALTHCTL_EXIT_USAGE;
			}
			port = (uint16_t)val;
			break;
		case 't':
			if (parse_u64(optarg, 100, 3600 * 1000, &val, &err) < 0) {
				fprintf(stderr, "healthctl: option --timeout: %s\n", err.msg);
				return HEALTHCTL_EXIT_USAGE;
			}
			t.timeout_ms = (unsigned)val;
			break;
		case 'C':
			if (strlen(optarg) >= sizeof(t.ca_file)) {
				fprintf(stderr, "healthctl: option --ca: path too long\n");
				return HEALTHCTL_EXIT_USAGE;
			}
			strcpy(t.ca_file, optarg);
			break;
		case 'h':
			usage(stdout);
			return HEALTHCTL_EXIT_OK;
		default:
			usage(stderr);
			return HEALTHCTL_EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		return HEALTHCTL_EXIT_USAGE;
	}
	/* HOST: an address as a node's bmc field takes it (redfish://, ipmi://, bare = IPMI) */
	if (bmc_target_parse(argv[optind + 1], BMC_PROTO_IPMI, &t, &err) < 0) {
		fprintf(stderr, "healthctl: %s\n", err.msg);
		return HEALTHCTL_EXIT_USAGE;
	}
	if (port)
		t.port = port;
	if (rules.n == 0)
		health_rules_init_default(&rules);

	r = state_path ? state_load(state_path, &st, &err) : 0;
	if (r >= 0 && clear)
		health_state_clear(&st);
	if (r >= 0)
		r = bmc_creds_load(argv[optind], &t, &err);
	if (r >= 0)
		r = bmc_health_read(&t, sdr, since_set ? since : st.sel_last_id, &rd, &err);
	explicit_bzero(t.pass, sizeof(t.pass));
	if (r >= 0) {
		print_reading(&rd);
		r = health_state_update(&st, &rd, (int64_t)time(NULL));
	}
	if (r >= 0) {
		health_eval(&rules, &st, (int64_t)time(NULL), &v);
		printf("health=%s\n", health_to_string(v.health));
		for (size_t i = 0; i < v.n_reasons; i++)
			printf("reason=\"%s\"\n", v.reason[i]);
		if (v.n_reasons_omitted)
			printf("reasons_omitted=%zu\n", v.n_reasons_omitted);
		if (state_path)
			r = state_save(state_path, &st, &err);
	}
	health_reading_done(&rd);
	health_state_done(&st);
	if (r < 0) {
		fprintf(stderr, "healthctl: error=%s msg=\"%s\"\n", dl_errno_name(r),
		    err.code ? err.msg : strerror(-r));
		return HEALTHCTL_EXIT_FAILED;
	}
	return HEALTHCTL_EXIT_OK;
}
