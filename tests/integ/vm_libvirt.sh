#!/bin/bash
# A VM host as bootsvc sees it (issue 12), against a real libvirtd: Debian's, started in a
# namespace of its own (network, mount, UTS, PID) with TLS only. The "node" is that
# namespace: it is registered with the namespace's address as its fixed IP and a kvm image
# (the tiny image's files under a hand-written manifest of kind kvm), asks for its script,
# its one-time credential and its overlay from that address, as the image's init does;
# libvirtd runs with the server certificate the overlay brought (issued by bootsvc from
# the test's CA, lib.sh's $DL_W/tls) and admits bootsvc's own client certificate
# (bootsvc writes it into libvirt_pki_dir at start). The node reports up with receipt and
# facts. Then:
#   - bad facts fail the node naming the field; good ones make it a VM host;
#   - bootsvc connects over TLS: `nodectl host list` says connected;
#   - a small guest (TCG, kernel + busybox initrd) started there shows in `nodectl vm
#     list` and /metrics;
#   - libvirtd stopped: a host-lost event, the host lost, the node risky ("libvirt
#     unreachable"); restarted: host-connected, the guest listed again, the node ok;
#   - provision of the host is refused naming the guest; --evacuate is answered that it
#     arrives with the VM layer; --force goes.
# Times are logged, never asserted.
. "$(dirname "$0")/lib.sh"
dl_require python3 ip curl libvirtd virsh qemu-system-x86_64 unshare busybox cpio gzip
dl_setup vmlv 61

HV=dl-vmhv-$$
HV_IP=$DL_NET.10
MAC=52:54:00:61:00:10
D=$DL_W/hv
UPID=

vsh() { virsh -q -c "qemu+unix:///system?socket=$D/run/libvirt-sock" "$@"; }

mkdir -p "$D"/{etc/pki,run,lib,cache,log}

# --- the host's namespace on the test bridge
ip netns add "$HV"
DL_NETNS+=("$HV")
ip link add hv0 netns "$DL_NS" type veth peer name eth0 netns "$HV"
ip -n "$DL_NS" link set hv0 master br0 up
ip -n "$HV" link set lo up
ip -n "$HV" addr add "$HV_IP/24" dev eth0
ip -n "$HV" link set eth0 up

# --- libvirtd: TLS only, bootsvc's role OU allowed, no TCP, no virtlogd, no cgroups
cat >"$D/etc/libvirtd.conf" <<EOC
listen_tls = 1
listen_tcp = 0
listen_addr = "$HV_IP"
auth_tls = "none"
key_file = "/etc/libvirt/pki/serverkey.pem"
cert_file = "/etc/libvirt/pki/servercert.pem"
ca_file = "/etc/libvirt/pki/cacert.pem"
tls_no_verify_certificate = 0
tls_allowed_dn_list = ["CN=bootsvc,OU=diskless-libvirt"]
auth_unix_rw = "none"
auth_unix_ro = "none"
host_uuid = "$(cat /proc/sys/kernel/random/uuid)"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
EOC
cat >"$D/etc/qemu.conf" <<EOC
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
stdio_handler = "file"
namespaces = [ ]
cgroup_controllers = [ ]
EOC
cp /etc/passwd "$D/passwd"
cp /etc/group "$D/group"
getent passwd libvirt-qemu >/dev/null ||
    echo "libvirt-qemu:x:64055:64055::/var/lib/libvirt:/usr/sbin/nologin" >>"$D/passwd"
getent group libvirt-qemu >/dev/null || echo "libvirt-qemu:x:64055:" >>"$D/group"
# PID 1 of the namespace: runs libvirtd in the foreground while $D/run-libvirtd exists,
# so the test stops and restarts it without ending the guests (their qemu stays).
cat >"$D/init.sh" <<EOS
hostname hv
mount --bind $D/passwd /etc/passwd
mount --bind $D/group /etc/group
mount --bind $D/etc /etc/libvirt
mount --bind $D/run /run/libvirt
mount --bind $D/lib /var/lib/libvirt
mount --bind $D/cache /var/cache/libvirt
mount --bind $D/log /var/log/libvirt
while :; do
	if [ -e $D/run-libvirtd ]; then
		libvirtd --listen --config /etc/libvirt/libvirtd.conf \
		    --pid-file /run/libvirt/libvirtd.pid >>/var/log/libvirt/stdout.log 2>&1
	fi
	sleep 0.2
done
EOS
mkdir -p /etc/libvirt /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt
ip netns exec "$HV" unshare --mount --uts --pid --fork --kill-child --mount-proc \
    --propagation private bash "$D/init.sh" >"$DL_W/hv-unshare.log" 2>&1 &
