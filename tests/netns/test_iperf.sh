#!/bin/bash
# iperf3 through a wireguard-go client and egressd: TCP both ways and UDP,
# over IPv4 and IPv6 inner addresses, 2 s each; data must get through.
# Usage: tests/netns/test_iperf.sh BUILD
# netns: once (the sanitizer pass skips it: fuzz_device, churn, malformed and
# cookie cover these packet paths under ASan)
. "$(dirname "$0")/lib.sh"

T=${T:-2}		# seconds per run
UDP_RATE=${UDP_RATE:-50M}

topo_pair
key_new srv; key_new cli
SIF=$(ifname s); CIF=$(ifname c)
start_egressd "$S" "$SIF"; SPID=$EG_PID
start_wggo "$C" "$CIF"
wg_dev "$S" "$SIF" srv $SPORT "$OS4/24" "$OS6/64"
wg_dev "$C" "$CIF" cli $CPORT "$OC4/24" "$OC6/64"
wg_peer "$S" "$SIF" cli "$OC4/32,$OC6/128"
wg_peer "$C" "$CIF" srv "$OS4/32,$OS6/128" "$S4:$SPORT"

eg_spawn iperf-server ip netns exec "$S" iperf3 -s -p 5201
wait_for 5 "iperf3 server listening" listening "$S" 5201 tcp || finish
check_ping "tunnel up (ping)" "$C" "$OS4" 3

# run DESC ARGS...: one iperf3 client run from C; receiver Mbit/s into MBPS,
# for UDP also LOST and TOTAL datagrams. Output kept in $EG_TMP/iperf.log.
run() {
	local desc=$1 out line; shift
	out=$(nsx "$C" timeout $((T + 15)) iperf3 -c "$@" -p 5201 -t "$T" -f m \
		--connect-timeout 3000 2>&1)
	printf '== %s\n%s\n' "$desc" "$out" >>"$EG_TMP/iperf.log"
	line=$(printf '%s\n' "$out" | grep ' receiver$' | tail -n 1)
	MBPS=$(printf '%s\n' "$line" | awk '{ for (i = 2; i <= NF; i++) if ($i == "Mbits/sec") print $(i - 1) }')
	LOST=$(printf '%s\n' "$line" | sed -n 's|.* \([0-9][0-9]*\)/\([0-9][0-9]*\) (.*|\1|p')
	TOTAL=$(printf '%s\n' "$line" | sed -n 's|.* \([0-9][0-9]*\)/\([0-9][0-9]*\) (.*|\2|p')
	[ -n "$line" ] || { printf '%s\n' "$out" | tail -n 3 | sed 's/^/       | /'; }
}
mbps_ok() { awk -v m="${1:-0}" 'BEGIN { exit !(m > 0) }'; }
check_tcp() {
	run "$@"
	if mbps_ok "$MBPS"; then ok "$1: $MBPS Mbit/s"; else fail "$1: no data (receiver '$MBPS')"; fi
}
check_udp() {
	run "$@"
	if [ -n "$TOTAL" ] && [ "$TOTAL" -gt 0 ] && [ $((LOST * 2)) -le "$TOTAL" ]; then
		ok "$1: $MBPS Mbit/s, lost $LOST/$TOTAL"
	else
		fail "$1: lost '$LOST' of '$TOTAL' datagrams (want <= 50% lost)"
	fi
}

rx0=$(wg_field "$SIF" cli rx)
check_tcp "TCP IPv4 client -> egressd" "$OS4"
check_tcp "TCP IPv4 egressd -> client" "$OS4" -R
check_tcp "TCP IPv6 client -> egressd" "$OS6"
check_tcp "TCP IPv6 egressd -> client" "$OS6" -R
check_udp "UDP IPv4 client -> egressd at $UDP_RATE" "$OS4" -u -b "$UDP_RATE"
check_udp "UDP IPv6 egressd -> client at $UDP_RATE" "$OS6" -u -b "$UDP_RATE" -R
rx1=$(wg_field "$SIF" cli rx)
check_gt "egressd wg show: transfer rx grew by > 1 MB" $((${rx1:-0} - ${rx0:-0})) 1000000

check "egressd still running" pid_alive "$SPID"
check_ping "tunnel still up (ping)" "$C" "$OS6" 3
finish
