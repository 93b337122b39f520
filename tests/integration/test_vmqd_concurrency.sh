#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# 16 clients at once for VMQT_CONCURRENCY_SECONDS (default 60), while
# traffic flows: queue add, set and del on overlapping IDs, group add and
# del on overlapping groups, queue show and stats. Each client sends its
# requests on its own connection, timing each from send to answer, and
# makes every 10th one a vmqctl -j run instead (its output checked, its
# time, process start included, reported: on a loaded 2-CPU host that is
# the scheduler's figure more than vmqd's). IDs 1..16 come and go;
# IDs 17..32 exist from the start and are only moved (never onto TX queue
# 7, the default queue's). Group G always spans the same TX queues. Then:
#   - vmqd's queue and group show equal the pinned maps entry by entry
#   - no request waited more than 1 s for its answer; no answer but the
#     expected refusals (EEXIST, ENOENT, EBUSY)
#   - every packet of ID q was counted under q by vmq (packets +
#     fallback_packets = sent), IDs 17..32 never fell back, and the TX
#     queues' counts (the kernel's mq counters: only this traffic) can be
#     split so that each ID's packets all went to TX queues it pointed to
#     at some moment (every target from the clients' successful answers; a
#     freed ID: the default TX queue 7): Hall's condition on every one of
#     the 256 sets of TX queues, which is exactly when such a split exists
#
# Cases (tests/run.sh test_vmqd_concurrency CASE...): clients_and_traffic
# (the run; every datagram left), maps_match and answers_and_steering
# (both need it).
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
vmqt_init bpftool
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl"

SECONDS_RUN=${VMQT_CONCURRENCY_SECONDS:-60}
vmqt_uint VMQT_CONCURRENCY_SECONDS "$SECONDS_RUN"
CLIENTS=16
vmqt_vmqd_setup
vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"
vmqt_ctl dev attach "$DEV" default-txq 7 >/dev/null
# Group G: always these TX queues (so a member's TX queues are known).
GROUP_TXQS='{"1":[1,2],"2":[3,4],"3":[5,6],"4":[2,5]}'
vmqt_ctl group add "$DEV" id 1 txqs 1,2 >/dev/null
vmqt_ctl group add "$DEV" id 2 txqs 3,4 >/dev/null
for ((i = 17; i <= 32; i++)); do
	printf 'queue add %s id %d txq %d vm pre%d\n' "$DEV" "$i" $((i % 7)) "$i"
done >"$VMQT_TMP/pre.batch"
vmqt_ctl -b "$VMQT_TMP/pre.batch" >/dev/null

cat >"$VMQT_TMP/client.py" <<'EOF'
import json, random, socket, subprocess, sys, time
sock, dev, seed, until, vmqctl, groups, out = sys.argv[1:8]
groups = {int(g): t for g, t in json.loads(groups).items()}
rnd, until = random.Random(int(seed)), float(until)
s = socket.socket(socket.AF_UNIX)
s.connect(sock)
f = s.makefile("rwb")
targets, freed, refused, bad = [], [], {}, []
worst, n, worst_ctl, nctl = 0.0, 0, 0.0, 0

def error(what, e):
    if e["errno"] in (17, 2, 16):  # EEXIST, ENOENT, EBUSY: another client came first
        refused[e["errno"]] = refused.get(e["errno"], 0) + 1
    else:
        bad.append(f"{what}: {e}")

def ask(words, obj, cmd, args):
    """One request, timed from its send to its answer; every 10th is a
    vmqctl -j run of WORDS instead, timed whole. Whether it succeeded."""
    global worst, n, worst_ctl, nctl
    n += 1
    if n % 10 == 0:
        argv = [vmqctl, "-s", sock, "-j"] + [str(w) for w in words]
        t0 = time.monotonic()
        p = subprocess.run(argv, capture_output=True)
        worst_ctl, nctl = max(worst_ctl, time.monotonic() - t0), nctl + 1
        try:
            a = json.loads(p.stdout)
        except ValueError:
            a = None
        if p.stderr or not isinstance(a, dict) or (p.returncode == 0) == ("error" in a):
            bad.append(f"vmqctl {' '.join(argv[3:])}: exit {p.returncode}, {p.stdout!r}, {p.stderr!r}")
            return False
        if "error" in a:
            error(f"vmqctl {' '.join(argv[3:])}", a["error"])
        return "error" not in a
    t0 = time.monotonic()
    f.write(json.dumps({"version": 1, "object": obj, "command": cmd, "args": args}).encode() + b"\n")
    f.flush()
    line = f.readline()
    worst = max(worst, time.monotonic() - t0)
    if not line:
        raise SystemExit("vmqd closed the connection")
    a = json.loads(line)
    if not a["ok"]:
        error(f"{obj} {cmd} {args}", a["error"])
    return a["ok"]

