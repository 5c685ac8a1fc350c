#!/bin/bash
# Issue 11 point 5: the control protocol over TCP with mutual TLS, from another host.
#   - bootsvc listens on control_tcp inside its namespace; a scheduler client in ANOTHER
#     namespace (a veth on the test bridge) with a scheduler certificate provisions a node
#     behind a simulated BMC over mTLS: the request is accepted, the store has it, and the
#     node powers on and boots into the image; a second provision reimages it (one power
#     cycle, up on the new image); `power off` from the same client lands in the store
#   - refused, each with a clear message: no certificate, a certificate of another CA, an
#     expired one, bootsvc's server certificate used as a client, and a read-only
#     certificate powering the node off (the node's desired power is unchanged)
#   - nodectl verifies bootsvc's certificate: a wrong --ca fails naming the reason
#   - control_tcp without certificates does not start (no plain-TCP mode)
#   - the Unix socket keeps working as admin throughout
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_bmc.sh"
dl_require qemu-system-x86_64 python3 ip ipmi_sim
dl_setup tls 93
PORT=8443
PKI=$DL_W/pki
N=$BUILD/nodectl

# --- the CA and certificates, made by nodectl (no openssl recipe)
"$N" tls init --dir "$PKI" >/dev/null || fail "tls init"
"$N" tls issue bootsvc --server --san "$DL_SRV" --dir "$PKI" >/dev/null || fail "issue server"
for r in scheduler read-only admin; do
	"$N" tls issue "c-$r" --role "$r" --dir "$PKI" >/dev/null || fail "issue $r"
done
"$N" tls issue c-old --role scheduler --expired --dir "$PKI" >/dev/null || fail "issue expired"
"$N" tls init --dir "$DL_W/other" >/dev/null || fail "tls init (other CA)"
"$N" tls issue c-evil --role admin --dir "$DL_W/other" >/dev/null || fail "issue other CA"
[[ $(stat -c %a "$PKI/ca.key") == 600 && $(stat -c %a "$PKI/c-scheduler.key") == 600 ]] ||
    fail "keys are not 0600"
"$N" tls issue c-scheduler --role admin --dir "$PKI" >/dev/null 2>&1 && fail "issue overwrote"
pass "tls init / issue: CA, server, scheduler, read-only, admin, expired, another CA; keys 0600"

# --- no plain-TCP mode
if "$BUILD/bootsvc" --state_dir="$DL_W/nostate" --template_dir="$REPO/ipxe-scripts" \
    --control_socket="$DL_W/no.sock" --dhcp_mode=off --http_listen=127.0.0.1:18093 \
    --control_tcp=127.0.0.1:18443 >"$DL_W/notls.out" 2>&1; then
	fail "bootsvc started with control_tcp and no certificates"
fi
grep -q 'control_tcp needs control_tls_cert' "$DL_W/notls.out" || fail "no reason: $(cat "$DL_W/notls.out")"
pass "control_tcp without certificates: bootsvc refuses to start"

build() { # recipe-dir: prints "<id> <dir>"
	"$BUILD/imagebuild" build "$1" --store "$DL_W/store" --work "$DL_W" \
	    2>>"$DL_W/imagebuild.log" | tail -n 1
}
read -r IMG _ <<<"$(build "$REPO/images/tiny")"
read -r IMG2 _ <<<"$(build "$REPO/tests/data/images/tiny-v2")"
[[ -n $IMG && -n $IMG2 && $IMG != "$IMG2" ]] || fail "imagebuild tiny, tiny-v2"

dl_bootsvc_start --power_poll=5s --bmc_timeout=3s --timeout_pxe=120s --timeout_loading=90s \
    --timeout_imaging=90s --timeout_up=180s --retry_backoff=2s \
    --control_tcp="$DL_SRV:$PORT" --control_tls_cert="$PKI/bootsvc.crt" \
    --control_tls_key="$PKI/bootsvc.key" --control_tls_ca="$PKI/ca.crt"
