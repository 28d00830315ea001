# tests/netns/fabric_lib.sh: the fabric test topology (issue 3), sourced
# after lib.sh. Six namespaces: a WireGuard client (cli), an access node
# (acc), three egress nodes (fra1 with two underlay links to acc, fra2,
# nyc1) and the "internet" (inet) behind them. Every acc -> egress link
# runs through an impairment relay (tests/tools/impair) inside acc, so the
# link's endpoint is the relay's address and its delay, jitter, loss and
# blackhole change live. Picture and address plan: docs/testbed-fabric.md.
#
#   . "$(dirname "$0")/lib.sh"
#   . "$(dirname "$0")/fabric_lib.sh"
#   fabric_topology_up             # hosts, links, routes, keys, relays
#   fabric_servers_up              # iperf3, UDP echo, DNS, TLS in inet
#   impair_set fra2 delay 40       # live, through the relay's control socket
#   fabric_blackhole fra1a on      # relay | nft | link (default relay)
#
# Every address, key and port is a shell variable (listed in
# $EG_TMP/fabric.env once the topology is up) so a test can write a policy.

FAB_IMPAIR=$EG_BUILD/tools/impair
FAB_UDP_STREAM=$EG_BUILD/tools/udp_stream
FAB_SEED=${FAB_SEED:-1}			# relays' random seeds: FAB_SEED + n
FAB_SERVER_SECONDS=${FAB_SERVER_SECONDS:-900}	# udp echo servers' lifetime

NS_CLI=$EG_P-cli NS_ACC=$EG_P-acc NS_FRA1=$EG_P-fra1
NS_FRA2=$EG_P-fra2 NS_NYC1=$EG_P-nyc1 NS_INET=$EG_P-inet

# Ports: every node's WireGuard port, and the servers in inet.
FAB_WG_PORT=51820 CLI_WG_PORT=51821
FAB_IPERF_PORT=5201 FAB_ECHO_PORT=7000 FAB_TLS_PORT=443 FAB_DNS_PORT=53

# Underlay, one subnet per link: acc side .1 / ::1, far side .2 / ::2.
ACC_CLI_U4=198.18.1.1   CLI_U4=198.18.1.2   ACC_CLI_U6=2001:db8:1:1::1  CLI_U6=2001:db8:1:1::2
ACC_FRA1A_U4=198.18.11.1 FRA1A_U4=198.18.11.2 ACC_FRA1A_U6=2001:db8:1:11::1 FRA1A_U6=2001:db8:1:11::2
ACC_FRA1B_U4=198.18.12.1 FRA1B_U4=198.18.12.2 ACC_FRA1B_U6=2001:db8:1:12::1 FRA1B_U6=2001:db8:1:12::2
ACC_FRA2_U4=198.18.21.1 FRA2_U4=198.18.21.2 ACC_FRA2_U6=2001:db8:1:21::1 FRA2_U6=2001:db8:1:21::2
ACC_NYC1_U4=198.18.31.1 NYC1_U4=198.18.31.2 ACC_NYC1_U6=2001:db8:1:31::1 NYC1_U6=2001:db8:1:31::2
# Egress <-> inet: egress side .1 / ::1, inet .2 / ::2.
FRA1_INET_U4=198.18.101.1 INET_FRA1_U4=198.18.101.2 FRA1_INET_U6=2001:db8:1:101::1 INET_FRA1_U6=2001:db8:1:101::2
FRA2_INET_U4=198.18.102.1 INET_FRA2_U4=198.18.102.2 FRA2_INET_U6=2001:db8:1:102::1 INET_FRA2_U6=2001:db8:1:102::2
NYC1_INET_U4=198.18.103.1 INET_NYC1_U4=198.18.103.2 NYC1_INET_U6=2001:db8:1:103::1 INET_NYC1_U6=2001:db8:1:103::2

# Relays: an address on acc's lo per link; RELAY_X_EP is the endpoint acc
# uses for that link, the relay forwards to the egress's real address.
RELAY_FRA1A=198.18.201.11 RELAY_FRA1B=198.18.201.12
RELAY_FRA2=198.18.201.21 RELAY_NYC1=198.18.201.31
RELAY_FRA1A_EP=$RELAY_FRA1A:$FAB_WG_PORT RELAY_FRA1B_EP=$RELAY_FRA1B:$FAB_WG_PORT
RELAY_FRA2_EP=$RELAY_FRA2:$FAB_WG_PORT RELAY_NYC1_EP=$RELAY_NYC1:$FAB_WG_PORT
FAB_LINKS="fra1a fra1b fra2 nyc1"

