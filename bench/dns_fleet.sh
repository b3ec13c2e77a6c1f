#!/usr/bin/env bash
# Fleet DNS benchmark: the dns.host-registration engine (bench_dns_fleet) against
# dnsperf, same server, same 100,000-query A+PTR mix, same run.
#
# A 50,000-host zone (amt-NNNNN.amt.example -> 10.1.x.y) and its reverse zone are
# generated with these faults: every
# i%100==0 host has a stale PTR (old-NNNNN), every i%100==50 host has none (500
# orphan PTRs keep the PTR count at 50,000). The correct classification is
# 49,000 OK, 500 PTR_MISMATCH, 500 NO_PTR; every engine run is checked for it.
#
# BIND (named, one worker thread, no recursion, no rate limiting) serves both
# zones on 127.0.0.1:5300 inside a network namespace this script creates, so
# nothing leaves the machine; the namespace and named (stopped by PID) are
# removed on exit. Run as root, by hand, never in CI:
#
#   bench/dns_fleet.sh [BUILD_DIR] [RUNS]      (defaults: build, 3)
# env: WINDOW (256), HOSTS (50000)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. bench/named.sh

BUILD=${1:-build}
RUNS=${2:-3}
WINDOW=${WINDOW:-256}
HOSTS=${HOSTS:-50000}
ENGINE=$PWD/$BUILD/bench/bench_dns_fleet
NS=apfbench$$
WORK=
NAMED_PID=

[ "$(id -u)" -eq 0 ] || { echo "dns_fleet.sh: needs root (network namespace)" >&2; exit 1; }
[ -x "$ENGINE" ] || { echo "dns_fleet.sh: build first: ninja -C $BUILD ($ENGINE missing)" >&2; exit 1; }
for p in named dig dnsperf python3 /usr/bin/time; do
	command -v "$p" >/dev/null || { echo "dns_fleet.sh: $p not installed" >&2; exit 1; }
done

