#!/bin/bash
# bootsvc.conf(5) from man/bootsvc.conf.5.in and docs/bootsvc.conf.md's key table, so the
# keys are written once (docs/bootsvc.conf.md) and the man page can never miss one.
# Each table row `| key | default | meaning |` becomes a .TP entry; markdown code spans
# become bold, links their text, roff's escape character is escaped.
# Usage: mk/man-conf.sh TEMPLATE TABLE.md > bootsvc.conf.5
set -euo pipefail
tmpl=$1 md=$2
keys=$(awk -F'|' '
function roff(s) {
	gsub(/\\/, "\\e", s)
	while (match(s, /\[[^]]*\]\([^)]*\)/)) {
		t = substr(s, RSTART + 1, RLENGTH - 1); sub(/\].*/, "", t)
		s = substr(s, 1, RSTART - 1) t substr(s, RSTART + RLENGTH)
	}
	while (match(s, /`[^`]*`/))
		s = substr(s, 1, RSTART - 1) "\\fB" substr(s, RSTART + 1, RLENGTH - 2) "\\fR" substr(s, RSTART + RLENGTH)
	gsub(/\*\*/, "", s)
	sub(/^ +/, "", s); sub(/ +$/, "", s)
	return s
}
/^\| `/ && NF == 5 {
	key = roff($2); def = roff($3); mean = roff($4)
	print ".TP"
	print key " (default: " def ")"
	if (mean ~ /^[.\047]/) mean = "\\&" mean
	print mean
}' "$md")
[[ -n $keys ]] || { echo "mk/man-conf.sh: no key rows in $md" >&2; exit 1; }
while IFS= read -r line; do
	if [[ $line == '.\" @KEYS@' ]]; then
		printf '%s\n' "$keys"
	else
		printf '%s\n' "$line"
	fi
done < "$tmpl"
