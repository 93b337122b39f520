#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# A real VM (QEMU, software emulation) receives its traffic through the
# receive side's port mode:
#
#   wire ns --vmqwire0== vmqup0 (host ns, vmq_rx in XDP) --devmap--> tap vmqvm1 =virtio-net= guest 10.0.1.2
#
# The wire end sends UDP datagrams to the guest's IP with the guest's MAC as
# their destination (a static neighbour), as a switch delivers a VM's
# frames to its host's NIC. The host neither bridges nor routes them (their
# MAC is not the uplink's): only vmq_rx's redirect takes them to the tap.
#
#   pass       queue 42 in pass mode: 100 datagrams (another tag) reach
#              the stack, counted as pass, and never the guest
#   port       rx port: N numbered datagrams reach the guest, which counts
#              them: every one exactly once, none of the pass ones; vmq's
#              counters (queue 42, outcome port) and the tap's say N
#
# Cases: tests/run.sh test_rx_vm_guest CASE...
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/topology.sh
. "$(dirname "$0")/topology.sh"
# shellcheck source=tests/integration/vm.sh
. "$(dirname "$0")/vm.sh"
vmqt_init
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl" "$BUILD/tests/vmq-udpsend"
vmqt_guest

N=1000   # datagrams to the guest
PPS=500  # their pace (the guest runs under TCG)
PORT=9100
QID=42
DEV=vmqup0
TAP=vmqvm1
GMAC=$(vmqt_vm_mac 1)

vmqt_topo_host 1
VMQT_DIAG_FN=vmqt_vm_diag
vmqt_topo_vmqd_start
vmqt_ctl dev attach "$DEV" rx on >/dev/null
vmqt_ctl queue add "$DEV" id "$QID" txq 3 vm guest1 >/dev/null
vmqt_tap_add 1 "$TAP"
vmqt_ctl port bind "$TAP" dev "$DEV" queue "$QID" >/dev/null
vmqt_ctl filter add "$DEV" queue "$QID" mac "$GMAC" >/dev/null
# The wire end reaches the guest's IP at the guest's MAC. Its checksums are
# computed in software: a veth hands on partial ones (checksum offload),
# which an XDP-redirected frame carries to the guest as they are, and the
# guest's UDP would drop (a NIC's frames from a wire are complete).
vmqt_run ip netns exec "$VMQT_WIRE_NS" ethtool -K "$VMQT_WIRE_DEV" tx off
vmqt_run ip -n "$VMQT_WIRE_NS" route add 10.0.1.0/24 dev "$VMQT_WIRE_DEV"
vmqt_run ip -n "$VMQT_WIRE_NS" neigh replace 10.0.1.2 lladdr "$GMAC" dev "$VMQT_WIRE_DEV" nud permanent
VMQT_QEMU_EXTRA=()
vmqt_qemu_start "$VMQT_HOST_NS" "$TAP" g1 "$GMAC" vmq.ip=10.0.1.2/24 vmq.gw=10.0.1.1 \
	"vmq.gwmac=$VMQT_TAP_MAC" vmq.mode=recv "vmq.port=$PORT" "vmq.count=$N" vmq.tag=rx1 vmq.wait=60
vmqt_qemu_wait g1 90 "vmq-guest: listening"
vmqt_ok "guest g1 ($GMAC, 10.0.1.2) listening on UDP $PORT; $DEV rx on, queue $QID bound to $TAP, filter $GMAC"

# send TAG COUNT: numbered datagrams from the wire end to the guest.
send() {
	vmqt_run ip netns exec "$VMQT_WIRE_NS" "$BUILD/tests/vmq-udpsend" --dst 10.0.1.2 \
		--port "$PORT" --count "$2" --rate "$PPS" --tag "$1"
}
stats() { vmqt_ctl -j stats "$DEV"; }
outcome() { vmqt_json "j['devs'][0]['rx_outcomes']['$2']['packets']" <<<"$1"; }
q_rx() { vmqt_json "[q['rx_packets'] for q in j['devs'][0]['queues'] if q['id'] == $QID][0]" <<<"$1"; }

vmqt_case pass
case_pass() {
	s0=$(stats)
	t0=$(vmqt_dev_stat "$VMQT_HOST_NS" "$TAP" tx_packets)
	send other 100
	s1=$(stats)
	vmqt_assert_eq "pass mode: outcome pass" 100 "$(($(outcome "$s1" pass) - $(outcome "$s0" pass)))"
	vmqt_assert_eq "pass mode: queue $QID rx_packets" 100 "$(($(q_rx "$s1") - $(q_rx "$s0")))"
	vmqt_assert_eq "pass mode: frames the tap sent the guest" 0 \
		"$(($(vmqt_dev_stat "$VMQT_HOST_NS" "$TAP" tx_packets) - t0))"
	vmqt_ok "rx pass: 100 datagrams for the guest's MAC took the host stack (not its MAC: dropped there), none reached the tap"
}

vmqt_case port
case_port() {
	vmqt_ctl queue set "$DEV" id "$QID" rx port >/dev/null
	s0=$(stats)
	t0=$(vmqt_dev_stat "$VMQT_HOST_NS" "$TAP" tx_packets)
	send rx1 "$N"
	vmqt_qemu_wait g1 120 "vmq-guest: received"
	line=$(grep -a -o 'vmq-guest: received [0-9]* duplicates [0-9]* other [0-9]*' "${VMQT_QEMU_LOG[g1]}" | tail -n 1)
	vmqt_assert_eq "the guest's count" "vmq-guest: received $N duplicates 0 other 0" "$line"
	s1=$(stats)
	vmqt_assert_eq "port mode: outcome port" "$N" "$(($(outcome "$s1" port) - $(outcome "$s0" port)))"
	vmqt_assert_eq "port mode: queue $QID rx_packets" "$N" "$(($(q_rx "$s1") - $(q_rx "$s0")))"
	vmqt_assert_eq "port mode: frames the tap sent the guest" "$N" \
		"$(($(vmqt_dev_stat "$VMQT_HOST_NS" "$TAP" tx_packets) - t0))"
	vmqt_ok "rx port: the guest received all $N numbered datagrams once each (none of the pass ones); queue $QID, outcome port and the tap agree"
}

vmqt_cases "$@"
