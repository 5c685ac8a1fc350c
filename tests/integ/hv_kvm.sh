#!/bin/bash
# A KVM VM host (issue 12): build images/kvm (cached in the shared store by its recipe
# hash), boot a BIOS qemu node into it through bootsvc and dnsmasq; it reports up only
# once its libvirtd answers, with facts (QEMU, the node's qemu+tls URI, CPUs, memory).
# From the test's namespace an admin certificate reaches that libvirtd over TLS only
# (the TCP port is closed, a scheduler's certificate is refused by tls_allowed_dn_list);
# a tiny guest (the image's kernel + a busybox initrd, 96 MiB) is uploaded into a storage
# pool and started, and its console shows it running. The guest runs TCG inside a TCG
# node unless the node's /dev/kvm (qemu64's emulated SVM) makes libvirt offer kvm; the
# time it takes is logged. bootsvc-side assertions (host list, vm list) go where marked.
# End to end (issue 13): a second node boots into images/kvm beside the first, and
# `nodectl host drain` of the first live-migrates the guest to it through bootsvc's VM
# layer (planner, executor, libvirt peer to peer over the nodes' per-boot TLS
# certificates); the guest keeps ticking on the second.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_vmhost.sh"
dl_require qemu-system-x86_64 python3 ip unsquashfs debootstrap virsh busybox cpio
dl_setup hvkvm 95
cd "$REPO"
NODE=h01 MAC=52:54:00:65:00:01 IP=$DL_NET.10
NODE2=h02 MAC2=52:54:00:65:00:02 IP2=$DL_NET.11

# --- the image
vh_build kvm
[[ $(vh_manifest_field kind) == kvm ]] || fail "manifest kind is not kvm"
unsquashfs -l "$VH_PATH/rootfs.squashfs" >"$DL_W/list"
for f in usr/lib/diskless/vmhost-up etc/diskless/vmhost.conf \
  etc/systemd/system/multi-user.target.wants/diskless-vmhost-up.service \
  etc/systemd/system/sockets.target.wants/libvirtd-tls.socket usr/sbin/libvirtd \
  usr/bin/qemu-system-x86_64 etc/libvirt/libvirtd.conf; do
	grep -q "squashfs-root/$f\$" "$DL_W/list" || fail "rootfs lacks $f"
done
grep -q "squashfs-root/etc/systemd/system/multi-user.target.wants/diskless-up.service\$" \
    "$DL_W/list" && fail "diskless-up.service still enabled: up must wait for libvirtd"
unsquashfs -cat "$VH_PATH/rootfs.squashfs" etc/diskless/vmhost.conf | grep -qx 'driver=qemu' ||
	fail "vmhost.conf does not name the qemu driver"
pass "images/kvm $VH_ID has the VM-host unit, libvirtd with TLS socket activation"

# --- the CA bootsvc issues the node's libvirt certificate from, and an admin's
vh_pki

# --- an admin's ssh key reaches root on the node through bootsvc's site overlay
# (the directory readable: bootsvc's unprivileged process walks the site tree; the key
# file stays root's 0600 and is read through its root parent, docs/security.md)
mkdir -p "$DL_W/site/root/.ssh"
chmod 0755 "$DL_W/site/root/.ssh"
ssh-keygen -q -t ed25519 -N '' -f "$DL_W/sshkey" || fail "ssh-keygen"
install -m 0600 "$DL_W/sshkey.pub" "$DL_W/site/root/.ssh/authorized_keys"
on_node() {
	ip netns exec "$DL_NS" timeout 60 ssh -q -i "$DL_W/sshkey" -o BatchMode=yes \
	    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "root@$IP" "$@"
}

# --- boot it
dl_bootsvc_start --site_overlay="$DL_W/site"
dl_events_to "$DL_W/events.jsonl"
dl_nodectl image add "$VH_PATH" >/dev/null || fail "image add"
dl_nodectl node add "$NODE" --mac "$MAC" --ip "$IP" --image kvm >/dev/null || fail "node add"
dl_nodectl node add "$NODE2" --mac "$MAC2" --ip "$IP2" --image kvm >/dev/null ||
	fail "node add $NODE2"
t0=$SECONDS
# No BMC here to power-cycle a hung node: a kernel that panics early (TCG's timer check
# fails on an overloaded machine: "IO-APIC + timer doesn't work!") reboots after the
# image's panic=10 and boots again from the network
DL_QEMU_REBOOT=1 dl_qemu "$NODE" bios "$MAC" 2048
DL_QEMU_REBOOT=1 dl_qemu "$NODE2" bios "$MAC2" 2048
dl_wait 900 "$NODE up on kvm" dl_phase_is "$NODE" up
echo "measured: $NODE power-on to up (libvirtd answering) $((SECONDS - t0)) s"
booted=$(dl_field "$NODE" booted_image)
[[ $booted == "$VH_ID" ]] || fail "$NODE booted '$booted', expected $VH_ID"
dl_wait 30 "facts on the console" dl_console_has "$NODE" 'vmhost-up: facts'
facts=$(vh_facts "$NODE")
echo "facts: $facts"
python3 - "$facts" "$IP" <<'EOP' || fail "facts are not what a kvm host at $IP reports"
import json, sys
f = json.loads(sys.argv[1])
keys = {"hypervisor", "hypervisor_version", "libvirt_version", "uri", "cpus", "memory_mib",
        "numa_nodes", "guest_cpus", "guest_memory_mib"}
