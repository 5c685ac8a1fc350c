/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "vmhost.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* The facts JSON has exactly the keys bootsvc reads (docs/vm.md): hypervisor,
 * hypervisor_version, libvirt_version, uri, cpus, memory_mib, numa_nodes, guest_cpus,
 * guest_memory_mib. Everything comes from libvirt itself (virsh version / nodeinfo), so
 * the facts are what bootsvc's connection will see; Xen's free memory (what dom0 did not
 * take) from xl info. */
static const char VMHOST_UP[] =
	"#!/bin/sh\n"
	"# Written by imagebuild (docs/images.md \"VM hosts\"): wait until libvirtd answers,\n"
	"# write the host's facts, report up with them. A host whose libvirtd never answers\n"
	"# reports failed with the reason instead.\n"
	"set -u\n"
	"PATH=/usr/sbin:/usr/bin:/sbin:/bin\n"
	"conf=/etc/diskless/vmhost.conf\n"
	"facts=/run/diskless/facts.json\n"
	"driver= reserve_mib=0 reserve_cpus=0\n"
	"while IFS='=' read -r k v; do\n"
	"  case $k in\n"
	"    driver) driver=$v ;; guest_reserve_mib) reserve_mib=$v ;;\n"
	"    guest_reserve_cpus) reserve_cpus=$v ;;\n"
	"  esac\n"
	"done < $conf\n"
	"fail() { echo \"vmhost-up: $*\" >&2; /usr/lib/diskless/dl-report phase failed \"$*\"; exit 1; }\n"
	"case $driver in qemu) hv_name=QEMU ;; xen) hv_name=Xen ;; *) fail \"$conf: driver '$driver'\" ;; esac\n"
	"local_uri=$driver:///system\n"
	"i=0\n"
	"# every call bounded: a libvirtd stuck in its driver's start must not hang the boot\n"
	"until out=$(timeout 20 virsh -c $local_uri version 2>&1); do\n"
	"  i=$((i + 1))\n"
	"  if [ $i -ge " STR(VMHOST_LIBVIRT_TRIES) " ]; then\n"
	"    # what libvirtd said of itself, for whoever reads the console\n"
	"    timeout 20 systemctl --no-pager --failed 2>&1 | sed 's/^/vmhost-up: failed units: /' >&2\n"
	"    timeout 20 journalctl -b -u libvirtd.service -u libvirtd.socket -u xen.service -u xenstored.service -u xencommons.service -n 30 --no-pager -o cat 2>&1 | sed 's/^/vmhost-up: journal: /' >&2\n"
	"    fail \"libvirtd did not answer on $local_uri after $i tries: $(echo $out | tail -c 200)\"\n"
	"  fi\n"
	"  if [ $((i % 15)) -eq 0 ]; then\n"
	"    echo \"vmhost-up: still waiting for libvirtd ($i tries): $(echo $out | tail -c 120)\"\n"
	"    timeout 10 journalctl -b -u libvirtd.service -u libvirtd.socket -n 6 --no-pager -o cat 2>&1 | sed 's/^/vmhost-up: libvirtd: /'\n"
	"  fi\n"
	"  sleep 2\n"
	"done\n"
	"echo \"vmhost-up: libvirtd answered on $local_uri after $i retries\"\n"
	"lib_ver=$(echo \"$out\" | sed -n 's/^Using library: libvirt \\([0-9.]*\\).*/\\1/p')\n"
	"hv_ver=$(echo \"$out\" | sed -n 's/^Running hypervisor: [A-Za-z]* \\([0-9.]*\\).*/\\1/p')\n"
	"if [ $driver = xen ] && [ -r /sys/hypervisor/version/major ]; then\n"
	"  # libxl reports major.minor only; dom0 reads the whole release from Xen\n"
	"  hv_ver=$(cat /sys/hypervisor/version/major).$(cat /sys/hypervisor/version/minor)$(cat /sys/hypervisor/version/extra)\n"
	"fi\n"
	"ni=$(timeout 20 virsh -c $local_uri nodeinfo) || fail \"virsh nodeinfo failed on $local_uri\"\n"
	"cpus=$(echo \"$ni\" | sed -n 's/^CPU(s): *\\([0-9]*\\).*/\\1/p')\n"
	"numa=$(echo \"$ni\" | sed -n 's/^NUMA cell(s): *\\([0-9]*\\).*/\\1/p')\n"
	"mem_kib=$(echo \"$ni\" | sed -n 's/^Memory size: *\\([0-9]*\\) KiB.*/\\1/p')\n"
	"mem=$((mem_kib / 1024))\n"
	"free=$mem\n"
	"if [ $driver = xen ]; then\n"
	"  free=$(timeout 20 xl info 2>/dev/null | sed -n 's/^free_memory *: *\\([0-9]*\\).*/\\1/p')\n"
	"  [ -n \"$free\" ] || fail \"xl info gave no free_memory\"\n"
	"fi\n"
	"gmem=$((free - reserve_mib)); [ $gmem -ge 0 ] || gmem=0\n"
	"gcpus=$((cpus - reserve_cpus)); [ $gcpus -ge 0 ] || gcpus=0\n"
	"ip=$(sed -n 's/.*[ ]ip=\\([0-9.]*\\):.*/\\1/p' /proc/cmdline)\n"
	"[ -n \"$ip\" ] || ip=$(ip -4 -o addr show scope global | awk '{ sub(\"/.*\", \"\", $4); print $4; exit }')\n"
	"[ -n \"$ip\" ] && [ -n \"$cpus\" ] && [ -n \"$mem_kib\" ] && [ -n \"$numa\" ] && [ -n \"$lib_ver\" ] ||\n"
	"  fail \"facts incomplete: ip='$ip' cpus='$cpus' memory='$mem_kib' numa='$numa' libvirt='$lib_ver'\"\n"
	"mkdir -p /run/diskless\n"
	"printf '{\"hypervisor\":\"%s\",\"hypervisor_version\":\"%s\",\"libvirt_version\":\"%s\",\"uri\":\"%s\",\"cpus\":%d,\"memory_mib\":%d,\"numa_nodes\":%d,\"guest_cpus\":%d,\"guest_memory_mib\":%d}\\n' \\\n"
	"  $hv_name \"$hv_ver\" \"$lib_ver\" \"$driver+tls://$ip/system\" $cpus $mem $numa $gcpus $gmem > $facts.tmp &&\n"
	"  mv $facts.tmp $facts || fail \"cannot write $facts\"\n"
	"echo \"vmhost-up: facts $(cat $facts)\"\n"
	"exec /usr/lib/diskless/dl-report up --facts $facts\n";

