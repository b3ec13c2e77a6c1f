#!/usr/bin/env bash
# amt.tls fleet benchmark: the whole check (build/amt-preflight run --only amt.tls) probing
# HOSTS addresses, next to `openssl s_time -new` against the same server in the same run.
#
# A network namespace this script creates holds 10.1.0.0/16 on its loopback, so every
# address 10.1.x.y is local, and one `openssl s_server` (RSA 2048, TLS 1.3, self-signed:
# what an unprovisioned AMT device presents) listens on 0.0.0.0:16993. HOSTS distinct
# addresses go into [amt] tls_hosts (no DNS: the TLS engine is measured).
#
# Printed, one key=value line:
#   hosts, handshakes (completed), elapsed_s (the check's duration), rate (handshakes/s),
#   stime_rate (s_time -new, sequential), vs_stime (rate / stime_rate, goal >= 1.4),
#   server_limit (handshakes / server CPU seconds: the rate a fully busy s_server would
#   reach), vs_limit (rate / server_limit, goal >= 0.8), peak_rss_kib (goal <= 65536),
#   client_ms (the check's CPU per handshake), server_ms (s_server's CPU per handshake).
# Server, s_time and the check all run under nice, so a shared machine slows them alike.
# The namespace and s_server (stopped by PID) are removed on exit. Run as root, by hand,
# never in CI:
#
#   bench/amt_tls_fleet.sh [BUILD_DIR]        (default build)
# env: HOSTS (50000), WINDOW (64), STIME_SECONDS (10)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD=${1:-build}
HOSTS=${HOSTS:-50000}
WINDOW=${WINDOW:-64}
STIME_SECONDS=${STIME_SECONDS:-10}
BIN=$PWD/$BUILD/amt-preflight
NS=apftls$$
WORK=$(mktemp -d /tmp/apf-bench-tls.XXXXXX)
SERVER_PID=

[ "$(id -u)" -eq 0 ] || { echo "amt_tls_fleet.sh: needs root (network namespace)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "amt_tls_fleet.sh: build first: ninja -C $BUILD" >&2; exit 1; }
for p in openssl python3 /usr/bin/time; do
	command -v "$p" >/dev/null || { echo "amt_tls_fleet.sh: $p not installed" >&2; exit 1; }
done

cleanup() {
	if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill "$SERVER_PID"
		for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
	fi
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# CPU seconds (user + system) a process has used so far.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat"; }

ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" addr add 10.1.0.1/16 dev lo

openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 -subj "/CN=amt.bench.example" \
	-keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
nice ip netns exec "$NS" openssl s_server -quiet -accept 0.0.0.0:16993 -cert "$WORK/cert.pem" \
	-key "$WORK/key.pem" </dev/null >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 50); do
	ip netns exec "$NS" ss -Hltn "sport = :16993" | grep -q LISTEN && break
	sleep 0.1
done

# The sequential reference, same server, same run.
stime=$(nice ip netns exec "$NS" openssl s_time -connect 10.1.0.1:16993 -new -time "$STIME_SECONDS" 2>/dev/null |
	awk '/connections in .* real seconds/ { printf "%.1f", $1 / $4; exit }')

python3 - "$WORK/bench.conf" "$HOSTS" "$WINDOW" <<'PY'
import sys
path, n, window = sys.argv[1], int(sys.argv[2]), sys.argv[3]
addrs = ["10.1.%d.%d" % ((i // 250), i % 250 + 1) for i in range(n)]
with open(path, "w") as f:
    f.write("[amt]\ntls_window = %s\n" % window)
    for i in range(0, n, 12):
        f.write("tls_hosts = %s\n" % ", ".join(addrs[i:i + 12]))
PY

cpu0=$(cpu_s "$SERVER_PID")
nice /usr/bin/time -f "%U %S %M" -o "$WORK/rss" ip netns exec "$NS" "$BIN" run -c "$WORK/bench.conf" --only amt.tls \
	--timeout 900 --json "$WORK/report.json" --quiet >/dev/null 2>&1 || true
cpu1=$(cpu_s "$SERVER_PID")

python3 - "$WORK/report.json" "$HOSTS" "$stime" "$cpu0" "$cpu1" $(tail -n 1 "$WORK/rss") <<'PY'
import json, sys
report, hosts, stime, cpu0, cpu1 = sys.argv[1], int(sys.argv[2]), float(sys.argv[3] or 0), \
    float(sys.argv[4]), float(sys.argv[5])
client_cpu, rss = float(sys.argv[6]) + float(sys.argv[7]), int(sys.argv[8])
r = json.load(open(report))
c = next(c for c in r["checks"] if c["id"] == "amt.tls")
failed = ("TLS_TIMEOUT", "TLS_CONNECT_FAILED", "TLS_HANDSHAKE_FAILED", "TLS_INCOMPLETE")
bad = sum(int(f["evidence"]["count"]) for f in c["findings"] if f["code"] in failed)
done = hosts - bad
elapsed = c["duration_ms"] / 1000.0
rate = done / elapsed
limit = done / (cpu1 - cpu0) if cpu1 > cpu0 else 0
print("hosts=%d handshakes=%d elapsed_s=%.1f rate=%.0f stime_rate=%.0f vs_stime=%.2f server_limit=%.0f "
      "vs_limit=%.2f peak_rss_kib=%d client_ms=%.2f server_ms=%.2f"
      % (hosts, done, elapsed, rate, stime, rate / stime if stime else 0, limit, rate / limit if limit else 0, rss,
         1000 * client_cpu / done, 1000 * (cpu1 - cpu0) / done))
PY
