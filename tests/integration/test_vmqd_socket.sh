#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# vmqd's control socket against hostile or broken clients
# (docs/protocol.md):
#   - garbage (random binary, a 1 MB line without a newline, invalid JSON,
#     a JSON value that is not an object, a NUL byte, a wrong version)
#     is answered with errors, and the daemon keeps serving: `daemon ping`
#     and `dev show` work after each, from the same pid;
#   - the size limit: a 65535-byte request is served, a longer one is
#     answered with an error and the connection closed;
#   - a client that sent half a request and went silent, one that never
#     sent anything, and one that floods requests and never reads its
#     answers do not delay others; the half request's connection is closed
#     after about 10 s;
#   - permissions: the socket is 0600 root:root; an unprivileged user is
#     refused, by the file mode and, with the mode opened, by vmqd's own
#     SO_PEERCRED check; `vmqd --group G` makes it 0660 root:G and lets G in;
#   - a second vmqd on the same socket path refuses to start, and leaves the
#     first one, its socket and the data plane alone.
# Departures from docs/protocol.md are collected and reported together at
# the end (the test fails if there are any).
#
# Cases (tests/run.sh test_vmqd_socket CASE...): clients, random_bytes,
# size_limit, bad_lines, pipelining, half_request, permissions, group_socket,
# second_vmqd, not_a_socket; each stands alone.
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
vmqt_init setpriv stat
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl"

vmqt_vmqd_setup


DOC_MISMATCH=()
VMQT_CASE_KEEP+=(DOC_MISMATCH) # reported after the cases
mismatch() {
	DOC_MISMATCH+=("$1")
	printf '   MISMATCH: %s\n' "$1" >&2
}

vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"
PID=$VMQT_VMQD_PID
vmqt_ctl dev attach "$DEV" default-txq 7 >/dev/null
vmqt_ctl queue add "$DEV" id 1 txq 1 vm vm1 >/dev/null
STATE=$(vmqt_state)

# serving WHAT: the same vmqd answers ping and dev show, at once (< 1 s),
# and nothing changed.
serving() {
	local t0 t1 pid now
	t0=$(date +%s%N)
	pid=$(vmqt_ctl -j daemon ping | vmqt_json 'j["pid"]')
	now=$(vmqt_state)
	t1=$(date +%s%N)
	vmqt_assert_eq "$1: pid answering daemon ping" "$PID" "$pid"
	[ "$now" = "$STATE" ] || vmqt_fail "$1: state changed: $now"
	[ $(((t1 - t0) / 1000000)) -lt 1000 ] ||
		vmqt_fail "$1: ping + dev/queue/group show took $(((t1 - t0) / 1000000)) ms (expected < 1000)"
}

ping='{"version":1,"object":"daemon","command":"ping"}'
NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
# nobody_ctl SOCK ARGS...: vmqctl as nobody; sets VMQT_CTL_RC/OUT/ERR.
nobody_ctl() {
	local sock=$1 out err
	shift
	out=$(mktemp "$VMQT_TMP/out.XXXXXX")
	err=$(mktemp "$VMQT_TMP/err.XXXXXX")
	chmod 644 "$out" "$err"
	VMQT_CTL_RC=0
	"${NOBODY[@]}" "$BUILD/vmqctl" -s "$sock" "$@" >"$out" 2>"$err" || VMQT_CTL_RC=$?
	VMQT_CTL_OUT=$(cat "$out")
	VMQT_CTL_ERR=$(cat "$err")
	rm -f "$out" "$err"
}