def target():
    if rnd.random() < 0.3:
        return "group", rnd.choice(sorted(groups))
    return "txq", rnd.randrange(7)

while time.monotonic() < until:
    r = rnd.random()
    if r < 0.3:
        i, (k, t) = rnd.randint(1, 16), target()
        if ask(["queue", "add", dev, "id", i, k, t, "vm", f"vm{i}"], "queue", "add",
               {"dev": dev, "id": i, k: t, "vm": f"vm{i}"}):
            targets.append([i, k, t])
    elif r < 0.55:
        i, (k, t) = rnd.randint(1, 32), target()
        if ask(["queue", "set", dev, "id", i, k, t], "queue", "set", {"dev": dev, "id": i, k: t}):
            targets.append([i, k, t])
    elif r < 0.7:
        i = rnd.randint(1, 16)
        if ask(["queue", "del", dev, "id", i], "queue", "del", {"dev": dev, "id": i}):
            freed.append(i)
    elif r < 0.76:
        g = rnd.choice(sorted(groups))
        ask(["group", "add", dev, "id", g, "txqs", ",".join(map(str, groups[g]))], "group", "add",
            {"dev": dev, "id": g, "txqs": groups[g]})
    elif r < 0.82:
        g = rnd.choice(sorted(groups))
        ask(["group", "del", dev, "id", g], "group", "del", {"dev": dev, "id": g})
    elif r < 0.91:
        ask(["queue", "show", dev], "queue", "show", {"dev": dev})
    else:
        ask(["stats", dev], "stats", "show", {"dev": dev})
json.dump({"targets": targets, "freed": freed, "refused": refused, "bad": bad, "worst": worst,
           "n": n, "worst_ctl": worst_ctl, "nctl": nctl}, open(out, "w"))
EOF

# Traffic: 4 flows per ID 0..32 (ID 0: no mark) in rounds, until the clients stop.
cat >"$VMQT_TMP/traffic.py" <<'EOF'
import json, socket, sys, time
dst, dev, until, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
socks = []
for k in range(4):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, dev.encode())
    s.bind(("0.0.0.0", 30000 + k))
    socks.append(s)
sent = {i: 0 for i in range(33)}
while time.monotonic() < until:
    for i in range(33):
        for s in socks:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, i)
            s.sendto(b"vmq", (dst, 9))
            sent[i] += 1
    time.sleep(0.03)
json.dump(sent, open(out, "w"))
EOF

stats() { vmqt_ctl -j stats "$DEV"; }
# The stats before and after the run, for the cases after it.
before="" after=""
VMQT_CASE_KEEP+=(before after)

# --- the clients and the traffic -----------------------------------------------------
vmqt_case clients_and_traffic
case_clients_and_traffic() {
	before=$(stats)
	until=$("$VMQT_PY" -c "import time; print(time.monotonic() + $SECONDS_RUN)")
	vmqt_bg "$HNS" "$VMQT_PY" "$VMQT_TMP/traffic.py" "$VMQT_WIRE_IP" "$DEV" "$until" "$VMQT_TMP/sent.json"
	traffic=$VMQT_BG_PID
	clients=()
	for ((c = 0; c < CLIENTS; c++)); do
		"$VMQT_PY" "$VMQT_TMP/client.py" "$VMQT_SOCK" "$DEV" "$c$RANDOM" "$until" "$BUILD/vmqctl" \
			"$GROUP_TXQS" "$VMQT_TMP/client$c.json" &
		clients+=($!)
		VMQT_PIDS+=($!)
	done
	vmqt_log "$CLIENTS clients and traffic for $SECONDS_RUN s"
	for pid in "${clients[@]}" "$traffic"; do
		wait "$pid" || vmqt_fail "a client or the traffic sender failed (exit $?)"
		vmqt_forget_pid "$pid"
	done

	# Every datagram has left once the TX queues' counts add up to what was sent.
	total=$(vmqt_json 'sum(j.values())' <"$VMQT_TMP/sent.json")
	for _ in $(seq 50); do
		after=$(stats)
		left=$(printf '%s\n%s\n' "$before" "$after" | vmqt_json -l 'sum(t["kernel"]["packets"] for t in j[1]["devs"][0]["txqs"]) - sum(t["kernel"]["packets"] for t in j[0]["devs"][0]["txqs"])')
		[ "$left" -lt "$total" ] || break
		sleep 0.1
	done
	vmqt_assert_eq "datagrams that left $DEV (mq counters) = datagrams sent" "$total" "$left"
	vmqt_ok "$CLIENTS clients and traffic for $SECONDS_RUN s: all $total datagrams left $DEV"
}

