#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The receive side's figures (make bench runs it after bench/run.sh; it
# runs alone too: BUILD=$PWD/build bash bench/rx.sh):
#
#   per frame   build/bench/vmq-rx-bench: vmq_rx under BPF_PROG_TEST_RUN
#               against an XDP program that only returns XDP_PASS, with 1,
#               4096 and 16384 filters
#   receive pps frames a VM receives per second, straight from the uplink's
#               XDP to its port (vmq_rx, queue in `port` mode) against the
#               kernel's own path to the same VM (no XDP: the bridge):
#
#     wire ns: vmqrxw0 ==veth== vmqrxu0 (uplink, GRO on) -+- vmqrxbr0 -+- vmqrxp0 ==veth== vmqrxv0 (VM ns, GRO on)
#
#               The generator (vmq-rx-bench --gen: XDP live frames, 64-byte
#               IPv4 UDP to the VM's MAC) runs in the wire namespace pinned
#               to one CPU; everything the frames cost on the host runs on
#               that CPU too (veth's NAPI is scheduled where the frame was
#               sent). Windows alternate under the running generator:
#               bridge, port, bridge, port, ...: vmq_rx attached in native
#               mode, or not attached. Each port window is divided by the
#               mean of its two neighbouring bridge windows; the median of
#               those ratios is the figure. Counted at the VM's interface
#               (rx_packets of vmqrxv0).
#               Then one port window with GRO off on the VM's interface
#               (and no XDP program there): veth then has no NAPI for
#               redirected frames and drops them, which is why vmq's port
#               mode needs one or the other on a veth port.
#
# vmq_rx is loaded and configured the bpftool way (README, "Loading with
# bpftool"): no vmqd. Knobs: VMQ_BENCH_RX_PAIRS (9), VMQ_BENCH_RX_SECONDS
# (1), VMQ_BENCH_RX_MICRO_ARGS, VMQ_BENCH_RX_JSON ($BUILD/bench/rx.json).
# Everything it creates is removed on exit, also on ^C (lib.sh's trap).
# shellcheck disable=SC2034 # globals for lib.sh
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/lib.sh
. "$here/../tests/integration/lib.sh"

PAIRS=${VMQ_BENCH_RX_PAIRS:-9}
SECONDS_W=${VMQ_BENCH_RX_SECONDS:-1}
JSON_OUT=${VMQ_BENCH_RX_JSON:-$BUILD/bench/rx.json}
VM_MAC=52:54:00:72:78:01
QUEUE=1

vmqt_init bpftool taskset ethtool
vmqt_need_python
vmqt_need_file "$BUILD/bench/vmq-rx-bench" "$BUILD/bench/vmq_rx_bench.bpf.o" \
	"$BUILD/vmq_tx.bpf.o" "$BUILD/vmq_rx.bpf.o"
log() { printf 'bench rx: %s\n' "$*" >&2; }

log "per frame: vmq-rx-bench (BPF_PROG_TEST_RUN; about 30 s)"
# shellcheck disable=SC2086 # knobs, word-split on purpose
"$BUILD/bench/vmq-rx-bench" --json "$VMQT_TMP/micro.json" ${VMQ_BENCH_RX_MICRO_ARGS:-} >"$VMQT_TMP/micro.txt"

# --- the namespaces ----------------------------------------------------------
vmqt_netns_add wire
WNS=$VMQT_LAST_NS
vmqt_netns_add host
HNS=$VMQT_LAST_NS
vmqt_netns_add vm
VNS=$VMQT_LAST_NS
for ns in "$WNS" "$HNS" "$VNS"; do
	vmqt_in "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
UP=vmqrxu0 PORT=vmqrxp0 BR=vmqrxbr0 VMDEV=vmqrxv0 WDEV=vmqrxw0
vmqt_run ip -n "$HNS" link add "$UP" type veth peer name "$WDEV" netns "$WNS"
vmqt_run ip -n "$HNS" link add "$PORT" type veth peer name "$VMDEV" netns "$VNS"
VMQT_LINKS+=("$HNS $UP" "$HNS $PORT")
vmqt_run ip -n "$VNS" link set "$VMDEV" address "$VM_MAC"
vmqt_run ip -n "$HNS" link add "$BR" type bridge stp_state 0 mcast_snooping 0
for f in arptables iptables ip6tables; do
	if vmqt_in "$HNS" test -e "/proc/sys/net/bridge/bridge-nf-call-$f"; then
		vmqt_in "$HNS" sysctl -qw "net.bridge.bridge-nf-call-$f=0"
	fi
