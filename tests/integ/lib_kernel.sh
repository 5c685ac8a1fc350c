# A kernel tree for builds that are not about the kernel: dl_kernel_slim DEST copies the
# cache kernel (mk/fetch-kernel.sh, $DISKLESS_CACHE/kernel/kroot) to DEST with only the
# modules an initrd takes (imagebuild's NICs, loop, squashfs, overlay) and their
# dependencies, and sets KVER. Directory, tarball and OCI builds copy the kernel tree's
# modules into a rootfs that lacks them; the whole tree is ~400 MiB, which every such
# build would squash: a minute of CPU a build that proves nothing about what is tested.
# Sourced by tests/integ/imagebuild_bases.sh and bench/run.sh, which also reads the whole
# tree from DL_KROOT.
DL_KROOT=${DISKLESS_CACHE:-/var/cache/diskless}/kernel/kroot
dl_kernel_slim() {
	local src=$DL_KROOT dest=$1 m rel
	KVER=$(ls "$src/lib/modules" 2>/dev/null | head -n 1)
	[[ -n $KVER && -d $src/boot ]] || { echo "no kernel tree in $src (mk/fetch-kernel.sh)" >&2; return 1; }
	mkdir -p "$dest/lib/modules/$KVER"
	cp -a "$src/boot" "$dest/"
	cp -a "$src/lib/modules/$KVER"/modules.{order,builtin,builtin.modinfo} "$dest/lib/modules/$KVER/"
	while read -r m; do
		rel=${m#"$src"/}
		mkdir -p "$dest/$(dirname "$rel")"
		cp -a "$m" "$dest/$rel"
	done < <(modprobe -d "$src" -S "$KVER" -a --show-depends loop squashfs overlay virtio_net \
	    virtio_pci e1000 e1000e igb ixgbe mlx5_core | awk '$1 == "insmod" { print $2 }' | sort -u)
	depmod -b "$dest" "$KVER"
}
