#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The data plane never depends on the daemon. With paced traffic flowing on
# three queues (two on single TX queues, one into a group), vmqd is killed
# with SIGKILL:
#   - packets sent while no daemon runs still leave on their TX queues
#     (mq counters grow there, and only there);
#   - a vmqd restarted on the same pin directory (and the same socket path,
#     left stale by the killed one) adopts the state: queue/group/dev show
#     equal to before, vm and name included;
#   - it serves the old queues (traffic) and new `queue add`s, and the
#     stats counters keep counting across the restart (never reset);
#   - every packet of the run left on its own TX queue: no gap at the kill
#     or at the adoption.
# Then a SIGTERM restart (clean exit, socket removed, filter kept), and a
# detach by a later daemon restores the XPS the first one cleared.
#
# Cases (tests/run.sh test_vmqd_restart CASE...): kill9_no_gap (the kill,
# the restart and the traffic across both), adopted_serves, sigterm_restart
# (it restarts the daemon once first: a case reads the exit status only of
# a vmqd it started) and end_to_end_detach, each needing the one before.
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
vmqt_init
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl" "$BUILD/tests/vmq-udpsend"

N=100         # datagrams per vmqt_send step
BG_COUNT=1600 # datagrams per background sender
BG_RATE=400   # per second: 4 s of traffic each

vmqt_vmqd_setup
NQ=$VMQT_NTXQ

declare -a BG_PIDS BG_OUT
bg_send() { # MARK FLOWS PORT_BASE
	local out=$VMQT_TMP/bg-$1.out
	ip netns exec "$HNS" "$BUILD/tests/vmq-udpsend" --dst "$VMQT_WIRE_IP" --port 9 \
		--count "$BG_COUNT" --rate "$BG_RATE" --flows "$2" --src-port-base "$3" \
		--mark "$1" --bind-dev "$DEV" >"$out" 2>"$out.err" &
	VMQT_PIDS+=("$!")
	BG_PIDS+=("$!")
	BG_OUT+=("$out")
}
grow() { # EXPR over the old (a) and new (b) stats of DEV
	printf '%s\n%s\n' "$stats0" "$stats1" | "$VMQT_PY" -c '
import json, sys
a, b = (json.loads(l)["devs"][0] for l in sys.stdin.read().splitlines())
def q(s, i, k="packets"):
    return sum(x[k] for x in s["queues"] if x["id"] == i)
def t(s, n):
    return sum(x["kernel"]["packets"] for x in s["txqs"] if x["txq"] == n)
print(eval(sys.argv[1]))' "$1"
}


# XPS set by the user before attach, restored at the end by another daemon.
vmqt_in "$HNS" sh -ec 'echo 1 >/sys/class/net/"$1"/queues/tx-1/xps_cpus' sh "$DEV"
xps0=$(vmqt_in "$HNS" cat "/sys/class/net/$DEV/queues/tx-1/xps_cpus")
qdisc0=$(vmqt_in "$HNS" tc qdisc show dev "$DEV")
# Stats before the kill, for adopted_serves.
stats0=""
VMQT_CASE_KEEP+=(stats0)

