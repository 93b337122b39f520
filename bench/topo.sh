# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash disable=SC2034,SC2153 # globals set here for bench/run.sh, and by topology.sh
#
# bench/run.sh's two more end-to-end topologies, next to the routed one of
# tests/integration/topology.sh (VM 1: vmqtap1 routed by the host to
# vmqup0). Source after topology.sh; call after vmqt_topo_host 3 (uplinks 0,
# 1 and 2) and vmqt_vm_add 1:
#
#   bridged         VM 11 eth0 10.0.11.2 ==veth== vmqtap11 -+- vmqbrb (no address) -+- vmqup1 ==veth== wire1 198.51.100.2
#                   the host bridges; vmqup1's address is removed: the host
#                   does not route this traffic. The VM reaches the wire's
#                   /24 on its link (a device route, a static neighbour);
#                   the wire has no route back to 10.0.11.0/24, so it
#                   answers nothing (as in the routed topology).
#   bridge gateway  VM 12 eth0 10.0.12.2 ==veth== vmqtap12 -+- vmqbrg 10.0.12.1      vmqup2 ==veth== wire2 203.0.113.2
#                   the VMs' gateway is the bridge's address; the host routes
#                   from the bridge to uplink 2, which is in no bridge (a
#                   libvirt NAT network without the NAT).
#
# The ports carry no address. Neighbours are static everywhere (no ARP),
# IPv6 is off, the bridges run no STP and no multicast snooping, and
# bridged frames skip netfilter (bridge-nf-call-* 0 in the host namespace:
# a host without br_netfilter; the module is per namespace and on by
# default where it is loaded).

BENCH_BR_BRIDGED=vmqbrb
BENCH_BR_GATEWAY=vmqbrg

# _bench_vm_ns N VMADDR/PLEN: VM namespace N and its veth: eth0 (VMADDR) in
# the VM, vmqtapN in the host namespace, no address there; both up, IPv6
# off. Registered like vmqt_vm_add's (VMQT_VM_NS, VMQT_VMS, VMQT_LINKS).
_bench_vm_ns() {
	local n=$1 addr=$2 ns port="vmqtap$1"
	[ -z "${VMQT_VM_NS[$n]:-}" ] || vmqt_fail "_bench_vm_ns: VM $n exists"
	vmqt_netns_add "vm$n"
	ns=$VMQT_LAST_NS
	# shellcheck disable=SC2004 # an associative array (topology.sh)
	VMQT_VM_NS[$n]=$ns
	VMQT_VMS+=("$n")
	vmqt_in "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	vmqt_run ip -n "$VMQT_HOST_NS" link add name "$port" type veth peer name eth0 netns "$ns"
	VMQT_LINKS+=("$VMQT_HOST_NS $port")
	vmqt_in "$VMQT_HOST_NS" sysctl -qw "net.ipv6.conf.$port.disable_ipv6=1" \
		"net.ipv4.conf.$port.rp_filter=0"
	vmqt_in "$ns" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1
	vmqt_run ip -n "$ns" addr add "$addr" dev eth0
	vmqt_run ip -n "$ns" link set dev lo up
}

# _bench_bridge NAME BYTE: a bridge in the host namespace, no STP, no
# multicast snooping, IPv6 off, MAC 02:00:00:00:b9:BYTE (fixed: a bridge
# otherwise takes its lowest port's). Deleted at exit (before the namespace).
_bench_bridge() {
	local br=$1 mac=02:00:00:00:b9:$2
	vmqt_run ip -n "$VMQT_HOST_NS" link add name "$br" type bridge stp_state 0 mcast_snooping 0
	VMQT_LINKS+=("$VMQT_HOST_NS $br")
	vmqt_in "$VMQT_HOST_NS" sysctl -qw "net.ipv6.conf.$br.disable_ipv6=1" "net.ipv4.conf.$br.rp_filter=0"
	vmqt_run ip -n "$VMQT_HOST_NS" link set dev "$br" address "$mac"
}

