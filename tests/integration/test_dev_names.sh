#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Interface names and kinds `dev attach` and `port bind` take or refuse.
#
# 1. A name with a dot (a VLAN, vmqup0.100, multiqueue like its veth, or
#    a veth of that name on a kernel without 802.1Q; a bond named with a
#    dot when the kernel has bonding): attached, pinned
#    under DIR/<name with '.' as %2e> (bpffs reserves dots), steering,
#    adopted under its real name by a restarted vmqd, detached clean.
# 2. lo and a single-queue veth: "dev X: not multiqueue (1 TX queue)".
# 3. `port bind lo`: refused, it would stamp all host loopback traffic.
#
# Cases (tests/run.sh test_dev_names CASE...): dotted_vlan, dotted_bond,
# single_queue, port_bind_lo.
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
vmqt_init
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl" "$BUILD/tests/vmq-tcx"

vmqt_vmqd_setup
vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"

txqs() { vmqt_in "$HNS" sh -c 'ls /sys/class/net/"$1"/queues | grep -c "^tx-"' sh "$1"; }

# attach_dotted WHAT NAME ENCODED: the whole life of a dotted uplink.
attach_dotted() {
	local what=$1 name=$2 enc=$3 devs
	vmqt_ctl dev attach "$name" >/dev/null
	vmqt_assert_file "$what: program pinned" "$PINS/$enc/vmq_tx_egress"
	vmqt_assert_hooked "$what" "$HNS" "$name" egress vmq_tx_egress >/dev/null
	vmqt_ctl queue add "$name" id 1 txq 1 >/dev/null
	devs=$(vmqt_ctl -j dev show "$name" | vmqt_json '[(d["dev"], d["attached"], d["pin_dir"]) for d in j["devs"]]')
	vmqt_assert_eq "$what: dev show" "[[\"$name\",true,\"$PINS/$enc\"]]" "$devs"
	vmqt_vmqd_kill "$VMQT_VMQD_PID" TERM
	vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"
	devs=$(vmqt_ctl -j dev show | vmqt_json '[(d["dev"], d["attached"], d["live_queues"]) for d in j["devs"]]')
	vmqt_assert_eq "$what: adopted after a restart" "[[\"$name\",true,1]]" "$devs"
	vmqt_ctl dev detach "$name" >/dev/null
	[ ! -e "$PINS/$enc" ] || vmqt_fail "$what: pins left after detach"
	vmqt_assert_unhooked "$what: detached" "$HNS" "$name" egress vmq_tx_egress
}

# --- 1. dotted names --------------------------------------------------------------
vmqt_case dotted_vlan
case_dotted_vlan() {
	VLAN=$DEV.100
	if ip -n "$HNS" link add link "$DEV" name "$VLAN" type vlan id 100 2>/dev/null; then
		kind=VLAN
	else
		# A kernel without 802.1Q: a veth named like one, 4 TX queues.
		vmqt_log "no VLANs in this kernel: a veth named $VLAN instead"
		vmqt_run ip -n "$HNS" link add "$VLAN" numtxqueues 4 numrxqueues 4 type veth peer name vmqdot1
		kind=veth
	fi
	VMQT_LINKS+=("$HNS $VLAN")
	vmqt_run ip -n "$HNS" link set "$VLAN" up
	n=$(txqs "$VLAN")
	[ "$n" -ge 2 ] || vmqt_fail "$kind $VLAN: $n TX queue(s); a VLAN takes its real device's count (8)"
	attach_dotted "$kind $VLAN ($n TX queues)" "$VLAN" "$DEV%2e100"
	vmqt_ok "$kind $VLAN ($n TX queues): attached, pinned under $PINS/$DEV%2e100, adopted after a restart, detached clean"
}

vmqt_case dotted_bond
case_dotted_bond() {
	if ip -n "$HNS" link add vmqb.1 type bond 2>/dev/null; then
		VMQT_LINKS+=("$HNS vmqb.1")
		vmqt_run ip -n "$HNS" link set vmqb.1 up
		n=$(txqs vmqb.1)
		attach_dotted "bond vmqb.1 ($n TX queues)" vmqb.1 "vmqb%2e1"
		vmqt_ok "bond vmqb.1 ($n TX queues): attached, pinned under $PINS/vmqb%2e1, adopted, detached clean"
	else
		vmqt_skip "no bonding in this kernel"
	fi
}

# --- 2. single-queue devices ------------------------------------------------------------
vmqt_case single_queue
case_single_queue() {
	vmqt_ctl_fails dev attach lo
	vmqt_assert_one_error "dev attach lo" '^vmqctl: dev lo: not multiqueue \(1 TX queue\)$'
	vmqt_run ip -n "$HNS" link add vmqsq0 numtxqueues 1 numrxqueues 1 type veth peer name vmqsq1
	VMQT_LINKS+=("$HNS vmqsq0")
	vmqt_ctl_fails dev attach vmqsq0
	vmqt_assert_one_error "dev attach of a single-queue veth" '^vmqctl: dev vmqsq0: not multiqueue \(1 TX queue\)$'
	left=$(ls "$PINS")
	if grep -qE '^(lo|vmqsq0)$' <<<"$left"; then vmqt_fail "refused attaches left pins: $left"; fi
	vmqt_ok "lo and a single-queue veth refused: not multiqueue (1 TX queue)"
}

# --- 3. lo is no VM port ------------------------------------------------------------------
vmqt_case port_bind_lo
case_port_bind_lo() {
	vmqt_ctl dev attach "$DEV" >/dev/null
	vmqt_ctl_fails port bind lo dev "$DEV" queue 0
	vmqt_assert_one_error "port bind lo" '^vmqctl: port lo: is the loopback device, not a VM port$'
	vmqt_assert_unhooked "port bind lo refused" "$HNS" lo ingress vmq_port_ingres
	vmqt_assert_eq "port show after port bind lo" "[]" "$(vmqt_ctl -j port show | vmqt_json 'j["ports"]')"
	vmqt_ok "port bind lo refused"
	vmqt_ctl dev detach "$DEV" >/dev/null
}

vmqt_cases "$@"
