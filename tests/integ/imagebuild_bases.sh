#!/bin/bash
# Issue #3 bases end to end: imagebuild builds images from a directory, a tarball and an
# OCI layout (two layers: a whiteout and an opaque directory), and the resulting squashfs
# holds exactly what the layers say. The same busybox root goes in each way.
set -euo pipefail
cd "$(dirname "$0")/../.."
IB=${BUILD:-$PWD/build}/imagebuild
[[ -x $IB ]] || { echo "FAIL: $IB missing (make all)"; exit 1; }
T=$(mktemp -d /tmp/dl-bases.XXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "ok: $*"; }

R=$T/root
mkdir -p "$R"/{bin,sbin,etc,opt/olddir,proc,sys,dev,run,tmp}
cp /bin/busybox "$R/bin/"
ln -s busybox "$R/bin/sh"
printf '#!/bin/sh\necho BASES-UP\n' >"$R/sbin/init"
chmod 755 "$R/sbin/init"
echo gone >"$R/etc/removed-file"
echo old >"$R/opt/olddir/x"

# a kernel tree with few modules (lib_kernel.sh): the bases are tested, not the kernel
source tests/integ/lib_kernel.sh
K=$T/kroot
dl_kernel_slim "$K" || fail "kernel tree"
kver=$KVER
recipe() { # name base source
	mkdir -p "$T/$1"
	printf 'name = %s\nbase = %s\nsource = %s\nkernel = %s\n' "$1" "$2" "$3" "$K" >"$T/$1/image.conf"
}
build() { # name -> prints the version dir
	"$IB" build "$T/$1" --store "$T/store" --work "$T" 2>"$T/$1.err" | tail -n 1 | awk '{print $2}'
}
# (a listing file, not a pipe: grep -q would end unsquashfs early, and pipefail fails it)
has() {
	[[ -f $1.list ]] || unsquashfs -l "$1/rootfs.squashfs" >"$1.list"
	grep -q "squashfs-root/$2\$" "$1.list"
}

# --- directory
recipe dir directory "$R"
v=$(build dir) || { cat "$T/dir.err"; fail "directory build"; }
has "$v" sbin/init && has "$v" bin/busybox && has "$v" usr/lib/diskless/dl-report ||
    fail "directory image lacks its files"
# the kernel tree's modules, copied into a rootfs that has none
has "$v" "lib/modules/$kver/modules.dep" && has "$v" "lib/modules/$kver/kernel/fs/squashfs/squashfs.ko" ||
    fail "directory image lacks the kernel tree's modules"
# imagebuild lays its additions over the source (an overlay mount), never into it
[[ ! -e $R/usr/lib/diskless/dl-report ]] || fail "the build wrote into the source directory"
grep -qs " $T/.*rootfs overlay " /proc/mounts && fail "the build left its overlay mounted"
pass "directory base: $(basename "$v" | cut -c1-12); the source is untouched, nothing left mounted"

# --- tarball
tar -C "$R" -czf "$T/root.tar.gz" .
recipe tar tarball "$T/root.tar.gz"
v=$(build tar) || { cat "$T/tar.err"; fail "tarball build"; }
has "$v" sbin/init && has "$v" etc/removed-file || fail "tarball image lacks its files"
pass "tarball base: $(basename "$v" | cut -c1-12)"

# --- OCI layout: layer 1 = the root; layer 2 deletes etc/removed-file (whiteout) and
# replaces opt/olddir's contents (opaque directory) with one new file
python3 - "$R" "$T/oci" <<'EOP'
import hashlib, io, json, os, sys, tarfile
root, out = sys.argv[1], sys.argv[2]
os.makedirs(out + "/blobs/sha256")
def blob(data):
    h = hashlib.sha256(data).hexdigest()
    open("%s/blobs/sha256/%s" % (out, h), "wb").write(data)
    return {"digest": "sha256:" + h, "size": len(data)}
def layer(add):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        add(t)
    return buf.getvalue()
def l1(t):
    t.add(root, arcname=".")
def l2(t):
    for name, data in (("etc/.wh.removed-file", b""), ("opt/olddir/.wh..wh..opq", b""),
                       ("opt/olddir/new", b"new\n")):
        ti = tarfile.TarInfo(name); ti.size = len(data); ti.mode = 0o644
        t.addfile(ti, io.BytesIO(data))
layers = [blob(layer(l1)), blob(layer(l2))]
for d in layers:
    d["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip"
cfg = blob(json.dumps({"architecture": "amd64", "os": "linux",
    "rootfs": {"type": "layers", "diff_ids": []}}).encode())
cfg["mediaType"] = "application/vnd.oci.image.config.v1+json"
man = blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": cfg, "layers": layers}).encode())
man["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
json.dump({"schemaVersion": 2, "manifests": [man]}, open(out + "/index.json", "w"))
json.dump({"imageLayoutVersion": "1.0.0"}, open(out + "/oci-layout", "w"))
EOP
recipe oci oci "$T/oci"
v=$(build oci) || { cat "$T/oci.err"; fail "oci build"; }
has "$v" sbin/init || fail "oci image lacks sbin/init"
has "$v" etc/removed-file && fail "whiteout ignored: etc/removed-file is in the image"
has "$v" opt/olddir/x && fail "opaque directory ignored: opt/olddir/x is in the image"
has "$v" opt/olddir/new || fail "layer 2's opt/olddir/new is missing"
pass "OCI layout base: whiteout and opaque directory applied ($(basename "$v" | cut -c1-12))"

# --- SIGTERM during a step: the tool it runs (in its own process group) is ended too,
# the overlay is unmounted, the work dir removed, and imagebuild exits 128+15
mkdir -p "$T/big/opt"
cp -a "$R/." "$T/big/"
head -c 300M /dev/urandom >"$T/big/opt/noise" # incompressible: mksquashfs takes seconds
recipe slow directory "$T/big"
"$IB" build "$T/slow" --store "$T/store" --work "$T/w" 2>"$T/slow.err" >/dev/null &
ib=$!
for _ in $(seq 300); do grep -q 'squashfs  mksquashfs' "$T/slow.err" && break; sleep 0.1; done
grep -q 'squashfs  mksquashfs' "$T/slow.err" || { kill "$ib"; fail "never reached the squashfs step"; }
sleep 0.5
kill -TERM "$ib"
set +e; wait "$ib"; rc=$?; set -e
[[ $rc == 143 ]] || { cat "$T/slow.err"; fail "imagebuild exit $rc after SIGTERM, want 143"; }
grep -q 'interrupted' "$T/slow.err" || { cat "$T/slow.err"; fail "no 'interrupted' message"; }
pgrep -f "mksquashfs $T/w/" >/dev/null && fail "mksquashfs still runs after imagebuild ended"
grep -qs " $T/w/" /proc/mounts && fail "the overlay is still mounted"
[[ -z $(ls -A "$T/w") ]] || fail "work dir left behind: $(ls "$T/w")"
pass "SIGTERM mid-squashfs: mksquashfs ended, nothing mounted, work dir removed, exit 143"
echo PASS
