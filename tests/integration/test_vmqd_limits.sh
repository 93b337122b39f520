#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Clients that hold connections cannot lock others out (docs/protocol.md,
# "Limits"):
#   - four users of the --group (uids with no name, group users) open 16
#     connections each and send "{" then one byte every 2 s: the first
#     three get their 16 each, the fourth user's are refused at once
#     (EUSERS: the last 16 slots are root's), a 17th connection of the first
#     user is refused (16 per user); root's vmqctl is answered at once
#     meanwhile; a fifth user is answered while two users hold 32, refused
#     once they hold 48;
#   - the partial-request timeout counts from a request's first byte: the
#     dribbling connections are closed about 10 s after their "{", though a
#     byte arrived every 2 s;
#   - vmqctl -t: against a socket that accepts and never answers, and one
#     whose backlog is full (every slot taken), vmqctl gives up after the
#     timeout and names the socket.
#
# Cases (tests/run.sh test_vmqd_limits CASE...): user_limits,
# partial_timeout (needs user_limits), mute_accept, mute_full, timeout_zero.
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
vmqt_init setpriv timeout
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl"

vmqt_vmqd_setup
GRP=users
getent group "$GRP" >/dev/null || vmqt_fail "group $GRP not found (Debian has it)"
vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS" --group "$GRP"
PID=$VMQT_VMQD_PID
# Users other than root must reach the socket through $VMQT_TMP, and the
# holders write to $HDIR.
chmod 0711 "$VMQT_TMP"
HDIR=$VMQT_TMP/holders
mkdir -m 1777 "$HDIR"

# A client that holds N connections: each sends "{" and then one byte
# every 2 s while it is open. Writes "ready" to READY once every "{" is
# sent, then, when all are closed (or after 30 s), one JSON line: the
# answers of the connections vmqd refused, and for the others how many
# seconds after its "{" vmqd closed each (null: still open).
cat >"$VMQT_TMP/hold.py" <<'EOF'
import json, select, socket, sys, time
path, n, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3]
conns = []
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    c = {"s": s, "t0": time.monotonic(), "data": b"", "closed": None}
    try:
        s.sendall(b"{")
    except OSError:
        pass  # refused and closed already: its answer is still to be read
    conns.append(c)
with open(ready, "w") as f:
    f.write("ready\n")
deadline = time.monotonic() + 30
next_byte = time.monotonic() + 2
while time.monotonic() < deadline and any(c["closed"] is None for c in conns):
    live = [c for c in conns if c["closed"] is None]
    r, _, _ = select.select([c["s"] for c in live], [], [], 0.1)
    for c in live:
        if c["s"] not in r:
            continue
        try:
            chunk = c["s"].recv(4096)
        except ConnectionResetError:
            chunk = b""
        if chunk:
            c["data"] += chunk
        else:
            c["closed"] = time.monotonic() - c["t0"]
    if time.monotonic() >= next_byte:
        next_byte += 2
        for c in conns:
            if c["closed"] is None:
                try:
                    c["s"].send(b" ")
                except OSError:
                    pass
refused = [c["data"].decode("utf-8", "replace") for c in conns if c["data"]]
held = [None if c["closed"] is None else round(c["closed"], 1) for c in conns if not c["data"]]
print(json.dumps({"refused": refused, "held": held}))
EOF
chmod 0644 "$VMQT_TMP/hold.py"

# hold NAME UID N: starts a holder as UID (group users) in the background,
# waits until it has sent its "{"s. Its result goes to $VMQT_TMP/NAME.out.
hold() {
	local name=$1 uid=$2 n=$3 i
	setpriv --reuid="$uid" --regid="$GRP" --clear-groups \
		"$VMQT_PY" "$VMQT_TMP/hold.py" "$VMQT_SOCK" "$n" "$HDIR/$name.ready" \
		>"$VMQT_TMP/$name.out" 2>"$VMQT_TMP/$name.err" &
	VMQT_PIDS+=("$!")
	HOLD_PIDS+=("$!")
	for i in $(seq 100); do
		[ -e "$HDIR/$name.ready" ] && break
		sleep 0.05
	done
	[ -e "$HDIR/$name.ready" ] ||
		vmqt_fail "holder $name (uid $uid) did not connect within 5 s: $(cat "$VMQT_TMP/$name.err")"
	# vmqd answers its refusals within a poll turn.
	sleep 0.3
}

