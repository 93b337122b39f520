#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The receive side's bpftool path, exactly as the README documents it (the
# tc path first: vmq_rx shares vmq_tx's vmq_queues): no vmq binary, only
# bpftool, ip and the BPF objects.
#
#   bpftool prog load build/vmq_rx.bpf.o DIR/rx/vmq_rx_xdp type xdp \
#       map name vmq_queues pinned DIR/maps/vmq_queues pinmaps DIR/rx
#   ip link set dev DEV xdpdrv pinned DIR/rx/vmq_rx_xdp
#   bpftool map update ... vmq_rx_filters / vmq_rx_queues / vmq_rx_cpus / vmq_rx_ports
#
# Topology: wire ns (a packet socket sends the frames) ==veth== uplink
# vmqup0 (native XDP) in a bridge with port vmqrxp0 ==veth== the VM's
# vmqrxv0 (its MAC the filter's, GRO on). Each case sends N frames and
# checks where they went: the VM's rx_packets, vmq_rx's outcome and
# per-queue counters, exact; the default queue's frames still reach the VM
# through the bridge (never dropped).
#
# Cases (lib.sh's vmqt_case): load, attach, port, cpu, pass, vlan,
# defaults, not_live, adopt, detach.
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
vmqt_init bpftool ethtool
vmqt_need_python
TX_OBJ=$BUILD/vmq_tx.bpf.o
RX_OBJ=$BUILD/vmq_rx.bpf.o
vmqt_need_file "$TX_OBJ" "$RX_OBJ" "$BUILD/vmqd" "$BUILD/vmqctl"

N=100
VM_MAC=52:54:00:12:34:56
OTHER_MAC=52:54:00:12:34:99
QUEUE=1
CPU=$(($(nproc) - 1))

vmqt_veth_pair 2
HNS=$VMQT_HOST_NS
WNS=$VMQT_WIRE_NS
DEV=$VMQT_HOST_DEV
WDEV=$VMQT_WIRE_DEV
vmqt_netns_add vm
VNS=$VMQT_LAST_NS
PORT=vmqrxp0 VMDEV=vmqrxv0 BR=vmqrxbr0
vmqt_in "$VNS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
vmqt_run ip -n "$HNS" link add "$PORT" type veth peer name "$VMDEV" netns "$VNS"
VMQT_LINKS+=("$HNS $PORT")
vmqt_run ip -n "$VNS" link set "$VMDEV" address "$VM_MAC"
vmqt_run ip -n "$HNS" link add "$BR" type bridge stp_state 0 mcast_snooping 0
VMQT_LINKS+=("$HNS $BR")
vmqt_in "$HNS" sysctl -qw "net.ipv6.conf.$PORT.disable_ipv6=1" "net.ipv6.conf.$BR.disable_ipv6=1"
# Bridged frames skip netfilter (where br_netfilter is loaded at all).
for f in arptables iptables ip6tables; do
	if vmqt_in "$HNS" test -e "/proc/sys/net/bridge/bridge-nf-call-$f"; then
		vmqt_in "$HNS" sysctl -qw "net.bridge.bridge-nf-call-$f=0"
	fi
done
vmqt_run ip -n "$HNS" link set "$DEV" master "$BR"
vmqt_run ip -n "$HNS" link set "$PORT" master "$BR"
for spec in "$HNS $PORT" "$HNS $BR" "$VNS $VMDEV"; do
	read -r ns d <<<"$spec"
	vmqt_run ip -n "$ns" link set "$d" up
done
# The VM's veth takes frames the devmap sends only with GRO on (or XDP).
vmqt_in "$VNS" ethtool -K "$VMDEV" gro on >/dev/null
PORT_IFINDEX=$(vmqt_in "$HNS" cat "/sys/class/net/$PORT/ifindex")
vmqt_bpffs_mount
DIR=$VMQT_BPFFS/vmq/$DEV
mkdir -p "$DIR"

# bpftool key bytes of a MAC: 52:54:00:12:34:56 -> 0x52 0x54 0x00 0x12 0x34 0x56
mac_key() { printf '0x%s' "${1//:/ 0x}"; }

