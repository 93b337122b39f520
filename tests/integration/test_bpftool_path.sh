#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The bpftool path, exactly as the README documents it: no vmq binary, only
# bpftool, tc and the BPF object.
#
#   bpftool prog loadall build/vmq_tx.bpf.o DIR type classifier pinmaps DIR/maps
#   tc qdisc add dev DEV clsact
#   tc filter add dev DEV egress bpf da pinned DIR/vmq_tx_egress
#   bpftool map update pinned DIR/maps/vmq_queues key <id, 4 bytes LE> \
#           value <state, 2 bytes LE> <target, 2 bytes LE>
#
# Then real UDP traffic, marked with SO_MARK in the namespace that owns the
# uplink (a mark does not survive a namespace crossing), must leave on the
# TX queue of its queue ID, or on the default queue's TX queue when the ID
# is not live; nothing lost, counted by mq per TX queue and by the program
# per queue ID. Only vmq_queues is written: the program's per-CPU copies of
# the entries stay unwritten (free), and a free copy defers to vmq_queues.
#
# Cases (tests/run.sh test_bpftool_path CASE...): load; tc_attach and
# queue_map (need load); steered (needs both); fallbacks (needs steered);
# totals and counters (need fallbacks); adopt (needs tc_attach, queue_map).
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
vmqt_init bpftool stat

OBJ=$BUILD/vmq_tx.bpf.o
SEND=$BUILD/tests/vmq-udpsend
vmqt_need_file "$OBJ" "$SEND"

N=200            # datagrams per case
FLOWS=4          # sockets per case, distinct source ports
DEFAULT_TXQ=7    # queue 0's TX queue: distinctive, so fallbacks show

vmqt_veth_pair 8
NQ=$VMQT_NTXQ
HNS=$VMQT_HOST_NS
DEV=$VMQT_HOST_DEV
vmqt_bpffs_mount
DIR=$VMQT_BPFFS/vmq/$DEV # vmqd's layout: a vmqd on $VMQT_BPFFS/vmq adopts it
MAPS=$DIR/maps
mkdir -p "$DIR"

diag() {
	echo "tc -s class show dev $DEV:"
	tc -n "$HNS" -s class show dev "$DEV" | sed 's/^/  /'
	echo "tc filter show dev $DEV egress:"
	tc -n "$HNS" filter show dev "$DEV" egress | sed 's/^/  /'
	echo "pins:"
	ls -lR "$VMQT_BPFFS" 2>&1 | sed 's/^/  /'
	echo "vmq_fallbacks:"
	bpftool map dump pinned "$MAPS/vmq_fallbacks" 2>&1 | sed 's/^/  /'
	echo "XPS on $DEV:"
	ip netns exec "$HNS" sh -c 'grep -H . /sys/class/net/$1/queues/tx-*/xps_*' sh "$DEV" 2>&1 |
		sed 's/^/  /'
}
VMQT_DIAG_FN=diag

# What the cases hand on: the map's size and the packets expected per TX queue.
QSIZE=""
VMQT_CASE_KEEP+=(QSIZE EXPECT_TOTAL)

# --- load and pin with bpftool ------------------------------------------
vmqt_case load
case_load() {
	vmqt_run bpftool prog loadall "$OBJ" "$DIR" type classifier pinmaps "$MAPS" >/dev/null
	vmqt_assert_file "pinned program" "$DIR/vmq_tx_egress"
	for m in vmq_queues vmq_groups vmq_queue_stats vmq_fallbacks vmq_dev_info; do
		vmqt_assert_file "pinned map" "$MAPS/$m"
	done
	out=$(vmqt_run bpftool prog show pinned "$DIR/vmq_tx_egress")
	vmqt_assert_match "bpftool prog show" '^[0-9]+: sched_cls +name vmq_tx_egress ' "$out"
	out=$(vmqt_run bpftool map show pinned "$MAPS/vmq_queues")
	QSIZE=$(printf '%s\n' "$out" | sed -n 's/.*max_entries \([0-9][0-9]*\).*/\1/p')
	vmqt_uint "vmq_queues max_entries" "$QSIZE"
	vmqt_ok "bpftool prog loadall pinned vmq_tx_egress and its maps (vmq_queues: $QSIZE entries)"
}

