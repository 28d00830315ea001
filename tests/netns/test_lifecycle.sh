#!/bin/bash
# egressd's life: SIGTERM and SIGINT remove its interface and UAPI socket;
# a second egressd on a name in use fails clearly without harming the
# first; malformed UAPI requests get an error and egressd carries on.
# Usage: tests/netns/test_lifecycle.sh BUILD
# netns: once (the sanitizer pass skips it: fuzz_device, churn, malformed and
# cookie cover these packet paths under ASan)
. "$(dirname "$0")/lib.sh"

INJECT=$EG_BUILD/tools/wg_inject
[ -x "$INJECT" ] || die "no $INJECT (make $EG_BUILD/tools/wg_inject)"
topo_pair
key_new srv; key_new cli

link_exists() { ip -n "$1" link show "$2" >/dev/null 2>&1; }
sock_exists() { [ -S "$(uapi_sock "$1")" ]; }

# stops_on SIGNAL: a fresh egressd, up and configured, then SIGNAL.
stops_on() {
	local sig=$1 ifn pid rc
	ifn=$(ifname "${sig,,}")
	start_egressd "$S" "$ifn"; pid=$EG_PID
	wg_dev "$S" "$ifn" srv $SPORT "$OS4/24"
	wg_peer "$S" "$ifn" cli "$OC4/32" "$C4:$CPORT"
	check "$sig: interface $ifn exists while running" link_exists "$S" "$ifn"
	kill "-$sig" "$pid"
	if poll 5 eval '! pid_alive '"$pid"; then
		wait "$pid"; rc=$?
		check_eq "$sig: egressd exits with status" "$rc" 0
	else
		fail "$sig: egressd still running 5 s after SIG$sig"
		stop_pid "$pid" KILL
	fi
	check_not "$sig: interface removed" link_exists "$S" "$ifn"
	check_not "$sig: UAPI socket removed" sock_exists "$ifn"
	check_not "$sig: wg show no longer finds it" wg show "$ifn"
}
stops_on TERM
stops_on INT

eg_log "a second egressd on a name in use"
IF=$(ifname s)
start_egressd "$S" "$IF"; SPID=$EG_PID
wg_dev "$S" "$IF" srv $SPORT "$OS4/24"
wg_peer "$S" "$IF" cli "$OC4/32"
# second NS: the same namespace (interface exists) and another one (only
# the UAPI socket, whose directory all namespaces share, is in use).
second() {
	local ns=$1 where=$2 err rc
	if is_egressd; then
		err=$(ip netns exec "$ns" timeout 5 "$EG_BUILD/egressd" -f "$IF" 2>&1)
	else
		err=$(ip netns exec "$ns" env WG_PROCESS_FOREGROUND=1 timeout 5 wireguard-go "$IF" 2>&1)
	fi
	rc=$?
	if [ $rc -ne 0 ] && [ $rc -ne 124 ]; then ok "second egressd ($where) exits with status $rc"
	else fail "second egressd ($where): exit status $rc (want non-zero, not a timeout)"; fi
	check_match "second egressd ($where) says why" "$(printf '%s' "$err" | head -n 3 | tr '\n' ' ')" \
		"$IF|[Ee]xist|[Ii]n use|[Bb]usy|[Aa]lready"
	check "first egressd still running" pid_alive "$SPID"
	check "first egressd's UAPI socket still there" sock_exists "$IF"
	check "first egressd still answers wg show" wg show "$IF"
}
second "$S" "same namespace"
second "$C" "other namespace"
ip -n "$C" link del "$IF" 2>/dev/null	# if the second one left a TUN behind

eg_log "malformed UAPI requests"
key_hex() { base64 -d <"$EG_TMP/$1.pub" | od -An -tx1 -v | tr -d ' \n'; }
PEER_HEX=$(key_hex cli)
peers_before=$(wg show "$IF" dump | tail -n +2 | cut -f1,4 | sort)
# uapi DESC REQUEST: an error answer (errno=N, N != 0) or a closed
# connection, and egressd alive and unchanged after it.
uapi() {
	local desc=$1 req=$2 rep errno
	rep=$(printf '%b' "$req" | timeout 10 "$INJECT" --uapi "$(uapi_sock "$IF")")
	errno=$(printf '%s\n' "$rep" | sed -n 's/^errno=\([0-9-]*\)$/\1/p' | head -n 1)
	if [ -n "$errno" ] && [ "$errno" != 0 ]; then ok "$desc: errno=$errno"
	elif [ -z "$rep" ]; then ok "$desc: connection closed without an answer"
	else fail "$desc: answer '$(printf '%s' "$rep" | tr '\n' ' ')', want errno != 0"; fi
	pid_alive "$SPID" || fail "$desc: egressd died"
}
uapi "private key not hex"		'set=1\nprivate_key=zz\n\n'
uapi "private key too short"		"set=1\nprivate_key=${PEER_HEX:0:62}\n\n"
uapi "listen port out of range"	'set=1\nlisten_port=99999\n\n'
uapi "unknown key"			'set=1\nfrobnicate=1\n\n'
uapi "peer field before any peer"	'set=1\nallowed_ip=100.64.0.0/24\n\n'
uapi "allowed ip not an address"	"set=1\npublic_key=$PEER_HEX\nallowed_ip=300.1.1.1/33\n\n"
uapi "allowed ip prefix too long"	"set=1\npublic_key=$PEER_HEX\nallowed_ip=2001:db8:100::/129\n\n"
uapi "endpoint nonsense"		"set=1\npublic_key=$PEER_HEX\nendpoint=nowhere:port\n\n"
uapi "keepalive not a number"		"set=1\npublic_key=$PEER_HEX\npersistent_keepalive_interval=x\n\n"
uapi "protocol version 2"		"set=1\npublic_key=$PEER_HEX\nprotocol_version=2\n\n"
uapi "no operation"			'hello\n\n'
uapi "binary garbage"			'\x01\x02\xff\xfe\x00\x00\n\n'
long=$(head -c 70000 /dev/zero | tr '\0' 'a')
uapi "70000-byte line"			"set=1\nprivate_key=$long\n\n"
# A request cut off before its blank line: the connection just closes.
printf 'set=1\nlisten_port=' | timeout 10 "$INJECT" --uapi "$(uapi_sock "$IF")" >/dev/null
check "egressd survived the malformed requests" pid_alive "$SPID"
check "egressd answers wg show after them" wg show "$IF"
check_eq "peers unchanged by the failed requests" \
	"$(wg show "$IF" dump | tail -n +2 | cut -f1,4 | sort | tr '\t\n' ' ')" \
	"$(printf '%s\n' "$peers_before" | tr '\t\n' ' ')"
