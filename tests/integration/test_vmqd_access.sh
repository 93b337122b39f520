#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Who may read and who may change (docs/protocol.md, "Access"):
#   - vmqd --read-group users: the socket is 0660 root:users; a member
#     runs dev/queue/group/port show, stats, doctor (no probe: it sends
#     frames) and save; every changing command is refused with EPERM and a
#     message that says why, and nothing changes; a user outside the group
#     is refused;
#   - --group and --read-group of two different groups: the socket is 0666
#     and vmqd checks each peer: the full group may change, the read group
#     may not, anyone else is refused;
#   - metrics on a Unix socket (0660 to the read group) with a bearer token:
#     401 without it or with a wrong one, the figures (VM names included)
#     with it; a user outside the group cannot connect.
#
# Cases (tests/run.sh test_vmqd_access CASE...): reader_reads,
# reader_refused, outsider, metrics_token, stop_first, two_groups (needs
# stop_first: both vmqd serve the same pins).
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
vmqt_init setpriv curl stat
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl"

RGRP=users
getent group "$RGRP" >/dev/null || vmqt_fail "group $RGRP not found (Debian has it)"
vmqt_vmqd_setup
chmod 0711 "$VMQT_TMP"
TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
printf '%s\n' "$TOKEN" >"$VMQT_TMP/token"
MSOCK=$VMQT_TMP/metrics.sock
vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS" --read-group "$RGRP" --metrics "$MSOCK" \
	--metrics-token-file "$VMQT_TMP/token"
PID=$VMQT_VMQD_PID
vmqt_ctl dev attach "$DEV" default-txq 7 >/dev/null
vmqt_ctl queue add "$DEV" id 1 txq 1 vm web1 >/dev/null
vmqt_ctl group add "$DEV" id 2 txqs 4,5 >/dev/null
vmqt_assert_eq "vmqd --read-group $RGRP: socket mode, owner, group" "660 root $RGRP" \
	"$(stat -c '%a %U %G' "$VMQT_SOCK")"
STATE=$(vmqt_state)
SAVED=$(vmqt_ctl save)

# as SOCK UID GID ARGS...: vmqctl as UID:GID (no other groups); sets
# VMQT_CTL_RC/OUT/ERR.
as() {
	local sock=$1 uid=$2 gid=$3
	shift 3
	VMQT_CTL_RC=0
	VMQT_CTL_OUT=$(setpriv --reuid="$uid" --regid="$gid" --clear-groups \
		"$BUILD/vmqctl" -t 5 -s "$sock" "$@" 2>"$VMQT_TMP/as.err") || VMQT_CTL_RC=$?
	VMQT_CTL_ERR=$(cat "$VMQT_TMP/as.err")
}

# --- the read-only role -----------------------------------------------------------
vmqt_case reader_reads
case_reader_reads() {
	for cmd in "dev show" "queue show" "group show" "port show" "stats $DEV" "save" "daemon ping"; do
		# shellcheck disable=SC2086 # words
		as "$VMQT_SOCK" 60001 "$RGRP" -j $cmd
		vmqt_assert_eq "reader: vmqctl $cmd exit status (stderr: $VMQT_CTL_ERR)" 0 "$VMQT_CTL_RC"
	done
	as "$VMQT_SOCK" 60001 "$RGRP" save
	vmqt_assert_eq "reader: vmqctl save prints what root's does" "$SAVED" "$VMQT_CTL_OUT"
	as "$VMQT_SOCK" 60001 "$RGRP" -j doctor "$DEV"
	vmqt_assert_eq "reader: doctor exit status (stderr: $VMQT_CTL_ERR)" 0 "$VMQT_CTL_RC"
	checks=$(vmqt_json '" ".join(c["name"] for c in j["checks"])' <<<"$VMQT_CTL_OUT")
	vmqt_assert_eq "reader: doctor's checks (no probe)" "device pins hook xps txq-range filters" "$checks"
	checks=$(vmqt_ctl -j doctor "$DEV" | vmqt_json '" ".join(c["name"] for c in j["checks"])')
	vmqt_assert_eq "root: doctor's checks (the probe too)" "device pins hook xps txq-range filters probe" "$checks"
	vmqt_ok "a member of --read-group $RGRP: show, stats, save, ping, doctor without the probe"
}

vmqt_case reader_refused
case_reader_refused() {
	n=0
	while IFS= read -r cmd; do
		# shellcheck disable=SC2086 # words
		as "$VMQT_SOCK" 60001 "$RGRP" $cmd
		[ "$VMQT_CTL_RC" -ne 0 ] || vmqt_fail "reader: vmqctl $cmd succeeded"
		vmqt_assert_match "reader: vmqctl $cmd" \
			'^vmqctl: [a-z]+ [a-z]+: permission denied: read-only access \(vmqd --read-group\); changes need root or vmqd --group$' \
			"$VMQT_CTL_ERR"
		n=$((n + 1))
	done <<EOF
queue add $DEV id 3 txq 3
queue set $DEV id 1 txq 2
queue del $DEV id 1
group add $DEV id 4 txqs 6
group del $DEV id 2
dev detach $DEV
dev attach $DEV
dev set $DEV ports tap*
dev upgrade $DEV
port bind $DEV dev $DEV queue 1
port unbind $DEV
daemon sync
EOF
	vmqt_assert_eq "state after the reader's attempts" "$STATE" "$(vmqt_state)"
	vmqt_ok "reader: $n changing commands refused with EPERM, state unchanged"
}

