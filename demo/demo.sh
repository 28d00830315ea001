#!/bin/sh
# demo/demo.sh BUILD: a wireguard-go client and an egressd server in two
# network namespaces; real traffic (ping, a short iperf3) through the
# tunnel, then what both sides report. Needs root; cleans up after itself.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/../tests/netns/lib.sh"

if [ -t 1 ]; then B=$(printf '\033[1m') N=$(printf '\033[0m'); else B='' N=''; fi
say() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
run() { printf '$ %s\n' "$*"; "$@" 2>&1 | sed 's/^/  /'; }
for f in "$EG_BUILD/egressd" "$EG_BUILD/egressctl"; do
	[ -x "$f" ] || die "no $f: run make first"
done

say "The network: two namespaces joined by a veth pair"
cat <<EOF
  $C (client)                          $S (server)
  wireguard-go $(ifname c)                   egressd $(ifname s)
  tunnel $OC4, $OC6     tunnel $OS4, $OS6
  underlay c0 $C4  <---- veth ---->  s0 $S4 :$SPORT
EOF
topo_pair
key_new srv; key_new cli
SIF=$(ifname s); CIF=$(ifname c)

say "Starting egressd (server) and wireguard-go (client)"
start_egressd "$S" "$SIF"; SPID=$EG_PID
echo "  egressd -f $SIF running as pid $SPID in $S"
start_wggo "$C" "$CIF"
echo "  wireguard-go $CIF running as pid $EG_PID in $C"

say "Configuring egressd with a wg(8) config file, as for any WireGuard"
cat >"$EG_TMP/$SIF.conf" <<EOF
[Interface]
PrivateKey = $(cat "$(keyfile srv)")
ListenPort = $SPORT

[Peer]
# the wireguard-go client
PublicKey = $(pub cli)
AllowedIPs = $OC4/32, $OC6/128
EOF
sed 's/^PrivateKey = .*/PrivateKey = (hidden)/' "$EG_TMP/$SIF.conf" | sed 's/^/  /'
run ip netns exec "$S" wg setconf "$SIF" "$EG_TMP/$SIF.conf"
addr_add "$S" "$SIF" "$OS4/24" "$OS6/64"
ip -n "$S" link set "$SIF" up
wg_dev "$C" "$CIF" cli $CPORT "$OC4/24" "$OC6/64"
wg_peer "$C" "$CIF" srv "$OS4/32,$OS6/128" "$S4:$SPORT" 25

say "Ping through the tunnel (the first packet triggers the handshake)"
run ip netns exec "$C" ping -n -c 4 -i 0.2 -W 2 "$OS4"
run ip netns exec "$C" ping -n -c 3 -i 0.2 -W 2 "$OS6"
hs=$(wg_field "$SIF" cli handshake)
if [ -n "$hs" ] && [ "$hs" -gt 0 ]; then
	echo "  handshake completed at $(date -d "@$hs" '+%H:%M:%S'); egressd learned the client at $(wg_field "$SIF" cli endpoint)"
else
	echo "  no handshake completed"
fi

say "iperf3: 3 s of TCP from the client to egressd, then 3 s back"
eg_spawn iperf-server ip netns exec "$S" iperf3 -s -p 5201
poll 5 listening "$S" 5201 tcp || echo "  iperf3 server did not start"
for dir in "" -R; do
	out=$(nsx "$C" timeout 20 iperf3 -c "$OS4" -p 5201 -t 3 -f m $dir --connect-timeout 3000 2>&1)
	line=$(printf '%s\n' "$out" | grep ' receiver$' | tail -n 1)
	if [ -n "$dir" ]; then what="egressd -> client"; else what="client -> egressd"; fi
	echo "  $what: $(printf '%s\n' "$line" |
		awk '{ for (i = 2; i <= NF; i++) if ($i == "Mbits/sec") print $(i - 1) " Mbit/s" }')"
	[ -n "$line" ] || printf '%s\n' "$out" | tail -n 3 | sed 's/^/    /'
done

say "wg show on the server (egressd)"
run ip netns exec "$S" wg show "$SIF"
say "wg show on the client (wireguard-go)"
run ip netns exec "$C" wg show "$CIF"
say "egressctl stats $SIF (counters that moved)"
stats "$SIF" | awk '$2 != 0 { printf "  %-32s %s\n", $1, $2 }'

say "Stopping egressd with SIGTERM"
stop_pid "$SPID"
if ip -n "$S" link show "$SIF" >/dev/null 2>&1; then echo "  interface $SIF still there"
else echo "  interface $SIF and $(uapi_sock "$SIF") are gone"; fi
echo
echo "demo: done (namespaces and processes are cleaned up on exit)"
