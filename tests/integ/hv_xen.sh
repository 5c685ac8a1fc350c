#!/bin/bash
# A Xen VM host (issue 12): build images/xen (cached in the shared store by its recipe
# hash); the version carries Xen gunzipped (`xen`, whose GNU build id readelf finds as the
# manifest says) and xen.efi, and the manifest Xen's version and command line from the
# recipe. A BIOS node boots it through bootsvc by iPXE multiboot (short lines: files by
# node name, no dl.image), a UEFI node (OVMF) by xen.efi, which reads bootsvc's xen.cfg for
# the node; on each, dom0's init fetches its credential itself (dl.cred=fetch), reads the
# hypervisor beneath it from /sys/hypervisor exactly as the manifest names that build (the
# receipt's hypervisor field), switches to the image and comes up once its libvirtd (libxl)
# answers, with Xen facts; an admin's virsh over xen+tls lists Domain-0, and bootsvc lists
# each node as a connected Xen host with no VM (Domain-0 is the host, not a guest). Then a
# third node is served a version whose `xen` has another build id than its manifest
# says: its receipt fails naming both.
# The nodes' CPU is qemu's Nehalem (Intel, no SMAP): with qemu's default (qemu64) the host
# features Xen reports have neither VME nor SEP, so libvirt's libxl driver finds no CPU
# model for the host, its start fails and libvirtd exits 0 (docs/vm.md "Xen"); with SMAP
# visible Xen 4.17's PV dom0 crashes
# under TCG (shared/lab iscsi-xen.md pitfall 3). XEN_QEMU_CPU overrides it.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_vmhost.sh"
dl_require qemu-system-x86_64 python3 ip unsquashfs debootstrap virsh readelf
dl_setup hvxen 97
cd "$REPO"
B=x01 BMAC=52:54:00:67:00:01 BIP=$DL_NET.10
U=x02 UMAC=52:54:00:67:00:02 UIP=$DL_NET.11
M=x03 MMAC=52:54:00:67:00:03 MIP=$DL_NET.12

# --- the image
vh_build xen
[[ $(vh_manifest_field kind) == xen ]] || fail "manifest kind is not xen"
ver=$(vh_manifest_field hypervisor_version) bid=$(vh_manifest_field hypervisor_build_id)
[[ $ver == 4.17.* ]] || fail "hypervisor_version '$ver' is not Debian 12's Xen 4.17"
readelf -n "$VH_PATH/xen" | grep -q "Build ID: $bid\$" ||
	{ readelf -n "$VH_PATH/xen"; fail "manifest build id $bid is not the xen file's note"; }
file_ok() { head -c 4 "$VH_PATH/$1" | grep -q "$2"; }
file_ok xen $'\x7fELF' || fail "xen is not the gunzipped ELF"
file_ok xen.efi MZ || fail "xen.efi is not a PE image"
[[ $(vh_manifest_field hypervisor_cmdline) == \
   "dom0_mem=1024M,max:1024M dom0_max_vcpus=1 console=com1 com1=115200,8n1 loglvl=info" ]] ||
	fail "hypervisor_cmdline '$(vh_manifest_field hypervisor_cmdline)' is not the recipe's"
unsquashfs -cat "$VH_PATH/rootfs.squashfs" etc/diskless/vmhost.conf | grep -qx 'driver=xen' ||
	fail "vmhost.conf does not name the xen driver"
pass "images/xen $VH_ID: Xen $ver build id $bid, xen + xen.efi, the recipe's command line"

# --- TLS and bootsvc; one node per firmware
vh_pki
dl_bootsvc_start
dl_nodectl image add "$VH_PATH" >/dev/null || fail "image add"
dl_nodectl node add "$B" --mac "$BMAC" --ip "$BIP" --image xen >/dev/null || fail "node add $B"
dl_nodectl node add "$U" --mac "$UMAC" --ip "$UIP" --image xen >/dev/null || fail "node add $U"
t0=$SECONDS
DL_QEMU_CPU=${XEN_QEMU_CPU:-Nehalem}
dl_qemu "$B" bios "$BMAC" 2048
dl_qemu "$U" uefi "$UMAC" 2048
efibid=$(vh_manifest_field hypervisor_efi_build_id)
# what dom0 reads of an id: Linux prints Xen's bytes up to the first zero byte
as_seen() { python3 -c 'import sys; print(bytes.fromhex(sys.argv[1]).split(b"\0")[0].hex())' "$1"; }
for n in "$B:$(as_seen "$bid"):BIOS multiboot" "$U:$(as_seen "$efibid"):xen.efi with bootsvc's xen.cfg"; do
	IFS=: read -r name seen how <<<"$n"
	dl_wait 600 "$name's dom0 reads its hypervisor" dl_console_has "$name" 'diskless: hypervisor '
	echo "measured: $name power-on to dom0's init reading /sys/hypervisor $((SECONDS - t0)) s"
	dl_console_has "$name" "Xen version $ver" || fail "$name's console shows no Xen $ver"
	dl_console_has "$name" 'credential fetched from the boot server' ||
		fail "$name's init did not fetch its credential (dl.cred=fetch)"
	dl_console_has "$name" "hypervisor $ver $seen\b" ||
		{ grep -a 'hypervisor ' "$DL_W/$name.log" | tail -2; fail "$name's dom0 read another hypervisor than $ver $seen"; }
	pass "$name: $how, credential fetched by the init, dom0 read Xen $ver $seen (the manifest's build for it)"
