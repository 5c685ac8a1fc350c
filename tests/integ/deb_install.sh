#!/bin/bash
# make deb, installed the way an admin does it: apt-get install ./diskless_*.deb in a clean
# Debian 12 (debootstrap) from this machine's mirror. Then, in that system: the shipped
# /etc/diskless/bootsvc.conf passes --check-config and bootsvc starts from it as is (in a
# network namespace of the test), a broken config fails naming its keys, the diskless
# user exists, the unit is installed, enabled and passes systemd-analyze verify, its
# exposure score is measured, the man pages are found by man; lintian shows no error.
source "$(dirname "$0")/lib.sh"
dl_require debootstrap dpkg-deb lintian unshare ip flock
dl_setup deb 112

# --- the package ------------------------------------------------------------------------
make -s -C "$REPO" deb >"$DL_W/make-deb.log" 2>&1 || { cat "$DL_W/make-deb.log"; fail "make deb"; }
DEB=$(ls "$BUILD"/diskless_*.deb | head -n 1)
[[ -f $DEB ]] || fail "make deb made no build/diskless_*.deb"
dpkg-deb -f "$DEB" Depends | grep -q 'dnsmasq-base' || fail "Depends lacks dnsmasq-base"
dpkg-deb -f "$DEB" Depends | grep -q 'libmicrohttpd' || fail "Depends lacks libmicrohttpd (dpkg-shlibdeps)"
dpkg-deb -I "$DEB" conffiles | grep -qx /etc/diskless/bootsvc.conf || fail "bootsvc.conf is no conffile"
lintian --allow-root "$DEB" >"$DL_W/lintian.log" 2>&1 || true
! grep -q '^E:' "$DL_W/lintian.log" || { cat "$DL_W/lintian.log"; fail "lintian errors"; }
sed 's/^/lintian: /' "$DL_W/lintian.log"
pass "make deb: $(basename "$DEB"), lintian without errors"

# --- a clean Debian 12 --------------------------------------------------------------------
# The mirror apt uses here (deb822 or one-line sources), for debootstrap and then the
# chroot's own apt.
MIRROR=$(awk 'BEGIN { RS = "" } /Suites:[^\n]*bookworm( |\n|$)/ { if (match($0, /URIs: *[^ \n]+/)) {
	u = substr($0, RSTART, RLENGTH); sub(/URIs: */, "", u); print u; exit } }' \
	/etc/apt/sources.list.d/*.sources 2>/dev/null || true)
[[ -n $MIRROR ]] || MIRROR=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' \
	/etc/apt/sources.list 2>/dev/null || true)
