#!/bin/bash
# test_api: egress-controller's REST API end to end over loopback (no root):
# every endpoint and error of docs/api.md, the audit trail, one-time
# enrollment, node credentials, the long-poll (answers at once when behind,
# 204 after wait, wakes within ~1 s of an apply), telemetry, /metrics
# through promtool, HTTPS with a self-signed certificate, and kill -9 during
# a burst of 200 applies (every acknowledged version survives).
#
# usage: tests/controller/test_api.sh [BUILD]    (needs curl, jq, openssl;
# promtool optional). Prints "N passed, N failed" and the figures measured.
set -u
BUILD=${1:-build}
BIN=$BUILD/egress-controller
[ -x "$BIN" ] || { echo "test_api: $BIN not built"; echo "0 passed, 1 failed"; exit 1; }
for t in curl jq openssl; do
	command -v $t >/dev/null || { echo "test_api: needs $t"; echo "0 passed, 1 failed"; exit 1; }
done
tmp=$(mktemp -d /tmp/test_api.XXXXXX)
. "$(dirname "$0")/lib.sh"

cleanup() {
	[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

doc() {	# doc N: a small valid policy, different per N
	printf 'version: 1\n# revision %s\ngroups: [g1, g2]\nusers: {u1: {groups: [g1]}}\ndefault: allow\n' "$1"
}
apply_body() {	# apply_body N EXPECTED
	jq -cn --arg d "$(doc "$1")" --argjson e "$2" \
		'{document: $d, expected_version: $e, comment: "test"}'
}
version_count() {
	req GET "/api/v1/policy/versions?limit=1000" "" "$ADMIN"
	jq '.versions | length' <<<"$OUT"
}

# ---- start-up ------------------------------------------------------------
"$BIN" --listen 127.0.0.1:0 --db "$tmp/x.db" -f >/dev/null 2>&1
check "refuses plain HTTP without --insecure-http" test $? -eq 2

start "$tmp/c.db" --insecure-http --admin-token-file "$tmp/admin.tok"
check "starts and prints its port" test -n "$PORT"
check "bootstrap token file is 0600" test "$(stat -c %a "$tmp/admin.tok")" = 600
ADMIN=$(cat "$tmp/admin.tok")
check "bootstrap token is an admin token" test "${ADMIN:0:4}" = ega_

# ---- auth ---------------------------------------------------------------
req GET /api/v1/policy
check "no token: 401" test "$CODE" = 401 -a "$(jqo .error)" = unauthorized
req GET /api/v1/policy "" "ega_0000000000000000_$(printf '%064d' 0)"
check "bad token: 401" test "$CODE" = 401
check "auth.fail audited" test "$(audit_count auth.fail)" -ge 2
req GET "/api/v1/audit?limit=1000" "" "$ADMIN"
check "auth.fail names the path" test "$(jq -r '[.entries[]|select(.action=="auth.fail")][0].detail.path' <<<"$OUT")" = /api/v1/policy
check "no token text in the audit log" bash -c "! grep -q 0000000000000000 <<<'$OUT'"

# ---- policy -------------------------------------------------------------
req GET /api/v1/policy "" "$ADMIN"
check "no policy yet: 404" test "$CODE" = 404
req POST /api/v1/policy/apply "$(apply_body 1 0)" "$ADMIN"
check "apply: version 1" test "$CODE" = 200 -a "$(jqo .version)" = 1
req GET /api/v1/policy "" "$ADMIN"
check "get: version 1, document, actor" test "$(jqo .version)" = 1 \
	-a "$(jqo .document)" = "$(doc 1)" -a "$(jqo .actor)" = bootstrap
check "get: digest" test "$(jqo .digest | wc -c)" = 65

bad=$(jq -cn '{document: "version: 1\nusers: {u1: {groups: [nope]}}\nbogus: 1\n"}')
req POST /api/v1/policy/plan "$bad" "$ADMIN"
check "plan invalid: 422" test "$CODE" = 422
check "plan invalid: file:line:col errors" \
	bash -c "jq -e '.errors | length >= 2 and all(test(\"^policy.yaml:[0-9]+:[0-9]+: \"))' <<<'$OUT' >/dev/null"
req POST /api/v1/policy/plan "$(jq -cn --arg d "$(doc 2)" '{document: $d, name: "mine.yaml",
	sessions: [{user: "u1", dst: "203.0.113.10", dport: 443, proto: "tcp", dscp: 0, domain: null}]}')" "$ADMIN"
check "plan valid: 200" test "$CODE" = 200 -a "$(jqo .valid)" = true -a "$(jqo .base_version)" = 1
check "plan: a MOVE per session" test "$(jqo '.sessions | length')" = 1
req POST /api/v1/policy/apply "$(jq -cn '{document: "version: 1\nusers: {u1: {groups: [nope]}}\n",
	expected_version: 1, name: "ops.yaml"}')" "$ADMIN"
