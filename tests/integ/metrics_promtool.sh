#!/bin/bash
# Issue 16: /metrics as Prometheus' own tool reads it, and what a new admin tripped on.
# - bootsvc (iscsi on, so the disk families are there too) with traffic in every route:
#   /metrics passes `promtool check metrics`; docs/metrics.md and /metrics name the same
#   families, both ways; every metric the Grafana dashboard and the alert rules name
#   exists; the rules pass `promtool check rules` and their tests `promtool test rules`.
# - node add writes each host file once: dnsmasq never warns "duplicate dhcp-host".
# - a node up on an older version than its image's current one is shown as behind.
# - the boot interface without a global/ULA IPv6 address: bootsvc warns with the fix;
#   with one (dl_setup gives one), it does not.
source "$(dirname "$0")/lib.sh"
dl_require curl promtool python3 ip
dl_setup metrics 113

# --- an image, bootsvc, a node with a fixed address this test can ask from
recipe_build() { # DIR -> "id dir"
	"$BUILD/imagebuild" build "$1" --store "$DL_W/store" --work "$DL_W" \
	    2>>"$DL_W/imagebuild.log" | tail -n 1
}
read -r ID1 IMG1 <<<"$(recipe_build "$REPO/images/tiny")" || fail "imagebuild tiny"
[[ -n $IMG1 ]] || fail "imagebuild tiny printed no version"
dl_bootsvc_start --iscsi=on
dl_nodectl image add "$IMG1" >/dev/null || fail "image add"
if grep -q 'event=ipv6_ra_no_prefix' "$DL_W/bootsvc.log"; then
	fail "bootsvc warned of no IPv6 prefix though br0 has fd00:113::1/64"
fi
pass "no IPv6 warning with a ULA prefix on br0"

NODE_IP=$DL_NET.50
ip -n "$DL_NS" addr add "$NODE_IP/32" dev br0
dl_nodectl node add m01 --mac 52:54:00:71:00:01 --ip "$NODE_IP" --image tiny >/dev/null ||
    fail "node add m01"
dl_nodectl node add 'm[02-04]' --mac '52:54:00:71:00:[02-04]' >/dev/null ||
    fail "node add m[02-04]"
# dnsmasq reads each file on its inotify event; wait until it has read the last one
dl_wait 10 "dnsmasq read m04's host file" grep -q "read .*/hosts/m04$" "$DL_W/bootsvc.log"
sleep 1 # a second event (the bug) would follow at once
reads=$(grep -c "read .*/hosts/m0[1-4]$" "$DL_W/bootsvc.log")
((reads == 4)) || fail "dnsmasq read the 4 host files $reads times: $(grep hosts/ "$DL_W/bootsvc.log")"
if grep -q 'duplicate dhcp-host' "$DL_W/bootsvc.log"; then
	fail "dnsmasq warned: $(grep 'duplicate dhcp-host' "$DL_W/bootsvc.log" | head -n 3)"
fi
pass "4 nodes added, each host file read once, no duplicate dhcp-host warning"

# --- traffic in every route: m01's boot script (armed: the credential path), an unknown
# machine discovered, a node API call with a wrong token, an image file, a 404
dl_nodectl node arm m01 >/dev/null || fail "node arm m01"
script=$(dl_ns curl -sf --interface "$NODE_IP" "$DL_URL/ipxe/boot?mac=52:54:00:71:00:01") ||
    fail "m01's boot script"
grep -q "$ID1" <<<"$script" || fail "m01's script does not name tiny@${ID1:0:12}: $script"
dl_ns curl -sf --interface "$NODE_IP" "$DL_URL/ipxe/boot?mac=52:54:00:71:00:99" >/dev/null ||
    fail "discovery"
dl_ns curl -s -o /dev/null -X POST --interface "$NODE_IP" -H 'Authorization: Bearer x' \
    -d '{"phase":"up"}' "$DL_URL/api/v1/nodes/m01/phase"
dl_ns curl -s -o /dev/null "$DL_URL/images/$ID1/kernel"
dl_ns curl -s -o /dev/null "$DL_URL/nosuch"
pass "traffic: a boot script, a discovery, a refused phase report, an image file, a 404"

# --- /metrics through promtool
dl_ns curl -sf "$DL_URL/metrics" >"$DL_W/metrics.txt" || fail "GET /metrics"
promtool check metrics <"$DL_W/metrics.txt" >"$DL_W/promtool.log" 2>&1 ||
    fail "promtool check metrics: $(cat "$DL_W/promtool.log")"
[[ ! -s $DL_W/promtool.log ]] || fail "promtool complains: $(cat "$DL_W/promtool.log")"
grep -qx 'diskless_boot_scripts_total 1' "$DL_W/metrics.txt" ||
    fail "boot scripts: $(grep boot_scripts "$DL_W/metrics.txt")"
grep -qE '^diskless_ipxe_script_duration_seconds_count [2-9]' "$DL_W/metrics.txt" ||
    fail "script latency: $(grep script_duration_seconds_count "$DL_W/metrics.txt")"
