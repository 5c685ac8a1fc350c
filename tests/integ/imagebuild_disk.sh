#!/bin/bash
# iSCSI disk images (kind iscsi, docs/images.md "iSCSI disks"): build images/disk-debian
# into a temp store and check what a node will boot from it: the MBR (syslinux's boot
# code, the fixed disk id, FAT16 partition 1 bootable, Linux partition 2), the FAT files
# (kernel, initramfs holding iscsistart and the iSCSI modules, syslinux, systemd-boot),
# the ext4 root (sshd with its host keys, the boot-mark unit enabled), the manifest (kind
# iscsi, up_probe tcp:22, the disk's sha256 and size), a sparse disk. Then base=disk:
# a qcow2 made from that disk and the raw disk itself import to the same bytes; a qcow2
# with a backing file, a file that is not a disk and an empty one are refused naming why.
# Last, the disk boots once in qemu (TCG) as a plain virtio disk, no network: the
# initramfs finds no iBFT, mounts the local root, systemd starts the mark unit, which
# prints DISKLESS-DISK-UP on the console and leaves its line in the disk's ext4.
# No network namespace is needed (nothing listens). Slow: debootstrap (1-3 min here)
# plus one TCG boot. It builds into the shared store (/var/lib/diskless/images, or
# DISK_STORE=<dir>), under the lock tests/integ/lib.sh dl_image_disk_debian takes, so the
# iSCSI tests and this one build it once in a run (a changed recipe is built again).
set -euo pipefail
cd "$(dirname "$0")/../.."
IB=${IMAGEBUILD:-build/imagebuild}
[[ -x $IB ]] || { echo "FAIL: $IB missing (make all)"; exit 1; }
[[ $(id -u) == 0 ]] || { echo "FAIL: needs root (debootstrap)"; exit 1; }
for t in sfdisk mdir mcopy debugfs qemu-img qemu-system-x86_64 cpio zstd python3; do
  command -v $t >/dev/null || { echo "FAIL: $t missing (make deps)"; exit 1; }
done
T=$(mktemp -d /var/tmp/imagebuild_disk.XXXXXX) # /var/tmp: the disks are sparse GBs
QPID=
cleanup() {
  [[ -n $QPID ]] && kill "$QPID" 2>/dev/null && wait "$QPID" 2>/dev/null
  [[ -n ${KEEP:-} ]] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "ok: $*"; }
STORE=${DISK_STORE:-/var/lib/diskless/images}
export MTOOLS_SKIP_CHECK=1

# --- 1. build images/disk-debian
t0=$(date +%s)
mkdir -p "$STORE"
out=$(flock /run/lock/diskless-image-disk-debian.lock \
  "$IB" build images/disk-debian --store "$STORE" --work "$T/work" 2>"$T/err") ||
  { tail -20 "$T/err"; fail "disk-debian build failed"; }
echo "disk-debian built in $(( $(date +%s) - t0 ))s"
read -r id path <<<"$(tail -n1 <<<"$out")"
D=$path/disk.img
[[ -f $D ]] || fail "no disk.img in $path"
[[ $(sha256sum <"$path/manifest.json" | cut -d' ' -f1) == "$id" ]] || fail "id != sha256(manifest.json)"
python3 - "$path/manifest.json" "$(sha256sum <"$D" | cut -d' ' -f1)" "$(stat -c %s "$D")" <<'EOF' || fail "manifest"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["kind"] == "iscsi", m["kind"]
assert m.get("up_probe") == "tcp:22", m.get("up_probe")
assert list(m["files"]) == ["disk"], m["files"]
f = m["files"]["disk"]
assert f["path"] == "disk.img" and f["sha256"] == sys.argv[2] and f["size"] == int(sys.argv[3]), f
assert f["size"] == 1 << 30, f["size"]
EOF
pass "manifest: kind iscsi, up_probe tcp:22, files.disk matches disk.img ($(stat -c %s "$D") bytes)"
alloc=$(( $(stat -c %b "$D") * $(stat -c %B "$D") ))
(( alloc < $(stat -c %s "$D") )) || fail "disk.img is not sparse ($alloc bytes allocated)"
pass "disk.img is sparse: $((alloc >> 20)) MiB allocated of $(( $(stat -c %s "$D") >> 20 )) MiB"