# send MAC [VLAN]: N frames from the wire side (a packet socket: the
# frames exactly as built, tagged when VLAN is given); waits until the VM's
# interface has seen them all or 5 s pass. Sets SENT_RX to the VM's
# rx_packets delta.
SENDER='
import socket, struct, sys
dev, mac, vlan, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
dst = bytes(int(x, 16) for x in mac.split(":"))
src = bytes([2, 0, 0, 0, 0, 1])
tag = struct.pack("!HH", 0x8100, vlan) if vlan else b""
ip = bytearray([0x45, 0, 0, 46, 0, 0, 0, 0, 64, 17, 0, 0, 10, 99, 0, 1, 10, 99, 0, 2])
c = sum(ip[i] << 8 | ip[i + 1] for i in range(0, 20, 2))
c = (c & 0xffff) + (c >> 16)
ip[10:12] = struct.pack("!H", ~c & 0xffff)
ip = bytes(ip)
frame = dst + src + tag + b"\x08\x00" + ip + b"\x27\x10\x00\x09\x00\x1a\x00\x00" + bytes(18)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((dev, 0))
for _ in range(n):
    s.send(frame)
'
vm_rx() { vmqt_dev_stat "$VNS" "$VMDEV" rx_packets; }
send() {
	local mac=$1 vlan=${2:-0} r0 r i
	r0=$(vm_rx)
	vmqt_in "$WNS" "$VMQT_PY" -c "$SENDER" "$WDEV" "$mac" "$vlan" "$N"
	for i in $(seq 50); do
		r=$(vm_rx)
		[ $((r - r0)) -lt "$N" ] || break
		sleep 0.1
	done
	SENT_RX=$((r - r0))
}
outcome() { vmqt_percpu_sum "$DIR/rx/vmq_rx_outcomes" "$1" packets; }
OUTCOMES=(cpu port pass unmatched broadcast multicast not_live no_target malformed)
# expect_outcome WHAT NAME: since the last call, exactly N frames counted
# as outcome NAME and none as any other.
declare -A LAST=()
snap_outcomes() {
	local i
	for i in "${!OUTCOMES[@]}"; do LAST[$i]=$(outcome "$i"); done
}
expect_outcome() {
	local what=$1 name=$2 i now want
	for i in "${!OUTCOMES[@]}"; do
		now=$(outcome "$i")
		want=0
		[ "${OUTCOMES[i]}" != "$name" ] || want=$N
		vmqt_assert_eq "$what: vmq_rx_outcomes[$i] (${OUTCOMES[i]}) grew by" "$want" $((now - LAST[$i]))
		LAST[$i]=$now
	done
}
VMQT_CASE_KEEP+=(LAST)

diag() {
	echo "ip link (host, VM):"
	ip -n "$HNS" -s link show 2>&1 | sed 's/^/  /'
	ip -n "$VNS" -s link show 2>&1 | sed 's/^/  /'
	bridge -n "$HNS" link show 2>&1 | sed 's/^/  /'
	echo "pins:"
	find "$VMQT_BPFFS" 2>&1 | sed 's/^/  /'
	for m in vmq_rx_outcomes vmq_rx_queues vmq_rx_filters vmq_rx_ports; do
		echo "$m:"
		bpftool map dump pinned "$DIR/rx/$m" 2>&1 | grep -v "no entry" | sed -n 1,40p | sed 's/^/  /'
	done
}
VMQT_DIAG_FN=diag

vmqt_case load
case_load() {
	vmqt_run bpftool prog loadall "$TX_OBJ" "$DIR" type classifier pinmaps "$DIR/maps" >/dev/null
	mkdir -p "$DIR/rx"
	vmqt_run bpftool prog load "$RX_OBJ" "$DIR/rx/vmq_rx_xdp" type xdp \
		map name vmq_queues pinned "$DIR/maps/vmq_queues" pinmaps "$DIR/rx" >/dev/null
	vmqt_assert_file "pinned program" "$DIR/rx/vmq_rx_xdp"
	for m in vmq_rx_filters vmq_rx_queues vmq_rx_queue_stats vmq_rx_outcomes vmq_rx_cpus \
		vmq_rx_ports vmq_queues; do
		vmqt_assert_file "pinned map" "$DIR/rx/$m"
	done
	qa=$(vmqt_run bpftool -j map show pinned "$DIR/maps/vmq_queues" | vmqt_json 'j["id"]')
	qb=$(vmqt_run bpftool -j map show pinned "$DIR/rx/vmq_queues" | vmqt_json 'j["id"]')
	vmqt_assert_eq "rx/vmq_queues is maps/vmq_queues (map id)" "$qa" "$qb"
	vmqt_ok "bpftool prog load pinned vmq_rx_xdp and its maps under $DIR/rx, on vmq_tx's vmq_queues (map $qa)"
}

