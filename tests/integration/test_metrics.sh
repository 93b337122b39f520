#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Prometheus exposition (`vmqd --metrics`), end to end: a host with three
# VMs bound to their queues (one on a group, one named with a quote and a
# backslash), real traffic from the VMs and the host, fallbacks of two kinds.
#
#   off by default      vmqd without --metrics listens on no TCP port
#   only a port         --metrics PORT listens on 127.0.0.1:PORT, nothing else
#   bad arguments       exit 1 with one line quoting the argument; no socket
#   port in use         a second vmqd on the same port exits 1, naming the
#                       address and the reason; the first keeps serving
#   /metrics            parses with Debian's prometheus_client; every sample
#                       is one of `vmqctl -j stats` taken at the same moment
#                       and every figure of it is a sample (nothing more,
#                       nothing less); vmq_txq_kernel_packets_total equals
#                       the kernel's mq per-TX-queue counters; the VMs' counts
#                       are what they sent; label values round-trip exactly
#   HTTP                Content-Type 0.0.4; 404 elsewhere; 405 with Allow for
#                       POST; HEAD; scrapes while vmqctl changes state
#   stop                SIGTERM: exit 0, the port closed
#
# Cases (tests/run.sh test_metrics CASE...): off_by_default, port_only,
# bad_arguments; then second_on_port, exposition, http and
# concurrent_scrapes, each with a vmqd of its own from its start to its
# SIGTERM (the stop checks end each of them).
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/topology.sh
. "$(dirname "$0")/topology.sh"
vmqt_init curl ss timeout
vmqt_need_python
"$VMQT_PY" -c 'import prometheus_client.parser' 2>/dev/null ||
	vmqt_skip "$VMQT_PY has no prometheus_client (Debian package python3-prometheus-client; make deps installs it)"
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl" "$BUILD/tests/vmq-udpsend"

N=200          # datagrams per step
FLOWS=4
DEV=vmqup0
DEFAULT_TXQ=7
PORT=9300      # in the test's own host namespace: nothing else there
URL=http://127.0.0.1:$PORT/metrics
declare -A QID=([1]=21 [2]=300 [3]=4095)
declare -A VM=([1]=web1 [2]='db"2\x' [3]=cache3)
BEYOND_MARK=5000 # beyond the 4096-entry queue map

vmqt_topo_host 1
for v in 1 2 3; do
	vmqt_vm_add "$v"
done
HNS=$VMQT_HOST_NS
# The host namespace's loopback, where the metrics port lives.
vmqt_run ip -n "$HNS" link set dev lo up
# The bpffs and pin directory every vmqd of the cases uses (bad_arguments too).
vmqt_bpffs_mount
VMQT_PINS=$VMQT_BPFFS/vmq

# ss -Hltn in the host namespace: its TCP listeners, one per line.
listeners() {
	vmqt_in "$HNS" ss -Hltnp
}

# --- off by default ---------------------------------------------------------------------
vmqt_case off_by_default
case_off_by_default() {
	vmqt_topo_vmqd_start
	vmqt_assert_eq "TCP listeners in $HNS, vmqd without --metrics" "" "$(listeners)"
	vmqt_vmqd_kill "$VMQT_VMQD_PID" TERM
	vmqt_assert_eq "exit status of vmqd (SIGTERM)" 0 "$VMQT_KILL_RC"
	vmqt_ok "without --metrics, vmqd listens on no TCP port"
}

