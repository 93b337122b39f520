#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# make bench: every figure of docs/PERFORMANCE.md in one run (about 4.5 min).
#
#   data plane     build/bench/vmq-bench (BPF_PROG_TEST_RUN): vmq_tx against
#                  an empty tc program, direct/group/fallback at 1, 4096 and
#                  65535 live queues; same ID and a random live ID per packet
#   end to end     a namespaced host (tests/integration/topology.sh and
#                  bench/topo.sh) with three topologies, one VM each
#                  sending unpaced UDP to the wire behind an uplink (8 TX
#                  queues, mq) from one sender pinned to a CPU (taskset):
#                    routed   the VM's port routed by the host to uplink 0
#                    bridged  the VM's port and uplink 1 in one bridge
#                    gateway  the VM's port in a bridge whose address is the
#                             VM's gateway; the host routes to uplink 2
#                  packets received at the wire per second in short
#                  alternating windows: no vmq, ROW, no vmq, ROW', no vmq...
#                  (the mode changed under the running sender), each ROW
#                  window divided by the mean of its two neighbouring no-vmq
#                  windows (report.py: median, distribution-free 95 % CI).
#                  Rows (any can run in any topology; these do):
#                    vmq        vmqctl dev attach + queue add + port bind,
#                               vmqd as it starts by default (all three)
#                    vmq_clsact the same on a second vmqd started with
#                               VMQ_TC_MODE=clsact (all three)
#                    empty      the empty tc program at vmq's two hooks
#                               (the port's ingress, the uplink's egress;
#                               clsact): the hooks alone (routed)
#                    uplink     vmq_tx on the uplink only, no port bound
#                               (routed)
#                  rows are labelled with the "hook" of `vmqctl -j dev show`
#                  and the "mode" of `port show`, where vmqd reports them;
#                  then, routed, one window of vmq and of empty with the
#                  kernel's BPF run-time statistics on
#   control plane  vmqd in the host namespace: N single `vmqctl queue set`
#                  (and `daemon ping`, the floor) timed end to end, process
#                  start included; `vmqctl -b` with 4096 `queue add` lines
#   memory         vmqd VmRSS and vmq's BPF maps (memlock) with 4096 queues
#   port policy    `dev set UPLINK ports 'PREFIX*'`, then taps appear one by
#                  one, each written to at once by its "VM" (bench/latency.py
#                  bind): link creation -> the binding listed by `port show`,
#                  and -> the first frame steered on the port's own queue;
#                  with 1 and with 4096 other live queues
#   balancer       build/bench/vmq-bench-balance: one interval of the TX
#                  queue balancer at 4096 live queues on 64 TX queues, a
#                  skewed load (the map reads and the decision); printed
#                  after the table
#   restore        a simulated reboot with 4096 queues (and groups, ports, a
#                  port policy): vmqd killed (-9), pins and clsact removed,
#                  vmqd started on its state file; start -> the first answer
#                  to `daemon ping` (bench/latency.py ping), state compared
#
# One table on stdout, one JSON file ($BUILD/bench/bench.json, or
# VMQ_BENCH_JSON); progress and the detailed data-plane table on stderr.
# A benchmark never fails on time: it exits non-zero only on a real error
# (a tool fails, traffic does not go where it should, a restored state
# differs). Everything it creates (namespaces, bpffs, pins, processes,
# files) is removed on exit, also on ^C, through tests/integration/lib.sh's
# trap.
#
# Knobs (environment): VMQ_BENCH_E2E_ROUNDS (15: windows per row),
# VMQ_BENCH_E2E_SECONDS (0.5),
# VMQ_BENCH_CTL_N (200), VMQ_BENCH_BIND_N (20), VMQ_BENCH_RESTORE_N (3),
# VMQ_BENCH_MICRO_ARGS (e.g. "--rounds 5"), VMQ_BENCH_JSON, VMQ_BENCH_RAW (a
# directory to keep the raw records in).
# shellcheck disable=SC2034 # globals for lib.sh
export LC_ALL=C # $EPOCHREALTIME with a '.'
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/lib.sh
. "$here/../tests/integration/lib.sh"
# shellcheck source=tests/integration/topology.sh
. "$here/../tests/integration/topology.sh"
# shellcheck source=bench/topo.sh
. "$here/topo.sh"
unset VMQ_TC_MODE # the default vmqd: whatever vmqd picks by itself

