#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Upgrading the data plane in place (vmqctl dev upgrade, vmqd adoption):
#   1. tcx -> tcx: under 5,000 pps of numbered datagrams on 4 queues (each
#      on its own TX queue), vmq_tx is swapped for the variant build
#      (build/tests/vmq_tx_variant.bpf.o, another tag) with bpf_link_update,
#      and back. Every datagram arrives (each number once), each TX queue
#      counts exactly its queue's datagrams, the pinned program changes,
#      the link stays the same, vmq's counters carry on (maps kept).
#   2. clsact -> tcx: attached with VMQ_TC_MODE=clsact, adopted by a vmqd
#      without it (still clsact), then upgraded under the same traffic:
#      same exact figures, hook tcx, no vmq clsact filter (the clsact
#      qdisc vmq made goes at detach).
#   3. A vmqd restarted with --bpf-object (the variant) upgrades what it
#      adopts, and steering goes on.
#   4. Maps of an unknown ABI version (a bogus vmq_dev_info.abi_version):
#      dev upgrade is refused naming both versions; a restarted vmqd leaves
#      the uplink alone (not adopted, still steering); with the version
#      put back, it adopts it again.
#   6. Maps of ABI version 1 (a frozen copy of that build's vmq_tx,
#      build/tests/vmq_tx_v1.bpf.o: per-TX-queue counters, no per-CPU copy
#      of the entries), loaded with bpftool and attached with tc as a v1
#      vmqd would have: it steers and counts; a vmqd started mid-traffic
#      migrates the maps to version 2 and swaps the program on the same
#      clsact filter. Every datagram arrives once on its queue's TX queue,
#      the counters are carried over, vmq_txq_stats is unpinned.
#
# Cases (tests/run.sh test_vmqd_upgrade CASE...), each needing the one
# before it: tcx_swap (1), clsact_to_tcx (2), bpf_object_on_adoption (3),
# unknown_abi_refused (4), root_only_object (5), detach_after_upgrades;
# abi_v1_steers (standing alone), abi_v1_migrated (6),
# detach_after_migration.
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
vmqt_init bpftool
vmqt_need_python
VARIANT=$BUILD/tests/vmq_tx_variant.bpf.o
V1=$BUILD/tests/vmq_tx_v1.bpf.o
RX=$VMQT_ROOT/tests/tools/guest_rx.py
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl" "$BUILD/tests/vmq-udpsend" "$BUILD/tests/vmq-tcx" \
	"$VARIANT" "$V1" "$RX"

RATE=1250   # per queue: 4 queues, 5,000 datagrams per second in all
COUNT=3750  # per queue: 3 s
QUEUES="1 2 3 4" # queue Q on TX queue Q

vmqt_vmqd_setup
NQ=$VMQT_NTXQ

prog_id() { # the pinned program's ID
	vmqt_run bpftool -j prog show pinned "$PINS/$DEV/vmq_tx_egress" | vmqt_json 'j["id"]'
}
link_json() { # the pinned tcx link: {"id", "prog_id"}
	vmqt_run bpftool -j link show pinned "$PINS/$DEV/vmq_tx_link" |
		vmqt_json '{"id": j["id"], "prog_id": j["prog_id"]}'
}
dev_field() { # FIELD of dev show DEV
	vmqt_ctl -j dev show "$DEV" | vmqt_json "j[\"devs\"][0][\"$1\"]"
}

# --- traffic: 4 numbered streams, received and checked on the wire side ---
RUN=0
declare -a SENDERS
traffic_start() { # LABEL: starts the receiver and the 4 senders
	local q
	RUN=$((RUN + 1))
	LABEL=$1
	RX_OUT=$VMQT_TMP/rx-$RUN.json
	RX_PORT=$((5000 + RUN))
	vmqt_bg "$VMQT_WIRE_NS" "$VMQT_PY" "$RX" "$RX_PORT" "$RX_OUT"
	RX_PID=$VMQT_BG_PID
	for _ in $(seq 50); do [ -e "$RX_OUT" ] && break; sleep 0.1; done
	vmqt_assert_file "$LABEL: the receiver's output" "$RX_OUT"
	T_START=$(vmqt_txq_counts "$HNS" "$DEV" "$NQ")
	RX_START=$(vmqt_dev_stat "$VMQT_WIRE_NS" "$VMQT_WIRE_DEV" rx_packets)
	SENDERS=()
	for q in $QUEUES; do
		ip netns exec "$HNS" "$BUILD/tests/vmq-udpsend" --dst "$VMQT_WIRE_IP" --port "$RX_PORT" \
			--count "$COUNT" --rate "$RATE" --mark "$q" --tag "$LABEL-q$q" \
			--src-port-base $((40000 + 10 * RUN + q)) --bind-dev "$DEV" \
			>"$VMQT_TMP/send-$RUN-$q.out" 2>"$VMQT_TMP/send-$RUN-$q.err" &
		VMQT_PIDS+=("$!")
		SENDERS+=("$!")
	done
}

