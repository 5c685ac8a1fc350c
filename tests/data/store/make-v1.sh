#!/bin/bash
# Make tests/data/store/v1.db: a store written by the release's own bootsvc (schema
# version 1, the last release before schema versions were read), for the migration tests
# (tests/unit/test_store_migrate.c). Run once, as root, against a build of the release:
#
#   tests/data/store/make-v1.sh /path/to/release-worktree [out.db]
#
# The release's bootsvc runs in a private network namespace (a dummy interface, no DHCP)
# on a temp state dir; the release's nodectl and plain HTTP requests give it a few nodes,
# image versions, phase reports, holds, events and energy totals. Only the processes started here are
# ended. The store is then VACUUMed (the same rows in fewer pages) and copied out.
set -euo pipefail
REL=${1:?usage: make-v1.sh RELEASE_DIR [OUT]}
OUT=${2:-$(cd "$(dirname "$0")" && pwd)/v1.db}
REL=$(cd "$REL" && pwd)
[[ -x $REL/build/bootsvc && -x $REL/build/nodectl ]] || { echo "no $REL/build/{bootsvc,nodectl}" >&2; exit 1; }
[[ $(id -u) == 0 ]] || { echo "needs root (network namespace)" >&2; exit 1; }

NS=st-fix-$$
W=$(mktemp -d /tmp/st-fix.XXXX)
PID=
cleanup() {
	set +e
	if [[ -n $PID ]]; then
		kill "$PID" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$PID" 2>/dev/null
	fi
	ip netns del "$NS" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT

ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add dl0 type veth peer name dl1
ip -n "$NS" addr add 10.77.0.1/24 dev dl0
ip -n "$NS" link set dl0 up
ip -n "$NS" link set dl1 up

cat >"$W/bootsvc.conf" <<EOC
state_dir = $W/state
template_dir = $REL/ipxe-scripts
control_socket = $W/control.sock
http_listen = 10.77.0.1:8080
boot_url = http://10.77.0.1:8080
dhcp_mode = off
node_ip_range = 10.77.0.10,10.77.0.99
idle_poweroff = off
health_poll = off
energy_interval = 1s
EOC
ip netns exec "$NS" "$REL/build/bootsvc" -c "$W/bootsvc.conf" >"$W/bootsvc.log" 2>&1 &
PID=$!
ctl() { "$REL/build/nodectl" --socket "$W/control.sock" "$@"; }
http() { ip netns exec "$NS" curl -fsS "$@"; }
for _ in $(seq 50); do ctl ping >/dev/null 2>&1 && break; sleep 0.2; done
ctl ping >/dev/null

# An image version: three small files and a manifest. The release computes the content id
# (the canonical manifest's sha256); its refusal of a misnamed directory names it.
image() { # NAME BUILT TAG -> prints the version's id
	local name=$1 built=$2 tag=$3
	local d=$W/images/tmp-$name-$tag
	mkdir -p "$d"
	printf 'kernel %s %s\n' "$name" "$tag" >"$d/vmlinuz"
	printf 'initrd %s %s\n' "$name" "$tag" >"$d/initrd"
	printf 'rootfs %s %s, a little longer\n' "$name" "$tag" >"$d/rootfs.squashfs"
	f() { printf '"%s": {"path": "%s", "sha256": "%s", "size": %d}' "$1" "$2" \
	    "$(sha256sum <"$d/$2" | cut -d' ' -f1)" "$(stat -c %s "$d/$2")"; }
	cat >"$d/manifest.json" <<EOM
{"format": 1, "name": "$name", "kind": "linux", "built": "$built",
 "recipe_sha256": "$(printf 'recipe %s' "$tag" | sha256sum | cut -d' ' -f1)",
 "kernel_version": "6.1.0-56-amd64",
 "kernel_banner": "6.1.0-56-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC",
 "cmdline": "console=ttyS0 quiet",
 "files": {$(f kernel vmlinuz), $(f initrd initrd), $(f rootfs rootfs.squashfs)},
 "initrd_tree": "$(printf 'tree %s' "$tag" | sha256sum | cut -d' ' -f1)"}
EOM
	local id
	id=$(ctl image add "$d" 2>&1 | sed -n 's/.*its manifest.s id is \([0-9a-f]\{64\}\).*/\1/p')
	[[ -n $id ]] || { echo "no id for $d" >&2; exit 1; }
	mv "$d" "$W/images/$id"
	ctl image add "$W/images/$id" >/dev/null
	echo "$id"
}
mkdir -p "$W/images"
T1=$(image tiny 2026-11-20T10:00:00Z a)
sleep 1.1 # "added" is in seconds: the second version of tiny is the newer one
T2=$(image tiny 2026-11-21T10:00:00Z b)
C1=$(image compute 2026-11-22T10:00:00Z c)

ctl node add 'n[01-04]' --mac '52:54:00:77:00:[01-04]' --image tiny >/dev/null
ctl node add n05 --mac 52:54:00:77:00:05 --ip 10.77.0.55 --uuid 4c4c4544-0042-3510-8052-b4c04f4d3232 \
    --serial SN-0005 --image "compute@${C1:0:8}" >/dev/null
ctl node add n06 --mac 52:54:00:77:00:06 >/dev/null
ctl node set n04 --image "tiny@${T1:0:8}" >/dev/null
ctl hold n06 --reason 'fixture: held by hand' >/dev/null

# Boots: scripts served (phase pxe, served_image), then the node's own reports.
for m in 01 02 05; do http "http://10.77.0.1:8080/ipxe/boot?mac=52:54:00:77:00:$m" >/dev/null; done
# an unknown machine is discovered
http "http://10.77.0.1:8080/ipxe/boot?mac=52:54:00:77:00:99&uuid=4c4c4544-0042-3510-8052-000000000099" >/dev/null
tok() { sqlite3 "file:$W/state/diskless.db?mode=ro" "select token from nodes where name='$1'"; }
report() { # NODE JSON
	http -X POST -H "Authorization: Bearer $(tok "$1")" -H 'Content-Type: application/json' \
	    --data "$2" "http://10.77.0.1:8080/api/v1/nodes/$1/phase" >/dev/null
}
report n01 '{"phase": "imaging"}'
report n02 '{"phase": "imaging"}'
report n02 '{"phase": "failed", "reason": "rootfs: sha256 mismatch"}'
report n05 '{"phase": "imaging"}'
ctl release n06 >/dev/null
sleep 2.5 # two energy passes: the booting nodes' draw lands in energy and energy_image

kill "$PID"
wait "$PID" || true
PID=
grep -q 'event=exit\|level=err' "$W/bootsvc.log" && { cat "$W/bootsvc.log" >&2; exit 1; }
sqlite3 "$W/state/diskless.db" 'VACUUM;'
[[ ! -e $W/state/diskless.db-wal ]] || { echo "WAL left beside the store" >&2; exit 1; }
cp "$W/state/diskless.db" "$OUT"
echo "wrote $OUT ($(stat -c %s "$OUT") bytes): images tiny $T1 $T2, compute $C1"
