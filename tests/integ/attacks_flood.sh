#!/bin/bash
# Issue 11 point 4, "the boot path cannot be starved", end to end on a bridge with an
# attacker namespace of its own:
# - bootsvc started with a (soft) fd limit of 1,024 raises it to what max_connections
#   needs, and with a hard limit of 1,024 refuses to start naming the numbers;
# - with a reader thread beside the loop (http_threads = 2), so the limits below hold
#   across the threads' sockets;
# - 10,000 idle plus 2,000 trickling connections from 20 attacker addresses: meanwhile a
#   qemu node boots and script requests from a node's address are answered (latencies in
#   the log), trickling connections are cut at http_request_timeout, and the log stays
#   small;
# - the control listener at EMFILE backs off instead of spinning, and recovers;
# - the control socket: 1,000 node.list pipelined in one write (2,000 nodes), a client
#   that never reads, 200 idle clients of another user, a half-closing client that gets
#   the whole reply, while root's nodectl ping and script requests keep being answered;
#   bootsvc's RSS recorded.
source "$(dirname "$0")/lib.sh"
dl_require qemu-system-x86_64 curl python3 ip prlimit setpriv
dl_setup flood 89
ATK=dl-flood-atk-$$
PRB=dl-flood-prb-$$
# lib.sh's cleanup also when this test fails: set -e holds in a trap, so it is lifted
# before (exit $rc) hands the status on to dl_cleanup.
trap 'rc=$?; set +e; ip netns del "$ATK" 2>/dev/null; ip netns del "$PRB" 2>/dev/null; (exit $rc); dl_cleanup' EXIT

# dl_peer_ns NS IF ADDR...: a namespace on br0 through a veth pair, with these addresses.
dl_peer_ns() {
	local ns=$1 ifname=$2
	shift 2
	ip netns add "$ns"
	ip -n "$DL_NS" link add "$ifname" type veth peer name eth0 netns "$ns"
	ip -n "$DL_NS" link set "$ifname" master br0 up
	ip -n "$ns" link set lo up
	for a in "$@"; do ip -n "$ns" addr add "$a/24" dev eth0; done
	ip -n "$ns" link set eth0 up
}
ATK_ADDRS=()
for i in $(seq 200 219); do ATK_ADDRS+=("$DL_NET.$i"); done
dl_peer_ns "$ATK" atk0 "${ATK_ADDRS[@]}"
dl_peer_ns "$PRB" prb0 "$DL_NET.11"
# 12,000 connections from 20 addresses to one port need the whole ephemeral range.
ip netns exec "$ATK" sysctl -qw net.ipv4.ip_local_port_range="1024 65000"

out=$("$BUILD/imagebuild" build "$REPO/images/tiny" --store "$DL_W/store" --work "$DL_W" \
    2>"$DL_W/imagebuild.log") || fail "imagebuild tiny"
read -r _ IMG <<<"$(tail -n 1 <<<"$out")"

# --- an fd limit of 1,024: bootsvc raises it, or refuses to start saying why
set +e
setpriv --reuid=65534 --regid=65534 --clear-groups prlimit --nofile=1024:1024 \
    "$BUILD/bootsvc" --state_dir="$DL_W/nobody" --dhcp_mode=off >"$DL_W/nofile.out" 2>&1
rc=$?
set -e
[[ $rc != 0 ]] && grep -q 'max_connections 4096 needs 8576 file descriptors.*RLIMIT_NOFILE is 1024 (hard 1024)' \
    "$DL_W/nofile.out" || fail "an unraisable fd limit: exit $rc, '$(cat "$DL_W/nofile.out")'"
pass "an fd limit it may not raise stops start-up: $(cut -c1-150 "$DL_W/nofile.out")..."

# The soft limit of most services (systemd's default is 1024:524288): bootsvc raises it.
ulimit -Sn 1024
dl_bootsvc_start --http_request_timeout=5s --control_group=nogroup --control_idle_timeout=15s \
    --http_threads=2
grep -q 'event=nofile_raised from=1024 to=8576' "$DL_W/bootsvc.log" ||
    fail "bootsvc did not raise RLIMIT_NOFILE: $(grep nofile "$DL_W/bootsvc.log")"
grep -q '^Max open files  *8576 ' "/proc/$DL_BOOTSVC_NET_PID/limits" ||
    fail "bootsvc's limit: $(grep 'open files' "/proc/$DL_BOOTSVC_NET_PID/limits")"
pass "started with 1024 fds, bootsvc raised its limit to 8576"

