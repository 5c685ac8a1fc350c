#!/bin/bash
# Issue 11 point 3, no network parser as root: bootsvc started as root forks a root
# parent that keeps dnsmasq and the credential files, and a child that holds the HTTP and
# control listeners as an unprivileged user with no capabilities. Checked from /proc and
# ss, then through the doors the parent keeps: a dnsmasq reload after node remove + add
# (a DHCP client gets the new fixed address), a root-only 0600 BMC credentials file used
# for a power command against an ipmi_sim BMC, one outside bmc_creds_dir refused, a
# root-only site overlay file (the munge key) in a node's overlay, a SIGHUP reload of a
# root-only config; the CA of VM hosts (root's 0600 ca.key in a 0700 directory) read
# through the parent into the child's libvirt client certificate, again at SIGHUP, and a
# kvm node's overlay with its own certificate (refused once the CA is gone). Last,
# killing the child ends the parent and dnsmasq.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_bmc.sh"
dl_require ip ss busybox ipmi_sim qemu-system-x86_64
dl_setup privsep 83
getent passwd diskless >/dev/null || fail "no user diskless (make deps creates it)"
# (deleted by lib.sh's cleanup: a trap of this file's own would be replaced by lib_bmc.sh's
# at the first dl_bmc, and the namespace left behind)
CLI_NS=dl-privsep-cli-$$
DL_NETNS+=("$CLI_NS")

# a site overlay whose key only root may read (as lib_slurm.sh makes the munge key)
mkdir -p "$DL_W/site/etc/munge"
(umask 077; echo "site-key-$$" > "$DL_W/site/etc/munge/munge.key")
chmod 400 "$DL_W/site/etc/munge/munge.key"
echo "ClusterName=privsep" > "$DL_W/site/etc/slurm.conf"
out=$("$BUILD/imagebuild" build "$REPO/images/tiny" --store "$DL_W/store" --work "$DL_W" \
    2>"$DL_W/imagebuild.log") || fail "imagebuild tiny"
read -r ID IMG <<<"$(tail -n 1 <<<"$out")"

# (dl_bootsvc_start makes the CA of VM hosts' certificates in $DL_W/tls as an admin makes
# it: root's, the directory 0700, so the child can read ca.key only through the parent)
dl_bootsvc_start --site_overlay="$DL_W/site"
PARENT=$DL_BOOTSVC_PID
# status FIELD PID: one field of /proc/PID/status
status() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$2/status"; }
CHILD=$(dl_ns ss -Hltnp 'sport = :8080' | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2)
[[ -n $CHILD ]] || fail "nothing listens on :8080: $(dl_ns ss -Hltnp)"
[[ $CHILD != "$PARENT" ]] || fail "the HTTP listener is the root process $PARENT itself"
[[ $(awk '$1 == "PPid:" { print $2 }' "/proc/$CHILD/status") == "$PARENT" ]] ||
    fail "the listener $CHILD is not the child of bootsvc $PARENT"
echo "parent $PARENT child $CHILD"
uid=$(status Uid "$CHILD")
[[ $uid != 0 && $uid == "$(id -u diskless)" ]] || fail "child uid '$uid', want diskless's"
[[ $(status Gid "$CHILD") == "$(id -g diskless)" ]] || fail "child gid $(status Gid "$CHILD")"
[[ $(awk '$1 == "Groups:" { print $2 }' "/proc/$CHILD/status") == "" ]] ||
    fail "child keeps supplementary groups: $(grep Groups "/proc/$CHILD/status")"
[[ $(status CapEff "$CHILD") == 0000000000000000 ]] || fail "child CapEff $(status CapEff "$CHILD")"
[[ $(status CapPrm "$CHILD") == 0000000000000000 ]] || fail "child CapPrm $(status CapPrm "$CHILD")"
[[ $(status NoNewPrivs "$CHILD") == 1 ]] || fail "child NoNewPrivs $(status NoNewPrivs "$CHILD")"
pass "the HTTP listener ($CHILD) runs as diskless, CapEff 0, NoNewPrivs 1"
# the control socket is the child's too
dl_ns ss -Hlxp | grep -F "$DL_SOCK" | grep -q "pid=$CHILD," ||
    fail "control socket not held by the child: $(dl_ns ss -Hlxp | grep -F "$DL_SOCK")"
[[ $(status Uid "$PARENT") == 0 ]] || fail "parent is not root"
if dl_ns ss -Hlntupw | grep -q "pid=$PARENT,"; then
	fail "the root parent listens on the network: $(dl_ns ss -Hlntupw | grep "pid=$PARENT,")"
