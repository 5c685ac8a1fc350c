#!/bin/bash
# Boot the Debian kernel in qemu (TCG) with the initrd imagebuild writes for images/tiny
# (build/init and the modules it needs), against a stand-in HTTP server
# (tests/integ/init_server.py, used until bootsvc lands), inside a private network
# namespace. Cases:
#   good  - the node reaches the image's /sbin/init: hostname from ip=, overlay applied,
#           server saw imaging and then up (sent by dl-report) with the receipt file content;
#           the receipt's initrd is the init's tree hash, equal to the manifest's initrd_tree
#   flip  - rootfs with one flipped byte: server gets failed/"checksum mismatch", no mount
#   cut   - the first rootfs transfer is cut half way: init resumes with Range and boots
# CASES="good cut" narrows the run. Exit 0 = every check passed.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
CASES=${CASES:-good flip cut}

fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "ok: $*"; }
[[ $(id -u) == 0 ]] || fail "needs root (network namespace, tap device)"
for t in qemu-system-x86_64 mksquashfs busybox cpio python3 ip zstd; do
	command -v $t >/dev/null || fail "missing tool: $t"
done
IB=${IMAGEBUILD:-build/imagebuild}
make -s build/init "$IB" >/dev/null || fail "make build/init $IB"
KROOT=$("$REPO/mk/fetch-kernel.sh")
KVER=$(ls "$KROOT/lib/modules" | head -1)

W=$(mktemp -d /tmp/dl-initboot.XXXX)
NS=dl-initboot-$$
QPID= HPID=
cleanup() {
	set +e
	[[ -n $QPID ]] && kill "$QPID" 2>/dev/null
	[[ -n $HPID ]] && kill "$HPID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	if [[ -n ${KEEP:-} ]]; then echo "kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT

SRV=10.99.0.1 PORT=8080 NODE_IP=10.99.0.50 MAC=52:54:00:12:34:01
TOKEN=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')

# --- initrd: the one imagebuild writes for images/tiny (same kernel tree: /init, the
# modules in load order), so the receipt can be held against that manifest's initrd_tree
# (docs/boot-protocol.md "The initrd tree hash"); dl.initrd_id stays the file's sha256
"$IB" build images/tiny --store "$W/store" --work "$W/ibwork" >"$W/imagebuild.out" \
    2>"$W/imagebuild.log" || { cat "$W/imagebuild.log"; fail "imagebuild tiny"; }
read -r _ IMG <<<"$(tail -n 1 "$W/imagebuild.out")"
cp "$IMG/initrd" "$W/initrd"
INITRD_SHA=$(sha256sum "$W/initrd" | cut -d' ' -f1)
INITRD_TREE=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['initrd_tree'])" \
    "$IMG/manifest.json")
[[ $INITRD_TREE =~ ^[0-9a-f]{64}$ ]] || fail "manifest has no initrd_tree"
[[ $(zstd -dc "$W/initrd" | tests/integ/initrd_tree.py --cpio -) == "$INITRD_TREE" ]] ||
    fail "manifest initrd_tree is not the tree hash of its initrd (tests/integ/initrd_tree.py)"

# --- the image: busybox root whose /sbin/init prints what the test checks, reports up
# through dl-report (as the busybox image recipe does) and powers off
R=$W/root
mkdir -p "$R"/{bin,sbin,proc,sys,dev,run,etc,usr/lib/diskless}
cp /bin/busybox "$R/bin/"
cp build/init "$R/usr/lib/diskless/dl-report"
head -c 3000000 /dev/urandom > "$R/ballast" # incompressible: makes the transfer long enough to cut
echo image-default > "$R/etc/hostname"
cat > "$R/sbin/init" <<'EOI'
#!/bin/busybox sh
/bin/busybox --install -s /bin
echo "IMAGE-UP hostname=$(hostname) etc_hostname=$(cat /etc/hostname) motd=$(cat /etc/motd) root=$(awk '$2=="/"{print $3}' /proc/mounts | tail -1) link=$(readlink /etc/overlay-link)"
echo "RECEIPT $(cat /run/diskless/receipt.json)"
echo "NODECONF-MODE $(stat -c %a /etc/diskless/node.conf)"
/usr/lib/diskless/dl-report up && echo DLREPORT-OK || echo DLREPORT-FAILED
poweroff -f
EOI
chmod +x "$R/sbin/init"
mksquashfs "$R" "$W/rootfs.squashfs" -comp zstd -noappend -quiet >/dev/null
ROOTFS_SHA=$(sha256sum "$W/rootfs.squashfs" | cut -d' ' -f1)
ROOTFS_SIZE=$(stat -c %s "$W/rootfs.squashfs")

# --- the node overlay bootsvc would render: hostname, motd, node.conf, a dir and a symlink
O=$W/overlay.d
mkdir -p "$O/etc/diskless" "$O/etc/extra.d"
echo n01 > "$O/etc/hostname"
echo overlay-was-here > "$O/etc/motd"
printf 'server=http://%s:%s\nnode=n01\ntoken=%s\nimage=%s\n' $SRV $PORT "$TOKEN" "$ROOTFS_SHA" \
    > "$O/etc/diskless/node.conf"
