#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# `vmqctl dev detach` undoes exactly what `dev attach` did, and nothing else.
#
# Case 1, a bare uplink with XPS set by the user on some TX queues
# (xps_cpus and xps_rxqs): attach clears XPS (it outranks vmq's choice) and
# traffic steers; detach restores every XPS file byte for byte, and leaves
# the qdiscs as found (`tc qdisc show`), no clsact, no filter, no pins, and
# the program freed.
#
# Case 2, an uplink that already had a clsact qdisc with the user's own
# filters (bpf on ingress, u32 on egress at another pref): attach adds
# its filter beside them (the user's egress filter still sees every packet
# after vmq's), detach removes only vmq's: clsact and the user's filters
# stay, exactly as they were.
#
# Cases (tests/run.sh test_vmqd_detach CASE...): attach_clears_xps,
# detach_restores_xps (needs it); attach_beside_user_filters,
# detach_keeps_user_filters (needs it).
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
vmqt_init bpftool
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl" "$BUILD/tests/vmq-udpsend"

N=100
FLOWS=4

vmqt_vmqd_setup

diag() {
	vmqt_vmqd_diag "$VMQT_SOCK"
	echo "XPS on $DEV:"
	ip netns exec "$HNS" sh -c 'grep -H . /sys/class/net/$1/queues/tx-*/xps_*' sh "$DEV" 2>&1 | sed 's/^/  /'
	echo "pins:"
	ls -lR "$VMQT_BPFFS" 2>&1 | sed 's/^/  /'
}
VMQT_DIAG_FN=diag

# xps_dump: every TX queue's xps_cpus and xps_rxqs, "tx-N/file:value" lines.
xps_dump() {
	vmqt_in "$HNS" sh -ec 'cd /sys/class/net/"$1"/queues
		for q in tx-*; do for f in xps_cpus xps_rxqs; do
			printf "%s/%s:%s\n" "$q" "$f" "$(cat "$q/$f")"
		done; done' sh "$DEV"
}
xps_set() { # TXQ FILE VALUE
	vmqt_in "$HNS" sh -ec 'echo "$3" >/sys/class/net/"$1"/queues/tx-"$2"/"$4"' sh "$DEV" "$1" "$3" "$2"
}
# tc_state: qdiscs, both tcx chains, and the filters of both clsact hooks,
# when there is one.
tc_state() {
	local qd
	qd=$(vmqt_in "$HNS" tc qdisc show dev "$DEV")
	printf 'qdiscs:\n%s\n' "$qd"
	printf 'tcx ingress:\n%s\ntcx egress:\n%s\n' \
		"$(vmqt_in "$HNS" "$BUILD/tests/vmq-tcx" query "$DEV" ingress)" \
		"$(vmqt_in "$HNS" "$BUILD/tests/vmq-tcx" query "$DEV" egress)"
	if grep -q '^qdisc clsact' <<<"$qd"; then
		printf 'ingress:\n%s\negress:\n%s\n' \
			"$(vmqt_in "$HNS" tc filter show dev "$DEV" ingress)" \
			"$(vmqt_in "$HNS" tc filter show dev "$DEV" egress)"
	fi
}
user_pkts() { # packets seen by the user's egress filter (its mirred action)
	local s
	s=$(vmqt_in "$HNS" tc -s filter show dev "$DEV" egress pref 100)
	s=$(awk '$1 == "Sent" && $3 == "bytes" && $5 == "pkt" { print $4; exit }' <<<"$s")
	vmqt_uint "the user's filter's action counter" "$s"
	printf '%s\n' "$s"
}
# vmq_prog_id: the id of the program vmq attached (tcx link or clsact filter).
vmq_prog_id() {
	local id
	id=$(vmqt_assert_hooked "vmq's program" "$HNS" "$DEV" egress vmq_tx_egress)
	vmqt_uint "id of vmq_tx_egress" "$id"
	printf '%s\n' "$id"
}
assert_xps_clear() { # XPS_DUMP
	local line
	while IFS= read -r line; do
		[[ $line =~ :0+(,0+)*$ ]] || vmqt_fail "XPS after attach: expected every file to read 0, got '$line'"
	done <<<"$1"
}
assert_same() { # WHAT BEFORE AFTER
	[ "$2" = "$3" ] || vmqt_fail "$1 differs:$(diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | sed 's/^/   | /')"
}
# check_steering WHAT: queue 1 -> txq 2, queue 2 -> txq 3, unmarked -> txq 6.
check_steering() {
	vmqt_send "$1: queue 1" 1 "$N" "$FLOWS"
	vmqt_assert_on_txq "$1: queue 1" 2 "$N"
	vmqt_send "$1: queue 2" 2 "$N" "$FLOWS"
	vmqt_assert_on_txq "$1: queue 2" 3 "$N"
	vmqt_send "$1: unmarked" - "$N" "$FLOWS"
	vmqt_assert_on_txq "$1: unmarked" 6 "$N"
}
# check_detached_clean WHAT PROG_ID: no pins, vmqd forgot DEV, the program
# is gone from the kernel.
check_detached_clean() {
	local devs i
	[ ! -e "$PINS/$DEV" ] || vmqt_fail "$1: pins of $DEV still there: $(ls -R "$PINS/$DEV" | tr '\n' ' ')"
	devs=$(vmqt_ctl -j dev show | vmqt_json 'j["devs"]')
	vmqt_assert_eq "$1: vmqctl dev show" "[]" "$devs"
	for i in $(seq 50); do # freeing a program is deferred (RCU)
		bpftool prog show id "$2" >/dev/null 2>&1 || return 0
		sleep 0.1
	done
	vmqt_fail "$1: program id $2 (vmq_tx_egress) still loaded 5 s after detach: $(bpftool prog show id "$2")"
}

vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"
# XPS and tc as found before an attach, for the detach after it.
xps0="" tc0=""
VMQT_CASE_KEEP+=(xps0 tc0)

# --- case 1: XPS set, no clsact -------------------------------------------------
vmqt_case attach_clears_xps
case_attach_clears_xps() {
	xps_set 2 xps_cpus 1
	xps_set 3 xps_cpus 3
	xps_set 4 xps_rxqs 5
	xps_set 5 xps_rxqs ff
	xps_set 5 xps_cpus 2
	xps0=$(xps_dump)
	vmqt_assert_match "XPS as set by the test" 'tx-2/xps_cpus:0*1$' "$xps0"
	vmqt_assert_match "XPS as set by the test" 'tx-4/xps_rxqs:0*5$' "$xps0"
	tc0=$(tc_state)
	vmqt_log "XPS before attach: $(grep -vE ':0+(,0+)*$' <<<"$xps0" | tr '\n' ' ')"

	vmqt_ctl dev attach "$DEV" default-txq 6 >/dev/null
	vmqt_ctl queue add "$DEV" id 1 txq 2 >/dev/null
	vmqt_ctl queue add "$DEV" id 2 txq 3 >/dev/null
	xps1=$(xps_dump)
	assert_xps_clear "$xps1"
	cleared=$(vmqt_ctl -j dev show "$DEV" | vmqt_json 'j["devs"][0]["xps_cleared"]')
	vmqt_assert_eq "dev show xps_cleared (TX queues 2, 3, 4, 5 had XPS)" 4 "$cleared"
	vmqt_ok "attach cleared XPS on every TX queue (dev show: xps_cleared $cleared)"
	check_steering "case 1, attached"
	vmqt_ok "case 1: traffic steers with XPS cleared (queue 1 -> txq 2, queue 2 -> txq 3, unmarked -> txq 6)"
}

vmqt_case detach_restores_xps attach_clears_xps
case_detach_restores_xps() {
	prog=$(vmq_prog_id)
	vmqt_ctl dev detach "$DEV" >/dev/null
	assert_same "XPS after detach vs before attach" "$xps0" "$(xps_dump)"
	tc1=$(tc_state)
	assert_same "tc qdiscs (and filters) after detach vs before attach" "$tc0" "$tc1"
	check_detached_clean "case 1" "$prog"
	vmqt_ok "case 1: detach restored XPS exactly and left qdiscs as found (mq, no clsact), no pins, program $prog freed"
}

# --- case 2: the user's clsact and filters -----------------------------------------
vmqt_case attach_beside_user_filters
case_attach_beside_user_filters() {
	# Case 1's attach, if its detach failed (best effort): case 2 starts bare.
	"$BUILD/vmqctl" -s "$VMQT_SOCK" dev detach "$DEV" >/dev/null 2>&1 || true
	# This kernel has u32 and bpf classifiers and the mirred action (no
	# matchall, no gact): the user's egress filter mirrors every packet to lo
	# (up, so the copies are simply dropped there), and its action counts them.
	vmqt_in "$HNS" ip link set dev lo up
	vmqt_in "$HNS" tc qdisc add dev "$DEV" clsact
	vmqt_in "$HNS" tc filter add dev "$DEV" ingress pref 10 bpf bytecode '1,6 0 0 4294967295,'
	vmqt_in "$HNS" tc filter add dev "$DEV" egress pref 100 u32 match u32 0 0 \
		action mirred egress mirror dev lo
	tc0=$(tc_state)
	xps0=$(xps_dump)
	vmqt_assert_match "the user's egress filter" 'filter protocol all pref 100 u32' "$tc0"
	vmqt_assert_match "the user's ingress filter" 'filter protocol all pref 10 bpf' "$tc0"

	vmqt_ctl dev attach "$DEV" default-txq 6 >/dev/null
	vmqt_ctl queue add "$DEV" id 1 txq 2 >/dev/null
	vmqt_ctl queue add "$DEV" id 2 txq 3 >/dev/null
	assert_xps_clear "$(xps_dump)"
	created=$(vmqt_ctl -j dev show "$DEV" | vmqt_json 'j["devs"][0]["clsact_created"]')
	vmqt_assert_eq "dev show clsact_created (the user's clsact was there)" false "$created"
	vmqt_assert_hooked "egress after attach: vmq's" "$HNS" "$DEV" egress vmq_tx_egress >/dev/null
	egress=$(vmqt_in "$HNS" tc filter show dev "$DEV" egress)
	vmqt_assert_match "egress filters after attach: the user's" 'pref 100 u32' "$egress"
	seen0=$(user_pkts)
	check_steering "case 2, attached"
	seen1=$(user_pkts)
	vmqt_assert_eq "packets seen by the user's egress u32 filter (after vmq's filter)" $((3 * N)) $((seen1 - seen0))
	vmqt_ok "case 2: steering works beside the user's filters; the user's egress filter (pref 100) still saw all $((3 * N))"
}

vmqt_case detach_keeps_user_filters attach_beside_user_filters
case_detach_keeps_user_filters() {
	prog=$(vmq_prog_id)
	vmqt_ctl dev detach "$DEV" >/dev/null
	tc1=$(tc_state)
	assert_same "clsact and the user's filters after detach vs before attach" "$tc0" "$tc1"
	assert_same "XPS after detach vs before attach" "$xps0" "$(xps_dump)"
	check_detached_clean "case 2" "$prog"
	vmqt_ok "case 2: detach removed only vmq's filter: clsact, ingress pref 10 bpf and egress pref 100 u32 kept as they were"
}

vmqt_cases "$@"
