#!/bin/bash
# Classification and steering on the fabric topology: a wireguard-go client
# behind an access node, three egress nodes in two regions. Each traffic
# class goes where the policy says: latency (lowest RTT), cost (cheapest),
# compliance (stays in its region though another is faster), DSCP, port,
# destination country (.mmdb), domain learned from a DNS answer and from a
# TLS SNI; a deny rule drops and logs; `explain` agrees with the data path;
# a reload keeps pinned sessions; a malformed policy is refused with line
# and column while the old one keeps running. acc's /metrics (promtool
# clean) shows what the traffic moved: path and peer packets and bytes,
# path RTTs within the relays' delays, decisions and drops by reason, the
# flows egressctl lists.
# Usage: tests/netns/test_fabric_steering.sh BUILD
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fabric_lib.sh"
. "$(dirname "$0")/fabric_node.sh"

POLICY=$EG_TMP/policy.yaml

# flow_egress PROTO DST DPORT: where acc pinned the (first) matching flow.
flow_egress() { fab_flow_field "$1" "$2" "$3" egress; }
flow_class() { fab_flow_field "$1" "$2" "$3" class; }
# send_udp DST PORT [ARGS]: a short stream from the client; echoes back.
send_udp() {
	local dst=$1 port=$2; shift 2
	fab_stream "$NS_CLI" "$dst:$port" 50 0.4 --linger 300 "$@"
}
# check_steer DESC PROTO DST PORT CLASS EGRESS
check_steer() {
	check_eq "$1: class" "$(flow_class "$2" "$3" "$4")" "$5"
	check_eq "$1: egress" "$(flow_egress "$2" "$3" "$4")" "$6"
}

# acc's /metrics: scrape, mval, mdelta, path_m, check_rtt, flows_agree
# (tests/netns/fabric_node.sh).

fabric_topology_up
fabric_servers_up
fab_echo_servers 7001 7003 7004 7005
fab_mmdb
fab_policy_write "$POLICY"
nsx "$NS_ACC" "$EG_BUILD/egressd" --check-policy "$POLICY" >/dev/null 2>"$EG_TMP/check.log" ||
	die "policy does not validate: $(head -n 5 "$EG_TMP/check.log")"

# One-way delays: nyc1 is the fastest, then fra1 (internet), fra2; fra2 is
# the cheapest, nyc1 is out of the eu region.
impair_set nyc1 delay 1
impair_set fra1a delay 3
impair_set fra1b delay 8
impair_set fra2 delay 6
fab_nodes_up "$POLICY" "$ACC_METRICS"
sleep 1		# a few probes for the RTTs to settle

eg_log "probes: every path measured"
for p in "fra1 internet" "fra1 private" "fra2 internet" "nyc1 internet"; do
	set -- $p
	check_eq "$1 via $2 is up" "$(fab_path_field "$1" "$2" state)" up
done
regions_known() {
	ctl_json paths "$IF_ACC" | jq -r '[.regions[] | select(.rtt_ms != null) |
		.peer + ":" + .region] | sort | join(" ")'
}
poll 8 sh -c "'$EG_BUILD/egressctl' --json paths '$IF_ACC' | jq -e '[.regions[] | select(.rtt_ms != null)] | length == 6'"
check_eq "egress -> region RTTs reported by every egress" "$(regions_known)" \
	'fra1:eu fra1:us fra2:eu fra2:us nyc1:eu nyc1:us'
rtt_nyc1=$(fab_path_field nyc1 internet rtt_ms)
rtt_fra2=$(fab_path_field fra2 internet rtt_ms)
check "nyc1 RTT ($rtt_nyc1 ms) below fra2's ($rtt_fra2 ms)" \
	awk -v a="$rtt_nyc1" -v b="$rtt_fra2" 'BEGIN { exit !(a < b) }'

