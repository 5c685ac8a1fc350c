/* SPDX-License-Identifier: MIT */
/* The kind table and its lookups (kind.h). To add a kind, add its row here, its
 * template to ipxe-scripts/ and its tests (docs/images.md "Image kinds"). */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "kind.h"
#include "log.h"
#include "name_table.h"

/* Our Linux boot, which every kind so far has: a kernel and our initramfs, the squashfs
 * root our init fetches and checks; the phases bootsvc sees or is told; the receipt of
 * what the node ran, rootfs first (it is what the node runs). */
#define LINUX_ROLES								\
	{ "kernel", "vmlinuz", KIND_ROLE_REQUIRED | KIND_ROLE_SERVED },	\
	{ "initrd", "initrd", KIND_ROLE_REQUIRED | KIND_ROLE_SERVED },	\
	{ "rootfs", "rootfs.squashfs", KIND_ROLE_REQUIRED | KIND_ROLE_SERVED }
#define LINUX_PHASES					\
	{ "pxe", KIND_BY_SCRIPT, NULL },		\
	{ "loading", KIND_BY_FETCH, "kernel" },	\
	{ "imaging", KIND_BY_INIT, NULL },		\
	{ "up", KIND_BY_IMAGE, NULL }
#define LINUX_RECEIPT						\
	{ "rootfs", "rootfs", KIND_MEASURE_SHA256 },		\
	{ "initrd", "initrd", KIND_MEASURE_INITRD_TREE },	\
	{ "kernel", "kernel", KIND_MEASURE_KERNEL }

static const struct kind kinds[] = {
	/* A Linux kernel and our initramfs from HTTP; our init fetches the squashfs root,
	 * checks it and switches to it; dl-report in the image says up with a receipt
	 * (docs/boot-protocol.md). */
	{
		.name = "linux",
		.tmpl = "linux",
		.roles = { LINUX_ROLES },
		.phases = { LINUX_PHASES },
		.receipt = { LINUX_RECEIPT },
	},
	/* linux plus libvirtd with the qemu driver (images/kvm): the same script, files and
	 * receipt (the hypervisor is the kernel's KVM, covered by the kernel banner); up
	 * once libvirtd answers, with the host's facts (docs/vm.md). */
	{
		.name = "kvm",
		.tmpl = "linux",
		.libvirt = "qemu",
		.roles = { LINUX_ROLES },
		.phases = { LINUX_PHASES },
		.receipt = { LINUX_RECEIPT },
	},
	/* Xen (images/xen): the hypervisor loads the dom0 kernel and our initramfs as
	 * multiboot modules on BIOS, or xen.efi with a rendered xen.cfg on UEFI; dom0 then
	 * boots as linux does, and libvirtd's libxl driver makes it a VM host. The
	 * hypervisor is a file of the version with its own content id; the receipt holds
	 * what dom0 can know of it. */
	{
		.name = "xen",
		.tmpl = "xen",
		.libvirt = "xen",
		.efi_cfg = "xen",
		.roles = {
			LINUX_ROLES,
			/* gunzipped: Debian's iPXE cannot load a gzip image */
			{ "hypervisor", "xen", KIND_ROLE_REQUIRED | KIND_ROLE_SERVED },
			{ "hypervisor_efi", "xen.efi", KIND_ROLE_REQUIRED | KIND_ROLE_SERVED },
		},
		.phases = { LINUX_PHASES },
		.receipt = {
			{ "hypervisor", "hypervisor", KIND_MEASURE_HYPERVISOR },
			LINUX_RECEIPT,
		},
	},
	/* A preinstalled disk over iSCSI (issue 14; images/disk-debian, images/win, and any
	 * OS that boots from a disk behind an iSCSI HBA): bootsvc gives each node its own
	 * copy-on-write clone of the golden disk, exported by tgtd; iPXE sanboots it and
	 * hands the OS the session through iBFT. Nothing of ours runs on the node: loading is
	 * its login as tgtd sees it, up is the image's probe answering. The disk is never
	 * served over HTTP, and no receipt comes back. */
	{
		.name = "iscsi",
		.tmpl = "iscsi",
		.roles = { { "disk", "disk.img", KIND_ROLE_REQUIRED } },
		.phases = {
			{ "pxe", KIND_BY_SCRIPT, NULL },
			{ "loading", KIND_BY_TARGET, NULL },
			{ "up", KIND_BY_PROBE, NULL },
		},
	},
};

_Static_assert(ELEMENTSOF(kinds) <= MAX_KINDS, "the kind table outgrew MAX_KINDS");

static const char *const reporter_names[_KIND_REPORTER_MAX] = {
	[KIND_BY_SCRIPT] = "bootsvc-script",
	[KIND_BY_FETCH] = "bootsvc-fetch",
	[KIND_BY_INIT] = "init",
	[KIND_BY_IMAGE] = "dl-report",
	[KIND_BY_TARGET] = "tgtd-login",
	[KIND_BY_PROBE] = "probe",
};

size_t
kind_count(void)
{
	return ELEMENTSOF(kinds);
}

const struct kind *
kind_at(size_t i)
{
	return i < ELEMENTSOF(kinds) ? &kinds[i] : NULL;
}

size_t
kind_index(const struct kind *k)
{
	assert(k >= kinds && k < kinds + ELEMENTSOF(kinds));
	return (size_t)(k - kinds);
}

const struct kind *
kind_find(const char *name)
{
	for (size_t i = 0; name && i < ELEMENTSOF(kinds); i++)
		if (streq(kinds[i].name, name))
			return &kinds[i];
	return NULL;
}

