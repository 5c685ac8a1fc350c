# Row 5 of bench/run.sh (sourced): power-on to up and the initramfs size, ours vs Debian's
# live-boot. The live-boot initrd is built here, offline but for Debian's archive: the
# compute image's own rootfs (bookworm, linux-image-amd64, initramfs-tools) is unsquashed,
# live-boot + live-boot-initramfs-tools + busybox are apt-get downloaded and unpacked into
# it, and its mkinitramfs runs in a chroot for the image's kernel.
#
# Then both are booted, interleaved (ours, live, ours, live; ROUNDS each, 1 in quick mode):
# one qemu TCG node (-accel tcg, BOOT_MEM, one vCPU, virtio-net on a tap of the bench's br0),
# the image's own kernel by -kernel/-initrd/-append (no firmware, no PXE), the same MAC and
# address, the same rootfs.squashfs bytes over HTTP in the bench's namespace. Timed from
# qemu's start to the first "login:" on the serial console (systemd's serial getty).
#  ours: our initrd, the command line bootsvc renders for the node (the kernel line of its
#        iPXE script, iPXE's ${mac} ${ip} ${gateway} ${netmask} filled in), against a
#        dedicated bootsvc on br0 that knows the node and the image; the init fetches and
#        verifies the rootfs, fetches the node overlay and posts its phases to bootsvc.
#  live: the live-boot initrd, the image's cmdline + boot=live
#        fetch=http://<br0>:8093/compute.squashfs (nginx, the same file by symlink). Its
#        address comes from DHCP: a dnsmasq on br0 that answers only this MAC, with the same
#        address. live-boot has no ip= for its own network (it reads ip= only to write the
#        booted system's /etc/network/interfaces) and its static path (ethdevice=<klibc
#        ipconfig spec>) sleeps 5 s in a carrier scan of the spec as if it were an interface
#        name (9990-select-eth-device.sh) and panics unless the NIC is called eth0
#        (9990-networking.sh); DHCP on the one NIC it finds is its fast path.
# The NIC's iPXE option ROM is left out (romfile=): the firmware is not what is measured.
BOOT_MEM=${BOOT_MEM:-2048}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-600}
BOOT_MAC=52:54:00:91:00:05
BOOT_HOST=bt01

# boot_once WHO INITRD APPEND MARK: one qemu boot, console in $W/boot-WHO-$BOOT_RUN.log;
# sets BOOT_T to the seconds from qemu's start to "login:" (or "timeout" / "qemu exited")
# and BOOT_M to the seconds to the first console line matching MARK (the rootfs in RAM)
boot_once() {
	local who=$1 initrd=$2 append=$3 mark=$4 log=$W/boot-$1-$BOOT_RUN.log t0 pid end
	BOOT_T=timeout BOOT_M=
	t0=$(now)
	end=$((SECONDS + BOOT_TIMEOUT))
	: > "$log"
	ip netns exec "$DL_NS" qemu-system-x86_64 -accel tcg -m "$BOOT_MEM" -smp 1 -nographic \
	    -no-reboot -kernel "$IMG_DIR/vmlinuz" -initrd "$initrd" -append "$append" \
	    -netdev tap,id=n0,ifname=bt0,script=no,downscript=no \
	    -device "virtio-net-pci,netdev=n0,mac=$BOOT_MAC,romfile=" >"$log" 2>&1 </dev/null &
	pid=$!
	DL_PIDS+=("$pid")
	while ((SECONDS < end)); do
		[[ -z $BOOT_M ]] && grep -aq -- "$mark" "$log" && BOOT_M=$(dt "$t0")
		if tr -d '\r' <"$log" | grep -aq 'login:'; then BOOT_T=$(dt "$t0"); break; fi
		kill -0 "$pid" 2>/dev/null || { BOOT_T="qemu exited"; break; }
		sleep 0.2
	done
	boot_stop "$pid"
}

# boot_stop PID: end a process this row started, and take it off lib.sh's cleanup list so
# the exit trap never signals a pid that has since been reused
boot_stop() {
	local p=$1 i
	kill "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	for i in "${!DL_PIDS[@]}"; do [[ ${DL_PIDS[i]} == "$p" ]] && unset 'DL_PIDS[i]'; done
	DL_PIDS=("${DL_PIDS[@]}")
}