# Egress pools: inet routes each slice to its egress; .1 of each slice (and
# ::1) sits on the egress's lo, a ready SNAT source.
FRA1_POOL4=198.51.100.0/28  FRA1_POOL4_ADDR=198.51.100.1  FRA1_POOL6=2001:db8:eeee:1::/64 FRA1_POOL6_ADDR=2001:db8:eeee:1::1
FRA2_POOL4=198.51.100.16/28 FRA2_POOL4_ADDR=198.51.100.17 FRA2_POOL6=2001:db8:eeee:2::/64 FRA2_POOL6_ADDR=2001:db8:eeee:2::1
NYC1_POOL4=198.51.100.32/28 NYC1_POOL4_ADDR=198.51.100.33 NYC1_POOL6=2001:db8:eeee:3::/64 NYC1_POOL6_ADDR=2001:db8:eeee:3::1
FRA1_REGION=eu FRA2_REGION=eu NYC1_REGION=us

# Internet servers, all on inet's lo.
INET_EU4=203.0.113.10 INET_EU6=2001:db8:ffff::10	# "eu-ish" destination
INET_US4=203.0.113.20 INET_US6=2001:db8:ffff::20	# "us-ish" destination
INET_ZOOM4=203.0.113.30 INET_ZOOM6=2001:db8:ffff::30	# what *.zoom.us resolves to
INET_BACKUP4=203.0.113.31 INET_BACKUP6=2001:db8:ffff::31	# backup.example.com
INET_TLS4=203.0.113.40 INET_TLS6=2001:db8:ffff::40	# openssl s_server :443
INET_DNS4=203.0.113.53 INET_DNS6=2001:db8:ffff::53	# dnsmasq :53
INET_NET4=203.0.113.0/24 INET_NET6=2001:db8:ffff::/48

# Overlay suggestions: the client's tunnel, and one address per node.
OV_CLI4=100.64.1.2 OV_CLI6=2001:db8:100:1::2 OV_NET4=100.64.1.0/24 OV_NET6=2001:db8:100:1::/64
OV_ACC4=100.64.0.1 OV_FRA14=100.64.0.11 OV_FRA24=100.64.0.21 OV_NYC14=100.64.0.31

# Per link: the egress's namespace, its interface, acc's interface, the
# relay's listen address and where it forwards to.
declare -gA FAB_LINK_NS=([fra1a]=$NS_FRA1 [fra1b]=$NS_FRA1 [fra2]=$NS_FRA2 [nyc1]=$NS_NYC1)
declare -gA FAB_LINK_EIF=([fra1a]=acc-a [fra1b]=acc-b [fra2]=acc [nyc1]=acc)
declare -gA FAB_LINK_AIF=([fra1a]=fra1a [fra1b]=fra1b [fra2]=fra2 [nyc1]=nyc1)
declare -gA FAB_RELAY_PID=() FAB_RELAY_CTL=()

# ---------------------------------------------------------------- topology

# fab_link NS_A IF_A ADDR4_A ADDR6_A NS_B IF_B ADDR4_B ADDR6_B: veth + /24 + /64.
fab_link() {
	veth_add "$1" "$2" "$5" "$6"
	addr_add "$1" "$2" "$3/24" "$4/64"
	addr_add "$5" "$6" "$7/24" "$8/64"
}

# fab_keep_addrs NS...: IPv6 addresses survive a link set down (the
# "link" blackhole), as IPv4 ones do.
fab_keep_addrs() {
	local ns
	for ns in "$@"; do
		nsx "$ns" sysctl -qw net.ipv6.conf.all.keep_addr_on_down=1 \
			net.ipv6.conf.default.keep_addr_on_down=1 >/dev/null ||
			die "sysctl keep_addr_on_down in $ns"
	done
}

# fab_router NS...: forwards packets, no reverse-path filter (fra1 has two
# links to acc and answers on either).
fab_router() {
	local ns
	for ns in "$@"; do
		nsx "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
			net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 >/dev/null ||
			die "sysctl forwarding in $ns"
	done
}

fab_route() {		# fab_route NS PREFIX VIA
	ip -n "$1" route add "$2" via "$3" || die "route $2 via $3 in $1"
}

