#!/bin/bash
# The VM layer's executor (issue 13, docs/vm.md "Executor") over real libvirt live
# migration: two VM hosts, each a Debian libvirtd in a namespace of its own, booted and
# registered as nodes the way images/kvm's are (tests/integ/lib_libvirtd.sh), TLS only;
# their libvirtds migrate peer to peer with the per-boot certificates the overlay gave.
#   1. `nodectl vm migrate g1 --to hv2 --wait`: the plan is written, the executor
#      migrates; g1 runs on hv2 and on hv2 only (virsh), its console shows one GUEST-UP
#      and a counter without a gap; the step ends done with its progress (bytes) in the
#      store; vm-migrate events (start, done) on both hosts.
#   2. kill -9 of bootsvc while g2 (a guest that rewrites its memory) migrates, then a
#      restart: the step is resolved from both hosts' listings, g2 runs exactly once
#      (listed running on one host only), its counter without a reboot, the step done.
#   3. cancel of a running migration (`nodectl vm cancel`): the job is aborted, g3 stays
#      on its source, running, the step and the plan cancelled, an event says so.
#   4. a migration that cannot converge (hv1's link shaped below g3's dirty rate), post-copy
#      off: aborted at its deadline, g3 on its source, running.
#   5. the same, post-copy on: it switches to post-copy and finishes on hv2 (an event
#      for the switch, progress events while it copies).
# Times are logged, never asserted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_libvirtd.sh"
dl_require python3 ip tc curl libvirtd virsh qemu-system-x86_64 unshare busybox cpio gzip
dl_setup vmmig 65

lv_host_add hv1 "$DL_NET.10" 52:54:00:65:00:10
lv_host_add hv2 "$DL_NET.11" 52:54:00:65:00:11
lv_image
# post-copy off for the cancel case (a migration switched to post-copy cannot be aborted
# any more); vm_poll short so the resume check has its listings soon after a restart
BOOTSVC_ARGS=(--vm_poll=2s --power_poll=1h --health_poll=off --log_level=debug
	--vm_postcopy=off)
dl_bootsvc_start "${BOOTSVC_ARGS[@]}"
lv_node_add hv1
lv_node_add hv2
dl_events_to "$DL_W/events.jsonl"

host_state() {
	dl_nodectl --json host list | python3 -c '
import json, sys
h = [x for x in json.load(sys.stdin)["hosts"] if x["node"] == sys.argv[1]]
print(h[0]["state"] if h else "none")' "$1"
}
host_is() { [[ $(host_state "$1") == "$2" ]]; }
for h in hv1 hv2; do
	lv_host_up "$h"
	dl_wait 60 "$h connected" host_is "$h" connected
done
pass "hv1 and hv2 up and connected over TLS"

# vm_host NAME: the host bootsvc lists NAME on, "none" when it lists it nowhere
vm_host() {
	dl_nodectl --json vm list | python3 -c '
import json, sys
v = [x for x in json.load(sys.stdin)["vms"] if x["name"] == sys.argv[1]]
print(",".join(sorted(x["host"] + ":" + x["state"] for x in v)) if v else "none")' "$1"
}
vm_on() { [[ $(vm_host "$1") == "$2" ]]; }
# plan_field ID EXPR: a python expression over the plan p (vm.plans --id)
plan_field() {
	dl_nodectl --json vm plans "$1" 2>/dev/null | python3 -c '
import json, sys
p = json.load(sys.stdin)["plans"][0]
s = p["steps"][0]
print(eval(sys.argv[1]))' "$2"
}
plan_is() { [[ $(plan_field "$1" 'p["state"]') == "$2" ]]; }
# where NAME: the hosts whose libvirtd lists NAME running, space separated
where() { lv_guest_where "$1" | tr '\n' ' ' | sed 's/ $//'; }
# listed_anywhere NAME: every host's listing of NAME, any state (a VM defined twice shows)
listed_anywhere() {
	local h
	for h in hv1 hv2; do
		lv_virsh "$h" list --all --name 2>/dev/null | grep -qx "$1" && echo "$h"
	done | tr '\n' ' ' | sed 's/ $//'
}

# --- 1. a migration through the executor, --wait following it
lv_guest_start hv1 g1 96
dl_wait 60 "g1 listed running on hv1" vm_on g1 hv1:running
lv_wait_tick g1 3 240
t0=$SECONDS
dl_nodectl vm migrate g1 --to hv2 --wait >"$DL_W/migrate1.out" 2>&1 ||
    fail "nodectl vm migrate g1 --to hv2 --wait: $(cat "$DL_W/migrate1.out")"
