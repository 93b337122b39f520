#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Scenario: three VMs on one host, each with its own VM queue on its own TX
# queue of the uplink, stamped by port bindings (the virtual switch's job).
# The VMs send from inside their namespaces with no mark at all.
#
#   before any binding  every VM's traffic is unmarked: the default queue
#                       (queue 0 -> txq 7), counted as queue 0's own
#   port bind           vmqtapN dev vmqup0 queue ID: VM N's traffic leaves
#                       on its queue's TX queue only, one VM at a time and
#                       all three at once; `port show` lists the bindings.
#                       The host routes from the ports, so the uplink's
#                       vmq_tx resolves them by ingress_ifindex: uplink
#                       mode, no hook on the ports
#   port bind (again)   rebinding moves a port to another queue
#   port unbind         the VM's traffic is back on the default queue, as
#                       queue 0's own traffic: NOT a fallback (not_live and
#                       the old queue's fallback_packets unchanged); the
#                       binding is gone and the port has no filter or clsact
#
# Nothing is lost (every datagram reaches UDP on the wire end) and vmq's own
# per-TX-queue counters equal the kernel's mq class counters at the end.
#
# Cases (tests/run.sh test_scenario_vms CASE...): unbound, bind,
# bound_traffic, rebind, unbind (these three need bind), end_to_end.
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/topology.sh
. "$(dirname "$0")/topology.sh"
vmqt_init
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl" "$BUILD/tests/vmq-udpsend"

N=200          # datagrams per step
FLOWS=4        # flows per step
DEFAULT_TXQ=7
DEV=vmqup0
declare -A QID=([1]=21 [2]=300 [3]=4095) # VM -> its queue ID
declare -A TXQ=([1]=1 [2]=2 [3]=4)       # VM -> its queue's TX queue

vmqt_topo_host 1
for v in 1 2 3; do
	vmqt_vm_add "$v"
done
HNS=$VMQT_HOST_NS
vmqt_topo_vmqd_start
vmqt_ctl dev attach "$DEV" default-txq "$DEFAULT_TXQ" >/dev/null
for v in 1 2 3; do
	vmqt_ctl queue add "$DEV" id "${QID[$v]}" txq "${TXQ[$v]}" vm "vm$v" >/dev/null
done
vmqt_ok "host ns with uplink $DEV (8 TX queues, mq), VMs 1-3 on ports vmqtap1-3; vmqd $VMQT_VMQD_PID; queues ${QID[1]}/${QID[2]}/${QID[3]} -> txq ${TXQ[1]}/${TXQ[2]}/${TXQ[3]}, default txq $DEFAULT_TXQ"

# --- no binding yet: unmarked, the default queue's own traffic ---------------------
vmqt_case unbound
case_unbound() {
	s0=$(vmqt_stats)
	for v in 1 2 3; do
		vmqt_vm_traffic "VM $v, port not bound" "$v" 0 "$N" "$FLOWS"
		vmqt_assert_up_txq "VM $v, port not bound" 0 "$DEFAULT_TXQ" "$N"
	done
	s1=$(vmqt_stats)
	vmqt_assert_eq "stats: queue 0 packets, 3 unbound VMs" $((3 * N)) "$(vmqt_stats_delta "$s0" "$s1" "q('$DEV', 0)")"
	vmqt_assert_eq "stats: not_live fallbacks, 3 unbound VMs" 0 "$(vmqt_stats_delta "$s0" "$s1" "fb('$DEV', 'not_live')")"
	vmqt_ok "unbound VMs: $N each on the default txq $DEFAULT_TXQ, counted as queue 0's, no fallback"
}

