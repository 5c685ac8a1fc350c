# VM-host images in integration tests (hv_kvm.sh, hv_xen.sh, mk/demo-vm.sh): build a
# recipe into the shared store (imagebuild skips an unchanged recipe), the TLS files a
# VM host and an admin need, virsh over TLS from the test's namespace, the facts a node
# reported. Source after lib.sh.

# vh_build NAME: build images/NAME; sets VH_ID, VH_PATH and logs the build time and size.
vh_build() {
	local t0=$SECONDS out
	mkdir -p "$DL_W/work"
	out=$("$BUILD/imagebuild" build "images/$1" --store "${STORE:-/var/lib/diskless}/images" \
	    --work "$DL_W/work" 2>"$DL_W/build-$1.err") ||
		{ tail -20 "$DL_W/build-$1.err"; fail "imagebuild images/$1 failed"; }
	read -r VH_ID VH_PATH <<<"$(tail -n1 <<<"$out")"
	[[ -n $VH_ID && -d $VH_PATH ]] || fail "imagebuild images/$1 printed no version"
	echo "measured: images/$1 $VH_ID: build $((SECONDS - t0)) s$(grep -q 'up to date' \
	    "$DL_W/build-$1.err" && echo ' (up to date, not rebuilt)'), rootfs" \
	    "$(du -m "$VH_PATH/rootfs.squashfs" | cut -f1) MiB, version $(du -sm "$VH_PATH" | cut -f1) MiB"
}

# vh_manifest_field KEY: a field of $VH_PATH/manifest.json.
vh_manifest_field() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' \
	    "$VH_PATH/manifest.json" "$1"
}

# vh_pki: the CA of VM hosts' certificates (nodectl tls init) in $DL_W/tls, which
# dl_bootsvc_start gives bootsvc as tls_ca_dir: bootsvc issues each VM host node a libvirt
# server certificate for its address into the node's armed overlay (docs/security.md
# "Hypervisor TLS"). An admin's client certificate from that CA as virsh's pkipath in
# $DL_W/pki-admin. Call before dl_bootsvc_start.
vh_pki() {
	local t=$DL_W/tls
	[[ -e $t ]] || "$BUILD/nodectl" tls init --dir "$t" >/dev/null || fail "nodectl tls init"
	"$BUILD/nodectl" tls issue admin --role admin --dir "$t" >/dev/null || fail "tls issue admin"
	mkdir -p "$DL_W/pki-admin"
	cp "$t/ca.crt" "$DL_W/pki-admin/cacert.pem"
	cp "$t/admin.crt" "$DL_W/pki-admin/clientcert.pem"
	cp "$t/admin.key" "$DL_W/pki-admin/clientkey.pem"
}

# vh_virsh DRIVER IP ARGS...: virsh over TLS as the admin, from the test's namespace.
vh_virsh() {
	local drv=$1 ip=$2
	shift 2
	ip netns exec "$DL_NS" timeout 120 virsh -q \
	    -c "$drv+tls://$ip/system?pkipath=$DL_W/pki-admin" "$@"
}

# vh_facts NODE: the facts JSON the node's vmhost-up printed on its console.
vh_facts() {
	tr -d '\r' <"$DL_W/$1.log" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' |
	    sed -n 's/.*vmhost-up: facts \({.*}\).*/\1/p' | tail -n1
}

# vh_fact NODE KEY: one fact.
vh_fact() {
	vh_facts "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"
}

# vh_guest_initrd OUT: a busybox initrd whose init prints GUEST-UP and a tick a second.
vh_guest_initrd() {
	local r=$DL_W/guest-ird
	mkdir -p "$r/bin" "$r/proc" "$r/dev"
	cp "$(command -v busybox)" "$r/bin/busybox"
	cat >"$r/init" <<'EOI'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
echo "GUEST-UP uptime=$(cut -d' ' -f1 /proc/uptime)"
i=0
while :; do echo "TICK $i"; i=$((i + 1)); sleep 1; done
EOI
	chmod +x "$r/init"
	(cd "$r" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$1"
}

# vh_has_host_list: does this bootsvc and nodectl have host.list / vm.list (docs/vm.md)?
vh_has_host_list() { dl_nodectl --json host list >/dev/null 2>&1; }

# vh_host_is NODE HYPERVISOR: bootsvc lists NODE as a VM host of that hypervisor, connected.
vh_host_is() {
	dl_nodectl --json host list | python3 -c '
import json, sys
h = [h for h in json.load(sys.stdin)["hosts"] if h["node"] == sys.argv[1]]
sys.exit(0 if h and h[0]["hypervisor"] == sys.argv[2] and
         h[0].get("state", "connected") == "connected" else 1)' "$1" "$2"
}

# vh_vm_is HOST NAME STATE: bootsvc lists domain NAME on HOST in STATE (as libvirt said).
vh_vm_is() {
	dl_nodectl --json vm list --host "$1" | python3 -c '
import json, sys
sys.exit(0 if any(v["name"] == sys.argv[1] and v["state"] == sys.argv[2]
                  for v in json.load(sys.stdin)["vms"]) else 1)' "$2" "$3"
}
