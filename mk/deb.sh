#!/bin/bash
# make deb: build/diskless_<version>_<arch>.deb from a `make install` staging, with
# dpkg-deb, dpkg-shlibdeps and lintian (Debian's own tools), not a debian/ source package
# built by dpkg-buildpackage/debhelper: the package is exactly what `make install` puts
# down (one list of files, tested by tests/integ/install.sh and deb_install.sh), made
# from the tree as it is in a few seconds rather than by a rebuild from clean under a
# source format, changelog and build-dependency set-up for an archive we never upload
# to. What debhelper would add is done below with the tools it calls: dpkg-shlibdeps
# derives the library Depends from the binaries, the maintainer scripts are the ones
# dh_installsystemd and dh_installdeb generate (deb-systemd-helper, deb-systemd-invoke:
# enabled and started on install, stopped on remove, per Debian policy), man pages and
# the changelog are gzip -9n, binaries are stripped as dh_strip does.
# Usage: mk/deb.sh BUILD_DIR VERSION
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=$1 VERSION=$2
ARCH=$(dpkg --print-architecture)
OUT=$BUILD/deb
STAGE=$OUT/root
MAINT="diskless maintainers <maintainers@users.noreply.r-seed-6ac6afca.example>"
# Reproducible: the tree's last commit dates the changelog and every file.
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)
export SOURCE_DATE_EPOCH

rm -rf "$OUT"
mkdir -p "$STAGE/DEBIAN" "$OUT/src/debian"
${MAKE:-make} -s install DESTDIR="$PWD/$STAGE" PREFIX=/usr BUILD="$BUILD" >/dev/null

for f in usr/sbin/bootsvc usr/sbin/imagebuild usr/bin/nodectl; do
	strip --strip-unneeded --remove-section=.comment --remove-section=.note "$STAGE/$f"
