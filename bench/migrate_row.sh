# shellcheck shell=bash
# Row 9 of bench/run.sh (sourced): the VM layer's executor (issue 13) against virsh. One
# TCG guest migrates live between two real libvirtd VM hosts, hva and hvb
# (tests/integ/lib_libvirtd.sh: each a Debian libvirtd in namespaces of its own on the
# bench's br0, TLS only, booted from its overlay as a node of a kvm image), alternately
# through bootsvc and through virsh, in the same run:
#  bootsvc: `nodectl vm migrate <guest> --to <host> --wait`; the time is the step's own
#           (ended_ms - started_ms in `nodectl --json vm plans <id>`: from the step written
#           running to the migration's end), the downtime is the step's downtime_ms
#           (libvirt's completed job, read on the destination by bootsvc);
#  virsh:   `virsh migrate --live --p2p --persistent --undefinesource --auto-converge` on the
#           source's libvirtd (lv_migrate: the flags the executor passes, but post-copy,
#           which the bench's bootsvc has off), the wall time of that call; the downtime
#           from `virsh domjobinfo --completed` on the destination right after (the source
#           forgot the domain with --undefinesource).
# Each round moves the guest four times, each side once in each direction, in the order
# bootsvc hva->hvb, virsh hvb->hva, virsh hva->hvb, bootsvc hvb->hva (A B B A: neither
# side always goes first or always in one direction); medians of all rounds per side.
# Before each bootsvc migration its listing must show the guest on the source (a virsh
# move is seen at the next vm_poll), which is waited for outside the timed part.
#
# The row runs in a subshell (migrate_row_isolated): lib_libvirtd's helpers call fail()
# on a set-up error, which there ends the row, not the bench; its EXIT trap (_lv_exit:
# the hosts' PID namespaces, then lib.sh's cleanup) ends what the row started, with
# lib.sh's cleanup narrowed to the row's own processes and namespaces.
MIG_GUEST=bmig
# 128 MiB: the Debian kernel boots in 96; fill= writes this much random data once so the
# migration copies real pages (zero pages cost almost nothing to send) and leaves the
# guest's kernel and busybox room
MIG_MIB=128
MIG_FILL_MIB=48
# a migration of a 128 MiB guest under TCG takes seconds; past this something is wrong
MIG_TIMEOUT_S=300
MIG_HOSTS=(hva hvb)

# mig_where: the one host libvirt runs the guest on ("A B" if two do: a failure)
mig_where() { lv_guest_where "$MIG_GUEST" | tr '\n' ' ' | sed 's/ $//'; }

# mig_bootsvc_sees HOST: bootsvc's listing has the guest running on HOST
mig_bootsvc_sees() {
	dl_nodectl --json vm list | python3 -c '
import json, sys
sys.exit(0 if any(v["name"] == sys.argv[1] and v["host"] == sys.argv[2] and
                  v["state"] == "running" for v in json.load(sys.stdin)["vms"]) else 1)' \
	    "$MIG_GUEST" "$1"
}

mig_host_connected() {
	dl_nodectl --json host list | python3 -c '
import json, sys
sys.exit(0 if any(h["node"] == sys.argv[1] and h["state"] == "connected"
                  for h in json.load(sys.stdin)["hosts"]) else 1)' "$1"
}

