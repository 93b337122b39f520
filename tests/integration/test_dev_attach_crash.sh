#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# `dev attach` and `dev detach` survive a kill at any step. vmqd runs with
# VMQ_FAULT_STEP=N, which kills it (SIGKILL) at the Nth crash point libvmq
# and vmqd pass (each pin, the rename into place, the default queue, each
# TX queue's XPS, the hook, the attached mark; on detach the detached
# mark, the hook, each unpin), for every N until the request completes.
# After each kill a restarted vmqd (no fault) must leave the device either
# attached whole (pins, hook, XPS cleared) or not at all (no pins, no hook,
# no leftover directory, XPS as the user set it), and `dev attach` /
# `dev detach` must then work. Attach runs in both hook modes.
#
# Cases (tests/run.sh test_dev_attach_crash CASE...), each standing alone:
# attach_killed_tcx, attach_killed_clsact, detach_killed.
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
vmqt_init
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl" "$BUILD/tests/vmq-tcx"

vmqt_vmqd_setup

xps_dump() {
	vmqt_in "$HNS" sh -ec 'cd /sys/class/net/"$1"/queues
		for q in tx-*; do printf "%s:%s\n" "$q" "$(cat "$q/xps_cpus")"; done' sh "$DEV"
}
vmqt_in "$HNS" sh -ec 'echo 1 >/sys/class/net/"$1"/queues/tx-2/xps_cpus
	echo 2 >/sys/class/net/"$1"/queues/tx-5/xps_cpus' sh "$DEV"
XPS0=$(xps_dump)
vmqt_assert_match "XPS set by the test" 'tx-2:0*1' "$XPS0"

# start_vmqd [STEP]: vmqd on $PINS, killed at crash point STEP when given.
start_vmqd() {
	if [ -n "${1:-}" ]; then
		VMQ_FAULT_STEP=$1 vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"
	else
		vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"
	fi
}
stop_vmqd() { vmqt_vmqd_kill "$VMQT_VMQD_PID" TERM; }
# fresh_start: what a failed case left running goes first (its attach
# undone, best effort), so that each case starts from a bare device.
fresh_start() {
	if [ -n "${VMQT_VMQD_PID:-}" ] && kill -0 "$VMQT_VMQD_PID" 2>/dev/null; then
		"$BUILD/vmqctl" -s "$VMQT_SOCK" dev detach "$DEV" >/dev/null 2>&1 || true
		stop_vmqd
	fi
}

# request_or_crash WHAT ARGS...: the request succeeds (0) or vmqd dies of
# SIGKILL at the crash point (1); anything else fails the test.
request_or_crash() {
	local what=$1 rc=0 i
	shift
	"$BUILD/vmqctl" -s "$VMQT_SOCK" "$@" >/dev/null 2>&1 || rc=$?
	if [ "$rc" -eq 0 ]; then
		return 0
	fi
	for i in $(seq 50); do
		kill -0 "$VMQT_VMQD_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$VMQT_VMQD_PID" 2>/dev/null && vmqt_fail "$what: vmqctl $* failed (exit $rc) and vmqd is alive: $(tail -n3 "$VMQT_VMQD_LOG")"
	rc=0
	{ wait "$VMQT_VMQD_PID"; } 2>/dev/null || rc=$?
	vmqt_forget_pid "$VMQT_VMQD_PID"
	vmqt_assert_eq "$what: vmqd's exit status (SIGKILL)" 137 "$rc"
	grep -q 'VMQ_FAULT_STEP=' "$VMQT_VMQD_LOG" || vmqt_fail "$what: vmqd died, not at a crash point: $(tail -n3 "$VMQT_VMQD_LOG")"
	return 1
}

