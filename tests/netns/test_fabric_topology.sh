#!/bin/bash
# The fabric test topology itself, without egressd: every underlay link and
# route answers, each impairment relay forwards UDP both ways, its delay is
# what was asked (and changes live), its loss rate is near the one set, a
# blackhole (relay, nftables or link down) stops a stream and lifting it
# restores it; dnsmasq answers and the TLS server completes a handshake.
# Usage: tests/netns/test_fabric_topology.sh BUILD
# netns: no egressd
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fabric_lib.sh"

RTT_TOL=${RTT_TOL:-8}	# ms a loaded 2-core machine may add to an RTT

# within DESC VALUE LO HI: LO <= VALUE <= HI, decimals allowed.
within() {
	if awk -v v="$2" -v lo="$3" -v hi="$4" 'BEGIN { exit !(v != "" && v >= lo && v <= hi) }'
	then ok "$1 ($2 in [$3, $4])"; else fail "$1: got '$2', want [$3, $4]"; fi
}
# stream_bg LOG NS TO RATE SECONDS [ARGS...]: fab_stream in the background,
# its line in $EG_TMP/LOG.log; its pid in EG_PID.
stream_bg() {
	local log=$1; shift
	eg_spawn "$log" fab_stream "$@"
}
result() { tail -n 1 "$EG_TMP/$1.log"; }
# echoes NS TO: a short stream through TO gets at least one echo back.
echoes() {
	local got
	got=$(fab_stream "$1" "$2" 50 0.2 --linger 200 | kv_get received)
	[ "${got:-0}" -gt 0 ]
}

fabric_topology_up
fabric_servers_up

eg_log "underlay: every link, both families"
check "cli -> acc" ping1 "$NS_CLI" "$ACC_CLI_U4"
check "cli -> acc (IPv6)" ping1 "$NS_CLI" "$ACC_CLI_U6"
for n in FRA1A FRA1B FRA2 NYC1; do
	a4=${n}_U4 a6=${n}_U6
	check "acc -> ${n,,} ${!a4}" ping1 "$NS_ACC" "${!a4}"
	check "acc -> ${n,,} ${!a6}" ping1 "$NS_ACC" "${!a6}"
done
for n in FRA1 FRA2 NYC1; do
	ns=NS_$n p4=${n}_POOL4_ADDR p6=${n}_POOL6_ADDR
	check "${n,,} -> inet $INET_EU4" ping1 "${!ns}" "$INET_EU4"
	check "${n,,} -> inet $INET_US6" ping1 "${!ns}" "$INET_US6"
	check "${n,,} pool ${!p4} -> inet (return route)" ping1 "${!ns}" "$INET_US4" -I "${!p4}"
	check "${n,,} pool ${!p6} -> inet (return route)" ping1 "${!ns}" "$INET_EU6" -I "${!p6}"
done
check_not "cli has no way to inet" ping1 "$NS_CLI" "$INET_EU4"
check_not "acc has no way to inet" ping1 "$NS_ACC" "$INET_EU4"

eg_log "relays: UDP through each, both ways (echo on the egress's WireGuard port)"
for ns in "$NS_FRA1" "$NS_FRA2" "$NS_NYC1"; do
	eg_spawn "echo-${ns##*-}" ip netns exec "$ns" "$FAB_UDP_STREAM" recv --echo \
		--listen "0.0.0.0:$FAB_WG_PORT" --duration 40
	eg_spawn "echo6-${ns##*-}" ip netns exec "$ns" "$FAB_UDP_STREAM" recv --echo \
		--listen "[::]:$FAB_WG_PORT" --duration 40
done
for ns in "$NS_FRA1" "$NS_FRA2" "$NS_NYC1"; do
	wait_for 5 "echo in $ns" listening "$ns" "$FAB_WG_PORT" udp
done
declare -A SPID=()
for l in $FAB_LINKS; do
	ep=RELAY_${l^^}_EP
	stream_bg "fwd-$l" "$NS_ACC" "${!ep}" 500 0.2 --linger 300
	SPID[$l]=$EG_PID
