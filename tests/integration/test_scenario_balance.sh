#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Scenario: dynamic TX queue balancing (docs/balancing.md). Six VMs on an
# uplink with 4 TX queues (mq), each port bound with "queue auto" (vmqd
# places it: 2, 2, 1 and 1 per TX queue), plus one operator-placed queue
# (ID 100, the host's own marked traffic) on the TX queue of the pair the
# test makes heavy. Every VM sends paced, numbered datagrams (vmq-udpsend
# --tag) to a receiver on the wire (tests/tools/guest_rx.py), which counts
# them, and the late ones (reordered), by sequence number. Rates are read
# from the kernel's mq class counters (`vmqctl -j stats`, "kernel").
#
#   placement   the pair of VMs on one TX queue, from `queue show`
#   unbalanced  that pair sends twice as much as the other four: their TX
#               queue carries about 2x the mean; `dev balance --dry-run`
#               plans a move and changes nothing
#   balance     balance on, interval 1: within 10 s the busiest TX queue
#               carries at most 1.25x the mean; every datagram arrives,
#               under 0.1 % reordered; the operator's queue never moved;
#               queue show says "balanced", stats and dev show count the
#               moves, the log names the rates
#   rebalance   the heavy pair goes quiet and a pair that shares a TX queue
#               now gets heavy: it moves again, to at most 1.25x the best
#               any placement can do (max of the mean and the heaviest VM
#               alone); then no move in 30 s of steady load
#   state       the setting is in the state file and survives a restart
#   bad_inputs  interval 0, threshold over 1000, a device not attached, from
#               vmqctl and raw to vmqd: a clear error, nothing changed
#   completion  contrib/bash-completion/vmqctl offers the new words
#
# Cases (tests/run.sh test_scenario_balance CASE...): placement,
# unbalanced, balance, rebalance (each needs the one before), state,
# bad_inputs, completion.
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/topology.sh
. "$(dirname "$0")/topology.sh"
vmqt_init
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl" "$BUILD/tests/vmq-udpsend" "$VMQT_ROOT/tests/tools/guest_rx.py"

DEV=vmqup0
NTXQ=4
LIGHT=400 # datagrams/s: 2.5 ms apart, so a move finds its 1 ms gap
HEAVY=800
OP_RATE=100
OP_ID=100

# Built by hand, not vmqt_topo_host: that one's uplink has 8 TX queues.
vmqt_veth_pair "$NTXQ"
_vmqt_wire_rpf_off "$VMQT_WIRE_NS" "$VMQT_WIRE_DEV"
vmqt_host_routing
for v in 1 2 3 4 5 6; do
	vmqt_vm_add "$v"
done
HNS=$VMQT_HOST_NS
vmqt_topo_vmqd_start
vmqt_ctl dev attach "$DEV" >/dev/null
for v in 1 2 3 4 5 6; do
	vmqt_ctl port bind "vmqtap$v" dev "$DEV" queue auto vm "vm$v" >/dev/null
done
RX=$VMQT_TMP/rx.json
vmqt_bg "$VMQT_WIRE_NS" "$VMQT_PY" "$VMQT_ROOT/tests/tools/guest_rx.py" 9 "$RX"
for _ in $(seq 100); do
	[ -e "$RX" ] && break
	sleep 0.05
done
[ -e "$RX" ] || vmqt_fail "receiver on the wire not ready within 5 s"
vmqt_ok "uplink $DEV ($NTXQ TX queues, mq), VMs 1-6 bound with queue auto; vmqd $VMQT_VMQD_PID; receiver on UDP 9 at the wire"

# --- helpers ---------------------------------------------------------------------------
# queue_of V: VM V's queue ID; txq_of ID: where queue ID steers now.
queue_of() {
	vmqt_ctl -j queue show "$DEV" | vmqt_json "[q['id'] for q in j['queues'] if q.get('vm') == 'vm$1'][0]"
}
txq_of() {
	vmqt_ctl -j queue show "$DEV" id "$1" | vmqt_json 'j["queues"][0]["txq"]'
}

