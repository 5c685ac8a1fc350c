#!/bin/bash
# slurm-resumewatch's decisions against a real bootsvc, without Slurm (tests/integ/slurm.sh
# runs the whole path with slurmctld; this one covers the cases it cannot reach). The
# power programs run from scheduler/ with their config pointing at bootsvc's socket and at
# a stand-in scontrol that answers `show config` (ResumeTimeout = 30 sec) and `show
# hostnames`, and records each `update`. w1's BMC address answers nothing.
#   - w1 resumed (ResumeProgram w1: nodectl power on): its power-on fails, bootsvc's
#     boot-blocked event -> the watch puts w1 down with bootsvc's reason
#   - w1 resumed again: its BMC was already unreachable (no new bmc-unreachable event,
#     that comes once per change), but the new power-on's failure is a new boot-blocked
#     event: put down again
#   - w2, behind an ipmi_sim BMC that answers, resumed: powered on; its script asked for
#     from its own address (phase pxe: its firmware is booting); then its BMC stopped
#     (SIGSTOP): its status reads fail (bmc-unreachable), which does not stop that boot
#     and is no boot-blocked, so w2 is not put down and the watch ends at ResumeTimeout
#     with w2 left. (w2's qemu has another MAC and no DHCP answers it: the script fetch
#     stands for its firmware's.)
#   - a resume with fail_fast = off leaves no watch
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_bmc.sh"
dl_require ip curl setsid timeout ipmi_sim qemu-system-x86_64
dl_setup slurmwatch 127

out=$("$BUILD/imagebuild" build "$REPO/images/tiny" --store "$DL_W/store" --work "$DL_W" \
    2>"$DL_W/imagebuild.log") || fail "imagebuild tiny"
read -r _ IMG <<<"$(tail -n 1 <<<"$out")"
dl_bootsvc_start --dhcp_mode=off --bmc_timeout=1s --retry_backoff=1s --power_poll=2s \
    --health_poll=off
dl_nodectl image add "$IMG" >/dev/null || fail "image add"
printf 'user=admin\npassword=secret\n' >"$DL_W/w1.creds"
chmod 600 "$DL_W/w1.creds"
dl_nodectl node add w1 --mac 52:54:00:27:00:01 --ip "$DL_NET.11" --bmc "$DL_NET.21" \
    --bmc-creds "$DL_W/w1.creds" --image tiny >/dev/null || fail "node add w1"
dl_bmc w2 "$DL_NET.22" 52:54:00:27:00:99 bios 256
dl_nodectl node add w2 --mac 52:54:00:27:00:02 --ip "$DL_NET.12" --bmc "$(dl_bmc_addr w2)" \
    --bmc-creds "$DL_W/w2.creds" --image tiny >/dev/null || fail "node add w2"

# the programs as installed, their config beside them, the stand-in scontrol
P=$DL_W/slurm
mkdir -p "$P"
cp "$REPO"/scheduler/slurm-{resume,resumewatch,resumefail} "$REPO/scheduler/slurm-common.sh" "$P/"
cat >"$P/scontrol" <<EOF
#!/bin/bash
case "\$1 \$2" in
"show config") echo "ResumeTimeout           = 30 sec" ;;
"show hostnames") tr ',' '\n' <<<"\$3" ;;
"update "*) echo "\$*" >>"$DL_W/updates" ;;
*) echo "scontrol stand-in: \$*" >&2; exit 1 ;;
esac
EOF
chmod 755 "$P/scontrol"
# conf on|off: the programs' config, fail_fast as given (FAIL_FAST for resume)
conf() {
	FAIL_FAST=$1
	printf 'nodectl = %s\nsocket = %s\nlog = %s\nscontrol = %s\nfail_fast = %s\n' \
	    "$BUILD/nodectl" "$DL_SOCK" "$DL_W/power.log" "$P/scontrol" "$1" >"$P/diskless-slurm.conf"
}
plog() { cat "$DL_W/power.log" 2>/dev/null || true; }
# watches: how many watches have started; last_pid: the newest one's pid (its first line)
watches() { plog | grep -c 'event=watch nodes=' || true; }
last_pid() { plog | grep 'event=watch nodes=' | tail -n 1 | sed -n 's/.* pid=\([0-9]*\) .*/\1/p'; }
ended() { plog | grep -q "prog=slurm-resumewatch pid=$1 event=watch_end"; }
# resume HOSTS: ResumeProgram as slurmctld runs it (an empty environment), and the watch
# it left behind in DL_PIDS for lib.sh's cleanup
resume() {
	local n0 pid
	n0=$(watches)
	env -i "$P/slurm-resume" "$1" || fail "slurm-resume $1: $(plog | tail -n 3)"
	[[ $FAIL_FAST == on ]] || return 0
	started() { (($(watches) > n0)); }
	dl_wait 10 "the watch of $1" started
	pid=$(last_pid)
	[[ -n $pid ]] && DL_PIDS+=("$pid")
}
downs() { grep -c "^update nodename=$1 state=down " "$DL_W/updates" 2>/dev/null || true; }

