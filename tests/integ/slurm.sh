#!/bin/bash
# Issue #7 item 3 end to end: Slurm's own power saving drives bootsvc (docs/slurm.md).
# A real munged + slurmctld (in the test's network namespace, UTS hostname "ctl" as
# SlurmctldHost says, a private /run for munge's socket), bootsvc with its controller,
# two qemu nodes behind ipmi_sim BMCs booting images/compute, whose slurmd and munged are
# configured by bootsvc's site overlay (slurm.conf, cgroup.conf, helpers.conf, the key).
# The power programs are scheduler/slurm-{resume,suspend,resumefail}, as installed.
#   - the nodes start powered off: idle~ in Slurm, never powered on by a BMC
#   - srun -N2 -C image_compute hostname: ResumeProgram -> nodectl provision -> bootsvc
#     -> IPMI power-on -> PXE -> compute -> slurmd registers -> the job prints n1 n2
#   - idle for SuspendTime: SuspendProgram -> nodectl power off -> BMCs off, idle~
#   - n1's BMC stopped (SIGSTOP): a batch job with no image feature resumes n1
#     (ResumeProgram -> nodectl power on), bootsvc finds the BMC unreachable, and the
#     watch ResumeProgram left behind (slurm-resumewatch) puts bootsvc's reason on the
#     node at once (down, "diskless: ... BMC unreachable"), not at ResumeTimeout; the job
#     is requeued and runs on n2. After SIGCONT bootsvc boots n1 and it returns to service
#     with no admin step.
#   - idle again: both powered off through their BMCs.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_bmc.sh"
source "$(dirname "$0")/lib_slurm.sh"
dl_require qemu-system-x86_64 python3 ip ipmi_sim slurmctld munged mungekey srun sbatch \
	scontrol sinfo unshare nsenter perl
dl_setup slurm 81
STORE=${STORE:-/var/lib/diskless}
cd "$REPO"
BUILD=$(readlink -f "$BUILD")
mkdir -p "$DL_W/work"

# --- the compute image: reused from the store when the recipe is unchanged
out=$("$BUILD/imagebuild" build images/compute --store "$STORE/images" --work "$DL_W/work" \
    2>"$DL_W/imagebuild.err") || { tail -20 "$DL_W/imagebuild.err"; fail "compute build failed"; }
read -r IMG IMGPATH <<<"$(tail -n1 <<<"$out")"
pass "compute image ${IMG:0:12} (slurmd + munge)"

# --- the site overlay (munge key, slurm.conf...), the power programs; SuspendTime and
# ResumeTimeout are lib_slurm.sh's defaults (20 s, 150 s)
dl_slurm_site

# --- bootsvc, two nodes behind BMCs, all off
dl_bootsvc_start "${DL_SLURM_BOOTSVC_ARGS[@]}"
dl_nodectl image add "$IMGPATH" >/dev/null || fail "image add"
dl_slurm_node 1 bios 1024
dl_slurm_node 2 bios 1024

# --- munged and slurmctld in their own namespaces (lib_slurm.sh)
dl_slurm_start
pass "munged and slurmctld up: $(C scontrol --version)"

running() { [[ -n $(dl_bmc_qemu_pid "$1") ]]; }

# --- the nodes start powered off
both_idle_off() { st_is n1 'idle~' && st_is n2 'idle~'; }
dl_wait 30 "n1 n2 idle~" both_idle_off
for n in n1 n2; do
	[[ $(dl_bmc_power_count $n) == 0 ]] && ! running $n || fail "$n was powered on"
done
pass "n1 n2 idle~ (powered down) in Slurm, never powered on by their BMCs"

# --- a job asking for image_compute powers them on through ResumeProgram
t0=$SECONDS
C timeout $((RESUME_TIMEOUT + 60)) srun -N2 -C image_compute -t 5 hostname >"$DL_W/srun1.out" \
    2>"$DL_W/srun1.err" || { cat "$DL_W/srun1.err"; plog; fail "srun -N2 -C image_compute"; }
