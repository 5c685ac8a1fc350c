#!/bin/bash
# Issue 15 point 4: image versions by content id across servers. Two bootsvc (A and B) in
# one namespace, each with its own SQLite store, state dir and image dir; a version is
# registered on both but its files are on A only (what a shared store looks like from B).
#   on demand - a node's script request on B gets the hold script and starts B's sync
#   cut       - the rootfs transfer is cut half way (a relay between B and A) and A is
#               killed (-9): nothing is served at the final path on B (404, never partial
#               bytes), the kept half stays in .partial, image list says syncing
#   resume    - A back: nodectl image sync fetches only what was missing (the log says
#               how much was kept and fetched again), the files (templates too) are
#               byte-equal to A's
#   tamper    - A serves a version whose rootfs has one flipped byte: B refuses it naming
#               the hash, and serves nothing of it
source "$(dirname "$0")/lib.sh"
dl_require curl python3 ip cmp
dl_setup isync 105
getent passwd diskless >/dev/null || fail "no user diskless (make deps creates it)"

A_URL=http://$DL_SRV:8081
B_URL=http://$DL_SRV:8082
RELAY=http://$DL_SRV:8090
mkdir -p "$DL_W/a-images" "$DL_W/b-images" "$DL_W/b-copy"
# B's unprivileged process writes its image dir (the sync puts versions there).
chown diskless "$DL_W/b-images"

# tiny with two per-node templates, so the sync has a templates/ tree to carry too
cp -a "$REPO/images/tiny" "$DL_W/tiny-t"
mkdir -p "$DL_W/tiny-t/templates/etc/diskless-test"
echo "synced across servers" >"$DL_W/tiny-t/templates/etc/motd"
head -c 3000 /dev/urandom | base64 >"$DL_W/tiny-t/templates/etc/diskless-test/blob"
build() { # build it into A's store; prints "<id> <dir>"
	"$BUILD/imagebuild" build "$DL_W/tiny-t" --store "$DL_W/a-images" --work "$DL_W" \
	    "$@" 2>>"$DL_W/imagebuild.log" | tail -n 1
}
read -r ID IMG <<<"$(build)"
[[ -f $IMG/manifest.json ]] || fail "imagebuild tiny"

