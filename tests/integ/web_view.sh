#!/bin/bash
# Issue 16 points 3 and 4: the web view on the admin listener, in a real browser.
#   - bootsvc in the test's namespace with admin_listen (HTTPS), a password file and the
#     control CA for client certificates; one qemu node n01 behind a simulated BMC
#   - Debian's chromium (headless, puppeteer-core, inside the namespace) logs in as an
#     admin with the keyboard, provisions n01 from its node page, and the grid in another
#     tab shows n01 go from off through pxe and loading to up live, without a reload; the
#     node page shows the history rows; a read-only user sees no action buttons and its
#     POST is refused with 403 (tests/browser/web_view.js)
#   - client certificates of the control CA: admin may act, read-only is refused (403),
#     none or a wrong password is 401; a POST without the CSRF token is 403
#   - 3,780 registered nodes (35 racks of 108): the grid is rendered and a screenshot is
#     kept in the work dir and in build/test-artifacts/web-grid-3780.png
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_bmc.sh"
dl_require qemu-system-x86_64 python3 ip ipmi_sim curl openssl node npm chromium
dl_setup web 110
PORT=8443
PKI=$DL_W/pki
N=$BUILD/nodectl
U=https://$DL_SRV:$PORT

# --- puppeteer-core, pinned by tests/browser/package-lock.json, into build/ (once)
BR=$BUILD/browser
if ! cmp -s "$REPO/tests/browser/package-lock.json" "$BR/package-lock.json" 2>/dev/null ||
    [[ ! -d $BR/node_modules/puppeteer-core ]]; then
	mkdir -p "$BR"
	cp "$REPO/tests/browser/package.json" "$REPO/tests/browser/package-lock.json" "$BR/"
	(cd "$BR" && npm ci --no-audit --no-fund --ignore-scripts >"$DL_W/npm.log" 2>&1) ||
	    fail "npm ci of tests/browser (see npm.log)"
fi
pass "puppeteer-core $(node -p "require('$BR/node_modules/puppeteer-core/package.json').version"), $(chromium --version 2>/dev/null | head -n 1)"

# --- certificates (nodectl tls, the control CA) and a password file (crypt(3) hashes)
"$N" tls init --dir "$PKI" >/dev/null || fail "tls init"
"$N" tls issue web --server --san "$DL_SRV" --dir "$PKI" >/dev/null || fail "issue server"
for r in admin read-only; do
	"$N" tls issue "c-$r" --role "$r" --dir "$PKI" >/dev/null || fail "issue $r"
done
export WEB_ADMIN_PASSWORD=ada-$RANDOM-$RANDOM WEB_READER_PASSWORD=rob-$RANDOM-$RANDOM
{
	echo "# user:role:hash (openssl passwd -6, or mkpasswd -m yescrypt)"
	echo "ada:admin:$(openssl passwd -6 -stdin <<<"$WEB_ADMIN_PASSWORD")"
	echo "rob:read-only:$(openssl passwd -6 -stdin <<<"$WEB_READER_PASSWORD")"
} >"$DL_W/web.passwd"
chmod 0640 "$DL_W/web.passwd"
# chromium trusts exactly this server key
SPKI=$(openssl x509 -in "$PKI/web.crt" -pubkey -noout | openssl pkey -pubin -outform der |
    openssl dgst -sha256 -binary | base64)

read -r IMG _ <<<"$("$BUILD/imagebuild" build "$REPO/images/tiny" --store "$DL_W/store" \
    --work "$DL_W" 2>>"$DL_W/imagebuild.log" | tail -n 1)"
[[ -n $IMG ]] || fail "imagebuild tiny"

dl_bootsvc_start --power_poll=3s --bmc_timeout=3s --timeout_pxe=120s --timeout_loading=90s \
    --timeout_imaging=90s --timeout_up=180s --retry_backoff=2s \
    --admin_listen="$DL_SRV:$PORT" --admin_cert="$PKI/web.crt" --admin_key="$PKI/web.key" \
    --admin_ca="$PKI/ca.crt" --admin_passwords="$DL_W/web.passwd" --web_dir="$REPO/webui"