# --- bind each VM's port to its queue ------------------------------------------------
vmqt_case bind
case_bind() {
	for v in 1 2 3; do
		out=$(vmqt_ctl port bind "vmqtap$v" dev "$DEV" queue "${QID[$v]}")
		vmqt_assert_eq "port bind vmqtap$v prints nothing" "" "$out"
	done
	for v in 1 2 3; do
		vmqt_assert_port_uplink_mode "port bind vmqtap$v (routed)" "vmqtap$v" "routed from the port"
	done
	want=$(vmqt_json j <<<"[{\"dev\":\"$DEV\",\"port\":\"vmqtap1\",\"queue\":${QID[1]},\"state\":\"live\",\"vm\":\"vm1\"},{\"dev\":\"$DEV\",\"port\":\"vmqtap2\",\"queue\":${QID[2]},\"state\":\"live\",\"vm\":\"vm2\"},{\"dev\":\"$DEV\",\"port\":\"vmqtap3\",\"queue\":${QID[3]},\"state\":\"live\",\"vm\":\"vm3\"}]")
	vmqt_assert_eq "vmqctl -j port show (ifindex left out)" "$want" "$(vmqt_port_show)"
	ifx=$(vmqt_ctl -j port show | vmqt_json '{p["port"]: p["ifindex"] for p in j["ports"]}')
	for v in 1 2 3; do
		vmqt_assert_eq "port show: ifindex of vmqtap$v" "$(vmqt_in "$HNS" cat "/sys/class/net/vmqtap$v/ifindex")" \
			"$(vmqt_json "j['vmqtap$v']" <<<"$ifx")"
	done
	vmqt_assert_eq "vmqctl -j port show dev $DEV = port show" "$want" "$(vmqt_port_show dev "$DEV")"
	text=$(vmqt_ctl port show)
	vmqt_assert_match "port show (text): header" '^PORT +DEV +QUEUE +VM +STATE +MODE +WHY *$' "$(head -n 1 <<<"$text")"
	for v in 1 2 3; do
		vmqt_assert_match "port show (text)" "^vmqtap$v +$DEV +${QID[$v]} +vm$v +live +uplink +routed from the port *\$" "$text"
	done
	vmqt_assert_eq "port show (text): rows" 4 "$(wc -l <<<"$text")"
	vmqt_ok "port bind vmqtap1-3: uplink mode (routed, no hook on the ports); port show (text, -j, dev filter) lists the 3 live bindings"
}

vmqt_case bound_traffic bind
case_bound_traffic() {
	s0=$(vmqt_stats)
	for v in 1 2 3; do
		vmqt_vm_traffic "VM $v, bound to queue ${QID[$v]}" "$v" 0 "$N" "$FLOWS"
		vmqt_assert_up_txq "VM $v, bound to queue ${QID[$v]}" 0 "${TXQ[$v]}" "$N"
	done
	s1=$(vmqt_stats)
	for v in 1 2 3; do
		vmqt_assert_eq "stats: queue ${QID[$v]} packets (VM $v)" "$N" "$(vmqt_stats_delta "$s0" "$s1" "q('$DEV', ${QID[$v]})")"
		vmqt_assert_eq "stats: queue ${QID[$v]} fallback_packets (VM $v)" 0 \
			"$(vmqt_stats_delta "$s0" "$s1" "q('$DEV', ${QID[$v]}, 'fallback_packets')")"
		vmqt_assert_eq "stats: txq ${TXQ[$v]} packets (VM $v)" "$N" "$(vmqt_stats_delta "$s0" "$s1" "txq('$DEV', ${TXQ[$v]})")"
	done
	vmqt_assert_eq "stats: queue 0 packets while bound" 0 "$(vmqt_stats_delta "$s0" "$s1" "q('$DEV', 0)")"
	vmqt_ok "bound VMs, one at a time: each VM's $N on its own TX queue only (${TXQ[1]}, ${TXQ[2]}, ${TXQ[3]}); stats per queue agree"

	# All three at once, paced so they overlap: still each on its own TX queue.
	before=$(vmqt_up_snapshot)
	declare -A BGPID=()
	for v in 1 2 3; do
		vmqt_vm_send_bg "$v" 0 "$VMQT_TMP/bg$v.out" --count $((4 * N)) --flows "$FLOWS" \
			--src-port-base $((40000 + 100 * v)) --rate 2000
		BGPID[$v]=$VMQT_BG_PID
	done
	for v in 1 2 3; do
		vmqt_bg_wait "VM $v, concurrent" "${BGPID[$v]}" "$VMQT_TMP/bg$v.out" "sent $((4 * N))"
	done
	vmqt_up_settle "3 VMs at once" "$before" 0 $((12 * N))
	read -r -a d <<<"${VMQT_UP_DELTA[0]}"
	for ((q = 0; q < 8; q++)); do
		want=0
		for v in 1 2 3; do
			[ "${TXQ[$v]}" -ne "$q" ] || want=$((4 * N))
		done
		vmqt_assert_eq "3 VMs at once: packets on $DEV TX queue $q (per queue: ${VMQT_UP_DELTA[0]})" "$want" "${d[q]}"
	done
	vmqt_ok "3 VMs sending at once ($((4 * N)) each, overlapping): per TX queue ${VMQT_UP_DELTA[0]}"
}