grep -qx 'diskless_nodes{phase="discovered"} 1' "$DL_W/metrics.txt" ||
    fail "discovered: $(grep '^diskless_nodes{' "$DL_W/metrics.txt")"
grep -qx 'diskless_api_auth_failures_total 1' "$DL_W/metrics.txt" ||
    fail "auth failures: $(grep auth_failures "$DL_W/metrics.txt")"
pass "promtool check metrics: clean ($(grep -c '^# TYPE' "$DL_W/metrics.txt") families)"

# --- docs/metrics.md, the dashboard and the rules against what /metrics has
grep '^# TYPE ' "$DL_W/metrics.txt" | awk '{ print $3 }' | sort -u >"$DL_W/served.names"
grep -oE '^\| `diskless_[a-z0-9_]+`' "$REPO/docs/metrics.md" | tr -d '|` ' | sort -u \
    >"$DL_W/doc.names"
diff -u "$DL_W/doc.names" "$DL_W/served.names" >"$DL_W/names.diff" ||
    fail "docs/metrics.md (-) and /metrics (+) differ: $(cat "$DL_W/names.diff")"
pass "docs/metrics.md lists the $(wc -l <"$DL_W/served.names") families /metrics serves"
for f in "$REPO/dist/grafana/diskless.json" "$REPO/dist/prometheus/diskless-rules.yml"; do
	used=$(grep -oE 'diskless_[a-z0-9_]+' "$f" | sed -E 's/_(bucket|sum|count)$//' | sort -u)
	[[ -n $used ]] || fail "$f names no metric"
	for m in $used; do
		grep -qx "$m" "$DL_W/served.names" || fail "$(basename "$f") uses $m, not in /metrics"
	done
	pass "$(basename "$f"): its $(wc -w <<<"$used") metrics all exist"
done
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["panels"]' \
    "$REPO/dist/grafana/diskless.json" || fail "the dashboard is not a Grafana JSON model"
(cd "$REPO/dist/prometheus" && promtool check rules diskless-rules.yml) >"$DL_W/rules.log" 2>&1 ||
    fail "promtool check rules: $(cat "$DL_W/rules.log")"
(cd "$REPO/dist/prometheus" && promtool test rules diskless-rules.test.yml) >>"$DL_W/rules.log" 2>&1 ||
    fail "promtool test rules: $(cat "$DL_W/rules.log")"
pass "alert rules: promtool check rules and test rules pass"

# --- behind: a second version of tiny becomes current while m01 runs the first
cp -a "$REPO/images/tiny" "$DL_W/tiny2"
echo "second version (tests/integ/metrics_promtool.sh)" >"$DL_W/tiny2/overlay/etc/tiny2"
read -r ID2 IMG2 <<<"$(recipe_build "$DL_W/tiny2")" || fail "imagebuild tiny2"
[[ -n $ID2 && $ID2 != "$ID1" ]] || fail "the second build gave no new version ($ID2)"
dl_nodectl image add "$IMG2" >/dev/null || fail "image add tiny2"
phase=$(dl_phase m01)
list=$(dl_nodectl node list m01)
grep -qF "tiny@${ID1:0:12} (behind)" <<<"$list" ||
    fail "node list does not show m01 (phase $phase) behind: $list"
show=$(dl_nodectl node show m01)
grep -qE "^version: +runs ${ID1:0:12}, current ${ID2:0:12} \(behind" <<<"$show" ||
    fail "node show: $(grep -E 'image|version' <<<"$show")"
list=$(dl_nodectl node list m02)
if grep -q behind <<<"$list"; then fail "m02 never booted, shown behind: $list"; fi
pass "m01 ($phase on tiny@${ID1:0:12}) shows behind tiny@${ID2:0:12} in node list and show"

# --- the boot interface without an IPv6 prefix: warned at start, naming it and the fix
dl_bootsvc_stop
# every global address: br0 may also have taken one from the RAs dnsmasq sent (SLAAC)
ip -n "$DL_NS" -6 addr flush dev br0 scope global
dl_bootsvc_start --iscsi=on
# (the ping dl_bootsvc_start waits for may be the old instance's last answer)
dl_wait 10 "a warning for br0 without an IPv6 prefix" grep -q 'event=ipv6_ra_no_prefix' \
    "$DL_W/bootsvc.log"
dl_wait 10 "the new bootsvc answers" dl_nodectl ping
grep 'event=ipv6_ra_no_prefix' "$DL_W/bootsvc.log" >"$DL_W/warn.txt"
grep -q 'interface=br0' "$DL_W/warn.txt" && grep -qF 'ip -6 addr add fd00:d15c::1/64 dev br0' \
    "$DL_W/warn.txt" || fail "the warning names neither br0 nor the fix: $(cat "$DL_W/warn.txt")"
(($(wc -l <"$DL_W/warn.txt") == 1)) || fail "warned $(wc -l <"$DL_W/warn.txt") times"
pass "without an IPv6 prefix: $(cut -c1-150 "$DL_W/warn.txt")..."
