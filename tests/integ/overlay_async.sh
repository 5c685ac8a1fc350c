#!/bin/bash
# Issue 11 point 7: /overlay is built off the loop (api_node.c on the overlay worker pool,
# its connection suspended meanwhile). No qemu: a node registered by hand fetches its
# script, then eight overlays of a 6 MiB site overlay (1,500 files) are fetched at once
# while script requests keep coming; every overlay arrives whole (a newc archive holding
# the site files), every script is answered, and each script latency is recorded in the
# log (not asserted); each build went through the overlay worker pool (the action layer's
# log line). Without the token the overlay is refused.
source "$(dirname "$0")/lib.sh"
dl_require curl python3 ip
dl_setup ovl 93

read -r ID IMG <<<"$("$BUILD/imagebuild" build "$REPO/images/tiny" --store "$DL_W/store" \
    --work "$DL_W" 2>>"$DL_W/imagebuild.log" | tail -n 1)"
[[ -f $IMG/manifest.json ]] || fail "imagebuild tiny"

mkdir -p "$DL_W/site/etc/big"
python3 - "$DL_W/site/etc/big" <<'EOP'
import os, sys
for i in range(1500):
    with open(os.path.join(sys.argv[1], "f%04d" % i), "wb") as f:
        f.write(os.urandom(4096))
EOP
dl_bootsvc_start --site_overlay="$DL_W/site" --log_level=debug
dl_nodectl image add "$IMG" >/dev/null || fail "image add"
# Node calls are served to a node's own fixed address only (docs/security.md "The boot
# network"): the test gives both addresses to bootsvc's namespace and asks from them.
ip -n "$DL_NS" addr add "$DL_NET.97/24" dev br0
ip -n "$DL_NS" addr add "$DL_NET.96/24" dev br0
dl_nodectl node add ov1 --mac 52:54:00:93:00:01 --ip "$DL_NET.97" --image tiny >/dev/null ||
    fail "node add"
dl_nodectl node add ov2 --mac 52:54:00:93:00:02 --ip "$DL_NET.96" --image tiny >/dev/null ||
    fail "node add"
# ov1's script from its own address arms it with a fresh token: read it after that, from
# the store (root reads the 0600 file; the credential archive is the node's way).
dl_ns curl -sf --interface "$DL_NET.97" -o "$DL_W/script" \
    "$DL_URL/ipxe/boot?mac=52:54:00:93:00:01" || fail "script"
TOKEN=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select token from nodes where name=?", ("ov1",)).fetchone()[0])' "$DL_W/state/diskless.db")
[[ -n $TOKEN ]] || fail "no token for ov1"

code=$(dl_ns curl -s -o /dev/null -w '%{http_code}' "$DL_URL/api/v1/nodes/ov1/overlay")
[[ $code == 401 ]] || fail "overlay without a token: $code, want 401"

OVL_PIDS=()
for i in 1 2 3 4 5 6 7 8; do
	ip netns exec "$DL_NS" curl -s --interface "$DL_NET.97" -o "$DL_W/ovl.$i" -w '%{http_code} %{time_total}\n' \
	    -H "Authorization: Bearer $TOKEN" "$DL_URL/api/v1/nodes/ov1/overlay" \
	    >"$DL_W/ovl.$i.code" 2>&1 &
	OVL_PIDS+=("$!")
	DL_PIDS+=("$!")
done
# Script requests of another node meanwhile: answered, latencies to the log.
for i in $(seq 1 20); do
	dl_ns curl -s --interface "$DL_NET.96" -o /dev/null -w '%{http_code} %{time_total}\n' \
	    "$DL_URL/ipxe/boot?mac=52:54:00:93:00:02" >>"$DL_W/script.times"
done
wait "${OVL_PIDS[@]}"
echo "script latencies while 8 overlays were built (code seconds):"
cat "$DL_W/script.times"
grep -qv '^200 ' "$DL_W/script.times" && fail "a script request failed: $(grep -v '^200 ' "$DL_W/script.times" | head -n 1)"
for i in 1 2 3 4 5 6 7 8; do
	read -r code t <"$DL_W/ovl.$i.code"
	echo "overlay $i: $code in $t s, $(stat -c %s "$DL_W/ovl.$i") bytes"
	[[ $code == 200 ]] || fail "overlay $i: HTTP $code"
	[[ $(head -c 6 "$DL_W/ovl.$i") == 070701 ]] || fail "overlay $i is not a newc archive"
	grep -aq 'etc/big/f1499' "$DL_W/ovl.$i" || fail "overlay $i lacks the last site file"
	grep -aq 'TRAILER!!!' "$DL_W/ovl.$i" || fail "overlay $i has no trailer"
done
cmp -s "$DL_W/ovl.1" "$DL_W/ovl.8" || fail "two overlays of the same node differ"
grep -q 'event=overlay' "$DL_W/bootsvc.log" && fail "bootsvc logged an overlay error"
# Built on the overlay pool's threads, not on the loop: the action layer logs each.
n=$(grep -c 'event=action node=ov1 action=overlay result=ok' "$DL_W/bootsvc.log")
[[ $n == 8 ]] || fail "$n overlay builds went through the overlay worker pool, want 8"
pass "8 overlays of $(stat -c %s "$DL_W/ovl.1") bytes built off the loop, 20 scripts answered meanwhile"
