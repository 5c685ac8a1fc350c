#!/bin/bash
# A VM host as bootsvc sees it (issue 12), against a real libvirtd: Debian's, started in a
# namespace of its own (network, mount, UTS, PID) with TLS only. The "node" is that
# namespace: it is registered with the namespace's address as its fixed IP and a kvm image
# (the tiny image's files under a hand-written manifest of kind kvm), asks for its script,
# its one-time credential and its overlay from that address, as the image's init does;
# libvirtd runs with the server certificate the overlay brought (issued by bootsvc from
# the test's CA, lib.sh's $DL_W/tls) and admits bootsvc's own client certificate
# (bootsvc writes it into libvirt_pki_dir at start). The node reports up with receipt and
# facts (tests/integ/lib_libvirtd.sh builds the host and boots it). Then:
#   - bad facts fail the node naming the field; good ones make it a VM host;
#   - bootsvc connects over TLS: `nodectl host list` says connected;
#   - a small guest (TCG, kernel + busybox initrd) started there shows in `nodectl vm
#     list` and /metrics;
#   - libvirtd stopped: a host-lost event, the host lost, the node risky ("libvirt
#     unreachable"); restarted: host-connected, the guest listed again, the node ok;
#   - provision of the host is refused naming the guest; --evacuate is refused (nowhere
#     to move it, nothing changed); --force goes.
# Times are logged, never asserted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_libvirtd.sh"
dl_require python3 ip curl libvirtd virsh qemu-system-x86_64 unshare busybox cpio gzip
dl_setup vmlv 61

HV_IP=$DL_NET.10
vsh() { lv_virsh hv1 "$@"; }

# --- the host's namespace on the test bridge, the kvm image, bootsvc, the node
lv_host_add hv1 "$HV_IP" 52:54:00:61:00:10
lv_image
printf 'user=admin\npassword=x\n' >"$DL_W/hv.creds"
chmod 600 "$DL_W/hv.creds"
dl_bootsvc_start --vm_poll=2s --power_poll=1h \
    --health_poll=off --log_level=debug
lv_node_add hv1 --bmc "$DL_NET.250" --bmc-creds "$DL_W/hv.creds"
dl_events_to "$DL_W/events.jsonl"

# 1. the node's first boot: libvirtd starts with the overlay's certificate; facts that
# point bootsvc elsewhere fail the node, naming the field
t0=$SECONDS
lv_host_boot hv1
pass "libvirtd up with the overlay's certificate in $((SECONDS - t0)) s ($(libvirtd --version))"
code=$(lv_host_report hv1 '{"uri": "qemu+tls://10.9.9.9/system"}')
[[ $code == 204 ]] || fail "up report: HTTP $code"
dl_phase_is hv1 failed || fail "hv1 with a foreign URI is $(dl_phase hv1), not failed"
reason=$(dl_field hv1 reason)
[[ $reason == *"'uri' must be 'qemu+tls://$HV_IP/system'"* ]] || fail "reason: $reason"
pass "facts naming another host: hv1 failed ($reason)"

# 2. its next boot, good facts: up, a VM host, connected over TLS (libvirtd restarted
# with this boot's certificate, as a real boot would start it)
lv_host_boot hv1
code=$(lv_host_report hv1)
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
lv_guest_xml g1 96 >"$DL_W/g1.xml"
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
lv_host_stop hv1
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
lv_host_start hv1
t0=$SECONDS
dl_wait 120 "hv1 connected again" host_is connected
pass "libvirtd restarted: hv1 connected again after $((SECONDS - t0)) s (backoff)"
dl_wait 30 "g1 listed again" vm_is running
[[ $(dl_field hv1 health) == ok ]] || fail "hv1's health is $(dl_field hv1 health) once back"
[ "$(grep -c '"action": "host-connected"' "$DL_W/events.jsonl")" -ge 2 ] ||
    fail "not two host-connected events"
pass "host-connected event, g1 listed again, hv1 ok"

# 6. reimage refused while g1 runs; --evacuate: refused too, g1 has no other host to go to
# (nothing drained); --force goes
out=$(dl_nodectl provision hv1 --image kvmhost 2>&1) && fail "provision of a host running g1 went: $out"
[[ $out == *"hv1 runs 1 VM (g1): add --evacuate (they move first) or --force (they die)"* ]] ||
    fail "provision refusal: $out"
out=$(dl_nodectl provision hv1 --image kvmhost --evacuate 2>&1) && fail "--evacuate went: $out"
[[ $out == *"1 of hv1's VMs fit on no other host"* ]] || fail "--evacuate: $out"
dl_nodectl --json host list | python3 -c 'import json, sys
sys.exit(any(h["drain"] for h in json.load(sys.stdin)["hosts"]))' || fail "a refused --evacuate drained hv1"
dl_nodectl provision hv1 --image kvmhost --force >/dev/null || fail "provision --force"
[[ $(dl_field hv1 want_power) == on ]] || fail "forced provision did not set want_power"
pass "provision: refused naming g1, --evacuate refused (no room elsewhere), --force goes"

# 7. the node leaves up (here it reports failed itself): no VM host any more
code=$(_lv_curl hv1 -o /dev/null -w '%{http_code}' -X POST \
    -H "Authorization: Bearer ${LV_TOKEN[hv1]}" -H 'Content-Type: application/json' \
    --data '{"phase":"failed","reason":"test: gone"}' "$DL_URL/api/v1/nodes/hv1/phase")
[[ $code == 204 ]] || fail "failed report: HTTP $code"
dl_wait 30 "hv1 dropped" host_is none
[[ $(dl_nodectl --json vm list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["vms"]))') == 0 ]] ||
    fail "g1 still listed after its host was dropped"
pass "hv1 left up: dropped from host list, its VMs with it"
wait "$GUEST_WATCH" 2>/dev/null || true
vsh destroy g1 >/dev/null 2>&1 || true
