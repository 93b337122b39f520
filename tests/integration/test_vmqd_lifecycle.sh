#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The whole queue lifecycle through vmqctl and vmqd, each step seen on the
# kernel's per-TX-queue counters (mq classes) with real marked traffic:
#
#   dev attach DEV default-txq 7
#   queue add  (IDs on distinct TX queues, with and without vm/name)
#   group add  over 3 TX queues, 2 queues in it: flows spread over >= 2 of
#              them and never outside; one flow stays on one TX queue
#   queue set  moves traffic (txq -> txq, txq -> group, group -> txq)
#   queue del  its traffic falls back to the default queue (txq 7), and the
#              fallback counters of `vmqctl stats -j` say so
#   show       queue/group/dev show, text and JSON, say what was set
#   dev detach
#
# and nothing is lost end to end: every datagram sent reaches the wire side,
# and vmq's own per-TX-queue counters equal mq's.
#
# Cases (lib.sh's vmqt_case; tests/run.sh test_vmqd_lifecycle CASE... runs
# some, with what they need): attach, queue_add, groups, show, queue_set,
# queue_del, end_to_end, detach.
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
vmqt_init
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl" "$BUILD/tests/vmq-udpsend"

N=120          # datagrams per step
FLOWS=4        # flows per step
GFLOWS=24      # flows into a group
DEFAULT_TXQ=7

vmqt_vmqd_setup
NQ=$VMQT_NTXQ
MODE=$(vmqt_tc_mode)
CREATED=false # tcx needs no clsact
[ "$MODE" = tcx ] || CREATED=true


vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"
vmqt_ok "vmqd $VMQT_VMQD_PID serving $VMQT_SOCK in $HNS, pins under $PINS"

# --- attach ------------------------------------------------------------------
vmqt_case attach
case_attach() {
	out=$(vmqt_ctl dev attach "$DEV" default-txq "$DEFAULT_TXQ")
	vmqt_assert_eq "dev attach prints nothing in text mode" "" "$out"
	vmqt_assert_file "pinned program" "$PINS/$DEV/vmq_tx_egress"
	vmqt_assert_hooked "after attach" "$HNS" "$DEV" egress vmq_tx_egress >/dev/null
	[ "$MODE" != tcx ] || vmqt_assert_file "pinned tcx link" "$PINS/$DEV/vmq_tx_link"
	vmqt_ok "dev attach $DEV default-txq $DEFAULT_TXQ: vmq on $MODE egress, pins in $PINS/$DEV"

	vmqt_send "unmarked (queue 0)" - "$N" "$FLOWS"
	vmqt_assert_on_txq "unmarked (queue 0)" "$DEFAULT_TXQ" "$N"
	vmqt_ok "unmarked traffic: $N/$N on the default TX queue $DEFAULT_TXQ"
}

# --- queue add ---------------------------------------------------------------
vmqt_case queue_add attach
case_queue_add() {
	vmqt_ctl queue add "$DEV" id 1 txq 1 vm web1 name web1-tx >/dev/null
	vmqt_ctl queue add "$DEV" id 2 txq 2 vm web2 >/dev/null
	vmqt_ctl queue add "$DEV" id 300 txq 3 name db-tx >/dev/null
	vmqt_ctl queue add "$DEV" id 4095 txq 0 >/dev/null
	declare -A WANT=([1]=1 [2]=2 [300]=3 [4095]=0)
	for id in 1 2 300 4095; do
		vmqt_send "queue $id -> txq ${WANT[$id]}" "$id" "$N" "$FLOWS"
		vmqt_assert_on_txq "queue $id -> txq ${WANT[$id]}" "${WANT[$id]}" "$N"
	done
	vmqt_send "mark 0xabcd0001 (queue 1, other mark bits set)" 0xabcd0001 "$N" "$FLOWS"
	vmqt_assert_on_txq "mark 0xabcd0001 (queue 1, other mark bits set)" 1 "$N"
	vmqt_ok "queue add 1/2/300/4095 -> txq 1/2/3/0: every packet on its TX queue (and upper mark bits ignored)"
}

