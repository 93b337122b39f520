#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Who owns what on a device's tc hooks, in both hook modes (tcx, and
# clsact forced with VMQ_TC_MODE=clsact):
#
# 1. `dev attach` refuses a bound VM port (as `port bind` refuses an
#    uplink): the port's hook and the uplink's would share one clsact.
# 2. Unbinding a stamp-mode port whose clsact vmq created leaves that
#    clsact in place when an egress filter remains on it, even one with
#    vmq's handle and pref (another vmq, the bpftool path): only a filter
#    in the direction vmq detached from can be vmq's own.
# 3. `doctor` fails the "filters" check when vmq's clsact filter is gone
#    (no egress filter at all is not "vmq's is the only one").
# 4. `dev detach` finishes when the hook went behind vmq's back: the
#    clsact qdisc deleted (tc qdisc del), or the tcx link detached.
#
# Cases (tests/run.sh test_dev_ownership CASE...), per mode, each needing
# the one before it: tcx_attach_bound_port (1), tcx_doctor_hook_gone (3),
# tcx_detach_hook_gone (4); clsact_attach_bound_port (1),
# clsact_unbind_keeps_filter (2), clsact_doctor_hook_gone (3),
# clsact_detach_hook_gone (4).
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
vmqt_init bpftool
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl" "$BUILD/tests/vmq-tcx"

vmqt_vmqd_setup
PORT=vmqport0
BR=vmqbr0
vmqt_uplink_link "$PORT" 198.51.100.1 "$VMQT_WIRE_NS" vmqwire1 198.51.100.2 4
vmqt_run ip -n "$HNS" link add "$BR" type bridge
VMQT_LINKS+=("$HNS $BR")
vmqt_run ip -n "$HNS" link set "$PORT" master "$BR"
vmqt_run ip -n "$HNS" link set "$BR" up

diag() {
	vmqt_vmqd_diag "$VMQT_SOCK"
	ip netns exec "$HNS" tc qdisc show
	ip netns exec "$HNS" tc filter show dev "$PORT" ingress
	ip netns exec "$HNS" tc filter show dev "$PORT" egress
	ls -lR "$VMQT_BPFFS" 2>&1 | sed 's/^/  /'
}
VMQT_DIAG_FN=diag

# Each step runs in MODE (tcx|clsact), vmqd's pins under PINS/MODE.
step_attach_bound_port() { # MODE
	local mode=$1 pins=$VMQT_BPFFS/$1 out
	export VMQ_TC_MODE=$mode
	# The other mode's vmqd, if a failed case left it running: what it
	# attached goes first (best effort), so that this mode starts clean.
	if [ -n "${VMQT_VMQD_PID:-}" ] && kill -0 "$VMQT_VMQD_PID" 2>/dev/null; then
		"$BUILD/vmqctl" -s "$VMQT_SOCK" port unbind "$PORT" >/dev/null 2>&1 || true
		"$BUILD/vmqctl" -s "$VMQT_SOCK" dev detach "$DEV" >/dev/null 2>&1 || true
		vmqt_vmqd_kill "$VMQT_VMQD_PID" TERM
	fi
	vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$pins"
	vmqt_ctl dev attach "$DEV" >/dev/null
	vmqt_ctl port bind "$PORT" dev "$DEV" queue 0 >/dev/null
	out=$(vmqt_ctl -j port show | vmqt_json 'j["ports"][0]["mode"] + " " + j["ports"][0]["hook"]')
	vmqt_assert_eq "$mode: port in a bridge without the uplink" "stamp $mode" "$out"
	vmqt_assert_hooked "$mode: the port's hook" "$HNS" "$PORT" ingress vmq_port_ingres >/dev/null

	# 1. A bound port is not an uplink.
	vmqt_ctl_fails dev attach "$PORT"
	vmqt_assert_one_error "$mode: dev attach of a bound port" \
		"^vmqctl: dev $PORT: is a bound VM port \\(port unbind $PORT first\\)$"
	[ ! -e "$pins/$PORT" ] || vmqt_fail "$mode: refused attach left pins under $pins/$PORT"
	vmqt_assert_unhooked "$mode: refused attach" "$HNS" "$PORT" egress vmq_tx_egress
	vmqt_ok "$mode: dev attach of a bound port refused, nothing attached"
}

