#!/bin/bash
# Roaming: the wireguard-go client keeps pinging while its underlay address
# changes (re-addressed veth), its UDP port changes, and it moves to the IPv6
# underlay; egressd follows it (wg show endpoint) and its own traffic to the
# client reaches the new address. Usage: tests/netns/test_roaming.sh BUILD
# netns: once (the sanitizer pass skips it; see test_handshake.sh)
. "$(dirname "$0")/lib.sh"

C4B=198.18.0.3		# the client's second IPv4 underlay address
topo_pair
key_new srv; key_new cli
SIF=$(ifname s); CIF=$(ifname c)
start_egressd "$S" "$SIF"; SPID=$EG_PID
start_wggo "$C" "$CIF"
wg_dev "$S" "$SIF" srv $SPORT "$OS4/24"
wg_dev "$C" "$CIF" cli $CPORT "$OC4/24"
wg_peer "$S" "$SIF" cli "$OC4/32"			# egressd learns the endpoint
wg_peer "$C" "$CIF" srv "$OS4/32" "$S4:$SPORT"

check_ping "tunnel up" "$C" "$OS4" 3
check_eq "egressd: first endpoint" "$(wg_field "$SIF" cli endpoint)" "$C4:$CPORT"

# Continuous traffic through every move: 150 pings, 0.1 s apart (15 s).
PINGS=150
eg_spawn ping ip netns exec "$C" timeout 25 ping -n -c $PINGS -i 0.1 -W 1 "$OS4"
PPID_=$EG_PID

endpoint_is() { [ "$(wg_field "$SIF" cli endpoint)" = "$1" ]; }
# moved DESC ENDPOINT: egressd now names ENDPOINT and reaches the client there.
moved() {
	if poll 5 endpoint_is "$2"; then ok "$1: egressd endpoint is now $2"
	else fail "$1: egressd endpoint is '$(wg_field "$SIF" cli endpoint)', want $2"; fi
	check_ping "$1: egressd reaches the client" "$S" "$OC4" 3
}

sleep 1
eg_log "re-address the client's veth: $C4 -> $C4B"
ip -n "$C" addr del "$C4/24" dev c0
ip -n "$C" addr add "$C4B/24" dev c0
# wireguard-go keeps sending from the source it last used ("sticky"), and only
# forgets it on EINVAL, not on ENETUNREACH; naming the endpoint again clears it.
nsx "$C" wg set "$CIF" peer "$(pub srv)" endpoint "$S4:$SPORT"
moved "new IPv4 address" "$C4B:$CPORT"

eg_log "the client's UDP port changes (as behind a NAT rebinding)"
nsx "$C" wg set "$CIF" listen-port $((CPORT + 7))
moved "new port" "$C4B:$((CPORT + 7))"

eg_log "the client moves to the IPv6 underlay"
nsx "$C" wg set "$CIF" peer "$(pub srv)" endpoint "[$S6]:$SPORT"
moved "IPv6 underlay" "[$C6]:$((CPORT + 7))"

eg_log "and back to IPv4"
nsx "$C" wg set "$CIF" peer "$(pub srv)" endpoint "$S4:$SPORT"
moved "back to IPv4" "$C4B:$((CPORT + 7))"

eg_log "egressd's own port changes; the client follows"
nsx "$S" wg set "$SIF" listen-port $((SPORT + 9))
check_eq "egressd reports its new listen port" "$(wg show "$SIF" listen-port)" $((SPORT + 9))
check "nothing listens on the old port any more" eval "! listening '$S' $SPORT udp"
nsx "$C" wg set "$CIF" peer "$(pub srv)" endpoint "$S4:$((SPORT + 9))"
check_ping "new egressd port: client -> egressd over IPv4" "$C" "$OS4" 3
nsx "$C" wg set "$CIF" peer "$(pub srv)" endpoint "[$S6]:$((SPORT + 9))"
moved "new egressd port, IPv6" "[$C6]:$((CPORT + 7))"

eg_log "egressd answers from the address it was reached at (sticky source)"
addr_add "$S" s0 198.18.0.10/24 2001:db8:1::10/64
for ep in "198.18.0.10:$((SPORT + 9))" "[2001:db8:1::10]:$((SPORT + 9))"; do
	nsx "$C" wg set "$CIF" peer "$(pub srv)" endpoint "$ep"
	check_ping "client -> egressd at $ep" "$C" "$OS4" 3
	check_ping "egressd -> client" "$S" "$OC4" 3
	# wireguard-go takes its peer's endpoint from where replies come from.
	check_eq "the client still sees egressd at" "$(wg_field "$CIF" srv endpoint)" "$ep"
done

wait_for 25 "background ping to finish" eval '! pid_alive $PPID_'
wait "$PPID_" 2>/dev/null
got=$(sed -n 's/.* \([0-9][0-9]*\) received.*/\1/p' "$EG_TMP/ping.log")
eg_log "$(grep 'packets transmitted' "$EG_TMP/ping.log")"
check_ge "client's pings answered throughout (of $PINGS)" "${got:-0}" $((PINGS * 9 / 10))
check "egressd still running" pid_alive "$SPID"
finish
