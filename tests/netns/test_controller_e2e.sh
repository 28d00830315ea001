#!/bin/bash
# The control plane end to end: egress-controller on its SQLite store,
# egressctl apply/plan/versions/nodes/audit as an operator, and a real
# egressd that enrolls with a one-time token and long-polls. Apply -> the
# node runs the new version; a stale expected version and a bad policy are
# refused with nothing stored; rollback is a new version the node runs too;
# the controller down -> the node keeps its policy and keeps forwarding a
# wireguard-go client's traffic to an "internet" host (local breakout,
# NAT from its pool), also across a node restart, and catches up when the
# controller returns: the new version (default deny) then refuses a new
# session, so the catch-up is seen in the traffic too.
# Usage: tests/netns/test_controller_e2e.sh BUILD
. "$(dirname "$0")/lib.sh"

NS=$EG_P-ctl
IFN=$(ifname n)
PORT=18443
URL=http://127.0.0.1:$PORT
STATE=$EG_TMP/state
CTL=$EG_BUILD/egressctl

CLI=$EG_P-cli
INET=$EG_P-inet
CIF=$(ifname c)
SERVER=203.0.113.10
ns_add "$NS" "$CLI" "$INET"
key_new acc1; key_new cli
PUB=$(pub acc1)
# cli 198.18.7.2 -- 198.18.7.1 node (acc1) 198.18.7.5 -- 198.18.7.6 inet
veth_add "$NS" c0 "$CLI" n0
addr_add "$NS" c0 198.18.7.1/30
addr_add "$CLI" n0 198.18.7.2/30
veth_add "$NS" i0 "$INET" n0
addr_add "$NS" i0 198.18.7.5/30
addr_add "$INET" n0 198.18.7.6/30
addr_add "$INET" lo "$SERVER/32"
ip -n "$INET" route add 198.51.100.0/28 via 198.18.7.5
ip -n "$NS" route add 203.0.113.0/24 via 198.18.7.6
nsx "$NS" sysctl -qw net.ipv4.ip_forward=1 >/dev/null	# breakout: TUN -> i0

policy() {	# policy FILE DEFAULT_VERDICT
	cat >"$1" <<EOF
version: 1
regions: {eu: {countries: [DE]}}
nodes:
  acc1: {region: eu, roles: [access, egress], key: "$PUB", listen_port: 51820,
         links: [{name: internet}]}
pools: {default: {acc1: [198.51.100.0/28]}}
users:
  alice: {devices: [{name: laptop, key: "$(pub cli)", addresses: [100.64.1.2/32]}]}
default: $2
EOF
}
policy "$EG_TMP/p1.yaml" allow
policy "$EG_TMP/p2.yaml" deny
printf 'version: 1\nnodes: {acc1: {region: mars}}\n' >"$EG_TMP/bad.yaml"

start_controller() {
	eg_spawn controller ip netns exec "$NS" "$EG_BUILD/egress-controller" -f --insecure-http \
		--listen "127.0.0.1:$PORT" --db "$EG_TMP/c.db" --admin-token-file "$EG_TMP/admin.token"
	CPID=$EG_PID
	wait_for 5 "controller listening" listening "$NS" "$PORT" tcp
}
ctl() { nsx "$NS" env EGRESS_CONTROLLER="$URL" EGRESS_TOKEN="$(cat "$EG_TMP/admin.token")" \
	timeout 10 "$CTL" "$@"; }
node_version() { nsx "$NS" timeout 5 "$CTL" --json paths "$IFN" 2>/dev/null | jq -r .policy_version; }
node_runs() { [ "$(node_version)" = "$1" ]; }
start_node() {	# start_node [--enroll TOKEN]
	EG_IFS+=("$IFN")
	eg_spawn "$IFN" ip netns exec "$NS" "$EG_BUILD/egressd" -f --controller "$URL" \
		--node acc1 --state-dir "$STATE" "$@" "$IFN"
	NPID=$EG_PID
	eg_wait_uapi "$NPID" "$IFN" || die "egressd did not start"
	nsx "$NS" wg set "$IFN" private-key "$(keyfile acc1)"
	# The pool is NATed by egressd: replies to it go into its TUN.
	ip -n "$NS" link set "$IFN" up
	ip -n "$NS" route replace 198.51.100.0/28 dev "$IFN"
	nsx "$NS" sysctl -qw "net.ipv4.conf.$IFN.rp_filter=0" >/dev/null
}
# client_peer: (re)sets the client's one peer, so a restarted node gets a
# fresh handshake at the first packet.
client_peer() {
	nsx "$CLI" wg set "$CIF" peer "$PUB" remove
	nsx "$CLI" wg set "$CIF" private-key "$(keyfile cli)" peer "$PUB" \
		endpoint 198.18.7.1:51820 allowed-ips 0.0.0.0/0
}
start_client() {
	start_wggo "$CLI" "$CIF"
	addr_add "$CLI" "$CIF" 100.64.1.2/32
	ip -n "$CLI" link set "$CIF" up
	ip -n "$CLI" route add 203.0.113.0/24 dev "$CIF"
	client_peer
}

