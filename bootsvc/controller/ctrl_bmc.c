/* SPDX-License-Identifier: MIT */
/* A node's BMC as a job needs it: address and port from the node row, user, password and
 * cipher suite from its root-only credentials file, the session timeout from the config.
 * Read on the loop for every job, so an edited credentials file counts from the next one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/ctrl.h"
#include "parse.h"
#include "privsep/privsep.h"

int
ctrl_bmc_target(struct bootsvc *bs, const struct node_rec *n, struct bmc_target *ret,
    struct dl_err *reterr)
{
	struct bmc_target t = { .port = 623, .cipher = 3 };
	const char *colon;
	int r;

	if (!n->bmc[0])
		return dl_err_set(reterr, -EINVAL, "node '%s' has no BMC", n->name);
	if (!n->bmc_creds[0])
		return dl_err_set(reterr, -EINVAL, "node '%s' has no BMC credentials file",
		    n->name);
	colon = strchr(n->bmc, ':');
	if (colon) {
		uint64_t port;
		if ((size_t)(colon - n->bmc) >= sizeof(t.host) ||
		    parse_u64(colon + 1, 1, 65535, &port, reterr) < 0)
			return dl_err_set(reterr, -EINVAL, "node '%s': bad BMC address '%s'",
			    n->name, n->bmc);
		memcpy(t.host, n->bmc, (size_t)(colon - n->bmc));
		t.port = (uint16_t)port;
	} else
		(void)snprintf(t.host, sizeof(t.host), "%s", n->bmc);
	if (bs->privsep) {
		/* root-only files: the privileged parent reads them (bmc_creds_dir), we parse */
		char *buf = NULL;
		size_t len = 0;

		r = privsep_read_creds(bs->privsep, n->bmc_creds, &buf, &len, reterr);
		if (r >= 0) {
			r = bmc_creds_parse(n->bmc_creds, buf, len, &t, reterr);
			explicit_bzero(buf, len);
			free(buf);
		} else
			dl_err_prefix(reterr, "node '%s'", n->name);
	} else
		r = bmc_creds_load(n->bmc_creds, &t, reterr);
	if (r < 0) {
		explicit_bzero(&t, sizeof(t));
		return r;
	}
	t.timeout_ms = (unsigned)bs->cfg.bmc_timeout_ms;
	*ret = t;
	return 0;
}
