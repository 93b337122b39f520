#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# QEMU live migration of a sending VM between two hosts, each with its own
# uplink and its own vmqd:
#
#   host A ns: vmqvm1 (tap) -> vmqup0 -> vmqwireA \
#                                                   wire ns: 203.0.113.9:9000 (receiver)
#   host B ns: vmqvm1 (tap) -> vmqup0 -> vmqwireB /
#   host A ns: vmqmgA 10.99.0.1 ==veth== vmqmgB 10.99.0.2 host B ns (the migration stream)
#
# Both taps carry the same MAC (the guest's static gateway neighbour) and
# the same 10.0.1.1/24; each host routes 203.0.113.0/24 to its wire end.
# Host A binds its tap to queue QA -> txq TA, host B to queue QB -> txq TB
# (different, so the move shows in the counters). The guest boots on A
# and sends N numbered datagrams at PPS; mid-traffic, QEMU migrates it to
# a QEMU started on B with -incoming tcp:10.99.0.2:PORT (QMP `migrate`),
# which resumes it there; A's QEMU quits. Checked:
#   - the receiver got every datagram 0..N-1 exactly once: none lost to vmq
#     or to the migration
#   - A's uplink carried some only on txq TA, B's the rest only on txq TB,
#     together N; each vmqd's stats count them on its queue, no fallback
# Printed: QEMU's downtime (query-migrate), its total migration time, and
# the longest gap between two datagrams at the receiver.
#
# Cases (tests/run.sh test_vm_live_migration CASE...): migrate; delivery
# and per_host (both need migrate).
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/topology.sh
. "$(dirname "$0")/topology.sh"
# shellcheck source=tests/integration/vm.sh
. "$(dirname "$0")/vm.sh"
vmqt_init
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl"
vmqt_guest

N=6000            # datagrams
PPS=500           # 12 s of traffic
MIGRATE_AFTER=1000 # the receiver has this many when the migration starts
FLOWS=4
DEFAULT_TXQ=7
DEV=vmqup0
TAP=vmqvm1
TAP_MAC=02:76:6d:71:00:fe
DST=203.0.113.9
MIG_PORT=4444
declare -A NET=([A]=192.0.2 [B]=198.51.100)
declare -A QID=([A]=5 [B]=9)
declare -A TXQ=([A]=2 [B]=4)
declare -A HOST=() SOCK=()

vmqt_netns_add wire
WNS=$VMQT_LAST_NS
vmqt_in "$WNS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
vmqt_run ip -n "$WNS" link set dev lo up
vmqt_run ip -n "$WNS" addr add "$DST/32" dev lo
vmqt_bpffs_mount

# host X: namespace hostX, uplink vmqup0 to vmqwireX in the wire namespace,
# routing, tap vmqvm1 (MAC $TAP_MAC), vmqd with the tap bound to QID[X].
host_add() {
	local x=$1 ns net=${NET[$1]}
	vmqt_netns_add "host$x"
	ns=$VMQT_LAST_NS
	HOST[$x]=$ns
	vmqt_in "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	VMQT_HOST_NS=$ns
	vmqt_uplink_link "$DEV" "$net.1" "$WNS" "vmqwire$x" "$net.2" 8
	_vmqt_wire_rpf_off "$WNS" "vmqwire$x"
	vmqt_host_routing
	vmqt_run ip -n "$ns" route add "$DST/32" via "$net.2"
	vmqt_tap_add 1 "$TAP" "$ns"
	vmqt_run ip -n "$ns" link set dev "$TAP" address "$TAP_MAC"
	SOCK[$x]=$VMQT_TMP/vmqd-$x.sock
	vmqt_vmqd_start "$ns" "${SOCK[$x]}" "$VMQT_BPFFS/vmq$x"
	VMQT_SOCK=${SOCK[$x]} vmqt_ctl dev attach "$DEV" default-txq "$DEFAULT_TXQ" >/dev/null
	VMQT_SOCK=${SOCK[$x]} vmqt_ctl queue add "$DEV" id "${QID[$x]}" txq "${TXQ[$x]}" vm mig >/dev/null
	VMQT_SOCK=${SOCK[$x]} vmqt_ctl port bind "$TAP" dev "$DEV" queue "${QID[$x]}" >/dev/null
}

diag() {
	local x
	for x in A B; do
		[ -n "${SOCK[$x]:-}" ] || continue
		echo "=== host $x"
		vmqt_vmqd_diag "${SOCK[$x]}"
		"$BUILD/vmqctl" -s "${SOCK[$x]}" port show 2>&1 | sed 's/^/  /'
		tc -n "${HOST[$x]}" -s class show dev "$DEV" 2>&1 | grep -E 'class|Sent' | sed 's/^/  /'
	done
	VMQT_SOCK="" VMQT_UPLINKS=0 vmqt_vm_diag
}
VMQT_DIAG_FN=diag

host_add A
host_add B
vmqt_run ip -n "${HOST[A]}" link add name vmqmgA type veth peer name vmqmgB netns "${HOST[B]}"
VMQT_LINKS+=("${HOST[A]} vmqmgA")
vmqt_run ip -n "${HOST[A]}" addr add 10.99.0.1/30 dev vmqmgA
vmqt_run ip -n "${HOST[B]}" addr add 10.99.0.2/30 dev vmqmgB
vmqt_run ip -n "${HOST[A]}" link set dev vmqmgA up
vmqt_run ip -n "${HOST[B]}" link set dev vmqmgB up
vmqt_rx_start rx "$WNS" 9000
VMQT_RX_DST=$DST:9000
vmqt_ok "hosts A and B, each with uplink $DEV, tap $TAP and vmqd: A queue ${QID[A]} -> txq ${TXQ[A]}, B queue ${QID[B]} -> txq ${TXQ[B]}; receiver at $VMQT_RX_DST"