done
for l in $FAB_LINKS; do
	wait "${SPID[$l]}"
	check_eq "relay $l: 100 datagrams there and back" "$(result "fwd-$l" | kv_get received)" 100
	check_ge "relay $l: forwarded up" "$(impair_stat "$l" fwd_up)" 100
done

eg_log "a relay over the IPv6 underlay, started by a test"
addr_add "$NS_ACC" lo 2001:db8:1:201::21/128
fabric_relay_start fra2v6 "[2001:db8:1:201::21]:$FAB_WG_PORT" "[$FRA2_U6]:$FAB_WG_PORT" --delay 5
line=$(fab_stream "$NS_ACC" "[2001:db8:1:201::21]:$FAB_WG_PORT" 200 0.5 --linger 300)
check_eq "IPv6 relay: 100 datagrams there and back" "$(kv_get received <<<"$line")" 100
within "IPv6 relay, delay 5: mean RTT" "$(kv_get rtt_avg_ms <<<"$line")" 10 $((10 + RTT_TOL))
fabric_relay_stop fra2v6

eg_log "delay: 20 ms each way, then changed live"
impair_set fra2 delay 20
line=$(fab_stream "$NS_ACC" "$RELAY_FRA2_EP" 100 1 --linger 300)
eg_log "delay 20: $line"
within "fra2 delay 20: min RTT" "$(kv_get rtt_min_ms <<<"$line")" 40 $((40 + RTT_TOL))
within "fra2 delay 20: mean RTT" "$(kv_get rtt_avg_ms <<<"$line")" 40 $((40 + RTT_TOL))
check_eq "fra2 delay 20: nothing lost" "$(kv_get lost <<<"$line")" 0
check_eq "fra2 delay 20: order kept" "$(kv_get reordered <<<"$line")" 0
stream_bg live "$NS_ACC" "$RELAY_FRA2_EP" 100 2 --linger 300
sleep 1
impair_set fra2 delay 50
wait "$EG_PID"
line=$(result live)
eg_log "delay 20 -> 50 at 1 s: $line"
within "fra2 live change: min RTT still 40" "$(kv_get rtt_min_ms <<<"$line")" 40 $((40 + RTT_TOL))
within "fra2 live change: max RTT now 100" "$(kv_get rtt_max_ms <<<"$line")" 100 $((100 + 3 * RTT_TOL))
check_eq "fra2 live change: order kept" "$(kv_get reordered <<<"$line")" 0
impair_set fra2 delay 20
impair_set fra2 jitter 5
line=$(fab_stream "$NS_ACC" "$RELAY_FRA2_EP" 200 1 --linger 300)
eg_log "delay 20 jitter 5: $line"
within "fra2 jitter 5: min RTT" "$(kv_get rtt_min_ms <<<"$line")" 30 45
within "fra2 jitter 5: max RTT" "$(kv_get rtt_max_ms <<<"$line")" 45 $((50 + 3 * RTT_TOL))
within "fra2 jitter 5: mean RTT" "$(kv_get rtt_avg_ms <<<"$line")" 37 $((43 + RTT_TOL))
impair_set fra2 jitter 0
impair_set fra2 delay 0

eg_log "loss: 20% each way over 1000 datagrams"
s0=$(impair_stats nyc1)
impair_set nyc1 loss 20
line=$(fab_stream "$NS_ACC" "$RELAY_NYC1_EP" 1000 1 --linger 300)
impair_set nyc1 loss 0
s1=$(impair_stats nyc1)
eg_log "loss 20: $line"
for d in up down; do
	rx=$(($(kv_get "rx_$d" <<<"$s1") - $(kv_get "rx_$d" <<<"$s0")))
	lost=$(($(kv_get "loss_$d" <<<"$s1") - $(kv_get "loss_$d" <<<"$s0")))
	within "nyc1 loss 20: dropped $d, % of $rx" "$((lost * 100 / (rx ? rx : 1)))" 15 25
done
# Both ways at 20%: 0.8 * 0.8 = 64% come back.
within "nyc1 loss 20: echoes back of 1000" "$(kv_get received <<<"$line")" 560 720

