#!/bin/bash
# Issue #3 faults, through the real bootsvc and dnsmasq with qemu nodes booting tiny:
#   flip    - the served rootfs has one flipped byte: the node reports "failed: checksum
#             mismatch" and is never marked up
#   cut     - the rootfs transfer is cut half way (a relay in front of bootsvc): the
#             init resumes with Range and the node comes up
#   receipt - an "up" whose receipt names another rootfs: bootsvc marks the node failed
#             with "booted rootfs <x>, expected <y>"
source "$(dirname "$0")/lib.sh"
dl_require qemu-system-x86_64 curl python3 ip
dl_setup faults 74

build() { # build tiny into store $1; prints "<id> <dir>"
	"$BUILD/imagebuild" build "$REPO/images/tiny" --store "$1" --work "$DL_W" \
	    2>>"$DL_W/imagebuild.log" | tail -n 1
}
read -r ID IMG <<<"$(build "$DL_W/store")"
[[ -f $IMG/manifest.json ]] || fail "imagebuild tiny"
# A second, corrupted copy of the same version for the flip case: same id, same size,
# one byte different in the middle of the rootfs.
mkdir -p "$DL_W/bad"
cp -a "$IMG" "$DL_W/bad/$ID"
size=$(stat -c %s "$IMG/rootfs.squashfs")
python3 - "$DL_W/bad/$ID/rootfs.squashfs" $((size / 2)) <<'EOP'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0xff]))
EOP

# --- flip: a bootsvc whose store holds the corrupted copy
dl_bootsvc_start
dl_nodectl image add "$DL_W/bad/$ID" >/dev/null || fail "image add (bad copy)"
dl_nodectl node add flip1 --mac 52:54:00:74:00:01 --image tiny >/dev/null
dl_qemu flip1 bios 52:54:00:74:00:01
reason() { dl_nodectl --json node list "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["nodes"][0]["reason"])'; }
flip_failed() { dl_phase_is flip1 failed && [[ $(reason flip1) == *"checksum mismatch"* ]]; }
dl_wait 240 "flip1 failed: checksum mismatch" flip_failed
dl_console_has flip1 'checksum mismatch' || fail "console does not say checksum mismatch"
dl_nodectl --json node show flip1 | grep -q '"phase": *"up"' && fail "flip1 was marked up"
pass "flipped byte: failed with 'checksum mismatch', never up"
kill "$DL_QEMU_flip1"
dl_bootsvc_stop

# --- cut: a fresh state, boot_url through the cutting relay on :8081
rm -rf "$DL_W/state"
# ip netns exec, not the dl_ns function: $! must be the relay itself, or the cleanup
# ends a subshell and leaves the relay running after the test.
# The relay connects to bootsvc from the node's own address (transparent): node calls are
# served to a node's fixed address only. bootsvc's answers to node addresses come back to
# this host (the relay's transparent sockets) instead of going out on br0.
ip -n "$DL_NS" rule add from "$DL_SRV" ipproto tcp sport 8080 lookup 100
ip -n "$DL_NS" route add local 0.0.0.0/0 dev lo table 100
ip netns exec "$DL_NS" python3 "$REPO/tests/integ/cutproxy.py" "$DL_SRV" 8081 "$DL_SRV" 8080 \
    "$DL_W/cut.marker" transparent >"$DL_W/cutproxy.log" 2>&1 &
DL_PIDS+=("$!")
dl_bootsvc_start --boot_url="http://$DL_SRV:8081"
dl_nodectl image add "$IMG" >/dev/null || fail "image add"
dl_nodectl node add cut1 --mac 52:54:00:74:00:02 --image tiny >/dev/null
dl_qemu cut1 bios 52:54:00:74:00:02
dl_wait 240 "cut1 up" dl_phase_is cut1 up
[[ -s $DL_W/cut.marker ]] || fail "the relay never cut a rootfs transfer"
dl_console_has cut1 'resum' || fail "init console shows no resume"
grep -q 'route=images status=206' "$DL_W/bootsvc.log" || fail "bootsvc served no 206 range"
pass "rootfs transfer $(tr -d "\n" <"$DL_W/cut.marker"): resumed with Range, node up"

# --- receipt: a forged up with another rootfs id, using the node's own token, from the
# node's own address (node calls are taken from there only): cut1's qemu is stopped and
# the test takes its address
kill "$DL_QEMU_cut1"
CUT_IP=$(dl_field cut1 ip)
ip -n "$DL_NS" addr add "$CUT_IP/24" dev br0
TOK=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select token from nodes where name=\"cut1\"").fetchone()[0])' "$DL_W/state/diskless.db")
body=$(python3 - "$IMG/manifest.json" <<'EOP'
import json, sys
m = json.load(open(sys.argv[1]))
print(json.dumps({"phase": "up", "receipt": {"kernel": "Linux version 0.0-other #1",
      "initrd": m["files"]["initrd"]["sha256"], "rootfs": "0" * 64}}))
EOP
)
c=$(dl_ns curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOK" \
    --interface "$CUT_IP" -d "$body" "http://$DL_SRV:8080/api/v1/nodes/cut1/phase")
[[ $c == 204 ]] || fail "receipt post answered $c"
dl_phase_is cut1 failed || fail "a mismatched receipt left cut1 $(dl_phase cut1)"
[[ $(reason cut1) == "booted rootfs 0000000000000000, expected "* ]] || fail "reason '$(reason cut1)'"
pass "mismatched receipt: failed with '$(reason cut1)'"
echo PASS
