#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Scenario: live migration. VM 1 sends continuously (paced, about 5 s at
# 5,000 datagrams per second) through its port, bound to queue 5 on TX
# queue 3; VM 2 sends alongside on its own queue. Mid-stream VM 1's queue is
# freed (`vmqctl queue del`), as when its VM migrates away while packets
# stamped with the old ID are still in flight. VMQ's rule: they are not an
# error; they leave on the default queue (txq 7).
#
#   - not one datagram lost: the wire end received, and its UDP saw, exactly
#     what both VMs sent;
#   - VM 1's packets: old txq + default txq = all of them, both > 0; none on
#     the default queue before the free, none on the old txq after it;
#   - vmqctl stats: queue 5's fallback_packets, and the not_live fallback
#     reason, equal the default txq's packets exactly; queue 5's packets
#     equal the old txq's; queue 0 steered none of them itself; freed queue 5
#     leaves `queue show` but stays in `stats`;
#   - the port binding survives: `port show` says "stale" while the queue is
#     freed, "live" once `queue add` re-creates it on another TX queue (6),
#     where VM 1's traffic then goes;
#   - VM 2 is untouched throughout: all its packets on its own TX queue.
#
# Cases (tests/run.sh test_scenario_migration CASE...): free_mid_stream,
# still_freed and comes_back (both need free_mid_stream), end_to_end.
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/topology.sh
. "$(dirname "$0")/topology.sh"
vmqt_init
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl" "$BUILD/tests/vmq-udpsend"

RATE=5000      # VM 1: datagrams per second
COUNT=25000    # VM 1: 5 s of traffic
RATE2=1000     # VM 2, alongside
COUNT2=5000
FLOWS=4
DEFAULT_TXQ=7
OLD_TXQ=3
NEW_TXQ=6
VM2_TXQ=2
ID=5
ID2=9
DEV=vmqup0
N=200          # datagrams per later step

vmqt_topo_host 1
vmqt_vm_add 1
vmqt_vm_add 2
HNS=$VMQT_HOST_NS
vmqt_topo_vmqd_start
vmqt_ctl dev attach "$DEV" default-txq "$DEFAULT_TXQ" >/dev/null
vmqt_ctl queue add "$DEV" id "$ID" txq "$OLD_TXQ" vm vm1 name vm1-tx >/dev/null
vmqt_ctl queue add "$DEV" id "$ID2" txq "$VM2_TXQ" vm vm2 >/dev/null
vmqt_ctl port bind vmqtap1 dev "$DEV" queue "$ID" >/dev/null
vmqt_ctl port bind vmqtap2 dev "$DEV" queue "$ID2" >/dev/null
vmqt_ok "VM 1 on vmqtap1 -> queue $ID -> txq $OLD_TXQ; VM 2 on vmqtap2 -> queue $ID2 -> txq $VM2_TXQ; default txq $DEFAULT_TXQ"

# port show STATE: VM 1's binding says STATE.
port1_state() {
	vmqt_ctl -j port show | vmqt_json '[p["state"] for p in j["ports"] if p["port"] == "vmqtap1"]'
}
vmqt_assert_eq "port show: vmqtap1 before the free" '["live"]' "$(port1_state)"