check "apply invalid: 422 named by name" test "$CODE" = 422 -a \
	"$(jqo '.errors[0]' | cut -d: -f1)" = ops.yaml
req POST /api/v1/policy/apply "$(jq -cn '{document: "version: 1\ndestinations:\n  o365: {prefix_files: [o365.txt]}\ndefault: allow\n", expected_version: 1}')" "$ADMIN"
check "a relative prefix file cannot go through the controller: 422 at its position" \
	test "$CODE" = 422 -a "$(jqo '.errors[0]' | cut -d: -f1-3)" = policy.yaml:3:25
req POST /api/v1/policy/apply "$(apply_body 2 0)" "$ADMIN"
check "stale expected version: 409" test "$CODE" = 409 -a "$(jqo .current_version)" = 1
check "nothing stored by 422/409" test "$(version_count)" = 1
req POST /api/v1/policy/apply "$(apply_body 2 1)" "$ADMIN"
check "apply: version 2" test "$(jqo .version)" = 2
req POST /api/v1/policy/rollback '{"to_version":1,"expected_version":2,"comment":"undo"}' "$ADMIN"
check "rollback: version 3" test "$CODE" = 200 -a "$(jqo .version)" = 3
req GET /api/v1/policy "" "$ADMIN"
check "rollback: old document" test "$(jqo .document)" = "$(doc 1)"
req GET "/api/v1/policy?version=2" "" "$ADMIN"
check "get ?version=2" test "$(jqo .document)" = "$(doc 2)"
req GET "/api/v1/policy?version=9" "" "$ADMIN"
check "get unknown version: 404" test "$CODE" = 404
req GET "/api/v1/policy/versions?limit=2" "" "$ADMIN"
check "versions: newest first, limit" test "$(jqo '[.versions[].version] | join(",")')" = 3,2
check "versions: rollback_of" test "$(jqo '.versions[0].rollback_of')" = 1 \
	-a "$(jqo '.versions[1].rollback_of')" = null
req POST /api/v1/policy/rollback '{"to_version":99,"expected_version":3}' "$ADMIN"
check "rollback to unknown: 404" test "$CODE" = 404
req POST /api/v1/policy/rollback '{"to_version":1,"expected_version":2}' "$ADMIN"
check "rollback stale: 409" test "$CODE" = 409
check "apply/rollback audited" test "$(audit_count policy.apply)" = 2 \
	-a "$(audit_count policy.rollback)" = 1