fi
pass "the parent ($PARENT) is root and listens on no network socket"
read -r mode owner < <(stat -c '%a %U' "$DL_W/state/diskless.db")
[[ $mode == 600 && $owner == diskless ]] || fail "store is $mode $owner, want 600 diskless"
for f in "$DL_W"/state/diskless.db-*; do
	[[ $(stat -c '%a %U' "$f") == "600 diskless" ]] || fail "$f is $(stat -c '%a %U' "$f")"
done
[[ $(stat -c '%U' "$DL_W/state/dnsmasq/dnsmasq.conf") == root ]] ||
    fail "dnsmasq.conf (read by root) is not root's"
pass "store files 0600 diskless; dnsmasq's config root's"

# --- the CA read through the parent; bootsvc's libvirt client certificate, the child's
[[ $(stat -c '%a %U' "$DL_W/tls") == "700 root" && $(stat -c '%a %U' "$DL_W/tls/ca.key") == "600 root" ]] ||
    fail "the CA is not root-only: $(stat -c '%n %a %U' "$DL_W/tls" "$DL_W/tls/ca.key")"
if su -s /bin/sh diskless -c "cat '$DL_W/tls/ca.key'" >/dev/null 2>&1; then
	fail "user diskless can read ca.key itself: the test proves nothing"
fi
grep -q "event=tls_ca dir=$DL_W/tls msg=\"CA loaded" "$DL_W/bootsvc.log" ||
    fail "no CA loaded: $(grep event=tls_ca "$DL_W/bootsvc.log")"
LV=$DL_W/state/libvirt-pki
[[ $(stat -c '%a %U' "$LV") == "700 diskless" ]] || fail "$LV is $(stat -c '%a %U' "$LV")"
[[ $(stat -c '%a %U' "$LV/clientkey.pem") == "600 diskless" ]] ||
    fail "clientkey.pem is $(stat -c '%a %U' "$LV/clientkey.pem")"
[[ $(stat -c '%a' "$LV/clientcert.pem") == 644 && $(stat -c '%a' "$LV/cacert.pem") == 644 ]] ||
    fail "client certificate files: $(stat -c '%n %a' "$LV"/*)"
cmp -s "$LV/cacert.pem" "$DL_W/tls/ca.crt" || fail "cacert.pem is not the CA"
out=$(openssl verify -purpose sslclient -CAfile "$DL_W/tls/ca.crt" "$LV/clientcert.pem" 2>&1) ||
    fail "bootsvc's client certificate does not verify: $out"
subj=$(openssl x509 -noout -subject -in "$LV/clientcert.pem")
[[ $subj == *CN*=*bootsvc* && $subj == *OU*=*diskless-libvirt* ]] || fail "client subject: $subj"
[[ $(openssl pkey -in "$LV/clientkey.pem" -pubout) == "$(openssl x509 -in "$LV/clientcert.pem" -noout -pubkey)" ]] ||
    fail "clientkey.pem is not clientcert.pem's key"
pass "root's 0600 ca.key read through the parent; $LV (700 diskless) holds a client certificate it signed ($subj)"

# --- DHCP through the parent: a client on the bridge, in a namespace of its own
MAC=52:54:00:83:00:05
ip netns add "$CLI_NS"
ip -n "$DL_NS" link add cli0 type veth peer name eth0 netns "$CLI_NS"
ip -n "$DL_NS" link set cli0 master br0 up
ip -n "$CLI_NS" link set eth0 address "$MAC"
ip -n "$CLI_NS" link set lo up
ip -n "$CLI_NS" link set eth0 up
printf '#!/bin/sh\n[ "$1" = bound ] && echo "$ip" > %s/lease\nexit 0\n' "$DL_W" > "$DL_W/udhcpc.sh"
chmod 755 "$DL_W/udhcpc.sh"
# dhcp_lease: the address a DHCP exchange gives MAC now
dhcp_lease() {
	rm -f "$DL_W/lease"
	ip netns exec "$CLI_NS" busybox udhcpc -i eth0 -f -q -n -t 5 -T 1 -s "$DL_W/udhcpc.sh" \
	    >>"$DL_W/udhcpc.log" 2>&1 || return 1
	cat "$DL_W/lease"
}
dl_nodectl node add c1 --mac "$MAC" --ip "$DL_NET.31" >/dev/null || fail "node add c1"
got=$(dhcp_lease) || fail "no lease for c1: $(tail -n 5 "$DL_W/udhcpc.log")"
[[ $got == "$DL_NET.31" ]] || fail "c1 got '$got', want $DL_NET.31"
# remove asks the parent for a SIGHUP (dnsmasq keeps a deleted file's entry until then);
# the same MAC under another name and address must then get the new one
dl_nodectl node remove c1 >/dev/null || fail "node remove c1"
dl_nodectl node add c2 --mac "$MAC" --ip "$DL_NET.32" >/dev/null || fail "node add c2"
dl_wait 20 "c2's address" bash -c "[[ \$(ip netns exec $CLI_NS busybox udhcpc -i eth0 -f -q -n \
    -t 3 -T 1 -s $DL_W/udhcpc.sh >/dev/null 2>&1; cat $DL_W/lease) == $DL_NET.32 ]]"
