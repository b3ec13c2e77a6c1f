#!/usr/bin/env bash
# Tears the lab down: stops exactly the lab's processes by PID, deletes its
# namespaces (which removes the veths) and /etc/netns/<ns>. Idempotent, and safe
# after an up.sh that failed half way. $LAB_DIR is kept (logs, reports) unless
# --purge is given; up.sh wipes it on the next bring-up anyway.
#
# usage: down.sh [--purge]
# env:   LAB_PREFIX, LAB_DIR as for up.sh
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PURGE=0
case ${1:-} in
--purge) PURGE=1 ;;
'') ;;
*) lab_die "usage: down.sh [--purge]" ;;
esac
lab_check_prefix
[ "$(id -u)" -eq 0 ] || lab_die "must run as root"

# Victims: every process inside one of our namespaces (that is everything the
# lab started, including Samba's children), plus every recorded PID still
# alive with its recorded start time (covers a namespace whose name is already gone).
declare -A victims=()
for ns in "$NS_SRV" "$NS_CLI" "$NS_AD"; do
	lab_ns_exists "$ns" || continue
	for pid in $(ip netns pids "$ns" 2>/dev/null); do
		# never ourselves, should someone run down.sh from inside a lab netns
		[ "$pid" = "$$" ] || [ "$pid" = "$PPID" ] && continue
		victims[$pid]=$(lab_starttime "$pid" || echo 0)
	done
done
if [ -f "$LAB_DIR/pids" ]; then
	while read -r pid start _; do
		[[ $pid =~ ^[0-9]+$ ]] || continue
		lab_pid_is_ours "$pid" "$start" && victims[$pid]=$start
	done <"$LAB_DIR/pids"
fi

alive() {
	local pid
	for pid in "${!victims[@]}"; do
		if lab_pid_is_ours "$pid" "${victims[$pid]}" && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; then
			echo "$pid"
		fi
	done
}

if [ ${#victims[@]} -gt 0 ]; then
	# Signal everything at once: Kea and Samba take ~1.7 s each to exit, in parallel.
	kill -TERM "${!victims[@]}" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		[ -z "$(alive)" ] && break
		sleep 0.05
	done
	left=$(alive)
	if [ -n "$left" ]; then
		echo "[lab $P] SIGKILL to processes that ignored SIGTERM: ${left//$'\n'/ }" >&2
		# shellcheck disable=SC2086
		kill -KILL $left 2>/dev/null || true
		sleep 0.1
	fi
fi

for ns in "$NS_SRV" "$NS_CLI" "$NS_AD"; do
	if lab_ns_exists "$ns"; then
		ip netns del "$ns" || echo "[lab $P] could not delete namespace $ns" >&2
	fi
	rm -rf "/etc/netns/$ns"
done
# /etc/netns is ip(8)'s; remove it only if our entries were the last in it.
rmdir /etc/netns 2>/dev/null || true

if [ "$PURGE" = 1 ] && [ -f "$LAB_DIR/.amt-lab" ]; then
	rm -rf "$LAB_DIR"
fi
exit 0
