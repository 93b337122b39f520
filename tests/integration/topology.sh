# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash disable=SC2034,SC2153 # globals set here for the callers, and by lib.sh
#
# A virtualisation host in namespaces, for the scenario tests and `make
# demo`. Source after lib.sh, call vmqt_init, then vmqt_topo_host:
#
#   vm1 ns  eth0 10.0.1.2 ==veth== vmqtap1 10.0.1.1 \
#   vm2 ns  eth0 10.0.2.2 ==veth== vmqtap2 10.0.2.1  host ns (routes) vmqup0 ==veth== wire ns  192.0.2.0/24
#   vm3 ns  eth0 10.0.3.2 ==veth== vmqtap3 10.0.3.1 /            [vmqup1 ==veth== wire1 ns 198.51.100.0/24]
#
# Uplinks (vmqupK) have 8 TX queues and an mq root (per-TX-queue counters),
# XPS cleared, IPv6 off, static neighbours. The VM ports (vmqtapN) are the
# host-side ends of the VMs' veths: vmq_port stamps on their ingress, in the
# host namespace, where the mark survives routing to an uplink (a mark set
# inside the VM namespace is cleared crossing the veth: kernel-notes, general 6). The
# VMs send from inside their namespace with no mark.
#
# Uplink 0 is lib.sh's vmqt_veth_pair ($VMQT_HOST_NS, $VMQT_HOST_DEV,
# $VMQT_WIRE_NS...), so lib.sh's helpers (vmqt_send, vmqt_vmqd_diag) work on
# it. vmqd and vmqctl are lib.sh's vmqt_vmqd_start and vmqt_ctl; this file
# adds vmqt_topo_vmqd_start for the usual arguments.
#
# Kernel facts met on the way (kernel 6.18):
# - A forwarded packet's skb->mark, set by tc ingress on the port, reaches
#   the uplink's tc egress unchanged (ip_forward keeps it).
# - The wire end receives datagrams from 10.0.N.2, a source it has no route
#   back to: with rp_filter 1 or 2 (systemd's default of 2 is inherited by
#   new namespaces from init_net when net.core.devconf_inherit_init_net=0)
#   it would drop them before UDP. rp_filter is off on the wire ends. With no
#   route back, the wire end's ICMP port unreachable is never sent, so the
#   VMs' senders see no ICMP errors and the uplinks' RX carries nothing.
#   (Measured: rp_filter=2 on the wire end drops every datagram, counted
#   only in TcpExtIPReversePathFilter.)
# - A veth without XDP or GRO (no NAPI) records no RX queue, so a forwarded
#   packet reaches the uplink with queue_mapping 0; the kernel's own choice
#   then spreads flows by hash. vmq_tx's queue_mapping (txq + 1) wins for
#   forwarded traffic: no socket, XPS cleared.
# - skb->mark shares a union with skb->reserved_tailroom: the host's own
#   IGMPv3 (and MLDv2) reports leave with "mark" = the tailroom they reserved
#   (212 at MTU 1500), which vmq_tx reads as a queue ID. The hosts here join
#   no multicast group on the uplinks and have IPv6 off, so none are sent.

# --- uplinks ---------------------------------------------------------------------
# The uplinks' records (VMQT_UP_DEV[K]...) and the helpers that send, settle
# and assert on their TX queues are lib.sh's.
VMQT_UP_NET=(192.0.2 198.51.100 203.0.113) # K -> /24 of uplink K (documentation nets)

# _vmqt_wire_rpf_off NS DEV: no reverse-path filter on the wire end.
_vmqt_wire_rpf_off() {
	vmqt_in "$1" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		"net.ipv4.conf.$2.rp_filter=0"
}