E2E_PAIRS=${VMQ_BENCH_E2E_ROUNDS:-15} # windows of each row (each between two of no vmq)
E2E_SECONDS=${VMQ_BENCH_E2E_SECONDS:-0.5}
E2E_WARMUP=0.5 # the sender, once
E2E_SETTLE=0.1 # after each change of mode
CTL_N=${VMQ_BENCH_CTL_N:-200}
BIND_N=${VMQ_BENCH_BIND_N:-20}
RESTORE_N=${VMQ_BENCH_RESTORE_N:-3}
BATCH_REPS=3
NQUEUES=4096
MAP_IDS=8192 # IDs 1..4096 and the default queue 0
JSON_OUT=${VMQ_BENCH_JSON:-$BUILD/bench/bench.json}
DEFAULT_TXQ=7
VM_QUEUE=1
VM_TXQ=1

vmqt_init bpftool taskset
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl" "$BUILD/tests/vmq-udpsend" "$BUILD/bench/vmq-bench" \
	"$BUILD/bench/vmq-bench-balance"
[ -c /dev/net/tun ] || vmqt_fail "no /dev/net/tun: the port policy figures need taps"
RAW=$VMQT_TMP/raw.txt
: >"$RAW"

log() { printf 'bench: %s\n' "$*" >&2; }
rec() { printf '%s\n' "$*" >>"$RAW"; }

# --- the machine ---------------------------------------------------------------
possible_cpus() { # "0-1,4" -> 3
	awk -F, '{ n = 0; for (i = 1; i <= NF; i++) { split($i, r, "-"); n += (r[2] == "" ? 1 : r[2] - r[1] + 1) } print n }' \
		/sys/devices/system/cpu/possible
}
rec meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
rec meta nproc "$(nproc)"
rec meta possible_cpus "$(possible_cpus)"
rec meta cpu "$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
rec meta kernel "$(uname -r)"
rec meta load_start "$(cut -d' ' -f1-3 /proc/loadavg)"
rec meta e2e_seconds "$E2E_SECONDS"
rec meta map_ids "$MAP_IDS"

# --- data plane: vmq-bench ------------------------------------------------------
log "data plane: vmq-bench (BPF_PROG_TEST_RUN; about 30 s)"
# shellcheck disable=SC2086 # knobs, word-split on purpose
"$BUILD/bench/vmq-bench" --json "$VMQT_TMP/micro.json" ${VMQ_BENCH_MICRO_ARGS:-} | sed 's/^/  | /' >&2

# --- the host -----------------------------------------------------------------------
log "building the namespace host: 3 uplinks (8 TX queues, mq, a wire behind each); VM 1 routed, VM 11 bridged with uplink 1, VM 12 behind a bridge gateway; two vmqd (default hook, VMQ_TC_MODE=clsact)"
vmqt_topo_host 3
vmqt_vm_add 1
bench_bridges_nf_off
bench_topo_bridged 11 1
bench_topo_gateway 12 2
vmqt_bpffs_mount
STATE_DIR=$VMQT_TMP/state # vmqd's state file: the restore part restarts on it
vmqt_topo_vmqd_start -d "$STATE_DIR"
HNS=$VMQT_HOST_NS
DEV=$VMQT_HOST_DEV
PORT=vmqtap1
VMD=$VMQT_VMQD_PID
SOCK_DEFAULT=$VMQT_SOCK
rss_hwm() { # "VmRSS VmHWM RssAnon RssFile" of vmqd, kB
	awk '$1 == "VmRSS:" { r = $2 } $1 == "VmHWM:" { h = $2 } $1 == "RssAnon:" { a = $2 }
		$1 == "RssFile:" { f = $2 } END { print r, h, a, f }' "/proc/$VMD/status"
}
rec rss start "$(rss_hwm)"
# The second vmqd, for the clsact rows: its own socket, pins and state; it
# is stopped after the end-to-end part.
SOCK_CLSACT=$VMQT_TMP/vmqd-clsact.sock
VMQ_TC_MODE=clsact vmqt_vmqd_start "$HNS" "$SOCK_CLSACT" "$VMQT_BPFFS/vmqclsact" -d "$VMQT_TMP/state-clsact"
VMD_CLSACT=$VMQT_VMQD_PID
VMQT_VMQD_PID=$VMD
EMPTY_PIN=$VMQT_BPFFS/bench_empty
vmqt_run "$BUILD/bench/vmq-bench" --pin-empty "$EMPTY_PIN" >/dev/null

