#!/bin/sh
# Idempotent: installs the Debian 12 packages egress builds, tests and demos
# with, only those missing. Run as root (make check / make demo do).
set -eu
PKGS="gcc make clang libclang-rt-14-dev llvm pkg-config libssl-dev libsodium-dev
      libyaml-dev libjansson-dev libmaxminddb-dev libmaxmind-db-writer-perl
      libsqlite3-dev libmicrohttpd-dev libcurl4-openssl-dev prometheus curl
      iproute2 iputils-ping nftables wireguard-go wireguard-tools iperf3 procps jq
      dnsmasq bind9-dnsutils openssl chromium"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
