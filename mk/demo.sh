#!/bin/bash
# make demo: build the compute image, start bootsvc (and its dnsmasq) in a throwaway
# network namespace, PXE-boot two qemu nodes into it (one BIOS, one UEFI), show
# `nodectl node list` with both up, then tear everything down.
# Uses the integration tests' harness so the demo and the tests cannot drift apart.
source "$(dirname "$0")/../tests/integ/lib.sh"
STORE=${STORE:-/var/lib/diskless}
IMAGE=${IMAGE:-compute}
dl_require qemu-system-x86_64 python3 ip
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
dl_nodectl node add 'n[01-02]' --mac '52:54:00:72:00:[01-02]' --image "$IMAGE"
dl_nodectl image list
echo "== powering on n01 (BIOS PXE) and n02 (UEFI PXE), qemu TCG"
dl_qemu n01 bios 52:54:00:72:00:01 2048
dl_qemu n02 uefi 52:54:00:72:00:02 2048
both_up() { dl_phase_is n01 up && dl_phase_is n02 up; }
end=$((SECONDS + 540))
while ! both_up; do
	((SECONDS < end)) || fail "nodes not up within 9 minutes"
	printf '  %3ds  n01=%-10s n02=%-10s\n' $((SECONDS - t0)) "$(dl_phase n01)" "$(dl_phase n02)"
	sleep 10
done
echo "== both nodes up after $((SECONDS - t0)) s"
dl_nodectl node list
for n in n01 n02; do
	dl_console_has $n "$n login:|hostname=$n" && echo "$n console shows its hostname"
done
echo "== tearing down"