boot_row() {
	local lb=$W/lb kver out
	put initrd_ours_b "$(fsize "$IMG_DIR/initrd")"
	if [[ $IMG_NAME != compute ]]; then
		put boot_errors "not run: no images/compute in the store: live-boot needs a Debian rootfs with initramfs-tools and the boot needs systemd's getty (make image IMAGE=compute)"
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
	if [[ ! -f $lb/root/tmp/live-initrd.img ]]; then
		put boot_errors "boot timing not run: no live-boot initrd ($(tail -2 "$W/mkinitramfs.log" 2>/dev/null | tr '\n' ' '))"
		rm -rf "$lb"
		return 0
	fi
	put initrd_live_b "$(fsize "$lb/root/tmp/live-initrd.img")"
	put initrd_live_compress "$(chroot "$lb/root" sh -c '. /etc/initramfs-tools/initramfs.conf; echo ${COMPRESS:-default}')"
	put initrd_live_modules "$(chroot "$lb/root" sh -c '. /etc/initramfs-tools/initramfs.conf; echo ${MODULES:-default}')"
	put initrd_ratio "$(ratio "$(get initrd_ours_b)" "$(get initrd_live_b)")"
	chroot "$lb/root" lsinitramfs /tmp/live-initrd.img >"$W/live-initrd.list" 2>/dev/null
	grep -q "scripts/live" "$W/live-initrd.list" && put initrd_live_has_liveboot yes
	put initrd_live_ko "$(grep -c '\.ko' "$W/live-initrd.list")"
	cp "$lb/root/tmp/live-initrd.img" "$W/live-initrd.img"
	rm -rf "$lb"
	if ! grep -q '/virtio_net\.ko' "$W/live-initrd.list"; then
		put boot_errors "boot timing not run: the live-boot initrd has no virtio_net module (MODULES=$(get initrd_live_modules))"
		return 0
	fi

	# --- the two boots' surroundings: a tap on br0, a bootsvc that knows the node, nginx
	local ip=$DL_NET.50 mask=255.255.255.0 port=8092 lport=8093 cmd_ours cmd_live
	local img_cmdline r t ours=() live=() ours_m=() live_m=() ours_a=() live_a=() bad= nginx_pid dns_pid
	dl_tap bt0
	DL_SOCK=$W/boot.sock
	mkdir -p "$W/boot-state"
	dl_bootsvc_start --state-dir="$W/boot-state" --control-socket="$DL_SOCK" --dhcp-mode=off \
	    --http-listen="$DL_SRV:$port" --boot-url="http://$DL_SRV:$port" \
	    --node-ip-range="$DL_NET.10,$DL_NET.99" --power-poll=1h --log-level=warning
	dl_nodectl image add "$IMG_DIR" >/dev/null || { put boot_errors "boot: nodectl image add failed"; boot_row_end; return 0; }
	dl_nodectl node add "$BOOT_HOST" --mac "$BOOT_MAC" --image compute >/dev/null ||
	    { put boot_errors "boot: nodectl node add failed"; boot_row_end; return 0; }
	mkdir -p "$W/lbwww" "$W/lbnginx"
	ln -s "$IMG_DIR/rootfs.squashfs" "$W/lbwww/compute.squashfs"
	sed -e "s|127.0.0.1:8081 backlog=4096|$DL_SRV:$lport|" -e "s|root $W/www;|root $W/lbwww;|" \
	    -e "s|$W/nginx.pid|$W/lbnginx.pid|" -e "s|$W/nginx/|$W/lbnginx/|g" "$W/nginx.conf" >"$W/lbnginx.conf"
	ip netns exec "$DL_NS" nginx -p "$W/lbnginx/" -c "$W/lbnginx.conf" -e "$W/nginx-error.log" >>"$W/nginx.log" 2>&1 &
	nginx_pid=$!
	DL_PIDS+=("$nginx_pid")
	BOOT_NGINX_PID=$nginx_pid
	for r in $(seq 50); do dl_ns curl -sfI -o /dev/null "http://$DL_SRV:$lport/compute.squashfs" && break; sleep 0.2; done
	dl_ns curl -sfI -o /dev/null "http://$DL_SRV:$lport/compute.squashfs" ||
	    { put boot_errors "boot: nginx on br0 did not serve compute.squashfs"; boot_row_end; return 0; }

	ip netns exec "$DL_NS" dnsmasq --no-daemon --conf-file=/dev/null --port=0 --interface=br0 \
	    --bind-interfaces --dhcp-range="$DL_NET.0,static,$mask" --dhcp-host="$BOOT_MAC,$ip,$BOOT_HOST" \
	    --dhcp-leasefile="$W/boot-dnsmasq.leases" --pid-file= >"$W/boot-dnsmasq.log" 2>&1 </dev/null &
	dns_pid=$!
	DL_PIDS+=("$dns_pid")
	BOOT_DNS_PID=$dns_pid
	img_cmdline=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["cmdline"])' "$IMG_DIR/manifest.json")
	cmd_live="$img_cmdline boot=live fetch=http://$DL_SRV:$lport/compute.squashfs"
	put boot_live_cmdline "$cmd_live"
	put boot_qemu "qemu-system-x86_64 -accel tcg -m $BOOT_MEM -smp 1 -nographic -no-reboot -kernel vmlinuz -initrd <initrd> -append <cmdline> -netdev tap,ifname=bt0 -device virtio-net-pci,mac=$BOOT_MAC,romfile="

	local n=$ROUNDS
	[[ -n $QUICK ]] && n=1
	note "power-on to up: $n round(s) each, ours and live-boot interleaved, qemu TCG ${BOOT_MEM}M, timeout ${BOOT_TIMEOUT}s"
	for r in $(seq "$n"); do
		BOOT_RUN=$r
		# ours: the kernel line of the script bootsvc renders now (which also moves the node
		# to pxe, as a real iPXE fetch does), iPXE's variables filled in as DHCP gave them
		# The node has no fixed address (dhcp_mode=off) and no BMC: an admin arms it for
		# each boot, and the credential iPXE would load as a second initrd (a gzip'd cpio)
		# is appended to a copy of the initrd (docs/boot-protocol.md "The credential").
		dl_nodectl node arm "$BOOT_HOST" >/dev/null || bad+=" ours round $r: node arm failed"
		cmd_ours=$(dl_ns curl -sf "http://$DL_SRV:$port/ipxe/boot?mac=$BOOT_MAC" | awk '$1 == "kernel" {
		    $1 = ""; $2 = ""; sub(/^ +/, ""); sub(/ +\|\|.*$/, ""); print; exit }')
		cmd_ours=${cmd_ours//'${mac}'/$BOOT_MAC}
		cmd_ours=${cmd_ours//'${ip}'/$ip}
		cmd_ours=${cmd_ours//'${gateway}'/$DL_SRV}
		cmd_ours=${cmd_ours//'${netmask}'/$mask}
		cp "$IMG_DIR/initrd" "$W/initrd+cred"
		if [[ $cmd_ours != *dl.node=* || $cmd_ours == *'${'* ]]; then
			bad+=" ours round $r: no usable kernel line from bootsvc's script [$cmd_ours]"
		elif ! dl_ns curl -sf "http://$DL_SRV:$port/api/v1/nodes/$BOOT_HOST/credential" \
		    >>"$W/initrd+cred"; then
			bad+=" ours round $r: bootsvc handed out no credential"
		else
			((r == 1)) && put boot_ours_cmdline "$cmd_ours"
			boot_once ours "$W/initrd+cred" "$cmd_ours" 'diskless: rootfs verified'
			t=$BOOT_T
			echo "  ours      round $r: $t s, rootfs verified at ${BOOT_M:-?} s (phase $(dl_phase "$BOOT_HOST" 2>/dev/null))"
			[[ -n $BOOT_M ]] && ours_m+=("$BOOT_M")
			[[ -n $BOOT_M && $t =~ ^[0-9.]+$ ]] && ours_a+=("$(awk -v a="$BOOT_M" -v b="$t" 'BEGIN { printf "%.3f", b - a }')")
			if [[ $t =~ ^[0-9.]+$ ]]; then ours+=("$t")
			else bad+=" ours round $r: $t, console: $(tr -d '\r' <"$W/boot-ours-$r.log" | grep -av '^$' | tail -3 | tr '\n' ' ' | cut -c1-300)"; fi
		fi
		boot_once live "$W/live-initrd.img" "$cmd_live" "compute.squashfs' saved"
		t=$BOOT_T
		echo "  live-boot round $r: $t s, squashfs saved at ${BOOT_M:-?} s"
		[[ -n $BOOT_M ]] && live_m+=("$BOOT_M")
		[[ -n $BOOT_M && $t =~ ^[0-9.]+$ ]] && live_a+=("$(awk -v a="$BOOT_M" -v b="$t" 'BEGIN { printf "%.3f", b - a }')")
		if [[ $t =~ ^[0-9.]+$ ]]; then live+=("$t")
		else bad+=" live-boot round $r: $t, console: $(tr -d '\r' <"$W/boot-live-$r.log" | grep -av '^$' | tail -3 | tr '\n' ' ' | cut -c1-300)"; fi
	done
	put boot_rounds "$n"
	put boot_ours_rounds_s "${ours[*]}"
	put boot_live_rounds_s "${live[*]}"
	((${#ours[@]})) && put boot_ours_s "$(median "${ours[@]}")"
	((${#live[@]})) && put boot_live_s "$(median "${live[@]}")"
	((${#ours_m[@]})) && put boot_ours_rootfs_s "$(median "${ours_m[@]}")"
	((${#live_m[@]})) && put boot_live_rootfs_s "$(median "${live_m[@]}")"
	# from the rootfs in RAM to login: (mount, switch_root, the image's systemd to its getty)
	((${#ours_a[@]})) && put boot_ours_after_s "$(median "${ours_a[@]}")"
	((${#live_a[@]})) && put boot_live_after_s "$(median "${live_a[@]}")"
	((${#ours[@]} && ${#live[@]})) && put boot_ratio "$(ratio "$(get boot_ours_s)" "$(get boot_live_s)")"
	put boot_ours_phase "$(dl_phase "$BOOT_HOST" 2>/dev/null)"
	put boot_ours_modules "$(tr -d '\r' <"$W/boot-ours-1.log" 2>/dev/null | grep -aoE 'diskless: [0-9]+ modules loaded' | grep -oE '[0-9]+' | head -1)"
	[[ -n $bad ]] && put boot_errors "$(cut -c1-1200 <<<"$bad")"
	boot_row_end
}

boot_row_end() {
	local p
	for p in ${BOOT_NGINX_PID:-} ${BOOT_DNS_PID:-}; do boot_stop "$p"; done
	BOOT_NGINX_PID= BOOT_DNS_PID=
	boot_stop "$DL_BOOTSVC_PID"
	DL_SOCK=$W/control.sock
}