# --- groups ------------------------------------------------------------------
vmqt_case groups attach
case_groups() {
	vmqt_ctl group add "$DEV" id 1 txqs 4,5,6 >/dev/null
	vmqt_ctl queue add "$DEV" id 10 group 1 vm vm-a name a-tx >/dev/null
	vmqt_ctl queue add "$DEV" id 11 group 1 vm vm-b >/dev/null
	for id in 10 11; do
		vmqt_send "queue $id in group 1, $GFLOWS flows" "$id" $((GFLOWS * 10)) "$GFLOWS"
		vmqt_assert_within "queue $id in group 1, $GFLOWS flows" "4 5 6" $((GFLOWS * 10)) 2
		vmqt_log "queue $id: $GFLOWS flows over TX queues: $VMQT_DELTA_TEXT"
	done
	# One flow, one TX queue: each flow alone, several packets.
	base=$VMQT_PORT_NEXT
	VMQT_PORT_NEXT=$((VMQT_PORT_NEXT + GFLOWS))
	declare -A used=()
	for ((f = 0; f < GFLOWS; f++)); do
		vmqt_send "queue 10, flow $f alone" 10 5 1 $((base + f))
		hit=""
		for q in 4 5 6; do
			[ "${VMQT_DELTA[q]}" -eq 0 ] || hit="$hit $q"
		done
		vmqt_assert_within "queue 10, flow $f (source port $((base + f)))" "4 5 6" 5 1
		[ "$(wc -w <<<"$hit")" -eq 1 ] ||
			vmqt_fail "queue 10, flow $f: one flow spread over TX queues$hit (per queue: $VMQT_DELTA_TEXT)"
		used[${hit# }]=1
	done
	[ "${#used[@]}" -ge 2 ] || vmqt_fail "group 1: all $GFLOWS flows on TX queue(s) ${!used[*]}"
	vmqt_ok "group 1 over txqs 4,5,6: queues 10 and 11 spread $GFLOWS flows over >= 2 of them, none outside; each flow on one TX queue (used: $(tr ' ' '\n' <<<"${!used[*]}" | sort -n | tr '\n' ' '))"
}

# --- show: text and JSON -------------------------------------------------------
vmqt_case show queue_add groups
case_show() {
	q_json=$(vmqt_ctl -j queue show "$DEV" | vmqt_json 'j["queues"]')
	expect='[{"dev":"D","id":0,"txq":7},{"dev":"D","id":1,"name":"web1-tx","txq":1,"vm":"web1"},{"dev":"D","id":2,"txq":2,"vm":"web2"},{"dev":"D","id":10,"group":1,"name":"a-tx","vm":"vm-a"},{"dev":"D","id":11,"group":1,"vm":"vm-b"},{"dev":"D","id":300,"name":"db-tx","txq":3},{"dev":"D","id":4095,"txq":0}]'
	expect=${expect//\"D\"/\"$DEV\"}
	sorted=$(vmqt_json 'sorted(j, key=lambda q: (q["dev"], q["id"]))' <<<"$q_json")
	vmqt_assert_eq "vmqctl -j queue show $DEV" "$(vmqt_json j <<<"$expect")" "$sorted"
	all=$(vmqt_ctl -j queue show | vmqt_json 'j["queues"]')
	vmqt_assert_eq "vmqctl -j queue show (no DEV) = queue show $DEV" "$q_json" "$all"
	one=$(vmqt_ctl -j queue show "$DEV" id 1 | vmqt_json 'j["queues"]')
	vmqt_assert_eq "vmqctl -j queue show $DEV id 1" \
		"[{\"dev\":\"$DEV\",\"id\":1,\"name\":\"web1-tx\",\"txq\":1,\"vm\":\"web1\"}]" "$one"

	text=$(vmqt_ctl queue show "$DEV")
	vmqt_assert_match "queue show (text): header" '^DEV +ID +TARGET +VM +NAME +PLACED +OWNER *$' "$(head -n 1 <<<"$text")"
	for row in "0 +txq 7 +- +-" "1 +txq 1 +web1 +web1-tx" "2 +txq 2 +web2 +-" "300 +txq 3 +- +db-tx" \
		"4095 +txq 0 +- +-" "10 +group 1 +vm-a +a-tx" "11 +group 1 +vm-b +-"; do
		# PLACED and OWNER: "-", an operator's queues all
		vmqt_assert_match "queue show (text)" "^$DEV +$row +- +- *\$" "$text"
	done
	vmqt_assert_eq "queue show (text): rows" 8 "$(wc -l <<<"$text")"
	text=$(vmqt_ctl queue show "$DEV" id 300)
	vmqt_assert_match "queue show $DEV id 300 (text)" "^$DEV +300 +txq 3 +- +db-tx +- +- *\$" "$text"
	vmqt_assert_eq "queue show $DEV id 300 (text): rows" 2 "$(wc -l <<<"$text")"
	vmqt_ok "queue show (text and -j, all or one): targets, vm and name as set"

	g_json=$(vmqt_ctl -j group show "$DEV" | vmqt_json 'j["groups"]')
	vmqt_assert_eq "vmqctl -j group show $DEV" \
		"[{\"dev\":\"$DEV\",\"id\":1,\"members\":[10,11],\"txqs\":[4,5,6]}]" "$g_json"
	text=$(vmqt_ctl group show "$DEV")
	vmqt_assert_match "group show (text)" "^$DEV +1 +4,5,6 +10,11 *\$" "$text"
	vmqt_ok "group show: group 1 over 4,5,6 with members 10,11"

	d_json=$(vmqt_ctl -j dev show "$DEV" | vmqt_json 'j["devs"]')
	vmqt_assert_eq "vmqctl -j dev show $DEV: devices" 1 "$(vmqt_json 'len(j)' <<<"$d_json")"
	d=$(vmqt_json 'j[0]' <<<"$d_json")
	ifindex=$(vmqt_in "$HNS" cat "/sys/class/net/$DEV/ifindex")
	for kv in "dev=$DEV" "ifindex=$ifindex" "txqs=8" "queues=4096" "mark_mask=65535" \
		"default_txq=$DEFAULT_TXQ" "attached=true" "hook=$MODE" "clsact_created=$CREATED" "xps_cleared=0" \
		"pin_dir=$PINS/$DEV" "live_queues=6" "groups=1"; do
		k=${kv%%=*}
		vmqt_assert_eq "dev show -j: $k" "${kv#*=}" "$(vmqt_json "j[\"$k\"]" <<<"$d")"
	done
	text=$(vmqt_ctl dev show)
	vmqt_assert_match "dev show (text)" "^$DEV +8 +4096 +0xffff +$DEFAULT_TXQ +yes +6 +1 +- +off *\$" "$text"
	vmqt_ok "dev show: 8 TX queues, 4096 IDs, default txq $DEFAULT_TXQ, attached, 6 live queues, 1 group"
}

# --- queue set ---------------------------------------------------------------
vmqt_case queue_set queue_add groups
case_queue_set() {
	vmqt_ctl queue set "$DEV" id 1 txq 6 >/dev/null
	vmqt_send "queue 1 after set txq 6" 1 "$N" "$FLOWS"
	vmqt_assert_on_txq "queue 1 after set txq 6" 6 "$N"
	vmqt_ctl queue set "$DEV" id 2 group 1 >/dev/null
	vmqt_send "queue 2 after set group 1" 2 $((GFLOWS * 5)) "$GFLOWS"
	vmqt_assert_within "queue 2 after set group 1" "4 5 6" $((GFLOWS * 5)) 2
	vmqt_ctl queue set "$DEV" id 10 txq 3 >/dev/null
	vmqt_send "queue 10 after set txq 3 (out of group 1)" 10 "$N" "$FLOWS"
	vmqt_assert_on_txq "queue 10 after set txq 3 (out of group 1)" 3 "$N"
	vmqt_ctl queue set "$DEV" id 0 txq 5 >/dev/null
	vmqt_send "unmarked after queue set 0 txq 5" - "$N" "$FLOWS"
	vmqt_assert_on_txq "unmarked after queue set 0 txq 5" 5 "$N"
	vmqt_ctl queue set "$DEV" id 0 txq "$DEFAULT_TXQ" >/dev/null
	g_json=$(vmqt_ctl -j group show "$DEV" | vmqt_json 'j["groups"]')
	vmqt_assert_eq "group show after the moves" \
		"[{\"dev\":\"$DEV\",\"id\":1,\"members\":[2,11],\"txqs\":[4,5,6]}]" "$g_json"
	one=$(vmqt_ctl -j queue show "$DEV" id 1 | vmqt_json 'j["queues"]')
	vmqt_assert_eq "queue 1 after set: target moved, vm and name kept" \
		"[{\"dev\":\"$DEV\",\"id\":1,\"name\":\"web1-tx\",\"txq\":6,\"vm\":\"web1\"}]" "$one"
	vmqt_ok "queue set moved traffic: 1 -> txq 6, 2 -> group 1, 10 -> txq 3, 0 -> txq 5 and back; metadata kept"
}

# --- queue del: fallback to the default queue ------------------------------------
vmqt_case queue_del queue_add groups
case_queue_del() {
	stats0=$(vmqt_ctl -j stats "$DEV")
	vmqt_ctl queue del "$DEV" id 300 >/dev/null
	vmqt_ctl queue del "$DEV" id 11 >/dev/null
	vmqt_send "queue 300 after del" 300 "$N" "$FLOWS"
	vmqt_assert_on_txq "queue 300 after del -> default txq $DEFAULT_TXQ" "$DEFAULT_TXQ" "$N"
	vmqt_send "queue 11 (group member) after del" 11 "$N" "$FLOWS"
	vmqt_assert_on_txq "queue 11 after del -> default txq $DEFAULT_TXQ" "$DEFAULT_TXQ" "$N"
	vmqt_send "queue 77 (never added)" 77 "$N" "$FLOWS"
	vmqt_assert_on_txq "queue 77 (never added) -> default txq $DEFAULT_TXQ" "$DEFAULT_TXQ" "$N"
	stats1=$(vmqt_ctl -j stats "$DEV")
	# Counter differences across the deletes, from vmqctl stats -j.
	sdiff() { # EXPR over the dev's stats object s
		printf '%s\n%s\n' "$stats0" "$stats1" | "$VMQT_PY" -c '
import json, sys
a, b = (json.loads(l)["devs"][0] for l in sys.stdin.read().splitlines())
def q(s, i, k):
    return sum(x[k] for x in s["queues"] if x["id"] == i)
def fb(s, r): return s["fallbacks"][r]["packets"]
print(eval(sys.argv[1]))' "$1"
	}
	vmqt_assert_eq "stats: fallbacks.not_live packets added by the deleted/unknown IDs" $((3 * N)) \
		"$(sdiff 'fb(b,"not_live") - fb(a,"not_live")')"
	vmqt_assert_eq "stats: fallbacks.beyond_map unchanged" 0 "$(sdiff 'fb(b,"beyond_map") - fb(a,"beyond_map")')"
	vmqt_assert_eq "stats: fallbacks.bad_group unchanged" 0 "$(sdiff 'fb(b,"bad_group") - fb(a,"bad_group")')"
	for id in 300 11 77; do
		vmqt_assert_eq "stats: queue $id fallback_packets after del" "$N" \
			"$(sdiff "q(b,$id,'fallback_packets') - q(a,$id,'fallback_packets')")"
		vmqt_assert_eq "stats: queue $id packets after del (not steered)" 0 \
			"$(sdiff "q(b,$id,'packets') - q(a,$id,'packets')")"
	done
	vmqt_assert_eq "stats: txq $DEFAULT_TXQ packets added" $((3 * N)) \
		"$(sdiff "sum(t['kernel']['packets'] for t in b['txqs'] if t['txq'] == $DEFAULT_TXQ) - sum(t['kernel']['packets'] for t in a['txqs'] if t['txq'] == $DEFAULT_TXQ)")"
	after=$(vmqt_ctl -j queue show "$DEV" | vmqt_json '[q["id"] for q in j["queues"]]')
	vmqt_assert_eq "queue IDs after del" "[0,1,2,10,4095]" "$after"
	vmqt_ctl_fails queue show "$DEV" id 300
	vmqt_assert_one_error "queue show of a deleted queue" "queue 300 on $DEV: does not exist"
	vmqt_ok "queue del 300 and 11 (and unknown 77): $N each on the default txq $DEFAULT_TXQ; stats -j: not_live +$((3 * N)), per-queue fallback_packets +$N"
}

# --- end to end: nothing lost, both counters agree ----------------------------------
vmqt_case end_to_end attach
case_end_to_end() {
	final=$(vmqt_txq_counts "$HNS" "$DEV" "$NQ")
	read -r -a f <<<"$final"
	stats=$(vmqt_ctl -j stats "$DEV")
	for ((q = 0; q < NQ; q++)); do
		vmqt_assert_eq "mq packets on TX queue $q vs sum of the steps" "${VMQT_TXQ_TOTAL[q]}" "${f[q]}"
		got=$(vmqt_json "sum(t['kernel']['packets'] for t in j['devs'][0]['txqs'] if t['txq'] == $q)" <<<"$stats")
		vmqt_assert_eq "vmqctl stats txq $q packets vs mq class 1:$(printf %x $((q + 1)))" "${f[q]}" "$got"
	done
	tx=$(vmqt_dev_stat "$HNS" "$DEV" tx_packets)
	vmqt_assert_eq "tx_packets of $DEV (everything the test sent, nothing else)" "$VMQT_SENT_TOTAL" "$tx"
	rx=$(vmqt_dev_stat "$VMQT_WIRE_NS" "$VMQT_WIRE_DEV" rx_packets)
	vmqt_assert_eq "rx_packets of $VMQT_WIRE_DEV (nothing lost)" "$VMQT_SENT_TOTAL" "$rx"
	drops=$(vmqt_dev_stat "$HNS" "$DEV" tx_dropped)
	vmqt_assert_eq "tx_dropped of $DEV" 0 "$drops"
	vmqt_ok "end to end: $VMQT_SENT_TOTAL sent, $rx received, 0 dropped; per TX queue mq = vmqctl stats = expected ($final)"
}

# --- detach --------------------------------------------------------------------
vmqt_case detach attach
case_detach() {
	vmqt_ctl dev detach "$DEV" >/dev/null
	devs=$(vmqt_ctl -j dev show | vmqt_json 'j["devs"]')
	vmqt_assert_eq "dev show after detach" "[]" "$devs"
	qdiscs=$(vmqt_in "$HNS" tc qdisc show dev "$DEV")
	if grep -q clsact <<<"$qdiscs"; then
		vmqt_fail "clsact (created by attach) still on $DEV after detach:$(printf '\n%s' "$qdiscs" | sed 's/^/   | /')"
	fi
	[ ! -e "$PINS/$DEV" ] || vmqt_fail "pins of $DEV still there after detach: $(ls -R "$PINS/$DEV")"
	vmqt_assert_unhooked "after detach" "$HNS" "$DEV" egress vmq_tx_egress
	vmqt_ok "dev detach: no device, no clsact (it created it if any), no tcx link, no filter, no pins"
}

vmqt_cases "$@"
