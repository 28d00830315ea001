#!/bin/bash
# Handshake both ways between egressd (namespace srv) and wireguard-go
# (namespace cli), over an IPv4 and an IPv6 underlay; pings over IPv4 and
# IPv6 inner addresses; what `wg show` reports on egressd afterwards.
# Usage: tests/netns/test_handshake.sh BUILD
# netns: once (the sanitizer pass skips it: fuzz_device, churn, malformed and
# cookie cover these packet paths under ASan)
. "$(dirname "$0")/lib.sh"

topo_pair
key_new srv; key_new cli

# round INITIATOR OUTER(4|6): fresh daemons on both sides; only the
# initiator knows the other's endpoint, so only it can start the handshake.
round() {
	local who=$1 fam=$2 sif cif s_ep c_ep n=8 ping_from ping_to4 ping_to6
	sif=$(ifname "s$who$fam"); cif=$(ifname "c$who$fam")
	if [ "$fam" = 4 ]; then s_ep=$S4:$SPORT c_ep=$C4:$CPORT
	else s_ep=[$S6]:$SPORT c_ep=[$C6]:$CPORT; fi
	eg_log "round: $who initiates, IPv$fam underlay"

	start_egressd "$S" "$sif"; local spid=$EG_PID
	start_wggo "$C" "$cif"; local cpid=$EG_PID
	wg_dev "$S" "$sif" srv $SPORT "$OS4/24" "$OS6/64"
	wg_dev "$C" "$cif" cli $CPORT "$OC4/24" "$OC6/64"
	if [ "$who" = egressd ]; then
		wg_peer "$S" "$sif" cli "$OC4/32,$OC6/128" "$c_ep" 7
		wg_peer "$C" "$cif" srv "$OS4/32,$OS6/128"
		ping_from=$S ping_to4=$OC4 ping_to6=$OC6
	else
		wg_peer "$S" "$sif" cli "$OC4/32,$OC6/128" "" 7
		wg_peer "$C" "$cif" srv "$OS4/32,$OS6/128" "$s_ep"
		ping_from=$C ping_to4=$OS4 ping_to6=$OS6
	fi
	local init_tx0 init_rx0
	init_tx0=$(stat_get "$sif" handshake_initiation_tx)
	init_rx0=$(stat_get "$sif" handshake_initiation_rx)

	check_ping "ping IPv4 inner from $ping_from" "$ping_from" "$ping_to4" $n
	check_ping "ping IPv6 inner from $ping_from" "$ping_from" "$ping_to6" $n

	# What egressd says about its peer.
	local ep hs rx tx allowed ka
	ep=$(wg_field "$sif" cli endpoint)
	hs=$(wg_field "$sif" cli handshake)
	rx=$(wg_field "$sif" cli rx)
	tx=$(wg_field "$sif" cli tx)
	allowed=$(wg_field "$sif" cli allowed)
	ka=$(wg_field "$sif" cli keepalive)
	check_eq "egressd wg show: endpoint" "$ep" "$c_ep"
	check_ge "egressd wg show: latest handshake (unix time, recent)" "${hs:-0}" $(($(date +%s) - 30))
	check_le "egressd wg show: latest handshake not in the future" "${hs:-0}" $(($(date +%s) + 2))
	# 2n echo requests or replies of 84 (v4) / 104 (v6) bytes each way, plus
	# the two probe pings: the tunnel moved more than the inner bytes.
	check_gt "egressd wg show: transfer rx > inner bytes received" "${rx:-0}" $((n * 84 + n * 104))
	check_gt "egressd wg show: transfer tx > inner bytes sent" "${tx:-0}" $((n * 84 + n * 104))
	check_eq "egressd wg show: allowed ips" "$allowed" "$OC4/32,$OC6/128"
	check_eq "egressd wg show: persistent keepalive" "$ka" 7
	# And the other side agrees about who is where.
	check_eq "wireguard-go wg show: endpoint of egressd" "$(wg_field "$cif" srv endpoint)" "$s_ep"
	if [ "$who" = egressd ]; then
		check_stat_delta "egressd counted its initiation" "$init_tx0" \
			"$(stat_get "$sif" handshake_initiation_tx)" 1
	else
		check_stat_delta "egressd counted the received initiation" "$init_rx0" \
			"$(stat_get "$sif" handshake_initiation_rx)" 1
	fi
	[ "$who$fam" = egressd4 ] && extras "$sif" "$cif"
	check "egressd still running" pid_alive "$spid"
	stop_pid "$spid"; stop_pid "$cpid"
}

keepalives_from() { [ "$(stat_get "$1" keepalive_tx)" -ge "$2" ]; }
# extras SIF CIF: on an established tunnel, the MTU, full-size and
# fragmented inner packets, and persistent keepalives actually sent.
extras() {
	local sif=$1 cif=$2 mtu ka0 rx0
	mtu=$(ip -n "$S" link show "$sif" | sed -n 's/.* mtu \([0-9]*\).*/\1/p')
	check_eq "egressd interface MTU (as wireguard-go)" "$mtu" 1420
	check_eq "full-size IPv4 inner packets (1420 bytes, DF)" "$(ping_n "$S" "$OC4" 3 -s 1392 -M "do")" 3
	check_eq "full-size IPv6 inner packets (1420 bytes)" "$(ping_n "$S" "$OC6" 3 -s 1372 -M "do")" 3
	check_eq "fragmented IPv4 inner packets (4028 bytes)" "$(ping_n "$S" "$OC4" 3 -s 4000)" 3
	check_eq "fragmented IPv6 inner packets (4048 bytes)" "$(ping_n "$C" "$OS6" 3 -s 4000)" 3
	ka0=$(stat_get "$sif" keepalive_tx)
	rx0=$(wg_field "$cif" srv rx)
	nsx "$S" wg set "$sif" peer "$(pub cli)" persistent-keepalive 1
	# The new interval applies from the next packet (as in wireguard-go).
	ping1 "$S" "$OC4"
	if is_egressd; then
		if poll 4 keepalives_from "$sif" $((ka0 + 2)); then ok "persistent keepalive 1 s: keepalives sent"
		else fail "persistent keepalive 1 s: keepalive_tx went from $ka0 to $(stat_get "$sif" keepalive_tx) in 4 s"; fi
	else
		sleep 3.5
	fi
	check_ge "wireguard-go received them (ping + 2 x 32 bytes)" $(($(wg_field "$cif" srv rx) - rx0)) $((128 + 64))
}

round egressd 4
round egressd 6
round wggo 4
round wggo 6
finish
