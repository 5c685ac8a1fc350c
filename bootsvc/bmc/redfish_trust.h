/* SPDX-License-Identifier: MIT */
/* How a Redfish BMC's certificate is trusted (docs/redfish.md "Credentials and TLS"): the
 * credentials file's pin=, else the CA file or the system's CAs, else, when the config
 * says redfish_tofu = on, the key seen first, recorded in a file per node
 * (<state_dir>/bmc-pins/<node>) and pinned from then on. The decision is a pure function
 * (table-tested); the pin file is read and written here too. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "bmc/power.h"

/* The directory under state_dir holding one pin file per node (named as the node). */
#define BMC_PIN_DIR "bmc-pins"

/* What the CA check said, when it was tried. */
enum rf_ca_result {
	RF_CA_UNTRIED,
	RF_CA_OK,
	RF_CA_FAILED, /* the chain or the name did not verify */
};

enum rf_trust_how {
	RF_TRUST_PIN,      /* the credentials file's pin */
	RF_TRUST_RECORDED, /* the pin recorded on first use: a mismatch is refused */
	RF_TRUST_CA,       /* chain and name against redfish_ca_file or the system's CAs */
	RF_TRUST_RECORD,   /* first use: record the offered key's pin, then pin it */
	RF_TRUST_REFUSE,   /* the CA check failed and nothing else may vouch */
};

struct rf_trust_in {
	bool have_pin;      /* pin= in the credentials file */
	bool tofu;          /* redfish_tofu = on (the target has a pin file) */
	bool have_recorded; /* the pin file holds a pin */
	enum rf_ca_result ca;
};

/* The decision; pure. A recorded pin wins over the CA (it is what the admin accepted). */
enum rf_trust_how rf_trust_decide(const struct rf_trust_in *in);
const char *rf_trust_how_to_string(enum rf_trust_how h);

/* "sha256//BASE64" of the DER SubjectPublicKeyInfo of the PEM certificate pem (libcurl's
 * pin form) into ret. -EINVAL when pem is no certificate. */
int rf_pin_of_pem(const char *pem, char ret[static MAX_BMC_PIN + 1]);
/* The pin recorded at path into ret: 1, or 0 when there is none (no file), or -EINVAL
 * naming the file when it holds no pin (an admin deletes it to trust anew). */
int rf_pin_load(const char *path, char ret[static MAX_BMC_PIN + 1], struct dl_err *reterr);
/* Record pin at path (mode 0600, its directory made 0700), atomically: a temporary file,
 * fsync, rename. Refuses (-EEXIST) when a pin is there already: two jobs racing on first
 * use keep the first one's. */
int rf_pin_store(const char *path, const char *pin, struct dl_err *reterr);
