#!/bin/bash
# Issue #2 end to end: bootsvc (and the dnsmasq it starts) in a private namespace boots
# two registered qemu nodes through DHCP -> iPXE -> per-node script -> kernel + initrd by
# image id: n01 BIOS (SeaBIOS + the NIC's iPXE ROM), n02 UEFI (OVMF's own PXE fetching
# snponly.efi over TFTP). A third, unknown machine is discovered and holds. Then attacks:
# path traversal, unknown ids, another node's token, a 1 MB control line, and kill -9 of
# dnsmasq (bootsvc restarts it and a node still boots).
source "$(dirname "$0")/lib.sh"
dl_require qemu-system-x86_64 curl python3 ip
# DL_STORE=pg (boot_pxe_pg.sh): the same on a PostgreSQL store, in subnet 10.100.0.0/24.
dl_setup "pxe${DL_STORE:+-$DL_STORE}" "${DL_OCTET:-71}"

# --- an image: the tiny (busybox) recipe, built by imagebuild into this test's store
out=$("$BUILD/imagebuild" build "$REPO/images/tiny" --store "$DL_W/store" --work "$DL_W" \
    2>"$DL_W/imagebuild.log") || fail "imagebuild tiny"
read -r ID IMG <<<"$(tail -n 1 <<<"$out")"
pass "built tiny as $ID"

dl_bootsvc_start
dl_nodectl image add "$IMG" >/dev/null || fail "image add"
dl_nodectl node add 'n[01-02]' --mac '52:54:00:71:00:[01-02]' --image tiny >/dev/null ||
    fail "node add"
dl_nodectl --json node list | grep -q "\"ip\": *\"$DL_NET.10\"" || fail "n01 got no fixed IP"
pass "registered n01 n02 with fixed addresses"

dl_qemu n01 bios 52:54:00:71:00:01
dl_qemu n02 uefi 52:54:00:71:00:02
dl_qemu d03 bios 52:54:00:71:00:03 256

dl_wait 300 "n01 up" dl_phase_is n01 up
pass "n01 (BIOS) is up"
dl_wait 300 "n02 up" dl_phase_is n02 up
pass "n02 (UEFI) is up"
dl_console_has n02 'snponly.efi|NBP' || fail "n02 did not boot through UEFI PXE + TFTP"
grep -q 'sent .*snponly.efi' "$DL_W/bootsvc.log" || fail "dnsmasq did not send snponly.efi"
pass "n02 fetched snponly.efi over TFTP"
for n in n01 n02; do
	dl_console_has $n "hostname=$n" || fail "$n console does not show hostname $n"
	hist=$(dl_nodectl --json node show $n | python3 -c \
	    'import json,sys; print(" ".join(h["phase"] for h in reversed(json.load(sys.stdin)["node"]["history"])))')
	[[ $hist == *"pxe loading imaging up"* ]] || fail "$n history '$hist' lacks pxe loading imaging up"
done
pass "both nodes reported pxe, loading, imaging, up; consoles show their hostnames"

dl_wait 60 "d03 discovered" dl_phase_is d-525400710003 discovered
dl_wait 30 "d03 holds" dl_console_has d03 'discovered .* waiting for an admin'
pass "unknown machine registered as d-525400710003 and holds"

# --- iPXE retrying its script (a failed fetch, a boot loop) keeps the phase: the request
# path writes to the store only when the phase changes
# (r09's fixed address is one the test gives bootsvc's namespace: scripts are served to a
# node's own address only, docs/security.md "The boot network")
ip -n "$DL_NS" addr add "$DL_NET.98/24" dev br0
dl_nodectl node add r09 --mac 52:54:00:71:00:09 --ip "$DL_NET.98" --image tiny >/dev/null ||
    fail "node add r09"
for i in 1 2 3; do
	dl_ns curl -sf --interface "$DL_NET.98" "$DL_URL/ipxe/boot?mac=52:54:00:71:00:09" |
	    grep -q 'dl.node=r09' || fail "script $i of r09"