# --- only a port: loopback ----------------------------------------------------------------
vmqt_case port_only
case_port_only() {
	vmqt_topo_vmqd_start --metrics "$PORT"
	out=$(listeners)
	vmqt_assert_eq "TCP listeners with --metrics $PORT (ss -Hltnp: $out)" 1 "$(wc -l <<<"$out")"
	vmqt_assert_match "the listener of --metrics $PORT" \
		"^LISTEN +[0-9]+ +[0-9]+ +127\.0\.0\.1:$PORT +0\.0\.0\.0:\* +users:\(\(\"vmqd\",pid=$VMQT_VMQD_PID," "$out"
	vmqt_assert_match "vmqd's log" "^vmqd: info: metrics on http://127\.0\.0\.1:$PORT/metrics\$" \
		"$(cat "$VMQT_VMQD_LOG")"
	code=$(vmqt_in "$HNS" curl -s -o /dev/null -w '%{http_code}' "$URL")
	vmqt_assert_eq "GET $URL" 200 "$code"
	vmqt_vmqd_kill "$VMQT_VMQD_PID" TERM
	vmqt_assert_eq "exit status of vmqd --metrics (SIGTERM)" 0 "$VMQT_KILL_RC"
	vmqt_assert_eq "TCP listeners after vmqd --metrics stopped" "" "$(listeners)"
	vmqt_ok "--metrics $PORT: 127.0.0.1:$PORT only, vmqd's own; closed at SIGTERM (exit 0)"
}

# --- bad arguments ------------------------------------------------------------------------
vmqt_case bad_arguments
case_bad_arguments() {
	for arg in 0 65536 abc 12abc -1 "+$PORT" "localhost:$PORT" "1.2.3:$PORT" "::1:$PORT" \
		"[::1]$PORT" "127.0.0.1:" ":$PORT"; do
		rc=0
		out=$(ip netns exec "$HNS" timeout 10 "$BUILD/vmqd" -d "$VMQT_TMP/state-bad" -s "$VMQT_TMP/bad.sock" -b "$VMQT_PINS" \
			--metrics "$arg" 2>&1) || rc=$?
		vmqt_assert_eq "vmqd --metrics '$arg': exit status (output: $out)" 1 "$rc"
		vmqt_assert_eq "vmqd --metrics '$arg': lines of output ($out)" 1 "$(wc -l <<<"$out")"
		[[ $out == "vmqd: --metrics \"$arg\": "*'; try "vmqd --help"' ]] ||
			vmqt_fail "vmqd --metrics '$arg': expected 'vmqd: --metrics \"$arg\": <reason>; try \"vmqd --help\"', got '$out'"
		[ ! -e "$VMQT_TMP/bad.sock" ] || vmqt_fail "vmqd --metrics '$arg' created its socket"
	done
	vmqt_log "e.g. $out"
	vmqt_ok "bad --metrics arguments: exit 1, one line quoting the argument, nothing created"
}

# --- the daemon under test ----------------------------------------------------------------
# serve: vmqd --metrics on $PORT, the uplink attached, the VMs' queues and ports.
serve() {
	vmqt_topo_vmqd_start --metrics "127.0.0.1:$PORT"
	MPID=$VMQT_VMQD_PID
	# The vmqd of an earlier case left the uplink attached (adopted now): a clean one.
	if [ "$(vmqt_ctl -j dev show | vmqt_json 'len(j["devs"])')" -ne 0 ]; then
		vmqt_ctl dev detach "$DEV" >/dev/null
	fi
	vmqt_ctl dev attach "$DEV" default-txq "$DEFAULT_TXQ" queues 4096 >/dev/null
	vmqt_ctl group add "$DEV" id 1 txqs 4,5 >/dev/null
	vmqt_ctl queue add "$DEV" id "${QID[1]}" txq 1 vm "${VM[1]}" >/dev/null
	vmqt_ctl queue add "$DEV" id "${QID[2]}" group 1 vm "${VM[2]}" >/dev/null
	vmqt_ctl queue add "$DEV" id "${QID[3]}" txq 2 vm "${VM[3]}" >/dev/null
	for v in 1 2 3; do
		vmqt_ctl port bind "vmqtap$v" dev "$DEV" queue "${QID[$v]}" >/dev/null
	done
	vmqt_ok "vmqd $MPID --metrics 127.0.0.1:$PORT; $DEV: queues ${QID[1]} (txq 1), ${QID[2]} (group 1: txqs 4,5), ${QID[3]} (txq 2), ports bound"
}