start_controller
check "bootstrap admin token written 0600" test "$(stat -c %a "$EG_TMP/admin.token")" = 600
check_match "apply version 1" "$(ctl apply "$EG_TMP/p1.yaml" --expected-version 0 --comment first)" 'version 1'
token=$(ctl --json enroll-token acc1 | jq -r .token)
check_match "one-time enrollment token" "$token" '^ege_'
start_node --enroll "$token"
wait_for 5 "the node runs version 1" node_runs 1
check "node credential saved 0600" test "$(stat -c %a "$STATE/acc1.credential")" = 600
start_client
check_ping "version 1: the client reaches $SERVER through the node" "$CLI" "$SERVER"

eg_log "apply: the node follows"
out=$(ctl plan "$EG_TMP/p2.yaml" 2>&1)
check_match "plan shows the change of the default verdict" "$out" 'default'
t0=$(now_ms)
check_match "apply version 2" "$(ctl apply "$EG_TMP/p2.yaml" --expected-version 1)" 'version 2'
wait_for 5 "the node runs version 2" node_runs 2
eg_log "apply -> node running: $(($(now_ms) - t0)) ms"
out=$(ctl apply "$EG_TMP/p1.yaml" --expected-version 1 2>&1); rc=$?
check "a stale expected version is refused" test "$rc" -ne 0
check_match "  and says the current version" "$out" '2'
out=$(ctl apply "$EG_TMP/bad.yaml" --expected-version 2 2>&1); rc=$?
check "a bad policy is refused" test "$rc" -ne 0
check_match "  with file:line:col" "$out" 'bad.yaml:2:[0-9]+: '
check_eq "nothing was stored" "$(ctl --json versions | jq '.versions | length')" 2

eg_log "rollback"
check_match "rollback to 1 is version 3" "$(ctl rollback 1 --expected-version 2)" 'version 3'
wait_for 5 "the node runs version 3" node_runs 3
check_eq "version 3's document is version 1's" \
	"$(ctl --json versions | jq -r '.versions[0].rollback_of')" 1
sleep 5.5	# one telemetry period
check_match "nodes: acc1 online, running 3" "$(ctl nodes)" 'acc1 +online +3'
check_match "audit: every change" "$(ctl audit | awk '{print $5}' | tr '\n' ' ')" \
	'policy.apply.*node.enroll.*policy.apply.*policy.rollback'

eg_log "fail-static"
stop_pid "$CPID"
sleep 1
check "the node keeps running with the controller down" pid_alive "$NPID"
check_eq "on version 3" "$(node_version)" 3
check_ping "controller down: the node still forwards" "$CLI" "$SERVER"
stop_pid "$NPID"
start_node
wait_for 5 "restarted node runs its saved version 3 with no controller" node_runs 3
client_peer
check_ping "controller down, node restarted: it forwards on its saved policy" "$CLI" "$SERVER"
start_controller
check_match "apply version 4 while the node waits" \
	"$(ctl apply "$EG_TMP/p2.yaml" --expected-version 3)" 'version 4'
wait_for 35 "the node catches up to version 4" node_runs 4
check "it says it caught up" grep -q "caught up with controller: version 4" "$EG_TMP/$IFN.log"
denied=$(stat_get "$IFN" sessions_denied)
check_not "version 4 (default deny) refuses a new session" ping1 "$CLI" "$SERVER"
check_gt "  counted as denied" "$(stat_get "$IFN" sessions_denied)" "${denied:-0}"

finish