fab_underlay_up() {
	fab_link "$NS_ACC" cli "$ACC_CLI_U4" "$ACC_CLI_U6" "$NS_CLI" acc "$CLI_U4" "$CLI_U6"
	fab_link "$NS_ACC" fra1a "$ACC_FRA1A_U4" "$ACC_FRA1A_U6" "$NS_FRA1" acc-a "$FRA1A_U4" "$FRA1A_U6"
	fab_link "$NS_ACC" fra1b "$ACC_FRA1B_U4" "$ACC_FRA1B_U6" "$NS_FRA1" acc-b "$FRA1B_U4" "$FRA1B_U6"
	fab_link "$NS_ACC" fra2 "$ACC_FRA2_U4" "$ACC_FRA2_U6" "$NS_FRA2" acc "$FRA2_U4" "$FRA2_U6"
	fab_link "$NS_ACC" nyc1 "$ACC_NYC1_U4" "$ACC_NYC1_U6" "$NS_NYC1" acc "$NYC1_U4" "$NYC1_U6"
}

# fab_egress_up NS INET_IF EGRESS4 EGRESS6 INET4 INET6 POOL4 POOL4_ADDR POOL6 POOL6_ADDR
fab_egress_up() {
	fab_link "$1" inet "$3" "$4" "$NS_INET" "$2" "$5" "$6"
	addr_add "$1" lo "$8/32" "${10}/128"
	fab_route "$1" "$INET_NET4" "$5"
	fab_route "$1" "$INET_NET6" "$6"
	fab_route "$NS_INET" "$7" "$3"
	fab_route "$NS_INET" "$9" "$4"
}

fab_inet_up() {
	local a
	for a in "$INET_EU4" "$INET_US4" "$INET_ZOOM4" "$INET_BACKUP4" "$INET_TLS4" "$INET_DNS4"; do
		addr_add "$NS_INET" lo "$a/32"
	done
	for a in "$INET_EU6" "$INET_US6" "$INET_ZOOM6" "$INET_BACKUP6" "$INET_TLS6" "$INET_DNS6"; do
		addr_add "$NS_INET" lo "$a/128"
	done
	fab_egress_up "$NS_FRA1" fra1 "$FRA1_INET_U4" "$FRA1_INET_U6" "$INET_FRA1_U4" \
		"$INET_FRA1_U6" "$FRA1_POOL4" "$FRA1_POOL4_ADDR" "$FRA1_POOL6" "$FRA1_POOL6_ADDR"
	fab_egress_up "$NS_FRA2" fra2 "$FRA2_INET_U4" "$FRA2_INET_U6" "$INET_FRA2_U4" \
		"$INET_FRA2_U6" "$FRA2_POOL4" "$FRA2_POOL4_ADDR" "$FRA2_POOL6" "$FRA2_POOL6_ADDR"
	fab_egress_up "$NS_NYC1" nyc1 "$NYC1_INET_U4" "$NYC1_INET_U6" "$INET_NYC1_U4" \
		"$INET_NYC1_U6" "$NYC1_POOL4" "$NYC1_POOL4_ADDR" "$NYC1_POOL6" "$NYC1_POOL6_ADDR"
}

# fab_keys: KEY_X (private key file) and PUB_X (base64) for every node.
fab_keys() {
	local n N
	for n in cli acc fra1 fra2 nyc1; do
		key_new "$n"
		N=${n^^}
		printf -v "KEY_$N" '%s' "$(keyfile "$n")"
		printf -v "PUB_$N" '%s' "$(pub "$n")"
	done
}

# fab_env_write: every FAB/NS/address/key variable into $EG_TMP/fabric.env.
fab_env_write() {
	local v
	for v in $(compgen -v | grep -E '^(FAB_|NS_|ACC_|CLI_|FRA[12]|NYC1|INET_|RELAY_|OV_|KEY_|PUB_)'); do
		case $(declare -p "$v" 2>/dev/null) in "declare -A"*|"declare -a"*) continue ;; esac
		printf '%s=%q\n' "$v" "${!v}"
	done >"$EG_TMP/fabric.env"
}