# half_request OUT: a client that sends half a request then goes silent,
# in the background; it reports to OUT when (and whether) vmqd closed it.
# Sets PARTIAL_PID. Only the shell that started it can wait for it: the
# case that checks its exit status starts its own.
half_request() {
	"$VMQT_PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b"{\"version\": 1, \"object\": \"daemon\", \"comm")
t0 = time.monotonic()
s.settimeout(20)
data = b""
try:
    while True:
        c = s.recv(4096)
        if not c:
            break
        data += c
    print("closed after %.1f s, %d bytes answered" % (time.monotonic() - t0, len(data)))
except socket.timeout:
    print("still open after 20 s")
' "$VMQT_SOCK" >"$1" 2>&1 &
	PARTIAL_PID=$!
	VMQT_PIDS+=("$PARTIAL_PID")
}
# Held while the clients case checks that others are served.
half_request "$VMQT_TMP/partial-held.out"
# Connected, silent, for the whole test.
"$VMQT_PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
time.sleep(60)
' "$VMQT_SOCK" &
VMQT_PIDS+=("$!")

# --- clients that hold a connection ---------------------------------------------------
vmqt_case clients
case_clients() {
	sleep 0.3
	serving "while a half request and a silent client hold connections"
	vmqt_ok "a half request and a silent client hold connections: others served at once"

	# Pipelines 2000 requests in one write and never reads the answers: vmqd
	# must neither block on it nor make others wait for all of its requests.
	"$VMQT_PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b"{\"version\":1,\"object\":\"queue\",\"command\":\"show\"}\n" * 2000)
time.sleep(60)
' "$VMQT_SOCK" &
	FLOOD_PID=$!
	VMQT_PIDS+=("$FLOOD_PID")
	sleep 0.2
	t0=$(date +%s%N)
	vmqt_ctl daemon ping >/dev/null
	ms=$((($(date +%s%N) - t0) / 1000000))
	if [ "$ms" -ge 1000 ]; then
		mismatch "a client pipelining 2000 \"queue show\" requests (never reading) delayed another client's daemon ping by $ms ms (protocol.md: \"One client never delays another\"): vmqd answers every buffered line of one client before polling the others"
	fi
	kill "$FLOOD_PID"
	rc=0
	wait "$FLOOD_PID" 2>/dev/null || rc=$?
	vmqt_forget_pid "$FLOOD_PID"
	vmqt_assert_eq "flood client's exit status (SIGTERM)" 143 "$rc"
	serving "after a non-reading flood"
	vmqt_ok "a client that pipelines 2000 requests and never reads: vmqd did not block on it (another client waited $ms ms for a ping)"
}

# --- garbage --------------------------------------------------------------------------------
vmqt_case random_bytes
case_random_bytes() {
	# all_errors WHAT ANSWER: every line but the last is {"ok": false, ...}.
	all_errors() {
		local n
		n=$(sed '$d' <<<"$2" | vmqt_json -l 'len([a for a in j if a["ok"] is False and a["error"]["errno"] > 0 and a["error"]["message"]])')
		vmqt_assert_eq "$1: error answers" "$(($(wc -l <<<"$2") - 1))" "$n"
		[ "$n" -ge 1 ] || vmqt_fail "$1: no answer at all: $2"
	}

	head -c 65536 /dev/urandom >"$VMQT_TMP/random.bin"
	out=$(vmqt_raw "$VMQT_SOCK" 3 <"$VMQT_TMP/random.bin")
	all_errors "64 KiB of random bytes" "$out"
	serving "after 64 KiB of random bytes"
	vmqt_ok "64 KiB of random bytes: $(($(wc -l <<<"$out") - 1)) error answers ($(tail -n 1 <<<"$out") afterwards), daemon serving"
}