vmqt_case kill9_no_gap
case_kill9_no_gap() {
	vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"
	PID1=$VMQT_VMQD_PID
	vmqt_ctl dev attach "$DEV" default-txq 7 >/dev/null
	vmqt_ctl queue add "$DEV" id 1 txq 1 vm vm1 name q1 >/dev/null
	vmqt_ctl queue add "$DEV" id 2 txq 2 vm vm2 >/dev/null
	vmqt_ctl group add "$DEV" id 3 txqs 4,5 >/dev/null
	vmqt_ctl queue add "$DEV" id 3 group 3 vm vm3 name grouped >/dev/null
	vmqt_ctl queue add "$DEV" id 9 txq 3 name doomed >/dev/null
	vmqt_send "queue 1 before the kill" 1 "$N" 4
	vmqt_assert_on_txq "queue 1 before the kill" 1 "$N"
	state0=$(vmqt_state)
	stats0=$(vmqt_ctl -j stats "$DEV")
	vmqt_ok "vmqd $PID1: $DEV attached, queues 1 -> txq 1, 2 -> txq 2, 3 -> group 3 (txqs 4,5), 9 -> txq 3"

	# --- traffic in the background, then kill -9 -------------------------------------
	c_start=$(vmqt_txq_counts "$HNS" "$DEV" "$NQ")
	rx_start=$(vmqt_dev_stat "$VMQT_WIRE_NS" "$VMQT_WIRE_DEV" rx_packets)
	bg_send 1 4 30000
	bg_send 2 4 30100
	bg_send 3 16 30200
	sleep 0.7
	c_kill=$(vmqt_txq_counts "$HNS" "$DEV" "$NQ")
	vmqt_vmqd_kill "$PID1" KILL
	vmqt_assert_eq "exit status of vmqd after SIGKILL" 137 "$VMQT_KILL_RC"
	c_dead0=$(vmqt_txq_counts "$HNS" "$DEV" "$NQ")
	[ -S "$VMQT_SOCK" ] || vmqt_fail "the killed vmqd's socket file is gone (expected stale, left behind)"
	vmqt_ctl_fails daemon ping
	vmqt_assert_one_error "vmqctl with no daemon" "cannot connect to vmqd at .*Connection refused"
	sleep 1.2
	c_dead1=$(vmqt_txq_counts "$HNS" "$DEV" "$NQ")
	read -r -a a <<<"$c_dead0"
	read -r -a b <<<"$c_dead1"
	for ((q = 0; q < NQ; q++)); do d[q]=$((b[q] - a[q])); done
	vmqt_log "sent while no daemon ran (per TX queue, 1.2 s): ${d[*]}"
	for q in 1 2; do
		[ "${d[q]}" -gt 0 ] || vmqt_fail "no packets on TX queue $q while vmqd was dead (per queue: ${d[*]})"
	done
	[ $((d[4] + d[5])) -gt 0 ] || vmqt_fail "no packets on group 3's TX queues 4,5 while vmqd was dead (per queue: ${d[*]})"
	for q in 0 3 6 7; do
		vmqt_assert_eq "packets on TX queue $q while vmqd was dead (per queue: ${d[*]})" 0 "${d[q]}"
	done
	vmqt_ok "vmqd killed (-9): steering went on without it: ${d[1]} on txq 1, ${d[2]} on txq 2, $((d[4] + d[5])) on txqs 4,5, none elsewhere"

	# --- restart: adopt ------------------------------------------------------------------
	vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"
	PID2=$VMQT_VMQD_PID
	vmqt_assert_match "vmqd $PID2's log" "dev $DEV: adopted" "$(cat "$VMQT_VMQD_LOG")"
	state1=$(vmqt_state)
	[ "$state0" = "$state1" ] ||
		vmqt_fail "state after restart differs:$(diff <(printf '%s\n' "$state0") <(printf '%s\n' "$state1") | sed 's/^/   | /')"
	vmqt_ok "vmqd $PID2 on the stale socket path adopted $DEV: dev/queue/group show identical to before (vm, name included)"

	for i in "${!BG_PIDS[@]}"; do
		rc=0
		wait "${BG_PIDS[i]}" || rc=$?
		vmqt_forget_pid "${BG_PIDS[i]}"
		vmqt_assert_eq "background sender ${BG_OUT[i]##*/}: exit status ($(cat "${BG_OUT[i]}" "${BG_OUT[i]}.err"))" 0 "$rc"
		vmqt_assert_eq "background sender ${BG_OUT[i]##*/}: output" "sent $BG_COUNT" "$(cat "${BG_OUT[i]}")"
	done
	for i in $(seq 50); do
		c_end=$(vmqt_txq_counts "$HNS" "$DEV" "$NQ")
		read -r -a a <<<"$c_start"
		read -r -a b <<<"$c_end"
		sum=0
		for ((q = 0; q < NQ; q++)); do d[q]=$((b[q] - a[q])); sum=$((sum + d[q])); done
		[ "$sum" -lt $((3 * BG_COUNT)) ] || break
		sleep 0.1
	done
	for ((q = 0; q < NQ; q++)); do VMQT_TXQ_TOTAL[q]=$((${VMQT_TXQ_TOTAL[q]:-0} + d[q])); done
	VMQT_SENT_TOTAL=$((VMQT_SENT_TOTAL + 3 * BG_COUNT))
	vmqt_assert_eq "background traffic on txq 1 (queue 1), whole run (per queue: ${d[*]})" "$BG_COUNT" "${d[1]}"
	vmqt_assert_eq "background traffic on txq 2 (queue 2), whole run (per queue: ${d[*]})" "$BG_COUNT" "${d[2]}"
	vmqt_assert_eq "background traffic on txqs 4,5 (queue 3), whole run (per queue: ${d[*]})" "$BG_COUNT" $((d[4] + d[5]))
	for q in 0 3 6 7; do
		vmqt_assert_eq "background traffic on TX queue $q, whole run (per queue: ${d[*]})" 0 "${d[q]}"
	done
	[ "${d[4]}" -gt 0 ] && [ "${d[5]}" -gt 0 ] ||
		vmqt_fail "queue 3's 16 flows all on one of group 3's TX queues (per queue: ${d[*]})"
	for i in $(seq 50); do
		rx_end=$(vmqt_dev_stat "$VMQT_WIRE_NS" "$VMQT_WIRE_DEV" rx_packets)
		[ $((rx_end - rx_start)) -lt $((3 * BG_COUNT)) ] || break
		sleep 0.1
	done
	vmqt_assert_eq "background datagrams received on the wire side" $((3 * BG_COUNT)) $((rx_end - rx_start))
	vmqt_ok "3 x $BG_COUNT datagrams over kill and restart: every one on its TX queue(s) (${d[*]}), all received"
}