pass "dnsmasq (root's) re-read the child's host files: $MAC got $DL_NET.31, then $DL_NET.32"

# --- a root-only credentials file, read by the parent for the child
dl_bmc b1 "$DL_NET.21" 52:54:00:83:00:21 bios 256
[[ $(stat -c '%a %U' "$DL_W/b1.creds") == "600 root" ]] || fail "b1.creds is not root 0600"
dl_nodectl node add b1 --mac 52:54:00:83:00:21 --bmc "$DL_NET.21" --bmc-creds "$DL_W/b1.creds" \
    >/dev/null || fail "node add b1"
out=$(dl_nodectl power status b1 2>&1) || fail "power status b1: $out"
[[ $out == *b1*off* ]] || fail "power status b1 did not say off: $out"
pass "power status reached the BMC with root's 0600 credentials: $(tail -n 1 <<<"$out")"
# a file outside bmc_creds_dir is not read, whatever the child asks
dl_nodectl node add b2 --mac 52:54:00:83:00:22 --bmc "$DL_NET.22" --bmc-creds /etc/shadow \
    >/dev/null || fail "node add b2"
out=$(dl_nodectl power status b2 2>&1) && fail "power status b2 succeeded: $out"
[[ $out == *bmc_creds_dir* ]] || fail "credentials outside bmc_creds_dir: want a refusal, got: $out"
grep -q 'event=privsep_refused.*request=read_creds.*/etc/shadow' "$DL_W/bootsvc.log" ||
    fail "the parent did not log the refusal"
pass "/etc/shadow as credentials refused by the parent: $(grep -m 1 -o 'are not a plain path[^"]*' "$DL_W/bootsvc.log")"

# --- a site file only root may read reaches the node's overlay through the parent
dl_nodectl image add "$IMG" >/dev/null || fail "image add"
# (node calls are served to the node's own fixed address: the test asks from it, and reads
# the token its script request just armed)
ip -n "$DL_NS" addr add "$DL_NET.95/24" dev br0
dl_nodectl node add o1 --mac 52:54:00:83:00:41 --ip "$DL_NET.95" --image tiny >/dev/null ||
    fail "node add o1"
dl_ns curl -s --interface "$DL_NET.95" "$DL_URL/ipxe/boot?mac=52:54:00:83:00:41" \
    >"$DL_W/o1.ipxe" || fail "o1 script"
TOK=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select token from nodes where name=\"o1\"").fetchone()[0])' "$DL_W/state/diskless.db")
c=$(dl_ns curl -s --interface "$DL_NET.95" -o "$DL_W/o1.cpio" -w '%{http_code}' \
    -H "Authorization: Bearer $TOK" "$DL_URL/api/v1/nodes/o1/overlay") || fail "overlay request"
[[ $c == 200 ]] || fail "overlay answered $c: $(cat "$DL_W/o1.cpio")"
grep -aq "site-key-$$" "$DL_W/o1.cpio" || fail "the root-only site key is not in the overlay"
grep -aq "ClusterName=privsep" "$DL_W/o1.cpio" || fail "slurm.conf is not in the overlay"
pass "a 0400 root site file (munge key) reached the overlay through the parent"