for v in "$IMG" "$IMG2"; do
	dl_nodectl image add "$DL_W/store/$v" >/dev/null || fail "image add $v"
done
dl_bmc n01 10.93.0.21 52:54:00:93:00:01 bios
dl_nodectl node add n01 --mac 52:54:00:93:00:01 --bmc 10.93.0.21 \
    --bmc-creds "$DL_W/n01.creds" >/dev/null || fail "node add n01 (Unix socket)"

# --- the client host: its own namespace, a veth into the test bridge
CNS=dl-tlsc-$$
_tls_exit() {
	local rc=$?
	set +e
	ip netns del "$CNS" 2>/dev/null
	(exit "$rc")
	_dl_bmc_exit
}
trap _tls_exit EXIT
ip netns add "$CNS"
ip link add "tc$$" type veth peer name "ts$$"
ip link set "tc$$" netns "$CNS"
ip link set "ts$$" netns "$DL_NS"
ip -n "$DL_NS" link set "ts$$" master br0 up
ip -n "$CNS" link set lo up
ip -n "$CNS" addr add 10.93.0.50/24 dev "tc$$"
ip -n "$CNS" link set "tc$$" up

# remote CERT CMD...: nodectl from the client namespace with the client certificate CERT
remote() {
	local dir=$PKI c=$1
	[[ $c == c-evil ]] && dir=$DL_W/other
	shift
	ip netns exec "$CNS" "$N" --server "$DL_SRV:$PORT" --ca "$PKI/ca.crt" \
	    --cert "$dir/$c.crt" --key "$dir/$c.key" "$@"
}
dl_wait 10 "control_tcp answers from the client namespace" remote c-read-only ping

# --- the scheduler reimages n01 over mTLS
t0=$(date +%s.%N)
remote c-scheduler provision n01 --image "tiny@${IMG:0:12}" >"$DL_W/prov.out" 2>&1 ||
    { cat "$DL_W/prov.out"; fail "scheduler provision over mTLS"; }
t1=$(date +%s.%N)
echo "provision over mTLS answered in $(awk -v a="$t0" -v b="$t1" "BEGIN { printf \"%.3f\", b - a }") s"
[[ $(dl_field n01 image_id) == "$IMG" && $(dl_field n01 want_power) == on ]] ||
    fail "provision did not reach the store: image_id=$(dl_field n01 image_id) want=$(dl_field n01 want_power)"
pass "scheduler (another namespace, mTLS): provision accepted, in the store"
up_on() { dl_phase_is n01 up && [[ $(dl_field n01 booted_image) == "$IMG" ]]; }
dl_wait 300 "n01 up on the image" up_on
[[ $(dl_bmc_power_count n01) == 1 ]] || fail "n01 powered on $(dl_bmc_power_count n01) times"
pass "n01 powered on through its BMC and booted the image the scheduler asked for"

# --- and reimages it: one power cycle, up on the second image
# (--wait follows the event stream over the same TLS connection)
remote c-scheduler provision n01 --image "tiny@${IMG2:0:12}" --wait --timeout 5m \
    >"$DL_W/reimage.out" 2>&1 || { cat "$DL_W/reimage.out"; fail "scheduler reimage over mTLS"; }
up_on2() { dl_phase_is n01 up && [[ $(dl_field n01 booted_image) == "$IMG2" ]]; }
up_on2 || fail "provision --wait returned but n01 is not up on the second image"
(( $(dl_bmc_power_count n01) + $(dl_bmc_reset_count n01) == 2 )) ||
    fail "n01: expected one power cycle for the reimage"
pass "scheduler reimaged n01 over mTLS (provision --wait on the event stream): power-cycled once, up on the second image"
remote c-read-only node list n01 | grep -q '^n01 ' || fail "read-only node list"
pass "read-only: node list over mTLS"

