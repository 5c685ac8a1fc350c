# VM hosts for the integration tests (issues 12 and 13): each host is a real Debian
# libvirtd in a namespace of its own (network, mount, UTS, PID: shared/lab
# libvirt-migrate.sh) on the test bridge br0, TLS only, registered with bootsvc as a node
# of a kvm image. It boots the way images/kvm's init does: asks for its script, its
# one-time credential and its overlay from its own address, runs libvirtd with the
# certificate that overlay delivered, and reports up with receipt and facts. Hosts migrate
# guests to each other peer to peer over qemu+tls, with the same per-boot certificate as
# client (the overlay's clientcert.pem/clientkey.pem). Optionally each host sits behind an
# ipmi_sim BMC whose power is its PID namespace: off kills libvirtd and every guest.
# Source after lib.sh (and lib_bmc.sh, for lv_bmc) and dl_setup; then
#   lv_image                       tiny's files under a kvm manifest: LV_KVM_ID, LV_KVM_DIR
#   lv_host_add NAME IP MAC        namespace on br0 + libvirtd dirs and config; powered on
#   lv_bmc NAME BMC_IP             NAME's BMC (lib_bmc.sh's sensors and SEL; dl_bmc_cmd,
#                                  dl_bmc_fi work on it); its power is NAME's namespace
#   lv_node_add NAME [ARGS...]     `nodectl node add` of NAME (kvm image; its BMC if any)
#   lv_host_boot NAME              script/arm, credential, overlay certificates, libvirtd
#                                  (re)started with them
#   lv_host_report NAME [FACTS]    the up report (prints the HTTP code); FACTS: a JSON
#                                  object of facts to change (lv_facts)
#   lv_host_up NAME [FACTS]        lv_host_boot + lv_host_report, then waits for "up"
#   lv_host_stop / lv_host_start NAME   libvirtd only (guests keep running)
#   lv_host_power NAME on|off|status    the namespace itself, as the BMC does it
#   lv_virsh NAME ARGS...          virsh on NAME's unix socket
#   lv_libvirtd_pid NAME
#   lv_guest_start HOST NAME [MEM_MIB] [CMDLINE]  a busybox TCG guest (96 MiB: the least
#                                  the Debian kernel boots in), persistent,
#                                  console $DL_W/NAME-console.log (GUEST-UP, TICK n);
#                                  CMDLINE "dirty=N": N MiB of tmpfs rewritten in a loop;
#                                  "fill=N": N MiB of random data written once (FILLED)
#   lv_migrate SRC NAME DST        virsh migrate --live --p2p over TLS, from SRC's socket
#   lv_guest_where NAME            the hosts that list NAME running (one a line)
#   lv_last_tick NAME / lv_wait_tick NAME N [SECS] / lv_counter_ok NAME
# Limits: hosts are numbered for their veth names (lv0..), at most LV_MAX_HOSTS.
# Needs: libvirtd virsh qemu-system-x86_64 unshare busybox cpio gzip curl python3.

# The veth on the test bridge is named lv<index>, and the test's subnet has room for
# hosts at .10-.99 (node_ip_range); 16 is far more than a 2-core CI machine runs.
LV_MAX_HOSTS=16
LV_HOSTS=()
declare -gA LV_IP=() LV_MAC=() LV_NS=() LV_TOKEN=()
LV_KVM_ID=
LV_KVM_DIR=
LV_IMAGE_ADDED=
LV_GUEST_KERNEL=
LV_GUEST_INITRD=
# The facts a host reports (docs/vm.md): what a small kvm host would say. guest_* are the
# capacity the VM layer places against; lv_host_report's FACTS argument changes them.
LV_FACTS_DEFAULT='{"hypervisor":"QEMU","hypervisor_version":"7.2.0","libvirt_version":"9.0.0",
 "cpus":2,"memory_mib":2048,"numa_nodes":1,"guest_cpus":1,"guest_memory_mib":1500}'

_lv_dir() { echo "$DL_W/lv-$1"; }

