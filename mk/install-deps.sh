#!/bin/bash
# Install every Debian package diskless needs to build, test, demo and benchmark.
# Idempotent: when all are present it changes nothing; otherwise `apt-get update` first.
set -euo pipefail
PKGS=(
  # build
  gcc make pkg-config clang libclang-rt-14-dev
  libmicrohttpd-dev libjansson-dev libsqlite3-dev libarchive-dev libkmod-dev libcmocka-dev
  libfreeipmi-dev libipmimonitoring-dev libgnutls28-dev libvirt-dev libpq-dev
  # bootsvc's sync room fetches image versions from peers (docs/scale-out.md)
  libcurl4-gnutls-dev
  # make deb, make man and their checks (mk/deb.sh, tests/integ/deb_install.sh, install.sh)
  dpkg-dev lintian mandoc man-db
  # the unit's system call filter checked against what bootsvc and dnsmasq call
  strace
  # runtime of bootsvc and imagebuild
  dnsmasq-base ipxe squashfs-tools debootstrap zstd cpio kmod busybox-static
  # tests and demo: virtual nodes, BMCs, tools
  qemu-system-x86 qemu-utils ipxe-qemu ovmf iproute2 curl sqlite3 openipmi freeipmi-tools
  openssh-client procps util-linux
  # Redfish BMCs for tests: tests/tools/redfish_sim.py and its certificates (issue 17)
  python3 openssl
  # bootsvc's vm room talks to libvirtd (libvirt0); tests run a real one (tests/integ/vm_libvirt.sh)
  libvirt0 libvirt-clients libvirt-daemon libvirt-daemon-driver-qemu
  # tests: a real PostgreSQL for the store's second backend (tests/integ/lib_pg.sh)
  postgresql
  # tests: Slurm's power saving driving bootsvc (tests/integ/slurm.sh)
  slurmctld slurmd slurm-client munge
  # iSCSI disks (docs/iscsi.md): tgtd supervised by bootsvc; libiscsi-bin logs in from tests;
  # xfsprogs for the reflink clones' test file system; qemu-storage-daemon (qemu-system-
  # common) exports qcow2 clones; qemu-block-extra gives qemu-io the iscsi driver the
  # qcow2 test reads and writes a LUN with
  tgt libiscsi-bin open-iscsi xfsprogs qemu-block-extra
  # imagebuild's iSCSI disks (docs/images.md): partition table, FAT boot partition, BIOS
  # loader, ext4 root; debugfs reads a disk's ext4 in tests
  fdisk dosfstools mtools syslinux syslinux-common e2fsprogs
  # the web view: crypt(3) for its password file (libcrypt-dev); its browser test
  # (tests/integ/web_view.sh): chromium driven by puppeteer-core (npm, pinned by
  # tests/browser/package-lock.json; Node.js and npm below); the password file's hashes
  # (openssl)
  libcrypt-dev chromium openssl
  # tests: promtool checks /metrics, the alert rules and their tests (docs/metrics.md)
  prometheus
)
# One dpkg-query for all of them: when nothing is missing, this script costs a few
# milliseconds and never touches apt or the network.
mapfile -t installed < <(dpkg-query -W -f='${db:Status-Status} ${Package}\n' "${PKGS[@]}" 2>/dev/null |
  awk '$1 == "installed" { print $2 }')
missing=()
for p in "${PKGS[@]}"; do
  [[ " ${installed[*]} " == *" $p "* ]] || missing+=("$p")
done
# Node.js and npm for the browser test: the machine's own when it has them (a Node.js
# from elsewhere than Debian, with npm inside it, conflicts with Debian's npm package),
# else Debian's.
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The unprivileged user bootsvc drops to when started as root.
"$(dirname "$0")/add-user.sh" diskless
# A Debian kernel for the virtual nodes and the test images: downloaded once and unpacked,
# never installed on this machine (it is not the host's kernel).
"$(dirname "$0")/fetch-kernel.sh" >/dev/null