done
c=$(dl_ns curl -s -o /dev/null -w '%{http_code}' "$DL_URL/ipxe/boot?mac=52:54:00:71:00:09")
[[ $c == 403 ]] || fail "r09's script from another address answered $c"
pxes=$(dl_nodectl --json node show r09 | python3 -c \
    'import json,sys; print(sum(h["phase"] == "pxe" for h in json.load(sys.stdin)["node"]["history"]))')
[[ $pxes == 1 ]] && dl_phase_is r09 pxe || fail "r09: $pxes pxe history rows after 3 fetches, want 1"
pass "three script fetches of r09: phase pxe, one history row"

# --- attacks on HTTP
code() { dl_ns curl -s -o /dev/null -w '%{http_code}' --path-as-is "$@"; }
for p in "/images/../../etc/passwd" "/images/%2e%2e/%2e%2e/etc/passwd" \
    "/images/..%2f..%2fetc%2fpasswd" "/images/$ID/../../../../etc/passwd" \
    "/images/$ID/%2e%2e%2fmanifest.json" "/images/$ID/rootfs.squashfs" "/images/$ID/" \
    "/images/$ID/kernel/" "/images/%00/kernel"; do
	c=$(code "$DL_URL$p")
	[[ $c == 404 ]] || fail "GET $p answered $c, not 404"
done
c=$(code "$DL_URL/images/$(printf '%064d' 0)/kernel")
[[ $c == 404 ]] || fail "unknown image id answered $c"
pass "traversal and unknown ids are 404"
# bytes that are not UTF-8 in a query argument: a 400 whose body is still valid JSON
body=$(dl_ns curl -s -w '\n%{http_code}' "$DL_URL/ipxe/boot?mac=%C3%28%FF%FE")
[[ $(tail -n 1 <<<"$body") == 400 ]] || fail "mac=%C3%28%FF%FE answered $(tail -n 1 <<<"$body")"
head -n 1 <<<"$body" | python3 -c 'import json,sys; assert "mac" in json.load(sys.stdin)["error"]["message"]' ||
    fail "the 400 for a non-UTF-8 mac is not JSON naming mac: $(head -n 1 <<<"$body" | cat -v)"
pass "a non-UTF-8 query argument gets a 400 with a JSON error"
# Range and ETag on the real file
c=$(code -H 'Range: bytes=0-99' "$DL_URL/images/$ID/kernel")
[[ $c == 206 ]] || fail "Range request answered $c"
etag=$(dl_ns curl -sI "$DL_URL/images/$ID/kernel" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')
c=$(code -H "If-None-Match: $etag" "$DL_URL/images/$ID/kernel")
[[ $c == 304 ]] || fail "If-None-Match answered $c"
pass "Range 206 and If-None-Match 304"

# another node's token: refused, state unchanged
if [[ ${DL_STORE:-} == pg ]]; then
	TOK2=$(PG_NETNS=$DL_NS pg_psql diskless "select token from nodes where name = 'n02'")
else
	TOK2=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select token from nodes where name=\"n02\"").fetchone()[0])' "$DL_W/state/diskless.db")