vmqt_case outsider
case_outsider() {
	as "$VMQT_SOCK" 60002 60002 daemon ping
	[ "$VMQT_CTL_RC" -ne 0 ] || vmqt_fail "a user outside $RGRP was let in"
	vmqt_assert_match "outsider" "Permission denied" "$VMQT_CTL_ERR"
	vmqt_ok "a user outside $RGRP refused: $VMQT_CTL_ERR"
}

# --- metrics: Unix socket and bearer token ------------------------------------------
# scrape UID GID [TOKEN]: prints "CODE" then the body, as that user.
scrape() {
	local uid=$1 gid=$2 auth=()
	[ $# -lt 3 ] || auth=(-H "Authorization: Bearer $3")
	setpriv --reuid="$uid" --regid="$gid" --clear-groups curl -s --max-time 5 \
		--unix-socket "$MSOCK" -w '\n%{http_code}\n' "${auth[@]}" http://localhost/metrics || true
}

vmqt_case metrics_token
case_metrics_token() {
	vmqt_assert_eq "metrics socket mode, owner, group" "660 root $RGRP socket" "$(stat -c '%a %U %G %F' "$MSOCK")"
	out=$(scrape 0 0)
	vmqt_assert_eq "scrape without a token: status" 401 "$(tail -n1 <<<"$out")"
	vmqt_assert_match "scrape without a token: body" "unauthorized" "$out"
	hdr=$(curl -s --max-time 5 --unix-socket "$MSOCK" -D - -o /dev/null http://localhost/metrics | tr -d '\r')
	vmqt_assert_match "scrape without a token: header" '^WWW-Authenticate: Bearer' "$hdr"
	out=$(scrape 0 0 "${TOKEN}x")
	vmqt_assert_eq "scrape with a wrong token: status" 401 "$(tail -n1 <<<"$out")"
	out=$(scrape 0 0 "${TOKEN:1}")
	vmqt_assert_eq "scrape with a token's prefix: status" 401 "$(tail -n1 <<<"$out")"
	out=$(scrape 0 0 "$TOKEN")
	vmqt_assert_eq "scrape with the token: status" 200 "$(tail -n1 <<<"$out")"
	vmqt_assert_match "scrape with the token: figures" '^vmq_queue_packets_total\{dev="'"$DEV"'",queue="1",vm="web1"\} [0-9]+$' "$out"
	out=$(scrape 60001 "$RGRP" "$TOKEN")
	vmqt_assert_eq "scrape as a member of $RGRP with the token: status" 200 "$(tail -n1 <<<"$out")"
	out=$(scrape 60002 60002 "$TOKEN")
	vmqt_assert_eq "scrape as a user outside $RGRP: no HTTP answer (cannot connect)" 000 "$(tail -n1 <<<"$out")"
	vmqt_ok "metrics on $MSOCK (660 root:$RGRP): 401 without the token or with a wrong one, figures with it; outsiders cannot connect"
}

# --- the first vmqd stopped -------------------------------------------------------------------
vmqt_case stop_first
case_stop_first() {
	vmqt_vmqd_kill "$PID" TERM
	[ ! -e "$MSOCK" ] || vmqt_fail "vmqd left its metrics socket $MSOCK behind"
	vmqt_ok "the first vmqd stopped: its metrics socket removed"
}

# --- --group and --read-group of two groups -------------------------------------------
vmqt_case two_groups stop_first
case_two_groups() {
	FGRP=nogroup
	vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS" --group "$FGRP" --read-group "$RGRP"
	vmqt_assert_eq "--group $FGRP --read-group $RGRP: socket mode, owner" "666 root" \
		"$(stat -c '%a %U' "$VMQT_SOCK")"
	as "$VMQT_SOCK" 60003 "$FGRP" queue set "$DEV" id 1 txq 2
	vmqt_assert_eq "member of --group $FGRP: queue set exit status (stderr: $VMQT_CTL_ERR)" 0 "$VMQT_CTL_RC"
	as "$VMQT_SOCK" 60001 "$RGRP" queue set "$DEV" id 1 txq 3
	[ "$VMQT_CTL_RC" -ne 0 ] || vmqt_fail "member of --read-group $RGRP: queue set succeeded"
	vmqt_assert_match "member of --read-group: queue set" "permission denied: read-only access" "$VMQT_CTL_ERR"
	as "$VMQT_SOCK" 60001 "$RGRP" queue show "$DEV" id 1
	vmqt_assert_match "member of --read-group: queue show" 'txq 2' "$VMQT_CTL_OUT"
	as "$VMQT_SOCK" 60002 60002 daemon ping
	[ "$VMQT_CTL_RC" -ne 0 ] || vmqt_fail "a user in neither group was let in on the 0666 socket"
	vmqt_assert_eq "a user in neither group" "vmqctl: permission denied: vmqd serves root only" "$VMQT_CTL_ERR"
	vmqt_ok "two groups: socket 0666; $FGRP changes, $RGRP reads only, others refused by vmqd"
	vmqt_ctl dev detach "$DEV" >/dev/null
}

vmqt_cases "$@"
