#!/bin/bash
# nodectl's bash completion (completion/nodectl) against a real bootsvc: commands,
# sub-commands, a command's options, and node and image names asked from the server over
# the --socket the command line names; silent and empty when no bootsvc answers. Runs the
# completion function as bash does (COMP_WORDS, COMP_CWORD), no terminal needed.
source "$(dirname "$0")/lib.sh"
dl_require ip bash timeout
dl_setup completion 124

out=$("$BUILD/imagebuild" build "$REPO/images/tiny" --store "$DL_W/store" --work "$DL_W" \
    2>"$DL_W/imagebuild.log") || fail "imagebuild tiny"
read -r _ IMG <<<"$(tail -n 1 <<<"$out")"
dl_bootsvc_start --dhcp_mode=off
dl_nodectl image add "$IMG" >/dev/null || fail "image add"
for i in 1 2 3; do
	dl_nodectl node add n0$i --mac 52:54:00:24:00:0$i >/dev/null || fail "node add n0$i"
done
dl_nodectl node add login1 --mac 52:54:00:24:00:09 >/dev/null || fail "node add login1"
dl_nodectl node names >"$DL_W/names.out" || fail "nodectl node names"
[[ $(sort "$DL_W/names.out" | tr '\n' ' ') == "login1 n01 n02 n03 " ]] ||
    fail "node names: $(cat "$DL_W/names.out")"
[[ $(dl_nodectl image names) == tiny ]] || fail "image names: $(dl_nodectl image names)"
pass "nodectl node names, image names: one a line"

# complete LINE: what <TAB> at the end of LINE offers, sorted, on one line.
complete_line() {
	PATH=$BUILD:$PATH bash -c '
		source "$1"
		read -ra COMP_WORDS <<<"$2"
		[[ $2 == *" " ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE=$2 COMP_POINT=${#2}
		_nodectl nodectl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' _ "$REPO/completion/nodectl" "$1"
}
expect() {
	local got
	got=$(complete_line "$1")
	[[ $got == "$2" ]] || fail "'$1<TAB>' offers '$got', not '$2'"
	pass "'$1<TAB>' -> $2"
}
S="nodectl --socket $DL_SOCK"
expect "nodectl no" "node "
expect "nodectl node sh" "show "
expect "nodectl node " "add arm list names remove reset-bmc-pin reset-disk set show "
expect "nodectl image " "add list names remove show sync "
expect "$S node show n0" "n01 n02 n03 "
expect "$S power " "cycle off on reset status "
expect "$S power on l" "login1 "
expect "$S provision n01 --im" "--image "
expect "$S provision n01 --image " "tiny "
expect "$S image show t" "tiny "
expect "$S health " "clear login1 n01 n02 n03 "
expect "$S vm plan --strategy c" "consolidate "
expect "$S node reset-disk n01 --f" "--force "
expect "nodectl dr" "drain "
expect "$S drain n01 --r" "--reason "
expect "$S undrain n0" "n01 n02 n03 "
expect "nodectl --so" "--socket "

# No bootsvc there: no names, nothing printed, quickly.
t0=$(date +%s.%N)
got=$(complete_line "nodectl --socket $DL_W/none.sock node show n" 2>&1)
[[ -z ${got// /} ]] || fail "with no bootsvc the completion printed '$got'"
echo "no-server completion took $(echo "$(date +%s.%N) - $t0" | bc 2>/dev/null || echo '?') s"
pass "no bootsvc: no names, silently"
