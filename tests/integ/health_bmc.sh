#!/bin/bash
# Issue #5 item 1 against simulated BMCs (lib_bmc.sh: CPU Temp, Fan1, DIMM ECC sensors and
# a SEL): bootsvc's health code (health_read + the health rules, through
# tests/tools/healthctl with the built-in default rules) reads what faults injected on the
# ipmi_sim console do, cross-checked with FreeIPMI's ipmi-sensors and ipmi-sel. Nodes stay
# off: sensors and SEL work without them.
#   h01: nominal sensors, health ok; CPU Temp 90 (> UC 85) -> sensor Critical, doomed
#        naming CPU Temp; back to 40 -> still doomed (sticky) until --clear, then ok.
#   h02: 12 correctable ECC SEL records -> risky "12 correctable ECC in 24h"; --since and
#        the state file return only new records; one uncorrectable ECC -> doomed; a toggle
#        of the DIMM ECC sensor bit logs a correctable assertion and deassertion.
# BMC_PROTO=redfish (integ/health_bmc@redfish): the same readings and verdicts from Redfish
# BMCs (Chassis Thermal/Power, the log service's entries), cross-checked with curl; the
# sensor bit toggle becomes an asserted and a deasserted log entry (Redfish has no
# discrete sensors in Thermal). Redfish only: h02's log comes in pages of 5, so every
# SEL check above reads across pages (and a nextLink back to page 1 stops the walk with
# a warning); h01 read through the Chassis Sensors collection instead of Thermal/Power,
# expanded and member by member, gives the same readings and verdicts; h03 has a
# 100-byte password, accepted for redfish:// and refused naming IPMI's 20 for ipmi://.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_bmc.sh"
if [[ $BMC_PROTO == redfish ]]; then
	dl_require python3 openssl curl ip
	dl_setup health-rf 116
else
	dl_require ipmi_sim sdrcomp ipmi-sensors ipmi-sel ip
	dl_setup health 77
fi

HEALTHCTL=$BUILD/tools/healthctl
[[ -x $HEALTHCTL ]] || fail "missing $HEALTHCTL: run make"

