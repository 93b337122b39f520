#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""maps_check.py DIR [--labelled]: vmqd's view of one uplink against its pins.

DIR holds the files the caller wrote:
  queues.json  `vmqctl -j queue show DEV`
  groups.json  `vmqctl -j group show DEV`
  mq.json      `bpftool -j map dump pinned .../maps/vmq_queues`
  mg.json      `bpftool -j map dump pinned .../maps/vmq_groups`
  mm.json      `bpftool -j map dump pinned .../maps/vmq_queue_meta`
  ms.json      `bpftool -j map dump pinned .../maps/vmq_queue_stats` (optional)

Checks, entry by entry: the live queues (state != FREE, and queue 0) are
exactly what queue show lists, with the same target; the groups with TX
queues are exactly what group show lists, with the same TX queues and
members; every metadata entry belongs to a live queue (queue 0 always is)
and says the vm and name queue show says; every group member points at a
group that exists; each CPU's copy of an entry (vmq_queue_stats, what the
program reads first) is the entry or free (then the program reads the
entry). --labelled: every live queue but 0 also has metadata
(the caller added each one with a vm).

Prints one line of figures and exits 0, or prints every mismatch and
exits 1.
"""
import json
import os
import sys

FREE, TXQ, GROUP, KERNEL = 0, 1, 2, 3


def load(d, name):
    with open(os.path.join(d, name), encoding="utf-8") as f:
        return json.load(f)


def dump(d, name):
    """key -> value of a `bpftool -j map dump` (BTF-formatted when raw)."""
    return {e["key"]: e["value"] for e in (x.get("formatted", x) for x in load(d, name))}


def text(v):
    """A char array as bpftool prints it: a string, or a list of bytes."""
    if isinstance(v, str):
        return v
    return bytes(int(b, 0) if isinstance(b, str) else b for b in v).split(b"\0")[0].decode()


def main():
    d = sys.argv[1]
    labelled = "--labelled" in sys.argv[2:]
    bad = []
    shown = {q["id"]: q for q in load(d, "queues.json")["queues"]}
    gshown = {g["id"]: g for g in load(d, "groups.json")["groups"]}
    entries = dump(d, "mq.json")
    groups = dump(d, "mg.json")
    metas = dump(d, "mm.json")

    live = {i: e for i, e in entries.items() if e["state"] != FREE or i == 0}
    for i in sorted(set(live) | set(shown)):
        if i not in live:
            bad.append(f"queue {i}: shown by vmqd, free in the map")
            continue
        if i not in shown:
            bad.append(f"queue {i}: live in the map {live[i]}, not shown by vmqd")
            continue
        e, q = live[i], shown[i]
        want = {TXQ: ("txq", e["target"]), GROUP: ("group", e["target"]),
                KERNEL: ("txq", "auto"), FREE: ("txq", "auto")}[e["state"]]
        if q.get(want[0]) != want[1]:
            bad.append(f"queue {i}: map {e}, vmqd {q}")
        if e["state"] == GROUP and groups.get(e["target"], {}).get("ntxqs", 0) == 0:
            bad.append(f"queue {i}: member of group {e['target']}, which does not exist")
    for i, m in metas.items():
        if i not in live:
            bad.append(f"queue {i}: metadata {m} without a live entry")
            continue
        for k in ("vm", "name"):
            v = text(m[k])
            if (v or None) != shown.get(i, {}).get(k):
                bad.append(f"queue {i}: metadata {k} '{v}', vmqd shows {shown.get(i, {}).get(k)}")
    if labelled:
        for i in live:
            if i and i not in metas:
                bad.append(f"queue {i}: live, added with a vm, but no metadata")
    if os.path.exists(os.path.join(d, "ms.json")):
        for e in (x.get("formatted", x) for x in load(d, "ms.json")):
            for c in e["values"]:
                copy, truth = c["value"]["entry"], entries.get(e["key"])
                if copy["state"] != FREE and copy != truth:
                    bad.append(f"queue {e['key']}: CPU {c['cpu']}'s copy {copy}, the entry {truth}")
    ingroups = {g: v for g, v in groups.items() if v["ntxqs"]}
    for g in sorted(set(ingroups) | set(gshown)):
        if g not in ingroups:
            bad.append(f"group {g}: shown by vmqd, empty in the map")
        elif g not in gshown:
            bad.append(f"group {g}: in the map {ingroups[g]['txqs'][:ingroups[g]['ntxqs']]}, not shown")
        else:
            txqs = ingroups[g]["txqs"][: ingroups[g]["ntxqs"]]
            members = sorted(i for i, e in live.items() if e["state"] == GROUP and e["target"] == g)
            if gshown[g]["txqs"] != txqs or sorted(gshown[g]["members"]) != members:
                bad.append(f"group {g}: map txqs {txqs} members {members}, vmqd {gshown[g]}")
    if bad:
        print("\n".join(bad[:40]))
        if len(bad) > 40:
            print(f"... {len(bad) - 40} more")
        sys.exit(1)
    print(f"{len(live)} live queues, {len(metas)} metadata entries, {len(ingroups)} groups: equal")


main()
