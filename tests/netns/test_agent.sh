#!/bin/bash
# egressd as a node of a controller (docs/agent.md), against the fake
# controller (tests/agent/fake_controller.py) on loopback in one namespace:
# enroll with a one-time token (credential saved 0600), policy version 1
# applied, version 2 applied within a second of its publish, controller
# down -> the node keeps version 2 and retries with backoff, node restarted
# while the controller is down -> it starts from the saved policy,
# controller back -> catches up to version 3 and says so; telemetry POSTs
# carry paths and counters, and the answer's region metrics arrive.
# Usage: tests/netns/test_agent.sh BUILD
. "$(dirname "$0")/lib.sh"

CTL=127.0.0.1:8700
FAKE=$(cd "$(dirname "$0")/../agent" && pwd)/fake_controller.py

if ! is_egressd; then
	skip "agent: wireguard-go has no controller agent (EG_IMPL=wggo)"
	finish
fi
if ! "$EG_BUILD/egressd" --help 2>&1 | grep -q -- '--controller'; then
	skip "agent: this egressd has no --controller option"
	finish
fi
command -v python3 >/dev/null 2>&1 || { skip "agent: no python3"; finish; }

N="$EG_P-n"
ns_add "$N"
ifn=$(ifname a)
EG_IFS+=("$ifn")
state=$EG_TMP/state

# policy V ADDR: a one-node policy whose device address tells versions apart.
policy() {
	cat >"$EG_TMP/policy$1.yaml" <<YAML
version: 1
regions:
  eu: {countries: [DE]}
nodes:
  acc1:
    region: eu
    roles: [access, egress]
    key: aa6DuoxgacIOcPVT04KoXBwBRviRMR9Tnjb6Xf5syzw=
    links: [{name: internet}]
pools:
  default: {acc1: [198.51.100.0/28]}
users:
  alice:
    devices: [{name: laptop, key: TOAYmQD0Iyq+PTa0+PqjNNik0t0K67HIEuEW7aqdBIE=, addresses: [$2/32]}]
rules:
  - {name: r1, action: allow, users: [alice]}
YAML
}
policy 1 100.64.1.2; policy 2 100.64.1.3; policy 3 100.64.1.4

start_fake() {
	eg_spawn fake ip netns exec "$N" python3 "$FAKE" --listen "$CTL" --state "$EG_TMP/fake.json" \
		--telemetry-log "$EG_TMP/telemetry.jsonl" "$@"
	FAKE_PID=$EG_PID
	wait_for 5 "fake controller listens" listening "$N" "${CTL##*:}" tcp
}
start_node() {
	eg_spawn "$ifn" ip netns exec "$N" "$EG_BUILD/egressd" -f --controller "http://$CTL" \
		--node acc1 --state-dir "$state" "$@" "$ifn"
	NODE_PID=$EG_PID
	eg_wait_uapi "$NODE_PID" "$ifn"
}
# publish V [QUERY]: the fake controller's next version is policyV.yaml.
publish() {
	nsx "$N" curl -sS -m 5 -X POST --data-binary @"$EG_TMP/policy$1.yaml" \
		"http://$CTL/_fake/publish${2:+?$2}" >/dev/null
}
running_version() {
	nsx "$N" "$EG_BUILD/egressctl" paths "$ifn" --json 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["policy_version"])' 2>/dev/null
}
runs() { [ "$(running_version)" = "$1" ]; }
logged() { grep -q -- "$1" "$EG_TMP/$ifn.log"; }
count_lines() { grep -c -- "$1" "$EG_TMP/$ifn.log"; }

# ---- enroll, version 1
start_fake --token ege_test1 --node acc1 --publish "$EG_TMP/policy1.yaml"
start_node --enroll ege_test1
wait_for 5 "node runs version 1" runs 1 && ok "policy version 1 applied"
check "credential saved" test -s "$state/acc1.credential"
check_eq "credential mode" "$(stat -c %a "$state/acc1.credential")" 600
check_match "credential is a node credential" "$(head -c 4 "$state/acc1.credential")" '^egn_$'
check_eq "saved version" "$(cat "$state/acc1.policy.version")" 1
check "wg peer of version 1" sh -c "wg show '$ifn' allowed-ips | grep -q 100.64.1.2/32"

# ---- publish version 2: applied within about a second
t0=$(now_ms)
publish 2
wait_for 5 "node runs version 2" runs 2
dt=$(($(now_ms) - t0))
check_le "publish -> running version 2 (ms)" "$dt" 1500
eg_log "publish to running: ${dt} ms"
check "wg peer of version 2" sh -c "wg show '$ifn' allowed-ips | grep -q 100.64.1.3/32"
check_eq "saved version" "$(cat "$state/acc1.policy.version")" 2

# ---- telemetry
wait_for 8 "telemetry with version 2" grep -q '"running_version": 2' "$EG_TMP/telemetry.jsonl"
check "telemetry has paths and counters" python3 - "$EG_TMP/telemetry.jsonl" <<'PY'
import json, sys
t = [json.loads(l)["telemetry"] for l in open(sys.argv[1])]
last = t[-1]
assert isinstance(last["paths"], list), last
assert "policy_reloads" in last["counters"] and "sessions_new" in last["counters"], last
assert isinstance(last["regions"], list)
PY
check "region metrics from the controller reach the node" logged "controller region metrics: 1 entries"

# ---- controller down: the node stays on version 2 and backs off
stop_pid "$FAKE_PID"
wait_for 10 "three retries logged" sh -c "[ \$(grep -c 'controller unreachable' '$EG_TMP/$ifn.log') -ge 3 ]"
check "backoff grows" sh -c "grep 'controller unreachable' '$EG_TMP/$ifn.log' | grep -q 'failure 3'"
check "node still running" pid_alive "$NODE_PID"
check "still version 2" runs 2

# ---- restart while down: starts from the saved policy
stop_pid "$NODE_PID"
mv "$EG_TMP/$ifn.log" "$EG_TMP/first-run.log"	# finish() scans both
start_node
wait_for 3 "node runs saved version 2" runs 2 && ok "restarted from saved policy version 2"
check "says so" logged "started from saved policy version 2"
wait_for 5 "a retry after restart" logged "controller unreachable"

# ---- controller back with version 3: caught up
start_fake --publish "$EG_TMP/policy3.yaml"
wait_for 35 "node runs version 3" runs 3 && ok "caught up to version 3"
wait_for 3 "caught up logged" logged "caught up with controller: version 3" &&
	ok "logged: caught up with controller: version 3"
check_eq "saved version" "$(cat "$state/acc1.policy.version")" 3

# ---- a policy the node cannot run: refused, version 3 stays, telemetry says
sed 's/^nodes:/nodes:\n  bogus: {region: nowhere}/' "$EG_TMP/policy3.yaml" >"$EG_TMP/policy4.yaml"
publish 4
wait_for 5 "refusal logged" logged "refused"
check "still version 3" runs 3
check_eq "saved version after a refused one" "$(cat "$state/acc1.policy.version")" 3
wait_for 8 "telemetry reports the error" grep -q '"policy_error": "version 4' "$EG_TMP/telemetry.jsonl"

# ---- a document that does not match its digest is not applied
publish 2 bad_digest=1
wait_for 5 "digest mismatch logged" logged "does not match its digest"
check "still version 3 after a damaged document" runs 3

# ---- clean stop
t0=$(now_ms)
stop_pid "$NODE_PID"
check_le "SIGTERM -> exit (ms)" "$(($(now_ms) - t0))" 2500
check "shut down cleanly" logged "shutting down"
finish