o=${DL_NET#10.}; o=$(printf %02x "${o%.0}") # the MACs carry the octet in hex
dl_bmc h01 "$DL_NET.21" "52:54:00:$o:00:01" bios 256
dl_bmc h02 "$DL_NET.22" "52:54:00:$o:00:02" bios 256
if [[ $BMC_PROTO == redfish ]]; then
	DL_BMC_LONG_PASS=1 dl_bmc h03 "$DL_NET.23" "52:54:00:$o:00:03" bios 256
	# h02's log in pages of 5 (Members@odata.nextLink), as iDRAC pages at 50
	echo 5 > "$DL_W/bmc-h02/log-page"
fi
pass "$BMC_PROTO BMCs h01 at $DL_NET.21 and h02 at $DL_NET.22 listening, nodes off"

mkdir -p "$DL_W/sdr"
hc() { dl_ns "$HEALTHCTL" "$DL_W/$1.creds" "$(dl_bmc_addr "$1")" --sdr "$DL_W/sdr" "${@:2}"; }
# the reference tools: FreeIPMI's for IPMI; curl for Redfish, printing what ipmi-sensors
# and ipmi-sel would ("CPU Temp ... Critical", "Correctable memory error")
rf_get() {
	dl_ns curl -sS -f --max-time 10 --cacert "$DL_W/bmc-ca.pem" -u "admin:$(dl_bmc_pass "$1")" \
	    "https://$(dl_bmc_ip "$1")$2"
}
ref_sensors() {
	if [[ $BMC_PROTO == ipmi ]]; then
		dl_bmc_fi ipmi-sensors "$1" --sdr-cache-directory="$DL_W/sdr-ref" --quiet-cache --output-sensor-state
		return
	fi
	rf_get "$1" /redfish/v1/Chassis/1/Thermal | python3 -c 'import json, sys
for s in json.load(sys.stdin)["Temperatures"]:
    print(s["Name"], s["ReadingCelsius"], {"OK": "Nominal"}.get(s["Status"]["Health"], s["Status"]["Health"]))'
}
ref_sel() {
	if [[ $BMC_PROTO == ipmi ]]; then
		dl_bmc_fi ipmi-sel "$1" --sdr-cache-directory="$DL_W/sdr-ref" --quiet-cache --output-event-state
		return
	fi
	# every page, as a client must (the test's own walk, independent of bootsvc's)
	local uri=/redfish/v1/Systems/1/LogServices/Log/Entries page n=0
	while [[ -n $uri ]] && ((n++ < 50)); do
		page=$(rf_get "$1" "$uri") || return 1
		python3 -c 'import json, sys
for e in json.load(sys.stdin)["Members"]:
    print(e["Id"], {"Correctable ECC": "Correctable memory error"}.get(e["Message"], e["Message"]))' <<<"$page"
		uri=$(python3 -c 'import json, sys; print(json.load(sys.stdin).get("Members@odata.nextLink", ""))' <<<"$page")
	done
}
mkdir -p "$DL_W/sdr-ref"
# field KEY LINE: the value of KEY=... in a healthctl line (quoted or bare)
field() { sed -n "s/.* $1=\"\([^\"]*\)\".*/\1/p; t; s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }
sensor_line() { grep "^sensor name=\"$1\"" <<<"$2" || true; }

# --- nominal
out=$(hc h01) || fail "healthctl h01: $out"
sensors=("CPU Temp" "Fan1")
[[ $BMC_PROTO == ipmi ]] && sensors+=("DIMM ECC") # Redfish's Thermal has no discrete sensors
for s in "${sensors[@]}"; do
	l=$(sensor_line "$s" "$out")
	[[ -n $l ]] || fail "h01: no sensor '$s' in: $out"
	[[ $(field state "$l") == Nominal ]] || fail "h01: $s not Nominal: $l"
done
l=$(sensor_line "CPU Temp" "$out")
[[ $(field reading "$l") == 40.00 && $(field units "$l") == C && $(field type "$l") == temperature ]] ||
    fail "h01: CPU Temp reading: $l"
l=$(sensor_line Fan1 "$out")
[[ $(field reading "$l") == 4800.00 && $(field units "$l") == RPM ]] || fail "h01: Fan1 reading: $l"
grep -qx 'health=ok' <<<"$out" || fail "h01 nominal: not ok: $out"
l=$(sensor_line "Pwr Consumption" "$out")
[[ $(field reading "$l") == 120.00 && $(field units "$l") == W ]] || fail "h01: power reading: $l"
grep -qx 'power_watts=120' <<<"$out" || fail "h01: power draw not 120 W: $out"
ref=$(ref_sensors h01) || fail "ipmi-sensors h01: $ref"
grep -q 'CPU Temp.*Nominal' <<<"$ref" || fail "the reference disagrees: $ref"
pass "h01 nominal: CPU Temp 40 C, Fan1 4800 RPM, ${sensors[*]} Nominal, health ok (the reference agrees)"

# --- over-temperature on h01: CPU Temp 90 > UC 85, with events
dl_bmc_sensor h01 temp 90 || fail "inject CPU Temp 90 on h01"
out=$(hc h01 --state "$DL_W/h01.state") || fail "healthctl h01: $out"
l=$(sensor_line "CPU Temp" "$out")
[[ $(field state "$l") == Critical && $(field reading "$l") == 90.00 ]] || fail "h01: CPU Temp not Critical at 90: $l"
[[ $(field condition "$l") == "upper critical" ]] || fail "h01: CPU Temp condition: $l"
grep -qx 'health=doomed' <<<"$out" || fail "h01 at 90 C: not doomed: $out"
grep -qx 'reason="doomed: CPU Temp upper critical"' <<<"$out" || fail "h01: no CPU Temp reason: $out"
grep -q '^sel .*sensor="CPU Temp".*class=over_temperature.*dir=assertion' <<<"$out" ||
    fail "h01: no over_temperature SEL record: $out"
ref=$(ref_sensors h01)
grep -q 'CPU Temp.*Critical' <<<"$ref" || fail "the reference disagrees: $ref"
pass "h01 CPU Temp 90: Critical 'upper critical', $(grep -c '^sel ' <<<"$out") SEL records, health doomed: $(grep '^reason' <<<"$out" | tr '\n' ' ')"

# back to nominal: doomed is sticky (state file), --clear releases it
dl_bmc_sensor h01 temp 40 || fail "CPU Temp back to 40 on h01"
out=$(hc h01 --state "$DL_W/h01.state") || fail "healthctl h01: $out"
[[ $(field state "$(sensor_line "CPU Temp" "$out")") == Nominal ]] || fail "h01: CPU Temp not back to Nominal: $out"
grep -qx 'health=doomed' <<<"$out" || fail "h01: doomed did not stick after recovery: $out"
grep -qx 'reason="doomed: CPU Temp upper critical"' <<<"$out" || fail "h01: sticky reason lost: $out"
grep -q '"doomed":{' "$DL_W/h01.state" || fail "h01: state file lacks the latch: $(cat "$DL_W/h01.state")"
out=$(hc h01 --state "$DL_W/h01.state" --clear) || fail "healthctl --clear h01: $out"
grep -qx 'health=ok' <<<"$out" || fail "h01 after --clear: not ok: $out"
pass "h01 back to 40 C: still doomed (sticky, persisted), ok after --clear"

# --- Redfish: the Chassis Sensors collection where Thermal and Power are gone (expanded
# in one GET when the service root offers $expand) or answer 404 (one GET per member)
if [[ $BMC_PROTO == redfish ]]; then
	req=$DL_W/bmc-h01/requests
	for mode in "sensors expand" "sensors-404"; do
		echo "$mode" > "$DL_W/bmc-h01/sensors-mode"
		dl_bmc_sel_clear h01 # the threshold events of the runs before: not what is judged here
		: > "$req"
		out=$(hc h01) || fail "healthctl h01 ($mode): $out"
		l=$(sensor_line "CPU Temp" "$out")
		[[ $(field reading "$l") == 40.00 && $(field units "$l") == C &&
		    $(field type "$l") == temperature && $(field state "$l") == Nominal ]] ||
		    fail "h01 ($mode): CPU Temp: $out"
		l=$(sensor_line Fan1 "$out")
		[[ $(field reading "$l") == 4800.00 && $(field units "$l") == RPM &&
		    $(field type "$l") == fan ]] || fail "h01 ($mode): Fan1: $out"
		grep -qx 'power_watts=120' <<<"$out" || fail "h01 ($mode): power draw not 120 W: $out"
		! grep -q 'name="P12V"' <<<"$out" || fail "h01 ($mode): a voltage read as a rule's sensor: $out"
		grep -qx 'health=ok' <<<"$out" || fail "h01 ($mode): not ok: $out"
		if [[ $mode == "sensors expand" ]]; then
			grep -qxF 'GET /redfish/v1/Chassis/1/Sensors?$expand=.($levels=1)' "$req" ||
			    fail "h01: Sensors not expanded: $(cat "$req")"
			! grep -q 'GET /redfish/v1/Chassis/1/\(Thermal\|Sensors/\)' "$req" ||
			    fail "h01: Thermal or a member asked although expanded: $(cat "$req")"
		else
			grep -qx 'GET /redfish/v1/Chassis/1/Thermal' "$req" || fail "h01: Thermal not tried: $(cat "$req")"
			grep -qx 'GET /redfish/v1/Chassis/1/Sensors/CPU_Temp' "$req" ||
			    fail "h01: members not read one by one: $(cat "$req")"
			! grep -qF '$expand' "$req" || fail "h01: \$expand sent to a BMC that does not offer it"
		fi
		dl_bmc_sensor h01 temp 90 || fail "inject CPU Temp 90 on h01 ($mode)"
		out=$(hc h01) || fail "healthctl h01 ($mode): $out"
		l=$(sensor_line "CPU Temp" "$out")
		[[ $(field state "$l") == Critical && $(field condition "$l") == "upper critical" ]] ||
		    fail "h01 ($mode): CPU Temp not Critical at 90: $l"
		grep -qx 'reason="doomed: CPU Temp upper critical"' <<<"$out" || fail "h01 ($mode): verdict: $out"
		dl_bmc_sensor h01 temp 40 || fail "CPU Temp back to 40 on h01"
		pass "h01 through Sensors ($mode): CPU Temp 40 C, Fan1 4800 RPM, 120 W, ok; at 90 C Critical, doomed"
	done
	: > "$DL_W/bmc-h01/sensors-mode"
	dl_bmc_sel_clear h01
fi

# --- correctable ECC burst on h02: 12 SEL records (memory, sensor 3, offset 0)
out=$(hc h02 --state "$DL_W/h02.state") || fail "healthctl h02: $out"
grep -qx 'health=ok' <<<"$out" || fail "h02 before faults: not ok: $out"
last0=$(field sel_last_id "$(grep '^sel_last_id' <<<"$out")")
for i in $(seq 12); do dl_bmc_sel h02 ecc_correctable || fail "correctable ECC $i on h02"; done
out=$(hc h02 --state "$DL_W/h02.state") || fail "healthctl h02: $out"
n=$(grep -c '^sel .*class=ecc_correctable' <<<"$out" || true)
[[ $n == 12 ]] || fail "h02: $n correctable ECC SEL records, want 12: $out"
grep -qx 'health=risky' <<<"$out" || fail "h02 after 12 correctable: not risky: $out"
grep -qx 'reason="risky: 12 correctable ECC in 24h"' <<<"$out" || fail "h02: reason lacks the count: $out"
last1=$(field sel_last_id "$(grep '^sel_last_id' <<<"$out")")
ref=$(ref_sel h02)
[[ $(grep -c 'Correctable memory error' <<<"$ref") == 12 ]] || fail "the reference does not show 12 correctable: $ref"
pass "h02 12 correctable ECC: risky '12 correctable ECC in 24h' (the reference agrees), SEL ids $last0 -> $last1"
if [[ $BMC_PROTO == redfish ]]; then
	grep -qxF 'GET /redfish/v1/Systems/1/LogServices/Log/Entries?$skip=10' "$DL_W/bmc-h02/requests" ||
	    fail "h02: the log's third page was never asked for"
	pass "h02's log read over its pages of 5 (Members@odata.nextLink up to \$skip=10)"
fi

# --since and the state file: nothing new -> no sel lines, still risky from the state
out=$(hc h02 --state "$DL_W/h02.state") || fail "healthctl h02: $out"
! grep -q '^sel ' <<<"$out" || fail "h02: old records returned again: $out"
grep -qx 'reason="risky: 12 correctable ECC in 24h"' <<<"$out" || fail "h02: state lost the events: $out"
out=$(hc h02 --since "$last1") || fail "healthctl --since h02: $out"
! grep -q '^sel ' <<<"$out" || fail "h02 --since $last1 returned records: $out"
grep -qx 'health=ok' <<<"$out" || fail "h02 --since without state: not ok: $out"
out=$(hc h02 --since $((last1 - 3))) || fail "healthctl --since h02: $out"
[[ $(grep -c '^sel ' <<<"$out") == 3 ]] || fail "h02 --since $((last1 - 3)): want 3 records: $out"
ids=$(grep '^sel ' <<<"$out" | sed 's/^sel id=\([0-9]*\).*/\1/' | tr '\n' ' ')
[[ $ids == "$((last1 - 2)) $((last1 - 1)) $last1 " ]] || fail "h02 --since ids: $ids"
pass "--since $last1 returns nothing, --since $((last1 - 3)) returns ids $ids; the state file remembers the burst"

# --- uncorrectable ECC on h02 -> doomed
dl_bmc_sel h02 ecc_uncorrectable || fail "uncorrectable ECC on h02"
out=$(hc h02 --state "$DL_W/h02.state") || fail "healthctl h02: $out"
[[ $(grep -c '^sel ' <<<"$out") == 1 ]] || fail "h02: want exactly the one new record: $out"
grep -q "^sel .*class=ecc_uncorrectable" <<<"$out" ||
    fail "h02: uncorrectable record not classified: $out"
grep -qx 'health=doomed' <<<"$out" || fail "h02 after uncorrectable: not doomed: $out"
grep -qx 'reason="doomed: 1 uncorrectable ECC in 30d"' <<<"$out" || fail "h02: doomed reason: $out"
grep -qx 'reason="risky: 12 correctable ECC in 24h"' <<<"$out" || fail "h02: risky reason gone: $out"
pass "h02 uncorrectable ECC: doomed: $(grep '^reason' <<<"$out" | tr '\n' ' ')"

# --- Redfish: a nextLink back to the first page stops the walk with a warning; the entries
# read count once, and the read still succeeds
if [[ $BMC_PROTO == redfish ]]; then
	echo "5 loop" > "$DL_W/bmc-h02/log-page"
	last2=$(field sel_last_id "$(grep '^sel_last_id' <<<"$out")")
	out=$(dl_ns timeout 60 "$HEALTHCTL" "$DL_W/h02.creds" \
	    "$(dl_bmc_addr h02)" --sdr "$DL_W/sdr" --since $((last2 - 2)) 2>&1) ||
	    fail "h02 with a looping nextLink: $out"
	grep -q 'event=redfish_log_walk .*is page 1 again.*err=ELOOP' <<<"$out" ||
	    fail "h02: no warning for the looping nextLink: $out"
	[[ $(grep -c '^sel ' <<<"$out") == 2 ]] || fail "h02 loop: want the 2 newest records once: $out"
	grep -q "^sel_last_id=$last2 " <<<"$out" || fail "h02 loop: last id: $out"
	echo 5 > "$DL_W/bmc-h02/log-page"
	pass "looping nextLink: walk stopped ($(grep -o 'pages=[0-9]* entries=[0-9]* err=ELOOP' <<<"$out")), 2 records once"
fi

# --- the DIMM ECC sensor bit toggled with events: assertion then deassertion in the SEL
# (Redfish: an asserted and a deasserted log entry, as a BMC logs the bit's events)
if [[ $BMC_PROTO == ipmi ]]; then
	dl_bmc_cmd h02 "sensor_set_bit 0x20 0 3 0 1 1" >/dev/null || fail "assert correctable on h02"
else
	dl_bmc_sel h02 ecc_correctable || fail "assert correctable on h02"
fi
out=$(hc h02 --state "$DL_W/h02.state") || fail "healthctl h02: $out"
if [[ $BMC_PROTO == ipmi ]]; then
	l=$(sensor_line "DIMM ECC" "$out")
	[[ $(field state "$l") == Warning ]] || fail "h02: DIMM ECC not Warning after the bit: $l"
fi
grep -q '^sel .*sensor="DIMM ECC".*class=ecc_correctable.*dir=assertion' <<<"$out" ||
    fail "h02: no correctable assertion record: $out"
if [[ $BMC_PROTO == ipmi ]]; then
	dl_bmc_cmd h02 "sensor_set_bit 0x20 0 3 0 0 1" >/dev/null || fail "deassert correctable on h02"
else
	dl_bmc_sel h02 ecc_correctable deassert || fail "deassert correctable on h02"
fi
out=$(hc h02 --state "$DL_W/h02.state") || fail "healthctl h02: $out"
grep -q '^sel .*sensor="DIMM ECC".*dir=deassertion' <<<"$out" || fail "h02: no deassertion record: $out"
if [[ $BMC_PROTO == ipmi ]]; then
	[[ $(field state "$(sensor_line "DIMM ECC" "$out")") == Nominal ]] || fail "h02: DIMM ECC not Nominal again: $out"
fi
grep -qx 'reason="risky: 13 correctable ECC in 24h"' <<<"$out" ||
    fail "h02: the deassertion counted, or the assertion did not: $out"
pass "DIMM ECC bit toggle: Warning + assertion, then Nominal + deassertion (not counted): 13 correctable"

# --- a cleared SEL: ids start again below the state's last id; the new record is not missed
dl_bmc_sel_clear h01 || fail "clear the SEL of h01"
dl_bmc_sel h01 ecc_correctable || fail "correctable ECC after clear on h01"
out=$(hc h01 --state "$DL_W/h01.state") || fail "healthctl h01: $out"
[[ $(grep -c '^sel .*class=ecc_correctable' <<<"$out") == 1 ]] || fail "h01 after SEL clear: record missed: $out"
pass "h01 SEL cleared and one record added: returned ($(grep '^sel_last_id' <<<"$out"))"

# --- errors: wrong password is EACCES without the password; an unknown rule is a usage error
(umask 077; sed 's/^password=.*/password=wrong-password/' "$DL_W/h01.creds" >"$DL_W/bad.creds")
out=$(dl_ns "$HEALTHCTL" "$DL_W/bad.creds" "$(dl_bmc_addr h01)" --sdr "$DL_W/sdr" 2>&1) && fail "wrong password accepted"
[[ $out == *error=EACCES* && $out != *wrong-password* ]] || fail "wrong password: $out"
pass "wrong password: $out"
# --- Redfish: a 100-byte password (IPMI allows 20) works; the same file for an IPMI BMC is
# refused naming IPMI's limit, without the password
if [[ $BMC_PROTO == redfish ]]; then
	p3=$(dl_bmc_pass h03)
	((${#p3} == 100)) || fail "h03's password is ${#p3} bytes, want 100"
	out=$(hc h03) || fail "healthctl h03 (100-byte password): $out"
	grep -qx 'health=ok' <<<"$out" || fail "h03: not ok: $out"
	grep -q '^login ' "$DL_W/bmc-h03/sessions" || fail "h03: no session was opened"
	out=$(dl_ns "$HEALTHCTL" "$DL_W/h03.creds" "ipmi://$(dl_bmc_ip h03)" --sdr "$DL_W/sdr" 2>&1) &&
	    fail "a 100-byte password accepted for an IPMI BMC"
	[[ $out == *"password must be 1..20 bytes (IPMI 2.0 limit), got 100"* && $out != *"$p3"* ]] ||
	    fail "IPMI BMC with a 100-byte password: $out"
	pass "100-byte password: Redfish session opened, health ok; ipmi:// refused: $out"
fi
out=$(hc h01 --rule 'risky ecc_corectable >= 10 in 24h' 2>&1) && fail "bad rule accepted"
[[ $out == *"'ecc_corectable' (word 2)"* ]] || fail "bad rule message: $out"
pass "bad rule refused naming the word: $out"
echo "PASS"
