#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Scenario: two VMs whose queues share one queue group over three TX queues
# (VMQ's queue group: a packet may carry any member's ID). Each VM's port is
# bound to its own queue; the VMs send unmarked from their namespaces.
#
#   - 24 flows per VM (distinct source ports), each sent alone: every flow
#     leaves on exactly one TX queue of the group, never outside it, and the
#     flows of a VM use at least two of the group's TX queues;
#   - a flow sent again later leaves on the same TX queue (the choice is a
#     function of the flow, not of time or load);
#   - all 24 flows of a VM at once: within the group, >= 2 TX queues used,
#     and per TX queue exactly what the flows sent alone predict;
#   - vmqctl stats: each queue steered all its VM's packets, no fallback, and
#     vmq's per-TX-queue counters equal mq's.
#
# Cases (tests/run.sh test_scenario_group CASE...): flows_alone, same_again
# and at_once (both need flows_alone), end_to_end.
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/topology.sh
. "$(dirname "$0")/topology.sh"
vmqt_init
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl" "$BUILD/tests/vmq-udpsend"

FLOWS=24       # flows per VM
PER_FLOW=6     # datagrams per flow when sent alone
GROUP=3
GTXQS="1 3 5"  # the group's TX queues
DEFAULT_TXQ=7
DEV=vmqup0
declare -A QID=([1]=40 [2]=41)
declare -A FLOW_TXQ=() # "VM:PORT" -> the TX queue of that flow
VMQT_CASE_KEEP+=(FLOW_TXQ)

vmqt_topo_host 1
vmqt_vm_add 1
vmqt_vm_add 2
vmqt_topo_vmqd_start
vmqt_ctl dev attach "$DEV" default-txq "$DEFAULT_TXQ" >/dev/null
vmqt_ctl group add "$DEV" id "$GROUP" txqs "${GTXQS// /,}" >/dev/null
for v in 1 2; do
	vmqt_ctl queue add "$DEV" id "${QID[$v]}" group "$GROUP" vm "vm$v" >/dev/null
	vmqt_ctl port bind "vmqtap$v" dev "$DEV" queue "${QID[$v]}" >/dev/null
done
g=$(vmqt_ctl -j group show "$DEV" | vmqt_json 'j["groups"]')
vmqt_assert_eq "group show" "[{\"dev\":\"$DEV\",\"id\":$GROUP,\"members\":[${QID[1]},${QID[2]}],\"txqs\":[${GTXQS// /,}]}]" "$g"
want=$(vmqt_json j <<<"[{\"dev\":\"$DEV\",\"port\":\"vmqtap1\",\"queue\":${QID[1]},\"state\":\"live\",\"vm\":\"vm1\"},{\"dev\":\"$DEV\",\"port\":\"vmqtap2\",\"queue\":${QID[2]},\"state\":\"live\",\"vm\":\"vm2\"}]")
vmqt_assert_eq "port show" "$want" "$(vmqt_port_show)"
vmqt_ok "group $GROUP over TX queues {$GTXQS} with queues ${QID[1]} (VM 1, vmqtap1) and ${QID[2]} (VM 2, vmqtap2)"

# --- each flow alone ---------------------------------------------------------------------
vmqt_case flows_alone
case_flows_alone() {
	s0=$(vmqt_stats)
	for v in 1 2; do
		base=$((30000 + 1000 * v))
		declare -A used=()
		for ((f = 0; f < FLOWS; f++)); do
			sport=$((base + f))
			what="VM $v, flow $f (source port $sport) alone"
			vmqt_vm_traffic "$what" "$v" 0 "$PER_FLOW" 1 "$sport"
			vmqt_assert_up_within "$what" 0 "$GTXQS" "$PER_FLOW" 1
			[ "$(wc -w <<<"$VMQT_USED_TXQS")" -eq 1 ] ||
				vmqt_fail "$what: one flow spread over TX queues {$VMQT_USED_TXQS} (per queue: ${VMQT_UP_DELTA[0]})"
			FLOW_TXQ[$v:$sport]=$VMQT_USED_TXQS
			used[$VMQT_USED_TXQS]=$((${used[$VMQT_USED_TXQS]:-0} + 1))
		done
		[ "${#used[@]}" -ge 2 ] || vmqt_fail "VM $v: all $FLOWS flows on TX queue(s) {${!used[*]}} of {$GTXQS}"
		spread=""
		for q in $GTXQS; do spread+=" txq $q: ${used[$q]:-0} flows;"; done
		vmqt_ok "VM $v: $FLOWS flows alone, each on one TX queue of {$GTXQS}, none outside;$spread"
		unset used
	done
	s1=$(vmqt_stats)
	for v in 1 2; do
		vmqt_assert_eq "stats: queue ${QID[$v]} packets (VM $v, flows alone)" $((FLOWS * PER_FLOW)) \
			"$(vmqt_stats_delta "$s0" "$s1" "q('$DEV', ${QID[$v]})")"
	done
	vmqt_assert_eq "stats: fallbacks (all reasons)" 0 \
		"$(vmqt_stats_delta "$s0" "$s1" "fb('$DEV', 'not_live') + fb('$DEV', 'beyond_map') + fb('$DEV', 'bad_group')")"
	vmqt_assert_eq "stats: queue 0 packets" 0 "$(vmqt_stats_delta "$s0" "$s1" "q('$DEV', 0)")"
}

