#!/bin/bash
# The VM layer (issue 13) against real libvirtd hosts: three VM hosts hva hvb hvc
# (tests/integ/lib_libvirtd.sh: each a Debian libvirtd in namespaces of its own, TLS only,
# booted from its overlay as a node of a kvm image, behind an ipmi_sim BMC whose power is
# that namespace), two tiny TCG guests on each whose console counter must keep ticking
# (one GUEST-UP, no gap) wherever they move. One set of hosts serves every check:
#   - the harness: a guest migrates peer to peer over TLS with virsh (hva -> hvb -> hva);
#     hvc's BMC powers its namespace off (libvirtd gone) and on again, it re-reports up
#   - drain: `nodectl host drain hva --wait` moves its guests to hvb/hvc; --undo
#   - a BMC fault (a burst of correctable ECC in hvb's SEL: risky) evacuates hvb by itself,
#     an event naming the reason
#   - thermal: a host's CPU Temp injected hot sheds one guest to the coolest host; over the
#     next balance rounds nothing moves back
#   - a guest dirtying memory faster than its (shaped) link migrates: vm_postcopy=on ends
#     by post-copy; with vm_postcopy=off it is aborted at its deadline, still on its source
#   - kill -9 of bootsvc during the evacuation of 4 guests: after the restart each runs
#     exactly once and every step ends done
#   - consolidation: a dry-run plan frees a host, balance --apply empties it, green powers
#     it off through its BMC (ipmi_sim's power state)
# Times are logged, never asserted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_bmc.sh"
. "$(dirname "$0")/lib_libvirtd.sh"
dl_require python3 ip curl libvirtd virsh qemu-system-x86_64 unshare busybox cpio gzip \
    ipmi_sim sdrcomp ipmipower tc
dl_setup vmlayer 63
T_START=$SECONDS

HOSTS=(hva hvb hvc)
declare -A GUESTS=([hva]="ga1 ga2" [hvb]="gb1 gb2" [hvc]="gc1 gc2")
ALL_GUESTS="ga1 ga2 gb1 gb2 gc1 gc2"
# Each host offers guests 2 CPUs and 600 MiB: six 96 MiB (the least the Debian kernel boots in) guests fit on one (so packing
# can free hosts), and any one host's guests fit on the others.
FACTS='{"cpus": 2, "guest_cpus": 2, "guest_memory_mib": 600}'
GUEST_MIB=96
# The policy under test; each bootsvc start adds what its part needs.
POLICY=(--vm_poll=2s --power_poll=2s --bmc_timeout=3s --health_poll=2s --log_level=debug
	--vm_thermal_hot=60 --vm_thermal_cool=50 --vm_consolidate=off
	--vm_balance_interval=4s --vm_cpu_ratio=4 --vm_migrations_max=4 --vm_migrations_per_host=2
	--timeout_pxe=10m --timeout_loading=10m --timeout_imaging=10m --timeout_up=10m)

i=0
for h in "${HOSTS[@]}"; do
	lv_host_add "$h" "$DL_NET.1$i" "52:54:00:63:00:1$i"
	lv_bmc "$h" "$DL_NET.20$i"
	i=$((i + 1))
done
lv_image
dl_bootsvc_start "${POLICY[@]}" --idle_poweroff=off --vm_postcopy=on
for h in "${HOSTS[@]}"; do lv_node_add "$h"; done
dl_events_to "$DL_W/events.jsonl"

