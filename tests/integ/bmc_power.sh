#!/bin/bash
# Issue #4 item 2 against the simulated cluster of item 4: bootsvc's IPMI code
# (power_ipmi_run + bmc_creds_load, driven through tests/tools/powerctl) and FreeIPMI's
# ipmipower, the reference, each power two ipmi_sim BMCs whose "chassis" is a real qemu
# node on the test bridge (b01 BIOS, b02 UEFI). Checked for both tools on both BMCs:
# status off; on with next boot PXE (the console shows the firmware's PXE); status on;
# cycle starts a new qemu (power count 2); hard reset reboots inside the same qemu; off
# stops it. Then for powerctl: User-privilege credentials read status, wrong password -> EACCES, a world-readable credentials file -> EPERM, and a SIGSTOPped
# BMC -> ETIMEDOUT after about the session timeout, working again after SIGCONT.
#
# BMC_PROTO=redfish (tests/run.sh's integ/bmc_power@redfish) runs the same against Redfish
# BMCs (tests/tools/redfish_sim.py), with curl speaking Redfish as the reference tool in
# ipmipower's place, and adds what only Redfish has: a BMC that answers 503, hangs, sends
# malformed JSON or presents another certificate is refused with the reason and works
# again when it behaves; the certificate checked against a CA file instead of the pin;
# basic auth on a BMC without sessions; a reset type chosen from what the BMC allows.
# Both runs check bmc_protocol = auto's probe (powerctl --auto on a bare address).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_bmc.sh"
if [[ $BMC_PROTO == redfish ]]; then
	dl_require qemu-system-x86_64 python3 openssl curl ip strace
	dl_setup bmc-rf 114
	REF=curl
else
	dl_require qemu-system-x86_64 ipmi_sim sdrcomp ipmipower ipmi-config ip gcc pkg-config
	dl_setup bmc 73
	REF=ipmipower
fi

# powerctl: the Makefile's build when it has one, else built here from the same libraries
POWERCTL=$BUILD/tools/powerctl
[[ -x $POWERCTL ]] || fail "missing $POWERCTL: run make"

