#!/bin/bash
# Issue #11, an attacker on the boot network (docs/security.md "The boot network"): a real
# qemu node behind an ipmi_sim BMC, booted by the controller, and an attacker host on the
# same bridge with an address of its own (a network namespace of its own).
#   - the attacker GETs the up node's script: 403, evented with its address; the node stays
#     up and its BMC gets no power command
#   - the node's OS reboots itself (qemu monitor system_reset, not the BMC): it boots
#     through under a self-boot op, power-cycled zero times, and is up again
#   - the attacker asks for the node's credential (by name; the script by MAC): refused
#     and evented, also while the node is armed; the credential went out once per boot
#   - the kernel command line on the booted node holds no secret
#   - the overlay without the current credential is 401; with an old one 403
#   - a client that asks for the kernel and never reads holds at most 2 x http_sndbuf of
#     bootsvc's socket memory
#   - the store (and its -wal/-shm) and the BMC credential files are 0600
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_bmc.sh"
dl_require qemu-system-x86_64 python3 ip ipmi_sim curl sqlite3
dl_setup atk 87

MAC=52:54:00:87:00:01
ATT_IP=$DL_NET.66
# images/tiny without 'quiet': the kernel logs its command line on the console
read -r A _ <<<"$("$BUILD/imagebuild" build "$REPO/tests/data/images/loud" --store "$DL_W/store" \
    --work "$DL_W" 2>>"$DL_W/imagebuild.log" | tail -n 1)"
[[ -n $A ]] || fail "image build"

dl_bootsvc_start --power_poll=3s --bmc_timeout=3s --timeout_pxe=120s --timeout_loading=90s \
    --timeout_imaging=90s --timeout_up=180s --boot_attempts=2 --retry_backoff=2s
