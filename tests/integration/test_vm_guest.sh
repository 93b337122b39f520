#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# A real VM (QEMU, software emulation) on a tap of the namespaced host:
#
#   guest 10.0.1.2 =virtio-net= vmqvm1 10.0.1.1  host ns (routes)  vmqup0 == wire ns 192.0.2.2:9000
#
# vmqd with vmqup0 attached (default txq 7), queue 42 on txq 3 added by
# hand, the tap bound to it (`port bind vmqvm1 dev vmqup0 queue 42`) before
# the VM boots. The guest sends N numbered datagrams over FLOWS flows
# through the host's routing to a receiver in the wire namespace, then
# powers off. Checked:
#   - every datagram arrived, exactly once (the receiver's sequence numbers)
#   - all N left vmqup0 on TX queue 3 and none on another (the kernel's mq
#     class counters), and the tap received exactly N from the guest
#   - vmq's counters: queue 42 steered N, no fallback, nothing left to the
#     kernel's choice
#   - boot to first packet (QEMU start to the first datagram at the
#     receiver) is printed, and must be under 15 s
#
# Cases (tests/run.sh test_vm_guest CASE...): tap_bound, guest_delivers,
# steered (needs guest_delivers), boot_time (needs guest_delivers).
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/topology.sh
. "$(dirname "$0")/topology.sh"
# shellcheck source=tests/integration/vm.sh
. "$(dirname "$0")/vm.sh"
vmqt_init
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl"
vmqt_guest

N=1000         # datagrams
PPS=500        # their pace
FLOWS=4        # source ports
QID=42
TXQ=3
DEFAULT_TXQ=7
DEV=vmqup0
TAP=vmqvm1
BOOT_LIMIT=15  # seconds, QEMU start to first datagram at the receiver
t_start=$SECONDS

vmqt_topo_host 1
VMQT_DIAG_FN=vmqt_vm_diag
vmqt_topo_vmqd_start
vmqt_ctl dev attach "$DEV" default-txq "$DEFAULT_TXQ" >/dev/null
vmqt_ctl queue add "$DEV" id "$QID" txq "$TXQ" vm guest1 >/dev/null
vmqt_tap_add 1 "$TAP"
vmqt_ctl port bind "$TAP" dev "$DEV" queue "$QID" >/dev/null
vmqt_rx_start rx "$VMQT_WIRE_NS" 9000
vmqt_ok "host ns, uplink $DEV (8 TX queues, mq), vmqd $VMQT_VMQD_PID; queue $QID on txq $TXQ; tap $TAP bound; receiver at $VMQT_RX_DST"
# What guest_delivers measured, for the cases after it.
mq0="" rx0="" s0="" boot=""
VMQT_CASE_KEEP+=(mq0 rx0 s0 boot)

# --- the tap bound before the VM boots -------------------------------------------------
vmqt_case tap_bound
case_tap_bound() {
	want=$(vmqt_json j <<<"[{\"dev\":\"$DEV\",\"port\":\"$TAP\",\"queue\":$QID,\"state\":\"live\",\"vm\":\"guest1\"}]")
	vmqt_assert_eq "vmqctl -j port show (ifindex left out)" "$want" "$(vmqt_port_show)"
	vmqt_ok "tap $TAP bound to queue $QID on $DEV before the VM boots"
}

# --- the guest boots, sends, powers off: every datagram arrives once ----------------------
vmqt_case guest_delivers
case_guest_delivers() {
	mq0=$(vmqt_up_counts 0)
	rx0=$(vmqt_dev_stat "$VMQT_WIRE_NS" "$VMQT_WIRE_DEV" rx_packets)
	s0=$(vmqt_stats)
	vmqt_guest_start 1 "$TAP" g1 send g1 "$N" "$PPS" "$FLOWS"
	vmqt_qemu_wait g1 60 "vmq-guest: first packet"
	vmqt_qemu_wait g1 120
	vmqt_assert_eq "guest g1: datagrams it says it sent" "$N" "$(vmqt_guest_sent g1)"
	vmqt_rx_wait rx g1 "$N" 10
	vmqt_rx_assert_all "guest g1" rx g1 "$N"
	vmqt_assert_eq "guest g1: source ports seen by the receiver" "$FLOWS" "$(vmqt_rx rx "t('g1')['sports']")"
	boot=$(vmqt_boot_to_first g1 rx g1)
	vmqt_ok "guest g1 booted, sent $N datagrams over $FLOWS flows at $PPS/s and powered off; all $N arrived once each"
}

# --- all of it on the queue's TX queue, counted by vmq ---------------------------------------
vmqt_case steered guest_delivers
case_steered() {
	mq1=$(vmqt_up_counts 0)
	VMQT_UP_DELTA[0]=$(vmqt_txq_delta "$mq0" "$mq1")
	vmqt_assert_up_txq "guest g1 on queue $QID" 0 "$TXQ" "$N"
	vmqt_assert_eq "packets received by $VMQT_WIRE_DEV" "$N" \
		$(($(vmqt_dev_stat "$VMQT_WIRE_NS" "$VMQT_WIRE_DEV" rx_packets) - rx0))
	vmqt_assert_eq "packets the tap $TAP received from the guest" "$N" "$(vmqt_dev_stat "$VMQT_HOST_NS" "$TAP" rx_packets)"
	s1=$(vmqt_stats)
	vmqt_assert_eq "stats: queue $QID packets" "$N" "$(vmqt_stats_delta "$s0" "$s1" "q('$DEV', $QID)")"
	vmqt_assert_eq "stats: queue $QID fallback_packets" 0 "$(vmqt_stats_delta "$s0" "$s1" "q('$DEV', $QID, 'fallback_packets')")"
	vmqt_assert_eq "stats: txq $TXQ packets" "$N" "$(vmqt_stats_delta "$s0" "$s1" "txq('$DEV', $TXQ)")"
	vmqt_assert_eq "stats: queue 0 packets" 0 "$(vmqt_stats_delta "$s0" "$s1" "q('$DEV', 0)")"
	vmqt_assert_eq "stats: kernel choice" 0 "$(vmqt_stats_delta "$s0" "$s1" "kc('$DEV')")"
	vmqt_assert_eq "stats: fallbacks not_live" 0 "$(vmqt_stats_delta "$s0" "$s1" "fb('$DEV', 'not_live')")"
	vmqt_ok "all $N on $DEV TX queue $TXQ (per queue: ${VMQT_UP_DELTA[0]}); the tap got $N from the guest; stats: queue $QID steered $N, no fallback"
}

# --- boot to first packet -------------------------------------------------------------------
vmqt_case boot_time guest_delivers
case_boot_time() {
	vmqt_assert_below "boot to first packet (s)" "$BOOT_LIMIT" "$boot"
	vmqt_ok "boot to first packet: $boot s (limit $BOOT_LIMIT s); whole test so far $((SECONDS - t_start)) s"
}

vmqt_cases "$@"