# --- vmqd's view = the pinned maps ------------------------------------------------------
vmqt_case maps_match clients_and_traffic
case_maps_match() {
	figures=$(vmqt_assert_maps_match "after $SECONDS_RUN s of $CLIENTS clients" "$DEV" --labelled)
	vmqt_ok "vmqd's queue and group show = the pinned maps, entry by entry ($figures)"
}

# --- every answer, every packet ------------------------------------------------------------
vmqt_case answers_and_steering clients_and_traffic
case_answers_and_steering() {
	printf '%s\n%s\n' "$before" "$after" >"$VMQT_TMP/stats.json"
	result=$("$VMQT_PY" - "$VMQT_TMP" "$CLIENTS" "$GROUP_TXQS" <<'EOF'
import collections, itertools, json, sys
tmp, nclients, groups = sys.argv[1], int(sys.argv[2]), {int(g): t for g, t in json.loads(sys.argv[3]).items()}
before, after = [json.loads(l)["devs"][0] for l in open(f"{tmp}/stats.json")]
sent = {int(i): n for i, n in json.load(open(f"{tmp}/sent.json")).items()}
cl = [json.load(open(f"{tmp}/client{c}.json")) for c in range(nclients)]
bad = [b for c in cl for b in c["bad"]]
assert not bad, "unexpected answers:\n" + "\n".join(bad[:20])
worst = max(c["worst"] for c in cl)
worst_ctl = max(c["worst_ctl"] for c in cl)
assert worst <= 1.0, f"a request waited {worst:.3f} s for its answer"

# What each ID could steer to: the default TX queue 7 while not live (IDs
# 1..16 start free; 17..32 never are), every TX queue of every target.
allowed = {i: set() for i in range(33)}
allowed[0] = {7}
for i in range(1, 17):
    allowed[i].add(7)
for i in range(17, 33):
    allowed[i].add(i % 7)
for c in cl:
    for i, kind, t in c["targets"]:
        allowed[i] |= {t} if kind == "txq" else set(groups[t])

def per_id(d):
    return {q["id"]: q for q in d["queues"]}
b, a = per_id(before), per_id(after)
zero = {"packets": 0, "fallback_packets": 0}
for i in range(33):
    qa, qb = a.get(i, zero), b.get(i, zero)
    steered = qa["packets"] - qb["packets"]
    fell = qa["fallback_packets"] - qb["fallback_packets"]
    assert steered + fell == sent[i], f"ID {i}: sent {sent[i]}, vmq counted {steered} + {fell} fallbacks"
    if i > 16:
        assert fell == 0, f"ID {i}: always live, yet {fell} fallbacks"
kern = {t["txq"]: t["kernel"]["packets"] for t in after["txqs"]}
for t in before["txqs"]:
    kern[t["txq"]] -= t["kernel"]["packets"]
# Hall: a split exists iff every set T of TX queues got no more than the
# IDs that could reach T sent.
for k in range(1, 9):
    for T in itertools.combinations(range(8), k):
        got = sum(kern.get(t, 0) for t in T)
        could = sum(sent[i] for i in range(33) if allowed[i] & set(T))
        assert got <= could, f"TX queues {T} counted {got}, the IDs that could reach them sent {could} ({kern})"
n = sum(c["n"] for c in cl)
print(f"{n} requests, the slowest answered in {worst * 1000:.0f} ms; {sum(c['nctl'] for c in cl)} of them "
      f"vmqctl runs (slowest {worst_ctl * 1000:.0f} ms, its start included); {sum(len(c['targets']) for c in cl)} moves, "
      f"{sum(len(c['freed']) for c in cl)} dels, refusals by errno {dict(sum((collections.Counter(c['refused']) for c in cl), collections.Counter()))}; "
      f"{sum(sent.values())} datagrams per TX queue {[kern.get(t, 0) for t in range(8)]}")
EOF
	) || vmqt_fail "the clients' record and the counters disagree"
	vmqt_ok "$result"
	vmqt_ok "every request answered within 1 s, every packet counted under its ID and on TX queues its ID pointed to"
}

vmqt_cases "$@"
