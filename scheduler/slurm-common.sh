# Sourced by slurm-resume, slurm-suspend and slurm-resumefail (docs/slurm.md) first thing.
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
	local out rc
	out=$("$DL_NODECTL" --socket "$DL_SOCKET" "$@" 2>&1)
	rc=$?
	dl_log "event=nodectl rc=$rc cmd=\"$*\" out=\"$(tr '\n' ';' <<<"$out" | cut -c1-400)\""
	[[ $rc == 0 ]] && printf '%s\n' "$out"
	return $rc
}
# dl_hostnames HOSTLIST: one node name per line (Slurm expands its own syntax)
dl_hostnames() { "$DL_SCONTROL" show hostnames "$1"; }
# dl_hostlist NAME...: the names as one compressed Slurm hostlist
dl_hostlist() { local IFS=,; "$DL_SCONTROL" show hostlist "$*"; }
# dl_image FEATURES: the image named by the first image_<name> feature of a Slurm
# feature expression (image_compute, image_compute&ib, [image_a|image_b]...), or nothing
dl_image() {
	tr ',&|[]()*: ' '\n' <<<"$1" | sed -n 's/^image_\([a-z0-9][a-z0-9._-]*\)$/\1/p' | head -n 1
}
