#!/bin/bash
# make demo: build the compute image, start bootsvc (and its dnsmasq) in a throwaway
# network namespace with two qemu nodes behind simulated BMCs (ipmi_sim), both off; bootsvc
# powers them on through IPMI and provisions them (one BIOS, one UEFI PXE boot); show
# `nodectl node list` with both up, then tear everything down.
# Uses the integration tests' harness so the demo and the tests cannot drift apart.
source "$(dirname "$0")/../tests/integ/lib.sh"
source "$(dirname "$0")/../tests/integ/lib_bmc.sh"
STORE=${STORE:-/var/lib/diskless}
IMAGE=${IMAGE:-compute}
dl_require qemu-system-x86_64 python3 ip ipmi_sim
t0=$SECONDS

echo "== building image '$IMAGE' (an unchanged recipe is not rebuilt)"
# Progress goes to stderr; the last stdout line is "<id> <version dir>".
out=$("$BUILD/imagebuild" build "$REPO/images/$IMAGE" --store "$STORE/images") || fail "imagebuild"
IMG=$(tail -n 1 <<<"$out" | awk '{print $2}')
[[ -f $IMG/manifest.json ]] || fail "imagebuild printed no version directory"

dl_setup demo 72
echo "== bootsvc in namespace $DL_NS, boot URL $DL_URL"
dl_bootsvc_start
dl_nodectl image add "$IMG"
dl_bmc n01 10.72.0.21 52:54:00:72:00:01 bios 2048
dl_bmc n02 10.72.0.22 52:54:00:72:00:02 uefi 2048
for i in 1 2; do
	dl_nodectl node add n0$i --mac 52:54:00:72:00:0$i --bmc 10.72.0.2$i \
	    --bmc-creds "$DL_W/n0$i.creds" || fail "node add n0$i"
done
dl_nodectl image list
dl_nodectl node list
echo "== nodes are off; bootsvc powers them on through IPMI (boot device PXE) and provisions"
dl_nodectl provision 'n[01-02]' --image "$IMAGE" --wait --timeout 9m || fail "provision"
echo "== both nodes up after $((SECONDS - t0)) s"
dl_nodectl node list
for n in n01 n02; do
	dl_wait 60 "$n login prompt" dl_console_has $n "$n login:|hostname=$n"
	echo "$n console shows its hostname: $(tr -d '\r' <"$DL_W/$n.log" | grep -a -m1 -oE "$n login:")"
done
echo "== tearing down"
