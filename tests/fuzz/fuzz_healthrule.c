/* SPDX-License-Identifier: MIT */
/* health_rule_parse() on arbitrary text (config input, issue #5): every failure explains
 * itself, and every accepted rule formats to a canonical text that parses back to the
 * same rule. The input's second line, if any, goes to health_persist_from_json(), whose
 * successes must serialize and load again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../bootsvc/health/persist.h"
#include "../../bootsvc/health/rule.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_rule(const char *s)
{
	struct health_rule r, again;
	struct dl_err e = { 0 };
	char buf[MAX_HEALTH_RULE_TEXT + 1];
	int rc = health_rule_parse(s, &r, &e);

	if (rc < 0) {
		if (rc != -EINVAL || e.code != rc || !e.msg[0])
			abort();
		return;
	}
	if (r.verdict != HEALTH_RISKY && r.verdict != HEALTH_DOOMED)
		abort();
	if (r.kind == HEALTH_RULE_SEL_RATE &&
	    (r.count < 1 || r.count > MAX_HEALTH_EVENTS || r.window_s < 1 ||
		r.window_s > MAX_HEALTH_WINDOW_S))
		abort();
	if (health_rule_format(&r, buf, sizeof(buf)) < 0)
		abort();
	if (health_rule_parse(buf, &again, &e) < 0 || memcmp(&r, &again, sizeof(r)) != 0)
		abort();
}

static void
fuzz_state(const char *s)
{
	struct health_state st, back;
	struct dl_err e = { 0 };
	char *json = NULL;
	int rc;

	health_state_init(&st);
	rc = health_persist_from_json(s, &st, &e);
	if (rc < 0) {
		if (e.code != rc && rc != -ENOMEM)
			abort();
		health_state_done(&st);
		return;
	}
	if (health_persist_to_json(&st, &json) == 0) {
		health_state_init(&back);
		if (health_persist_from_json(json, &back, &e) < 0)
			abort();
		health_state_done(&back);
		free(json);
	}
	health_state_done(&st);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *nl;

	if (size > MAX_HEALTH_STATE_JSON)
		return 0;
	s = fuzz_cstr(data, size);
	if (!s)
		return 0;
	nl = memchr(s, '\n', size);
	if (nl) {
		*nl = '\0';
		fuzz_state(nl + 1);
	}
	fuzz_rule(s);
	free(s);
	return 0;
}