eg_log "metrics: path RTTs within the relays' delays (one way: 1, 3, 8, 6 ms)"
scrape m0
check_rtt nyc1 internet 0.002 0.1
check_rtt fra1 internet 0.006 0.1
check_rtt fra1 private 0.016 0.1
check_rtt fra2 internet 0.012 0.1
check_eq "metrics: fra2 via internet is up" \
	"$(mval m0 'egress_path_state{peer="fra2",path="internet",state="up"}')" 1

eg_log "latency, cost, compliance, port"
r=$(send_udp "$INET_EU4" 7000); check_match "latency class: echoes come back" "$r" 'received=[1-9]'
check_steer "latency class (port 7000)" udp "$INET_EU4" 7000 fast nyc1
scrape m1
sent=$(kv_get sent <<<"$r"); got=$(kv_get received <<<"$r")
check_ge "metrics: nyc1 via internet sent >= the $sent packets of the stream" \
	"$(mdelta m0 m1 "$(path_m tx_packets_total nyc1 internet)")" "${sent:-1}"
check_ge "metrics: and their bytes (92 each)" \
	"$(mdelta m0 m1 "$(path_m tx_bytes_total nyc1 internet)")" $((${sent:-1} * 92))
check_ge "metrics: nyc1 via internet received >= the $got echoes" \
	"$(mdelta m0 m1 "$(path_m rx_packets_total nyc1 internet)")" "${got:-1}"
check_eq "metrics: nothing sent over fra2 meanwhile" \
	"$(mdelta m0 m1 "$(path_m tx_packets_total fra2 internet)")" 0
check_ge "metrics: the client's peer: rx packets" \
	"$(mdelta m0 m1 "egress_peer_rx_packets_total{peer=\"$PUB_CLI\",name=\"alice-laptop\"}")" "${sent:-1}"
check_ge "metrics: sessions_total{result=new} moved" \
	"$(mdelta m0 m1 'egress_sessions_total{result="new"}')" 1
send_udp "$INET_EU4" 7001 >/dev/null
check_steer "cost class (port 7001)" udp "$INET_EU4" 7001 cheap fra2
send_udp "$INET_EU4" 7003 >/dev/null
check_steer "compliance class (DE destination, eu only)" udp "$INET_EU4" 7003 sovereign fra1
send_udp "$INET_US4" 7003 >/dev/null
check_eq "a US destination on port 7003 is not the DE class" \
	"$(flow_class udp "$INET_US4" 7003)" default

eg_log "local breakout"
r=$(send_udp "$INET_EU4" 7004)
check_match "breakout class: echoes come back" "$r" 'received=[1-9]'
check_eq "breakout: flow kind" "$(fab_flow_field udp "$INET_EU4" 7004 kind)" local
check_eq "breakout: acc is the egress" "$(flow_egress udp "$INET_EU4" 7004)" acc
check_match "breakout: NATed into acc's pool" "$(fab_flow_field udp "$INET_EU4" 7004 nat)" \
	'^198\.51\.100\.(49|[5-5][0-9]|6[0-2]):'
check_ge "acc counted a local breakout" "$(stat_get "$IF_ACC" sessions_local_breakout)" 1

eg_log "path MTU discovery through the egress NAT"
for ns in "$NS_FRA1" "$NS_FRA2" "$NS_NYC1"; do ip -n "$ns" link set inet mtu 1280; done
out=$(nsx "$NS_CLI" ping -n -M do -s 1372 -c 2 -i 0.3 -W 1 "$INET_EU4" 2>&1)
check_match "the client hears 'fragmentation needed' from beyond the NAT" "$out" 'mtu ?= ?1280'
icmp=$(( $(stat_get "$IF_FRA1" icmp_errors_returned) + $(stat_get "$IF_FRA2" icmp_errors_returned) + $(stat_get "$IF_NYC1" icmp_errors_returned) ))
check_ge "an egress un-NATed the ICMP error" "$icmp" 1
check_ge "acc returned it to the client" "$(stat_get "$IF_ACC" icmp_errors_returned)" 1
for ns in "$NS_FRA1" "$NS_FRA2" "$NS_NYC1"; do ip -n "$ns" link set inet mtu 1500; done

