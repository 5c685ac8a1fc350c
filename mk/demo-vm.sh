#!/bin/bash
# make demo-vm: a hypervisor node (issue 12). Build images/kvm (libvirtd with the qemu
# driver, TLS only), start bootsvc (and its dnsmasq) in a throwaway network namespace,
# PXE-boot one qemu node into it: it reports up once its libvirtd answers, with its
# facts. Then an admin certificate starts a tiny guest (the image's kernel and a busybox
# initrd) inside it over qemu+tls, and bootsvc's `nodectl host list` / `vm list` show the
# host and its guest. Tear everything down.
# Uses the integration tests' harness (tests/integ/lib.sh, lib_vmhost.sh; hv_kvm.sh is
# the same set-up with assertions) so the demo and the tests cannot drift apart.
# Everything runs under qemu TCG: the node boots in a few minutes, the guest inside it
# (TCG in TCG unless the node's emulated SVM gives it KVM) in one or two more.

# The demo runs in a child so that its last line says how it ended, after the clean-up
# (lib.sh's EXIT trap ends the shell it runs in); Ctrl-C, SIGTERM, SIGHUP reach it as
# SIGTERM, on which it cleans up.
if [[ -z ${DL_DEMO_INNER:-} ]]; then
	DL_DEMO_INNER=1 bash "$0" "$@" &
	child=$!
	trap 'kill -TERM "$child" 2>/dev/null' INT TERM HUP
	rc=0
	wait "$child" || rc=$?
	while kill -0 "$child" 2>/dev/null; do rc=0; wait "$child" || rc=$?; done
	echo
	if ((rc == 0)); then
		echo "== make demo-vm: SUCCESS"
	else
		((rc == 130)) && echo "== make demo-vm: INTERRUPTED, cleaned up (exit $rc)" ||
		    echo "== make demo-vm: FAILED (exit $rc; the reason is the FAIL: line above the logs)"
	fi
	exit "$rc"
fi

source "$(dirname "$0")/../tests/integ/lib.sh"
source "$(dirname "$0")/../tests/integ/lib_vmhost.sh"
STORE=${STORE:-/var/lib/diskless}
dl_require qemu-system-x86_64 python3 ip unsquashfs debootstrap virsh busybox cpio
cd "$REPO"
BUILD=$(readlink -f "$BUILD")
t0=$SECONDS
hdr() { printf '\n== [%3d s] %s\n' $((SECONDS - t0)) "$*"; }
ind() { sed 's/^/    /'; }

dl_setup demovm 91
NODE=hv01 MAC=52:54:00:5b:00:01 IP=$DL_NET.10
hdr "building image 'kvm' (an unchanged recipe is not rebuilt; a first build takes minutes)"
vh_build kvm
echo "kvm = ${VH_ID:0:12}"

hdr "bootsvc in namespace $DL_NS, boot URL $DL_URL; node $NODE ($IP) on kvm"
vh_pki
dl_bootsvc_start
dl_nodectl image add "$VH_PATH" >/dev/null || fail "image add"
dl_nodectl node add "$NODE" --mac "$MAC" --ip "$IP" --image kvm >/dev/null || fail "node add"
dl_qemu "$NODE" bios "$MAC" 2048
hdr "$NODE powers on: PXE -> iPXE -> kernel + init -> rootfs -> systemd -> libvirtd -> up"
last=
until dl_phase_is "$NODE" up; do
	p=$(dl_phase "$NODE")
	[[ $p == "$last" ]] || { echo "    $NODE: $p"; last=$p; }
	[[ $p == failed ]] && fail "$NODE failed: $(dl_field "$NODE" reason)"
	((SECONDS - t0 < 1500)) || fail "$NODE not up after 1500 s"
	sleep 2
done
hdr "$NODE is up: its libvirtd answers; the facts it reported"
vh_facts "$NODE" | python3 -m json.tool | ind
dl_nodectl host list 2>&1 | ind || true

hdr "a guest inside $NODE over qemu+tls as an admin (storage pool, vol-upload, create)"
vh_guest_initrd "$DL_W/guest-initrd.gz"
vh_virsh qemu "$IP" pool-define-as guests dir --target /var/lib/libvirt/images >/dev/null
vh_virsh qemu "$IP" pool-build guests >/dev/null
vh_virsh qemu "$IP" pool-start guests >/dev/null || fail "pool-start"
for v in vmlinuz:"$VH_PATH/vmlinuz" initrd.gz:"$DL_W/guest-initrd.gz"; do
	vh_virsh qemu "$IP" vol-create-as guests "${v%%:*}" "$(stat -c %s "${v#*:}")" --format raw >/dev/null
	vh_virsh qemu "$IP" vol-upload --pool guests "${v%%:*}" "${v#*:}" || fail "vol-upload ${v%%:*}"
done
dtype=qemu
vh_virsh qemu "$IP" domcapabilities --virttype kvm >/dev/null 2>&1 && dtype=kvm
cat >"$DL_W/demo1.xml" <<EOX
<domain type='$dtype'>
  <name>demo1</name>
  <memory unit='MiB'>96</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>/var/lib/libvirt/images/vmlinuz</kernel>
    <initrd>/var/lib/libvirt/images/initrd.gz</initrd>
    <cmdline>console=ttyS0 quiet panic=-1</cmdline>
  </os>
  <devices>
    <serial type='file'><source path='/var/lib/libvirt/images/demo1.console'/></serial>
  </devices>
</domain>
EOX
g0=$SECONDS
vh_virsh qemu "$IP" create "$DL_W/demo1.xml" >/dev/null || fail "virsh create"
vh_virsh qemu "$IP" list | ind
guest_up() {
	vh_virsh qemu "$IP" pool-refresh guests >/dev/null &&
	    vh_virsh qemu "$IP" vol-download --pool guests demo1.console "$DL_W/demo1.console" >/dev/null &&
	    grep -aq 'TICK 2' "$DL_W/demo1.console"
}
dl_wait 900 "demo1 boots" guest_up
echo "    demo1 ($dtype) ran its init $((SECONDS - g0)) s after create:"
grep -a -m3 -E 'GUEST-UP|TICK' "$DL_W/demo1.console" | tr -d '\r' | ind

hdr "bootsvc's view: hosts and VMs (libvirt is the truth; bootsvc lists what it reports)"
sleep 5
dl_nodectl host list 2>&1 | ind || true
dl_nodectl vm list 2>&1 | ind || true
hdr "done; tearing down"
