#!/bin/bash
# Issue 14 point 3, the qcow2 method, against a real bootsvc (iscsi = on, disk_clone =
# qcow2): the node's disk is a qcow2 overlay the root parent keeps, exported raw by its
# qemu-storage-daemon through a FUSE file tgtd serves. Through a real initiator (libiscsi,
# from the namespace): the LUN is the golden's size and reads the golden's bytes; a write
# lands in the overlay, the golden is unchanged; kill -9 of qsd: restarted, exported
# again (over the golden, also once the overlay's header names /etc/shadow), the target
# set again, the login and the written bytes are back; a node removed loses its export
# and overlay; bootsvc's stop leaves no qsd and no FUSE mount; a qsd orphaned by a
# SIGKILLed parent is told to quit by the next bootsvc. No node boots here (the lead's
# tests do).
source "$(dirname "$0")/lib.sh"
dl_require ip curl iscsi-readcapacity16 tgtd tgtadm qemu-storage-daemon qemu-img qemu-io \
    python3 sfdisk mkfs.vfat mcopy sha256sum
dl_setup disk_qcow2 72
trap 'rc=$?; [[ -n ${DL_BOOTSVC_PID:-} ]] && dl_bootsvc_stop; (exit $rc); dl_cleanup' EXIT
PFX=iqn.2026-12.local.diskless
MAC=52:54:00:72:00:01

# the golden: a 64 MiB MBR disk with one FAT partition holding a file (as
# shared/lab/iscsi-sanboot.sh builds its disk), under an iscsi manifest
mkdir -p "$DL_W/store/tmp"
G=$DL_W/store/tmp/disk.img
truncate -s 64M "$G"
echo 'label: dos
start=2048, type=c' | sfdisk -q "$G" >/dev/null || fail "sfdisk"
mkfs.vfat --offset 2048 -n GOLDEN "$G" $(((64 * 1024 - 1024))) >/dev/null || fail "mkfs.vfat"
echo "the golden's own file" >"$DL_W/hello.txt"
mcopy -i "$G@@1M" "$DL_W/hello.txt" ::/HELLO.TXT || fail "mcopy"
GID=$(python3 - "$DL_W/store" <<'EOP'
import hashlib, json, os, sys
store = sys.argv[1]
data = open(store + "/tmp/disk.img", "rb").read()
m = {"format": 1, "name": "win", "kind": "iscsi", "built": "2026-12-05T00:00:00Z",
     "recipe_sha256": "0" * 64, "kernel_version": "", "kernel_banner": "", "cmdline": "",
     "up_probe": "tcp:3389",
     "files": {"disk": {"path": "disk.img", "sha256": hashlib.sha256(data).hexdigest(),
                        "size": len(data)}}}
text = json.dumps(m, sort_keys=True, separators=(",", ":"))
vid = hashlib.sha256(text.encode()).hexdigest()
os.rename(store + "/tmp", store + "/" + vid)
open(store + "/" + vid + "/manifest.json", "w").write(text)
print(vid)
EOP
) || fail "golden manifest"
G=$DL_W/store/$GID/disk.img
chmod -R a+rX,go-w "$DL_W/store"
GSUM=$(sha256sum <"$G")

dl_bootsvc_start --iscsi=on --disk_clone=qcow2
PARENT=$DL_BOOTSVC_PID
QSD=$(pgrep -P "$PARENT" -f qemu-storage-daemon) || fail "no qemu-storage-daemon under bootsvc's parent"
dl_nodectl image add "$DL_W/store/$GID" >/dev/null ||
    fail "image add: $(dl_nodectl image add "$DL_W/store/$GID" 2>&1)"
dl_nodectl node add s1 --mac $MAC --ip "$DL_SRV" --image win >/dev/null || fail "node add"
# the room learns qsd runs at its first status tick
dl_wait 20 "the first status tick" grep -q "event=tgt_generation" "$DL_W/bootsvc.log"
dl_nodectl node arm s1 >/dev/null || fail "node arm"
script() { dl_ns curl -sf "$DL_URL/ipxe/boot?mac=$MAC"; }
out=$(script) || fail "script"
[[ $out == *"disk being made"* ]] || fail "first script: $out"
dl_wait 20 "s1's disk" bash -c "$BUILD/nodectl --socket $DL_SOCK node show s1 | grep -qE 'state: *(ready|failed)'"
show=$(dl_nodectl node show s1)
[[ $show == *qcow2* && $show == *ready* ]] || fail "node show: $show $(grep -E 'disk_make|qsd' "$DL_W/bootsvc.log")"
grep -q "event=disk_make node=s1 state=ready method=qcow2 apparent=67108864" "$DL_W/bootsvc.log" ||
    fail "not a qcow2 disk: $(grep disk_make "$DL_W/bootsvc.log")"