vmqt_case size_limit
case_size_limit() {
	out=$(head -c 1048576 /dev/zero | tr '\0' a | vmqt_raw "$VMQT_SOCK" 3 keep)
	vmqt_assert_eq "1 MB line without newline: answer lines" 2 "$(wc -l <<<"$out")"
	vmqt_assert_eq "1 MB line without newline: the answer" \
		'{"version":1,"ok":false,"error":{"errno":7,"message":"request: longer than 65536 bytes"}}' \
		"$(head -n 1 <<<"$out")"
	vmqt_assert_eq "1 MB line without newline: connection closed by vmqd" EOF "$(tail -n 1 <<<"$out")"
	serving "after a 1 MB line"
	vmqt_ok "1 MB line without newline: E2BIG answer, connection closed, daemon serving"

	# A request of exactly 65535 bytes (+ newline): valid JSON padded with blanks.
	pad() { printf '%s' "${ping%\}}"; printf "%$(($1 - ${#ping}))s" ''; printf '}\n'; }
	out=$(pad 65535 | vmqt_raw "$VMQT_SOCK" 3)
	vmqt_assert_match "a 65535-byte request" '^\{"version":1,"ok":true,"result":\{"version":1,"pid":'"$PID"'\}\}$' "$(head -n 1 <<<"$out")"
	out=$(pad 65537 | vmqt_raw "$VMQT_SOCK" 3 keep)
	vmqt_assert_match "a 65537-byte request" '"errno":7,"message":"request: longer than 65536 bytes"' "$(head -n 1 <<<"$out")"
	vmqt_assert_eq "a 65537-byte request: connection closed by vmqd" EOF "$(tail -n 1 <<<"$out")"
	serving "after the size limit"
	vmqt_ok "size limit: a 65535-byte request served, a 65537-byte one refused (E2BIG) and closed"
}

vmqt_case bad_lines
case_bad_lines() {
	# garbage_line WHAT LINE REGEX: one bad line, then a ping on the same
	# connection. The bad line must get an error matching REGEX; then, per
	# docs/protocol.md ("not JSON objects, are answered with an error and the
	# connection is closed"), the connection closes; the daemon keeps serving.
	garbage_line() {
		local what=$1 out first
		out=$( { printf '%s\n' "$2"; printf '%s\n' "$ping"; } | vmqt_raw "$VMQT_SOCK" 1 keep)
		first=$(head -n 1 <<<"$out")
		vmqt_assert_match "$what: answer" '^\{"version":1,"ok":false,"error":\{"errno":[1-9][0-9]*,"message":"'"$3"'"\}\}$' "$first"
		if [ "$(tail -n 1 <<<"$out")" != EOF ] || [ "$(wc -l <<<"$out")" -ne 2 ]; then
			NOT_CLOSED+=("$what")
		fi
		serving "after $what"
		vmqt_log "$what: $first"
	}
	NOT_CLOSED=()
	garbage_line "invalid JSON" '{"version":1,' 'request: not valid JSON: [^"]*'
	garbage_line "a JSON array" '[1,2,3]' 'request: not a JSON object'
	garbage_line "a JSON string" '"ping"' 'request: not a JSON object'
	garbage_line "an empty line" '' 'request: not valid JSON: no value at byte 0'
	garbage_line "trailing bytes after the object" "$ping x" 'request: not valid JSON: bytes after the value at byte [0-9]+'
	# Strict JSON: what json-c alone would take.
	garbage_line "single quotes" "{'version':1,'object':'daemon','command':'ping'}" 'request: not valid JSON: a single quote at byte 1'
	garbage_line "a trailing comma" '{"version":1,"object":"daemon","command":"ping",}' 'request: not valid JSON: a trailing comma at byte [0-9]+'
	garbage_line "a leading zero" '{"version":01,"object":"daemon","command":"ping"}' 'request: not valid JSON: a leading zero at byte [0-9]+'
	garbage_line "a NUL in the object" '{"version":1,"object":"daemon\u0000x","command":"ping"}' 'request: not valid JSON: a NUL \(\\\\u0000\) in a string at byte [0-9]+'
	if [ "${#NOT_CLOSED[@]}" -ne 0 ]; then
		mismatch "lines that are not JSON objects ($(IFS=,; echo "${NOT_CLOSED[*]}" | sed 's/,/, /g')) are answered with an error, but vmqd keeps the connection open and serves the next request on it (protocol.md: \"not JSON objects, are answered with an error and the connection is closed\")"
	fi
	out=$( { printf '%s' "$ping" | head -c 20; printf '\0'; printf '%s\n' "$ping"; } | vmqt_raw "$VMQT_SOCK" 2)
	vmqt_assert_match "a NUL inside a line" '"ok":false' "$(head -n 1 <<<"$out")"
	serving "after a NUL byte"
	out=$(printf '{"version":2,"object":"daemon","command":"ping"}\n{"object":"daemon","command":"ping"}\n' |
		vmqt_raw "$VMQT_SOCK" 2)
	vmqt_assert_match "version 2" '"errno":71,"message":"request: protocol version must be 1"' "$(sed -n 1p <<<"$out")"
	vmqt_assert_match "no version" '"errno":71,"message":"request: protocol version must be 1"' "$(sed -n 2p <<<"$out")"
	out=$(printf '{"version":1,"object":5,"command":"ping"}\n' | vmqt_raw "$VMQT_SOCK" 2)
	vmqt_assert_match "object not a string" '"message":"request: object and command must be strings"' "$(head -n 1 <<<"$out")"
	serving "after bad envelopes"
	vmqt_ok "invalid JSON, non-objects, empty line, trailing bytes, NUL, wrong or no version, bad envelope: error answers, daemon serving"
}

