# bench/reimage_row.sh, sourced by bench/run.sh: the seed's scale (issue 15, point 6).
# REIMAGE_NODES nodes (3,780; quick: 252) registered in one bootsvc (SQLite), each
# simulated by build/bench/node_sim (bench/node_sim.c) from its own fixed address, all
# booted up on tiny A, then reimaged to tiny B by one order, beside the same bytes fetched
# from nginx by the same client at the same concurrency.
#
# The order. `nodectl provision` refuses a node without a BMC ("node 'n0001' has no BMC"):
# the controller reimages by power-cycling, and simulating 3,780 BMCs (an ipmi_sim
# process each) would cost the machine more than the boot it measures. A node without
# a BMC is reimaged the way such a site does it: the admin points the nodes at the new
# version with one `nodectl node set 'n[0001-3780]' --image tiny@<B>` and the nodes
# reboot (pdsh reboot, or the scheduler's reboot program); each iPXE asks for its script
# from its own address, which bootsvc takes as the node's own reboot (boot/trust.h: it
# arms the node and starts its self-boot op), and serves B. The bench runs node_sim's
# second round right after the node set: every node reboots at once.
#
# Measured: the time from the order to all up on B as nodectl sees it (`nodectl --json
# node list` right after node_sim's last `up` was answered, polled until all are up on B
# or a deadline), bootsvc's CPU (utime + stime of its two processes, the root parent and
# its unprivileged child, from /proc/<pid>/stat over the reimage) and VmHWM (the sum of
# both, over the process's life: it includes the registration and the first boot) per
# node booted; nginx's CPU over its round. A node that ends anything but up on B, or a
# node_sim round with a failed node, is recorded in reimage_errors.

source "$REPO/tests/integ/lib_pg.sh"

REIMAGE_ADDR=10.233.255.254
REIMAGE_PORT=8093
NGINX_REIMAGE_PORT=8094

# reimage_macs N: the MAC hostlist of N nodes (N a multiple of 252), in node_sim's order:
# 52:54:00:AA:BB:CC, AA = i / 252 + 1, BB = i % 252 / 14 + 1, CC = i % 14 + 1
reimage_macs() { printf '52:54:00:[01-%02d]:[01-18]:[01-14]' $(($1 / 252)); }
# reimage_ips N: 10.233.(i / 252 + 1).(i % 252 + 1)
reimage_ips() { printf '10.233.[1-%d].[1-252]' $(($1 / 252)); }

# the manifest fields a node reports: id,kernel sha256,initrd tree,rootfs sha256
reimage_receipt() {
	python3 - "$1" <<'EOP'
import json, os, sys
d = sys.argv[1]
m = json.load(open(os.path.join(d, "manifest.json")))
f = m["files"]
print(",".join([os.path.basename(d.rstrip("/")), f["kernel"]["sha256"],
                m.get("initrd_tree") or f["initrd"]["sha256"], f["rootfs"]["sha256"]]))
EOP
}

# reimage_check IMAGE_ID [LIST_JSON]: "up=<n up on it> other=<n not> failed=<n failed>
# bad=<names>", nodectl's view (LIST_JSON: a `nodectl --json node list` saved, else asked)
reimage_check() {
	{ if [[ -n ${2:-} ]]; then cat "$2"; else "$BUILD/nodectl" --socket "$DL_SOCK" --json node list 2>/dev/null; fi; } | python3 -c '
import json, sys
want = sys.argv[1]
d = json.load(sys.stdin)
nodes = d["nodes"] if isinstance(d, dict) else d
up = sum(1 for n in nodes if n["phase"] == "up" and n["booted_image"] == want)
bad = [n["name"] + ":" + n["phase"] for n in nodes if not (n["phase"] == "up" and n["booted_image"] == want)]
failed = sum(1 for n in nodes if n["phase"] == "failed")
print("up=%d other=%d failed=%d bad=%s" % (up, len(bad), failed, ",".join(bad[:10])))' "$1"
}

# reimage_wait_up SOCK IMAGE T0: poll SOCK's `nodectl --json node list` until every node is
# up on IMAGE or failed, or 120 s; sets seen_s (seconds from T0 to the list that said so),
# chk (reimage_check's line), checks (lists asked) and list_s (the last one's time)
reimage_wait_up() {
	local sock=$1 img=$2 t0=$3 tl deadline=$(($(date +%s) + 120))
	checks=0
	while :; do
		checks=$((checks + 1))
		tl=$(now)
		"$BUILD/nodectl" --socket "$sock" --json node list > "$rw/list.json" 2>&1
		list_s=$(dt "$tl")
		seen_s=$(dt "$t0") # the moment nodectl had the list
		chk=$(reimage_check "$img" "$rw/list.json")
		# done when every node is up on it or failed (failed waits for the controller)
		[[ $(kv "$chk" other) == $(kv "$chk" failed) || $(date +%s) -ge $deadline ]] && break
		sleep 0.5
	done
}