vmqt_case attach load
case_attach() {
	vmqt_run ip -n "$HNS" link set dev "$DEV" xdpdrv pinned "$DIR/rx/vmq_rx_xdp"
	out=$(vmqt_run ip -n "$HNS" link show dev "$DEV")
	vmqt_assert_match "ip link show $DEV" 'prog/xdp id [0-9]+ name vmq_rx_xdp' "$out"
	vmqt_assert_match "ip link show $DEV: native mode" ' xdp ' "$out"
	snap_outcomes
	# No filter yet: the VM's frames take the default queue, through the bridge.
	send "$VM_MAC"
	vmqt_assert_eq "frames the VM got with no filter (bridge)" "$N" "$SENT_RX"
	expect_outcome "no filter" unmatched
	vmqt_ok "vmq_rx attached in native mode; with no filter $N/$N frames reach the VM through the bridge, counted unmatched"
}

vmqt_case port attach
case_port() {
	# shellcheck disable=SC2046
	{
		vmqt_run bpftool map update pinned "$DIR/maps/vmq_queues" key $(vmqt_le32 $QUEUE) value 1 0 1 0
		vmqt_run bpftool map update pinned "$DIR/rx/vmq_rx_filters" \
			key $(mac_key "$VM_MAC") 0 0 value $(vmqt_le32 $QUEUE) 0 0 0 0
		vmqt_in "$HNS" bpftool map update pinned "$DIR/rx/vmq_rx_ports" key $(vmqt_le32 $QUEUE) \
			value $(vmqt_le32 "$PORT_IFINDEX")
		vmqt_run bpftool map update pinned "$DIR/rx/vmq_rx_queues" key $(vmqt_le32 $QUEUE) value 2 0 0 0
	} >/dev/null
	p0=$(vmqt_dev_stat "$HNS" "$BR" rx_packets)
	send "$VM_MAC"
	vmqt_assert_eq "frames the VM got in port mode" "$N" "$SENT_RX"
	expect_outcome "port mode" port
	vmqt_assert_eq "vmq_rx_queue_stats[$QUEUE].packets" "$N" \
		"$(vmqt_percpu_sum "$DIR/rx/vmq_rx_queue_stats" $QUEUE packets)"
	vmqt_ok "port mode: $N/$N frames to $VM_MAC straight to $PORT (ifindex $PORT_IFINDEX), counted by queue $QUEUE and as port"
}

vmqt_case cpu port
case_cpu() {
	# shellcheck disable=SC2046
	{
		vmqt_run bpftool map update pinned "$DIR/rx/vmq_rx_cpus" key $(vmqt_le32 "$CPU") value 0 8 0 0 0 0 0 0
		vmqt_run bpftool map update pinned "$DIR/rx/vmq_rx_queues" key $(vmqt_le32 $QUEUE) \
			value 1 0 $(vmqt_le16 "$CPU")
	} >/dev/null
	send "$VM_MAC"
	vmqt_assert_eq "frames the VM got in cpu mode (the stack on CPU $CPU, then the bridge)" "$N" "$SENT_RX"
	expect_outcome "cpu mode" cpu
	vmqt_ok "cpu mode: $N/$N frames through CPU $CPU's cpumap entry, then the bridge, to the VM"
}

vmqt_case pass cpu
case_pass() {
	# shellcheck disable=SC2046
	vmqt_run bpftool map update pinned "$DIR/rx/vmq_rx_queues" key $(vmqt_le32 $QUEUE) value 0 0 0 0 >/dev/null
	send "$VM_MAC"
	vmqt_assert_eq "frames the VM got in pass mode" "$N" "$SENT_RX"
	expect_outcome "pass mode" pass
	vmqt_assert_eq "vmq_rx_queue_stats[$QUEUE].packets" $((3 * N)) \
		"$(vmqt_percpu_sum "$DIR/rx/vmq_rx_queue_stats" $QUEUE packets)"
	vmqt_ok "pass mode: $N/$N frames to the stack, counted by queue $QUEUE ($((3 * N)) over the three modes)"
}