done
gzip -9n "$STAGE"/usr/share/man/man*/*
doc=$STAGE/usr/share/doc/diskless
mkdir -p "$doc"
cat >"$doc/copyright" <<EOT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: diskless
Source: the diskless tree this package was built from

Files: *
Copyright: 2026 diskless maintainers
License: MIT

License: MIT
 Permission is hereby granted, free of charge, to any person obtaining a copy of
 this software and associated documentation files (the "Software"), to deal in the
 Software without restriction, including without limitation the rights to use, copy,
 modify, merge, publish, distribute, sublicense, and/or sell copies of the Software,
 and to permit persons to whom the Software is furnished to do so, subject to the
 following conditions:
 .
 The above copyright notice and this permission notice shall be included in all
 copies or substantial portions of the Software.
 .
 THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED,
 INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A
 PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT
 HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF
 CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE
 OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
EOT
printf 'diskless (%s) unstable; urgency=medium\n\n  * Built from the tree with make deb.\n\n -- %s  %s\n' \
	"$VERSION" "$MAINT" "$(date -R -u -d "@$SOURCE_DATE_EPOCH")" | gzip -9n >"$doc/changelog.gz"
# The node's init is static by design (it is a node's PID 1, docs/architecture.md), and
# the image recipes are data: their overlays' unit symlinks (multi-user.target.wants/)
# are for the node's systemd, not this host's. Said to lintian rather than left to it.
mkdir -p "$STAGE/usr/share/lintian/overrides"
cat >"$STAGE/usr/share/lintian/overrides/diskless" <<EOT
diskless: statically-linked-binary [usr/lib/diskless/init]
diskless: service-file-is-not-a-file [usr/share/diskless/images/*]
EOT

# Library Depends from what the binaries link (dpkg-shlibdeps reads debian/control).
printf 'Source: diskless\n\nPackage: diskless\nArchitecture: any\n' >"$OUT/src/debian/control"
shlibs=$(cd "$OUT/src" && dpkg-shlibdeps -O \
	"../root/usr/sbin/bootsvc" "../root/usr/sbin/imagebuild" "../root/usr/bin/nodectl" |
	sed -n 's/^shlibs:Depends=//p')
[[ -n $shlibs ]] || { echo "mk/deb.sh: dpkg-shlibdeps found no libraries" >&2; exit 1; }

# What bootsvc and imagebuild run (exec, not link): dnsmasq for DHCP/TFTP, iPXE's
# binaries served over TFTP, adduser for the system user, procps for the unit's /bin/kill
# (ExecReload); imagebuild's debootstrap,
# mksquashfs and zstd. The rest serves optional features (docs/install.md).
cat >"$STAGE/DEBIAN/control" <<EOT
Package: diskless
Version: $VERSION
Architecture: $ARCH
Maintainer: $MAINT
Installed-Size: $(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
Depends: $shlibs, adduser, dnsmasq-base, ipxe, procps, debootstrap, squashfs-tools, zstd
Recommends: busybox-static, qemu-utils, tgt, open-iscsi, fdisk, dosfstools, mtools, syslinux, syslinux-common, e2fsprogs
Suggests: slurmctld, postgresql
Section: admin
Priority: optional
Description: stateless boot service for diskless clusters
 diskless boots a cluster's nodes from images over the network: bootsvc serves
 DHCP/PXE through dnsmasq and each node's iPXE script, kernel, initramfs and
 image over HTTP, powers nodes through their BMCs (IPMI), watches their health
 and keeps their state in SQLite or PostgreSQL. nodectl is the administrator's
 and the scheduler's command line; imagebuild builds node images from recipes.
EOT
echo /etc/diskless/bootsvc.conf >"$STAGE/DEBIAN/conffiles"

cat >"$STAGE/DEBIAN/postinst" <<'EOT'
#!/bin/sh
set -e
# The user bootsvc's network-facing process runs as (docs/security.md).
if [ "$1" = configure ] && ! getent passwd diskless >/dev/null; then
	adduser --system --group --no-create-home --home /nonexistent --quiet diskless
fi
# As dh_installsystemd writes it: enabled on first install, started (restarted on upgrade).
if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ] || [ "$1" = "abort-deconfigure" ] || [ "$1" = "abort-remove" ] ; then
	deb-systemd-helper unmask 'bootsvc.service' >/dev/null || true
	if deb-systemd-helper --quiet was-enabled 'bootsvc.service'; then
		deb-systemd-helper enable 'bootsvc.service' >/dev/null || true
	else
		deb-systemd-helper update-state 'bootsvc.service' >/dev/null || true
	fi
	if [ -d /run/systemd/system ]; then
		systemctl --system daemon-reload >/dev/null || true
		if [ -n "$2" ]; then
			_dh_action=restart
		else
			_dh_action=start
		fi
		deb-systemd-invoke $_dh_action 'bootsvc.service' >/dev/null || true
	fi
fi
EOT
cat >"$STAGE/DEBIAN/prerm" <<'EOT'
#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
	deb-systemd-invoke stop 'bootsvc.service' >/dev/null || true
fi
EOT
cat >"$STAGE/DEBIAN/postrm" <<'EOT'
#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
	systemctl --system daemon-reload >/dev/null || true
fi
if [ "$1" = "remove" ]; then
	if [ -x "/usr/bin/deb-systemd-helper" ]; then
		deb-systemd-helper mask 'bootsvc.service' >/dev/null || true
	fi
fi
# The state (/var/lib/diskless: nodes, images) and the user stay even on purge: an
# admin removes a cluster's data by hand (docs/install.md).
if [ "$1" = "purge" ]; then
	if [ -x "/usr/bin/deb-systemd-helper" ]; then
		deb-systemd-helper purge 'bootsvc.service' >/dev/null || true
		deb-systemd-helper unmask 'bootsvc.service' >/dev/null || true
	fi
fi
EOT
chmod 0755 "$STAGE"/DEBIAN/postinst "$STAGE"/DEBIAN/prerm "$STAGE"/DEBIAN/postrm
(cd "$STAGE" && find . \( -path ./DEBIAN -o -path ./etc \) -prune -o -type f -printf '%P\n' | LC_ALL=C sort |
	xargs md5sum) >"$STAGE/DEBIAN/md5sums"
find "$STAGE" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
deb=$BUILD/diskless_${VERSION}_${ARCH}.deb
dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$deb" >/dev/null
echo "$deb"