# stop_served: SIGTERM to serve's vmqd: exit 0, the port closed, its log clean.
stop_served() {
	vmqt_vmqd_kill "$MPID" TERM
	vmqt_assert_eq "exit status of vmqd --metrics (SIGTERM)" 0 "$VMQT_KILL_RC"
	vmqt_assert_eq "TCP listeners after vmqd stopped" "" "$(listeners)"
	if grep -E 'error|warning' "$VMQT_VMQD_LOG"; then
		vmqt_fail "vmqd logged errors or warnings:$(sed 's/^/   | /' "$VMQT_VMQD_LOG")"
	fi
	vmqt_ok "SIGTERM: vmqd exited 0, port $PORT closed, its log clean"
}

scrape() { # OUT HEADERS
	vmqt_in "$HNS" curl -sS --fail -D "$2" -o "$1" "$URL" >/dev/null
}

# Checks the exposition against the stats, the kernel and the traffic sent;
# prints one line per failure (what, expected, actual), "ok ..." otherwise.
cat >"$VMQT_TMP/check.py" <<'EOF'
import json, sys
from prometheus_client.parser import text_string_to_metric_families

text_path, stats_path, devs_path, mq, dev, n = sys.argv[1:7]
n = int(n)
q1, q2, q3 = (int(x) for x in sys.argv[7:10])
vm1, vm2, vm3 = sys.argv[10:13]
mq = [int(x) for x in mq.split()]
text = open(text_path).read()
stats = json.load(open(stats_path))
devs = json.load(open(devs_path))
bad = []

def check(what, want, got):
    if want != got:
        bad.append("%s: expected %r, got %r" % (what, want, got))

# Parsed by the reference parser; the format's own rules.
samples = {}
types = {}
for fam in text_string_to_metric_families(text):
    types[fam.name] = fam.type
    if fam.type == "counter":
        check("counter %s: sample names" % fam.name, {fam.name + "_total"},
              {s.name for s in fam.samples})
    elif fam.type != "gauge":
        bad.append("family %s: type %s" % (fam.name, fam.type))
    for s in fam.samples:
        key = (s.name, tuple(sorted(s.labels.items())))
        if key in samples:
            bad.append("sample %s given twice" % (key,))
        if s.value != int(s.value) or s.value < 0:
            bad.append("sample %s: value %r" % (key, s.value))
        samples[key] = int(s.value)
for line in text.splitlines():
    if line.startswith("# TYPE "):
        name, typ = line[7:].split(" ")
        check("TYPE %s: counters end in _total" % name, typ == "counter", name.endswith("_total"))

# Every figure of `vmqctl -j stats` is a sample, and nothing else is.
want = {("vmq_up", ()): 1}
def put(name, labels, value):
    want[(name, tuple(sorted(labels.items())))] = value
live_queues = {d["dev"]: d["live_queues"] for d in devs["devs"]}
for d in stats["devs"]:
    L = {"dev": d["dev"]}
    put("vmq_queues_live", L, live_queues[d["dev"]])
    for q in d["queues"]:
        ql = dict(L, queue=str(q["id"]))
        if "vm" in q:
            ql["vm"] = q["vm"]
        put("vmq_queue_live", ql, int("txq" in q or "group" in q))
        for k in ("packets", "bytes", "fallback_packets", "fallback_bytes"):
            put("vmq_queue_%s_total" % k, ql, q[k])
    for t in d["txqs"]:
        tl = dict(L, txq=str(t["txq"]))
        if "kernel" in t:
            put("vmq_txq_kernel_packets_total", tl, t["kernel"]["packets"])
            put("vmq_txq_kernel_bytes_total", tl, t["kernel"]["bytes"])
        if "bql_inflight" in t:
            put("vmq_txq_bql_inflight_bytes", tl, t["bql_inflight"])
    for k in ("packets", "bytes"):
        put("vmq_kernel_choice_%s_total" % k, L, d["kernel_choice"][k])
        for reason, c in d["fallbacks"].items():
            put("vmq_fallback_%s_total" % k, dict(L, reason=reason), c[k])
    for k in ("moves", "moves_waited", "moves_gave_up"):
        put("vmq_balance_%s_total" % k, L, d["balance"][k])