[[ $(sort "$DL_W/srun1.out" | tr '\n' ' ') == "n1 n2 " ]] || fail "srun printed: $(cat "$DL_W/srun1.out")"
pass "srun -N2 -C image_compute hostname printed '$(sort "$DL_W/srun1.out" | tr '\n' ' ')'after $((SECONDS - t0)) s"
plog | grep -q 'prog=slurm-resume .*event=resume nodes=n\[1-2\]' || fail "ResumeProgram: $(plog)"
plog | grep -q 'event=nodectl rc=0 cmd="--json provision n\[1-2\] --image compute"' ||
    fail "ResumeProgram did not provision n[1-2] to compute: $(plog)"
for n in n1 n2; do
	[[ $(dl_bmc_power_count $n) == 1 && $(dl_bmc_booted_from $n) == *pxe* ]] ||
	    fail "$n: $(dl_bmc_power_count $n) power-ons, boot device $(dl_bmc_booted_from $n)"
	[[ $(dl_field $n booted_image) == "$IMG" ]] || fail "$n booted $(dl_field $n booted_image)"
	[[ $(nfield $n ActiveFeatures) == image_compute ]] ||
	    fail "$n ActiveFeatures=$(nfield $n ActiveFeatures)"
done
pass "ResumeProgram -> nodectl provision n[1-2] --image compute -> one PXE power-on each; up on ${IMG:0:12}, ActiveFeatures=image_compute"
# the watch ResumeProgram left behind ends by itself once both nodes are up
watch_ended() { plog | grep -q 'prog=slurm-resumewatch .*event=watch_end left=""'; }
dl_wait 30 "the resume's watch ended with both nodes up" watch_ended
plog | grep -q "prog=slurm-resumewatch .*event=watch nodes=n\\[1-2\\] since=[0-9]* for=${RESUME_TIMEOUT}s" ||
    fail "the watch: $(plog)"
pass "slurm-resumewatch followed n[1-2] from the provision's seq for at most ResumeTimeout (${RESUME_TIMEOUT} s) and ended with both up"

# --- idle for SuspendTime: SuspendProgram powers them off through their BMCs
t0=$SECONDS
both_off() { ! running n1 && ! running n2 && st_is n1 'idle~' && st_is n2 'idle~'; }
dl_wait $((SUSPEND_TIME + 180)) "n1 n2 powered off and idle~" both_off
plog | grep -q 'prog=slurm-suspend .*event=nodectl rc=0 cmd="power off n' || fail "SuspendProgram: $(plog)"
for n in n1 n2; do
	[[ $(dl_field $n power) == off && $(dl_field $n want_power) == off ]] ||
	    fail "$n bootsvc power=$(dl_field $n power) want=$(dl_field $n want_power)"
done
pass "idle -> SuspendProgram -> nodectl power off: BMCs off, idle~ after $((SECONDS - t0)) s"

# --- a boot that fails: n1's BMC does not answer. Both nodes are off and alike, so Slurm
# takes the first, n1, for a one-node job. The job names no image: ResumeProgram takes
# its other path, `nodectl power on` (the node's current image), whose answer's seq
# starts the watch as provision's did above.
kill -STOP "$(dl_bmc_pid n1)"
n2_ons=$(dl_bmc_power_count n2)
# (its output file would be on the node: no shared file system here)
jid=$(C sbatch --parsable -N1 -t 5 -o /dev/null --wrap hostname) || fail "sbatch"
resumed_n1() { plog | grep -q 'prog=slurm-resume .*event=nodectl rc=0 cmd="--json power on n1"'; }
dl_wait 30 "ResumeProgram powering n1 on" resumed_n1
t0=$SECONDS
unreachable() { [[ $(dl_field n1 bmc_state) == unreachable ]]; }
dl_wait 120 "bootsvc: n1 bmc-unreachable" unreachable
n1_down() { [[ $(st n1) == down* ]] && [[ $(nfield n1 Reason) == *diskless* ]]; }
dl_wait $((RESUME_TIMEOUT + 120)) "n1 down in Slurm with bootsvc's reason" n1_down
reason=$(C sinfo -h -R -n n1 -o '%E' | head -n 1)
[[ $reason == *"BMC unreachable"* ]] || fail "n1 reason '$reason'"
# put down by the watch, from bootsvc's boot-blocked event: the boot's power action
# failed (whether or not a power poll had found the BMC silent before the resume;
# ResumeFailProgram may still run at ResumeTimeout and set the same reason again)
plog | grep -q 'prog=slurm-resumewatch .*event=watch_down node=n1 why=boot-blocked' ||
    fail "the watch did not put n1 down: $(plog)"
