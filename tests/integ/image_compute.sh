#!/bin/bash
# Build images/compute (debootstrap bookworm minbase + systemd + openssh-server + the
# image's own kernel), check what a node needs from it, boot a qemu node into it through
# bootsvc and dnsmasq (up with a matching receipt, its hostname on the console); then a
# debootstrap recipe with a package the archive lacks must fail naming the package.
# Slow (debootstrap + squashfs: 2-12 minutes on 2 busy cores), hence apart from
# imagebuild_tiny. bookworm is merged-/usr, so modules live in usr/lib/modules.
# The image goes to the same store `make demo` uses, so a run after it needs no rebuild.
source "$(dirname "$0")/lib.sh"
dl_require qemu-system-x86_64 python3 ip unsquashfs debootstrap
IB=$BUILD/imagebuild
dl_setup compute 75
T=$DL_W
STORE=${STORE:-/var/lib/diskless}
cd "$REPO"

out=$("$IB" build images/compute --store "$STORE/images" --work "$T/work" 2>"$T/err") ||
  { tail -20 "$T/err"; fail "compute build failed"; }
read -r id path <<<"$(tail -n1 <<<"$out")"
[[ $(sha256sum <"$path/manifest.json" | cut -d' ' -f1) == "$id" ]] || fail "id != sha256(manifest.json)"
kver=$(python3 -c "import json;print(json.load(open('$path/manifest.json'))['kernel_version'])")
unsquashfs -l "$path/rootfs.squashfs" >"$T/list"
for f in usr/lib/diskless/dl-report etc/systemd/system/diskless-up.service \
  etc/systemd/system/multi-user.target.wants/diskless-up.service usr/sbin/sshd \
  "usr/lib/modules/$kver/modules.dep" "boot/vmlinuz-$kver" etc/ssh/sshd_config.d/diskless.conf; do
  grep -q "squashfs-root/$f\$" "$T/list" || fail "rootfs lacks $f"
done
grep -q 'squashfs-root/var/cache/apt/archives/.*\.deb$' "$T/list" && fail "downloaded .debs left in the image"
grep -q "squashfs-root/boot/initrd.img" "$T/list" && fail "Debian's initramfs left in the image"
unsquashfs -d "$T/sq" "$path/rootfs.squashfs" etc/machine-id usr/sbin/init >/dev/null
[[ ! -s $T/sq/etc/machine-id ]] || fail "machine-id not emptied"
[[ $(readlink "$T/sq/usr/sbin/init") == *systemd* ]] || fail "/sbin/init is not systemd" # merged /usr
cmp -s "$path/vmlinuz" <(unsquashfs -cat "$path/rootfs.squashfs" "boot/vmlinuz-$kver") ||
  fail "vmlinuz is not the image's own kernel"

pass "compute image $id has what a node needs"

# --- boot it: BIOS node through dnsmasq, iPXE, bootsvc, our init, systemd, dl-report
dl_bootsvc_start
dl_nodectl image add "$path" >/dev/null || fail "image add"
dl_nodectl node add c01 --mac 52:54:00:75:00:01 --image compute >/dev/null || fail "node add"
dl_qemu c01 bios 52:54:00:75:00:01 2048
dl_wait 540 "c01 up on compute" dl_phase_is c01 up
booted=$(dl_nodectl --json node list c01 | python3 -c 'import json,sys; print(json.load(sys.stdin)["nodes"][0]["booted_image"])')
[[ $booted == "$id" ]] || fail "c01 booted '$booted', expected $id"
dl_wait 60 "c01 login prompt" dl_console_has c01 'c01 login:'
pass "c01 up on compute with a matching receipt; console shows 'c01 login:'"

mkdir -p "$T/bad" && printf 'name = bad\nbase = debootstrap\npackages = systemd no-such-package-diskless\n' >"$T/bad/image.conf"
set +e; "$IB" build "$T/bad" --store "$T/store" --work "$T/work" 2>"$T/err2"; rc=$?; set -e
[[ $rc == 1 ]] && grep -q 'step rootfs failed' "$T/err2" && grep -q 'no-such-package-diskless' "$T/err2" ||
  { cat "$T/err2"; fail "missing package: exit $rc, not named"; }
echo "PASS image_compute: $id ($(du -sh "$path" | cut -f1))"
