#!/bin/bash
# make install: the programs, the iPXE templates where bootsvc's defaults look for them,
# and the system user its network-facing process drops to (docs/security.md "Privilege
# separation"); the installed bootsvc starts from its defaults plus a state dir and drops.
set -euo pipefail
cd "$(dirname "$0")/../.."
[[ $(id -u) == 0 ]] || { echo "FAIL: needs root (the system user)"; exit 1; }
T=$(mktemp -d /tmp/install.XXXXXX)
chmod 755 "$T"
PID=
trap 'set +e; [[ -n $PID ]] && kill "$PID" 2>/dev/null; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

make -s install DESTDIR="$T/root" >"$T/make.log" 2>&1 || { cat "$T/make.log"; fail "make install"; }
for f in usr/sbin/bootsvc usr/bin/nodectl usr/sbin/imagebuild usr/lib/diskless/init \
    usr/share/diskless/ipxe-scripts/{start,linux,hold,discover,local}.ipxe; do
	[[ -f $T/root/$f ]] || fail "make install did not install $f"
done
[[ $(stat -c %a "$T/root/usr/sbin/bootsvc") == 755 ]] || fail "bootsvc is not 0755"
"$T/root/usr/sbin/bootsvc" --version | grep -q '^bootsvc ' || fail "installed bootsvc --version"
echo "ok: programs and templates under DESTDIR"

# The rest of what an admin expects (mk/install.mk): helpers, recipes, config, state dir,
# unit, man pages, completion.
for f in usr/lib/diskless/slurm/slurm-resume usr/lib/diskless/slurm/slurm-resumewatch \
    usr/share/diskless/images/tiny/image.conf \
    etc/diskless/bootsvc.conf lib/systemd/system/bootsvc.service \
    usr/share/man/man8/{bootsvc,nodectl,imagebuild}.8 usr/share/man/man5/bootsvc.conf.5 \
    usr/share/bash-completion/completions/nodectl; do
	[[ -f $T/root/$f ]] || fail "make install did not install $f"
done
[[ -d $T/root/var/lib/diskless ]] || fail "make install did not make /var/lib/diskless"
# The shipped config passes as it will be installed (its template_dir under DESTDIR here).
"$T/root/usr/sbin/bootsvc" --check-config -c "$T/root/etc/diskless/bootsvc.conf" \
    --template_dir="$T/root/usr/share/diskless/ipxe-scripts" --state_dir="$T/root/var/lib/diskless" \
    >"$T/check.out" 2>&1 || { cat "$T/check.out"; fail "the installed bootsvc.conf fails --check-config"; }
# An admin's edited config survives a second make install.
echo "# edited" >>"$T/root/etc/diskless/bootsvc.conf"
make -s install DESTDIR="$T/root" >"$T/make2.log" 2>&1 || { cat "$T/make2.log"; fail "make install again"; }
grep -q '^# edited' "$T/root/etc/diskless/bootsvc.conf" || fail "make install replaced an edited bootsvc.conf"
echo "ok: config (kept when edited), unit, man pages, completion, state dir; the config checks"

# The man pages: mandoc finds no warning, bootsvc.conf(5) has every key the parser knows,
# nodectl(8) every command nodectl --help lists.
if command -v mandoc >/dev/null; then
	mandoc -T lint -W warning "$T"/root/usr/share/man/man*/* >"$T/mandoc.out" 2>&1 ||
	    { cat "$T/mandoc.out"; fail "mandoc -T lint"; }
fi
man5=$T/root/usr/share/man/man5/bootsvc.conf.5
for k in $(grep -o 'streq(key, "[a-z_0-9]*")' bootsvc/config.c | sed 's/.*"\(.*\)".*/\1/' | sort -u); do
	grep -qF -- "\\fB$k\\fR (default" "$man5" || fail "bootsvc.conf(5) lacks the key $k"
done
man8=$T/root/usr/share/man/man8/nodectl.8
while read -r noun verb; do
	cmd="$noun${verb:+ $verb}"
	grep -qE "^\.B ${cmd//-/\\\\-}( |$)" "$man8" || fail "nodectl(8) lacks '$cmd'"
done < <("$T/root/usr/bin/nodectl" --help | awk '/^Commands:/ { on = 1; next } /^$/ { on = 0 }
	on && /^  [a-z]/ { print $1, ($2 ~ /^[a-z][a-z-]*$/ ? $2 : "") }')
echo "ok: man pages lint clean, every config key in bootsvc.conf(5), every command in nodectl(8)"


# The user: made by make deps and make install (mk/add-user.sh), idempotent.
./mk/add-user.sh >/dev/null && ./mk/add-user.sh >"$T/again.out"
[[ ! -s $T/again.out ]] || fail "add-user.sh is not idempotent: $(cat "$T/again.out")"
getent passwd diskless | grep -q ':/nonexistent:' || fail "no system user diskless"
echo "ok: system user diskless, add-user.sh idempotent"

# The installed bootsvc, its templates from the install, drops to that user.
"$T/root/usr/sbin/bootsvc" --state_dir="$T/state" --dhcp_mode=off \
    --template_dir="$T/root/usr/share/diskless/ipxe-scripts" --control_socket="$T/c.sock" \
    --http_listen=127.0.0.1:$((20000 + $$ % 10000)) >"$T/bootsvc.log" 2>&1 &
PID=$!
for _ in $(seq 50); do
	grep -q 'event=privsep_drop user=diskless' "$T/bootsvc.log" && break
	kill -0 "$PID" 2>/dev/null || { cat "$T/bootsvc.log"; fail "installed bootsvc exited"; }
	sleep 0.1
done
grep -q 'event=privsep_drop user=diskless' "$T/bootsvc.log" ||
    { cat "$T/bootsvc.log"; fail "installed bootsvc did not drop to diskless"; }
echo "ok: the installed bootsvc starts and drops to diskless"

# Last, after the installed bootsvc above has stopped.
kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true; PID=
make -s uninstall DESTDIR="$T/root" >"$T/uninstall.log" 2>&1 || { cat "$T/uninstall.log"; fail "make uninstall"; }
left=$(cd "$T/root" && find . -type f ! -path './etc/*' | head -5)
[[ -z $left ]] || fail "make uninstall left: $left"
[[ -f $T/root/etc/diskless/bootsvc.conf ]] || fail "make uninstall removed the admin's config"
echo "ok: make uninstall removes what make install put down, keeps the config"
