#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# vmq on tcx links (kernel 6.6+), and its place among other tcx programs.
# Other programs are attached with build/tests/vmq-tcx (bpftool 7.1 and tc
# know no tcx): a do-nothing program that passes every packet on.
#   - dev attach makes a tcx link at the head of the uplink's egress chain,
#     pinned at PINS/DEV/vmq_tx_link; dev show says "hook": "tcx" and
#     "tcx_position": 0; traffic is steered;
#   - a program attached after vmq's ("last") runs after it: doctor WARNs
#     about it by ID and name; dev attach again is EEXIST (vmq is first);
#   - a program attached later with BPF_F_BEFORE ("first", it asked to run
#     before everything) is respected: dev show position 1, doctor WARN
#     naming it, dev attach EBUSY naming it, and a restarted vmqd adopts
#     the link as it is (same link ID, no re-attach); `dev attach ... force`
#     puts vmq first again and steering goes on;
#   - a port binding is a tcx link per port under the ports pin dir, "hook":
#     "tcx" in port show; unbind removes it;
#   - a clsact egress filter in tcx mode runs after vmq: doctor WARNs naming it;
#   - detach removes vmq's link (and its pin) and leaves the others; a new
#     attach with others present goes first.
# Only in tcx mode (skipped when VMQ_TC_MODE=clsact).
#
# Cases (tests/run.sh test_tcx CASE...): attach_first; program_after,
# port_bind, clsact_filter_warn and detach_keeps_others need it;
# program_before needs program_after.
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
vmqt_init
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl" "$BUILD/tests/vmq-udpsend" "$BUILD/tests/vmq-tcx"
[ "$(vmqt_tc_mode)" = tcx ] || vmqt_skip "tcx only (VMQ_TC_MODE=$VMQ_TC_MODE)"

N=50
vmqt_vmqd_setup
OTHER=$VMQT_BPFFS/other # foreign links, outside vmqd's pin directory
mkdir "$OTHER"
TCX=("$BUILD/tests/vmq-tcx")
chain() { vmqt_in "$HNS" "${TCX[@]}" query "$DEV" egress | awk '{ printf "%s%s", sep, $1; sep = "," }'; }
check_of() { # NAME DOCTOR_JSON: "STATUS detail"
	vmqt_json "[c['status'] + ' ' + c['detail'] for c in j['checks'] if c['name'] == '$1'][0]" <<<"$2"
}
doctor() { "$BUILD/vmqctl" -j -s "$VMQT_SOCK" doctor "$DEV" || true; }

vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"
# vmq's program and the one attached after it, for the cases after.
vmq_prog="" after=""
VMQT_CASE_KEEP+=(vmq_prog after)

# --- dev attach: a tcx link, first in the chain -------------------------------------
vmqt_case attach_first
case_attach_first() {
	vmqt_ctl dev attach "$DEV" default-txq 7 >/dev/null
	vmqt_ctl queue add "$DEV" id 5 txq 3 >/dev/null
	show=$(vmqt_ctl -j dev show "$DEV")
	vmqt_assert_eq "dev show hook" tcx "$(vmqt_json 'j["devs"][0]["hook"]' <<<"$show")"
	vmqt_assert_eq "dev show tcx_position" 0 "$(vmqt_json 'j["devs"][0]["tcx_position"]' <<<"$show")"
	vmqt_assert_eq "dev show clsact_created" false "$(vmqt_json 'j["devs"][0]["clsact_created"]' <<<"$show")"
	vmqt_assert_file "vmq's pinned tcx link" "$PINS/$DEV/vmq_tx_link"
	vmq_prog=$(vmqt_assert_hooked "after attach" "$HNS" "$DEV" egress vmq_tx_egress)
	vmqt_assert_eq "tcx egress chain after attach" "$vmq_prog" "$(chain)"
	vmqt_assert_eq "clsact on $DEV after a tcx attach" "" "$(vmqt_in "$HNS" tc qdisc show dev "$DEV" | grep clsact || true)"
	vmqt_send "queue 5 on tcx" 5 "$N" 4
	vmqt_assert_on_txq "queue 5 on tcx" 3 "$N"
	out=$(doctor)
	vmqt_assert_eq "doctor worst, vmq alone on tcx" PASS "$(vmqt_json 'j["worst"]' <<<"$out")"
	vmqt_assert_match "doctor hook check" "^PASS tcx link [0-9]+ runs the pinned program $vmq_prog" "$(check_of hook "$out")"
	vmqt_ok "dev attach: tcx link $vmq_prog first (alone) in $DEV's egress chain, pinned, no clsact; queue 5 on txq 3; doctor PASS"
}

