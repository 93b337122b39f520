#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Scenario: a host with two uplinks (vmqup0 to 192.0.2.0/24, vmqup1 to
# 198.51.100.0/24; 8 TX queues and mq each), both attached to one vmqd, each
# with its own queues: the same queue IDs map to different TX queues.
#
#   vmqup0 (default txq 7): queue 5 -> txq 2, queue 6 -> txq 3
#   vmqup1 (default txq 0): queue 5 -> txq 6, queue 6 -> txq 1
#   VM 1: vmqtap1 bound to vmqup0 queue 5, sends to vmqup0's subnet
#   VM 2: vmqtap2 bound to vmqup1 queue 5, sends to vmqup1's subnet
#   VM 3: vmqtap3 bound to vmqup0 queue 6, sends to vmqup0's subnet
#   VM 4: vmqtap4 bound to vmqup1 queue 6, sends to vmqup1's subnet
#
#   - each VM's traffic leaves by the uplink its destination routes to, on
#     that uplink's TX queue for its queue ID; nothing on the other uplink;
#   - a binding names its uplink: the ports are routed, so they are in
#     uplink mode (each uplink's program resolves its own ports by ingress
#     ifindex, no hook on the ports), and VM 1's packets (bound on vmqup0)
#     routed out vmqup1 are not vmqup1's queue 5: they leave on vmqup1's
#     default queue (txq 0) as its own traffic, not a fallback (with a
#     stamped mark, they would take vmqup1's queue 5);
#   - `queue del vmqup0 id 5` sends VM 1's vmqup0 traffic to vmqup0's default
#     queue (a not_live fallback on vmqup0 only); vmqup1's queue 5 is still
#     there and VM 2 still on txq 6, with no fallback on vmqup1; port show:
#     vmqtap1 stale, vmqtap2 live; and `queue del vmqup1 id 6` likewise
#     leaves vmqup0's queue 6 alone;
#   - per uplink, vmq's per-TX-queue counters equal mq's, and each wire end
#     received everything routed to it.
#
# Cases (tests/run.sh test_scenario_two_uplinks CASE...): own_uplink,
# other_uplink, del_on_u0, del_on_u1 (needs del_on_u0), end_to_end.
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/topology.sh
. "$(dirname "$0")/topology.sh"
vmqt_init
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl" "$BUILD/tests/vmq-udpsend"

N=200
FLOWS=4
U0=vmqup0
U1=vmqup1
declare -A DEFAULT=([0]=7 [1]=0)   # uplink -> default txq
declare -A MAP=([0:5]=2 [0:6]=3 [1:5]=6 [1:6]=1) # "uplink:queue" -> txq
declare -A VM_UP=([1]=0 [2]=1 [3]=0 [4]=1)       # VM -> its uplink
declare -A VM_Q=([1]=5 [2]=5 [3]=6 [4]=6)        # VM -> its queue ID

vmqt_topo_host 2
for v in 1 2 3 4; do
	vmqt_vm_add "$v"
done
HNS=$VMQT_HOST_NS
vmqt_topo_vmqd_start
for k in 0 1; do
	vmqt_ctl dev attach "${VMQT_UP_DEV[k]}" default-txq "${DEFAULT[$k]}" >/dev/null
	for id in 5 6; do
		vmqt_ctl queue add "${VMQT_UP_DEV[k]}" id "$id" txq "${MAP[$k:$id]}" vm "u$k-q$id" >/dev/null
	done
done
for v in 1 2 3 4; do
	vmqt_ctl port bind "vmqtap$v" dev "${VMQT_UP_DEV[${VM_UP[$v]}]}" queue "${VM_Q[$v]}" >/dev/null
done
devs=$(vmqt_ctl -j dev show | vmqt_json 'sorted((d["dev"], d["default_txq"], d["txqs"], d["live_queues"], d["attached"]) for d in j["devs"])')
vmqt_assert_eq "dev show: both uplinks" "[[\"$U0\",7,8,2,true],[\"$U1\",0,8,2,true]]" "$devs"
for k in 0 1; do
	got=$(vmqt_ctl -j queue show "${VMQT_UP_DEV[k]}" | vmqt_json '[(q["id"], q.get("txq")) for q in j["queues"]]')
	vmqt_assert_eq "queue show ${VMQT_UP_DEV[k]}" "[[0,${DEFAULT[$k]}],[5,${MAP[$k:5]}],[6,${MAP[$k:6]}]]" "$got"
