#!/usr/bin/env bash
# amt-preflight demo: installs what is missing, builds, brings up the lab (real
# DNS, DHCP+DDNS, AD with Microsoft CA objects, PKI, all in network namespaces),
# runs amt-preflight against it, prints the verdict and where the reports are,
# and tears the lab down again (also on failure or Ctrl-C).
#
# usage: tools/demo.sh [--fault NAME[,NAME...]] [--keep]
#   --fault  break the lab first (tests/lab/fault.sh --list shows the names)
#   --keep   leave the lab running afterwards (tear down with tests/lab/down.sh --purge)
# env: LAB_PREFIX (default apl), LAB_DIR (default /tmp/amt-lab-$LAB_PREFIX)
# Needs root on Debian 12. Exit status: amt-preflight's own (0 READY, 1 READY WITH
# WARNINGS, 2 NOT READY, 3 INCOMPLETE), or 4+ if the demo itself failed.
# shellcheck disable=SC2317  # teardown/on_exit run from traps
set -euo pipefail
# Reports land where the demo was started from; the rest works from the repo.
OUT_DIR=$PWD
cd "$(dirname "${BASH_SOURCE[0]}")/.."

FAULTS=
KEEP=0
while [ $# -gt 0 ]; do
	case $1 in
	--fault) FAULTS=${2:?--fault needs NAME[,NAME]}; shift 2 ;;
	--fault=*) FAULTS=${1#--fault=}; shift ;;
	--keep) KEEP=1; shift ;;
	-h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "demo: unknown argument: $1 (see --help)" >&2; exit 4 ;;
	esac
done
say() { printf '\n==> %s\n' "$*" >&2; }
die() { echo "demo: $*" >&2; exit 4; }

[ "$(id -u)" -eq 0 ] || die "run as root: the lab uses network namespaces and raw DHCP sockets"

say "installing missing packages (tools/install-deps.sh all)"
bash tools/install-deps.sh all || die "package installation failed"

say "building"
if [ ! -f build/build.ninja ]; then
	meson setup build >/dev/null || die "meson setup failed"
fi
ninja -C build || die "build failed"
[ -x build/amt-preflight ] || die "build/amt-preflight was not built"

export LAB_PREFIX=${LAB_PREFIX:-apl}
export LAB_DIR=${LAB_DIR:-/tmp/amt-lab-$LAB_PREFIX}
if ip netns list | awk '{print $1}' | grep -qx "${LAB_PREFIX}srv"; then
	die "lab '$LAB_PREFIX' is already up; take it down with: LAB_PREFIX=$LAB_PREFIX tests/lab/down.sh (or set another LAB_PREFIX)"
fi

LAB_STARTED=0
teardown() { # teardown RC: the lab directory goes too, unless the demo failed (its logs are there)
	[ "$LAB_STARTED" = 1 ] || return 0
	LAB_STARTED=0
	say "tearing the lab down"
	if [ "$1" -ge 4 ] && [ "$1" -ne 130 ]; then
		bash tests/lab/down.sh || true
		echo "demo: the lab's logs are kept in $LAB_DIR (remove it when done)" >&2
	else
		bash tests/lab/down.sh --purge || true
	fi
}
INTERRUPTED=0
on_exit() {
	local rc=$?
	if [ "$KEEP" = 1 ] && [ "$INTERRUPTED" = 0 ] && [ "$LAB_STARTED" = 1 ]; then
		echo "lab '$LAB_PREFIX' left running (--keep): ip netns exec ${LAB_PREFIX}cli build/amt-preflight run -c $LAB_DIR/lab.conf" >&2
		echo "tear it down with: LAB_PREFIX=$LAB_PREFIX tests/lab/down.sh --purge" >&2
	else
		teardown "$rc"
	fi
	exit "$rc"
}
trap on_exit EXIT
trap 'INTERRUPTED=1; exit 130' INT TERM

say "bringing up the lab '$LAB_PREFIX'${FAULTS:+ with fault(s) $FAULTS}"
t0=$EPOCHREALTIME
LAB_STARTED=1 # up.sh undoes its own half-built lab; down.sh is harmless after that
bash tests/lab/up.sh ${FAULTS:+--fault "$FAULTS"} >/dev/null || die "lab bring-up failed (logs in $LAB_DIR/logs)"
say "lab up in $(awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN { printf "%.1f", a - b }') s"

say "running: ip netns exec ${LAB_PREFIX}cli build/amt-preflight run -c $LAB_DIR/lab.conf"
rc=0
ip netns exec "${LAB_PREFIX}cli" build/amt-preflight run -c "$LAB_DIR/lab.conf" \
	--json "$OUT_DIR/report.json" --html "$OUT_DIR/report.html" || rc=$?

case $rc in
0) verdict="READY" ;;
1) verdict="READY WITH WARNINGS" ;;
2) verdict="NOT READY" ;;
3) verdict="INCOMPLETE" ;;
*) verdict="amt-preflight failed (exit $rc)" ;;
esac
echo
echo "Reports: $OUT_DIR/report.json"
echo "         $OUT_DIR/report.html"
echo "Verdict: $verdict (exit $rc)"
exit "$rc"