grep -q "event=web_listen addr=$DL_SRV port=$PORT" "$DL_W/bootsvc.log" || fail "no web_listen line"
dl_nodectl image add "$DL_W/store/$IMG" >/dev/null || fail "image add"
dl_bmc n01 10.110.0.21 52:54:00:a0:00:01 bios
dl_nodectl node add n01 --mac 52:54:00:a0:00:01 --bmc 10.110.0.21 \
    --bmc-creds "$DL_W/n01.creds" --image tiny >/dev/null || fail "node add n01"
# Off as an admin leaves a node: its desired power off, which the controller carries out
# through the BMC (the node's phase becomes off).
dl_nodectl power off n01 >/dev/null || fail "power off n01"
dl_wait 60 "n01 off (phase and power)" eval '[[ $(dl_field n01 power) == off && $(dl_phase n01) == off ]]'
pass "n01 registered behind its BMC, off"

# --- the listener with curl: certificates, passwords, CSRF, roles
C=(curl -s --cacert "$PKI/ca.crt")
cert() { local c=$1; shift; dl_ns "${C[@]}" --cert "$PKI/$c.crt" --key "$PKI/$c.key" "$@"; }
code() { dl_ns "${C[@]}" -o /dev/null -w '%{http_code}' "$@"; }
[[ $(code "$U/") == 200 ]] || fail "GET / is not 200"
[[ $(code "$U/api/node.list") == 401 ]] || fail "node.list without a login is not 401"
[[ $(code --path-as-is "$U/../etc/passwd") == 404 && $(code "$U/.hidden") == 404 ]] ||
    fail "a path outside web_dir is not 404"
dl_ns curl -s -o /dev/null "http://$DL_SRV:$PORT/" && fail "plain HTTP answered on the admin listener"
cert c-admin "$U/api/whoami" | grep -q '"role":"admin","csrf":"[0-9a-f]\{64\}","via":"certificate"' ||
    fail "whoami with the admin certificate: $(cert c-admin "$U/api/whoami")"
ro_csrf=$(cert c-read-only "$U/api/whoami" | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["csrf"])')
c=$(cert c-read-only -o /dev/null -w '%{http_code}' -H "X-CSRF-Token: $ro_csrf" \
    -H 'Content-Type: application/json' -d '{"names":"n01","action":"on"}' "$U/api/power")
[[ $c == 403 ]] || fail "read-only certificate's POST /api/power answered $c"
[[ $(dl_field n01 want_power) != on ]] || fail "a refused POST changed n01's desired power"
grep -q "event=web_refused .*who=\"c-read-only\" what=power" "$DL_W/bootsvc.log" ||
    fail "the refusal was not logged with who and what"
c=$(cert c-admin -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -d '{"names":"n01","reason":"csrf"}' "$U/api/hold")
[[ $c == 403 ]] || fail "admin POST without the CSRF token answered $c"
c=$(code -d user=ada -d password=wrong "$U/login")
[[ $c == 401 ]] || fail "a wrong password answered $c"
grep -q "$WEB_ADMIN_PASSWORD" "$DL_W/bootsvc.log" && fail "a password is in the log"
pass "admin listener: 401 without a login, certificate roles (read-only POST 403, logged), CSRF token required, wrong password 401, no plain HTTP"

# --- the browser: off -> up live, node page history, read-only without buttons
mkdir -p "$DL_W/shots"
dl_ns env NODE_PATH="$BR/node_modules" node "$REPO/tests/browser/web_view.js" boot "$U/" "$SPKI" \
    "$DL_W/shots" 2>&1 | tee "$DL_W/browser-boot.log" | grep -v '^FAIL' || true
grep -q '^FAIL' "$DL_W/browser-boot.log" && fail "$(grep -m1 '^FAIL' "$DL_W/browser-boot.log" | cut -c7-)"
grep -q "^ok: read-only user's POST" "$DL_W/browser-boot.log" || fail "the browser test did not finish"
dl_phase_is n01 up || fail "the grid said up but bootsvc says $(dl_phase n01)"
pass "chromium: n01 went from off to up live in the grid; history on its node page; read-only has no buttons and its POST is 403"

