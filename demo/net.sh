# demo/net.sh: the demo's hosts, sourced by demo/demo.sh after
# tests/netns/lib.sh, fabric_lib.sh and fabric_node.sh. It reuses the
# fabric testbed's addresses, relays and helpers (docs/testbed-fabric.md)
# with five of its hosts (cli, acc, fra1, nyc1, inet; no fra2) plus one
# more: ctl, the controller, on a management bridge that reaches acc, fra1
# and nyc1. Picture: docs/demo.md.

NS_CTL=$EG_P-ctl
CTL_ADDR=198.18.50.1 CTL_PORT=8443
CTL_URL=https://$CTL_ADDR:$CTL_PORT
declare -gA DEMO_MGMT_ADDR=([acc]=198.18.50.2 [fra1]=198.18.50.3 [nyc1]=198.18.50.4)
declare -gA DEMO_NODE_NS=([acc]=$NS_ACC [fra1]=$NS_FRA1 [nyc1]=$NS_NYC1)
declare -gA DEMO_NODE_IF=([acc]=$IF_ACC [fra1]=$IF_FRA1 [nyc1]=$IF_NYC1)
declare -gA DEMO_NODE_PID=()
# Path health: down after DOWN_AFTER probes lost in a row, INTERVAL apart.
DEMO_PROBE_INTERVAL=${DEMO_PROBE_INTERVAL:-30ms}
DEMO_DOWN_AFTER=${DEMO_DOWN_AFTER:-5} DEMO_UP_AFTER=${DEMO_UP_AFTER:-3}
DEMO_CA=$EG_TMP/ctl-cert.pem
DEMO_TOKEN_FILE=$EG_TMP/admin.token

# demo_keys: KEY_X (private key file) and PUB_X for the four WireGuard hosts.
demo_keys() {
	local n N
	for n in cli acc fra1 nyc1; do
		key_new "$n"
		N=${n^^}
		printf -v "KEY_$N" '%s' "$(keyfile "$n")"
		printf -v "PUB_$N" '%s' "$(pub "$n")"
	done
}

# demo_mgmt_up: a bridge in ctl with the controller's address, and a veth
# "ctl" from every node into it. Only the control plane runs over it.
demo_mgmt_up() {
	local n
	ip -n "$NS_CTL" link add br0 type bridge || die "bridge in $NS_CTL"
	ip -n "$NS_CTL" link set br0 up
	addr_add "$NS_CTL" br0 "$CTL_ADDR/24"
	for n in acc fra1 nyc1; do
		veth_add "${DEMO_NODE_NS[$n]}" ctl "$NS_CTL" "$n"
		ip -n "$NS_CTL" link set "$n" master br0 || die "$n into br0"
		addr_add "${DEMO_NODE_NS[$n]}" ctl "${DEMO_MGMT_ADDR[$n]}/24"
	done
}

# demo_topology_up: six namespaces, every link, route, key and relay.
demo_topology_up() {
	local all=("$NS_CLI" "$NS_ACC" "$NS_FRA1" "$NS_NYC1" "$NS_INET" "$NS_CTL") a
	[ -x "$FAB_IMPAIR" ] || die "no $FAB_IMPAIR (make BUILD=$EG_BUILD)"
	ns_add "${all[@]}"
	fab_keep_addrs "${all[@]}"
	fab_router "$NS_ACC" "$NS_FRA1" "$NS_NYC1"
	fab_link "$NS_ACC" cli "$ACC_CLI_U4" "$ACC_CLI_U6" "$NS_CLI" acc "$CLI_U4" "$CLI_U6"
	fab_link "$NS_ACC" fra1a "$ACC_FRA1A_U4" "$ACC_FRA1A_U6" "$NS_FRA1" acc-a "$FRA1A_U4" "$FRA1A_U6"
	fab_link "$NS_ACC" fra1b "$ACC_FRA1B_U4" "$ACC_FRA1B_U6" "$NS_FRA1" acc-b "$FRA1B_U4" "$FRA1B_U6"
	fab_link "$NS_ACC" nyc1 "$ACC_NYC1_U4" "$ACC_NYC1_U6" "$NS_NYC1" acc "$NYC1_U4" "$NYC1_U6"
	for a in "$INET_EU4" "$INET_US4"; do addr_add "$NS_INET" lo "$a/32"; done
	for a in "$INET_EU6" "$INET_US6"; do addr_add "$NS_INET" lo "$a/128"; done
	fab_egress_up "$NS_FRA1" fra1 "$FRA1_INET_U4" "$FRA1_INET_U6" "$INET_FRA1_U4" \
		"$INET_FRA1_U6" "$FRA1_POOL4" "$FRA1_POOL4_ADDR" "$FRA1_POOL6" "$FRA1_POOL6_ADDR"
	fab_egress_up "$NS_NYC1" nyc1 "$NYC1_INET_U4" "$NYC1_INET_U6" "$INET_NYC1_U4" \
		"$INET_NYC1_U6" "$NYC1_POOL4" "$NYC1_POOL4_ADDR" "$NYC1_POOL6" "$NYC1_POOL6_ADDR"
	demo_mgmt_up
	demo_keys
	addr_add "$NS_ACC" lo "$RELAY_FRA1A/32" "$RELAY_FRA1B/32" "$RELAY_NYC1/32"
	fabric_relay_start fra1a "$RELAY_FRA1A_EP" "$FRA1A_U4:$FAB_WG_PORT" --seed 1
	fabric_relay_start fra1b "$RELAY_FRA1B_EP" "$FRA1B_U4:$FAB_WG_PORT" --seed 2
	fabric_relay_start nyc1 "$RELAY_NYC1_EP" "$NYC1_U4:$FAB_WG_PORT" --seed 3
}

