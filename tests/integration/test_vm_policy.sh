#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Port policy with real VMs (QEMU guests on taps, docs/protocol.md: `dev
# set DEV ports PATTERNS`, `port bind ... queue auto`):
#
#   policy          `vmqctl dev set vmqup0 ports 'vmqvm*'` before any tap
#                   exists binds nothing; taps vmqvm1 and vmqvm2 created
#                   afterwards are bound by vmqd itself, each to a queue of
#                   its own (owner port, placement auto) on a TX queue of its
#                   own (not the other's, not the default queue's txq 7);
#                   a tap that does not match (vmqx9) stays unbound
#   two VMs         guest 1 sends N1 datagrams, guest 2 is sending N2 when
#                   it is killed (QEMU -9, then its tap deleted): every
#                   datagram the receiver got was on its VM's TX queue (mq
#                   class counters), guest 1's arrived all, guest 2's arrived
#                   as a gapless run 0..K-1
#   destroyed VM    guest 2's binding and its queue are freed (`port show`,
#                   `queue show`); guest 1's stay
#   accounting      for guest 2's queue Q2, over the whole run:
#                     packets(Q2) + fallback_packets(Q2)   (vmqctl -j stats)
#                       = K, datagrams tagged g2 at the receiver (all distinct)
#                       = rx_packets of its tap (what the host got from it)
#                   checked once QEMU is dead (tap still there) and again
#                   once the tap is gone and Q2 freed (a freed queue's
#                   counters stay listed); the same rule for guest 1 with N1;
#                   nothing left to the kernel's choice or to queue 0
#   freed TX queue  a new matching tap gets a queue on a TX queue with no
#                   queue on it (not guest 1's, not txq 7)
#
# Cases (tests/run.sh test_vm_policy CASE...), each needing the one before
# it: policy_set, taps_bound, two_vms, accounting (needs two_vms),
# destroyed_vm_freed (needs two_vms), freed_txq_reused.
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

N1=1500        # guest 1 sends all of them
N2=4000        # guest 2 is killed while sending these
KILL_AFTER=400 # ... once the receiver has this many of them
PPS=500
FLOWS=4
DEFAULT_TXQ=7
DEV=vmqup0

vmqt_topo_host 1
VMQT_DIAG_FN=vmqt_vm_diag
HNS=$VMQT_HOST_NS
vmqt_topo_vmqd_start
vmqt_ctl dev attach "$DEV" default-txq "$DEFAULT_TXQ" >/dev/null
vmqt_rx_start rx "$VMQT_WIRE_NS" 9000
# The VMs' queues and TX queues, guest 2's datagrams received and the stats
# before the VMs ran, for the cases after.
Q1="" Q2="" T1="" T2="" K="" s0=""
VMQT_CASE_KEEP+=(Q1 Q2 T1 T2 K s0)
qinfo() { # ID: "txq placement owner" of queue ID in $queues
	vmqt_json "[' '.join(str(q.get(k, '-')) for k in ('txq', 'placement', 'owner')) for q in j['queues'] if q['id'] == $1]" <<<"$queues"
}
# The accounting rule (see above).
account() { # WHAT BEFORE AFTER
	vmqt_assert_eq "$1: stats packets + fallback_packets of queue $Q1 (guest 1)" "$N1" \
		"$(vmqt_stats_delta "$2" "$3" "q('$DEV', $Q1) + q('$DEV', $Q1, 'fallback_packets')")"
	vmqt_assert_eq "$1: stats packets + fallback_packets of queue $Q2 (guest 2, = its datagrams at the receiver)" "$K" \
		"$(vmqt_stats_delta "$2" "$3" "q('$DEV', $Q2) + q('$DEV', $Q2, 'fallback_packets')")"
	vmqt_assert_eq "$1: stats txq $T1 + txq $T2 + not_live fallbacks" $((N1 + K)) \
		"$(vmqt_stats_delta "$2" "$3" "txq('$DEV', $T1) + txq('$DEV', $T2) + fb('$DEV', 'not_live')")"
	vmqt_assert_eq "$1: stats kernel choice" 0 "$(vmqt_stats_delta "$2" "$3" "kc('$DEV')")"
	vmqt_assert_eq "$1: stats queue 0 packets" 0 "$(vmqt_stats_delta "$2" "$3" "q('$DEV', 0)")"
}

# --- the port policy, set before any tap exists --------------------------------------------
vmqt_case policy_set
case_policy_set() {
	out=$(vmqt_ctl -j dev set "$DEV" ports 'vmqvm*')
	vmqt_assert_eq "dev set $DEV ports 'vmqvm*': links bound now" "[]" "$(vmqt_json 'j["bound"]' <<<"$out")"
	vmqt_assert_eq "dev show: the port policy" 'vmqvm*' "$(vmqt_ctl -j dev show | vmqt_json 'j["devs"][0]["ports"]')"
	vmqt_assert_eq "port show before any tap" '[]' "$(vmqt_port_show)"
	vmqt_ok "uplink $DEV attached (default txq $DEFAULT_TXQ), port policy 'vmqvm*' set (binds nothing yet); receiver at $VMQT_RX_DST"
}

