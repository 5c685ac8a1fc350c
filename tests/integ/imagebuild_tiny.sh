#!/bin/bash
# Build images/tiny into a temp store and check the contract of docs/boot-protocol.md:
# version dir named by the content id (= sha256 of manifest.json), the fixed files with
# the sizes and hashes the manifest lists, an initrd holding /init and its module list,
# initrd_tree matching the initrd's contents; an unchanged recipe is not rebuilt,
# --force rebuilds into a second version; a recipe with an unknown key and one with a
# missing package fail naming it.
set -euo pipefail
cd "$(dirname "$0")/../.."
IB=${IMAGEBUILD:-build/imagebuild}
[[ -x $IB ]] || { echo "FAIL: $IB missing (make all)"; exit 1; }
[[ -x build/init ]] || { echo "FAIL: build/init missing (make build/init)"; exit 1; }
[[ $(id -u) == 0 ]] || { echo "FAIL: needs root (device nodes and owners in the rootfs)"; exit 1; }
T=$(mktemp -d /tmp/imagebuild_tiny.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# 1. build
out=$("$IB" build images/tiny --store "$T/store" --work "$T/work" 2>"$T/err1") ||
  { cat "$T/err1"; fail "build of tiny failed"; }
read -r id path <<<"$(tail -n1 <<<"$out")"
[[ $id =~ ^[0-9a-f]{64}$ ]] || fail "last stdout line has no id: '$out'"
[[ $path == "$T/store/$id" && -d $path ]] || fail "store path '$path' missing"
grep -q '\[9/9\] publish' "$T/err1" || fail "no progress lines"
[[ $(sha256sum <"$path/manifest.json" | cut -d' ' -f1) == "$id" ]] || fail "id != sha256(manifest.json)"
for role in kernel:vmlinuz initrd:initrd rootfs:rootfs.squashfs; do
  r=${role%%:*} f=${role#*:}
  want=$(python3 -c "import json,sys;m=json.load(open('$path/manifest.json'));print(m['files']['$r']['sha256'],m['files']['$r']['size'],m['files']['$r']['path'])")
  got="$(sha256sum <"$path/$f" | cut -d' ' -f1) $(stat -c %s "$path/$f") $f"
  [[ $want == "$got" ]] || fail "$r: manifest says '$want', file is '$got'"
done
python3 - "$path/manifest.json" <<'PY' || fail "manifest fields"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["format"] == 1 and m["name"] == "tiny" and m["kind"] == "linux", m
assert len(m["recipe_sha256"]) == 64 and m["kernel_version"] and m["kernel_banner"].startswith(m["kernel_version"])
assert "console=ttyS0" in m["cmdline"]
PY
ls -a "$T/store" | grep -q '^\.tmp-' && fail "a .tmp- dir was left in the store"
# initrd: zstd newc with /init, dev/console, module list whose files exist, deps first
mkdir "$T/ird" && (cd "$T/ird" && zstd -dc "$path/initrd" | cpio -id --quiet 2>/dev/null) ||
  fail "initrd is not a zstd cpio"
cmp -s "$T/ird/init" build/init || fail "/init is not build/init"
[[ -c $T/ird/dev/console ]] || fail "no dev/console"
[[ -s $T/ird/etc/diskless/modules ]] || fail "no etc/diskless/modules"
while read -r m; do [[ -f $T/ird$m ]] || fail "listed module $m missing"; done <"$T/ird/etc/diskless/modules"
grep -n virtio_ring "$T/ird/etc/diskless/modules" | cut -d: -f1 >"$T/a"
grep -n 'virtio_net.ko' "$T/ird/etc/diskless/modules" | cut -d: -f1 >"$T/b"
(($(cat "$T/a") < $(cat "$T/b"))) || fail "virtio_ring not before virtio_net"
for m in loop squashfs overlay; do grep -q "/$m.ko$" "$T/ird/etc/diskless/modules" || fail "no $m"; done
# initrd_tree: the manifest's tree hash is the one an independent implementation
# (tests/integ/initrd_tree.py) computes over the archive and over the unpacked tree
tree=$(python3 -c "import json;print(json.load(open('$path/manifest.json'))['initrd_tree'])")
[[ $tree =~ ^[0-9a-f]{64}$ ]] || fail "manifest initrd_tree '$tree' is not 64 hex"
[[ $(zstd -dc "$path/initrd" | tests/integ/initrd_tree.py --cpio -) == "$tree" ]] ||
  fail "initrd_tree $tree is not the tree hash of the initrd archive"
[[ $(tests/integ/initrd_tree.py --dir "$T/ird") == "$tree" ]] ||
  fail "initrd_tree $tree is not the tree hash of the unpacked initrd"
# rootfs: reporter, init script, overlay file
unsquashfs -d "$T/sq" "$path/rootfs.squashfs" >/dev/null || fail "unsquashfs"
cmp -s "$T/sq/usr/lib/diskless/dl-report" build/init || fail "dl-report is not build/init"
grep -q 'dl-report up' "$T/sq/sbin/init" || fail "/sbin/init does not report up"
[[ -f $T/sq/etc/motd ]] || fail "overlay not applied"

# 2. unchanged recipe: not rebuilt, same id
out2=$("$IB" build images/tiny --store "$T/store" --work "$T/work" 2>"$T/err2") || fail "second build failed"
[[ $(tail -n1 <<<"$out2" | cut -d' ' -f1) == "$id" ]] || fail "unchanged recipe gave another id"
grep -q 'up to date' "$T/err2" || fail "no 'up to date' message"
[[ $(ls "$T/store" | wc -l) == 1 ]] || fail "unchanged recipe made a new version"

# 3. --force rebuilds; the old version stays
sleep 1 # "built" has one-second resolution: a new version must differ
out3=$("$IB" build images/tiny --store "$T/store" --work "$T/work" --force 2>"$T/err3") || fail "--force failed"
id3=$(tail -n1 <<<"$out3" | cut -d' ' -f1)
[[ $id3 != "$id" && -d $T/store/$id && -d $T/store/$id3 ]] || fail "--force did not add a second version"
# --force hashes the recipe on a thread while it builds: the same recipe, the same hash
rh() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["recipe_sha256"])' "$T/store/$1/manifest.json"; }
[[ $(rh "$id3") == "$(rh "$id")" ]] || fail "--force recorded recipe $(rh "$id3"), the first build $(rh "$id")"

# 4. unknown key: exit 2, message names file, line and key
mkdir -p "$T/bad1" && printf 'name = bad1\nbase = busybox\nflavour = vanilla\n' >"$T/bad1/image.conf"
set +e; "$IB" build "$T/bad1" --store "$T/store" --work "$T/work" 2>"$T/err4"; rc=$?; set -e
[[ $rc == 2 ]] || fail "unknown key: exit $rc, want 2"
grep -q "image.conf:3: unknown key 'flavour'" "$T/err4" || { cat "$T/err4"; fail "unknown key not named"; }

# 5. missing package: exit 1, message names the step and the package
mkdir -p "$T/bad2" && printf 'name = bad2\nbase = busybox\npackages = no-such-package-diskless\n' >"$T/bad2/image.conf"
set +e; "$IB" build "$T/bad2" --store "$T/store" --work "$T/work" 2>"$T/err5"; rc=$?; set -e
[[ $rc == 1 ]] || { cat "$T/err5"; fail "missing package: exit $rc, want 1"; }
grep -q 'step rootfs failed' "$T/err5" && grep -q 'no-such-package-diskless' "$T/err5" ||
  { cat "$T/err5"; fail "missing package not named"; }

# 6. missing init binary: exit 3 naming it
set +e; "$IB" build images/tiny --store "$T/store2" --work "$T/work" --init "$T/nope" 2>"$T/err6"; rc=$?; set -e
[[ $rc == 3 ]] && grep -q "make build/init" "$T/err6" || { cat "$T/err6"; fail "missing init: exit $rc"; }
echo "PASS imagebuild_tiny: $id"