# --- rebind moves a port ------------------------------------------------------------------
vmqt_case rebind bind
case_rebind() {
	vmqt_ctl port bind vmqtap3 dev "$DEV" queue "${QID[1]}" >/dev/null
	vmqt_assert_match "port show after rebinding vmqtap3" \
		"^vmqtap3 +$DEV +${QID[1]} +vm1 +live +uplink +routed from the port *\$" "$(vmqt_ctl port show)"
	vmqt_vm_traffic "VM 3 rebound to queue ${QID[1]}" 3 0 "$N" "$FLOWS"
	vmqt_assert_up_txq "VM 3 rebound to queue ${QID[1]}" 0 "${TXQ[1]}" "$N"
	vmqt_ctl port bind vmqtap3 dev "$DEV" queue "${QID[3]}" >/dev/null
	vmqt_vm_traffic "VM 3 bound back to queue ${QID[3]}" 3 0 "$N" "$FLOWS"
	vmqt_assert_up_txq "VM 3 bound back to queue ${QID[3]}" 0 "${TXQ[3]}" "$N"
	vmqt_assert_port_uplink_mode "vmqtap3 after two rebinds" vmqtap3 "routed from the port"
	vmqt_ok "rebinding vmqtap3 moved VM 3 to txq ${TXQ[1]} and back to txq ${TXQ[3]}, still uplink mode, no hook"
}

