#!/bin/bash
# make demo: Slurm drives the cluster (issue 7). Build images/compute (slurmd + munge),
# start bootsvc (and its dnsmasq) in a throwaway network namespace with two qemu nodes
# (one BIOS, one UEFI PXE boot) behind simulated BMCs (ipmi_sim), both off, and a real
# munged + slurmctld whose power programs are scheduler/slurm-{resume,suspend,resumefail}
# (and the watch slurm-resume leaves behind, slurm-resumewatch).
# Then: srun -N2 -C image_compute hostname -> ResumeProgram -> nodectl provision -> bootsvc
# powers the nodes on through IPMI -> they boot compute -> slurmd registers -> the job
# prints both names; idle for SuspendTime -> SuspendProgram -> nodectl power off -> BMCs
# off, idle~ in Slurm; nodectl energy; tear everything down.
# Uses the integration tests' harness (tests/integ/lib*.sh; slurm.sh is the same set-up
# with assertions) so the demo and the tests cannot drift apart.
# BUILD (default build/) names the programs; SUSPEND_TIME (default 20 s) the idle time.

# The demo runs in a child so that its last line says how it ended, after the clean-up
# (lib.sh's EXIT trap ends the shell it runs in).
# The outer shell passes Ctrl-C (the child, in the background, ignores SIGINT), SIGTERM
# and SIGHUP on as SIGTERM, on which the child cleans up, and waits for it.
if [[ -z ${DL_DEMO_INNER:-} ]]; then
	DL_DEMO_INNER=1 bash "$0" "$@" &
	child=$!
	trap 'kill -TERM "$child" 2>/dev/null' INT TERM HUP
	rc=0
	wait "$child" || rc=$?
	while kill -0 "$child" 2>/dev/null; do rc=0; wait "$child" || rc=$?; done
	echo
	if ((rc == 0)); then
		echo "== make demo: SUCCESS"
	else
		((rc == 130)) && echo "== make demo: INTERRUPTED, cleaned up (exit $rc)" ||
		    echo "== make demo: FAILED (exit $rc; the reason is the FAIL: line above the logs)"
	fi
	exit "$rc"
fi

source "$(dirname "$0")/../tests/integ/lib.sh"
source "$(dirname "$0")/../tests/integ/lib_bmc.sh"
source "$(dirname "$0")/../tests/integ/lib_slurm.sh"
STORE=${STORE:-/var/lib/diskless}
dl_require qemu-system-x86_64 python3 ip ipmi_sim slurmctld munged mungekey srun sinfo \
	scontrol unshare nsenter perl stdbuf
cd "$REPO"
BUILD=$(readlink -f "$BUILD")
t0=$SECONDS
hdr() { printf '\n== [%3d s] %s\n' $((SECONDS - t0)) "$*"; }
ind() { sed 's/^/    /'; }

hdr "building image 'compute' (slurmd + munge; an unchanged recipe is not rebuilt)"
# Progress goes to stderr; the last stdout line is "<id> <version dir>".
out=$("$BUILD/imagebuild" build images/compute --store "$STORE/images") || fail "imagebuild"
read -r IMG IMGPATH <<<"$(tail -n1 <<<"$out")"
[[ -f $IMGPATH/manifest.json ]] || fail "imagebuild printed no version directory"
echo "compute = ${IMG:0:12}"

dl_setup demo 72
dl_slurm_site
hdr "bootsvc in namespace $DL_NS, boot URL $DL_URL; two nodes behind BMCs, powered off"
dl_bootsvc_start "${DL_SLURM_BOOTSVC_ARGS[@]}"
dl_nodectl image add "$IMGPATH" >/dev/null || fail "image add"
dl_slurm_node 1 bios 1024
dl_slurm_node 2 uefi 1024
dl_nodectl node list | ind
dl_nodectl power status 'n[1-2]' | ind

hdr "Slurm: munged + slurmctld (hostname ctl) in the same namespace"
dl_slurm_start
echo "$(C scontrol --version); power saving in slurm.conf:"
grep -E '^(ResumeProgram|SuspendProgram|ResumeFailProgram|SuspendTime|ResumeTimeout|NodeName)=' \
    "$SLURM_CONF" | sed "s|$DL_W|\$W|g" | ind
both_idle_off() { st_is n1 'idle~' && st_is n2 'idle~'; }
dl_wait 30 "n1 n2 idle~ in Slurm" both_idle_off
C sinfo -N -o '%N %P %t %b' | ind
echo "(idle~ = powered down; Slurm powers them up when a job needs them)"