# --- the adopted daemon serves old and new queues; counters went on ---------------------
vmqt_case adopted_serves kill9_no_gap
case_adopted_serves() {
	vmqt_send "queue 2 (old) after restart" 2 "$N" 4
	vmqt_assert_on_txq "queue 2 (old) after restart" 2 "$N"
	vmqt_ctl queue add "$DEV" id 4 txq 6 vm vm4 name new >/dev/null
	vmqt_send "queue 4 (added after restart)" 4 "$N" 4
	vmqt_assert_on_txq "queue 4 (added after restart)" 6 "$N"
	vmqt_ctl queue set "$DEV" id 1 txq 0 >/dev/null
	vmqt_send "queue 1 (old) set to txq 0 after restart" 1 "$N" 4
	vmqt_assert_on_txq "queue 1 (old) set to txq 0 after restart" 0 "$N"
	vmqt_ctl queue del "$DEV" id 9 >/dev/null
	vmqt_send "queue 9 (old) deleted after restart" 9 "$N" 4
	vmqt_assert_on_txq "queue 9 deleted after restart -> default txq 7" 7 "$N"
	one=$(vmqt_ctl -j queue show "$DEV" id 4 | vmqt_json 'j["queues"]')
	vmqt_assert_eq "queue show id 4" "[{\"dev\":\"$DEV\",\"id\":4,\"name\":\"new\",\"txq\":6,\"vm\":\"vm4\"}]" "$one"
	stats1=$(vmqt_ctl -j stats "$DEV")
	vmqt_assert_eq "stats: queue 1 packets grew by (background + one step)" $((BG_COUNT + N)) "$(grow 'q(b,1) - q(a,1)')"
	vmqt_assert_eq "stats: queue 2 packets grew by" $((BG_COUNT + N)) "$(grow 'q(b,2) - q(a,2)')"
	vmqt_assert_eq "stats: queue 3 packets grew by" "$BG_COUNT" "$(grow 'q(b,3) - q(a,3)')"
	vmqt_assert_eq "stats: queue 1 packets before the kill (one step)" "$N" "$(grow 'q(a,1)')"
	vmqt_assert_eq "stats: queue 9 fallback_packets" "$N" "$(grow 'q(b,9,"fallback_packets")')"
	vmqt_assert_eq "stats: txq 1 packets grew by" "$BG_COUNT" "$(grow 't(b,1) - t(a,1)')"
	vmqt_ok "after restart: old queues steer, queue add/set/del work; stats kept counting (queue 1: $N before, +$((BG_COUNT + N)) since)"
}