dl_nodectl image add "$IMG" >/dev/null || fail "image add"
dl_nodectl node add n01 --mac 52:54:00:89:00:01 --image tiny >/dev/null || fail "node add n01"
dl_nodectl node add p02 --mac 52:54:00:89:00:02 --ip "$DL_NET.11" >/dev/null || fail "node add p02"

# --- the flood, from 20 addresses: 10,000 idle and 2,000 trickling (a byte every 2 s)
ip netns exec "$ATK" "$BUILD/tools/httpflood" "$DL_SRV" 8080 --idle 10000 --trickle 2000 \
    --every 2000 --seconds 600 --src "${ATK_ADDRS[0]}" --nsrc 20 >"$DL_W/flood.log" 2>&1 &
FLOOD=$!
DL_PIDS+=("$FLOOD")
dl_wait 30 "the flood is up" grep -q '^t=3 ' "$DL_W/flood.log"
pass "flood running: $(tail -n 1 "$DL_W/flood.log")"

# script requests from p02's address while the flood holds, and a booting qemu node
probe() { # one script request from p02's address; prints its latency in s
	ip netns exec "$PRB" curl -sf -o /dev/null --max-time 30 -w '%{time_total}\n' \
	    "$DL_URL/ipxe/boot?mac=52:54:00:89:00:02"
}
dl_qemu n01 bios 52:54:00:89:00:01
n_probe=0
end=$((SECONDS + 300))
while ! dl_phase_is n01 up; do
	((SECONDS < end)) || fail "n01 not up within 300 s under the flood"
	t=$(probe) || fail "a script request from p02's address was not answered within 30 s"
	echo "probe $n_probe latency_s=$t" >>"$DL_W/latency.log"
	n_probe=$((n_probe + 1))
	dl_nodectl ping >/dev/null || fail "nodectl ping failed under the flood"
	sleep 2
done
((n_probe >= 3)) || fail "only $n_probe probes while n01 booted"
echo "--- script latencies under the flood (probe from $DL_NET.11, then n01's own)"
cat "$DL_W/latency.log"
grep "route=ipxe .*client=$DL_NET.10" "$DL_W/bootsvc.log" | grep -o 'status=[0-9]* .*ms=[0-9]*' |
    sed 's/^/n01 script: /'
pass "n01 booted up and $n_probe script requests from p02's address were answered under the flood"

flood_now=$(tail -n 1 "$DL_W/flood.log")
trickled=$(grep -o 'closed_trickle=[0-9]*' <<<"$flood_now" | cut -d= -f2)
((trickled > 0)) || fail "no trickling connection was closed: $flood_now"
deadline_total=$(grep -o 'event=http_deadline.*total=[0-9]*' "$DL_W/bootsvc.log" | tail -n 1 |
    grep -o 'total=[0-9]*$' | cut -d= -f2)
((${deadline_total:-0} > 0)) || fail "no request was cut at its deadline"
lines=$(wc -l <"$DL_W/bootsvc.log")
bytes=$(wc -c <"$DL_W/bootsvc.log")
echo "flood: $flood_now; requests cut at the deadline: $deadline_total; log: $lines lines, $bytes bytes"
((lines < 5000)) || fail "the log grew to $lines lines under the flood"
pass "trickling connections cut at http_request_timeout ($deadline_total); log $lines lines"
kill "$FLOOD"
wait "$FLOOD" 2>/dev/null || true

# --- the per-address limit (http_max_per_ip, 64): bootsvc accepts connections itself and
# hands them to libmicrohttpd, which must still close those over the limit at once and
# keep the rest. From one attacker address, once the flood's connections are gone.
flood_gone() {
	! dl_ns ss -Htn state established state close-wait 'sport = :8080' | grep -q " ${ATK_ADDRS[0]}:"
}
dl_wait 60 "bootsvc closed the flood's connections from ${ATK_ADDRS[0]}" flood_gone
out=$(ip netns exec "$ATK" python3 - "${ATK_ADDRS[0]}" "$DL_SRV" <<'PY'
import socket, sys, time
src, dst = sys.argv[1], sys.argv[2]
conns = []
for _ in range(80):
    s = socket.socket()
    s.bind((src, 0))
    s.connect((dst, 8080))
    conns.append(s)
time.sleep(1)
closed = 0
for s in conns:
    s.setblocking(False)
    try:
        closed += s.recv(1) == b""
    except BlockingIOError:
        pass
    except ConnectionResetError:
        closed += 1
print(len(conns) - closed, closed)
PY
) || fail "per-address probe failed: $out"
read -r kept closed <<<"$out"
[[ $kept == 64 && $closed == 16 ]] || fail "80 connections from one address: $kept kept, $closed closed (want 64, 16)"
pass "80 connections from one address: 64 kept, 16 closed at once (http_max_per_ip)"
cat "$DL_W/flood.log" | tail -n 1