eg_log "blackhole: 1 s cut in a 3 s stream, by relay / nft / link down"
declare -A HOW=([fra1a]=relay [fra1b]=nft [nyc1]=link)
for l in fra1a fra1b nyc1; do
	ep=RELAY_${l^^}_EP
	stream_bg "bh-$l" "$NS_ACC" "${!ep}" 200 3 --linger 500
	SPID[$l]=$EG_PID
done
sleep 1
for l in fra1a fra1b nyc1; do check "blackhole $l on (${HOW[$l]})" fabric_blackhole "$l" on "${HOW[$l]}"; done
check_not "blackholed relay fra1a: no echo" echoes "$NS_ACC" "$RELAY_FRA1A_EP"
sleep 0.8
for l in fra1a fra1b nyc1; do check "blackhole $l off (${HOW[$l]})" fabric_blackhole "$l" off "${HOW[$l]}"; done
for l in fra1a fra1b nyc1; do
	wait "${SPID[$l]}"
	line=$(result "bh-$l")
	eg_log "blackhole $l (${HOW[$l]}): $line"
	within "blackhole $l (${HOW[$l]}): outage ms" "$(kv_get max_gap_ms <<<"$line")" 900 1800
	within "blackhole $l (${HOW[$l]}): echoes after restore (last seq)" \
		"$(kv_get last_seq <<<"$line")" 590 599
done

eg_log "servers in inet"
dig_short() { nsx "$1" dig +short +time=1 +tries=2 @"$INET_DNS4" "$2" "$3"; }
check_eq "dnsmasq: zoom.us A (from fra1)" "$(dig_short "$NS_FRA1" zoom.us A)" "$INET_ZOOM4"
check_eq "dnsmasq: us04web.zoom.us A" "$(dig_short "$NS_NYC1" us04web.zoom.us A)" "$INET_ZOOM4"
check_eq "dnsmasq: backup.example.com A" "$(dig_short "$NS_FRA2" backup.example.com A)" "$INET_BACKUP4"
check_eq "dnsmasq: zoom.us AAAA" "$(dig_short "$NS_FRA1" zoom.us AAAA)" "$INET_ZOOM6"
tls_ok() {
	nsx "$1" timeout 5 openssl s_client -brief -connect "$2" -servername "$3" </dev/null 2>&1 |
		grep -q 'CONNECTION ESTABLISHED'
}
check "TLS handshake with SNI zoom.us (from inet)" tls_ok "$NS_INET" "$INET_TLS4:443" zoom.us
check "TLS handshake over IPv6 (from fra2)" tls_ok "$NS_FRA2" "[$INET_TLS6]:443" backup.example.com
line=$(fab_stream "$NS_FRA1" "$INET_US4:$FAB_ECHO_PORT" 200 0.5 --linger 300)
check_eq "UDP echo server in inet answers (from fra1)" "$(kv_get received <<<"$line")" 100
line=$(fab_stream "$NS_NYC1" "[$INET_EU6]:$FAB_ECHO_PORT" 200 0.5 --linger 300)
check_eq "UDP echo server answers over IPv6 (from nyc1)" "$(kv_get received <<<"$line")" 100
mbps=$(nsx "$NS_FRA2" timeout 10 iperf3 -c "$INET_EU4" -p "$FAB_IPERF_PORT" -t 1 -b 20M -f m 2>&1 |
	awk '/receiver$/ { for (i = 2; i <= NF; i++) if ($i == "Mbits/sec") print $(i - 1) }')
within "iperf3 server in inet (Mbit/s, from fra2 at 20M)" "${mbps:-0}" 5 1000

eg_log "relays end on SIGTERM"
for l in $FAB_LINKS; do
	check "relay $l still running" pid_alive "${FAB_RELAY_PID[$l]}"
	kill -TERM "${FAB_RELAY_PID[$l]}"
done
for l in $FAB_LINKS; do
	if poll 2 eval "! pid_alive ${FAB_RELAY_PID[$l]}"; then ok "relay $l exited"
	else fail "relay $l still running 2 s after SIGTERM"; fi
	fabric_relay_stop "$l"
done
finish