# --- the stream, and the free in its middle -------------------------------------------------
vmqt_case free_mid_stream
case_free_mid_stream() {
	before=$(vmqt_up_snapshot)
	c0=$(vmqt_up_counts 0)
	s0=$(vmqt_stats)
	vmqt_vm_send_bg 1 0 "$VMQT_TMP/vm1.out" --count "$COUNT" --rate "$RATE" --flows "$FLOWS" --src-port-base 41000
	PID1=$VMQT_BG_PID
	vmqt_vm_send_bg 2 0 "$VMQT_TMP/vm2.out" --count "$COUNT2" --rate "$RATE2" --flows "$FLOWS" --src-port-base 42000
	PID2=$VMQT_BG_PID
	t0=$(date +%s%N)
	# Mid-stream: once 40% of VM 1's packets have left (about 2 s in).
	for i in $(seq 100); do
		read -r -a d <<<"$(vmqt_txq_delta "$c0" "$(vmqt_up_counts 0)")"
		[ "${d[OLD_TXQ]}" -lt $((COUNT * 2 / 5)) ] || break
		kill -0 "$PID1" 2>/dev/null || vmqt_fail "VM 1's sender ended before the free; it printed: $(cat "$VMQT_TMP/vm1.out")"
		sleep 0.05
	done
	[ "${d[OLD_TXQ]}" -ge $((COUNT * 2 / 5)) ] ||
		vmqt_fail "VM 1's stream: only ${d[OLD_TXQ]} of $COUNT on txq $OLD_TXQ after 5 s (per queue: ${d[*]})"
	vmqt_assert_eq "packets on the default txq $DEFAULT_TXQ before the free (per queue: ${d[*]})" 0 "${d[DEFAULT_TXQ]}"
	vmqt_ctl queue del "$DEV" id "$ID" >/dev/null
	t1=$(date +%s%N)
	at_free=${d[OLD_TXQ]}
	kill -0 "$PID1" 2>/dev/null || vmqt_fail "VM 1's sender ended before the free took effect: not mid-stream"
	# Whatever was between the port and the uplink's egress when the entry
	# changed has left by now; from here on txq $OLD_TXQ must not move.
	sleep 0.2
	read -r -a d <<<"$(vmqt_txq_delta "$c0" "$(vmqt_up_counts 0)")"
	after_free=${d[OLD_TXQ]}
	vmqt_assert_eq "port show: vmqtap1 while queue $ID is freed" '["stale"]' "$(port1_state)"
	kill -0 "$PID1" 2>/dev/null || vmqt_fail "VM 1's sender ended within 0.2 s of the free: not mid-stream"
	vmqt_bg_wait "VM 1's stream" "$PID1" "$VMQT_TMP/vm1.out" "sent $COUNT"
	vmqt_bg_wait "VM 2's stream" "$PID2" "$VMQT_TMP/vm2.out" "sent $COUNT2"
	t2=$(date +%s%N)
	vmqt_up_settle "both streams" "$before" 0 $((COUNT + COUNT2))
	s1=$(vmqt_stats)
	read -r -a d <<<"${VMQT_UP_DELTA[0]}"
	old=${d[OLD_TXQ]} dflt=${d[DEFAULT_TXQ]}
	vmqt_log "freed at $(((t1 - t0) / 1000000)) ms of $(((t2 - t0) / 1000000)) ms; $at_free on txq $OLD_TXQ then; per TX queue at the end: ${VMQT_UP_DELTA[0]}"
	for ((q = 0; q < 8; q++)); do
		case $q in
		"$OLD_TXQ" | "$DEFAULT_TXQ") ;;
		"$VM2_TXQ") vmqt_assert_eq "VM 2's packets on its txq $VM2_TXQ (per queue: ${VMQT_UP_DELTA[0]})" "$COUNT2" "${d[q]}" ;;
		*) vmqt_assert_eq "packets on txq $q (per queue: ${VMQT_UP_DELTA[0]})" 0 "${d[q]}" ;;
		esac
	done
	vmqt_assert_eq "VM 1: old txq $OLD_TXQ + default txq $DEFAULT_TXQ (per queue: ${VMQT_UP_DELTA[0]})" "$COUNT" $((old + dflt))
	[ "$dflt" -gt 0 ] || vmqt_fail "VM 1: nothing on the default txq $DEFAULT_TXQ after the free (per queue: ${VMQT_UP_DELTA[0]})"
	vmqt_assert_eq "VM 1: packets on the old txq $OLD_TXQ after the free settled (0.2 s after queue del: $after_free)" \
		"$after_free" "$old"
	vmqt_ok "VM 1's $COUNT: $old on the old txq $OLD_TXQ ($at_free when freed), $dflt on the default txq $DEFAULT_TXQ, none on txq $OLD_TXQ after the free, none lost; VM 2's $COUNT2 all on txq $VM2_TXQ"

	vmqt_assert_eq "stats: queue $ID fallback_packets = default txq packets" "$dflt" \
		"$(vmqt_stats_delta "$s0" "$s1" "q('$DEV', $ID, 'fallback_packets')")"
	vmqt_assert_eq "stats: fallbacks not_live = default txq packets" "$dflt" \
		"$(vmqt_stats_delta "$s0" "$s1" "fb('$DEV', 'not_live')")"
	vmqt_assert_eq "stats: fallbacks beyond_map + bad_group" 0 \
		"$(vmqt_stats_delta "$s0" "$s1" "fb('$DEV', 'beyond_map') + fb('$DEV', 'bad_group')")"
	vmqt_assert_eq "stats: queue $ID packets = old txq packets" "$old" "$(vmqt_stats_delta "$s0" "$s1" "q('$DEV', $ID)")"
	vmqt_assert_eq "stats: queue 0 packets (fallbacks are not queue 0's own)" 0 "$(vmqt_stats_delta "$s0" "$s1" "q('$DEV', 0)")"
	vmqt_assert_eq "stats: txq $DEFAULT_TXQ packets" "$dflt" "$(vmqt_stats_delta "$s0" "$s1" "txq('$DEV', $DEFAULT_TXQ)")"
	vmqt_assert_eq "stats: queue $ID2 (VM 2) packets" "$COUNT2" "$(vmqt_stats_delta "$s0" "$s1" "q('$DEV', $ID2)")"
	vmqt_assert_eq "stats: queue $ID2 (VM 2) fallback_packets" 0 "$(vmqt_stats_delta "$s0" "$s1" "q('$DEV', $ID2, 'fallback_packets')")"
	ids=$(vmqt_ctl -j queue show "$DEV" | vmqt_json '[q["id"] for q in j["queues"]]')
	vmqt_assert_eq "queue show after the free" "[0,$ID2]" "$ids"
	listed=$(vmqt_json "[q for q in j['devs'][0]['queues'] if q['id'] == $ID]" <<<"$s1")
	vmqt_assert_match "stats -j lists freed queue $ID (nonzero counters), with no target" \
		"^\\[\\{\"bytes\":[0-9]+,\"fallback_bytes\":[0-9]+,\"fallback_packets\":$((dflt + 0)),\"id\":$ID,\"packets\":[0-9]+\\}\\]\$" "$listed"
	vmqt_ok "stats: queue $ID fallback_packets = not_live = txq $DEFAULT_TXQ = $dflt; queue $ID packets = $old; queue 0 +0; VM 2 clean"
}

