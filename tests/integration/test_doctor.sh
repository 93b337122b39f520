#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Accounting and diagnostics with real traffic, two VMs behind port
# bindings (queue 10 -> txq 6; queue 20 in group 1 over txqs 3,5):
#
#   stats       the per-TX-queue figures `stats` reports are the kernel's
#               mq class counters (as tc -s class show reads them), and
#               vmq's per-queue counters count each VM's datagrams
#   --watch     three JSON samples; the last gives queue 10 the rate its VM
#               sends at
#   doctor      PASS on the healthy device (its active probe included),
#               exit 0
#   XPS         set behind vmq's back on tx-3: doctor FAIL (xps), exit 1
#   ethtool -L  TX queues 8 -> 4: vmqd's link watch degrades queues 10 and
#               20 (their TX queues are gone), their traffic leaves on the
#               default queue (txq 0), doctor FAIL (txq-range); 4 -> 8:
#               restored, traffic back on txq 6, doctor PASS again
#
# Cases (tests/run.sh test_doctor CASE...): stats, watch, doctor_healthy,
# xps, txq_count; each stands alone.
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/topology.sh
. "$(dirname "$0")/topology.sh"
vmqt_init ethtool
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl" "$BUILD/tests/vmq-udpsend"

DEV=vmqup0
N=300

vmqt_topo_host 1
vmqt_vm_add 1
vmqt_vm_add 2
HNS=$VMQT_HOST_NS
vmqt_topo_vmqd_start
vmqt_ctl dev attach "$DEV" default-txq 0 >/dev/null
vmqt_ctl queue add "$DEV" id 10 txq 6 vm one >/dev/null
vmqt_ctl group add "$DEV" id 1 txqs 3,5 >/dev/null
vmqt_ctl queue add "$DEV" id 20 group 1 vm two >/dev/null
vmqt_ctl port bind vmqtap1 dev "$DEV" queue 10 >/dev/null
vmqt_ctl port bind vmqtap2 dev "$DEV" queue 20 >/dev/null

# doctor STATUS: runs `vmqctl -j doctor`, checks the exit status that goes
# with the worst check, prints the result.
doctor() {
	local want=$1 rc=0 out
	out=$("$BUILD/vmqctl" -s "$VMQT_SOCK" -j doctor "$DEV") || rc=$?
	case $want in
	PASS) vmqt_assert_eq "doctor exit status ($out)" 0 "$rc" ;;
	FAIL) vmqt_assert_eq "doctor exit status ($out)" 1 "$rc" ;;
	esac
	vmqt_assert_eq "doctor worst" "$want" "$(vmqt_json 'j["worst"]' <<<"$out")"
	printf '%s\n' "$out"
}

# status_of NAME RESULT: the status of check NAME in a doctor result.
status_of() {
	vmqt_json "[c[\"status\"] for c in j[\"checks\"] if c[\"name\"] == \"$1\"][0]" <<<"$2"
}

# --- stats agree with the kernel ---------------------------------------------------
vmqt_case stats
case_stats() {
	vmqt_vm_traffic "vm1" 1 0 "$N" 4
	vmqt_assert_up_txq "vm1 on queue 10" 0 6 "$N"
	vmqt_vm_traffic "vm2" 2 0 "$N" 16
	vmqt_assert_up_within "vm2 in group 1" 0 "3 5" "$N" 1
	stats=$(vmqt_ctl -j stats "$DEV")
	mq=$(vmqt_up_counts 0)
	vmqt_assert_eq "stats: where the per-TX-queue figures come from" mq \
		"$(vmqt_json 'j["devs"][0]["txq_counters"]' <<<"$stats")"
	vmqt_assert_eq "stats' kernel packets per TX queue vs tc -s class show" "$mq" \
		"$(vmqt_json '" ".join(str(t["kernel"]["packets"]) for t in j["devs"][0]["txqs"])' <<<"$stats")"
	listed=$(vmqt_json '[t["txq"] for t in j["devs"][0]["txqs"]]' <<<"$stats")
	vmqt_assert_eq "TX queues listed by stats" "[0,1,2,3,4,5,6,7]" "$listed"
	vmqt_assert_eq "packets on txq 6 (the kernel's)" "$N" \
		"$(vmqt_json '[t["kernel"]["packets"] for t in j["devs"][0]["txqs"] if t["txq"] == 6][0]' <<<"$stats")"
	vmqt_assert_eq "packets of queue 10 (vmq's)" "$N" \
		"$(vmqt_json '[q["packets"] for q in j["devs"][0]["queues"] if q["id"] == 10][0]' <<<"$stats")"
	vmqt_ok "stats: the kernel's per-TX-queue figures ($mq) on all 8 TX queues, vmq's per queue"
}

