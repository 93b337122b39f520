#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Scenario: port bindings in their two modes. Where the uplink's egress sees
# the VM port as the packet's ingress_ifindex, vmq_tx resolves the port
# itself (uplink mode: no hook on the port, one program per packet); where
# it cannot (the port is in a bridge with an IP that is the VMs' gateway,
# and the uplink is not in it: ingress_ifindex is the bridge's), vmq_port
# stamps the mark on the port as before (stamp mode).
#
#   vm1  vmqtap1 routed by the host            uplink mode, "routed from the port"
#   vm4  vmqtap4 in bridge vmqbrup with vmqup1 uplink mode, "same bridge as the uplink"
#   vm3  vmqtap3 in bridge vmqbrgw (10.0.3.1,  stamp mode, "in bridge vmqbrgw without the uplink"
#        the VM's gateway), uplinks not in it
#   vm5  vmqtap5 routed, ifindex 20000         stamp mode, "ifindex beyond 16383"
#   vm2  vmqtap2 routed, then enslaved to vmqbrgw and released, while it
#        sends at a steady rate: vmqd follows the link events and switches
#        the mode (uplink -> stamp, stamp -> uplink)
#
# Each VM's datagrams are counted on the uplink's TX queues (mq class
# counters) and at the wire end (rx_packets, Udp NoPorts): nothing lost,
# every one on its queue's TX queue. Across a switch, every packet that
# left the uplink is counted and reached the wire; the kernel itself may
# drop a frame (at most 2 are allowed) while a port joins or leaves a
# bridge, vmq or not. Stamp -> uplink is exact across the switch. Uplink -> stamp is exact before the enslave and after vmqd's
# switch; between the two (the kernel bridges the port at once, vmqd hears
# of it by rtnetlink a moment later) the port's packets reach the uplink
# with the bridge's ingress_ifindex and no stamp: they leave on the default
# queue, counted as queue 0's. The test counts them exactly and prints how
# many there were.
#
# vmqd killed and restarted: steering of a port in uplink mode goes on
# with no daemon, and the new vmqd adopts the bindings with their modes.
#
# Cases (tests/run.sh test_scenario_port_modes CASE...): modes, traffic,
# freed_queue, enslave, release (needs enslave), uplink_bridge, vmqd_restart,
# vanish.
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/topology.sh
. "$(dirname "$0")/topology.sh"
vmqt_init
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl" "$BUILD/tests/vmq-udpsend"

N=200     # datagrams per step
FLOWS=4   # flows per step
RATE=1000 # datagrams per second of the steady senders
C=3000    # datagrams of a steady sender (3 s)
DEV=vmqup0
UP1=vmqup1
DEFAULT_TXQ=7
BIG_IFINDEX=20000
BR_GW=vmqbrgw # the VMs' gateway, with an IP; no uplink in it
BR_UP=vmqbrup # a switch: vmqup1 and vmqtap4
declare -A QID=([1]=11 [2]=12 [3]=13 [4]=14 [5]=15)
declare -A TXQ=([1]=1 [2]=2 [3]=3 [4]=4 [5]=5)

vmqt_topo_host 2
HNS=$VMQT_HOST_NS
for v in 1 2 3; do
	vmqt_vm_add "$v"
done
vmqt_vm_add 5 "$BIG_IFINDEX"

# A bridge of the host's, IPv6 off before it is up (no MLD, no RS).
bridge_add() {
	vmqt_run ip -n "$HNS" link add "$1" type bridge
	vmqt_in "$HNS" sysctl -qw "net.ipv6.conf.$1.disable_ipv6=1" "net.ipv4.conf.$1.rp_filter=0"
	vmqt_run ip -n "$HNS" link set "$1" up
}

# vm3's gateway is the bridge: its address moves from the port to it.
bridge_add "$BR_GW"
vmqt_run ip -n "$HNS" addr del 10.0.3.1/24 dev vmqtap3
vmqt_run ip -n "$HNS" link set vmqtap3 master "$BR_GW"
vmqt_run ip -n "$HNS" addr add 10.0.3.1/24 dev "$BR_GW"