# demo_servers_up: HTTPS servers (openssl s_server, a page per connection)
# on the eu and us addresses of inet, with fabric_lib's self-signed cert.
demo_servers_up() {
	fab_tls_cert
	fab_tls_server "$INET_EU4:$FAB_TLS_PORT"
	fab_tls_server "$INET_US4:$FAB_TLS_PORT"
	wait_for 5 "HTTPS servers" listening "$NS_INET" "$FAB_TLS_PORT" tcp ||
		die "HTTPS servers did not start"
}

# demo_policy_write VERSION FILE: demo/policy.yaml.in with every ${VAR}
# filled in; an unknown variable is an error, not an empty string.
demo_policy_write() {
	local keep=$1 out=$2
	export EG_TMP INET_EU4 INET_US4 PUB_ACC PUB_FRA1 PUB_NYC1 PUB_CLI ACC_WG_PORT \
		FAB_WG_PORT RELAY_FRA1A_EP RELAY_FRA1B_EP RELAY_NYC1_EP FRA1_POOL4 \
		FRA1_POOL6 NYC1_POOL4 NYC1_POOL6 OV_CLI4 OV_CLI6 DEMO_PROBE_INTERVAL \
		DEMO_DOWN_AFTER DEMO_UP_AFTER
	DEMO_V=$keep perl -ne '
		if (/^#v2/) { next if $ENV{DEMO_V} ne "2"; s/^#v2// }
		s/\$\{(\w+)\}/defined $ENV{$1} ? $ENV{$1} : die "no \$$1\n"/ge;
		print' <"$DEMO_DIR/policy.yaml.in" >"$out" 2>"$EG_TMP/policy-$keep.err" ||
		die "policy template: $(cat "$EG_TMP/policy-$keep.err")"
}

# ---------------------------------------------------------------- controller

# demo_ctl_cert: a self-signed certificate for the controller's address;
# nodes and egressctl trust exactly it (--cacert).
demo_ctl_cert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
		-subj /CN=egress-demo-controller -addext "subjectAltName=IP:$CTL_ADDR" \
		-keyout "$EG_TMP/ctl-key.pem" -out "$DEMO_CA" >"$EG_TMP/openssl-ctl.log" 2>&1 ||
		die "openssl req (controller certificate): $(tail -n 2 "$EG_TMP/openssl-ctl.log")"
}

# demo_ctl_start: egress-controller in ctl on a new store, HTTPS.
demo_ctl_start() {
	eg_spawn controller ip netns exec "$NS_CTL" "$EG_BUILD/egress-controller" -f \
		--listen "$CTL_ADDR:$CTL_PORT" --db "$EG_TMP/controller.db" \
		--tls-cert "$DEMO_CA" --tls-key "$EG_TMP/ctl-key.pem" \
		--admin-token-file "$DEMO_TOKEN_FILE"
	DEMO_CTL_PID=$EG_PID
	poll 5 listening "$NS_CTL" "$CTL_PORT" tcp ||
		die "egress-controller did not start: $(tail -n 3 "$EG_TMP/controller.log")"
	poll 5 test -s "$DEMO_TOKEN_FILE" || die "no admin token in $DEMO_TOKEN_FILE"
}

# ectl ARGS...: egressctl as the operator, in ctl, from $EG_TMP (so policy
# files are named as the demo shows them).
ectl() {
	(cd "$EG_TMP" && nsx "$NS_CTL" env EGRESS_CONTROLLER="$CTL_URL" \
		EGRESS_TOKEN="$(cat "$DEMO_TOKEN_FILE")" \
		timeout 15 "$EG_BUILD/egressctl" --cacert "$DEMO_CA" "$@")
}

# ---------------------------------------------------------------- nodes

