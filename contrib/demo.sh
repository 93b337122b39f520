#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# make demo: vmq on a virtualisation host built in network namespaces.
# Three VMs send through a host onto an uplink with 8 TX queues; vmq gives
# each VM its own TX queue, then one VM "live-migrates" away: its queue is
# freed mid-stream and its packets move to the default queue, none lost.
# Then a port policy binds a fourth VM's port by itself, and the running
# state is saved as a file that `apply --dry-run` finds equal.
# Everything is torn down at the end, also on Ctrl-C or failure.

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../tests/integration/lib.sh
. "$here/../tests/integration/lib.sh"
# shellcheck source=../tests/integration/topology.sh
. "$here/../tests/integration/topology.sh"

RATE=5000        # packets per second per VM
SECONDS_EACH=2   # length of the first traffic run
DEFAULT_TXQ=0
declare -A VM_NAME=([1]=web [2]=db [3]=cache)
declare -A VM_QUEUE=([1]=10 [2]=20 [3]=30)
declare -A VM_TXQ=([1]=1 [2]=2 [3]=3)

if [ -t 1 ]; then
	say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
else
	say() { printf '\n%s\n' "$*"; }
fi
show() { printf '  $ %s\n' "$*"; }
indent() { sed 's/^/    /'; }
ctl() { # prints the command, then its output
	show "vmqctl $*"
	vmqt_ctl "$@" | indent
}

vmqt_init
VMQT_DIAG_FN=vmqt_topo_diag
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl" "$BUILD/tests/vmq-udpsend"

cat <<'TXT'
vmq demo: one NIC transmit queue per VM, as Hyper-V's VMQ does, on Linux.

  vm1 "web"   --tap--\
  vm2 "db"    --tap---> host (routes) --> uplink vmqup0: 8 TX queues --> wire
  vm3 "cache" --tap--/

Each part is a network namespace on this machine; names are unique to this
run and everything is removed at the end.
TXT

say "1. Building the topology"
vmqt_topo_host 1
for n in 1 2 3; do
	vmqt_vm_add "$n"
done
echo "    host $VMQT_HOST_NS, wire $VMQT_WIRE_NS"
for n in 1 2 3; do
	echo "    VM ${VM_NAME[$n]}: namespace ${VMQT_VM_NS[$n]}, port vmqtap$n"
done

say "2. Starting vmqd and giving each VM its own queue"
vmqt_topo_vmqd_start
echo "    vmqd pid $VMQT_VMQD_PID, socket $VMQT_SOCK, pins under $VMQT_PINS"
ctl dev attach "$VMQT_HOST_DEV" default-txq "$DEFAULT_TXQ"
for n in 1 2 3; do
	ctl queue add "$VMQT_HOST_DEV" id "${VM_QUEUE[$n]}" txq "${VM_TXQ[$n]}" vm "${VM_NAME[$n]}"
	ctl port bind "vmqtap$n" dev "$VMQT_HOST_DEV" queue "${VM_QUEUE[$n]}"
done
ctl queue show "$VMQT_HOST_DEV"
ctl port show

say "3. Traffic: each VM sends $((RATE * SECONDS_EACH)) UDP packets, all at once"
before=$(vmqt_up_counts 0)
senders=()
for n in 1 2 3; do
	vmqt_vm_send "$n" --count $((RATE * SECONDS_EACH)) --rate "$RATE" --flows 4 >/dev/null &
	senders+=($!)
done
wait "${senders[@]}" # not a bare wait: vmqd runs in the background too
after=$(vmqt_up_counts 0)
echo "    Per-queue figures from vmq's counters:"
ctl stats "$VMQT_HOST_DEV"
echo "    The kernel's own per-TX-queue counters (tc -s class show dev $VMQT_HOST_DEV), this run:"
delta=$(vmqt_txq_delta "$before" "$after")
printf '      TXQ %s\n' "0 1 2 3 4 5 6 7" | awk '{ printf "      TXQ"; for (i = 2; i <= NF; i++) printf " %7s", $i; print "" }'
printf '%s\n' "$delta" | awk '{ printf "      pkts"; for (i = 1; i <= NF; i++) printf " %7s", $i; print "" }'
for n in 1 2 3; do
	got=$(awk -v q="${VM_TXQ[$n]}" '{ print $(q + 1) }' <<<"$delta")
	vmqt_assert_eq "packets of VM ${VM_NAME[$n]} on TX queue ${VM_TXQ[$n]}" \
		$((RATE * SECONDS_EACH)) "$got"
done
echo "    Each VM's traffic left on its own TX queue."
echo "    vmqctl doctor checks what could defeat that, then probes with marked frames:"
ctl doctor "$VMQT_HOST_DEV"