eg_log "DSCP"
send_udp "$INET_EU4" 7002 --tos 184 >/dev/null		# EF
check_steer "DSCP EF -> voice (eu only)" udp "$INET_EU4" 7002 voice fra1
send_udp "$INET_US4" 7002 >/dev/null
check_steer "same port without DSCP -> fast" udp "$INET_US4" 7002 fast nyc1

eg_log "domains"
nsx "$NS_CLI" dig +short +time=2 +tries=2 "@$INET_DNS4" meet.zoom.us A >"$EG_TMP/dig.out" 2>&1
check_eq "DNS answer through the fabric" "$(head -n 1 "$EG_TMP/dig.out")" "$INET_ZOOM4"
send_udp "$INET_ZOOM4" 7000 >/dev/null
check_steer "domain from a DNS answer (*.zoom.us)" udp "$INET_ZOOM4" 7000 zoom fra1
check_ge "acc learned DNS answers" "$(stat_get "$IF_ACC" dns_answers_learned)" 1
echo | nsx "$NS_CLI" timeout 5 openssl s_client -connect "$INET_TLS4:443" \
	-servername backup.example.com >"$EG_TMP/tls.log" 2>&1
check_ge "acc read the SNI of a ClientHello" "$(stat_get "$IF_ACC" sni_learned)" 1
send_udp "$INET_TLS4" 7000 >/dev/null
check_steer "domain from TLS SNI (backup.example.com)" udp "$INET_TLS4" 7000 backup fra2

eg_log "deny rule"
nsx "$NS_CLI" timeout 2 bash -c "echo > /dev/tcp/$INET_EU4/23" 2>/dev/null
check_eq "telnet is denied: flow kind" "$(fab_flow_field tcp "$INET_EU4" 23 kind)" denied
check_ge "acc counted the denied session" "$(stat_get "$IF_ACC" sessions_denied)" 1
check_ge "acc dropped its packets" "$(stat_get "$IF_ACC" drop_denied)" 1
check "a security event names user, rule and 5-tuple" grep -q \
	"\"event\":\"deny\".*\"user\":\"alice\".*\"dst\":\"$INET_EU4\",\"dport\":23,.*\"rule\":\"no-telnet\"" \
	"$FAB_EVENTS"
scrape m2
check_eq "metrics: drops{reason=drop_denied} as egressctl stats" \
	"$(mval m2 'egress_drops_total{reason="drop_denied"}')" "$(stat_get "$IF_ACC" drop_denied)"
check_ge "metrics: drops{reason=drop_denied} moved" \
	"$(mdelta m1 m2 'egress_drops_total{reason="drop_denied"}')" 1
check_ge "metrics: sessions{result=denied} moved" \
	"$(mdelta m1 m2 'egress_sessions_total{result="denied"}')" 1
check_eq "metrics: sessions{result=local_breakout} as egressctl stats" \
	"$(mval m2 'egress_sessions_total{result="local_breakout"}')" \
	"$(stat_get "$IF_ACC" sessions_local_breakout)"
poll 2 flows_agree m3
check_eq "metrics: egress_flows_active = the flows egressctl lists" \
	"$(mval m3 egress_flows_active)" "$(ctl_json flows "$IF_ACC" --limit 0 | jq '.flows | length')"

eg_log "explain agrees with the data path"
sport=$(fab_flow_field udp "$INET_EU4" 7000 sport)
ex=$(ctl_json explain "$IF_ACC" --flow "$OV_CLI4:$sport-$INET_EU4:7000/udp")
check_eq "explain: decision" "$(jq -r .decision.egress <<<"$ex")" nyc1
check_eq "explain: the live flow" "$(jq -r .flow.egress <<<"$ex")" nyc1
check_eq "explain: class" "$(jq -r .class <<<"$ex")" fast
check_eq "explain: rule" "$(jq -r .rule <<<"$ex")" everyone
check_eq "explain: 4 candidates (acc too)" "$(jq '.candidates | length' <<<"$ex")" 4
check_eq "explain: acc is not in the default pool" \
	"$(jq -r '.candidates[] | select(.node == "acc") | .result' <<<"$ex")" not-in-pool