# check_whole WHAT: after a restart, DEV is attached whole or not at all.
# Prints "attached" or "clean".
check_whole() {
	local what=$1 devs left
	devs=$(vmqt_ctl -j dev show | vmqt_json '[(d["dev"], d["attached"]) for d in j["devs"]]')
	left=$(find "$PINS" -maxdepth 1 -name '*:*' | tr '\n' ' ')
	[ -z "$left" ] || vmqt_fail "$what: directories of a cut-short load left: $left"
	if [ "$devs" = "[]" ]; then
		[ ! -e "$PINS/$DEV" ] || vmqt_fail "$what: not attached, but pins under $PINS/$DEV: $(ls -R "$PINS/$DEV" | tr '\n' ' ')"
		vmqt_assert_unhooked "$what: not attached" "$HNS" "$DEV" egress vmq_tx_egress
		vmqt_assert_eq "$what: XPS back as set, not attached" "$XPS0" "$(xps_dump)"
		echo clean
	else
		vmqt_assert_eq "$what: dev show" "[[\"$DEV\",true]]" "$devs"
		vmqt_assert_hooked "$what: attached" "$HNS" "$DEV" egress vmq_tx_egress >/dev/null
		if grep -vqE ':0+(,0+)*$' <<<"$(xps_dump)"; then
			vmqt_fail "$what: attached, but XPS is set: $(xps_dump | tr '\n' ' ')"
		fi
		echo attached
	fi
}

detach_clean() { # WHAT
	vmqt_ctl dev detach "$DEV" >/dev/null
	[ ! -e "$PINS/$DEV" ] || vmqt_fail "$1: pins left after detach"
	vmqt_assert_unhooked "$1: detached" "$HNS" "$DEV" egress vmq_tx_egress
	vmqt_assert_eq "$1: XPS after detach" "$XPS0" "$(xps_dump)"
}

attach_loop() { # MODE
	local mode=$1 n=0 rolled=0 kept=0 outcome
	export VMQ_TC_MODE=$mode
	fresh_start
	while :; do
		n=$((n + 1))
		[ "$n" -le 80 ] || vmqt_fail "$mode: attach still crashing at step $n"
		start_vmqd "$n"
		if request_or_crash "$mode attach, step $n" dev attach "$DEV" default-txq 6; then
			stop_vmqd
			start_vmqd
			outcome=$(check_whole "$mode attach, completed at step $n")
			vmqt_assert_eq "$mode attach, completed: outcome" attached "$outcome"
			detach_clean "$mode attach, completed"
			stop_vmqd
			break
		fi
		start_vmqd
		outcome=$(check_whole "$mode attach, killed at step $n")
		if [ "$outcome" = clean ]; then
			rolled=$((rolled + 1))
			vmqt_ctl dev attach "$DEV" default-txq 6 >/dev/null
			check_whole "$mode attach, killed at step $n, attached again" >/dev/null
		else
			kept=$((kept + 1))
		fi
		detach_clean "$mode attach, killed at step $n"
		stop_vmqd
	done
	[ "$rolled" -ge 10 ] || vmqt_fail "$mode: only $rolled crash points in attach rolled back"
	vmqt_ok "$mode: attach killed at each of $((n - 1)) crash points: $rolled rolled back at restart, $kept attached whole; attach and detach worked after each"
	unset VMQ_TC_MODE
}

detach_loop() {
	local n=0 gone=0 kept=0 outcome
	fresh_start
	while :; do
		n=$((n + 1))
		[ "$n" -le 80 ] || vmqt_fail "detach still crashing at step $n"
		start_vmqd
		vmqt_ctl dev attach "$DEV" default-txq 6 >/dev/null
		stop_vmqd
		start_vmqd "$n"
		if request_or_crash "detach, step $n" dev detach "$DEV"; then
			stop_vmqd
			start_vmqd
			outcome=$(check_whole "detach, completed at step $n")
			vmqt_assert_eq "detach, completed: outcome" clean "$outcome"
			stop_vmqd
			break
		fi
		start_vmqd
		outcome=$(check_whole "detach, killed at step $n")
		if [ "$outcome" = clean ]; then
			gone=$((gone + 1))
		else
			kept=$((kept + 1))
			detach_clean "detach, killed at step $n"
		fi
		stop_vmqd
	done
	[ "$n" -ge 5 ] || vmqt_fail "detach: only $((n - 1)) crash points"
	vmqt_ok "detach killed at each of $((n - 1)) crash points: $gone finished at restart, $kept attached whole (the state file asks for it); detach worked after each"
}

vmqt_case attach_killed_tcx
case_attach_killed_tcx() { attach_loop tcx; }
vmqt_case attach_killed_clsact
case_attach_killed_clsact() { attach_loop clsact; }
vmqt_case detach_killed
case_detach_killed() { detach_loop; }

vmqt_cases "$@"
