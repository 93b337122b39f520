#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# vmqd's state file (`vmqd --state-dir DIR`, docs/protocol.md: `daemon
# save`, `daemon sync`) across restarts and a simulated host reboot, then a
# real VM (QEMU guest) whose very first packets are steered:
#
#   state           uplink vmqup0 (default txq 7); queue 10 -> txq 3 (vm
#                   vmA) with tap vmqtap1 bound to it by hand; group 1 (txqs
#                   4,5) with queue 11 in it; port policy 'vmqvm*' and tap
#                   vmqvm2, bound by the policy to a queue of its own
#   restart         SIGTERM, then SIGKILL, each followed by a new vmqd with
#                   the same --state-dir: `vmqctl -j dev show`, `queue show`,
#                   `port show`, `group show` equal to before (ifindex left
#                   out of dev and port show)
#   reboot          vmqd stopped; every namespace (so every device, tap and
#                   tc filter), the bpffs and its pins deleted; the bpffs
#                   mounted again, empty, on the same path; the namespaces
#                   made again and vmqd started with the same --state-dir
#                   BEFORE the uplink and the taps exist; then the uplink and
#                   the taps are created (new devices, new ifindexes): the
#                   state becomes equal to before the reboot
#   first packets   two VMs boot on the recreated taps and send N datagrams
#                   each: all arrive, every one (the first included) on its
#                   queue's TX queue (mq class counters), no fallback,
#                   nothing left to the kernel's choice or to queue 0
#
# Cases (tests/run.sh test_vm_reboot CASE...): restart_term, restart_kill,
# reboot, first_packets (needs reboot).
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

N=600          # datagrams per VM after the reboot
PPS=400
FLOWS=4
DEFAULT_TXQ=7
DEV=vmqup0
STATE=$VMQT_TMP/state # vmqd --state-dir
mkdir "$STATE"

# host_up: the host and wire namespaces, nothing else in them yet; IPv6
# off in the host namespace before any device exists there.
host_up() {
	vmqt_netns_add host
	VMQT_HOST_NS=$VMQT_LAST_NS
	vmqt_netns_add wire
	VMQT_WIRE_NS=$VMQT_LAST_NS
	vmqt_in "$VMQT_HOST_NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null
}

# devices_up: uplink 0 as vmqt_topo_host makes it, routing, taps vmqtap1 and vmqvm2.
devices_up() {
	VMQT_NTXQ=8
	VMQT_HOST_DEV=$DEV
	VMQT_WIRE_DEV=vmqwire0
	VMQT_HOST_IP=192.0.2.1
	VMQT_WIRE_IP=192.0.2.2
	vmqt_uplink_link "$VMQT_HOST_DEV" "$VMQT_HOST_IP" "$VMQT_WIRE_NS" "$VMQT_WIRE_DEV" \
		"$VMQT_WIRE_IP" "$VMQT_NTXQ"
	_vmqt_wire_rpf_off "$VMQT_WIRE_NS" "$VMQT_WIRE_DEV"
	_vmqt_uplink_set 0 "$VMQT_HOST_DEV" "$VMQT_HOST_IP" "$VMQT_WIRE_NS" "$VMQT_WIRE_DEV" \
		"$VMQT_WIRE_IP" "$VMQT_NTXQ"
	vmqt_host_routing
	vmqt_tap_add 1 vmqtap1
	vmqt_tap_add 2 vmqvm2
}