done
port_entry() { # VM STATE: VM's port show entry (a freed queue has no vm label left)
	local v=$1 k=${VM_UP[$1]} vm=""
	[ "$2" = stale ] || vm=$(printf ',"vm":"u%s-q%s"' "$k" "${VM_Q[$v]}")
	printf '{"dev":"%s","port":"vmqtap%s","queue":%s,"state":"%s"%s}' \
		"${VMQT_UP_DEV[k]}" "$v" "${VM_Q[$v]}" "$2" "$vm"
}
want=$(vmqt_json j <<<"[$(port_entry 1 live),$(port_entry 2 live),$(port_entry 3 live),$(port_entry 4 live)]")
vmqt_assert_eq "port show" "$want" "$(vmqt_port_show)"
want=$(vmqt_json j <<<"[$(port_entry 2 live),$(port_entry 4 live)]")
vmqt_assert_eq "port show dev $U1" "$want" "$(vmqt_port_show dev "$U1")"
vmqt_ok "uplinks $U0 (default txq 7; 5 -> txq 2, 6 -> txq 3) and $U1 (default txq 0; 5 -> txq 6, 6 -> txq 1); VMs 1-4 bound; dev/queue/port show agree"

# --- each VM out of its own uplink, on that uplink's TX queue ---------------------------------
vmqt_case own_uplink
case_own_uplink() {
	s0=$(vmqt_stats)
	for v in 1 2 3 4; do
		k=${VM_UP[$v]}
		what="VM $v (queue ${VM_Q[$v]}) via ${VMQT_UP_DEV[k]}"
		vmqt_vm_traffic "$what" "$v" "$k" "$N" "$FLOWS"
		vmqt_assert_up_txq "$what" "$k" "${MAP[$k:${VM_Q[$v]}]}" "$N"
	done
	s1=$(vmqt_stats)
	for k in 0 1; do
		for id in 5 6; do
			vmqt_assert_eq "stats: ${VMQT_UP_DEV[k]} queue $id packets" "$N" \
				"$(vmqt_stats_delta "$s0" "$s1" "q('${VMQT_UP_DEV[k]}', $id)")"
		done
		vmqt_assert_eq "stats: ${VMQT_UP_DEV[k]} fallbacks" 0 "$(vmqt_stats_delta "$s0" "$s1" "fb('${VMQT_UP_DEV[k]}', 'not_live')")"
	done
	vmqt_ok "VMs 1-4: each $N on its uplink's TX queue for its ID (same IDs, different TX queues), none on the other uplink"
}

# --- the map of the uplink a packet leaves by steers it --------------------------------------
vmqt_case other_uplink
case_other_uplink() {
	for v in 1 2 3 4; do
		vmqt_assert_port_uplink_mode "VM $v's port (routed)" "vmqtap$v" "routed from the port"
	done
	s0=$(vmqt_stats)
	vmqt_vm_traffic "VM 1 (bound on $U0, uplink mode) routed out $U1" 1 1 "$N" "$FLOWS"
	vmqt_assert_up_txq "VM 1 (bound on $U0, uplink mode) routed out $U1" 1 "${DEFAULT[1]}" "$N"
	vmqt_vm_traffic "VM 2 (bound on $U1, uplink mode) routed out $U0" 2 0 "$N" "$FLOWS"
	vmqt_assert_up_txq "VM 2 (bound on $U1, uplink mode) routed out $U0" 0 "${DEFAULT[0]}" "$N"
	s1=$(vmqt_stats)
	for k in 0 1; do
		vmqt_assert_eq "stats: ${VMQT_UP_DEV[k]} queue 0 packets (the other uplink's port)" "$N" \
			"$(vmqt_stats_delta "$s0" "$s1" "q('${VMQT_UP_DEV[k]}', 0)")"
		vmqt_assert_eq "stats: ${VMQT_UP_DEV[k]} queue 5 packets" 0 "$(vmqt_stats_delta "$s0" "$s1" "q('${VMQT_UP_DEV[k]}', 5)")"
		vmqt_assert_eq "stats: ${VMQT_UP_DEV[k]} fallbacks" 0 "$(vmqt_stats_delta "$s0" "$s1" "fb('${VMQT_UP_DEV[k]}', 'not_live')")"
	done
	vmqt_ok "a port bound on one uplink, routed out the other: that uplink's default queue (txq ${DEFAULT[1]} on $U1, ${DEFAULT[0]} on $U0) as its own traffic; a binding names its uplink"
}

