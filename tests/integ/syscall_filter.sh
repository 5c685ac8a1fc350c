#!/bin/bash
# The unit's SystemCallFilter=@system-service, checked without systemd as PID 1: bootsvc's
# root parent, its unprivileged child and dnsmasq run under strace -f through a start, a
# node added, a reload (SIGHUP), a node removed and a stop; every system call they made
# must be in @system-service as this machine's systemd-analyze expands it. A call outside
# it would fail with EPERM under the unit (SystemCallErrorNumber=EPERM).
source "$(dirname "$0")/lib.sh"
dl_require ip strace systemd-analyze python3
dl_setup syscalls 124

cat >"$DL_W/bootsvc.conf" <<EOC
state_dir = $DL_W/state
template_dir = $REPO/ipxe-scripts
control_socket = $DL_SOCK
boot_url = $DL_URL
interface = br0
dhcp_mode = range
dhcp_range = $DL_NET.100,$DL_NET.199
node_ip_range = $DL_NET.10,$DL_NET.99
EOC
ip netns exec "$DL_NS" strace -f -qq -o "$DL_W/trace" "$BUILD/bootsvc" -c "$DL_W/bootsvc.conf" \
    >"$DL_W/bootsvc.log" 2>&1 &
SPID=$!
DL_PIDS+=("$SPID")
dl_wait 30 "bootsvc under strace answers" dl_nodectl ping
BPID=$(pgrep -P "$SPID" -x bootsvc | head -n 1) || fail "no bootsvc under strace"
dl_wait 10 "dnsmasq started" pgrep -P "$BPID" -x dnsmasq
dl_nodectl node add n01 --mac 52:54:00:24:01:01 >/dev/null || fail "node add"
kill -HUP "$BPID"
dl_wait 10 "the reload" grep -q 'event=reload msg="configuration and templates reloaded"' "$DL_W/bootsvc.log"
dl_nodectl node remove n01 >/dev/null || fail "node remove"
kill -TERM "$BPID"
wait "$SPID" || fail "bootsvc under strace exited non-zero"

sed -E 's/^[0-9]+ +//; s/^<\.\.\. ([a-z0-9_]+) resumed>.*/\1/; s/^([a-z0-9_]+)\(.*/\1/' "$DL_W/trace" |
    grep -E '^[a-z0-9_]+$' | sort -u >"$DL_W/used.txt"
systemd-analyze syscall-filter >"$DL_W/groups.txt" 2>/dev/null || fail "systemd-analyze syscall-filter"
python3 - "$DL_W/groups.txt" "$DL_W/used.txt" >"$DL_W/outside.txt" <<'EOPY'
import sys
groups, cur = {}, None
for line in open(sys.argv[1]):
    word = line.strip()
    if not word or word.startswith("#"):
        continue
    if line.startswith("@"):
        cur = word
        groups[cur] = []
    elif cur:
        groups[cur].append(word)
def expand(g, seen):
    out = set()
    for m in groups.get(g, []):
        if m.startswith("@"):
            if m not in seen:
                seen.add(m)
                out |= expand(m, seen)
        else:
            out.add(m)
    return out
allowed = expand("@system-service", set())
if len(allowed) < 100:
    sys.exit("could not read @system-service from systemd-analyze")
for call in open(sys.argv[2]):
    if call.strip() and call.strip() not in allowed:
        print(call.strip())
EOPY
n=$(wc -l <"$DL_W/used.txt")
((n > 50)) || fail "only $n system calls traced: strace saw too little"
[[ ! -s $DL_W/outside.txt ]] || fail "system calls outside @system-service: $(tr '\n' ' ' <"$DL_W/outside.txt")"
pass "the $n system calls of bootsvc (both processes) and dnsmasq are all in @system-service"
