# tests/controller/lib.sh: what the controller's loopback tests share.
# Source it after setting BIN (the egress-controller binary) and tmp (a
# scratch folder); it keeps passed/failed, PID, PORT, URL, CODE, OUT.
# CHECK_OK=1 prints "ok - WHAT" for each passing check too.
passed=0 failed=0
PID=

check() {	# check DESCRIPTION COMMAND...
	local what=$1; shift
	if "$@"; then
		passed=$((passed + 1))
		[ "${CHECK_OK:-0}" = 1 ] && echo "ok - $what"
	else
		failed=$((failed + 1))
		echo "FAIL: $what" >&2
	fi
	return 0
}

# start DB [options...]: runs the controller in the foreground on a free
# port; sets PID, PORT and URL.
start() {
	local db=$1; shift
	: >"$tmp/log"
	"$BIN" --listen 127.0.0.1:0 --db "$db" -f "$@" >"$tmp/log" 2>&1 &
	PID=$!
	for _ in $(seq 100); do
		PORT=$(sed -n 's/^listening on .* port \([0-9]*\).*/\1/p' "$tmp/log")
		[ -n "$PORT" ] && break
		sleep 0.05
	done
	URL=http://127.0.0.1:$PORT
}

stop() {	# SIGTERM, then the log must show no sanitizer report
	kill "$PID" 2>/dev/null
	wait "$PID" 2>/dev/null
	PID=
	check "clean stop (no sanitizer report)" \
		bash -c "! grep -qE 'Sanitizer|runtime error' '$tmp/log'"
}

# req METHOD PATH [BODY|@FILE] [TOKEN] [curl args...]: sets CODE and OUT.
req() {
	local method=$1 path=$2 body=${3-} tok=${4-}
	shift 4 2>/dev/null || shift $#
	local args=(-s -o "$tmp/out" -w '%{http_code}' -X "$method")
	[ -n "$tok" ] && args+=(-H "Authorization: Bearer $tok")
	[ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
	CODE=$(curl "${args[@]}" "$@" "$URL$path")
	OUT=$(cat "$tmp/out")
}

jqo() { jq -r "$1" <<<"$OUT"; }

audit_count() {	# audit_count ACTION: audit rows of that action (admin token)
	req GET "/api/v1/audit?limit=1000" "" "$ADMIN"
	jq "[.entries[] | select(.action == \"$1\")] | length" <<<"$OUT"
}