# mig_bootsvc SRC DST: one migration through bootsvc; sets MIG_T (s), MIG_D (ms) and
# MIG_WALL (s, nodectl's whole call, --wait's 1 s polls included), or MIG_ERR
mig_bootsvc() {
	local src=$1 dst=$2 out id t0 step state
	MIG_T='' MIG_D='' MIG_WALL='' MIG_ERR=''
	dl_wait 60 "bootsvc lists $MIG_GUEST on $src" mig_bootsvc_sees "$src"
	t0=$(now)
	out=$(timeout $((MIG_TIMEOUT_S + 30)) "$BUILD/nodectl" --socket "$DL_SOCK" vm migrate \
	    "$MIG_GUEST" --to "$dst" --wait --timeout "${MIG_TIMEOUT_S}s" 2>&1)
	local rc=$?
	MIG_WALL=$(dt "$t0")
	echo "$out" >>"$W/migrate-nodectl.log"
	id=$(sed -n 's/^plan \([0-9][0-9]*\) .*/\1/p' <<<"$out" | head -n 1)
	if ((rc != 0)) || [[ -z $id ]]; then
		MIG_ERR="bootsvc $src->$dst: exit $rc: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
		return 1
	fi
	step=$(dl_nodectl --json vm plans "$id" | python3 -c '
import json, sys
s = json.load(sys.stdin)["plans"][0]["steps"][0]
print(s["state"], (s["ended_ms"] - s["started_ms"]) / 1000.0, s["downtime_ms"], s["data_total"])') ||
	    { MIG_ERR="bootsvc $src->$dst: plan $id unreadable"; return 1; }
	read -r state MIG_T MIG_D _ <<<"$step"
	[[ $state == "done" ]] || { MIG_ERR="bootsvc $src->$dst: plan $id's step $state"; return 1; }
}

# mig_virsh SRC DST: one migration through virsh; sets MIG_T (s), MIG_D (ms), MIG_JOB
# (libvirt's own "Time elapsed", ms), or MIG_ERR
mig_virsh() {
	local src=$1 dst=$2 out t0 info
	MIG_T='' MIG_D='' MIG_JOB='' MIG_ERR=''
	t0=$(now)
	# lv_migrate's virsh under a deadline (a function of this command substitution only)
	out=$(virsh() { timeout "$MIG_TIMEOUT_S" virsh "$@"; }
	    lv_migrate "$src" "$MIG_GUEST" "$dst" --auto-converge 2>&1)
	local rc=$?
	MIG_T=$(dt "$t0")
	if ((rc != 0)); then
		MIG_ERR="virsh $src->$dst: exit $rc: $(tr '\n' ' ' <<<"$out")"
		return 1
	fi
	info=$(lv_virsh "$dst" domjobinfo --completed "$MIG_GUEST" 2>&1)
	echo "$info" >>"$W/migrate-domjobinfo.log"
	MIG_D=$(awk -F: '/^Total downtime:/ { d = $2 } /^Downtime:/ && d == "" { d = $2 }
	    END { sub(/ms/, "", d); gsub(/ /, "", d); print d }' <<<"$info")
	MIG_JOB=$(awk -F: '/^Time elapsed:/ { v = $2; sub(/ms/, "", v); gsub(/ /, "", v); print v; exit }' <<<"$info")
	[[ -n $MIG_D ]] || { MIG_ERR="virsh $src->$dst: no downtime in domjobinfo: $(tr '\n' ' ' <<<"$info")"; return 1; }
}

migrate_row() {
	local i t0 r h bs_t=() bs_d=() bs_w=() vs_t=() vs_d=() vs_j=() errs='' detail=''
	note "VM executor: one $MIG_MIB MiB TCG guest ($MIG_FILL_MIB MiB filled) between two libvirtd hosts over TLS, $ROUNDS rounds, bootsvc and virsh interleaved"
	dl_require libvirtd virsh unshare busybox cpio gzip
	DL_SOCK=$W/mig.sock
	mkdir -p "$W/mig-state"
	t0=$(now)
	i=0
	for h in "${MIG_HOSTS[@]}"; do
		lv_host_add "$h" "$DL_NET.1$i" "52:54:00:91:01:1$i"
		i=$((i + 1))
	done
	lv_image
	# the executor's policy for a plain manual move: no balancing beside it, no post-copy
	# (virsh does none), listings every 2 s so a virsh move is seen soon
	dl_bootsvc_start --state-dir="$W/mig-state" --control-socket="$DL_SOCK" \
	    --vm_poll=2s --power_poll=1h --health_poll=off --vm_balance_interval=0 \
	    --vm_postcopy=off --log_level=info
	echo "$DL_BOOTSVC_PID" >"$W/mig-bootsvc.pid"
	for h in "${MIG_HOSTS[@]}"; do lv_node_add "$h"; done
	for h in "${MIG_HOSTS[@]}"; do lv_host_up "$h"; done
	for h in "${MIG_HOSTS[@]}"; do dl_wait 60 "$h connected" mig_host_connected "$h"; done
	lv_guest_start hva "$MIG_GUEST" "$MIG_MIB" "fill=$MIG_FILL_MIB"
	_mig_filled() { grep -aq FILLED "$DL_W/$MIG_GUEST-console.log"; }
	dl_wait 300 "$MIG_GUEST booted and filled $MIG_FILL_MIB MiB" _mig_filled
	lv_wait_tick "$MIG_GUEST" 1 60
	put migrate_setup_s "$(dt "$t0")"
	put migrate_guest "$MIG_MIB MiB, 1 vCPU, TCG, $(grep -ao 'FILLED [0-9]* MiB' "$DL_W/$MIG_GUEST-console.log" | head -n 1 | cut -d' ' -f2) MiB of random data"

	# mig_one SIDE SRC DST: one timed migration, checked against libvirt's placement
	mig_one() {
		local side=$1 src=$2 dst=$3 w
		if [[ $side == bootsvc ]]; then mig_bootsvc "$src" "$dst"; else mig_virsh "$src" "$dst"; fi || {
			errs+=" $MIG_ERR;"; echo "  $side $src->$dst: $MIG_ERR"; return 1; }
		w=$(mig_where)
		[[ $w == "$dst" ]] || { errs+=" $side $src->$dst: the guest runs on '$w';"; return 1; }
		if [[ $side == bootsvc ]]; then
			bs_t+=("$MIG_T") bs_d+=("$MIG_D") bs_w+=("$MIG_WALL")
			echo "  bootsvc round $r $src->$dst: $MIG_T s, downtime $MIG_D ms (nodectl --wait $MIG_WALL s)"
		else
			vs_t+=("$MIG_T") vs_d+=("$MIG_D") vs_j+=("$MIG_JOB")
			echo "  virsh   round $r $src->$dst: $MIG_T s, downtime $MIG_D ms (libvirt job $MIG_JOB ms)"
		fi
		detail+="$side:$src>$dst:${MIG_T}s:${MIG_D}ms "
	}
	for r in $(seq "$ROUNDS"); do
		mig_one bootsvc hva hvb || break
		mig_one virsh hvb hva || break
		mig_one virsh hva hvb || break
		mig_one bootsvc hvb hva || break
	done
	put migrate_rounds "$ROUNDS"
	put migrate_bootsvc_s "$(median "${bs_t[@]}")"
	put migrate_virsh_s "$(median "${vs_t[@]}")"
	put migrate_bootsvc_downtime_ms "$(median "${bs_d[@]}")"
	put migrate_virsh_downtime_ms "$(median "${vs_d[@]}")"
	put migrate_ratio "$(ratio "$(get migrate_bootsvc_s)" "$(get migrate_virsh_s)")"
	put migrate_bootsvc_wall_s "$(median "${bs_w[@]}")"
	put migrate_virsh_job_ms "$(median "${vs_j[@]}")"
	put migrate_detail "${detail% }"
	# the same guest all along: one boot, a counter without a gap, still counting
	if ! lv_counter_ok "$MIG_GUEST"; then
		errs+=" the guest's counter after $(( ${#bs_t[@]} + ${#vs_t[@]} )) migrations: $(tr -d '\r' <"$DL_W/$MIG_GUEST-console.log" | grep -a 'GUEST-UP\|TICK' | tail -n 3 | tr '\n' ' ');"
	fi
	[[ -n $errs ]] && put migrate_errors "$(cut -c1-400 <<<"$errs")"
	dl_bootsvc_stop
	lv_cleanup
	# the kvm manifest's copy of images/tiny is the row's: later rows pick their image
	# from $W/store
	rm -rf "$LV_KVM_DIR" "$DL_W/build"
}

# migrate_row_isolated: migrate_row in a subshell whose cleanup is the row's own (see
# the top); a set-up failure becomes migrate_errors. Its output goes to
# $W/migrate-row.out and, through tail, to the bench's. MIG_ROW_PID is the subshell while
# it runs: the bench's exit trap ends it (SIGTERM: its own trap cleans up) and waits.
MIG_ROW_PID=
migrate_row_isolated() {
	local rc tail_pid
	: >"$W/migrate-row.out"
	(
		# shellcheck disable=SC2034 # lib_bmc's, read by its cleanup
		DL_PIDS=() DL_NETNS=() DL_BMC_PGIDS=()
		# lib.sh's cleanup without the bench's namespace and work dir, which are the
		# parent's; lib_libvirtd's _lv_exit calls it after powering the hosts off
		dl_cleanup() {
			local rc=$? p ns
			set +e
			for p in "${DL_PIDS[@]}"; do kill "$p" 2>/dev/null; done
			for p in "${DL_PIDS[@]}"; do
				for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
				kill -9 "$p" 2>/dev/null
			done
			for ns in "${DL_NETNS[@]}"; do ip netns del "$ns" 2>/dev/null; done
			if ((rc != 0)); then
				echo "--- bootsvc.log (last 15 lines)"
				tail -n 15 "$DL_W/bootsvc.log" 2>/dev/null | cut -c1-300
			fi
			exit "$rc"
		}
		trap _lv_exit EXIT
		trap 'exit 130' INT TERM
		migrate_row
	) >>"$W/migrate-row.out" 2>&1 </dev/null &
	MIG_ROW_PID=$!
	tail -n +1 -f --pid="$MIG_ROW_PID" "$W/migrate-row.out" &
	tail_pid=$!
	wait "$MIG_ROW_PID"
	rc=$?
	MIG_ROW_PID=
	wait "$tail_pid"
	((rc == 0)) ||
	    put migrate_errors "the row stopped (exit $rc): $(grep -a '^FAIL:' "$W/migrate-row.out" | tail -n 1 | cut -c1-300)"
}

# migrate_row_stop: from the bench's exit trap, the row's subshell ended (its own trap
# powers its hosts off and ends its bootsvc) and waited for, for at most 60 s (then it
# and its bootsvc are killed), then anything of the row's left behind (its hosts by their
# power scripts, its namespaces by name: dl-lv<n>-<the bench's pid>)
migrate_row_stop() {
	local p ns
	if [[ -n $MIG_ROW_PID ]] && kill -0 "$MIG_ROW_PID" 2>/dev/null; then
		kill -TERM "$MIG_ROW_PID"
		for _ in $(seq 600); do kill -0 "$MIG_ROW_PID" 2>/dev/null || break; sleep 0.1; done
		# a subshell still waiting for a command (bash runs its trap after it) goes now
		if kill -0 "$MIG_ROW_PID" 2>/dev/null; then
			kill -KILL "$MIG_ROW_PID"
			p=$(cat "$DL_W/mig-bootsvc.pid" 2>/dev/null) && [[ -n $p ]] && kill "$p" 2>/dev/null
		fi
	fi
	lv_cleanup
	for p in "$DL_W"/lv-*/power; do [[ -x $p ]] && "$p" off >/dev/null 2>&1; done
	for ns in $(ip netns list | awk -v re="^dl-lv[0-9]+-$$\$" '$1 ~ re { print $1 }'); do
		ip netns del "$ns" 2>/dev/null
	done
}