chmod 600 "$O/etc/diskless/node.conf"
ln -s motd "$O/etc/overlay-link"
(cd "$O" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) > "$W/www.overlay.cpio"

# --- what the server offers, one image id per case
www=$W/www
mkdir -p "$www/images"
cp "$W/www.overlay.cpio" "$www/overlay.cpio"
id_of() { echo -n "$1" | sha256sum | cut -d' ' -f1; }
for c in good flip cut; do
	mkdir -p "$www/images/$(id_of $c)"
	cp "$W/rootfs.squashfs" "$www/images/$(id_of $c)/rootfs"
done
# flip one byte in the middle of the flip case's copy
python3 - "$www/images/$(id_of flip)/rootfs" <<'EOP'
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[len(b) // 2] ^= 0x01
open(p, "wb").write(b)
EOP

# --- network: namespace, bridge, tap
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add br0 type bridge
ip -n "$NS" addr add $SRV/24 dev br0
ip -n "$NS" link set br0 up
ip -n "$NS" tuntap add tap0 mode tap
ip -n "$NS" link set tap0 master br0 up
ip netns exec "$NS" python3 tests/integ/init_server.py "$www" $SRV $PORT "$TOKEN" \
    >"$W/server.out" 2>&1 &
HPID=$!
for _ in $(seq 50); do
	ip netns exec "$NS" bash -c "exec 3<>/dev/tcp/$SRV/$PORT" 2>/dev/null && break
	sleep 0.1
done

# --- the boot credential as bootsvc hands it out (docs/boot-protocol.md "The credential"):
# a gzip-wrapped cpio with /dl-credential, 0400, loaded as a second initrd. Appended right
# after the image's initrd with no padding, as the EFI stub concatenates initrd= files: a
# compressed archive is unpacked at any offset (an uncompressed one only at a multiple of 4).
C=$W/cred.d
mkdir -p "$C"
printf 'token=%s\n' "$TOKEN" > "$C/dl-credential"
chmod 400 "$C/dl-credential"
(cd "$C" && echo dl-credential | cpio -o -H newc --quiet) | gzip -n -c > "$W/cred.cpio.gz"
cat "$W/initrd" "$W/cred.cpio.gz" > "$W/initrd+cred"
echo "initrd is $(stat -c %s "$W/initrd") bytes: the credential starts at offset mod 4 = $(( $(stat -c %s "$W/initrd") % 4 ))"

boot() { # case -> console log in $W/console.<case>
	local c=$1 id initrd=$W/initrd+cred
	id=$(id_of "$c")
	: > "$www/phases.jsonl"
	: > "$www/requests.log"
	[[ $c == cut ]] && touch "$www/images/$id/cut-once"
	local append="console=ttyS0 panic=-1 dl.server=http://$SRV:$PORT dl.node=n01"
	# cut: an older server's way, the token on the command line (the init's fallback)
	[[ $c == cut ]] && { append+=" dl.token=$TOKEN"; initrd=$W/initrd; }
	append+=" dl.image=$id dl.rootfs=$ROOTFS_SHA dl.rootfs_size=$ROOTFS_SIZE"
	append+=" dl.initrd_id=$INITRD_SHA dl.mac=$MAC ip=$NODE_IP::$SRV:255.255.255.0:n01::off"
	append+=" retain_initrd dl.future_key=1"
	local t0=$SECONDS
	ip netns exec "$NS" timeout 240 qemu-system-x86_64 -accel tcg -m 768 -nographic -no-reboot \
	    -kernel "$KROOT/boot/vmlinuz-$KVER" -initrd "$initrd" -append "$append" \
	    -netdev tap,id=n0,ifname=tap0,script=no,downscript=no \
	    -device virtio-net-pci,netdev=n0,mac=$MAC >"$W/console.$c" 2>&1 &
	QPID=$!
	wait $QPID || true
	QPID=
	tr -d '\r' < "$W/console.$c" > "$W/console.$c.txt"
	echo "--- case $c: qemu ran $((SECONDS - t0)) s; init's console lines:"
	grep -a 'diskless:\|IMAGE-UP\|RECEIPT\|DLREPORT\|NODECONF' "$W/console.$c.txt" | sed 's/^/    /'
	echo "--- requests:"; sed 's/^/    /' "$www/requests.log"
	cp "$www/phases.jsonl" "$W/phases.$c"
	cp "$www/requests.log" "$W/requests.$c"
}

con() { grep -aq -- "$2" "$W/console.$1.txt"; }
# phase <case> <python expression over the list P of phase bodies>
phase() { python3 - "$W/phases.$1" "$2" <<'EOP'
import json, sys
P = [json.loads(l)["body"] for l in open(sys.argv[1]) if l.strip()]
sys.exit(0 if eval(sys.argv[2]) else 1)
EOP
}

for c in $CASES; do
	boot "$c"
	case $c in
	good)
		con good "unknown command line key 'dl.future_key', ignoring" || fail "good: no warning for unknown dl.* key"
		pass "good: unknown dl.* key warned about and ignored"
		con good "rootfs verified: sha256 $ROOTFS_SHA" || fail "good: rootfs not verified"
		con good "IMAGE-UP hostname=n01 etc_hostname=n01 motd=overlay-was-here root=overlay link=motd" ||
		    fail "good: image did not come up with hostname + overlay on an overlay root"
		pass "good: reached the image's /sbin/init, hostname n01, overlay applied (file, symlink), root is overlay"
		con good "NODECONF-MODE 600" || fail "good: overlay file mode not kept"
		pass "good: overlay keeps file modes (node.conf 0600)"
		con good "RECEIPT {\"kernel\":\"Linux version $KVER" || fail "good: receipt kernel field"
		con good "initrd tree hash $INITRD_TREE" || fail "good: init's tree hash is not the manifest's initrd_tree $INITRD_TREE"
		con good "\"initrd\":\"$INITRD_TREE\",\"rootfs\":\"$ROOTFS_SHA\"}" ||
		    fail "good: receipt initrd/rootfs fields do not match the manifest's initrd_tree and the rootfs served"
		[[ $INITRD_TREE != "$INITRD_SHA" ]] || fail "good: tree hash equals the file hash?"
		pass "good: receipt has kernel banner, initrd tree hash measured by the init (= manifest initrd_tree, not dl.initrd_id), rootfs sha256"
		con good "credential taken from the boot server's archive" ||
		    fail "good: the init did not take the credential archive"
		grep -a "Kernel command line:" "$W/console.good.txt" | grep -q . ||
		    fail "good: no 'Kernel command line:' on the console to check"
		! grep -a "Kernel command line:" "$W/console.good.txt" | grep -q "$TOKEN" ||
		    fail "good: the token is on the kernel command line"
		! grep -a "Kernel command line:" "$W/console.good.txt" | grep -q "dl.token" ||
		    fail "good: dl.token on the kernel command line"
		! con good "$TOKEN" || fail "good: the token appears on the console"
		pass "good: credential from the second initrd, nowhere on the command line or console; receipt's tree hash unchanged by it"
		con good DLREPORT-OK || fail "good: dl-report up failed"
		phase good "[p['phase'] for p in P] == ['imaging', 'up']" || fail "good: phases were $(cat "$W/phases.good")"
		phase good "P[1]['receipt'] == {'kernel': P[1]['receipt']['kernel'], 'initrd': '$INITRD_TREE', 'rootfs': '$ROOTFS_SHA'} and P[1]['receipt']['kernel'].startswith('Linux version $KVER')" ||
		    fail "good: up receipt mismatch: $(cat "$W/phases.good")"
		pass "good: server saw imaging, then up with the receipt file's content"
		;;
	flip)
		con flip "FAILED verify rootfs: checksum mismatch" || fail "flip: no FAILED line on the console"
		! con flip "mount image" || fail "flip: init tried to mount"
		! con flip "IMAGE-UP" || fail "flip: image booted"
		! con flip "switching root" || fail "flip: switch_root reached"
		pass "flip: console says FAILED verify rootfs: checksum mismatch, nothing mounted"
		phase flip "any(p['phase'] == 'failed' and p['reason'] == 'checksum mismatch' for p in P) and 'up' not in [p['phase'] for p in P]" ||
		    fail "flip: phases were $(cat "$W/phases.flip")"
		con flip "giving up after 3 attempts" || fail "flip: no bounded give-up"
		con flip "reboot: Restarting system" || fail "flip: did not reboot"
		pass "flip: server got failed/checksum mismatch on each of 3 attempts, then the node rebooted"
		;;
	cut)
		grep -q "CUT after" "$W/requests.cut" || fail "cut: server never cut the transfer"
		grep -q "range=bytes=[1-9][0-9]*- status=206" "$W/requests.cut" || fail "cut: no Range resume"
		con cut "rootfs: resuming at byte" || fail "cut: init did not log a resume"
		con cut "rootfs verified: sha256 $ROOTFS_SHA" || fail "cut: resumed file does not verify"
		con cut "IMAGE-UP hostname=n01" || fail "cut: image did not come up"
		[[ $(grep -c "GET /images/.*/rootfs" "$W/requests.cut") == 2 ]] || fail "cut: expected exactly 2 rootfs requests"
		pass "cut: transfer cut at half, resumed with Range (206), verified and booted"
		con cut "using dl.token from the kernel command line" ||
		    fail "cut: no warning for a token on the command line"
		pass "cut: a token on the command line (older server) still works, with a warning"
		;;
	esac
done
echo "initrd: $(stat -c %s "$W/initrd") bytes zstd ($(zstd -dc "$W/initrd" | wc -c) unpacked), init binary $(stat -c %s build/init) bytes"
echo "all init_boot cases passed: $CASES"