int
kind_lookup(const char *name, const struct kind **ret, struct dl_err *reterr)
{
	const struct kind *k = kind_find(name);
	char q[MAX_LOG_VALUE + 1];

	if (!k)
		return dl_err_set(reterr, -EINVAL, "unknown image kind '%s'",
		    log_safe(q, sizeof(q), name));
	*ret = k;
	return 0;
}

bool
kind_role_name_is_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n > 0 && n < MAX_KIND_ROLE_NAME && s[0] >= 'a' && s[0] <= 'z' &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

size_t
kind_n_roles(const struct kind *k)
{
	size_t n = 0;

	while (n < MAX_KIND_ROLES && k->roles[n].name)
		n++;
	return n;
}

const struct kind_role *
kind_role(const struct kind *k, const char *name)
{
	for (size_t i = 0; name && i < kind_n_roles(k); i++)
		if (streq(k->roles[i].name, name))
			return &k->roles[i];
	return NULL;
}

const char *
kind_any_role(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
		const struct kind_role *r = kind_role(&kinds[i], name);
		if (r)
			return r->name;
	}
	return NULL;
}

/* Append s to buf (NUL-terminated, size bytes), truncating. */
static void
put(char *buf, size_t size, const char *s)
{
	size_t used = strnlen(buf, size);

	if (used + 1 < size)
		(void)snprintf(buf + used, size - used, "%s", s);
}

/* Append names as "a, b and c" (or "a, b or c"). */
static void
put_list(char *buf, size_t size, const char *const *names, size_t n, const char *last_sep)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			put(buf, size, i + 1 == n ? last_sep : ", ");
		put(buf, size, names[i]);
	}
}

void
kind_roles_describe(const struct kind *k, char *buf, size_t size)
{
	const char *req[MAX_KIND_ROLES], *opt[MAX_KIND_ROLES];
	size_t n_req = 0, n_opt = 0;

	if (!size)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < kind_n_roles(k); i++) {
		if (k->roles[i].flags & KIND_ROLE_REQUIRED)
			req[n_req++] = k->roles[i].name;
		else
			opt[n_opt++] = k->roles[i].name;
	}
	if (!n_opt)
		put(buf, size, "exactly ");
	put_list(buf, size, req, n_req, " and ");
	if (n_opt) {
		put(buf, size, n_req ? ", optionally " : "optionally ");
		put_list(buf, size, opt, n_opt, " or ");
	}
}

static size_t
n_phases(const struct kind *k)
{
	size_t n = 0;

	while (n < MAX_KIND_PHASES && k->phases[n].name)
		n++;
	return n;
}

/* The index of phase in k's phases, or -1. */
static int
phase_index(const struct kind *k, const char *phase)
{
	for (size_t i = 0; phase && i < n_phases(k); i++)
		if (streq(k->phases[i].name, phase))
			return (int)i;
	return -1;
}

const struct kind_phase *
kind_phase(const struct kind *k, const char *phase)
{
	int i = phase_index(k, phase);

	return i < 0 ? NULL : &k->phases[i];
}

bool
kind_passes_phase(const struct kind *k, const char *phase)
{
	return phase_index(k, phase) >= 0;
}

const char *
kind_phase_prev(const struct kind *k, const char *phase)
{
	int i = phase_index(k, phase);

	return i <= 0 ? NULL : k->phases[i - 1].name;
}

const char *
kind_phase_next(const struct kind *k, const char *phase)
{
	int i = phase_index(k, phase);

	return i < 0 || (size_t)i + 1 >= n_phases(k) ? NULL : k->phases[i + 1].name;
}

const char *
kind_script_phase(const struct kind *k)
{
	for (size_t i = 0; i < n_phases(k); i++)
		if (k->phases[i].by == KIND_BY_SCRIPT)
			return k->phases[i].name;
	return NULL;
}

const char *
kind_fetch_phase(const struct kind *k, const char *role)
{
	for (size_t i = 0; role && i < n_phases(k); i++)
		if (k->phases[i].by == KIND_BY_FETCH && k->phases[i].fetch_role &&
		    streq(k->phases[i].fetch_role, role))
			return k->phases[i].name;
	return NULL;
}

size_t
kind_n_receipt(const struct kind *k)
{
	size_t n = 0;

	while (n < MAX_KIND_RECEIPT && k->receipt[n].field)
		n++;
	return n;
}

int
kind_receipt_index(const struct kind *k, const char *field)
{
	for (size_t i = 0; field && i < kind_n_receipt(k); i++)
		if (streq(k->receipt[i].field, field))
			return (int)i;
	return -ENOENT;
}

void
kind_receipt_describe(const struct kind *k, char *buf, size_t size)
{
	const char *names[MAX_KIND_RECEIPT];
	size_t n = 0;

	if (!size)
		return;
	buf[0] = '\0';
	/* In role order, which is the order the receipt JSON is written in
	 * (docs/boot-protocol.md), not the order it is checked in. */
	for (size_t r = 0; r < kind_n_roles(k); r++)
		for (size_t i = 0; i < kind_n_receipt(k); i++)
			if (streq(k->receipt[i].role, k->roles[r].name))
				names[n++] = k->receipt[i].field;
	put_list(buf, size, names, n, ", ");
}

bool
kind_is_sanboot(const struct kind *k)
{
	const struct kind_role *r = k ? kind_role(k, "disk") : NULL;

	return r && !(r->flags & KIND_ROLE_SERVED);
}

bool
kind_is_vm_host(const struct kind *k)
{
	return k && k->libvirt;
}

const char *
kind_reporter_to_string(enum kind_reporter r)
{
	return NAME_OF(reporter_names, r, NULL);
}