# vmqt_uplink_add K: uplink K >= 1, vmqupK in the host namespace to a wire
# namespace of its own (wireK), subnet ${VMQT_UP_NET[K]}.0/24, built like
# vmqt_veth_pair's (8 TX queues, mq root, XPS cleared, IPv6 off before the
# links exist, static neighbours on both ends, rp_filter off on the wire).
vmqt_uplink_add() {
	local k=$1 nq=8 ns dev wdev net
	if ! _vmqt_is_uint "$k" || [ "$k" -lt 1 ] || [ "$k" -ge "${#VMQT_UP_NET[@]}" ]; then
		vmqt_fail "vmqt_uplink_add: K must be 1..$((${#VMQT_UP_NET[@]} - 1)), got '$k'"
	fi
	[ -z "${VMQT_UP_DEV[k]:-}" ] || vmqt_fail "vmqt_uplink_add: uplink $k exists"
	net=${VMQT_UP_NET[k]}
	dev=vmqup$k
	wdev=vmqwire$k
	vmqt_netns_add "wire$k"
	ns=$VMQT_LAST_NS
	vmqt_uplink_link "$dev" "$net.1" "$ns" "$wdev" "$net.2" "$nq"
	_vmqt_wire_rpf_off "$ns" "$wdev"
	_vmqt_uplink_set "$k" "$dev" "$net.1" "$ns" "$wdev" "$net.2" "$nq"
}

# vmqt_topo_host [NUPLINKS]: the host namespace with NUPLINKS (default 1)
# uplinks, forwarding on. Uplink 0 is vmqt_veth_pair's. Call first.
vmqt_topo_host() {
	local n=${1:-1} k
	if ! _vmqt_is_uint "$n" || [ "$n" -lt 1 ] || [ "$n" -gt "${#VMQT_UP_NET[@]}" ]; then
		vmqt_fail "vmqt_topo_host: 1..${#VMQT_UP_NET[@]} uplinks, got '$n'"
	fi
	vmqt_veth_pair 8
	[ "$VMQT_HOST_IP" = "${VMQT_UP_NET[0]}.1" ] ||
		vmqt_fail "vmqt_topo_host: lib.sh's uplink is $VMQT_HOST_IP, expected ${VMQT_UP_NET[0]}.1"
	_vmqt_wire_rpf_off "$VMQT_WIRE_NS" "$VMQT_WIRE_DEV"
	for ((k = 1; k < n; k++)); do
		vmqt_uplink_add "$k"
	done
	vmqt_host_routing
}

# vmqt_host_routing: the host namespace forwards between ports and uplinks.
# rp_filter off there too: the effective value is the max of "all" and the
# device's, so both are set, for every device that exists now.
vmqt_host_routing() {
	local d
	vmqt_in "$VMQT_HOST_NS" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0
	for d in $(vmqt_in "$VMQT_HOST_NS" ls /proc/sys/net/ipv4/conf); do
		vmqt_in "$VMQT_HOST_NS" sysctl -qw "net.ipv4.conf.$d.rp_filter=0"
	done
	vmqt_assert_eq "ip_forward in $VMQT_HOST_NS" 1 \
		"$(vmqt_in "$VMQT_HOST_NS" cat /proc/sys/net/ipv4/ip_forward)"
}

# --- VMs ---------------------------------------------------------------------------
declare -A VMQT_VM_NS=()      # N -> VM namespace
VMQT_VMS=()                   # VM numbers, in creation order