# ---- bodies and routes --------------------------------------------------
req POST /api/v1/policy/apply '{"document": "x", ' "$ADMIN"
check "malformed JSON: 400" test "$CODE" = 400
req POST /api/v1/policy/apply '[1]' "$ADMIN"
check "not an object: 400" test "$CODE" = 400
req POST /api/v1/policy/apply '{"document": 5, "expected_version": 3}' "$ADMIN"
check "wrong type: 400" test "$CODE" = 400 -a -n "$(jqo .error)"
req POST /api/v1/policy/apply '{"document": "x", "expected_version": -1}' "$ADMIN"
check "negative version: 400" test "$CODE" = 400
req POST /api/v1/policy/apply '{"document": "x", "expected_version": 3, "expected_verison": 3}' "$ADMIN"
check "unknown field: 400" test "$CODE" = 400
req POST /api/v1/policy/apply '{"document": "x", "document": "y", "expected_version": 3}' "$ADMIN"
check "duplicate key: 400" test "$CODE" = 400
head -c $((9 << 20)) /dev/zero | tr '\0' 'a' >"$tmp/big"
req POST /api/v1/policy/apply "@$tmp/big" "$ADMIN"
check "9 MiB body: 413" test "$CODE" = 413
req POST /api/v1/policy/apply "@$tmp/big" "$ADMIN" -H 'Transfer-Encoding: chunked'
check "9 MiB chunked body: 413" test "$CODE" = 413
check "nothing stored by 400/413" test "$(version_count)" = 3
req GET /api/v1/nope "" "$ADMIN"
check "unknown path: 404" test "$CODE" = 404
req DELETE /api/v1/policy "" "$ADMIN"
check "wrong method: 405" test "$CODE" = 405
req GET "/api/v1/audit?limit=abc" "" "$ADMIN"
check "bad query: 400" test "$CODE" = 400

# ---- enrollment and node credentials --------------------------------------
req POST /api/v1/tokens/enroll '{"node":"fra1","ttl_s":600}' "$ADMIN"
check "enroll token" test "$CODE" = 200 -a "$(jqo '.token[0:4]')" = ege_
ETOK=$(jqo .token)
req POST /api/v1/tokens/enroll '{"node":"ams1"}' "$ADMIN"
ETOK2=$(jqo .token)
req POST /api/v1/tokens/enroll '{"node":"bad name!"}' "$ADMIN"
check "enroll token: bad node name 400" test "$CODE" = 400
req POST /api/v1/enroll "$(jq -cn --arg t "$ETOK" '{token: $t, node: "fra1"}')"
check "enroll: credential" test "$CODE" = 200 -a "$(jqo '.credential[0:4]')" = egn_ \
	-a "$(jqo .node)" = fra1
CRED=$(jqo .credential)
req POST /api/v1/enroll "$(jq -cn --arg t "$ETOK" '{token: $t, node: "fra1"}')"
check "enroll token is one-time: 401" test "$CODE" = 401
req POST /api/v1/enroll "$(jq -cn --arg t "$ETOK2" '{token: $t, node: "fra1"}')"
check "token for another node: 401" test "$CODE" = 401
req POST /api/v1/enroll "$(jq -cn --arg t "$ETOK2" '{token: $t, node: "ams1"}')"
CRED2=$(jqo .credential)
check "a token shown by the wrong node stays usable by its own" test "$CODE" = 200
check "second node enrolled" test "${CRED2:0:4}" = egn_
check "node.enroll audited" test "$(audit_count node.enroll)" -ge 2

req GET "/api/v1/node/policy?known=0" "" "$CRED" -H "X-Egress-Node: fra1"
check "node policy: behind, at once" test "$CODE" = 200 -a "$(jqo .version)" = 3 \
	-a "$(jqo .document)" = "$(doc 1)"
req GET "/api/v1/node/policy?known=0" "" "$CRED"
check "node policy without X-Egress-Node" test "$CODE" = 200
req GET "/api/v1/node/policy?known=0" "" "$CRED" -H "X-Egress-Node: ams1"
check "credential of another node: 401" test "$CODE" = 401
req GET /api/v1/policy "" "$CRED"
check "node credential on admin endpoint: 401" test "$CODE" = 401
req GET "/api/v1/node/policy?known=0" "" "$ADMIN"
check "admin token on node endpoint: 401" test "$CODE" = 401

t0=$(date +%s%N)
req GET "/api/v1/node/policy?known=3&wait=1" "" "$CRED"
t1=$(date +%s%N)
check "long-poll current: 204 after wait" test "$CODE" = 204 \
	-a $(((t1 - t0) / 1000000)) -ge 900 -a $(((t1 - t0) / 1000000)) -lt 3000

# A waiting poll, then an apply from another client: it must answer at once.
curl -s -o "$tmp/poll" -w '%{http_code}' -H "Authorization: Bearer $CRED" \
	"$URL/api/v1/node/policy?known=3&wait=20" >"$tmp/poll.code" &