# start_bootsvc NAME PORT [extra config lines]: bootsvc NAME in the namespace, no DHCP.
start_bootsvc() {
	local name=$1 port=$2
	shift 2
	{
		echo "state_dir = $DL_W/$name-state"
		echo "template_dir = $REPO/ipxe-scripts"
		echo "control_socket = $DL_W/$name.sock"
		echo "http_listen = $DL_SRV:$port"
		echo "boot_url = http://$DL_SRV:$port"
		echo "dhcp_mode = off"
		echo "idle_poweroff = off"
		for l in "$@"; do echo "$l"; done
	} >"$DL_W/$name.conf"
	ip netns exec "$DL_NS" "$BUILD/bootsvc" -c "$DL_W/$name.conf" >>"$DL_W/bootsvc-$name.log" 2>&1 &
	eval "PID_$name=$!"
	DL_PIDS+=("$!")
	dl_wait 10 "bootsvc $name answers" "$BUILD/nodectl" --socket "$DL_W/$name.sock" ping
}
a() { "$BUILD/nodectl" --socket "$DL_W/A.sock" "$@"; }
b() { "$BUILD/nodectl" --socket "$DL_W/B.sock" "$@"; }
# status URL: the HTTP status of a GET, from inside the namespace
status() { dl_ns curl -s -o /dev/null -w '%{http_code}' "$1"; }
here() { b --json image show "tiny@$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["image"]["here"])'; }

# register_on_b ID: B's record of a version whose files B does not have: registered from a
# copy in B's image dir, which is then removed (a shared store's record names a directory
# that exists on the server that added it).
register_on_b() {
	cp -a "$DL_W/a-images/$1" "$DL_W/b-images/$1"
	b image add "$DL_W/b-images/$1" >/dev/null || fail "image add on B"
	rm -rf "${DL_W:?}/b-images/$1"
}

start_bootsvc A 8081
# B's peers in order: one that answers 404 (B itself: it lacks the version), one that
# refuses (nothing listens), then the relay in front of A.
DEAD=http://$DL_SRV:8099
start_bootsvc B 8082 "peers = $B_URL, $DEAD, $RELAY"
# The relay cuts the first rootfs GET without Range half way (tests/integ/cutproxy.py).
ip netns exec "$DL_NS" python3 "$REPO/tests/integ/cutproxy.py" "$DL_SRV" 8090 "$DL_SRV" 8081 \
    "$DL_W/cut.marker" >"$DL_W/cutproxy.log" 2>&1 &
DL_PIDS+=("$!")
a image add "$IMG" >/dev/null || fail "image add on A"
register_on_b "$ID"
[[ $(here "$ID") == missing ]] || fail "B says '$(here "$ID")' for a version it lacks, want missing"
[[ $(status "$B_URL/images/$ID/rootfs") == 404 ]] || fail "B serves a version it lacks"
[[ $(status "$A_URL/images/$ID/manifest") == 200 ]] || fail "A does not serve the manifest"
[[ $(status "$A_URL/images/$ID/templates/etc/motd") == 200 ]] || fail "A does not serve a template"
[[ $(dl_ns curl -s --path-as-is -o /dev/null -w '%{http_code}' \
    "$A_URL/images/$ID/templates/../manifest.json") == 404 ]] ||
    fail "a template path climbs out of templates/"
dl_ns curl -sf "$A_URL/images/$ID/manifest" | sha256sum | grep -q "^$ID " ||
    fail "the manifest A serves does not hash to the id"
pass "B lacks the version: 404, 'missing'; A serves its manifest (sha256 = the id) and templates"

# --- on demand + cut: a node's script request on B starts the sync, which the relay cuts
b node add n1 --mac 52:54:00:69:00:01 --image tiny >/dev/null || fail "node add on B"
script=$(dl_ns curl -sf "$B_URL/ipxe/boot?mac=52:54:00:69:00:01") || fail "no script from B"
[[ $script == *"being fetched from a peer"* ]] || fail "B did not hold the node: $script"
dl_wait 60 "the relay cut the rootfs" test -s "$DL_W/cut.marker"
# The peer killed mid-transfer: its retry (2 s later) finds nobody.
kill -9 "$PID_A"
wait "$PID_A" 2>/dev/null || true
read -r _ _ cut_at _ total < "$DL_W/cut.marker"
grep -q 'event=image_sync_start.*by="node n1"' "$DL_W/bootsvc-B.log" ||
    fail "B's sync was not started by the node's request"
grep -q "event=sync_peer_failed image=${ID:0:12} peer=$B_URL err=ENOENT msg=\"manifest: answered 404" \
    "$DL_W/bootsvc-B.log" || fail "the peer that answered 404 was not logged with the reason"
grep -q "event=sync_peer_failed image=${ID:0:12} peer=$DEAD err=ECONNREFUSED" \
    "$DL_W/bootsvc-B.log" || fail "the peer that refused was not logged with the reason"
pass "a node's script on B is the hold script and starts B's sync; peers tried in order (404, refused, the relay); cut at $cut_at of $total"

two_failed_rounds() { (($(grep -c 'event=image_sync_failed' "$DL_W/bootsvc-B.log") >= 2)); }
dl_wait 60 "a retry of B's sync failed with A dead" two_failed_rounds
partial=$DL_W/b-images/.partial/$ID/rootfs.squashfs
[[ -f $partial ]] || fail "B kept nothing of the cut rootfs"
kept=$(stat -c %s "$partial")
((kept == cut_at)) || fail "B kept $kept bytes of the rootfs, the relay sent $cut_at"
[[ ! -e $DL_W/b-images/$ID ]] || fail "a partial copy is at the final path"
for f in rootfs kernel initrd manifest; do
	code=$(status "$B_URL/images/$ID/$f")
	[[ $code == 404 ]] || fail "GET /images/<id>/$f on B during the sync: $code, want 404"
done
[[ $(here "$ID") == syncing ]] || fail "B says '$(here "$ID")' during the sync, want syncing"
script=$(dl_ns curl -sf "$B_URL/ipxe/boot?mac=52:54:00:69:00:01") || fail "no script from B"
[[ $script == *"being fetched from a peer"* ]] || fail "B handed out a script of a version it lacks"
if out=$(b image sync "tiny@$ID" 2>&1); then fail "image sync with A dead succeeded: $out"; fi
[[ $out == *"peer $RELAY"* ]] || fail "the failure does not name the peer: $out"
echo "  image sync with A dead: $out"
grep 'event=sync_peer_failed' "$DL_W/bootsvc-B.log" | tail -n 2 | sed 's/^/  /'
pass "A dead: nothing at the final path, every file 404, $kept bytes kept in .partial, 'syncing', the node held"

# --- resume: A back, B's sync fetches only the missing half
start_bootsvc A 8081
out=$(b image sync "tiny@$ID") || fail "image sync after A is back: $out"
echo "  $out"
# The background retry may have got there first (its backoff ran out as A came back):
# then the log below says what it fetched.
if [[ $out != "present tiny@${ID:0:12}"* ]]; then
	[[ $out == "synced tiny@${ID:0:12} from $RELAY"* ]] || fail "image sync said: $out"
	[[ $out == *"kept from before"* ]] || fail "image sync does not say what was kept: $out"
fi
for f in manifest.json vmlinuz initrd rootfs.squashfs templates/etc/motd \
    templates/etc/diskless-test/blob; do
	cmp "$IMG/$f" "$DL_W/b-images/$ID/$f" || fail "B's $f differs from A's"
done
[[ ! -e $DL_W/b-images/.partial/$ID ]] || fail "the partial directory is still there"
resume=$(grep 'event=sync_resume' "$DL_W/bootsvc-B.log" | grep 'role=rootfs' | tail -n 1)
[[ $resume == *"kept=$kept "* ]] || fail "the rootfs was not resumed from $kept bytes: $resume"
echo "  $resume"
synced=$(grep 'event=image_synced' "$DL_W/bootsvc-B.log" | tail -n 1)
echo "  $synced"
[[ $synced == *"refetched=0 "* ]] || fail "bytes were fetched again: $synced"
[[ $(here "$ID") == present ]] || fail "B says '$(here "$ID")' after the sync, want present"
dl_ns curl -sf "$B_URL/images/$ID/rootfs" | cmp - "$IMG/rootfs.squashfs" ||
    fail "B does not serve the synced rootfs"
# Armed by an admin (the node has no fixed address and no BMC): its boot may start now.
b node arm n1 >/dev/null || fail "node arm n1 on B"
script=$(dl_ns curl -sf "$B_URL/ipxe/boot?mac=52:54:00:69:00:01") || fail "no script from B"
[[ $script == *"$ID"* ]] || fail "B's script does not boot the synced version: $script"
out=$(b image sync --all) || fail "image sync --all: $out"
[[ $out == "every version is here already" ]] || fail "image sync --all said: $out"
metrics=$(dl_ns curl -sf "$B_URL/metrics")
grep -q '^diskless_image_sync_versions_total 1$' <<<"$metrics" || fail "metrics: versions synced"
grep -q '^diskless_image_sync_failures_total [1-9]' <<<"$metrics" || fail "metrics: failures"
grep -q '^diskless_image_sync_bytes_total [1-9]' <<<"$metrics" || fail "metrics: bytes"
pass "A back: resumed from $kept kept bytes, nothing fetched again, files byte-equal, served, node gets its script"

# --- tamper: a second version whose rootfs A serves with one byte flipped
read -r ID2 IMG2 <<<"$(build --force)"
[[ $ID2 != "$ID" && -f $IMG2/manifest.json ]] || fail "imagebuild tiny --force made no new version"
a image add "$IMG2" >/dev/null || fail "image add V2 on A"
register_on_b "$ID2"
size=$(stat -c %s "$IMG2/rootfs.squashfs")
python3 - "$IMG2/rootfs.squashfs" $((size / 2)) <<'EOP'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0xff]))
EOP
if out=$(b image sync "tiny@$ID2" 2>&1); then fail "B took a tampered rootfs: $out"; fi
echo "  $out"
[[ $out == *"rootfs: sha256 "*"is not the manifest's"*"refused"* ]] ||
    fail "the refusal does not name the hash: $out"
grep -q "event=sync_peer_failed image=${ID2:0:12} .*err=EBADMSG" "$DL_W/bootsvc-B.log" ||
    fail "B's log does not say why the peer failed"
[[ ! -e $DL_W/b-images/$ID2 ]] || fail "the tampered version is at its final path"
[[ ! -e $DL_W/b-images/.partial/$ID2/rootfs.squashfs ]] || fail "the refused rootfs was kept"
code=$(status "$B_URL/images/$ID2/rootfs")
[[ $code == 404 ]] || fail "GET of the tampered version's rootfs on B: $code, want 404"
pass "a tampered rootfs is refused by B with the hash, nothing kept or served"
