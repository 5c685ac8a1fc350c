#!/bin/bash
# iSCSI-backed nodes (issue 14): images/disk-debian, a bootable Debian disk, is the
# golden disk; bootsvc (iscsi = on) supervises tgtd and gives each node a reflink clone
# on an XFS disk_dir (the image copied onto the same XFS, as FICLONE needs), exported as
# the node's own target. A BIOS node (SeaBIOS + iPXE) and a UEFI node (OVMF +
# snponly.efi) sanboot their clones through bootsvc's script with
# CHAP; Linux on the disk reads iBFT, logs in itself and writes one line per boot to
# its own disk. bootsvc sees each boot pass pxe -> loading (tgtd shows the node's login)
# -> up (the image's probe, sshd, answers). Then:
#   - isolation: node 1's line is on neither node 2's disk nor the golden one;
#   - refusals, from an attacker's namespace on the boot bridge: with the right CHAP
#     secret and initiator from the node's own address a login works (the control); a
#     wrong secret or another address are refused at login, a session under another
#     node's initiator name is dropped by bootsvc;
#   - stateless: node 1 boots again and gets a clean disk (one line);
#   - persistent: node 2 keeps its disk across a reboot (two lines) until
#     `nodectl node reset-disk`, then a clean one again.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_iscsi.sh"
dl_require qemu-system-x86_64 python3 ip tgtd tgtadm iscsi-inq iscsi-perf debugfs e2fsck mkfs.xfs sqlite3
dl_setup iscsi 70
_is_exit() {
	local rc=$?
	set +e
	for p in "${DL_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${DL_PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	done
	is_cleanup
	(exit "$rc")
	dl_cleanup
}
trap _is_exit EXIT
cd "$REPO"
B=s01 BMAC=52:54:00:70:00:01 BIP=$DL_NET.10
U=s02 UMAC=52:54:00:70:00:02 UIP=$DL_NET.11

is_build
is_xfs "$DL_W/xfs" 8G
is_xfs_image
GOLD=$IS_PATH/disk.img
gold_sum=$(sha256sum <"$GOLD")
DISKS=$DL_W/xfs/disks
dl_bootsvc_start --iscsi=on --disk_dir="$DISKS"
dl_wait 20 "bootsvc's tgtd listens on the portal" \
    dl_ns bash -c "ss -Hltn 'sport = :3260' | grep -q '$DL_SRV:3260'"
dl_nodectl image add "$IS_PATH" >/dev/null || fail "image add"
dl_nodectl node add "$B" --mac "$BMAC" --ip "$BIP" --image disk-debian >/dev/null || fail "node add $B"
dl_nodectl node add "$U" --mac "$UMAC" --ip "$UIP" --image disk-debian >/dev/null || fail "node add $U"

# start NODE FW MAC / wait_up NODE: power the node on; wait until bootsvc has it up, and
# log the time since its start.
declare -A T0
start() { T0[$1]=$SECONDS; dl_qemu "$1" "$2" "$3" 1024; }
wait_up() {
	local name=$1 end=$((SECONDS + 600))
	until dl_phase_is "$name" up; do
		[[ $(dl_phase "$name") == failed ]] && fail "$name failed: $(dl_field "$name" reason)"
		((SECONDS < end)) || fail "timed out waiting for $name up (phase $(dl_phase "$name"))"
		sleep 1
	done
	echo "measured: $name power-on to up (sshd on its disk answering) $((SECONDS - T0[$name])) s"
}
# boot NODE FW MAC: a boot of a node bootsvc still has up (no BMC tells it the node went
# off): its new script request from its own address, with DHCP evidence, starts a new
# boot (pxe) first
not_up() { ! dl_phase_is "$1" up; }
boot() { start "$@"; dl_wait 300 "$1 begins a new boot" not_up "$1"; wait_up "$1"; }
# stop NODE: power the node off (its qemu ends); the OS synced its line at boot.
stop() {
	local v="DL_QEMU_${1//-/_}"
	kill "${!v}" 2>/dev/null || true
	wait "${!v}" 2>/dev/null || true
	ip -n "$DL_NS" link del "$1" 2>/dev/null || true
}
# phases_ok NODE: the node's history has its last boot pass pxe, loading and up, in that
# order of time (the history's at is whole seconds, so ties are allowed).
phases_ok() {
	dl_nodectl --json node show "$1" | python3 -c '
import json, sys
h = json.load(sys.stdin)["node"]["history"]
at = {}
for e in h:                      # the newest of each phase
    if e["phase"] in ("pxe", "loading", "up"):
        at[e["phase"]] = max(at.get(e["phase"], 0), e["at"])
ok = len(at) == 3 and at["pxe"] <= at["loading"] <= at["up"]
print(" ".join("%s@%s" % (p, at.get(p, "-")) for p in ("pxe", "loading", "up")))
sys.exit(0 if ok else 1)'
}
ini() { echo "iqn.2026-12.local.diskless:$1.initiator"; }
tgt() { echo "iqn.2026-12.local.diskless:$1"; }

start "$B" bios "$BMAC"
start "$U" uefi "$UMAC"
wait_up "$B"
wait_up "$U"
for n in "$B:bios" "$U:uefi"; do
	name=${n%%:*}
	dl_console_has "$name" "DISKLESS-DISK-UP initiator=$(ini "$name") boots=1" ||
		{ grep -a DISKLESS "$DL_W/$name.log"; fail "$name's OS did not come up from its own disk with its initiator name"; }
	ph=$(phases_ok "$name") || fail "$name's phases: $ph"
	[[ $(dl_field "$name" booted_image) == "$IS_ID" ]] || fail "$name booted another version"
	[[ $(is_disk_field "$name" image_id) == "$IS_ID" && $(is_disk_field "$name" method) == reflink ]] ||
		fail "$name's disk: $(dl_nodectl --json node show "$name")"
	pass "$name (${n#*:}): sanbooted its reflink clone with CHAP, OS read iBFT and logged in itself; pxe -> loading -> up"
