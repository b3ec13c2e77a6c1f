#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every suite:
#   1. unit + check tests (meson, cmocka), with the corpus replays of the fuzz targets
#   2. the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   3. libFuzzer on each fuzz target for a bounded time (clang)
#   4. the browser test: reports rendered in headless Chromium
#   5. the Debian package: built, installed into a throw-away root, units verified
#   6. integration tests against the real lab (root; network namespaces)
# Ends with one line "N passed, N failed, N skipped"; exits 1 when anything failed.
#
# usage: tools/test.sh [--no-asan] [--no-fuzz] [--no-package] [--no-lab] [--fuzz-seconds N]
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

asan=1 fuzz=1 package=1 lab=1 fuzz_seconds=${FUZZ_SECONDS:-20}
while [ $# -gt 0 ]; do
	case $1 in
	--no-asan) asan=0 ;;
	--no-fuzz) fuzz=0 ;;
	--no-package) package=0 ;;
	--no-lab) lab=0 ;;
	--fuzz-seconds) fuzz_seconds=$2; shift ;;
	*) echo "usage: $0 [--no-asan] [--no-fuzz] [--no-package] [--no-lab] [--fuzz-seconds N]" >&2; exit 2 ;;
	esac
	shift
done

passed=0 failed=0 skipped=0
failures=()
tally() { # tally NAME PASSED FAILED SKIPPED
	passed=$((passed + $2)) failed=$((failed + $3)) skipped=$((skipped + $4))
	[ "$3" -gt 0 ] && failures+=("$1")
	echo "== $1: $2 passed, $3 failed, $4 skipped"
}
step() { echo; echo "==== $*"; }

# meson's testlog.json has one JSON object a test; count them.
count_meson() { # count_meson BUILDDIR NAME
	python3 - "$1/meson-logs/testlog.json" "$2" <<'PY'
import json, sys
p = f = s = 0
try:
    for line in open(sys.argv[1]):
        r = json.loads(line)["result"]
        if r in ("OK", "EXPECTEDFAIL"): p += 1
        elif r == "SKIP": s += 1
        else: f += 1
except FileNotFoundError:
    f = 1
print(p, f, s)
PY
}

run_meson_suites() { # run_meson_suites BUILDDIR NAME SETUP-ARGS...
	local dir=$1 name=$2
	shift 2
	step "build $name ($dir)"
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; tally "$name build" 0 1 0; return; }
	fi
	if ! ninja -C "$dir" >"$dir.build.log" 2>&1; then
		tail -40 "$dir.build.log"
		tally "$name build" 0 1 0
		return
	fi
	# Warnings are errors for us: a clean build is part of the contract.
	if grep -q 'warning:' "$dir.build.log"; then
		grep 'warning:' "$dir.build.log" | head -20
		tally "$name warnings" 0 1 0
	fi
	step "test $name"
	meson test -C "$dir" --no-rebuild --print-errorlogs --suite unit --suite checks --suite browser \
		--num-processes 2 >"$dir.test.log" 2>&1
	grep -E '^ *[0-9]+/[0-9]+ ' "$dir.test.log" | sed 's/^/  /'
	grep -E 'FAIL|TIMEOUT' "$dir.test.log" >/dev/null && sed -n '/^=* [0-9]*\/[0-9]* =*$/,$p' "$dir.test.log" | tail -80
	read -r p f s < <(count_meson "$dir" "$name")
	tally "$name tests" "$p" "$f" "$s"
}

step "install dependencies"
if ! bash tools/install-deps.sh all; then
	echo "dependency installation failed" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

run_meson_suites build "debug build"

if [ $asan = 1 ]; then
	# detect_leaks stays on: a leak in a check is a bug like any other.
	export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
	run_meson_suites build-asan "ASan+UBSan build" -Db_sanitize=address,undefined -Db_lundef=false
fi

if [ $fuzz = 1 ]; then
	step "fuzz ($fuzz_seconds s per target)"
	if [ ! -f build-fuzz/build.ninja ]; then
		CC=clang meson setup build-fuzz -Dfuzz=enabled -Db_sanitize=address,undefined -Db_lundef=false \
			>build-fuzz.setup.log 2>&1 || cat build-fuzz.setup.log
	fi
	if ninja -C build-fuzz >build-fuzz.build.log 2>&1; then
		for exe in build-fuzz/tests/fuzz/fuzz_*; do
			[ -f "$exe" ] && [ -x "$exe" ] || continue
			name=$(basename "$exe")
			work=$(mktemp -d)
			[ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$work/"
			if (cd "$work" && "$OLDPWD/$exe" -max_total_time="$fuzz_seconds" -rss_limit_mb=2048 \
				-print_final_stats=1 . >"$work.log" 2>&1); then
				tally "fuzz $name" 1 0 0
			else
				tail -40 "$work.log"
				tally "fuzz $name" 0 1 0
			fi
			rm -rf "$work" "$work.log"
		done
	else
		tail -30 build-fuzz.build.log
		tally "fuzz build" 0 1 0
	fi
fi

if [ $package = 1 ]; then
	step "Debian package"
	bash tests/package/run.sh 2>&1 | tee build/package.log
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' build/package.log | tail -1)
	if [ -n "$line" ]; then
		read -r p f < <(echo "$line" | sed -E 's/^([0-9]+) passed, ([0-9]+) failed.*/\1 \2/')
		tally "package" "$p" "$f" 0
	else
		tally "package" 0 1 0
	fi
fi

if [ $lab = 1 ]; then
	step "integration tests against the lab"
	AMT_PREFLIGHT=$PWD/build/amt-preflight bash tests/integration/run.sh 2>&1 | tee build/integration.log
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' build/integration.log | tail -1)
	if [ -n "$line" ]; then
		read -r p f s < <(echo "$line" | sed -E 's/^([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?.*/\1 \2 \4/')
		tally "integration" "$p" "$f" "${s:-0}"
	else
		tally "integration" 0 1 0
	fi
fi

echo
[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
