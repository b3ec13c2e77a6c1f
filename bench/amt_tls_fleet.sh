#!/usr/bin/env bash
# amt.tls fleet benchmark: the whole check (build/amt-preflight run --only amt.tls) probing
# HOSTS addresses, next to `openssl s_time -new` against the same servers in the same run.
#
# A fleet is many independent TLS servers, and one `openssl s_server` is sequential: it
# takes the next connection only after the current one has closed. So SERVERS s_server
# processes (RSA 2048, TLS 1.3, self-signed: what an unprovisioned AMT device presents)
# each run in a network namespace of their own, owning an equal block of 10.1.0.0/16 on
# their loopback, reached from the client's namespace over a veth pair (192.0.2.0/24,
# TEST-NET-1). HOSTS distinct addresses, dealt round-robin over the blocks, go into
# [amt] tls_hosts (no DNS: the TLS engine is measured). SERVERS=1 is the single
# sequential device, where the client's own handshake work is on the server's critical
# path (bench/README.md).
#
# Printed, one key=value line:
#   hosts, servers, handshakes (completed), elapsed_s (the check's duration), rate
#   (handshakes/s), stime_rate (s_time -new, sequential, against the first server),
#   vs_stime (rate / stime_rate, goal >= 1.4), server_limit (handshakes / server CPU
#   seconds, all servers together: the rate fully busy servers would reach), vs_limit
#   (rate / server_limit, goal >= 0.8), cpu_limit (CPUS / (client_ms + server_ms): what
#   no client can exceed when it and the servers share this machine's CPUS cores) and
#   vs_cpu, peak_rss_kib (goal <= 65536), client_ms (the check's CPU per handshake),
#   server_ms (the servers' CPU per handshake).
# Servers, s_time and the check all run under nice, so a shared machine slows them alike.
# The namespaces and the servers (stopped by PID) are removed on exit. Run as root, by
# hand, never in CI:
#
#   bench/amt_tls_fleet.sh [BUILD_DIR]        (default build)
# env: HOSTS (50000), SERVERS (4; 1, 2, 4, 8 or 16), WINDOW (64), STIME_SECONDS (10),
#      NAMES (0; 1: the hosts are a [dns] hosts_file of names, amt-NNNNN.fleet.example, which a BIND
#      `named` in the client's namespace resolves: the check's time then includes the
#      A queries, made at the default [dns] rate_limit of 5,000 queries/s)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. bench/named.sh

BUILD=${1:-build}
HOSTS=${HOSTS:-50000}
SERVERS=${SERVERS:-4}
WINDOW=${WINDOW:-64}
NAMES=${NAMES:-0}
STIME_SECONDS=${STIME_SECONDS:-10}
BIN=$PWD/$BUILD/amt-preflight
NS=apftls$$
WORK=
SERVER_PIDS=()
NAMED_PID=
case $SERVERS in 1 | 2 | 4 | 8 | 16) ;; *) echo "amt_tls_fleet.sh: SERVERS must be 1, 2, 4, 8 or 16" >&2; exit 2 ;; esac