# --- SIGTERM: clean exit, the data plane stays ------------------------------------------------
vmqt_case sigterm_restart adopted_serves
case_sigterm_restart() {
	# A vmqd of this case's own, whose exit status it can read.
	vmqt_vmqd_kill "$VMQT_VMQD_PID" TERM
	vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"
	PID2=$VMQT_VMQD_PID
	state2=$(vmqt_state)
	vmqt_vmqd_kill "$PID2" TERM
	vmqt_assert_eq "exit status of vmqd after SIGTERM" 0 "$VMQT_KILL_RC"
	[ ! -e "$VMQT_SOCK" ] || vmqt_fail "vmqd exited on SIGTERM but left its socket $VMQT_SOCK"
	vmqt_assert_hooked "after vmqd's SIGTERM" "$HNS" "$DEV" egress vmq_tx_egress >/dev/null
	vmqt_send "queue 4 with vmqd stopped (SIGTERM)" 4 "$N" 4
	vmqt_assert_on_txq "queue 4 with vmqd stopped (SIGTERM)" 6 "$N"
	vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"
	state3=$(vmqt_state)
	[ "$state2" = "$state3" ] ||
		vmqt_fail "state after SIGTERM restart differs:$(diff <(printf '%s\n' "$state2") <(printf '%s\n' "$state3") | sed 's/^/   | /')"
	vmqt_ok "SIGTERM: exit 0, socket removed, filter kept and steering; a new vmqd adopted the same state"
}

# --- end to end, then detach by a later daemon -------------------------------------------------
vmqt_case end_to_end_detach sigterm_restart
case_end_to_end_detach() {
	final=$(vmqt_txq_counts "$HNS" "$DEV" "$NQ")
	read -r -a f <<<"$final"
	for ((q = 0; q < NQ; q++)); do
		vmqt_assert_eq "mq packets on TX queue $q (whole test)" "${VMQT_TXQ_TOTAL[q]}" "${f[q]}"
	done
	tx=$(vmqt_dev_stat "$HNS" "$DEV" tx_packets)
	rx=$(vmqt_dev_stat "$VMQT_WIRE_NS" "$VMQT_WIRE_DEV" rx_packets)
	vmqt_assert_eq "tx_packets of $DEV" "$VMQT_SENT_TOTAL" "$tx"
	vmqt_assert_eq "rx_packets of $VMQT_WIRE_DEV (nothing lost)" "$VMQT_SENT_TOTAL" "$rx"
	vmqt_ctl dev detach "$DEV" >/dev/null
	vmqt_assert_eq "tx-1/xps_cpus after detach by a later vmqd (cleared by the first)" "$xps0" \
		"$(vmqt_in "$HNS" cat "/sys/class/net/$DEV/queues/tx-1/xps_cpus")"
	vmqt_assert_eq "qdiscs after detach" "$qdisc0" "$(vmqt_in "$HNS" tc qdisc show dev "$DEV")"
	[ ! -e "$PINS/$DEV" ] || vmqt_fail "pins of $DEV left after detach"
	vmqt_assert_unhooked "after detach" "$HNS" "$DEV" egress vmq_tx_egress
	vmqt_ok "end to end: $VMQT_SENT_TOTAL sent = received; detach by a later vmqd restored XPS (tx-1: $xps0), qdiscs, no pins"
}

vmqt_cases "$@"