# --- 2. the partition table and the BIOS boot code
sfdisk -d "$D" >"$T/pt"
grep -q '^label: dos' "$T/pt" && grep -q '^label-id: 0x646c6b31' "$T/pt" || { cat "$T/pt"; fail "not the MBR label"; }
grep -Eq 'disk.img1 : start= *2048, size= *262144, type=6, bootable' "$T/pt" || { cat "$T/pt"; fail "partition 1"; }
grep -Eq 'disk.img2 : start= *264192, size= *1832960, type=83' "$T/pt" || { cat "$T/pt"; fail "partition 2"; }
cmp -s -n 440 "$D" /usr/lib/syslinux/mbr/mbr.bin || fail "MBR code is not syslinux's mbr.bin"
pass "MBR: syslinux boot code, FAT16 p1 bootable at 1 MiB (128 MiB), Linux p2 to the end"

# --- 3. the FAT boot partition
mdir -a -b -/ -i "$D@@1M" ::/ >"$T/fat" # -a: ldlinux.sys is hidden
for f in ::/vmlinuz ::/initrd ::/syslinux.cfg ::/ldlinux.sys ::/ldlinux.c32 ::/EFI/BOOT/BOOTX64.EFI \
  ::/loader/loader.conf ::/loader/entries/disk.conf; do
  grep -qix "$f" "$T/fat" || { cat "$T/fat"; fail "FAT lacks $f"; }
done
mcopy -i "$D@@1M" ::/syslinux.cfg "$T/syslinux.cfg"
grep -q 'APPEND console=ttyS0 quiet' "$T/syslinux.cfg" || fail "syslinux.cfg: $(cat "$T/syslinux.cfg")"
mcopy -i "$D@@1M" ::/EFI/BOOT/BOOTX64.EFI "$T/bootx64.efi"
[[ $(head -c2 "$T/bootx64.efi") == MZ ]] || fail "BOOTX64.EFI is not a PE image"
mcopy -i "$D@@1M" ::/initrd "$T/initrd"
(cd "$T" && mkdir ird && cd ird && { zstd -dc ../initrd 2>/dev/null || gzip -dc ../initrd; } | cpio -idm --quiet)
for f in init bin/busybox sbin/iscsistart etc/diskless/modules; do
  [[ -f $T/ird/$f ]] || fail "initramfs lacks $f"
done
for m in iscsi_tcp iscsi_ibft sd_mod ext4 crc32c_generic; do
  grep -q "/$m.ko$" "$T/ird/etc/diskless/modules" || fail "initramfs lacks module $m"
done
grep -q 'iscsistart -b -P node.session.timeo.replacement_timeout=' "$T/ird/init" || fail "init: no replacement timeout"
# iscsistart runs there with only the initramfs's libraries
chroot "$T/ird" /sbin/iscsistart --version >"$T/iscsistart.v" 2>&1 || { cat "$T/iscsistart.v"; fail "iscsistart does not run in the initramfs"; }
pass "FAT: kernel, initramfs ($(wc -l <"$T/ird/etc/diskless/modules") modules, $(grep -o 'version.*' "$T/iscsistart.v" | head -1)), syslinux, systemd-boot"

# --- 4. the ext4 root, read in place (debugfs's offset= io option)
ROOT="$D?offset=$((264192 * 512))"
debugfs -R 'stats' "$ROOT" 2>/dev/null | grep -q 'Filesystem volume name:   dlroot' || fail "p2 is not the dlroot ext4"
for f in /usr/sbin/sshd /usr/sbin/iscsid /usr/local/sbin/diskless-disk-mark /etc/ssh/ssh_host_ed25519_key \
  /etc/systemd/system/diskless-disk-mark.service /etc/systemd/system/multi-user.target.wants/diskless-disk-mark.service; do
  debugfs -R "stat $f" "$ROOT" 2>/dev/null | grep -q '^Inode:' || fail "root lacks $f"
done
debugfs -R 'stat /var/lib/diskless-disk/boots' "$ROOT" 2>/dev/null | grep -q '^Inode:' && fail "a fresh disk already has boots"
[[ -z $(debugfs -R 'cat /etc/machine-id' "$ROOT" 2>/dev/null) ]] || fail "machine-id not emptied"
pass "ext4 root: sshd with host keys, iscsid, the mark unit enabled, empty machine-id"