# --- a program attached after vmq's ----------------------------------------------
vmqt_case program_after attach_first
case_program_after() {
	vmqt_in "$HNS" "${TCX[@]}" attach "$DEV" egress last vmqt_after "$OTHER/after"
	after=$(chain | cut -d, -f2)
	vmqt_assert_eq "chain with a program after vmq" "$vmq_prog,$after" "$(chain)"
	out=$(doctor)
	vmqt_assert_match "doctor hook check" "^WARN 1 tcx program\(s\) run after vmq's link, first $after \(vmqt_after\)" "$(check_of hook "$out")"
	vmqt_ctl_fails dev attach "$DEV"
	vmqt_assert_one_error "dev attach, vmq first" "dev $DEV: already attached, first in its tcx egress chain"
	vmqt_send "queue 5, a program after vmq" 5 "$N" 4
	vmqt_assert_on_txq "queue 5, a program after vmq" 3 "$N"
	vmqt_ok "a program after vmq's ($after): doctor WARN naming it, dev attach EEXIST, steering unchanged"
}

# --- a program that asked to run first -------------------------------------------
vmqt_case program_before program_after
case_program_before() {
	vmqt_in "$HNS" "${TCX[@]}" attach "$DEV" egress first vmqt_before "$OTHER/before"
	before=$(chain | cut -d, -f1)
	vmqt_assert_eq "chain with a program before vmq" "$before,$vmq_prog,$after" "$(chain)"
	vmqt_assert_eq "dev show tcx_position" 1 "$(vmqt_ctl -j dev show "$DEV" | vmqt_json 'j["devs"][0]["tcx_position"]')"
	out=$(doctor)
	vmqt_assert_match "doctor hook check" "^WARN tcx program $before \(vmqt_before\) runs before vmq's link \(position 2 of 3\)" "$(check_of hook "$out")"
	vmqt_ctl_fails dev attach "$DEV"
	vmqt_assert_one_error "dev attach, a program ahead of vmq" \
		"dev $DEV: already attached, but tcx program $before \(vmqt_before\) runs before vmq's link .*\"force\" puts vmq first again"
	vmqt_ctl_fails -j dev attach "$DEV"
	vmqt_assert_match "dev attach errno" '"errno": *16|EBUSY' "$VMQT_CTL_OUT$VMQT_CTL_ERR"
	link0=$(bpftool -j link show pinned "$PINS/$DEV/vmq_tx_link" | vmqt_json 'j["id"]')

	# A restarted vmqd adopts the link as it is: no re-attach, no reordering.
	vmqt_vmqd_kill "$VMQT_VMQD_PID" KILL
	vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"
	vmqt_assert_eq "vmq's link ID after the restart" "$link0" \
		"$(bpftool -j link show pinned "$PINS/$DEV/vmq_tx_link" | vmqt_json 'j["id"]')"
	vmqt_assert_eq "chain after the restart" "$before,$vmq_prog,$after" "$(chain)"
	vmqt_assert_match "restarted vmqd's log" "tcx program $before \(vmqt_before\) runs before vmq's link" \
		"$(cat "$VMQT_VMQD_LOG")"
	vmqt_send "queue 5 behind a program that runs first" 5 "$N" 4
	vmqt_assert_on_txq "queue 5 behind a program that runs first" 3 "$N"

	vmqt_ctl dev attach "$DEV" force >/dev/null
	vmqt_assert_eq "chain after dev attach force" "$vmq_prog,$before,$after" "$(chain)"
	vmqt_assert_eq "dev show tcx_position after force" 0 "$(vmqt_ctl -j dev show "$DEV" | vmqt_json 'j["devs"][0]["tcx_position"]')"
	vmqt_send "queue 5 after force" 5 "$N" 4
	vmqt_assert_on_txq "queue 5 after force" 3 "$N"
	vmqt_ok "a program that asked to run first ($before): position 2, doctor WARN and dev attach EBUSY naming it, adopted as is by a restarted vmqd; force put vmq first again"
	rm "$OTHER/before" "$OTHER/after"
	vmqt_assert_eq "chain with the others unpinned" "$vmq_prog" "$(chain)"
}