check_eq "listen port unchanged" "$(wg show "$IF" listen-port)" $SPORT
check "a valid wg set still works" nsx "$S" wg set "$IF" peer "$(pub cli)" persistent-keepalive 9
check_eq "and took effect" "$(wg_field "$IF" cli keepalive)" 9

eg_log "a listen port another daemon holds"
start_wggo "$S" "$(ifname x)"
nsx "$S" wg set "$(ifname x)" listen-port 51840
check_not "wg set listen-port 51840 (in use) fails" nsx "$S" wg set "$IF" listen-port 51840
if is_egressd; then
	check_eq "egressd keeps its port" "$(wg show "$IF" listen-port)" $SPORT
	check "and still listens on it" listening "$S" $SPORT udp
else
	skip "keeps its port (wireguard-go v0.0.20220316 loses it: reports 0)"
	nsx "$S" wg set "$IF" listen-port $SPORT
fi
stop_pid "$EG_PID"

eg_log "configuration round trips through wg(8)"
nsx "$S" wg set "$IF" fwmark 0x1234
check_eq "fwmark set and reported" "$(wg show "$IF" fwmark)" 0x1234
nsx "$S" wg set "$IF" fwmark 0
check_eq "fwmark 0 reported as off" "$(wg show "$IF" fwmark)" off
# 200 peers from one wg setconf, each with an IPv4 and an IPv6 prefix.
{
	echo "[Interface]"; echo "PrivateKey = $(cat "$(keyfile srv)")"; echo "ListenPort = $SPORT"
	for i in $(seq 0 199); do
		echo "[Peer]"; echo "PublicKey = $(wg genkey | wg pubkey)"
		echo "AllowedIPs = 100.64.$((i / 100 + 1)).$((i % 100 + 1))/32, 2001:db8:100:$((i + 1))::/64"
		[ $((i % 2)) = 0 ] && echo "Endpoint = 198.18.0.$((i % 200 + 2)):$((40000 + i))"
		[ $((i % 3)) = 0 ] && echo "PersistentKeepalive = $((i % 60 + 5))"
	done
} >"$EG_TMP/many.conf"
check "wg setconf with 200 peers" nsx "$S" wg setconf "$IF" "$EG_TMP/many.conf"
check_eq "200 peers reported" "$(wg show "$IF" peers | wc -l)" 200
check_eq "400 allowed ips reported" "$(wg show "$IF" allowed-ips | awk '{ n += NF - 1 } END { print n }')" 400
# norm FILE: a config's lines, sorted (peer order is not part of it).
norm() { grep -v '^$' "$1" | sed 's/ *= */=/' | sort; }
nsx "$S" wg showconf "$IF" >"$EG_TMP/shown.conf"
nsx "$S" wg setconf "$IF" "$EG_TMP/shown.conf"
nsx "$S" wg showconf "$IF" >"$EG_TMP/shown2.conf"
check "wg showconf | wg setconf is a fixed point" \
	cmp -s <(norm "$EG_TMP/shown.conf") <(norm "$EG_TMP/shown2.conf")
check "wg showconf says what wg setconf was given" \
	cmp -s <(norm "$EG_TMP/many.conf") <(norm "$EG_TMP/shown.conf" | grep -v '^FwMark')
printf '[Interface]\nListenPort = %s\n' $SPORT >"$EG_TMP/empty.conf"
nsx "$S" wg setconf "$IF" "$EG_TMP/empty.conf"
check_eq "wg setconf without peers removes them all" "$(wg show "$IF" peers | wc -l)" 0
check_eq "and without a private key removes it" "$(wg show "$IF" private-key)" "(none)"
check "egressd still running" pid_alive "$SPID"
finish
