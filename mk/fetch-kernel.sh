#!/bin/bash
# Print the path of an unpacked Debian kernel tree (boot/vmlinuz-*, lib/modules/*),
# downloading linux-image-amd64 into the cache on first use. Never installs it.
set -euo pipefail
CACHE=${DISKLESS_CACHE:-/var/cache/diskless}
K=$CACHE/kernel
if ! ls "$K"/kroot/boot/vmlinuz-* >/dev/null 2>&1; then
  mkdir -p "$K"
  chmod 755 "$K"
  tmp=$(mktemp -d "$K/dl.XXXX")
  chmod 755 "$tmp"   # apt's _apt user downloads into it
  (cd "$tmp" && apt-get download linux-image-amd64 >/dev/null 2>&1 &&
    dep=$(dpkg-deb -f linux-image-amd64_*.deb Depends | sed 's/[ ,|].*//') &&
    apt-get download "$dep" >/dev/null 2>&1 &&
    dpkg -x linux-image-[0-9]*.deb kroot)
  ver=$(ls "$tmp/kroot/lib/modules" | head -1)
  depmod -b "$tmp/kroot" "$ver"
  rm -rf "$K/kroot"
  mv "$tmp/kroot" "$K/kroot"
  rm -rf "$tmp"
fi
echo "$K/kroot"
