#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# vmqd does not grow with the requests it serves: 100,000 requests of
# every kind (each command of every object, errors of several kinds, a
# port bound and unbound, a second uplink attached, upgraded and detached,
# doctor runs, state file writes), pipelined over a few connections, with every
# answer checked. VmRSS after them stays within 1 MiB of VmRSS after the
# first 1,000. Built with ASan (make check-san) the bound is not checked:
# ASan's quarantine holds freed memory on purpose, and LeakSanitizer
# checks vmqd's heap at its exit instead.
#
# Cases (tests/run.sh test_vmqd_leak CASE...), each needing the one before:
# warm_up (the first 1,000), all_requests (the rest, and what is left),
# rss_bounded.
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
vmqt_init
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl"

TOTAL=100000
WARM=1000
vmqt_vmqd_setup
PORT=vmqlk$RANDOM
UP2=vmqlu$RANDOM
vmqt_in "$HNS" ip link add "$PORT" type veth peer name "${PORT}p"
vmqt_in "$HNS" ip link set "$PORT" up
vmqt_in "$HNS" ip link add "$UP2" numtxqueues 4 type veth peer name "${UP2}p"
vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"
PID=$VMQT_VMQD_PID
vmqt_ctl dev attach "$DEV" default-txq 7 queues 256 >/dev/null

# client COUNT: whole cycles of requests until COUNT were sent, a new
# connection every 10,000, a cycle's requests sent before its answers are
# read; each answer must be the expected success or error. Prints how many.
client() {
	"$VMQT_PY" - "$VMQT_SOCK" "$DEV" "$PORT" "$UP2" "$1" <<'EOF'
import json, socket, sys
sock, dev, port, up2 = sys.argv[1:5]
count = int(sys.argv[5])

def req(obj, cmd, args=None, ok=True, errno=None):
    r = {"version": 1, "sync": False, "object": obj, "command": cmd}
    if args is not None:
        r["args"] = args
    return r, ok, errno

def cycle(n):
    c = [
        req("daemon", "ping"),
        req("queue", "add", {"dev": dev, "id": 10, "txq": 2, "vm": "leak", "name": "q10"}),
        req("queue", "add", {"dev": dev, "id": "auto", "txq": "any", "vm": "auto"}),
        req("queue", "set", {"dev": dev, "id": 10, "txq": 3}),
        req("queue", "show", {"dev": dev, "id": 10}),
        req("group", "add", {"dev": dev, "id": 5, "txqs": [1, 2]}),
        req("queue", "set", {"dev": dev, "id": 10, "group": 5}),
        req("group", "show"),
        req("group", "del", {"dev": dev, "id": 5}, False, 16),
        req("queue", "show"),
        req("queue", "del", {"dev": dev, "id": 10}),
        req("queue", "del", {"dev": dev, "id": 1}),
        req("group", "del", {"dev": dev, "id": 5}),
        req("stats", "show"),
        req("port", "bind", {"port": port, "dev": dev, "queue": "auto", "vm": "p"}),
        req("port", "show"),
        req("port", "unbind", {"port": port}),
        req("dev", "set", {"dev": dev, "ports": "nomatch*"}),
        req("dev", "set", {"dev": dev, "ports": ""}),
        req("daemon", "save"),
        req("queue", "add", {"dev": dev, "id": 99999, "txq": 1}, False, 34),
        req("queue", "del", {"dev": dev, "id": 77}, False, 2),
        req("queue", "add", {"dev": dev, "id": 11, "txq": 1, "bogus": 1}, False, 22),
        req("group", "add", {"dev": dev, "id": 6, "txqs": "1,2"}, False, 22),
        req("nosuch", "show", {}, False, 22),
        req("dev", "show", {"dev": "nosuchdev0"}, False, 19),
    ]
    # dev show costs about 14 ms (it asks the kernel about the device):
    # one cycle in ten.
    if n % 10 == 0:
        c += [req("dev", "show"), req("dev", "show", {"dev": dev})]
    if n % 50 == 0:
        c.append(req("daemon", "sync"))
    if n % 200 == 0:
        c.append(req("doctor", "run", {"dev": dev}))
    if n % 500 == 0:
        c += [req("dev", "attach", {"dev": up2, "queues": 64}), req("dev", "upgrade", {"dev": up2}),
              req("dev", "detach", {"dev": up2})]
    return c

done, n, s, f = 0, 0, None, None
bad = []
while done < count:
    reqs = cycle(n)
    n += 1
    if s is None or done // 10000 != (done + len(reqs) - 1) // 10000:
        if s:
            s.close()
        s = socket.socket(socket.AF_UNIX)
        s.connect(sock)
        f = s.makefile("rwb")
    f.write(b"".join(json.dumps(r).encode() + b"\n" for r, _, _ in reqs))
    f.flush()
    for r, ok, errno in reqs:
        a = json.loads(f.readline())
        if a["ok"] != ok or (not ok and errno and a["error"]["errno"] != errno):
            bad.append(f"{json.dumps(r)} -> {json.dumps(a)}")
    done += len(reqs)
s.close()
if bad:
    print("\n".join(bad[:10]))
    sys.exit(1)
print(done)
EOF
}

# What the cases measured, for the cases after them.
warm="" rss0="" rss1="" ms="" total=""
VMQT_CASE_KEEP+=(warm rss0 rss1 ms total)

vmqt_case warm_up
case_warm_up() {
	out=$(client "$WARM") || vmqt_fail "the first $WARM requests:$(printf '\n%s' "$out" | sed 's/^/   | /')"
	warm=$out
	rss0=$(vmqt_vmqd_rss "$PID")
	vmqt_ok "the first $warm requests answered as expected; vmqd VmRSS $rss0 kB"
}

vmqt_case all_requests warm_up
case_all_requests() {
	t0=$(date +%s%N)
	out=$(client $((TOTAL - warm))) || vmqt_fail "requests after the first $warm:$(printf '\n%s' "$out" | sed 's/^/   | /')"
	ms=$((($(date +%s%N) - t0) / 1000000))
	total=$((warm + out))
	rss1=$(vmqt_vmqd_rss "$PID")
	vmqt_assert_eq "dev show after $total requests" "[\"$DEV\"]" "$(vmqt_ctl -j dev show | vmqt_json '[d["dev"] for d in j["devs"]]')"
	vmqt_assert_eq "queues left" "[0]" "$(vmqt_ctl -j queue show | vmqt_json '[q["id"] for q in j["queues"]]')"
	vmqt_ok "$total requests of every kind answered as expected ($((total - warm)) in $ms ms); one uplink and queue 0 left"
}

vmqt_case rss_bounded all_requests
case_rss_bounded() {
	if ! vmqt_perf_bounded; then
		vmqt_skip "VmRSS $rss0 -> $rss1 kB after $total requests, not bounded under ASan (LeakSanitizer checks at exit)"
	else
		[ $((rss1 - rss0)) -le 1024 ] ||
			vmqt_fail "vmqd VmRSS grew from $rss0 kB after $warm requests to $rss1 kB after $total"
		vmqt_ok "$total requests of every kind answered as expected ($((total - warm)) in $ms ms); vmqd VmRSS $rss0 kB after $warm, $rss1 kB after $total (bound: +1024 kB)"
	fi
}

vmqt_cases "$@"