# vm4 on the same L2 as uplink 1's wire end, through bridge vmqbrup.
vmqt_netns_add vm4
NS4=$VMQT_LAST_NS
VMQT_VM_NS[4]=$NS4
vmqt_in "$NS4" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
vmqt_run ip -n "$HNS" link add name vmqtap4 type veth peer name eth0 netns "$NS4"
vmqt_in "$HNS" sysctl -qw net.ipv6.conf.vmqtap4.disable_ipv6=1
vmqt_in "$NS4" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1
bridge_add "$BR_UP"
vmqt_run ip -n "$HNS" link set "$UP1" master "$BR_UP"
vmqt_run ip -n "$HNS" link set vmqtap4 master "$BR_UP"
vmqt_run ip -n "$HNS" link set vmqtap4 up
vmqt_run ip -n "$NS4" addr add "${VMQT_UP_NET[1]}.10/24" dev eth0
vmqt_run ip -n "$NS4" link set eth0 up
vmqt_run ip -n "$NS4" link set lo up
# Static neighbours both ways: no ARP crosses the uplink.
vmqt_run ip -n "$NS4" neigh replace "${VMQT_UP_WIRE_IP[1]}" \
	lladdr "$(vmqt_mac "${VMQT_UP_WIRE_NS[1]}" "${VMQT_UP_WIRE_DEV[1]}")" dev eth0 nud permanent
vmqt_run ip -n "${VMQT_UP_WIRE_NS[1]}" neigh replace "${VMQT_UP_NET[1]}.10" \
	lladdr "$(vmqt_mac "$NS4" eth0)" dev "${VMQT_UP_WIRE_DEV[1]}" nud permanent
vmqt_assert_eq "ifindex of vmqtap5" "$BIG_IFINDEX" "$(vmqt_in "$HNS" cat /sys/class/net/vmqtap5/ifindex)"

vmqt_topo_vmqd_start
vmqt_ctl dev attach "$DEV" default-txq "$DEFAULT_TXQ" >/dev/null
vmqt_ctl dev attach "$UP1" default-txq 0 >/dev/null
for v in 1 2 3 5; do
	vmqt_ctl queue add "$DEV" id "${QID[$v]}" txq "${TXQ[$v]}" vm "vm$v" >/dev/null
	vmqt_ctl port bind "vmqtap$v" dev "$DEV" queue "${QID[$v]}" >/dev/null
done
vmqt_ctl queue add "$UP1" id "${QID[4]}" txq "${TXQ[4]}" vm vm4 >/dev/null
vmqt_ctl port bind vmqtap4 dev "$UP1" queue "${QID[4]}" >/dev/null
vmqt_ok "host: $DEV (routed), $UP1 in bridge $BR_UP with vmqtap4, bridge $BR_GW (10.0.3.1) with vmqtap3; vmqtap1, 2 routed, vmqtap5 routed at ifindex $BIG_IFINDEX; all bound"

# For the cases that switch modes while a VM sends at a steady rate.
# wait_mode PORT "MODE: WHY": until port show says so (5 s at most).
wait_mode() {
	local i
	for i in $(seq 100); do
		[ "$(vmqt_port_mode "$1")" != "$2" ] || return 0
		sleep 0.05
	done
	vmqt_fail "$1: port show says '$(vmqt_port_mode "$1")', expected '$2' within 5 s"
}