# --- still freed: more traffic, all fallback -----------------------------------------------------
vmqt_case still_freed free_mid_stream
case_still_freed() {
	s0=$(vmqt_stats)
	vmqt_vm_traffic "VM 1 while queue $ID is freed" 1 0 "$N" "$FLOWS"
	vmqt_assert_up_txq "VM 1 while queue $ID is freed" 0 "$DEFAULT_TXQ" "$N"
	s1=$(vmqt_stats)
	vmqt_assert_eq "stats: queue $ID fallback_packets while freed" "$N" "$(vmqt_stats_delta "$s0" "$s1" "q('$DEV', $ID, 'fallback_packets')")"
	vmqt_assert_eq "stats: not_live while freed" "$N" "$(vmqt_stats_delta "$s0" "$s1" "fb('$DEV', 'not_live')")"
}

# --- the VM comes back: queue re-created on another TX queue --------------------------------------
vmqt_case comes_back free_mid_stream
case_comes_back() {
	vmqt_ctl queue add "$DEV" id "$ID" txq "$NEW_TXQ" vm vm1 >/dev/null
	vmqt_assert_eq "port show: vmqtap1 after queue $ID is re-created" '["live"]' "$(port1_state)"
	want=$(vmqt_json j <<<"[{\"dev\":\"$DEV\",\"port\":\"vmqtap1\",\"queue\":$ID,\"state\":\"live\",\"vm\":\"vm1\"},{\"dev\":\"$DEV\",\"port\":\"vmqtap2\",\"queue\":$ID2,\"state\":\"live\",\"vm\":\"vm2\"}]")
	vmqt_assert_eq "port show after re-creating queue $ID" "$want" "$(vmqt_port_show)"
	s0=$(vmqt_stats)
	vmqt_vm_traffic "VM 1 after queue $ID re-created on txq $NEW_TXQ" 1 0 "$N" "$FLOWS"
	vmqt_assert_up_txq "VM 1 after queue $ID re-created on txq $NEW_TXQ" 0 "$NEW_TXQ" "$N"
	vmqt_vm_traffic "VM 2 after queue $ID re-created" 2 0 "$N" "$FLOWS"
	vmqt_assert_up_txq "VM 2 after queue $ID re-created" 0 "$VM2_TXQ" "$N"
	s1=$(vmqt_stats)
	vmqt_assert_eq "stats: queue $ID packets after re-creation" "$N" "$(vmqt_stats_delta "$s0" "$s1" "q('$DEV', $ID)")"
	vmqt_assert_eq "stats: queue $ID fallback_packets after re-creation" 0 "$(vmqt_stats_delta "$s0" "$s1" "q('$DEV', $ID, 'fallback_packets')")"
	vmqt_assert_eq "stats: not_live after re-creation" 0 "$(vmqt_stats_delta "$s0" "$s1" "fb('$DEV', 'not_live')")"
	vmqt_ok "queue add $ID txq $NEW_TXQ: vmqtap1 live again (binding kept through the free), VM 1's $N on txq $NEW_TXQ; VM 2 still on txq $VM2_TXQ"
}

# --- end to end -----------------------------------------------------------------------------------
vmqt_case end_to_end
case_end_to_end() {
	final=$(vmqt_up_counts 0)
	read -r -a f <<<"$final"
	stats=$(vmqt_stats)
	for ((q = 0; q < 8; q++)); do
		got=$(vmqt_json "sum(t['kernel']['packets'] for t in j['devs'][0]['txqs'] if t['txq'] == $q)" <<<"$stats")
		vmqt_assert_eq "vmqctl stats txq $q packets vs mq class 1:$(printf %x $((q + 1)))" "${f[q]}" "$got"
	done
	total=$(_vmqt_sum "$final")
	vmqt_assert_eq "mq counters vs the sum of the steps" "${VMQT_UP_TOTAL[0]}" "$final"
	vmqt_assert_eq "rx_packets of the wire end (nothing lost)" "$total" "$(vmqt_dev_stat "$VMQT_WIRE_NS" "$VMQT_WIRE_DEV" rx_packets)"
	vmqt_assert_eq "tx_dropped of $DEV" 0 "$(vmqt_dev_stat "$HNS" "$DEV" tx_dropped)"
	vmqt_ok "end to end: $total sent by the VMs, all received, 0 dropped; vmq per-TX-queue = mq ($final)"
}

vmqt_cases "$@"