# --- 5. base=disk: qcow2 and raw imports give the same bytes
mkdir -p "$T/w"
qemu-img convert -f raw -O qcow2 "$D" "$T/w/golden.qcow2"
printf 'name = win-test\nbase = disk\nsource = golden.qcow2\nup_probe = tcp:3389\n' >"$T/w/image.conf"
out=$("$IB" build "$T/w" --store "$T/store2" --work "$T/work" 2>"$T/err2") || { cat "$T/err2"; fail "qcow2 import failed"; }
read -r qid qpath <<<"$(tail -n1 <<<"$out")"
cmp -s "$D" "$qpath/disk.img" || fail "the qcow2 import is not the same disk"
python3 - "$qpath/manifest.json" <<'EOF' || fail "imported manifest"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["kind"] == "iscsi" and m["up_probe"] == "tcp:3389", m
assert m["kernel_version"] == "" and m["kernel_banner"] == "", m
EOF
[[ $(python3 -c "import json;print(json.load(open('$qpath/manifest.json'))['files']['disk']['sha256'])") == \
   $(python3 -c "import json;print(json.load(open('$path/manifest.json'))['files']['disk']['sha256'])") ]] ||
  fail "imported disk's sha256 differs"
qalloc=$(( $(stat -c %b "$qpath/disk.img") * 512 ))
(( qalloc < 1 << 30 )) || fail "qcow2 import lost the holes ($qalloc bytes)"
cp --sparse=always "$D" "$T/w/golden.img"
sed -i 's/golden.qcow2/golden.img/; s/win-test/raw-test/' "$T/w/image.conf"
out=$("$IB" build "$T/w" --store "$T/store2" --work "$T/work" 2>"$T/err3") || { cat "$T/err3"; fail "raw import failed"; }
read -r rid rpath <<<"$(tail -n1 <<<"$out")"
cmp -s "$D" "$rpath/disk.img" || fail "the raw import is not the same disk"
pass "base=disk: qcow2 ($((qalloc >> 20)) MiB allocated) and raw imports are byte-equal to disk-debian's disk"

refuse() { # <what> <source file> <message>
  sed -i "s|^source = .*|source = $2|" "$T/w/image.conf"
  set +e; "$IB" build "$T/w" --store "$T/store2" --work "$T/work" --force 2>"$T/err4"; local rc=$?; set -e
  [[ $rc == 1 ]] && grep -q "$3" "$T/err4" || { cat "$T/err4"; fail "$1: exit $rc, not '$3'"; }
  pass "refused $1: $(grep -o "$3.*" "$T/err4" | head -1 | cut -c1-100)"
}
qemu-img create -q -f qcow2 -b "$T/w/golden.qcow2" -F qcow2 "$T/w/overlay.qcow2"
refuse "a qcow2 with a backing file" overlay.qcow2 "a qcow2 with a backing file"
head -c 1M /dev/zero >"$T/w/zero.img"
refuse "a file that is not a disk" zero.img "not a disk: no MBR boot signature"
: >"$T/w/empty.img"
refuse "an empty disk" empty.img "the disk is empty (size 0)"

# --- 6. boot it once as a local virtio disk (no iBFT): the initramfs falls back to it
cp --sparse=always "$D" "$T/boot.img"
qemu-system-x86_64 -accel tcg -m 1024 -smp 1 -display none -no-reboot -nic none \
  -drive file="$T/boot.img",if=virtio,format=raw -serial file:"$T/console.log" &
QPID=$!
t0=$(date +%s)
for _ in $(seq 600); do
  grep -aq 'DISKLESS-DISK-UP' "$T/console.log" 2>/dev/null && break
  kill -0 $QPID 2>/dev/null || break
  sleep 1
done
grep -aq 'DISKLESS-DISK-UP initiator=none boots=1' "$T/console.log" ||
  { tail -40 "$T/console.log"; fail "no DISKLESS-DISK-UP on the console"; }
echo "booted to DISKLESS-DISK-UP in $(( $(date +%s) - t0 ))s (TCG)"
# sshd answers inside the guest? Not reachable without a network; the unit is what we check.
kill $QPID; wait $QPID 2>/dev/null || true; QPID=
# A hard power-off leaves the last writes in ext4's journal, which debugfs does not read:
# replay it on a copy of partition 2 first (e2fsck -E journal_only), as after any crash.
dd if="$T/boot.img" of="$T/p2.img" bs=1M skip=129 conv=sparse status=none
e2fsck -fy -E journal_only "$T/p2.img" >/dev/null 2>&1 || true # exit 1: journal replayed
boots=$(debugfs -R 'cat /var/lib/diskless-disk/boots' "$T/p2.img" 2>/dev/null)
[[ $(wc -l <<<"$boots") == 1 && $boots =~ ^[0-9a-f-]{36}\ none\ 20[0-9-]+T ]] || fail "boots file: '$boots'"
pass "the disk boots as a local virtio disk: DISKLESS-DISK-UP, its line on the disk ('$boots')"
echo "PASS imagebuild_disk: $id"