# Waits for the senders, then asserts: every datagram of every stream
# arrived once, each TX queue carried exactly its queue's datagrams.
traffic_check() {
	local i q rc sum rx doc want
	local -a a b d
	for i in "${!SENDERS[@]}"; do
		q=$((i + 1))
		rc=0
		wait "${SENDERS[i]}" || rc=$?
		vmqt_forget_pid "${SENDERS[i]}"
		vmqt_assert_eq "$LABEL: sender of queue $q: exit status ($(cat "$VMQT_TMP/send-$RUN-$q.err"))" 0 "$rc"
		vmqt_assert_eq "$LABEL: sender of queue $q" "sent $COUNT" "$(cat "$VMQT_TMP/send-$RUN-$q.out")"
	done
	want=$((4 * COUNT))
	for _ in $(seq 50); do
		read -r -a a <<<"$T_START"
		read -r -a b <<<"$(vmqt_txq_counts "$HNS" "$DEV" "$NQ")"
		sum=0
		for ((q = 0; q < NQ; q++)); do d[q]=$((b[q] - a[q])); sum=$((sum + d[q])); done
		rx=$(($(vmqt_dev_stat "$VMQT_WIRE_NS" "$VMQT_WIRE_DEV" rx_packets) - RX_START))
		[ "$sum" -lt "$want" ] || [ "$rx" -lt "$want" ] || break
		sleep 0.1
	done
	for ((q = 0; q < NQ; q++)); do
		if [[ " $QUEUES " == *" $q "* ]]; then
			vmqt_assert_eq "$LABEL: datagrams on TX queue $q (per queue: ${d[*]})" "$COUNT" "${d[q]}"
		else
			vmqt_assert_eq "$LABEL: datagrams on TX queue $q, no queue's (per queue: ${d[*]})" 0 "${d[q]}"
		fi
	done
	vmqt_assert_eq "$LABEL: packets received by $VMQT_WIRE_DEV" "$want" "$rx"
	sleep 0.3 # the receiver writes its file every 0.1 s
	vmqt_vmqd_kill "$RX_PID" TERM
	doc=$(cat "$RX_OUT")
	for q in $QUEUES; do
		vmqt_assert_eq "$LABEL: stream of queue $q at the receiver (count unique dups missing max)" \
			"[$COUNT,$COUNT,0,0,$((COUNT - 1))]" \
			"$(vmqt_json "[j['tags']['$LABEL-q$q'][k] for k in ('count','unique','dups','missing','max')]" <<<"$doc")"
	done
	vmqt_assert_eq "$LABEL: malformed datagrams at the receiver" 0 "$(vmqt_json 'j["bad"]' <<<"$doc")"
	TXQ_TEXT="${d[*]}"
}

INFO=$PINS/$DEV/maps/vmq_dev_info
set_abi() { # VERSION: rewrites vmq_dev_info's abi_version, the rest kept
	local v
	v=$(vmqt_run bpftool -j map lookup pinned "$INFO" key 0 0 0 0 |
		vmqt_json '" ".join(str(x) for x in [j["formatted"]["value"][k] for k in ("ifindex", "flags", "reserved")])')
	read -r -a v <<<"$v"
	# shellcheck disable=SC2046
	vmqt_run bpftool map update pinned "$INFO" key 0 0 0 0 value $(vmqt_le32 "$1") \
		$(vmqt_le32 "${v[0]}") $(vmqt_le32 "${v[1]}") $(vmqt_le32 "${v[2]}")
	vmqt_assert_eq "abi_version written" "$1" \
		"$(vmqt_run bpftool -j map lookup pinned "$INFO" key 0 0 0 0 | vmqt_json 'j["formatted"]["value"]["abi_version"]')"
}
DIR=$PINS/$DEV
MAPS=$DIR/maps
set_v1_queue() { # ID TXQ
	# shellcheck disable=SC2046
	vmqt_run bpftool map update pinned "$MAPS/vmq_queues" key $(vmqt_le32 "$1") \
		value $(vmqt_le16 1) $(vmqt_le16 "$2") >/dev/null
}