o=${DL_NET#10.}; o=$(printf %02x "${o%.0}") # the MACs carry the octet in hex
dl_bmc b01 "$DL_NET.21" "52:54:00:$o:00:01" bios 256
dl_bmc b02 "$DL_NET.22" "52:54:00:$o:00:02" uefi 256
pass "$BMC_PROTO BMCs b01 (BIOS node) at $DL_NET.21 and b02 (UEFI node) at $DL_NET.22 listening, nodes off"

pc() { dl_ns "$POWERCTL" "$DL_W/$1.creds" "$(dl_bmc_addr "$1")" "${@:2}"; }
ipp() { dl_bmc_fi ipmipower "$@" 2>&1; }
# rf NAME METHOD PATH [JSON] [curl args...]: the reference Redfish client, basic auth as
# admin, the certificate checked against the test CA
rf() {
	dl_ns curl -sS --max-time 10 --cacert "$DL_W/bmc-ca.pem" -u "admin:$(dl_bmc_pass "$1")" \
	    -X "$2" -H 'Content-Type: application/json' ${4:+--data "$4"} \
	    "https://$(dl_bmc_ip "$1")$3" "${@:5}"
}
rf_reset() { rf "$1" POST /redfish/v1/Systems/1/Actions/ComputerSystem.Reset "{\"ResetType\":\"$2\"}" -f; }
# ref NAME on|off|cycle|reset|on-pxe|stat: the reference tool's operation; prints what
# ipmipower prints ("IP: ok", "IP: on")
ref() {
	local n=$1 out
	if [[ $REF == ipmipower ]]; then
		case $2 in
		on-pxe)
			out=$(dl_bmc_fi ipmi-config "$n" --category=chassis \
			    --commit -e "Chassis_Boot_Flags:Boot_Device=PXE" 2>&1) ||
			    { echo "ipmi-config Boot_Device=PXE on $n: $out"; return 1; }
			ipp "$n" --on ;;
		*) ipp "$n" "--$2" ;;
		esac
		return
	fi
	case $2 in
	stat)
		out=$(rf "$n" GET /redfish/v1/Systems/1 "" -f) || { echo "$out"; return 1; }
		out=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["PowerState"].lower())' <<<"$out")
		echo "$(dl_bmc_ip "$n"): $out"; return ;;
	on-pxe)
		rf "$n" PATCH /redfish/v1/Systems/1 \
		    '{"Boot":{"BootSourceOverrideTarget":"Pxe","BootSourceOverrideEnabled":"Once"}}' -f &&
		    rf_reset "$n" On ;;
	on) rf_reset "$n" On ;;
	off) rf_reset "$n" ForceOff ;;
	reset) rf_reset "$n" ForceRestart ;;
	cycle) rf_reset "$n" PowerCycle ;;
	esac && echo "$(dl_bmc_ip "$n"): ok"
}
# state_is TOOL NAME on|off: the tool reports this power state
state_is() {
	local out
	if [[ $1 == powerctl ]]; then out=$(pc "$2" status); else out=$(ref "$2" stat); fi
	[[ $out == *": $3" ]]
}
# pxe_banners NAME: how often the node's firmware started a network boot so far
pxe_banners() {
	local re='iPXE initialising devices'
	[[ $(dl_bmc_booted_fw "$1") == uefi ]] && re='Start PXE over IPv4'
	tr -d '\r' <"$DL_W/$1.log" | grep -ac "$re" || true
}
dl_bmc_booted_fw() { [[ $1 == b02 ]] && echo uefi || echo bios; }
more_banners() { (($(pxe_banners "$1") > $2)); }
qemu_gone() { [[ -z $(dl_bmc_qemu_pid "$1") ]]; }
qemu_new() { local p; p=$(dl_bmc_qemu_pid "$1"); [[ -n $p && $p != "$2" ]]; }