ex=$(ctl_json explain "$IF_ACC" --user alice --dst "$INET_EU4:7003/udp")
check_eq "explain sovereign: nyc1 lost on region" \
	"$(jq -r '.candidates[] | select(.node == "nyc1") | .result' <<<"$ex")" region-not-allowed
nat=$(ctl_json flows "$IF_NYC1" --kind transit | jq -r '[.flows[] | select(.dport == 7000)][0].nat')
check_match "nyc1 NATed the flow into its pool" "$nat" '^198\.51\.100\.(3[2-9]|4[0-7]):'
check "human explain prints the decision" sh -c \
	"'$EG_BUILD/egressctl' explain '$IF_ACC' --user alice --dst '$INET_EU4:7001/udp' | grep -q fra2"

eg_log "IPv6 through the fabric"
r=$(fab_stream "$NS_CLI" "[$INET_EU6]:7000" 50 0.4 --linger 300)
check_match "IPv6 session echoes" "$r" 'received=[1-9]'
check_eq "IPv6 session egress" "$(fab_flow_field udp "$INET_EU6" 7000 egress)" nyc1

eg_log "reload keeps pinned sessions"
eg_spawn pinned fab_stream "$NS_CLI" "$INET_EU4:7005" 50 5 --bind "$OV_CLI4:40005"
sleep 1
check_eq "stream pinned to nyc1 before the reload" "$(flow_egress udp "$INET_EU4" 7005)" nyc1
FAB_CLASSES="$FAB_CLASSES_DEFAULT
  - name: late
    match: {ports: [7005]}
    objective: cost" fab_policy_write "$POLICY"
kill -HUP "$FAB_PID_ACC"
poll 3 sh -c "[ \"\$('$EG_BUILD/egressctl' stats '$IF_ACC' | awk '\$1==\"policy_reloads\"{print \$2}')\" = 1 ]" ||
	fail "acc did not reload"
check_eq "still on nyc1 after the reload" "$(flow_egress udp "$INET_EU4" 7005)" nyc1
send_udp "$INET_EU4" 7005 --bind "$OV_CLI4:40006" >/dev/null
check_eq "a new session takes the new class" \
	"$(ctl_json flows "$IF_ACC" --dst "$INET_EU4" | jq -r '.flows[] | select(.sport == 40006) | .egress')" fra2
wait "$EG_PID"
check_match "the pinned stream lost nothing across the reload" "$(tail -n 1 "$EG_TMP/pinned.log")" ' lost=0 '

eg_log "a malformed policy is refused; the old one keeps running"
cp "$POLICY" "$EG_TMP/good.yaml"
sed -i 's/^  eu: {countries: \[DE, FR\]/  eu: {countries: [DE, FR], colour: blue/' "$POLICY"
line=$(grep -n 'colour: blue' "$POLICY" | cut -d: -f1)
check_match "--check-policy names file:line:col" \
	"$("$EG_BUILD/egressd" --check-policy "$POLICY" 2>&1)" "policy.yaml:$line:[0-9]+: "
kill -HUP "$FAB_PID_ACC"
poll 3 sh -c "[ \"\$('$EG_BUILD/egressctl' stats '$IF_ACC' | awk '\$1==\"policy_reload_failures\"{print \$2}')\" = 1 ]"
check_eq "reload failure counted" "$(stat_get "$IF_ACC" policy_reload_failures)" 1
check "acc's log names line and column" grep -q "policy.yaml:$line:" "$EG_TMP/$IF_ACC.log"
r=$(send_udp "$INET_EU4" 7001 --bind "$OV_CLI4:40007")
check_match "traffic still flows on the old policy" "$r" 'received=[1-9]'
check_eq "and is still steered by it" \
	"$(ctl_json flows "$IF_ACC" --dst "$INET_EU4" | jq -r '.flows[] | select(.sport == 40007) | .egress')" fra2

finish
