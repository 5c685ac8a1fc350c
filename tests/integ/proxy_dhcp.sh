#!/bin/bash
# Issue #2, proxy-DHCP: on a network whose own DHCP server hands out the addresses, bootsvc
# runs dhcp_mode=proxy and answers PXE only. The site's server is a plain dnsmasq (no boot
# options at all) in a namespace of its own on the same bridge, standing in for a router or
# a campus server. A BIOS node (the NIC's iPXE ROM) and a UEFI node (OVMF's own PXE, then
# snponly.efi over TFTP) boot to `up` with addresses leased by the site's server, and
# bootsvc's dnsmasq leases none.
source "$(dirname "$0")/lib.sh"
dl_require qemu-system-x86_64 dnsmasq python3 ip
dl_setup proxy 79

SITE_NS=dl-proxysite-$$
proxy_exit() {
	local rc=$?
	set +e # under set -e, (exit 1) below would end the trap before dl_cleanup
	ip netns del "$SITE_NS" 2>/dev/null # its dnsmasq is in DL_PIDS, ended by dl_cleanup
	(exit "$rc")
	dl_cleanup
}
trap proxy_exit EXIT

# --- the site's DHCP server: another machine on the boot network (10.79.0.2)
ip netns add "$SITE_NS"
ip -n "$DL_NS" link add site0 type veth peer name eth0 netns "$SITE_NS"
ip -n "$DL_NS" link set site0 master br0 up
ip -n "$SITE_NS" link set lo up
ip -n "$SITE_NS" addr add "$DL_NET.2/24" dev eth0
ip -n "$SITE_NS" link set eth0 up
ip netns exec "$SITE_NS" dnsmasq --conf-file=/dev/null --keep-in-foreground --port=0 \
    --interface=eth0 --bind-interfaces --no-ping --log-dhcp --log-facility=- \
    --dhcp-range="$DL_NET.150,$DL_NET.199,10m" --dhcp-leasefile="$DL_W/site.leases" \
    --pid-file="$DL_W/site.pid" >"$DL_W/site-dhcp.log" 2>&1 &
DL_PIDS+=("$!")
dl_wait 10 "the site's DHCP server listens" grep -q 'DHCP, IP range' "$DL_W/site-dhcp.log"
pass "site DHCP server on $DL_NET.2 leases $DL_NET.150-199"

# --- an image, and bootsvc in proxy mode
out=$("$BUILD/imagebuild" build "$REPO/images/tiny" --store "$DL_W/store" --work "$DL_W" \
    2>"$DL_W/imagebuild.log") || fail "imagebuild tiny"
read -r ID IMG <<<"$(tail -n 1 <<<"$out")"
dl_bootsvc_start --dhcp-mode=proxy --proxy-subnet="$DL_NET.0"
grep -q "^dhcp-range=$DL_NET.0,proxy$" "$DL_W/state/dnsmasq/dnsmasq.conf" ||
    fail "dnsmasq.conf has no proxy range: $(cat "$DL_W/state/dnsmasq/dnsmasq.conf")"
dl_nodectl image add "$IMG" >/dev/null || fail "image add"
dl_nodectl node add 'p[01-02]' --mac '52:54:00:79:00:[01-02]' --image tiny >/dev/null ||
    fail "node add"
# The site's server gives the addresses, so the nodes have no fixed one and no BMC: an
# admin arms them for the boot (docs/security.md "The boot network")
dl_nodectl node arm 'p[01-02]' >/dev/null || fail "node arm"
pass "bootsvc in proxy mode with tiny@${ID:0:12}"

dl_qemu p01 bios 52:54:00:79:00:01
dl_qemu p02 uefi 52:54:00:79:00:02
dl_wait 300 "p01 up" dl_phase_is p01 up
pass "p01 (BIOS, iPXE ROM) is up"
dl_wait 300 "p02 up" dl_phase_is p02 up
dl_console_has p02 'snponly.efi|NBP' || fail "p02 did not boot through UEFI PXE + TFTP"
pass "p02 (UEFI, firmware PXE -> snponly.efi) is up"

# --- who gave what: addresses from the site, boot answers from us
for mac in 52:54:00:79:00:01 52:54:00:79:00:02; do
	grep -qE "^[0-9]+ $mac $DL_NET\.1[5-9][0-9] " "$DL_W/site.leases" ||
	    fail "the site's server leased nothing to $mac: $(cat "$DL_W/site.leases")"
done
[[ ! -s $DL_W/state/dnsmasq/leases ]] ||
    fail "bootsvc's dnsmasq leased addresses in proxy mode: $(cat "$DL_W/state/dnsmasq/leases")"
grep -q 'proxy' "$DL_W/bootsvc.log" || fail "bootsvc's dnsmasq logged no proxy answers"
for n in p01 p02; do
	dl_console_has $n "hostname=$n" || fail "$n console does not show hostname $n"
done
pass "both nodes leased from the site's server ($(awk '{ print $3 }' "$DL_W/site.leases" | sort | tr '\n' ' ')), none from bootsvc"
