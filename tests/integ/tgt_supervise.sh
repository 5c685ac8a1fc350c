#!/bin/bash
# Issue 14 point 2: tgtd supervised by bootsvc's root parent, and the child's requests
# for targets checked by the parent as if the child were hostile.
#   A. bootsvc's own parent (tests/tools/tgtreq: privsep_parent_run, the policy, tgtadm)
#      and a child dropped to diskless asking through privsep: a node's target with CHAP
#      both ways; real logins from the namespace with libiscsi (iscsi-inq, iscsi-perf):
#      the right initiator logs in; a wrong secret, a wrong target secret (mutual CHAP),
#      a wrong address and a deleted target are refused at login; a wrong initiator name
#      is dropped by the parent (tgt 1.0.85 admits a login that matches either ACL, so
#      tgtd holds the address ACL and the parent checks the name); hostile targets
#      (a symlink to /etc/shadow, a path out of disk_dir, root's file, another prefix,
#      a short secret, another node's account) are refused; delete and replace remove
#      the old accounts; EOF of the child leaves no tgtd and no socket.
#   B. a real bootsvc (iscsi = on) as root in the namespace: tgtd is its parent's child,
#      listens on the portal address in the namespace only, is restarted with a new
#      generation after kill -9, and neither a bootsvc stop nor the child's death leaves
#      a tgtd or its socket behind.
source "$(dirname "$0")/lib.sh"
dl_require ip ss iscsi-inq iscsi-perf tgtd tgtadm nsenter
dl_setup tgt_supervise 75
getent passwd diskless >/dev/null || fail "no user diskless (make deps creates it)"
[[ -x $BUILD/tools/tgtreq ]] || fail "no $BUILD/tools/tgtreq (make all)"
PFX=iqn.2026-12.local.diskless

# --- A. the requests, through bootsvc's parent code
ST=$DL_W/req-state
DISKS=$DL_W/disks
mkdir -p "$ST" "$DISKS"
chown diskless: "$DISKS"
for n in n1 n2 n3; do
	truncate -s 16M "$DISKS/$n.img"
	chown diskless: "$DISKS/$n.img"
	chmod 600 "$DISKS/$n.img"
done
ln -s /etc/shadow "$DISKS/shadow.img"
truncate -s 1M "$DISKS/root.img" # root's: not a clone the child made
# nsenter --net, not ip netns exec: the mount namespace stays bootsvc's (lab notes)
coproc REQ { exec nsenter --net="/run/netns/$DL_NS" "$BUILD/tools/tgtreq" "$ST" "$DISKS" \
    "$DL_SRV" diskless 2>>"$DL_W/tgtreq.log"; }
# (bash unsets REQ and REQ_PID when the coprocess ends: keep copies)
TR_PID=$REQ_PID
REQ_IN=${REQ[1]}
REQ_OUT=${REQ[0]}
DL_PIDS+=("$TR_PID")
# req CMD...: one command to the child, its answer line(s) on stdout
req() {
	echo "$*" >&"$REQ_IN"
	local line
	while IFS= read -r -t 40 line <&"$REQ_OUT"; do
		echo "$line"
		[[ $line == session\ * ]] || return 0
	done
	fail "no answer to '$*'"
}
export TGT_IPC_SOCKET=$ST/tgt/socket
# perf_start LOG INITIATOR URL [TARGET_USER TARGET_SECRET]: a long-lived session (libiscsi's
# reader) in the namespace; PERF_PID is iscsi-perf itself (ip netns exec and env exec it:
# no shell function or timeout in between to leave it orphaned; it ignores SIGTERM and
# takes seconds over SIGINT under load, so perf_stop sends SIGKILL, as lib.sh's cleanup
# does in the end)
perf_start() {
	ip netns exec "$DL_NS" env LIBISCSI_CHAP_TARGET_USERNAME="${4:-}" \
	    LIBISCSI_CHAP_TARGET_PASSWORD="${5:-}" iscsi-perf -i "$2" "$3" >"$DL_W/$1.log" 2>&1 &
	PERF_PID=$!
	DL_PIDS+=("$PERF_PID")
}
perf_stop() {
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null || true # 137: the SIGKILL just sent
}
adm() { tgtadm -C 0 "$@"; }