for key in sorted(set(want) | set(samples)):
    check("sample %s{%s}" % (key[0], ",".join("%s=%r" % kv for kv in key[1])),
          want.get(key, "(absent)"), samples.get(key, "(absent)"))

# The kernel's per-TX-queue counters (mq classes).
def m(name, **labels):
    return samples.get((name, tuple(sorted(dict(labels, dev=dev).items()))), 0)
for q, kernel in enumerate(mq):
    check("vmq_txq_kernel_packets_total{txq=%d} vs mq class 1:%x" % (q, q + 1), kernel,
          samples.get(("vmq_txq_kernel_packets_total", (("dev", dev), ("txq", str(q)))),
                      "(absent)"))

# What was sent.
check("VM 1: vmq_queue_packets_total", n, m("vmq_queue_packets_total", queue=str(q1), vm=vm1))
check("VM 2: vmq_queue_packets_total (label vm=%r)" % vm2, n,
      m("vmq_queue_packets_total", queue=str(q2), vm=vm2))
check("VM 3: vmq_queue_packets_total before its queue was freed", n,
      sum(v for (name, l), v in samples.items()
          if name == "vmq_queue_packets_total" and ("queue", str(q3)) in l))
check("VM 3: vmq_queue_fallback_packets_total after", n,
      sum(v for (name, l), v in samples.items()
          if name == "vmq_queue_fallback_packets_total" and ("queue", str(q3)) in l))
check("queue 0: vmq_queue_packets_total (host, unmarked)", n, m("vmq_queue_packets_total", queue="0"))
check("vmq_fallback_packets_total{reason=not_live}", n, m("vmq_fallback_packets_total", reason="not_live"))
check("vmq_fallback_packets_total{reason=beyond_map}", n, m("vmq_fallback_packets_total", reason="beyond_map"))
check("vmq_fallback_packets_total{reason=bad_group}", 0, m("vmq_fallback_packets_total", reason="bad_group"))
check("vmq_txq_kernel_packets_total, all TX queues", 6 * n,
      sum(v for (name, l), v in samples.items() if name == "vmq_txq_kernel_packets_total"))
check("vmq_queues_live (queues %d and %d)" % (q1, q2), 2, m("vmq_queues_live"))
check("vmq_queue_live of the freed queue %d" % q3, 0,
      sum(v for (name, l), v in samples.items() if name == "vmq_queue_live" and ("queue", str(q3)) in l))
check("vm label escaped in the text", True,
      'queue="%d",vm="%s"' % (q2, vm2.replace("\\", "\\\\").replace('"', '\\"')) in text)

if bad:
    print("\n".join(bad))
    sys.exit(1)
print("%d samples in %d families" % (len(samples), len(types)))
EOF

http_code() { # METHOD URL
	vmqt_in "$HNS" curl -s -o /dev/null -w '%{http_code}' -X "$1" "$2"
}