# --- a POST nobody authorised is refused on its headers: its body is not read (before: a
# 401 after up to 200 MiB drained)
head -c $((50 * 1024 * 1024)) /dev/zero >"$DL_W/big.bin"
for expect in "Expect: 100-continue" "Expect:"; do
	r=$(ip netns exec "$PRB" curl -s -o /dev/null -w '%{http_code} %{size_upload}' -X POST \
	    -H "$expect" --data-binary @"$DL_W/big.bin" "$DL_URL/api/v1/nodes/p02/phase" || true)
	read -r code up <<<"$r"
	echo "unauthenticated 50 MiB POST ($expect): HTTP $code after $up bytes sent"
	[[ $code == 401 || ($expect == "Expect:" && $code == 000) ]] ||
	    fail "an unauthenticated POST answered '$code'"
	((up < 8 * 1024 * 1024)) || fail "bootsvc read $up bytes of an unauthenticated body"
done
rm -f "$DL_W/big.bin"
pass "unauthenticated POSTs refused before their bodies were read"

# --- EMFILE: the control listener backs off instead of spinning (before: 96% CPU)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$DL_BOOTSVC_NET_PID/stat"; }
sleep 6 # the flood's connections are closed by now
# The limit is on fd numbers: set it to the lowest free one, so the next fd is refused.
lowest=$(ls "/proc/$DL_BOOTSVC_NET_PID/fd" | sort -n | awk '$1 != NR - 1 { print NR - 1; f = 1; exit } END { if (!f) print NR }')
# As the process's own user: it dropped from root, and root here may lack CAP_SYS_RESOURCE
# to change another user's limits; its soft limit only, which that user may lower and raise.
as_bootsvc() { setpriv --reuid="$(id -u diskless)" --regid="$(id -g diskless)" --clear-groups "$@"; }
as_bootsvc prlimit --pid "$DL_BOOTSVC_NET_PID" --nofile="$lowest:"
dl_nodectl ping >"$DL_W/ping_emfile.out" 2>&1 &
PING=$!
DL_PIDS+=("$PING")
sleep 1
t0=$(cpu_ticks)
sleep 3
t1=$(cpu_ticks)
cpu=$(( (t1 - t0) * 100 / ($(getconf CLK_TCK) * 3) ))
echo "bootsvc CPU over 3 s with a control client waiting at EMFILE: ${cpu}%"
grep -q 'event=control_accept err=EMFILE' "$DL_W/bootsvc.log" ||
    fail "no EMFILE from the control listener"
((cpu < 50)) || fail "bootsvc used ${cpu}% CPU at EMFILE: spinning"
as_bootsvc prlimit --pid "$DL_BOOTSVC_NET_PID" --nofile=8576:
wait "$PING" || fail "the ping waiting at EMFILE failed: $(cat "$DL_W/ping_emfile.out")"
ip netns exec "$PRB" curl -sf -o /dev/null --max-time 30 "$DL_URL/ipxe/boot?mac=52:54:00:89:00:02" ||
    fail "no script after EMFILE"
pass "at EMFILE the control listener backed off (${cpu}% CPU) and served the ping once fds were back"

# --- the control socket
dl_nodectl node add 'c[0000-1999]' --mac '52:54:01:89:[00-19]:[00-99]' \
    --ip '10.89.[1-8].[0-249]' >/dev/null ||
    fail "node add c[0000-1999]"
(
	for i in $(seq 200); do
		s=$(date +%s%N)
		dl_nodectl ping >/dev/null || { echo "ping $i failed"; exit 1; }
		echo "ping $i latency_ms=$((($(date +%s%N) - s) / 1000000))"
		t=$(probe) || { echo "script $i failed"; exit 1; }
		echo "script $i latency_s=$t"
		sleep 0.3
	done
) >"$DL_W/pings.log" 2>&1 &
PINGS=$!
DL_PIDS+=("$PINGS")
python3 - "$DL_SOCK" "$DL_BOOTSVC_NET_PID" >"$DL_W/control_attack.log" 2>&1 <<'EOP' || fail "control socket: $(tail -n 5 "$DL_W/control_attack.log")"
import json, os, select, socket, sys, time
path, pid = sys.argv[1], sys.argv[2]
def rss_mb():
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS:"):
            return int(l.split()[1]) // 1024
def conn():
    s = socket.socket(socket.AF_UNIX); s.connect(path); return s
