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
for f in usr/sbin/bootsvc usr/bin/nodectl usr/bin/imagebuild \
    usr/share/diskless/ipxe-scripts/{start,linux,hold,discover,local}.ipxe; do
	[[ -f $T/root/$f ]] || fail "make install did not install $f"
done
[[ $(stat -c %a "$T/root/usr/sbin/bootsvc") == 755 ]] || fail "bootsvc is not 0755"
"$T/root/usr/sbin/bootsvc" --version | grep -q '^bootsvc ' || fail "installed bootsvc --version"
echo "ok: programs and templates under DESTDIR"

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
