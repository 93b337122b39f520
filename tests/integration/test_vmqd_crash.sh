#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# vmqd killed (-9) in the middle of its work: what the next one finds.
#   - a queue add cut between its two writes (metadata first, then the
#     entry) leaves metadata of a queue that is not live: `stats` never
#     shows its vm on the dead queue, and the next vmqd sweeps it
#   - VMQT_CRASH_RUNS (default 20) batches of 4096 random valid lines
#     (queue add/set/del over IDs 1..300, group add/del over groups 1..12,
#     every queue added with a vm), each killed at a random moment: after
#     every restart the daemon's queue and group show equal the pinned maps
#     entry by entry, no metadata without its queue, no queue without its
#     metadata, no group member pointing at a deleted group, and the state
#     file holds exactly the running state; at least half the batches are
#     cut mid-way
#
# Cases (tests/run.sh test_vmqd_crash CASE...): cut_queue_add,
# killed_batches (needs it: vmqd serving the attached device).
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
vmqt_init bpftool
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl" "$BUILD/tests/vmq-udpsend"

RUNS=${VMQT_CRASH_RUNS:-20}
vmqt_uint VMQT_CRASH_RUNS "$RUNS"
vmqt_vmqd_setup
STATE=$VMQT_TMP/st
FILE=$STATE/vmqd.state
MAPS=$PINS/$DEV/maps
start() { vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS" -d "$STATE"; }

# --- a queue add cut between its two writes ----------------------------------------
vmqt_case cut_queue_add
case_cut_queue_add() {
	start
	vmqt_ctl dev attach "$DEV" default-txq 7 >/dev/null
	vmqt_vmqd_kill "$VMQT_VMQD_PID" KILL
	# What a vmqd killed inside `queue add DEV id 60 txq 3 vm ghost` leaves
	# once the metadata is written and the entry (and its per-CPU copies, one
	# store) not yet: metadata {vm "ghost", no name, no flags}, ID 60 free.
	ghost=$(printf 'ghost' | od -An -tu1 | xargs)
	# shellcheck disable=SC2046
	vmqt_run bpftool map update pinned "$MAPS/vmq_queue_meta" key $(vmqt_le32 60) \
		value $ghost $(printf '0 %.0s' $(seq $((72 - 5))))
	vmqt_send "ID 60, not live" 60 20 2
	vmqt_assert_on_txq "ID 60, not live: on the default TX queue" 7 20
	start
	q60=$(vmqt_ctl -j stats "$DEV" | vmqt_json '[q for q in j["devs"][0]["queues"] if q["id"] == 60][0]')
	vmqt_assert_eq "stats of queue 60 (not live, 20 fallbacks)" \
		'{"bytes":0,"fallback_bytes":'"$(vmqt_json 'j["fallback_bytes"]' <<<"$q60")"',"fallback_packets":20,"id":60,"packets":0}' "$q60"
	figures=$(vmqt_assert_maps_match "after the cut queue add" "$DEV")
	vmqt_ok "a queue add cut between metadata and entry: no vm on the dead queue in stats, its metadata swept at adoption ($figures)"
}

# --- kill -9 during random batches ---------------------------------------------------
# gen SEED: 4096 lines valid in sequence from the running state (a batch
# stops at its first error).
gen() {
	vmqt_ctl -j queue show "$DEV" >"$VMQT_TMP/q.json"
	vmqt_ctl -j group show "$DEV" >"$VMQT_TMP/g.json"
	"$VMQT_PY" - "$VMQT_TMP/q.json" "$VMQT_TMP/g.json" "$DEV" "$1" <<'EOF'
import json, random, sys
qs = json.load(open(sys.argv[1]))["queues"]
gs = json.load(open(sys.argv[2]))["groups"]
dev, rnd = sys.argv[3], random.Random(int(sys.argv[4]))
live = {q["id"]: q.get("group") for q in qs if q["id"]}  # ID -> its group or None
groups = {g["id"] for g in gs}
out = []

def target():
    if groups and rnd.random() < 0.3:
        g = rnd.choice(sorted(groups))
        return f"group {g}", g
    return f"txq {rnd.randrange(8)}", None

while len(out) < 4096:
    r = rnd.random()
    if r < 0.35:
        free = [i for i in range(1, 301) if i not in live]
        if not free:
            continue
        i = rnd.choice(free)
        t, g = target()
        out.append(f"queue add {dev} id {i} {t} vm vm{i}")
        live[i] = g
    elif r < 0.5 and live:
        i = rnd.choice(sorted(live))
        t, g = target()
        out.append(f"queue set {dev} id {i} {t}")
        live[i] = g
    elif r < 0.85 and live:
        i = rnd.choice(sorted(live))
        out.append(f"queue del {dev} id {i}")
        del live[i]
    elif r < 0.93:
        free = [g for g in range(1, 13) if g not in groups]
        if not free:
            continue
        g = rnd.choice(free)
        txqs = sorted(rnd.sample(range(8), rnd.randint(1, 4)))
        out.append(f"group add {dev} id {g} txqs {','.join(map(str, txqs))}")
        groups.add(g)
    else:
        empty = [g for g in sorted(groups) if g not in live.values()]
        if not empty:
            continue
        g = rnd.choice(empty)
        out.append(f"group del {dev} id {g}")
        groups.discard(g)
print("\n".join(out))
EOF
}

# file_vs_shown: the state file's group and queue requests for DEV against
# group and queue show, and the file against daemon save.
file_vs_shown() {
	vmqt_ctl -j queue show "$DEV" >"$VMQT_TMP/q.json"
	vmqt_ctl -j group show "$DEV" >"$VMQT_TMP/g.json"
	vmqt_raw "$VMQT_SOCK" 5 <<<'{"version":1,"object":"daemon","command":"save"}' | sed -n 1p >"$VMQT_TMP/save.json"
	"$VMQT_PY" - "$FILE" "$VMQT_TMP/q.json" "$VMQT_TMP/g.json" "$VMQT_TMP/save.json" <<'EOF'
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
assert lines[-1] == "", "the state file does not end in a newline"
docs = [json.loads(l) for l in lines[:-1]]
head, body, end = docs[0], docs[1:-1], docs[-1]
assert head == {"vmq_state": 1, "requests": len(body)} and end == {"end": len(body)}, \
    f"state file header {head}, end {end}, {len(body)} requests"
save = json.load(open(sys.argv[4]))["result"]["requests"]
assert body == save, "the state file is not what daemon save says"
fq = {r["args"]["id"]: r["args"] for r in body if r["object"] == "queue" and r["command"] == "add"}
fg = {r["args"]["id"]: r["args"]["txqs"] for r in body if r["object"] == "group"}
sq = {q["id"]: q for q in json.load(open(sys.argv[2]))["queues"] if q["id"]}
sg = {g["id"]: g["txqs"] for g in json.load(open(sys.argv[3]))["groups"]}
assert fg == sg, f"groups: file {fg}, shown {sg}"
assert set(fq) == set(sq), f"queues only in the file {set(fq) - set(sq)}, only shown {set(sq) - set(fq)}"
for i, a in fq.items():
    q = sq[i]
    if (a.get("txq"), a.get("group"), a.get("vm")) != (q.get("txq"), q.get("group"), q.get("vm")):
        raise AssertionError(f"queue {i}: file {a}, shown {q}")
print(f"{len(body)} requests")
EOF
}

# orphans: metadata entries whose queue is not live, in the pins as the kill left them.
orphans() {
	vmqt_run bpftool -j map dump pinned "$MAPS/vmq_queues" >"$VMQT_TMP/mq.json"
	vmqt_run bpftool -j map dump pinned "$MAPS/vmq_queue_meta" >"$VMQT_TMP/mm.json"
	"$VMQT_PY" -c '
import json, sys
def dump(f):
    return [x.get("formatted", x) for x in json.load(open(f))]
live = {e["key"] for e in dump(sys.argv[1]) if e["value"]["state"] or not e["key"]}
print(len([e for e in dump(sys.argv[2]) if e["key"] not in live]))
' "$VMQT_TMP/mq.json" "$VMQT_TMP/mm.json"
}

vmqt_case killed_batches cut_queue_add
case_killed_batches() {
	# A whole batch first, unkilled: how long one takes, so kills land inside
	# (between a tenth and three quarters of it: the time also holds vmqctl's
	# start and end). At least half the batches must be cut.
	gen 0 >"$VMQT_TMP/batch"
	t0=$(date +%s%N)
	vmqt_run "$BUILD/vmqctl" -s "$VMQT_SOCK" -b "$VMQT_TMP/batch" >/dev/null
	batch_ms=$((($(date +%s%N) - t0) / 1000000))
	vmqt_log "one 4096-line batch: $batch_ms ms"
	killed=0 swept=0
	for ((run = 1; run <= RUNS; run++)); do
		gen "$run$RANDOM" >"$VMQT_TMP/batch"
		"$BUILD/vmqctl" -s "$VMQT_SOCK" -b "$VMQT_TMP/batch" >/dev/null 2>&1 &
		client=$!
		at=$((batch_ms / 10 + RANDOM % (batch_ms * 2 / 3 + 1)))
		sleep "$((at / 1000)).$(printf '%03d' $((at % 1000)))"
		vmqt_vmqd_kill "$VMQT_VMQD_PID" KILL
		rc=0
		wait "$client" || rc=$?
		if [ "$rc" -eq 0 ]; then
			# Batches vary (a state with fewer free IDs, a loaded host): the
			# next kills come earlier.
			batch_ms=$((at * 2 / 3))
		else
			killed=$((killed + 1))
		fi
		left=$(orphans)
		swept=$((swept + left))
		start
		figures=$(vmqt_assert_maps_match "run $run (killed at $at ms)" "$DEV" --labelled)
		requests=$(file_vs_shown) || vmqt_fail "run $run (killed at $at ms): the state file and vmqd differ"
		vmqt_log "run $run: killed at $at ms$([ "$rc" -eq 0 ] && echo ', after the batch ended'); $left orphan metadata left, swept; $figures; file: $requests"
	done
	[ "$killed" -ge $(((RUNS + 1) / 2)) ] ||
		vmqt_fail "only $killed of $RUNS batches were cut by the kill: the rest had ended"
	vmqt_ok "kill -9 at random moments of $RUNS batches of 4096 lines ($killed cut mid-batch, $swept orphan metadata swept): daemon, pinned maps and state file agreed after every restart"
}

vmqt_cases "$@"