assert set(f) == keys, set(f) ^ keys
assert f["hypervisor"] == "QEMU" and f["uri"] == "qemu+tls://%s/system" % sys.argv[2], f
assert f["hypervisor_version"][0].isdigit() and f["libvirt_version"].startswith("9."), f
assert f["cpus"] >= 1 and f["numa_nodes"] >= 1 and 1500 < f["memory_mib"] <= 2048, f
# the recipe keeps 512 MiB and no CPU for the host
assert f["guest_memory_mib"] == f["memory_mib"] - 512 and f["guest_cpus"] == f["cpus"], f
EOP
pass "$NODE up with a matching receipt and facts: $facts"
vh_has_host_list || fail "nodectl host list does not answer"
dl_wait 120 "bootsvc lists $NODE as a connected QEMU host" vh_host_is "$NODE" QEMU
dl_nodectl host list
pass "nodectl host list: $NODE a QEMU host, connected"

# --- libvirt over TLS only, certificates are the authentication
vh_virsh qemu "$IP" version >"$DL_W/version" 2>&1 || { cat "$DL_W/version"; fail "virsh over TLS as admin"; }
grep -q 'Running hypervisor: QEMU' "$DL_W/version" || fail "no QEMU behind qemu+tls"
ip netns exec "$DL_NS" timeout 10 bash -c "exec 3<>/dev/tcp/$IP/16509" 2>/dev/null &&
	fail "libvirtd's plain TCP port 16509 answers"
"$BUILD/nodectl" tls issue sched --role scheduler --dir "$DL_W/tls" >/dev/null
mkdir -p "$DL_W/pki-sched"
cp "$DL_W/pki-admin/cacert.pem" "$DL_W/pki-sched/"
cp "$DL_W/tls/sched.crt" "$DL_W/pki-sched/clientcert.pem"
cp "$DL_W/tls/sched.key" "$DL_W/pki-sched/clientkey.pem"
ip netns exec "$DL_NS" timeout 60 virsh -c "qemu+tls://$IP/system?pkipath=$DL_W/pki-sched" \
    version >/dev/null 2>&1 && fail "a scheduler certificate (OU=diskless-scheduler) got in"
pass "libvirtd answers TLS for OU=diskless-admin, refuses OU=diskless-scheduler, no TCP"