# world_down: what a reboot loses. vmqd must be stopped. Every link and
# namespace goes (deleted now, no longer registered for the cleanup); the
# bpffs is emptied, unmounted and mounted again, empty, at the same path
# (still registered).
world_down() {
	local i
	for ((i = ${#VMQT_LINKS[@]} - 1; i >= 0; i--)); do
		# shellcheck disable=SC2086 # "NS DEV"
		set -- ${VMQT_LINKS[i]}
		ip -n "$1" link delete dev "$2" 2>/dev/null || true
	done
	VMQT_LINKS=()
	for ((i = ${#VMQT_NETNS[@]} - 1; i >= 0; i--)); do
		vmqt_run ip netns delete "${VMQT_NETNS[i]}"
	done
	VMQT_NETNS=()
	# Unpinned first: another mount namespace may hold a copy of the mount.
	rm -rf --one-file-system "${VMQT_BPFFS:?}/vmq"
	vmqt_run umount "$VMQT_BPFFS"
	vmqt_run mount -t bpf bpf "$VMQT_BPFFS"
	[ ! -e "$VMQT_BPFFS/vmq" ] || vmqt_fail "pins under $VMQT_BPFFS/vmq after the reboot"
}

# state: dev, queue, port and group show, canonical JSON, ifindex left out.
state() {
	local d q p g
	d=$(vmqt_ctl -j dev show | vmqt_json '[{k: v for k, v in x.items() if k != "ifindex"} for x in j["devs"]]')
	q=$(vmqt_ctl -j queue show | vmqt_json 'j["queues"]')
	p=$(vmqt_port_show)
	g=$(vmqt_ctl -j group show | vmqt_json 'j["groups"]')
	printf 'dev show: %s\nqueue show: %s\nport show: %s\ngroup show: %s\n' "$d" "$q" "$p" "$g"
}

# assert_state WHAT: state() equals $STATE0, within 10 s (vmqd restores
# as devices appear).
assert_state() {
	local now i
	for i in $(seq 100); do
		now=$(state)
		[ "$now" != "$STATE0" ] || return 0
		sleep 0.1
	done
	vmqt_fail "$1: state differs from before:$(diff <(printf '%s\n' "$STATE0") <(printf '%s\n' "$now") | sed 's/^/   | /')"
}

host_up
devices_up
VMQT_DIAG_FN=vmqt_vm_diag
vmqt_topo_vmqd_start --state-dir "$STATE"
vmqt_ctl dev attach "$DEV" default-txq "$DEFAULT_TXQ" >/dev/null
vmqt_ctl queue add "$DEV" id 10 txq 3 vm vmA >/dev/null
vmqt_ctl group add "$DEV" id 1 txqs 4,5 >/dev/null
vmqt_ctl queue add "$DEV" id 11 group 1 vm vmB name grouped >/dev/null
vmqt_ctl port bind vmqtap1 dev "$DEV" queue 10 >/dev/null
out=$(vmqt_ctl -j dev set "$DEV" ports 'vmqvm*')
vmqt_assert_eq "dev set $DEV ports 'vmqvm*': links bound now" '["vmqvm2"]' "$(vmqt_json 'j["bound"]' <<<"$out")"
ports=$(vmqt_ctl_wait "vmqvm2 bound by the policy" 5 \
	'sorted(p["port"] for p in j["ports"] if p["state"] == "live") == ["vmqtap1", "vmqvm2"]' port show)
Q2=$(vmqt_json '[p["queue"] for p in j["ports"] if p["port"] == "vmqvm2"][0]' <<<"$ports")
vmqt_uint "queue of vmqvm2" "$Q2"
T2=$(vmqt_ctl -j queue show "$DEV" | vmqt_json "[q['txq'] for q in j['queues'] if q['id'] == $Q2][0]")
vmqt_uint "txq of queue $Q2" "$T2"
((Q2 != 10 && Q2 != 11 && T2 != 3 && T2 != 4 && T2 != 5 && T2 != DEFAULT_TXQ)) ||
	vmqt_fail "vmqvm2's queue $Q2 on txq $T2: expected a queue and a TX queue of its own"
vmqt_ctl daemon sync >/dev/null
[ -n "$(ls -A "$STATE")" ] || vmqt_fail "vmqd --state-dir $STATE: empty after daemon sync"
STATE0=$(state)
vmqt_ok "vmqd $VMQT_VMQD_PID --state-dir: queue 10 -> txq 3 (vmqtap1), group 1 {4,5} <- queue 11, policy 'vmqvm*' (vmqvm2 -> queue $Q2, txq $T2); state file written"

# --- restarts ---------------------------------------------------------------------------------
# restart_after SIG: vmqd killed with SIG, a new one on the same state.
restart_after() {
	local sig=$1
	vmqt_vmqd_kill "$VMQT_VMQD_PID" "$sig"
	vmqt_topo_vmqd_start --state-dir "$STATE"
	assert_state "vmqd restarted after SIG$sig"
	vmqt_ok "SIG$sig, then vmqd $VMQT_VMQD_PID with the same --state-dir: dev, queue, port, group show as before"
}
vmqt_case restart_term
case_restart_term() {
	restart_after TERM
}

vmqt_case restart_kill
case_restart_kill() {
	restart_after KILL
}

# --- a simulated reboot -----------------------------------------------------------------------
vmqt_case reboot
case_reboot() {
	vmqt_vmqd_kill "$VMQT_VMQD_PID" TERM
	world_down
	host_up
	vmqt_topo_vmqd_start --state-dir "$STATE"
	devices_up
	assert_state "after the reboot, once the uplink and the taps exist again"
	vmqt_assert_hooked "$DEV egress after the reboot" "$VMQT_HOST_NS" "$DEV" egress vmq_tx_egress >/dev/null
	for t in vmqtap1 vmqvm2; do
		vmqt_assert_port_uplink_mode "after the reboot (routed tap)" "$t" "routed from the port"
	done
	vmqt_ok "reboot (namespaces, devices, bpffs and pins gone; vmqd $VMQT_VMQD_PID started before the devices came back): state as before"
}

# --- VMs boot: steered from their first packet ---------------------------------------------------
vmqt_case first_packets reboot
case_first_packets() {
	vmqt_rx_start rx "$VMQT_WIRE_NS" 9000
	mq0=$(vmqt_up_counts 0)
	s0=$(vmqt_stats)
	vmqt_guest_start 1 vmqtap1 g1 send g1 "$N" "$PPS" "$FLOWS" 41000
	vmqt_guest_start 2 vmqvm2 g2 send g2 "$N" "$PPS" "$FLOWS" 42000
	vmqt_qemu_wait g1 120
	vmqt_qemu_wait g2 120
	for g in g1 g2; do
		vmqt_assert_eq "guest $g: datagrams it says it sent" "$N" "$(vmqt_guest_sent "$g")"
		vmqt_rx_wait rx "$g" "$N" 10
		vmqt_rx_assert_all "guest $g" rx "$g" "$N"
	done
	mq1=$(vmqt_up_counts 0)
	VMQT_UP_DELTA[0]=$(vmqt_txq_delta "$mq0" "$mq1")
	read -r -a d <<<"${VMQT_UP_DELTA[0]}"
	for ((q = 0; q < 8; q++)); do
		want=0
		[ "$q" -ne 3 ] || want=$N
		[ "$q" -ne "$T2" ] || want=$N
		vmqt_assert_eq "$DEV TX queue $q (guest 1 on 3, guest 2 on $T2; per queue: ${VMQT_UP_DELTA[0]})" "$want" "${d[q]}"
	done
	s1=$(vmqt_stats)
	vmqt_assert_eq "stats: queue 10 packets (guest 1)" "$N" "$(vmqt_stats_delta "$s0" "$s1" "q('$DEV', 10)")"
	vmqt_assert_eq "stats: queue $Q2 packets (guest 2)" "$N" "$(vmqt_stats_delta "$s0" "$s1" "q('$DEV', $Q2)")"
	vmqt_assert_eq "stats: fallbacks (queues 10, $Q2, not_live)" 0 \
		"$(vmqt_stats_delta "$s0" "$s1" "q('$DEV', 10, 'fallback_packets') + q('$DEV', $Q2, 'fallback_packets') + fb('$DEV', 'not_live')")"
	vmqt_assert_eq "stats: queue 0 packets" 0 "$(vmqt_stats_delta "$s0" "$s1" "q('$DEV', 0)")"
	vmqt_assert_eq "stats: kernel choice" 0 "$(vmqt_stats_delta "$s0" "$s1" "kc('$DEV')")"
	vmqt_ok "after the reboot: guests 1 and 2 booted, $N datagrams each, all arrived; every one on its TX queue (3 and $T2; per queue: ${VMQT_UP_DELTA[0]}), no fallback; boot to first packet $(vmqt_boot_to_first g1 rx g1) s and $(vmqt_boot_to_first g2 rx g2) s"
}

vmqt_cases "$@"