add_queues() {
	local q
	vmqt_ctl dev attach "$DEV" default-txq 7 >/dev/null
	for q in $QUEUES; do vmqt_ctl queue add "$DEV" id "$q" txq "$q" >/dev/null; done
}

# The programs the cases saw, for the cases after.
p0="" p1="" p2=""
VMQT_CASE_KEEP+=(RUN p0 p1 p2)

# --- 1. tcx -> variant -> back, under traffic --------------------------------
vmqt_case tcx_swap
case_tcx_swap() {
	vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"
	add_queues
	vmqt_assert_eq "hook after attach" tcx "$(dev_field hook)"
	p0=$(prog_id)
	l0=$(link_json)
	up=$(vmqt_ctl -j dev upgrade "$DEV")
	vmqt_assert_eq "dev upgrade to the same build" \
		"{\"dev\":\"$DEV\",\"from\":\"tcx\",\"hook\":\"tcx\",\"prog_id\":$p0,\"upgraded\":false}" \
		"$(vmqt_json '{k: j[k] for k in ("dev", "upgraded", "hook", "from", "prog_id")}' <<<"$up")"
	vmqt_assert_match "dev upgrade (text) to the same build" "dev $DEV: already current \\(program $p0, tcx\\)" \
		"$(vmqt_ctl dev upgrade "$DEV")"

	traffic_start tcx
	sleep 1
	up=$(vmqt_ctl -j dev upgrade "$DEV" object "$VARIANT")
	p1=$(prog_id)
	vmqt_assert_eq "dev upgrade to the variant" \
		"{\"dev\":\"$DEV\",\"from\":\"tcx\",\"hook\":\"tcx\",\"prog_id\":$p1,\"upgraded\":true}" \
		"$(vmqt_json '{k: j[k] for k in ("dev", "upgraded", "hook", "from", "prog_id")}' <<<"$up")"
	[ "$p1" != "$p0" ] || vmqt_fail "pinned program still $p0 after the upgrade to the variant"
	vmqt_assert_eq "the tcx link after the upgrade (same link, the new program)" \
		"$(vmqt_json "{'id': j['id'], 'prog_id': $p1}" <<<"$l0")" "$(link_json)"
	sleep 1
	vmqt_assert_match "dev upgrade (text) back to vmqd's own program" \
		"dev $DEV: upgraded: program $p1 -> [0-9]+, hook tcx -> tcx" "$(vmqt_ctl dev upgrade "$DEV")"
	p2=$(prog_id)
	[ "$p2" != "$p1" ] && [ "$p2" != "$p0" ] || vmqt_fail "pinned program $p2 after the upgrade back (before: $p0, $p1)"
	traffic_check
	vmqt_assert_eq "the tcx link after both upgrades" "$(vmqt_json "{'id': j['id'], 'prog_id': $p2}" <<<"$l0")" \
		"$(link_json)"
	stats=$(vmqt_ctl -j stats "$DEV")
	for q in $QUEUES; do
		vmqt_assert_eq "vmq's packets of queue $q across both upgrades (maps kept)" "$COUNT" \
			"$(vmqt_json "sum(x['packets'] for x in j['devs'][0]['queues'] if x['id'] == $q)" <<<"$stats")"
	done
	vmqt_ok "tcx: 2 upgrades under $((4 * COUNT)) numbered datagrams at $((4 * RATE)) pps: all received once, per TX queue $TXQ_TEXT, programs $p0 -> $p1 -> $p2 on link $(vmqt_json 'j["id"]' <<<"$l0")"
}

