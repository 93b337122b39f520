#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The receive side under contrib/vmqd.service's privileges: vmqd runs under
# setpriv with exactly the unit's capability list (read from the unit, as
# test_vmqd_service.sh does) and no-new-privs, and the whole receive side
# works: dev attach ... rx on (vmq_rx loaded: the verifier accepts it
# without CAP_PERFMON, and cpumap, devmap and XDP link are allowed), a
# filter, rx cpu, rx port, rx off and on, doctor, a restart that adopts
# it, detach.
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
vmqt_init setpriv
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl"
UNIT=$VMQT_ROOT/contrib/vmqd.service
vmqt_need_file "$UNIT"

CAPS=$(awk '/^\[/ { svc = ($0 == "[Service]"); next }
	svc && index($0, "CapabilityBoundingSet=") == 1 { print substr($0, 23) }' "$UNIT" | tr ' ' '\n' | grep . | sort -u)
[ -n "$CAPS" ] || vmqt_fail "the unit has no CapabilityBoundingSet"
SETPRIV_CAPS=-all
for c in $CAPS; do
	c=${c,,}
	SETPRIV_CAPS+=",+${c#cap_}"
done

vmqt_vmqd_setup
VMQT_VMQD_WRAP=(setpriv --bounding-set "$SETPRIV_CAPS" --inh-caps "$SETPRIV_CAPS"
	--ambient-caps "$SETPRIV_CAPS" --no-new-privs)
vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"
vmqt_run ip -n "$HNS" link add vmqrx1 type veth peer name vmqrx1p
VMQT_LINKS+=("$HNS vmqrx1")
vmqt_run ip -n "$HNS" link set vmqrx1 up
vmqt_run ip -n "$HNS" link set vmqrx1p up
vmqt_ok "vmqd $VMQT_VMQD_PID under setpriv with the unit's capabilities only ($(echo $CAPS))"

vmqt_ctl dev attach "$DEV" rx on >/dev/null
vmqt_assert_eq "dev show: rx" on "$(vmqt_ctl -j dev show "$DEV" | vmqt_json "j['devs'][0]['rx']")"
vmqt_ctl queue add "$DEV" id 5 txq 1 >/dev/null
vmqt_ctl port bind vmqrx1 dev "$DEV" queue 5 >/dev/null
vmqt_ctl filter add "$DEV" queue 5 mac 02:00:00:0d:05:05 >/dev/null
vmqt_ctl queue set "$DEV" id 5 rx cpu 0 >/dev/null
vmqt_ctl queue set "$DEV" id 5 rx port >/dev/null
vmqt_ctl dev set "$DEV" rx off >/dev/null
vmqt_ctl dev set "$DEV" rx on >/dev/null
vmqt_assert_eq "doctor: xdp, rx-targets" "PASS PASS" \
	"$(vmqt_ctl -j doctor "$DEV" | vmqt_json "' '.join(c['status'] for c in j['checks'] if c['name'] in ('xdp', 'rx-targets'))")"
vmqt_ok "rx on, a filter, rx cpu, rx port, rx off and on, doctor PASS: all under the unit's capabilities"

vmqt_vmqd_kill "$VMQT_VMQD_PID" TERM
vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"
vmqt_assert_eq "after a restart: the filter, its queue's mode" "[[\"02:00:00:0d:05:05\",5,\"port\"]]" \
	"$(vmqt_ctl -j filter show | vmqt_json "[[f['mac'], f['queue'], f['rx']] for f in j['filters']]")"
vmqt_ctl dev detach "$DEV"
[ ! -e "$PINS/$DEV" ] || vmqt_fail "dev detach left $PINS/$DEV"
vmqt_ok "a restart under the same privileges adopts the receive side; detach removes it"
