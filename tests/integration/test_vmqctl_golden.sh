#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# vmqctl's output, text and JSON, byte for byte: every command form the
# other tests use, and its errors, run against a real vmqd on a fixed
# topology with fixed traffic, compared with tests/golden/vmqctl.out.
# What differs from run to run (pids, kernel object IDs, ifindexes, tags,
# paths of this run) is replaced by a placeholder first; counters are exact,
# since the only traffic is what the test sends.
#
# Refactoring vmqctl or vmqd must leave this file unchanged. A deliberate
# change of output regenerates it: VMQT_GOLDEN_UPDATE=1 bash THIS, then
# review the diff.
#
# Cases (tests/run.sh test_vmqctl_golden CASE...), each compared with its
# own section of the golden file: help; devices, then queues, ports,
# traffic, state and teardown, each needing the one before (the output
# depends on the state they leave).
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
vmqt_init
vmqt_need_python
# The golden output is tcx mode's (doctor and dev show name the hook).
unset VMQ_TC_MODE
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl" "$BUILD/tests/vmq-udpsend"

GOLDEN=$VMQT_ROOT/tests/golden/vmqctl.out
OUT=$VMQT_TMP/golden.out
: >"$OUT"

vmqt_vmqd_setup
vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"

# Two ports in the host namespace: one routed (uplink mode), one in a
# bridge without the uplink (stamp mode).
vmqt_run ip -n "$HNS" link add vmqgp1 type veth peer name vmqgp1p
vmqt_run ip -n "$HNS" link add vmqgbr type bridge
vmqt_run ip -n "$HNS" link add vmqgp2 type veth peer name vmqgp2p
vmqt_run ip -n "$HNS" link set vmqgp2 master vmqgbr
VMQT_LINKS+=("$HNS vmqgp1" "$HNS vmqgp2" "$HNS vmqgbr")

# normalize: what varies between runs, replaced in vmqctl's output.
normalize() {
	"$VMQT_PY" -c '
import re, sys
pid, pins, sock, tmp = sys.argv[1:5]
for line in sys.stdin:
    line = line.replace(pins, "<PINS>").replace(sock, "<SOCK>").replace(tmp, "<TMP>")
    line = re.sub(r"\b%s\b" % re.escape(pid), "<PID>", line)
    # kernel object IDs, ifindexes and program tags: JSON and text forms
    line = re.sub(r"(\"(?:prog_id|link_id|ifindex|id_before|id_after|map_id)\": ?)\d+", r"\1<N>", line)
    line = re.sub(r"(\"tag\": ?\")[0-9a-f]{16}", r"\1<TAG>", line)
    line = re.sub(r"\b[0-9a-f]{16}\b", "<TAG>", line)
    line = re.sub(r"\b(prog|link|ifindex|program) \d+", r"\1 <N>", line)
    line = re.sub(r"\bid \d+ \(", "id <N> (", line)
    # --watch: wall-clock time and measured interval of each sample
    line = re.sub(r"^\| \d{4}-\d\d-\d\d \d\d:\d\d:\d\d [-+]\d{4}", "| <TIME>", line)
    line = re.sub(r"rates over the last \d+\.\d+ s", "rates over the last <T> s", line)
    line = re.sub(r"(\"(?:time|interval)\": ?)[0-9.e+-]+", r"\1<T>", line)
    sys.stdout.write(line)
' "$VMQT_VMQD_PID" "$PINS" "$VMQT_SOCK" "$VMQT_TMP"
}

# g ARGS...: runs vmqctl ARGS, records the command, its exit status, stdout
# and stderr (normalized).
g() {
	local rc=0 o e
	o=$(mktemp "$VMQT_TMP/o.XXXXXX")
	e=$(mktemp "$VMQT_TMP/e.XXXXXX")
	"$BUILD/vmqctl" -s "$VMQT_SOCK" "$@" >"$o" 2>"$e" || rc=$?
	{
		printf '$ vmqctl %s\n' "$*"
		sed 's/^/| /' "$o"
		sed 's/^/! /' "$e"
		printf '= %d\n' "$rc"
	} | normalize >>"$OUT"
	rm -f "$o" "$e"
}
# both ARGS...: g ARGS in text, then in JSON.
both() {
	g "$@"
	g -j "$@"
}

