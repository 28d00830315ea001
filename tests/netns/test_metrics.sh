#!/bin/bash
# /metrics of egressd (`egressd --metrics ADDR:PORT`): a plain egressd
# (namespace srv) and a wireguard-go client (namespace cli). The
# exposition passes `promtool check metrics` before and after traffic,
# and a ping moves what it must: the peer's rx/tx bytes and packets, the handshake
# counters, the last handshake time, the device's packet counters. Other
# paths and methods get 404 and 405.
# Usage: tests/netns/test_metrics.sh BUILD
. "$(dirname "$0")/lib.sh"

MADDR=127.0.0.1:9586

if ! is_egressd; then
	skip "metrics: wireguard-go has no /metrics (EG_IMPL=wggo)"
	finish
fi
if ! "$EG_BUILD/egressd" --help 2>&1 | grep -q -- '--metrics'; then
	skip "metrics: this egressd has no --metrics option"
	finish
fi

# http NS METHOD PATH: the status line's code, then the body, from ADDR.
# curl when installed, else bash's /dev/tcp (HTTP/1.0, one request).
http() {
	local ns=$1 method=$2 path=$3
	if command -v curl >/dev/null 2>&1; then
		nsx "$ns" curl -sS -m 5 -X "$method" -o "$EG_TMP/body" -D "$EG_TMP/head" \
			"http://$MADDR$path" >/dev/null 2>&1 || return 1
	else
		nsx "$ns" timeout 5 bash -c 'exec 3<>"/dev/tcp/${0%:*}/${0##*:}" &&
			printf "%s %s HTTP/1.0\r\n\r\n" "$1" "$2" >&3 && cat <&3' \
			"$MADDR" "$method" "$path" >"$EG_TMP/resp" 2>/dev/null || return 1
		sed '/^\r\{0,1\}$/q' "$EG_TMP/resp" >"$EG_TMP/head"
		sed '1,/^\r\{0,1\}$/d' "$EG_TMP/resp" >"$EG_TMP/body"
	fi
	awk 'NR == 1 { print $2 }' "$EG_TMP/head"
}

# scrape NAME: GET /metrics into $EG_TMP/NAME.prom; checks status, type
# and (when installed) promtool.
scrape() {
	local code
	code=$(http "$S" GET /metrics)
	check_eq "GET /metrics ($1): status" "$code" 200
	cp "$EG_TMP/body" "$EG_TMP/$1.prom"
	check_match "GET /metrics ($1): content type" \
		"$(grep -i '^content-type:' "$EG_TMP/head" | tr -d '\r')" 'text/plain; version=0\.0\.4'
	if command -v promtool >/dev/null 2>&1; then
		check "promtool check metrics ($1)" sh -c "promtool check metrics <'$EG_TMP/$1.prom'"
	else
		skip "promtool check metrics ($1): promtool not installed"
	fi
}

# value NAME SERIES: the sample's value in NAME.prom ("" when absent).
value() { awk -v s="$2" '$1 == s { print $2; exit }' "$EG_TMP/$1.prom"; }
int_value() { local v; v=$(value "$1" "$2"); printf '%.0f' "${v:-nan}" 2>/dev/null; }

topo_pair
key_new srv; key_new cli
sif=$(ifname s); cif=$(ifname c)

EG_IFS+=("$sif")
eg_spawn "$sif" ip netns exec "$S" "$EG_BUILD/egressd" -f --metrics "$MADDR" "$sif"
spid=$EG_PID
eg_wait_uapi "$spid" "$sif"
wait_for 5 "egressd listens on $MADDR" listening "$S" "${MADDR##*:}" tcp || finish
start_wggo "$C" "$cif"; cpid=$EG_PID
wg_dev "$S" "$sif" srv $SPORT "$OS4/24" "$OS6/64"
wg_dev "$C" "$cif" cli $CPORT "$OC4/24" "$OC6/64"
wg_peer "$S" "$sif" cli "$OC4/32,$OC6/128"
wg_peer "$C" "$cif" srv "$OS4/32,$OS6/128" "$S4:$SPORT"