# fabric_topology_up: the six hosts, every link and route, keys, and a
# relay per acc -> egress link (relays start clean: no delay, no loss).
fabric_topology_up() {
	[ -x "$FAB_IMPAIR" ] && [ -x "$FAB_UDP_STREAM" ] ||
		die "no $FAB_IMPAIR or $FAB_UDP_STREAM (make BUILD=$EG_BUILD)"
	ns_add "$NS_CLI" "$NS_ACC" "$NS_FRA1" "$NS_FRA2" "$NS_NYC1" "$NS_INET"
	fab_keep_addrs "$NS_CLI" "$NS_ACC" "$NS_FRA1" "$NS_FRA2" "$NS_NYC1" "$NS_INET"
	fab_router "$NS_ACC" "$NS_FRA1" "$NS_FRA2" "$NS_NYC1"
	fab_underlay_up
	fab_inet_up
	fab_keys
	addr_add "$NS_ACC" lo "$RELAY_FRA1A/32" "$RELAY_FRA1B/32" "$RELAY_FRA2/32" "$RELAY_NYC1/32"
	fabric_relay_start fra1a "$RELAY_FRA1A_EP" "$FRA1A_U4:$FAB_WG_PORT" --seed $((FAB_SEED + 1))
	fabric_relay_start fra1b "$RELAY_FRA1B_EP" "$FRA1B_U4:$FAB_WG_PORT" --seed $((FAB_SEED + 2))
	fabric_relay_start fra2 "$RELAY_FRA2_EP" "$FRA2_U4:$FAB_WG_PORT" --seed $((FAB_SEED + 3))
	fabric_relay_start nyc1 "$RELAY_NYC1_EP" "$NYC1_U4:$FAB_WG_PORT" --seed $((FAB_SEED + 4))
	fab_env_write
	eg_log "fabric up: $NS_CLI $NS_ACC $NS_FRA1 $NS_FRA2 $NS_NYC1 $NS_INET (vars: $EG_TMP/fabric.env)"
}

# ---------------------------------------------------------------- relays

# fabric_relay_start NAME LISTEN TO [IMPAIR_ARGS...]: an impair relay in acc
# (FAB_RELAY_NS overrides), control socket $EG_TMP/impair-NAME.ctl, log
# impair-NAME.log; returns once the control socket answers.
fabric_relay_start() {
	local name=$1 listen=$2 to=$3 ctl=$EG_TMP/impair-$1.ctl; shift 3
	eg_spawn "impair-$name" ip netns exec "${FAB_RELAY_NS:-$NS_ACC}" "$FAB_IMPAIR" \
		--listen "$listen" --to "$to" --control "$ctl" "$@"
	FAB_RELAY_PID[$name]=$EG_PID
	FAB_RELAY_CTL[$name]=$ctl
	poll 5 "$FAB_IMPAIR" ctl "$ctl" show ||
		die "relay $name ($listen -> $to) did not start: $(tail -n 3 "$EG_TMP/impair-$name.log")"
}

# fabric_relay_stop NAME: SIGTERM; its last counters land in its log.
fabric_relay_stop() {
	[ -n "${FAB_RELAY_PID[$1]:-}" ] && stop_pid "${FAB_RELAY_PID[$1]}"
	unset "FAB_RELAY_PID[$1]"
}

# impair_set NAME CMD...: e.g. impair_set fra2 delay 40; loss 5; jitter 3;
# blackhole on. Quiet on success; the relay's error and status 1 otherwise.
impair_set() {
	local name=$1 out; shift
	out=$("$FAB_IMPAIR" ctl "${FAB_RELAY_CTL[$name]:-none}" "$@" 2>&1) || {
		echo "impair_set $name $*: $out" >&2; return 1; }
}
# impair_stats NAME: the relay's counters, one line of key=value.
impair_stats() { "$FAB_IMPAIR" ctl "${FAB_RELAY_CTL[$1]:-none}" stats; }
# impair_stat NAME KEY: one counter (fwd_up, loss_down, ...).
impair_stat() { impair_stats "$1" | kv_get "$2"; }

# kv_get KEY: the value of KEY in a key=value line on stdin.
kv_get() { tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1; }

# ---------------------------------------------------------------- blackholes

# fab_nft_drop NS IF on|off: drops everything in and out of IF (and
# through it) with an nftables table of its own.
fab_nft_drop() {
	local table=fab_$2
	table=${table//-/_}
	if [ "$3" = off ]; then
		nsx "$1" nft delete table inet "$table"
		return
	fi
	nsx "$1" nft -f - <<-EOF
	table inet $table {
		chain input {
			type filter hook input priority -10
			iifname "$2" drop
		}
		chain output {
			type filter hook output priority -10
			oifname "$2" drop
		}
		chain forward {
			type filter hook forward priority -10
			iifname "$2" drop
			oifname "$2" drop
		}
	}
	EOF
}

# fabric_blackhole NAME on|off [relay|nft|link]: cuts one acc -> egress link
# both ways: in its relay (default), with nftables drops on the egress's
# side of the veth, or by setting acc's side of the veth down.
fabric_blackhole() {
	local name=$1 state=$2 how=${3:-relay}
	[ -n "${FAB_LINK_NS[$name]:-}" ] || { echo "fabric_blackhole: no link $name" >&2; return 1; }
	case $state in on|off) ;; *) echo "fabric_blackhole: on|off" >&2; return 1 ;; esac
	case $how in
	relay) impair_set "$name" blackhole "$state" ;;
	nft) fab_nft_drop "${FAB_LINK_NS[$name]}" "${FAB_LINK_EIF[$name]}" "$state" ;;
	link) ip -n "$NS_ACC" link set "${FAB_LINK_AIF[$name]}" \
		"$([ "$state" = on ] && echo down || echo up)" ;;
	*) echo "fabric_blackhole: relay|nft|link" >&2; return 1 ;;
	esac
}