# --- a tiny guest inside the node (its kernel and initrd on both nodes: a migrated
# guest finds them at the same paths on its destination)
vh_guest_initrd "$DL_W/guest-initrd.gz"
guest_files() {
	vh_virsh qemu "$1" pool-define-as guests dir --target /var/lib/libvirt/images >/dev/null
	vh_virsh qemu "$1" pool-build guests >/dev/null
	vh_virsh qemu "$1" pool-start guests >/dev/null || fail "pool-start guests on $1"
	for v in vmlinuz:"$VH_PATH/vmlinuz" initrd.gz:"$DL_W/guest-initrd.gz"; do
		name=${v%%:*} file=${v#*:}
		vh_virsh qemu "$1" vol-create-as guests "$name" "$(stat -c %s "$file")" \
		    --format raw >/dev/null || fail "vol-create-as $name on $1"
		vh_virsh qemu "$1" vol-upload --pool guests "$name" "$file" ||
			fail "vol-upload $name on $1"
	done
}
guest_files "$IP"
dtype=qemu
vh_virsh qemu "$IP" domcapabilities --virttype kvm >/dev/null 2>&1 && dtype=kvm
echo "guest domain type: $dtype (kvm when the node's /dev/kvm is usable)"
cat >"$DL_W/g1.xml" <<EOX
<domain type='$dtype'>
  <name>g1</name>
  <memory unit='MiB'>96</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>/var/lib/libvirt/images/vmlinuz</kernel>
    <initrd>/var/lib/libvirt/images/initrd.gz</initrd>
    <cmdline>console=ttyS0 quiet panic=-1</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <serial type='file'><source path='/var/lib/libvirt/images/g1.console'/></serial>
    <console type='file'><source path='/var/lib/libvirt/images/g1.console'/></console>
  </devices>
</domain>
EOX
t0=$SECONDS
vh_virsh qemu "$IP" create "$DL_W/g1.xml" >/dev/null || fail "virsh create g1"
echo "measured: virsh create g1 ($dtype) $((SECONDS - t0)) s"
[[ $(vh_virsh qemu "$IP" domstate g1) == running ]] || fail "g1 is not running"
guest_up() {
	vh_virsh qemu "$IP" pool-refresh guests >/dev/null &&
	    vh_virsh qemu "$IP" vol-download --pool guests g1.console "$DL_W/g1.console" >/dev/null &&
	    grep -aq 'TICK 2' "$DL_W/g1.console"
}
dl_wait 600 "g1 prints GUEST-UP and ticks" guest_up
echo "measured: g1 ($dtype, 96 MiB, inside a TCG node) create to its third tick $((SECONDS - t0)) s;" \
    "$(grep -a -m1 GUEST-UP "$DL_W/g1.console" | tr -d '\r')"
vh_virsh qemu "$IP" list --name | grep -qx g1 || fail "g1 not listed by the node's libvirt"
pass "guest g1 runs inside $NODE ($dtype) and ticks"
dl_wait 120 "bootsvc lists g1 running on $NODE" vh_vm_is "$NODE" g1 running
dl_nodectl vm list --host "$NODE"
pass "nodectl vm list: g1 running on $NODE, as its libvirt says"

# --- a reimage of a host that runs a VM is refused, naming it
set +e
out=$(dl_nodectl provision "$NODE" --image kvm 2>&1)
rc=$?
set -e
[[ $rc != 0 && $out == *"runs 1 VM (g1)"* && $out == *--force* ]] ||
	fail "provision of $NODE running g1: rc $rc, '$out'"
pass "provision $NODE refused: $out"

# --- libvirtd stopped inside the node: the host is lost, with an event and health; back
# when it starts again (g1's qemu outlives its libvirtd, which finds it again)
host_state() {
	dl_nodectl --json host list | python3 -c '
import json, sys
print([h for h in json.load(sys.stdin)["hosts"] if h["node"] == sys.argv[1]][0]["state"])' "$NODE"
}
host_state_is() { [[ $(host_state) == "$1" ]]; }
on_node systemctl stop libvirtd-tls.socket libvirtd.socket libvirtd-ro.socket \
    libvirtd-admin.socket libvirtd.service || fail "ssh root@$NODE: systemctl stop libvirtd"
t1=$SECONDS
dl_wait 120 "bootsvc sees $NODE's libvirt lost" host_state_is lost
echo "measured: libvirtd stopped to host lost $((SECONDS - t1)) s"
dl_wait 10 "a host-lost event" grep -q '"action": "host-lost"' "$DL_W/events.jsonl" ||
	fail "no host-lost event for $NODE"
dl_wait 30 "$NODE risky while its libvirt is lost" eval '[[ $(dl_field "$NODE" health) == risky ]]'
pass "libvirtd stopped inside $NODE: host lost, a host-lost event, health risky"
on_node systemctl start libvirtd-tls.socket libvirtd.socket || fail "ssh root@$NODE: systemctl start"
t1=$SECONDS
dl_wait 180 "bootsvc reconnects to $NODE" host_state_is connected
echo "measured: libvirtd started to host connected again $((SECONDS - t1)) s"
dl_wait 120 "g1 listed running again" vh_vm_is "$NODE" g1 running
dl_wait 60 "$NODE healthy again" eval '[[ $(dl_field "$NODE" health) == ok ]]'
pass "libvirtd back inside $NODE: connected again, g1 running, health ok"

# --- end to end (issue 13): the second node up, a drain of the first moves g1 there live
dl_wait 900 "$NODE2 up on kvm" dl_phase_is "$NODE2" up
dl_wait 120 "bootsvc lists $NODE2 as a connected QEMU host" vh_host_is "$NODE2" QEMU
guest_files "$IP2"
t1=$SECONDS
dl_nodectl host drain "$NODE" --reason "e2e" --wait --timeout 15m >"$DL_W/drain.out" 2>&1 ||
	{ cat "$DL_W/drain.out"; fail "host drain $NODE --wait"; }
cat "$DL_W/drain.out"
echo "measured: host drain $NODE with g1 (96 MiB) to plan done $((SECONDS - t1)) s"
grep -q "migrate g1 $NODE -> $NODE2: done" "$DL_W/drain.out" || fail "no step moved g1 to $NODE2"
[[ $(vh_virsh qemu "$IP2" domstate g1) == running ]] || fail "g1 is not running on $NODE2"
vh_virsh qemu "$IP" list --all --name | grep -qx g1 && fail "g1 is still defined on $NODE"
guest_ticks_on2() {
	vh_virsh qemu "$IP2" pool-refresh guests >/dev/null &&
	    vh_virsh qemu "$IP2" vol-download --pool guests g1.console "$DL_W/g1-2.console" \
		>/dev/null && [[ $(grep -ac 'TICK' "$DL_W/g1-2.console") -ge 2 ]]
}
dl_wait 120 "g1 ticks on $NODE2" guest_ticks_on2
grep -aq GUEST-UP "$DL_W/g1-2.console" && fail "g1 booted again on $NODE2 (GUEST-UP there)"
dl_wait 120 "bootsvc lists g1 running on $NODE2" vh_vm_is "$NODE2" g1 running
pass "nodectl host drain $NODE: g1 live-migrated to $NODE2 by bootsvc, still ticking, not rebooted"
echo "PASS hv_kvm: $VH_ID"