# pair: "VM VM", the two VMs on the lowest TX queue that has two now.
pair() {
	vmqt_ctl -j queue show "$DEV" | "$VMQT_PY" -c '
import collections, json, sys
on = collections.defaultdict(list)
for q in json.load(sys.stdin)["queues"]:
    if q.get("placement") in ("auto", "balanced"):
        on[q["txq"]].append(int(q["vm"][2:]))
print(*[sorted(vs) for t, vs in sorted(on.items()) if len(vs) == 2][0])'
}

# send_bg NAME NS RATE SECONDS ARGS...: paced numbered datagrams, tag NAME,
# in the background; output to $VMQT_TMP/NAME.out. Sets SENT[NAME] (the
# count) and SPID[NAME].
declare -A SENT=() SPID=()
send_bg() {
	local name=$1 ns=$2 rate=$3 secs=$4
	shift 4
	SENT[$name]=$((rate * secs))
	ip netns exec "$ns" "$BUILD/tests/vmq-udpsend" --dst "$VMQT_WIRE_IP" --port 9 \
		--count "${SENT[$name]}" --rate "$rate" --tag "$name" "$@" >"$VMQT_TMP/$name.out" 2>&1 &
	SPID[$name]=$!
	VMQT_PIDS+=("${SPID[$name]}")
}

# senders_wait: every sender exits 0 having sent its count, and the wire
# receives each datagram once; prints "DATAGRAMS REORDERED".
senders_wait() {
	local name total=0 late=0 got
	for name in "${!SPID[@]}"; do
		vmqt_bg_wait "sender $name" "${SPID[$name]}" "$VMQT_TMP/$name.out" "sent ${SENT[$name]}"
	done
	for name in "${!SPID[@]}"; do
		for _ in $(seq 50); do
			got=$(vmqt_json "j['tags'].get('$name', {}).get('unique', 0)" <"$RX")
			[ "$got" -lt "${SENT[$name]}" ] || break
			sleep 0.1
		done
		vmqt_assert_eq "datagrams of $name at the wire (every one)" "${SENT[$name]}" "$got"
		vmqt_assert_eq "duplicates of $name" 0 "$(vmqt_json "j['tags']['$name']['dups']" <"$RX")"
		total=$((total + got))
		late=$((late + $(vmqt_json "j['tags']['$name']['reordered']" <"$RX")))
	done
	SPID=()
	echo "$total $late" >"$VMQT_TMP/senders"
}

# rates SECONDS: bytes/s of each TX queue over SECONDS, from the kernel's
# mq counters as vmqctl -j stats gives them. Sets RATES (an array), RATIO
# (busiest / mean, 2 decimals), BUSIEST (its TX queue), MEAN and QMAX (the
# busiest queue's own bytes/s, from vmq's per-queue counters).
rates() {
	local a b
	a=$(vmqt_ctl -j stats "$DEV")
	sleep "$1"
	b=$(vmqt_ctl -j stats "$DEV")
	read -r RATIO BUSIEST MEAN QMAX RATES_TEXT <<<"$(printf '%s\n%s\n' "$a" "$b" | "$VMQT_PY" -c '
import json, sys
a, b = (json.loads(l)["devs"][0] for l in sys.stdin.read().splitlines())
secs = float(sys.argv[1])
k0 = {t["txq"]: t["kernel"]["bytes"] for t in a["txqs"]}
r = [(t["kernel"]["bytes"] - k0[t["txq"]]) / secs for t in sorted(b["txqs"], key=lambda t: t["txq"])]
q0 = {q["id"]: q["bytes"] for q in a["queues"]}
qmax = max((q["bytes"] - q0.get(q["id"], 0)) / secs for q in b["queues"])
m = sum(r) / len(r)
print("%.2f %d %d %d %s" % (max(r) / m, r.index(max(r)), m, qmax, ",".join(str(int(x)) for x in r)))' "$1")"
	IFS=, read -r -a RATES <<<"$RATES_TEXT"
}