# --- end to end ---------------------------------------------------------------------
SENDER_CPU=$(($(nproc) - 1))
rec meta sender_cpu "$SENDER_CPU"
rec meta e2e_pairs "$E2E_PAIRS"

# Topologies: uplink K, VM N (its port vmqtapN), the rows measured there.
TOPOS=(routed bridged gateway)
declare -A TOPO_K=([routed]=0 [bridged]=1 [gateway]=2)
declare -A TOPO_VM=([routed]=1 [bridged]=11 [gateway]=12)
declare -A TOPO_ROWS=([routed]="vmq vmq_clsact empty uplink" [bridged]="vmq vmq_clsact"
	[gateway]="vmq vmq_clsact")
# topo_use TOPO: E_K, E_UP, E_VM, E_PORT for the mode functions.
topo_use() {
	E_TOPO=$1
	E_K=${TOPO_K[$1]}
	E_UP=${VMQT_UP_DEV[E_K]}
	E_VM=${TOPO_VM[$1]}
	E_PORT=vmqtap$E_VM
}
# row_ctl ROW ARGS...: vmqt_ctl on the vmqd of ROW (vmq_clsact: the clsact one).
row_ctl() {
	local row=$1 sock=$SOCK_DEFAULT
	shift
	[ "$row" != vmq_clsact ] || sock=$SOCK_CLSACT
	VMQT_SOCK=$sock vmqt_ctl "$@"
}

mode_on() {
	local spec d hook
	case $1 in
	off) ;;
	empty)
		for spec in "$E_UP egress" "$E_PORT ingress"; do
			read -r d hook <<<"$spec"
			vmqt_run tc -n "$HNS" qdisc add dev "$d" clsact
			vmqt_run tc -n "$HNS" filter add dev "$d" "$hook" pref 1 bpf da pinned "$EMPTY_PIN"
		done
		;;
	vmq | vmq_clsact | uplink)
		row_ctl "$1" dev attach "$E_UP" default-txq "$DEFAULT_TXQ" >/dev/null
		row_ctl "$1" queue add "$E_UP" id "$VM_QUEUE" txq "$VM_TXQ" vm "vm$E_VM" >/dev/null
		[ "$1" = uplink ] || row_ctl "$1" port bind "$E_PORT" dev "$E_UP" queue "$VM_QUEUE" >/dev/null
		;;
	*) vmqt_fail "mode_on: no mode $1" ;;
	esac
}

# Back to nothing: vmqd manages no device, no clsact left on the port or
# the uplink.
mode_off() {
	local d q
	case $1 in
	off) ;;
	empty)
		vmqt_run tc -n "$HNS" qdisc del dev "$E_UP" clsact
		vmqt_run tc -n "$HNS" qdisc del dev "$E_PORT" clsact
		;;
	vmq | vmq_clsact | uplink)
		[ "$1" = uplink ] || row_ctl "$1" port unbind "$E_PORT" >/dev/null
		row_ctl "$1" dev detach "$E_UP" >/dev/null
		q=$(row_ctl "$1" -j dev show | vmqt_json 'len(j["devs"])')
		vmqt_assert_eq "after mode $1 ($E_TOPO): devices vmqd still lists" 0 "$q"
		;;
	esac
	for d in "$E_UP" "$E_PORT"; do
		q=$(vmqt_run tc -n "$HNS" qdisc show dev "$d")
		if grep -q clsact <<<"$q"; then
			vmqt_fail "after mode $1 ($E_TOPO): clsact still on $d:$(printf '\n%s' "$q" | sed 's/^/   | /')"
		fi
	done
}