echo "measured: nodectl vm migrate g1 --to hv2 --wait took $((SECONDS - t0)) s"
cat "$DL_W/migrate1.out"
[[ $(where g1) == hv2 ]] || fail "g1 runs on '$(where g1)', not hv2 only"
[[ $(listed_anywhere g1) == hv2 ]] || fail "g1 is defined on '$(listed_anywhere g1)'"
[[ $(lv_virsh hv2 dominfo g1 | sed -n 's/^Persistent: *//p') == yes ]] ||
    fail "g1 is not persistent on hv2"
lv_ticking g1
lv_counter_ok g1 || fail "g1's console: $(grep -ac GUEST-UP "$DL_W/g1-console.log") GUEST-UP, ticks $(_lv_ticks g1 | tr '\n' ' ')"
pass "g1 migrated hv1 -> hv2 by the executor: on hv2 only, persistent, one boot, no gap"
P1=$(dl_nodectl --json vm plans --all | python3 -c '
import json, sys
print(max(p["id"] for p in json.load(sys.stdin)["plans"] if p["strategy"] == "migrate"))')
plan_is "$P1" "done" || fail "plan $P1 is $(plan_field "$P1" 'p["state"]')"
[[ $(plan_field "$P1" 's["state"]') == "done" ]] || fail "step: $(plan_field "$P1" 's')"
(($(plan_field "$P1" 's["data_total"]') > 0)) ||
    fail "no progress recorded in the step: $(plan_field "$P1" 's')"
[[ $(plan_field "$P1" 's["attempts"]') == 1 ]] || fail "attempts: $(plan_field "$P1" 's')"
echo "measured: step $(plan_field "$P1" '"%d bytes, downtime %d ms, %d ms" % (s["data_total"], s["downtime_ms"], s["ended_ms"] - s["started_ms"])')"
dl_wait 30 "g1 listed on hv2 by bootsvc" vm_on g1 hv2:running
for h in hv1 hv2; do
	for what in "g1 hv1 -> hv2: start" "g1 hv1 -> hv2: done"; do
		grep -F '"action": "vm-migrate"' "$DL_W/events.jsonl" | grep -F "\"node\": \"$h\"" |
		    grep -qF "$what" || fail "no vm-migrate event '$what' on $h"
	done
done
pass "plan $P1 done, its step's progress in the store, vm-migrate start/done on both hosts"

# hv1's link to the bridge shaped (tc tbf), so a migration off hv1 takes seconds to tens
# of seconds whatever the guest does: time to kill, cancel, or miss a deadline.
shape() { ip netns exec "${LV_NS[hv1]}" tc qdisc replace dev eth0 root tbf rate "$1" \
    burst 64kb latency 100ms; }
unshape() { ip netns exec "${LV_NS[hv1]}" tc qdisc del dev eth0 root 2>/dev/null || true; }

# --- 2. kill -9 of bootsvc mid-migration, and a restart. g2 is idle: a guest rewriting
# its memory (dirty=24) oopsed once on its destination after such a migration, which
# libvirt had carried on alone after the kill (TCG, auto-converge; not chased yet), and
# this case is about the restart.
lv_guest_start hv1 g2 256
dl_wait 60 "g2 listed running on hv1" vm_on g2 hv1:running
lv_wait_tick g2 3 240
shape 40mbit || fail "tc tbf on hv1's link"
dl_nodectl vm migrate g2 --to hv2 >"$DL_W/migrate2.out" 2>&1 ||
    fail "nodectl vm migrate g2: $(cat "$DL_W/migrate2.out")"
P2=$(dl_nodectl --json vm plans --all | python3 -c '
import json, sys
print(max(p["id"] for p in json.load(sys.stdin)["plans"]))')
# the moment libvirt has the domain incoming on hv2: the migration is under way
incoming() { lv_virsh hv2 list --all --name 2>/dev/null | grep -qx g2; }
dl_wait 60 "g2's migration under way (incoming on hv2)" incoming
# the whole service dies, as its unit's cgroup would: bootsvc's two processes and the
# dnsmasq it supervises (which would otherwise outlive it, holding the DHCP port)
DNSMASQ_PIDS=$(pgrep -P "$DL_BOOTSVC_PID" -x dnsmasq || true)
for p in $DNSMASQ_PIDS; do DNSMASQ_PIDS+=" $(pgrep -P "$p" -x dnsmasq || true)"; done
kill -KILL "$DL_BOOTSVC_NET_PID" "$DL_BOOTSVC_PID" 2>/dev/null || true
wait "$DL_BOOTSVC_PID" 2>/dev/null || true
for p in $DNSMASQ_PIDS; do kill "$p" 2>/dev/null || true; done
echo "killed bootsvc (-9) with g2 $(lv_virsh hv2 domstate g2 2>&1 | head -n 1) on hv2," \
    "step $(python3 -c '
import sqlite3, sys
d = sqlite3.connect(sys.argv[1])
print(d.execute("select state, data_total, data_remaining from vm_steps where plan_id = ?",
    (int(sys.argv[2]),)).fetchone())' "$DL_W/state/diskless.db" "$P2" 2>&1)"
[[ $(python3 -c '
import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("select state from vm_steps where plan_id = ?",
    (int(sys.argv[2]),)).fetchone()[0])' "$DL_W/state/diskless.db" "$P2") == running ]] ||
    fail "the step was not running in the store when bootsvc was killed"
t0=$SECONDS
dl_bootsvc_start "${BOOTSVC_ARGS[@]}"
# the subscriber's connection died with bootsvc: a new one, from the start of the history
dl_events_to "$DL_W/events2.jsonl"
dl_wait 300 "plan $P2 ends" plan_is "$P2" "done"
unshape
echo "measured: plan $P2 done $((SECONDS - t0)) s after the restart"
grep -E "event=vm_exec plan=$P2 .*(from before|after a restart)|plan=$P2 .*resumed" \
    "$DL_W/bootsvc.log" | tail -n 3 || true
lv_ticking g2
[[ $(where g2) == hv2 ]] || fail "g2 runs on '$(where g2)', not hv2 only"
[[ $(listed_anywhere g2) == hv2 ]] || fail "g2 is defined on '$(listed_anywhere g2)'"
[[ $(grep -ac GUEST-UP "$DL_W/g2-console.log") == 1 ]] || fail "g2 booted again"
lv_counter_ok g2 || fail "g2's counter: $(_lv_ticks g2 | tr '\n' ' ')"
dl_wait 30 "bootsvc lists g2 on hv2 only" vm_on g2 hv2:running
grep -F '"action": "vm-migrate"' "$DL_W/events2.jsonl" | grep -F "g2 hv1 -> hv2" |
    grep -qF "after a restart" || fail "no vm-migrate event saying how g2's step resumed"
pass "kill -9 mid-migration: after the restart g2 runs once, on hv2, step done"

# --- 3. cancel: a migration aborted while it copies (post-copy off: nothing can make it
# unabortable). g3 rewrites 128 MiB of its 512 MiB, faster than hv1's shaped link sends.
lv_guest_start hv1 g3 512 dirty=128
dl_wait 60 "g3 listed running on hv1" vm_on g3 hv1:running
lv_wait_tick g3 3 240
grep -aq DIRTY "$DL_W/g3-console.log" || fail "g3 does not dirty its memory"
shape 40mbit || fail "tc tbf on hv1's link"
dl_nodectl vm migrate g3 --to hv2 >"$DL_W/migrate3.out" 2>&1 ||
    fail "nodectl vm migrate g3: $(cat "$DL_W/migrate3.out")"
P3=$(dl_nodectl --json vm plans --all | python3 -c '
import json, sys
print(max(p["id"] for p in json.load(sys.stdin)["plans"]))')
step_running() { [[ $(plan_field "$P3" 's["state"]') == running ]]; }
dl_wait 60 "g3's step running" step_running
dl_nodectl vm cancel "$P3" >"$DL_W/cancel.out" 2>&1 ||
    fail "nodectl vm cancel $P3: $(cat "$DL_W/cancel.out")"
t0=$SECONDS
plan_ended() { ! plan_is "$P3" running && ! plan_is "$P3" pending; }
dl_wait 60 "plan $P3 ends" plan_ended
echo "measured: plan $P3 ended $((SECONDS - t0)) s after the cancel:" \
    "$(plan_field "$P3" 'p["state"] + " / " + s["state"] + ": " + s["reason"]')"
plan_is "$P3" cancelled || fail "plan $P3 is $(plan_field "$P3" 'p["state"]'), not cancelled"
[[ $(plan_field "$P3" 's["state"]') == cancelled ]] || fail "step: $(plan_field "$P3" 's')"
[[ $(where g3) == hv1 ]] || fail "g3 runs on '$(where g3)' after the cancel, not hv1"
[[ $(listed_anywhere g3) == hv1 ]] || fail "g3 is defined on '$(listed_anywhere g3)'"
lv_ticking g3
grep -F '"action": "vm-migrate"' "$DL_W/events2.jsonl" | grep -F "g3 hv1 -> hv2" |
    grep -qiF "cancel" || fail "no vm-migrate event saying g3's migration was cancelled"
pass "cancel: g3's migration aborted, g3 still on hv1 and running, plan and step cancelled"

# --- 4. a migration that cannot converge, post-copy off: aborted at its deadline (the
# minimum, 60 s, for this small guest); the guest stays on its source. hv1's link is
# still shaped to 40 Mbit/s, far below what g3 dirties, so only the deadline can end it.
dl_nodectl vm migrate g3 --to hv2 >"$DL_W/migrate4.out" 2>&1 ||
    fail "nodectl vm migrate g3: $(cat "$DL_W/migrate4.out")"
P4=$(dl_nodectl --json vm plans --all | python3 -c '
import json, sys
print(max(p["id"] for p in json.load(sys.stdin)["plans"]))')
t0=$SECONDS
plan4_ended() { ! plan_is "$P4" running && ! plan_is "$P4" pending; }
dl_wait 240 "plan $P4 ends" plan4_ended
echo "measured: plan $P4 ended $((SECONDS - t0)) s after it was stored:" \
    "$(plan_field "$P4" 'p["state"] + " / " + s["state"] + ": " + s["reason"]')"
plan_is "$P4" failed || fail "plan $P4 is $(plan_field "$P4" 'p["state"]'), not failed"
[[ $(plan_field "$P4" 's["reason"]') == *deadline* ]] || fail "step: $(plan_field "$P4" 's')"
[[ $(where g3) == hv1 ]] || fail "g3 runs on '$(where g3)' after the abort, not hv1"
[[ $(listed_anywhere g3) == hv1 ]] || fail "g3 is defined on '$(listed_anywhere g3)'"
lv_ticking g3
lv_counter_ok g3 || fail "g3's counter: $(_lv_ticks g3 | tr '\n' ' ')"
pass "no convergence, post-copy off: aborted at the deadline, g3 still on hv1, running"

# --- 5. the same with post-copy allowed (bootsvc restarted so): the stalled migration
# switches to post-copy and finishes; g3 runs on hv2, once, without a gap
dl_bootsvc_stop
BOOTSVC_ARGS=("${BOOTSVC_ARGS[@]/--vm_postcopy=off/--vm_postcopy=on}")
dl_bootsvc_start "${BOOTSVC_ARGS[@]}"
dl_events_to "$DL_W/events3.jsonl"
for h in hv1 hv2; do dl_wait 60 "$h connected" host_is "$h" connected; done
shape 100mbit || fail "tc tbf on hv1's link"
dl_nodectl vm migrate g3 --to hv2 >"$DL_W/migrate5.out" 2>&1 ||
    fail "nodectl vm migrate g3: $(cat "$DL_W/migrate5.out")"
P5=$(dl_nodectl --json vm plans --all | python3 -c '
import json, sys
print(max(p["id"] for p in json.load(sys.stdin)["plans"]))')
t0=$SECONDS
plan5_ended() { ! plan_is "$P5" running && ! plan_is "$P5" pending; }
dl_wait 400 "plan $P5 ends" plan5_ended
echo "measured: plan $P5 ended $((SECONDS - t0)) s after it was stored:" \
    "$(plan_field "$P5" 'p["state"] + " / " + s["state"] + ", postcopy " + str(s["postcopy"]) + ", downtime %d ms: " % s["downtime_ms"] + s["reason"]')"
plan_is "$P5" "done" || fail "plan $P5 is $(plan_field "$P5" 'p["state"]'), not done"
[[ $(plan_field "$P5" 's["postcopy"]') == True ]] || fail "no post-copy: $(plan_field "$P5" 's')"
# The stream is written by a subscriber of its own (dl_events_to, since 0), which may
# still be replaying when the plan ends: wait for each event rather than read it once.
g3_event() {
	grep -F '"action": "vm-migrate"' "$DL_W/events3.jsonl" | grep -F "g3 hv1 -> hv2" |
	    grep -qE "$1"
}
dl_wait 30 "a vm-migrate event for g3's switch to post-copy" g3_event "post-copy:"
dl_wait 30 "a progress event of g3's migration (MiB sent, MiB left)" g3_event \
    "MiB sent, [0-9]+ MiB left"
[[ $(where g3) == hv2 ]] || fail "g3 runs on '$(where g3)', not hv2 only"
[[ $(listed_anywhere g3) == hv2 ]] || fail "g3 is defined on '$(listed_anywhere g3)'"
lv_ticking g3
lv_counter_ok g3 || fail "g3's counter: $(_lv_ticks g3 | tr '\n' ' ')"
pass "no convergence, post-copy on: switched to post-copy and finished, g3 on hv2, once"
