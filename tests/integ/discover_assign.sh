#!/bin/bash
# Issue 16: a discovered node, once assigned an image, is what a registered node is. An
# unknown machine (a namespace on the boot bridge) gets a lease from bootsvc's dnsmasq
# (busybox udhcpc) and asks for its script: it is discovered as d-<mac>, without a fixed
# address. `node set --image` then keeps its leased address as its fixed one: node list
# shows it, dnsmasq reserves it (no duplicate dhcp-host), and its next script request and
# kernel fetch from that address give it the pxe and loading rows of its history.
source "$(dirname "$0")/lib.sh"
dl_require curl busybox ip python3
dl_setup discassign 125

CLIENT_NS=dl-discclient-$$
DL_NETNS+=("$CLIENT_NS")
MAC=52:54:00:7d:00:99
NODE=d-5254007d0099

read -r ID IMG <<<"$("$BUILD/imagebuild" build "$REPO/images/tiny" --store "$DL_W/store" \
    --work "$DL_W" 2>"$DL_W/imagebuild.log" | tail -n 1)"
[[ -n $IMG ]] || fail "imagebuild tiny"
dl_bootsvc_start
dl_nodectl image add "$IMG" >/dev/null || fail "image add"

# --- the unknown machine: its own namespace, a veth on br0 with its MAC, a DHCP lease
ip netns add "$CLIENT_NS"
ip -n "$DL_NS" link add disc0 type veth peer name eth0 netns "$CLIENT_NS"
ip -n "$DL_NS" link set disc0 master br0 up
ip -n "$CLIENT_NS" link set lo up
ip -n "$CLIENT_NS" link set eth0 address "$MAC" up
cat >"$DL_W/udhcpc.sh" <<'EOS'
#!/bin/sh
# udhcpc's event script: set the address it was given, nothing else
[ "$1" = bound ] && ip addr add "$ip/${mask:-24}" dev "$interface"
exit 0
EOS
chmod 755 "$DL_W/udhcpc.sh"
ip netns exec "$CLIENT_NS" busybox udhcpc -i eth0 -n -q -f -t 10 -s "$DL_W/udhcpc.sh" \
    >"$DL_W/udhcpc.log" 2>&1 || fail "no DHCP lease: $(cat "$DL_W/udhcpc.log")"
LEASED=$(ip -n "$CLIENT_NS" -4 -o addr show dev eth0 | awk '{ print $4 }' | cut -d/ -f1)
[[ $LEASED == "$DL_NET".1[0-9][0-9] ]] || fail "leased '$LEASED', not from dhcp_range"
client() { ip netns exec "$CLIENT_NS" curl -s "$@"; }
client -o /dev/null -f "$DL_URL/ipxe/boot?mac=$MAC" || fail "the discover script"
dl_phase_is "$NODE" discovered || fail "$NODE is $(dl_phase "$NODE")"
[[ -z $(dl_field "$NODE" ip) ]] || fail "a discovered node has a fixed address already"
pass "$MAC leased $LEASED and discovered as $NODE (no fixed address)"

# --- assigned: keeps its lease as its fixed address
dl_nodectl node set "$NODE" --image tiny >/dev/null || fail "node set --image"
ip=$(dl_field "$NODE" ip)
[[ $ip == "$LEASED" ]] || fail "assigned $NODE has ip '$ip', not its lease $LEASED"
dl_nodectl node list "$NODE" | grep -qF " $LEASED " || fail "node list: $(dl_nodectl node list "$NODE")"
dl_wait 10 "its host entry" grep -qx "$MAC,$LEASED,$NODE" "$DL_W/state/dnsmasq/hosts/$NODE"
sleep 1 # dnsmasq's SIGHUP re-read
if grep -q 'duplicate dhcp-host' "$DL_W/bootsvc.log"; then
	fail "dnsmasq: $(grep 'duplicate dhcp-host' "$DL_W/bootsvc.log" | head -n 2)"
fi
pass "assigned: node list shows $NODE at $LEASED, dnsmasq reserves it"

# --- its boot from that address, as a registered node's
script=$(client -f "$DL_URL/ipxe/boot?mac=$MAC") || fail "its script after assignment"
grep -qF "$ID" <<<"$script" || fail "its script does not boot tiny: $script"
client -f -o /dev/null "$DL_URL/images/$ID/kernel" || fail "its kernel fetch"
dl_wait 10 "$NODE loading" dl_phase_is "$NODE" loading
phases=$(dl_nodectl --json node show "$NODE" | python3 -c \
    'import json,sys; print(" ".join(h["phase"] for h in json.load(sys.stdin)["node"]["history"]))')
grep -qw loading <<<"$phases" || fail "no loading row in $NODE's history: $phases"
pass "$NODE's script names tiny@${ID:0:12}; its history: $phases"
