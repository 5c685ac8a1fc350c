# A Slurm cluster driving bootsvc (docs/slurm.md), shared by tests/integ/slurm.sh and
# mk/demo.sh so the demo and the test cannot drift apart. Source it after lib.sh and
# lib_bmc.sh, call dl_setup, then in this order:
#   dl_slurm_site             munge key, slurm.conf, cgroup.conf, helpers.conf in the site
#                             overlay $DL_W/site; the power programs + their config in $S/bin
#   dl_bootsvc_start "${DL_SLURM_BOOTSVC_ARGS[@]}"   bootsvc with that overlay, test timers
#   dl_slurm_node I bios|uefi [MEM]   node nI (Slurm's and bootsvc's name), its BMC, off
#   dl_slurm_start            munged + slurmctld (after the last dl_bmc: it wraps their trap)
# Slurm knows nodes n[1-2] at $DL_NET.[11-12], feature image_compute, partition batch.
# Timers (s), set before dl_slurm_site: SUSPEND_TIME (how long a node idles before it is
# powered off) and RESUME_TIMEOUT (covers a compute boot of both nodes at once under TCG
# on two busy cores, 45-90 s seen here, the slower ones beside other heavy jobs).
# Afterwards: C CMD... runs a Slurm client in slurmctld's namespaces; st NODE, st_is NODE
# STATE, nfield NODE KEY read Slurm's view; plog prints the power programs' log.

SUSPEND_TIME=${SUSPEND_TIME:-20}
RESUME_TIMEOUT=${RESUME_TIMEOUT:-150}
DL_SLURM_BOOTSVC_ARGS=()

dl_slurm_site() {
	BUILD=$(readlink -f "$BUILD")
	S=$DL_W/slurm
	mkdir -p "$S/bin" "$S/state" "$DL_W/site/etc/slurm"
	# --- site files every node gets through bootsvc's site_overlay (docs/slurm.md)
	# the directory is listed by bootsvc's unprivileged process; the key (0400 root) is
	# read for it by the root parent (docs/slurm.md)
	mkdir -m 755 "$DL_W/site/etc/munge"
	mungekey -c -k "$DL_W/site/etc/munge/munge.key" -b 1024 || fail "mungekey"
	chmod 400 "$DL_W/site/etc/munge/munge.key"
	cat > "$DL_W/site/etc/slurm/slurm.conf" <<EOF
# written by tests/integ/lib_slurm.sh; the same file for slurmctld and every node
ClusterName=dl
SlurmctldHost=ctl($DL_SRV)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
# a requeued job waits cred_expire (default 120 s) before it may start again
AuthInfo=cred_expire=30
CredType=cred/munge
StateSaveLocation=$S/state
SlurmctldPidFile=$S/slurmctld.pid
SlurmctldLogFile=$DL_W/slurmctld.log
SlurmctldDebug=info
DebugFlags=Power,NodeFeatures
# on the nodes: slurmd's log on the serial console, so the test's console log has it
SlurmdLogFile=/dev/console
# Debian's packages make /var/lib/slurm/slurmd (the built-in default is /var/spool/slurmd)
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SlurmdParameters=config_overrides
TreeWidth=65533
MailProg=/bin/true
PrivateData=cloud
SuspendProgram=$S/bin/slurm-suspend
ResumeProgram=$S/bin/slurm-resume
ResumeFailProgram=$S/bin/slurm-resumefail
SuspendTime=$SUSPEND_TIME
SuspendTimeout=20
ResumeTimeout=$RESUME_TIMEOUT
SuspendRate=0
ResumeRate=0
SlurmctldParameters=idle_on_node_suspend,power_save_interval=1,power_save_min_interval=0
NodeFeaturesPlugins=node_features/helpers
NodeName=n[1-2] NodeAddr=$DL_NET.[11-12] CPUs=1 RealMemory=100 State=CLOUD Feature=image_compute
PartitionName=batch Nodes=n[1-2] Default=YES MaxTime=10 State=UP
EOF
	echo "CgroupPlugin=cgroup/v1" > "$DL_W/site/etc/slurm/cgroup.conf"
	cat > "$DL_W/site/etc/slurm/helpers.conf" <<EOF
Feature=image_compute Helper=/usr/lib/diskless/slurm-image-feature
ExecTime=10
EOF
	export SLURM_CONF=$DL_W/site/etc/slurm/slurm.conf

	# --- the power programs, installed as docs/slurm.md says, with their config beside them
	cp "$REPO"/scheduler/slurm-{resume,suspend,resumefail,resumewatch} "$REPO/scheduler/slurm-common.sh" \
	    "$S/bin/"
	cat > "$S/bin/diskless-slurm.conf" <<EOF
nodectl = $BUILD/nodectl
socket = $DL_SOCK
log = $DL_W/slurm-power.log
EOF
	# bootsvc with the overlay; timers that fit ResumeTimeout and a failing BMC's test
	DL_SLURM_BOOTSVC_ARGS=(--site_overlay="$DL_W/site" --power_poll=2s --bmc_timeout=3s
		--health_poll=off --retry_backoff=2s --timeout_pxe=120s --timeout_loading=90s
		--timeout_imaging=120s --timeout_up=300s --boot_attempts=2)
}