# --- taps appear: bound by the policy ---------------------------------------------------
vmqt_case taps_bound policy_set
case_taps_bound() {
	vmqt_tap_add 9 vmqx9
	vmqt_tap_add 1 vmqvm1
	vmqt_tap_add 2 vmqvm2
	ports=$(vmqt_ctl_wait "the policy binding vmqvm1 and vmqvm2" 5 \
		'sorted(p["port"] for p in j["ports"] if p["state"] == "live") == ["vmqvm1", "vmqvm2"]' port show)
	vmqt_assert_eq "ports bound (vmqx9 does not match)" '["vmqvm1","vmqvm2"]' \
		"$(vmqt_json 'sorted(p["port"] for p in j["ports"])' <<<"$ports")"
	vmqt_assert_eq "bound ports' uplink" '["vmqup0","vmqup0"]' "$(vmqt_json '[p["dev"] for p in j["ports"]]' <<<"$ports")"
	Q1=$(vmqt_json '[p["queue"] for p in j["ports"] if p["port"] == "vmqvm1"][0]' <<<"$ports")
	Q2=$(vmqt_json '[p["queue"] for p in j["ports"] if p["port"] == "vmqvm2"][0]' <<<"$ports")
	vmqt_uint "queue of vmqvm1" "$Q1"
	vmqt_uint "queue of vmqvm2" "$Q2"
	((Q1 != 0 && Q2 != 0 && Q1 != Q2)) ||
		vmqt_fail "policy: expected two distinct queues of their own, got vmqvm1 -> $Q1, vmqvm2 -> $Q2"
	queues=$(vmqt_ctl -j queue show "$DEV")
	T1=$(vmqt_json "[q['txq'] for q in j['queues'] if q['id'] == $Q1][0]" <<<"$queues")
	T2=$(vmqt_json "[q['txq'] for q in j['queues'] if q['id'] == $Q2][0]" <<<"$queues")
	vmqt_assert_eq "queue $Q1 (vmqvm1's): txq placement owner" "[\"$T1 auto port\"]" "$(qinfo "$Q1")"
	vmqt_assert_eq "queue $Q2 (vmqvm2's): txq placement owner" "[\"$T2 auto port\"]" "$(qinfo "$Q2")"
	vmqt_uint "txq of queue $Q1" "$T1"
	vmqt_uint "txq of queue $Q2" "$T2"
	((T1 != T2 && T1 != DEFAULT_TXQ && T2 != DEFAULT_TXQ)) ||
		vmqt_fail "placement: expected each VM on a TX queue of its own, got txq $T1 and $T2 (default queue on txq $DEFAULT_TXQ)"
	vmqt_assert_eq "queues on $DEV" "[0,$(printf '%s\n' "$Q1" "$Q2" | sort -n | paste -sd,)]" \
		"$(vmqt_json 'sorted(q["id"] for q in j["queues"])' <<<"$queues")"
	for t in vmqvm1 vmqvm2; do
		vmqt_assert_port_uplink_mode "policy bind (routed tap)" "$t" "routed from the port"
	done
	vmqt_assert_eq "programs on vmqx9 ingress (not matching)" "" "$(vmqt_hooks "$HNS" vmqx9 ingress)"
	vmqt_ok "taps vmqvm1, vmqvm2 bound by the policy: queue $Q1 -> txq $T1, queue $Q2 -> txq $T2 (owner port, placement auto); vmqx9 left alone"
}