cleanup() {
	if [ -n "$NAMED_PID" ] && kill -0 "$NAMED_PID" 2>/dev/null; then
		kill "$NAMED_PID"
		for _ in $(seq 50); do kill -0 "$NAMED_PID" 2>/dev/null || break; sleep 0.1; done
	fi
	ip netns del "$NS" 2>/dev/null || true
	[ -z "$WORK" ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# Made only now: an early exit above leaves nothing behind.
WORK=$(mktemp -d /tmp/apf-bench-dns.XXXXXX)

# ---------------------------------------------------------------- data
python3 - "$WORK" "$HOSTS" <<'EOF'
import sys
work, n = sys.argv[1], int(sys.argv[2])
soa = "@ 3600 IN SOA ns.amt.example. admin.amt.example. 1 3600 600 86400 300\n@ 3600 IN NS ns.amt.example.\n"
with open(f"{work}/amt.zone", "w") as z, open(f"{work}/rev.zone", "w") as r, \
     open(f"{work}/hosts.txt", "w") as h, open(f"{work}/queries.txt", "w") as q:
    z.write("$ORIGIN amt.example.\n" + soa + "ns 3600 IN A 127.0.0.1\n")
    r.write("$ORIGIN 1.10.in-addr.arpa.\n" + soa)
    for i in range(1, n + 1):
        x, y = (i - 1) // 250, (i - 1) % 250 + 1
        name = f"amt-{i:05d}"
        z.write(f"{name} 3600 IN A 10.1.{x}.{y}\n")
        if i % 100 == 0:
            r.write(f"{y}.{x} 3600 IN PTR old-{i:05d}.amt.example.\n")
        elif i % 100 != 50:
            r.write(f"{y}.{x} 3600 IN PTR {name}.amt.example.\n")
        h.write(f"{name}.amt.example 10.1.{x}.{y}\n")
        q.write(f"{name}.amt.example A\n{y}.{x}.1.10.in-addr.arpa PTR\n")
    for k in range(n // 100):  # orphans: keep the PTR count equal to the host count
        r.write(f"{k % 250 + 1}.{210 + k // 250} 3600 IN PTR orphan-{k}.amt.example.\n")
EOF

ip netns add "$NS"
ip -n "$NS" link set lo up
bench_named "$NS" "$WORK" amt-00100.amt.example amt.example=amt.zone 1.10.in-addr.arpa=rev.zone

# ---------------------------------------------------------------- runs
idle_wait() { # wait (up to 10 s) for a quiet box: other load skews both sides
	local a b
	for _ in $(seq 10); do
		a=$(awk '/^cpu /{print $2+$3+$4+$6+$7+$8}' /proc/stat); sleep 1
		b=$(awk '/^cpu /{print $2+$3+$4+$6+$7+$8}' /proc/stat)
		[ $((b - a)) -lt 20 ] && return 0
	done
	echo "note: the box is busy ($((b - a)) CPU ticks/s of other load): figures are noisy" >&2
	return 0
}

server_cpu() { awk '{print $14 + $15}' "/proc/$NAMED_PID/stat"; }

run_dnsperf() {
	local out
	out=$(ip netns exec "$NS" /usr/bin/time -f 'TIME %U %S %M' \
		dnsperf -s 127.0.0.1 -p 5300 -d "$WORK/queries.txt" -n 1 -c 8 -T 2 -q 500 2>&1)
	local qps sent cpu rss lost run
	printf '%s\n' "$out" >>"$WORK/dnsperf.log"
	qps=$(awk '/Queries per second:/{print $4}' <<<"$out")
	lost=$(awk '/Queries lost:/{print $3}' <<<"$out")
	run=$(awk '/Run time \(s\):/{print $4}' <<<"$out")
	sent=$(awk '/Queries sent:/{print $3}' <<<"$out")
	cpu=$(awk '/^TIME/{print $2 + $3}' <<<"$out")
	rss=$(awk '/^TIME/{print $4}' <<<"$out")
	echo "dnsperf qps=${qps%.*} lost=$lost run_s=$run cpu_us_per_query=$(awk -v c="$cpu" -v n="$sent" 'BEGIN{printf "%.2f", c*1e6/n}') maxrss_kb=$rss"
}

run_engine() {
	ip netns exec "$NS" "$ENGINE" -f "$WORK/hosts.txt" -s 127.0.0.1 -p 5300 -w "$WINDOW" -r 0 -t 500 -R 3
}

declare -a P E
bad=0
for r in $(seq "$RUNS"); do
	idle_wait
	d=$(run_dnsperf)
	idle_wait
	s0=$(server_cpu)
	e=$(run_engine)
	s1=$(server_cpu)
	echo "run $r: $d"
	echo "run $r: engine $e server_cpu_ticks=$((s1 - s0))"
	P+=("$(sed -n 's/.*qps=\([0-9]*\).*/\1/p' <<<"$d")")
	E+=("$(sed -n 's/.* qps=\([0-9]*\).*/\1/p' <<<"$e")")
	want_ok=$((HOSTS - 2 * (HOSTS / 100)))
	if ! grep -q " OK=$want_ok NO_A=0 A_MISMATCH=0 NO_PTR=$((HOSTS / 100)) PTR_MISMATCH=$((HOSTS / 100)) TIMEOUT=0 SERVER_ERROR=0" <<<"$e"; then
		echo "run $r: WRONG CLASSIFICATION (want OK=$want_ok, NO_PTR and PTR_MISMATCH $((HOSTS / 100)) each)" >&2
		bad=1
	fi
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END{print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
mp=$(median "${P[@]}")
me=$(median "${E[@]}")
echo "----"
echo "median dnsperf qps:  $mp"
echo "median engine qps:   $me"
echo "ratio engine/dnsperf: $(awk -v a="$me" -v b="$mp" 'BEGIN{printf "%.2f", a/b}') (goal >= 0.90)"
echo "per-run ratios: $(for i in "${!P[@]}"; do awk -v a="${E[$i]}" -v b="${P[$i]}" 'BEGIN{printf "%.2f ", a/b}'; done)"
[ "$bad" -eq 0 ] && echo "classification: exact in every run" || { echo "classification: WRONG in some run"; exit 1; }