# mode_labels ROW: "HOOK PORTMODE" as vmqd reports them with ROW on: the
# "hook" of `dev show` (clsact when it has none: a vmqd before tcx), the
# "mode" of the port's `port show` entry ("-" when it has none or is not
# bound). The empty programs: tc clsact, no port binding.
mode_labels() {
	local hook pm
	case $1 in
	vmq | vmq_clsact | uplink)
		hook=$(row_ctl "$1" -j dev show "$E_UP" | vmqt_json 'j["devs"][0].get("hook", "clsact")')
		pm=$(row_ctl "$1" -j port show | vmqt_json \
			"next((p.get('mode', '-') for p in j['ports'] if p['port'] == '$E_PORT'), '-')")
		;;
	*) hook=clsact pm=- ;;
	esac
	printf '%s %s\n' "${hook// /_}" "${pm// /_}"
}

# Runs in the wire namespace: packets received, and the sender's CPU time
# and run-queue wait (/proc/PID/schedstat, ns), over SECONDS.
SAMPLER='
import sys, time
dev, pid, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
def snap():
    t = time.monotonic_ns()
    with open("/sys/class/net/%s/statistics/rx_packets" % dev) as h:
        rx = int(h.read())
    with open("/proc/%s/schedstat" % pid) as h:
        run, wait = (int(x) for x in h.read().split()[:2])
    return (rx, t, run, wait)
a = snap()
time.sleep(secs)
b = snap()
print(" ".join(str(y - x) for x, y in zip(a, b)))
'

# The sender: one unpaced vmq-udpsend in the topology's VM, pinned to
# $SENDER_CPU, for all of the topology's windows; the modes change under it.
sender_start() {
	ip netns exec "${VMQT_VM_NS[$E_VM]}" taskset -c "$SENDER_CPU" "$BUILD/tests/vmq-udpsend" \
		--dst "${VMQT_UP_WIRE_IP[E_K]}" --port 9 --count 1000000000000 --flows 4 --src-port-base 30000 \
		>"$VMQT_TMP/sender.out" 2>&1 &
	SENDER_PID=$!
	VMQT_PIDS+=("$SENDER_PID")
	sleep "$E2E_WARMUP"
}
sender_alive() {
	kill -0 "$SENDER_PID" 2>/dev/null ||
		vmqt_fail "vmq-udpsend stopped ($E_TOPO):$(sed 's/^/   | /' "$VMQT_TMP/sender.out")"
}
sender_stop() {
	kill -TERM "$SENDER_PID"
	{ wait "$SENDER_PID"; } 2>/dev/null || true
	vmqt_forget_pid "$SENDER_PID"
}

# e2e_window MODE: $E2E_SETTLE after the mode change, one window of
# $E2E_SECONDS; sets E2E_OUT to "RX NS RUN WAIT D0,..,D7" and E2E_PPS. With
# vmq, every packet of the window must have left on the VM's TX queue
# (uplink only: on the default queue's).
e2e_window() {
	local mode=$1 before after out d q want rx ns
	local -a dq
	sleep "$E2E_SETTLE"
	sender_alive
	before=$(vmqt_up_counts "$E_K")
	out=$(vmqt_in "${VMQT_UP_WIRE_NS[E_K]}" taskset -c 0 "$VMQT_PY" -c "$SAMPLER" \
		"${VMQT_UP_WIRE_DEV[E_K]}" "$SENDER_PID" "$E2E_SECONDS")
	after=$(vmqt_up_counts "$E_K")
	sender_alive
	d=$(vmqt_txq_delta "$before" "$after")
	[[ $out =~ ^[1-9][0-9]*\ [0-9]+\ [0-9]+\ [0-9]+$ ]] ||
		vmqt_fail "mode $mode ($E_TOPO): the sampler read '$out' (no packets at the wire?)"
	case $mode in
	vmq | vmq_clsact) want=$VM_TXQ ;;
	uplink) want=$DEFAULT_TXQ ;; # unmarked: the default queue
	*) want="" ;;
	esac
	if [ -n "$want" ]; then
		read -r -a dq <<<"$d"
		for q in "${!dq[@]}"; do
			[ "$q" -eq "$want" ] || [ "${dq[q]}" -eq 0 ] ||
				vmqt_fail "mode $mode ($E_TOPO): packets on $E_UP TX queue $q, expected all on $want (per TX queue: $d)"
		done
		[ "${dq[want]}" -gt 0 ] || vmqt_fail "mode $mode ($E_TOPO): nothing on $E_UP TX queue $want (per TX queue: $d)"
	fi
	E2E_OUT="$out ${d// /,}"
	read -r rx ns _ <<<"$out"
	E2E_PPS=$((rx * 1000000000 / ns))
}