out=$(req status)
[[ $out =~ ^pid=([0-9]+)\ restarts=0\ generation=1$ ]] || fail "status: $out"
TGTD=${BASH_REMATCH[1]}
[[ $(ps -o ppid= -p "$TGTD" | tr -d ' ') == "$TR_PID" ]] || fail "tgtd $TGTD is not the parent's child"
[[ $(stat -c '%a %U' "$ST/tgt") == "700 root" && -S $ST/tgt/socket.0 ]] ||
    fail "tgtd's socket dir: $(ls -la "$ST/tgt")"
pass "the parent started tgtd $TGTD (generation 1), socket in a root 0700 dir"

# n1: addressed as the namespace's own logins come (from $DL_SRV), CHAP both ways
out=$(req set 7 n1 "$DL_SRV" n1-in Abcdefgh1234 n1-out Zyxwvuts9876)
[[ $out == ok ]] || fail "set n1: $out"
grep -q "path=/proc/$TR_PID/fd/" "$DL_W/tgtreq.log" ||
    fail "tgtd was not given the parent's fd: $(grep params: "$DL_W/tgtreq.log")"
URL="iscsi://n1-in%Abcdefgh1234@$DL_SRV:3260/$PFX:n1/1"
inq() { dl_ns env LIBISCSI_CHAP_TARGET_USERNAME="${TU:-}" LIBISCSI_CHAP_TARGET_PASSWORD="${TP:-}" \
    timeout 20 iscsi-inq -i "$1" "$2" 2>&1; }
out=$(TU=n1-out TP=Zyxwvuts9876 inq "$PFX:n1.initiator" "$URL") || fail "n1's login: $out"
[[ $out == *VIRTUAL-DISK* ]] || fail "n1's LUN 1: $out"
pass "n1 logs in with its name, address and CHAP (and the target proves itself)"
out=$(TU=n1-out TP=Zyxwvuts9876 inq "$PFX:n1.initiator" "iscsi://n1-in%Wrongsecret1@$DL_SRV:3260/$PFX:n1/1") &&
    fail "a wrong secret logged in: $out"
[[ $out == *uthentication* ]] || fail "wrong secret: $out"
out=$(TU=n1-out TP=Wrongsecret9 inq "$PFX:n1.initiator" "$URL") && fail "a wrong target secret passed: $out"
pass "a wrong CHAP secret is refused, and so is a target that cannot prove itself"

# n2: only from $DL_NET.12; a login from $DL_SRV with n2's own name and CHAP is refused
out=$(req set 8 n2 "$DL_NET.12" n2-in Bcdefghi2345)
[[ $out == ok ]] || fail "set n2: $out"
out=$(inq "$PFX:n2.initiator" "iscsi://n2-in%Bcdefghi2345@$DL_SRV:3260/$PFX:n2/1") &&
    fail "n2 logged in from the wrong address: $out"
[[ $out == *"not found"* || $out == *ailed* ]] || fail "wrong address: $out"
pass "a login from another address than the node's is refused: $(grep -o 'Status: [^(]*' <<<"$out" | head -n 1)"

# sessions: n1's own (a long reader) is listed; one with n2's initiator name on n1's
# target (right address and CHAP) is dropped by the parent and never listed. tgt 1.0.85
# admits a login that matches either ACL, so tgtd holds the address ACL (with CHAP, the
# barrier: the name is no secret) and the parent checks the name at every sessions call;
# libiscsi logs in again at once, and is dropped again at the next call.
perf_start perf-good "$PFX:n1.initiator" "$URL" n1-out Zyxwvuts9876
GOOD=$PERF_PID
perf_start perf-bad "$PFX:n2.initiator" "$URL" n1-out Zyxwvuts9876
BAD=$PERF_PID
dl_wait 20 "two sessions on target 7" bash -c "TGT_IPC_SOCKET=$TGT_IPC_SOCKET tgtadm -C 0 --lld iscsi --mode target --op show | grep -c 'I_T nexus: ' | grep -qx 2"
for round in 1 2 3; do
	out=$(req sessions)
	[[ $(grep -c '^session ' <<<"$out") == 1 ]] || fail "sessions (round $round): $out"
	grep -qx "session 7 $PFX:n1.initiator $DL_SRV" <<<"$out" || fail "n1's session not listed: $out"
	sleep 1
done
drops=$(grep -c "event=tgtd_drop tid=7 initiator=$PFX:n2.initiator addr=$DL_SRV msg=\"not the target's initiator name: dropped\"" "$DL_W/tgtreq.log")
((drops >= 1)) || fail "no drop logged: $(grep tgtd_drop "$DL_W/tgtreq.log")"
kill -0 "$GOOD" 2>/dev/null || fail "n1's own session ended: $(tail -n 3 "$DL_W/perf-good.log")"
perf_stop "$BAD"
perf_stop "$GOOD"
pass "sessions lists only n1's initiator; a login with another node's name was dropped $drops times"

