#!/bin/bash
# Issue 14 points 3-5 against a real bootsvc (iscsi = on, tgtd its parent's), its images
# and disk_dir on an XFS loop file made here: an iscsi node's disk is a reflink clone; its
# script is held while the clone is made, then carries its CHAP once; a real
# initiator logs in to the node's target with them (libiscsi, from the namespace); tgtd
# killed -9 comes back and the node's target is set again from the store; node show and
# /metrics show the disk.
source "$(dirname "$0")/lib.sh"
dl_require ip curl iscsi-inq tgtd tgtadm python3 mkfs.xfs mount umount
dl_setup disk_tgt 76
# images and disks on XFS (reflink=1): unmounted before lib.sh's cleanup removes $DL_W
truncate -s 320M "$DL_W/xfs.img"
mkfs.xfs -q -m reflink=1 "$DL_W/xfs.img" || fail "mkfs.xfs"
mkdir "$DL_W/xfs"
mount -o loop "$DL_W/xfs.img" "$DL_W/xfs" || fail "mount the XFS loop file"
trap 'rc=$?; [[ -n ${DL_BOOTSVC_PID:-} ]] && dl_bootsvc_stop; umount "$DL_W/xfs" 2>/dev/null; (exit $rc); dl_cleanup' EXIT
mkdir "$DL_W/xfs/disks"
chown diskless: "$DL_W/xfs/disks"
PFX=iqn.2026-12.local.diskless
MAC=52:54:00:76:00:01

# the golden: 16 MiB, data at its start and at 8 MiB, under an iscsi manifest
GID=$(python3 - "$DL_W/xfs/store" <<'EOP'
import hashlib, json, os, sys
store = sys.argv[1]
data = bytearray(16 << 20)
data[0:4] = b"MBR!"
data[8 << 20:(8 << 20) + 5] = b"HELLO"
os.makedirs(store + "/tmp")
with open(store + "/tmp/disk.img", "wb") as f:
    f.write(b"MBR!")
    f.seek(8 << 20); f.write(b"HELLO")
    f.truncate(16 << 20)
m = {"format": 1, "name": "win", "kind": "iscsi", "built": "2026-12-05T00:00:00Z",
     "recipe_sha256": "0" * 64, "kernel_version": "", "kernel_banner": "", "cmdline": "",
     "up_probe": "tcp:3389",
     "files": {"disk": {"path": "disk.img", "sha256": hashlib.sha256(bytes(data)).hexdigest(),
                        "size": len(data)}}}
text = json.dumps(m, sort_keys=True, separators=(",", ":"))
vid = hashlib.sha256(text.encode()).hexdigest()
os.rename(store + "/tmp", store + "/" + vid)
open(store + "/" + vid + "/manifest.json", "w").write(text)
print(vid)
EOP
) || fail "golden manifest"
chmod -R a+rX "$DL_W/xfs/store"

dl_bootsvc_start --iscsi=on --disk_clone=auto --disk_dir="$DL_W/xfs/disks"
dl_nodectl image add "$DL_W/xfs/store/$GID" >/dev/null ||
    fail "image add: $(dl_nodectl image add "$DL_W/xfs/store/$GID" 2>&1)"
# the node's address is the namespace's own: libiscsi logs in from there
dl_nodectl node add s1 --mac $MAC --ip "$DL_SRV" --image win >/dev/null || fail "node add"
dl_nodectl node arm s1 >/dev/null || fail "node arm"
script() { dl_ns curl -sf "$DL_URL/ipxe/boot?mac=$MAC"; }
out=$(script) || fail "script"
[[ $out == *"disk being made"* ]] || fail "first script: $out"
dl_wait 20 "s1's clone" bash -c "$BUILD/nodectl --socket $DL_SOCK node show s1 | grep -q 'state: *ready'"
out=$(script) || fail "script"
[[ $out == *"sanboot iscsi:$DL_SRV::3260:1:$PFX:s1"* ]] || fail "no sanboot: $out"
PW=$(sed -n 's/^set password //p' <<<"$out")
MU=$(sed -n 's/^set reverse-username //p' <<<"$out")
MP=$(sed -n 's/^set reverse-password //p' <<<"$out")
[[ ${#PW} == 16 && ${#MP} == 16 && $MU == target-1 ]] || fail "CHAP in the script: $out"
grep -q "event=disk_make node=s1 state=ready method=reflink apparent=16777216" "$DL_W/bootsvc.log" ||
    fail "not a reflink: $(grep disk_make "$DL_W/bootsvc.log")"
pass "s1's script: held while its reflink clone was made, then its target and CHAP"

inq() { dl_ns env LIBISCSI_CHAP_TARGET_USERNAME="$MU" LIBISCSI_CHAP_TARGET_PASSWORD="$MP" \
    timeout 20 iscsi-inq -i "$PFX:s1.initiator" "iscsi://s1%$1@$DL_SRV:3260/$PFX:s1/1" 2>&1; }
login_ok() { inq "$PW" | grep -q VIRTUAL-DISK; }
dl_wait 20 "s1's login" login_ok
out=$(inq "$PW") || fail "login: $out"
out=$(inq "Wrongsecret1234x") && fail "a wrong secret logged in: $out"
pass "a real initiator logs in to s1's target with the script's CHAP (mutual too); a wrong secret is refused"

PARENT=$DL_BOOTSVC_PID
T1=$(pgrep -P "$PARENT" -x tgtd)
kill -9 "$T1"
dl_wait 30 "the targets set again" grep -q "event=tgt_rebuild targets=1" "$DL_W/bootsvc.log"
dl_wait 30 "s1's login after tgtd's restart" login_ok
pass "kill -9 of tgtd: restarted, s1's target set again from the store, its login works"

show=$(dl_nodectl node show s1)
[[ $show == *"target:     $PFX:s1 (tid 1)"* && $show == *"size:       16M apparent"* ]] || fail "node show: $show"
[[ $show != *"$PW"* && $show != *"$MP"* ]] || fail "a secret in node show"
m=$(dl_ns curl -sf "$DL_URL/metrics")
grep -qE '^diskless_disk_clone_seconds_count 1$' <<<"$m" &&
    grep -qE '^diskless_disk_clones_total\{method="reflink"\} 1$' <<<"$m" || fail "metrics: $(grep disk_clone <<<"$m")"
pass "node show has the disk without a secret; /metrics counts the clone ($(grep -o 'method=[a-z]* apparent=[0-9]* allocated=[0-9]* ms=[0-9]*' "$DL_W/bootsvc.log" | head -n 1))"