# --- two VMs; guest 2 destroyed mid-traffic -----------------------------------------------
vmqt_case two_vms taps_bound
case_two_vms() {
	mq0=$(vmqt_up_counts 0)
	s0=$(vmqt_stats)
	vmqt_guest_start 1 vmqvm1 g1 send g1 "$N1" "$PPS" "$FLOWS" 41000
	vmqt_guest_start 2 vmqvm2 g2 send g2 "$N2" "$PPS" "$FLOWS" 42000
	vmqt_rx_wait rx g2 "$KILL_AFTER" 60
	vmqt_qemu_kill g2
	vmqt_qemu_wait g1 120
	vmqt_assert_eq "guest g1: datagrams it says it sent" "$N1" "$(vmqt_guest_sent g1)"
	vmqt_rx_wait rx g1 "$N1" 10
	vmqt_rx_assert_all "guest g1" rx g1 "$N1"
	K=$(vmqt_rx_settle rx g2)
	((K >= KILL_AFTER && K < N2)) ||
		vmqt_fail "guest g2: expected it killed mid-traffic ($KILL_AFTER <= K < $N2), the receiver has $K"
	vmqt_rx_assert_all "guest g2 (killed: a gapless 0..K-1)" rx g2 "$K"
	vmqt_assert_eq "tap vmqvm1: packets from guest 1" "$N1" "$(vmqt_dev_stat "$HNS" vmqvm1 rx_packets)"
	vmqt_assert_eq "tap vmqvm2: packets from guest 2 before it died" "$K" "$(vmqt_dev_stat "$HNS" vmqvm2 rx_packets)"
	mq1=$(vmqt_up_counts 0)
	VMQT_UP_DELTA[0]=$(vmqt_txq_delta "$mq0" "$mq1")
	read -r -a d <<<"${VMQT_UP_DELTA[0]}"
	for ((q = 0; q < 8; q++)); do
		want=0
		[ "$q" -ne "$T1" ] || want=$N1
		[ "$q" -ne "$T2" ] || want=$K
		vmqt_assert_eq "$DEV TX queue $q (guest 1 on $T1, guest 2 on $T2; per queue: ${VMQT_UP_DELTA[0]})" "$want" "${d[q]}"
	done
	vmqt_ok "guest 1: $N1 datagrams, all arrived, all on txq $T1; guest 2 killed after $K of $N2: 0..$((K - 1)) arrived, all on txq $T2"
}

# The accounting rule, once QEMU is dead and its tap still there.
vmqt_case accounting two_vms
case_accounting() {
	s1=$(vmqt_stats)
	account "guest 2 dead, tap there" "$s0" "$s1"
	vmqt_ok "stats, guest 2 dead: queue $Q2 packets + fallbacks = $K = its datagrams received = its tap's rx_packets; queue $Q1: $N1"
}

# --- the tap goes: binding and queue freed ------------------------------------------------------
vmqt_case destroyed_vm_freed two_vms
case_destroyed_vm_freed() {
	vmqt_tap_del vmqvm2
	ports=$(vmqt_ctl_wait "vmqvm2's binding freed" 5 '[p["port"] for p in j["ports"]] == ["vmqvm1"]' port show)
	vmqt_assert_eq "port show after vmqvm2 vanished" "[{\"dev\":\"$DEV\",\"port\":\"vmqvm1\",\"queue\":$Q1,\"state\":\"live\"}]" \
		"$(vmqt_port_show | vmqt_json '[{k: v for k, v in p.items() if k != "vm"} for p in j]')"
	queues=$(vmqt_ctl_wait "queue $Q2 freed" 5 "$Q2 not in [q['id'] for q in j['queues']]" queue show)
	vmqt_assert_eq "queues after vmqvm2 vanished" "[0,$Q1]" "$(vmqt_json 'sorted(q["id"] for q in j["queues"])' <<<"$queues")"
	vmqt_assert_eq "queue $Q1 untouched" "[\"$T1 auto port\"]" "$(qinfo "$Q1")"
	s2=$(vmqt_stats)
	account "tap deleted, queue $Q2 freed" "$s0" "$s2"
	vmqt_assert_eq "stats: queue $Q2 is no longer live (no txq)" '[null]' \
		"$(vmqt_json "[q.get('txq') for d in j['devs'] for q in d['queues'] if q['id'] == $Q2]" <<<"$s2")"
	vmqt_ok "vmqvm2 deleted: its binding and queue $Q2 freed (port show, queue show); stats still account for its $K packets"
}

# --- the freed TX queue is used again -------------------------------------------------------
vmqt_case freed_txq_reused destroyed_vm_freed
case_freed_txq_reused() {
	vmqt_tap_add 3 vmqvm3
	ports=$(vmqt_ctl_wait "the policy binding vmqvm3" 5 '"vmqvm3" in [p["port"] for p in j["ports"] if p["state"] == "live"]' port show)
	Q3=$(vmqt_json '[p["queue"] for p in j["ports"] if p["port"] == "vmqvm3"][0]' <<<"$ports")
	queues=$(vmqt_ctl -j queue show "$DEV")
	T3=$(vmqt_json "[q['txq'] for q in j['queues'] if q['id'] == $Q3][0]" <<<"$queues")
	vmqt_uint "txq of vmqvm3's queue $Q3" "$T3"
	((T3 != T1 && T3 != DEFAULT_TXQ)) ||
		vmqt_fail "placement of vmqvm3's queue $Q3: txq $T3 has a queue already (guest 1: $T1, default: $DEFAULT_TXQ)"
	vmqt_tap_del vmqvm3
	vmqt_ctl_wait "vmqvm3's queue $Q3 freed" 5 "$Q3 not in [q['id'] for q in j['queues']]" queue show >/dev/null
	vmqt_ok "a new tap vmqvm3: queue $Q3 on txq $T3 (unused); freed again with the tap"
}

vmqt_cases "$@"
