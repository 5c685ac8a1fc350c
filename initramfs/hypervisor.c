/* SPDX-License-Identifier: MIT */
/* The receipt's hypervisor field; see hypervisor.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hypervisor.h"

/* Each /sys/hypervisor file is one short line. */
#define MAX_HV_FILE 256

static size_t
trimmed_len(const char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
		n--;
	return n;
}

static bool
all_of(const char *s, size_t n, const char *set)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr(set, s[i]) || s[i] == '\0')
			return false;
	return true;
}

int
hypervisor_receipt_format(const char *type, const char *caps, const char *major,
    const char *minor, const char *extra, const unsigned char *build_id, size_t id_len,
    char *out, size_t size, struct init_err *reterr)
{
	size_t tl = trimmed_len(type), mj = trimmed_len(major), mn = trimmed_len(minor);
	size_t ex = trimmed_len(extra);
	char hex[2 * MAX_HV_BUILD_ID_BYTES + 1];
	int n;

	if (size)
		out[0] = '\0';
	if (tl != 3 || memcmp(type, "xen", 3) != 0 || !strstr(caps, "control_d"))
		return 0;
	if (mj == 0 || mj > 5 || !all_of(major, mj, "0123456789") || mn == 0 || mn > 5 ||
	    !all_of(minor, mn, "0123456789"))
		return init_err_set(reterr, -EINVAL, "/sys/hypervisor/version: major '%.8s' or "
		    "minor '%.8s' is not a number", major, minor);
	/* extra: ".7", "-rc", ".7-pre"; Debian's builds say ".7" */
	if (ex > 16 || !all_of(extra, ex, "0123456789.-+~abcdefghijklmnopqrstuvwxyz"))
		return init_err_set(reterr, -EINVAL, "/sys/hypervisor/version/extra '%.20s' is "
		    "not a version suffix", extra);
	if (id_len == 0 || id_len > MAX_HV_BUILD_ID_BYTES)
		return init_err_set(reterr, -EINVAL, "/sys/hypervisor/properties/buildid has %zu "
		    "bytes, not 1..%d", id_len, MAX_HV_BUILD_ID_BYTES);
	for (size_t i = 0; i < id_len; i++)
		(void)snprintf(hex + 2 * i, 3, "%02x", build_id[i]);
	n = snprintf(out, size, "%.*s.%.*s%.*s %s", (int)mj, major, (int)mn, minor, (int)ex,
	    extra, hex);
	if (n < 0 || (size_t)n >= size)
		return init_err_set(reterr, -ENOSPC, "hypervisor field too long");
	return n;
}

static void
read_or_empty(const char *path, char *buf)
{
	if (init_read_file(path, buf, MAX_HV_FILE) < 0)
		buf[0] = '\0';
}

int
hypervisor_receipt_measure(char *out, size_t size, struct init_err *reterr)
{
	char type[MAX_HV_FILE + 1], caps[MAX_HV_FILE + 1], major[MAX_HV_FILE + 1];
	char minor[MAX_HV_FILE + 1], extra[MAX_HV_FILE + 1], bid[MAX_HV_FILE + 1];
	bool mounted = false;
	int r, blen;

	if (size)
		out[0] = '\0';
	read_or_empty("/sys/hypervisor/type", type);
	if (trimmed_len(type) != 3 || memcmp(type, "xen", 3) != 0)
		return 0; /* bare metal or another hypervisor: no field */
	/* /proc/xen/capabilities is xenfs's (the recipe's modules = xenfs) */
	if (access("/proc/xen/capabilities", R_OK) < 0) {
		(void)mkdir("/proc/xen", 0555); /* /proc refuses it when the kernel made it */
		if (mount("xenfs", "/proc/xen", "xenfs", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL) < 0)
			return init_err_set(reterr, -errno, "mount xenfs on /proc/xen: %s (is "
			    "xenfs in the recipe's modules?)", strerror(errno));
		mounted = true;
	}
	read_or_empty("/proc/xen/capabilities", caps);
	if (mounted)
		(void)umount2("/proc/xen", MNT_DETACH); /* the image mounts its own */
	read_or_empty("/sys/hypervisor/version/major", major);
	read_or_empty("/sys/hypervisor/version/minor", minor);
	read_or_empty("/sys/hypervisor/version/extra", extra);
	blen = init_read_file("/sys/hypervisor/properties/buildid", bid, MAX_HV_FILE);
	if (blen < 0)
		blen = 0;
	r = hypervisor_receipt_format(type, caps, major, minor, extra, (const unsigned char *)bid,
	    (size_t)blen, out, size, reterr);
	return r < 0 ? r : 0;
}
