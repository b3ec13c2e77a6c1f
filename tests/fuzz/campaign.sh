#!/usr/bin/env bash
# A long fuzz campaign, run by hand: each libFuzzer target in turn (one at a
# time, at the lowest CPU priority) under AddressSanitizer + UndefinedBehavior-
# Sanitizer, for a time or a number of executions, on a copy of its committed
# corpus. Prints one line per target: executions, exec/s, coverage (edges and
# features), corpus size, peak RSS and the result; a crash keeps its input in
# the results directory and makes the exit status 1.
#
# usage: tests/fuzz/campaign.sh [--seconds N] [--runs N] [--out DIR] [TARGET...]
#   --seconds N   time per target (default 600); the run ends at whichever of
#   --runs N      --seconds and --runs comes first (default: no run limit)
#   --out DIR     keep each target's log, grown corpus and any crash input in DIR
#                 (default: a temporary directory, removed unless something crashed)
# env: BUILD (default build-fuzz; set up with clang, -Dfuzz=enabled and sanitizers
#      when missing); FUZZ_FLAGS, more libFuzzer flags for every target, e.g.
#      -entropic_scale_per_exec_time=1 (schedule fast inputs more: see README.md)
# Nothing here touches the network: the targets parse bytes in memory.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

seconds=600 runs=-1 out=
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) seconds=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	-h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "campaign: unknown option $1 (see --help)" >&2; exit 2 ;;
	*) break ;;
	esac
done
build=${BUILD:-build-fuzz}

if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" -Dfuzz=enabled -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
nice -n 19 ninja -C "$build" >/dev/null

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for exe in "$build"/tests/fuzz/fuzz_*; do
		[ -f "$exe" ] && [ -x "$exe" ] && targets+=("$(basename "$exe")")
	done
fi

keep=0
if [ -z "$out" ]; then
	out=$(mktemp -d "${TMPDIR:-/tmp}/apf-campaign.XXXXXX")
else
	mkdir -p "$out"
	keep=1
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
crashed=0
printf '%-18s %12s %8s %6s %7s %7s %7s  %s\n' target execs exec/s cov ft corpus rss_mb result
for t in "${targets[@]}"; do
	exe=$PWD/$build/tests/fuzz/$t
	[ -x "$exe" ] || { echo "campaign: no target $t in $build" >&2; exit 2; }
	work=$out/$t
	mkdir -p "$work/corpus"
	[ -d "tests/fuzz/corpus/$t" ] && cp -r "tests/fuzz/corpus/$t/." "$work/corpus/"
	rc=0
	(cd "$work" && nice -n 19 "$exe" -max_total_time="$seconds" -runs="$runs" -rss_limit_mb=2048 \
		-timeout=10 -print_final_stats=1 -artifact_prefix="$work/" ${FUZZ_FLAGS:-} corpus >"$work/log" 2>&1) || rc=$?
	stat() { sed -n "s/^stat::$1: *//p" "$work/log" | tail -1; }
	last=$(grep -E '^#[0-9]+' "$work/log" | tail -1)
	cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
	ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
	corp=$(sed -nE 's/.* corp: ([0-9]+).*/\1/p' <<<"$last")
	if [ "$rc" -eq 0 ]; then
		result=ok
	else
		result="FAILED (exit $rc): $(ls "$work" | grep -E '^(crash|leak|timeout|oom|slow-unit)-' | head -1)"
		crashed=1
	fi
	printf '%-18s %12s %8s %6s %7s %7s %7s  %s\n' "$t" "$(stat number_of_executed_units)" \
		"$(stat average_exec_per_sec)" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$(stat peak_rss_mb)" "$result"
done
if [ "$crashed" = 1 ]; then
	echo "logs and crash inputs: $out" >&2
elif [ "$keep" = 0 ]; then
	rm -rf "$out"
fi
exit "$crashed"