# power_sequence TOOL NAME: the whole life cycle through one tool, cross-checked by the other
power_sequence() {
	local tool=$1 n=$2 other out q0 b0 c0
	[[ $tool == powerctl ]] && other=$REF || other=powerctl
	c0=$(dl_bmc_power_count "$n")

	state_is "$tool" "$n" off || fail "$tool: $n not off at start"
	state_is "$other" "$n" off || fail "$other disagrees: $n not off"
	pass "$tool: $n status off ($other agrees)"

	b0=$(pxe_banners "$n")
	if [[ $tool == powerctl ]]; then
		out=$(pc "$n" on --pxe) || fail "powerctl on --pxe $n: $out"
	else
		out=$(ref "$n" on-pxe)
		[[ $out == *": ok" ]] || fail "$REF PXE and on $n: $out"
	fi
	[[ $(dl_bmc_power_count "$n") == $((c0 + 1)) ]] || fail "$n: qemu not started once"
	[[ $(dl_bmc_booted_from "$n") == pxe ]] ||
	    fail "$n booted from '$(dl_bmc_booted_from "$n")', not pxe"
	dl_wait 120 "$n firmware starts PXE" more_banners "$n" "$b0"
	pass "$tool: $n on with next boot PXE: qemu $(dl_bmc_qemu_pid "$n") started, console shows PXE"

	state_is "$tool" "$n" on || fail "$tool: $n not on"
	state_is "$other" "$n" on || fail "$other disagrees: $n not on"
	pass "$tool: $n status on ($other agrees)"

	q0=$(dl_bmc_qemu_pid "$n")
	b0=$(pxe_banners "$n")
	if [[ $tool == powerctl ]]; then out=$(pc "$n" cycle) || fail "powerctl cycle $n: $out"
	else out=$(ref "$n" cycle); [[ $out == *": ok" ]] || fail "$REF cycle $n: $out"; fi
	dl_wait 20 "$n new qemu after cycle" qemu_new "$n" "$q0"
	[[ $(dl_bmc_power_count "$n") == $((c0 + 2)) ]] ||
	    fail "$n power count $(dl_bmc_power_count "$n") after cycle, want $((c0 + 2))"
	[[ $(dl_bmc_booted_from "$n") == default ]] ||
	    fail "$n: PXE flag outlived its one boot ($(dl_bmc_booted_from "$n"))"
	dl_wait 120 "$n firmware starts again after cycle" more_banners "$n" "$b0"
	pass "$tool: $n cycle: qemu $q0 -> $(dl_bmc_qemu_pid "$n"), power count 2, boot flag was one-shot"

	q0=$(dl_bmc_qemu_pid "$n")
	b0=$(pxe_banners "$n")
	local r0
	r0=$(dl_bmc_reset_count "$n")
	if [[ $tool == powerctl ]]; then out=$(pc "$n" reset) || fail "powerctl reset $n: $out"
	else out=$(ref "$n" reset); [[ $out == *": ok" ]] || fail "$REF reset $n: $out"; fi
	# The BMC acks before its chassis_control program has finished the reset; on a loaded
	# machine a client may retransmit and ipmi_sim, which does not de-duplicate requests,
	# can then reset twice: at least one reset must arrive.
	reset_seen() { (($(dl_bmc_reset_count "$n") >= r0 + 1)); }
	dl_wait 60 "$n: reset reaches qemu" reset_seen
	dl_wait 120 "$n firmware restarts after reset" more_banners "$n" "$b0"
	[[ $(dl_bmc_qemu_pid "$n") == "$q0" ]] || fail "$n: reset replaced qemu $q0"
	[[ $(dl_bmc_power_count "$n") == $((c0 + 2)) ]] || fail "$n: reset counted as power-on"
	pass "$tool: $n hard reset: same qemu $q0 booted again, power count unchanged"

	if [[ $tool == powerctl ]]; then out=$(pc "$n" off) || fail "powerctl off $n: $out"
	else out=$(ref "$n" off); [[ $out == *": ok" ]] || fail "$REF off $n: $out"; fi
	dl_wait 15 "$n qemu gone after off" qemu_gone "$n"
	state_is "$tool" "$n" off || fail "$tool: $n not off after off"
	state_is "$other" "$n" off || fail "$other disagrees: $n not off after off"
	pass "$tool: $n off: qemu $q0 stopped, status off ($other agrees)"
}

power_sequence powerctl b01
power_sequence "$REF" b02
power_sequence "$REF" b01
power_sequence powerctl b02

# --- privileges and credentials (powerctl only: these are our code's decisions)
# ipmi_sim grants any privilege up to the channel's limit whatever the user's own limit
# (checked: ipmipower -u viewer --on works), so only the read side is testable here.
B01=$(dl_bmc_addr b01)
out=$(dl_ns "$POWERCTL" "$DL_W/b01-viewer.creds" "$B01" status) && [[ $out == *": off" ]] ||
    fail "viewer (User privilege) cannot read status: $out"
pass "User-privilege credentials read status: $out"
if [[ $BMC_PROTO == redfish ]]; then
	# redfish_sim's viewer is ReadOnly, as Redfish roles are enforced per request
	out=$(dl_ns "$POWERCTL" "$DL_W/b01-viewer.creds" "$B01" on 2>&1) &&
	    fail "ReadOnly viewer powered b01 on: $out"
	[[ $out == *error=EACCES* ]] || fail "ReadOnly viewer power on: want EACCES, got: $out"
	pass "ReadOnly credentials cannot power on: $out"
fi

