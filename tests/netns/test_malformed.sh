#!/bin/bash
# Hostile datagrams at egressd's UDP port (tests/tools/wg_inject): each case
# is dropped for the reason its counter names, with no reply sent, egressd
# stays up, and the legitimate wireguard-go peer still gets through.
# Usage: tests/netns/test_malformed.sh BUILD
. "$(dirname "$0")/lib.sh"

INJECT=$EG_BUILD/tools/wg_inject
[ -x "$INJECT" ] || die "no $INJECT (make $EG_BUILD/tools/wg_inject)"
N=${N:-25}		# datagrams per case

topo_pair
key_new srv; key_new cli; key_new inj
SIF=$(ifname s); CIF=$(ifname c)
start_egressd "$S" "$SIF"; SPID=$EG_PID
start_wggo "$C" "$CIF"
wg_dev "$S" "$SIF" srv $SPORT "$OS4/24"
wg_dev "$C" "$CIF" cli $CPORT "$OC4/24"
wg_peer "$S" "$SIF" cli "$OC4/32"
wg_peer "$S" "$SIF" inj 100.64.0.50/32	# the injector's own key, for the data cases
wg_peer "$C" "$CIF" srv "$OS4/32" "$S4:$SPORT"
check_ping "legitimate peer pings before" "$C" "$OS4"

# drops_settle BEFORE WANT: waits (<= 3 s) until the sum of every rx_drop_*
# counter reached BEFORE + WANT; prints the sum.
drop_total() { stat_sum "$SIF" '^rx_drop_'; }
drops_reached() { [ "$(drop_total)" -ge "$1" ]; }

# inject CASE EXPECT_ERE [HOST] [REPLIES]: runs one wg_inject case; checks the
# replies, that every datagram was dropped exactly once, and that the
# counters matching EXPECT_ERE (rx_drop_ + one of its words) took them all.
inject() {
	local name=$1 expect=$2 host=${3:-$S4} want_replies=${4:-0} out sent replies
	local before_all before_exp after_all after_exp
	before_all=$(drop_total)
	before_exp=$(stat_sum "$SIF" "^rx_drop_($expect)\$")
	out=$(nsx "$C" timeout 30 "$INJECT" --case "$name" --count "$N" --wait-ms 200 \
		--peer-key "$(keyfile inj)" --seed $((RANDOM + 1)) "$host" $SPORT "$(pub srv)")
	sent=$(printf '%s' "$out" | sed -n 's/.* sent=\([0-9]*\).*/\1/p')
	replies=$(printf '%s' "$out" | sed -n 's/.* replies=\([0-9]*\).*/\1/p')
	if [ -z "$sent" ] || [ "$sent" -eq 0 ]; then
		fail "$name: wg_inject sent nothing: $out"; return
	fi
	check_eq "$name: replies to $sent datagrams" "$replies" "$want_replies"
	is_egressd || return 0
	[ "$expect" = - ] && return 0
	poll 3 drops_reached $((before_all + sent))
	after_all=$(drop_total)
	after_exp=$(stat_sum "$SIF" "^rx_drop_($expect)\$")
	if [ $((after_exp - before_exp)) -eq "$sent" ] && [ $((after_all - before_all)) -eq "$sent" ]; then
		ok "$name: $sent dropped as rx_drop_{$expect}"
	else
		fail "$name: sent $sent, rx_drop_{$expect} rose by $((after_exp - before_exp)), all rx_drop_* by $((after_all - before_all))"
		stats "$SIF" | grep '^rx_drop_' | awk '$2 != 0' | sed 's/^/       | /'
	fi
}

eg_log "malformed datagrams over IPv4"
inject empty			too_short
inject short_header		too_short
inject short_data		too_short
inject trunc_initiation		'too_short|bad_type'
inject trunc_response		'too_short|bad_type'
inject trunc_cookie		'too_short|bad_type'
inject long_initiation		'too_long|bad_type'
inject long_response		'too_long|bad_type'
inject long_cookie		'too_long|bad_type'
inject reserved			bad_type
inject bad_type			bad_type
inject bad_mac1_initiation	bad_mac1
inject bad_mac1_response	bad_mac1
inject init_garbage		handshake_invalid
inject resp_garbage		'handshake_invalid|unknown_index'
inject cookie_unknown		'cookie_invalid|unknown_index'
inject data_unknown_index	unknown_index
inject random			'[a-z_0-9]+'

eg_log "a real handshake from the injector, then data that authenticates only partly"
hs_rx0=$(stat_get "$SIF" handshake_initiation_rx)
inject handshake		- "$S4" 1
check_stat_delta "handshake_initiation_rx counted the injector's initiation" \
	"$hs_rx0" "$(stat_get "$SIF" handshake_initiation_rx)" 1
inject data_bad_tag		decrypt_failed
inject data_replay		replay
inject data_bad_inner		bad_inner_packet

eg_log "the same over IPv6"
inject init_garbage		handshake_invalid "$S6"
inject data_unknown_index	unknown_index "$S6"
inject random			'[a-z_0-9]+' "$S6"

check "egressd still running" pid_alive "$SPID"
check "egressd answers wg show" wg show "$SIF"
check_ping "legitimate peer pings after" "$C" "$OS4"
if is_egressd; then
	lines=$(wc -l <"$EG_TMP/$SIF.log")
	check_le "egressd log stayed short (rate-limited drop logging), lines" "$lines" 200
fi
finish
