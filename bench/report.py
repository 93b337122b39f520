#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""bench/report.py: the figures of `make bench`, from bench/run.sh's raw records.

  report.py maps PINDIR PID          vmq's BPF maps (pinned under PINDIR, or held
                                     by process PID) as a JSON list, from bpftool
  report.py render RAW MICRO OUT     prints the table, writes the JSON file OUT

RAW holds one record per line, fields separated by single spaces:
  meta KEY VALUE...                  machine and run facts
  e2e TOPO SEQ ROW RX NS RUN WAIT D0,..,D7
                                     one end-to-end window, number SEQ of
                                     topology TOPO's sequence, ROW "off" (no
                                     vmq) or a row: packets received at the
                                     wire, its length (ns), the sender's CPU
                                     time and run-queue wait in it (ns), and the
                                     uplink's per-TX-queue packet deltas
  e2elabel TOPO ROW HOOK PORTMODE    what vmqd reported with ROW on: `dev show`
                                     "hook", `port show` "mode" ("-": none)
  bpfstat MODE NAME CNT NS           BPF run-time stats in the attribution window
  ctl OP T0 T1                       one vmqctl invocation ($EPOCHREALTIME before
                                     and after)
  batch OP REP T0 T1                 one `vmqctl -b` of 4096 lines
  rss LABEL RSS HWM ANON FILE       vmqd VmRSS, VmHWM, RssAnon, RssFile (kB)
  live N                             live queues (`dev show`) after the batch
  bind LIVE REP BOUND_MS STEER_MS FRAMES STEERED QUEUE TXQ GAP_US
                                     one tap appearing under a port policy, LIVE
                                     other live queues (bench/latency.py bind):
                                     link creation -> `port show` lists it, and
                                     -> the first frame steered on its queue
  restore_state QUEUES GROUPS PORTS BYTES
                                     what the simulated reboot restores (state
                                     file size in bytes)
  restore REP T0 T1 LIVE             one simulated reboot: vmqd started at T0,
                                     answered `daemon ping` at T1; LIVE queues