# steady WHAT BASE MODE CHANGE... : VM 2 sends C datagrams at RATE; after
# 1 s the command CHANGE runs, and port show must say MODE. Sets MQ_0
# (start), MQ_A (before CHANGE), MQ_B (after vmqd's switch) and MQ_C (all
# arrived), vmqt_up_counts lines of uplink 0, and LEFT, the packets that
# left it. Checks: every packet that left the uplink reached UDP on its
# wire end (nothing lost at or after vmq), nothing left uplink 1, and at
# most 2 were lost before the uplink: the kernel drops a frame now and
# then when a port joins or leaves a bridge, with no vmq loaded at all
# (docs/kernel-notes.md, "Port resolution at the uplink").
steady() {
	local what=$1 base=$2 mode=$3 pid i now prev="" nb na rb ra up1
	shift 3
	nb=$(vmqt_snmp "$VMQT_WIRE_NS" Udp NoPorts)
	rb=$(vmqt_dev_stat "$VMQT_WIRE_NS" "$VMQT_WIRE_DEV" rx_packets)
	up1=$(vmqt_up_counts 1)
	MQ_0=$(vmqt_up_counts 0)
	vmqt_vm_send_bg 2 0 "$VMQT_TMP/steady.out" --count "$C" --flows "$FLOWS" \
		--src-port-base "$base" --rate "$RATE"
	pid=$VMQT_BG_PID
	sleep 1
	MQ_A=$(vmqt_up_counts 0)
	vmqt_run "$@"
	wait_mode vmqtap2 "$mode"
	MQ_B=$(vmqt_up_counts 0)
	vmqt_bg_wait "$what" "$pid" "$VMQT_TMP/steady.out" "sent $C"
	for i in $(seq 50); do
		now="$(vmqt_up_counts 0)|$(vmqt_snmp "$VMQT_WIRE_NS" Udp NoPorts)"
		[ "$now" != "$prev" ] || break
		prev=$now
		sleep 0.2
	done
	MQ_C=$(vmqt_up_counts 0)
	na=$(vmqt_snmp "$VMQT_WIRE_NS" Udp NoPorts)
	ra=$(vmqt_dev_stat "$VMQT_WIRE_NS" "$VMQT_WIRE_DEV" rx_packets)
	LEFT=$(_vmqt_sum "$(vmqt_txq_delta "$MQ_0" "$MQ_C")")
	vmqt_assert_eq "$what: packets received by the wire end = packets that left $DEV" "$LEFT" $((ra - rb))
	vmqt_assert_eq "$what: datagrams reaching UDP = packets that left $DEV" "$LEFT" $((na - nb))
	vmqt_assert_eq "$what: packets on $UP1" "$up1" "$(vmqt_up_counts 1)"
	((C - LEFT >= 0 && C - LEFT <= 2)) ||
		vmqt_fail "$what: $((C - LEFT)) of $C datagrams never reached $DEV (per TX queue: $(vmqt_txq_delta "$MQ_0" "$MQ_C"))"
}

# only_on WHAT FROM TO TXQ: between two vmqt_up_counts lines, packets on
# TX queue TXQ only; sets ONLY to how many. Call directly, not in $(...).
only_on() {
	local -a d
	local q
	read -r -a d <<<"$(vmqt_txq_delta "$2" "$3")"
	for ((q = 0; q < 8; q++)); do
		[ "$q" -eq "$4" ] || [ "${d[q]}" -eq 0 ] ||
			vmqt_fail "$1: ${d[q]} packets on $DEV TX queue $q, expected only on $4 (per queue: ${d[*]})"
	done
	ONLY=${d[$4]}
}

T2=${TXQ[2]}

# --- each mode, and why --------------------------------------------------------------
vmqt_case modes
case_modes() {
	vmqt_assert_port_uplink_mode "routed port" vmqtap1 "routed from the port"
	vmqt_assert_port_uplink_mode "routed port" vmqtap2 "routed from the port"
	vmqt_assert_port_uplink_mode "port in the uplink's bridge" vmqtap4 "same bridge as the uplink"
	vmqt_assert_port_stamp_mode "port in the gateway bridge" vmqtap3 "in bridge $BR_GW without the uplink"
	vmqt_assert_port_stamp_mode "port beyond the array" vmqtap5 "ifindex beyond 16383"
	for p in vmqtap1 vmqtap2 vmqtap4; do
		if vmqt_in "$HNS" tc qdisc show dev "$p" | grep -q clsact; then
			vmqt_fail "$p (uplink mode): a clsact qdisc was created"
		fi
	done
	text=$(vmqt_ctl port show)
	vmqt_assert_match "port show (text): vmqtap3" \
		"^vmqtap3 +$DEV +${QID[3]} +vm3 +live +stamp +in bridge $BR_GW without the uplink *\$" "$text"
	vmqt_assert_match "port show (text): vmqtap4" \
		"^vmqtap4 +$UP1 +${QID[4]} +vm4 +live +uplink +same bridge as the uplink *\$" "$text"
	vmqt_ok "modes: vmqtap1, 2 uplink (routed), vmqtap4 uplink (same bridge), no hook or clsact on them; vmqtap3 stamp (gateway bridge), vmqtap5 stamp (ifindex $BIG_IFINDEX)"
}