# bench_bridges_nf_off: bridged IPv4/IPv6/ARP frames skip netfilter in the
# host namespace (where br_netfilter is loaded at all).
bench_bridges_nf_off() {
	local f
	for f in arptables iptables ip6tables; do
		if vmqt_in "$VMQT_HOST_NS" test -e "/proc/sys/net/bridge/bridge-nf-call-$f"; then
			vmqt_in "$VMQT_HOST_NS" sysctl -qw "net.bridge.bridge-nf-call-$f=0"
		fi
	done
}

# bench_topo_bridged N K: VM N and uplink K (>= 1, made by vmqt_topo_host)
# in bridge vmqbrb; uplink K loses its address.
bench_topo_bridged() {
	local n=$1 k=$2 ns up wmac
	up=${VMQT_UP_DEV[k]:?no uplink $k}
	_bench_vm_ns "$n" "10.0.$n.2/24"
	ns=${VMQT_VM_NS[$n]}
	_bench_bridge "$BENCH_BR_BRIDGED" 01
	vmqt_run ip -n "$VMQT_HOST_NS" addr flush dev "$up"
	vmqt_run ip -n "$VMQT_HOST_NS" link set dev "$up" master "$BENCH_BR_BRIDGED"
	vmqt_run ip -n "$VMQT_HOST_NS" link set dev "vmqtap$n" master "$BENCH_BR_BRIDGED"
	wmac=$(vmqt_mac "${VMQT_UP_WIRE_NS[k]}" "${VMQT_UP_WIRE_DEV[k]}")
	# The wire's MAC known behind the uplink: forwarded, not flooded.
	vmqt_run bridge -n "$VMQT_HOST_NS" fdb replace "$wmac" dev "$up" master static
	vmqt_run ip -n "$VMQT_HOST_NS" link set dev "$BENCH_BR_BRIDGED" up
	vmqt_run ip -n "$VMQT_HOST_NS" link set dev "vmqtap$n" up
	vmqt_run ip -n "$ns" link set dev eth0 up
	vmqt_run ip -n "$ns" route add "${VMQT_UP_NET[k]}.0/24" dev eth0
	vmqt_run ip -n "$ns" neigh replace "${VMQT_UP_WIRE_IP[k]}" lladdr "$wmac" dev eth0 nud permanent
}

# bench_topo_gateway N K: VM N in bridge vmqbrg, whose address 10.0.N.1 is
# the VM's gateway; uplink K (>= 1, made by vmqt_topo_host) stays routed.
bench_topo_gateway() {
	local n=$1 k=$2 ns brmac vmmac
	[ -n "${VMQT_UP_DEV[k]:-}" ] || vmqt_fail "bench_topo_gateway: no uplink $k"
	_bench_vm_ns "$n" "10.0.$n.2/24"
	ns=${VMQT_VM_NS[$n]}
	_bench_bridge "$BENCH_BR_GATEWAY" 02
	vmqt_run ip -n "$VMQT_HOST_NS" link set dev "vmqtap$n" master "$BENCH_BR_GATEWAY"
	vmqt_run ip -n "$VMQT_HOST_NS" addr add "10.0.$n.1/24" dev "$BENCH_BR_GATEWAY"
	vmqt_run ip -n "$VMQT_HOST_NS" link set dev "$BENCH_BR_GATEWAY" up
	vmqt_run ip -n "$VMQT_HOST_NS" link set dev "vmqtap$n" up
	vmqt_run ip -n "$ns" link set dev eth0 up
	brmac=$(vmqt_mac "$VMQT_HOST_NS" "$BENCH_BR_GATEWAY")
	vmmac=$(vmqt_mac "$ns" eth0)
	vmqt_run ip -n "$ns" neigh replace "10.0.$n.1" lladdr "$brmac" dev eth0 nud permanent
	vmqt_run ip -n "$VMQT_HOST_NS" neigh replace "10.0.$n.2" lladdr "$vmmac" dev "$BENCH_BR_GATEWAY" nud permanent
	vmqt_run bridge -n "$VMQT_HOST_NS" fdb replace "$vmmac" dev "vmqtap$n" master static
	vmqt_run ip -n "$ns" route add default via "10.0.$n.1"
}