# --- boot on A, migrate to B mid-traffic -------------------------------------------------
# Counters before the boot, and QEMU's figures, handed from case to case.
declare -A MQ0=() S0=()
downtime="" total=""
VMQT_CASE_KEEP+=(MQ0 S0 downtime total)
vmqt_case migrate
case_migrate() {
	for x in A B; do
		MQ0[$x]=$(vmqt_txq_counts "${HOST[$x]}" "$DEV" 8)
		S0[$x]=$(VMQT_SOCK=${SOCK[$x]} vmqt_stats)
	done
	params=("vmq.ip=10.0.1.2/24" vmq.gw=10.0.1.1 "vmq.gwmac=$TAP_MAC" "vmq.dst=$VMQT_RX_DST"
		"vmq.count=$N" "vmq.pps=$PPS" "vmq.flows=$FLOWS" vmq.tag=mig vmq.sport=43000 vmq.mode=send)
	vmqt_qemu_start "${HOST[A]}" "$TAP" gA "$(vmqt_vm_mac 1)" "${params[@]}"
	VMQT_QEMU_EXTRA=(-incoming "tcp:10.99.0.2:$MIG_PORT")
	vmqt_qemu_start "${HOST[B]}" "$TAP" gB "$(vmqt_vm_mac 1)" "${params[@]}"
	vmqt_rx_wait rx mig "$MIGRATE_AFTER" 60
	vmqt_qmp gB query-status >/dev/null # B listens (QMP answers once -incoming is set up)
	vmqt_qmp gA migrate-set-parameters '{"max-bandwidth": 1073741824}' >/dev/null
	vmqt_qmp gA migrate "{\"uri\": \"tcp:10.99.0.2:$MIG_PORT\"}" >/dev/null
	end=$((SECONDS + 60))
	while :; do
		mig=$(vmqt_qmp gA query-migrate)
		st=$(vmqt_json 'j.get("status", "none")' <<<"$mig")
		[ "$st" != completed ] || break
		case $st in failed | cancelled) vmqt_fail "migration $st: $mig" ;; esac
		[ "$SECONDS" -lt "$end" ] || vmqt_fail "migration not completed within 60 s: $mig"
		sleep 0.2
	done
	downtime=$(vmqt_json 'j["downtime"]' <<<"$mig")
	total=$(vmqt_json 'j["total-time"]' <<<"$mig")
	at=$(vmqt_rx rx "t('mig')['unique']")
	vmqt_assert_eq "guest on B after the migration" '"running"' "$(vmqt_qmp gB query-status | vmqt_json 'json.dumps(j["status"])')"
	vmqt_qmp gA quit >/dev/null
	vmqt_qemu_wait gA 10
	vmqt_ok "migrated A -> B while sending (the receiver had $at datagrams when it completed): QEMU downtime $downtime ms, total $total ms"

	vmqt_qemu_wait gB 120
	vmqt_assert_eq "guest (on B): datagrams it says it sent" "$N" "$(vmqt_guest_sent gB)"
}

vmqt_case delivery migrate
case_delivery() {
	vmqt_rx_wait rx mig "$N" 10
	vmqt_rx_assert_all "migrated guest" rx mig "$N"
	gap=$(vmqt_rx rx "'%.3f' % t('mig')['max_gap']")
	vmqt_ok "all $N datagrams arrived exactly once across the migration; longest gap at the receiver $gap s"
	vmqt_log "live migration: QEMU downtime $downtime ms, total $total ms, longest receive gap $gap s"
}

vmqt_case per_host migrate
case_per_host() {
	declare -A SENT=()
	VMQT_UPLINKS=1 # for vmqt_assert_up_txq: uplink 0 is the host's $DEV at hand
	VMQT_UP_DEV=("$DEV")
	for x in A B; do
		VMQT_UP_DELTA[0]=$(vmqt_txq_delta "${MQ0[$x]}" "$(vmqt_txq_counts "${HOST[$x]}" "$DEV" 8)")
		read -r -a d <<<"${VMQT_UP_DELTA[0]}"
		SENT[$x]=${d[${TXQ[$x]}]}
		[ "${SENT[$x]}" -gt 0 ] || vmqt_fail "host $x: nothing on txq ${TXQ[$x]} (per queue: ${VMQT_UP_DELTA[0]})"
		vmqt_assert_up_txq "host $x, uplink $DEV" 0 "${TXQ[$x]}" "${SENT[$x]}"
		s1=$(VMQT_SOCK=${SOCK[$x]} vmqt_stats)
		vmqt_assert_eq "host $x stats: queue ${QID[$x]} packets" "${SENT[$x]}" \
			"$(vmqt_stats_delta "${S0[$x]}" "$s1" "q('$DEV', ${QID[$x]})")"
		vmqt_assert_eq "host $x stats: fallbacks and kernel choice" 0 \
			"$(vmqt_stats_delta "${S0[$x]}" "$s1" "q('$DEV', ${QID[$x]}, 'fallback_packets') + fb('$DEV', 'not_live') + kc('$DEV') + q('$DEV', 0)")"
	done
	vmqt_assert_eq "datagrams on A's txq ${TXQ[A]} + B's txq ${TXQ[B]}" "$N" $((SENT[A] + SENT[B]))
	vmqt_ok "host A sent ${SENT[A]} on its txq ${TXQ[A]} (queue ${QID[A]}), host B ${SENT[B]} on its txq ${TXQ[B]} (queue ${QID[B]}): $N, no fallback"
}

vmqt_cases "$@"
