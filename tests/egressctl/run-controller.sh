#!/bin/sh
# egressctl's controller commands without a controller:
#  1. golden files: every tests/egressctl/api_*.json rendered with the
#     hidden --render-file, for humans and with --json, compared to
#     api_<name>.{human,json}.expected (stdout, stderr, exit code);
#  2. argument checks: bad command lines exit 2 with a message;
#  3. against tests/egressctl/fake_controller.py (python3, HTTP on
#     127.0.0.1): the exact requests sent (method, path, token, body),
#     the output, exit codes for 401, 404, 409, 422, a timeout, a refused
#     connection, an answer that is not JSON.
# Usage: tests/egressctl/run-controller.sh [BUILD]   (UPDATE=1 rewrites
# the golden files). Prints "egressctl-controller: N passed, N failed".
set -u
build=${1:-build}
ctl=$build/egressctl
here=$(dirname "$0")
pass=0; fail=0
tmp=$(mktemp -d)
server=""
egressd_fake=""
cleanup() {
	[ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
	[ -n "$egressd_fake" ] && kill "$egressd_fake" 2>/dev/null && wait "$egressd_fake" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
unset EGRESS_CONTROLLER EGRESS_TOKEN

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "egressctl-controller: FAIL $*" >&2; }
run() { "$ctl" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?; cat "$tmp/out" "$tmp/err"; echo "rc=$rc"; }

# 1. golden files
for f in "$here"/api_*.json; do
	name=$(basename "$f" .json)
	cmd=$(echo "$name" | sed 's/^api_//; s/_.*//')
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

# 2. argument checks (no controller is contacted)
expect_usage() {
	want=$1; shift
	out=$("$ctl" "$@" 2>&1); rc=$?
	if [ $rc -eq 2 ] && printf '%s' "$out" | grep -q -- "$want"; then ok; else
		bad "'$*': want rc 2 and '$want', got rc $rc: $out"; fi
}
C="--controller http://127.0.0.1:9 --token ega_good"
expect_usage "no controller" --token x nodes
expect_usage "no token" --controller https://c.example nodes
expect_usage "not an https:// or http:// URL" --controller ftp://x --token x nodes
expect_usage "needs a value" nodes --token
expect_usage "FILE.*required" $C plan
expect_usage "unknown option" $C plan p.yaml --color
expect_usage "unexpected argument" $C plan a.yaml b.yaml
expect_usage "not an interface name" $C plan p.yaml --from-flows "a/b"
expect_usage "expected-version.*required" $C apply p.yaml
expect_usage "version number or 'current'" $C apply p.yaml --expected-version x
expect_usage "VERSION.*required" $C rollback --expected-version 3
expect_usage "must be a version number" $C rollback x --expected-version 3
expect_usage "must be a number" $C versions --limit 0
expect_usage "unexpected argument" $C nodes extra
expect_usage "must be an entry id" $C audit --since -1
expect_usage "not a policy name" $C enroll-token "a b"
expect_usage "a duration" $C enroll-token fra1 --ttl 31d
expect_usage "must be 1-3600" $C --timeout 0 nodes

# 3. against the fake controller
if ! command -v python3 >/dev/null; then
	echo "egressctl-controller: no python3, client tests skipped" >&2
else
	log=$tmp/requests.log
	python3 "$here/fake_controller.py" "$tmp/port" "$log" &
	server=$!
	i=0; while [ ! -s "$tmp/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	url=http://127.0.0.1:$(cat "$tmp/port")
	printf 'version: 1\n' >"$tmp/p.yaml"
	printf 'version: 1\nBAD\n' >"$tmp/bad.yaml"
	printf '[{"user":"alice","dst":"203.0.113.10","dport":443,"proto":"tcp"}]\n' >"$tmp/s.json"
	printf 'ega_good\n' >"$tmp/token"

	# want_req: "METHOD PATH" plus, optionally, a python expression on
	# the logged request r that must be true.
	check() {
		want_req=$1; want_check=$2; want_out=$3; want_rc=$4; shift 4
		: >"$log"
		out=$("$ctl" "$@" 2>&1); rc=$?
		got=$(python3 -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
if not lines: sys.exit()
r = json.loads(lines[-1])
ok = eval(sys.argv[2]) if sys.argv[2] else True
print(r["method"], r["path"] + ("" if ok else " CHECK-FAILED %s" % r))' "$log" "$want_check")
		if [ "$rc" = "$want_rc" ] && [ "$got" = "$want_req" ] &&
		   printf '%s\n' "$out" | grep -qF -- "$want_out"; then ok; else
			bad "'$*': rc $rc (want $want_rc), request '$got' (want '$want_req'), output: $(printf '%s' "$out" | head -5)"
		fi
	}
	G="--controller $url --token ega_good"
	AUTH='r["auth"] == "Bearer ega_good"'
	check "POST /api/v1/policy/plan" \
		"$AUTH and r['type'] == 'application/json' and r['body'] == {'document': 'version: 1\n', 'name': 'p.yaml', 'sessions': [{'user':'alice','dst':'203.0.113.10','dport':443,'proto':'tcp'}]}" \
		"valid (base version 3)" 0 $G plan "$tmp/p.yaml" --sessions "$tmp/s.json"
	check "POST /api/v1/policy/plan" "r['body']['sessions'] == [] and r['body']['name'] == 'x.yaml'" \
		"*  alice 203.0.113.10:3478/udp" 0 plan "$tmp/p.yaml" --name x.yaml $G
	check "POST /api/v1/policy/plan" "" '"base_version": 3' 0 --json $G plan "$tmp/p.yaml"
	check "POST /api/v1/policy/plan" "" 'p.yaml:3:7: unknown region "eu-west"' 1 $G plan "$tmp/bad.yaml"
	check "POST /api/v1/policy/plan" "" "HTTP 422: policy does not validate" 1 $G plan "$tmp/bad.yaml"
	check "POST /api/v1/policy/apply" \
		"r['body'] == {'document': 'version: 1\n', 'name': 'p.yaml', 'expected_version': 3, 'comment': 'go'}" \
		"applied: version 4" 0 $G apply "$tmp/p.yaml" --expected-version 3 --comment go
	check "POST /api/v1/policy/apply" "r['body']['expected_version'] == 2" \
		"stale: current version is 3" 1 $G apply "$tmp/p.yaml" --expected-version=2
	check "POST /api/v1/policy/apply" "r['body']['expected_version'] == 3" \
		"applied: version 4" 0 $G apply "$tmp/p.yaml" --expected-version current
	check "POST /api/v1/policy/apply" "" "unknown key" 1 $G apply "$tmp/bad.yaml" --expected-version 3
	check "POST /api/v1/policy/rollback" \
		"r['body'] == {'to_version': 2, 'expected_version': 3, 'comment': 'oops'}" \
		"rolled back to version 2: version 4" 0 $G rollback 2 --expected-version 3 --comment oops
	check "POST /api/v1/policy/rollback" "" "HTTP 404: no such version" 1 $G rollback 99 --expected-version 3
	check "POST /api/v1/policy/rollback" "" "stale: current version is 3" 1 $G rollback 2 --expected-version 1
	check "GET /api/v1/policy/versions?limit=20" "$AUTH" "(rollback of 3)" 0 $G versions
	check "GET /api/v1/policy/versions?limit=5" "" '"rollback_of": 3' 0 $G --json versions --limit 5
	check "GET /api/v1/nodes" "$AUTH" "nyc1  offline" 0 nodes --controller "$url/" --token-file "$tmp/token"
	check "GET /api/v1/audit?since=0&limit=100" "" "policy.rollback" 0 $G audit
	check "GET /api/v1/audit?since=16&limit=2" "" "auth.fail" 0 $G audit --since 16 --limit 2
	check "POST /api/v1/tokens/enroll" "r['body'] == {'node': 'fra1', 'ttl_s': 7200}" \
		"ege_Zm9vYmFyYmF6cXV4" 0 $G enroll-token fra1 --ttl 2h
	check "POST /api/v1/tokens/enroll" "r['body']['ttl_s'] == 3600" "expires" 0 $G enroll-token fra1
	export EGRESS_CONTROLLER="$url" EGRESS_TOKEN=ega_env
	check "GET /api/v1/nodes" 'r["auth"] == "Bearer ega_env"' "HTTP 401: unauthorized" 1 nodes
	unset EGRESS_CONTROLLER EGRESS_TOKEN
	check "GET /api/v1/nodes" "" "the answer is not JSON" 1 --controller "$url" --token ega_notjson nodes
	check "GET /api/v1/nodes" "" "timed out" 1 --controller "$url" --token ega_slow --timeout 1 nodes
	check "" "" "cannot connect to http://127.0.0.1:9" 1 --controller http://127.0.0.1:9 --token ega_good nodes
	check "" "" "TLS failed with" 1 --controller "https://127.0.0.1:$(cat "$tmp/port")" --token ega_good nodes
	check "" "" "No such file" 1 $G plan "$tmp/nope.yaml"

	# plan --from-flows: sessions from egressd's live flows (the fake
	# control socket of run-render.sh answers tests/fixtures/control_flows.json:
	# 7 flows, one transit and one without a user).
	mkdir -p "$tmp/ctl"
	export EGRESS_CONTROL_DIR=$tmp/ctl
	python3 "$here/fake_server.py" fake0 "$here/../fixtures" &
	egressd_fake=$!
	i=0; while [ ! -S "$tmp/ctl/fake0.ctl" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	check "POST /api/v1/policy/plan" \
		"[s['user'] for s in r['body']['sessions']] == ['alice', 'alice', 'bob', 'carol', 'mallory'] and r['body']['sessions'][0] == {'user': 'alice', 'dst': '203.0.113.10', 'proto': 'udp', 'dport': 5000, 'domain': 'a.zoom.us', 'src': '100.64.1.2'}" \
		"5 sessions from 7 live flows on fake0 (2 transit or without a user left out)" 0 \
		$G plan "$tmp/p.yaml" --from-flows fake0
	check "POST /api/v1/policy/plan" "len(r['body']['sessions']) == 6" "valid" 0 \
		$G plan "$tmp/p.yaml" --sessions "$tmp/s.json" --from-flows fake0
	grep -q "^flows limit=10000$" "$tmp/ctl/requests.log" && ok || bad "plan --from-flows: request to egressd"
	check "" "" "nosuch0.ctl" 1 $G plan "$tmp/p.yaml" --from-flows nosuch0
	unset EGRESS_CONTROL_DIR
fi

echo "egressctl-controller: $pass passed, $fail failed"
[ -z "${RESULTS:-}" ] || echo "$pass $fail egressctl-controller" >>"$RESULTS"
[ $fail -eq 0 ]