# --- 3,780 nodes: 35 racks of 108, registered in one request, the first ten racks booted
# by bench/node_sim.c (each simulated node speaks the whole boot protocol from its own
# fixed address, 10.233.x.y, as bench/reimage_row.sh runs it), rack 7 held; the grid of
# them all and a screenshot
SIM=$BUILD/bench/node_sim
if [[ ! -x $SIM || $REPO/bench/node_sim.c -nt $SIM ]]; then
	mkdir -p "$BUILD/bench"
	gcc -std=gnu17 -O2 -Wall -Wextra -D_GNU_SOURCE -o "$SIM" "$REPO/bench/node_sim.c" ||
	    fail "building bench/node_sim.c"
fi
ip -n "$DL_NS" link add dlnodes type veth peer name dlnodes-peer
ip -n "$DL_NS" link set dlnodes up
ip -n "$DL_NS" link set dlnodes-peer up
python3 -c 'for i in range(3780): print("addr add 10.233.%d.%d/32 dev dlnodes" % (i // 252 + 1, i % 252 + 1))' \
    >"$DL_W/addrs"
ip -n "$DL_NS" -batch "$DL_W/addrs" || fail "adding the simulated nodes' addresses"
# node_sim's node i has MAC 52:54:00:AA:BB:CC (AA = i / 252 + 1, BB = i % 252 / 14 + 1,
# CC = i % 14 + 1) and address 10.233.(i / 252 + 1).(i % 252 + 1): the same order as the
# names' hostlist
dl_nodectl node add 'r[01-35]n[001-108]' --mac '52:54:00:[01-15]:[01-18]:[01-14]' \
    --ip '10.233.[1-15].[1-252]' --image tiny >/dev/null || fail "node add 3,780 nodes"
dl_nodectl node remove n01 >/dev/null || fail "node remove n01"
n=$(dl_nodectl --json node list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["nodes"]))')
[[ $n == 3780 ]] || fail "$n nodes registered, want 3,780"
RECEIPT=$(python3 - "$DL_W/store/$IMG" <<'EOP'
import json, os, sys
d = sys.argv[1]
m = json.load(open(os.path.join(d, "manifest.json")))
f = m["files"]
print(",".join([os.path.basename(d.rstrip("/")), f["kernel"]["sha256"],
                m.get("initrd_tree") or f["initrd"]["sha256"], f["rootfs"]["sha256"]]))
EOP
)
out=$(dl_ns timeout 900 "$SIM" -a "$DL_SRV" -p 8080 -n 1080 -c 64 -e "$IMG" -I "$RECEIPT" \
    2>"$DL_W/node_sim.err") || fail "node_sim: $(tail -n 1 "$DL_W/node_sim.err")"
echo "node_sim: $(head -n 1 <<<"$out")"
dl_nodectl hold 'r07n[001-108]' --reason "rack 7 maintenance" >/dev/null || fail "hold rack 7"
ups=$(dl_nodectl --json node list | python3 -c 'import json,sys; print(sum(n["phase"] == "up" for n in json.load(sys.stdin)["nodes"]))')
[[ $ups == 1080 ]] || fail "$ups simulated nodes up, want the first ten racks' 1,080"
pass "3,780 nodes registered; racks r01n-r10n (1,080 nodes) booted by node_sim, rack 7 held"
dl_ns env NODE_PATH="$BR/node_modules" WEB_EXPECT_UP=1080 node "$REPO/tests/browser/web_view.js" grid "$U/" "$SPKI" \
    "$DL_W/shots/web-grid-3780.png" 3780 2>&1 | tee "$DL_W/browser-grid.log" | grep -v '^FAIL' || true
grep -q '^FAIL' "$DL_W/browser-grid.log" && fail "$(grep -m1 '^FAIL' "$DL_W/browser-grid.log" | cut -c7-)"
[[ -s $DL_W/shots/web-grid-3780.png ]] || fail "no screenshot of the grid"
mkdir -p "$BUILD/test-artifacts"
cp "$DL_W/shots/"*.png "$BUILD/test-artifacts/"
pass "grid of 3,780 nodes rendered; screenshot in $BUILD/test-artifacts/web-grid-3780.png"