[ "$(id -u)" -eq 0 ] || { echo "amt_tls_fleet.sh: needs root (network namespace)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "amt_tls_fleet.sh: build first: ninja -C $BUILD" >&2; exit 1; }
for p in openssl python3 /usr/bin/time $([ "$NAMES" = 1 ] && echo named dig); do
	command -v "$p" >/dev/null || { echo "amt_tls_fleet.sh: $p not installed" >&2; exit 1; }
done

cleanup() {
	local pid
	for pid in "${SERVER_PIDS[@]}" $NAMED_PID; do
		kill "$pid" 2>/dev/null || continue
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	done
	for i in $(seq 0 $((SERVERS - 1))); do ip netns del "$NS-$i" 2>/dev/null || true; done
	ip netns del "$NS" 2>/dev/null || true
	[ -z "$WORK" ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# Made only now: an early exit above leaves nothing behind.
WORK=$(mktemp -d /tmp/apf-bench-tls.XXXXXX)

# CPU seconds (user + system) a process has used so far.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat"; }

# Server i owns 10.1.(i*B).0/PREFIX, B = 256/SERVERS third octets, over veth s$i.
B=$((256 / SERVERS))
PREFIX=16
for ((n = SERVERS; n > 1; n /= 2)); do PREFIX=$((PREFIX + 1)); done
ip netns add "$NS"
ip -n "$NS" link set lo up
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 -subj "/CN=amt.bench.example" \
	-keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
for i in $(seq 0 $((SERVERS - 1))); do
	ns=$NS-$i
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip -n "$ns" addr add "10.1.$((i * B)).0/$PREFIX" dev lo
	ip link add "s$i" netns "$NS" type veth peer name c netns "$ns"
	ip -n "$NS" addr add "192.0.2.$((4 * i + 1))/30" dev "s$i"
	ip -n "$ns" addr add "192.0.2.$((4 * i + 2))/30" dev c
	ip -n "$NS" link set "s$i" up
	ip -n "$ns" link set c up
	ip -n "$NS" route add "10.1.$((i * B)).0/$PREFIX" via "192.0.2.$((4 * i + 2))"
	nice ip netns exec "$ns" openssl s_server -quiet -accept 0.0.0.0:16993 -cert "$WORK/cert.pem" \
		-key "$WORK/key.pem" </dev/null >"$WORK/server$i.log" 2>&1 &
	SERVER_PIDS+=($!)
done
for i in $(seq 0 $((SERVERS - 1))); do
	for _ in $(seq 50); do
		ip netns exec "$NS-$i" ss -Hltn "sport = :16993" | grep -q LISTEN && break
		sleep 0.1
	done
done
servers_cpu() {
	local sum=0 pid
	for pid in "${SERVER_PIDS[@]}"; do sum=$(python3 -c "print($sum + $(cpu_s "$pid"))"); done
	echo "$sum"
}

# The sequential reference, same server, same run.
stime=$(nice ip netns exec "$NS" openssl s_time -connect 10.1.0.1:16993 -new -time "$STIME_SECONDS" 2>/dev/null |
	awk '/connections in .* real seconds/ { printf "%.1f", $1 / $4; exit }')

python3 - "$WORK" "$HOSTS" "$WINDOW" "$SERVERS" "$NAMES" <<'PY'
import sys
work, n, window, servers, names = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5] == "1"
block = 256 // servers
def addr(i):
    j = i // servers
    return "10.1.%d.%d" % ((i % servers) * block + j // 250, j % 250 + 1)
if (n + servers - 1) // servers > block * 250:
    sys.exit("amt_tls_fleet.sh: too many HOSTS for %d servers" % servers)
hosts = ["amt-%05d.fleet.example" % i for i in range(n)] if names else [addr(i) for i in range(n)]
with open(work + "/bench.conf", "w") as f:
    f.write("[amt]\ntls_window = %s\n" % window)
    if names:  # a fleet of names is a hosts file (the configuration file stops at 1 MiB)
        f.write("[dns]\nservers = 127.0.0.1#5300\nhosts_file = %s/hosts.txt\n" % work)
        with open(work + "/hosts.txt", "w") as h:
            h.write("".join(name + "\n" for name in hosts))
    else:
        for i in range(0, n, 12):
            f.write("tls_hosts = %s\n" % ", ".join(hosts[i:i + 12]))
if names:
    with open(work + "/fleet.zone", "w") as z:
        z.write("$ORIGIN fleet.example.\n@ 3600 IN SOA ns admin 1 3600 600 86400 300\n@ 3600 IN NS ns\n"
                "ns 3600 IN A 127.0.0.1\n")
        for i in range(n):
            z.write("amt-%05d 3600 IN A %s\n" % (i, addr(i)))
PY
if [ "$NAMES" = 1 ]; then
	bench_named "$NS" "$WORK" amt-00000.fleet.example fleet.example=fleet.zone
fi

cpu0=$(servers_cpu)
nice /usr/bin/time -f "%U %S %M" -o "$WORK/rss" ip netns exec "$NS" "$BIN" run -c "$WORK/bench.conf" --only amt.tls \
	--timeout 900 --json "$WORK/report.json" --quiet >"$WORK/run.log" 2>&1 || true
cpu1=$(servers_cpu)

[ -f "$WORK/report.json" ] || { cat "$WORK/run.log" >&2; exit 1; }
python3 - "$WORK/report.json" "$HOSTS" "$SERVERS" "$(nproc)" "$stime" "$cpu0" "$cpu1" $(tail -n 1 "$WORK/rss") <<'PY'
import json, sys
report, hosts, servers, cpus = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
stime, cpu0, cpu1 = float(sys.argv[5] or 0), float(sys.argv[6]), float(sys.argv[7])
client_cpu, rss = float(sys.argv[8]) + float(sys.argv[9]), int(sys.argv[10])
r = json.load(open(report))
c = next(c for c in r["checks"] if c["id"] == "amt.tls")
failed = ("TLS_TIMEOUT", "TLS_CONNECT_FAILED", "TLS_HANDSHAKE_FAILED", "TLS_INCOMPLETE")
bad = sum(int(f["evidence"]["count"]) for f in c["findings"] if f["code"] in failed)
done = hosts - bad
elapsed = c["duration_ms"] / 1000.0
rate = done / elapsed
limit = done / (cpu1 - cpu0) if cpu1 > cpu0 else 0
cpu_limit = cpus * done / (client_cpu + cpu1 - cpu0) if client_cpu + cpu1 > cpu0 else 0
print("hosts=%d servers=%d handshakes=%d elapsed_s=%.1f rate=%.0f stime_rate=%.0f vs_stime=%.2f server_limit=%.0f "
      "vs_limit=%.2f cpu_limit=%.0f vs_cpu=%.2f peak_rss_kib=%d client_ms=%.2f server_ms=%.2f"
      % (hosts, servers, done, elapsed, rate, stime, rate / stime if stime else 0, limit, rate / limit if limit else 0,
         cpu_limit, rate / cpu_limit if cpu_limit else 0, rss, 1000 * client_cpu / done, 1000 * (cpu1 - cpu0) / done))
PY