vmqt_case traffic
case_traffic() {
	# The bridges just came up: let whatever their setup sends leave before the
	# counting starts (seen once: one packet on vmqup1's default TX queue).
	quiet=0
	for _ in $(seq 10); do
		up_before=$(vmqt_up_snapshot)
		sleep 0.5
		[ "$up_before" != "$(vmqt_up_snapshot)" ] || { quiet=1; break; }
	done
	[ "$quiet" -eq 1 ] || vmqt_fail "the uplinks never went quiet before the traffic (5 s)"
	s0=$(vmqt_stats)
	for v in 1 2 3 5; do
		vmqt_vm_traffic "VM $v" "$v" 0 "$N" "$FLOWS"
		vmqt_assert_up_txq "VM $v" 0 "${TXQ[$v]}" "$N"
	done
	vmqt_vm_traffic "VM 4 (bridged to $UP1)" 4 1 "$N" "$FLOWS"
	vmqt_assert_up_txq "VM 4 (bridged to $UP1)" 1 "${TXQ[4]}" "$N"
	s1=$(vmqt_stats)
	for v in 1 2 3 5; do
		vmqt_assert_eq "stats: queue ${QID[$v]} packets (VM $v)" "$N" "$(vmqt_stats_delta "$s0" "$s1" "q('$DEV', ${QID[$v]})")"
	done
	vmqt_assert_eq "stats: queue ${QID[4]} packets on $UP1 (VM 4)" "$N" "$(vmqt_stats_delta "$s0" "$s1" "q('$UP1', ${QID[4]})")"
	vmqt_assert_eq "stats: queue 0 packets on $DEV" 0 "$(vmqt_stats_delta "$s0" "$s1" "q('$DEV', 0)")"
	vmqt_assert_eq "stats: not_live fallbacks on $DEV" 0 "$(vmqt_stats_delta "$s0" "$s1" "fb('$DEV', 'not_live')")"
	vmqt_ok "traffic: each VM's $N on its own TX queue only, in either mode; stats per queue agree"
}

# --- a freed queue keeps an uplink-mode binding: stale, fallbacks --------------------------
vmqt_case freed_queue
case_freed_queue() {
	vmqt_ctl queue del "$DEV" id "${QID[1]}" >/dev/null
	vmqt_assert_eq "port show: vmqtap1 while queue ${QID[1]} is freed" '["stale"]' \
		"$(vmqt_ctl -j port show | vmqt_json '[p["state"] for p in j["ports"] if p["port"] == "vmqtap1"]')"
	s0=$(vmqt_stats)
	vmqt_vm_traffic "VM 1, queue freed" 1 0 "$N" "$FLOWS"
	vmqt_assert_up_txq "VM 1, queue freed" 0 "$DEFAULT_TXQ" "$N"
	s1=$(vmqt_stats)
	vmqt_assert_eq "stats: not_live fallbacks (VM 1, queue freed)" "$N" "$(vmqt_stats_delta "$s0" "$s1" "fb('$DEV', 'not_live')")"
	vmqt_assert_eq "stats: queue ${QID[1]} fallback_packets" "$N" \
		"$(vmqt_stats_delta "$s0" "$s1" "q('$DEV', ${QID[1]}, 'fallback_packets')")"
	vmqt_ctl queue add "$DEV" id "${QID[1]}" txq "${TXQ[1]}" vm vm1 >/dev/null
	vmqt_vm_traffic "VM 1, queue back" 1 0 "$N" "$FLOWS"
	vmqt_assert_up_txq "VM 1, queue back" 0 "${TXQ[1]}" "$N"
	vmqt_ok "uplink mode, queue ${QID[1]} freed: binding stale, VM 1's $N on the default txq as not_live fallbacks; back on txq ${TXQ[1]} once re-created"
}