say "4. Live migration: \"web\" keeps sending while its queue is freed"
wire_before=$(vmqt_dev_stat "$VMQT_WIRE_NS" "$VMQT_WIRE_DEV" rx_packets)
before=$(vmqt_up_counts 0)
vmqt_vm_send 1 --count $((RATE * 3)) --rate "$RATE" --flows 4 >/dev/null &
sender=$!
sleep 1
ctl queue del "$VMQT_HOST_DEV" id "${VM_QUEUE[1]}"
echo "    (queue ${VM_QUEUE[1]} freed while web was sending; the port stays bound to it)"
wait "$sender"
after=$(vmqt_up_counts 0)
wire_after=$(vmqt_dev_stat "$VMQT_WIRE_NS" "$VMQT_WIRE_DEV" rx_packets)
delta=$(vmqt_txq_delta "$before" "$after")
on_old=$(awk -v q="${VM_TXQ[1]}" '{ print $(q + 1) }' <<<"$delta")
on_default=$(awk -v q="$DEFAULT_TXQ" '{ print $(q + 1) }' <<<"$delta")
ctl port show
ctl stats "$VMQT_HOST_DEV"
printf '    web sent %d packets: %d on its TX queue %d before the free, %d on the default queue (TX queue %d) after.\n' \
	$((RATE * 3)) "$on_old" "${VM_TXQ[1]}" "$on_default" "$DEFAULT_TXQ"
printf '    The wire received %d of them: none lost.\n' $((wire_after - wire_before))
vmqt_assert_eq "packets at the wire" $((RATE * 3)) $((wire_after - wire_before))
vmqt_assert_eq "packets on the old and default TX queues" $((RATE * 3)) $((on_old + on_default))

say "5. The VM comes back: a new queue ${VM_QUEUE[1]} on TX queue 5 takes its traffic again"
ctl queue add "$VMQT_HOST_DEV" id "${VM_QUEUE[1]}" txq 5 vm web
before=$(vmqt_up_counts 0)
vmqt_vm_send 1 --count 1000 --flows 4 >/dev/null
after=$(vmqt_up_counts 0)
delta=$(vmqt_txq_delta "$before" "$after")
vmqt_assert_eq "web's packets on TX queue 5" 1000 "$(awk '{ print $6 }' <<<"$delta")"
echo "    1000 of 1000 packets on TX queue 5."

say "6. Zero touch: a port policy gives a new VM its queue by itself"
ctl dev set "$VMQT_HOST_DEV" ports 'vmqtap*'
echo "    A fourth VM, \"mail\", starts: its port vmqtap4 appears, and nobody runs vmqctl."
vmqt_vm_add 4
for _ in $(seq 100); do
	vmqt_ctl -j port show | grep -q '"port":"vmqtap4"' && break
	sleep 0.01
done
ctl port show
q4=$(vmqt_ctl -j port show | vmqt_json '[p["queue"] for p in j["ports"] if p["port"] == "vmqtap4"][0]')
txq4=$(vmqt_ctl -j queue show "$VMQT_HOST_DEV" id "$q4" | vmqt_json 'j["queues"][0]["txq"]')
echo "    vmqd gave it queue $q4, placed on TX queue $txq4: the one with the fewest queues."
before=$(vmqt_up_counts 0)
vmqt_vm_send 4 --count 1000 --flows 4 >/dev/null
after=$(vmqt_up_counts 0)
delta=$(vmqt_txq_delta "$before" "$after")
vmqt_assert_eq "mail's packets on TX queue $txq4" 1000 "$(awk -v q="$txq4" '{ print $(q + 1) }' <<<"$delta")"
echo "    1000 of 1000 packets from mail on TX queue $txq4."

say "7. Declarative: the running state as a file, and back"
vmqt_ctl save >"$VMQT_TMP/host.vmq"
show "vmqctl save > host.vmq"
indent <"$VMQT_TMP/host.vmq"
ctl apply --dry-run "$VMQT_TMP/host.vmq"
echo "    Nothing to do: the file is the running state. vmqd also keeps that state"
echo "    on disk by itself (--state-dir) and restores it after a reboot."
echo "    mail shuts down: its port vanishes, and its binding and queue go with it."
vmqt_run ip -n "$VMQT_HOST_NS" link del vmqtap4
for _ in $(seq 100); do
	vmqt_ctl -j queue show "$VMQT_HOST_DEV" | grep -q "\"id\":$q4," || break
	sleep 0.01
done
ctl queue show "$VMQT_HOST_DEV"

say "8. Tearing down"
ctl dev detach "$VMQT_HOST_DEV"
echo "    vmqd, namespaces, pins and the bpffs mount are removed on exit."
echo
echo "Done. More: README.md, docs/vmqctl.md; \`make test\` runs every test."
