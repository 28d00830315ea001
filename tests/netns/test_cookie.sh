#!/bin/bash
# Under a flood of initiations (valid MAC1, unknown static key) from one
# namespace, egressd goes under load and answers with cookie replies that
# authenticate; meanwhile a legitimate wireguard-go peer in another
# namespace completes its handshake (using the cookie itself) and pings.
# Usage: tests/netns/test_cookie.sh BUILD
. "$(dirname "$0")/lib.sh"

INJECT=$EG_BUILD/tools/wg_inject
[ -x "$INJECT" ] || die "no $INJECT (make $EG_BUILD/tools/wg_inject)"
# Fast enough to outrun egressd's Diffie-Hellman on this 2-core machine, so
# its handshake queue grows past 512 (MAX_QUEUED_INCOMING_HANDSHAKES / 8).
RATE=${RATE:-20000} BURST=${BURST:-2000} SECS=${SECS:-3}	# 60000 initiations

# srv has two links: s0 to the client (198.18.0.0/24), s1 to the attacker
# (198.18.1.0/24).
A=$EG_P-atk
topo_pair
ns_add "$A"
veth_add "$S" s1 "$A" a0
addr_add "$S" s1 198.18.1.1/24
addr_add "$A" a0 198.18.1.2/24

key_new srv; key_new cli
SIF=$(ifname s); CIF=$(ifname c)
start_egressd "$S" "$SIF"; SPID=$EG_PID
start_wggo "$C" "$CIF"
wg_dev "$S" "$SIF" srv $SPORT "$OS4/24"
wg_dev "$C" "$CIF" cli $CPORT "$OC4/24"
wg_peer "$S" "$SIF" cli "$OC4/32"
wg_peer "$C" "$CIF" srv "$OS4/32" "$S4:$SPORT"

cookie_tx0=$(stat_get "$SIF" cookie_reply_tx)
load0=$(stat_sum "$SIF" '^under_load')

eg_log "flood: $RATE initiations/s in bursts of $BURST for ${SECS}s from $A"
eg_spawn flood ip netns exec "$A" timeout $((SECS + 10)) "$INJECT" --flood \
	--rate "$RATE" --burst "$BURST" --seconds "$SECS" --wait-ms 500 \
	198.18.1.1 $SPORT "$(pub srv)"
FPID=$EG_PID
sleep 0.5	# the flood is under way before the legitimate peer starts

t0=$(now_ms)
if poll 20 ping1 "$C" "$OS4"; then
	ok "legitimate peer got through during/after the flood ($(($(now_ms) - t0)) ms)"
else
	fail "legitimate peer got no ping answer within 20 s"
fi
wait_for $((SECS + 12)) "flood to finish" eval '! pid_alive $FPID'
wait "$FPID" 2>/dev/null
out=$(grep '^flood ' "$EG_TMP/flood.log")
eg_log "$out"
sent=$(printf '%s' "$out" | sed -n 's/.* sent=\([0-9]*\).*/\1/p')
cookies=$(printf '%s' "$out" | sed -n 's/.* cookie_replies=\([0-9]*\).*/\1/p')
valid=$(printf '%s' "$out" | sed -n 's/.* cookies_valid=\([0-9]*\).*/\1/p')
other=$(printf '%s' "$out" | sed -n 's/.* other=\([0-9]*\).*/\1/p')
check_ge "flood sent its initiations" "${sent:-0}" $((RATE * SECS / 2))
check_gt "cookie replies to the flood" "${cookies:-0}" 0
check_eq "every cookie reply authenticates against the MAC1 it answers" "${valid:-x}" "${cookies:-y}"
check_eq "no other replies (no handshake responses) to the flood" "${other:-x}" 0
check_le "cookie replies <= initiations" "${cookies:-0}" "${sent:-0}"
check_stat_delta "egressd counted its cookie replies" "$cookie_tx0" "$(stat_get "$SIF" cookie_reply_tx)" 1
check_stat_delta "egressd went under load" "$load0" "$(stat_sum "$SIF" '^under_load')" 1

check "egressd still running" pid_alive "$SPID"
check "legitimate peer has a handshake with egressd" has_handshake "$SIF" cli
check_ping "legitimate peer pings after the flood" "$C" "$OS4"

eg_log "a second flood (2 s): an established session's data keeps flowing"
eg_spawn flood2 ip netns exec "$A" timeout 12 "$INJECT" --flood \
	--rate "$RATE" --burst "$BURST" --seconds 2 198.18.1.1 $SPORT "$(pub srv)"
FPID=$EG_PID
got=$(ping_n "$C" "$OS4" 15)
check_ge "pings answered during the flood (of 15)" "$got" 13
wait_for 12 "second flood to finish" eval '! pid_alive $FPID'
check "egressd still running" pid_alive "$SPID"
finish