for v in "$DL_W"/store/*/; do dl_nodectl image add "${v%/}" >/dev/null || fail "image add"; done
dl_bmc n01 $DL_NET.21 $MAC bios
dl_nodectl node add n01 --mac $MAC --bmc $DL_NET.21 --bmc-creds "$DL_W/n01.creds" \
    >/dev/null || fail "node add n01"
NODE_IP=$(dl_field n01 ip)
[[ -n $NODE_IP ]] || fail "n01 got no fixed address"

# --- the attacker: its own namespace, a veth on the test bridge, its own address
ATT=dl-atk-x-$$
_atk_exit() {
	local rc=$?
	ip netns del "$ATT" 2>/dev/null
	(exit "$rc")
	_dl_bmc_exit
}
trap _atk_exit EXIT
ip netns add "$ATT"
ip link add atk0 netns "$DL_NS" type veth peer name eth0 netns "$ATT"
ip -n "$DL_NS" link set atk0 master br0 up
ip -n "$ATT" link set lo up
ip -n "$ATT" addr add "$ATT_IP/24" dev eth0
ip -n "$ATT" link set eth0 up
att() { ip netns exec "$ATT" curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@"; }
dl_wait 10 "the attacker reaches bootsvc" att "$DL_URL/ipxe/start"

db() { sqlite3 "$DL_W/state/diskless.db" "$1"; }
token() { db "select token from nodes where name='n01'"; }
events() { timeout 3 "$BUILD/nodectl" --socket "$DL_SOCK" events --since 0 2>/dev/null || true; }
count() { dl_bmc_power_count n01; }
resets() { dl_bmc_reset_count n01; }
up_on_a() { dl_phase_is n01 up && [[ $(dl_field n01 booted_image) == "$A" ]]; }

# --- the controller boots n01
t0=$SECONDS
dl_nodectl provision n01 --image "loud@${A:0:12}" --wait --timeout 8m >"$DL_W/wait.log" 2>&1 ||
    { cat "$DL_W/wait.log"; fail "provision n01"; }
up_on_a || fail "n01 not up on A"
[[ $(count) == 1 && $(resets) == 0 ]] || fail "n01: $(count) power-ons, $(resets) resets"
TOKEN1=$(token)
pass "n01 up on A through its BMC in $((SECONDS - t0)) s (1 power-on)"

# --- 1. the attacker asks for the up node's script
code=$(att "$DL_URL/ipxe/boot?mac=$MAC")
[[ $code == 403 ]] || fail "attacker got the up node's script: HTTP $code"
sleep 8 # two controller power polls and many ticks: time to act, if it were to
dl_phase_is n01 up || fail "n01 left up after the attacker's script request: $(dl_phase n01)"
[[ $(count) == 1 && $(resets) == 0 ]] ||
    fail "the attacker's GET made the BMC act: $(count) power-ons, $(resets) resets"
[[ -z $(dl_field n01 op) ]] || fail "n01 got an op: $(dl_field n01 op)"
events | grep -a "n01" | grep -a "script-refused" | grep -aq "from $ATT_IP" ||
    fail "no script-refused event naming $ATT_IP"
pass "attacker's script GET: 403, evented with its address; n01 stayed up, its BMC got no command"

# --- 2. the node's OS reboots itself (not through the BMC)
before=$(wc -l <"$DL_W/n01.log")
t0_wall=$(date +%s)
mon=$DL_BMC_MON_BASE
dl_ns bash -c "exec 3<>/dev/tcp/127.0.0.1/$mon && printf 'system_reset\n' >&3 && sleep 0.5"
t0=$SECONDS
self_op() { [[ $(dl_field n01 op) == self-boot ]]; }
dl_wait 120 "n01's script request starts a self-boot" self_op
dl_wait 300 "n01 up again after rebooting itself" up_on_a
op=$(dl_field n01 op)
[[ -z $op ]] || fail "n01's op after the self-boot is '$op'"
[[ $(count) == 1 && $(resets) == 0 ]] ||
    fail "n01 was power-cycled after rebooting itself: $(count) power-ons, $(resets) resets"
events | grep -a "n01" | grep -a "self-boot" | grep -aq "from $NODE_IP" ||
    fail "no self-boot event naming the node's address $NODE_IP"
TOKEN2=$(token)
[[ $TOKEN2 != "$TOKEN1" ]] || fail "the credential did not rotate across the reboot"
pass "n01 rebooted itself: self-boot op, power-cycled 0 times, up again in $((SECONDS - t0)) s, new credential"
# the evidence it was a reboot, not a user on the running node asking: dnsmasq's record of
# its PXE DHCP exchange, root's, newer than the boot it rebooted from
seen=$DL_W/state/dnsmasq/pxe-seen/$MAC
[[ -f $seen && $(stat -c %U "$seen") == root && $(stat -c %U "$(dirname "$seen")") == root ]] ||
    fail "no root-owned PXE evidence for n01: $(ls -la "$(dirname "$seen")" 2>&1)"
(($(stat -c %Y "$seen") >= t0_wall)) || fail "n01's PXE evidence is older than its reboot"
pass "the reboot was proven by n01's PXE DHCP exchange (dnsmasq's dhcp-script, root's file)"

# --- 3. the attacker asks for the credential
code=$(att "$DL_URL/api/v1/nodes/n01/credential")
[[ $code == 403 ]] || fail "attacker's credential request: HTTP $code"
dl_nodectl node arm n01 >/dev/null || fail "node arm"
[[ $(dl_field n01 armed) == True ]] || fail "n01 not armed after node arm"
code=$(att "$DL_URL/api/v1/nodes/n01/credential")
[[ $code == 403 ]] || fail "attacker got an armed node's credential: HTTP $code"
[[ $(dl_field n01 armed) == True ]] || fail "the attacker's request disarmed n01"
n=$(events | grep -a "n01" | grep -a "cred-refused" | grep -ac "from $ATT_IP")
[[ $n == 2 ]] || fail "expected 2 cred-refused events naming $ATT_IP, got $n"
handed=$(events | grep -a " n01 " | grep -a "credential" | grep -a "handed out" | grep -ac "$NODE_IP")
[[ $handed == 2 ]] || fail "credential handed out $handed times to $NODE_IP for 2 boots"
pass "attacker's credential requests (armed or not): 403, evented twice; the node got one per boot"

# --- 4. no secret on the kernel command line
tr -d '\r' <"$DL_W/n01.log" >"$DL_W/console.txt"
grep -a "Command line:" "$DL_W/console.txt" >"$DL_W/cmdlines.txt" ||
    fail "no 'Command line:' on n01's console"
grep -aq "dl.node=n01" "$DL_W/cmdlines.txt" || fail "the logged command lines are not the node's"
[[ $(wc -l <"$DL_W/cmdlines.txt") -ge 2 ]] || fail "expected two boots' command lines"
! grep -aq "dl.token" "$DL_W/cmdlines.txt" || fail "dl.token on the kernel command line"
for t in "$TOKEN1" "$TOKEN2"; do
	! grep -aq "$t" "$DL_W/console.txt" || fail "a credential appears on n01's console"
done
grep -aq "credential taken from the boot server's archive" "$DL_W/console.txt" ||
    fail "the init did not report taking the credential archive"
pass "kernel command lines of both boots hold no secret; the init took the credential archive"

# --- 5. the overlay
code=$(att "$DL_URL/api/v1/nodes/n01/overlay")
[[ $code == 401 ]] || fail "overlay without a credential: HTTP $code"
code=$(att -H "Authorization: Bearer $TOKEN1" "$DL_URL/api/v1/nodes/n01/overlay")
[[ $code == 403 ]] || fail "overlay with the previous boot's credential: HTTP $code"
code=$(ip netns exec "$DL_NS" curl -s -o /dev/null -w '%{http_code}' \
    -H "Authorization: Bearer $(token)" "$DL_URL/api/v1/nodes/n01/overlay")
[[ $code == 403 ]] || fail "overlay with the current credential from bootsvc's own address: HTTP $code"
pass "overlay: 401 without a credential, 403 with an old one or from another address"

# --- 6. a client that asks for the kernel and never reads: the server's side of the
# connection queues no more than http_sndbuf (256 KiB by default, doubled by the kernel:
# skmem's tb), where tcp_wmem's autotuning would let it grow to 4 MiB
DL_SRV_ADDR=${DL_URL#http://}
ip netns exec "$ATT" python3 - "${DL_SRV_ADDR%:*}" "${DL_SRV_ADDR#*:}" "$A" <<'EOP' &
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.sendall(b"GET /images/%s/kernel HTTP/1.1\r\nHost: x\r\n\r\n" % sys.argv[3].encode())
time.sleep(30)
EOP
NOREAD=$!
# the connection's line of `ss -tmn` on bootsvc's side (Recv-Q, Send-Q, ..., skmem)
conn_line() {
	ip netns exec "$DL_NS" ss -Htmn state established "( sport = :${DL_SRV_ADDR#*:} )" \
	    dst "$ATT_IP" | tr -s ' \n' ' '
}
sendq_of() { awk '{ print $2 }' <<<"$1"; }
# stalled: its queue no longer grows (the client reads nothing, bootsvc sent what fits)
stalled() {
	local a b
	a=$(conn_line)
	[[ $a == *tb* ]] || return 1
	sleep 0.5
	b=$(conn_line)
	[[ $(sendq_of "$b") -gt 0 && $(sendq_of "$a") == "$(sendq_of "$b")" ]] || return 1
	STALLED=$b
}
dl_wait 20 "the non-reading client's connection stalled" stalled
kill "$NOREAD" 2>/dev/null || true
wait "$NOREAD" 2>/dev/null || true
sendq=$(sendq_of "$STALLED")
tb=$(grep -o 'tb[0-9]*' <<<"$STALLED" | tr -d tb)
echo "server side of the non-reading connection: $STALLED"
# what the kernel makes of SO_SNDBUF 256k: doubled, after net.core.wmem_max's cap
max=$(cat /proc/sys/net/core/wmem_max)
want=$((2 * (max < 262144 ? max : 262144)))
[[ $tb == "$want" ]] || fail "its send buffer is $tb bytes, not 2 x http_sndbuf ($want)"
((sendq > 0 && sendq <= tb)) || fail "it queued $sendq bytes, not 1..$tb"
pass "a client that never reads the kernel it asked for: $sendq bytes queued on bootsvc's side, buffer $tb (http_sndbuf 256k)"

# --- 7. files holding secrets
for f in "$DL_W/state/diskless.db" "$DL_W/state/diskless.db-wal" "$DL_W/state/diskless.db-shm" \
    "$DL_W/n01.creds"; do
	[[ -e $f ]] || fail "$f missing"
	m=$(stat -c %a "$f")
	[[ $m == 600 ]] || fail "$f is mode $m"
done
pass "store, -wal, -shm and BMC credentials are 0600"