# vmqt_vm_add N [IFINDEX]: VM namespace N (1..250) with its port vmqtapN in
# the host namespace (10.0.N.1 there, 10.0.N.2 in the VM), default route via
# the port; the port gets ifindex IFINDEX when given. Needs vmqt_topo_host
# first.
vmqt_vm_add() {
	local n=$1 ns port="vmqtap$1" vmmac portmac index=()
	[ -z "${2:-}" ] || index=(index "$2")
	if ! _vmqt_is_uint "$n" || [ "$n" -lt 1 ] || [ "$n" -gt 250 ]; then
		vmqt_fail "vmqt_vm_add: N must be 1..250, got '$n'"
	fi
	[ -n "${VMQT_HOST_NS:-}" ] || vmqt_fail "vmqt_vm_add: no host namespace (vmqt_topo_host first)"
	[ -z "${VMQT_VM_NS[$n]:-}" ] || vmqt_fail "vmqt_vm_add: VM $n exists"
	vmqt_netns_add "vm$n"
	ns=$VMQT_LAST_NS
	VMQT_VM_NS[$n]=$ns
	VMQT_VMS+=("$n")
	vmqt_in "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	vmqt_run ip -n "$VMQT_HOST_NS" link add name "$port" "${index[@]}" type veth peer name eth0 netns "$ns"
	VMQT_LINKS+=("$VMQT_HOST_NS $port")
	vmqt_in "$VMQT_HOST_NS" sysctl -qw "net.ipv6.conf.$port.disable_ipv6=1" \
		"net.ipv4.conf.$port.rp_filter=0"
	vmqt_in "$ns" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1
	vmqt_run ip -n "$VMQT_HOST_NS" addr add "10.0.$n.1/24" dev "$port"
	vmqt_run ip -n "$ns" addr add "10.0.$n.2/24" dev eth0
	vmqt_run ip -n "$VMQT_HOST_NS" link set dev "$port" up
	vmqt_run ip -n "$ns" link set dev eth0 up
	vmqt_run ip -n "$ns" link set dev lo up
	vmmac=$(vmqt_mac "$ns" eth0)
	portmac=$(vmqt_mac "$VMQT_HOST_NS" "$port")
	vmqt_run ip -n "$ns" neigh replace "10.0.$n.1" lladdr "$portmac" dev eth0 nud permanent
	vmqt_run ip -n "$VMQT_HOST_NS" neigh replace "10.0.$n.2" lladdr "$vmmac" dev "$port" nud permanent
	vmqt_run ip -n "$ns" route add default via "10.0.$n.1"
}

# --- vmqd ----------------------------------------------------------------------------
# vmqt_topo_vmqd_start [VMQD OPTIONS...]: lib.sh's vmqt_vmqd_start in the
# host namespace, socket $VMQT_SOCK (default in $VMQT_TMP), pins under
# $VMQT_PINS = <a bpffs mounted under /run here>/vmq (a bpffs vmqd mounted
# inside `ip netns exec` would vanish with it: kernel-notes, general 4). Sets
# VMQT_SOCK, VMQT_PINS, VMQT_VMQD_PID; installs vmqt_topo_diag as the
# failure diagnostics unless the test set its own.
vmqt_topo_vmqd_start() {
	[ -n "${VMQT_BPFFS:-}" ] || vmqt_bpffs_mount
	VMQT_PINS=$VMQT_BPFFS/vmq
	VMQT_SOCK=${VMQT_SOCK:-$VMQT_TMP/vmqd.sock}
	[ -n "$VMQT_DIAG_FN" ] || VMQT_DIAG_FN=vmqt_topo_diag
	vmqt_vmqd_start "$VMQT_HOST_NS" "$VMQT_SOCK" "$VMQT_PINS" "$@"
}

# vmqt_topo_diag: state for a failing scenario test (to stdout).
vmqt_topo_diag() {
	local k n
	[ -z "${VMQT_SOCK:-}" ] || vmqt_vmqd_diag "$VMQT_SOCK"
	if [ -n "${VMQT_SOCK:-}" ]; then
		echo "vmqctl port show / stats:"
		"$BUILD/vmqctl" -s "$VMQT_SOCK" port show 2>&1 | sed 's/^/  /'
		"$BUILD/vmqctl" -s "$VMQT_SOCK" stats 2>&1 | sed 's/^/  /'
	fi
	for ((k = 1; k < VMQT_UPLINKS; k++)); do
		echo "tc -s class show dev ${VMQT_UP_DEV[k]}:"
		tc -n "$VMQT_HOST_NS" -s class show dev "${VMQT_UP_DEV[k]}" 2>&1 | grep -E 'class|Sent' | sed 's/^/  /'
	done
	for n in "${VMQT_VMS[@]}"; do
		echo "ingress filters on vmqtap$n:"
		tc -n "$VMQT_HOST_NS" filter show dev "vmqtap$n" ingress 2>&1 | sed 's/^/  /'
	done
}

# --- traffic from the VMs --------------------------------------------------------------
VMQT_VM_PORT_NEXT=30000       # source ports: each vmqt_vm_traffic takes the next FLOWS