# --- switching while a VM sends at a steady rate -------------------------------------------
vmqt_case enslave
case_enslave() {
	# Uplink -> stamp: vmqtap2 enslaved to the gateway bridge.
	s0=$(vmqt_stats)
	steady "VM 2 enslaved to $BR_GW mid-stream" 46000 "stamp: in bridge $BR_GW without the uplink" \
		ip -n "$HNS" link set vmqtap2 master "$BR_GW"
	s1=$(vmqt_stats)
	vmqt_assert_port_stamp_mode "vmqtap2 after the enslave" vmqtap2 "in bridge $BR_GW without the uplink"
	only_on "VM 2 before the enslave" "$MQ_0" "$MQ_A" "$T2"
	before_n=$ONLY
	only_on "VM 2 after vmqd's switch to stamp" "$MQ_B" "$MQ_C" "$T2"
	after_n=$ONLY
	read -r -a w <<<"$(vmqt_txq_delta "$MQ_A" "$MQ_B")"
	for ((q = 0; q < 8; q++)); do
		[ "$q" -eq "$T2" ] || [ "$q" -eq "$DEFAULT_TXQ" ] || [ "${w[q]}" -eq 0 ] ||
			vmqt_fail "VM 2 during the switch: ${w[q]} packets on TX queue $q (per queue: ${w[*]})"
	done
	window=${w[$DEFAULT_TXQ]}
	vmqt_assert_eq "VM 2, enslave: on txq $T2 + on the default txq = all that left $DEV" "$LEFT" \
		$((before_n + after_n + w[T2] + window))
	vmqt_assert_eq "stats: queue 0 packets = the default txq's in the window" "$window" \
		"$(vmqt_stats_delta "$s0" "$s1" "q('$DEV', 0)")"
	vmqt_assert_eq "stats: queue ${QID[2]} packets = the rest" $((LEFT - window)) \
		"$(vmqt_stats_delta "$s0" "$s1" "q('$DEV', ${QID[2]})")"
	vmqt_assert_eq "stats: fallbacks during the enslave" 0 "$(vmqt_stats_delta "$s0" "$s1" "fb('$DEV', 'not_live')")"
	((window <= RATE / 2)) || vmqt_fail "VM 2, enslave: $window packets on the default queue before vmqd switched (more than 0.5 s)"
	vmqt_ok "uplink -> stamp at $RATE/s: $LEFT of $C left $DEV (the bridge dropped $((C - LEFT))), all received; $before_n before the enslave and $after_n after vmqd's switch all on txq ${TXQ[2]}; $window between the two on the default queue (the bridge's ingress_ifindex, before vmqd heard of it)"
}

vmqt_case release enslave
case_release() {
	# Stamp -> uplink: vmqtap2 released: exact across the switch.
	s0=$(vmqt_stats)
	steady "VM 2 released from $BR_GW mid-stream" 47000 "uplink: routed from the port" \
		ip -n "$HNS" link set vmqtap2 nomaster
	s1=$(vmqt_stats)
	vmqt_assert_port_uplink_mode "vmqtap2 after the release" vmqtap2 "routed from the port"
	only_on "VM 2, release (whole stream)" "$MQ_0" "$MQ_C" "$T2"
	vmqt_assert_eq "VM 2, release: every packet that left $DEV on txq $T2" "$LEFT" "$ONLY"
	vmqt_assert_eq "stats: queue ${QID[2]} packets (release)" "$LEFT" "$(vmqt_stats_delta "$s0" "$s1" "q('$DEV', ${QID[2]})")"
	vmqt_assert_eq "stats: queue 0 packets (release)" 0 "$(vmqt_stats_delta "$s0" "$s1" "q('$DEV', 0)")"
	vmqt_ok "stamp -> uplink at $RATE/s: $LEFT of $C left $DEV (the bridge dropped $((C - LEFT))), all received, every one on txq $T2 (slot written before the hook went)"
}

