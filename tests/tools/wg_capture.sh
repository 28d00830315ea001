#!/bin/sh
# wg_capture.sh: regenerates tests/fixtures/wireguard_go_handshake.h from a
# real wireguard-go. Not run by make; run it by hand, as root, when the
# fixture must change:
#
#   make build/tools/wg_capture && sudo sh tests/tools/wg_capture.sh build
#
# Two network namespaces joined by a veth pair on 198.18.200.0/30 (the
# benchmarking range, never routed): egcap-us runs our initiator
# (tests/tools/wg_capture), egcap-wg runs wireguard-go as wgcap0 with tunnel
# address 100.64.200.2/24 and us as its peer (allowed-ips 100.64.200.1/32,
# persistent-keepalive 1). After our handshake completes, a UDP datagram
# sent inside egcap-wg to 100.64.200.1 comes to us as a data packet, which
# the tool decrypts and prints with the rest. Everything is removed on exit.
# Needs: ip, wg, wireguard-go, xxd, base64, bash.
set -eu

build=${1:-build}
out=${2:-tests/fixtures/wireguard_go_handshake.h}
tool=$build/tools/wg_capture
[ -x "$tool" ] || { echo "wg_capture.sh: build $tool first" >&2; exit 1; }

# Fixed inputs: our initiation must be reproducible byte for byte.
OUR_PRIVATE=a8b0f7e3c9d2e1f4a5b6c7d8e9fa0b1c2d3e4f5061728394a5b6c7d8e9fa0b5c
PEER_PRIVATE=b0c1d2e3f405162738495a6b7c8d9eafb0c1d2e3f405162738495a6b7c8d9e6f
PSK=0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0
EPHEMERAL=e8a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e4f
TIMESTAMP=400000006553f10a00000000	# TAI64N of 2023-11-14 22:13:20 UTC
INDEX=0x0a0b0c0d
PAYLOAD=egress-fixture-datagram

US=egcap-us WG=egcap-wg
US_IP=198.18.200.1 WG_IP=198.18.200.2 PORT_US=40001 PORT_WG=51820
wgpid=""
tmp=$(mktemp -d)

cleanup() {
	[ -n "$wgpid" ] && kill "$wgpid" 2>/dev/null || true
	ip netns del "$US" 2>/dev/null || true
	ip netns del "$WG" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

hex2b64() { printf '%s' "$1" | xxd -r -p | base64; }
b642hex() { printf '%s' "$1" | base64 -d | xxd -p -c 64; }

ip netns add "$US"
ip netns add "$WG"
ip -n "$US" link add egcap0 type veth peer name egcap1 netns "$WG"
ip -n "$US" addr add "$US_IP/30" dev egcap0
ip -n "$WG" addr add "$WG_IP/30" dev egcap1
ip -n "$US" link set egcap0 up
ip -n "$WG" link set egcap1 up
ip -n "$US" link set lo up
ip -n "$WG" link set lo up

ip netns exec "$WG" env WG_PROCESS_FOREGROUND=1 wireguard-go wgcap0 \
	>"$tmp/wireguard-go.log" 2>&1 &
wgpid=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do
	[ -S /var/run/wireguard/wgcap0.sock ] && break
	sleep 0.2
done

hex2b64 "$PEER_PRIVATE" >"$tmp/peer.key"
hex2b64 "$PSK" >"$tmp/psk"
our_pub=$(hex2b64 "$OUR_PRIVATE" | wg pubkey)
peer_pub=$(wg pubkey <"$tmp/peer.key")
ip netns exec "$WG" wg set wgcap0 private-key "$tmp/peer.key" listen-port "$PORT_WG" \
	peer "$our_pub" preshared-key "$tmp/psk" allowed-ips 100.64.200.1/32 \
	persistent-keepalive 1
ip -n "$WG" addr add 100.64.200.2/24 dev wgcap0
ip -n "$WG" link set wgcap0 up

ip netns exec "$US" "$tool" --our-private "$OUR_PRIVATE" \
	--peer-public "$(b642hex "$peer_pub")" --psk "$PSK" \
	--ephemeral "$EPHEMERAL" --timestamp "$TIMESTAMP" --index "$INDEX" \
	--bind "$US_IP:$PORT_US" --peer "$WG_IP:$PORT_WG" --payload "$PAYLOAD" \
	>"$tmp/header" &
toolpid=$!

# Once the session is up, send datagrams through wireguard-go's tunnel
# until the tool has one.
sleep 1
while kill -0 "$toolpid" 2>/dev/null; do
	ip netns exec "$WG" bash -c "printf '%s' '$PAYLOAD' >/dev/udp/100.64.200.1/9" || true
	sleep 0.3
done
if ! wait "$toolpid"; then
	echo "wg_capture.sh: capture failed; wireguard-go said:" >&2
	cat "$tmp/wireguard-go.log" >&2
	exit 1
fi
{
	printf '/* Captured %s from %s. */\n' "$(date -u +%Y-%m-%d)" \
		"$(wireguard-go --version 2>&1 | head -n 1)"
	cat "$tmp/header"
} >"$out"
echo "wg_capture.sh: wrote $out"