# --- watch mode: rates from a real daemon while a VM sends ---------------------------
vmqt_case watch
case_watch() {
	vmqt_vm_send_bg 1 0 "$VMQT_TMP/watch-sender.out" --count 3000 --rate 1000 --flows 2
	sender=$VMQT_BG_PID
	samples=$(vmqt_ctl -j -w 0.5 -c 3 stats "$DEV")
	vmqt_bg_wait "watch sender" "$sender" "$VMQT_TMP/watch-sender.out" "sent 3000"
	vmqt_assert_eq "watch samples" 3 "$(vmqt_json -l 'len(j)' <<<"$samples")"
	vmqt_assert_eq "first sample has no rates" "null" \
		"$(vmqt_json -l '[q.get("packets_per_s") for q in j[0]["devs"][0]["queues"] if q["id"] == 10][0]' <<<"$samples")"
	rate=$(vmqt_json -l '[q["packets_per_s"] for q in j[2]["devs"][0]["queues"] if q["id"] == 10][0]' <<<"$samples")
	# Paced at 1000/s: the measured rate of queue 10 is in the hundreds, not 0.
	vmqt_assert_match "queue 10's rate while its VM sends 1000/s (got $rate)" '^[1-9][0-9]{2,3}(\.[0-9]+)?$' "$rate"
	vmqt_ok "stats --watch: 3 samples, queue 10 at $rate packets/s"
}

# --- doctor on a healthy device ----------------------------------------------------
vmqt_case doctor_healthy
case_doctor_healthy() {
	out=$(doctor PASS)
	vmqt_assert_eq "doctor checks" '["device","pins","hook","xps","txq-range","filters","probe"]' \
		"$(vmqt_json '[c["name"] for c in j["checks"]]' <<<"$out")"
	vmqt_assert_match "probe detail (queue 0 on txq 0, 10, 20)" "3 queue\(s\) probed" \
		"$(vmqt_json '[c["detail"] for c in j["checks"] if c["name"] == "probe"][0]' <<<"$out")"
	vmqt_ok "doctor: PASS on every check, the probe included, exit 0"
}

# --- XPS re-enabled behind vmq's back ------------------------------------------------
vmqt_case xps
case_xps() {
	vmqt_in "$HNS" sh -c "echo 1 > /sys/class/net/$DEV/queues/tx-3/xps_cpus"
	out=$(doctor FAIL)
	vmqt_assert_eq "xps check" FAIL "$(status_of xps "$out")"
	vmqt_in "$HNS" sh -c "echo 0 > /sys/class/net/$DEV/queues/tx-3/xps_cpus"
	doctor PASS >/dev/null
	vmqt_ok "doctor: FAIL (xps) with XPS on tx-3, exit 1; PASS once cleared"
}

# --- the TX queue count shrinks, then grows back --------------------------------------
vmqt_case txq_count
case_txq_count() {
	# wait_degraded COUNT: until vmqd's link watch has reconciled.
	wait_degraded() {
		local i n
		for i in $(seq 50); do
			n=$(vmqt_ctl -j dev show "$DEV" | vmqt_json 'j["devs"][0]["degraded_queues"]')
			[ "$n" = "$1" ] && return 0
			sleep 0.1
		done
		vmqt_fail "degraded queues on $DEV: expected $1, got $n"
	}
	vmqt_in "$HNS" ethtool -L "$DEV" tx 4 >/dev/null
	wait_degraded 2
	q=$(vmqt_ctl -j queue show "$DEV" id 10)
	vmqt_assert_eq "queue 10 while txq 6 is gone" \
		'{"degraded":true,"dev":"vmqup0","id":10,"txq":0,"vm":"one","want_txq":6}' \
		"$(vmqt_json 'j["queues"][0]' <<<"$q")"
	vmqt_vm_traffic "vm1 degraded" 1 0 "$N" 4
	vmqt_assert_up_txq "vm1 while degraded: the default queue" 0 0 "$N"
	vmqt_vm_traffic "vm2 degraded" 2 0 "$N" 16
	vmqt_assert_up_txq "vm2 while group 1 lacks txq 5: the default queue" 0 0 "$N"
	out=$(doctor FAIL)
	vmqt_assert_eq "txq-range check" FAIL "$(status_of txq-range "$out")"
	vmqt_ok "ethtool -L tx 4: queues 10 and 20 degraded, traffic on the default queue, doctor FAIL"

	vmqt_in "$HNS" ethtool -L "$DEV" tx 8 >/dev/null
	wait_degraded 0
	vmqt_vm_traffic "vm1 restored" 1 0 "$N" 4
	vmqt_assert_up_txq "vm1 restored" 0 6 "$N"
	vmqt_vm_traffic "vm2 restored" 2 0 "$N" 16
	vmqt_assert_up_within "vm2 restored" 0 "3 5" "$N" 1
	doctor PASS >/dev/null
	vmqt_ok "ethtool -L tx 8: restored, traffic back on txq 6 and group 1, doctor PASS"
}

vmqt_cases "$@"
