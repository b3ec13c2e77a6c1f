#!/usr/bin/env bash
# Runs amt-preflight's integration tests: brings one lab up under a unique
# prefix, runs every tests/integration/test_*.py (or the files given) with
# unittest, verbose, and tears the lab down whatever happens.
# Last line: "N passed, N failed, N skipped". Exit status 1 if anything failed.
#
# usage: tests/integration/run.sh [test_x.py ...]
# env:   AMT_PREFLIGHT (default build/amt-preflight), LAB_PREFIX/LAB_DIR to override
# shellcheck disable=SC2317  # cleanup runs from a trap
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

if [ "$(id -u)" -ne 0 ]; then
	echo "integration tests need root (network namespaces); skipping" >&2
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi

# A prefix no other lab on this machine uses, so two runs can share a machine.
chars=abcdefghijklmnopqrstuvwxyz0123456789
if [ -z "${LAB_PREFIX:-}" ]; then
	while :; do
		LAB_PREFIX=i
		for _ in 1 2 3; do LAB_PREFIX+=${chars:RANDOM % 36:1}; done
		ip netns list | awk '{print $1}' | grep -qx "${LAB_PREFIX}srv" || break
	done
fi
export LAB_PREFIX
export LAB_DIR=${LAB_DIR:-/tmp/amt-lab-$LAB_PREFIX}
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in the source tree
export AMT_PREFLIGHT=${AMT_PREFLIGHT:-$PWD/build/amt-preflight}

cleanup() {
	local t0=$EPOCHREALTIME
	bash tests/lab/down.sh --purge || true
	echo "lab $LAB_PREFIX down in $(awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN { printf "%.2f", a - b }') s" >&2
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t0=$EPOCHREALTIME
if ! bash tests/lab/up.sh >/dev/null; then
	echo "lab bring-up failed" >&2
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
echo "lab $LAB_PREFIX up in $(awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN { printf "%.1f", a - b }') s ($LAB_DIR)" >&2

rc=0
python3 tests/integration/labtest.py "$@" || rc=$?
exit "$rc"
