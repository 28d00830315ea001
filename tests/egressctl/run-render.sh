#!/bin/sh
# egressctl without egressd:
#  1. golden files: every tests/fixtures/control_*.json rendered with
#     the hidden --render-file, for humans and with --json, compared to
#     tests/egressctl/<fixture>.{human,json}.expected (stdout, stderr and
#     the exit code);
#  2. argument checks: bad command lines exit 2 with a message;
#  3. robustness: mutated answers never crash the renderers;
#  4. a smoke test against tests/egressctl/fake_server.py (python3) over
#     a real Unix socket: the exact requests sent, the answers shown,
#     a multi-megabyte answer, error answers, an unreachable daemon.
# Usage: tests/egressctl/run-render.sh [BUILD]   (UPDATE=1 rewrites the
# golden files). Prints "egressctl: N passed, N failed".
set -u
build=${1:-build}
ctl=$build/egressctl
here=$(dirname "$0")
fixtures=$here/../fixtures
pass=0; fail=0
tmp=$(mktemp -d)
server=""
cleanup() {
	[ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "egressctl: FAIL $*" >&2; }

# Runs egressctl, capturing stdout, stderr and the exit code in one text.
run() { "$ctl" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?; cat "$tmp/out" "$tmp/err"; echo "rc=$rc"; }

# 1. golden files
for f in "$fixtures"/control_*.json; do
	name=$(basename "$f" .json)
	cmd=$(echo "$name" | sed 's/^control_//; s/_.*//')
	[ "$cmd" = error ] && cmd=paths
	for mode in human json; do
		flag=""; [ $mode = json ] && flag=--json
		exp=$here/$name.$mode.expected
		run $flag --render-file "$cmd" "$f" >"$tmp/got"
		if [ "${UPDATE:-0}" = 1 ]; then cp "$tmp/got" "$exp"; fi
		if cmp -s "$tmp/got" "$exp"; then ok; else
			bad "$name ($mode) differs from $exp"; diff "$exp" "$tmp/got" | head -20 >&2
		fi
	done
done

# 2. argument checks: each line is a command line that must exit 2
#    with a message naming the problem.
expect_usage() {
	want=$1; shift
	out=$("$ctl" "$@" 2>&1); rc=$?
	if [ $rc -eq 2 ] && printf '%s' "$out" | grep -q -- "$want"; then ok; else
		bad "'$*': want rc 2 and '$want', got rc $rc: $out"; fi
}
expect_usage "Usage" 
expect_usage "unknown command" frobnicate wg0
expect_usage "Usage" flows
expect_usage "not an interface name" flows wg0/x
expect_usage "not an interface name" flows "wg 0"
expect_usage "unknown option" flows wg0 --color
expect_usage "needs a value" flows wg0 --user
expect_usage "not a policy name" flows wg0 --user "al ice"
expect_usage "not a policy name" flows wg0 --user "a=b"
expect_usage "given twice" flows wg0 --user a --user=b
expect_usage "not an IPv4 or IPv6 address" flows wg0 --dst 300.1.1.1
expect_usage "prefix length" flows wg0 --dst 10.0.0.0/33
expect_usage "unknown protocol" flows wg0 --proto 256
expect_usage "access, local, transit or denied" flows wg0 --kind other
expect_usage "must be a number" flows wg0 --limit -1
expect_usage "unexpected argument" paths wg0 extra
expect_usage "unexpected argument" stats wg0 extra
expect_usage "required" explain wg0 --dst 192.0.2.1
expect_usage "required" explain wg0 --user alice
expect_usage "port must be" explain wg0 --user alice --dst 192.0.2.1:65536/udp
expect_usage "port must be" explain wg0 --user alice --dst 192.0.2.1:/udp
expect_usage "unknown protocol" explain wg0 --user alice --dst 192.0.2.1:53/dns
expect_usage "missing ']'" explain wg0 --user alice --dst "[2001:db8::1:443"
expect_usage "only IPv6" explain wg0 --user alice --dst "[192.0.2.1]:443"
expect_usage "not an IPv4 or IPv6" explain wg0 --user alice --dst 2001:db8::g
expect_usage "must be 0-63" explain wg0 --user alice --dst 192.0.2.1 --dscp 64
expect_usage "not a domain name" explain wg0 --user alice --dst 192.0.2.1 --domain "a b"
expect_usage "address family" explain wg0 --user alice --dst 192.0.2.1 --src fd00::1
expect_usage "cannot be combined" explain wg0 --user alice --flow 1.2.3.4:1-5.6.7.8:2/tcp
expect_usage "SRC:SPORT-DST:DPORT/PROTO" explain wg0 --flow 1.2.3.4-5.6.7.8:2/tcp
expect_usage "SRC:SPORT-DST:DPORT/PROTO" explain wg0 --flow 1.2.3.4:1-5.6.7.8:2
expect_usage "address families" explain wg0 --flow "1.2.3.4:1-[2001:db8::1]:2/tcp"
expect_usage "unknown command" --render-file nope /dev/null

# 3. robustness: answers with values of the wrong type, missing keys,
#    control bytes; the renderers must print something and exit 0 or 1
#    (never crash, never trip a sanitizer when BUILD is one).
if command -v python3 >/dev/null; then
	mkdir -p "$tmp/mut"
	for f in "$fixtures"/control_paths.json "$fixtures"/control_flows.json \
		 "$fixtures"/control_explain.json "$fixtures"/control_explain_flow.json; do
		cmd=$(basename "$f" .json | sed 's/^control_//; s/_.*//')
		python3 "$here/mutate.py" "$f" "${SEED:-1}" 40 "$tmp/mut"
		broken=""
		for m in "$tmp/mut"/m*.json; do
			"$ctl" --render-file "$cmd" "$m" >/dev/null 2>"$tmp/err"; rc=$?
			if [ $rc -gt 1 ] || grep -q "Sanitizer\|runtime error" "$tmp/err"; then
				broken=$m; break
			fi
		done
		if [ -z "$broken" ]; then ok; else
			bad "mutated $(basename "$f") (rc $rc): $(head -3 "$tmp/err")"; fi
	done
fi

# 4. smoke test against the fake server
if ! command -v python3 >/dev/null; then
	echo "egressctl: no python3, smoke test skipped" >&2
else
	export EGRESS_CONTROL_DIR=$tmp
	python3 "$here/fake_server.py" fake0 "$fixtures" &
	server=$!
	i=0; while [ ! -S "$tmp/fake0.ctl" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	log=$tmp/requests.log

	# Each check: the command, the request egressd must have received,
	# and a line the output must hold.
	smoke() {
		want_req=$1; want_out=$2; want_rc=$3; shift 3
		: >"$log"
		out=$("$ctl" "$@" 2>&1); rc=$?
		got_req=$(cat "$log")
		if [ "$rc" = "$want_rc" ] && [ "$got_req" = "$want_req" ] &&
		   printf '%s\n' "$out" | grep -qF -- "$want_out"; then ok; else
			bad "'$*': rc $rc (want $want_rc), request '$got_req' (want '$want_req'), output: $(printf '%s' "$out" | head -5)"
		fi
	}
	smoke "stats" "drop_bad_mac1 0" 0 stats fake0
	smoke "stats" '"packet_buffers": 512' 0 --json stats fake0
	smoke "paths" "*  fra1  internet  198.18.201.1:51820" 0 paths fake0
	smoke "paths" '"best": true' 0 paths fake0 --json
	smoke "flows" "7 of 7 flows" 0 flows fake0
	smoke "flows user=alice egress=fra1 class=voice dst=203.0.113.0/24 src=100.64.1.2 proto=udp kind=access limit=5" \
		"7 of 7 flows" 0 flows fake0 --limit 5 --kind access --proto UDP --src 100.64.1.2 \
		--dst=203.0.113.0/24 --class voice --egress fra1 --user alice
	smoke "flows dst=2001:db8::/32 proto=58" "7 of 7 flows" 0 flows fake0 --dst 2001:0db8:0::/32 --proto icmpv6
	smoke "flows user=big" "20000 of 20000 flows" 0 flows fake0 --user big
	smoke "flows user=nobody" "egressctl: flows: unknown user nobody" 1 flows fake0 --user nobody
	smoke "explain user=alice dst=203.0.113.10 dport=5000 proto=udp dscp=46" \
		"decision  egress fra1 via internet, source 198.51.100.3" 0 \
		explain fake0 --user alice --dst 203.0.113.10:5000/udp --dscp 46
	smoke "explain user=alice dst=2001:db8::1 dport=443 proto=tcp domain=github.com src=fd00:64::7 sport=40522" \
		"lost: region-not-allowed" 0 explain fake0 --user alice --dst "[2001:db8:0::1]:443/tcp" \
		--domain github.com --src "[fd00:64::7]:40522"
	smoke "explain user=alice dst=2001:db8::1 proto=58" "candidates" 0 \
		explain fake0 --user alice --dst 2001:db8::1/icmp
	smoke "explain user=alice dst=192.0.2.1" "class     voice" 0 explain fake0 --user alice --dst 192.0.2.1
	smoke "explain user=mallory dst=203.0.113.99 dport=23 proto=tcp" "decision  deny" 0 \
		explain fake0 --user mallory --dst 203.0.113.99:23/tcp
	smoke "explain flow=1 src=100.64.1.2 sport=51512 dst=140.82.121.4 dport=443 proto=tcp" \
		"live flow fra1 via private, path degraded (DIFFERS" 0 \
		explain fake0 --flow 100.64.1.2:51512-140.82.121.4:443/tcp
	smoke "explain flow=1 src=fd00::2 sport=7 dst=2001:db8::9 dport=7 proto=58" '"flow": {' 0 \
		--json explain fake0 --flow "[fd00::2]:7-[2001:db8::9]:7/icmp"
	smoke "explain user=nobody dst=192.0.2.1" "egressctl: explain: unknown user nobody" 1 \
		explain fake0 --user nobody --dst 192.0.2.1
	smoke "" "is egressd running on nothere?" 1 paths nothere
fi

echo "egressctl: $pass passed, $fail failed"
[ -z "${RESULTS:-}" ] || echo "$pass $fail egressctl" >>"$RESULTS"
[ $fail -eq 0 ]