# --- the uplink enslaved into the gateway bridge, and out again ------------------------------
vmqt_case uplink_bridge
case_uplink_bridge() {
	# vmqtap3 then shares a bridge with the uplink (uplink mode); released, it is stamped again.
	vmqt_run ip -n "$HNS" link set "$DEV" master "$BR_GW"
	wait_mode vmqtap3 "uplink: same bridge as the uplink"
	vmqt_assert_port_uplink_mode "vmqtap3, $DEV enslaved to $BR_GW" vmqtap3 "same bridge as the uplink"
	vmqt_run ip -n "$HNS" link set "$DEV" nomaster
	wait_mode vmqtap3 "stamp: in bridge $BR_GW without the uplink"
	vmqt_assert_port_stamp_mode "vmqtap3, $DEV released" vmqtap3 "in bridge $BR_GW without the uplink"
	vmqt_vm_traffic "VM 3 after the uplink's round trip" 3 0 "$N" "$FLOWS"
	vmqt_assert_up_txq "VM 3 after the uplink's round trip" 0 "${TXQ[3]}" "$N"
	vmqt_ok "the uplink enslaved to $BR_GW: vmqtap3 went to uplink mode (same bridge), and back to stamp when released"
}

# --- vmqd killed: steering goes on; restarted: adopted with the modes ----------------------
vmqt_case vmqd_restart
case_vmqd_restart() {
	vmqt_vmqd_kill "$VMQT_VMQD_PID" KILL
	vmqt_vm_traffic "VM 1, no vmqd" 1 0 "$N" "$FLOWS"
	vmqt_assert_up_txq "VM 1, no vmqd" 0 "${TXQ[1]}" "$N"
	vmqt_topo_vmqd_start
	vmqt_assert_port_uplink_mode "after vmqd's restart" vmqtap1 "routed from the port"
	vmqt_assert_port_uplink_mode "after vmqd's restart" vmqtap4 "same bridge as the uplink"
	vmqt_assert_port_stamp_mode "after vmqd's restart" vmqtap3 "in bridge $BR_GW without the uplink"
	saved=$(vmqt_ctl save)
	vmqt_assert_match "save: vmqtap1's binding" "^port bind vmqtap1 dev $DEV queue ${QID[1]}\$" "$saved"
	if grep -Eq 'mode|uplink:|stamp' <<<"$saved"; then
		vmqt_fail "save: modes are not state, they follow the topology:$(printf '\n%s' "$saved" | sed 's/^/   | /')"
	fi
	vmqt_ok "vmqd killed: VM 1 still on txq ${TXQ[1]} (uplink mode needs no daemon); the next vmqd adopted every binding in its mode; save stores binds, not modes"
}

# --- a vanished port; unbind; detach --------------------------------------------------------
vmqt_case vanish
case_vanish() {
	vmqt_run ip -n "$HNS" link del vmqtap5
	vmqt_assert_eq "port show: vmqtap5 after its deletion" "" "$(vmqt_port_mode vmqtap5)"
	vmqt_ctl port unbind vmqtap1 >/dev/null
	vmqt_vm_traffic "VM 1 unbound" 1 0 "$N" "$FLOWS"
	vmqt_assert_up_txq "VM 1 unbound" 0 "$DEFAULT_TXQ" "$N"
	vmqt_ctl dev detach "$UP1" >/dev/null
	vmqt_assert_eq "port show: vmqtap4 after $UP1's detach" "" "$(vmqt_port_mode vmqtap4)"
	vmqt_ok "a vanished port lost its binding; unbind of an uplink-mode port put VM 1 back on the default queue; detaching $UP1 unbound vmqtap4"
}

vmqt_cases "$@"