# ping_as WHAT SETPRIV_ARGS...: vmqctl -t 3 daemon ping as another user
# (or as root with no arguments); must answer within 2 s.
ping_as() {
	local what=$1 t0 ms out rc=0
	shift
	t0=$(date +%s%N)
	if [ $# -gt 0 ]; then
		out=$(timeout 10 setpriv "$@" "$BUILD/vmqctl" -t 3 -s "$VMQT_SOCK" -j daemon ping 2>&1) || rc=$?
	else
		out=$(timeout 10 "$BUILD/vmqctl" -t 3 -s "$VMQT_SOCK" -j daemon ping 2>&1) || rc=$?
	fi
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$rc" -eq 0 ] || vmqt_fail "$what: vmqctl daemon ping failed (exit $rc, after $ms ms): $out"
	vmqt_assert_eq "$what: pid answering" "$PID" "$(vmqt_json 'j["pid"]' <<<"$out")"
	[ "$ms" -lt 2000 ] || vmqt_fail "$what: daemon ping took $ms ms (expected < 2000)"
	vmqt_log "$what: answered in $ms ms"
}

# When the holders started and when the last one ended.
T0="" T1=""
VMQT_CASE_KEEP+=(T0 T1)

# --- users holding connections ----------------------------------------------------------
vmqt_case user_limits
case_user_limits() {
	HOLD_PIDS=()
	T0=$(date +%s)
	hold a 60001 16
	hold b 60002 16
	ping_as "root, 32 connections held by two users"
	ping_as "a fifth user in $GRP, 32 connections held by two others" --reuid=60005 --regid="$GRP" --clear-groups
	hold c 60003 16
	hold d 60004 16
	hold e 60001 1
	ping_as "root, 65 connections tried by four users"
	rc=0
	out=$(timeout 10 setpriv --reuid=60005 --regid="$GRP" --clear-groups "$BUILD/vmqctl" -t 3 -s "$VMQT_SOCK" daemon ping 2>&1) || rc=$?
	[ "$rc" -ne 0 ] || vmqt_fail "a fifth user was let in while other users held 48 connections"
	vmqt_assert_match "a fifth user, 48 connections held by others (vmqctl)" "^vmqctl: too many connections: users other than root hold 48" "$out"
	rc=0
	out=$(timeout 10 setpriv --reuid=60001 --regid="$GRP" --clear-groups "$BUILD/vmqctl" -t 3 -s "$VMQT_SOCK" daemon ping 2>&1) || rc=$?
	[ "$rc" -ne 0 ] || vmqt_fail "uid 60001, holding 16 connections, was let in a 17th"
	vmqt_assert_match "uid 60001's 17th connection (vmqctl)" "^vmqctl: too many connections: uid 60001 holds 16" "$out"
	vmqt_ok "users holding connections: root answered at once; a 17th of one user refused: $out"

	# Every holder ends when vmqd has closed all its connections (30 s at most).
	for pid in "${HOLD_PIDS[@]}"; do
		rc=0
		wait "$pid" || rc=$?
		vmqt_forget_pid "$pid"
		[ "$rc" -eq 0 ] || vmqt_fail "a holder exited with status $rc"
	done
	T1=$(date +%s)
}

vmqt_case partial_timeout user_limits
case_partial_timeout() {
	for h in a b c; do
		res=$(cat "$VMQT_TMP/$h.out")
		vmqt_assert_eq "user $h: connections refused" 0 "$(vmqt_json 'len(j["refused"])' <<<"$res")"
		vmqt_assert_eq "user $h: connections held" 16 "$(vmqt_json 'len(j["held"])' <<<"$res")"
		# Closed 10 s after "{" (vmqd looks once a second), though a byte came every 2 s.
		bad=$(vmqt_json '[t for t in j["held"] if t is None or not 9.5 <= t <= 13.5]' <<<"$res")
		[ "$bad" = "[]" ] || vmqt_fail "user $h: connections closed after (s) $bad, expected 10 to 13.5 s after their first byte: $res"
	done
	res=$(cat "$VMQT_TMP/d.out")
	vmqt_assert_eq "user d: connections refused" 16 "$(vmqt_json 'len(j["refused"])' <<<"$res")"
	vmqt_assert_match "user d: refusal" '"errno":87,"message":"too many connections: users other than root hold 48' \
		"$(vmqt_json 'j["refused"][0]' <<<"$res")"
	res=$(cat "$VMQT_TMP/e.out")
	vmqt_assert_match "user a's 17th connection" '"errno":87,"message":"too many connections: uid 60001 holds 16' \
		"$(vmqt_json 'j["refused"][0]' <<<"$res")"
	vmqt_ok "dribbling connections closed 10 to 13.5 s after their first byte (all gone after $((T1 - T0)) s); the 4th user's 16 refused with EUSERS"
	ping_as "root, after the holders"
}

# --- vmqctl -t --------------------------------------------------------------------------
# A socket whose owner accepts and never answers; then one whose backlog
# is full (the listener never accepts: every slot of a busy vmqd).
cat >"$VMQT_TMP/mute.py" <<'EOF'
import socket, sys, time
path, mode = sys.argv[1], sys.argv[2]
l = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
l.bind(path)
l.listen(0)
held = []
if mode == "full":
    # The backlog takes one more than its length: fill it.
    for _ in range(2):
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.setblocking(False)
        try:
            c.connect(path)
        except BlockingIOError:
            pass
        held.append(c)
print("ready", flush=True)
end = time.monotonic() + 20
while time.monotonic() < end:
    if mode == "accept":
        l.settimeout(0.2)
        try:
            held.append(l.accept()[0])
        except socket.timeout:
            pass
    else:
        time.sleep(0.2)
EOF
# mute MODE: vmqctl -t 1 against a socket that accepts and never answers
# (accept) or never accepts (full).
mute() {
	local mode=$1
	MSOCK=$VMQT_TMP/mute-$mode.sock
	"$VMQT_PY" "$VMQT_TMP/mute.py" "$MSOCK" "$mode" >"$VMQT_TMP/mute-$mode.out" &
	MUTE=$!
	VMQT_PIDS+=("$MUTE")
	for i in $(seq 100); do
		grep -q ready "$VMQT_TMP/mute-$mode.out" && break
		sleep 0.05
	done
	t0=$(date +%s%N)
	rc=0
	out=$(timeout 10 "$BUILD/vmqctl" -t 1 -s "$MSOCK" daemon ping 2>&1) || rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$rc" -ne 124 ] || vmqt_fail "vmqctl -t 1 on a socket that never answers ($mode): still waiting after 10 s"
	vmqt_assert_eq "vmqctl -t 1 on a mute socket ($mode): exit status" 1 "$rc"
	[ "$ms" -ge 900 ] && [ "$ms" -lt 3000 ] || vmqt_fail "vmqctl -t 1 ($mode) gave up after $ms ms (expected 1 to 3 s): $out"
	if [ "$mode" = accept ]; then
		vmqt_assert_eq "vmqctl -t 1, accepted but never answered" \
			"vmqctl: vmqd at $MSOCK did not answer within 1 s (stuck, or every connection slot taken?); -t SECONDS waits longer" "$out"
	else
		vmqt_assert_eq "vmqctl -t 1, backlog full" \
			"vmqctl: vmqd at $MSOCK did not accept the connection within 1 s (stuck, or every connection slot taken?); -t SECONDS waits longer" "$out"
	fi
	kill "$MUTE"
	wait "$MUTE" 2>/dev/null || true
	vmqt_forget_pid "$MUTE"
	vmqt_ok "vmqctl -t 1 against a socket that $([ "$mode" = accept ] && echo "accepts and never answers" || echo "never accepts (backlog full)"): gave up after $ms ms, naming the socket"
}

vmqt_case mute_accept
case_mute_accept() {
	mute accept
}

vmqt_case mute_full
case_mute_full() {
	mute full
}

vmqt_case timeout_zero
case_timeout_zero() {
	rc=0
	out=$("$BUILD/vmqctl" -t 0 -s "$VMQT_SOCK" daemon ping 2>&1) || rc=$?
	vmqt_assert_eq "vmqctl -t 0: exit status" 1 "$rc"
	vmqt_assert_match "vmqctl -t 0" 'timeout "0": out of range' "$out"
}

vmqt_cases "$@"