done
dl_nodectl node show "$B"

# --- refusals, from an attacker's namespace on the boot bridge
is_attacker atk "$DL_NET.250"
ATT=$IS_ATT
secret=$(sqlite3 "$DL_W/state/diskless.db" "select chap_secret from node_disks where node='$B'")
user=$(sqlite3 "$DL_W/state/diskless.db" "select chap_user from node_disks where node='$B'")
[[ -n $secret && -n $user ]] || fail "no CHAP secret for $B in the store"
out=$(is_login "$ATT" "$(ini "$B")" "$user" "$secret" "$(tgt "$B")") &&
	fail "a login from another address than $B's was let in: $out"
echo "refused: right secret and initiator, another address: $(tail -1 <<<"$out")"
stop "$B"
# the attacker takes the stopped node's address (its only one: a second address on the
# same subnet would not be the source of its connections)
ip -n "$ATT" addr del "$DL_NET.250/24" dev eth0
ip -n "$ATT" addr add "$BIP/24" dev eth0
# (the server side still maps it to the node's MAC: forget that, as a switch would after
# the attacker's first frame)
ip -n "$DL_NS" neigh flush to "$BIP" 2>/dev/null || true
out=$(is_login "$ATT" "$(ini "$B")" "$user" "$secret" "$(tgt "$B")") ||
	fail "the control login (the node's address, initiator and secret) failed: $out"
out=$(is_login "$ATT" "$(ini "$B")" "$user" "wrong-secret-0123" "$(tgt "$B")") &&
	fail "a wrong CHAP secret was let in: $out"
echo "refused: wrong secret: $(tail -1 <<<"$out")"
# another node's initiator name with everything else right: tgtd (1.0.85) admits a login
# that matches its address ACL or its name ACL, so it holds the address one and bootsvc's
# root parent drops, at its next reading of tgtd's sessions, a session whose name is not
# its target's node's; a long-lived reader is dropped and logged, never counted as s01's
ip netns exec "$ATT" iscsi-perf -i "$(ini "$U")" "iscsi://$user%$secret@$DL_SRV/$(tgt "$B")/1" \
    >"$DL_W/perf-bad.log" 2>&1 &
perf=$!
DL_PIDS+=("$perf")
dl_wait 30 "bootsvc drops the session under $U's initiator name on $B's target" \
    grep -q "event=tgtd_drop .*initiator=$(ini "$U") " "$DL_W/bootsvc.log"
kill -9 "$perf" 2>/dev/null; wait "$perf" 2>/dev/null || true
echo "dropped: $U's initiator name: $(grep -m1 "event=tgtd_drop .*initiator=$(ini "$U") " "$DL_W/bootsvc.log")"
# the address goes back to the node (and the server side forgets the attacker's MAC)
ip -n "$ATT" addr del "$BIP/24" dev eth0
ip -n "$DL_NS" neigh flush to "$BIP" 2>/dev/null || true
pass "logins to $B's target: refused with a wrong secret or from another address, dropped under another node's initiator name; the node's own works"

# --- isolation: what node 1 wrote is on its disk only
stop "$U"
is_boots "$DISKS/$B.img" | grep -q " $(ini "$B") " ||
	fail "$B's clone has not its own line: $(is_boots "$DISKS/$B.img")"
is_boots "$DISKS/$U.img" | grep -q "$(ini "$B")" && fail "$U's clone has $B's line"
[[ -z $(is_boots "$GOLD") ]] || fail "the golden disk has boot lines: $(is_boots "$GOLD")"
[[ $(sha256sum <"$GOLD") == "$gold_sum" ]] || fail "the golden disk changed"
pass "$B's line is on its clone only: not on $U's, not on the golden disk (unchanged)"

# --- both boot again at once: node 1 (stateless) on a clean disk, node 2 (now persistent)
# on the disk it had
dl_nodectl node set "$U" --persistent-disk on >/dev/null || fail "node set --persistent-disk"
mv "$DL_W/$B.log" "$DL_W/$B-1.log"
mv "$DL_W/$U.log" "$DL_W/$U-1.log"
rebooting() { start "$@"; dl_wait 300 "$1 begins a new boot" not_up "$1"; }
rebooting "$B" bios "$BMAC"
rebooting "$U" uefi "$UMAC"
wait_up "$B"
wait_up "$U"
dl_console_has "$B" "DISKLESS-DISK-UP initiator=$(ini "$B") boots=1" ||
	{ grep -a DISKLESS "$DL_W/$B.log"; fail "$B's second boot did not start from a clean disk"; }
pass "$B booted again: a fresh clone, one line"
dl_console_has "$U" "DISKLESS-DISK-UP initiator=$(ini "$U") boots=2" ||
	{ grep -a DISKLESS "$DL_W/$U.log"; fail "$U's persistent disk was not kept across a reboot"; }
stop "$B"
stop "$U"
dl_nodectl node reset-disk "$U" --force || fail "node reset-disk $U"
mv "$DL_W/$U.log" "$DL_W/$U-2.log"
boot "$U" uefi "$UMAC"
dl_console_has "$U" "DISKLESS-DISK-UP initiator=$(ini "$U") boots=1" ||
	{ grep -a DISKLESS "$DL_W/$U.log"; fail "$U's disk was kept after reset-disk"; }
pass "$U persistent: kept its disk across a reboot (two lines), a clean one after reset-disk"
echo "PASS iscsi_boot: $IS_ID"