static const char VMHOST_UNIT[] =
	"# Written by imagebuild: a VM host is up once libvirtd answers (docs/images.md\n"
	"# \"VM hosts\"); reports up with the receipt and the host's facts.\n"
	"[Unit]\n"
	"Description=diskless: report this VM host up once libvirtd answers\n"
	"After=network-online.target basic.target libvirtd.service libvirtd-tls.socket\n"
	"Wants=network-online.target\n"
	"ConditionPathExists=/etc/diskless/node.conf\n"
	"\n"
	"[Service]\n"
	"Type=oneshot\n"
	"RemainAfterExit=yes\n"
	"TimeoutStartSec=300\n"
	"StandardOutput=journal+console\n"
	"ExecStart=/usr/lib/diskless/vmhost-up\n"
	"\n"
	"[Install]\n"
	"WantedBy=multi-user.target\n";

const char *
vmhost_file_text(size_t i)
{
	static const char *const texts[] = { VMHOST_UP, VMHOST_UNIT };

	return i < sizeof(texts) / sizeof(texts[0]) ? texts[i] : NULL;
}

static int
write_rel(const char *rootfs, const char *rel, const char *data, mode_t mode,
    struct dl_err *reterr)
{
	char p[PATH_MAX];

	if ((size_t)snprintf(p, sizeof(p), "%s/%s", rootfs, rel) >= sizeof(p))
		return dl_err_set(reterr, -ENAMETOOLONG, "%s/%s: path too long", rootfs, rel);
	(void)unlink(p); /* replaced, never written through a symlink of the image */
	return fsutil_write_file(p, data, strlen(data), mode, reterr);
}

int
vmhost_install(const char *rootfs, const struct recipe *r, struct dl_err *reterr)
{
	char conf[256], p[PATH_MAX];
	int rc;

	if (!r->kind || !kind_is_vm_host(r->kind))
		return dl_err_set(reterr, -EINVAL, "kind %s is not a VM host",
		    r->kind ? r->kind->name : "(none)");
	(void)snprintf(conf, sizeof(conf),
	    "# Written by imagebuild from the recipe (docs/images.md \"VM hosts\")\n"
	    "driver=%s\nguest_reserve_mib=%llu\nguest_reserve_cpus=%u\n", r->kind->libvirt,
	    (unsigned long long)r->guest_reserve_mib, r->guest_reserve_cpus);
	(void)snprintf(p, sizeof(p), "%s/etc/systemd/system/multi-user.target.wants", rootfs);
	rc = fsutil_mkdir_p(p, 0755, reterr);
	if (rc >= 0)
		rc = write_rel(rootfs, "etc/diskless/vmhost.conf", conf, 0644, reterr);
	if (rc >= 0)
		rc = write_rel(rootfs, "usr/lib/diskless/vmhost-up", VMHOST_UP, 0755, reterr);
	if (rc >= 0)
		rc = write_rel(rootfs, "etc/systemd/system/diskless-vmhost-up.service", VMHOST_UNIT,
		    0644, reterr);
	if (rc < 0)
		return rc;
	(void)snprintf(p, sizeof(p),
	    "%s/etc/systemd/system/multi-user.target.wants/diskless-vmhost-up.service", rootfs);
	(void)unlink(p);
	if (symlink("/etc/systemd/system/diskless-vmhost-up.service", p) < 0)
		return dl_err_set(reterr, negative_errno(), "symlink %s: %s", p, strerror(errno));
	/* up comes from this unit, not diskless-up's plain report */
	(void)snprintf(p, sizeof(p),
	    "%s/etc/systemd/system/multi-user.target.wants/diskless-up.service", rootfs);
	if (unlink(p) < 0 && errno != ENOENT)
		return dl_err_set(reterr, negative_errno(), "unlink %s: %s", p, strerror(errno));
	return 0;
}