UPID=$!
DL_PIDS+=("$UPID")
libvirtd_pid() { pgrep -x libvirtd -P "$(pgrep -P "$UPID" | head -n 1)"; }

# --- the kvm image: tiny's files under a manifest of kind kvm
"$BUILD/imagebuild" build "$REPO/images/tiny" --store "$DL_W/build" --work "$DL_W" \
    >"$DL_W/imagebuild.out" 2>"$DL_W/imagebuild.log" || fail "imagebuild tiny"
SRC=$(ls -d "$DL_W"/build/*/ | head -n 1)
KVM_ID=$(python3 - "$SRC" "$DL_W/store" <<'EOP'
import hashlib, json, os, shutil, sys
src, store = sys.argv[1], sys.argv[2]
m = json.load(open(os.path.join(src, "manifest.json")))
m["kind"], m["name"] = "kvm", "kvmhost"
text = json.dumps(m, sort_keys=True, separators=(",", ":"))
vid = hashlib.sha256(text.encode()).hexdigest()
dst = os.path.join(store, vid)
os.makedirs(dst)
for f in m["files"].values():
    shutil.copy(os.path.join(src, f["path"]), os.path.join(dst, f["path"]))
open(os.path.join(dst, "manifest.json"), "w").write(text)
print(vid)
EOP
) || fail "kvm manifest"

# --- bootsvc, the node
printf 'user=admin\npassword=x\n' >"$DL_W/hv.creds"
chmod 600 "$DL_W/hv.creds"
dl_bootsvc_start --vm_poll=2s --power_poll=1h \
    --health_poll=off --log_level=debug
dl_nodectl image add "$DL_W/store/$KVM_ID" >/dev/null || fail "image add kvm"
dl_nodectl node add hv1 --mac $MAC --ip "$HV_IP" --image kvmhost --bmc "$DL_NET.250" \
    --bmc-creds "$DL_W/hv.creds" >/dev/null || fail "node add hv1"
dl_events_to "$DL_W/events.jsonl"

hv_curl() { ip netns exec "$HV" curl -s --max-time 10 "$@"; }
# The node boots itself: script, then its one-time credential (from its own address).
# Again (its second "boot"), the admin arms it: no DHCP exchange shows it rebooting.
boot_once() {
	if [[ ${1:-} == again ]]; then
		dl_nodectl node arm hv1 >/dev/null || fail "node arm"
	else
		hv_curl -o /dev/null "$DL_URL/ipxe/boot?mac=$MAC" || fail "script request"
	fi
	TOKEN=$(hv_curl "$DL_URL/api/v1/nodes/hv1/credential" | gzip -dc | grep -ao 'token=[0-9a-f]*' |
	    cut -d= -f2)
	[[ ${#TOKEN} == 64 ]] || fail "no credential for hv1 (got '${TOKEN:-}')"
	# the overlay: this boot's libvirt certificate and key, where libvirtd.conf reads them
	rm -rf "$DL_W/ovl" && mkdir -p "$DL_W/ovl"
	hv_curl -f -H "Authorization: Bearer $TOKEN" "$DL_URL/api/v1/nodes/hv1/overlay" \
	    -o "$DL_W/overlay.cpio" || fail "overlay fetch"
	(cd "$DL_W/ovl" && cpio -idm --no-absolute-filenames <"$DL_W/overlay.cpio" 2>/dev/null) ||
	    fail "overlay unpack"
	cp "$DL_W/ovl/etc/pki/CA/cacert.pem" "$D/etc/pki/cacert.pem" &&
	cp "$DL_W/ovl/etc/pki/libvirt/servercert.pem" "$D/etc/pki/servercert.pem" &&
	cp "$DL_W/ovl/etc/pki/libvirt/private/serverkey.pem" "$D/etc/pki/serverkey.pem" ||
	    fail "the overlay has no libvirt certificate: $(cd "$DL_W/ovl" && find . -type f)"
}
# report_up FACTS_JSON: the up report, receipt from the manifest
report_up() {
	local body
	body=$(python3 - "$DL_W/store/$KVM_ID/manifest.json" "$1" <<'EOP'
import json, sys
m = json.load(open(sys.argv[1]))
r = {"kernel": m["files"]["kernel"]["sha256"], "initrd": m["initrd_tree"],
     "rootfs": m["files"]["rootfs"]["sha256"]}
print(json.dumps({"phase": "up", "receipt": r, "facts": json.loads(sys.argv[2])}))
EOP
)
	hv_curl -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
	    -H 'Content-Type: application/json' --data "$body" "$DL_URL/api/v1/nodes/hv1/phase"
}
FACTS='{"hypervisor":"QEMU","hypervisor_version":"7.2.0","libvirt_version":"9.0.0",
 "uri":"qemu+tls://'$HV_IP'/system","cpus":2,"memory_mib":2048,"numa_nodes":1,
 "guest_cpus":1,"guest_memory_mib":1500}'

# 1. the node's first boot: libvirtd starts with the overlay's certificate; facts that
# point bootsvc elsewhere fail the node, naming the field
boot_once
touch "$D/run-libvirtd"
t0=$SECONDS
dl_wait 60 "libvirtd answers on its unix socket" vsh version
pass "libvirtd up with the overlay's certificate in $((SECONDS - t0)) s ($(libvirtd --version))"
code=$(report_up "${FACTS/$HV_IP/10.9.9.9}")
[[ $code == 204 ]] || fail "up report: HTTP $code"
dl_phase_is hv1 failed || fail "hv1 with a foreign URI is $(dl_phase hv1), not failed"
reason=$(dl_field hv1 reason)
[[ $reason == *"'uri' must be 'qemu+tls://$HV_IP/system'"* ]] || fail "reason: $reason"
pass "facts naming another host: hv1 failed ($reason)"

# 2. its next boot, good facts: up, a VM host, connected over TLS (libvirtd restarted
# with this boot's certificate, as a real boot would start it)
boot_once again
kill "$(libvirtd_pid)" || fail "no libvirtd to restart"
dl_wait 30 "libvirtd answers again" vsh version
code=$(report_up "$FACTS")
[[ $code == 204 ]] || fail "up report: HTTP $code"
dl_phase_is hv1 up || fail "hv1 is $(dl_phase hv1) after a good up report"
t0=$SECONDS
host_state() {
	dl_nodectl --json host list | python3 -c '
import json, sys
h = [x for x in json.load(sys.stdin)["hosts"] if x["node"] == "hv1"]
print(h[0]["state"] if h else "none")'
}
host_is() { [[ $(host_state) == "$1" ]]; }
dl_wait 60 "hv1 connected" host_is connected
pass "bootsvc connected to hv1's libvirtd over TLS in $((SECONDS - t0)) s"
dl_nodectl host list | tee "$DL_W/hostlist.txt"
grep -Eq '^hv1 +QEMU +0/2 +0/[0-9]+ +0 +connected +ok' "$DL_W/hostlist.txt" ||
    fail "host list: $(cat "$DL_W/hostlist.txt")"

# 3. a guest: TCG, a kernel and a busybox initrd, 96 MiB
mkdir -p "$DL_W/ird/bin" "$DL_W/ird/proc"
cp "$(command -v busybox)" "$DL_W/ird/bin/busybox"
printf '#!/bin/busybox sh\n/bin/busybox --install -s /bin\necho GUEST-UP\nwhile :; do sleep 10; done\n' \
    >"$DL_W/ird/init"
chmod +x "$DL_W/ird/init"
(cd "$DL_W/ird" && find . | cpio -o -H newc 2>/dev/null | gzip -1 >"$DL_W/guest-initrd.gz")
cat >"$DL_W/g1.xml" <<EOX
<domain type='qemu'>
  <name>g1</name>
  <memory unit='MiB'>96</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$SRC/vmlinuz</kernel>
    <initrd>$DL_W/guest-initrd.gz</initrd>
    <cmdline>console=ttyS0 quiet panic=-1</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <serial type='file'><source path='$DL_W/g1-console.log' append='on'/></serial>
    <memballoon model='none'/>
  </devices>
</domain>
EOX
vsh define "$DL_W/g1.xml" >/dev/null || fail "virsh define g1"
t0=$SECONDS
vsh start g1 >/dev/null || fail "virsh start g1"
vm_row() {
	dl_nodectl --json vm list --host hv1 | python3 -c '
import json, sys
v = [x for x in json.load(sys.stdin)["vms"] if x["name"] == "g1"]
print(v[0]["state"] if v else "none")'
}
vm_is() { [[ $(vm_row) == "$1" ]]; }
dl_wait 30 "g1 running in vm list" vm_is running
pass "g1 started and listed by bootsvc in $((SECONDS - t0)) s"
dl_nodectl vm list | tee "$DL_W/vmlist.txt"
grep -Eq '^g1 +hv1 +running +1 +96 +[0-9]+[smh]$' "$DL_W/vmlist.txt" || fail "vm list: $(cat "$DL_W/vmlist.txt")"
dl_nodectl host list | grep -Eq '^hv1 +QEMU +1/2 +96/[0-9]+ +1 +connected' ||
    fail "host list does not count g1: $(dl_nodectl host list)"
dl_ns curl -sf "$DL_URL/metrics" >"$DL_W/metrics.txt" || fail "metrics"
for want in 'diskless_vm_hosts{state="connected"} 1' 'diskless_vm_host_vms{node="hv1"} 1' \
    'diskless_vms{state="running"} 1' 'diskless_vm_host_cpus{node="hv1"} '; do
	grep -qF "$want" "$DL_W/metrics.txt" || fail "metrics lack '$want'"
done
pass "g1 in vm list (running, 1 vCPU, 96 MiB, uptime), host list and /metrics"
( t1=$SECONDS; for _ in $(seq 240); do grep -q GUEST-UP "$DL_W/g1-console.log" 2>/dev/null && break; sleep 0.5; done
  echo "guest console says GUEST-UP after $((SECONDS - t1)) s more (TCG: measured, not asserted)" ) &
GUEST_WATCH=$!
DL_PIDS+=("$GUEST_WATCH")

# 4. libvirtd stops: lost, an event, the node risky
rm -f "$D/run-libvirtd"
kill "$(libvirtd_pid)" || fail "no libvirtd to stop"
t0=$SECONDS
dl_wait 60 "hv1 lost" host_is lost
pass "libvirtd stopped: hv1 lost after $((SECONDS - t0)) s"
# seen through libvirt's close callback (its event thread), not only the next poll
grep -q 'event=vm_closed node=hv1' "$DL_W/bootsvc.log" || fail "no close callback for hv1"
[[ $(dl_field hv1 health) == risky ]] || fail "hv1's health is $(dl_field hv1 health), not risky"
[[ $(dl_field hv1 health_reasons) == "libvirt unreachable" ]] ||
    fail "hv1's health reasons: $(dl_field hv1 health_reasons)"
grep -q '"action": "host-lost"' "$DL_W/events.jsonl" || fail "no host-lost event"
dl_nodectl host list | grep -E '^hv1 ' | grep -q lost || fail "host list does not say lost"
pass "host-lost event, hv1 risky: libvirt unreachable"

# 5. libvirtd back: connected again, g1 still listed (its qemu kept running), ok again
touch "$D/run-libvirtd"
t0=$SECONDS
dl_wait 120 "hv1 connected again" host_is connected
pass "libvirtd restarted: hv1 connected again after $((SECONDS - t0)) s (backoff)"
dl_wait 30 "g1 listed again" vm_is running
[[ $(dl_field hv1 health) == ok ]] || fail "hv1's health is $(dl_field hv1 health) once back"
[ "$(grep -c '"action": "host-connected"' "$DL_W/events.jsonl")" -ge 2 ] ||
    fail "not two host-connected events"
pass "host-connected event, g1 listed again, hv1 ok"

# 6. reimage refused while g1 runs; --evacuate: the VM layer's; --force goes
out=$(dl_nodectl provision hv1 --image kvmhost 2>&1) && fail "provision of a host running g1 went: $out"
[[ $out == *"hv1 runs 1 VM (g1): add --evacuate (the VM layer) or --force"* ]] ||
    fail "provision refusal: $out"
out=$(dl_nodectl provision hv1 --image kvmhost --evacuate 2>&1) && fail "--evacuate went: $out"
[[ $out == *"arrives with the VM layer (issue 13)"* ]] || fail "--evacuate: $out"
dl_nodectl provision hv1 --image kvmhost --force >/dev/null || fail "provision --force"
[[ $(dl_field hv1 want_power) == on ]] || fail "forced provision did not set want_power"
pass "provision: refused naming g1, --evacuate not yet, --force goes"

# 7. the node leaves up (here it reports failed itself): no VM host any more
code=$(hv_curl -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' --data '{"phase":"failed","reason":"test: gone"}' \
    "$DL_URL/api/v1/nodes/hv1/phase")
[[ $code == 204 ]] || fail "failed report: HTTP $code"
dl_wait 30 "hv1 dropped" host_is none
[[ $(dl_nodectl --json vm list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["vms"]))') == 0 ]] ||
    fail "g1 still listed after its host was dropped"
pass "hv1 left up: dropped from host list, its VMs with it"
wait "$GUEST_WATCH" 2>/dev/null || true
vsh destroy g1 >/dev/null 2>&1 || true