# Each case's output is compared with its section of the golden file: the
# sections are known by their first command, in this order.
SECTIONS=(help '$ vmqctl --help' devices '$ vmqctl dev show'
	queues '$ vmqctl queue add vmqup0 id 1 txq 1 vm web1 name web1-tx'
	ports '$ vmqctl port bind vmqgp1 dev vmqup0 queue 1' traffic '$ vmqctl stats'
	state '$ vmqctl save' teardown '$ vmqctl port unbind vmqgp1')
UPDATE=${VMQT_GOLDEN_UPDATE:-0}
if [ "$UPDATE" = 1 ]; then
	[ "$#" -eq 0 ] || vmqt_fail "VMQT_GOLDEN_UPDATE=1 rewrites the whole file: run every case"
else
	vmqt_need_file "$GOLDEN"
fi

# golden_section NAME: the golden file's lines of section NAME.
golden_section() {
	"$VMQT_PY" -c '
import sys
name, path, marks = sys.argv[1], sys.argv[2], sys.argv[3:]
names, firsts = marks[0::2], marks[1::2]
cur = -1
for line in open(path):
    if cur + 1 < len(firsts) and line.rstrip("\n") == firsts[cur + 1]:
        cur += 1
    if cur >= 0 and names[cur] == name:
        sys.stdout.write(line)
' "$1" "$GOLDEN" "${SECTIONS[@]}"
}

# check_section NAME START: the output recorded after line START of $OUT
# (case NAME's) equals section NAME of the golden file.
check_section() {
	local name=$1 start=$2
	[ "$UPDATE" != 1 ] || return 0
	tail -n "+$((start + 1))" "$OUT" >"$VMQT_TMP/got-$name"
	golden_section "$name" >"$VMQT_TMP/want-$name"
	if ! diff -u --label "tests/golden/vmqctl.out, section $name" --label "vmqctl's output" \
		"$VMQT_TMP/want-$name" "$VMQT_TMP/got-$name" >"$VMQT_TMP/diff"; then
		sed 's/^/   /' "$VMQT_TMP/diff" | head -200
		vmqt_fail "vmqctl's output ($name) differs from tests/golden/vmqctl.out (above; VMQT_GOLDEN_UPDATE=1 rewrites it after a deliberate change)"
	fi
	vmqt_ok "vmqctl's output ($name): $(grep -c '^\$ vmqctl' "$VMQT_TMP/got-$name") commands, byte-identical to tests/golden/vmqctl.out"
}

# --- help and usage ------------------------------------------------------------
vmqt_case help
case_help() {
	start=$(wc -l <"$OUT")
	g --help
	g queue help
	g port help
	g nosuch show
	g queue frobnicate
	check_section help "$start"
}

# --- devices ---------------------------------------------------------------------
vmqt_case devices
case_devices() {
	start=$(wc -l <"$OUT")
	both dev show
	g dev attach vmqup0 default-txq 7 queues 8192
	g -j dev attach vmqup0
	g dev attach nosuchdev
	both dev show
	both dev show vmqup0
	both dev set vmqup0 ports vmqgp9
	both dev set vmqup0 ports none
	check_section devices "$start"
}