# --- 2. clsact -> tcx ----------------------------------------------------------------
vmqt_case clsact_to_tcx tcx_swap
case_clsact_to_tcx() {
	vmqt_ctl dev detach "$DEV" >/dev/null
	vmqt_vmqd_kill "$VMQT_VMQD_PID" TERM
	VMQ_TC_MODE=clsact vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"
	add_queues
	vmqt_vmqd_kill "$VMQT_VMQD_PID" TERM
	vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS" # no VMQ_TC_MODE: adoption keeps clsact
	vmqt_assert_eq "hook adopted from a clsact vmqd" clsact "$(dev_field hook)"
	vmqt_assert_match "vmq's clsact filter before the upgrade" "handle 0x766d71 vmq_tx_egress" \
		"$(vmqt_in "$HNS" tc filter show dev "$DEV" egress)"
	p0=$(prog_id)
	traffic_start clsact
	sleep 1.5
	up=$(vmqt_ctl -j dev upgrade "$DEV")
	p1=$(prog_id)
	vmqt_assert_eq "dev upgrade from clsact" \
		"{\"dev\":\"$DEV\",\"from\":\"clsact\",\"hook\":\"tcx\",\"prog_id\":$p1,\"upgraded\":true}" \
		"$(vmqt_json '{k: j[k] for k in ("dev", "upgraded", "hook", "from", "prog_id")}' <<<"$up")"
	traffic_check
	[ "$p1" != "$p0" ] || vmqt_fail "pinned program still $p0 after the move to tcx"
	vmqt_assert_eq "hook after the upgrade" tcx "$(dev_field hook)"
	vmqt_assert_eq "attached after the upgrade" true "$(dev_field attached)"
	vmqt_assert_eq "tcx link runs the pinned program" "$p1" "$(link_json | vmqt_json 'j["prog_id"]')"
	filters=$(vmqt_in "$HNS" tc filter show dev "$DEV" egress)
	if grep -q 0x766d71 <<<"$filters"; then
		vmqt_fail "vmq's clsact filter left after the move to tcx:$(printf '\n%s' "$filters" | sed 's/^/   | /')"
	fi
	# The clsact qdisc vmq made stays, empty, until detach: deleting a qdisc
	# drops packets being sent (docs/kernel-notes.md).
	vmqt_assert_eq "clsact_created after the move (removed at detach)" true "$(dev_field clsact_created)"
	vmqt_ok "clsact -> tcx under $((4 * COUNT)) numbered datagrams: all received once, per TX queue $TXQ_TEXT; no vmq clsact filter left"
}

# --- 3. a vmqd with another program upgrades on adoption --------------------------------
vmqt_case bpf_object_on_adoption clsact_to_tcx
case_bpf_object_on_adoption() {
	vmqt_vmqd_kill "$VMQT_VMQD_PID" TERM
	vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS" --bpf-object "$VARIANT"
	vmqt_assert_match "vmqd --bpf-object's log" "dev $DEV: upgraded to the program of $VARIANT: program $p1 -> [0-9]+" \
		"$(cat "$VMQT_VMQD_LOG")"
	p2=$(prog_id)
	[ "$p2" != "$p1" ] || vmqt_fail "pinned program still $p1 after adoption by vmqd --bpf-object"
	vmqt_assert_eq "tcx link runs the adopted, upgraded program" "$p2" "$(link_json | vmqt_json 'j["prog_id"]')"
	vmqt_assert_eq "its upgrade to the same object" false \
		"$(vmqt_ctl -j dev upgrade "$DEV" | vmqt_json 'j["upgraded"]')"
	for q in $QUEUES; do
		vmqt_send "queue $q after the upgrade on adoption" "$q" 100 4
		vmqt_assert_on_txq "queue $q after the upgrade on adoption" "$q" 100
	done
	vmqt_ok "vmqd --bpf-object upgraded $DEV on adoption (program $p1 -> $p2); queues 1-4 steer"
}

# --- 4. maps of an unknown ABI version -----------------------------------------------------
vmqt_case unknown_abi_refused bpf_object_on_adoption
case_unknown_abi_refused() {
	set_abi 99
	vmqt_ctl_fails dev upgrade "$DEV"
	vmqt_assert_one_error "dev upgrade of maps of ABI version 99" \
		"dev $DEV: maps of ABI version 99, this vmqd knows 2: no migration"
	vmqt_assert_eq "pinned program after the refused upgrade" "$p2" "$(prog_id)"
	vmqt_vmqd_kill "$VMQT_VMQD_PID" TERM
	vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"
	vmqt_assert_match "vmqd's log on maps of ABI version 99" \
		"dev $DEV: maps of ABI version 99, this vmqd knows 2: no migration" "$(cat "$VMQT_VMQD_LOG")"
	vmqt_assert_eq "devices adopted" "[]" "$(vmqt_ctl -j dev show | vmqt_json 'j["devs"]')"
	vmqt_assert_eq "pinned program, left alone" "$p2" "$(prog_id)"
	vmqt_send "queue 3, not adopted" 3 100 4
	vmqt_assert_on_txq "queue 3, not adopted" 3 100
	set_abi 2
	vmqt_vmqd_kill "$VMQT_VMQD_PID" TERM
	vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"
	vmqt_assert_eq "adopted with ABI version 2 back" "$DEV" "$(dev_field dev)"
	vmqt_ok "ABI version 99 refused (dev upgrade, adoption) with both versions named; steering left running"
}

