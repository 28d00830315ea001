# tests/netns/fabric_node.sh: egressd nodes on the fabric topology, sourced
# after lib.sh and fabric_lib.sh. Writes a policy for the six hosts, starts
# egressd --policy on acc, fra1, fra2 and nyc1, and a wireguard-go client in
# cli whose internet-bound traffic goes through acc.
#
#   fabric_topology_up; fabric_servers_up
#   fab_mmdb                       # countries.mmdb: .10 = DE, .20 = US
#   FAB_CLASSES=...  FAB_RULES=... fab_policy_write "$EG_TMP/policy.yaml"
#   fab_nodes_up "$EG_TMP/policy.yaml"
#   fab_flow_field udp 203.0.113.10 7000 egress    # from acc's flow table

FAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
IF_ACC=$(ifname acc) IF_FRA1=$(ifname f1) IF_FRA2=$(ifname f2) IF_NYC1=$(ifname n1)
IF_CLI=$(ifname c)
ACC_POOL4=198.51.100.48/28	# acc breaks out itself for pool "home"
ACC_INET_U4=198.18.104.1 INET_ACC_U4=198.18.104.2
ACC_WG_PORT=51810	# not 51820: acc's relays listen on that port in acc
FAB_PROBE_INTERVAL=${FAB_PROBE_INTERVAL:-30ms}
FAB_EVENTS=$EG_TMP/events.jsonl

# fab_mmdb: a MaxMind-format country database for the servers' addresses.
fab_mmdb() {
	perl "$FAB_ROOT/tests/tools/make-mmdb.pl" "$EG_TMP/countries.mmdb" \
		203.0.113.0/28=DE 203.0.113.16/28=US 2001:db8:ffff::10/128=DE \
		2001:db8:ffff::20/128=US >"$EG_TMP/mmdb.log" 2>&1 ||
		die "make-mmdb.pl: $(tail -n 3 "$EG_TMP/mmdb.log")"
}

# The default classes: one per steering kind the tests check.
FAB_CLASSES_DEFAULT='  - name: telnet
    match: {protocol: tcp, ports: [23]}
  - name: voice
    match: {dscp: [EF]}
    objective: latency
    regions: [eu]
  - name: zoom
    match: {destinations: [zoom]}
    objective: latency
    regions: [eu]
  - name: backup
    match: {destinations: [backup]}
    objective: cost
  - name: sovereign
    match: {destinations: [de], ports: [7003]}
    objective: latency
    regions: [eu]
  - name: cheap
    match: {protocol: udp, ports: [7001]}
    objective: cost
  - name: bulk
    match: {protocol: tcp, ports: [5201]}
    objective: latency
    regions: [eu]
  - name: fast
    match: {ports: [7000, 7002]}
    objective: latency
  - name: breakout
    match: {ports: [7004]}
    pool: home'

FAB_RULES_DEFAULT='  - {name: no-telnet, action: deny, classes: [telnet]}
  - {name: everyone, action: allow, groups: [eng]}'

# fab_policy_write FILE: the policy, with $FAB_CLASSES / $FAB_RULES when set.
fab_policy_write() {
	cat >"$1" <<EOF
# written by tests/netns/fabric_node.sh
version: 1
geoip: countries.mmdb
overlay: [100.64.0.0/10, 2001:db8:100::/48]
settings:
  probe: {interval: $FAB_PROBE_INTERVAL, down_after: ${FAB_DOWN_AFTER:-6}, up_after: 3}
  selection: {switch_margin: 10%, switch_hold: ${FAB_SWITCH_HOLD:-1s}, spread: 0%}
regions:
  eu: {countries: [DE, FR], probe_targets: [$INET_EU4]}
  us: {countries: [US], probe_targets: [$INET_US4]}
nodes:
  acc:
    region: eu
    roles: [access, egress]
    key: $PUB_ACC
    listen_port: $ACC_WG_PORT
    links: [{name: internet}, {name: private, network: private}]
  fra1:
    region: eu
    roles: [egress]
    key: $PUB_FRA1
    listen_port: $FAB_WG_PORT
    price_per_gb: 0.05
    links:
      - {name: internet, endpoint: "$RELAY_FRA1A_EP"}
      - {name: private, network: private, endpoint: "$RELAY_FRA1B_EP"}
  fra2:
    region: eu
    roles: [egress, inspection]
    key: $PUB_FRA2
    listen_port: $FAB_WG_PORT
    price_per_gb: 0.01
    links: [{name: internet, endpoint: "$RELAY_FRA2_EP"}]
  nyc1:
    region: us
    roles: [egress]
    key: $PUB_NYC1
    listen_port: $FAB_WG_PORT
    price_per_gb: 0.03
    links: [{name: internet, endpoint: "$RELAY_NYC1_EP"}]
pools:
  default:
    fra1: [$FRA1_POOL4, $FRA1_POOL6]
    fra2: [$FRA2_POOL4, $FRA2_POOL6]
    nyc1: [$NYC1_POOL4, $NYC1_POOL6]
  home:
    acc: [$ACC_POOL4]
groups: [eng]
users:
  alice:
    groups: [eng]
    devices:
      - {name: alice-laptop, key: $PUB_CLI, addresses: [$OV_CLI4/32, $OV_CLI6/128]}
destinations:
  zoom: {domains: ["*.zoom.us", zoom.us]}
  backup: {domains: [backup.example.com]}
  de: {countries: [DE]}
  telnet-hosts: {prefixes: [$INET_US4/32]}
classes:
${FAB_CLASSES:-$FAB_CLASSES_DEFAULT}
rules:
${FAB_RULES:-$FAB_RULES_DEFAULT}
default: deny
EOF
}