# ---------------------------------------------------------------- servers

fab_tls_cert() {
	nsx "$NS_INET" openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -days 2 -subj /CN=fabric.test -keyout "$EG_TMP/tls.key" \
		-out "$EG_TMP/tls.crt" \
		-addext "subjectAltName=DNS:fabric.test,DNS:*.zoom.us,DNS:zoom.us,DNS:backup.example.com" \
		>>"$EG_TMP/openssl.log" 2>&1 || die "openssl req (self-signed cert)"
}

# fab_tls_server ADDR PORT: openssl s_server, a page per connection.
fab_tls_server() {
	eg_spawn "tls-server" ip netns exec "$NS_INET" openssl s_server -quiet -www \
		-accept "$1" -cert "$EG_TMP/tls.crt" -key "$EG_TMP/tls.key" </dev/null
}

fab_dns_server() {
	eg_spawn dnsmasq ip netns exec "$NS_INET" dnsmasq --no-daemon --conf-file=/dev/null \
		--no-resolv --no-hosts --bind-interfaces --pid-file= --port="$FAB_DNS_PORT" \
		--listen-address="$INET_DNS4" --listen-address="$INET_DNS6" \
		--address="/zoom.us/$INET_ZOOM4" --address="/zoom.us/$INET_ZOOM6" \
		--address="/backup.example.com/$INET_BACKUP4" \
		--address="/backup.example.com/$INET_BACKUP6" --log-facility=-
	FAB_DNS_PID=$EG_PID
}

# fabric_servers_up: in inet, an iperf3 server (:5201, every address), a
# udp_stream echo receiver (:7000 on every v4 and v6 address, answering
# from the address it was sent to), dnsmasq on INET_DNS4/6 (*.zoom.us and
# backup.example.com), and openssl s_server on INET_TLS4/6 :443.
fabric_servers_up() {
	eg_spawn iperf3-server ip netns exec "$NS_INET" iperf3 -s -p "$FAB_IPERF_PORT"
	FAB_IPERF_PID=$EG_PID
	eg_spawn udp-echo4 ip netns exec "$NS_INET" "$FAB_UDP_STREAM" recv --echo \
		--listen "0.0.0.0:$FAB_ECHO_PORT" --duration "$FAB_SERVER_SECONDS"
	eg_spawn udp-echo6 ip netns exec "$NS_INET" "$FAB_UDP_STREAM" recv --echo \
		--listen "[::]:$FAB_ECHO_PORT" --duration "$FAB_SERVER_SECONDS"
	fab_dns_server
	fab_tls_cert
	fab_tls_server "$INET_TLS4:$FAB_TLS_PORT"
	fab_tls_server "[$INET_TLS6]:$FAB_TLS_PORT"
	wait_for 5 "iperf3 server" listening "$NS_INET" "$FAB_IPERF_PORT" tcp &&
	wait_for 5 "udp echo server" listening "$NS_INET" "$FAB_ECHO_PORT" udp &&
	wait_for 5 "dnsmasq" listening "$NS_INET" "$FAB_DNS_PORT" udp &&
	wait_for 5 "TLS server" listening "$NS_INET" "$FAB_TLS_PORT" tcp ||
		die "fabric servers did not start"
}

# ---------------------------------------------------------------- traffic

# fab_stream NS TO RATE SECONDS [ARGS...]: udp_stream send from NS; prints
# its result line (sent= received= lost= max_gap_ms= ... rtt_avg_ms=).
fab_stream() {
	local ns=$1 to=$2 rate=$3 secs=$4; shift 4
	nsx "$ns" timeout $((${secs%.*} + 15)) "$FAB_UDP_STREAM" send --to "$to" \
		--rate "$rate" --duration "$secs" "$@"
}
