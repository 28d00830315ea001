#!/bin/sh
# demo/demo.sh BUILD: the whole system in six network namespaces. The
# controller starts on its embedded store (HTTPS, self-signed), a policy is
# applied, an access node and egress nodes in two regions enroll and take
# it; a change is planned and applied; a wireguard-go client sends real
# traffic; the pinned path is cut, then its egress, and the sessions fail
# over while ping goes on; the dashboard URL is printed (and shot, when
# chromium is there). DEMO_HOLD=1 keeps it all up until Enter. Needs root;
# cleans up after itself. What it shows: docs/demo.md.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
DEMO_DIR=$(cd "$(dirname "$0")" && pwd)
. "$DEMO_DIR/../tests/netns/lib.sh"
. "$DEMO_DIR/../tests/netns/fabric_lib.sh"
. "$DEMO_DIR/../tests/netns/fabric_node.sh"
. "$DEMO_DIR/net.sh"

if [ -t 1 ]; then B=$(printf '\033[1m') N=$(printf '\033[0m'); else B='' N=''; fi
say() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
note() { printf '  %s\n' "$*"; }
indent() { sed 's/^/    /'; }
# cmdline ARGS...: "$ ARGS" as one would type them (spaces quoted).
cmdline() {
	local a out='$'
	for a in "$@"; do
		case $a in *' '*) out+=" \"$a\"" ;; *) out+=" $a" ;; esac
	done
	printf '%s\n' "$out"
}
# ectl_show ARGS...: an operator's egressctl command against the controller.
ectl_show() { cmdline egressctl "$@"; ectl "$@" 2>&1 | indent; return "${PIPESTATUS[0]}"; }
# nctl_show ARGS...: egressctl against a node's control socket.
nctl_show() {
	cmdline egressctl "$@"
	timeout 5 "$EG_BUILD/egressctl" "$@" 2>&1 | indent
}
ms_since() { echo $(($(now_ms) - $1)); }

for f in egressd egressctl egress-controller tools/impair; do
	[ -x "$EG_BUILD/$f" ] || die "no $EG_BUILD/$f: run make first"
done
for t in wireguard-go wg jq curl openssl nft perl; do
	command -v "$t" >/dev/null || die "$t is not installed (mk/deps.sh installs it)"
done
T_START=$(now_ms)

# ---------------------------------------------------------------- network

say "The network: six namespaces (prefix $EG_P-)"
cat <<EOF
                      inet   "the internet": HTTPS on $INET_EU4 (DE), $INET_US4 (US)
                     /    \\
    NAT 198.51.100.0/28    NAT 198.51.100.32/28
                   /        \\
   fra1 (eu, \$0.05/GB)      nyc1 (us, \$0.02/GB)       ctl  egress-controller
  internet \\    / private        | internet                 $CTL_URL
     +5 ms  \\  /  +8 ms          | +40 ms                   bridge br0 to acc, fra1, nyc1
             acc  access node ---+                           (the control plane only)
              |
             cli  wireguard-go client, alice-laptop $OV_CLI4
  One-way delays are set in impairment relays inside acc (tests/tools/impair).
EOF
demo_topology_up
impair_set fra1a delay 5 && impair_set fra1b delay 8 && impair_set nyc1 delay 40 ||
	die "relay settings"
fab_mmdb
demo_servers_up
note "up: $NS_CLI $NS_ACC $NS_FRA1 $NS_NYC1 $NS_INET $NS_CTL"

# ---------------------------------------------------------------- controller

say "The controller: egress-controller on its SQLite store, HTTPS"
demo_ctl_cert
printf '$ egress-controller --listen %s:%s --db controller.db --tls-cert ctl-cert.pem \\\n' \
	"$CTL_ADDR" "$CTL_PORT"