(umask 077; sed 's/^password=.*/password=wrong-password/' "$DL_W/b01.creds" >"$DL_W/bad.creds")
out=$(dl_ns "$POWERCTL" "$DL_W/bad.creds" "$B01" status 2>&1) && fail "wrong password accepted"
[[ $out == *error=EACCES* ]] || fail "wrong password: want EACCES, got: $out"
[[ $out != *wrong-password* ]] || fail "the password leaked into the error: $out"
if [[ $REF == ipmipower ]]; then
	out2=$(dl_ns ipmipower -D LAN_2_0 -I 3 -W opensesspriv -u admin -p wrong-password \
	    -h "$(dl_bmc_ip b01)" --stat 2>&1) || true
	[[ $out2 == *"password invalid"* ]] || fail "ipmipower with a wrong password: $out2"
else
	out2=$(dl_ns curl -sS -o /dev/null -w '%{http_code}' --cacert "$DL_W/bmc-ca.pem" \
	    -X POST -H 'Content-Type: application/json' \
	    --data '{"UserName":"admin","Password":"wrong-password"}' \
	    "https://$(dl_bmc_ip b01)/redfish/v1/SessionService/Sessions" 2>&1) || true
	[[ $out2 == 401 ]] || fail "curl login with a wrong password: $out2"
fi
pass "wrong password: powerctl $out; $REF: $out2"

cp "$DL_W/b01.creds" "$DL_W/open.creds"
chmod 0644 "$DL_W/open.creds"
out=$(dl_ns "$POWERCTL" "$DL_W/open.creds" "$B01" status 2>&1) && fail "0644 creds accepted"
[[ $out == *error=EPERM*open.creds* ]] || fail "0644 creds: want EPERM naming the file, got: $out"
pass "world-readable credentials refused: $out"

