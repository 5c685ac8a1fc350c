#!/bin/bash
# Issue 15 point 3: a boot never waits out a timeout because a server restarted or died.
#   restart - four qemu nodes behind ipmi_sim BMCs, `provision n[1-4]`, both bootsvc
#             processes (the root parent and its unprivileged child) killed with SIGKILL
#             ~1 s later, bootsvc started again 4 s later with the same state: every node
#             is up before any timeout could fire (the time is logged: 46-56 s here, the
#             issue's minute; a test never asserts a time), each powered on exactly once (ipmi_sim's
#             counts), no reset, one power-cycle per node in the history (the provision's
#             own: off nodes, so one power-on) and no action after a timeout (timeouts at
#             the defaults: timeout_pxe 3m, so a node that needed one could not make it).
#   walk    - boot_url's bootsvc is dead (SIGKILL; its dnsmasq lives on and serves the
#             start script over TFTP) and `peers` names a second server that answers: a
#             UEFI node (snponly.efi) walks boot_url, then the peer, then waits with a
#             growing backoff and walks again, and comes up from boot_url once bootsvc is
#             back. The peer is a plain HTTP server (python3 -m http.server) whose
#             /ipxe/boot chains back to boot_url and otherwise returns to the walk: the
#             walk is what is tested, and a second bootsvc would add nothing to it.
#   report  - bootsvc killed while a node's kernel boots: the init's `imaging` report is
#             refused, tried for a few seconds only (the rootfs fetch is not held up), and
#             posted once the rootfs is in, after bootsvc is back; the node comes up.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_bmc.sh"
dl_require qemu-system-x86_64 python3 ip ipmi_sim sqlite3
dl_setup restart 101

read -r IMG _ <<<"$("$BUILD/imagebuild" build "$REPO/images/tiny" --store "$DL_W/store" \
    --work "$DL_W" 2>>"$DL_W/imagebuild.log" | tail -n 1)"
[[ -n $IMG ]] || fail "imagebuild tiny"
pass "image tiny ${IMG:0:12}"

# The defaults' order: a node that needed timeout_pxe (3 min) to be power-cycled could not
# be up within the 150 s this test waits after the restart (room for four TCG boots on two
# cores beside another test in make check; the measured time is logged).
OPTS=(--timeout_pxe=3m --timeout_loading=2m --timeout_imaging=3m --timeout_up=10m
	--power_poll=5s --bmc_timeout=3s)
dl_bootsvc_start "${OPTS[@]}"
dl_nodectl image add "$DL_W/store/$IMG" >/dev/null || fail "image add"
for i in 1 2 3 4; do
	dl_bmc n$i 10.101.0.2$i 52:54:00:65:00:0$i bios
	dl_nodectl node add n$i --mac 52:54:00:65:00:0$i --bmc 10.101.0.2$i \
	    --bmc-creds "$DL_W/n$i.creds" --image tiny >/dev/null || fail "node add n$i"
done

# kill9: both bootsvc processes with SIGKILL at once, as a crash or an OOM kill does.
# dl_bootsvc_start recorded the root parent (DL_BOOTSVC_PID) and its unprivileged child
# (DL_BOOTSVC_NET_PID); dnsmasq is the parent's child and, with the parent gone, nobody
# stops it: it keeps answering DHCP and TFTP (docs/boot-protocol.md "The start script").
kill9() {
	local dnsmasq
	dnsmasq=$(cat "$DL_W/state/dnsmasq/dnsmasq.pid")
	[[ $DL_BOOTSVC_NET_PID != "$DL_BOOTSVC_PID" ]] || fail "bootsvc is not two processes"
	# The root parent first: it owns dnsmasq, and a parent that outlives its child by a
	# moment stops dnsmasq as at any end of the child (privsep_parent.c); signalled in
	# the other order it once did, between the two kills.
	kill -9 "$DL_BOOTSVC_PID" "$DL_BOOTSVC_NET_PID"
	wait "$DL_BOOTSVC_PID" 2>/dev/null || true
	for _ in $(seq 20); do kill -0 "$DL_BOOTSVC_NET_PID" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$DL_BOOTSVC_NET_PID" 2>/dev/null && fail "bootsvc's child outlived SIGKILL"
	# and still there a moment later: one told to stop while bootsvc died takes that long
	sleep 0.5
	kill -0 "$dnsmasq" 2>/dev/null || fail "dnsmasq $dnsmasq did not outlive bootsvc"
	echo "killed bootsvc $DL_BOOTSVC_PID and $DL_BOOTSVC_NET_PID with SIGKILL; dnsmasq $dnsmasq lives on"
}
up() { dl_phase_is "$1" up && [[ $(dl_field "$1" booted_image) == "$IMG" ]]; }

# --- restart: provision, SIGKILL ~1 s later, start again 4 s later
dl_nodectl provision 'n[1-4]' --image tiny >/dev/null || fail "provision n[1-4]"
sleep 1
kill9
powered=0
for i in 1 2 3 4; do powered=$((powered + $(dl_bmc_power_count n$i))); done
echo "nodes powered on before the kill: $powered of 4"
sleep 4
dl_bootsvc_start "${OPTS[@]}"
T0=$SECONDS
all_up() { for i in 1 2 3 4; do up n$i || return 1; done; }
# The issue's requirement is a minute; the test's bound is the timeouts' (see OPTS).
dl_wait 150 "n[1-4] up within 150 s of the restart, before any timeout" all_up
echo "restart to all four up: $((SECONDS - T0)) s"
for i in 1 2 3 4; do
	on=$(dl_bmc_power_count n$i) rs=$(dl_bmc_reset_count n$i)
	[[ $on == 1 && $rs == 0 ]] || fail "n$i: powered on $on times, reset $rs times (expected once, never)"
