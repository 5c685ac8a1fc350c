#!/bin/bash
# Issue #7 items 1 and 2 end to end, with qemu nodes behind ipmi_sim BMCs, short timers
# (idle_poweroff 20s, warm tiny=1, power_on_rate 0.5/s):
#   - three nodes provisioned up and released: after the idle time all but the warm
#     spare are powered off through their BMCs, each with an idle-off event and reason
#   - an expect hint for 2 nodes on tiny powers one back on, and it comes up on tiny
#   - the power-on rate limit spaces the controller's power-ons >= 1/rate apart
#   - the energy verb reports non-zero on, off and saved kWh; /metrics exports them
# BMC_PROTO=redfish (integ/green@redfish): the same with Redfish BMCs (redfish_sim.py).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_bmc.sh"
if [[ $BMC_PROTO == redfish ]]; then
	dl_require qemu-system-x86_64 python3 ip openssl
	dl_setup green-rf 117
else
	dl_require qemu-system-x86_64 python3 ip ipmi_sim
	dl_setup green 79
fi
o=${DL_NET#10.}; o=$(printf %02x "${o%.0}") # the MACs carry the octet in hex

read -r A _ <<<"$("$BUILD/imagebuild" build "$REPO/images/tiny" --store "$DL_W/store" \
    --work "$DL_W" 2>>"$DL_W/imagebuild.log" | tail -n 1)"
[[ -n $A ]] || fail "image build"

# verb NAME JSON-ARGS: one control request over the socket; prints the result object.
verb() {
	python3 - "$DL_SOCK" "$1" "$2" <<'EOP'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rwb")
f.write(json.dumps({"id": 1, "verb": sys.argv[2], "args": json.loads(sys.argv[3])}).encode() + b"\n")
f.flush()
m = json.loads(f.readline())
if not m.get("ok"):
    sys.exit("verb %s: %s" % (sys.argv[2], m.get("error")))
print(json.dumps(m["result"]))
EOP
}
# events WHAT: "node at reason" lines of every action event named WHAT, in order.
events() {
	sqlite3 -separator ' ' "$DL_W/state/diskless.db" \
	    "select node, at, reason from history where kind = 'action' and phase = '$1' order by seq"
}

RATE=0.5
dl_bootsvc_start --power_poll=2s --bmc_timeout=3s --health_poll=off --timeout_pxe=60s \
    --timeout_loading=60s --timeout_imaging=60s --timeout_up=180s --boot_attempts=2 \
    --power_on_rate=$RATE --idle_poweroff=20s --warm=tiny=1 --energy_interval=2s \
    --watts_on=250 --watts_off=8 --watts_booting=260
for v in "$DL_W"/store/*/; do dl_nodectl image add "${v%/}" >/dev/null || fail "image add"; done
# An event subscriber stamping each event's arrival: the history's `at` is whole seconds,
# too coarse to check a 2 s spacing.
dl_events_to "$DL_W/events.jsonl" stamped
for i in 1 2 3; do
	dl_bmc n0$i "$DL_NET.2$i" "52:54:00:$o:00:0$i" bios
	dl_nodectl node add n0$i --mac "52:54:00:$o:00:0$i" --bmc "$(dl_bmc_addr n0$i)" \
	    --bmc-creds "$DL_W/n0$i.creds" >/dev/null || fail "node add n0$i"
done
running() { local c=0; for i in 1 2 3; do [[ -n $(dl_bmc_qemu_pid n0$i) ]] && c=$((c + 1)); done; echo $c; }

# --- provisioned up, then released: idle
dl_nodectl provision 'n[01-03]' --image tiny --wait --timeout 8m >"$DL_W/p.log" 2>&1 ||
    { tail "$DL_W/p.log"; fail "provision n[01-03]"; }
dl_nodectl release 'n[01-03]' >/dev/null || fail "release"
[[ $(running) == 3 ]] || fail "$(running) of 3 qemu running after provision"
pass "n[01-03] up on tiny and released"

# --- after idle_poweroff, all but the warm spare are powered off through their BMCs
t0=$SECONDS
two_off() { [[ $(running) == 1 && $(events idle-off | wc -l) == 2 ]]; }
dl_wait 120 "two nodes powered off by idle-off" two_off
((SECONDS - t0 >= 10)) || fail "powered off after $((SECONDS - t0)) s, before the idle time"
events idle-off | grep -v 'idle 2.s, no warm spare needed for tiny' &&
    fail "idle-off reasons: $(events idle-off)"
warm=
for i in 1 2 3; do [[ -n $(dl_bmc_qemu_pid n0$i) ]] && warm=n0$i; done
dl_phase_is "$warm" up || fail "warm spare $warm is $(dl_phase "$warm")"
for i in 1 2 3; do
	[[ n0$i == "$warm" ]] && continue
	dl_wait 20 "n0$i phase off" dl_phase_is n0$i off
done
pass "idle-off: $(events idle-off | awk '{print $1}' | tr '\n' ' ')($(events idle-off | head -n 1 | cut -d' ' -f3-)); warm spare $warm stays up"
sleep 20
[[ $(running) == 1 ]] || fail "the warm spare was powered off too"
pass "the warm spare $warm is still up 20 s later"

# --- an expect hint for two powers one back on and provisions it
out=$(dl_nodectl expect --image tiny --count 2 --within 5m) || fail "nodectl expect: $out"
[[ $out == "expecting 2 nodes on tiny"*"tiny "*" 2 "* ]] || fail "nodectl expect: $out"
green_on() { [[ -n $(events green-on) ]]; }
dl_wait 30 "a green-on event" green_on
sleep 5
[[ $(events green-on | wc -l) == 1 ]] || fail "green-on events: $(events green-on)"
woken=$(events green-on | awk '{print $1}')
[[ $(events green-on) == *"expect 2 on tiny"*"1 available"* ]] || fail "green-on reason: $(events green-on)"
up_on_tiny() { dl_phase_is "$1" up && [[ $(dl_field "$1" booted_image) == "$A" ]]; }
dl_wait 300 "$woken up on tiny again" up_on_tiny "$woken"
[[ $(running) == 2 ]] || fail "$(running) running after the hint, expected 2"
sleep 25
[[ $(running) == 2 ]] || fail "the hint did not hold $woken: $(running) running"
pass "expect tiny x2: $woken powered on ($(events green-on | cut -d' ' -f3-)), up on tiny, held past the idle time"

# --- the rate limit: the controller's power-ons are >= 1/rate apart
python3 - "$RATE" "$DL_W/events.jsonl" <<'EOP' || fail "power-ons closer than 1/rate"
import json, sys
rate = float(sys.argv[1])
ev = [json.loads(l) for l in open(sys.argv[2])]
at = [x["t"] for x in ev if x["e"].get("action") == "power-on"]
assert len(at) >= 4, "only %d power-ons" % len(at)
gaps = [round(b - a, 2) for a, b in zip(at, at[1:])]
# arrival times: the tick that acted plus delivery, a few ms either way
assert min(gaps) >= 1 / rate - 0.2, "gaps %s" % gaps
print("power-on gaps (s):", gaps)
EOP
pass "power-ons spaced >= $(python3 -c "print(1/$RATE)") s apart"

# --- energy: totals on, off and saved
sleep 4
e=$(verb energy '{}') || fail "energy: $e"
python3 -c '
import json, sys
e = json.loads(sys.argv[1])
t = e["total"]
assert t["on_kwh"] > 0 and t["off_kwh"] > 0 and t["saved_kwh"] > 0, t
assert len(e["nodes"]) == 3 and e["images"][0]["image"] == "tiny", e
print("total on %.6f off %.6f saved %.6f kWh" % (t["on_kwh"], t["off_kwh"], t["saved_kwh"]))
' "$e" || fail "energy totals: $e"
one=$(verb energy '{"names": "n01"}') || fail "energy n01: $one"
[[ $(python3 -c 'import json,sys; print(len(json.loads(sys.argv[1])["nodes"]))' "$one") == 1 ]] ||
    fail "energy n01: $one"
# the admin's view: one row per node, the image, the total; kWh printed to 3 decimals
table=$(dl_nodectl energy) || fail "nodectl energy: $table"
echo "$table"
[[ $(grep -c '^n0[1-3] ' <<<"$table") == 3 && $table == *"image:tiny "* &&
   $(tail -n 1 <<<"$table") == total* ]] || fail "nodectl energy table: $table"
[[ $(dl_nodectl energy n01 | grep -c '^n0') == 1 ]] || fail "nodectl energy n01"
m=$(dl_ns python3 -c 'import urllib.request; print(urllib.request.urlopen("'"$DL_URL"'/metrics").read().decode())')
grep -q '^diskless_energy_kwh_total{state="off",image="tiny"} 0\.0*[1-9]' <<<"$m" ||
    fail "metrics: $(grep energy <<<"$m")"
grep -q '^diskless_energy_saved_kwh_total{image="tiny"} ' <<<"$m" || fail "metrics saved"
pass "energy: $(python3 -c 'import json,sys; t=json.loads(sys.argv[1])["total"]; print("on %.5f off %.5f saved %.5f kWh" % (t["on_kwh"], t["off_kwh"], t["saved_kwh"]))' "$e"); /metrics exports them"

# --- a restart keeps the totals
dl_bootsvc_stop
dl_bootsvc_start --power_poll=2s --bmc_timeout=3s --health_poll=off --power_on_rate=$RATE \
    --idle_poweroff=20s --warm=tiny=1 --energy_interval=2s
e2=$(verb energy '{}') || fail "energy after restart"
python3 -c '
import json, sys
a, b = json.loads(sys.argv[1])["total"], json.loads(sys.argv[2])["total"]
assert b["on_kwh"] >= a["on_kwh"] and b["off_kwh"] >= a["off_kwh"], (a, b)
' "$e" "$e2" || fail "totals lost across a restart: $e2"
pass "a restart keeps the energy totals"
dl_nodectl node list
echo PASS