rss = [rss_mb()]
# 200 idle clients of another user in control_group (a child, so root keeps its uid)
r, w = os.pipe()
child = os.fork()
if child == 0:
    os.close(r)
    os.setgroups([]); os.setgid(65534); os.setuid(65534)
    idle = [conn() for _ in range(200)]
    time.sleep(1)
    refused = sum(1 for s in idle if select.select([s], [], [], 0)[0])
    os.write(w, f"{len(idle)} {refused}\n".encode())
    # hold them until closed by the daemon's idle timeout; count the lines saying why
    t = time.time(); said = 0
    for s in idle:
        s.settimeout(max(0.1, 40 - (time.time() - t)))
        try:
            data = s.recv(4096)
            said += b"idle" in data
        except socket.timeout:
            pass
    os.write(w, f"{said}\n".encode())
    os._exit(0)
os.close(w)
rf = os.fdopen(r)
n_idle, refused = map(int, rf.readline().split())
# 1 + 2 + 200 + the pinger: the table's non-root part is 124, so some of the 200 are refused
print(f"idle clients: {n_idle} connected, {refused} refused with a line")
# a client that never reads: 100 node.list, then silence
never = conn(); never.sendall(b'{"id":1,"verb":"node.list"}\n' * 100)
# half-close: node.list then shutdown(SHUT_WR); the whole reply must come
half = conn(); half.sendall(b'{"id":2,"verb":"node.list"}\n'); half.shutdown(socket.SHUT_WR)
# 1,000 node.list pipelined in one write, read as they come
pipe = conn(); pipe.sendall(b'{"id":3,"verb":"node.list"}\n' * 1000)
pipe.setblocking(False); half.setblocking(False)
got_half = bytearray(); half_done = False
replies = 0; partial = bytearray(); t0 = time.time(); bytes_pipe = 0
while time.time() - t0 < 60 and (replies < 1000 or not half_done):
    rd, _, _ = select.select([pipe] + ([] if half_done else [half]), [], [], 1)
    if half in rd:
        d = half.recv(1 << 20)
        if d: got_half += d
        else: half_done = True
    if pipe in rd:
        d = pipe.recv(1 << 20)
        bytes_pipe += len(d)
        n = d.count(b"\n")
        if n:
            last = d.rfind(b"\n")
            line = bytes(partial + d[:last]).split(b"\n")[-1]
            assert json.loads(line)["ok"], line[:200]
            partial = bytearray(d[last + 1:])
        else:
            partial += d
        replies += n
    rss.append(rss_mb())
print(f"pipelined: {replies} of 1000 replies ({bytes_pipe} bytes) in {time.time() - t0:.1f} s")
assert half_done, "the half-closing client was not closed after its reply"
res = json.loads(bytes(got_half))
assert res["ok"] and len(res["result"]["nodes"]) == 2002, (res.get("error"), len(got_half))
print(f"half-closed client: whole reply, {len(got_half)} bytes, {len(res['result']['nodes'])} nodes")
assert replies >= 100, f"only {replies} pipelined replies in 60 s"
# the never-reading client is closed after control_idle_timeout (15 s) without progress
never.setblocking(True); never.settimeout(40); drained = 0
while True:
    d = never.recv(1 << 20)
    if not d: break
    drained += len(d)
print(f"never-reading client closed; it had {drained} bytes waiting")
assert drained < 8 * 1024 * 1024, drained
said = int(rf.readline())
print(f"idle clients told why they were closed: {said}")
assert said >= n_idle - refused - 5, said
os.waitpid(child, 0)
print(f"bootsvc RSS MB: start {rss[0]} max {max(rss)} end {rss_mb()}")
assert max(rss) < 200, rss
EOP
cat "$DL_W/control_attack.log"
kill "$PINGS" 2>/dev/null || true
! grep -q failed "$DL_W/pings.log" || fail "a root ping or script failed: $(grep failed "$DL_W/pings.log")"
echo "root pings: $(grep -c '^ping' "$DL_W/pings.log"), slowest: $(grep '^ping' "$DL_W/pings.log" | sort -t= -k2 -g | tail -n 1)"
echo "scripts from p02 meanwhile: $(grep -c '^script' "$DL_W/pings.log"), slowest: $(grep '^script' "$DL_W/pings.log" | sort -t= -k2 -g | tail -n 1)"
n=$(grep -c 'msg="not reading its replies, closing"' "$DL_W/bootsvc.log" || true)
((n == 1)) || fail "the never-reading client was logged $n times"
pass "control socket: pipelining, a non-reader, 200 idle clients and a half-close; root's pings and p02's scripts all answered"
echo "PASS"
