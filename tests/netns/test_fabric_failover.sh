#!/bin/bash
# Path health and failover on the fabric topology: 5 % random loss on a
# link flaps nothing; pinned sessions stay put when a better path appears
# while new sessions follow the change of delay; a blackholed underlay moves
# a 100 packets/s UDP stream to the egress's other underlay with at most
# 300 ms of loss; a TCP transfer survives losing one of its egress's two
# underlays; when an egress loses every path its sessions move to another.
# acc's /metrics (promtool clean) agrees: RTTs within the relays' delays,
# a cut path's state down, failovers by reason moved by the sessions that
# moved, per-path packets at least what the stream sent, egress_flows_active
# equal to what egressctl lists.
# Usage: tests/netns/test_fabric_failover.sh BUILD
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fabric_lib.sh"
. "$(dirname "$0")/fabric_node.sh"

POLICY=$EG_TMP/policy.yaml
MAX_OUTAGE_MS=${MAX_OUTAGE_MS:-300}

flow_of_port() {	# flow_of_port PORT FIELD: acc's flow to INET_EU4:PORT
	fab_flow_field udp "$INET_EU4" "$1" "$2"
}
result() { tail -n 1 "$EG_TMP/$1.log"; }
path_state() { fab_path_field "$1" "$2" state; }
path_is_up() { [ "$(path_state "$1" "$2")" = up ]; }

# acc's /metrics: scrape, mval, mdelta, path_m, check_rtt, flows_agree
# (tests/netns/fabric_node.sh).
state_m() { echo "egress_path_state{peer=\"$1\",path=\"$2\",state=\"$3\"}"; }
FAILOVER_PATH='egress_failovers_total{kind="same_egress",reason="path_down"}'
FAILOVER_EGRESS='egress_failovers_total{kind="other_egress",reason="egress_down"}'

fabric_topology_up
fabric_servers_up
fab_echo_servers 7001 7003 7005
fab_mmdb
fab_policy_write "$POLICY"
impair_set fra1a delay 2
impair_set fra1b delay 4
impair_set fra2 delay 10
impair_set nyc1 delay 15
fab_nodes_up "$POLICY" "$ACC_METRICS"
sleep 1
scrape m0
check_rtt fra2 internet 0.020 0.2
check_rtt nyc1 internet 0.030 0.2

eg_log "5% random loss on a link flaps nothing"
changes0=$(fab_state_changes)
impair_set fra2 loss 5
eg_spawn lossy fab_stream "$NS_CLI" "$INET_EU4:7001" 100 8		# cheap -> fra2
sleep 1
check_eq "the lossy stream goes to fra2" "$(flow_of_port 7001 egress)" fra2
wait "$EG_PID"
check_eq "no path changed state" "$(fab_state_changes)" "$changes0"
check_eq "fra2 is still up" "$(path_state fra2 internet)" up
check_eq "the stream stayed on fra2" "$(flow_of_port 7001 egress)" fra2
loss=$(fab_path_field fra2 internet loss_pct)
check "fra2's measured loss ($loss%) shows the impairment" \
	awk -v l="$loss" 'BEGIN { exit !(l > 2 && l < 25) }'
impair_set fra2 loss 0

eg_log "pinned sessions stay; new sessions follow a change of delay"
eg_spawn pinned fab_stream "$NS_CLI" "$INET_EU4:7000" 50 6 --bind "$OV_CLI4:41000"
sleep 0.5
check_eq "fast class starts on fra1" "$(flow_of_port 7000 egress)" fra1
impair_set fra1a delay 25
impair_set fra1b delay 25
impair_set fra2 delay 1
sleep 2.5		# more than switch_hold (1 s) of fra2 being better
check_eq "the running session did not move" \
	"$(ctl_json flows "$IF_ACC" | jq -r '.flows[] | select(.sport == 41000) | .egress')" fra1
fab_stream "$NS_CLI" "$INET_EU4:7000" 50 0.3 --bind "$OV_CLI4:41001" >/dev/null
check_eq "a new session takes fra2, now the fastest" \
	"$(ctl_json flows "$IF_ACC" | jq -r '.flows[] | select(.sport == 41001) | .egress')" fra2
wait "$EG_PID"
check_match "the pinned stream lost nothing" "$(result pinned)" ' lost=0 '
impair_set fra1a delay 2
impair_set fra1b delay 4
impair_set fra2 delay 10
sleep 1