Goals are reported, never asserted: this script exits non-zero only when its
input is missing or malformed.
"""
import json
import math
import os
import statistics
import subprocess
import sys

GOAL_DIRECT = 1.10
GOAL_PORT = 1.15         # port resolved by ingress ifindex (mark 0)
GOAL_FLAT = 1.02
GOAL_E2E = 0.99          # routed, port bound
GOAL_E2E_GATEWAY = 0.97  # bridge gateway, port bound
CI_LEVEL = 0.95
GOAL_BATCH_S = 0.5
GOAL_RSS_KB = 8 * 1024
GOAL_BIND_MS = 50.0


def bpftool_json(*args):
    out = subprocess.run(["bpftool", "-j", *args], capture_output=True, text=True)
    if out.returncode:
        return None
    return json.loads(out.stdout)


def cmd_maps(pindir, pid):
    """Maps pinned under pindir and maps process pid holds, once each."""
    ids, pinned = [], {}
    for root, _dirs, files in os.walk(pindir):
        for f in sorted(files):
            path = os.path.join(root, f)
            m = bpftool_json("map", "show", "pinned", path)
            if isinstance(m, dict) and "id" in m:
                pinned[m["id"]] = os.path.relpath(path, pindir)
                if m["id"] not in ids:
                    ids.append(m["id"])
    held = set()
    fdinfo = "/proc/%s/fdinfo" % pid
    for fd in sorted(os.listdir(fdinfo), key=int):
        try:
            with open(os.path.join(fdinfo, fd)) as h:
                text = h.read()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("map_id:"):
                mid = int(line.split()[1])
                held.add(mid)
                if mid not in ids:
                    ids.append(mid)
    maps = []
    for mid in ids:
        m = bpftool_json("map", "show", "id", str(mid))
        if not isinstance(m, dict):
            sys.exit("report.py: bpftool map show id %d failed" % mid)
        maps.append({
            "id": mid,
            "name": m.get("name", ""),
            "type": m.get("type", ""),
            "max_entries": m.get("max_entries", 0),
            "bytes_key": m.get("bytes_key", 0),
            "bytes_value": m.get("bytes_value", 0),
            "bytes_memlock": m.get("bytes_memlock", 0),
            "pinned": pinned.get(mid),
            "held_by_vmqd": mid in held,
        })
    json.dump(maps, sys.stdout, indent=1)
    print()


def pct(values, p):
    """Nearest-rank percentile."""
    s = sorted(values)
    return s[max(0, math.ceil(p / 100.0 * len(s)) - 1)]


def med(values):
    return statistics.median(values) if values else None


def parse_raw(path):
    raw = {"meta": {}, "e2e": [], "e2elabel": {}, "bpfstat": [], "ctl": {}, "batch": {}, "rss": {}, "live": None,
           "bind": {}, "restore": [], "restore_state": None}
    with open(path) as h:
        for n, line in enumerate(h, 1):
            f = line.rstrip("\n").split(" ")
            if not f or not f[0]:
                continue
            try:
                kind = f[0]
                if kind == "meta":
                    raw["meta"][f[1]] = " ".join(f[2:])
                elif kind == "e2e":
                    raw["e2e"].append({
                        "topology": f[1], "seq": int(f[2]), "mode": f[3],
                        "rx_packets": int(f[4]), "ns": int(f[5]), "sender_run_ns": int(f[6]),
                        "sender_wait_ns": int(f[7]),
                        "txq_packets": [int(x) for x in f[8].split(",")],
                    })
                elif kind == "e2elabel":
                    raw["e2elabel"][(f[1], f[2])] = {"hook": f[3], "port_mode": f[4]}
                elif kind == "bpfstat":
                    raw["bpfstat"].append({"mode": f[1], "prog": f[2], "run_cnt": int(f[3]),
                                           "run_time_ns": int(f[4])})
                elif kind == "ctl":
                    raw["ctl"].setdefault(f[1], []).append(
                        (float(f[3]) - float(f[2])) * 1000.0)
                elif kind == "batch":
                    raw["batch"].setdefault(f[1], []).append(float(f[4]) - float(f[3]))
                elif kind == "rss":
                    raw["rss"][f[1]] = {"rss_kb": int(f[2]), "hwm_kb": int(f[3]),
                                        "anon_kb": int(f[4]), "file_kb": int(f[5])}
                elif kind == "live":
                    raw["live"] = int(f[1])
                elif kind == "bind":
                    raw["bind"].setdefault(int(f[1]), []).append({
                        "run": int(f[2]), "bound_ms": float(f[3]), "steered_ms": float(f[4]),
                        "frames": int(f[5]), "steered_frames": int(f[6]), "queue": int(f[7]),
                        "txq": int(f[8]) if f[8].isdigit() else None, "gap_us": float(f[9]),
                    })
                elif kind == "restore_state":
                    raw["restore_state"] = {"queues": int(f[1]), "groups": int(f[2]),
                                            "ports": int(f[3]), "state_file_bytes": int(f[4])}
                elif kind == "restore":
                    raw["restore"].append({"run": int(f[1]), "t0": float(f[2]),
                                           "t1": float(f[3]), "live_queues": int(f[4]),
                                           "seconds": float(f[3]) - float(f[2])})
                else:
                    raise ValueError("unknown record " + kind)
            except (IndexError, ValueError) as e:
                sys.exit("report.py: %s line %d: %s: %r" % (path, n, e, line))
    return raw


def median_ci(values, level=CI_LEVEL):
    """(low, high, coverage): the distribution-free confidence interval for the
    median from order statistics: the k-th smallest and k-th largest value,
    k the largest rank with P(Binomial(n, 1/2) <= k - 1) <= (1 - level) / 2;
    coverage = 1 - 2 P(B <= k - 1), at least level. None when n is too small
    (n < 6 at 95 %)."""
    n = len(values)
    s = sorted(values)
    alpha = (1.0 - level) / 2.0
    cdf, k = 0.0, 0
    for i in range(n + 1):
        p = math.comb(n, i) / 2.0 ** n
        if cdf + p > alpha:
            break
        cdf += p
        k = i + 1
    if k == 0:
        return None
    return s[k - 1], s[n - k], 1.0 - 2.0 * cdf


E2E_TOPOLOGIES = {
    "routed": "the VM's port routed by the host to uplink 0",
    "bridged": "the VM's port and uplink 1 in one bridge: the host bridges",
    "gateway": "the VM's port in a bridge whose address is the VM's gateway; the host routes "
               "to uplink 2 (not in the bridge)",
}
E2E_ROWS = {
    "vmq": "vmq, port bound",
    "vmq_clsact": "same, vmqd with VMQ_TC_MODE=clsact",
    "empty": "empty tc programs at vmq's two hooks",
    "uplink": "vmq on the uplink only, no port bound",
}
E2E_VMQ_WHERE = {"routed": "routed from the port", "bridged": "bridged to the uplink",
                 "gateway": "bridge gateway, routed"}


def e2e_summary(raw):
    """Each row window over the mean of its two neighbouring no-vmq windows
    (the same topology, SEQ - 1 and SEQ + 1); per row the median of those
    ratios and its confidence interval."""
    seqs = {}
    for w in raw["e2e"]:
        w["pps"] = w["rx_packets"] * 1e9 / w["ns"]
        w["pps_per_cpu_s"] = w["rx_packets"] * 1e9 / w["sender_run_ns"] if w["sender_run_ns"] else 0
        seqs.setdefault(w["topology"], {})[w["seq"]] = w
    rows = []
    for topo in [t for t in E2E_TOPOLOGIES if t in seqs] + sorted(set(seqs) - set(E2E_TOPOLOGIES)):
        ws = seqs[topo]
        offs = [w for w in ws.values() if w["mode"] == "off"]
        per_row = {}
        for i, w in sorted(ws.items()):
            if w["mode"] == "off":
                continue
            a, b = ws.get(i - 1), ws.get(i + 1)
            if not a or not b or a["mode"] != "off" or b["mode"] != "off":
                sys.exit("report.py: %s window %d (%s) is not between two no-vmq windows" % (
                    topo, i, w["mode"]))
            w["ratio"] = w["pps"] / ((a["pps"] + b["pps"]) / 2.0)
            w["per_cpu_ratio"] = (w["pps_per_cpu_s"] / ((a["pps_per_cpu_s"] + b["pps_per_cpu_s"]) / 2.0)
                                  if a["pps_per_cpu_s"] and b["pps_per_cpu_s"] else None)
            per_row.setdefault(w["mode"], []).append(w)
        order = [r for r in E2E_ROWS if r in per_row] + sorted(set(per_row) - set(E2E_ROWS))
        for row in order:
            rw = per_row[row]
            ratios = [w["ratio"] for w in rw]
            cpu = [w["per_cpu_ratio"] for w in rw if w["per_cpu_ratio"] is not None]
            ci = median_ci(ratios)
            cci = median_ci(cpu)
            lab = raw["e2elabel"].get((topo, row), {"hook": "?", "port_mode": "-"})
            label = E2E_ROWS.get(row, row)
            if row == "vmq":
                label += " (%s)" % E2E_VMQ_WHERE.get(topo, topo)
            pps = med([w["pps"] for w in rw])
            off_pps = med([w["pps"] for w in offs])
            rows.append({
                "topology": topo, "row": row, "label": label,
                "hook": lab["hook"], "port_mode": lab["port_mode"],
                "n": len(ratios), "ratio": med(ratios),
                "ratio_basis": "per %s window: its pps / the mean pps of the no-vmq windows just "
                               "before and after it; median" % row,
                "ci_low": ci[0] if ci else None, "ci_high": ci[1] if ci else None,
                "ci_coverage": ci[2] if ci else None,
                "ci_method": "distribution-free, order statistics (binomial ranks)",
                "ratio_p25": pct(ratios, 25), "ratio_p75": pct(ratios, 75),
                "ratio_min": min(ratios), "ratio_max": max(ratios), "ratios": ratios,
                "per_cpu_ratio": med(cpu),
                "per_cpu_ci_low": cci[0] if cci else None, "per_cpu_ci_high": cci[1] if cci else None,
                "per_cpu_ratios": cpu,
                "sender_cpu_share_median": med([w["sender_run_ns"] / w["ns"] for w in rw]),
                "pps_median": pps, "pps_min": min(w["pps"] for w in rw),
                "pps_max": max(w["pps"] for w in rw),
                "off_pps_median": off_pps,
                "ratio_of_medians": pps / off_pps,
                "ns_per_packet_cpu_median": med([w["sender_run_ns"] / w["rx_packets"]
                                                 for w in rw if w["rx_packets"]]),
            })

    def find(topo, row):
        return next((r for r in rows if r["topology"] == topo and r["row"] == row), None)

    # Figure names of the earlier method, kept: the routed topology's.
    modes = {}
    routed = seqs.get("routed", {}).values()
    for mode in sorted({w["mode"] for w in routed}):
        ws = [w for w in routed if w["mode"] == mode]
        modes[mode] = {
            "windows": len(ws),
            "pps_median": med([w["pps"] for w in ws]),
            "pps_min": min(w["pps"] for w in ws),
            "pps_max": max(w["pps"] for w in ws),
            "pps_per_cpu_s_median": med([w["pps_per_cpu_s"] for w in ws]),
            "sender_cpu_share_median": med([w["sender_run_ns"] / w["ns"] for w in ws]),
            "ns_per_packet_cpu_median": med([w["sender_run_ns"] / w["rx_packets"]
                                             for w in ws if w["rx_packets"]]),
        }
    out = {"method": "alternating windows (no vmq, row, no vmq, row', ...) under one sender "
                     "per topology; each row window over the mean of its two neighbouring "
                     "no-vmq windows; median, %.0f %% CI for the median from order statistics"
                     % (CI_LEVEL * 100),
           "windows": raw["e2e"], "rows": rows, "modes": modes,
           "vmq_over_off": find("routed", "vmq"),
           "vmq_clsact_over_off": find("routed", "vmq_clsact"),
           "empty_over_off": find("routed", "empty"),
           "uplink_over_off": find("routed", "uplink"),
           "bridged_vmq_over_off": find("bridged", "vmq"),
           "gateway_vmq_over_off": find("gateway", "vmq"),
           "vmq_over_empty": None}
    if out["vmq_over_off"] and out["empty_over_off"]:
        out["vmq_over_empty"] = {
            "ratio": out["vmq_over_off"]["ratio"] / out["empty_over_off"]["ratio"],
            "ratio_basis": "derived: median of vmq/off over median of empty/off (not adjacent "
                           "windows)"}
    att = {}
    for s in raw["bpfstat"]:
        att.setdefault(s["mode"], {})[s["prog"]] = {
            "run_cnt": s["run_cnt"], "run_time_ns": s["run_time_ns"],
            "ns_per_run": s["run_time_ns"] / s["run_cnt"] if s["run_cnt"] else None}
    out["bpf_run_time"] = att
    return out


def render(raw_path, micro_path, out_path):
    raw = parse_raw(raw_path)
    with open(micro_path) as h:
        micro = json.load(h)
    maps_path = os.path.join(os.path.dirname(raw_path), "maps.json")
    with open(maps_path) as h:
        maps = json.load(h)
    meta = raw["meta"]
    e2e = e2e_summary(raw)
    lines = []
    goals = []

    def say(s=""):
        lines.append(s)

    def goal(name, value, text, met):
        goals.append({"goal": name, "value": value, "target": text, "met": met})
        return "%-9s %s" % (text, "met" if met else "MISSED")

    say("vmq benchmark  %s" % meta.get("date", ""))
    say("machine: %s CPUs, %s, kernel %s; load average %s at start, %s at end" % (
        meta.get("nproc", "?"), meta.get("cpu", "?"), meta.get("kernel", "?"),
        meta.get("load_start", "?"), meta.get("load_end", "?")))
    say()

    # --- data plane --------------------------------------------------------
    cases = micro["cases"]

    def case(path, ids, live):
        for c in cases:
            if c["path"] == path and c["ids"] == ids and c["live_queues"] == live:
                return c
        sys.exit("report.py: no %s/%s/%d case in %s" % (path, ids, live, micro_path))

    lives = sorted({c["live_queues"] for c in cases})
    say("DATA PLANE  vmq_tx per packet, BPF_PROG_TEST_RUN, CPU ns (kernel ns); "
        "%d rounds x %d runs" % (micro["rounds"], micro["repeat"]))
    say("%-36s %14s %14s %14s  %s" % ("live VM queues", *("%d" % l for l in lives), "goal"))
    say("%-36s %14s" % ("empty tc program", "%.2f (%.0f)" % (micro["empty_cpu_ns_median"],
                                                              micro["empty_ns_median"])))
    labels = {"port": "port (mark 0, bound ingress ifindex)"}
    for path in ("direct", "group", "fallback", "port"):
        if not any(c["path"] == path for c in cases):
            continue  # a JSON from before the port path
        row = [case(path, "same", l) for l in lives]
        say("%-36s %14s %14s %14s" % (labels.get(path, "%s, same ID" % path),
                                       *("%.2f (%.0f)" % (c["cpu_ns_median"], c["ns_median"])
                                         for c in row)))
        worst = max(c["ratio"] for c in row)
        g = ""
        if path == "direct":
            g = goal("direct path / empty program", worst, "<= %.2fx" % GOAL_DIRECT,
                     worst <= GOAL_DIRECT)
        elif path == "port":
            g = goal("port resolved at the uplink / empty program", worst,
                     "<= %.2fx" % GOAL_PORT, worst <= GOAL_PORT)
        say("%-36s %14s %14s %14s  %s" % ("  x empty (per-round ratio), +ns",
                                           *("%.3fx %+.1f" % (c["ratio"],
                                                               c["above_baseline_cpu_ns"])
                                             for c in row), g))
    row = [case("direct", "random", l) for l in lives]
    say("%-36s %14s %14s %14s" % ("direct, random live ID per packet",
                                   *("%.2f (%.0f)" % (c["cpu_ns_median"], c["ns_median"])
                                     for c in row)))
    say("%-36s %14s %14s %14s" % ("  above its baseline (wrapper+empty)",
                                   *("+%.2f" % c["above_baseline_cpu_ns"] for c in row)))
    for fl in micro["flatness"]:
        say("%-36s %14s %14s %14s  %s  (rounds %.2f-%.2f)" % (
            "flat: direct, %d over 1, %s ID" % (fl["to_live"], fl["ids"]),
            "", "", "%.3fx" % fl["ratio"],
            goal("flat across queue counts (%s ID)" % fl["ids"], fl["ratio"],
                 "<= %.2fx" % GOAL_FLAT, fl["ratio"] <= GOAL_FLAT),
            fl["ratio_min"], fl["ratio_max"]))
    say()

    # --- end to end --------------------------------------------------------
    say("END TO END  1 VM, unpaced UDP (64 B payload, 4 flows, the sender pinned to CPU %s) -> "
        "host -> uplink (8 TX queues, mq)" % meta.get("sender_cpu", "?"))
    covs = sorted({"%.1f %%" % (r["ci_coverage"] * 100) for r in e2e["rows"]
                   if r["ci_coverage"] is not None})
    say("            -> wire; packets received at the wire per second in alternating %s s windows "
        "(no vmq, row, no vmq," % meta.get("e2e_seconds", "?"))
    say("            row', ...); each row window over the mean of its two neighbouring no-vmq "
        "windows: the median of")
    say("            those n ratios and its %.0f %% CI (distribution-free, from order statistics; "
        "exact coverage %s)." % (CI_LEVEL * 100, " or ".join(covs or ["-"])))
    say("            per CPU-s: the same in packets per CPU-second of the sender (its run time, "
        "softirq included)")
    say("%-44s %-6s %-6s %3s %6s %-13s %9s %-13s %6s  %s" % (
        "", "hook", "port", "n", "median", "CI", "per CPU-s", "CI", "no vmq", "goal"))
    goal_of = {("routed", "vmq"): ("end-to-end ratio with/without vmq", GOAL_E2E),
               ("gateway", "vmq"): ("end-to-end ratio with/without vmq, bridge gateway",
                                    GOAL_E2E_GATEWAY)}
    topo = None
    for r in e2e["rows"]:
        if r["topology"] != topo:
            topo = r["topology"]
            say("%s: %s" % (topo, E2E_TOPOLOGIES.get(topo, "")))
        ci = ("%.3f-%.3f" % (r["ci_low"], r["ci_high"]) if r["ci_low"] is not None else "n too small")
        cci = ("%.3f-%.3f" % (r["per_cpu_ci_low"], r["per_cpu_ci_high"])
               if r["per_cpu_ci_low"] is not None else "-")
        g = ""
        if (topo, r["row"]) in goal_of:
            name, target = goal_of[(topo, r["row"])]
            g = goal(name, r["ratio"], ">= %.2f" % target, r["ratio"] >= target)
        label = ("    " if r["row"] == "vmq_clsact" else "  ") + E2E_ROWS.get(r["row"], r["row"])
        if r["row"] == "vmq":
            label += " (%s)" % E2E_VMQ_WHERE.get(topo, topo)
        say("%-44s %-6s %-6s %3d %6.3f %-13s %9s %-13s %5.0fk  %s" % (
            label, r["hook"], r["port_mode"], r["n"], r["ratio"], ci,
            "%.3f" % r["per_cpu_ratio"] if r["per_cpu_ratio"] is not None else "-", cci,
            r["off_pps_median"] / 1000.0, g))
    say("  %s" % ("no vmq: the median pps of the topology's no-vmq windows; the sender's CPU "
                   "share (median): %s" % ", ".join(
                              "%s %.2f" % (t, med([w["sender_run_ns"] / w["ns"] for w in e2e["windows"]
                                                   if w["topology"] == t]))
                              for t in E2E_TOPOLOGIES if any(w["topology"] == t
                                                             for w in e2e["windows"]))))
    if e2e["vmq_over_empty"]:
        say("%-44s %s" % ("  routed: vmq / empty programs",
                          "%.3f (the two medians' ratio)" % e2e["vmq_over_empty"]["ratio"]))
    att = e2e["bpf_run_time"]
    floor = None
    if "empty" in att:
        runs = [v["ns_per_run"] for v in att["empty"].values() if v["ns_per_run"] is not None]
        floor = med(runs) if runs else None
    if "vmq" in att:
        parts = []
        for p, v in sorted(att["vmq"].items()):
            if v["ns_per_run"] is None:
                continue
            parts.append("%s %.1f" % (p, v["ns_per_run"]) +
                         (" (+%.1f)" % (v["ns_per_run"] - floor) if floor is not None else ""))
        say("%-36s %s ns per packet" % ("  routed: BPF run-time stats", ", ".join(parts)))
        if floor is not None:
            say("%-36s %s  (+: above the empty program at the same hooks, %.1f ns: the "
                "stats' own clock reads)" % ("", "", floor))
    say()

    # --- control plane -----------------------------------------------------
    ctl = {}
    say("CONTROL PLANE  vmqctl -> vmqd over the Unix socket; each figure includes "
        "starting the vmqctl process")
    for op, label in (("set", "vmqctl queue set (one op)"), ("ping", "vmqctl daemon ping (floor)")):
        v = raw["ctl"].get(op)
        if not v:
            continue
        ctl[op] = {"n": len(v), "p50_ms": pct(v, 50), "p99_ms": pct(v, 99),
                   "min_ms": min(v), "max_ms": max(v), "samples_ms": v}
        say("%-36s %14s  p99 %.2f ms  (min %.2f, max %.2f; n=%d)" % (
            label, "p50 %.2f ms" % ctl[op]["p50_ms"], ctl[op]["p99_ms"], min(v), max(v), len(v)))
    for op in ("add", "del"):
        v = raw["batch"].get(op)
        if not v:
            continue
        ctl["batch_" + op] = {"lines": 4096, "runs_s": v, "median_s": med(v)}
        g = ""
        if op == "add":
            g = goal("4096 queue adds (one vmqctl -b)", med(v), "< %.1f s" % GOAL_BATCH_S,
                     med(v) < GOAL_BATCH_S)
        say("%-36s %14s  runs %s  %s" % (
            "vmqctl -b, 4096 queue %s" % op, "%.3f s" % med(v),
            " ".join("%.3f" % x for x in v), g))
    say()

    # --- memory ------------------------------------------------------------
    rss = raw["rss"]
    say("MEMORY  4096 queues added, map of %s queue IDs, %s possible CPUs" % (
        meta.get("map_ids", "?"), meta.get("possible_cpus", "?")))
    q = rss.get("queues")
    if q:
        say("%-36s %14s  %s" % (
            "vmqd resident (VmRSS)", "%.2f MiB" % (q["rss_kb"] / 1024.0),
            goal("vmqd resident memory", q["rss_kb"], "< 8 MiB", q["rss_kb"] < GOAL_RSS_KB)))
        say("%-36s %14s  anonymous %.2f, file-backed %.2f; peak (VmHWM) %.2f" % (
            "", "", q["anon_kb"] / 1024.0, q["file_kb"] / 1024.0, q["hwm_kb"] / 1024.0))
        say("%-36s %14s  at start %.2f MiB (anonymous %.2f), attached %.2f" % (
            "", "", rss["start"]["rss_kb"] / 1024.0, rss["start"]["anon_kb"] / 1024.0,
            rss["attached"]["rss_kb"] / 1024.0))
    total = sum(x["bytes_memlock"] for x in maps)
    say("%-36s %14s  in %d maps:" % ("BPF maps (memlock)", "%.2f MiB" % (total / 1048576.0),
                                      len(maps)))
    for x in sorted(maps, key=lambda x: -x["bytes_memlock"]):
        say("  %-34s %14s  %s, %d entries x %d B" % (
            x["name"], "%.1f KiB" % (x["bytes_memlock"] / 1024.0), x["type"],
            x["max_entries"], x["bytes_value"]))
    say()

    # --- port policy ---------------------------------------------------------
    policy = {}
    if raw["bind"]:
        say("PORT POLICY  `dev set UPLINK ports 'PREFIX*'`; a tap appears and its VM sends at once "
            "(a frame every ~0.1 ms);")
        say("             ms from the link's creation to the first frame steered on the port's own "
            "queue (the goal: worst")
        say("             of %d links) and to `port show` listing the binding (asked every 1 ms)" %
            max(len(v) for v in raw["bind"].values()))
        for live in sorted(raw["bind"]):
            runs = raw["bind"][live]
            bound = [r["bound_ms"] for r in runs]
            steer = [r["steered_ms"] for r in runs]
            entry = {"runs": runs}
            for key, v in (("bound_ms", bound), ("steered_ms", steer)):
                entry[key] = {"p50": pct(v, 50), "p95": pct(v, 95), "max": max(v),
                              "min": min(v)}
            # Bound before the tap's first frame: that frame is the figure.
            entry["runs_bound_before_first_frame"] = sum(
                1 for r in runs if r["steered_frames"] == r["frames"])
            gaps = [r["gap_us"] for r in runs if r["steered_frames"] < r["frames"]]
            entry["gap_us"] = {"p50": med(gaps), "max": max(gaps)} if gaps else None
            policy[str(live)] = entry
            what = "%d live queue%s" % (live, "" if live == 1 else "s")
            st = entry["steered_ms"]
            say("%-36s %14s  p95 %.1f  max %.1f ms  %s" % (
                "first steered, %s" % what, "p50 %.1f ms" % st["p50"], st["p95"],
                st["max"], goal("port policy: link -> first packet steered (worst), %s" % what,
                                st["max"], "<= %.0f ms" % GOAL_BIND_MS,
                                st["max"] <= GOAL_BIND_MS)))
            b = entry["bound_ms"]
            say("%-36s %14s  p95 %.1f  max %.1f ms" % (
                "  port show lists it", "p50 %.1f ms" % b["p50"], b["p95"], b["max"]))
        gaps = [r["gap_us"] for v in raw["bind"].values() for r in v
                if r["steered_frames"] < r["frames"]]
        if gaps:
            say("  %-34s %14s  p50 %.2f ms, max %.2f: the gap before the first steered frame" % (
                "resolution", "", med(gaps) / 1000.0, max(gaps) / 1000.0))
        say("  %-34s %14s  %s" % (
            "bound before the tap's first frame", "",
            ", ".join("%d of %d runs (%d live)" % (e["runs_bound_before_first_frame"],
                                                  len(e["runs"]), int(live))
                      for live, e in sorted(policy.items(), key=lambda x: int(x[0])))))
        say()

    # --- restore -------------------------------------------------------------
    restore = {}
    if raw["restore"]:
        st = raw["restore_state"] or {}
        runs = raw["restore"]
        restore = {"state": st, "runs": runs, "median_s": med([r["seconds"] for r in runs])}
        say("RESTORE  simulated reboot: vmqd killed (-9), its pins and clsact removed, started again "
            "on its state file")
        say("         (%s queues, %s groups, %s ports, a port policy; %.0f KiB); start -> first "
            "daemon ping answer" % (st.get("queues", "?"), st.get("groups", "?"),
                                    st.get("ports", "?"), st.get("state_file_bytes", 0) / 1024.0))
        say("%-36s %14s  runs %s  (state equal after each)" % (
            "restore, %d runs" % len(runs), "%.3f s" % restore["median_s"],
            " ".join("%.3f" % r["seconds"] for r in runs)))
        say()
    say("Goals: %d of %d met. Figures only: a missed goal never fails `make bench`." % (
        sum(1 for g in goals if g["met"]), len(goals)))

    doc = {
        "tool": "make bench",
        "date": meta.get("date"),
        "machine": {k: meta.get(k) for k in ("nproc", "possible_cpus", "cpu", "kernel",
                                             "load_start", "load_end")},
        "goals": goals,
        "dataplane": micro,
        "end_to_end": dict(e2e, seconds=float(meta.get("e2e_seconds", "0")),
                           windows_per_row=int(meta.get("e2e_pairs", "0")),
                           sender_cpu=meta.get("sender_cpu")),
        "control_plane": ctl,
        "memory": {
            "map_queue_ids": int(meta.get("map_ids", "0")),
            "live_queues": raw["live"],
            "vmqd_kb": rss,
            "maps": maps,
            "maps_memlock_total_bytes": total,
        },
        "port_policy": policy,
        "restore": restore,
        "table": lines,
    }
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    tmp = out_path + ".tmp"
    with open(tmp, "w") as h:
        json.dump(doc, h, indent=1)
        h.write("\n")
    os.replace(tmp, out_path)
    print("\n".join(lines))
    # The path as the reader would type it: relative to the top of the tree.
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    shown = os.path.abspath(out_path)
    if shown.startswith(top + os.sep):
        shown = os.path.relpath(shown, top)
    print("JSON: %s" % shown)


def main(argv):
    if len(argv) == 4 and argv[1] == "maps":
        cmd_maps(argv[2], argv[3])
    elif len(argv) == 5 and argv[1] == "render":
        render(argv[2], argv[3], argv[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
