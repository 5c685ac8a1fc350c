/* SPDX-License-Identifier: MIT */
/* A BMC's health reading over whichever protocol it speaks (bmc_dispatch.c), and the
 * Redfish reader (health_redfish.c) beside health_ipmi.h's. Blocking, for workers. */
#pragma once

#include "bmc/health_ipmi.h"

/* health_read() or health_redfish_read() by t->proto (AUTO: probed once per host). Same
 * contract as health_read(); sdr_cache_dir is used for IPMI only. */
int bmc_health_read(const struct bmc_target *t, const char *sdr_cache_dir, uint32_t sel_after,
    struct health_reading *ret, struct dl_err *reterr);

/* Over Redfish: the first Chassis' Thermal and Power, the first system's first log
 * service's entries above sel_after. Errors as bmc_power_run(). */
int health_redfish_read(const struct bmc_target *t, uint32_t sel_after,
    struct health_reading *ret, struct dl_err *reterr);
