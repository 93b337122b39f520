#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# vmqd --state-dir: the desired state survives a host reboot.
#   - the first change writes DIR/vmqd.state: a header, one request per
#     line, an end line; its requests are exactly what `daemon save` says
#   - a restart (pins present) adopts the pins and rewrites the same file
#   - a simulated reboot (pins, filters and devices gone; vmqd started on
#     the file alone) restores everything: dev, queue, group and port show
#     equal; a port and an uplink that do not exist yet are bound and
#     attached when they appear; the restore time of 4096 queues is printed
#   - a truncated file, or one bad line, stops vmqd with a message naming
#     the file and the line, and the file is left byte for byte as it was
#   - kill -9 at random moments of 4096 `queue add` requests (each one
#     synced): the file is always whole, and holds every acknowledged add
#     and at most the one in flight
#
# Cases (tests/run.sh test_vmqd_state CASE...), each needing the one before
# it unless said: first_change_writes_file, restart_with_pins,
# simulated_reboot, reboot_fewer_txqs, broken_file_refused (needs
# first_change_writes_file only), killed_synced_adds, killed_batch_adds,
# restore_4096.
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/topology.sh
. "$(dirname "$0")/topology.sh"
vmqt_init
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl"

vmqt_vmqd_setup
STATE=$VMQT_TMP/st
FILE=$STATE/vmqd.state
TAP=vmqst$RANDOM
DUM=vmqsd$RANDOM
PTAP=vmqsp$RANDOM # a VM port a policy binds

# state_requests: the file's requests as one canonical JSON list, after
# checking its shape (header, N requests, end line). Usable in $(...).
state_requests() {
	"$VMQT_PY" - "$FILE" <<'EOF'
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
assert lines[-1] == "", "the file does not end in a newline"
docs = [json.loads(l) for l in lines[:-1]]
head, body, end = docs[0], docs[1:-1], docs[-1]
assert head == {"vmq_state": 1, "requests": len(body)}, f"header {head}, {len(body)} requests"
assert end == {"end": len(body)}, f"end line {end}"
for r in body:
    assert set(r) <= {"object", "command", "args", "pending"}, r
print(json.dumps(body, sort_keys=True, separators=(",", ":")))
EOF
}

save_requests() {
	vmqt_raw "$VMQT_SOCK" 5 <<<'{"version":1,"object":"daemon","command":"save"}' |
		sed -n 1p | vmqt_json 'j["result"]["requests"]'
}

# full_state: dev/queue/group/port show, without what a reboot renumbers,
# each list sorted (a restart adopts uplinks in the pin directory's order).
full_state() {
	{
		vmqt_ctl -j dev show
		vmqt_ctl -j queue show
		vmqt_ctl -j group show
		vmqt_ctl -j port show
	} | vmqt_json -l '[sorted(({k: v for k, v in o.items() if k != "ifindex"} for o in list(d.values())[0]), key=lambda o: json.dumps(o, sort_keys=True)) for d in j]'
}

start() { vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS" -d "$STATE"; }
# The file's requests, in a canonical order: a restart adopts the uplinks
# in the order the pin directory lists them.
sorted_requests() { state_requests | vmqt_json 'sorted(j, key=lambda r: json.dumps(r, sort_keys=True))'; }

# reboot: a simulated reboot. Everything memory held goes: the daemon,
# the pins, the filters, the devices the VM and the second uplink were.
reboot() {
	vmqt_vmqd_kill "$VMQT_VMQD_PID" KILL
	rm -rf "${PINS:?}"
	# In tcx mode the pinned links were the attachments: unpinned, they
	# go (the kernel frees them a moment later).
	if [ "$(vmqt_tc_mode)" = clsact ]; then
		vmqt_in "$HNS" tc qdisc del dev "$DEV" clsact
	fi
	for _ in $(seq 50); do
		[ -n "$(vmqt_hooks "$HNS" "$DEV" egress)" ] || break
		sleep 0.1
	done
	vmqt_assert_eq "programs on $DEV egress after the reboot" "" "$(vmqt_hooks "$HNS" "$DEV" egress)"
	# The policy's port stays (its VM runs on): a policy replayed before
	# the saved bindings would bind it to a new queue.
	ip netns exec "$HNS" tc qdisc del dev "$PTAP" clsact 2>/dev/null || true
	ip -n "$HNS" link del "$TAP" 2>/dev/null || true
	ip -n "$HNS" link del "$DUM" 2>/dev/null || true
}

refuse() { # WHAT LINE: vmqd must refuse the file, naming LINE
	local what=$1 line=$2 rc=0 err
	sum=$(sha256sum <"$FILE")
	timeout 10 ip netns exec "$HNS" "$BUILD/vmqd" -s "$VMQT_SOCK" -b "$PINS" -d "$STATE" \
		2>"$VMQT_TMP/refused.err" || rc=$?
	err=$(cat "$VMQT_TMP/refused.err")
	[ "$rc" -ne 124 ] || vmqt_fail "$what: vmqd still serving after 10 s"
	[ "$rc" -ne 0 ] || vmqt_fail "$what: vmqd exited 0"
	vmqt_assert_match "$what: vmqd's message" "$FILE:$line: .*refusing to start" "$err"
	vmqt_assert_eq "$what: the file after the refusal" "$sum" "$(sha256sum <"$FILE")"
	vmqt_ok "$what: refused, line $line named: $(grep -o "$FILE:$line: [^;]*" <<<"$err")"
}

# Each add is acknowledged only once the file holding it is on disk, so
# after a kill the file holds every acknowledged add, plus at most the one
# vmqd was handling.
add_client() { # FIRST: adds queues FIRST.. one at a time; prints how many were acknowledged
	"$VMQT_PY" - "$VMQT_SOCK" "$DEV" "$1" <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rwb")
acked = 0
try:
    for i in range(int(sys.argv[3]), int(sys.argv[3]) + 4096):
        req = {"version": 1, "object": "queue", "command": "add",
               "args": {"dev": sys.argv[2], "id": i, "txq": i % 8}}
        f.write(json.dumps(req).encode() + b"\n")
        f.flush()
        line = f.readline()
        if not line:
            break
        assert json.loads(line)["ok"], line
        acked += 1
except (BrokenPipeError, ConnectionResetError):
    pass
print(acked)
EOF
}

# The state before a restart or reboot, the file's requests then, and the
# first queue ID the kill rounds add, for the cases after.
before="" saved="" first=1
VMQT_CASE_KEEP+=(before saved first)

# --- the first change writes the file ------------------------------------------------
vmqt_case first_change_writes_file
case_first_change_writes_file() {
	start
	[ ! -e "$FILE" ] || vmqt_fail "$FILE exists before any change"
	vmqt_in "$HNS" ip tuntap add dev "$TAP" mode tap
	vmqt_in "$HNS" ip link set "$TAP" up
	vmqt_in "$HNS" ip link add "$DUM" numtxqueues 4 type veth peer name "${DUM}p"
	vmqt_ctl dev attach "$DEV" default-txq 7 >/dev/null
	vmqt_assert_file "the state file after the first change" "$FILE"
	vmqt_ctl group add "$DEV" id 2 txqs 4,5 >/dev/null
	vmqt_ctl queue add "$DEV" id 10 txq 3 vm web name web-tx >/dev/null
	vmqt_ctl queue add "$DEV" id 11 group 2 vm db >/dev/null
	vmqt_ctl queue add "$DEV" id 12 txq 1 >/dev/null
	vmqt_ctl port bind "$TAP" dev "$DEV" queue 10 >/dev/null
	vmqt_ctl dev attach "$DUM" mark-mask 0xff00 queues 256 >/dev/null
	vmqt_ctl queue add "$DUM" id 7 txq 2 vm other >/dev/null
	vmqt_ctl dev set "$DEV" ports 'vmqsp*' >/dev/null
	vmqt_in "$HNS" ip tuntap add dev "$PTAP" mode tap
	for _ in $(seq 100); do
		vmqt_ctl -j port show | grep -q "\"port\":\"$PTAP\"" && break
		sleep 0.01
	done
	vmqt_ctl -j port show | grep -q "\"port\":\"$PTAP\"" || vmqt_fail "$PTAP: not bound by the port policy within 1 s"
	file=$(state_requests)
	save=$(save_requests)
	vmqt_assert_eq "the state file's requests = daemon save" "$save" "$file"
	n=$(vmqt_json 'len(j)' <<<"$file")
	vmqt_assert_eq "requests in the state file (2 attach, group, 5 queues, 2 ports, policy)" 11 "$n"
	mode=$(stat -c %a "$FILE")
	vmqt_assert_eq "state file mode" 600 "$mode"
	vmqt_ok "the state file follows every change: $n requests, equal to daemon save, mode $mode"
}

# --- restart with pins -------------------------------------------------------------
vmqt_case restart_with_pins first_change_writes_file
case_restart_with_pins() {
	before=$(full_state)
	saved=$(sorted_requests)
	vmqt_vmqd_kill "$VMQT_VMQD_PID" TERM
	start
	vmqt_assert_eq "state after a restart" "$before" "$(full_state)"
	vmqt_assert_eq "the state file after a restart (rewritten from the pins)" "$saved" "$(sorted_requests)"
	vmqt_ok "restart: pins adopted, state and file unchanged"
}

# --- simulated reboot ------------------------------------------------------------------
vmqt_case simulated_reboot restart_with_pins
case_simulated_reboot() {
	reboot
	start
	# The uplink is there, the tap and the second uplink are not yet.
	pending=$(save_requests | vmqt_json '[r["object"] + " " + r["command"] for r in j if r.get("pending")]')
	vmqt_assert_eq "requests waiting for their device" '["dev attach","queue add","port bind"]' "$pending"
	vmqt_in "$HNS" ip tuntap add dev "$TAP" mode tap
	vmqt_in "$HNS" ip link set "$TAP" up
	vmqt_in "$HNS" ip link add "$DUM" numtxqueues 4 type veth peer name "${DUM}p"
	for _ in $(seq 50); do
		[ "$(save_requests | vmqt_json '[r for r in j if r.get("pending")]')" != "[]" ] || break
		sleep 0.1
	done
	vmqt_assert_eq "state after a reboot, once the devices appeared" "$before" "$(full_state)"
	vmqt_assert_eq "the state file after the reboot" "$saved" "$(sorted_requests)"
	vmqt_assert_port_uplink_mode "the tap after the reboot" "$TAP" "routed from the port"
	vmqt_ok "simulated reboot: state restored from the file; a tap and an uplink created later were bound and attached as they appeared, a policy's port kept its queue"
}

# --- a reboot that brings the NIC back with fewer TX queues --------------------------------
vmqt_case reboot_fewer_txqs simulated_reboot
case_reboot_fewer_txqs() {
	# Group 2 is TX queues 4 and 5, the default queue TX queue 7: with 4 TX
	# queues queue 11 and queue 0 start degraded (on the kernel's choice),
	# and nothing is lost from the file.
	reboot
	vmqt_in "$HNS" ethtool -L "$DEV" tx 4
	start
	vmqt_in "$HNS" ip tuntap add dev "$TAP" mode tap
	vmqt_in "$HNS" ip link set "$TAP" up
	vmqt_in "$HNS" ip link add "$DUM" numtxqueues 4 type veth peer name "${DUM}p"
	q11=$(vmqt_ctl -j queue show "$DEV" id 11 | vmqt_json 'j["queues"][0]')
	vmqt_assert_eq "queue 11 after a reboot with 4 TX queues" \
		"{\"degraded\":true,\"dev\":\"$DEV\",\"id\":11,\"txq\":\"auto\",\"vm\":\"db\",\"want_group\":2}" "$q11"
	vmqt_assert_eq "the state file after a reboot with 4 TX queues" "$saved" "$(sorted_requests)"
	vmqt_in "$HNS" ethtool -L "$DEV" tx 8
	for _ in $(seq 50); do
		[ "$(full_state)" != "$before" ] || break
		sleep 0.1
	done
	vmqt_assert_eq "state once the 8 TX queues are back" "$before" "$(full_state)"
	vmqt_ok "a reboot with fewer TX queues: group 2 and queue 11 restored degraded, the file intact; whole again at 8"
}

# --- a broken file is refused, never overwritten -------------------------------------------
vmqt_case broken_file_refused first_change_writes_file
case_broken_file_refused() {
	reboot
	cp "$FILE" "$VMQT_TMP/good.state"
	total=$(wc -l <"$FILE")
	head -n $((total - 1)) "$VMQT_TMP/good.state" >"$FILE"
	refuse "a file cut at a line end" "$total"
	head -c -5 "$VMQT_TMP/good.state" >"$FILE"
	refuse "a file cut mid-line" "$total"
	sed '3s/.*/{"object":"queue","command":/' "$VMQT_TMP/good.state" >"$FILE"
	refuse "a broken line 3" 3
	cp "$VMQT_TMP/good.state" "$FILE"
}

# --- kill -9 while 4096 adds are written one by one ----------------------------------------
vmqt_case killed_synced_adds broken_file_refused
case_killed_synced_adds() {
	start
	# What waits for a device that will not come back is forgotten by a detach
	# or an unbind.
	vmqt_ctl dev detach "$DUM" >/dev/null
	vmqt_ctl port unbind "$TAP" >/dev/null
	pending=$(save_requests | vmqt_json '[r for r in j if r.get("pending")]')
	vmqt_assert_eq "requests waiting after dev detach and port unbind of absent devices" "[]" "$pending"
	vmqt_ctl dev detach "$DEV" >/dev/null
	vmqt_ctl dev attach "$DEV" queues 8192 >/dev/null
	first=1
	for round in 1 2 3 4 5; do
		add_client "$first" >"$VMQT_TMP/acked" &
		client=$!
		sleep "0.$((RANDOM % 9 + 1))"
		vmqt_vmqd_kill "$VMQT_VMQD_PID" KILL
		wait "$client"
		acked=$(cat "$VMQT_TMP/acked")
		vmqt_uint "acknowledged adds" "$acked"
		in_file=$(state_requests | vmqt_json 'len([r for r in j if r["command"] == "add" and r["args"]["id"] >= '"$first"'])')
		[ "$in_file" -ge "$acked" ] && [ "$in_file" -le $((acked + 1)) ] ||
			vmqt_fail "round $round: $acked adds acknowledged, the file holds $in_file of them"
		start
		vmqt_assert_eq "round $round: the rewritten file = daemon save" "$(save_requests)" "$(state_requests)"
		live=$(vmqt_ctl -j queue show "$DEV" | vmqt_json 'len([q for q in j["queues"] if q["id"] >= '"$first"'])')
		[ "$live" -ge "$acked" ] && [ "$live" -le $((acked + 1)) ] ||
			vmqt_fail "round $round: $acked adds acknowledged, $live in the maps"
		vmqt_log "round $round: killed after $acked acknowledged adds; the file held $in_file, the maps $live"
		first=$((first + live))
	done
	vmqt_ok "kill -9 during single synced adds, 5 rounds: the file always whole, never behind an acknowledgement"
}

vmqt_case killed_batch_adds killed_synced_adds
case_killed_batch_adds() {
	# The same under `vmqctl -b` with 4096 adds: a batch is written once, at its
	# end (its "daemon sync"), so a kill leaves the old file, or the new one
	# if the batch had finished: whole either way.
	for round in 1 2 3; do
		old=$(state_requests)
		for ((i = first; i < first + 4096; i++)); do
			printf 'queue add %s id %d txq %d\n' "$DEV" "$i" $((i % 8))
		done >"$VMQT_TMP/adds.batch"
		"$BUILD/vmqctl" -s "$VMQT_SOCK" -b "$VMQT_TMP/adds.batch" >/dev/null 2>&1 &
		client=$!
		sleep "0.$((RANDOM % 2))$((RANDOM % 10))"
		vmqt_vmqd_kill "$VMQT_VMQD_PID" KILL
		rc=0
		wait "$client" || rc=$?
		in_file=$(state_requests | vmqt_json 'len([r for r in j if r["command"] == "add" and r["args"]["id"] >= '"$first"'])')
		if [ "$rc" -eq 0 ]; then
			vmqt_assert_eq "batch round $round: adds in the file after a batch that finished" 4096 "$in_file"
		else
			vmqt_assert_eq "batch round $round: the file after kill -9 mid-batch (the old one, whole)" \
				"$old" "$(state_requests)"
		fi
		start
		vmqt_assert_eq "batch round $round: the rewritten file = daemon save" "$(save_requests)" "$(state_requests)"
		live=$(vmqt_ctl -j queue show "$DEV" | vmqt_json 'len([q for q in j["queues"] if q["id"] >= '"$first"'])')
		vmqt_log "batch round $round: $live of 4096 adds reached the maps before the kill; the file held $in_file"
		first=$((first + live))
		if [ "$first" -gt 4000 ]; then
			vmqt_ctl dev detach "$DEV" >/dev/null
			vmqt_ctl dev attach "$DEV" queues 8192 >/dev/null
			first=1
		fi
	done
	vmqt_ok "kill -9 during vmqctl -b with 4096 adds, 3 rounds: the old file (or the new one once the batch ended), whole; the restart rewrites it from the pins"
}

# --- restore time of 4096 queues after a reboot (printed, not asserted) -----------------
vmqt_case restore_4096 killed_batch_adds
case_restore_4096() {
	vmqt_ctl dev detach "$DEV" >/dev/null
	vmqt_ctl dev attach "$DEV" queues 8192 >/dev/null
	for ((i = 1; i <= 4096; i++)); do
		printf '{"version":1,"sync":false,"object":"queue","command":"add","args":{"dev":"%s","id":%d,"txq":%d,"vm":"vm%d"}}\n' \
			"$DEV" "$i" $((i % 8)) "$i"
	done >"$VMQT_TMP/adds"
	echo '{"version":1,"object":"daemon","command":"sync"}' >>"$VMQT_TMP/adds"
	answers=$(vmqt_raw "$VMQT_SOCK" 30 <"$VMQT_TMP/adds" | grep -c '"ok":true')
	vmqt_assert_eq "answers ok to 4096 adds and a sync" 4097 "$answers"
	before=$(full_state)
	reboot
	t0=$(date +%s%N)
	start
	ms=$((($(date +%s%N) - t0) / 1000000))
	vmqt_assert_eq "4096 queues after a reboot" "$before" "$(full_state)"
	vmqt_ok "a reboot with 4096 queues: restored and serving $ms ms after vmqd started"
}

vmqt_cases "$@"
