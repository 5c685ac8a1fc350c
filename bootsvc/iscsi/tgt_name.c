/* SPDX-License-Identifier: MIT */
/* The iSCSI names of a node's target and initiator (tgt.h): one place, so the script
 * bootsvc renders, the target tgtd holds and the session it reports agree. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "iscsi/tgt.h"

int
tgt_target_name(const char *prefix, const char *node, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s:%s", prefix, node);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int
tgt_initiator_name(const char *prefix, const char *node, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s:%s.initiator", prefix, node);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

bool
tgt_session_find(const struct tgt_session *s, size_t n, const char *initiator,
    const char *addr)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s[i].initiator_name, initiator) == 0 && strcmp(s[i].addr, addr) == 0)
			return true;
	return false;
}