# --- Redfish: a 100-byte password (IPMI allows 20): status through a session as admin, and
# through the auto probe of a bare address; the same file for ipmi:// is refused naming
# IPMI's limit, without the password
if [[ $BMC_PROTO == redfish ]]; then
	DL_BMC_LONG_PASS=1 dl_bmc b04 "$DL_NET.24" "52:54:00:$o:00:04" bios 256
	p3=$(dl_bmc_pass b04)
	((${#p3} == 100)) || fail "b04's password is ${#p3} bytes, want 100"
	out=$(pc b04 status 2>&1) && [[ $out == *": off" ]] || fail "b04 status with a 100-byte password: $out"
	out=$(dl_ns "$POWERCTL" "$DL_W/b04.creds" "$(dl_bmc_ip b04)" status --auto 2>&1) &&
	    [[ $out == *": off" ]] || fail "b04 status --auto with a 100-byte password: $out"
	grep -q '^login ' "$DL_W/bmc-b04/sessions" || fail "b04: no session was opened"
	ref=$(rf b04 GET /redfish/v1/Systems/1 "" -f | python3 -c 'import json, sys; print(json.load(sys.stdin)["PowerState"])') ||
	    fail "curl with b04's password: $ref"
	out=$(dl_ns "$POWERCTL" "$DL_W/b04.creds" "ipmi://$(dl_bmc_ip b04)" status 2>&1) &&
	    fail "a 100-byte password accepted for an IPMI BMC: $out"
	[[ $out == *"password must be 1..20 bytes (IPMI 2.0 limit), got 100"* && $out != *"$p3"* ]] ||
	    fail "IPMI BMC with a 100-byte password: $out"
	pass "100-byte password: status off over Redfish (and --auto); $REF: $ref; ipmi:// refused: $out"
fi

# --- an unreachable BMC: SIGSTOP its ipmi_sim
pid=$(dl_bmc_pid b02)
kill -STOP "$pid"
t0=$(date +%s%N)
out=$(pc b02 status --timeout 2000 2>&1) && { kill -CONT "$pid"; fail "stopped BMC answered: $out"; }
ms=$((($(date +%s%N) - t0) / 1000000))
if [[ $REF == ipmipower ]]; then ref=$(ipp b02 --stat --session-timeout=2000) || true
else ref=$(dl_ns curl -sS --max-time 2 --cacert "$DL_W/bmc-ca.pem" "https://$(dl_bmc_ip b02)/redfish/v1" 2>&1) || true; fi
kill -CONT "$pid"
[[ $out == *error=ETIMEDOUT* ]] || fail "stopped BMC: want ETIMEDOUT, got: $out"
((ms >= 1500 && ms <= 5000)) || fail "stopped BMC: failed after $ms ms, want about 2000"
pass "SIGSTOPped BMC: powerctl $out after $ms ms (timeout 2000); $REF: $ref"
dl_wait 10 "b02 answers after SIGCONT" state_is powerctl b02 off
pass "after SIGCONT b02 answers again: off"

# --- the others never moved: counts are exactly the sequences' (2 per sequence)
for n in b01 b02; do
	[[ $(dl_bmc_power_count "$n") == 4 ]] || fail "$n power count $(dl_bmc_power_count "$n"), want 4"
done
pass "power counts exactly 4 per node: no extra power-on anywhere"

# --- cycle of a node that is off: power_ipmi_run powers it on (and sets PXE first)
out=$(pc b01 cycle --pxe) || fail "powerctl cycle --pxe of off b01: $out"
dl_wait 15 "b01 on after cycle from off" state_is powerctl b01 on
[[ $(dl_bmc_power_count b01) == 5 && $(dl_bmc_booted_from b01) == pxe ]] ||
    fail "b01 after cycle from off: count $(dl_bmc_power_count b01), boot $(dl_bmc_booted_from b01)"
pass "cycle --pxe of an off node powers it on once, from PXE"

# --- a slow BMC: the next power request takes 1.5 s, longer than the 1 s retransmission
# interval of a 4 s session, so it arrives twice. A cycle is still exactly one restart.
q0=$(dl_bmc_qemu_pid b01)
echo 1.5 > "$(_dl_bmc_dir b01)/slow"
out=$(pc b01 cycle --timeout 4000) || fail "powerctl cycle of slow b01: $out"
dl_wait 20 "b01 new qemu after the slow cycle" qemu_new b01 "$q0"
sleep 4 # a second restart, if one were coming, has arrived by now
[[ $(dl_bmc_power_count b01) == 6 ]] ||
    fail "slow b01 cycled: power count $(dl_bmc_power_count b01), want 6 (one restart)"
out=$(pc b01 off) || fail "powerctl off b01: $out"
pass "cycle through a slow BMC that gets each request twice restarts the node once"

# --- bmc_protocol = auto: a bare address is probed for Redfish, else spoken over IPMI
out=$(pc b02 status --auto 2>&1) || fail "powerctl --auto on a bare address: $out"
[[ $out == *": off" ]] || fail "powerctl --auto: $out"
dl_ns "$POWERCTL" "$DL_W/b02.creds" "$(dl_bmc_ip b02)" status --auto >/dev/null ||
    fail "powerctl --auto on the bare address $(dl_bmc_ip b02)"
pass "auto on the bare address of a $BMC_PROTO BMC: $out"

if [[ $BMC_PROTO == redfish ]]; then
	# --- faults: each is refused with its reason (the controller marks such a BMC
	# unreachable and retries, tests/integ/controller.sh), and the BMC works again after
	for f in 503 hang garbage cert; do
		dl_bmc_fault b02 "$f"
		out=$(pc b02 status --timeout 2000 2>&1) && fail "b02 with fault $f answered: $out"
		case $f in
		503) [[ $out == *error=ETIMEDOUT*"503 Service Unavailable"* ]] ;;
		hang) [[ $out == *error=ETIMEDOUT*"no answer within 2000 ms"* ]] ;;
		garbage) [[ $out == *error=EBADMSG*"malformed JSON"* ]] ;;
		cert) [[ $out == *error=EKEYREJECTED*"does not match the pin"* ]] ;;
		esac || fail "b02 with fault $f: wrong error: $out"
		dl_bmc_fault b02 ""
		state_is powerctl b02 off || fail "b02 not back after fault $f"
		pass "fault $f: $out; back after"
	done
	dl_bmc_fault b02 cert
	out=$(dl_ns "$POWERCTL" "$DL_W/b02-ca.creds" "$(dl_bmc_addr b02)" status --ca "$DL_W/bmc-ca.pem" 2>&1) &&
	    fail "a certificate from outside the CA was accepted: $out"
	[[ $out == *error=EKEYREJECTED* ]] || fail "certificate outside the CA: $out"
	dl_bmc_fault b02 ""
	out=$(dl_ns "$POWERCTL" "$DL_W/b02-ca.creds" "$(dl_bmc_addr b02)" status --ca "$DL_W/bmc-ca.pem" 2>&1) ||
	    fail "no pin, certificate from the CA file refused: $out"
	pass "no pin: the certificate is checked against the CA file (another one: refused)"
	# A pinned BMC's check is the pin alone: no CA store is read for it (libcurl's GnuTLS
	# backend parses its default bundle and CA directory into every handle otherwise, ~70 ms of CPU per
	# job, docs/redfish.md). The CA run shows strace sees the file a check does read.
	opened() {
		dl_ns strace -f -qq -e trace=open,openat -o "$DL_W/strace.out" "$@" >/dev/null 2>&1 || return
		grep -oE '"[^"]*(/etc/ssl/certs|ca-certificates|bmc-ca\.pem)[^"]*"' "$DL_W/strace.out" |
		    sort -u | tr '\n' ' ' || true
	}
	out=$(opened "$POWERCTL" "$DL_W/b02-ca.creds" "$(dl_bmc_addr b02)" status --ca "$DL_W/bmc-ca.pem") ||
	    fail "powerctl under strace (CA file) failed"
	[[ $out == *bmc-ca.pem* ]] || fail "strace did not see the CA file opened: '$out'"
	out=$(opened "$POWERCTL" "$DL_W/b02.creds" "$(dl_bmc_addr b02)" status) ||
	    fail "powerctl under strace (pinned) failed"
	[[ -z $out ]] || fail "a pinned status read a CA store: $(cut -c1-200 <<<"$out")..."
	pass "a pinned status reads no CA store (the CA-file one reads its file)"

	# --- a BMC without SessionService (basic auth) that allows only On, ForceOff and
	# GracefulRestart: reset falls back to GracefulRestart
	DL_BMC_REDFISH_ARGS="--no-sessions --reset-types On,ForceOff,GracefulRestart" \
	    dl_bmc b03 "$DL_NET.23" "52:54:00:$o:00:03" bios 256
	out=$(pc b03 on) || fail "powerctl on b03 (basic auth): $out"
	out=$(pc b03 reset) || fail "powerctl reset b03: $out"
	d3=$(_dl_bmc_dir b03)
	[[ $(tail -n 1 "$d3/resets-redfish") == GracefulRestart ]] ||
	    fail "b03 reset as $(tail -n 1 "$d3/resets-redfish"), want GracefulRestart"
	grep -q 'SessionService' "$d3/requests" && fail "b03 has no sessions, yet one was asked for"
	out=$(pc b03 off) || fail "powerctl off b03: $out"
	pass "basic auth without SessionService; reset falls back to GracefulRestart"
	# every session the client opened it closed, whether its job succeeded or not
	for n in b01 b02; do
		d=$(_dl_bmc_dir "$n")
		open=$(awk '$1 == "login" { o[$2] = 1 } $1 == "logout" { delete o[$2] }
		    END { for (s in o) printf "%s ", s }' "$d/sessions")
		[[ -z $open ]] || fail "$n: sessions never logged out: $open"
	done
	pass "every Redfish session logged out ($(grep -c '^login' "$d/sessions") on b02)"
fi
echo "PASS"
