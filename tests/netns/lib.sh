# tests/netns/lib.sh: sourced (by bash) from tests/netns/test_*.sh, demo/ and
# bench/. Builds small networks out of namespaces and veth pairs following
# /work/shared/TESTBED.md: every name carries a per-run prefix (eg$$), every
# process we start is tracked by pid and killed on exit, every namespace and
# leftover UAPI socket of ours is removed, every wait is a bounded poll.
#
#   . tests/netns/lib.sh "$BUILD"
#
# EG_IMPL=egressd (default) | wggo selects what start_egressd starts: with
# wggo, wireguard-go stands in for egressd and egressctl-only checks skip.

set -u

EG_BUILD=${1:-${EG_BUILD:-build}}
case $EG_BUILD in /*) ;; *) EG_BUILD=$PWD/$EG_BUILD ;; esac
EG_IMPL=${EG_IMPL:-egressd}
EG_TEST=$(basename "$0" .sh)
if [ "$(id -u)" != 0 ]; then
	echo "$EG_TEST: needs root (network namespaces, TUN)" >&2
	exit 2
fi
EG_P="eg$$"				# per-run prefix of namespaces and interfaces
EG_TMP=$(mktemp -d "/tmp/$EG_P.XXXXXX")
EG_UAPI_DIR=/var/run/wireguard
EG_PIDS=()				# processes we started
EG_NSS=()				# namespaces we created
EG_IFS=()				# WireGuard interfaces we created
EG_CHECKS=0
EG_FAILS=0
EG_PID=				# the last process started by eg_spawn


# ---------------------------------------------------------------- reporting

eg_log() { printf '# %s\n' "$*"; }
ok() { EG_CHECKS=$((EG_CHECKS + 1)); printf '  ok   %s\n' "$*"; }
fail() {
	EG_CHECKS=$((EG_CHECKS + 1)); EG_FAILS=$((EG_FAILS + 1))
	printf '  FAIL %s\n' "$*"
}
skip() { printf '  skip %s\n' "$*"; }
# die MSG: a setup step failed, nothing after it can be meaningful.
die() { fail "$*"; eg_dump_logs; exit 1; }

# check DESC CMD...: ok when CMD exits 0; on failure shows its output.
check() {
	local desc=$1 out; shift
	if out=$("$@" 2>&1); then ok "$desc"
	else fail "$desc (command: $*)"; printf '%s\n' "$out" | tail -n 8 | sed 's/^/       | /'
	fi
}
# check_not DESC CMD...: ok when CMD fails.
check_not() {
	local desc=$1; shift
	if "$@" >/dev/null 2>&1; then fail "$desc (command succeeded: $*)"; else ok "$desc"; fi
}
check_eq() { if [ "$2" = "$3" ]; then ok "$1 ($2)"; else fail "$1: got '$2', want '$3'"; fi; }
eg_num() { case $1 in ''|*[!0-9]*) return 1 ;; esac; }
check_gt() {
	if eg_num "$2" && eg_num "$3" && [ "$2" -gt "$3" ]; then ok "$1 ($2 > $3)"
	else fail "$1: got '$2', want > $3"; fi
}
check_ge() {
	if eg_num "$2" && eg_num "$3" && [ "$2" -ge "$3" ]; then ok "$1 ($2 >= $3)"
	else fail "$1: got '$2', want >= $3"; fi
}
check_le() {
	if eg_num "$2" && eg_num "$3" && [ "$2" -le "$3" ]; then ok "$1 ($2 <= $3)"
	else fail "$1: got '$2', want <= $3"; fi
}
check_match() {		# check_match DESC STRING ERE
	if printf '%s' "$2" | grep -Eq -- "$3"; then ok "$1 ($2)"
	else fail "$1: got '$2', want match /$3/"; fi
}

# finish: last line of every test; exit status says whether all checks held.
finish() {
	local f
	# A sanitizer build (SAN=1) reports into the daemon's log; so does a crash.
	for f in "$EG_TMP"/*.log; do
		[ -f "$f" ] || continue
		if grep -Eq 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' "$f"; then
			fail "sanitizer report in $(basename "$f"):"
			grep -E -m 3 -A 6 'Sanitizer|runtime error:' "$f" | sed 's/^/       | /'
		fi
	done
	if [ "$EG_FAILS" -ne 0 ]; then
		eg_dump_logs
		echo "$EG_TEST: $EG_CHECKS checks, $EG_FAILS failed"
		exit 1
	fi
	echo "$EG_TEST: $EG_CHECKS checks, 0 failed"
	exit 0
}

eg_dump_logs() {
	local f
	for f in "$EG_TMP"/*.log; do
		[ -s "$f" ] || continue
		echo "--- tail of $(basename "$f")"
		tail -n 15 "$f" | sed 's/^/    /'
	done
}

# ---------------------------------------------------------------- time, waits

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

# wait_for SECONDS DESC CMD...: polls CMD every 0.1 s until it succeeds;
# on timeout reports a failure and returns 1.
wait_for() {
	local secs=$1 desc=$2 end; shift 2
	end=$(($(now_ms) + secs * 1000))
	while ! "$@" >/dev/null 2>&1; do
		if [ "$(now_ms)" -ge "$end" ]; then
			fail "timed out after ${secs}s waiting for: $desc"
			return 1
		fi
		sleep 0.1
	done
}
# poll SECONDS CMD...: as wait_for, silent; the caller decides.
poll() {
	local secs=$1 end; shift
	end=$(($(now_ms) + secs * 1000))
	while ! "$@" >/dev/null 2>&1; do
		[ "$(now_ms)" -ge "$end" ] && return 1
		sleep 0.1
	done
}

# ---------------------------------------------------------------- processes

# pid_alive PID: running and not a zombie.
pid_alive() {
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}

# eg_spawn LOGNAME CMD...: runs CMD in the background, output to
# $EG_TMP/LOGNAME.log; its pid lands in EG_PID and is killed on exit.
# (Not from $(...): the process must be this shell's child.)
eg_spawn() {
	local log=$EG_TMP/$1.log; shift
	"$@" >>"$log" 2>&1 &
	EG_PID=$!
	EG_PIDS+=("$EG_PID")
}

# stop_pid PID [SIGNAL]: signals (TERM), waits up to 3 s, then KILLs; reaps.
stop_pid() {
	local pid=$1 sig=${2:-TERM} i
	kill "-$sig" "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	for i in $(seq 30); do pid_alive "$pid" || break; sleep 0.1; done
	pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

eg_cleanup() {
	local rc=$? pid ns ifn
	trap - EXIT INT TERM
	for pid in "${EG_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${EG_PIDS[@]}"; do stop_pid "$pid"; done
	for ns in "${EG_NSS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	for ifn in "${EG_IFS[@]}"; do
		rm -f "$EG_UAPI_DIR/$ifn.sock" "/var/run/egress/$ifn.ctl" \
		      "/var/run/egress/$ifn.sock" "/run/egress/$ifn.sock"
	done
	if [ -n "${EG_KEEP_TMP:-}" ]; then echo "# logs kept in $EG_TMP"
	else rm -rf "$EG_TMP"; fi
	exit "$rc"
}
trap eg_cleanup EXIT
trap 'echo "$EG_TEST: interrupted"; exit 130' INT TERM HUP

# ---------------------------------------------------------------- topology

# ns_add NAME...: new namespaces (pass "$EG_P-short" names), loopback up,
# no IPv6 DAD wait, IP forwarding off (hosts, not routers).
ns_add() {
	local ns
	for ns in "$@"; do
		ip netns add "$ns" || die "ip netns add $ns"
		EG_NSS+=("$ns")
		ip -n "$ns" link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0 >/dev/null 2>&1
	done
}
# veth_add NS1 IF1 NS2 IF2: a veth pair straight into two namespaces, up.
veth_add() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" ||
		die "veth $1/$2 <-> $3/$4"
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}
# addr_add NS IF ADDR/LEN...: IPv6 ones without duplicate address detection.
addr_add() {
	local ns=$1 ifn=$2 a; shift 2
	for a in "$@"; do
		case $a in
		*:*) ip -n "$ns" addr add "$a" dev "$ifn" nodad || die "addr $a on $ns/$ifn" ;;
		*) ip -n "$ns" addr add "$a" dev "$ifn" || die "addr $a on $ns/$ifn" ;;
		esac
	done
}
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# ifname SHORT: a WireGuard interface name unique to this run (<= 15 chars).
ifname() { echo "${EG_P}$1" | cut -c1-15; }

# ---------------------------------------------------------------- keys

# key_new NAME: $EG_TMP/NAME.key and NAME.pub.
key_new() {
	(umask 077; wg genkey >"$EG_TMP/$1.key") || die "wg genkey"
	wg pubkey <"$EG_TMP/$1.key" >"$EG_TMP/$1.pub" || die "wg pubkey"
}
keyfile() { echo "$EG_TMP/$1.key"; }
pub() { cat "$EG_TMP/$1.pub"; }

# ---------------------------------------------------------------- WireGuard

uapi_sock() { echo "$EG_UAPI_DIR/$1.sock"; }

# eg_wait_uapi PID IFNAME: the daemon answers `wg show`, or fail with its log.
eg_wait_uapi() {
	local pid=$1 ifn=$2 end
	end=$(($(now_ms) + 5000))
	while :; do
		if ! pid_alive "$pid"; then
			wait "$pid" 2>/dev/null
			die "daemon for $ifn exited at start: $(tail -n 5 "$EG_TMP/$ifn.log" | tr '\n' ' ')"
		fi
		[ -S "$(uapi_sock "$ifn")" ] && wg show "$ifn" >/dev/null 2>&1 && return 0
		[ "$(now_ms)" -ge "$end" ] && die "no UAPI socket for $ifn after 5s"
		sleep 0.05
	done
}

# start_wggo NS IFNAME: wireguard-go in the foreground; pid in EG_PID.
start_wggo() {
	EG_IFS+=("$2")
	eg_spawn "$2" ip netns exec "$1" env WG_PROCESS_FOREGROUND=1 \
		LOG_LEVEL="${WG_LOG_LEVEL:-error}" wireguard-go "$2"
	eg_wait_uapi "$EG_PID" "$2"
}

# start_egressd NS IFNAME: egressd in the foreground (or wireguard-go when
# EG_IMPL=wggo); pid in EG_PID.
start_egressd() {
	if [ "$EG_IMPL" = wggo ]; then start_wggo "$@"; return; fi
	[ -x "$EG_BUILD/egressd" ] || die "no $EG_BUILD/egressd (build it, or EG_IMPL=wggo)"
	EG_IFS+=("$2")
	eg_spawn "$2" ip netns exec "$1" "$EG_BUILD/egressd" -f "$2"
	eg_wait_uapi "$EG_PID" "$2"
}
is_egressd() { [ "$EG_IMPL" != wggo ]; }

# wg_dev NS IFNAME KEY PORT [ADDR/LEN...]: identity, port, addresses, up.
wg_dev() {
	local ns=$1 ifn=$2 key=$3 port=$4; shift 4
	nsx "$ns" wg set "$ifn" private-key "$(keyfile "$key")" listen-port "$port" ||
		die "wg set $ifn private-key/listen-port"
	[ $# -gt 0 ] && addr_add "$ns" "$ifn" "$@"
	ip -n "$ns" link set "$ifn" up || die "link up $ifn"
}
# wg_peer NS IFNAME PEERKEY ALLOWED [ENDPOINT [KEEPALIVE]]
wg_peer() {
	local ns=$1 ifn=$2 peer=$3 allowed=$4 ep=${5:-} ka=${6:-}
	set -- peer "$(pub "$peer")" allowed-ips "$allowed"
	[ -n "$ep" ] && set -- "$@" endpoint "$ep"
	[ -n "$ka" ] && set -- "$@" persistent-keepalive "$ka"
	nsx "$ns" wg set "$ifn" "$@" || die "wg set $ifn $*"
}

# wg_field IFNAME PEERKEY FIELD: one field of the peer's `wg show dump` line
# (endpoint, allowed, handshake, rx, tx, keepalive).
wg_field() {
	local n
	case $3 in
	endpoint) n=3 ;; allowed) n=4 ;; handshake) n=5 ;;
	rx) n=6 ;; tx) n=7 ;; keepalive) n=8 ;; *) return 1 ;;
	esac
	wg show "$1" dump 2>/dev/null |
		awk -F '\t' -v p="$(pub "$2")" -v n="$n" 'NR > 1 && $1 == p { print $n }'
}
# has_handshake IFNAME PEERKEY: a handshake with the peer completed.
has_handshake() { local t; t=$(wg_field "$1" "$2" handshake); [ -n "$t" ] && [ "$t" -gt 0 ]; }

# ---------------------------------------------------------------- stats

# stats IFNAME: `egressctl stats` (empty under EG_IMPL=wggo).
stats() {
	is_egressd || return 0
	timeout 5 "$EG_BUILD/egressctl" stats "$1" 2>/dev/null
}
# stat_get IFNAME NAME: one counter's value ("" when not available).
stat_get() { stats "$1" | awk -v n="$2" '$1 == n { print $2 }'; }
# stat_sum IFNAME ERE: the sum of every counter whose name matches ERE.
stat_sum() { stats "$1" | awk -v re="$2" '$1 ~ re { s += $2 } END { print s + 0 }'; }
# check_stat_delta DESC BEFORE AFTER MIN: counter moved by at least MIN.
check_stat_delta() {
	is_egressd || { skip "$1 (no egressctl under EG_IMPL=wggo)"; return; }
	if eg_num "$2" && eg_num "$3" && [ $(($3 - $2)) -ge "$4" ]; then ok "$1 (+$(($3 - $2)))"
	else fail "$1: went from '$2' to '$3', want a rise of >= $4"; fi
}

# ---------------------------------------------------------------- traffic

# ping_n NS DEST COUNT [ARGS...]: prints how many of COUNT echo requests
# (0.1 s apart, 1 s wait for the last) were answered.
ping_n() {
	local ns=$1 dst=$2 n=$3; shift 3
	nsx "$ns" timeout $((n / 5 + 5)) ping -n -q -c "$n" -i 0.1 -W 1 "$@" "$dst" 2>/dev/null |
		sed -n 's/.* \([0-9][0-9]*\) received.*/\1/p' | grep . || echo 0
}
# ping1 NS DEST [ARGS...]: one echo request answered within 1 s.
ping1() { local ns=$1 dst=$2; shift 2; nsx "$ns" ping -n -q -c 1 -W 1 "$@" "$dst" >/dev/null 2>&1; }
# ping_wait NS DEST SECONDS: pings until one answer (a handshake happens).
ping_wait() { wait_for "$3" "$1 -> $2 answers ping" ping1 "$1" "$2"; }
# check_ping DESC NS DEST [COUNT [ARGS...]]: all COUNT (5) pings answered,
# after a first answer within 10 s.
check_ping() {
	local desc=$1 ns=$2 dst=$3 n=${4:-5} got
	shift 3; [ $# -gt 0 ] && shift
	if ! poll 10 ping1 "$ns" "$dst" "$@"; then fail "$desc: no answer within 10 s"; return 1; fi
	got=$(ping_n "$ns" "$dst" "$n" "$@")
	if [ "$got" = "$n" ]; then ok "$desc ($got/$n)"; else fail "$desc: $got/$n answered"; return 1; fi
}

# listening NS PORT tcp|udp: something listens on PORT in NS.
listening() {
	case $3 in
	udp) nsx "$1" ss -Hlun "sport = :$2" | grep -q . ;;
	*) nsx "$1" ss -Hltn "sport = :$2" | grep -q . ;;
	esac
}

# ---------------------------------------------------------------- standard pair
#
# topo_pair: namespaces S (egressd side) and C (client side) joined by veth
# s0 <-> c0.  Underlay 198.18.0.1/24 + 2001:db8:1::1/64 (S), .2 / ::2 (C).
# Overlay addresses: S 100.64.0.1 + 2001:db8:100::1, C 100.64.0.2 + ::2.
S=$EG_P-srv
C=$EG_P-cli
S4=198.18.0.1 C4=198.18.0.2 S6=2001:db8:1::1 C6=2001:db8:1::2
OS4=100.64.0.1 OC4=100.64.0.2 OS6=2001:db8:100::1 OC6=2001:db8:100::2
SPORT=51820 CPORT=51821
topo_pair() {
	ns_add "$S" "$C"
	veth_add "$S" s0 "$C" c0
	addr_add "$S" s0 "$S4/24" "$S6/64"
	addr_add "$C" c0 "$C4/24" "$C6/64"
}