moves() {
	vmqt_ctl -j dev show "$DEV" | vmqt_json 'j["devs"][0]["balance"]["moves"]'
}

# op_unmoved: the operator-placed queue is where the operator put it.
op_unmoved() {
	vmqt_assert_eq "operator-placed queue $OP_ID: its TX queue" "$OP_TXQ" "$(txq_of "$OP_ID")"
	vmqt_assert_eq "operator-placed queue $OP_ID: placement" "null" \
		"$(vmqt_ctl -j queue show "$DEV" id "$OP_ID" | vmqt_json 'j["queues"][0].get("placement")')"
}

H1="" H2="" OP_TXQ=""
VMQT_CASE_KEEP=(H1 H2 OP_TXQ)

# --- placement ---------------------------------------------------------------------
vmqt_case placement
case_placement() {
	local counts
	counts=$(vmqt_ctl -j queue show "$DEV" | "$VMQT_PY" -c '
import collections, json, sys
q = json.load(sys.stdin)["queues"]
print(sorted(collections.Counter(x["txq"] for x in q if x.get("placement") == "auto").values()))')
	vmqt_assert_eq "6 auto-placed queues over $NTXQ TX queues: VMs per TX queue" "[1, 1, 2, 2]" "$counts"
	read -r H1 H2 <<<"$(pair)"
	OP_TXQ=$(txq_of "$(queue_of "$H1")")
	vmqt_ctl queue add "$DEV" id "$OP_ID" txq "$OP_TXQ" vm op
	vmqt_assert_match "queue show (text): VM $H1's queue placed by vmqd" \
		"^$DEV +$(queue_of "$H1") +txq $OP_TXQ +vm$H1 +- +auto +port *\$" "$(vmqt_ctl queue show "$DEV")"
	vmqt_ok "queue auto placed 2, 2, 1, 1 VMs per TX queue; VMs $H1 and $H2 share TX queue $OP_TXQ; operator's queue $OP_ID on it too"
}

# start_phase NAME SECONDS H1 H2: every VM sends for SECONDS, VMs H1 and H2
# (0: none) at HEAVY, the others at LIGHT, except those listed in QUIET;
# the operator's queue at OP_RATE from the host.
QUIET=""
start_phase() {
	local phase=$1 secs=$2 v rate
	for v in 1 2 3 4 5 6; do
		[[ " $QUIET " != *" $v "* ]] || continue
		rate=$LIGHT
		[ "$v" != "$3" ] && [ "$v" != "$4" ] || rate=$HEAVY
		send_bg "$phase-vm$v" "${VMQT_VM_NS[$v]}" "$rate" "$secs" --flows 4 --src-port-base $((41000 + 10 * v))
	done
	send_bg "$phase-op" "$HNS" "$OP_RATE" "$secs" --mark "$OP_ID" --flows 4 --src-port-base 42000
}

# --- without balancing -------------------------------------------------------------------
vmqt_case unbalanced placement
case_unbalanced() {
	local before after out
	start_phase p0 5 "$H1" "$H2"
	sleep 1.5
	rates 2
	vmqt_log "without balancing: TX queue bytes/s ${RATES[*]}: busiest txq $BUSIEST at ${RATIO}x the mean"
	vmqt_assert_eq "busiest TX queue without balancing (VMs $H1, $H2 and queue $OP_ID)" "$OP_TXQ" "$BUSIEST"
	"$VMQT_PY" -c "import sys; sys.exit(not 1.8 <= $RATIO <= 2.3)" ||
		vmqt_fail "without balancing: txq $BUSIEST at ${RATIO}x the mean, expected about 2x (1.8..2.3)"
	before=$(vmqt_state)
	out=$(vmqt_ctl dev balance "$DEV" --dry-run)
	vmqt_log "dev balance --dry-run:$(printf '\n%s' "$out" | sed 's/^/   | /')"
	vmqt_assert_match "dry run: the reason" "^txq $OP_TXQ at [0-9]+ B/s, [0-9]+% above the mean" "$out"
	vmqt_assert_match "dry run: a planned move off txq $OP_TXQ" "would move queue [0-9]+ vm vm($H1|$H2): txq $OP_TXQ -> txq [0-9]" "$out"
	vmqt_assert_match "dry run: says it changed nothing" "^would move now \\(dry run: nothing changed\\)\$" "$out"
	after=$(vmqt_state)
	vmqt_assert_eq "state after the dry run" "$before" "$after"
	vmqt_assert_eq "moves after the dry run" 0 "$(moves)"
	senders_wait
	op_unmoved
	vmqt_ok "without balancing: txq $OP_TXQ at ${RATIO}x the mean; the dry run plans a move off it and changes nothing; every datagram arrived"
}

# --- balancing on --------------------------------------------------------------------------
vmqt_case balance unbalanced
case_balance() {
	local t0 total late log text
	start_phase p1 13 "$H1" "$H2"
	sleep 1
	vmqt_ctl dev set "$DEV" balance on interval 1
	t0=$(date +%s.%N)
	vmqt_assert_eq "dev show: balance" '{"interval":1,"state":"on","threshold":25}' \
		"$(vmqt_ctl -j dev show "$DEV" | vmqt_json '{k: v for k, v in j["devs"][0]["balance"].items() if k in ("state", "interval", "threshold")}')"
	# The last 2 s of the first 10: the balancer needs 3 intervals over
	# the threshold, then moves.
	sleep "$("$VMQT_PY" -c "import time; print(max(0, $t0 + 8 - time.time()))")"
	rates 2
	vmqt_log "balancing on, 8..10 s: TX queue bytes/s ${RATES[*]}: busiest txq $BUSIEST at ${RATIO}x the mean"
	"$VMQT_PY" -c "import sys; sys.exit(not $RATIO <= 1.25)" ||
		vmqt_fail "balancing on: within 10 s the busiest TX queue is at ${RATIO}x the mean, expected <= 1.25x"
	senders_wait
	read -r total late <"$VMQT_TMP/senders"
	vmqt_log "datagrams: $total sent and received, $late reordered"
	"$VMQT_PY" -c "import sys; sys.exit(not $late * 1000 < $total)" ||
		vmqt_fail "reordered $late of $total datagrams: not under 0.1 %"
	op_unmoved
	[ "$(moves)" -ge 1 ] || vmqt_fail "dev show: no move counted"
	vmqt_assert_eq "stats: moves = dev show's" "$(moves)" \
		"$(vmqt_ctl -j stats "$DEV" | vmqt_json 'j["devs"][0]["balance"]["moves"]')"
	text=$(vmqt_ctl queue show "$DEV")
	vmqt_assert_match "queue show (text): a balanced queue and its moves" "^$DEV +[0-9]+ +txq [0-9] +vm[1-6] +- +balanced\\(1\\) +port *\$" "$text"
	vmqt_assert_match "dev show DEV (text): the balance column" "^$DEV .* on 1s 25% *\$" "$(vmqt_ctl dev show "$DEV")"
	text=$(vmqt_ctl dev show "$DEV")
	vmqt_assert_match "dev show DEV (text): the last decision" "^balance, last decision: " "$text"
	vmqt_assert_match "dev show DEV (text): the last move, its reason" \
		"^balance, last move: txq $OP_TXQ at [0-9]+ B/s, [0-9]+% above the mean [0-9]+ B/s \\(threshold 25%\\): [0-9] move\\(s\\) lower it to [0-9]+ B/s" "$text"
	vmqt_assert_match "dev show DEV (text): a queue it moved" "^  moved queue [0-9]+ vm vm[1-6]: txq [0-9] -> txq [0-9] \\([0-9]+ B/s\\)\$" "$text"
	vmqt_log "dev show:$(printf '\n%s' "$text" | sed 's/^/   | /')"
	log=$(grep "moved txq" "$VMQT_VMQD_LOG" || true)
	vmqt_assert_match "vmqd log: a move with the rates behind it" \
		"dev $DEV: queue [0-9]+ vm vm[1-6] moved txq [0-9] -> txq [0-9] \\(queue [0-9]+ B/s; txq [0-9] at [0-9]+ B/s, [0-9]+% above the mean [0-9]+ B/s" "$log"
	vmqt_log "vmqd log:$(printf '\n%s' "$log" | sed 's/^/   | /')"
	vmqt_log "stats: $(vmqt_ctl stats "$DEV" | grep 'balance:')"
	vmqt_ok "balancing on: within 10 s txq $BUSIEST is the busiest at ${RATIO}x the mean (<= 1.25x); $(moves) moves; $late of $total datagrams reordered; operator's queue unmoved"
}

# --- the load changes -------------------------------------------------------------------------
vmqt_case rebalance balance
case_rebalance() {
	local m0 m1 t0
	read -r N1 N2 <<<"$(pair)"
	QUIET="$H1 $H2"
	m0=$(moves)
	start_phase p2 44 "$N1" "$N2"
	t0=$(date +%s.%N)
	sleep 10
	rates 2
	m1=$(moves)
	[ "$m1" -gt "$m0" ] || vmqt_fail "VMs $H1, $H2 quiet, $N1 and $N2 heavy: no move in 12 s (moves $m0 -> $m1)"
	# No placement does better than the mean, nor than the heaviest VM alone.
	"$VMQT_PY" -c "import sys; sys.exit(not ${RATES[$BUSIEST]} <= 1.25 * max($MEAN, $QMAX))" ||
		vmqt_fail "after the load changed: txq $BUSIEST at ${RATES[$BUSIEST]} B/s, expected <= 1.25 x max(mean $MEAN, heaviest queue $QMAX)"
	vmqt_log "VMs $N1, $N2 heavy, $H1, $H2 quiet: TX queue bytes/s ${RATES[*]}: busiest txq $BUSIEST at ${RATIO}x the mean, heaviest queue $QMAX B/s; moves $m0 -> $m1"
	vmqt_log "steady load: watching for 30 s"
	sleep "$("$VMQT_PY" -c "import time; print(max(0, $t0 + 12 + 30 - time.time()))")"
	vmqt_assert_eq "moves in 30 s of steady load" "$m1" "$(moves)"
	senders_wait
	op_unmoved
	vmqt_ok "load changed: $((m1 - m0)) more move(s) within 12 s, then none in 30 s of steady load"
}

# --- the setting is kept ---------------------------------------------------------------------
vmqt_case state
case_state() {
	local want='{"interval":7,"state":"on","threshold":40}' got
	balance_of() {
		vmqt_ctl -j dev show "$DEV" | vmqt_json '{k: v for k, v in j["devs"][0]["balance"].items() if k in ("state", "interval", "threshold")}'
	}
	vmqt_ctl dev set "$DEV" balance on interval 7 threshold 40
	vmqt_assert_eq "dev show after dev set balance on interval 7 threshold 40" "$want" "$(balance_of)"
	vmqt_assert_match "vmqctl save" "^dev set $DEV balance on interval 7 threshold 40\$" "$(vmqt_ctl save)"
	vmqt_vmqd_kill "$VMQT_VMQD_PID" TERM
	vmqt_topo_vmqd_start
	vmqt_assert_eq "dev show after a restart" "$want" "$(balance_of)"
	vmqt_ctl dev set "$DEV" balance off
	got=$(balance_of)
	vmqt_assert_eq "dev show after balance off" '{"interval":7,"state":"off","threshold":40}' "$got"
	if vmqt_ctl save | grep -q balance; then
		vmqt_fail "vmqctl save after balance off still names balance:$(vmqt_ctl save | sed 's/^/   | /')"
	fi
	vmqt_ok "balance on interval 7 threshold 40: in dev show, in the state file (vmqctl save), after a restart; balance off leaves the file"
}

# --- bad inputs ----------------------------------------------------------------------------------
vmqt_case bad_inputs
case_bad_inputs() {
	local before after out
	before=$(vmqt_state)
	bad() { # WHAT MESSAGE ARGS...
		local what=$1 msg=$2
		shift 2
		vmqt_ctl_fails "$@"
		vmqt_assert_one_error "$what" "$msg"
	}
	bad "interval 0" 'dev set: interval "0": out of range \(1\.\.3600\)' dev set "$DEV" balance on interval 0
	bad "threshold over 1000" 'dev set: threshold "1001": out of range \(1\.\.1000\)' \
		dev set "$DEV" balance on threshold 1001
	bad "balance on a device not attached" "dev vmqtap1: not attached \\(try \"vmqctl dev attach vmqtap1\"\\)" \
		dev set vmqtap1 balance on
	bad "balance on no device" "dev nosuch0: no such device" dev set nosuch0 balance on
	bad "dry run of a device not attached" "dev vmqtap1: not attached" dev balance vmqtap1 --dry-run
	bad "interval without balance" 'dev set: interval and threshold go with "balance on"' dev set "$DEV" interval 5
	# vmqd checks on its own, whoever the client.
	out=$(printf '%s\n' \
		'{"version":1,"object":"dev","command":"set","args":{"dev":"'"$DEV"'","balance":"on","interval":0}}' \
		'{"version":1,"object":"dev","command":"set","args":{"dev":"'"$DEV"'","balance":"on","threshold":1001}}' \
		'{"version":1,"object":"dev","command":"set","args":{"dev":"'"$DEV"'","balance":"yes"}}' \
		'{"version":1,"object":"dev","command":"set","args":{"dev":"vmqtap1","balance":"on"}}' \
		'{"version":1,"object":"dev","command":"balance","args":{"dev":"'"$DEV"'"}}' |
		vmqt_raw "$VMQT_SOCK")
	vmqt_assert_eq "vmqd's answers to 5 bad requests" \
		"[[34,\"dev $DEV: balance interval 0 s out of range (1..3600 seconds)\"],[34,\"dev $DEV: balance threshold 1001% out of range (1..1000 percent)\"],[22,\"dev $DEV: balance must be \\\"on\\\" or \\\"off\\\"\"],[2,\"dev vmqtap1: not attached (try \\\"vmqctl dev attach vmqtap1\\\")\"],[22,\"dev $DEV: balance takes --dry-run only (moves happen on the balancer's timer: dev set $DEV balance on)\"]]" \
		"$(grep -v '^EOF$' <<<"$out" | vmqt_json -l '[[l["error"]["errno"], l["error"]["message"]] for l in j]')"
	after=$(vmqt_state)
	vmqt_assert_eq "state after the bad inputs" "$before" "$after"
	vmqt_ok "interval 0, threshold 1001, balance yes, a device not attached, dev balance without --dry-run: refused by vmqctl and by vmqd with a clear error; nothing changed"
}

# --- the bash completion knows the new words ----------------------------------------------------
vmqt_case completion
case_completion() {
	complete_words() { # WORDS...: what contrib/bash-completion/vmqctl offers for the last one
		vmqt_in "$HNS" bash -c '
			PATH=$1:$PATH
			. "$2"
			shift 2
			COMP_WORDS=("$@")
			COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
			_vmqctl
			printf "%s\n" "${COMPREPLY[@]}" | sort -u | tr "\n" " " | sed "s/ $//"
		' bash "$BUILD" "$VMQT_ROOT/contrib/bash-completion/vmqctl" vmqctl -s "$VMQT_SOCK" "$@"
	}
	vmqt_assert_eq "completion: dev's commands" "attach balance detach help set show upgrade" \
		"$(complete_words dev "")"
	vmqt_assert_eq "completion: dev set's keywords" "balance interval ports rx threshold" \
		"$(complete_words dev set "$DEV" "")"
	vmqt_assert_eq "completion: values of balance" "off on" "$(complete_words dev set "$DEV" balance "")"
	vmqt_assert_eq "completion: dev balance's flag" "--dry-run" "$(complete_words dev balance "$DEV" "")"
	vmqt_ok "bash completion: dev balance, dev set balance on|off, interval, threshold, --dry-run"
}

vmqt_cases "$@"