# --- a VM host's overlay: its own key and certificate, issued from the root-only CA
# The tiny version re-labelled kind kvm (same roles and files as linux), renamed to its new
# content id: the manifest is stored in its canonical form, checked here by rebuilding the
# old id first.
KVM=$(python3 - "$IMG" <<'EOP'
import hashlib, json, os, shutil, sys
src = sys.argv[1]
raw = open(os.path.join(src, "manifest.json"), "rb").read()
m = json.loads(raw)
canon = lambda o: json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
if hashlib.sha256(canon(m)).hexdigest() != os.path.basename(src):
    sys.exit("manifest.json: canonical form not reproduced")
m["kind"], m["name"] = "kvm", "tinykvm"
dst = os.path.join(os.path.dirname(src), hashlib.sha256(canon(m)).hexdigest())
shutil.copytree(src, dst)
open(os.path.join(dst, "manifest.json"), "wb").write(canon(m))
print(dst)
EOP
) || fail "a kvm version of tiny"
dl_nodectl image add "$KVM" >/dev/null || fail "image add $KVM"
ip -n "$DL_NS" addr add "$DL_NET.96/24" dev br0
dl_nodectl node add k1 --mac 52:54:00:83:00:42 --ip "$DL_NET.96" --image tinykvm >/dev/null ||
    fail "node add k1"
# k1_overlay OUT: k1's script (arms it), then its overlay with the new token; the HTTP code
k1_overlay() {
	dl_ns curl -s --interface "$DL_NET.96" "$DL_URL/ipxe/boot?mac=52:54:00:83:00:42" \
	    >"$DL_W/k1.ipxe" || fail "k1 script"
	local tok
	tok=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select token from nodes where name=\"k1\"").fetchone()[0])' "$DL_W/state/diskless.db")
	dl_ns curl -s --interface "$DL_NET.96" -o "$1" -w '%{http_code}' \
	    -H "Authorization: Bearer $tok" "$DL_URL/api/v1/nodes/k1/overlay"
}
c=$(k1_overlay "$DL_W/k1.cpio") || fail "k1 overlay request"
[[ $c == 200 ]] || fail "k1's overlay answered $c: $(cat "$DL_W/k1.cpio")"
mkdir "$DL_W/k1" && (cd "$DL_W/k1" && cpio -id --quiet <"$DL_W/k1.cpio") || fail "k1's overlay is no cpio"
P=$DL_W/k1/etc/pki
for f in CA/cacert.pem:644 libvirt/servercert.pem:644 libvirt/clientcert.pem:644 \
    libvirt/private/serverkey.pem:600 libvirt/private/clientkey.pem:600; do
	[[ -f $P/${f%:*} ]] || fail "k1's overlay has no etc/pki/${f%:*}"
done
# the modes as the archive says them (cpio -i applies the umask): newc field 2, in hex
python3 - "$DL_W/k1.cpio" <<'EOP' || fail "modes in k1's overlay"
import sys
d, off, want = open(sys.argv[1], "rb").read(), 0, {
    "etc/pki/CA/cacert.pem": 0o100644, "etc/pki/libvirt/servercert.pem": 0o100644,
    "etc/pki/libvirt/clientcert.pem": 0o100644, "etc/pki/libvirt/private": 0o40700,
    "etc/pki/libvirt/private/serverkey.pem": 0o100600,
    "etc/pki/libvirt/private/clientkey.pem": 0o100600}
got = {}
while True:
    mode, size, nsize = int(d[off+14:off+22], 16), int(d[off+54:off+62], 16), int(d[off+94:off+102], 16)
    name = d[off+110:off+110+nsize-1].decode()
    off = (off + 110 + nsize + 3) & ~3
    off = (off + size + 3) & ~3
    if name == "TRAILER!!!":
        break
    got[name] = mode
for n, m in want.items():
    if got.get(n) != m:
        sys.exit("%s: mode %o, want %o" % (n, got.get(n, 0), m))
EOP
cmp -s "$P/CA/cacert.pem" "$DL_W/tls/ca.crt" || fail "k1's cacert.pem is not the CA"
for purpose in sslserver sslclient; do
	out=$(openssl verify -purpose $purpose -CAfile "$DL_W/tls/ca.crt" "$P/libvirt/servercert.pem" 2>&1) ||
	    fail "k1's certificate does not verify as $purpose: $out"
done
openssl x509 -noout -in "$P/libvirt/servercert.pem" -checkip "$DL_NET.96" | grep -q 'does match' ||
    fail "k1's certificate does not name $DL_NET.96"
openssl x509 -noout -in "$P/libvirt/servercert.pem" -checkhost k1 | grep -q 'does match' ||
    fail "k1's certificate does not name k1"
[[ $(openssl pkey -in "$P/libvirt/private/serverkey.pem" -pubout) == \
    "$(openssl x509 -in "$P/libvirt/servercert.pem" -noout -pubkey)" ]] ||
    fail "k1's serverkey.pem is not its certificate's key"