# --- attach with tc, in the namespace that owns the uplink ----------------
vmqt_case tc_attach load
case_tc_attach() {
	vmqt_in "$HNS" tc qdisc add dev "$DEV" clsact
	vmqt_in "$HNS" tc filter add dev "$DEV" egress bpf da pinned "$DIR/vmq_tx_egress"
	out=$(vmqt_in "$HNS" tc filter show dev "$DEV" egress)
	vmqt_assert_match "tc filter show egress" 'bpf .*vmq_tx_egress.* direct-action' "$out"
	vmqt_ok "tc filter attached: $(printf '%s\n' "$out" | grep -o 'vmq_tx_egress.*direct-action')"
}

# --- queues --------------------------------------------------------------
STATE_FREE=0
STATE_TXQ=1
set_queue() { # ID STATE TARGET
	# shellcheck disable=SC2046
	vmqt_run bpftool map update pinned "$MAPS/vmq_queues" key $(vmqt_le32 "$1") \
		value $(vmqt_le16 "$2") $(vmqt_le16 "$3") >/dev/null
}
vmqt_case queue_map load
case_queue_map() {
	set_queue 0 $STATE_TXQ $DEFAULT_TXQ
	set_queue 1 $STATE_TXQ 1
	set_queue 2 $STATE_TXQ 5
	set_queue 300 $STATE_TXQ 3
	set_queue 9 $STATE_TXQ 2 # freed later

	# The dump shows the value's named fields (BTF).
	dump=$(vmqt_run bpftool map dump pinned "$MAPS/vmq_queues")
	flat=$(printf '%s' "$dump" | tr -d ' \n\t')
	for e in '{"key":0,"value":{"state":1,"target":'"$DEFAULT_TXQ"'}}' '{"key":300,"value":{"state":1,"target":3}}' \
		'{"key":77,"value":{"state":0,"target":0}}'; do
		case $flat in
		*"$e"*) ;;
		*) vmqt_fail "bpftool map dump vmq_queues: no entry $e in: $(sed -n 1,30p <<<"$dump")" ;;
		esac
	done
	vmqt_ok 'bpftool map dump vmq_queues shows named fields: {"key":300,"value":{"state":1,"target":3}}'
}

# --- traffic ---------------------------------------------------------------
declare -a EXPECT_TOTAL
for ((q = 0; q < NQ; q++)); do EXPECT_TOTAL[q]=0; done

# send_case WHAT MARK|- EXPECTED_TXQ: N datagrams over FLOWS flows from the
# host namespace (lib.sh's vmqt_send: all must leave and reach the wire
# side); all of them must leave on EXPECTED_TXQ.
send_case() {
	local what=$1 mark=$2 want=$3
	vmqt_send "$what" "$mark" "$N" "$FLOWS"
	vmqt_assert_on_txq "$what" "$want" "$N"
	EXPECT_TOTAL[want]=$((EXPECT_TOTAL[want] + N))
	vmqt_ok "$what: $N/$N on TX queue $want, $N received"
}

vmqt_case steered tc_attach queue_map
case_steered() {
	send_case "ID 1 -> txq 1" 1 1
	send_case "ID 2 -> txq 5" 2 5
	send_case "ID 300 -> txq 3" 300 3
	send_case "mark 0x12340002 (ID 2, other mark bits set) -> txq 5" 0x12340002 5
	send_case "ID 9 (live) -> txq 2" 9 2
}

vmqt_case fallbacks steered
case_fallbacks() {
	BEYOND=5000
	[ "$BEYOND" -ge "$QSIZE" ] || BEYOND=$QSIZE
	[ "$BEYOND" -le 65535 ] || vmqt_fail "vmq_queues has $QSIZE entries: no 16-bit ID lies beyond it"
	set_queue 9 $STATE_FREE 2
	send_case "ID 9 (freed) -> default txq $DEFAULT_TXQ" 9 "$DEFAULT_TXQ"
	send_case "ID 77 (never allocated) -> default txq $DEFAULT_TXQ" 77 "$DEFAULT_TXQ"
	send_case "ID $BEYOND (beyond the $QSIZE-entry map) -> default txq $DEFAULT_TXQ" "$BEYOND" "$DEFAULT_TXQ"
	send_case "no mark (ID 0, the default queue) -> txq $DEFAULT_TXQ" - "$DEFAULT_TXQ"
}

