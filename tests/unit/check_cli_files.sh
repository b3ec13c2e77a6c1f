#!/usr/bin/env bash
# The command line refuses files it must not use, before any check runs (issue 13
# items 5, 6, 9): two report options naming one file by any name, a FIFO or device
# as the configuration (which would block in open()), and control characters from
# config key names reaching the terminal. Asserts on exit codes and files; every
# case fails before a check could start, and the configs used enable no check.
set -uo pipefail
bin=$(realpath "$1")
dir=$(mktemp -d "${TMPDIR:-/tmp}/apf-test-cli.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
fail=0

# No network is touched (everything is refused first), but keep it certain where
# an unprivileged network namespace is available.
run() { if unshare -rn true 2>/dev/null; then timeout 10 unshare -rn "$bin" "$@"; else timeout 10 "$bin" "$@"; fi; }
ran() { # ran STATUS WHAT -- ARGS...: the run went ahead and ended with STATUS
	local want=$1 what=$2 got
	shift 3
	run "$@" >out.txt 2>err.txt
	got=$?
	if [ "$got" != "$want" ]; then
		echo "FAIL: $what: exit $got, want $want"; sed 's/^/    /' err.txt; fail=1
	fi
}
refused() { # refused WHAT -- ARGS...: exit 3 before any check ran (no progress on stdout)
	ran 3 "$@"
	[ -s out.txt ] && { echo "FAIL: $1: checks ran (stdout not empty)"; fail=1; }
	return 0
}

: >empty.conf
refused "same file, ./ prefix" -- run -c empty.conf --json a.json --html ./a.json
mkdir sub
refused "same file, via sub/.." -- run -c empty.conf --json a.json --junit sub/../a.json
[ -e a.json ] && { echo "FAIL: a refused run created a.json"; fail=1; }
echo '{}' >a.json
ln -s a.json link.json
ln a.json hard.json
refused "same file, symlink" -- run -c empty.conf --json a.json --html link.json
refused "same file, hard link" -- run -c empty.conf --html hard.json --json a.json
[ "$(cat a.json)" = '{}' ] || { echo "FAIL: a refused run changed a.json"; fail=1; }
# Different files are still fine (an empty config: every check skipped, INCOMPLETE = 3, reports written).
ran 3 "different files" -- run -c empty.conf --json r.json --html r.html
[ -s r.json ] && [ -s r.html ] || { echo "FAIL: reports to two different files were not both written"; fail=1; }

mkfifo conf.fifo
start=$(date +%s)
refused "-c FIFO" -- run -c conf.fifo
grep -q "not a regular file" err.txt || { echo "FAIL: -c FIFO: no 'not a regular file' in: $(cat err.txt)"; fail=1; }
[ $(($(date +%s) - start)) -le 3 ] || { echo "FAIL: -c FIFO took more than 3 s"; fail=1; }
refused "-c /dev/zero" -- run -c /dev/zero
grep -q "not a regular file" err.txt || { echo "FAIL: -c /dev/zero not refused as non-regular"; fail=1; }

printf '[dns]\nserv\033]0;owned\007ers = 192.0.2.1\n' >esc.conf
refused "ESC in a key name" -- run -c esc.conf
if grep -q $'\033' err.txt || grep -q $'\007' err.txt; then
	echo "FAIL: a control character from a key name reached stderr"; fail=1
fi
grep -q 'esc.conf:2:' err.txt || { echo "FAIL: key name error lacks file:line"; fail=1; }
# A value is quoted in its error: C1 CSI and a bidi override in it stay inert too.
printf '[dns]\nwindow = 5\302\2331m\342\200\256x\n' >c1.conf
refused "C1 and bidi in a value" -- run -c c1.conf
if grep -q $'\302\233' err.txt || grep -q $'\342\200\256' err.txt; then
	echo "FAIL: a C1 control or bidi override from a value reached stderr"; fail=1
fi
exit $fail