OV=$DL_W/state/qsd/overlays/s1.qcow2
EXP=$DL_W/state/qsd/exports/s1.raw
[[ $(stat -c %u "$OV") == 0 ]] || fail "the overlay is not root's"
qemu-img info -U "$OV" | grep -q "backing file" && fail "the overlay's header names a backing file"
# bootsvc runs in the namespace's own mount namespace (ip netns exec): its mounts are
# seen through its /proc
grep -q " $EXP fuse" "/proc/$PARENT/mounts" || fail "no FUSE mount at $EXP"
out=$(script) || fail "script"
[[ $out == *"sanboot iscsi:$DL_SRV::3260:1:$PFX:s1"* ]] || fail "no sanboot: $out"
PW=$(sed -n 's/^set password //p' <<<"$out")
MU=$(sed -n 's/^set reverse-username //p' <<<"$out")
MP=$(sed -n 's/^set reverse-password //p' <<<"$out")
pass "s1's disk is a qcow2 overlay of root's (no backing name in its header), exported at $EXP; its script sanboots"

URL="iscsi://s1%$PW@$DL_SRV:3260/$PFX:s1/1"
iopts() { echo "driver=iscsi,transport=tcp,portal=$DL_SRV:3260,target=$PFX:s1,lun=1,user=s1,password=$PW,initiator-name=$PFX:s1.initiator"; }
# the target authenticates itself too (iscsi_mutual_chap): libiscsi takes its CHAP from
# the environment
cap() { dl_ns env LIBISCSI_CHAP_TARGET_USERNAME="$MU" LIBISCSI_CHAP_TARGET_PASSWORD="$MP" timeout 20 iscsi-readcapacity16 -i "$PFX:s1.initiator" "$URL" 2>&1; }
login_ok() { cap | grep -q '^Total size:'; }
dl_wait 20 "s1's login" login_ok
out=$(cap)
[[ $(sed -n 's/^Total size:\([0-9]*\)$/\1/p' <<<"$out") == 67108864 ]] || fail "readcapacity16: $out"
rd() { dl_ns timeout 30 qemu-io -r --image-opts "$(iopts)" -c "read -v $1 $2" 2>&1; }
hex() { python3 -c "
import sys; d = open(sys.argv[1], 'rb').read()[int(sys.argv[2]):int(sys.argv[2]) + int(sys.argv[3])]
print(d.hex())" "$@"; }
fromio() { grep -E '^[0-9a-f]{8}:' | cut -c12-58 | tr -d ' \n'; echo; }
s0=$(rd 0 512 | fromio) || fail "read through iSCSI: $(rd 0 512)"
[[ $s0 == "$(hex "$G" 0 512)" ]] || fail "sector 0 through iSCSI is not the golden's: $s0"
pass "through libiscsi: the LUN is the golden's 64 MiB, sector 0 (the MBR) is the golden's"

dl_ns timeout 30 qemu-io --image-opts "$(iopts)" -c "write -P 0x5a 32M 64k" >/dev/null 2>&1 ||
    fail "write through iSCSI: $(dl_ns timeout 30 qemu-io --image-opts "$(iopts)" -c "write -P 0x5a 32M 64k" 2>&1)"
[[ $(rd 32M 16 | fromio) == 5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a ]] || fail "the write does not read back"
[[ $(sha256sum <"$G") == "$GSUM" ]] || fail "the golden changed"
[[ $(qemu-img map -U --output=json -f qcow2 "$OV" | python3 -c "
import json, sys; print(sum(e['length'] for e in json.load(sys.stdin) if e['data'] and e['depth'] == 0))") -ge 65536 ]] ||
    fail "the write is not in the overlay: $(qemu-img map -U -f qcow2 "$OV")"
pass "a write through iSCSI lands in the overlay; the golden is unchanged"

kill -9 "$QSD"
# the header names /etc/shadow as the backing file now (root writes it while no qsd holds
# the overlay: the restart is a backoff of 1 s away); qsd must still read the golden,
# which the parent hands it as an explicit backing node
qemu-img rebase -u -f qcow2 -b /etc/shadow -F raw "$OV" || fail "rebase the overlay's header"
qemu-img info -U "$OV" | grep -q "backing file: /etc/shadow" || fail "the header names no /etc/shadow"
dl_wait 30 "qsd restarted" grep -q "event=qsd_start pid=[0-9]* generation=2" "$DL_W/bootsvc.log"
dl_wait 30 "s1 exported again" bash -c "grep -c 'event=qsd_export node=s1 ' '$DL_W/bootsvc.log' | grep -qx 2"
dl_wait 30 "s1's target set again" bash -c "grep -c 'event=tgtd_target_set tid=1 ' '$DL_W/bootsvc.log' | grep -qvx 1"
dl_wait 30 "s1's login after qsd's restart" login_ok
[[ $(rd 32M 16 | fromio) == 5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a ]] || fail "the written bytes are gone after qsd's restart"
[[ $(rd 0 512 | fromio) == "$(hex "$G" 0 512)" ]] || fail "sector 0 after qsd's restart (the header's /etc/shadow followed?)"
QSD2=$(pgrep -P "$PARENT" -f qemu-storage-daemon) || fail "no qsd after the restart"
pass "kill -9 of qsd: restarted ($QSD -> $QSD2), s1 exported again and its target set again; the login and the written bytes are back, and the golden's sector 0 although the header named /etc/shadow"

grep -q " $EXP fuse" "/proc/$PARENT/mounts" || fail "no FUSE mount at $EXP after the restart"

# a node removed: its target, export and overlay go on the next tick
dl_nodectl node remove s1 >/dev/null || fail "node remove: $(dl_nodectl node remove s1 2>&1)"
dl_wait 20 "s1's disk dropped" grep -q 'event=disk_drop node=s1 msg="target, clone and row removed"' "$DL_W/bootsvc.log"
[[ ! -e $OV ]] || fail "the overlay outlived its node"
grep -q " $EXP " "/proc/$PARENT/mounts" && fail "the export outlived its node"
[[ ! -e $EXP ]] || fail "the mountpoint outlived its node"
pass "s1 removed: its export ended, its mountpoint and overlay removed"
dl_bootsvc_stop
DL_BOOTSVC_PID=
kill -0 "$QSD2" 2>/dev/null && fail "qemu-storage-daemon $QSD2 outlived bootsvc"
[[ -z $(ls -A "$DL_W/state/qsd/exports") ]] || fail "mountpoints left: $(ls -A "$DL_W/state/qsd/exports")"
grep -q "$DL_W" /proc/mounts && fail "a mount left: $(grep "$DL_W" /proc/mounts)"
grep -q "event=qsd_stop pid=$QSD2 clean=yes" "$DL_W/bootsvc.log" || fail "qsd's stop: $(grep qsd_stop "$DL_W/bootsvc.log")"
pass "bootsvc's stop: qsd quit cleanly, no FUSE mount left"

# a parent SIGKILLed leaves its qsd (and tgtd) running: the next bootsvc finds the qsd on
# its socket, tells it to quit and removes its mountpoints before starting its own
dl_bootsvc_start --iscsi=on --disk_clone=qcow2
PARENT=$DL_BOOTSVC_PID
OLD=$(pgrep -P "$PARENT" -f qemu-storage-daemon) || fail "no qsd in the second run"
OLDT=$(pgrep -P "$PARENT" -x tgtd) || fail "no tgtd in the second run"
DL_PIDS+=("$OLD" "$OLDT")
touch "$DL_W/state/qsd/exports/left.raw"
kill -9 "$PARENT"
wait "$PARENT" 2>/dev/null || true
kill -0 "$OLD" || fail "the orphaned qsd is already gone: nothing to test"
dl_bootsvc_start --iscsi=on --disk_clone=qcow2
dl_wait 20 "the orphaned qsd gone" bash -c "! kill -0 $OLD 2>/dev/null"
grep -q "event=qsd_stale" "$DL_W/bootsvc.log" || fail "no qsd_stale in the log"
NEW=$(pgrep -P "$DL_BOOTSVC_PID" -f qemu-storage-daemon) || fail "no qsd after a stale one"
[[ ! -e $DL_W/state/qsd/exports/left.raw ]] || fail "a mountpoint of the earlier run is left"
pass "a qsd left by a SIGKILLed parent is told to quit at the next start ($OLD -> $NEW), its mountpoints removed"

