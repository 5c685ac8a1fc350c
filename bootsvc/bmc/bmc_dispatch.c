/* SPDX-License-Identifier: MIT */
/* One entry for power and health whatever the BMC speaks: the node's scheme, else the
 * config's bmc_protocol; "auto" probes GET /redfish/v1 once per BMC and remembers what it
 * learnt for the life of the daemon (a BMC does not change protocol under a node; a
 * firmware update that adds Redfish counts after a restart). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "bmc/health_bmc.h"
#include "bmc/power.h"
#include "bmc/redfish.h"
#include "name_table.h"

/* The operations' names, the same whichever protocol carries them (the control verbs,
 * the controller's events and both runners' messages use them). */
static const char *const power_op_table[_POWER_OP_MAX] = {
	[POWER_STATUS] = "status",
	[POWER_ON] = "on",
	[POWER_OFF] = "off",
	[POWER_CYCLE] = "cycle",
	[POWER_RESET] = "reset",
};

DEFINE_NAME_TABLE_LOOKUP(power_op, enum power_op, power_op_table, _POWER_OP_INVALID)

/* BMCs whose protocol is remembered: a site's largest rack count of nodes x 4; beyond it
 * the oldest entry is replaced (a re-probe costs one HTTPS request, nothing more). */
#define MAX_AUTO_BMCS 4096

struct auto_entry {
	char host[sizeof(((struct bmc_target *)0)->host)];
	uint16_t port;
	enum bmc_proto proto;
};

static pthread_mutex_t auto_lock = PTHREAD_MUTEX_INITIALIZER;
static struct auto_entry auto_seen[MAX_AUTO_BMCS];
static size_t auto_n, auto_next;

static enum bmc_proto
auto_lookup(const struct bmc_target *t)
{
	enum bmc_proto p = BMC_PROTO_AUTO;

	pthread_mutex_lock(&auto_lock);
	for (size_t i = 0; i < auto_n; i++)
		if (auto_seen[i].port == t->port && streq(auto_seen[i].host, t->host)) {
			p = auto_seen[i].proto;
			break;
		}
	pthread_mutex_unlock(&auto_lock);
	return p;
}

static void
auto_remember(const struct bmc_target *t, enum bmc_proto p)
{
	struct auto_entry *e;

	pthread_mutex_lock(&auto_lock);
	for (size_t i = 0; i < auto_n; i++)
		if (auto_seen[i].port == t->port && streq(auto_seen[i].host, t->host)) {
			auto_seen[i].proto = p;
			pthread_mutex_unlock(&auto_lock);
			return;
		}
	if (auto_n < MAX_AUTO_BMCS)
		e = &auto_seen[auto_n++];
	else {
		e = &auto_seen[auto_next];
		auto_next = (auto_next + 1) % MAX_AUTO_BMCS;
	}
	memcpy(e->host, t->host, sizeof(e->host));
	e->port = t->port;
	e->proto = p;
	pthread_mutex_unlock(&auto_lock);
}

/* t as Redfish is spoken to it, in tmp: port 443 unless its address named one. */
static const struct bmc_target *
as_redfish(const struct bmc_target *t, struct bmc_target *tmp)
{
	*tmp = *t;
	if (!tmp->port)
		tmp->port = 443;
	return tmp;
}

/* The protocol t is to be spoken in; tmp is scratch for AUTO's probe. */
static enum bmc_proto
resolve(const struct bmc_target *t, struct bmc_target *tmp)
{
	enum bmc_proto p;
	int r;

	if (t->proto != BMC_PROTO_AUTO)
		return t->proto;
	p = auto_lookup(t);
	if (p != BMC_PROTO_AUTO)
		return p;
	/* A bare address with a port names that protocol's port; without one, Redfish is
	 * probed on 443. */
	r = redfish_probe(as_redfish(t, tmp));
	if (r == 1) {
		auto_remember(t, BMC_PROTO_REDFISH);
		return BMC_PROTO_REDFISH;
	}
	/* A refused port or a non-Redfish answer is a definite no; silence is not (the BMC
	 * may be down): IPMI this time, probe again next time. A failed TLS check means
	 * Redfish is there: say so rather than fall back to IPMI behind the admin's back. */
	if (r == -EKEYREJECTED)
		return BMC_PROTO_REDFISH;
	if (r == 0)
		auto_remember(t, BMC_PROTO_IPMI);
	return BMC_PROTO_IPMI;
}

int
bmc_power_run(const struct bmc_target *t, enum power_op op, bool *ret_on,
    struct dl_err *reterr)
{
	struct bmc_target tmp;
	int r;

	/* before resolve(): an operation that does not exist costs no probe of the BMC */
	if (!power_op_to_string(op))
		return dl_err_set(reterr, -EINVAL, "power operation %d is not one of %s", (int)op,
		    "status, on, off, cycle, reset");
	if (resolve(t, &tmp) == BMC_PROTO_REDFISH)
		r = power_redfish_run(as_redfish(t, &tmp), op, ret_on, reterr);
	else
		r = power_ipmi_run(t, op, ret_on, reterr);
	explicit_bzero(&tmp, sizeof(tmp)); /* a copy of the password */
	return r;
}

int
bmc_health_read(const struct bmc_target *t, const char *sdr_cache_dir, uint32_t sel_after,
    struct health_reading *ret, struct dl_err *reterr)
{
	struct bmc_target tmp;
	int r;

	if (resolve(t, &tmp) == BMC_PROTO_REDFISH)
		r = health_redfish_read(as_redfish(t, &tmp), sel_after, ret, reterr);
	else
		r = health_read(t, sdr_cache_dir, sel_after, ret, reterr);
	explicit_bzero(&tmp, sizeof(tmp));
	return r;
}
