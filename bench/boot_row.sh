# Row 5 of bench/run.sh (sourced): power-on to up and the initramfs size, ours vs Debian's
# live-boot. The live-boot initrd is built here, offline but for Debian's archive: the
# compute image's own rootfs (bookworm, linux-image-amd64, initramfs-tools) is unsquashed,
# live-boot + live-boot-initramfs-tools + busybox are apt-get downloaded and unpacked into
# it, and its mkinitramfs runs in a chroot for the image's kernel.
boot_row() {
	local lb=$W/lb kver out
	put initrd_ours_b "$(fsize "$IMG_DIR/initrd")"
	if [[ $IMG_NAME != compute ]]; then
		put boot_errors "no images/compute in the store: live-boot needs a Debian rootfs with initramfs-tools (make image IMAGE=compute)"
		return 0
	fi
	note "initramfs: Debian live-boot initrd via mkinitramfs in a chroot of compute's rootfs"
	mkdir -p "$lb/debs"
	unsquashfs -q -n -d "$lb/root" "$IMG_DIR/rootfs.squashfs" >/dev/null ||
	    { put boot_errors "unsquashfs of compute failed"; return 0; }
	(cd "$lb/debs" && apt-get download live-boot live-boot-initramfs-tools busybox \
	    >"$W/lb-download.log" 2>&1) || { put boot_errors "apt-get download live-boot: $(tail -1 "$W/lb-download.log")"; return 0; }
	cp "$lb"/debs/*.deb "$lb/root/tmp/"
	# --force-depends: the rootfs has everything mkinitramfs needs; postinst triggers off,
	# the initrd is built once below, explicitly
	out=$(chroot "$lb/root" sh -c 'dpkg -i --force-depends --no-triggers /tmp/*.deb' 2>&1) ||
	    note "dpkg in the chroot said: $(tail -2 <<<"$out" | tr '\n' ' ')"
	kver=$(ls "$lb/root/lib/modules" | head -1)
	mount -t proc proc "$lb/root/proc" && {
		chroot "$lb/root" mkinitramfs -o /tmp/live-initrd.img "$kver" >"$W/mkinitramfs.log" 2>&1 ||
		    put boot_errors "mkinitramfs in the chroot: $(tail -2 "$W/mkinitramfs.log" | tr '\n' ' ')"
		umount "$lb/root/proc"
	}
	if [[ -f $lb/root/tmp/live-initrd.img ]]; then
		put initrd_live_b "$(fsize "$lb/root/tmp/live-initrd.img")"
		put initrd_live_compress "$(chroot "$lb/root" sh -c '. /etc/initramfs-tools/initramfs.conf; echo ${COMPRESS:-default}')"
		put initrd_ratio "$(ratio "$(get initrd_ours_b)" "$(get initrd_live_b)")"
		chroot "$lb/root" lsinitramfs /tmp/live-initrd.img 2>/dev/null | grep -q "scripts/live" &&
		    put initrd_live_has_liveboot yes
	fi
	put boot_errors "boot timing not run: live-boot's fetch= boot was not brought up in the bench (see docs/benchmarks.md)"
	rm -rf "$lb"
}
