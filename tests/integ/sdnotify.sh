#!/bin/bash
# bootsvc under a Type=notify manager, without systemd: the test is the manager. It
# binds NOTIFY_SOCKET, sets WATCHDOG_USEC, starts bootsvc (as root: privilege separation,
# the child notifies, hence the unit's NotifyAccess=all) and asserts READY=1 comes only
# once the HTTP listener answers, WATCHDOG=1 repeats from the loop, and STOPPING=1 comes
# on SIGTERM (docs/install.md "The unit").
source "$(dirname "$0")/lib.sh"
dl_require ip python3
dl_setup sdnotify 112

# The manager's side: every datagram with its arrival time (monotonic s); at READY=1 it
# asks the HTTP listener at once, and writes down whether it answered.
cat >"$DL_W/manager.py" <<'EOPY'
import os, socket, sys, time, http.client
path, out, host = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o777)  # the unprivileged child sends too
with open(out, "a", buffering=1) as f:
    while True:
        msg = s.recv(4096).decode()
        t = time.monotonic()
        for line in msg.split("\n"):
            if line:
                f.write("%.3f %s\n" % (t, line))
        if "READY=1" in msg.split("\n"):
            try:
                c = http.client.HTTPConnection(host, 8080, timeout=2)
                c.request("GET", "/")
                r = c.getresponse()
                f.write("%.3f http_after_ready status=%d\n" % (time.monotonic(), r.status))
            except Exception as e:
                f.write("%.3f http_after_ready error=%s\n" % (time.monotonic(), e))
EOPY
NOTIFY=$DL_W/notify.sock
ip netns exec "$DL_NS" python3 "$DL_W/manager.py" "$NOTIFY" "$DL_W/notify.log" "$DL_SRV" \
    >"$DL_W/manager.log" 2>&1 &
DL_PIDS+=($!)
dl_wait 20 "the manager's socket" test -S "$NOTIFY"

# 1 s watchdog: bootsvc pings every 0.5 s. WATCHDOG_PID names the process the test starts
# (the root parent); the child feeds it, as under systemd.
NOTIFY_SOCKET=$NOTIFY WATCHDOG_USEC=1000000 dl_bootsvc_start
dl_wait 10 "READY=1" grep -q ' READY=1$' "$DL_W/notify.log"
dl_wait 5 "the HTTP probe after READY" grep -q http_after_ready "$DL_W/notify.log"
grep -q 'http_after_ready status=' "$DL_W/notify.log" ||
    fail "the HTTP listener did not answer when READY=1 came: $(grep http_after "$DL_W/notify.log")"
pass "READY=1 came with the HTTP listener answering ($(grep -o 'http_after_ready.*' "$DL_W/notify.log"))"
grep -q 'STATUS=serving' "$DL_W/notify.log" || fail "no STATUS= with READY"

# WATCHDOG=1 repeats: at least 4 in the next 3 s (one every 0.5 s).
sleep 3
n=$(grep -c ' WATCHDOG=1$' "$DL_W/notify.log" || true)
((n >= 4)) || fail "WATCHDOG=1 came $n times in 3 s with WATCHDOG_USEC=1000000"
# The measured interval, logged (not asserted: the machine is shared).
awk '/ WATCHDOG=1$/ { if (p) printf "%.3f ", $1 - p; p = $1 } END { print "" }' \
    "$DL_W/notify.log" | sed 's/^/watchdog intervals (s): /'
pass "WATCHDOG=1 repeats ($n so far)"
# The variables are not passed on: nothing bootsvc spawns notifies in its name.
dm=$(pgrep -P "$DL_BOOTSVC_PID" -x dnsmasq | head -n 1) || true
[[ -n $dm ]] || fail "no dnsmasq under bootsvc"
! tr '\0' '\n' <"/proc/$dm/environ" | grep -q '^NOTIFY_SOCKET=' ||
    fail "dnsmasq inherited NOTIFY_SOCKET"
pass "dnsmasq does not inherit NOTIFY_SOCKET"

kill -TERM "$DL_BOOTSVC_PID"
dl_wait 10 "STOPPING=1" grep -q ' STOPPING=1$' "$DL_W/notify.log"
wait "$DL_BOOTSVC_PID" || fail "bootsvc exited non-zero on SIGTERM"
awk '/ READY=1$/ { r = NR } / STOPPING=1$/ { s = NR } END { exit !(r && s > r) }' \
    "$DL_W/notify.log" || fail "STOPPING=1 before READY=1"
pass "STOPPING=1 on SIGTERM, after READY=1"
# Not under the journal (no JOURNAL_STREAM): stderr lines as before.
grep -q '^level=notice event=start ' "$DL_W/bootsvc.log" || fail "stderr log lines changed"
pass "without JOURNAL_STREAM the log is stderr's key=value lines"

# --- the journal: when stderr is the journal ($JOURNAL_STREAM names it), each line is a
# native entry with its key=value pairs as fields. A private /run (mount namespace) holds
# the test's own journald socket; the netns keeps port 8080 the test's.
cat >"$DL_W/journald.py" <<'EOPY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as f:
    while True:
        f.write(repr(s.recv(65536).decode()) + "\n")
EOPY
cat >"$DL_W/journal.sh" <<EOS
set -e
mount --make-rprivate /
mount -t tmpfs tmpfs /run
mkdir -p /run/systemd/journal
python3 "$DL_W/journald.py" /run/systemd/journal/socket "$DL_W/journal.entries" &
jpid=\$!
for _ in \$(seq 50); do [ -S /run/systemd/journal/socket ] && break; sleep 0.1; done
exec 2>"$DL_W/journal-stderr.log"
export JOURNAL_STREAM=\$(stat -c '%d:%i' "$DL_W/journal-stderr.log")
"$BUILD/bootsvc" --state_dir="$DL_W/jstate" --template_dir="$REPO/ipxe-scripts" \
    --control_socket="$DL_W/j.sock" --dhcp_mode=off &
bpid=\$!
for _ in \$(seq 100); do grep -q 'EVENT=start' "$DL_W/journal.entries" 2>/dev/null && break; sleep 0.1; done
kill \$bpid; wait \$bpid || true
kill \$jpid; wait \$jpid 2>/dev/null || true
EOS
ip netns exec "$DL_NS" unshare -m bash "$DL_W/journal.sh" >"$DL_W/journal.log" 2>&1 ||
    fail "the journal run failed (journal.log)"
grep -q "EVENT=start" "$DL_W/journal.entries" || fail "no EVENT=start entry in the journal"
grep "EVENT=start" "$DL_W/journal.entries" | grep -q 'PRIORITY=5.*SYSLOG_IDENTIFIER=bootsvc' ||
    fail "the start entry lacks PRIORITY=5 or SYSLOG_IDENTIFIER: $(grep EVENT=start "$DL_W/journal.entries")"
grep "EVENT=start" "$DL_W/journal.entries" | grep -q "MESSAGE=event=start version=" ||
    fail "the start entry's MESSAGE is not the line"
grep -q 'USER=diskless' "$DL_W/journal.entries" || fail "no USER= field from event=privsep_drop"
! grep -q 'event=start' "$DL_W/journal-stderr.log" || fail "the line went to stderr too"
pass "stderr the journal: entries with MESSAGE, PRIORITY, EVENT=, USER=... ($(wc -l <"$DL_W/journal.entries") entries)"
