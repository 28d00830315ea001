#!/bin/bash
# Allowed IPs in both directions. Two wireguard-go peers: A owns the broad
# 100.64.0.0/16 + 2001:db8:100::/48, B the narrower 100.64.2.0/24 +
# 2001:db8:100:2::/64 inside it. egressd must send to B what B's prefix
# covers (longest prefix), to A the rest, drop what B sends from a source
# outside its own prefixes, and count packets to addresses no peer owns.
# Usage: tests/netns/test_allowedips.sh BUILD
# netns: once (the sanitizer pass skips it: fuzz_device, churn, malformed and
# cookie cover these packet paths under ASan)
. "$(dirname "$0")/lib.sh"

D=$EG_P-cl2
topo_pair			# S = egressd, C = peer A
ns_add "$D"			# D = peer B, on its own link 198.18.1.0/24
veth_add "$S" s1 "$D" d0
addr_add "$S" s1 198.18.1.1/24
addr_add "$D" d0 198.18.1.2/24

key_new srv; key_new pa; key_new pb
SIF=$(ifname s); AIF=$(ifname a); BIF=$(ifname b)
A4=100.64.1.2 A6=2001:db8:100:1::2 B4=100.64.2.2 B6=2001:db8:100:2::2
start_egressd "$S" "$SIF"; SPID=$EG_PID
start_wggo "$C" "$AIF"
start_wggo "$D" "$BIF"
wg_dev "$S" "$SIF" srv $SPORT "$OS4/16" "$OS6/48"
wg_dev "$C" "$AIF" pa $CPORT "$A4/16" "$A6/48"
wg_dev "$D" "$BIF" pb $CPORT "$B4/16" "$B6/48"
# Addresses B may hold but not use as a source towards egressd.
addr_add "$D" "$BIF" 100.64.3.9/32 100.64.1.50/32 2001:db8:100:3::9/128
wg_peer "$S" "$SIF" pa 100.64.0.0/16,2001:db8:100::/48 "$C4:$CPORT"
wg_peer "$S" "$SIF" pb 100.64.2.0/24,2001:db8:100:2::/64 198.18.1.2:$CPORT
wg_peer "$C" "$AIF" srv 100.64.0.0/16,2001:db8:100::/48 "$S4:$SPORT"
wg_peer "$D" "$BIF" srv 100.64.0.0/16,2001:db8:100::/48 198.18.1.1:$SPORT

eg_log "routing by longest prefix"
check_ping "egressd -> A (IPv4, only in A's /16)" "$S" "$A4"
check_ping "egressd -> A (IPv6, only in A's /48)" "$S" "$A6"
atx0=$(wg_field "$SIF" pa tx)
check_ping "egressd -> B (IPv4, B's /24 inside A's /16)" "$S" "$B4"
check_ping "egressd -> B (IPv6, B's /64 inside A's /48)" "$S" "$B6"
check_eq "nothing for B went to A (egressd tx to A unchanged)" "$(wg_field "$SIF" pa tx)" "$atx0"

eg_log "sources outside the sender's allowed IPs"
m0=$(stat_get "$SIF" rx_drop_allowedips_mismatch)
brx0=$(wg_field "$SIF" pb rx)
n4=$(ping_n "$D" "$OS4" 5 -I 100.64.3.9)
check_eq "B from 100.64.3.9 (in nobody's prefix): answered" "$n4" 0
n4=$(ping_n "$D" "$OS4" 5 -I 100.64.1.50)
check_eq "B from 100.64.1.50 (in A's prefix): answered" "$n4" 0
n6=$(ping_n "$D" "$OS6" 5 -I 2001:db8:100:3::9)
check_eq "B from 2001:db8:100:3::9 (in A's prefix): answered" "$n6" 0
check_gt "the tunnel carried them to egressd (rx from B grew)" \
	$(($(wg_field "$SIF" pb rx) - brx0)) $((15 * 84))
check_stat_delta "rx_drop_allowedips_mismatch counted the 15" "$m0" \
	"$(stat_get "$SIF" rx_drop_allowedips_mismatch)" 15
check_ping "B from its own address still gets through (IPv4)" "$D" "$OS4" 5 -I "$B4"
check_ping "B from its own address still gets through (IPv6)" "$D" "$OS6" 5 -I "$B6"
check_ping "A from its own address gets through" "$C" "$OS4"

eg_log "B's prefixes removed: its addresses fall back to A's /16"
nsx "$S" wg set "$SIF" peer "$(pub pb)" allowed-ips ""
atx0=$(wg_field "$SIF" pa tx)
n4=$(ping_n "$S" "$B4" 3)
check_eq "egressd -> $B4 now unanswered (A does not own it)" "$n4" 0
check_gt "and it went to A (egressd tx to A grew)" $(($(wg_field "$SIF" pa tx) - atx0)) $((3 * 84))
nsx "$S" wg set "$SIF" peer "$(pub pb)" allowed-ips 100.64.2.0/24,2001:db8:100:2::/64
check_ping "B's prefixes back: egressd -> B again" "$S" "$B4"

eg_log "destinations no peer owns"
ip -n "$S" route add 100.96.0.0/16 dev "$SIF"
np0=$(stat_get "$SIF" tx_drop_no_peer)
ping_n "$S" 100.96.0.5 3 >/dev/null
check_stat_delta "tx_drop_no_peer counted the 3 pings to 100.96.0.5" "$np0" \
	"$(stat_get "$SIF" tx_drop_no_peer)" 3

eg_log "a peer with no endpoint yet"
key_new pc
wg_peer "$S" "$SIF" pc 100.64.9.0/24
ne0=$(stat_get "$SIF" tx_drop_no_endpoint)
ping_n "$S" 100.64.9.9 3 >/dev/null
check_stat_delta "tx_drop_no_endpoint counted the pings to 100.64.9.9" "$ne0" \
	"$(stat_get "$SIF" tx_drop_no_endpoint)" 1
check_eq "nothing was sent to it" "$(wg_field "$SIF" pc tx)" 0

check "egressd still running" pid_alive "$SPID"
finish