peer="{peer=\"$(pub cli)\",name=\"\"}"
scrape before
check_eq "no policy: egress_policy_version" "$(value before egress_policy_version)" -1
check_eq "egress_peers" "$(value before egress_peers)" 1
check_eq "peer rx bytes before traffic" "$(value before "egress_peer_rx_bytes_total$peer")" 0
check_eq "peer rx packets before traffic" "$(value before "egress_peer_rx_packets_total$peer")" 0
check_eq "peer tx packets before traffic" "$(value before "egress_peer_tx_packets_total$peer")" 0
check_eq "last handshake before traffic" \
	"$(value before "egress_peer_last_handshake_seconds$peer")" 0
check_eq "one drops family, reason label" \
	"$(value before 'egress_drops_total{reason="rx_drop_replay"}')" 0
check_match "build info" "$(grep '^egress_build_info' "$EG_TMP/before.prom")" 'version="[^"]+"} 1'
check_match "device info names the interface" \
	"$(grep '^egress_device_info' "$EG_TMP/before.prom")" "interface=\"$sif\""

n=8
check_ping "ping IPv4 inner from the client" "$C" "$OS4" $n
scrape after
# n echo requests and replies of 84 bytes each way, plus check_ping's
# first probe: the tunnel moved more than the inner bytes.
check_gt "peer rx bytes moved" "$(int_value after "egress_peer_rx_bytes_total$peer")" $((n * 84))
check_gt "peer tx bytes moved" "$(int_value after "egress_peer_tx_bytes_total$peer")" $((n * 84))
check_le "peer rx bytes <= what wg show says now" \
	"$(int_value after "egress_peer_rx_bytes_total$peer")" "$(wg_field "$sif" cli rx)"
# Peer packets are WireGuard messages: at least the n pings and the
# handshake (initiation in, response out).
check_ge "peer rx packets: pings and the handshake initiation" \
	"$(int_value after "egress_peer_rx_packets_total$peer")" $((n + 1))
check_ge "peer tx packets: replies and the handshake response" \
	"$(int_value after "egress_peer_tx_packets_total$peer")" $((n + 1))
check_ge "peer rx packets >= the device's data packets (one peer)" \
	"$(int_value after "egress_peer_rx_packets_total$peer")" "$(value after egress_rx_packets_total)"
check_le "peer rx packets: one message is at least 32 bytes" \
	$(($(int_value after "egress_peer_rx_packets_total$peer") * 32)) \
	"$(int_value after "egress_peer_rx_bytes_total$peer")"
hs=$(int_value after "egress_peer_last_handshake_seconds$peer")
check_ge "last handshake is recent (unix time)" "${hs:-0}" $(($(date +%s) - 30))
check_le "last handshake not in the future" "${hs:-0}" $(($(date +%s) + 2))
check_ge "handshake initiations received" \
	"$(value after egress_handshake_initiation_rx_total)" 1
check_ge "handshake responses sent" "$(value after egress_handshake_response_tx_total)" 1
check_ge "sessions established" "$(value after egress_sessions_established_total)" 1
check_ge "device rx packets moved" \
	$(($(value after egress_rx_packets_total) - $(value before egress_rx_packets_total))) $n
check_ge "device tx packets moved" \
	$(($(value after egress_tx_packets_total) - $(value before egress_tx_packets_total))) $n
check_eq "agrees with egressctl stats: handshake_initiation_rx" \
	"$(value after egress_handshake_initiation_rx_total)" \
	"$(stat_get "$sif" handshake_initiation_rx)"

check_eq "GET / is 404" "$(http "$S" GET /)" 404
check_eq "POST /metrics is 405" "$(http "$S" POST /metrics)" 405
check_eq "GET /metrics again" "$(http "$S" GET /metrics)" 200
check "egressd still running" pid_alive "$spid"
stop_pid "$spid"; stop_pid "$cpid"
finish