# --- 5. an object a non-root user could have written is refused ---------------------------
vmqt_case root_only_object unknown_abi_refused
case_root_only_object() {
	# A socket user may be a --group member: vmqd loads only what root alone
	# could have written.
	mkdir -m 0755 "$VMQT_TMP/objs"
	cp "$VARIANT" "$VMQT_TMP/objs/variant.bpf.o"
	chmod 0664 "$VMQT_TMP/objs/variant.bpf.o"
	vmqt_ctl_fails dev upgrade "$DEV" object "$VMQT_TMP/objs/variant.bpf.o"
	vmqt_assert_one_error "dev upgrade with a group-writable object" "must be a regular file owned by root and writable by root only"
	chmod 0644 "$VMQT_TMP/objs/variant.bpf.o"
	chmod 0777 "$VMQT_TMP/objs"
	vmqt_ctl_fails dev upgrade "$DEV" object "$VMQT_TMP/objs/variant.bpf.o"
	vmqt_assert_one_error "dev upgrade from a world-writable directory" "its directory must be owned by root and writable by root only"
	chmod 0755 "$VMQT_TMP/objs"
	out=$(vmqt_ctl -j dev upgrade "$DEV" object "$VMQT_TMP/objs/variant.bpf.o")
	vmqt_assert_eq "dev upgrade from a root-only copy" true "$(vmqt_json 'j["upgraded"]' <<<"$out")"
	vmqt_ok "objects writable by others, or in a directory others can write, refused; a root-only copy taken"
}

vmqt_case detach_after_upgrades root_only_object
case_detach_after_upgrades() {
	vmqt_ctl dev detach "$DEV" >/dev/null
	qd=$(vmqt_in "$HNS" tc qdisc show dev "$DEV")
	if grep -q clsact <<<"$qd"; then
		vmqt_fail "the clsact qdisc vmq created is left after detach:$(printf '\n%s' "$qd" | sed 's/^/   | /')"
	fi
	[ ! -e "$PINS/$DEV" ] || vmqt_fail "pins of $DEV left after detach: $(ls -R "$PINS/$DEV")"
	vmqt_assert_unhooked "after detach" "$HNS" "$DEV" egress vmq_tx_egress
	vmqt_ok "detach after the upgrades: no pins, no hook, no clsact qdisc"
}

# --- 6. maps of ABI version 1, migrated by a vmqd started mid-traffic -----------------------
# It starts from the bare device the cases before leave (or, run alone, the
# one the script set up), no vmqd running.
vmqt_case abi_v1_steers
case_abi_v1_steers() {
	if [ -n "${VMQT_VMQD_PID:-}" ] && kill -0 "$VMQT_VMQD_PID" 2>/dev/null; then
		vmqt_vmqd_kill "$VMQT_VMQD_PID" TERM
	fi
	# bpftool names the .rodata pin after the object file: vmq_tx.bpf.o, as a v1 install had it.
	mkdir -p "$VMQT_TMP/v1" "$DIR"
	cp "$V1" "$VMQT_TMP/v1/vmq_tx.bpf.o"
	vmqt_run bpftool prog loadall "$VMQT_TMP/v1/vmq_tx.bpf.o" "$DIR" type classifier pinmaps "$MAPS" >/dev/null
	vmqt_assert_file "v1's per-TX-queue counters" "$MAPS/vmq_txq_stats"
	# What a v1 vmqd recorded: ABI version 1, attached on its own clsact qdisc.
	ifindex=$(vmqt_in "$HNS" cat "/sys/class/net/$DEV/ifindex")
	# shellcheck disable=SC2046
	vmqt_run bpftool map update pinned "$MAPS/vmq_dev_info" key 0 0 0 0 value $(vmqt_le32 1) \
		$(vmqt_le32 "$ifindex") $(vmqt_le32 3) $(vmqt_le32 0)
	set_v1_queue 0 7
	for q in $QUEUES; do set_v1_queue "$q" "$q"; done
	vmqt_in "$HNS" tc qdisc add dev "$DEV" clsact
	vmqt_in "$HNS" tc filter add dev "$DEV" egress prio 1 handle 0x766d71 bpf da pinned "$DIR/vmq_tx_egress"
	p0=$(prog_id)
	traffic_start v1
	traffic_check
	for q in $QUEUES; do
		vmqt_assert_eq "v1's packets of queue $q" "$COUNT" "$(vmqt_percpu_sum "$MAPS/vmq_queue_stats" "$q" packets)"
	done
	vmqt_ok "ABI version 1 loaded with bpftool, on clsact: $((4 * COUNT)) datagrams steered, per TX queue $TXQ_TEXT"
}