pass "n1's BMC stopped: bootsvc: boot-blocked, BMC unreachable -> slurm-resumewatch -> Slurm $(st n1) reason '$reason', $((SECONDS - t0)) s after the resume (ResumeTimeout ${RESUME_TIMEOUT} s)"
# ResumeFailProgram, Slurm's own path at ResumeTimeout (a boot that hangs, or fail_fast
# off): the watch left it nothing to wait for here, so run it as slurmctld would, with
# an empty environment but SLURM_CONF: it sets bootsvc's reason again (its last error
# may now be another BMC call's: "power status" instead of "power on").
C env -i SLURM_CONF="$SLURM_CONF" "$S/bin/slurm-resumefail" n1 ||
    fail "slurm-resumefail n1: $(plog | tail -3)"
why=$(plog | sed -n 's/.*prog=slurm-resumefail .*event=down node=n1 reason="\(.*\)"$/\1/p' | tail -n 1)
[[ $why == "diskless: powering-on: BMC unreachable: BMC '$DL_NET.21': "* ]] ||
    fail "ResumeFailProgram: $(plog)"
[[ $(C sinfo -h -R -n n1 -o '%E' | head -n 1) == "$why" && $(st n1) == down* ]] ||
    fail "n1 after slurm-resumefail: $(st n1) '$(C sinfo -h -R -n n1 -o '%E')', want '$why'"
pass "slurm-resumefail n1 (as slurmctld runs it at ResumeTimeout): Slurm's reason is bootsvc's again, '$why'"

# the job is requeued and runs on n2; once it is placed there, n1's BMC answers again
on_n2() { [[ $(C scontrol show job "$jid" | grep -o ' NodeList=[^ ]*') == " NodeList=n2" ]]; }
dl_wait 180 "job $jid requeued onto n2" on_n2
kill -CONT "$(dl_bmc_pid n1)"
# Now two things happen in either order: the job completes on n2, and bootsvc boots n1,
# whose slurmd registers and which Slurm returns to service; idle for SuspendTime, n1 is
# then powered off again. Poll both, noting n1 when it is seen back (idle in Slurm, up on
# compute in bootsvc).
jfield() { C scontrol show job "$jid" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1; }
job_done() { [[ $(jfield JobState) =~ ^(COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL)$ ]]; }
n1_seen=
n1_back() {
	[[ -n $n1_seen ]] && return 0
	[[ $(st n1) =~ ^(idle|mix|alloc)$ && $(dl_field n1 phase) == up &&
	    $(dl_field n1 booted_image) == "$IMG" ]] || return 1
	n1_seen="$(st n1), reason '$(nfield n1 Reason)', up on ${IMG:0:12}"
}
both_done() { n1_back; job_done && [[ -n $n1_seen ]]; }
dl_wait $((RESUME_TIMEOUT + 180)) "job $jid done and n1 back in service" both_done
[[ $(jfield JobState) == COMPLETED && $(jfield ExitCode) == 0:0 && $(jfield NodeList) == n2 &&
    $(jfield Restarts) == 1 ]] ||
    fail "job $jid: $(C scontrol show job "$jid" | grep -E 'JobState|NodeList|Restarts')"
(($(dl_bmc_power_count n2) == n2_ons + 1)) || fail "n2 power-ons $(dl_bmc_power_count n2)"
pass "job $jid requeued and ran on n2 (powered on for it)"
pass "after SIGCONT bootsvc booted n1 and Slurm returned it to service by itself: $n1_seen"

# --- and once idle, both go off again
dl_wait $((SUSPEND_TIME + 180)) "n1 n2 powered off and idle~ again" both_off
pass "idle again: n1 n2 powered off through their BMCs; Slurm: $(C sinfo -h -N -o '%N:%t' | tr '\n' ' ')"
plog | sed 's/^/    /'
echo PASS