cpid=$!
sleep 0.5
req GET /metrics
check "metrics: one waiter" bash -c "grep -q '^egress_controller_longpoll_waiters 1' <<<'$OUT'"
ta=$(date +%s%N)
req POST /api/v1/policy/apply "$(apply_body 4 3)" "$ADMIN"
wait $cpid
tw=$(date +%s%N)
wake_ms=$(((tw - ta) / 1000000))
check "long-poll wakes on apply" test "$(cat "$tmp/poll.code")" = 200 \
	-a "$(jq .version "$tmp/poll")" = 4
check "long-poll wakes within 1 s (${wake_ms} ms)" test "$wake_ms" -lt 1000

# ---- telemetry and nodes --------------------------------------------------
tel='{"running_version":4,"paths":[],"counters":{"rx":1},"regions":[{"region":"eu","rtt_ms":12.5,"loss_pct":0}]}'
req POST /api/v1/node/telemetry "$tel" "$CRED" -H "X-Egress-Node: fra1"
check "telemetry accepted" test "$CODE" = 200 -a "$(jqo '.region_metrics | length')" = 0
req POST /api/v1/node/telemetry '{"running_version":3,"regions":[]}' "$CRED2" -H "X-Egress-Node: ams1"
check "region_metrics: other nodes' regions" test "$(jqo '.region_metrics[0].node')" = fra1 \
	-a "$(jqo '.region_metrics[0].rtt_ms')" = 12.5
req POST /api/v1/node/telemetry '{"running_version":"x"}' "$CRED" -H "X-Egress-Node: fra1"
check "bad telemetry: 400" test "$CODE" = 400
req POST /api/v1/node/telemetry '{"running_version":1,"regions":[{"region":"eu","rtt_ms":1,"loss_pct":101}]}' "$CRED"
check "bad region metric: 400" test "$CODE" = 400
head -c $((3 << 19)) /dev/zero | tr '\0' 'a' | jq -Rc '{running_version: 1, pad: .}' >"$tmp/tel"
req POST /api/v1/node/telemetry "@$tmp/tel" "$CRED"
check "telemetry over 1 MiB: 413" test "$CODE" = 413
req GET /api/v1/nodes "" "$ADMIN"
check "nodes: fra1 online, running 4, telemetry" test \
	"$(jqo '.nodes[] | select(.name == "fra1") | [.online, .running_version, .telemetry.counters.rx] | join(",")')" = true,4,1
check "nodes: ams1 listed" test "$(jqo '[.nodes[].name] | sort | join(",")')" = ams1,fra1

# ---- auth failures are rate-limited in the audit log ---------------------
before=$(audit_count auth.fail)
for _ in $(seq 40); do curl -s -o /dev/null -H 'Authorization: Bearer x' "$URL/api/v1/nodes"; done
after=$(audit_count auth.fail)
check "auth.fail rows rate-limited ($((after - before)) of 40)" test $((after - before)) -le 30 \
	-a $((after - before)) -ge 10
req GET /metrics
fails=$(sed -n 's/^egress_controller_auth_failures_total \([0-9]*\)/\1/p' <<<"$OUT")
check "auth failures counted ($fails)" test "${fails:-0}" -ge 45

# ---- /metrics and the dashboard -------------------------------------------
req GET /metrics
check "metrics: policy version" bash -c "grep -q '^egress_controller_policy_version 4' <<<'$OUT'"
check "metrics: requests by route and code" \
	bash -c "grep -q '^egress_controller_requests_total{route=\"policy_apply\",code=\"409\"} 1' <<<'$OUT'"
check "metrics: nodes online" bash -c "grep -q '^egress_controller_nodes{state=\"online\"} 2' <<<'$OUT'"
if command -v promtool >/dev/null; then
	check "promtool check metrics" bash -c "promtool check metrics <<<'$OUT' >/dev/null 2>&1"