# --- a second vmqd on the same port ------------------------------------------------------
vmqt_case second_on_port
case_second_on_port() {
	serve
	VMQT_BPFFS_MAIN=$VMQT_BPFFS
	vmqt_bpffs_mount
	rc=0
	out=$(ip netns exec "$HNS" timeout 10 "$BUILD/vmqd" -d "$VMQT_TMP/state-second" -s "$VMQT_TMP/second.sock" -b "$VMQT_BPFFS/vmq" \
		--metrics "127.0.0.1:$PORT" 2>&1) || rc=$?
	VMQT_BPFFS=$VMQT_BPFFS_MAIN
	vmqt_assert_eq "a second vmqd on port $PORT: exit status (output: $out)" 1 "$rc"
	vmqt_assert_match "a second vmqd on port $PORT: its error" \
		"^vmqd: error: --metrics 127\.0\.0\.1:$PORT: cannot listen: Address already in use\$" "$out"
	[ ! -e "$VMQT_TMP/second.sock" ] || vmqt_fail "the second vmqd left its socket behind"
	vmqt_assert_match "listener of $PORT after the second vmqd failed" "pid=$MPID," "$(listeners)"
	vmqt_ok "a second vmqd on port $PORT: exit 1, \"$(grep -m1 'cannot listen' <<<"$out")\"; the first still listens"
	stop_served
}

# --- traffic, then one quiet moment: /metrics, vmqctl stats, dev show, the mq counters ------
vmqt_case exposition
case_exposition() {
	serve
	vmqt_vm_traffic "VM 1 (queue ${QID[1]})" 1 0 "$N" "$FLOWS"
	vmqt_assert_up_txq "VM 1 (queue ${QID[1]})" 0 1 "$N"
	vmqt_vm_traffic "VM 2 (queue ${QID[2]}, group 1)" 2 0 "$N" 16
	vmqt_assert_up_within "VM 2 (queue ${QID[2]}, group 1)" 0 "4 5" "$N" 2
	vmqt_vm_traffic "VM 3 (queue ${QID[3]})" 3 0 "$N" "$FLOWS"
	vmqt_assert_up_txq "VM 3 (queue ${QID[3]})" 0 2 "$N"
	# VM 3's queue freed, its port still bound: not_live fallbacks on the default queue.
	vmqt_ctl queue del "$DEV" id "${QID[3]}" >/dev/null
	vmqt_vm_traffic "VM 3 (queue ${QID[3]} freed)" 3 0 "$N" "$FLOWS"
	vmqt_assert_up_txq "VM 3 (queue ${QID[3]} freed)" 0 "$DEFAULT_TXQ" "$N"
	# The host: unmarked (queue 0's own) and beyond the map.
	vmqt_send "host, unmarked" - "$N" "$FLOWS"
	vmqt_assert_on_txq "host, unmarked" "$DEFAULT_TXQ" "$N"
	vmqt_send "host, mark $BEYOND_MARK" "$BEYOND_MARK" "$N" "$FLOWS"
	vmqt_assert_on_txq "host, mark $BEYOND_MARK" "$DEFAULT_TXQ" "$N"
	vmqt_ok "traffic: $N from each VM on its TX queue(s), $N from VM 3 after its queue was freed, $N unmarked and $N beyond the map from the host"

	scrape "$VMQT_TMP/metrics.txt" "$VMQT_TMP/headers.txt"
	vmqt_stats >"$VMQT_TMP/stats.json"
	vmqt_ctl -j dev show >"$VMQT_TMP/devs.json"
	mq=$(vmqt_up_counts 0)
	scrape "$VMQT_TMP/metrics2.txt" "$VMQT_TMP/headers2.txt"
	# Nothing moved between the two scrapes: the stats taken between them are
	# the figures of that moment.
	cmp -s "$VMQT_TMP/metrics.txt" "$VMQT_TMP/metrics2.txt" ||
		vmqt_fail "two scrapes around vmqctl stats differ:$(diff "$VMQT_TMP/metrics.txt" "$VMQT_TMP/metrics2.txt" | head -20 | sed 's/^/   | /')"
	ctype=$(tr -d '\r' <"$VMQT_TMP/headers.txt" | awk -F': ' 'tolower($1) == "content-type" { print $2 }')
	vmqt_assert_eq "Content-Type of /metrics" "text/plain; version=0.0.4; charset=utf-8" "$ctype"

	out=$("$VMQT_PY" "$VMQT_TMP/check.py" "$VMQT_TMP/metrics.txt" "$VMQT_TMP/stats.json" "$VMQT_TMP/devs.json" \
		"$mq" "$DEV" "$N" "${QID[1]}" "${QID[2]}" "${QID[3]}" "${VM[1]}" "${VM[2]}" "${VM[3]}" 2>&1) ||
		vmqt_fail "/metrics vs vmqctl stats, mq and the traffic sent:$(printf '\n%s' "$out" | sed 's/^/   | /')$(printf '\n/metrics:\n'; sed 's/^/   | /' "$VMQT_TMP/metrics.txt")"
	vmqt_ok "/metrics ($out) = vmqctl -j stats, sample for sample; vmq_txq_kernel_packets_total = mq ($mq); VM counts = what they sent; vm=\"${VM[2]}\" round-trips"
	stop_served
}