eg_log "a blackholed underlay: the UDP stream moves to fra1's other link"
failover0=$(stat_get "$IF_ACC" failover_same_egress)
scrape m1
eg_spawn blackhole fab_stream "$NS_CLI" "$INET_EU4:7003" 100 4	# sovereign -> fra1
sleep 1
check_eq "stream on fra1 via internet" "$(flow_of_port 7003 path)" internet
fabric_blackhole fra1a on
sleep 1
check_eq "fra1 via internet is down" "$(path_state fra1 internet)" down
check_eq "the stream moved to fra1 via private" "$(flow_of_port 7003 path)" private
check_eq "same egress" "$(flow_of_port 7003 egress)" fra1
wait "$EG_PID"
r=$(result blackhole)
gap=$(kv_get max_gap_ms <<<"$r")
eg_log "blackhole: $r"
check "outage ${gap} ms <= ${MAX_OUTAGE_MS} ms" \
	awk -v g="$gap" -v m="$MAX_OUTAGE_MS" 'BEGIN { exit !(g != "" && g <= m) }'
check_gt "failover_same_egress counted" "$(stat_get "$IF_ACC" failover_same_egress)" "$failover0"
scrape m2
sent=$(kv_get sent <<<"$r")
check_eq "metrics: fra1 via internet's state is down" "$(mval m2 "$(state_m fra1 internet down)")" 1
check_eq "metrics: failovers{same_egress,path_down} moved by the 1 session moved" \
	"$(mdelta m1 m2 "$FAILOVER_PATH")" 1
check_eq "metrics: failovers as egressctl stats" \
	"$(mval m2 "$FAILOVER_PATH")" "$(stat_get "$IF_ACC" failover_same_egress)"
tx_inet=$(mdelta m1 m2 "$(path_m tx_packets_total fra1 internet)")
tx_priv=$(mdelta m1 m2 "$(path_m tx_packets_total fra1 private)")
check_ge "metrics: fra1's two paths sent >= the $sent packets of the stream" \
	$((tx_inet + tx_priv)) "${sent:-1}"
check_gt "metrics: fra1 via private carried it after the cut" "$tx_priv" 0
check_gt "metrics: replies came back over fra1 via private" \
	"$(mdelta m1 m2 "$(path_m rx_packets_total fra1 private)")" 0
fabric_blackhole fra1a off
wait_for 5 "fra1 via internet back up" path_is_up fra1 internet

eg_log "a TCP transfer survives losing one of two underlays"
eg_spawn iperf ip netns exec "$NS_CLI" iperf3 -c "$INET_EU4" -p "$FAB_IPERF_PORT" -t 4 -J
sleep 1.5
check_eq "bulk transfer on fra1" "$(fab_flow_field tcp "$INET_EU4" 5201 egress)" fra1
fabric_blackhole fra1a on
wait "$EG_PID"; rc=$?
check_eq "iperf3 finished" "$rc" 0
tail_bytes=$(jq '[.intervals[-1].sum.bytes] | .[0] // 0' "$EG_TMP/iperf.log" 2>/dev/null)
check_gt "data still moved in the last second" "${tail_bytes:-0}" 0
fabric_blackhole fra1a off

eg_log "an egress with every path down: its sessions move to another egress"
other0=$(stat_get "$IF_ACC" failover_other_egress)
scrape m3
eg_spawn dead fab_stream "$NS_CLI" "$INET_EU4:7001" 100 3 --bind "$OV_CLI4:41002"
sleep 0.8
check_eq "cost stream on fra2" \
	"$(ctl_json flows "$IF_ACC" | jq -r '.flows[] | select(.sport == 41002) | .egress')" fra2
fabric_blackhole fra2 on
wait "$EG_PID"
check_gt "failover_other_egress counted" "$(stat_get "$IF_ACC" failover_other_egress)" "$other0"
eg_egress=$(ctl_json flows "$IF_ACC" | jq -r '.flows[] | select(.sport == 41002) | .egress')
check_match "it moved off fra2" "$eg_egress" '^(fra1|nyc1)$'
gap=$(result dead | kv_get max_gap_ms)
eg_log "egress lost: outage $gap ms (a new egress means a new NAT address: UDP only)"
scrape m4
check_eq "metrics: fra2 via internet's state is down" "$(mval m4 "$(state_m fra2 internet down)")" 1
check_eq "metrics: failovers{other_egress,egress_down} moved as egressctl stats" \
	"$(mdelta m3 m4 "$FAILOVER_EGRESS")" $(($(stat_get "$IF_ACC" failover_other_egress) - other0))
check_ge "metrics: failovers{other_egress,egress_down} moved by the session moved" \
	"$(mdelta m3 m4 "$FAILOVER_EGRESS")" 1
fabric_blackhole fra2 off
poll 2 flows_agree m5
check_eq "metrics: egress_flows_active = the flows egressctl lists" \
	"$(mval m5 egress_flows_active)" "$(ctl_json flows "$IF_ACC" --limit 0 | jq '.flows | length')"

finish