# fab_node NS IFNAME NAME KEYFILE POLICY [ARGS...]: egressd as a node of
# the policy (ARGS: more egressd options).
fab_node() {
	local ns=$1 ifn=$2 name=$3 key=$4 policy=$5; shift 5
	EG_IFS+=("$ifn")
	eg_spawn "$ifn" ip netns exec "$ns" "$EG_BUILD/egressd" -f --policy "$policy" \
		--node "$name" --events "$FAB_EVENTS" "$@" "$ifn"
	eg_wait_uapi "$EG_PID" "$ifn" || die "egressd $name did not start"
	printf -v "FAB_PID_${name^^}" '%s' "$EG_PID"
	nsx "$ns" wg set "$ifn" private-key "$key" || die "private key for $name"
	ip -n "$ns" link set "$ifn" up || die "link up $ifn"
}

# fab_egress_tun NS IFNAME POOL4 POOL4_ADDR POOL6 POOL6_ADDR: the pool is
# NATed by egressd, so replies must reach its TUN, not the host's lo.
fab_egress_tun() {
	ip -n "$1" addr del "$4/32" dev lo 2>/dev/null
	ip -n "$1" addr del "$6/128" dev lo 2>/dev/null
	ip -n "$1" route add "$3" dev "$2" || die "route $3 dev $2"
	ip -n "$1" -6 route add "$5" dev "$2" || die "route $5 dev $2"
	nsx "$1" sysctl -qw "net.ipv4.conf.$2.rp_filter=0" >/dev/null
}

# fab_acc_breakout: a link from acc to inet, so acc can be its own egress
# (local breakout) for the pool "home".
fab_acc_breakout() {
	veth_add "$NS_ACC" inet "$NS_INET" acc
	addr_add "$NS_ACC" inet "$ACC_INET_U4/24"
	addr_add "$NS_INET" acc "$INET_ACC_U4/24"
	ip -n "$NS_ACC" route add "$INET_NET4" via "$INET_ACC_U4" || die "acc route to inet"
	ip -n "$NS_INET" route add "$ACC_POOL4" via "$ACC_INET_U4" || die "inet route to acc pool"
	ip -n "$NS_ACC" route add "$ACC_POOL4" dev "$IF_ACC" || die "acc pool to its TUN"
	nsx "$NS_ACC" sysctl -qw "net.ipv4.conf.$IF_ACC.rp_filter=0" >/dev/null
}

# fab_client: wireguard-go in cli; the servers' prefixes go through acc.
fab_client() {
	start_wggo "$NS_CLI" "$IF_CLI"
	nsx "$NS_CLI" wg set "$IF_CLI" private-key "$KEY_CLI" listen-port "$CLI_WG_PORT" \
		peer "$PUB_ACC" endpoint "$ACC_CLI_U4:$ACC_WG_PORT" \
		allowed-ips 0.0.0.0/0,::/0 persistent-keepalive 25 || die "client wg set"
	addr_add "$NS_CLI" "$IF_CLI" "$OV_CLI4/32" "$OV_CLI6/128"
	ip -n "$NS_CLI" link set "$IF_CLI" up
	ip -n "$NS_CLI" route add "$INET_NET4" dev "$IF_CLI" || die "client route v4"
	ip -n "$NS_CLI" -6 route add "$INET_NET6" dev "$IF_CLI" || die "client route v6"
	printf 'nameserver %s\n' "$INET_DNS4" >"$EG_TMP/resolv.conf"
}