# --- queue del on one uplink leaves the other alone ---------------------------------------------
vmqt_case del_on_u0
case_del_on_u0() {
	vmqt_ctl queue del "$U0" id 5 >/dev/null
	got=$(vmqt_ctl -j queue show "$U0" | vmqt_json '[(q["id"], q.get("txq")) for q in j["queues"]]')
	vmqt_assert_eq "queue show $U0 after queue del $U0 id 5" "[[0,7],[6,${MAP[0:6]}]]" "$got"
	got=$(vmqt_ctl -j queue show "$U1" | vmqt_json '[(q["id"], q.get("txq")) for q in j["queues"]]')
	vmqt_assert_eq "queue show $U1 after queue del $U0 id 5" "[[0,0],[5,${MAP[1:5]}],[6,${MAP[1:6]}]]" "$got"
	want=$(vmqt_json j <<<"[$(port_entry 1 stale),$(port_entry 2 live),$(port_entry 3 live),$(port_entry 4 live)]")
	vmqt_assert_eq "port show after queue del $U0 id 5" "$want" "$(vmqt_port_show)"
	s0=$(vmqt_stats)
	vmqt_vm_traffic "VM 1 via $U0 after queue del $U0 id 5" 1 0 "$N" "$FLOWS"
	vmqt_assert_up_txq "VM 1 via $U0 after queue del $U0 id 5" 0 "${DEFAULT[0]}" "$N"
	vmqt_vm_traffic "VM 2 via $U1 after queue del $U0 id 5" 2 1 "$N" "$FLOWS"
	vmqt_assert_up_txq "VM 2 via $U1 after queue del $U0 id 5" 1 "${MAP[1:5]}" "$N"
	vmqt_vm_traffic "VM 1 via $U1 after queue del $U0 id 5" 1 1 "$N" "$FLOWS"
	vmqt_assert_up_txq "VM 1 via $U1 after queue del $U0 id 5 (not bound on $U1)" 1 "${DEFAULT[1]}" "$N"
	for v in 3 4; do
		k=${VM_UP[$v]}
		vmqt_vm_traffic "VM $v after queue del $U0 id 5" "$v" "$k" "$N" "$FLOWS"
		vmqt_assert_up_txq "VM $v after queue del $U0 id 5" "$k" "${MAP[$k:${VM_Q[$v]}]}" "$N"
	done
	s1=$(vmqt_stats)
	vmqt_assert_eq "stats: $U0 not_live" "$N" "$(vmqt_stats_delta "$s0" "$s1" "fb('$U0', 'not_live')")"
	vmqt_assert_eq "stats: $U0 queue 5 fallback_packets" "$N" "$(vmqt_stats_delta "$s0" "$s1" "q('$U0', 5, 'fallback_packets')")"
	vmqt_assert_eq "stats: $U0 queue 5 packets" 0 "$(vmqt_stats_delta "$s0" "$s1" "q('$U0', 5)")"
	vmqt_assert_eq "stats: $U1 not_live" 0 "$(vmqt_stats_delta "$s0" "$s1" "fb('$U1', 'not_live')")"
	vmqt_assert_eq "stats: $U1 queue 5 fallback_packets" 0 "$(vmqt_stats_delta "$s0" "$s1" "q('$U1', 5, 'fallback_packets')")"
	vmqt_assert_eq "stats: $U1 queue 5 packets (VM 2; VM 1 routed out $U1 is $U1's queue 0)" "$N" \
		"$(vmqt_stats_delta "$s0" "$s1" "q('$U1', 5)")"
	vmqt_assert_eq "stats: $U1 queue 0 packets (VM 1 routed out $U1)" "$N" "$(vmqt_stats_delta "$s0" "$s1" "q('$U1', 0)")"
	vmqt_ok "queue del $U0 id 5: VM 1 via $U0 on $U0's default txq 7 (not_live +$N on $U0 only); $U1's queue 5 intact (txq 6, no fallback); vmqtap1 stale, vmqtap2 live"
}