vmqt_case pipelining
case_pipelining() {
	# Pipelining: many requests in one write, answered in order.
	out=$(for i in $(seq 500); do printf '{"version":1,"object":"queue","command":"show","args":{"dev":"%s","id":%d}}\n' "$DEV" $((i % 2)); done |
		vmqt_raw "$VMQT_SOCK" 5)
	n=$(sed '$d' <<<"$out" | vmqt_json -l 'sum(1 for i, a in enumerate(j) if a["ok"] and a["result"]["queues"][0]["id"] == (i + 1) % 2)')
	vmqt_assert_eq "500 pipelined requests answered in order" 500 "$n"
	vmqt_assert_eq "500 pipelined requests: closed after the client's EOF" EOF "$(tail -n 1 <<<"$out")"
	vmqt_ok "500 requests pipelined on one connection: 500 answers, in order"
}

# --- the half request's connection --------------------------------------------------------
vmqt_case half_request
case_half_request() {
	half_request "$VMQT_TMP/partial.out"
	for i in $(seq 150); do
		kill -0 "$PARTIAL_PID" 2>/dev/null || break
		# Others are served meanwhile.
		[ $((i % 10)) -ne 0 ] || serving "while a half request waits for its timeout"
		sleep 0.1
	done
	rc=0
	wait "$PARTIAL_PID" || rc=$?
	vmqt_forget_pid "$PARTIAL_PID"
	vmqt_assert_eq "half-request client: exit status" 0 "$rc"
	res=$(cat "$VMQT_TMP/partial.out")
	vmqt_assert_match "half-request client" '^closed after [0-9.]+ s, 0 bytes answered$' "$res"
	secs=$(sed 's/^closed after \([0-9]*\).*/\1/' <<<"$res")
	[ "$secs" -ge 9 ] && [ "$secs" -le 13 ] ||
		vmqt_fail "half request: expected vmqd to close it after about 10 s (protocol.md), got: $res"
	serving "after the half request's timeout"
	vmqt_ok "half request then silence: $res; others were served meanwhile"
}