done
vmqt_run ip -n "$HNS" link set "$UP" master "$BR"
vmqt_run ip -n "$HNS" link set "$PORT" master "$BR"
for spec in "$WNS $WDEV" "$HNS $UP" "$HNS $PORT" "$HNS $BR" "$VNS $VMDEV" "$VNS lo"; do
	read -r ns d <<<"$spec"
	vmqt_run ip -n "$ns" link set "$d" up
done
vmqt_run bridge -n "$HNS" fdb replace "$VM_MAC" dev "$PORT" master static
# veth delivers frames sent by XDP (the generator's, vmq_rx's redirects)
# only to a peer with NAPI: GRO on (or an XDP program). The uplink and the
# VM's interface have it in both paths.
vmqt_in "$HNS" ethtool -K "$UP" gro on >/dev/null
vmqt_in "$VNS" ethtool -K "$VMDEV" gro on >/dev/null

# --- vmq_tx and vmq_rx, the bpftool way --------------------------------------
vmqt_bpffs_mount
DIR=$VMQT_BPFFS/vmq/$UP
mkdir -p "$DIR/rx"
vmqt_run bpftool prog loadall "$BUILD/vmq_tx.bpf.o" "$DIR" type classifier pinmaps "$DIR/maps"
vmqt_run bpftool prog load "$BUILD/vmq_rx.bpf.o" "$DIR/rx/vmq_rx_xdp" type xdp \
	map name vmq_queues pinned "$DIR/maps/vmq_queues" pinmaps "$DIR/rx"
port_ifindex=$(vmqt_in "$HNS" cat "/sys/class/net/$PORT/ifindex")
# "52:54:00:72:78:01" -> "0x52 0x54 0x00 0x72 0x78 0x01" (bpftool key bytes)
mac_bytes="0x${VM_MAC//:/ 0x}"
# shellcheck disable=SC2046,SC2086
{
	vmqt_run bpftool map update pinned "$DIR/maps/vmq_queues" key $(vmqt_le32 $QUEUE) value 1 0 1 0
	# The devmap takes the ifindex in the writer's network namespace.
	vmqt_in "$HNS" bpftool map update pinned "$DIR/rx/vmq_rx_ports" key $(vmqt_le32 $QUEUE) value $(vmqt_le32 "$port_ifindex")
	vmqt_run bpftool map update pinned "$DIR/rx/vmq_rx_queues" key $(vmqt_le32 $QUEUE) value 2 0 0 0
	vmqt_run bpftool map update pinned "$DIR/rx/vmq_rx_filters" key $mac_bytes 0 0 value $(vmqt_le32 $QUEUE) 0 0 0 0
} >/dev/null

rx_on() { vmqt_run ip -n "$HNS" link set dev "$UP" xdpdrv pinned "$DIR/rx/vmq_rx_xdp"; }
rx_off() { vmqt_run ip -n "$HNS" link set dev "$UP" xdpdrv off; }
vm_rx() { vmqt_in "$VNS" cat "/sys/class/net/$VMDEV/statistics/rx_packets"; }
to_port() { vmqt_percpu_sum "$DIR/rx/vmq_rx_outcomes" 1 packets; }
br_fwd() { vmqt_in "$HNS" cat "/sys/class/net/$PORT/statistics/tx_packets"; }

# --- receive pps -----------------------------------------------------------------
GEN_CPU=$(($(nproc) - 1))
ip netns exec "$WNS" taskset -c "$GEN_CPU" "$BUILD/bench/vmq-rx-bench" --gen "$WDEV" \
	--dst-mac "$VM_MAC" --seconds 3600 >"$VMQT_TMP/gen.out" 2>&1 &