# --- HTTP behaviour -----------------------------------------------------------------------
vmqt_case http
case_http() {
	serve
	for path in / /metrics/ /metricsx /index.html; do
		vmqt_assert_eq "GET $path" 404 "$(http_code GET "http://127.0.0.1:$PORT$path")"
	done
	for method in POST PUT DELETE; do
		vmqt_assert_eq "$method /metrics" 405 "$(http_code "$method" "$URL")"
	done
	allow=$(vmqt_in "$HNS" curl -s -D - -o /dev/null -X POST -d x=1 "$URL" | tr -d '\r' |
		awk -F': ' 'tolower($1) == "allow" { print $2 }')
	vmqt_assert_eq "Allow header of a 405" "GET, HEAD" "$allow"
	head=$(vmqt_in "$HNS" curl -s -I "$URL" | tr -d '\r')
	vmqt_assert_match "HEAD /metrics" '^HTTP/1\.1 200 ' "$(head -n 1 <<<"$head")"
	vmqt_ok "GET elsewhere: 404; POST/PUT/DELETE: 405, Allow: GET, HEAD; HEAD: 200"
	stop_served
}

# Scrapes while vmqctl changes state: each answers 200 with text that parses.
vmqt_case concurrent_scrapes
case_concurrent_scrapes() {
	serve
	declare -a SCRAPERS=()
	for k in 1 2 3 4; do
		# shellcheck disable=SC2016 # expanded by that sh
		vmqt_bg "$HNS" sh -c 'for i in $(seq 10); do curl -sS --fail -o "$1.$i" "$2" || exit 1; done' \
			sh "$VMQT_TMP/scrape$k" "$URL"
		SCRAPERS+=("$VMQT_BG_PID")
	done
	for i in $(seq 10); do
		vmqt_ctl queue set "$DEV" id "${QID[1]}" txq $((1 + i % 2)) >/dev/null
		vmqt_ctl queue add "$DEV" id 77 txq 3 >/dev/null
		vmqt_ctl queue del "$DEV" id 77 >/dev/null
	done
	for pid in "${SCRAPERS[@]}"; do
		rc=0
		wait "$pid" || rc=$?
		vmqt_forget_pid "$pid"
		vmqt_assert_eq "a scraper running during vmqctl changes: exit status" 0 "$rc"
	done
	"$VMQT_PY" -c '
import sys
from prometheus_client.parser import text_string_to_metric_families
for f in sys.argv[1:]:
    names = {fam.name for fam in text_string_to_metric_families(open(f).read())}
    if "vmq_queue_packets" not in names:
        sys.exit("%s: no vmq_queue_packets family" % f)
	' "$VMQT_TMP"/scrape[1-4].* || vmqt_fail "a scrape taken during vmqctl changes does not parse"
	kill -0 "$MPID" || vmqt_fail "vmqd $MPID died during the concurrent scrapes"
	vmqt_ok "40 scrapes from 4 clients during 30 vmqctl changes: all 200 and parseable"
	stop_served
}

vmqt_cases "$@"