# --- permissions ------------------------------------------------------------------------------
vmqt_case permissions
case_permissions() {
	mode=$(stat -c '%a %U %G %F' "$VMQT_SOCK")
	vmqt_assert_eq "socket mode, owner, group, type" "600 root root socket" "$mode"
	# $VMQT_TMP is 0700: nobody cannot even reach the socket. Open the way.
	chmod 0711 "$VMQT_TMP"
	# A refusal must come from the socket, not from nobody being unable to run vmqctl.
	nobody_ctl "$VMQT_SOCK" --version
	vmqt_assert_eq "nobody runs vmqctl --version ($VMQT_CTL_ERR)" 0 "$VMQT_CTL_RC"
	nobody_ctl "$VMQT_SOCK" daemon ping
	[ "$VMQT_CTL_RC" -ne 0 ] || vmqt_fail "nobody: vmqctl daemon ping succeeded on a 0600 root socket"
	vmqt_assert_one_error "nobody, socket 0600" "^vmqctl: cannot connect to vmqd at $VMQT_SOCK: Permission denied"
	vmqt_ok "nobody refused by the socket's mode: $VMQT_CTL_ERR"
	# With the mode opened, vmqd's own SO_PEERCRED check must refuse, and
	# vmqctl must say so (10 tries: the answer races with the request).
	chmod 0666 "$VMQT_SOCK"
	declare -A said=()
	for i in $(seq 10); do
		if ((i % 2)); then nobody_ctl "$VMQT_SOCK" dev show; else nobody_ctl "$VMQT_SOCK" queue add "$DEV" id 2 txq 2; fi
		[ "$VMQT_CTL_RC" -ne 0 ] || { chmod 0600 "$VMQT_SOCK"; vmqt_fail "nobody: vmqctl succeeded on a socket opened to 0666: vmqd did not check the peer"; }
		[ "$(printf '%s' "$VMQT_CTL_ERR" | awk 'END { print NR }')" -eq 1 ] && [ -z "$VMQT_CTL_OUT" ] ||
			{ chmod 0600 "$VMQT_SOCK"; vmqt_fail "nobody: expected one error line, got stdout '$VMQT_CTL_OUT' stderr '$VMQT_CTL_ERR'"; }
		said[$VMQT_CTL_ERR]=$((${said[$VMQT_CTL_ERR]:-0} + 1))
	done
	chmod 0600 "$VMQT_SOCK"
	serving "after unprivileged attempts"
	perm=${said["vmqctl: permission denied: vmqd serves root only"]:-0}
	if [ "$perm" -ne 10 ]; then
		msgs=""
		for m in "${!said[@]}"; do msgs="$msgs [${said[$m]}x '$m']"; done
		mismatch "nobody on a socket opened to 0666: vmqd refuses, but vmqctl reported the permission error only $perm times in 10:$msgs"
	fi
	vmqt_ok "nobody refused by vmqd itself when the mode lets it connect (10 of 10 refused; $perm said permission denied), state unchanged"
}

vmqt_case group_socket
case_group_socket() {
	chmod 0711 "$VMQT_TMP" # nobody reaches the socket (as in permissions)
	# --group: a second daemon, its own socket and (empty) pin directory.
	GRP=users
	getent group "$GRP" >/dev/null || vmqt_fail "group $GRP not found (Debian has it)"
	GSOCK=$VMQT_TMP/vmqd-group.sock
	vmqt_vmqd_start "$HNS" "$GSOCK" "$VMQT_BPFFS/vmq-group" --group "$GRP"
	GPID=$VMQT_VMQD_PID
	mode=$(stat -c '%a %U %G' "$GSOCK")
	vmqt_assert_eq "vmqd --group $GRP: socket mode, owner, group" "660 root $GRP" "$mode"
	NOBODY=(setpriv --reuid=nobody --regid="$GRP" --clear-groups)
	nobody_ctl "$GSOCK" daemon ping
	vmqt_assert_eq "nobody with primary group $GRP: vmqctl daemon ping exit status ($VMQT_CTL_ERR)" 0 "$VMQT_CTL_RC"
	NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
	nobody_ctl "$GSOCK" daemon ping
	[ "$VMQT_CTL_RC" -ne 0 ] || vmqt_fail "nobody outside $GRP: daemon ping succeeded on the --group socket"
	vmqt_assert_one_error "nobody outside $GRP" "Permission denied"
	NOBODY=(setpriv --reuid=nobody --regid=nogroup --groups="$GRP")
	nobody_ctl "$GSOCK" daemon ping
	if [ "$VMQT_CTL_RC" -ne 0 ]; then
		mismatch "vmqd --group $GRP refuses a member of $GRP by supplementary group (protocol.md: \"a member of the granted group\"): $VMQT_CTL_ERR"
	fi
	vmqt_vmqd_kill "$GPID" TERM
	vmqt_assert_eq "the --group vmqd's exit status after SIGTERM" 0 "$VMQT_KILL_RC"
	NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
	chmod 0700 "$VMQT_TMP"
	vmqt_ok "vmqd --group $GRP: socket 660 root:$GRP; primary group $GRP let in, others refused"
}