# --- totals: nothing else left, nothing lost, the program agrees ------------
vmqt_case totals steered fallbacks
case_totals() {
	final=$(vmqt_txq_counts "$HNS" "$DEV" "$NQ")
	read -r -a f <<<"$final"
	for ((q = 0; q < NQ; q++)); do
		vmqt_assert_eq "total packets on TX queue $q (mq)" "${EXPECT_TOTAL[q]}" "${f[q]}"
	done
	got=$(vmqt_percpu_sum "$MAPS/vmq_fallbacks" 3 packets)
	vmqt_assert_eq "vmq_fallbacks[3] (left to the kernel's choice)" 0 "$got"
	tx=$(vmqt_dev_stat "$HNS" "$DEV" tx_packets)
	vmqt_assert_eq "tx_packets of $DEV since it came up (any stray ARP/IPv6 would show)" \
		"$VMQT_SENT_TOTAL" "$tx"
	vmqt_ok "per-TX-queue totals: mq = expected ($final); $DEV sent $tx, all from the test"
}

vmqt_case counters steered fallbacks
case_counters() {
	vmqt_assert_eq "vmq_fallbacks[not live]" $((2 * N)) "$(vmqt_percpu_sum "$MAPS/vmq_fallbacks" 0 packets)"
	vmqt_assert_eq "vmq_fallbacks[beyond map]" "$N" "$(vmqt_percpu_sum "$MAPS/vmq_fallbacks" 1 packets)"
	vmqt_assert_eq "vmq_fallbacks[bad group]" 0 "$(vmqt_percpu_sum "$MAPS/vmq_fallbacks" 2 packets)"
	vmqt_assert_eq "vmq_queue_stats[300].packets" "$N" "$(vmqt_percpu_sum "$MAPS/vmq_queue_stats" 300 packets)"
	vmqt_assert_eq "vmq_queue_stats[2].packets" $((2 * N)) "$(vmqt_percpu_sum "$MAPS/vmq_queue_stats" 2 packets)"
	vmqt_assert_eq "vmq_queue_stats[9].packets (while live)" "$N" "$(vmqt_percpu_sum "$MAPS/vmq_queue_stats" 9 packets)"
	vmqt_assert_eq "vmq_queue_stats[9].fallback_packets (after free)" "$N" \
		"$(vmqt_percpu_sum "$MAPS/vmq_queue_stats" 9 fallback_packets)"
	vmqt_assert_eq "vmq_queue_stats[77].fallback_packets" "$N" \
		"$(vmqt_percpu_sum "$MAPS/vmq_queue_stats" 77 fallback_packets)"
	vmqt_assert_eq "vmq_queue_stats[0].packets (unmarked)" "$N" "$(vmqt_percpu_sum "$MAPS/vmq_queue_stats" 0 packets)"
	vmqt_ok "fallback and per-queue counters match: $((2 * N)) not live, $N beyond the map"
}

# --- a vmqd adopts the bpftool-loaded instance -----------------------------
# In whatever mode vmqd would attach itself: what bpftool and tc made is a
# clsact filter, and stays one (no tcx link is made beside it).
vmqt_case adopt tc_attach queue_map
case_adopt() {
	VMQT_SOCK=$VMQT_TMP/vmqd.sock
	vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$(dirname "$DIR")"
	show=$(vmqt_ctl -j dev show "$DEV")
	vmqt_assert_eq "adopted: dev show hook" clsact "$(vmqt_json 'j["devs"][0]["hook"]' <<<"$show")"
	vmqt_assert_eq "adopted: queue 300" '{"dev":"'"$DEV"'","id":300,"txq":3}' \
		"$(vmqt_ctl -j queue show "$DEV" id 300 | vmqt_json 'j["queues"][0]')"
	vmqt_ctl queue set "$DEV" id 300 txq 4 >/dev/null
	vmqt_send "ID 300 moved by the adopting vmqd" 300 "$N" "$FLOWS"
	vmqt_assert_on_txq "ID 300 moved by the adopting vmqd" 4 "$N"
	vmqt_assert_eq "tcx egress chain of $DEV" "" "$(vmqt_in "$HNS" "$BUILD/tests/vmq-tcx" query "$DEV" egress)"
	vmqt_assert_match "tc filter show egress after adoption" 'vmq_tx_egress.* direct-action' \
		"$(vmqt_in "$HNS" tc filter show dev "$DEV" egress)"
	vmqt_ok "a vmqd on $(dirname "$DIR") adopted it: hook clsact, queue 300 moved to txq 4 and steered there, no tcx link added"
}

vmqt_cases "$@"
