# Shared by the integration tests: a private network namespace with a bridge, bootsvc
# (which starts dnsmasq) inside it, qemu nodes (TCG; nested KVM hangs here) on taps, and
# a cleanup trap that ends only the processes this test started, also when it fails.
# Source it, then call dl_setup <test-name> <subnet-octet>.

set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$REPO/build}
DL_PIDS=()
DL_NETNS=() # namespaces besides DL_NS the test made (an attacker's, a client's): deleted too
DL_NS=
DL_W=
DL_FAILED=0

fail() { echo "FAIL: $*"; DL_FAILED=1; exit 1; }
pass() { echo "ok: $*"; }

dl_require() {
	[[ $(id -u) == 0 ]] || fail "needs root (network namespaces, tap devices)"
	for t in "$@"; do
		command -v "$t" >/dev/null || fail "missing tool '$t': run make deps"
	done
}

dl_cleanup() {
	local rc=$?
	set +e
	for p in "${DL_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${DL_PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
	done
	# dnsmasq outlives a bootsvc that was SIGKILLed (by the test, or above when it did not
	# stop in time), by design: it keeps serving the start script (docs/boot-protocol.md).
	# The test started it, so the test ends it: by the pid in its pid file, if that process
	# is still the dnsmasq of this test's work dir.
	if [[ -n $DL_W ]]; then
		local pidf dp
		while IFS= read -r pidf; do
			dp=$(cat "$pidf" 2>/dev/null) || continue
			[[ $dp =~ ^[0-9]+$ && -r /proc/$dp/cmdline ]] || continue
			{ tr '\0' ' ' <"/proc/$dp/cmdline"; } 2>/dev/null | grep -qF -- "$DL_W/" &&
			    kill "$dp" 2>/dev/null
		done < <(find "$DL_W" -name dnsmasq.pid -path '*/dnsmasq/*' 2>/dev/null)
	fi
	# a PostgreSQL dl_bootsvc_start started (DL_STORE=pg), after the bootsvc using it
	declare -F pg_stop >/dev/null && pg_stop
	if ((rc != 0)) && [[ -n $DL_W ]]; then
		for f in "$DL_W"/*.log; do
			[[ -f $f ]] || continue
			echo "--- $(basename "$f") (last 25 lines)"
			tail -n 25 "$f" | tr -d '\r' | cut -c1-300
		done
		# whole, where tests/run.sh asks: a console's last 25 lines may miss why
		if [[ -n ${DL_FAIL_LOGS:-} ]] && mkdir -p "$DL_FAIL_LOGS"; then
			(cd "$DL_W" && find . -maxdepth 2 -name '*.log' -size -64M \
			    -exec cp --parents -t "$DL_FAIL_LOGS" {} +) 2>/dev/null
			echo "--- whole logs: $DL_FAIL_LOGS"
		fi
	fi
	for ns in "${DL_NETNS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	[[ -n $DL_NS ]] && ip netns del "$DL_NS" 2>/dev/null
	if [[ -n ${KEEP:-} ]]; then echo "kept $DL_W"; else [[ -n $DL_W ]] && rm -rf "$DL_W"; fi
	exit $rc
}

# dl_setup NAME OCTET: namespace dl-NAME-PID with br0 = 10.OCTET.0.1/24 (+ an IPv6
# prefix so dnsmasq can send router advertisements: without them iPXE waits ~13 s).
dl_setup() {
	DL_NS=dl-$1-$$
	DL_NET=10.$2.0
	DL_SRV=$DL_NET.1
	DL_W=$(mktemp -d "/tmp/dl-$1.XXXX")
	chmod 755 "$DL_W"
	trap dl_cleanup EXIT
	trap 'exit 130' INT TERM
	ip netns add "$DL_NS"
	ip -n "$DL_NS" link set lo up
	ip -n "$DL_NS" link add br0 type bridge
	ip -n "$DL_NS" addr add "$DL_SRV/24" dev br0
	ip -n "$DL_NS" addr add "fd00:$2::1/64" dev br0 # fd00:<octet>: valid for octets > 99 too
	ip -n "$DL_NS" link set br0 up
	DL_SOCK=$DL_W/control.sock
	DL_URL=http://$DL_SRV:8080
}

dl_ns() { ip netns exec "$DL_NS" "$@"; }

# dl_tap NAME: a tap on br0 for one qemu node.
dl_tap() {
	ip -n "$DL_NS" tuntap add "$1" mode tap
	ip -n "$DL_NS" link set "$1" master br0 up
}

# dl_bootsvc_start [extra --key=value ...]: bootsvc in the namespace, state in $DL_W/state,
# the CA of VM hosts' certificates in $DL_W/tls (made here as an admin makes it, root's
# ca.key 0600: docs/security.md "Hypervisor TLS"), so a VM host node's overlay works.
dl_bootsvc_start() {
	[[ -e $DL_W/tls ]] || "$BUILD/nodectl" tls init --dir "$DL_W/tls" >/dev/null ||
	    fail "nodectl tls init --dir $DL_W/tls"
	cat > "$DL_W/bootsvc.conf" <<EOC
# written by tests/integ/lib.sh
state_dir = $DL_W/state
template_dir = $REPO/ipxe-scripts
control_socket = $DL_SOCK
http_listen = 0.0.0.0:8080
boot_url = $DL_URL
interface = br0
dhcp_mode = range
dhcp_range = $DL_NET.100,$DL_NET.199
node_ip_range = $DL_NET.10,$DL_NET.99
hold_poll = 2s
# Root reads BMC credential files for bootsvc's unprivileged process only beneath this
# directory (docs/security.md "Privilege separation"); lib_bmc.sh writes them into $DL_W.
bmc_creds_dir = $DL_W
# Nodes up for nobody stay up unless a test asks for the green policy (tests/integ/green.sh
# passes --idle_poweroff): slow TCG tests keep nodes idle for longer than the 10m default.
idle_poweroff = off
tls_ca_dir = $DL_W/tls
EOC
	# DL_STORE=pg: the store on a PostgreSQL in the test's namespace (lib_pg.sh), over TCP
	# with a password as a site runs it (issue 15); SQLite in state_dir otherwise.
	if [[ ${DL_STORE:-} == pg ]]; then
		if [[ -z ${PG_DIR:-} ]]; then
			source "$REPO/tests/integ/lib_pg.sh"
			PG_NETNS=$DL_NS pg_start "$DL_W/pg" 127.0.0.1 >>"$DL_W/pg.log" 2>&1 ||
			    fail "PostgreSQL did not start (see pg.log)"
			PG_NETNS=$DL_NS pg_createdb diskless || fail "createdb diskless"
		fi
		echo "store = $(pg_url diskless 127.0.0.1)" >>"$DL_W/bootsvc.conf"
	fi
	# ip netns exec execs the program, so $! is bootsvc itself (a shell function in the
	# background would leave an orphan when only the subshell is killed).
	ip netns exec "$DL_NS" "$BUILD/bootsvc" -c "$DL_W/bootsvc.conf" "$@" \
	    >>"$DL_W/bootsvc.log" 2>&1 &
	DL_BOOTSVC_PID=$!
	DL_PIDS+=("$DL_BOOTSVC_PID")
	dl_wait 10 "bootsvc answers" dl_nodectl ping
	# Started as root, bootsvc is two processes (docs/security.md): DL_BOOTSVC_PID is the
	# root parent, DL_BOOTSVC_NET_PID the unprivileged one that holds the listeners, whose
	# fds, limits, CPU and memory an attack is about.
	# (its bootsvc child; dnsmasq is the parent's child too. Not root: one process.)
	DL_BOOTSVC_NET_PID=$(pgrep -P "$DL_BOOTSVC_PID" -x bootsvc | head -n 1) || true
	DL_BOOTSVC_NET_PID=${DL_BOOTSVC_NET_PID:-$DL_BOOTSVC_PID}
}

dl_bootsvc_stop() {
	kill "$DL_BOOTSVC_PID" 2>/dev/null || true
	wait "$DL_BOOTSVC_PID" 2>/dev/null || true
}

dl_nodectl() { "$BUILD/nodectl" --socket "$DL_SOCK" "$@"; }

# dl_wait SECONDS WHAT CMD...: poll CMD every 0.5 s until it succeeds.
dl_wait() {
	local secs=$1 what=$2
	shift 2
	local end=$((SECONDS + secs))
	while ((SECONDS < end)); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.5
	done
	fail "timed out after ${secs}s waiting for: $what"
}

# dl_phase NODE: the node's phase as bootsvc reports it.
dl_phase() {
	dl_nodectl --json node list "$1" | python3 -c \
	    'import json,sys; print(json.load(sys.stdin)["nodes"][0]["phase"])'
}
dl_phase_is() { [[ $(dl_phase "$1") == "$2" ]]; }
# dl_field NODE KEY: one field of the node's object in `nodectl node list --json`.
dl_field() {
	dl_nodectl --json node list "$1" | python3 -c \
	    'import json,sys; print(json.load(sys.stdin)["nodes"][0][sys.argv[1]])' "$2"
}

# dl_qemu_fw ARRAY NAME bios|uefi MAC: append node NAME's firmware and NIC to the qemu
# arguments in the array named ARRAY (dl_qemu's and lib_bmc.sh's dl_bmc's). UEFI: OVMF,
# with its own copy of the variables, and the NIC's option ROM disabled (romfile=) so
# OVMF's own PXE fetches snponly.efi over TFTP. BIOS: SeaBIOS and the NIC's iPXE ROM.
dl_qemu_fw() {
	local -n _dl_qemu_args=$1
	local name=$2 fw=$3 mac=$4
	if [[ $fw == uefi ]]; then
		cp /usr/share/OVMF/OVMF_VARS.fd "$DL_W/$name.vars"
		_dl_qemu_args+=(-drive "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE.fd"
			-drive "if=pflash,format=raw,file=$DL_W/$name.vars"
			-device "virtio-net-pci,netdev=n0,mac=$mac,romfile=")
	else
		_dl_qemu_args+=(-device "virtio-net-pci,netdev=n0,mac=$mac")
	fi
}

# dl_events_to FILE [stamped]: a background subscriber to bootsvc's events from seq 0,
# one event per line in FILE as JSON with sorted keys; "stamped" writes {"t": arrival
# time, "e": event} instead (the history's `at` is whole seconds). Ended with the test.
dl_events_to() {
	python3 - "$DL_SOCK" "$1" "${2:-}" <<'EOP' &
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rwb")
f.write(b'{"id": 1, "verb": "events", "args": {"since": 0}}\n'); f.flush()
out = open(sys.argv[2], "w", buffering=1)
for line in f:
    m = json.loads(line)
    if "event" in m:
        if sys.argv[3] == "stamped":
            out.write(json.dumps({"t": time.time(), "e": m["event"]}) + "\n")
        else:
            out.write(json.dumps(m["event"], sort_keys=True) + "\n")
EOP
	DL_PIDS+=("$!")
}

# dl_qemu NAME bios|uefi MAC [MEM]: a diskless qemu node network-booting on tap NAME,
# console in $DL_W/NAME.log. BIOS: SeaBIOS + the NIC's iPXE ROM. UEFI: OVMF's own PXE
# with the NIC's option ROM disabled (romfile=), so it fetches snponly.efi over TFTP.
# DL_QEMU_CPU, if set, is the node's -cpu model (qemu's default otherwise). A node's
# reboot ends its qemu, unless DL_QEMU_REBOOT=1: then it boots again from the network, as
# a machine does after a kernel panic with panic=N (images/kvm).
dl_qemu() {
	local name=$1 fw=$2 mac=$3 mem=${4:-768}
	local args=(-accel tcg ${DL_QEMU_CPU:+-cpu "$DL_QEMU_CPU"} -m "$mem" -nographic -boot n
		-netdev "tap,id=n0,ifname=$name,script=no,downscript=no")
	[[ ${DL_QEMU_REBOOT:-0} == 1 ]] || args+=(-no-reboot)
	dl_tap "$name"
	dl_qemu_fw args "$name" "$fw" "$mac"
	ip netns exec "$DL_NS" qemu-system-x86_64 "${args[@]}" >"$DL_W/$name.log" 2>&1 </dev/null &
	DL_PIDS+=("$!")
	eval "DL_QEMU_${name//-/_}=$!"
}

# dl_console_has NAME REGEX
# grep reads to the end (no -q): with pipefail, a grep that quits at its first match
# leaves tr writing into a closed pipe, and its SIGPIPE failed the check of a line that
# was there, early in a long log (hv_xen's UEFI node: "shows no Xen", its banner at line
# 41 of the log it kept).
dl_console_has() { tr -d '\r' <"$DL_W/$1.log" | grep -aE "$2" >/dev/null; }

# The images/disk-debian version (kind iscsi) in the shared image store, built when
# missing or when its recipe changed (imagebuild skips an unchanged one in a second; a
# build takes 2-4 minutes). Prints the version directory; the disk is <dir>/disk.img, the
# id is the directory's name. STORE as in image_compute.sh (default /var/lib/diskless).
dl_image_disk_debian() {
  local out err=${DL_W:-/tmp}/disk-debian-build.err
  # Two tests that start together build it once: the second waits for the lock, then
  # finds it up to date.
  out=$(cd "$REPO" && flock /run/lock/diskless-image-disk-debian.lock \
    "$BUILD/imagebuild" build images/disk-debian \
    --store "${STORE:-/var/lib/diskless}/images" --work "${DL_W:-/var/tmp}/work" 2>"$err") ||
    { tail -20 "$err" >&2; fail "imagebuild images/disk-debian failed"; }
  tail -n1 <<<"$out" | cut -d' ' -f2
}