done
for n in "$B:$BIP" "$U:$UIP"; do
	name=${n%%:*} ip=${n#*:}
	end=$((SECONDS + 600))
	until dl_phase_is "$name" up; do
		[[ $(dl_phase "$name") == failed ]] && fail "$name failed: $(dl_field "$name" reason)"
		((SECONDS < end)) || fail "timed out waiting for $name up (phase $(dl_phase "$name"))"
		sleep 2
	done
	echo "measured: $name power-on to up (dom0's libvirtd answering) $((SECONDS - t0)) s"
	[[ $(dl_field "$name" booted_image) == "$VH_ID" ]] || fail "$name booted another version"
	dl_wait 30 "$name facts" dl_console_has "$name" 'vmhost-up: facts'
	facts=$(vh_facts "$name")
	python3 - "$facts" "$ip" "$ver" <<'EOP' || fail "$name facts: $facts"
import json, sys
f = json.loads(sys.argv[1])
assert f["hypervisor"] == "Xen" and f["uri"] == "xen+tls://%s/system" % sys.argv[2], f
assert f["hypervisor_version"] == sys.argv[3], f
assert f["cpus"] >= 1 and f["numa_nodes"] >= 1, f
assert 0 < f["guest_memory_mib"] < f["memory_mib"] - 900, f   # dom0 keeps its 1024M
EOP
	vh_virsh xen "$ip" list --all >"$DL_W/$name.list" 2>&1 ||
		{ cat "$DL_W/$name.list"; fail "virsh xen+tls to $name"; }
	grep -q 'Domain-0' "$DL_W/$name.list" || { cat "$DL_W/$name.list"; fail "$name's libvirt does not list Domain-0"; }
	pass "$name up on Xen $ver with Xen facts, Domain-0 listed over xen+tls: $facts"
done
for name in $B $U; do
	dl_wait 120 "bootsvc lists $name as a connected Xen host" vh_host_is "$name" Xen
done
dl_nodectl host list
dl_nodectl vm list
[[ $(dl_nodectl --json vm list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["vms"]))') == 0 ]] ||
	fail "bootsvc lists a VM on a Xen host that runs none (Domain-0 is the host)"
pass "nodectl host list / vm list: $B and $U connected Xen hosts, no VM (Domain-0 is each host itself)"

# --- a hypervisor other than the manifest's: the receipt names both
dl_qemu_kill() { local v="DL_QEMU_${1//-/_}"; kill "${!v}" 2>/dev/null || true; }
dl_qemu_kill "$B"
dl_qemu_kill "$U"
bad=$DL_W/store/xen.tmp
mkdir -p "$bad"
cp -a "$VH_PATH"/. "$bad"/
python3 - "$bad" "$bid" <<'EOP' >"$DL_W/badid" || fail "cannot make the mismatched version"
import hashlib, json, sys
d, bid = sys.argv[1], bytes.fromhex(sys.argv[2])
x = bytearray(open(d + "/xen", "rb").read())
i = x.find(bid)
assert i > 0 and x.find(bid, i + 1) < 0, "the build id is not in xen exactly once"
x[i + 1] ^= 0xff                               # another build id, same Xen otherwise
open(d + "/xen", "wb").write(x)
m = json.load(open(d + "/manifest.json"))
m["files"]["hypervisor"]["sha256"] = hashlib.sha256(x).hexdigest()
m["files"]["hypervisor"]["size"] = len(x)
m["built"] = "2000-01-01T00:00:00Z"            # a version of its own
canon = json.dumps(m, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
open(d + "/manifest.json", "w").write(canon)
print(hashlib.sha256(canon.encode()).hexdigest(), bytes(x[i:i + len(bid)]).split(b"\0")[0].hex())
EOP
read -r badid badbid <"$DL_W/badid"
mv "$bad" "$DL_W/store/$badid"
dl_nodectl image add "$DL_W/store/$badid" >/dev/null || fail "image add of the mismatched version"
dl_nodectl node add "$M" --mac "$MMAC" --ip "$MIP" --image "xen@${badid:0:12}" >/dev/null ||
	fail "node add $M"
dl_qemu "$M" bios "$MMAC" 2048
dl_wait 900 "$M fails its receipt" dl_phase_is "$M" failed
reason=$(dl_field "$M" reason)
echo "$M: $reason"
[[ $reason == *"hypervisor '$ver $badbid'"* && $reason == *"$ver $(as_seen "$bid")"* ]] ||
	fail "$M's failure does not name both hypervisors: $reason"
pass "$M served Xen with build id $badbid against a manifest saying $bid: failed naming both"
echo "PASS hv_xen: $VH_ID"