# The programs' own cost in the routed path: BPF run-time statistics, on
# only while `vmq-bench --hold-stats` runs (they cost time themselves).
prog_stats() { # PINNED_PROG: "RUN_CNT RUN_TIME_NS"
	vmqt_run bpftool -j prog show pinned "$1" |
		vmqt_json '"%d %d" % (j.get("run_cnt", 0), j.get("run_time_ns", 0))'
}
bpf_run_time() {
	local i mode p name path c0 t0 c1 t1
	local -a progs
	local -A s0
	log "  one window each of vmq and empty with BPF run-time statistics on"
	"$BUILD/bench/vmq-bench" --hold-stats >"$VMQT_TMP/stats.out" 2>&1 &
	HOLD_PID=$!
	VMQT_PIDS+=("$HOLD_PID")
	for i in $(seq 50); do
		! grep -q '^stats on$' "$VMQT_TMP/stats.out" || break
		kill -0 "$HOLD_PID" 2>/dev/null || vmqt_fail "vmq-bench --hold-stats:$(sed 's/^/   | /' "$VMQT_TMP/stats.out")"
		sleep 0.1
	done
	grep -q '^stats on$' "$VMQT_TMP/stats.out" || vmqt_fail "vmq-bench --hold-stats did not start"
	for mode in vmq empty; do
		mode_on "$mode"
		if [ "$mode" = vmq ]; then
			progs=("vmq_tx_egress $VMQT_PINS/$E_UP/vmq_tx_egress"
				"vmq_port_ingress $VMQT_PINS/vmq_port_bindings/vmq_port_ingress")
		else
			progs=("empty $EMPTY_PIN")
		fi
		s0=()
		sleep "$E2E_SETTLE"
		for p in "${progs[@]}"; do
			read -r name path <<<"$p"
			if [ -e "$path" ]; then
				s0[$name]=$(prog_stats "$path")
			else # a vmq that pins it elsewhere, or has no port program
				log "  no $path: $name not measured"
			fi
		done
		e2e_window "$mode"
		for p in "${progs[@]}"; do
			read -r name path <<<"$p"
			[ -n "${s0[$name]:-}" ] || continue
			read -r c0 t0 <<<"${s0[$name]}"
			read -r c1 t1 <<<"$(prog_stats "$path")"
			rec bpfstat "$mode" "$name" $((c1 - c0)) $((t1 - t0))
		done
		mode_off "$mode"
	done
	kill -TERM "$HOLD_PID"
	{ wait "$HOLD_PID"; } 2>/dev/null || true
	vmqt_forget_pid "$HOLD_PID"
}

