/* SPDX-License-Identifier: MIT */
/* Open connections per client address, shared by the serving threads (http.h). Each
 * thread's libmicrohttpd daemon would count only the connections the kernel gave its own
 * socket, so the per-address limit (http_max_per_ip) is kept here, once for all of them.
 * Thread-safe: a mutex around a table as large as the connections it can hold. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct ip_limit;

/* A table for up to max_conns connections, at most per_ip from one address (0: no
 * limit, only counted). 0 or -ENOMEM. */
int ip_limit_new(unsigned max_conns, unsigned per_ip, struct ip_limit **ret);
struct ip_limit *ip_limit_free(struct ip_limit *l);
/* One more connection from addr (an IPv4 address in network order): false, and nothing
 * counted, when addr already has per_ip, or the table has max_conns. */
bool ip_limit_take(struct ip_limit *l, uint32_t addr);
/* One connection from addr closed (one that ip_limit_take counted). */
void ip_limit_put(struct ip_limit *l, uint32_t addr);
/* Connections counted for addr now. */
unsigned ip_limit_count(struct ip_limit *l, uint32_t addr);
