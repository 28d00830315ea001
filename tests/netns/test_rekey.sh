#!/bin/bash
# Key changes: the wireguard-go client takes a new private key (egressd's
# peer is replaced to match), egressd takes a new private key (the client's
# peer is replaced), then a preshared key that first mismatches and then
# matches; after each change a new handshake completes and traffic flows.
# Usage: tests/netns/test_rekey.sh BUILD
# netns: once (the sanitizer pass skips it: fuzz_device, churn, malformed and
# cookie cover these packet paths under ASan)
. "$(dirname "$0")/lib.sh"

topo_pair
key_new srv; key_new cli; key_new cli2; key_new srv2; key_new cli3
SIF=$(ifname s); CIF=$(ifname c)
start_egressd "$S" "$SIF"; SPID=$EG_PID
start_wggo "$C" "$CIF"
wg_dev "$S" "$SIF" srv $SPORT "$OS4/24" "$OS6/64"
wg_dev "$C" "$CIF" cli $CPORT "$OC4/24" "$OC6/64"
ALLOWED_C="$OC4/32,$OC6/128" ALLOWED_S="$OS4/32,$OS6/128"
wg_peer "$S" "$SIF" cli "$ALLOWED_C"
wg_peer "$C" "$CIF" srv "$ALLOWED_S" "$S4:$SPORT"
check_ping "first keys: client -> egressd" "$C" "$OS4" 3

peer_count() { wg show "$SIF" peers | grep -c .; }
hs_rx() { stat_get "$SIF" handshake_initiation_rx; }

eg_log "the client's private key changes; egressd's peer is replaced"
h0=$(hs_rx)
nsx "$C" wg set "$CIF" private-key "$(keyfile cli2)"
nsx "$S" wg set "$SIF" peer "$(pub cli)" remove peer "$(pub cli2)" allowed-ips "$ALLOWED_C"
check_ping "new client key: client -> egressd (IPv4)" "$C" "$OS4" 3
check_ping "new client key: egressd -> client (IPv6)" "$S" "$OC6" 3
check "egressd has a handshake with the new key" has_handshake "$SIF" cli2
check_eq "egressd has exactly one peer" "$(peer_count)" 1
check_eq "the old peer is gone" "$(wg show "$SIF" peers | grep -c "$(pub cli)")" 0
check_stat_delta "handshake_initiation_rx rose" "$h0" "$(hs_rx)" 1

eg_log "egressd's private key changes; the client's peer is replaced"
nsx "$S" wg set "$SIF" private-key "$(keyfile srv2)"
check_eq "egressd reports its new public key" "$(wg show "$SIF" public-key)" "$(pub srv2)"
nsx "$C" wg set "$CIF" peer "$(pub srv)" remove \
	peer "$(pub srv2)" endpoint "$S4:$SPORT" allowed-ips "$ALLOWED_S"
check_ping "new egressd key: client -> egressd" "$C" "$OS4" 3
check_ping "new egressd key: egressd -> client" "$S" "$OC4" 3
check "the client has a handshake with egressd's new key" has_handshake "$CIF" srv2

eg_log "new client key with a preshared key that egressd has wrong"
hs_before=$(wg_field "$CIF" srv2 handshake)
printf '%s\n' "$(wg genpsk)" >"$EG_TMP/psk1"; printf '%s\n' "$(wg genpsk)" >"$EG_TMP/psk2"
nsx "$C" wg set "$CIF" private-key "$(keyfile cli3)" \
	peer "$(pub srv2)" preshared-key "$EG_TMP/psk1"
nsx "$S" wg set "$SIF" peer "$(pub cli2)" remove \
	peer "$(pub cli3)" allowed-ips "$ALLOWED_C" preshared-key "$EG_TMP/psk2"
check_eq "mismatched preshared key: pings answered" "$(ping_n "$C" "$OS4" 10)" 0
check_eq "mismatched preshared key: no new handshake on the client" \
	"$(wg_field "$CIF" srv2 handshake)" "$hs_before"
nsx "$S" wg set "$SIF" peer "$(pub cli3)" preshared-key "$EG_TMP/psk1"
check_eq "egressd reports a preshared key" "$(wg show "$SIF" preshared-keys | awk '{ print $2 }')" "$(cat "$EG_TMP/psk1")"
# wireguard-go retries its initiation every 5 s (REKEY_TIMEOUT).
if poll 15 ping1 "$C" "$OS4"; then ok "matching preshared key: handshake and ping"
else fail "matching preshared key: no ping answer within 15 s"; fi
check_ping "matching preshared key: IPv6 both ways" "$S" "$OC6" 3

check "egressd still running" pid_alive "$SPID"
finish