vmqt_case del_on_u1 del_on_u0
case_del_on_u1() {
	vmqt_ctl queue del "$U1" id 6 >/dev/null
	want=$(vmqt_json j <<<"[$(port_entry 1 stale),$(port_entry 2 live),$(port_entry 3 live),$(port_entry 4 stale)]")
	vmqt_assert_eq "port show after queue del $U1 id 6" "$want" "$(vmqt_port_show)"
	s0=$(vmqt_stats)
	vmqt_vm_traffic "VM 4 via $U1 after queue del $U1 id 6" 4 1 "$N" "$FLOWS"
	vmqt_assert_up_txq "VM 4 via $U1 after queue del $U1 id 6" 1 "${DEFAULT[1]}" "$N"
	vmqt_vm_traffic "VM 3 via $U0 after queue del $U1 id 6" 3 0 "$N" "$FLOWS"
	vmqt_assert_up_txq "VM 3 via $U0 after queue del $U1 id 6" 0 "${MAP[0:6]}" "$N"
	s1=$(vmqt_stats)
	vmqt_assert_eq "stats: $U1 not_live" "$N" "$(vmqt_stats_delta "$s0" "$s1" "fb('$U1', 'not_live')")"
	vmqt_assert_eq "stats: $U1 txq 0 packets" "$N" "$(vmqt_stats_delta "$s0" "$s1" "txq('$U1', 0)")"
	vmqt_assert_eq "stats: $U0 not_live" 0 "$(vmqt_stats_delta "$s0" "$s1" "fb('$U0', 'not_live')")"
	vmqt_assert_eq "stats: $U0 queue 6 packets" "$N" "$(vmqt_stats_delta "$s0" "$s1" "q('$U0', 6)")"
	vmqt_ok "queue del $U1 id 6: VM 4 on $U1's default txq 0; VM 3 on $U0's queue 6 (txq 3) unaffected"
}

# --- end to end, per uplink -----------------------------------------------------------------------
vmqt_case end_to_end
case_end_to_end() {
	stats=$(vmqt_stats)
	for k in 0 1; do
		dev=${VMQT_UP_DEV[k]}
		final=$(vmqt_up_counts "$k")
		vmqt_assert_eq "mq counters of $dev vs the sum of the steps" "${VMQT_UP_TOTAL[k]}" "$final"
		read -r -a f <<<"$final"
		for ((q = 0; q < 8; q++)); do
			got=$(vmqt_json "sum(t['kernel']['packets'] for d in j['devs'] if d['dev'] == '$dev' for t in d['txqs'] if t['txq'] == $q)" <<<"$stats")
			vmqt_assert_eq "vmqctl stats $dev txq $q packets vs mq class 1:$(printf %x $((q + 1)))" "${f[q]}" "$got"
		done
		total=$(_vmqt_sum "$final")
		vmqt_assert_eq "tx_packets of $dev" "$total" "$(vmqt_dev_stat "$HNS" "$dev" tx_packets)"
		vmqt_assert_eq "rx_packets of ${VMQT_UP_WIRE_DEV[k]} (nothing lost)" "$total" \
			"$(vmqt_dev_stat "${VMQT_UP_WIRE_NS[k]}" "${VMQT_UP_WIRE_DEV[k]}" rx_packets)"
		vmqt_ok "end to end, $dev: $total sent, all received by its wire end; vmq per-TX-queue = mq ($final)"
	done
}

vmqt_cases "$@"