# demo_node_start NAME TOKEN: egressd enrolls with TOKEN and takes its
# policy from the controller; its WireGuard key is given with wg(8).
demo_node_start() {
	local n=$1 ns=${DEMO_NODE_NS[$1]} ifn=${DEMO_NODE_IF[$1]} N=${1^^} key
	key=KEY_$N
	mkdir -p "$EG_TMP/state-$n"
	EG_IFS+=("$ifn")
	eg_spawn "$ifn" ip netns exec "$ns" "$EG_BUILD/egressd" -f --controller "$CTL_URL" \
		--cacert "$DEMO_CA" --enroll "$2" --node "$n" --state-dir "$EG_TMP/state-$n" \
		--events "$EG_TMP/events-$n.jsonl" "$ifn"
	DEMO_NODE_PID[$n]=$EG_PID
	eg_wait_uapi "$EG_PID" "$ifn"
	nsx "$ns" wg set "$ifn" private-key "${!key}" || die "private key for $n"
	ip -n "$ns" link set "$ifn" up || die "link up $ifn"
}

# node_version NAME: the policy version egressd runs, from its control socket.
node_version() {
	timeout 5 "$EG_BUILD/egressctl" --json paths "${DEMO_NODE_IF[$1]}" 2>/dev/null |
		jq -r '.policy_version // empty'
}
# nodes_run VERSION: every node runs VERSION.
nodes_run() {
	local n
	for n in acc fra1 nyc1; do [ "$(node_version "$n")" = "$1" ] || return 1; done
}
# ctl_nodes_online VERSION: the controller sees all three online on VERSION
# (running_version comes with telemetry, every 5 s).
ctl_nodes_online() {
	ectl --json nodes | jq -e --argjson v "$1" \
		'[.nodes[] | select(.online and .running_version == $v)] | length == 3' >/dev/null
}

# demo_egress_tun NAME: the egress's pool is NATed by egressd, so replies
# go to its TUN (fabric_node.sh's fab_egress_tun with NAME's pool).
demo_egress_tun() {
	local N=${1^^} p4 a4 p6 a6
	p4=${N}_POOL4 a4=${N}_POOL4_ADDR p6=${N}_POOL6 a6=${N}_POOL6_ADDR
	fab_egress_tun "${DEMO_NODE_NS[$1]}" "${DEMO_NODE_IF[$1]}" "${!p4}" "${!a4}" "${!p6}" "${!a6}"
}

# demo_stop_nodes: the nodes stop before the controller does, as in an
# orderly shutdown (lib.sh's cleanup then stops everything else).
demo_stop_nodes() {
	local n
	for n in "${!DEMO_NODE_PID[@]}"; do kill -TERM "${DEMO_NODE_PID[$n]}" 2>/dev/null; done
	for n in "${!DEMO_NODE_PID[@]}"; do stop_pid "${DEMO_NODE_PID[$n]}"; done
	DEMO_NODE_PID=()
}
trap 'demo_rc=$?; demo_stop_nodes; (exit "$demo_rc"); eg_cleanup' EXIT

# demo_client: wireguard-go in cli (fabric_node.sh's fab_client, with the
# time from configuring acc as its peer until the handshake completed, in
# DEMO_HS_MS).
demo_client() {
	local t0 end
	start_wggo "$NS_CLI" "$IF_CLI"
	addr_add "$NS_CLI" "$IF_CLI" "$OV_CLI4/32" "$OV_CLI6/128"
	ip -n "$NS_CLI" link set "$IF_CLI" up
	ip -n "$NS_CLI" route add "$INET_NET4" dev "$IF_CLI" || die "client route v4"
	ip -n "$NS_CLI" -6 route add "$INET_NET6" dev "$IF_CLI" || die "client route v6"
	t0=$(now_ms) end=$((t0 + 5000))
	# persistent-keepalive sends at once, so the handshake starts here
	nsx "$NS_CLI" wg set "$IF_CLI" private-key "$KEY_CLI" listen-port "$CLI_WG_PORT" \
		peer "$PUB_ACC" endpoint "$ACC_CLI_U4:$ACC_WG_PORT" \
		allowed-ips 0.0.0.0/0,::/0 persistent-keepalive 25 || die "client wg set"
	until nsx "$NS_CLI" wg show "$IF_CLI" latest-handshakes | awk '$2 > 0 { f = 1 } END { exit !f }'; do
		[ "$(now_ms)" -ge "$end" ] && die "no handshake between the client and acc in 5 s"
		sleep 0.01
	done
	DEMO_HS_MS=$(($(now_ms) - t0))
}
# ctl_paths_up: the controller's latest telemetry has every path of acc up
# (the dashboard shows telemetry, which comes every 5 s).
ctl_paths_up() {
	ectl --json nodes | jq -e '[.nodes[] | select(.name == "acc") | .telemetry.paths[]?] |
		length == 3 and all(.state == "up")' >/dev/null
}
