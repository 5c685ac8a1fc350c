#!/bin/bash
# Issue 15 point 4 end to end: a qemu node boots from service node B a version only A has.
# B (the lib's bootsvc: DHCP on br0, port 8080) has the version registered but not its
# files, as a store shared with A looks from B; A (no DHCP, port 8081) has the files. The
# node's first script request gets the hold script and starts B's sync from A; the hold
# script polls again, and once B has every file verified the node gets its script, boots
# from B and reports up with the version's receipt.
source "$(dirname "$0")/lib.sh"
dl_require qemu-system-x86_64 curl python3 ip cmp
dl_setup isyncb 105
getent passwd diskless >/dev/null || fail "no user diskless (make deps creates it)"

A_URL=http://$DL_SRV:8081
mkdir -p "$DL_W/a-images" "$DL_W/b-images"
chown diskless "$DL_W/b-images"
out=$("$BUILD/imagebuild" build "$REPO/images/tiny" --store "$DL_W/a-images" --work "$DL_W" \
    2>"$DL_W/imagebuild.log") || fail "imagebuild tiny"
read -r ID IMG <<<"$(tail -n 1 <<<"$out")"

cat >"$DL_W/A.conf" <<EOC
state_dir = $DL_W/A-state
template_dir = $REPO/ipxe-scripts
control_socket = $DL_W/A.sock
http_listen = $DL_SRV:8081
boot_url = $A_URL
dhcp_mode = off
idle_poweroff = off
EOC
ip netns exec "$DL_NS" "$BUILD/bootsvc" -c "$DL_W/A.conf" >>"$DL_W/bootsvc-A.log" 2>&1 &
DL_PIDS+=("$!")
dl_wait 10 "bootsvc A answers" "$BUILD/nodectl" --socket "$DL_W/A.sock" ping
"$BUILD/nodectl" --socket "$DL_W/A.sock" image add "$IMG" >/dev/null || fail "image add on A"

dl_bootsvc_start --peers="$A_URL"
cp -a "$IMG" "$DL_W/b-images/$ID"
dl_nodectl image add "$DL_W/b-images/$ID" >/dev/null || fail "image add on B"
rm -rf "${DL_W:?}/b-images/$ID"
dl_nodectl node add n01 --mac 52:54:00:69:01:01 --image tiny >/dev/null || fail "node add"
pass "tiny $ID: files on A only, registered on both"

t0=$SECONDS
dl_qemu n01 bios 52:54:00:69:01:01
dl_wait 300 "n01 up" dl_phase_is n01 up
echo "  measured: power-on to up $((SECONDS - t0)) s"
dl_console_has n01 'on hold: image tiny is being fetched from a peer' ||
    fail "n01 was not held while B fetched its version"
grep -q 'event=image_sync_start.*by="node n01"' "$DL_W/bootsvc.log" ||
    fail "B's sync was not started by n01's request"
grep 'event=image_synced' "$DL_W/bootsvc.log" | sed 's/^/  /'
booted=$(dl_nodectl --json node show n01 | python3 -c \
    'import json,sys; print(json.load(sys.stdin)["node"]["booted_image"])')
[[ $booted == "$ID" ]] || fail "n01 booted '$booted', want $ID"
for f in vmlinuz initrd rootfs.squashfs manifest.json; do
	cmp "$IMG/$f" "$DL_W/b-images/$ID/$f" || fail "B's $f differs from A's"
done
n01_ip=$(dl_field n01 ip)
grep -q "event=http_request route=images .*client=$n01_ip " "$DL_W/bootsvc-A.log" &&
    fail "n01 fetched image files from A"
pass "n01 held while B synced from A, then booted the version from B and is up"