# hostile requests: each refused by the parent, nothing reaches tgtd
want_refused() {
	local what=$1 code=$2; shift 2
	out=$(req "$@")
	[[ $out == "err $code "* ]] || fail "$what: want err $code, got: $out"
}
want_refused "a symlink to /etc/shadow" ELOOP raw 9 "$PFX:n3" "$DISKS/shadow.img" "$PFX:n3.initiator" "$DL_SRV" n3-in Cdefghij3456 - -
want_refused "a path out of disk_dir" EACCES raw 9 "$PFX:n3" "$DISKS/../disks/n3.img" "$PFX:n3.initiator" "$DL_SRV" n3-in Cdefghij3456 - -
want_refused "/etc/shadow" EACCES raw 9 "$PFX:n3" /etc/shadow "$PFX:n3.initiator" "$DL_SRV" n3-in Cdefghij3456 - -
want_refused "root's file" EACCES raw 9 "$PFX:n3" "$DISKS/root.img" "$PFX:n3.initiator" "$DL_SRV" n3-in Cdefghij3456 - -
want_refused "another prefix" EACCES raw 9 iqn.2000-01.evil:n3 "$DISKS/n3.img" iqn.2000-01.evil:n3.initiator "$DL_SRV" n3-in Cdefghij3456 - -
want_refused "another node's initiator" EACCES raw 9 "$PFX:n3" "$DISKS/n3.img" "$PFX:n1.initiator" "$DL_SRV" n3-in Cdefghij3456 - -
want_refused "a short secret" EACCES set 9 n3 "$DL_SRV" n3-in short
want_refused "tid 0" EACCES set 0 n3 "$DL_SRV" n3-in Cdefghij3456
want_refused "n1's account" EEXIST set 9 n3 "$DL_SRV" n1-in Cdefghij3456
want_refused "n1's target account" EEXIST set 9 n3 "$DL_SRV" n3-in Cdefghij3456 n1-out Zyxwvuts9877
grep -q 'event=privsep_refused child=[0-9]* request=tgt_set' "$DL_W/tgtreq.log" || fail "no refusal logged"
adm --lld iscsi --mode target --op show | grep -q "^Target 9:" && fail "a refused target reached tgtd"
pass "hostile targets refused by the parent (symlink, paths, owner, prefix, initiator, secret, tid, accounts)"

# replace n2 with another account: the old one is gone; delete n1: its accounts too
out=$(req set 8 n2 "$DL_NET.12" n2-new Bcdefghi2345)
[[ $out == ok ]] || fail "replace n2: $out"
accts=$(adm --lld iscsi --mode account --op show)
grep -qw n2-new <<<"$accts" && ! grep -qw n2-in <<<"$accts" || fail "accounts after replace: $accts"
out=$(req del 7)
[[ $out == ok ]] || fail "del 7: $out"
accts=$(adm --lld iscsi --mode account --op show)
grep -qw n1-in <<<"$accts" && fail "n1-in outlived its target: $accts"
grep -qw n1-out <<<"$accts" && fail "n1-out outlived its target: $accts"
out=$(TU=n1-out TP=Zyxwvuts9876 inq "$PFX:n1.initiator" "$URL") && fail "a deleted target answered: $out"
out=$(req del 7)
[[ $out == ok ]] || fail "deleting a deleted target: $out"
pass "replace and delete take the node's old accounts with the target; a deleted target refuses logins"

# the child ends while n3 is being read: the parent stops tgtd cleanly (offline, the
# targets deleted under their sessions, then the system) and removes its socket
out=$(req set 9 n3 "$DL_SRV" n3-in Cdefghij3456)
[[ $out == ok ]] || fail "set n3: $out"
perf_start perf-n3 "$PFX:n3.initiator" "iscsi://n3-in%Cdefghij3456@$DL_SRV:3260/$PFX:n3/1"
N3=$PERF_PID
dl_wait 20 "n3's session" bash -c "TGT_IPC_SOCKET=$TGT_IPC_SOCKET tgtadm -C 0 --lld iscsi --mode target --op show | grep -q 'Initiator: $PFX:n3.initiator'"
exec {REQ_IN}>&-
for _ in $(seq 100); do kill -0 "$TR_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$TR_PID" 2>/dev/null && fail "tgtreq's parent did not end with its child"
kill -0 "$TGTD" 2>/dev/null && fail "tgtd $TGTD outlived the parent"
grep -q "event=tgtd_stop pid=$TGTD clean=yes" "$DL_W/tgtreq.log" || fail "no clean stop: $(grep tgtd_stop "$DL_W/tgtreq.log")"
[[ -z $(ls "$ST/tgt") ]] || fail "left in $ST/tgt: $(ls "$ST/tgt")"
perf_stop "$N3"
pass "the child's end stopped tgtd cleanly under a live session (targets, then system delete) and left no socket"
unset TGT_IPC_SOCKET

