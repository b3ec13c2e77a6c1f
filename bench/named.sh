# Sourced by the bench scripts: a BIND `named` for a benchmark, one worker thread
# (-n 1), no recursion, on 127.0.0.1:5300 inside an existing network namespace.
#
#   bench_named NS WORK PROBE ZONE...
# serves each ZONE from $WORK/<file>, given as "name=file" ("amt.example=amt.zone"),
# waits (up to 20 s) until PROBE (a name of the first zone) has an A record, and sets
# NAMED_PID, which the calling script stops on exit. Fails with named's log if it died.
bench_named() {
	local ns=$1 work=$2 probe=$3 z
	shift 3
	{
		cat <<CONF
options {
	directory "$work";
	pid-file "$work/named.pid";
	listen-on port 5300 { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion no;
	minimal-responses yes;
	dnssec-validation no;
	notify no;
};
CONF
		for z in "$@"; do
			printf 'zone "%s" { type primary; file "%s/%s"; };\n' "${z%%=*}" "$work" "${z#*=}"
		done
	} >"$work/named.conf"
	nice ip netns exec "$ns" named -c "$work/named.conf" -u root -n 1 -f >"$work/named.log" 2>&1 &
	NAMED_PID=$!
	for _ in $(seq 100); do
		ip netns exec "$ns" dig +short +time=1 +tries=1 -p 5300 @127.0.0.1 "$probe" A 2>/dev/null | grep -q . && return 0
		kill -0 "$NAMED_PID" 2>/dev/null || break
		sleep 0.2
	done
	cat "$work/named.log" >&2
	return 1
}