# vmqt_vm_send N ARGS...: vmq-udpsend inside VM N (no mark: its port stamps
# it) to uplink 0's wire end, port 9; ARGS are vmq-udpsend's (--count...).
# Usable in $(...).
vmqt_vm_send() {
	local n=$1
	shift
	vmqt_vm_send_to "$n" 0 "$@"
}

# vmqt_vm_send_to N K ARGS...: the same, to uplink K's wire end.
vmqt_vm_send_to() {
	local n=$1 k=$2
	shift 2
	[ -n "${VMQT_VM_NS[$n]:-}" ] || vmqt_fail "no VM $n"
	[ -n "${VMQT_UP_WIRE_IP[k]:-}" ] || vmqt_fail "no uplink $k"
	vmqt_in "${VMQT_VM_NS[$n]}" "$BUILD/tests/vmq-udpsend" --dst "${VMQT_UP_WIRE_IP[k]}" --port 9 "$@"
}

# vmqt_vm_traffic WHAT N K COUNT FLOWS [SRC_PORT_BASE]: VM N sends COUNT
# datagrams over FLOWS flows (source ports from SRC_PORT_BASE, or the next
# free ones) to uplink K's wire end, unpaced; then vmqt_up_settle. Sets
# VMQT_UP_DELTA[*]. Call directly, not in $(...).
vmqt_vm_traffic() {
	local what=$1 n=$2 k=$3 count=$4 flows=$5 base=${6:-}
	if [ -z "$base" ]; then
		base=$VMQT_VM_PORT_NEXT
		VMQT_VM_PORT_NEXT=$((VMQT_VM_PORT_NEXT + flows))
		[ "$VMQT_VM_PORT_NEXT" -le 60000 ] || VMQT_VM_PORT_NEXT=30000
	fi
	[ -n "${VMQT_VM_NS[$n]:-}" ] || vmqt_fail "no VM $n"
	vmqt_up_send "$what" "$k" "$count" "$flows" "$base" "${VMQT_VM_NS[$n]}"
}

# --- vmq's counters (vmqctl -j stats) ------------------------------------------------------
# vmqt_stats: `vmqctl -j stats` of every device, one line. Usable in $(...).
vmqt_stats() {
	vmqt_ctl -j stats
}

# vmqt_stats_delta BEFORE AFTER EXPR: EXPR evaluated on AFTER minus EXPR on
# BEFORE (two vmqt_stats outputs). EXPR may use, for the snapshot at hand:
#   q(DEV, ID, KEY="packets")  a queue's counter (KEY: packets, bytes,
#                              fallback_packets, fallback_bytes; 0 if unlisted)
#   txq(DEV, Q)                packets vmq sent on TX queue Q
#   fb(DEV, REASON)            fallback packets: not_live, beyond_map, bad_group
#   kc(DEV)                    packets left to the kernel's choice
# Usable in $(...).
vmqt_stats_delta() {
	printf '%s\n%s\n' "$1" "$2" | "$VMQT_PY" -c '
import json, sys
snaps = [json.loads(l) for l in sys.stdin.read().splitlines()]
if len(snaps) != 2:
    sys.exit("expected two stats documents, got %d" % len(snaps))
S = None
def d(dev):
    for x in S["devs"]:
        if x["dev"] == dev:
            return x
    raise KeyError("no device %s in stats" % dev)
def q(dev, i, k="packets"):
    return sum(x[k] for x in d(dev)["queues"] if x["id"] == i)
def txq(dev, t):
    return sum(x["kernel"]["packets"] for x in d(dev)["txqs"] if x["txq"] == t)
def fb(dev, r):
    return d(dev)["fallbacks"][r]["packets"]
def kc(dev):
    return d(dev)["kernel_choice"]["packets"]
S = snaps[1]
b = eval(sys.argv[1])
S = snaps[0]
a = eval(sys.argv[1])
print(b - a)' "$3" || vmqt_fail "vmqt_stats_delta '$3' failed on:$(printf '\n%s\n%s' "$1" "$2" | head -c 3000 | sed 's/^/   | /')"
}