done
# The provision's own action is one power-cycle per node (an off node: the off half is a
# no-op, then one power-on); anything a timeout caused says "timed out" or "attempt 2".
actions() { sqlite3 "$DL_W/state/diskless.db" "select $1 from history where kind = 'action' $2"; }
actions "seq, node, phase, reason" "" >"$DL_W/actions.txt"
for i in 1 2 3 4; do
	cycles=$(actions "count(*)" "and node = 'n$i' and phase = 'power-cycle'")
	[[ $cycles == 1 ]] || { cat "$DL_W/actions.txt"; fail "n$i: $cycles power-cycles, expected the provision's one"; }
done
late=$(actions "count(*)" "and (reason like '%timed out%' or reason like '%attempt 2%')")
[[ $late == 0 ]] || { cat "$DL_W/actions.txt"; fail "$late actions after a timeout"; }
walked=0
for i in 1 2 3 4; do dl_console_has n$i 'diskless: no script from' && walked=$((walked + 1)); done
echo "nodes whose start script met the outage and walked again: $walked of 4"
pass "after SIGKILL and a restart 4 s later, n[1-4] up, each powered on once, no action after a timeout"

# --- walk: boot_url dead, a peer that answers, the walk repeated with a growing backoff
# The peer listens on :8081: bootsvc binds 0.0.0.0:8080, which a peer on 8080 would hold.
PEER=10.101.0.2
ip -n "$DL_NS" addr add "$PEER/24" dev br0
mkdir -p "$DL_W/peer/ipxe"
# What the peer answers any /ipxe/boot with (http.server ignores the query): a mark on
# the console, then back to boot_url's script, or, while it is down, back to the walk.
cat > "$DL_W/peer/ipxe/boot" <<EOF
#!ipxe
echo restart-test: the peer answered for \${mac}
chain --replace $DL_URL/ipxe/boot?mac=\${mac}&uuid=\${uuid}&serial=\${serial:uristring} || exit 1
EOF
dl_bootsvc_stop
dl_bootsvc_start "${OPTS[@]}" --peers="http://$PEER:8081"
dl_ns grep -q "^set dl-s1 http://$PEER:8081\$" "$DL_W/state/dnsmasq/tftp/start.ipxe" ||
    fail "the TFTP start script does not name the peer"
dl_nodectl node add w1 --mac 52:54:00:65:00:31 --image tiny >/dev/null || fail "node add w1"
kill9
(cd "$DL_W/peer" && exec ip netns exec "$DL_NS" python3 -m http.server --bind "$PEER" 8081 \
    >"$DL_W/peer.log" 2>&1) &
DL_PIDS+=("$!")
T1=$SECONDS
dl_qemu w1 uefi 52:54:00:65:00:31
# iPXE escapes the MAC's colons in the query
peer_asked() { (($(grep -c 'GET /ipxe/boot?mac=52%3A54%3A00%3A65%3A00%3A31' "$DL_W/peer.log") >= $1)); }
# UEFI under TCG takes its time to reach iPXE; then every walk asks the peer once.
dl_wait 240 "w1's walk reached the peer three times" peer_asked 3
echo "w1 walked to the peer three times $((SECONDS - T1)) s after its power-on"
walk_order() {
	tr -d '\r' <"$DL_W/w1.log" | python3 -c '
import re, sys
t = sys.stdin.read()
dead = t.find("diskless: no script from '"$DL_URL"'")
peer = t.find("restart-test: the peer answered")
waits = [int(w) for w in re.findall(r"walking again in (\d+) s", t)]
assert 0 <= dead < peer, "boot_url was not tried before the peer"
assert len(waits) >= 2 and waits[:2] == [1, 2], "backoff %s" % waits
print("w1: boot_url refused, then the peer, then waits of %s s" % waits)'
}
walk_order || fail "w1's console does not show the walk in order"
dl_bootsvc_start "${OPTS[@]}" --peers="http://$PEER:8081"
T2=$SECONDS
dl_wait 150 "w1 up within 150 s of the restart" up w1
echo "restart to w1 up: $((SECONDS - T2)) s"
pass "w1 (UEFI) walked the dead boot_url and the peer with a growing backoff, and came up once bootsvc was back"

# --- report: the init's imaging report while bootsvc is down, posted once it is back
dl_nodectl node add w2 --mac 52:54:00:65:00:32 --image tiny >/dev/null || fail "node add w2"
dl_qemu w2 bios 52:54:00:65:00:32
# iPXE's last request is the credential; the kernel then boots for seconds under TCG
# before the init's first report, so bootsvc is gone by then. Matched up to the "o" of
# iPXE's "ok" (its errors start with a capital): the kernel's first screen clear can land
# on the serial console in the middle of it ("... oc^[[?7l").
dl_wait 240 "w2's iPXE fetched its credential" dl_console_has w2 '/credential\.\.\. o'
kill9
dl_wait 60 "w2's init deferred its imaging report" dl_console_has w2 'will post it again once the rootfs is in'
sleep 2
dl_bootsvc_start "${OPTS[@]}" --peers="http://$PEER:8081"
T3=$SECONDS
dl_wait 150 "w2 up within 150 s of the restart" up w2
echo "restart to w2 up: $((SECONDS - T3)) s"
dl_console_has w2 'imaging reported after the rootfs fetch' || fail "w2's init did not post its imaging late"
imaging=$(sqlite3 "$DL_W/state/diskless.db" \
    "select count(*) from history where node = 'w2' and kind = 'phase' and phase = 'imaging'")
[[ $imaging == 1 ]] || fail "w2's history has $imaging imaging rows, expected 1"
pass "w2's imaging report, refused while bootsvc was down, was posted once the rootfs was in; w2 up"
echo PASS