fi
# Counts move by exactly what this section asks: 3 plans, 2 stale applies,
# 2 version lists, 1 scrape (each scrape counts itself after rendering).
mval() { awk -v s="$2" '$1 == s { print $2; f = 1 } END { if (!f) print 0 }' "$1"; }
mdelta() { echo $(( $(mval "$tmp/m1" "$1") - $(mval "$tmp/m0" "$1") )); }
rq() { echo "egress_controller_requests_total{route=\"$1\",code=\"$2\"}"; }
hist() { echo "egress_controller_request_duration_seconds_$1{route=\"$2\"${3-}}"; }
req GET /metrics; cp "$tmp/out" "$tmp/m0"
for i in 1 2 3; do req POST /api/v1/policy/plan "$(jq -cn --arg d "$(doc "p$i")" '{document: $d}')" "$ADMIN"; done
for i in 1 2; do req POST /api/v1/policy/apply "$(apply_body "s$i" 1)" "$ADMIN"; done
for i in 1 2; do req GET "/api/v1/policy/versions?limit=1" "" "$ADMIN"; done
req GET /metrics; cp "$tmp/out" "$tmp/m1"
for want in "policy_plan 200 3" "policy_apply 409 2" "policy_apply 200 0" \
	"policy_versions 200 2" "metrics 200 1"; do
	set -- $want
	check "metrics: requests_total{route=$1,code=$2} moved by $3" \
		test "$(mdelta "$(rq "$1" "$2")")" = "$3"
done
check "metrics: latency histogram count moved with the requests (plan)" \
	test "$(mdelta "$(hist count policy_plan)")" = 3