# vmqt_port_show: `vmqctl -j port show`, as canonical JSON sorted by port,
# ifindex, mode and why left out (vmqt_port_mode checks those). Usable in $(...).
vmqt_port_show() {
	local out mode
	mode=$(vmqt_tc_mode)
	out=$(vmqt_ctl -j port show "$@")
	# A port in stamp mode has a hook, in the mode the tests expect.
	vmqt_assert_eq "port show: stamp-mode ports whose hook is not $mode" "[]" \
		"$(vmqt_json "[p['port'] for p in j['ports'] if p['mode'] == 'stamp' and p.get('hook') != '$mode']" <<<"$out")"
	vmqt_json 'sorted(({k: v for k, v in p.items() if k not in ("ifindex", "mode", "why", "hook")} for p in j["ports"]), key=lambda p: p["port"])' <<<"$out"
}

# vmqt_port_mode PORT: "MODE: WHY" of PORT's binding in `vmqctl -j port
# show` ("" when not bound). Usable in $(...).
vmqt_port_mode() {
	vmqt_ctl -j port show | vmqt_json \
		"''.join(p['mode'] + ': ' + p['why'] for p in j['ports'] if p['port'] == '$1')"
}

# vmqt_assert_port_uplink_mode WHAT PORT WHY: PORT is bound in uplink mode
# for reason WHY, and has no vmq hook: neither a tcx link nor a filter.
vmqt_assert_port_uplink_mode() {
	vmqt_assert_eq "$1: mode of $2" "uplink: $3" "$(vmqt_port_mode "$2")"
	vmqt_assert_eq "$1: programs on $2's ingress (uplink mode: no hook)" "" \
		"$(vmqt_hooks "$VMQT_HOST_NS" "$2" ingress)"
}

# vmqt_assert_port_stamp_mode WHAT PORT WHY: PORT is bound in stamp mode
# for reason WHY, vmq_port on its ingress exactly once.
vmqt_assert_port_stamp_mode() {
	vmqt_assert_eq "$1: mode of $2" "stamp: $3" "$(vmqt_port_mode "$2")"
	vmqt_assert_hooked "$1" "$VMQT_HOST_NS" "$2" ingress vmq_port_ingres >/dev/null
}

# --- background senders ------------------------------------------------------------------
# vmqt_vm_send_bg N K OUT ARGS...: vmq-udpsend in VM N to uplink K's wire
# end, port 9, in the background, its stdout and stderr to file OUT. Sets
# VMQT_BG_PID (vmq-udpsend's own pid: `ip netns exec` execs it), stopped at
# exit unless vmqt_bg_wait reaped it. Call directly, not in $(...).
vmqt_vm_send_bg() {
	local n=$1 k=$2 out=$3
	shift 3
	[ -n "${VMQT_VM_NS[$n]:-}" ] || vmqt_fail "no VM $n"
	[ -n "${VMQT_UP_WIRE_IP[k]:-}" ] || vmqt_fail "no uplink $k"
	ip netns exec "${VMQT_VM_NS[$n]}" "$BUILD/tests/vmq-udpsend" --dst "${VMQT_UP_WIRE_IP[k]}" \
		--port 9 "$@" >"$out" 2>&1 &
	VMQT_BG_PID=$!
	VMQT_PIDS+=("$VMQT_BG_PID")
}

# vmqt_bg_wait WHAT PID OUT EXPECTED: waits for background sender PID; it
# must exit 0 having printed exactly EXPECTED (OUT holds its output).
# Call directly, not in $(...).
vmqt_bg_wait() {
	local what=$1 pid=$2 out=$3 want=$4 rc=0
	wait "$pid" || rc=$?
	vmqt_forget_pid "$pid"
	[ "$rc" -eq 0 ] || vmqt_fail "$what: vmq-udpsend exited $rc (expected 0); its output:$(sed 's/^/   | /' "$out")"
	vmqt_assert_eq "$what: vmq-udpsend output" "$want" "$(cat "$out")"
}