GEN_PID=$!
VMQT_PIDS+=("$GEN_PID")
sleep 0.5
RAW=$VMQT_TMP/pps.txt
: >"$RAW"
# window MODE: frames the VM received per second over SECONDS_W; checks
# which path carried them (vmq_rx's port counter, or the bridge's).
window() {
	local mode=$1 r0 r1 p0 p1 b0 b1 t0 t1 pps
	kill -0 "$GEN_PID" 2>/dev/null || vmqt_fail "the generator stopped:$(sed 's/^/   | /' "$VMQT_TMP/gen.out")"
	sleep 0.2
	p0=$(to_port) b0=$(br_fwd) r0=$(vm_rx) t0=$EPOCHREALTIME
	sleep "$SECONDS_W"
	r1=$(vm_rx) t1=$EPOCHREALTIME p1=$(to_port) b1=$(br_fwd)
	pps=$(awk -v a="$r0" -v b="$r1" -v s="$t0" -v e="$t1" 'BEGIN { printf "%.0f", (b - a) / (e - s) }')
	[ "$pps" -gt 0 ] || vmqt_fail "$mode: the VM received nothing; vmq_rx outcomes:$(bpftool map dump pinned "$DIR/rx/vmq_rx_outcomes" | sed 's/^/   | /')
$(ip -n "$HNS" -s link show "$PORT"; ip -n "$VNS" -s link show "$VMDEV"; ip -n "$HNS" -s link show "$UP")"
	case $mode in
	# Port: every frame the VM got came through vmq_rx (the port's
	# counters cannot tell: veth counts XDP transmits as its own).
	port)
		if [ $((p1 - p0)) -eq 0 ] || [ $((r1 - r0)) -gt $((p1 - p0)) ]; then
			vmqt_fail "port window: vmq_rx sent $((p1 - p0)) to the port, the VM received $((r1 - r0))"
		fi
		;;
	bridge)
		if [ "$p1" -ne "$p0" ] || [ $((b1 - b0)) -eq 0 ]; then
			vmqt_fail "bridge window: vmq_rx sent $((p1 - p0)) to the port, the port sent $((b1 - b0))"
		fi
		;;
	esac
	printf '%s %s %s\n' "$mode" "$pps" "$((p1 - p0))" >>"$RAW"
	W_PPS=$pps
}
log "receive pps: $PAIRS x (bridge, port) windows of $SECONDS_W s, generator on CPU $GEN_CPU"
window bridge
for ((i = 1; i <= PAIRS; i++)); do
	rx_on
	window port
	rx_off
	window bridge
done

# The fact check: port mode, no NAPI on the VM's veth.
vmqt_in "$VNS" ethtool -K "$VMDEV" gro off >/dev/null
rx_on
sleep 0.2
p0=$(to_port) r0=$(vm_rx)
sleep "$SECONDS_W"
p1=$(to_port) r1=$(vm_rx)
rx_off
printf 'nogro %s %s\n' "$((r1 - r0))" "$((p1 - p0))" >>"$RAW"
kill -TERM "$GEN_PID"
{ wait "$GEN_PID"; } 2>/dev/null || true
vmqt_forget_pid "$GEN_PID"

"$VMQT_PY" - "$RAW" "$VMQT_TMP/micro.json" "$JSON_OUT" "$GEN_CPU" <<'PY' >"$VMQT_TMP/pps.txt.out"
import json, statistics, sys
raw, micro, out, cpu = sys.argv[1:5]
rows = [l.split() for l in open(raw)]
seq = [(m, int(p), int(t)) for m, p, t in rows if m in ("bridge", "port")]
ratios, port, bridge = [], [], []
for i, (m, p, _) in enumerate(seq):
    if m == "bridge":
        bridge.append(p)
    else:
        port.append(p)
        ratios.append(p / ((seq[i - 1][1] + seq[i + 1][1]) / 2))
nogro = [(int(a), int(b)) for m, a, b in rows if m == "nogro"][0]
r = statistics.median(ratios)
print("RECEIVE PPS  64-byte UDP frames to one VM, generator and host path on CPU %s; %d windows each" % (cpu, len(port)))
print("%-44s %12s" % ("path", "median pps"))
print("%-44s %12.0f" % ("kernel: uplink -> bridge -> port (no XDP)", statistics.median(bridge)))
print("%-44s %12.0f" % ("vmq_rx port mode: uplink XDP -> devmap -> port", statistics.median(port)))
print("%-44s %11.3fx  (windows %.3f-%.3f)  >= 1.50x  %s" % ("  port over bridge (each over its neighbours)", r,
      min(ratios), max(ratios), "met" if r >= 1.5 else "MISSED"))
print("port mode, no GRO/XDP on the VM's veth: %d received of %d redirected" % nogro)
json.dump({"micro": json.load(open(micro)), "pps": {"bridge": bridge, "port": port, "ratios": ratios,
           "ratio_median": r, "goal": 1.5, "nogro_received": nogro[0], "nogro_redirected": nogro[1],
           "cpu": int(cpu)}}, open(out, "w"), indent=1)
PY
cat "$VMQT_TMP/micro.txt" "$VMQT_TMP/pps.txt.out"
log "figures in $JSON_OUT"