# Every route's histogram: cumulative buckets, +Inf = _count = requests_total.
check "metrics: histogram buckets cumulative, _count = requests_total per route" \
	awk '
	function route(s) { match(s, /route="[^"]*"/); return substr(s, RSTART + 7, RLENGTH - 8) }
	/^egress_controller_requests_total\{/ { req[route($1)] += $2 }
	/^egress_controller_request_duration_seconds_bucket\{/ {
		r = route($1); if (r != prev) last = 0
		if ($2 + 0 < last) bad = 1
		prev = r; last = $2 + 0
		if ($1 ~ /le="\+Inf"/) inf[r] = $2
	}
	/^egress_controller_request_duration_seconds_count\{/ { cnt[route($1)] = $2; n++ }
	END {
		for (r in cnt) if (cnt[r] != req[r] || inf[r] != cnt[r]) bad = 1
		exit bad || n < 8
	}' "$tmp/m1"
# The 1 s long-poll above counted its wait, in node_policy's own series;
# the applies' series stayed in the API's buckets.
check "metrics: node_policy latency counts the long-poll wait" \
	test "$(mval "$tmp/m1" "$(hist bucket node_policy ',le="0.5"')")" -lt \
	"$(mval "$tmp/m1" "$(hist count node_policy)")"
check "metrics: every apply answered within 2.5 s" \
	test "$(mval "$tmp/m1" "$(hist bucket policy_apply ',le="2.5"')")" = \
	"$(mval "$tmp/m1" "$(hist count policy_apply)")"
if command -v promtool >/dev/null; then
	check "promtool check metrics (with the histogram)" \
		bash -c "promtool check metrics <'$tmp/m1' >/dev/null 2>&1"
fi
req GET /
check "dashboard" bash -c "test $CODE = 200 && grep -q '<html>' '$tmp/out'"

# ---- apply latency: 200 applies through the API ---------------------------
v=4
: >"$tmp/lat"
for i in $(seq 200); do
	apply_body "l$i" $v >"$tmp/body"
	curl -s -o "$tmp/out" -w '%{time_total}\n' -H "Authorization: Bearer $ADMIN" \
		--data-binary @"$tmp/body" "$URL/api/v1/policy/apply" >>"$tmp/lat"
	v=$((v + 1))
done
check "200 applies" test "$(jq .version "$tmp/out")" = 204
p50=$(sort -n "$tmp/lat" | sed -n 100p)
p99=$(sort -n "$tmp/lat" | sed -n 198p)

# Restart: state is where it was.
stop
start "$tmp/c.db" --insecure-http --admin-token-file "$tmp/admin2.tok"
check "restart: no second bootstrap token" test ! -e "$tmp/admin2.tok"
req GET /api/v1/policy "" "$ADMIN"
check "restart: version 204" test "$(jqo .version)" = 204
req GET /api/v1/nodes "" "$ADMIN"
check "restart: telemetry kept" test "$(jqo '.nodes[] | select(.name == "fra1") | .running_version')" = 4
req POST /api/v1/node/telemetry '{"running_version":4,"regions":[]}' "$CRED2" -H "X-Egress-Node: ams1"
check "restart: fra1's stored region figures are not shared until it reports again" \
	test "$CODE" = 200 -a "$(jqo '.region_metrics | length')" = 0
req POST /api/v1/node/telemetry "$tel" "$CRED" -H "X-Egress-Node: fra1"
req POST /api/v1/node/telemetry '{"running_version":4,"regions":[]}' "$CRED2" -H "X-Egress-Node: ams1"
check "  and are once it does" test "$(jqo '.region_metrics[0].node')" = fra1

# ---- kill -9 during a burst of 200 applies ----------------------------------
: >"$tmp/acked"
(
	v=204
	for i in $(seq 200); do
		apply_body "k$i" $v >"$tmp/kbody"
		code=$(curl -s -o "$tmp/kout" -w '%{http_code}' -H "Authorization: Bearer $ADMIN" \
			--data-binary @"$tmp/kbody" "$URL/api/v1/policy/apply") || break
		[ "$code" = 200 ] || break
		v=$(jq .version "$tmp/kout")
		echo "$v k$i" >>"$tmp/acked"
	done
) &
bpid=$!
sleep $((RANDOM % 2 + 1)).$((RANDOM % 10))	# mid-burst: ~30 ms per apply
kill -9 "$PID"
wait "$PID" 2>/dev/null
PID=
wait $bpid
nacked=$(wc -l <"$tmp/acked")
start "$tmp/c.db" --insecure-http
lost=0
while read -r ver rev; do
	req GET "/api/v1/policy?version=$ver" "" "$ADMIN"
	[ "$CODE" = 200 ] && [ "$(jqo .document)" = "$(doc "$rev")" ] || lost=$((lost + 1))
done <"$tmp/acked"
check "kill -9: $nacked acknowledged applies, none lost" test "$nacked" -gt 0 -a "$lost" = 0
stop

# ---- TLS --------------------------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
	-keyout "$tmp/key.pem" -out "$tmp/cert.pem" >/dev/null 2>&1
start "$tmp/tls.db" --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$tmp/cert.pem" "https://127.0.0.1:$PORT/metrics")
check "https with --cacert" test "$code" = 200
code=$(curl -s -o /dev/null -w '%{http_code}' "https://127.0.0.1:$PORT/metrics")
check "https: unknown CA refused" test "$code" = 000
stop

# ---- apply -> every node: 50 long-polling nodes, 3 applies ----------------
# BUILD/tools/fanout enrolls sim0..sim49 through the API, parks one
# long-poll each, applies, and counts the nodes whose poll answered with
# the new version (bench/controller_fanout runs it with 100 and 1,000).
FANOUT=$(dirname "$BIN")/tools/fanout
if [ -x "$FANOUT" ]; then
	start "$tmp/fo.db" --insecure-http --admin-token-file "$tmp/fo.tok"
	for _ in $(seq 50); do [ -s "$tmp/fo.tok" ] && break; sleep 0.05; done
	fo=$(timeout 60 "$FANOUT" --url "$URL" --admin-token-file "$tmp/fo.tok" --nodes 50 \
		--rounds 3 --wait 10 2>&1 | grep '^fanout:')
	check "apply -> all 50 nodes have each of 3 new versions ($fo)" \
		grep -q 'got 150/150 ' <<<"$fo"
	req GET /api/v1/nodes "" "$(cat "$tmp/fo.tok")"
	check "the controller lists the 50 nodes" test "$(jqo '.nodes | length')" = 50
	stop
else
	echo "FAIL: $FANOUT not built" >&2
	failed=$((failed + 1))
fi

echo "figures: apply latency via curl p50 ${p50}s p99 ${p99}s (200 applies);" \
	"long-poll wake-up after apply ${wake_ms} ms; kill -9 burst: $nacked acked, $lost lost"
echo "test_api: $passed passed, $failed failed"
[ "$failed" = 0 ]