# --- B. a real bootsvc with iscsi = on
# tgtd_of PARENT: its tgtd child
tgtd_of() { pgrep -P "$1" -x tgtd; }
dl_bootsvc_start --iscsi=on
PARENT=$DL_BOOTSVC_PID
dl_wait 10 "tgtd under bootsvc" tgtd_of "$PARENT"
T1=$(tgtd_of "$PARENT")
dl_wait 10 "tgtd listening" bash -c "ip netns exec $DL_NS ss -Hltnp 'sport = :3260' | grep -q pid=$T1,"
listen=$(dl_ns ss -Hltnp 'sport = :3260' | grep "pid=$T1," | awk '{ print $4 }' | sort -u | tr '\n' ' ')
[[ $listen == "$DL_SRV:3260 " ]] || fail "tgtd listens on '$listen', want only $DL_SRV:3260"
ss -Hltnp 'sport = :3260' | grep -q "pid=$T1," && fail "tgtd listens in the host namespace"
[[ -S $DL_W/state/tgt/socket.0 && $(stat -c '%a %U' "$DL_W/state/tgt") == "700 root" ]] ||
    fail "bootsvc's tgtd socket: $(ls -la "$DL_W/state/tgt")"
grep -q "event=tgtd_start pid=$T1 generation=1 portal=$DL_SRV:3260" "$DL_W/bootsvc.log" ||
    fail "no tgtd_start: $(grep tgtd "$DL_W/bootsvc.log")"
pass "bootsvc's parent runs tgtd $T1 on $DL_SRV:3260 in its namespace only (generation 1)"

kill -9 "$T1"
dl_wait 20 "a new tgtd" bash -c "p=\$(pgrep -P $PARENT -x tgtd) && [[ \$p != $T1 ]]"
T2=$(tgtd_of "$PARENT")
dl_wait 10 "generation 2" grep -q "event=tgtd_start pid=$T2 generation=2" "$DL_W/bootsvc.log"
grep -q "event=tgtd_exit pid=$T1 " "$DL_W/bootsvc.log" || fail "no tgtd_exit logged"
dl_wait 10 "tgtd $T2 listening" bash -c "ip netns exec $DL_NS ss -Hltnp 'sport = :3260' | grep -q pid=$T2,"
pass "kill -9 of tgtd $T1: restarted as $T2, generation 2 ($(grep -o 'restart_in_ms=[0-9]*' "$DL_W/bootsvc.log" | head -n 1))"

dl_bootsvc_stop
kill -0 "$T2" 2>/dev/null && fail "tgtd $T2 outlived bootsvc"
grep -q "event=tgtd_stop pid=$T2 clean=yes" "$DL_W/bootsvc.log" || fail "tgtd not stopped cleanly"
[[ -z $(ls "$DL_W/state/tgt") ]] || fail "left in state/tgt: $(ls "$DL_W/state/tgt")"
pass "bootsvc stop ended tgtd $T2 cleanly and left no socket"

# the child dies: the parent follows, and takes tgtd with it
dl_bootsvc_start --iscsi=on
PARENT=$DL_BOOTSVC_PID
dl_wait 10 "tgtd under bootsvc" tgtd_of "$PARENT"
T3=$(tgtd_of "$PARENT")
kill -9 "$DL_BOOTSVC_NET_PID"
for _ in $(seq 100); do kill -0 "$PARENT" 2>/dev/null || break; sleep 0.1; done
kill -0 "$PARENT" 2>/dev/null && fail "the parent outlived its child"
kill -0 "$T3" 2>/dev/null && fail "tgtd $T3 outlived bootsvc's child"
[[ -z $(ls "$DL_W/state/tgt") ]] || fail "left in state/tgt: $(ls "$DL_W/state/tgt")"
pass "bootsvc's child killed: the parent ended tgtd $T3 and left no socket"