# --- w1: its BMC does not answer; bootsvc's event puts it down
conf on
resume w1
p1=$(last_pid)
plog | grep -q "prog=slurm-resume .*cmd=\"--json power on w1\" .*\"seq\": [0-9]" ||
    fail "power on answered no seq: $(plog)"
down1() { [[ $(downs w1) == 1 ]]; }
dl_wait 30 "w1 put down" down1
grep -q "^update nodename=w1 state=down reason=diskless: [a-z-]*: BMC unreachable: BMC '$DL_NET.21': " \
    "$DL_W/updates" || fail "w1's update: $(cat "$DL_W/updates")"
plog | grep -q "pid=$p1 event=watch_down node=w1 why=boot-blocked" || fail "the watch: $(plog)"
dl_wait 10 "the watch of w1 ends" ended "$p1"
pass "w1's BMC silent: boot-blocked event -> down with bootsvc's reason: $(grep w1 "$DL_W/updates")"

# --- w1 again: no new bmc-unreachable (its BMC state did not change), a new boot-blocked
[[ $(dl_field w1 bmc_state) == unreachable ]] || fail "w1 bmc_state $(dl_field w1 bmc_state)"
resume w1
p2=$(last_pid)
down2() { [[ $(downs w1) == 2 ]]; }
dl_wait 30 "w1 put down again" down2
dl_wait 10 "the second watch of w1 ends" ended "$p2"
plog | grep -q "pid=$p2 event=watch_down node=w1 why=boot-blocked" ||
    fail "the second watch: $(plog)"
pass "w1 resumed with its BMC already unreachable: its power-on's boot-blocked puts it down"

# --- w2 booting (powered on, its script fetched), then its BMC silent: not put down
resume w2
p3=$(last_pid)
powered() { [[ $(dl_bmc_power_count w2) == 1 && $(dl_field w2 power) == on ]]; }
dl_wait 20 "w2 powered on through its BMC" powered
ip -n "$DL_NS" addr add "$DL_NET.12/24" dev br0
dl_ns curl -sf --interface "$DL_NET.12" "$DL_URL/ipxe/boot?mac=52:54:00:27:00:02" |
    grep -q 'dl.node=w2' || fail "w2's script"
[[ $(dl_field w2 phase) == pxe ]] || fail "w2 phase $(dl_field w2 phase) after its script"
kill -STOP "$(dl_bmc_pid w2)"
unreachable() { [[ $(dl_field w2 bmc_state) == unreachable ]]; }
dl_wait 30 "bootsvc: w2 bmc-unreachable" unreachable
dl_wait 40 "the watch of w2 ends at ResumeTimeout" ended "$p3"
kill -CONT "$(dl_bmc_pid w2)"
[[ $(downs w2) == 0 ]] || fail "w2, booting, was put down: $(cat "$DL_W/updates")"
plog | grep -q "pid=$p3 event=watch_end left=\"w2\"" || fail "the watch's end: $(plog)"
pass "w2 in phase pxe when its BMC went silent: not put down; the watch ended at ResumeTimeout with w2 left"

# --- fail_fast = off: the resume leaves no watch
conf off
n0=$(watches)
resume w1
plog | grep -q "prog=slurm-resume .*cmd=\"--json power on w1\"" || fail "power on: $(plog)"
sleep 3
(($(watches) == n0)) || fail "a watch with fail_fast off: $(plog)"
pass "fail_fast = off: no watch"
echo PASS