# dl_slurm_node I bios|uefi [MEM]: node nI at $DL_NET.1I, its BMC at $DL_NET.2I (powered
# off), registered in bootsvc on image compute.
dl_slurm_node() {
	local i=$1 fw=$2 mem=${3:-1024} oct
	oct=${DL_NET#10.}
	oct=${oct%.0}
	dl_bmc "n$i" "$DL_NET.2$i" "52:54:00:$oct:00:0$i" "$fw" "$mem"
	dl_nodectl node add "n$i" --mac "52:54:00:$oct:00:0$i" --ip "$DL_NET.1$i" \
	    --bmc "$DL_NET.2$i" --bmc-creds "$DL_W/n$i.creds" --image compute >/dev/null ||
	    fail "node add n$i"
}

# dl_slurm_start: munged and slurmctld in their own UTS (hostname ctl), mount (a private
# /run, so munge's socket has its default path, the one the nodes use too) and PID
# namespace inside the test's network namespace. Killing the unshare ends them all, and
# every power program they started.
dl_slurm_start() {
	cat > "$S/ctl-init.sh" <<EOF
hostname ctl
mount -t tmpfs -o mode=755 tmpfs /run && mkdir -m 755 /run/munge || exit 1
munged -F --key-file=$DL_W/site/etc/munge/munge.key --pid-file=$S/munged.pid \
    --log-file=$DL_W/munged.log --seed-file=$S/munge.seed >>$DL_W/munged.log 2>&1 &
for i in \$(seq 40); do [ -S /run/munge/munge.socket.2 ] && break; sleep 0.25; done
slurmctld -D -i >>$DL_W/slurmctld.log 2>&1 &
wait
EOF
	ip netns exec "$DL_NS" unshare --uts --mount --pid --fork --kill-child --mount-proc \
	    --propagation private bash "$S/ctl-init.sh" >>"$DL_W/slurmctld.log" 2>&1 &
	DL_SLURM_CTL=$!
	trap _dl_slurm_exit EXIT
	dl_wait 10 "slurmctld's namespace" _dl_slurm_ctl_started
	DL_SLURM_CTLNS=$(_dl_slurm_ctl_ns)
	_dl_slurm_up() { C scontrol ping | grep -q UP; }
	dl_wait 60 "slurmctld answers" _dl_slurm_up
}

# The unshare parent ignores SIGTERM (lab pitfall): SIGKILL it first thing at exit, which
# kills its namespace's init and so every process in it; then lib_bmc's and lib.sh's cleanup.
_dl_slurm_exit() {
	local rc=$?
	set +e
	kill -KILL "$DL_SLURM_CTL" 2>/dev/null
	wait "$DL_SLURM_CTL" 2>/dev/null
	(exit "$rc")
	_dl_bmc_exit
}
_dl_slurm_ctl_ns() { ps -o pid= --ppid "$DL_SLURM_CTL" | tr -d ' ' | head -n 1; }
_dl_slurm_ctl_started() { [[ -n $(_dl_slurm_ctl_ns) ]]; }

# C CMD...: a Slurm client inside slurmctld's namespaces (munge socket, hostname)
C() { nsenter -t "$DL_SLURM_CTLNS" -n -m -u -- "$@"; }
# Slurm's state of a node (idle~, alloc#, down~...); a node's field of scontrol show node
st() { C sinfo -h -N -n "$1" -o '%t' | head -n 1; }
st_is() { [[ $(st "$1") == "$2" ]]; }
nfield() { C scontrol show node "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }
plog() { cat "$DL_W/slurm-power.log" 2>/dev/null; }
