/* SPDX-License-Identifier: MIT */
/* A node's BMC as a job needs it: protocol, address and port from the node row, user,
 * password, cipher suite and Redfish key pin from its root-only credentials file, the
 * session timeout and the Redfish CA file from the config.
 * Read on the loop for every job, so an edited credentials file counts from the next one
 * (or the next batch: one verb's nodes read each file once). */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "controller/ctrl.h"
#include "bmc/redfish_trust.h"
#include "parse.h"
#include "privsep/privsep.h"

/* Distinct credentials files one batch remembers; a batch naming more reads the others
 * per node, as without a batch (sites use one file per rack or role, not per node). */
#define MAX_BATCH_CREDS 16

/* A batch's credentials (ctrl_bmc_creds_begin()), on the loop thread only: one batch at a
 * time, and the loop does not run between its begin and end. */
static struct {
	bool active;
	size_t n;
	struct {
		char path[MAX_STORE_PATH];
		struct bmc_target creds; /* user, pass, cipher, pin */
	} files[MAX_BATCH_CREDS];
} batch;

void
ctrl_bmc_creds_begin(struct bootsvc *bs)
{
	(void)bs;
	assert(!batch.active);
	batch.active = true;
	batch.n = 0;
}

void
ctrl_bmc_creds_end(struct bootsvc *bs)
{
	(void)bs;
	explicit_bzero(&batch, sizeof(batch));
}

/* user, pass, cipher and pin of n's credentials file into t: from the batch when it read the
 * file already, else from the file (through the privileged parent under privsep). */
static int
creds_read(struct bootsvc *bs, const struct node_rec *n, struct bmc_target *t,
    struct dl_err *reterr)
{
	int r;

	for (size_t i = 0; batch.active && i < batch.n; i++)
		if (strcmp(batch.files[i].path, n->bmc_creds) == 0) {
			memcpy(t->user, batch.files[i].creds.user, sizeof(t->user));
			memcpy(t->pass, batch.files[i].creds.pass, sizeof(t->pass));
			t->cipher = batch.files[i].creds.cipher;
			memcpy(t->pin, batch.files[i].creds.pin, sizeof(t->pin));
			return 0;
		}
	if (bs->privsep) {
		/* root-only files: the privileged parent reads them (bmc_creds_dir), we parse */
		char *buf = NULL;
		size_t len = 0;

		r = privsep_read_creds(bs->privsep, n->bmc_creds, &buf, &len, reterr);
		if (r >= 0) {
			r = bmc_creds_parse(n->bmc_creds, buf, len, t, reterr);
			explicit_bzero(buf, len);
			free(buf);
		} else
			dl_err_prefix(reterr, "node '%s'", n->name);
	} else
		r = bmc_creds_load(n->bmc_creds, t, reterr);
	/* Only what was read: a refusal is asked again, so each node gets its own message. */
	if (r >= 0 && batch.active && batch.n < MAX_BATCH_CREDS) {
		snprintf(batch.files[batch.n].path, sizeof(batch.files[batch.n].path), "%s",
		    n->bmc_creds);
		memcpy(batch.files[batch.n].creds.user, t->user, sizeof(t->user));
		memcpy(batch.files[batch.n].creds.pass, t->pass, sizeof(t->pass));
		batch.files[batch.n].creds.cipher = t->cipher;
		memcpy(batch.files[batch.n].creds.pin, t->pin, sizeof(t->pin));
		batch.n++;
	}
	return r;
}

/* <state_dir>/bmc-pins/<node>: where node's BMC key trusted on first use is recorded. */
static int
pin_path(struct bootsvc *bs, const char *node, char ret[static MAX_BMC_PIN_FILE],
    struct dl_err *reterr)
{
	if (snprintf(ret, MAX_BMC_PIN_FILE, "%s/" BMC_PIN_DIR "/%s", bs->cfg.state_dir, node) >=
	    MAX_BMC_PIN_FILE)
		return dl_err_set(reterr, -ENAMETOOLONG, "node '%s': pin file path too long", node);
	return 0;
}

int
ctrl_bmc_pin_forget(struct bootsvc *bs, const char *node, struct dl_err *reterr)
{
	char path[MAX_BMC_PIN_FILE];
	int r;

	if ((r = pin_path(bs, node, path, reterr)) < 0)
		return r;
	if (unlink(path) == 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	return dl_err_set(reterr, -errno, "'%s': %s", path, strerror(errno));
}

int
ctrl_bmc_target(struct bootsvc *bs, const struct node_rec *n, struct bmc_target *ret,
    struct dl_err *reterr)
{
	struct bmc_target t = { .port = 623, .cipher = 3 };
	int r;

	if (!n->bmc[0])
		return dl_err_set(reterr, -EINVAL, "node '%s' has no BMC", n->name);
	if (!n->bmc_creds[0])
		return dl_err_set(reterr, -EINVAL, "node '%s' has no BMC credentials file",
		    n->name);
	/* redfish://host[:port], ipmi://host[:port], or a bare address spoken in the
	 * config's bmc_protocol (config.c accepts only the three names) */
	r = bmc_target_parse(n->bmc, bmc_proto_from_string(bs->cfg.bmc_protocol), &t, reterr);
	if (r < 0)
		return dl_err_prefix(reterr, "node '%s'", n->name), r;
	(void)snprintf(t.ca_file, sizeof(t.ca_file), "%s", bs->cfg.redfish_ca_file);
	r = creds_read(bs, n, &t, reterr);
	if (r < 0) {
		explicit_bzero(&t, sizeof(t));
		return r;
	}
	/* Trust on first use only when the config says so, and never beside a pin: the
	 * pin file is where the key seen first is kept (docs/redfish.md). */
	if (bs->cfg.redfish_tofu && !t.pin[0] && t.proto != BMC_PROTO_IPMI &&
	    (r = pin_path(bs, n->name, t.pin_file, reterr)) < 0) {
		explicit_bzero(&t, sizeof(t));
		return r;
	}
	t.timeout_ms = (unsigned)bs->cfg.bmc_timeout_ms;
	*ret = t;
	return 0;
}