# Per topology: off, ROW, off, ROW', off, ... under one running sender,
# E2E_PAIRS windows of each row (the rows' order rotating cycle to cycle
# when there are more than two),
# every row window between two no-vmq windows; report.py divides each row
# window by the mean of its two neighbours.
log "end to end: ${E2E_SECONDS} s windows, no vmq between every two; $E2E_PAIRS windows per row; sender on CPU $SENDER_CPU"
for topo in "${TOPOS[@]}"; do
	topo_use "$topo"
	read -r -a rows <<<"${TOPO_ROWS[$topo]}"
	log " $topo (VM $E_VM, $E_PORT -> $E_UP): rows ${rows[*]}"
	sender_start
	seq=0
	e2e_window off
	rec e2e "$topo" "$seq" off "$E2E_OUT"
	prev_off=$E2E_PPS
	declare -A labelled=()
	for ((r = 0; r < E2E_PAIRS; r++)); do
		line=""
		for ((k = 0; k < ${#rows[@]}; k++)); do
			# The order rotates cycle to cycle, with 3 rows or more: then
			# no row has two windows beside the same no-vmq window.
			row=${rows[(${#rows[@]} > 2 ? r + k : k) % ${#rows[@]}]}
			mode_on "$row"
			if [ -z "${labelled[$row]:-}" ]; then
				rec e2elabel "$topo" "$row" "$(mode_labels "$row")"
				labelled[$row]=1
			fi
			e2e_window "$row"
			mode_off "$row"
			seq=$((seq + 1))
			rec e2e "$topo" "$seq" "$row" "$E2E_OUT"
			pps=$E2E_PPS
			e2e_window off
			seq=$((seq + 1))
			rec e2e "$topo" "$seq" off "$E2E_OUT"
			line+=" $row $(awk -v m="$pps" -v a="$prev_off" -v b="$E2E_PPS" 'BEGIN { printf "%.3f", 2 * m / (a + b) }')"
			prev_off=$E2E_PPS
		done
		log "  $topo $((r + 1)):$line (over the neighbours; no vmq ${prev_off} pps)"
	done
	unset labelled
	[ "$topo" != routed ] || bpf_run_time
	sender_stop
done
vmqt_vmqd_kill "$VMD_CLSACT" TERM

# --- control plane ----------------------------------------------------------------------
log "control plane: $CTL_N x vmqctl queue set, $CTL_N x vmqctl daemon ping, $BATCH_REPS x vmqctl -b of $NQUEUES queue add"
vmqt_ctl dev attach "$DEV" default-txq "$DEFAULT_TXQ" queues "$MAP_IDS" >/dev/null
rec rss attached "$(rss_hwm)"
vmqt_ctl queue add "$DEV" id "$VM_QUEUE" txq "$VM_TXQ" vm vm1 >/dev/null

# ctl_once OP ARGS...: one vmqctl, timed from before its fork to after its exit.
CTL_ERR=$VMQT_TMP/ctl.err
ctl_once() {
	local op=$1 t0 t1 rc=0
	shift
	t0=$EPOCHREALTIME
	"$BUILD/vmqctl" -s "$VMQT_SOCK" "$@" >/dev/null 2>"$CTL_ERR" || rc=$?
	t1=$EPOCHREALTIME
	if [ "$rc" -ne 0 ] || [ -s "$CTL_ERR" ]; then
		vmqt_fail "vmqctl $*: exit $rc:$(sed 's/^/   | /' "$CTL_ERR")"
	fi
	[ "$op" = - ] || rec ctl "$op" "$t0" "$t1"
}
for i in 1 2 3 4 5; do # warm-up, not recorded
	ctl_once - queue set "$DEV" id "$VM_QUEUE" txq $((i % 8))
	ctl_once - daemon ping
done
for ((i = 0; i < CTL_N; i++)); do
	ctl_once set queue set "$DEV" id "$VM_QUEUE" txq $((i % 8))
done
for ((i = 0; i < CTL_N; i++)); do
	ctl_once ping daemon ping
done
vmqt_ctl queue del "$DEV" id "$VM_QUEUE" >/dev/null

for ((i = 1; i <= NQUEUES; i++)); do
	printf 'queue add %s id %d txq %d vm vm%d\n' "$DEV" "$i" $((i % 8)) "$i"
done >"$VMQT_TMP/add.batch"
for ((i = 1; i <= NQUEUES; i++)); do
	printf 'queue del %s id %d\n' "$DEV" "$i"
done >"$VMQT_TMP/del.batch"
batch_once() { # OP REP FILE
	local t0 t1 rc=0
	t0=$EPOCHREALTIME
	"$BUILD/vmqctl" -s "$VMQT_SOCK" -b "$3" >"$VMQT_TMP/batch.out" 2>"$CTL_ERR" || rc=$?
	t1=$EPOCHREALTIME
	if [ "$rc" -ne 0 ] || [ -s "$CTL_ERR" ] || [ -s "$VMQT_TMP/batch.out" ]; then
		vmqt_fail "vmqctl -b ($1 x $NQUEUES): exit $rc:$(sed 's/^/   | /' "$VMQT_TMP/batch.out" "$CTL_ERR")"
	fi
	rec batch "$1" "$2" "$t0" "$t1"
}
for ((rep = 1; rep <= BATCH_REPS; rep++)); do
	batch_once add "$rep" "$VMQT_TMP/add.batch"
	[ "$rep" -eq "$BATCH_REPS" ] || batch_once del "$rep" "$VMQT_TMP/del.batch"
done
live=$(vmqt_ctl -j dev show "$DEV" | vmqt_json 'j["devs"][0]["live_queues"]')
vmqt_assert_eq "live queues after the batch" "$NQUEUES" "$live"
rec live "$live"

# --- memory: 4096 queues, VM 1's port bound ---------------------------------------
log "memory: vmqd VmRSS, BPF maps"
vmqt_ctl port bind "$PORT" dev "$DEV" queue "$VM_QUEUE" >/dev/null
rec rss queues "$(rss_hwm)"
vmqt_run "$VMQT_PY" "$here/report.py" maps "$VMQT_PINS" "$VMD" >"$VMQT_TMP/maps.json"

# --- port policy: a link appears -> bound -> its first packet steered ------------
# bench/latency.py bind (in the host namespace) creates taps PREFIX1..N one
# at a time and writes unmarked frames into each from the moment it exists;
# the host routes them to the uplink. Once with VM 1's queue the only one,
# once with 4096 live queues (each state file write then holds them all).
live_queues() { vmqt_ctl -j dev show "$DEV" | vmqt_json 'j["devs"][0]["live_queues"]'; }
BIND_PREFIX=vmqpb$RANDOM
BIND_SRC=10.0.254.2 # no VM's subnet: the host forwards it to the wire
bind_run() { # LABEL: BIND_N taps ${BIND_PREFIX}LABEL1..; one bind record each
	local label=$1 live rx0 rx1 frames=0 runs=0 out rep bound steer n rest
	live=$(live_queues)
	rx0=$(vmqt_dev_stat "$VMQT_WIRE_NS" "$VMQT_WIRE_DEV" rx_packets)
	out=$(vmqt_in "$HNS" "$VMQT_PY" "$here/latency.py" bind "$VMQT_SOCK" "$DEV" \
		"$BIND_PREFIX$label" "$BIND_N" "$BIND_SRC" "$VMQT_WIRE_IP")
	rx1=$(vmqt_dev_stat "$VMQT_WIRE_NS" "$VMQT_WIRE_DEV" rx_packets)
	while read -r rep bound steer n rest; do
		vmqt_uint "frames written (run $rep)" "$n"
		frames=$((frames + n))
		runs=$((runs + 1))
		rec bind "$live" "$rep" "$bound" "$steer" "$n" "$rest"
	done <<<"$out"
	vmqt_assert_eq "port policy, $live live queues: runs" "$BIND_N" "$runs"
	vmqt_assert_eq "port policy, $live live queues: frames received at the wire" "$frames" $((rx1 - rx0))
	log "  $live live queues: link -> port show / first steered, ms:$(awk '{ printf " %s/%s", $2, $3 }' <<<"$out")"
}
log "port policy: $BIND_N taps appearing, each sending at once; with 1, then 4096 live queues"
vmqt_run "$BUILD/vmqctl" -s "$VMQT_SOCK" -b "$VMQT_TMP/del.batch" >/dev/null
vmqt_ctl queue add "$DEV" id "$VM_QUEUE" txq "$VM_TXQ" vm vm1 >/dev/null
out=$(vmqt_ctl -j dev set "$DEV" ports "$BIND_PREFIX*")
vmqt_assert_eq "dev set $DEV ports '$BIND_PREFIX*': links bound now" "[]" "$(vmqt_json 'j["bound"]' <<<"$out")"
bind_run a
vmqt_ctl queue del "$DEV" id "$VM_QUEUE" >/dev/null
vmqt_run "$BUILD/vmqctl" -s "$VMQT_SOCK" -b "$VMQT_TMP/add.batch" >/dev/null
bind_run b

# --- restore after a simulated reboot, 4096 queues ---------------------------------
# tests/integration/test_vmqd_state.sh's reboot: the daemon killed, its pins
# and the clsact of the uplink and of every bound port gone (what memory
# held), the devices still there; vmqd started again on the same state dir.
log "restore: $RESTORE_N simulated reboots with 4096 queues"
vmqt_vm_add 2
vmqt_vm_add 3
vmqt_ctl group add "$DEV" id 1 txqs 4,5 >/dev/null
vmqt_ctl group add "$DEV" id 2 txqs 2,3,6 >/dev/null
vmqt_ctl queue add "$DEV" id $((NQUEUES + 1)) group 1 vm vm2 >/dev/null
vmqt_ctl queue add "$DEV" id $((NQUEUES + 2)) group 2 vm vm3 >/dev/null
vmqt_ctl port bind vmqtap2 dev "$DEV" queue $((NQUEUES + 1)) >/dev/null
vmqt_ctl port bind vmqtap3 dev "$DEV" queue $((NQUEUES + 2)) >/dev/null
RESTORE_PORTS=(vmqtap1 vmqtap2 vmqtap3)
# full_state: dev/queue/group/port show, ifindex left out, lists sorted.
full_state() {
	{
		vmqt_ctl -j dev show
		vmqt_ctl -j queue show
		vmqt_ctl -j group show
		vmqt_ctl -j port show
	} | vmqt_json -l '[sorted(({k: v for k, v in o.items() if k != "ifindex"} for o in list(d.values())[0]), key=lambda o: json.dumps(o, sort_keys=True)) for d in j]'
}
state_before=$(full_state)
counts=$(vmqt_json '"%d %d %d" % (len(j[1]) - 1, len(j[2]), len(j[3]))' <<<"$state_before")
rec restore_state "$counts" "$(wc -c <"$STATE_DIR/vmqd.state")"
read -r live_before _ <<<"$counts"
for ((rep = 1; rep <= RESTORE_N; rep++)); do
	vmqt_vmqd_kill "$VMQT_VMQD_PID" KILL
	rm -rf "${VMQT_PINS:?}"
	for d in "$DEV" "${RESTORE_PORTS[@]}"; do # clsact where vmq used it (not with tcx)
		! grep -q clsact <<<"$(vmqt_run tc -n "$HNS" qdisc show dev "$d")" ||
			vmqt_run tc -n "$HNS" qdisc del dev "$d" clsact
	done
	rm -f "$VMQT_TMP/ping.ready"
	"$VMQT_PY" "$here/latency.py" ping "$VMQT_SOCK" "$VMQT_TMP/ping.ready" 30 >"$VMQT_TMP/ping.out" 2>&1 &
	poller=$!
	VMQT_PIDS+=("$poller")
	for _ in $(seq 500); do
		[ ! -e "$VMQT_TMP/ping.ready" ] || break
		sleep 0.01
	done
	[ -e "$VMQT_TMP/ping.ready" ] || vmqt_fail "latency.py ping did not start:$(sed 's/^/   | /' "$VMQT_TMP/ping.out")"
	VMQT_VMQD_N=$((VMQT_VMQD_N + 1))
	VMQT_VMQD_LOG=$VMQT_TMP/vmqd-$VMQT_VMQD_N.log
	t0=$EPOCHREALTIME
	ip netns exec "$HNS" "$BUILD/vmqd" -s "$VMQT_SOCK" -b "$VMQT_PINS" -d "$STATE_DIR" 2>"$VMQT_VMQD_LOG" &
	VMQT_VMQD_PID=$!
	VMQT_PIDS+=("$VMQT_VMQD_PID")
	rc=0
	wait "$poller" || rc=$?
	vmqt_forget_pid "$poller"
	[ "$rc" -eq 0 ] || vmqt_fail "restore $rep: no answer from vmqd:$(sed 's/^/   | /' "$VMQT_TMP/ping.out" "$VMQT_VMQD_LOG")"
	read -r t1 pid <"$VMQT_TMP/ping.out"
	vmqt_assert_eq "restore $rep: pid answering daemon ping" "$VMQT_VMQD_PID" "$pid"
	live=$(live_queues)
	vmqt_assert_eq "restore $rep: live queues" "$live_before" "$live"
	vmqt_assert_eq "restore $rep: dev/queue/group/port show after the restore" "$state_before" "$(full_state)"
	rec restore "$rep" "$t0" "$t1" "$live"
	log "  restore $rep: vmqd answered $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 }') ms after its start; $live queues, state equal"
done
VMD=$VMQT_VMQD_PID

rec meta load_end "$(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "${VMQ_BENCH_RAW:-}" ]; then # keep the raw records: report.py render re-reads them
	mkdir -p "$VMQ_BENCH_RAW"
	cp "$RAW" "$VMQT_TMP/micro.json" "$VMQT_TMP/maps.json" "$VMQ_BENCH_RAW/"
fi
"$VMQT_PY" "$here/report.py" render "$RAW" "$VMQT_TMP/micro.json" "$JSON_OUT"

# --- the balancer: one interval's CPU cost (docs/balancing.md) -------------------
log "balancer: vmq-bench-balance (4096 queues, 64 TX queues)"
echo
"$BUILD/bench/vmq-bench-balance" --queues "$NQUEUES" --txqs 64
