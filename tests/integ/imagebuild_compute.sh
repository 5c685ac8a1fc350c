#!/bin/bash
# Build images/compute (debootstrap bookworm minbase + systemd + openssh-server + the
# image's own kernel) into a temp store and check what a node needs from it; then a
# debootstrap recipe with a package the archive lacks must fail naming the package.
# Slow (debootstrap + squashfs: 2-12 minutes on 2 busy cores), hence apart from
# imagebuild_tiny. bookworm is merged-/usr, so modules live in usr/lib/modules.
set -euo pipefail
cd "$(dirname "$0")/../.."
IB=${IMAGEBUILD:-build/imagebuild}
[[ -x $IB && -x build/init ]] || { echo "FAIL: build/imagebuild or build/init missing (make all)"; exit 1; }
[[ $(id -u) == 0 ]] || { echo "FAIL: needs root (debootstrap)"; exit 1; }
T=$(mktemp -d /var/tmp/imagebuild_compute.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

out=$("$IB" build images/compute --store "$T/store" --work "$T/work" 2>"$T/err") ||
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
unsquashfs -d "$T/sq" "$path/rootfs.squashfs" etc/machine-id sbin/init >/dev/null
[[ ! -s $T/sq/etc/machine-id ]] || fail "machine-id not emptied"
[[ $(readlink "$T/sq/sbin/init") == *systemd* ]] || fail "/sbin/init is not systemd"
cmp -s "$path/vmlinuz" <(unsquashfs -cat "$path/rootfs.squashfs" "boot/vmlinuz-$kver") ||
  fail "vmlinuz is not the image's own kernel"

mkdir -p "$T/bad" && printf 'name = bad\nbase = debootstrap\npackages = systemd no-such-package-diskless\n' >"$T/bad/image.conf"
set +e; "$IB" build "$T/bad" --store "$T/store" --work "$T/work" 2>"$T/err2"; rc=$?; set -e
[[ $rc == 1 ]] && grep -q 'step rootfs failed' "$T/err2" && grep -q 'no-such-package-diskless' "$T/err2" ||
  { cat "$T/err2"; fail "missing package: exit $rc, not named"; }
echo "PASS imagebuild_compute: $id ($(du -sh "$path" | cut -f1))"
