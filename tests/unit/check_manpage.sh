#!/usr/bin/env bash
# The man page and --help describe the same options and commands (both ways).
set -euo pipefail
bin=$1 man=$2
help=$("$bin" --help)
fail=0
help_opts=$(grep -oE -- '--[a-z][a-z-]+' <<<"$help" | sort -u)
man_opts=$(grep -oE -- '\\-\\-[a-z][a-z-]+' "$man" | sed 's/\\-/-/g' | sort -u)
for o in $help_opts; do
	grep -qx -- "$o" <<<"$man_opts" || { echo "man page lacks $o (in --help)"; fail=1; }
done
for o in $man_opts; do
	grep -qx -- "$o" <<<"$help_opts" || { echo "--help lacks $o (in the man page)"; fail=1; }
done
for cmd in $(sed -n '/^Commands:/,/^$/p' <<<"$help" | awk 'NR>1 && NF {print $1}'); do
	grep -qE "^\\.(TP|B|IP|SS).*\\b$cmd\\b|^\\\\fB$cmd\\b|^\\.B $cmd" "$man" || grep -q "fB$cmd\\\\fR" "$man" ||
		{ echo "man page lacks the command $cmd"; fail=1; }
done
for code in 0 1 2 3; do
	grep -q "^$code\b\|fB$code\\\\fR\|^\\.IP $code\|^\\.TP.*$code" "$man" || { echo "man page lacks exit status $code"; fail=1; }
done
exit $fail
