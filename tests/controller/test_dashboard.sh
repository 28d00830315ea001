#!/bin/bash
# test_dashboard: the controller's dashboard page in a real browser. A
# controller on loopback gets a policy (two versions), two enrolled nodes
# and their telemetry (a path up at 12.3 ms, a path down, an egress ->
# region RTT, where sessions egress); headless Chromium loads
# http://127.0.0.1:PORT/#token=ADMIN and the DOM it leaves after the
# scripts ran must show all of it. A wrong token must show the refusal and
# stop asking; the token must never be in the page. A screenshot goes to
# BUILD/dashboard.png for human eyes.
#
# usage: tests/controller/test_dashboard.sh [BUILD]   (needs curl, jq;
# chromium, else every check is skipped). Prints "N passed, N failed".
set -u
BUILD=${1:-build}
BIN=$BUILD/egress-controller
[ -x "$BIN" ] || { echo "test_dashboard: $BIN not built"; echo "test_dashboard: 0 passed, 1 failed"; exit 1; }
for t in curl jq; do
	command -v $t >/dev/null || { echo "test_dashboard: needs $t"; echo "test_dashboard: 0 passed, 1 failed"; exit 1; }
done
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
	echo "skip - chromium not installed (mk/deps.sh installs it)"
	echo "test_dashboard: 0 passed, 0 failed"
	exit 0
fi
tmp=$(mktemp -d /tmp/test_dashboard.XXXXXX)
CHECK_OK=1
. "$(dirname "$0")/lib.sh"

cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null
	wait 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

# browse URL BUDGET_MS [chromium args]: the DOM after the page's scripts
# ran for BUDGET_MS of virtual time in $tmp/dom.raw, one line per element
# in $tmp/dom (args, e.g. --screenshot=FILE, replace --dump-dom).
browse() {
	local url=$1 budget=$2; shift 2
	[ $# -gt 0 ] || set -- --dump-dom
	timeout 20 "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --no-first-run \
		--disable-extensions --disable-dev-shm-usage --user-data-dir="$tmp/profile" \
		--virtual-time-budget="$budget" "$@" "$url" >"$tmp/dom.raw" 2>"$tmp/chromium.log"
	sed 's/></>\n</g' "$tmp/dom.raw" >"$tmp/dom"
}
has() { grep -qF -- "$1" "$tmp/dom"; }
# row ATTRS...: a <tr> line carrying every one of these attributes.
row() {
	local pat='<tr'
	for a in "$@"; do pat+=".* $a"; done
	grep -qE -- "$pat" "$tmp/dom"
}

# ---- a controller with a policy, two nodes and their telemetry -------------
start "$tmp/c.db" --insecure-http --admin-token-file "$tmp/admin.tok"
check "controller starts" test -n "$PORT"
ADMIN=$(cat "$tmp/admin.tok")

doc() {	# doc N: a small valid policy, different per N
	printf 'version: 1\n# revision %s\ngroups: [g1, g2]\nusers: {u1: {groups: [g1]}}\ndefault: allow\n' "$1"
}
apply() {	# apply N EXPECTED COMMENT
	req POST /api/v1/policy/apply "$(jq -cn --arg d "$(doc "$1")" --argjson e "$2" \
		--arg c "$3" '{document: $d, expected_version: $e, comment: $c}')" "$ADMIN"
}
apply 1 0 "first"
apply 2 1 "more <b>web</b> capacity"	# markup in data must stay text
check "two versions applied" test "$CODE" = 200 -a "$(jq -r .version <<<"$OUT")" = 2

enroll() {	# enroll NODE: prints its credential
	req POST /api/v1/tokens/enroll "{\"node\":\"$1\"}" "$ADMIN"
	req POST /api/v1/enroll "$(jq -cn --arg t "$(jq -r .token <<<"$OUT")" --arg n "$1" \
		'{token: $t, node: $n}')"
	jq -r .credential <<<"$OUT"
}
CRED_ACC=$(enroll acc1)
CRED_FRA=$(enroll fra1)

tel_acc='{"running_version":2,"policy_error":null,
 "paths":[
  {"peer":"fra1","path":"internet","index":0,"endpoint":"198.18.0.2:51820","state":"up",
   "since_s":312.5,"rtt_ms":12.3,"rttvar_ms":1.1,"jitter_ms":0.8,"loss_pct":0,
   "probes_sent":3000,"replies":2999,"best":true},
  {"peer":"fra1","path":"lan->private","index":1,"endpoint":"10.9.0.2:51820","state":"down",
   "since_s":41,"rtt_ms":null,"rttvar_ms":null,"jitter_ms":null,"loss_pct":100,
   "probes_sent":2900,"replies":2500,"best":false}],
 "counters":{"sessions_new":14,"sessions_denied":2},
 "regions":[],
 "egress_summary":[
  {"egress":"fra1","class":"web","flows":12,"denied":false,"transit":false},
  {"egress":null,"class":"web","flows":2,"denied":true,"transit":false}]}'