fi
[[ ${#TOK2} == 64 ]] || fail "no token of n02 read from the store"
c=$(code -X POST -H "Authorization: Bearer $TOK2" -d '{"phase":"failed","reason":"evil"}' \
    "$DL_URL/api/v1/nodes/n01/phase")
[[ $c == 403 ]] || fail "phase report with n02's token for n01 answered $c"
dl_phase_is n01 up || fail "n01 left up after a forged report"
c=$(code -X POST -d '{"phase":"failed","reason":"x"}' "$DL_URL/api/v1/nodes/n01/phase")
[[ $c == 401 ]] || fail "phase report without token answered $c"
pass "forged phase reports refused (403/401), n01 still up"

# --- attacks on the control socket: 1 MB line, garbage, unknown verb; connection lives
python3 - "$DL_SOCK" <<'EOP' || fail "control socket attack"
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rwb")
def ask(line):
    f.write(line + b"\n"); f.flush()
    return json.loads(f.readline())
r = ask(b"x" * (1024 * 1024))
assert not r["ok"] and "longer than" in r["error"]["message"], r
r = ask(b'{"id": 1, "verb": "node.list", "args": {"names": "n[01-"}}')
assert not r["ok"] and r["id"] == 1 and "n[01-" in r["error"]["message"] or "'['" in r["error"]["message"], r
r = ask(b'{"id": 2, "verb": "no.such"}')
assert not r["ok"] and "unknown verb" in r["error"]["message"], r
r = ask(b'{not json')
assert not r["ok"] and r["id"] is None, r
# invalid UTF-8 where jansson stops: its error text quotes the cut bytes
r = ask(b'"usi\\\xde\x8a\x9a\xd3\xdd\xa3\xc2\x89e`\\')
assert not r["ok"] and "malformed JSON" in r["error"]["message"], r
r = ask(b'{"id": 3, "verb": "ping"}')
assert r["ok"] and r["id"] == 3, r
print("control socket survived")
EOP
pass "oversized, malformed, unknown requests answered; connection and daemon survive"

# --- kill -9 dnsmasq: bootsvc restarts it, and a node still boots through it
old=$(cat "$DL_W/state/dnsmasq/dnsmasq.pid")
kill -9 "$old"
dl_wait 15 "dnsmasq restarted" bash -c "[[ \$(cat '$DL_W/state/dnsmasq/dnsmasq.pid') != $old ]] && kill -0 \$(cat '$DL_W/state/dnsmasq/dnsmasq.pid')"
pass "dnsmasq restarted by bootsvc"
kill "$DL_QEMU_n01"
ip -n "$DL_NS" link del n01
ups() { dl_nodectl --json node show n01 | python3 -c \
    'import json,sys; print(sum(h["phase"] == "up" for h in json.load(sys.stdin)["node"]["history"]))'; }
before=$(ups)
# n01 boots again from scratch (DHCP included) through the new dnsmasq
dl_qemu n01 bios 52:54:00:71:00:01
up_again() { (( $(ups) > before )); }
dl_wait 300 "n01 up again" up_again
pass "n01 boots again after dnsmasq was killed"
# --- metrics, reload, authorisation, bad config
m=$(dl_ns curl -s "$DL_URL/metrics")
grep -q '^diskless_nodes{phase="up"} 2$' <<<"$m" || fail "metrics lack 2 nodes up: $(grep diskless_nodes <<<"$m")"
grep -q '^diskless_dnsmasq_restarts_total 1$' <<<"$m" || fail "metrics lack the dnsmasq restart"
grep -q '^diskless_api_auth_failures_total 2$' <<<"$m" || fail "metrics lack the 2 refused reports"
pass "/metrics: nodes by phase, dnsmasq restarts, refused reports"
kill -HUP "$DL_BOOTSVC_PID"
dl_wait 10 "SIGHUP reload" grep -q 'event=reload msg="configuration and templates reloaded"' "$DL_W/bootsvc.log"
dl_nodectl ping >/dev/null || fail "bootsvc gone after SIGHUP"
pass "SIGHUP reloads configuration and templates"
set +e
setpriv --reuid=65534 --regid=65534 --clear-groups "$BUILD/nodectl" --socket "$DL_SOCK" ping \
    >"$DL_W/nobody.out" 2>&1
rc=$?
set -e
[[ $rc == 3 ]] || fail "an unprivileged nodectl got exit $rc: $(cat "$DL_W/nobody.out")"
pass "the control socket refuses an unprivileged user ($(head -1 "$DL_W/nobody.out"))"
printf 'state_dir = /tmp\nflavour = vanilla\n' >"$DL_W/bad.conf"
set +e
"$BUILD/bootsvc" -c "$DL_W/bad.conf" >"$DL_W/bad.out" 2>&1
rc=$?
set -e
[[ $rc != 0 ]] && grep -q "bad.conf:2: unknown key 'flavour'" "$DL_W/bad.out" ||
    fail "bad config: exit $rc, '$(cat "$DL_W/bad.out")'"
pass "a bad config stops start-up with '$(cat "$DL_W/bad.out")'"
dl_nodectl node list
echo "PASS"