# 2. An egress filter with vmq's handle and pref is not the port's (clsact
# mode only).
step_unbind_keeps_filter() {
	local mode=clsact hooks
	export VMQ_TC_MODE=$mode
	vmqt_in "$HNS" tc filter add dev "$PORT" egress pref 1 handle 0x766d71 \
		bpf bytecode '1,6 0 0 4294967295,'
	vmqt_ctl port unbind "$PORT" >/dev/null
	hooks=$(vmqt_in "$HNS" tc filter show dev "$PORT" egress)
	vmqt_assert_match "$mode: egress filter after port unbind" \
		'pref 1 bpf chain 0 handle 0x766d71' "$hooks"
	vmqt_assert_unhooked "$mode: port unbound" "$HNS" "$PORT" ingress vmq_port_ingres
	vmqt_ok "$mode: port unbind kept the clsact that carries an egress filter with vmq's handle and pref"
	vmqt_in "$HNS" tc qdisc del dev "$PORT" clsact
}

step_doctor_hook_gone() { # MODE
	local mode=$1 pins=$VMQT_BPFFS/$1 out
	export VMQ_TC_MODE=$mode
	# The port is unbound: in clsact mode by step 2.
	[ "$mode" = clsact ] || vmqt_ctl port unbind "$PORT" >/dev/null

	# 3. doctor sees vmq's filter (or link) gone.
	if [ "$mode" = clsact ]; then
		vmqt_in "$HNS" tc filter del dev "$DEV" egress pref 1 handle 0x766d71 bpf
	else
		vmqt_in "$HNS" bpftool link detach pinned "$pins/$DEV/vmq_tx_link"
	fi
	out=$("$BUILD/vmqctl" -s "$VMQT_SOCK" -j doctor "$DEV" || true)
	out=$(vmqt_json '[c["status"] + " " + c["detail"] for c in j["checks"] if c["name"] in ("filters", "hook")]' <<<"$out")
	vmqt_assert_match "$mode: doctor with vmq's hook gone" '"FAIL ' "$out"
	if [ "$mode" = clsact ]; then
		vmqt_assert_match "$mode: doctor's filters check" \
			"\"FAIL vmq's egress filter is not on $DEV" "$out"
	fi
	vmqt_ok "$mode: doctor fails with vmq's hook gone: $out"
}

step_detach_hook_gone() { # MODE
	local mode=$1 pins=$VMQT_BPFFS/$1
	export VMQ_TC_MODE=$mode
	# 4. Detach finishes with the hook gone.
	[ "$mode" = clsact ] && vmqt_in "$HNS" tc qdisc del dev "$DEV" clsact
	vmqt_ctl dev detach "$DEV" >/dev/null
	[ ! -e "$pins/$DEV" ] || vmqt_fail "$mode: pins of $DEV left after detach"
	vmqt_assert_eq "$mode: devs after detach" "[]" "$(vmqt_ctl -j dev show | vmqt_json 'j["devs"]')"
	vmqt_ok "$mode: dev detach finished with the hook removed behind vmq's back"

	vmqt_vmqd_kill "$VMQT_VMQD_PID" TERM
}

vmqt_case tcx_attach_bound_port
case_tcx_attach_bound_port() { step_attach_bound_port tcx; }
vmqt_case tcx_doctor_hook_gone tcx_attach_bound_port
case_tcx_doctor_hook_gone() { step_doctor_hook_gone tcx; }
vmqt_case tcx_detach_hook_gone tcx_doctor_hook_gone
case_tcx_detach_hook_gone() { step_detach_hook_gone tcx; }

vmqt_case clsact_attach_bound_port
case_clsact_attach_bound_port() { step_attach_bound_port clsact; }
vmqt_case clsact_unbind_keeps_filter clsact_attach_bound_port
case_clsact_unbind_keeps_filter() { step_unbind_keeps_filter; }
vmqt_case clsact_doctor_hook_gone clsact_unbind_keeps_filter
case_clsact_doctor_hook_gone() { step_doctor_hook_gone clsact; }
vmqt_case clsact_detach_hook_gone clsact_doctor_hook_gone
case_clsact_detach_hook_gone() { step_detach_hook_gone clsact; }

vmqt_cases "$@"
