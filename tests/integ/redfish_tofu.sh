#!/bin/bash
# Issue 17: trust on first use for Redfish BMCs (redfish_tofu = on, docs/redfish.md). A
# Redfish BMC (tests/tools/redfish_sim.py, no node behind it) with a self-signed
# certificate no CA vouches for, a node whose credentials file has no pin=:
#   - tofu off: power status is refused (EKEYREJECTED, the CA check) and nothing recorded;
#   - tofu on: the first contact records the key's pin in <state_dir>/bmc-pins/<node>
#     (openssl's pin of the certificate, mode 0600, a notice naming node, BMC and pin),
#     and power status answers;
#   - the BMC presents another certificate on the same address (the simulator's "cert"
#     fault): refused with EKEYREJECTED naming the offered and the recorded pin, the file
#     unchanged;
#   - the admin forgets it (nodectl node reset-bmc-pin, as deleting the file): the next
#     status records the new key and answers.
source "$(dirname "$0")/lib.sh"
dl_require python3 openssl ip
dl_setup rf-tofu 126

IP=$DL_NET.50
PASS=tofu-$RANDOM
d=$DL_W/bmc
mkdir -p "$d"
ip -n "$DL_NS" addr add "$IP/32" dev lo
pin_of() {
	openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der |
	    openssl dgst -sha256 -binary | base64
}
for c in cert alt-cert; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	    -subj "/CN=$IP" -addext "subjectAltName=IP:$IP" -keyout "$d/${c%cert}key.pem" \
	    -out "$d/$c.pem" 2>/dev/null || fail "openssl: $c"
done
PIN_A=sha256//$(pin_of "$d/cert.pem")
PIN_B=sha256//$(pin_of "$d/alt-cert.pem")
[[ $PIN_A != "$PIN_B" ]] || fail "two certificates with one key"
: > "$d/fault"
(cd "$d" && exec ip netns exec "$DL_NS" python3 "$REPO/tests/tools/redfish_sim.py" \
    --addr "$IP" --port 443 --cert "$d/cert.pem" --key "$d/key.pem" \
    --alt-cert "$d/alt-cert.pem" --alt-key "$d/alt-key.pem" --user admin \
    --password "$PASS" --chassis-control none --dir "$d" </dev/null >>"$DL_W/bmc.log" 2>&1) &
DL_PIDS+=("$!")
rf_up() { dl_ns ss -Hltn "src $IP:443" | grep -q .; }
dl_wait 20 "Redfish BMC listening on $IP:443" rf_up
(umask 077; printf 'user=admin\npassword=%s\n' "$PASS" > "$DL_W/n01.creds")

PINF=$DL_W/state/bmc-pins/n01
# power_poll long: only the test's own status jobs touch the BMC
ARGS=(--power-poll=1h --bmc-timeout=3s --dhcp-mode=off)
status() { dl_nodectl power status n01 2>&1 || true; }

# --- tofu off (the default): a certificate no CA vouches for is refused
dl_bootsvc_start "${ARGS[@]}"
dl_nodectl node add n01 --mac 52:54:00:7e:00:01 --bmc "redfish://$IP" \
    --bmc-creds "$DL_W/n01.creds" >/dev/null || fail "node add n01"
out=$(status)
grep -q 'EKEYREJECTED' <<<"$out" || fail "tofu off: status not refused on the CA check: $out"
[[ ! -e $PINF ]] || fail "tofu off: a pin was recorded"
pass "redfish_tofu off: the self-signed BMC is refused (EKEYREJECTED), nothing recorded"
dl_bootsvc_stop

# --- tofu on: first use records
dl_bootsvc_start "${ARGS[@]}" --redfish-tofu=on
out=$(status)
grep -qE '^n01 +(on|off)' <<<"$out" || fail "tofu on: first status did not answer: $out"
[[ -f $PINF ]] || fail "no pin file $PINF"
[[ $(cat "$PINF") == "$PIN_A" ]] || fail "recorded '$(cat "$PINF")', openssl says $PIN_A"
[[ $(stat -c %a "$PINF") == 600 ]] || fail "pin file mode $(stat -c %a "$PINF")"
grep -q "event=bmc_pin_recorded node=n01 bmc=$IP pin=$PIN_A" "$DL_W/bootsvc.log" ||
    fail "no first-use notice naming node, BMC and pin"
out=$(status)
grep -qE '^n01 +(on|off)' <<<"$out" || fail "second status (pinned) did not answer: $out"
(($(grep -c 'event=bmc_pin_recorded' "$DL_W/bootsvc.log") == 1)) || fail "recorded twice"
pass "first use recorded $PIN_A (mode 0600, notice logged); the next status is pinned to it"

# --- another certificate on the same address: refused, naming both pins
dl_bmc_fault_cert() { printf '%s\n' "$1" > "$d/fault"; }
dl_bmc_fault_cert cert
out=$(status)
grep -q 'EKEYREJECTED' <<<"$out" || fail "changed certificate not refused: $out"
grep -qF "$PIN_B" <<<"$out" && grep -qF "$PIN_A" <<<"$out" ||
    fail "refusal does not name the offered ($PIN_B) and the recorded ($PIN_A) pin: $out"
[[ $(cat "$PINF") == "$PIN_A" ]] || fail "the recorded pin changed"
pass "a changed certificate is refused: $(grep -o 'EKEYREJECTED.*' <<<"$out" | cut -c1-200)"

# --- the admin forgets it (nodectl node reset-bmc-pin; deleting the file is the same)
out=$(dl_nodectl node reset-bmc-pin n01 2>&1) || fail "node reset-bmc-pin: $out"
grep -q 'forgotten.*n01' <<<"$out" || fail "node reset-bmc-pin said: $out"
[[ ! -e $PINF ]] || fail "node reset-bmc-pin left $PINF"
grep -q 'event=bmc_pin_reset node=n01' "$DL_W/bootsvc.log" || fail "no notice of the reset"
out=$(dl_nodectl node reset-bmc-pin n01 2>&1) || fail "second node reset-bmc-pin: $out"
grep -q 'no recorded BMC key pin for.*n01' <<<"$out" || fail "second reset said: $out"
out=$(status)
grep -qE '^n01 +(on|off)' <<<"$out" || fail "after reset: status did not answer: $out"
[[ $(cat "$PINF") == "$PIN_B" ]] || fail "after reset recorded '$(cat "$PINF")', want $PIN_B"
pass "nodectl node reset-bmc-pin forgets the key; the next status records the new one, $PIN_B"
