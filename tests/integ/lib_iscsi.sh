# iSCSI-backed nodes in integration tests (issue 14: iscsi_boot.sh, iscsi_faults.sh,
# bench): images/disk-debian built into the shared store, a disk_dir on an XFS loop file
# so clones are reflinks, an attacker's initiator in a namespace of its own, and reading
# what a node wrote from its clone's ext4 after it stopped. Source after lib.sh.

# is_build: images/disk-debian from the shared store (lib.sh dl_image_disk_debian builds it
# when its recipe changed); sets IS_ID and IS_PATH (the golden disk is $IS_PATH/disk.img).
is_build() {
	local t0=$SECONDS
	IS_PATH=$(dl_image_disk_debian)
	IS_ID=$(basename "$IS_PATH")
	[[ -f $IS_PATH/disk.img ]] || fail "images/disk-debian has no disk.img at $IS_PATH"
	echo "measured: images/disk-debian $IS_ID: $((SECONDS - t0)) s (built or found), disk" \
	    "$(($(stat -c %s "$IS_PATH/disk.img") >> 20)) MiB apparent, $(du -m "$IS_PATH/disk.img" | cut -f1) MiB allocated"
}

# is_xfs DIR SIZE: an XFS file system (reflink=1, mkfs.xfs's default) on a loop file,
# mounted at DIR before bootsvc starts (ip netns exec gives bootsvc a copy of the mounts
# there are at its start), unmounted when the test ends. A reflink clone needs the golden
# on the same file system as disk_dir (FICLONE across file systems is EXDEV), so a test
# puts both there: is_xfs_image copies the image version in.
is_xfs() {
	truncate -s "$2" "$DL_W/xfs.img"
	mkfs.xfs -q "$DL_W/xfs.img" || fail "mkfs.xfs"
	mkdir -p "$1"
	mount -o loop "$DL_W/xfs.img" "$1" || fail "mount the XFS loop file on $1"
	IS_MOUNT=$1
}

# is_xfs_image: copy $IS_PATH (the version directory) onto the XFS at $IS_MOUNT/images
# and point IS_PATH at the copy, which the test then registers.
is_xfs_image() {
	mkdir -p "$IS_MOUNT/images"
	cp -a --sparse=always "$IS_PATH" "$IS_MOUNT/images/" || fail "copy the image onto the XFS"
	IS_PATH=$IS_MOUNT/images/$IS_ID
}

# is_cleanup: unmount what is_xfs mounted, after the test's processes are gone
# (dl_cleanup kills them; a lazy unmount lets tgtd's last close finish).
is_cleanup() {
	[[ -n ${IS_MOUNT:-} ]] && umount -l "$IS_MOUNT" 2>/dev/null
	IS_MOUNT=
}

# is_part_offset DISK N: byte offset of MBR partition N (1-4) of DISK.
is_part_offset() {
	python3 - "$1" "$2" <<'EOP'
import struct, sys
d = open(sys.argv[1], "rb").read(512)
assert d[510:512] == b"\x55\xaa", "no MBR"
e = 446 + 16 * (int(sys.argv[2]) - 1)
print(struct.unpack("<I", d[e + 8:e + 12])[0] * 512)
EOP
}

# is_cat DISK PATH: a file of the ext4 root (partition 2) of DISK. The node was powered
# off hard, so its last writes may be in ext4's journal only, which debugfs does not read:
# the partition is copied (sparse) and its journal replayed on the copy first. Empty
# output and status 1 when the file is not there.
is_cat() {
	local off out rc=0 p2=$DL_W/p2.img
	off=$(is_part_offset "$1" 2) || return 1
	dd if="$1" of="$p2" bs=1M skip=$((off >> 20)) conv=sparse status=none || return 1
	e2fsck -fy -E journal_only "$p2" >/dev/null 2>&1
	out=$(debugfs -R "cat $2" "$p2" 2>/dev/null) || rc=1
	rm -f "$p2"
	[[ -n $out ]] || return 1
	printf '%s\n' "$out"
	return $rc
}

# is_boots DISK: the lines the disk's OS wrote, one per boot ("<boot id> <initiator> <date>").
is_boots() { is_cat "$1" /var/lib/diskless-disk/boots || true; }

# is_attacker NAME IP: a namespace of its own with a veth on the test bridge at IP, in
# IS_ATT (not echoed: the namespace must reach DL_NETNS in this shell, for the cleanup).
is_attacker() {
	IS_ATT=dl-$1-$$
	ip netns add "$IS_ATT"
	DL_NETNS+=("$IS_ATT")
	ip link add "$1" netns "$DL_NS" type veth peer name eth0 netns "$IS_ATT"
	ip -n "$DL_NS" link set "$1" master br0 up
	ip -n "$IS_ATT" link set lo up
	ip -n "$IS_ATT" addr add "$2/24" dev eth0
	ip -n "$IS_ATT" link set eth0 up
}

# is_login NS INITIATOR USER SECRET TARGET: an iSCSI login with CHAP and an INQUIRY of
# LUN 1 from namespace NS (libiscsi's iscsi-inq); its output, status 0 when it read one.
is_login() {
	ip netns exec "$1" timeout 20 iscsi-inq -i "$2" \
	    "iscsi://$3%$4@$DL_SRV/$5/1" 2>&1
}

# is_disk_field NODE KEY: a field of the node's disk in `nodectl --json node show`.
is_disk_field() {
	dl_nodectl --json node show "$1" | python3 -c \
	    'import json,sys; print(json.load(sys.stdin)["node"]["disk"][sys.argv[1]])' "$2"
}