# --- the same flows again: same TX queue -------------------------------------------------
vmqt_case same_again flows_alone
case_same_again() {
	for v in 1 2; do
		for f in 0 7 13 23; do
			sport=$((30000 + 1000 * v + f))
			what="VM $v, flow $f (source port $sport) again"
			vmqt_vm_traffic "$what" "$v" 0 "$PER_FLOW" 1 "$sport"
			vmqt_assert_up_txq "$what (first sent on txq ${FLOW_TXQ[$v:$sport]})" 0 "${FLOW_TXQ[$v:$sport]}" "$PER_FLOW"
		done
	done
	vmqt_ok "flows 0, 7, 13, 23 of each VM sent again: each on the TX queue it used the first time"
}

# --- all flows at once ---------------------------------------------------------------------
vmqt_case at_once flows_alone
case_at_once() {
	for v in 1 2; do
		base=$((30000 + 1000 * v))
		what="VM $v, $FLOWS flows at once"
		vmqt_vm_traffic "$what" "$v" 0 $((FLOWS * 10)) "$FLOWS" "$base"
		vmqt_assert_up_within "$what" 0 "$GTXQS" $((FLOWS * 10)) 2
		# Round-robin over the flows: 10 datagrams each, on the flow's own TX queue.
		read -r -a d <<<"${VMQT_UP_DELTA[0]}"
		for q in $GTXQS; do
			want=0
			for ((f = 0; f < FLOWS; f++)); do
				[ "${FLOW_TXQ[$v:$((base + f))]}" -ne "$q" ] || want=$((want + 10))
			done
			vmqt_assert_eq "$what: packets on TX queue $q (10 per flow mapped there alone)" "$want" "${d[q]}"
		done
		vmqt_ok "$what: per TX queue ${VMQT_UP_DELTA[0]}, as the flows alone predict"
	done
}

# --- end to end ------------------------------------------------------------------------------
vmqt_case end_to_end
case_end_to_end() {
	final=$(vmqt_up_counts 0)
	vmqt_assert_eq "mq counters of $DEV vs the sum of the steps" "${VMQT_UP_TOTAL[0]}" "$final"
	read -r -a f <<<"$final"
	stats=$(vmqt_stats)
	s_empty='{"devs":[{"dev":"'$DEV'","queues":[],"txqs":[],"fallbacks":{"not_live":{"packets":0},"beyond_map":{"packets":0},"bad_group":{"packets":0}},"kernel_choice":{"packets":0}}]}'
	for ((q = 0; q < 8; q++)); do
		vmqt_assert_eq "vmqctl stats txq $q packets vs mq class 1:$(printf %x $((q + 1)))" "${f[q]}" \
			"$(vmqt_stats_delta "$s_empty" "$stats" "txq('$DEV', $q)")"
	done
	total=$(_vmqt_sum "$final")
	vmqt_assert_eq "stats: queues ${QID[1]} + ${QID[2]} packets = everything sent" "$total" \
		"$(vmqt_stats_delta "$s_empty" "$stats" "q('$DEV', ${QID[1]}) + q('$DEV', ${QID[2]})")"
	vmqt_assert_eq "rx_packets of the wire end (nothing lost)" "$total" "$(vmqt_dev_stat "$VMQT_WIRE_NS" "$VMQT_WIRE_DEV" rx_packets)"
	vmqt_ok "end to end: $total datagrams, all received, all steered by the group; vmq per-TX-queue = mq ($final)"
}

vmqt_cases "$@"