printf '      --tls-key ctl-key.pem --admin-token-file admin.token -f     (in %s)\n' "$NS_CTL"
demo_ctl_start
sed -n 's/^/    /p' "$EG_TMP/controller.log" | head -n 3
note "self-signed certificate for $CTL_ADDR; egressd and egressctl pin it with --cacert."
note "egressctl below runs in $NS_CTL, in $EG_TMP, with"
note "EGRESS_CONTROLLER=$CTL_URL EGRESS_TOKEN=\$(cat admin.token) --cacert ctl-cert.pem"

# ---------------------------------------------------------------- policy v1

say "Policy version 1 (demo/policy.yaml.in): classes and rules"
demo_policy_write 1 "$EG_TMP/policy-v1.yaml"
demo_policy_write 2 "$EG_TMP/policy-v2.yaml"
sed -n '/^classes:/,$p' "$EG_TMP/policy-v1.yaml" | indent
ectl_show apply policy-v1.yaml --expected-version 0 --comment "demo: first version" ||
	die "apply version 1"

# ---------------------------------------------------------------- nodes

say "Enrolling the nodes: a one-time token each, then egressd --controller"
T_NODES=$(now_ms)
for n in fra1 nyc1 acc; do
	tok=$(ectl --json enroll-token "$n" --ttl 10m | jq -r .token)
	case $tok in ege_*) ;; *) die "enroll-token $n: $tok" ;; esac
	printf '$ egressctl enroll-token %s --ttl 10m    -> %s…\n' "$n" "${tok:0:12}"
	printf '$ egressd -f --controller %s --cacert ctl-cert.pem \\\n' "$CTL_URL"
	printf '      --enroll %s… --node %s --state-dir state-%s %s     (in %s)\n' \
		"${tok:0:12}" "$n" "$n" "${DEMO_NODE_IF[$n]}" "${DEMO_NODE_NS[$n]}"
	demo_node_start "$n" "$tok"
	[ "$n" = acc ] || demo_egress_tun "$n"
done
addr_add "$NS_ACC" "$IF_ACC" "$OV_ACC4/32"
wait_for 10 "every node runs version 1" nodes_run 1 || die "the nodes did not take version 1"
F_ENROLL=$(ms_since "$T_NODES")
note "all three enrolled and run version 1, $F_ENROLL ms after the first egressd started"
wait_for 10 "acc: its 3 paths up" fab_paths_up 3 || die "acc's paths did not come up"
# running_version reaches the controller with telemetry (every 5 s)
wait_for 12 "controller: 3 nodes online on version 1" ctl_nodes_online 1 ||
	die "the controller does not see the nodes"
ectl_show nodes

# ---------------------------------------------------------------- plan, apply

say "A change: HTTPS to German sites must leave in the eu (policy version 2)"
diff -u "$EG_TMP/policy-v1.yaml" "$EG_TMP/policy-v2.yaml" | sed -n '/^[-+] /p' | indent
cp "$DEMO_DIR/sessions.json" "$EG_TMP/sessions.json"
note "sample sessions: $(jq -c 'map("\(.dst):\(.dport)/\(.proto)")' "$EG_TMP/sessions.json")"
ectl_show plan policy-v2.yaml --sessions sessions.json || die "plan version 2"
note "(plan scores egresses with nominal metrics, every path up at 10 ms: it shows what"
note " the rules and classes do; the nodes decide on their live measurements)"
T_APPLY=$(now_ms)
ectl_show apply policy-v2.yaml --expected-version 1 --comment "sovereign HTTPS" ||
	die "apply version 2"
wait_for 5 "every node runs version 2" nodes_run 2 || die "the nodes did not take version 2"
F_APPLY=$(ms_since "$T_APPLY")
note "apply -> all three nodes running version 2: $F_APPLY ms (egressctl apply included)"
ectl_show versions

# ---------------------------------------------------------------- traffic

say "The client: wireguard-go (alice-laptop), its only peer is acc"
printf '$ wireguard-go %s; ip route add %s dev %s     (in %s)\n' \
	"$IF_CLI" "$INET_NET4" "$IF_CLI" "$NS_CLI"