# --- unbind: back to the default queue, not a fallback ----------------------------------------
vmqt_case unbind bind
case_unbind() {
	out=$(vmqt_ctl port unbind vmqtap2)
	vmqt_assert_eq "port unbind vmqtap2 prints nothing" "" "$out"
	want=$(vmqt_json j <<<"[{\"dev\":\"$DEV\",\"port\":\"vmqtap1\",\"queue\":${QID[1]},\"state\":\"live\",\"vm\":\"vm1\"},{\"dev\":\"$DEV\",\"port\":\"vmqtap3\",\"queue\":${QID[3]},\"state\":\"live\",\"vm\":\"vm3\"}]")
	vmqt_assert_eq "vmqctl -j port show after unbinding vmqtap2" "$want" "$(vmqt_port_show)"
	vmqt_assert_eq "programs on vmqtap2 ingress after unbind" "" "$(vmqt_hooks "$HNS" vmqtap2 ingress)"
	vmqt_assert_eq "port show: mode of vmqtap2 after unbind" "" "$(vmqt_port_mode vmqtap2)"
	qdiscs=$(vmqt_in "$HNS" tc qdisc show dev vmqtap2)
	if grep -q clsact <<<"$qdiscs"; then
		vmqt_fail "clsact still on vmqtap2 after unbind (uplink mode never creates one):$(printf '\n%s' "$qdiscs" | sed 's/^/   | /')"
	fi
	s0=$(vmqt_stats)
	vmqt_vm_traffic "VM 2 after unbind" 2 0 "$N" "$FLOWS"
	vmqt_assert_up_txq "VM 2 after unbind" 0 "$DEFAULT_TXQ" "$N"
	for v in 1 3; do
		vmqt_vm_traffic "VM $v, still bound" "$v" 0 "$N" "$FLOWS"
		vmqt_assert_up_txq "VM $v, still bound" 0 "${TXQ[$v]}" "$N"
	done
	s1=$(vmqt_stats)
	vmqt_assert_eq "stats: queue 0 packets (VM 2 unbound)" "$N" "$(vmqt_stats_delta "$s0" "$s1" "q('$DEV', 0)")"
	vmqt_assert_eq "stats: queue 0 fallback_packets" 0 "$(vmqt_stats_delta "$s0" "$s1" "q('$DEV', 0, 'fallback_packets')")"
	vmqt_assert_eq "stats: fallbacks not_live (unbound is not stale)" 0 "$(vmqt_stats_delta "$s0" "$s1" "fb('$DEV', 'not_live')")"
	vmqt_assert_eq "stats: fallbacks beyond_map" 0 "$(vmqt_stats_delta "$s0" "$s1" "fb('$DEV', 'beyond_map')")"
	vmqt_assert_eq "stats: queue ${QID[2]} packets after its port's unbind" 0 "$(vmqt_stats_delta "$s0" "$s1" "q('$DEV', ${QID[2]})")"
	vmqt_assert_eq "stats: queue ${QID[2]} fallback_packets after its port's unbind" 0 \
		"$(vmqt_stats_delta "$s0" "$s1" "q('$DEV', ${QID[2]}, 'fallback_packets')")"
	vmqt_assert_eq "stats: txq $DEFAULT_TXQ packets" "$N" "$(vmqt_stats_delta "$s0" "$s1" "txq('$DEV', $DEFAULT_TXQ)")"
	vmqt_ctl_fails port unbind vmqtap2
	vmqt_assert_one_error "port unbind of an unbound port" "port vmqtap2: not bound"
	vmqt_ok "port unbind vmqtap2: no filter, no clsact, binding gone; VM 2's $N on the default txq $DEFAULT_TXQ as queue 0's own (fallbacks +0); VMs 1 and 3 unaffected"
}

# --- end to end -----------------------------------------------------------------------------
vmqt_case end_to_end
case_end_to_end() {
	final=$(vmqt_up_counts 0)
	vmqt_assert_eq "mq counters of $DEV vs the sum of the steps" "${VMQT_UP_TOTAL[0]}" "$final"
	read -r -a f <<<"$final"
	stats=$(vmqt_stats)
	for ((q = 0; q < 8; q++)); do
		got=$("$VMQT_PY" -c 'import json,sys; s=json.loads(sys.stdin.read())["devs"][0]; print(sum(t["kernel"]["packets"] for t in s["txqs"] if t["txq"] == int(sys.argv[1])))' "$q" <<<"$stats")
		vmqt_assert_eq "vmqctl stats txq $q packets vs mq class 1:$(printf %x $((q + 1)))" "${f[q]}" "$got"
	done
	total=$(_vmqt_sum "$final")
	vmqt_assert_eq "tx_packets of $DEV (the VMs' datagrams, nothing else)" "$total" "$(vmqt_dev_stat "$HNS" "$DEV" tx_packets)"
	vmqt_assert_eq "rx_packets of the wire end (nothing lost)" "$total" "$(vmqt_dev_stat "$VMQT_WIRE_NS" "$VMQT_WIRE_DEV" rx_packets)"
	vmqt_ok "end to end: $total datagrams from the VMs, all received; vmq's per-TX-queue counters = mq's ($final)"
}

vmqt_cases "$@"
