# Sourced by slurm-resume, slurm-suspend, slurm-resumefail and slurm-resumewatch
# (docs/slurm.md) first thing.
#
# slurmctld 22.05 starts its power programs in a bare state (../shared/lab pitfalls):
# fds 0-2 closed, no PATH, only SLURM_CONF and SLURM_RESUME_FILE in the environment, and
# the signal mask of its powersave thread (SIGTERM, SIGINT, SIGHUP... blocked). So:
# stdio first (otherwise the first file opened becomes fd 0/1/2), then PATH, then one
# re-exec through perl (perl-base is essential in Debian) with an empty mask, so that
# nothing we run ignores SIGTERM.
if [[ -z ${DL_SLURM_READY:-} ]]; then
	exec </dev/null >>/dev/null 2>&1
	export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin DL_SLURM_READY=1
	exec perl -e 'use POSIX; sigprocmask(SIG_SETMASK, POSIX::SigSet->new);
		$SIG{$_} = "DEFAULT" for qw(INT QUIT TERM HUP PIPE); exec @ARGV or die "exec: $!"' \
	    -- "$0" "$@"
fi

# Configuration: diskless-slurm.conf next to the programs, else /etc/diskless/slurm.conf,
# else the defaults. key=value lines, '#' comments; read, never sourced.
DL_PROG=${0##*/}
DL_NODECTL=/usr/bin/nodectl
DL_SOCKET=/run/diskless/control.sock
DL_LOG=/var/log/diskless/slurm-power.log
DL_SCONTROL=scontrol
DL_FAIL_FAST=on
dl_conf=$(dirname "$(readlink -f "$0")")/diskless-slurm.conf
[[ -f $dl_conf ]] || dl_conf=/etc/diskless/slurm.conf
if [[ -f $dl_conf ]]; then
	while IFS='=' read -r k v; do
		k=${k//[[:space:]]/}
		v=${v#"${v%%[![:space:]]*}"}
		v=${v%"${v##*[![:space:]]}"}
		case $k in
		nodectl) DL_NODECTL=$v ;;
		socket) DL_SOCKET=$v ;;
		log) DL_LOG=$v ;;
		scontrol) DL_SCONTROL=$v ;;
		fail_fast) DL_FAIL_FAST=$v ;;
		'' | \#*) ;;
		esac
	done <"$dl_conf"
fi
mkdir -p "$(dirname "$DL_LOG")" 2>/dev/null
exec >>"$DL_LOG" 2>&1

# dl_log key=value...: one line per event, like bootsvc's (CONVENTIONS §9), to the log
# (stderr: stdout may be a command substitution)
dl_log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) prog=$DL_PROG pid=$$ $*" >&2; }
# dl_nodectl ARGS...: nodectl on the configured socket, logged with its exit status
dl_nodectl() {
	local out rc brief
	out=$("$DL_NODECTL" --socket "$DL_SOCKET" "$@" 2>&1)
	rc=$?
	# lines joined by ';', an indented one (--json) by one space: one short log line
	brief=$(tr '\n' ';' <<<"$out" | sed 's/; \+/ /g' | cut -c1-400)
	dl_log "event=nodectl rc=$rc cmd=\"$*\" out=\"$brief\""
	[[ $rc == 0 ]] && printf '%s\n' "$out"
	return $rc
}
# dl_pick SHOW KEY: one field (phase, bmc_state...) of a `node show` output
dl_pick() { sed -n "s/^$2: *//p" <<<"$1" | head -n 1; }
# dl_hostnames HOSTLIST: one node name per line (Slurm expands its own syntax)
dl_hostnames() { "$DL_SCONTROL" show hostnames "$1"; }
# dl_hostlist NAME...: the names as one compressed Slurm hostlist
dl_hostlist() { local IFS=,; "$DL_SCONTROL" show hostlist "$*"; }
# dl_image FEATURES: the image named by the first image_<name> feature of a Slurm
# feature expression (image_compute, image_compute&ib, [image_a|image_b]...), or nothing
dl_image() {
	tr ',&|[]()*: ' '\n' <<<"$1" | sed -n 's/^image_\([a-z0-9][a-z0-9._-]*\)$/\1/p' | head -n 1
}

# dl_reason NODE: bootsvc's view of why NODE is not up, as a Slurm reason on one line:
# "diskless: <phase>: <why>", why being an unreachable BMC, else the controller's last
# error, else the phase's reason. Fails when bootsvc cannot be asked.
dl_reason() {
	local show phase bmc err why
	show=$(dl_nodectl node show "$1") || return 1
	phase=$(dl_pick "$show" phase) bmc=$(dl_pick "$show" bmc_state)
	err=$(dl_pick "$show" last_error) why=$(dl_pick "$show" reason)
	[[ $err == - ]] && err=
	[[ $why == - ]] && why=
	if [[ $bmc == unreachable ]]; then
		why="BMC unreachable${err:+: $err}"
	elif [[ -n $err ]]; then
		why=$err
	fi
	why="diskless: ${phase:-unknown}${why:+: $why}"
	why=${why//[$'\t\n\r"']/ }
	printf '%s\n' "${why:0:200}"
}
# dl_down NODE: NODE down in Slurm with bootsvc's reason. Slurm requeues its batch job;
# when the node boots later, its slurmd registers and ReturnToService=2 returns it.
dl_down() {
	local why
	why=$(dl_reason "$1") || return 1
	dl_log "event=down node=$1 reason=\"$why\""
	"$DL_SCONTROL" update nodename="$1" state=down reason="$why" ||
	    { dl_log "event=scontrol_failed node=$1"; return 1; }
}
case $DL_FAIL_FAST in
on | off) ;;
*)
	dl_log "event=config_error key=fail_fast value=\"$DL_FAIL_FAST\" msg=\"not on or off: on\""
	DL_FAIL_FAST=on
	;;
esac