# --- live progress: bootsvc's events and the power programs' log as they come, and a
# one-line state of both nodes every 10 s
stdbuf -oL "$BUILD/nodectl" --socket "$DL_SOCK" events >"$DL_W/events.out" 2>&1 &
DL_PIDS+=("$!")
ev_seen=1 pl_seen=0 last_status=-100
progress() {
	local n
	# the power programs' lines first: what Slurm asked for, then what bootsvc did
	n=$( (plog || true) | wc -l)
	if ((n > pl_seen)); then
		# Slurm's power programs: prog, event, the nodectl command, without their output
		plog | sed -n "$((pl_seen + 1)),${n}p" |
		    sed -E 's/^[^ ]+ prog=([^ ]+) pid=[0-9]+ /    \1: /; s/ out=".*//'
		pl_seen=$n
	fi
	n=$(wc -l <"$DL_W/events.out")
	if ((n > ev_seen)); then
		sed -n "$((ev_seen + 1)),${n}p" "$DL_W/events.out" |
		    awk '{ $1 = ""; printf "    bootsvc event:%s\n", $0 }'
		ev_seen=$n
	fi
	if ((SECONDS - last_status >= 10)); then
		last_status=$SECONDS
		printf '  [%3d s] slurm: n1 %-7s n2 %-7s | bootsvc: %s\n' $((SECONDS - t0)) \
		    "$(st n1)" "$(st n2)" "$(dl_nodectl --json node list 'n[1-2]' | python3 -c '
import json, sys
print("  ".join("%s power %s, %s" % (n["name"], n["power"], n["phase"])
                for n in json.load(sys.stdin)["nodes"]))')"
	fi
}
progress >/dev/null # the events before the job: node add, and so on
last_status=-100

hdr "a job: srun -N2 -C image_compute hostname (the nodes are off)"
# (nsenter, not C: a function in the background would be a subshell, and killing it at
# clean-up would leave srun behind; nsenter execs srun, which clean-up kills, -9 if need be)
nsenter -t "$DL_SLURM_CTLNS" -n -m -u -- srun -N2 -C image_compute -t 5 hostname \
    >"$DL_W/srun.out" 2>"$DL_W/srun.err" &
SRUN=$!
DL_PIDS+=("$SRUN")
tj=$SECONDS
while kill -0 "$SRUN" 2>/dev/null; do
	((SECONDS - tj < RESUME_TIMEOUT + 60)) || fail "the job did not end within $((SECONDS - tj)) s"
	progress
	sleep 1
done
wait "$SRUN" || { cat "$DL_W/srun.err"; fail "srun -N2 -C image_compute hostname"; }
progress
got=$(sort "$DL_W/srun.out" | tr '\n' ' ')
[[ $got == "n1 n2 " ]] || fail "the job printed '$got', not 'n1 n2'"
hdr "the job's output, $((SECONDS - tj)) s after srun (power-on + PXE + boot + run):"
sort "$DL_W/srun.out" | sed 's/^/    | /'
for n in n1 n2; do
	[[ $(dl_field $n booted_image) == "$IMG" ]] || fail "$n booted $(dl_field $n booted_image)"
	[[ $(dl_bmc_booted_from $n) == *pxe* ]] || fail "$n powered on from $(dl_bmc_booted_from $n)"
done
dl_nodectl node list | ind
C sinfo -N -o '%N %P %t %b' | ind

hdr "no more jobs: after SuspendTime=$SUSPEND_TIME s idle, SuspendProgram powers them off"
running() { [[ -n $(dl_bmc_qemu_pid "$1") ]]; }
both_off() { ! running n1 && ! running n2 && st_is n1 'idle~' && st_is n2 'idle~'; }
ti=$SECONDS
while ! both_off; do
	((SECONDS - ti < SUSPEND_TIME + 180)) || fail "n1 n2 not powered off and idle~ after $((SECONDS - ti)) s"
	progress
	sleep 1
done
progress
for n in n1 n2; do
	[[ $(dl_field $n power) == off ]] || fail "$n: bootsvc says power $(dl_field $n power)"
done
hdr "both nodes off $((SECONDS - ti)) s after the job ended"
dl_nodectl power status 'n[1-2]' | ind
C sinfo -N -o '%N %P %t %b' | ind

hdr "energy accounted by bootsvc (SOURCE model: the configured wattage; bmc: the BMC's reading)"
dl_nodectl energy | ind

hdr "done in $((SECONDS - t0)) s; tearing down"