# --- helpers over bootsvc's view
hosts_json() { dl_nodectl --json host list; }
# host_field HOST KEY
host_field() {
	hosts_json | python3 -c '
import json, sys
h = [x for x in json.load(sys.stdin)["hosts"] if x["node"] == sys.argv[1]]
print(json.dumps(h[0].get(sys.argv[2])) if h else "none")' "$1" "$2"
}
host_connected() { [[ $(host_field "$1" state) == '"connected"' ]]; }
# bootsvc lists VM NAME on HOST running
vm_on() {
	dl_nodectl --json vm list | python3 -c '
import json, sys
sys.exit(0 if any(v["name"] == sys.argv[1] and v["host"] == sys.argv[2] and
                  v["state"] == "running" for v in json.load(sys.stdin)["vms"]) else 1)' "$1" "$2"
}
# where NAME: the one host whose libvirtd runs NAME ("A B" if two do: a failure)
where() { lv_guest_where "$1" | tr '\n' ' ' | sed 's/ $//'; }
# guests_on HOST: the guests libvirt runs there
guests_on() { lv_virsh "$1" list --name --state-running 2>/dev/null | sed '/^$/d' | sort | tr '\n' ' '; }
placement() { local h; for h in "${HOSTS[@]}"; do printf '%s: %s| ' "$h" "$(guests_on "$h")"; done; }
# every guest runs on exactly one host and its counter is whole
all_once() {
	local g w
	for g in $ALL_GUESTS "$@"; do
		w=$(where "$g")
		[[ -n $w && $w != *" "* ]] || { echo "$g runs on '$w'"; return 1; }
		lv_counter_ok "$g" || { echo "$g's counter: $(tr -d '\r' <"$DL_W/$g-console.log" | grep -a 'GUEST-UP\|TICK' | tail -n 3 | tr '\n' ' ')"; return 1; }
	done
}
check_all_once() {
	local out
	out=$(all_once "$@") || fail "after $1: $out (placement: $(placement))"
	# and they still tick
	for g in $ALL_GUESTS; do lv_ticking "$g"; done
}
plans_json() { dl_nodectl --json vm plans; }
# bmc_power HOST: on|off as ipmi_sim says (FreeIPMI's ipmipower, the reference)
bmc_power() { dl_bmc_fi ipmipower "$1" --stat 2>&1 | sed -n 's/.*: \(on\|off\)$/\1/p'; }

# --- the hosts boot and report up; bootsvc connects to each
t0=$SECONDS
for h in "${HOSTS[@]}"; do lv_host_up "$h" "$FACTS"; done
for h in "${HOSTS[@]}"; do dl_wait 60 "$h connected" host_connected "$h"; done
pass "hva hvb hvc up and connected over TLS in $((SECONDS - t0)) s"

# --- the harness: hvc's BMC powers its namespace off and on
[[ $(bmc_power hvc) == on ]] || fail "hvc's BMC says '$(bmc_power hvc)', not on"
p=$(lv_libvirtd_pid hvc) || fail "no libvirtd on hvc"
dl_bmc_fi ipmipower hvc --off >/dev/null 2>&1 || fail "ipmipower --off hvc"
[[ $(bmc_power hvc) == off && $(lv_host_power hvc status) == off ]] ||
    fail "hvc after power off: BMC '$(bmc_power hvc)', namespace $(lv_host_power hvc status)"
! kill -0 "$p" 2>/dev/null || fail "hvc's libvirtd $p survived its power off"
dl_bmc_fi ipmipower hvc --on >/dev/null 2>&1 || fail "ipmipower --on hvc"
[[ $(bmc_power hvc) == on ]] || fail "hvc's BMC says '$(bmc_power hvc)' after power on"
dl_wait 60 "hvc's libvirtd back after power on" lv_virsh hvc version
lv_host_up hvc "$FACTS"
dl_wait 60 "hvc connected again" host_connected hvc
pass "hvc's BMC: power off ended its libvirtd, power on started it, hvc re-reported up"

# --- six guests, two a host
t0=$SECONDS
for h in "${HOSTS[@]}"; do for g in ${GUESTS[$h]}; do lv_guest_start "$h" "$g" $GUEST_MIB; done; done
for g in $ALL_GUESTS; do lv_wait_tick "$g" 2 180; done
pass "six $GUEST_MIB MiB TCG guests counting after $((SECONDS - t0)) s"
for h in "${HOSTS[@]}"; do for g in ${GUESTS[$h]}; do dl_wait 30 "$g on $h in vm list" vm_on "$g" "$h"; done; done

# --- the harness: peer-to-peer live migration over TLS, driven by the source's libvirtd
t0=$SECONDS
out=$(lv_migrate hva ga1 hvb 2>&1) || fail "virsh migrate --p2p ga1 hva -> hvb: $out"
t1=$SECONDS
[[ $(where ga1) == hvb ]] || fail "ga1 runs on '$(where ga1)' after its migration to hvb"
out=$(lv_migrate hvb ga1 hva 2>&1) || fail "virsh migrate --p2p ga1 hvb -> hva: $out"
[[ $(where ga1) == hva ]] || fail "ga1 runs on '$(where ga1)' after its migration back"
lv_ticking ga1
lv_counter_ok ga1 || fail "ga1's counter after two migrations"
pass "virsh migrate --live --p2p over qemu+tls: ga1 hva -> hvb ($((t1 - t0)) s) -> hva ($((SECONDS - t1)) s), one boot, no gap"
echo "measured: set-up and harness checks $((SECONDS - T_START)) s"