# --- queues and groups ----------------------------------------------------------------
vmqt_case queues devices
case_queues() {
	start=$(wc -l <"$OUT")
	g queue add vmqup0 id 1 txq 1 vm web1 name web1-tx
	g -j queue add vmqup0 id 2 txq 2 vm web2
	g queue add vmqup0 id 300 txq 3 name db-tx
	g queue add vmqup0 id auto txq any vm auto1
	g -j queue add vmqup0 id auto txq 5
	g queue add vmqup0 id 1 txq 2
	g queue add vmqup0 id 9000 txq 1
	g queue add vmqup0 id 9 txq 99
	g group add vmqup0 id 1 txqs 4,5,6
	g -j group add vmqup0 id 2 txqs 5,6
	g queue add vmqup0 id 40 group 1 vm grouped
	g queue add vmqup0 id 41 group 9
	both queue show
	both queue show vmqup0
	both queue show vmqup0 id 1
	g queue show vmqup0 id 77
	both group show
	both group show vmqup0
	g queue set vmqup0 id 2 txq 4
	g -j queue set vmqup0 id 300 group 2
	g queue set vmqup0 id 300 txq 3
	g group del vmqup0 id 1
	g -j group del vmqup0 id 2
	g queue del vmqup0 id 40
	g group del vmqup0 id 1
	both queue show vmqup0
	check_section queues "$start"
}

# --- ports ---------------------------------------------------------------------------
vmqt_case ports queues
case_ports() {
	start=$(wc -l <"$OUT")
	g port bind vmqgp1 dev vmqup0 queue 1
	g -j port bind vmqgp2 dev vmqup0 queue auto txq 6 vm bridged
	g port bind vmqup0 dev vmqup0 queue 1
	g port bind vmqgp1 dev vmqup0 queue 4000
	both port show
	both port show dev vmqup0
	check_section ports "$start"
}

# --- traffic and counters --------------------------------------------------------------
vmqt_case traffic ports
case_traffic() {
	start=$(wc -l <"$OUT")
	vmqt_send "queue 1" 1 10 1
	vmqt_send "queue 300" 300 7 1
	vmqt_send "queue 77, not live" 77 5 1
	vmqt_send "unmarked" - 3 1
	both stats
	both stats vmqup0
	# No traffic while watching: every rate is 0.0.
	g -w 0.2 -c 2 stats vmqup0
	g -j -w 0.2 -c 2 stats vmqup0
	both doctor vmqup0
	check_section traffic "$start"
}

# --- state -----------------------------------------------------------------------------
vmqt_case state traffic
case_state() {
	start=$(wc -l <"$OUT")
	g save
	printf 'queue add vmqup0 id 500 txq 2\nqueue set vmqup0 id 500 txq 3\n' >"$VMQT_TMP/b"
	g -b "$VMQT_TMP/b"
	printf 'queue add vmqup0 id 501 txq 2\nqueue add vmqup0 id 501 txq 2\n' >"$VMQT_TMP/bad"
	g -b "$VMQT_TMP/bad"
	g save >/dev/null
	"$BUILD/vmqctl" -s "$VMQT_SOCK" save | grep -v 'id 300 ' >"$VMQT_TMP/want"
	g apply --dry-run "$VMQT_TMP/want"
	g apply --dry-run --prune "$VMQT_TMP/want"
	g -j apply --prune "$VMQT_TMP/want"
	g apply --dry-run "$VMQT_TMP/want"
	g daemon ping
	g -j daemon ping
	g daemon sync
	check_section state "$start"
}

# --- teardown -----------------------------------------------------------------------------
vmqt_case teardown state
case_teardown() {
	start=$(wc -l <"$OUT")
	g port unbind vmqgp1
	g -j port unbind vmqgp2
	g port unbind vmqgp1
	g queue del vmqup0 id 1
	g -j queue del vmqup0 id 2
	g dev detach vmqup0
	g -j dev detach vmqup0
	both dev show
	check_section teardown "$start"
}

vmqt_cases "$@"

# Rewritten from a run of every case only.
if [ "$UPDATE" = 1 ]; then
	mkdir -p "$(dirname "$GOLDEN")"
	cp "$OUT" "$GOLDEN"
	vmqt_ok "wrote $(wc -l <"$GOLDEN") lines to tests/golden/vmqctl.out"
fi