tel_fra='{"running_version":1,"policy_error":"t.yaml:3:1: <script>alert(1)</script>",
 "paths":[],"counters":{"sessions_new":0},
 "regions":[{"node":"fra1","region":"eu","rtt_ms":8.4,"loss_pct":0.5}],
 "egress_summary":[{"egress":"fra1","class":"web","flows":12,"denied":false,"transit":true}]}'
req POST /api/v1/node/telemetry "$tel_acc" "$CRED_ACC" -H "X-Egress-Node: acc1"
c1=$CODE
req POST /api/v1/node/telemetry "$tel_fra" "$CRED_FRA" -H "X-Egress-Node: fra1"
check "telemetry of both nodes accepted (with egress_summary)" test "$c1" = 200 -a "$CODE" = 200

# ---- the page with the admin token in its fragment ---------------------------
fails_before=$(audit_count auth.fail)
t0=$(date +%s%N)
browse "$URL/#token=$ADMIN" 3000
t1=$(date +%s%N)
load_ms=$(((t1 - t0) / 1000000))
check "page loaded its data (status live)" has '<body data-state="ok">'
check "summary: policy v2" grep -qE 'id="sum-policy".*<strong>v2</strong>' "$tmp/dom.raw"
check "summary: 2/2 nodes online" grep -qE 'id="sum-nodes".*<strong>2/2</strong>' "$tmp/dom.raw"
check "summary: 14 flows (transit not counted twice)" grep -qE 'id="sum-flows".*<strong>14</strong>' "$tmp/dom.raw"
check "summary: last change (the last enrollment)" grep -qE 'id="sum-change".*<strong>node.enroll</strong>' "$tmp/dom.raw"
check "nodes: acc1 online" row 'data-node="acc1"' 'data-online="true"'
check "nodes: fra1 online" row 'data-node="fra1"' 'data-online="true"'
check "nodes: fra1 behind (running v1, current v2)" \
	grep -qE 'data-node="fra1".*data-running="1">v1 <span[^>]*data-state="behind">behind v2<' "$tmp/dom.raw"
check "nodes: policy error shown as text" has '&lt;script&gt;alert(1)&lt;/script&gt;'
check "paths: internet up at 12.3 ms" \
	grep -qE '<tr data-node="acc1" data-peer="fra1" data-path="internet" data-state="up">.*<td class="num">12.3</td>' "$tmp/dom.raw"
check "paths: lan->private down, listed first" \
	bash -c "grep -o 'data-path=\"[^\"]*\" data-state=\"[a-z]*\"' '$tmp/dom' | head -n 1 | grep -q 'data-state=\"down\"'"
