#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# One vmqd per pin directory (--bpffs-dir). Two that adopt the same pins
# each keep their own view, and edits through one are lost to the other:
#   - a second vmqd on another socket and another state directory, but the
#     same pins, refuses to start, names the first one's pid, and changes
#     nothing (state, hook, the first daemon's answers);
#   - the lock dies with its holder: after a SIGKILL, a new vmqd starts on
#     the same pins at once and adopts them;
#   - a vmqd on another pin directory of the same bpffs starts beside it.
#
# Cases (tests/run.sh test_vmqd_pinlock CASE...): second_refused,
# other_pindir, lock_dies_with_holder.
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
vmqt_init timeout
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl"

vmqt_vmqd_setup
vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"
PID1=$VMQT_VMQD_PID
vmqt_ctl dev attach "$DEV" default-txq 7 >/dev/null
vmqt_ctl queue add "$DEV" id 1 txq 1 vm vm1 >/dev/null
STATE=$(vmqt_state)
prog0=$(vmqt_assert_hooked "before a second vmqd" "$HNS" "$DEV" egress vmq_tx_egress)

# --- a second vmqd on the same pins ------------------------------------------------
vmqt_case second_refused
case_second_refused() {
	rc=0
	timeout 10 ip netns exec "$HNS" "$BUILD/vmqd" -s "$VMQT_TMP/second.sock" -b "$PINS" \
		-d "$VMQT_TMP/state-second" >"$VMQT_TMP/second.out" 2>"$VMQT_TMP/second.err" || rc=$?
	[ "$rc" -ne 124 ] || vmqt_fail "a second vmqd on $PINS was still running after 10 s (expected it to refuse)"
	[ "$rc" -ne 0 ] || vmqt_fail "a second vmqd on $PINS exited 0"
	vmqt_assert_match "the second vmqd's message" \
		"$PINS: another vmqd \\(pid $PID1\\) serves this pin directory" "$(cat "$VMQT_TMP/second.err")"
	[ ! -e "$VMQT_TMP/second.sock" ] || vmqt_fail "the refused vmqd left its socket $VMQT_TMP/second.sock"
	[ ! -e "$VMQT_TMP/state-second/vmqd.state" ] || vmqt_fail "the refused vmqd wrote a state file"
	vmqt_assert_eq "vmq's program on $DEV egress after the second vmqd" "$prog0" \
		"$(vmqt_assert_hooked "after a second vmqd" "$HNS" "$DEV" egress vmq_tx_egress)"
	vmqt_assert_eq "pid answering daemon ping" "$PID1" "$(vmqt_ctl -j daemon ping | vmqt_json 'j["pid"]')"
	vmqt_assert_eq "state after the second vmqd" "$STATE" "$(vmqt_state)"
	vmqt_ok "a second vmqd on the same pins: exit $rc, \"$(grep -o 'another vmqd.*' "$VMQT_TMP/second.err")\"; first one untouched"
}

# --- another pin directory on the same bpffs: no conflict ---------------------------
vmqt_case other_pindir
case_other_pindir() {
	vmqt_vmqd_start "$HNS" "$VMQT_TMP/other.sock" "$VMQT_BPFFS/other"
	OTHER=$VMQT_VMQD_PID
	vmqt_vmqd_kill "$OTHER" TERM
	vmqt_ok "a vmqd on another pin directory of the same bpffs starts beside it"
}

# --- the lock dies with its holder ---------------------------------------------------
vmqt_case lock_dies_with_holder
case_lock_dies_with_holder() {
	vmqt_vmqd_kill "$PID1" KILL
	vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"
	vmqt_assert_eq "state adopted after SIGKILL and restart" "$STATE" "$(vmqt_state)"
	vmqt_ok "after SIGKILL of the holder, a new vmqd ($VMQT_VMQD_PID) takes the pins at once and adopts them"
	vmqt_ctl dev detach "$DEV" >/dev/null
}

vmqt_cases "$@"