# --- a port binding on tcx ---------------------------------------------------------
vmqt_case port_bind attach_first
case_port_bind() {
	# In a bridge the uplink is not in, a port needs its own stamping hook
	# (stamp mode): that hook is a tcx link too.
	PORT=vmqtp$RANDOM
	BR=vmqtb$RANDOM
	vmqt_in "$HNS" ip link add "$PORT" type veth peer name "${PORT}b"
	vmqt_in "$HNS" ip link add "$BR" type bridge
	vmqt_in "$HNS" ip link set "$PORT" master "$BR"
	vmqt_ctl port bind "$PORT" dev "$DEV" queue 5 >/dev/null
	pidx=$(vmqt_in "$HNS" cat "/sys/class/net/$PORT/ifindex")
	vmqt_assert_eq "port show mode and hook" '["stamp","tcx"]' \
		"$(vmqt_ctl -j port show | vmqt_json '[j["ports"][0]["mode"], j["ports"][0]["hook"]]')"
	vmqt_assert_file "the port's pinned tcx link" "$PINS/vmq_port_bindings/link_$pidx"
	vmqt_assert_hooked "port bind" "$HNS" "$PORT" ingress vmq_port_ingres >/dev/null
	vmqt_ctl port unbind "$PORT" >/dev/null
	vmqt_assert_unhooked "port unbind" "$HNS" "$PORT" ingress vmq_port_ingres
	[ ! -e "$PINS/vmq_port_bindings/link_$pidx" ] || vmqt_fail "the port's link pin outlived unbind"
	vmqt_in "$HNS" ip link del "$BR"
	vmqt_ok "port bind (stamp mode, in a bridge without the uplink): tcx link pinned at vmq_port_bindings/link_$pidx, port show hook tcx; unbind removed it"
}

# --- a clsact egress filter in tcx mode ---------------------------------------------
vmqt_case clsact_filter_warn attach_first
case_clsact_filter_warn() {
	vmqt_in "$HNS" tc qdisc add dev "$DEV" clsact
	vmqt_in "$HNS" tc filter add dev "$DEV" egress pref 20 bpf bytecode '1,6 0 0 4294967295,'
	out=$(doctor)
	vmqt_assert_match "doctor filters check" "^WARN 1 clsact egress filter\(s\), first pref 20 \(bpf\): clsact runs after vmq's tcx link" \
		"$(check_of filters "$out")"
	vmqt_in "$HNS" tc qdisc del dev "$DEV" clsact
	vmqt_ok "a clsact egress filter in tcx mode: doctor WARN, it runs after vmq"
}

# --- detach, and a new attach beside another program ---------------------------------
vmqt_case detach_keeps_others attach_first
case_detach_keeps_others() {
	vmqt_ctl dev detach "$DEV" >/dev/null
	vmqt_assert_eq "chain after detach" "" "$(chain)"
	[ ! -e "$PINS/$DEV" ] || vmqt_fail "pins left after detach: $(ls -R "$PINS/$DEV")"
	vmqt_in "$HNS" "${TCX[@]}" attach "$DEV" egress first vmqt_before "$OTHER/before"
	before=$(chain)
	vmqt_ctl dev attach "$DEV" default-txq 7 >/dev/null
	vmq_prog=$(vmqt_assert_hooked "attach beside another program" "$HNS" "$DEV" egress vmq_tx_egress)
	vmqt_assert_eq "chain after attach beside another" "$vmq_prog,$before" "$(chain)"
	vmqt_ctl dev detach "$DEV" >/dev/null
	vmqt_assert_eq "chain after the second detach" "$before" "$(chain)"
	rm "$OTHER/before"
	vmqt_assert_eq "chain at the end" "" "$(chain)"
	vmqt_ok "detach removed vmq's link and pins, kept the other program; attach beside it went first"
}

vmqt_cases "$@"