check "paths: down badge" grep -qE 'data-path="lan-&gt;private" data-state="down">.*class="state state-down" data-state="down">down<' "$tmp/dom.raw"
check "egress: acc1 -> fra1 web 12 flows" row 'data-node="acc1"' 'data-egress="fra1"' 'data-class="web"' 'data-flows="12"'
check "egress: denied row" grep -qE 'data-node="acc1" data-egress="" data-class="web" data-flows="2">.*denied' "$tmp/dom.raw"
check "egress: transit row on fra1" grep -qE 'data-node="fra1" data-egress="fra1".*carried for other nodes' "$tmp/dom.raw"
check "regions: fra1 -> eu 8.4 ms" grep -qE 'data-node="fra1" data-region="eu">.*<td class="num">8.4</td>' "$tmp/dom.raw"
check "changes: the applies, newest first" \
	bash -c "grep -o 'data-action=\"policy.apply\"' '$tmp/dom' | wc -l | grep -qx 2"
check "changes: comment shown as text" has 'more &lt;b&gt;web&lt;/b&gt; capacity'
check "changes: node enrollments" row 'data-action="node.enroll"'
check "versions: v2 current, v1" bash -c "grep -q 'data-version=\"2\"' '$tmp/dom' && grep -q 'data-version=\"1\"' '$tmp/dom'"
check "shows when data was last loaded" grep -qE 'id="loaded"[^>]*>loaded [0-9]{2}:[0-9]{2}:[0-9]{2}' "$tmp/dom.raw"
check "no token text in the page" bash -c "! grep -qF '${ADMIN:4:24}' '$tmp/dom.raw'"
check "no refused request from the page" test "$(audit_count auth.fail)" = "$fails_before"
check "no injected element" bash -c "! grep -qiE '<script>alert|<b>web' '$tmp/dom.raw'"

browse "$URL/#token=$ADMIN" 3000 --window-size=1400,1000 --screenshot="$BUILD/dashboard.png"
check "screenshot $BUILD/dashboard.png" test -s "$BUILD/dashboard.png"

# ---- a wrong token: the refusal, and no retries -------------------------------
fails_before=$(audit_count auth.fail)
browse "$URL/#token=ega_0000000000000000_$(printf '%064d' 0)" 12000
check "wrong token: 401: token refused" grep -qE 'id="status" data-state="refused">401: token refused' "$tmp/dom.raw"
fails=$(($(audit_count auth.fail) - fails_before))
check "wrong token: one request, no retry in 12 s ($fails auth.fail)" test "$fails" = 1
browse "$URL/" 2000
check "no token: asks for one" has 'no token: paste an admin token'

# ---- a long audit log: the page finds its end -------------------------------
# 1,100 more rows (enrollment tokens, one connection), then an apply: the
# page must show the newest 20 changes, the apply first.
curl -s -o /dev/null -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
	-d '{"node":"bulk"}' "$URL/api/v1/tokens/enroll?n=[1-1100]"
apply 3 2 "after the flood"
req GET "/api/v1/audit?since=1100&limit=1000" "" "$ADMIN"
last_id=$(jq '.entries[-1].id' <<<"$OUT")
browse "$URL/#token=$ADMIN" 3000
check "long log: newest change first (id $last_id, the apply)" \
	grep -qE "<tr data-id=\"$last_id\" data-action=\"policy.apply\">.*v3 \(was v2\)" "$tmp/dom.raw"
check "long log: 20 changes shown" \
	bash -c "test \$(grep -c '<tr data-id=' '$tmp/dom') = 20"
check "long log: ids count down" \
	bash -c "grep -o '<tr data-id=\"[0-9]*\"' '$tmp/dom' | tr -dc '0-9\n' | sort -rnc"

kill "$PID" 2>/dev/null
wait "$PID" 2>/dev/null
PID=
check "clean stop (no sanitizer report)" bash -c "! grep -qE 'Sanitizer|runtime error' '$tmp/log'"

echo "figures: dashboard loaded and rendered in headless chromium in ${load_ms} ms (process start included)"
echo "test_dashboard: $passed passed, $failed failed"
[ "$failed" = 0 ]