# fab_nodes_up POLICY [METRICS_ADDR]: the four nodes and the client;
# returns once acc has every path up. With METRICS_ADDR acc serves
# /metrics there, inside its namespace.
fab_nodes_up() {
	local policy=$1
	fab_node "$NS_FRA1" "$IF_FRA1" fra1 "$KEY_FRA1" "$policy"
	fab_node "$NS_FRA2" "$IF_FRA2" fra2 "$KEY_FRA2" "$policy"
	fab_node "$NS_NYC1" "$IF_NYC1" nyc1 "$KEY_NYC1" "$policy"
	fab_egress_tun "$NS_FRA1" "$IF_FRA1" "$FRA1_POOL4" "$FRA1_POOL4_ADDR" "$FRA1_POOL6" "$FRA1_POOL6_ADDR"
	fab_egress_tun "$NS_FRA2" "$IF_FRA2" "$FRA2_POOL4" "$FRA2_POOL4_ADDR" "$FRA2_POOL6" "$FRA2_POOL6_ADDR"
	fab_egress_tun "$NS_NYC1" "$IF_NYC1" "$NYC1_POOL4" "$NYC1_POOL4_ADDR" "$NYC1_POOL6" "$NYC1_POOL6_ADDR"
	fab_node "$NS_ACC" "$IF_ACC" acc "$KEY_ACC" "$policy" ${2:+--metrics "$2"}
	addr_add "$NS_ACC" "$IF_ACC" "$OV_ACC4/32"
	fab_acc_breakout
	fab_client
	wait_for 10 "acc: all 4 paths up" fab_paths_up 4
}

# fab_echo_servers PORT...: more UDP echo servers in inet (7000 is there).
fab_echo_servers() {
	local port
	for port in "$@"; do
		eg_spawn "udp-echo-$port" ip netns exec "$NS_INET" "$FAB_UDP_STREAM" recv --echo \
			--listen "0.0.0.0:$port" --duration "$FAB_SERVER_SECONDS"
		wait_for 5 "udp echo server :$port" listening "$NS_INET" "$port" udp
	done
}

# ---------------------------------------------------------------- queries

ctl() { timeout 5 "$EG_BUILD/egressctl" "$@"; }
# ctl_json ARGS...: egressctl --json ARGS in acc (the control socket is
# shared: /var/run/egress is not per namespace).
ctl_json() { ctl --json "$@"; }

# fab_paths_up N: acc sees at least N paths up.
fab_paths_up() {
	[ "$(ctl_json paths "$IF_ACC" | jq '[.paths[] | select(.state == "up")] | length')" -ge "$1" ]
}
# fab_path_field PEER PATH FIELD
fab_path_field() {
	ctl_json paths "$IF_ACC" |
		jq -r --arg p "$1" --arg l "$2" --arg f "$3" \
			'.paths[] | select(.peer == $p and .path == $l) | .[$f]'
}
# fab_flow_field PROTO DST DPORT FIELD [IFNAME]: a field of the first
# matching flow in acc's table.
fab_flow_field() {
	ctl_json flows "${5:-$IF_ACC}" --proto "$1" --dst "$2" |
		jq -r --argjson port "$3" --arg f "$4" \
			'[.flows[] | select(.dport == $port)][0][$f] // empty'
}
# fab_state_changes: path_state_changes of acc.
fab_state_changes() { stat_get "$IF_ACC" path_state_changes; }

# ---- acc's /metrics (fab_nodes_up with a metrics address) ----
# scrape NAME: GET acc's /metrics into $EG_TMP/NAME.prom (promtool checks
# it when installed); mval NAME SERIES: a sample's value; mdelta FROM TO
# SERIES: how far it moved; path_m FAMILY PEER PATH: a path series name.
ACC_METRICS=127.0.0.1:9586
fetch() { nsx "$NS_ACC" curl -sS -m 5 -o "$EG_TMP/$1.prom" "http://$ACC_METRICS/metrics"; }
scrape() {
	fetch "$1" || fail "scrape acc's /metrics ($1)"
	if command -v promtool >/dev/null 2>&1; then
		check "promtool check metrics ($1)" sh -c "promtool check metrics <'$EG_TMP/$1.prom'"
	fi
}
mval() { awk -v s="$2" '$1 == s { printf "%.0f", $2; exit }' "$EG_TMP/$1.prom"; }
mdelta() { echo $(( $(mval "$2" "$3") - $(mval "$1" "$3") )); }
path_m() { echo "egress_path_$1{peer=\"$2\",path=\"$3\"}"; }
# check_rtt PEER PATH LO HI: the path's RTT gauge (seconds) in m0 in [LO, HI].
check_rtt() {
	local v; v=$(awk -v s="$(path_m rtt_seconds "$1" "$2")" '$1 == s { print $2 }' "$EG_TMP/m0.prom")
	check "metrics: $1 via $2 RTT ${v}s in [$3, $4]" \
		awk -v v="$v" -v lo="$3" -v hi="$4" 'BEGIN { exit !(v != "" && v >= lo && v <= hi) }'
}
# flows_agree NAME: egress_flows_active equals the flows egressctl lists.
flows_agree() {
	fetch "$1" && [ "$(mval "$1" egress_flows_active)" = \
	  "$(ctl_json flows "$IF_ACC" --limit 0 | jq '.flows | length')" ]
}