# --- a second vmqd on the same socket -------------------------------------------------------
vmqt_case second_vmqd
case_second_vmqd() {
	inode0=$(stat -c %i "$VMQT_SOCK")
	prog0=$(vmqt_assert_hooked "before a second vmqd" "$HNS" "$DEV" egress vmq_tx_egress)
	rc=0
	timeout 10 ip netns exec "$HNS" "$BUILD/vmqd" -d "$VMQT_TMP/state-2" -s "$VMQT_SOCK" -b "$PINS" >"$VMQT_TMP/second.out" 2>"$VMQT_TMP/second.err" || rc=$?
	[ "$rc" -ne 124 ] || vmqt_fail "a second vmqd on $VMQT_SOCK was still running after 10 s (expected it to refuse)"
	[ "$rc" -ne 0 ] || vmqt_fail "a second vmqd on $VMQT_SOCK exited 0"
	vmqt_assert_match "the second vmqd's message" "$VMQT_SOCK: another vmqd is serving this socket" "$(cat "$VMQT_TMP/second.err")"
	vmqt_assert_eq "socket inode after the second vmqd" "$inode0" "$(stat -c %i "$VMQT_SOCK")"
	vmqt_assert_eq "vmq's program on $DEV egress after the second vmqd" "$prog0" \
		"$(vmqt_assert_hooked "after a second vmqd" "$HNS" "$DEV" egress vmq_tx_egress)"
	serving "after a second vmqd tried the same socket"
	vmqt_ok "a second vmqd on the same socket: exit $rc, \"$(grep -o 'another vmqd.*' "$VMQT_TMP/second.err")\"; first vmqd, socket and filter untouched"
}

vmqt_case not_a_socket
case_not_a_socket() {
	# A path that is not a socket is not vmqd's to remove.
	echo "not a socket" >"$VMQT_TMP/precious"
	rc=0
	timeout 3 ip netns exec "$HNS" "$BUILD/vmqd" -d "$VMQT_TMP/state-3" -s "$VMQT_TMP/precious" -b "$VMQT_BPFFS/vmq-third" \
		2>"$VMQT_TMP/third.err" || rc=$?
	if [ ! -f "$VMQT_TMP/precious" ] || [ "$(cat "$VMQT_TMP/precious")" != "not a socket" ]; then
		mismatch "vmqd -s PATH, PATH a regular file: vmqd deleted the file and served a socket there (exit status $rc; 124: still serving when timeout stopped it): a mistyped -s destroys a file"
	fi
	[ "$rc" -ne 124 ] || vmqt_log "(vmqd on the regular file's path served until timeout killed it)"
}

vmqt_cases "$@"

serving "at the end"
vmqt_assert_eq "vmqd's pid at the end (never restarted)" "$PID" "$(vmqt_ctl -j daemon ping | vmqt_json 'j["pid"]')"
if [ "${#DOC_MISMATCH[@]}" -ne 0 ]; then
	printf '   FAIL: %d departure(s) from docs/protocol.md or safety:\n' "${#DOC_MISMATCH[@]}" >&2
	printf '   - %s\n' "${DOC_MISMATCH[@]}" >&2
	exit 1
fi
vmqt_ok "socket: robust against garbage, fair to other clients, root only, one daemon per socket"
