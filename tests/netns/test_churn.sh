#!/bin/bash
# Configuration churn under load: while UDP and ICMP traffic run both ways,
# egressd's peer is removed and re-added, its private key and port re-set,
# and `wg show` runs concurrently, 15 times over. egressd must survive
# (run it on a SAN=1 build to catch use-after-free of sessions and queued
# packets) and the tunnel must come back. Usage: tests/netns/test_churn.sh BUILD
. "$(dirname "$0")/lib.sh"

ROUNDS=${ROUNDS:-15}
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
check_ping "tunnel up" "$C" "$OS4" 3

# Load, all bounded: 200 Mbit/s of UDP client -> egressd for 6 s, and
# pings from egressd (0.01 s apart, at most 600).
eg_spawn iperf-client ip netns exec "$C" timeout 20 iperf3 -c "$OS4" -p 5201 \
	-u -b 200M -t 6 --connect-timeout 3000
eg_spawn ping-load ip netns exec "$S" timeout 15 ping -n -q -i 0.01 -c 600 -w 8 "$OC6"

for i in $(seq "$ROUNDS"); do
	nsx "$S" wg set "$SIF" peer "$(pub cli)" remove
	wg show "$SIF" >/dev/null 2>&1 &
	wg_peer "$S" "$SIF" cli "$OC4/32,$OC6/128" "$C4:$CPORT"
	nsx "$S" wg set "$SIF" private-key "$(keyfile srv)" listen-port $SPORT
	wg show "$SIF" dump >/dev/null 2>&1 &
	nsx "$S" wg set "$SIF" peer "$(pub cli)" allowed-ips "$OC4/32" \
		peer "$(pub cli)" allowed-ips "$OC4/32,$OC6/128"
	wait $!
	sleep 0.2
	pid_alive "$SPID" || break
done
check "egressd survived $ROUNDS rounds of churn under load" pid_alive "$SPID"
wait_for 20 "load to finish" eval '! pid_alive $EG_PID'
check_ping "tunnel back afterwards: client -> egressd" "$C" "$OS4" 3
check_ping "tunnel back afterwards: egressd -> client (IPv6)" "$S" "$OC6" 3
check_eq "one peer at the end" "$(wg show "$SIF" peers | wc -l)" 1
check "egressd still running" pid_alive "$SPID"
finish