vmqt_case abi_v1_migrated abi_v1_steers
case_abi_v1_migrated() {
	traffic_start v1-to-v2
	sleep 1
	vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS" -d "$VMQT_TMP/state-v1"
	vmqt_assert_match "vmqd's log on maps of ABI version 1" \
		"dev $DEV: maps migrated from ABI version 1 to 2 \\(2 rebuilt\\), program $p0 -> [0-9]+" "$(cat "$VMQT_VMQD_LOG")"
	traffic_check
	p1=$(prog_id)
	[ "$p1" != "$p0" ] || vmqt_fail "pinned program still $p0 after the migration"
	vmqt_assert_eq "hook after the migration (kept)" clsact "$(dev_field hook)"
	vmqt_assert_match "vmq's clsact filter runs the new program" "handle 0x766d71 vmq_tx_egress.* id $p1 " \
		"$(vmqt_in "$HNS" tc filter show dev "$DEV" egress)"
	[ ! -e "$MAPS/vmq_txq_stats" ] || vmqt_fail "vmq_txq_stats still pinned after the migration"
	vmqt_assert_eq "ABI version recorded" 2 \
		"$(vmqt_run bpftool -j map lookup pinned "$INFO" key 0 0 0 0 | vmqt_json 'j["formatted"]["value"]["abi_version"]')"
	# The old program's last increments, between the final copy and the swap,
	# stay in the old map: carried is at least what v1 had counted before this
	# run's datagrams, at most all of both runs'.
	stats=$(vmqt_ctl -j stats "$DEV")
	carried=""
	for q in $QUEUES; do
		got=$(vmqt_json "sum(x['packets'] for x in j['devs'][0]['queues'] if x['id'] == $q)" <<<"$stats")
		[ "$got" -ge "$COUNT" ] && [ "$got" -le $((2 * COUNT)) ] ||
			vmqt_fail "vmq's packets of queue $q after the migration: $got, not within $COUNT..$((2 * COUNT))"
		carried="$carried $got"
	done
	for q in $QUEUES; do
		vmqt_send "queue $q after the migration" "$q" 100 4
		vmqt_assert_on_txq "queue $q after the migration" "$q" 100
	done
	vmqt_ok "ABI 1 -> 2 by a vmqd started under $((4 * COUNT)) numbered datagrams: all received once, per TX queue $TXQ_TEXT; program $p0 -> $p1 on the same filter; counters carried (per queue:$carried of $((2 * COUNT))); vmq_txq_stats unpinned"
}

vmqt_case detach_after_migration abi_v1_migrated
case_detach_after_migration() {
	vmqt_ctl dev detach "$DEV" >/dev/null
	[ ! -e "$PINS/$DEV" ] || vmqt_fail "pins of $DEV left after detach: $(ls -R "$PINS/$DEV")"
	vmqt_assert_unhooked "after detach (migrated)" "$HNS" "$DEV" egress vmq_tx_egress
	qd=$(vmqt_in "$HNS" tc qdisc show dev "$DEV")
	if grep -q clsact <<<"$qd"; then
		vmqt_fail "the clsact qdisc (recorded as vmq's) is left after detach:$(printf '\n%s' "$qd" | sed 's/^/   | /')"
	fi
	vmqt_ok "detach after the migration: no pins, no hook, no clsact qdisc"
}

vmqt_cases "$@"