# reimage_hwm PID...: "<sum> <each...>" of their VmHWM in KiB
reimage_hwm() {
	local p h sum=0 each=()
	for p in "$@"; do
		h=$(awk '/^VmHWM/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)
		each+=("$h")
		sum=$((sum + h))
	done
	echo "$sum ${each[*]}"
}

# reimage_cpu_ticks PID...: user+system clock ticks of these processes (100 per second)
reimage_cpu_ticks() {
	local p t=0
	for p in "$@"; do
		t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	echo $t
}

reimage_row() {
	local n=$REIMAGE_NODES rw=$W/reimage sim=$BUILD/bench/node_sim out a b a_rc b_rc t0 c0 \
	    ng_pids ng_c0 hwm chk errs=
	note "reimage: $n nodes up on tiny A, one order to tiny B, then the same bytes from nginx"
	mkdir -p "$rw" "$BUILD/bench"
	if [[ ! -x $sim || $REPO/bench/node_sim.c -nt $sim ]]; then
		gcc -std=gnu17 -O2 -Wall -Wextra -D_GNU_SOURCE -o "$sim" "$REPO/bench/node_sim.c" ||
		    { put reimage_errors "building bench/node_sim.c failed"; return; }
	fi
	# A and B: two versions of the same name, as a site's next build of its image
	local da db
	da=$("$BUILD/imagebuild" build "$REPO/images/tiny" --store "$rw/store" --work "$rw" \
	    2>>"$rw/imagebuild.log" | tail -n 1 | cut -d' ' -f2)
	db=$("$BUILD/imagebuild" build "$REPO/tests/data/images/tiny-v2" --store "$rw/store" \
	    --work "$rw" 2>>"$rw/imagebuild.log" | tail -n 1 | cut -d' ' -f2)
	[[ -f $da/manifest.json && -f $db/manifest.json && $da != "$db" ]] ||
	    { put reimage_errors "imagebuild tiny / tiny-v2 failed (see $rw/imagebuild.log)"; return; }
	a=$(basename "$da"); b=$(basename "$db")
	local ra rb
	ra=$(reimage_receipt "$da"); rb=$(reimage_receipt "$db")
	put reimage_nodes "$n"
	put reimage_image_bytes "$(( $(stat -c %s "$db/vmlinuz") + $(stat -c %s "$db/initrd") + $(stat -c %s "$db/rootfs.squashfs") ))"

	# the nodes' fixed addresses on an interface of the bench's namespace (a veth pair
	# with both ends in it: this kernel may lack the dummy driver); the servers listen on
	# one more. Traffic between local addresses goes over the namespace's lo.
	ip -n "$DL_NS" link add dlnodes type veth peer name dlnodes-peer &&
	ip -n "$DL_NS" link set dlnodes up && ip -n "$DL_NS" link set dlnodes-peer up &&
	ip -n "$DL_NS" addr add "$REIMAGE_ADDR/16" dev dlnodes ||
	    { put reimage_errors "veth dlnodes in the bench's namespace"; return; }
	python3 -c '
import sys
n = int(sys.argv[1])
for i in range(n):
    print("addr add 10.233.%d.%d/32 dev dlnodes" % (i // 252 + 1, i % 252 + 1))' "$n" > "$rw/addrs"
	ip -n "$DL_NS" -batch "$rw/addrs" || { put reimage_errors "adding $n node addresses"; return; }

	local save_sock=$DL_SOCK
	DL_SOCK=$rw/control.sock
	mkdir -p "$rw/state"
	dl_bootsvc_start --state-dir="$rw/state" --control-socket="$DL_SOCK" --dhcp-mode=off \
	    --http-listen=$REIMAGE_ADDR:$REIMAGE_PORT --boot-url=http://$REIMAGE_ADDR:$REIMAGE_PORT \
	    --log-level=warning --power-poll=1h
	local bs_pids=("$DL_BOOTSVC_PID")
	[[ $DL_BOOTSVC_NET_PID != "$DL_BOOTSVC_PID" ]] && bs_pids+=("$DL_BOOTSVC_NET_PID")
	dl_nodectl image add "$da" >/dev/null && dl_nodectl image add "$db" >/dev/null ||
	    errs+=" nodectl image add failed;"
	t0=$(now)
	dl_nodectl node add "n[0001-$(printf %04d "$n")]" --mac "$(reimage_macs "$n")" \
	    --ip "$(reimage_ips "$n")" --image "tiny@$a" >/dev/null || errs+=" nodectl node add failed;"
	put reimage_add_s "$(dt "$t0")"

	# round 1, not timed: every node boots A by itself (its first boot from its address)
	out=$(dl_ns timeout 1900 "$sim" -a $REIMAGE_ADDR -p $REIMAGE_PORT -n "$n" -e "$a" -I "$ra" -I "$rb" 2>"$rw/sim-a.err")
	a_rc=$?
	local steps_a steps_b
	steps_a=$(sed -n 's/^node_step_s=//p' <<<"$out"); out=$(head -n 1 <<<"$out")
	echo "  node_sim A: $out"
	put reimage_first_boot "$out"
	put reimage_first_steps "$steps_a"
	chk=$(reimage_check "$a")
	echo "  nodectl after A: $chk"
	[[ $a_rc == 0 && $(kv "$chk" other) == 0 ]] ||
	    errs+=" first boot on A: node_sim rc $a_rc [$(tail -1 "$rw/sim-a.err")], $chk;"

	# the bound: nginx serving B's files and one node's B script, the same client
	# fetching script, kernel, initrd, rootfs per node from the nodes' addresses
	mkdir -p "$rw/www" "$rw/nginx"
	ln -sf "$db/vmlinuz" "$rw/www/kernel"
	ln -sf "$db/initrd" "$rw/www/initrd"
	ln -sf "$db/rootfs.squashfs" "$rw/www/rootfs"
	sed "s/$a/$b/g" < <(dl_ns curl -s --interface 10.233.1.1 \
	    "http://$REIMAGE_ADDR:$REIMAGE_PORT/ipxe/boot?mac=52:54:00:01:01:01") > "$rw/www/boot.ipxe"
	bench_nginx_conf "$rw" "$REIMAGE_ADDR:$NGINX_REIMAGE_PORT" > "$rw/nginx.conf"
	ip netns exec "$DL_NS" nginx -p "$rw/nginx/" -c "$rw/nginx.conf" -e "$rw/nginx-error.log" \
	    >>"$rw/nginx.log" 2>&1 &
	local ngpid=$!
	DL_PIDS+=("$ngpid")
	dl_wait 10 "nginx answers" dl_ns curl -sf -o /dev/null "http://$REIMAGE_ADDR:$NGINX_REIMAGE_PORT/boot.ipxe"
	sleep 0.5
	ng_pids=("$ngpid" $(pgrep -P "$ngpid"))
	ng_c0=$(reimage_cpu_ticks "${ng_pids[@]}")
	out=$(dl_ns timeout 1900 "$sim" -a $REIMAGE_ADDR -p $NGINX_REIMAGE_PORT -n "$n" \
	    -R /boot.ipxe,/kernel,/initrd,/rootfs 2>"$rw/sim-ng.err") ||
	    errs+=" nginx round: [$out $(tail -1 "$rw/sim-ng.err")];"
	echo "  node_sim nginx: $out"
	put reimage_nginx_cpu_s "$(awk -v t=$(($(reimage_cpu_ticks "${ng_pids[@]}") - ng_c0)) 'BEGIN { printf "%.2f", t / 100 }')"
	put reimage_nginx_s "$(kv "$out" wall_s)"
	put reimage_nginx_mib_s "$(kv "$out" mib_s)"
	put reimage_nginx_bytes "$(kv "$out" bytes)"
	kill "$ngpid" 2>/dev/null; wait "$ngpid" 2>/dev/null

	# the reimage: one order, every node reboots at once
	c0=$(reimage_cpu_ticks "${bs_pids[@]}")
	t0=$(now)
	dl_nodectl node set "n[0001-$(printf %04d "$n")]" --image "tiny@$b" >/dev/null ||
	    errs+=" nodectl node set failed;"
	local order_s
	order_s=$(dt "$t0")
	out=$(dl_ns timeout 1900 "$sim" -a $REIMAGE_ADDR -p $REIMAGE_PORT -n "$n" -e "$b" -I "$ra" -I "$rb" 2>"$rw/sim-b.err")
	b_rc=$?
	steps_b=$(sed -n 's/^node_step_s=//p' <<<"$out"); out=$(head -n 1 <<<"$out")
	echo "  node_sim B: $out"
	local sim_end_s checks list_s seen_s
	sim_end_s=$(dt "$t0")
	reimage_wait_up "$DL_SOCK" "$b" "$t0"
	put reimage_s "$seen_s"
	put reimage_order_s "$order_s"
	put reimage_sim_end_s "$sim_end_s"
	put reimage_checks "$checks"
	put reimage_list_s "$list_s"
	local ticks=$(($(reimage_cpu_ticks "${bs_pids[@]}") - c0))
	echo "  nodectl after B: $chk"
	put reimage_sim "$out"
	put reimage_steps "$steps_b"
	put reimage_sim_s "$(kv "$out" wall_s)"
	put reimage_bootsvc_mib_s "$(kv "$out" mib_s)"
	put reimage_bootsvc_bytes "$(kv "$out" bytes)"
	put reimage_up "$(kv "$chk" up)"
	put reimage_not_up "$(kv "$chk" other)"
	put reimage_cpu_s "$(awk -v t=$ticks 'BEGIN { printf "%.2f", t / 100 }')"
	put reimage_cpu_ms_node "$(awk -v t=$ticks -v n="$n" 'BEGIN { printf "%.2f", t * 10 / n }')"
	put reimage_nginx_cpu_ms_node "$(awk -v s="$(get reimage_nginx_cpu_s)" -v n="$n" 'BEGIN { printf "%.2f", s * 1000 / n }')"
	local each
	read -r hwm each <<<"$(reimage_hwm "${bs_pids[@]}")"
	# the root parent's, then the unprivileged child's (the one that serves HTTP)
	put reimage_hwm_each_kib "$each"
	put reimage_hwm_kib "$hwm"
	put reimage_hwm_kib_node "$(awk -v h=$hwm -v n="$n" 'BEGIN { printf "%.1f", h / n }')"
	put reimage_ratio "$(ratio "$(get reimage_s)" "$(get reimage_nginx_s)")"
	put reimage_load "$(cut -d' ' -f1-3 /proc/loadavg)"
	[[ $b_rc == 0 ]] || errs+=" reimage: node_sim rc $b_rc [$(tail -1 "$rw/sim-b.err")];"
	[[ $(kv "$chk" other) == 0 ]] || errs+=" reimage: $(kv "$chk" other) nodes not up on B ($(kv "$chk" bad));"
	[[ -n $errs ]] && put reimage_errors "$(cut -c1-400 <<<"$errs")"

	dl_bootsvc_stop
	DL_SOCK=$save_sock
	reimage_pg2 "$n" "$a" "$b" "$ra" "$rb" "$da" "$db"
	ip -n "$DL_NS" link del dlnodes 2>/dev/null
	rm -rf "$rw/store" "$rw/www"
}

# reimage_pg2 N A B RECEIPT_A RECEIPT_B DIR_A DIR_B: the same reimage against two bootsvc
# sharing one PostgreSQL (docs/scale-out.md), started in the bench's namespace
# (tests/integ/lib_pg.sh, TCP on its loopback, fsync off as in the tests: the row measures
# bootsvc, not the database's disk), each serving half the nodes (node_sim -f: the first
# half asks sn1, the second sn2; either serves any node). The nodes are registered through
# sn1 and the order goes through sn2: the store is one. Keys reimage_pg_*; the bound is the
# nginx round above. Runs after the one-bootsvc reimage, on the same addresses and images.
reimage_pg2() {
	local n=$1 a=$2 b=$3 ra=$4 rb=$5 da=$6 db=$7 half=$(($1 / 2)) url t0 c0 chk errs= \
	    s1=$rw/sn1.sock s2=$rw/sn2.sock p1=$((REIMAGE_PORT + 2)) p2=$((REIMAGE_PORT + 3)) \
	    pids=() rc1 rc2 out1 out2 hwm each
	note "reimage on PostgreSQL: two bootsvc, $half nodes each"
	PG_NETNS=$DL_NS pg_start "$rw/pg" 127.0.0.1 >>"$rw/pg.log" 2>&1 &&
	    PG_NETNS=$DL_NS pg_createdb diskless ||
	    { put reimage_pg_errors "PostgreSQL did not start (see $rw/pg.log)"; return; }
	url=$(pg_url diskless 127.0.0.1)
	local save_sock=$DL_SOCK sn port sock
	for sn in sn1 sn2; do
		[[ $sn == sn1 ]] && { port=$p1; sock=$s1; } || { port=$p2; sock=$s2; }
		mkdir -p "$rw/state-$sn"
		DL_SOCK=$sock
		dl_bootsvc_start --state-dir="$rw/state-$sn" --control-socket="$sock" --dhcp-mode=off \
		    --http-listen=$REIMAGE_ADDR:$port --boot-url=http://$REIMAGE_ADDR:$port \
		    --log-level=warning --power-poll=1h --store="$url" --server-name=$sn
		pids+=("$DL_BOOTSVC_PID")
		[[ $DL_BOOTSVC_NET_PID != "$DL_BOOTSVC_PID" ]] && pids+=("$DL_BOOTSVC_NET_PID")
	done
	DL_SOCK=$save_sock
	"$BUILD/nodectl" --socket "$s1" image add "$da" >/dev/null &&
	    "$BUILD/nodectl" --socket "$s1" image add "$db" >/dev/null || errs+=" image add;"
	"$BUILD/nodectl" --socket "$s1" node add "n[0001-$(printf %04d "$n")]" --mac "$(reimage_macs "$n")" \
	    --ip "$(reimage_ips "$n")" --image "tiny@$a" >/dev/null || errs+=" node add;"
	put reimage_pg_servers "$("$BUILD/nodectl" --socket "$s2" server list 2>&1 | tr -s ' \n' ' ' | cut -c1-200)"
	# reimage_pg2_round IMAGE: both halves at once, each against its server
	reimage_pg2_round() {
		dl_ns timeout 1900 "$sim" -a $REIMAGE_ADDR -p $p1 -n "$half" -e "$1" -I "$ra" -I "$rb" \
		    >"$rw/pg-$1-1.out" 2>"$rw/pg-$1-1.err" &
		local j1=$!
		dl_ns timeout 1900 "$sim" -a $REIMAGE_ADDR -p $p2 -f "$half" -n $((n - half)) -e "$1" \
		    -I "$ra" -I "$rb" >"$rw/pg-$1-2.out" 2>"$rw/pg-$1-2.err"
		rc2=$?
		wait "$j1"; rc1=$?
		out1=$(head -n 1 "$rw/pg-$1-1.out"); out2=$(head -n 1 "$rw/pg-$1-2.out")
	}
	reimage_pg2_round "$a"
	chk=$(reimage_check "$a" <("$BUILD/nodectl" --socket "$s2" --json node list))
	echo "  two bootsvc, after A: $chk"
	[[ $rc1 == 0 && $rc2 == 0 && $(kv "$chk" other) == 0 ]] ||
	    errs+=" first boot on A: node_sim rc $rc1/$rc2, $chk;"
	c0=$(reimage_cpu_ticks "${pids[@]}")
	t0=$(now)
	"$BUILD/nodectl" --socket "$s2" node set "n[0001-$(printf %04d "$n")]" --image "tiny@$b" \
	    >/dev/null || errs+=" node set;"
	reimage_pg2_round "$b"
	echo "  node_sim sn1: $out1"
	echo "  node_sim sn2: $out2"
	local checks list_s seen_s
	reimage_wait_up "$s1" "$b" "$t0"
	local ticks=$(($(reimage_cpu_ticks "${pids[@]}") - c0))
	echo "  two bootsvc, after B: $chk"
	put reimage_pg_s "$seen_s"
	put reimage_pg_sim "sn1: $out1; sn2: $out2"
	put reimage_pg_up "$(kv "$chk" up)"
	put reimage_pg_cpu_s "$(awk -v t=$ticks 'BEGIN { printf "%.2f", t / 100 }')"
	put reimage_pg_cpu_ms_node "$(awk -v t=$ticks -v n="$n" 'BEGIN { printf "%.2f", t * 10 / n }')"
	read -r hwm each <<<"$(reimage_hwm "${pids[@]}")"
	put reimage_pg_hwm_each_kib "$each"
	put reimage_pg_hwm_kib_node "$(awk -v h=$hwm -v n="$n" 'BEGIN { printf "%.1f", h / n }')"
	put reimage_pg_ratio "$(ratio "$seen_s" "$(get reimage_nginx_s)")"
	[[ $rc1 == 0 && $rc2 == 0 ]] || errs+=" reimage: node_sim rc $rc1/$rc2;"
	[[ $(kv "$chk" other) == 0 ]] || errs+=" reimage: $(kv "$chk" other) nodes not up on B ($(kv "$chk" bad));"
	[[ -n $errs ]] && put reimage_pg_errors "$(cut -c1-400 <<<"$errs")"
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	pg_stop
}