# --- refusals, each with its reason
expect_refused() { # WHAT REGEX CMD...: CMD fails and its stderr matches REGEX
	local what=$1 re=$2 out
	shift 2
	if out=$("$@" 2>&1); then fail "$what: accepted"; fi
	grep -qE "$re" <<<"$out" || fail "$what: unclear message: $out"
	echo "  $what -> $out"
}
expect_refused "read-only power off" "role 'read-only' of 'c-read-only' may not use 'power'" \
    remote c-read-only power off n01
[[ $(dl_field n01 want_power) == on ]] || fail "read-only power off changed want_power"
expect_refused "expired certificate" "refused: it has expired" remote c-old ping
expect_refused "another CA's certificate" "not signed by this bootsvc's CA" remote c-evil ping
expect_refused "server certificate as a client" "not for TLS clients" remote bootsvc ping
expect_refused "no certificate (nodectl)" "needs a client certificate" \
    ip netns exec "$CNS" "$N" --server "$DL_SRV:$PORT" --ca "$PKI/ca.crt" ping
expect_refused "wrong --ca" "does not verify against the CA.*issuer is unknown" \
    ip netns exec "$CNS" "$N" --server "$DL_SRV:$PORT" --ca "$DL_W/other/ca.crt" \
    --cert "$PKI/c-admin.crt" --key "$PKI/c-admin.key" ping
# No certificate at all, from a TLS client that does not check first: the handshake
# fails and no request is served.
ip netns exec "$CNS" python3 - "$DL_SRV" "$PORT" "$PKI/ca.crt" >"$DL_W/nocert.out" 2>&1 <<'PY' ||
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(sys.argv[3])
s = ctx.wrap_socket(socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10),
                    server_hostname=sys.argv[1])
try:
    s.sendall(b'{"id":1,"verb":"node.list","args":{}}\n')
    data = s.recv(65536)
except (ssl.SSLError, OSError) as e:
    print("refused:", e)
    sys.exit(0)
print("answered:", data)
sys.exit(1 if b'"ok":true' in data else 0)
PY
    fail "a client without a certificate was served: $(cat "$DL_W/nocert.out")"
grep -q 'why="handshake: no client certificate"' "$DL_W/bootsvc.log" ||
    fail "bootsvc did not log the missing certificate"
for why in "has expired" "not signed by this bootsvc's CA" "not for TLS clients"; do
	[[ $(grep -c "control_tls_refused.*$why" "$DL_W/bootsvc.log") == 1 ]] ||
	    fail "bootsvc logged '$why' not exactly once"
done
pass "refused with a clear message: read-only power off, expired, another CA, server cert, no cert, wrong --ca"

# --- a TCP client that never starts a handshake is closed at the deadline, not kept
ip netns exec "$CNS" python3 - "$DL_SRV" "$PORT" >"$DL_W/idle.out" 2>&1 <<'PY' ||
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=60)
t0 = time.monotonic()
data = s.recv(100)  # b"" once bootsvc closes it
print("closed after %.1f s, read %r" % (time.monotonic() - t0, data))
sys.exit(0 if data == b"" else 1)
PY
    fail "an idle TCP client was not closed: $(cat "$DL_W/idle.out")"
echo "  idle TCP client: $(cat "$DL_W/idle.out")"
grep -q 'why="no handshake within 10 s"' "$DL_W/bootsvc.log" ||
    fail "bootsvc did not log the handshake deadline"
pass "a client without a handshake is closed at the handshake deadline"

# --- the scheduler's power lands in the store; the Unix socket is still admin
remote c-scheduler power off n01 >/dev/null || fail "scheduler power off"
[[ $(dl_field n01 want_power) == off ]] || fail "power off did not reach the store"
expect_refused "scheduler node remove" "role 'scheduler' .* may not use 'node.remove'" \
    remote c-scheduler node remove n01
dl_nodectl hold n01 >/dev/null || fail "Unix socket hold (admin)"
[[ $(dl_field n01 hold) == True ]] || fail "hold over the Unix socket did not land"
pass "scheduler power off in the store; scheduler refused node remove; Unix socket is admin"