# The EXIT trap: the hosts' PID namespaces first (SIGKILL to each unshare parent: it ignores
# SIGTERM, lab pitfall 8, and --kill-child takes libvirtd and every guest with it), then
# lib_bmc.sh's BMC groups if any, then lib.sh's cleanup with the test's exit status.
lv_cleanup() {
	local h
	for h in "${LV_HOSTS[@]}"; do lv_host_power "$h" off >/dev/null 2>&1; done
}
_lv_exit() {
	local rc=$?
	set +e
	lv_cleanup
	declare -F dl_bmc_cleanup >/dev/null && dl_bmc_cleanup
	(exit "$rc")
	dl_cleanup
}

# lv_image: images/tiny built, its files under a manifest of kind kvm named "kvmhost"
# ($LV_KVM_DIR, id $LV_KVM_ID); lv_node_add adds it to bootsvc. Once per test.
lv_image() {
	[[ -n $LV_KVM_ID ]] && return 0
	local src
	"$BUILD/imagebuild" build "$REPO/images/tiny" --store "$DL_W/build" --work "$DL_W" \
	    >"$DL_W/imagebuild.out" 2>"$DL_W/imagebuild.log" || fail "imagebuild tiny"
	src=$(ls -d "$DL_W"/build/*/ | head -n 1)
	LV_KVM_ID=$(python3 - "$src" "$DL_W/store" <<'EOP'
import hashlib, json, os, shutil, sys
src, store = sys.argv[1], sys.argv[2]
m = json.load(open(os.path.join(src, "manifest.json")))
m["kind"], m["name"] = "kvm", "kvmhost"
text = json.dumps(m, sort_keys=True, separators=(",", ":"))
vid = hashlib.sha256(text.encode()).hexdigest()
dst = os.path.join(store, vid)
os.makedirs(dst)
for f in m["files"].values():
    shutil.copy(os.path.join(src, f["path"]), os.path.join(dst, f["path"]))
open(os.path.join(dst, "manifest.json"), "w").write(text)
print(vid)
EOP
) || fail "kvm manifest"
	LV_KVM_DIR=$DL_W/store/$LV_KVM_ID
}

# lv_host_add NAME IP MAC: the host's namespace on br0 at IP, its libvirtd's private
# directories and configuration, then power on (its PID namespace runs; libvirtd starts
# once lv_host_boot gave it certificates).
lv_host_add() {
	local name=$1 ip=$2 mac=$3 d n=${#LV_HOSTS[@]} ns
	[[ -n $DL_NS && -n $DL_W ]] || fail "lv_host_add: call dl_setup first"
	((n < LV_MAX_HOSTS)) || fail "lv_host_add $name: at most $LV_MAX_HOSTS hosts"
	((n == 0)) && trap _lv_exit EXIT
	d=$(_lv_dir "$name")
	ns=dl-lv$n-$$
	LV_HOSTS+=("$name")
	LV_IP[$name]=$ip LV_MAC[$name]=$mac LV_NS[$name]=$ns
	mkdir -p "$d"/{etc,pki,run,lib,cache,log}

	ip netns add "$ns"
	DL_NETNS+=("$ns")
	ip link add "lv$n" netns "$DL_NS" type veth peer name eth0 netns "$ns"
	ip -n "$DL_NS" link set "lv$n" master br0 up
	ip -n "$ns" link set lo up
	ip -n "$ns" addr add "$ip/24" dev eth0
	ip -n "$ns" link set eth0 up

	# libvirtd as images/kvm configures it (TLS only, its certificate paths, the DN list
	# that admits bootsvc, admins and the other hosts), on the namespace's address; a
	# host_uuid of its own (the same one on two hosts refuses migration: lab pitfall 3)
	cat >"$d/etc/libvirtd.conf" <<EOC
listen_tls = 1
listen_tcp = 0
listen_addr = "$ip"
auth_tls = "none"
key_file = "/etc/pki/libvirt/private/serverkey.pem"
cert_file = "/etc/pki/libvirt/servercert.pem"
ca_file = "/etc/pki/CA/cacert.pem"
tls_no_verify_certificate = 0
$(grep '^tls_allowed_dn_list' "$REPO/images/kvm/overlay/etc/libvirt/libvirtd.conf")
auth_unix_rw = "none"
auth_unix_ro = "none"
host_uuid = "$(cat /proc/sys/kernel/random/uuid)"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
EOC
	# no virtlogd, cgroups or per-guest /dev namespace here (lab pitfall 5); the migration
	# stream on the namespace's address, not the host name nobody resolves (pitfall 4)
	cat >"$d/etc/qemu.conf" <<EOC
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
stdio_handler = "file"
namespaces = [ ]
cgroup_controllers = [ ]
migration_address = "$ip"
migration_host = "$ip"
EOC
	# Debian's qemu driver resolves libvirt-qemu before reading qemu.conf (lab pitfall 1)
	cp /etc/passwd "$d/passwd"
	cp /etc/group "$d/group"
	getent passwd libvirt-qemu >/dev/null ||
	    echo "libvirt-qemu:x:64055:64055::/var/lib/libvirt:/usr/sbin/nologin" >>"$d/passwd"
	getent group libvirt-qemu >/dev/null || echo "libvirt-qemu:x:64055:" >>"$d/group"
	# PID 1 of the namespace: runs libvirtd in the foreground while $d/run-libvirtd exists,
	# so a test stops and restarts libvirtd without ending the guests (their qemu stays).
	# /etc/pki is where libvirtd (server) and its peer-to-peer migrations (client) find
	# the overlay's certificates.
	cat >"$d/init.sh" <<EOS
hostname $name
mount --bind $d/passwd /etc/passwd
mount --bind $d/group /etc/group
mount --bind $d/etc /etc/libvirt
mount --bind $d/pki /etc/pki
mount --bind $d/run /run/libvirt
mount --bind $d/lib /var/lib/libvirt
mount --bind $d/cache /var/cache/libvirt
mount --bind $d/log /var/log/libvirt
while :; do
	if [ -e $d/run-libvirtd ]; then
		libvirtd --listen --config /etc/libvirt/libvirtd.conf \
		    --pid-file /run/libvirt/libvirtd.pid >>/var/log/libvirt/stdout.log 2>&1
	fi
	sleep 0.2
done
EOS
	# The host's power, for the test and for its BMC's chassis control alike. A diskless
	# host boots from its image: nothing of the last boot's libvirt state (domains,
	# definitions) survives a power cycle; its certificates are fetched again by the boot.
	cat >"$d/power" <<EOS
#!/bin/bash
# $name's power: on|off|status (generated by tests/integ/lib_libvirtd.sh)
d=$d ns=$ns
EOS
	cat >>"$d/power" <<'EOS'
pid() { cat "$d/unshare.pid" 2>/dev/null; }
running() { local p; p=$(pid) && [[ -n $p ]] && grep -qa '^unshare' "/proc/$p/cmdline" 2>/dev/null; }
# the namespace's PID 1 lives until every other process of the namespace is gone (the
# kernel kills and reaps them first when it dies), so it alone says the host is down
init_alive() {
	local i
	i=$(cat "$d/init.pid" 2>/dev/null) && [[ -n $i && -e /proc/$i/status ]] &&
	    ! grep -q '^State:[[:space:]]*Z' "/proc/$i/status" 2>/dev/null
}
case $1 in
on)
	running && exit 0
	rm -rf "$d"/run/* "$d"/lib/* "$d"/cache/* "$d/etc/qemu"
	[[ -s $d/pki/libvirt/servercert.pem ]] && touch "$d/run-libvirtd"
	ip netns exec "$ns" unshare --mount --uts --pid --fork --kill-child --mount-proc \
	    --propagation private bash "$d/init.sh" </dev/null >>"$d/unshare.log" 2>&1 &
	echo $! >"$d/unshare.pid"
	for _ in $(seq 50); do
		init=$(pgrep -P "$!" | head -n 1) && [[ -n $init ]] && echo "$init" >"$d/init.pid" &&
		    break
		sleep 0.1
	done
	echo "$(date +%s.%N) on" >>"$d/power-log" ;;
off)
	running || exit 0
	kill -KILL "$(pid)"
	for _ in $(seq 100); do init_alive || break; sleep 0.1; done
	rm -f "$d/unshare.pid" "$d/init.pid" "$d/run-libvirtd"
	echo "$(date +%s.%N) off" >>"$d/power-log" ;;
status)
	if running; then echo on; else echo off; fi ;;
*)
	echo "usage: power on|off|status" >&2; exit 2 ;;
esac
EOS
	chmod 755 "$d/power"
	# the mount points must exist to bind over them (left empty on the machine)
	mkdir -p /etc/libvirt /etc/pki /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt
	lv_host_power "$name" on >/dev/null
}

lv_host_power() { "$(_lv_dir "$1")/power" "$2"; }

# lv_bmc NAME BMC_IP: an ipmi_sim BMC for host NAME at BMC_IP on br0, with lib_bmc.sh's
# sensors and SEL (dl_bmc_cmd, dl_bmc_fi, dl_bmc_ip, $DL_W/NAME.creds work as for dl_bmc);
# its chassis power is NAME's namespace (lv_host_power), boot flags are kept and ignored.
lv_bmc() {
	local name=$1 ip=$2 d con pass
	declare -F _dl_bmc_emu >/dev/null || fail "lv_bmc: source lib_bmc.sh first"
	command -v ipmi_sim >/dev/null || fail "missing tool 'ipmi_sim': run make deps"
	_dl_bmc_emu
	d=$(_dl_bmc_dir "$name")
	con=$((DL_BMC_CON_BASE + DL_BMC_N))
	DL_BMC_N=$((DL_BMC_N + 1))
	mkdir -p "$d/state"
	pass="pw-$name-$RANDOM"
	pass=${pass:0:20}
	cat >"$d/chassis-control" <<EOC
#!/bin/bash
# ipmi_sim chassis_control program of VM host $name (tests/integ/lib_libvirtd.sh)
d=$d power=$(_lv_dir "$name")/power
EOC
	cat >>"$d/chassis-control" <<'EOC'
op=$1
shift
case $op in
get)
	for k in "$@"; do
		case $k in
		power) if [[ $("$power" status) == on ]]; then echo power:1; else echo power:0; fi ;;
		boot) echo "boot:$(cat "$d/boot" 2>/dev/null || echo default)" ;;
		esac
	done ;;
set)
	while (($# >= 2)); do
		case $1 in
		power) if [[ $2 == 1 ]]; then "$power" on; echo on >>"$d/power-ons"
		       else "$power" off; fi ;;
		boot) echo "$2" >"$d/boot" ;;
		reset) "$power" off; "$power" on; echo reset >>"$d/resets" ;;
		esac
		shift 2
	done ;;
esac
exit 0
EOC
	chmod 755 "$d/chassis-control"
	{ _dl_bmc_lan "$name" "$ip"; cat <<EOF; } >"$d/lan.conf"
  chassis_control "$d/chassis-control"
  user 2 true "admin" "$pass" admin 10 md5
  user 3 true "viewer" "$pass" user 10 md5
console 127.0.0.1 $con
EOF
	(umask 077
	 printf 'user=admin\npassword=%s\ncipher=3\n' "$pass" >"$DL_W/$name.creds"
	 printf 'user=viewer\npassword=%s\n' "$pass" >"$DL_W/$name-viewer.creds")
	echo "$pass" >"$d/pass"
	echo "$ip" >"$d/ip"
	echo "$con" >"$d/con"
	ip -n "$DL_NS" addr add "$ip/24" dev br0
	(cd "$d" && exec setsid ip netns exec "$DL_NS" ipmi_sim -n -c "$d/lan.conf" \
	    -f "$DL_W/bmc.emu" -s "$d/state" </dev/null >>"$DL_W/$name-bmc.log" 2>&1) &
	echo $! >"$d/pid"
	DL_BMC_PGIDS+=("$!")
	DL_BMC_NAMES+=("$name")
	_lv_bmc_up() {
		dl_ns ss -Hlun "src $1:623" | grep -q . && dl_ns ss -Hltn "sport = :$2" | grep -q .
	}
	dl_wait 10 "BMC $name listening on $ip:623" _lv_bmc_up "$ip" "$con"
}

# lv_node_add NAME [ARGS...]: NAME registered with bootsvc at its address, on the kvm
# image (added to bootsvc on the first call), behind its lv_bmc BMC unless ARGS name one.
lv_node_add() {
	local name=$1 bmc=()
	shift
	lv_image
	if [[ -z $LV_IMAGE_ADDED ]]; then
		dl_nodectl image add "$LV_KVM_DIR" >/dev/null || fail "image add kvmhost"
		LV_IMAGE_ADDED=1
	fi
	if [[ " $* " != *" --bmc "* && -f $DL_W/bmc-$name/ip ]]; then
		bmc=(--bmc "$(cat "$DL_W/bmc-$name/ip")" --bmc-creds "$DL_W/$name.creds")
	fi
	dl_nodectl node add "$name" --mac "${LV_MAC[$name]}" --ip "${LV_IP[$name]}" \
	    --image kvmhost "${bmc[@]}" "$@" >/dev/null || fail "node add $name"
}

lv_virsh() {
	local name=$1
	shift
	virsh -q -c "qemu+unix:///system?socket=$(_lv_dir "$name")/run/libvirt-sock" "$@"
}

lv_libvirtd_pid() {
	local d init
	d=$(_lv_dir "$1")
	init=$(pgrep -P "$(cat "$d/unshare.pid" 2>/dev/null)" | head -n 1) || return 1
	pgrep -x libvirtd -P "$init"
}

_lv_curl() {
	local name=$1
	shift
	ip netns exec "${LV_NS[$name]}" curl -s --max-time 10 "$@"
}

# lv_host_boot NAME: what the host's init does at a boot. Its script from its own address
# (that arms it when bootsvc sees a boot), or, for a node bootsvc has up or failed (no
# PXE exchange shows it rebooting: docs/security.md), the admin arms it; then the one-time
# credential and the overlay, whose libvirt certificates go where libvirtd.conf reads
# them; libvirtd (re)started with them. Sets LV_TOKEN[NAME].
lv_host_boot() {
	local name=$1 d token phase t0=$SECONDS
	d=$(_lv_dir "$name")
	phase=$(dl_phase "$name")
	if [[ $phase != up && $phase != failed ]]; then
		_lv_curl "$name" -o /dev/null "$DL_URL/ipxe/boot?mac=${LV_MAC[$name]}" ||
		    fail "$name: script request"
	fi
	if [[ $(dl_field "$name" armed) != True ]]; then
		dl_nodectl node arm "$name" >/dev/null || fail "node arm $name"
	fi
	token=$(_lv_curl "$name" "$DL_URL/api/v1/nodes/$name/credential" | gzip -dc |
	    grep -ao 'token=[0-9a-f]*' | cut -d= -f2) || true
	[[ ${#token} == 64 ]] || fail "no credential for $name (got '${token:-}')"
	LV_TOKEN[$name]=$token
	rm -rf "$d/ovl" && mkdir -p "$d/ovl"
	_lv_curl "$name" -f -H "Authorization: Bearer $token" \
	    "$DL_URL/api/v1/nodes/$name/overlay" -o "$d/overlay.cpio" || fail "$name: overlay fetch"
	(cd "$d/ovl" && cpio -idm --no-absolute-filenames <"$d/overlay.cpio" 2>/dev/null) ||
	    fail "$name: overlay unpack"
	local f
	for f in CA/cacert.pem libvirt/servercert.pem libvirt/private/serverkey.pem \
	    libvirt/clientcert.pem libvirt/private/clientkey.pem; do
		[[ -s $d/ovl/etc/pki/$f ]] ||
		    fail "$name: the overlay has no etc/pki/$f: $(cd "$d/ovl" && find . -type f)"
	done
	rm -rf "$d/pki.new" && cp -a "$d/ovl/etc/pki" "$d/pki.new"
	# in place (the namespace binds $d/pki): replace the files, not the directory
	rm -rf "${d:?}"/pki/* && cp -a "$d/pki.new/." "$d/pki/"
	[[ $(lv_host_power "$name" status) == on ]] || lv_host_power "$name" on >/dev/null
	touch "$d/run-libvirtd"
	local p
	p=$(lv_libvirtd_pid "$name") && kill "$p"
	_lv_new_libvirtd() { local q; q=$(lv_libvirtd_pid "$1") && [[ $q != "$2" ]] && lv_virsh "$1" version; }
	dl_wait 60 "$name: libvirtd answers on its unix socket" _lv_new_libvirtd "$name" "${p:-none}"
	echo "measured: $name booted (credential, overlay, libvirtd up) in $((SECONDS - t0)) s"
}

# lv_facts NAME [CHANGES]: the facts NAME reports, LV_FACTS_DEFAULT with its own URI and
# the keys of the JSON object CHANGES replaced.
lv_facts() {
	local changes=${2:-}
	[[ -n $changes ]] || changes='{}'
	python3 - "$LV_FACTS_DEFAULT" "${LV_IP[$1]}" "$changes" <<'EOP'
import json, sys
f = json.loads(sys.argv[1])
f["uri"] = "qemu+tls://%s/system" % sys.argv[2]
f.update(json.loads(sys.argv[3]))
print(json.dumps(f))
EOP
}

# lv_host_report NAME [CHANGES]: the up report with the manifest's receipt and NAME's
# facts (lv_facts NAME CHANGES); prints the HTTP code.
lv_host_report() {
	local name=$1 body
	body=$(python3 - "$LV_KVM_DIR/manifest.json" "$(lv_facts "$name" "${2:-}")" <<'EOP'
import json, sys
m = json.load(open(sys.argv[1]))
r = {"kernel": m["files"]["kernel"]["sha256"], "initrd": m["initrd_tree"],
     "rootfs": m["files"]["rootfs"]["sha256"]}
print(json.dumps({"phase": "up", "receipt": r, "facts": json.loads(sys.argv[2])}))
EOP
)
	_lv_curl "$name" -o /dev/null -w '%{http_code}' -X POST \
	    -H "Authorization: Bearer ${LV_TOKEN[$name]}" -H 'Content-Type: application/json' \
	    --data "$body" "$DL_URL/api/v1/nodes/$name/phase"
}

# lv_host_up NAME [CHANGES]: a boot and a good up report: NAME is up.
lv_host_up() {
	local code
	lv_host_boot "$1"
	code=$(lv_host_report "$1" "${2:-}")
	[[ $code == 204 ]] || fail "$1: up report: HTTP $code"
	dl_phase_is "$1" up || fail "$1 is $(dl_phase "$1") after a good up report"
}

# lv_host_stop NAME / lv_host_start NAME: libvirtd only; guests keep running.
lv_host_stop() {
	local d p
	d=$(_lv_dir "$1")
	rm -f "$d/run-libvirtd"
	p=$(lv_libvirtd_pid "$1") || fail "$1: no libvirtd to stop"
	kill "$p"
	_lv_gone() { ! kill -0 "$1" 2>/dev/null; }
	dl_wait 30 "$1: libvirtd $p gone" _lv_gone "$p"
}
lv_host_start() {
	touch "$(_lv_dir "$1")/run-libvirtd"
	dl_wait 60 "$1: libvirtd answers again" lv_virsh "$1" version
}

# The guest: the lab's busybox initramfs on the Debian kernel. /init prints GUEST-UP once,
# then "TICK n" a second; with dirty=N on its command line it rewrites N MiB of tmpfs with
# fresh random data in a loop, so its memory changes faster than a migration copies it;
# with fill=N it writes N MiB of random data once and prints FILLED (a migration skips
# zero pages almost for free, so a guest of non-zero memory is the one worth timing).
_lv_guest_files() {
	[[ -n $LV_GUEST_INITRD ]] && return 0
	local r=$DL_W/lv-guest-ird kroot
	kroot=$("$REPO/mk/fetch-kernel.sh") || fail "mk/fetch-kernel.sh"
	LV_GUEST_KERNEL=$(ls "$kroot"/boot/vmlinuz-* | head -n 1)
	mkdir -p "$r/bin" "$r/proc" "$r/dev" "$r/mnt" "$r/fill"
	cp "$(command -v busybox)" "$r/bin/busybox"
	cat >"$r/init" <<'EOI'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t devtmpfs dev /dev 2>/dev/null
echo "GUEST-UP uptime=$(cut -d' ' -f1 /proc/uptime)"
dirty=$(sed -n 's/.*dirty=\([0-9]*\).*/\1/p' /proc/cmdline)
if [ -n "$dirty" ]; then
	mount -t tmpfs -o size=$((dirty * 2 + 4))m tmpfs /mnt
	head -c "${dirty}m" /dev/urandom >/mnt/a
	echo "DIRTY ${dirty} MiB"
	# copying between two tmpfs files rewrites their pages at memory speed, every pass
	(while :; do cp /mnt/a /mnt/b; cp /mnt/b /mnt/a; done) &
fi
fill=$(sed -n 's/.*fill=\([0-9]*\).*/\1/p' /proc/cmdline)
if [ -n "$fill" ]; then
	mount -t tmpfs -o size=$((fill + 4))m tmpfs /fill
	head -c "${fill}m" /dev/urandom >/fill/data
	echo "FILLED $(du -m /fill/data | cut -f1) MiB"
fi
i=0
while :; do echo "TICK $i"; i=$((i + 1)); sleep 1; done
EOI
	chmod +x "$r/init"
	(cd "$r" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$DL_W/lv-guest-initrd.gz"
	LV_GUEST_INITRD=$DL_W/lv-guest-initrd.gz
}

# lv_guest_xml NAME MEM_MIB [CMDLINE]: the domain (TCG, 1 vCPU, no disk, no NIC); its
# serial port appends to $DL_W/NAME-console.log, so the file survives migrations (the
# incoming qemu opens it again: lab pitfall 7).
lv_guest_xml() {
	_lv_guest_files
	cat <<EOX
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>$2</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$LV_GUEST_KERNEL</kernel>
    <initrd>$LV_GUEST_INITRD</initrd>
    <cmdline>console=ttyS0 quiet panic=-1 ${3:-}</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <serial type='file'><source path='$DL_W/$1-console.log' append='on'/></serial>
    <memballoon model='none'/>
  </devices>
</domain>
EOX
}

# lv_guest_start HOST NAME [MEM_MIB] [CMDLINE]: defined (persistent) and started on HOST.
lv_guest_start() {
	local host=$1 name=$2
	lv_guest_xml "$name" "${3:-96}" "${4:-}" >"$DL_W/$name.xml"
	lv_virsh "$host" define "$DL_W/$name.xml" >/dev/null || fail "virsh define $name on $host"
	lv_virsh "$host" start "$name" >/dev/null || fail "virsh start $name on $host"
}

# lv_migrate SRC NAME DST [VIRSH-ARGS...]: a live peer-to-peer migration driven by SRC's
# libvirtd over TLS to DST's (its per-boot certificate as client), persistent on DST and
# undefined on SRC, as the VM layer's executor asks for it.
lv_migrate() {
	local src=$1 name=$2 dst=$3
	shift 3
	lv_virsh "$src" migrate --live --p2p --persistent --undefinesource "$@" "$name" \
	    "qemu+tls://${LV_IP[$dst]}/system" --migrateuri "tcp://${LV_IP[$dst]}"
}

# lv_guest_where NAME: each host that lists NAME running, one a line.
lv_guest_where() {
	local h
	for h in "${LV_HOSTS[@]}"; do
		[[ $(lv_host_power "$h" status) == on ]] || continue
		lv_virsh "$h" list --name --state-running 2>/dev/null | grep -qx "$1" && echo "$h"
	done
	return 0
}

# The console's counter. SeaBIOS writes escape sequences before the kernel (tcg-in-tcg.md
# pitfall 3), so markers are matched anywhere in a line.
_lv_ticks() { tr -d '\r' <"$DL_W/$1-console.log" 2>/dev/null | sed -n 's/.*TICK \([0-9][0-9]*\).*/\1/p'; }
lv_last_tick() { _lv_ticks "$1" | tail -n 1; }
# lv_wait_tick NAME N [SECS]: the counter reached N
lv_wait_tick() {
	_lv_tick_ge() { local t; t=$(lv_last_tick "$1"); [[ -n $t ]] && ((t >= $2)); }
	dl_wait "${3:-120}" "$1's counter at $2 (now '$(lv_last_tick "$1")')" _lv_tick_ge "$1" "$2"
}
# lv_counter_ok NAME: one boot (exactly one GUEST-UP) and every TICK the previous + 1,
# from 0: no reboot, no gap, nothing counted twice
lv_counter_ok() {
	local f=$DL_W/$1-console.log
	[[ $(grep -ac GUEST-UP "$f" 2>/dev/null) == 1 ]] || return 1
	_lv_ticks "$1" | awk 'NR == 1 && $1 != 0 { bad = 1 } NR > 1 && $1 != p + 1 { bad = 1 }
	    { p = $1 } END { exit bad || NR == 0 }'
}
# lv_ticking NAME: the counter moves (within a few seconds: TCG ticks late under load)
lv_ticking() {
	local t0
	t0=$(lv_last_tick "$1")
	lv_wait_tick "$1" $((${t0:--1} + 1)) 20
}