cmp -s "$P/libvirt/private/serverkey.pem" "$LV/clientkey.pem" && fail "k1 got bootsvc's own key"
c=$(k1_overlay "$DL_W/k1b.cpio") || fail "k1 overlay request"
[[ $c == 200 ]] || fail "k1's second overlay answered $c"
grep -aq -- "$(sed -n 2p "$P/libvirt/private/serverkey.pem")" "$DL_W/k1b.cpio" &&
    fail "k1's next boot got the same key"
if grep -aq 'BEGIN CERTIFICATE' "$DL_W/o1.cpio"; then fail "the linux node o1 got a certificate"; fi
pass "k1 (kind kvm) got a key and certificate for $DL_NET.96 and k1 from the root-only CA, server and client, a new key next boot; linux o1 got none"

# --- SIGHUP with a config only root can read: the parent reads it for the child
chmod 600 "$DL_W/bootsvc.conf"
n0=$(grep -c 'event=reload msg="configuration and templates reloaded"' "$DL_W/bootsvc.log" || true)
echo "log_level = debug" >> "$DL_W/bootsvc.conf"
cp "$LV/clientkey.pem" "$DL_W/lv-key-before"
kill -HUP "$PARENT"
dl_wait 10 "reload" bash -c "(( \$(grep -c 'event=reload msg=\"configuration and templates reloaded\"' $DL_W/bootsvc.log) > $n0 ))"
pass "SIGHUP to the parent reloaded a root-only (0600) config in the child"
# ... and issued a fresh libvirt client key from the CA, through the parent again
cmp -s "$LV/clientkey.pem" "$DL_W/lv-key-before" && fail "SIGHUP left the same client key"
openssl verify -purpose sslclient -CAfile "$DL_W/tls/ca.crt" "$LV/clientcert.pem" >/dev/null 2>&1 ||
    fail "the client certificate after SIGHUP does not verify"
pass "SIGHUP re-issued bootsvc's libvirt client certificate"

# --- no CA any more: bootsvc goes on; a VM host's overlay is refused, saying why
mv "$DL_W/tls" "$DL_W/tls.away"
n0=$(grep -c 'event=reload msg="configuration and templates reloaded"' "$DL_W/bootsvc.log" || true)
kill -HUP "$PARENT"
dl_wait 10 "reload" bash -c "(( \$(grep -c 'event=reload msg=\"configuration and templates reloaded\"' $DL_W/bootsvc.log) > $n0 ))"
grep -q 'event=tls_ca msg="VM hosts cannot be trusted: .*nodectl tls init' "$DL_W/bootsvc.log" ||
    fail "no CA was not logged: $(grep event=tls_ca "$DL_W/bootsvc.log")"
[[ ! -e $LV/clientkey.pem && ! -e $LV/clientcert.pem ]] || fail "the client files outlived the CA"
c=$(k1_overlay "$DL_W/k1c.cpio") || fail "k1 overlay request"
[[ $c == 500 ]] || fail "k1's overlay without a CA answered $c"
grep -q '"ENOKEY"' "$DL_W/k1c.cpio" && grep -q "cannot be trusted" "$DL_W/k1c.cpio" &&
    grep -q "nodectl tls init" "$DL_W/k1c.cpio" || fail "k1's refusal: $(cat "$DL_W/k1c.cpio")"
dl_nodectl ping >/dev/null || fail "bootsvc stopped answering without a CA"
pass "without a CA bootsvc answers, and k1's overlay is refused: $(grep -o '"message":"[^"]*' "$DL_W/k1c.cpio" | cut -c 12-140)..."
mv "$DL_W/tls.away" "$DL_W/tls"

# --- the child dies: the parent stops dnsmasq and ends
DNSMASQ=$(cat "$DL_W/state/dnsmasq/dnsmasq.pid")
kill -0 "$DNSMASQ" || fail "dnsmasq $DNSMASQ not running"
kill -9 "$CHILD"
dl_wait 10 "the parent ends" bash -c "! kill -0 $PARENT 2>/dev/null || grep -q '^State:.*Z' /proc/$PARENT/status"
rc=0
wait "$PARENT" || rc=$?
[[ $rc != 0 ]] || fail "parent exited 0 after its child was killed"
dl_wait 5 "dnsmasq ends" bash -c "! kill -0 $DNSMASQ 2>/dev/null"
grep -q 'event=privsep_child_exit.*killed by signal 9' "$DL_W/bootsvc.log" ||
    fail "the parent did not log the child's death"
pass "killing the child ended the parent (exit $rc) and dnsmasq"