[[ -n $MIRROR ]] || fail "no bookworm mirror in /etc/apt/sources.list*"
# The base system is made once and kept as a tarball in build/ (like the test images):
# minbase plus systemd (systemd-analyze, deb-systemd-helper) and man-db.
INCLUDE=systemd,man-db
BASE=$BUILD/deb-test/bookworm-minbase-${INCLUDE//,/-}.tar
R=$DL_W/root
mkdir -p "$BUILD/deb-test" "$R"
t0=$SECONDS
(
	flock 9
	if [[ ! -s $BASE ]]; then
		debootstrap --variant=minbase --include=$INCLUDE bookworm "$DL_W/base" "$MIRROR" \
		    >"$DL_W/debootstrap.log" 2>&1 || exit 1
		tar -C "$DL_W/base" -cf "$BASE.tmp" . && mv "$BASE.tmp" "$BASE"
		rm -rf "$DL_W/base"
	fi
) 9>"$BUILD/deb-test/.lock" || fail "debootstrap bookworm from $MIRROR (see debootstrap.log)"
tar -C "$R" -xf "$BASE"
echo "base system ready in $((SECONDS - t0)) s (mirror $MIRROR)"
cp "$DEB" "$R/tmp/"
cp /etc/resolv.conf "$R/etc/resolv.conf" 2>/dev/null || true

# In a mount namespace of its own, so /proc and /dev go away with it whatever happens.
cat >"$DL_W/install.sh" <<EOS
set -e
mount --make-rprivate /
mount -t proc proc "$R/proc"
mount --rbind /dev "$R/dev"
export DEBIAN_FRONTEND=noninteractive LC_ALL=C
chroot "$R" apt-get update -qq
chroot "$R" apt-get install -y -qq --no-install-recommends /tmp/$(basename "$DEB")
EOS
t0=$SECONDS
unshare -m bash "$DL_W/install.sh" >"$DL_W/apt.log" 2>&1 || fail "apt-get install ./$(basename "$DEB") (see apt.log)"
echo "apt-get install took $((SECONDS - t0)) s"
pass "apt-get install ./$(basename "$DEB") in a clean bookworm"

inroot() { chroot "$R" "$@"; }
# --- what the package put down --------------------------------------------------------------
inroot getent passwd diskless | grep -q ':/nonexistent:' || fail "no system user diskless"
for f in usr/sbin/bootsvc usr/sbin/imagebuild usr/bin/nodectl usr/lib/diskless/init \
    usr/share/diskless/ipxe-scripts/start.ipxe usr/share/diskless/images/tiny/image.conf \
    usr/share/bash-completion/completions/nodectl lib/systemd/system/bootsvc.service \
    var/lib/diskless; do
	[[ -e $R/$f ]] || fail "the package did not install /$f"
done
[[ -L $R/etc/systemd/system/multi-user.target.wants/bootsvc.service ]] ||
    fail "bootsvc.service is not enabled (no multi-user.target.wants link)"
pass "user diskless, programs, templates, recipes, completion; the unit installed and enabled"
for p in bootsvc.8 nodectl.8 imagebuild.8 bootsvc.conf.5; do
	n=${p%.*} s=${p##*.}
	w=$(inroot man -w "$s" "$n" 2>&1) || fail "man -w $s $n: $w"
done
inroot man 5 bootsvc.conf 2>/dev/null | grep -q 'template_dir' || fail "bootsvc.conf(5) lacks template_dir"
pass "man finds bootsvc(8), nodectl(8), imagebuild(8), bootsvc.conf(5)"

# --- the shipped config, and a broken one -----------------------------------------------------
inroot bootsvc --check-config -c /etc/diskless/bootsvc.conf >"$DL_W/check.out" 2>&1 ||
    { cat "$DL_W/check.out"; fail "the shipped bootsvc.conf does not pass --check-config"; }
pass "the shipped bootsvc.conf passes --check-config"
cat >"$R/tmp/bad.conf" <<EOC
state_dir = /var/lib/diskless
dhcp_mode = sometimes
colour = blue
http_listen = 0.0.0.0:99999
EOC
rc=0
inroot bootsvc --check-config -c /tmp/bad.conf >"$DL_W/bad.out" 2>&1 || rc=$?
((rc == 1)) || fail "a broken config: exit $rc, not 1"
for want in "bad.conf:2:.*dhcp_mode" "bad.conf:3: unknown key 'colour'" "bad.conf:4:.*http_listen" \
    "3 mistakes"; do
	grep -q "$want" "$DL_W/bad.out" || { cat "$DL_W/bad.out"; fail "--check-config did not say '$want'"; }
done
pass "a broken config fails, every mistake named with its line: $(head -n 1 "$DL_W/bad.out")"

# --- the unit -------------------------------------------------------------------------------
inroot systemd-analyze verify /lib/systemd/system/bootsvc.service >"$DL_W/verify.out" 2>&1 ||
    { cat "$DL_W/verify.out"; fail "systemd-analyze verify bootsvc.service"; }
[[ ! -s $DL_W/verify.out ]] || { cat "$DL_W/verify.out"; fail "systemd-analyze verify complained"; }
pass "systemd-analyze verify bootsvc.service"
inroot systemd-analyze security --offline=true /lib/systemd/system/bootsvc.service \
    >"$DL_W/security.out" 2>&1 || true
score=$(grep -o 'Overall exposure level for bootsvc.service: .*' "$DL_W/security.out") ||
    { cat "$DL_W/security.out"; fail "no exposure score from systemd-analyze security"; }
echo "$score"
pass "systemd-analyze security measured"

# --- it starts from the shipped config as is (issue 16: the documented example did not) ----
cat >"$DL_W/run.sh" <<EOS
mount --make-rprivate /
mount -t proc proc "$R/proc"
mount --rbind /dev "$R/dev"
exec chroot "$R" /usr/sbin/bootsvc -c /etc/diskless/bootsvc.conf
EOS
ip netns exec "$DL_NS" unshare -m bash "$DL_W/run.sh" >"$DL_W/bootsvc.log" 2>&1 &
DL_PIDS+=($!)
dl_wait 15 "bootsvc from the package answers nodectl" \
    ip netns exec "$DL_NS" chroot "$R" nodectl --socket /run/diskless/control.sock ping
grep -q 'event=privsep_drop user=diskless' "$DL_W/bootsvc.log" || fail "it did not drop to diskless"
dl_wait 5 "its HTTP listener" ip netns exec "$DL_NS" bash -c 'exec 3<>/dev/tcp/127.0.0.1/8080'
pass "bootsvc starts from the shipped config as is, drops to diskless, serves HTTP"