vmqt_case vlan port
case_vlan() {
	# shellcheck disable=SC2046
	vmqt_run bpftool map update pinned "$DIR/rx/vmq_rx_queues" key $(vmqt_le32 $QUEUE) value 2 0 0 0 >/dev/null
	# Tagged frames on VLAN 10: no filter for (MAC, 10) yet.
	send "$VM_MAC" 10
	expect_outcome "VLAN 10, no filter" unmatched
	# shellcheck disable=SC2046
	vmqt_run bpftool map update pinned "$DIR/rx/vmq_rx_filters" \
		key $(mac_key "$VM_MAC") 10 0 value $(vmqt_le32 $QUEUE) 0 0 0 0 >/dev/null
	send "$VM_MAC" 10
	vmqt_assert_eq "tagged frames the VM got in port mode" "$N" "$SENT_RX"
	expect_outcome "VLAN 10, filtered" port
	send "$VM_MAC" 20
	expect_outcome "VLAN 20" unmatched
	vmqt_ok "VLAN: (MAC, 10) matched its filter only once written; VLAN 20 did not"
}

vmqt_case defaults attach
case_defaults() {
	send "$OTHER_MAC"
	expect_outcome "another MAC" unmatched
	send ff:ff:ff:ff:ff:ff
	vmqt_assert_eq "broadcast frames the VM got" "$N" "$SENT_RX"
	expect_outcome "broadcast" broadcast
	send 01:00:5e:00:00:01
	expect_outcome "multicast" multicast
	vmqt_ok "unknown MAC, broadcast and multicast: the stack, counted by reason"
}

vmqt_case not_live port
case_not_live() {
	# shellcheck disable=SC2046
	vmqt_run bpftool map update pinned "$DIR/maps/vmq_queues" key $(vmqt_le32 $QUEUE) value 0 0 0 0 >/dev/null
	f0=$(vmqt_percpu_sum "$DIR/rx/vmq_rx_queue_stats" $QUEUE fallback_packets)
	send "$VM_MAC"
	vmqt_assert_eq "frames the VM got for a freed queue (bridge)" "$N" "$SENT_RX"
	expect_outcome "queue freed" not_live
	vmqt_assert_eq "vmq_rx_queue_stats[$QUEUE].fallback_packets grew by" "$N" \
		$(($(vmqt_percpu_sum "$DIR/rx/vmq_rx_queue_stats" $QUEUE fallback_packets) - f0))
	# shellcheck disable=SC2046
	vmqt_run bpftool map update pinned "$DIR/maps/vmq_queues" key $(vmqt_le32 $QUEUE) value 1 0 1 0 >/dev/null
	send "$VM_MAC"
	expect_outcome "queue live again" port
	vmqt_ok "a freed queue's frames: the default queue (not_live), none lost; its port again once live"
}

# A vmqd on the parent directory adopts both halves: the XDP program stays
# attached (netlink, as ip attached it) and vmqd's receive side is there.
vmqt_case adopt port
case_adopt() {
	VMQT_SOCK=$VMQT_TMP/vmqd.sock
	vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$(dirname "$DIR")"
	vmqt_ctl -j dev show "$DEV" >/dev/null
	out=$(vmqt_run ip -n "$HNS" link show dev "$DEV")
	vmqt_assert_match "ip link show $DEV after adoption" 'prog/xdp id [0-9]+ name vmq_rx_xdp' "$out"
	send "$VM_MAC"
	expect_outcome "after adoption" port
	vmqt_vmqd_kill "$VMQT_VMQD_PID" TERM
	vmqt_ok "a vmqd adopted the instance; vmq_rx still attached and delivering"
}

vmqt_case detach attach
case_detach() {
	vmqt_run ip -n "$HNS" link set dev "$DEV" xdpdrv off
	rm -r "$DIR/rx"
	out=$(vmqt_run ip -n "$HNS" link show dev "$DEV")
	case $out in *prog/xdp*) vmqt_fail "XDP still on $DEV: $out" ;; esac
	send "$VM_MAC"
	vmqt_assert_eq "frames the VM got with vmq_rx detached (bridge)" "$N" "$SENT_RX"
	vmqt_ok "detached: no XDP on $DEV, pins gone, frames through the bridge"
}

vmqt_cases "$@"