printf '$ wg set %s private-key cli.key peer <acc> endpoint %s:%s \\\n' \
	"$IF_CLI" "$ACC_CLI_U4" "$ACC_WG_PORT"
printf '      allowed-ips 0.0.0.0/0,::/0 persistent-keepalive 25\n'
demo_client
note "handshake with acc done $DEMO_HS_MS ms after the peer was set"
printf '$ ping -n -c 3 -i 0.2 -W 3 %s      (in %s)\n' "$INET_EU4" "$NS_CLI"
nsx "$NS_CLI" ping -n -c 3 -i 0.2 -W 3 "$INET_EU4" >"$EG_TMP/ping-first.log" 2>&1
rc=$?
indent <"$EG_TMP/ping-first.log"
[ "$rc" = 0 ] || die "no answer from $INET_EU4 through the fabric"
F_FIRST=$(sed -n 's/.*icmp_seq=1 .*time=\([0-9.]*\).*/\1/p' "$EG_TMP/ping-first.log")
printf '$ wg show %s\n' "$IF_CLI"
nsx "$NS_CLI" wg show "$IF_CLI" | indent

say "HTTPS to a German and a US site (curl, through the tunnel)"
for h in "$INET_EU4" "$INET_US4"; do
	printf '$ curl --cacert tls.crt --resolve fabric.test:443:%s https://fabric.test/\n' "$h"
	out=$(nsx "$NS_CLI" curl -sS -o /dev/null --max-time 5 --cacert "$EG_TMP/tls.crt" \
		--resolve "fabric.test:443:$h" -w '%{http_code} %{size_download} %{time_total}' \
		https://fabric.test/ 2>&1) || die "curl https://fabric.test/ at $h: $out"
	read -r code size secs <<<"$out"
	note "  HTTP $code, $size bytes in $(awk -v t="$secs" 'BEGIN { printf "%.0f", t * 1000 }') ms"
done

say "Where the sessions went: acc's flow table"
nctl_show flows "$IF_ACC"
say "Why: egressctl explain replays the decision (rule, class, candidates, scores)"
nctl_show explain "$IF_ACC" --user alice --src "$OV_CLI4" --dst "$INET_EU4:443/tcp"
nctl_show explain "$IF_ACC" --user alice --src "$OV_CLI4" --dst "$INET_US4:443/tcp"
nctl_show explain "$IF_ACC" --user alice --src "$OV_CLI4" --dst "$INET_US4:23/tcp"
say "acc's underlay paths, measured by in-tunnel probes every $DEMO_PROBE_INTERVAL"
nctl_show paths "$IF_ACC"

# ---------------------------------------------------------------- failover

# path_state PEER PATH / path_down_after PEER PATH T0: ms from T0 (now_ms)
# until acc calls the path down, polled every 20 ms for up to 3 s.
path_state() { fab_path_field "$1" "$2" state; }
path_is_up() { [ "$(path_state "$1" "$2")" = up ]; }
path_down_after() {
	local end=$(($3 + 3000))
	while [ "$(path_state "$1" "$2")" != down ]; do
		[ "$(now_ms)" -ge "$end" ] && { echo never; return 1; }
		sleep 0.02
	done
	ms_since "$3"
}
# cut LINK: nftables drops on the egress's end of the veth (fabric_lib.sh).
cut() {
	printf '$ nft -f drop.nft     (in %s: drop everything in and out of %s, link %s)\n' \
		"${FAB_LINK_NS[$1]}" "${FAB_LINK_EIF[$1]}" "$1"
	fabric_blackhole "$1" on nft || die "cutting $1"
}
icmp_flows() { nctl_show flows "$IF_ACC" --proto icmp --dst "$INET_EU4"; }
failover_counters() {
	printf '$ egressctl stats %s | grep -E "failover|path_state"\n' "$IF_ACC"
	stats "$IF_ACC" | grep -E 'failover|path_state' | indent
}

say "Cutting the pinned path: fra1 via internet (ping every 50 ms meanwhile)"
PING_LOG=$EG_TMP/ping-failover.log
printf '$ ping -D -n -i 0.05 -w 7 %s &     (in %s)\n' "$INET_EU4" "$NS_CLI"
eg_spawn ping-failover ip netns exec "$NS_CLI" ping -D -n -i 0.05 -W 1 -w 7 "$INET_EU4"
PING_PID=$EG_PID
sleep 1
icmp_flows
T=$(now_ms); CUT1=$EPOCHREALTIME
cut fra1a
F_DOWN1=$(path_down_after fra1 internet "$T") || die "fra1 via internet never went down"
note "acc: fra1 via internet is down after $F_DOWN1 ms ($DEMO_DOWN_AFTER probes lost in a row)"
sleep 0.3
icmp_flows
note "same egress, other underlay: the session keeps its egress IP (its NAT entry lives on fra1)"
failover_counters

say "Cutting fra1's private link too: fra1 is gone, its sessions move to nyc1"
sleep 1
T=$(now_ms); CUT2=$EPOCHREALTIME
cut fra1b
F_DOWN2=$(path_down_after fra1 private "$T") || die "fra1 via private never went down"
note "acc: fra1 via private is down after $F_DOWN2 ms"
sleep 0.3
icmp_flows
nctl_show explain "$IF_ACC" --user alice --src "$OV_CLI4" --dst "$INET_EU4/icmp"
failover_counters
wait "$PING_PID"
# longest gap between replies before the cuts, after the first, after the second
read -r F_GAP0 F_GAP1 F_GAP2 F_RX F_TX < <(awk -v c1="$CUT1" -v c2="$CUT2" '
	/icmp_seq=/ { t = substr($1, 2, length($1) - 2) + 0
		if (prev) { g = (t - prev) * 1000; k = t > c2 ? 2 : t > c1 ? 1 : 0
			if (g > max[k]) max[k] = g }
		prev = t }
	/packets transmitted/ { tx = $1; rx = $4 }
	END { printf "%.0f %.0f %.0f %d %d\n", max[0], max[1], max[2], rx, tx }' "$PING_LOG")
note "ping: $F_RX of $F_TX answered; longest gap between replies: ${F_GAP0} ms before the cuts,"
note "${F_GAP1} ms across the first (same egress), ${F_GAP2} ms across the second (other egress)"
[ "${F_RX:-0}" -gt 0 ] && [ "$(tail -n 20 "$PING_LOG" | grep -c icmp_seq)" -gt 5 ] ||
	die "ping did not go on after the cuts"

say "Links back: the paths come up again; pinned sessions stay where they are"
T=$(now_ms)
fabric_blackhole fra1a off nft && fabric_blackhole fra1b off nft || die "restoring fra1's links"
wait_for 5 "fra1 via internet back up" path_is_up fra1 internet &&
	wait_for 5 "fra1 via private back up" path_is_up fra1 private ||
	die "fra1's paths did not come back"
F_UP=$(ms_since "$T")
note "both of fra1's paths up again after $F_UP ms ($DEMO_UP_AFTER good probes in a row)"
nctl_show paths "$IF_ACC"

# ---------------------------------------------------------------- dashboard

say "The controller knows it all: nodes, audit log, dashboard"
wait_for 8 "controller: 3 nodes online on version 2" ctl_nodes_online 2 ||
	die "the controller does not see the nodes on version 2"
wait_for 8 "controller: acc's telemetry has its paths up" ctl_paths_up ||
	die "the controller's telemetry does not show acc's paths up"
ectl_show nodes
ectl_show audit
TOKEN=$(cat "$DEMO_TOKEN_FILE")
DASH_URL="$CTL_URL/#token=$TOKEN"
code=$(nsx "$NS_CTL" curl -sS -o /dev/null -w '%{http_code}' --max-time 5 \
	--cacert "$DEMO_CA" "$CTL_URL/" 2>&1)
[ "$code" = 200 ] || die "the dashboard page answers '$code'"
note "dashboard: $DASH_URL"
note "the controller lives in $NS_CTL; reach it with, for example:"
note "  ip netns exec $NS_CTL curl --cacert $DEMO_CA $CTL_URL/"
note "  ip netns exec $NS_CTL chromium --no-sandbox --ignore-certificate-errors '$DASH_URL'"
SHOT=
if command -v chromium >/dev/null; then
	SHOT=$EG_BUILD/demo-dashboard.png
	rm -f "$SHOT"
	printf '$ chromium --headless --no-sandbox --disable-gpu --screenshot=%s \\\n' "$SHOT"
	printf '      --window-size=1400,1000 --virtual-time-budget=5000 URL     (in %s)\n' "$NS_CTL"
	mkdir -p "$EG_TMP/chromium"
	eg_spawn chromium ip netns exec "$NS_CTL" env HOME="$EG_TMP/chromium" \
		timeout -k 5 60 chromium --headless --no-sandbox --disable-gpu \
		--ignore-certificate-errors --user-data-dir="$EG_TMP/chromium" \
		--screenshot="$SHOT" --window-size=1400,1000 --virtual-time-budget=5000 "$DASH_URL"
	wait "$EG_PID"
	if [ -s "$SHOT" ]; then note "screenshot: $SHOT ($(stat -c %s "$SHOT") bytes)"
	else note "no screenshot: $(tail -n 2 "$EG_TMP/chromium.log" | tr '\n' ' ')"; SHOT=; fi
else
	note "chromium is not installed: no screenshot"
fi

# ---------------------------------------------------------------- figures

# A sanitizer build (SAN=1) or a crash reports into a daemon's log.
if grep -l -E 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' \
	"$EG_TMP"/*.log >"$EG_TMP/san.txt" 2>/dev/null; then
	die "sanitizer report in $(tr '\n' ' ' <"$EG_TMP/san.txt")"
fi

say "Figures"
F_TOTAL=$(ms_since "$T_START")
cat <<EOF
  client handshake with acc (wireguard-go -> egressd)  $DEMO_HS_MS ms
  first ping through acc and fra1 (RTT)                ${F_FIRST:-?} ms
  three nodes enrolled and running policy version 1    $F_ENROLL ms after the first egressd started
  egressctl apply -> every node running version 2      $F_APPLY ms
  path down after its link was cut                     $F_DOWN1 ms (fra1 internet), $F_DOWN2 ms (fra1 private)
  failover gap, ping every 50 ms                       $F_GAP1 ms to fra1's other link, $F_GAP2 ms to nyc1 (normal: $F_GAP0 ms)
  ping replies                                         $F_RX of $F_TX
  paths back up after the links returned               $F_UP ms
  dashboard                                            $DASH_URL
EOF
[ -n "$SHOT" ] && echo "  screenshot                                           $SHOT"
echo "  demo time                                            $((F_TOTAL / 1000)).$((F_TOTAL % 1000 / 100)) s"

if [ "${DEMO_HOLD:-0}" = 1 ]; then
	say "DEMO_HOLD=1: everything stays up; Enter (or Ctrl-C) tears it down"
	note "namespaces: $NS_CLI $NS_ACC $NS_FRA1 $NS_NYC1 $NS_INET $NS_CTL"
	note "files: $EG_TMP (policy-v1.yaml, policy-v2.yaml, *.log, events-*.jsonl)"
	note "try: egressctl flows $IF_ACC; egressctl paths $IF_ACC"
	trap 'echo; echo "demo: tearing down"; exit 0' INT
	read -r _ || true
fi
echo
echo "demo: done; stopping every process and deleting the namespaces"
