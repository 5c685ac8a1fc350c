#!/bin/bash
# Issue #4 end to end: four qemu nodes, each behind its own ipmi_sim BMC whose power
# really starts and stops the node, provisioned by bootsvc's controller through IPMI.
#   - provision n[01-04] from off to up on image A; reimage n01 n02 to B: power-cycled,
#     booting B, receipts for B
#   - crash safety: provision n03 n04 to B, kill -9 bootsvc mid-way, start it again: both
#     end up on B and neither was power-cycled twice
#   - a BMC under SIGSTOP: its node becomes bmc-unreachable, the other finishes; after
#     SIGCONT it recovers and finishes too
#   - a boot that never reports (image 'hang'): timeouts, retries, then failed naming the
#     phase it was stuck in
#   - two event subscribers receive the same events, in order, equal to the history
# BMC_PROTO=redfish (tests/run.sh's integ/controller@redfish) proves the same controller
# path over Redfish in less time: a mixed fleet, n01 behind a Redfish BMC and n02 behind
# an IPMI one, both provisioned (PXE once) and n01 reimaged (power-cycled once); n01's BMC
# answering 503, then hanging, marks it bmc-unreachable with the reason while n02 finishes,
# and it recovers. The crash, the hanging boot and the event streams are the IPMI run's.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_bmc.sh"
dl_require qemu-system-x86_64 python3 ip ipmi_sim
if [[ $BMC_PROTO == redfish ]]; then
	dl_require openssl
	dl_setup ctrl-rf 115
	NODES="n01 n02" SET='n[01-02]'
else
	dl_setup ctrl 76
	NODES="n01 n02 n03 n04" SET='n[01-04]'
fi
O=${DL_NET#10.}; O=${O%.0}; OX=$(printf %02x "$O") # the MACs carry the octet in hex

build() { # recipe-dir [--force]: prints "<id> <dir>"
	"$BUILD/imagebuild" build "$1" --store "$DL_W/store" --work "$DL_W" "${@:2}" \
	    2>>"$DL_W/imagebuild.log" | tail -n 1
}
read -r A _ <<<"$(build "$REPO/images/tiny")"
read -r B _ <<<"$(build "$REPO/tests/data/images/tiny-v2")"
read -r H _ <<<"$(build "$REPO/tests/data/images/hang")"
[[ -n $A && -n $B && -n $H && $A != "$B" ]] || fail "image builds"
pass "images: tiny A=${A:0:12} B=${B:0:12}, hang=${H:0:12}"

# Timeouts leave room for four TCG nodes booting at once on two busy cores.
CTRL_OPTS=(--power_poll=5s --bmc_timeout=3s --timeout_pxe=120s --timeout_loading=90s
	--timeout_imaging=90s --timeout_up=180s --boot_attempts=2 --retry_backoff=2s
	--power_on_rate=2)
dl_bootsvc_start "${CTRL_OPTS[@]}"
for v in "$DL_W"/store/*/; do dl_nodectl image add "${v%/}" >/dev/null || fail "image add $v"; done

# --- two event subscribers from the very beginning
for s in 1 2; do
	dl_events_to "$DL_W/events$s.jsonl"
done

for n in $NODES; do
	i=${n#n0}
	if [[ $BMC_PROTO == redfish && $n == n02 ]]; then
		BMC_PROTO=ipmi dl_bmc $n "$DL_NET.2$i" "52:54:00:$OX:00:0$i" bios
	else
		dl_bmc $n "$DL_NET.2$i" "52:54:00:$OX:00:0$i" bios
	fi
	dl_nodectl node add $n --mac "52:54:00:$OX:00:0$i" --bmc "$(dl_bmc_addr $n)" \
	    --bmc-creds "$DL_W/$n.creds" >/dev/null || fail "node add $n"
done
dl_nodectl node list
booted() { dl_field "$1" booted_image; }
up_on() { dl_phase_is "$1" up && [[ $(booted "$1") == "$2" ]]; }
count() { dl_bmc_power_count "$1"; }

# --- provision from off to up on A
dl_nodectl provision "$SET" --image "tiny@${A:0:12}" --wait --timeout 10m >"$DL_W/wait.log" 2>&1 ||
    { cat "$DL_W/wait.log"; fail "provision --wait $SET to A"; }
for n in $NODES; do
	up_on $n "$A" || fail "$n not up on A"
	[[ $(count $n) == 1 ]] || fail "$n powered on $(count $n) times, expected 1"
	[[ $(dl_bmc_booted_from $n) == *pxe* ]] || fail "$n boot device was not PXE"
done
pass "$SET powered on through their BMCs (boot device PXE) and up on A"

if [[ $BMC_PROTO == redfish ]]; then
	dl_nodectl provision n01 --image "tiny@${B:0:12}" >/dev/null || fail "provision n01 to B"
	dl_wait 240 "n01 up on B" up_on n01 "$B"
	(( $(count n01) + $(dl_bmc_reset_count n01) == 2 )) || fail "n01: expected one power cycle"
	up_on n02 "$A" && [[ $(count n02) == 1 ]] || fail "n02 was touched"
	pass "n01 (Redfish) power-cycled once and up on B; n02 (IPMI) untouched"
	unreachable() { [[ $(dl_field "$1" bmc_state) == unreachable ]]; }
	for f in 503 hang; do
		dl_bmc_fault n01 "$f"
		dl_nodectl provision "$SET" --image "tiny@${A:0:12}" >/dev/null ||
		    fail "provision to A with n01's BMC faulty ($f)"
		dl_wait 60 "n01 bmc-unreachable ($f)" unreachable n01
		err=$(dl_field n01 last_error)
		case $f in
		503) [[ $err == *"503 Service Unavailable"* ]] ;;
		hang) [[ $err == *"no answer within"* ]] ;;
		esac || fail "n01 ($f): last_error '$err' does not say why"
		[[ $(dl_nodectl node list) == *bmc-unreachable* ]] || fail "node list does not show bmc-unreachable"
		up_on n01 "$A" && fail "n01 reimaged without its BMC ($f)"
		pass "n01's Redfish BMC answers $f: bmc-unreachable, reason '$err'"
		dl_bmc_fault n01 ""
		[[ $f == 503 ]] || continue
		# it is retried and recovers: provisioned to A, as asked
		dl_wait 240 "n01 recovers and is up on A" up_on n01 "$A"
		pass "n01 recovered after the 503s and is up on A"
		dl_nodectl provision n01 --image "tiny@${B:0:12}" >/dev/null || fail "provision n01 to B"
		dl_wait 240 "n01 up on B again" up_on n01 "$B"
	done
	dl_wait 240 "n01 recovers after the hang and is up on A" up_on n01 "$A"
	up_on n02 "$A" || fail "n02 not up on A"
	pass "after the hang n01 recovered and is up on A; n02 (IPMI) up on A throughout"
	dl_nodectl node list
	echo PASS
	exit 0
fi

# --- reimage two of them to B
dl_nodectl provision 'n[01-02]' --image "tiny@${B:0:12}" >/dev/null || fail "provision B"
for n in n01 n02; do dl_wait 240 "$n up on B" up_on $n "$B"; done
for n in n01 n02; do
	(( $(count $n) + $(dl_bmc_reset_count $n) == 2 )) || fail "$n: expected one power cycle"
done
up_on n03 "$A" && up_on n04 "$A" || fail "n03/n04 were touched"
[[ $(count n03) == 1 && $(count n04) == 1 ]] || fail "n03/n04 were power-cycled"
pass "n01 n02 power-cycled once and up on B with receipts for B; n03 n04 untouched"

# --- crash safety: kill -9 bootsvc mid-way through a reimage
dl_nodectl provision 'n[03-04]' --image "tiny@${B:0:12}" >/dev/null || fail "provision n03 n04"
midway() { [[ $(dl_phase n03) =~ ^(pxe|loading|imaging)$ || $(dl_phase n04) =~ ^(pxe|loading|imaging)$ ]]; }
dl_wait 120 "n03 or n04 mid-boot" midway
kill -9 "$DL_BOOTSVC_PID"
wait "$DL_BOOTSVC_PID" 2>/dev/null || true
echo "killed bootsvc with SIGKILL while n03=$(sqlite3 "$DL_W/state/diskless.db" "select phase from nodes where name='n03'")"
dl_bootsvc_start "${CTRL_OPTS[@]}"
for n in n03 n04; do dl_wait 240 "$n up on B after the restart" up_on $n "$B"; done
for n in n03 n04; do
	(( $(count $n) + $(dl_bmc_reset_count $n) == 2 )) ||
	    fail "$n power-cycled $(( $(count $n) + $(dl_bmc_reset_count $n) - 1 )) times across the crash"
done
pass "after kill -9 and restart, n03 n04 up on B, each power-cycled exactly once"

# --- an unreachable BMC does not stall others
kill -STOP "$(dl_bmc_pid n01)"
dl_nodectl provision 'n[01-02]' --image "tiny@${A:0:12}" >/dev/null || fail "provision back to A"
unreachable() { [[ $(dl_field "$1" bmc_state) == unreachable ]]; }
dl_wait 60 "n01 bmc-unreachable" unreachable n01
dl_wait 240 "n02 up on A while n01's BMC is stopped" up_on n02 "$A"
unreachable n01 || fail "n01 left bmc-unreachable without its BMC"
up_on n01 "$A" && fail "n01 reimaged without its BMC"
pass "n01's BMC stopped: n01 bmc-unreachable, n02 finished"
kill -CONT "$(dl_bmc_pid n01)"
dl_wait 240 "n01 recovers and is up on A" up_on n01 "$A"
pass "after SIGCONT n01 recovered and is up on A"

# --- a boot that never reports: timeouts, retries, failed with the stuck phase. Only n04
# boots now, so bootsvc restarts with a time from kernel fetch to the init's first report
# (timeout_imaging) that fits one tiny boot, not four: the 90 s above would make this wait
# out three minutes.
dl_bootsvc_stop
dl_bootsvc_start "${CTRL_OPTS[@]}" --timeout_imaging=20s
dl_nodectl provision n04 --image hang >/dev/null || fail "provision hang"
reason() { dl_field "$1" reason; }
dl_wait 300 "n04 failed" dl_phase_is n04 failed
[[ $(reason n04) == *"timed out in phase loading after 2 attempts"* ]] || fail "n04 reason '$(reason n04)'"
pass "hanging boot: failed with '$(reason n04)'"

# --- events: both subscribers saw the same stream, in order, equal to the history
sleep 2
python3 - "$DL_W/events1.jsonl" "$DL_W/events2.jsonl" "$DL_W/state/diskless.db" <<'EOP' || fail "event streams"
import json, sqlite3, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
n = min(len(a), len(b))
assert n > 50, "too few events: %d" % n
assert a[:n] == b[:n], "subscribers differ"
seqs = [e["seq"] for e in a]
assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), "out of order or repeated"
rows = sqlite3.connect(sys.argv[3]).execute(
    "select seq, node, kind, phase, reason from history where seq <= ? order by seq", (seqs[n - 1],)).fetchall()
# The first subscriber connected before the restart: compare what it saw before the kill
got = [(e["seq"], e["node"], e["kind"], e.get("phase") or e.get("action"), e["reason"]) for e in a[:n]]
missing = [r for r in rows if r[0] <= seqs[n - 1] and r not in got]
assert got == [r for r in rows if r[0] in set(seqs[:n])], "stream differs from the history"
print("events: %d in order, identical for both subscribers; history rows not seen: %d" % (n, len(missing)))
EOP
pass "event stream delivered every transition in order to both subscribers"
dl_nodectl node list
echo PASS
