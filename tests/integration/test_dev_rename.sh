#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# vmqd follows a renamed uplink: it tracks devices by ifindex, not name.
#
# 1. `ip link set vmqup0 name vmqupr1`: `dev show` names vmqupr1, its pin
#    directory is renamed (DIR/vmqupr1), doctor finds its hook, traffic
#    still steers, and the state file says vmqupr1.
# 2. A new device named vmqup0 appears: it is not attached (`dev show`
#    lists vmqupr1 only), and `queue add vmqup0 ...` is refused instead of
#    changing vmqupr1's steering.
# 3. A restarted vmqd adopts vmqupr1 under its new name; renamed again
#    while no vmqd runs (vmqupr2), the next vmqd finds it by the ifindex its
#    pins recorded, renames the pin directory, and keeps it attached.
# 4. A bound port renamed: the state file follows it.
#
# Cases (tests/run.sh test_dev_rename CASE...): steers, rename_live,
# old_name_reused and rename_offline (both need rename_live), port_rename
# (needs rename_offline), detach.
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
vmqt_init
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl" "$BUILD/tests/vmq-udpsend" "$BUILD/tests/vmq-tcx"

N=60
vmqt_vmqd_setup
VMQT_CASE_KEEP+=(DEV) # the uplink's name, renamed by the cases
OLD=$DEV
PORT=vmqport0
vmqt_uplink_link "$PORT" 198.51.100.1 "$VMQT_WIRE_NS" vmqwire1 198.51.100.2 2

state_file() { cat "$VMQT_TMP/state${PINS//\//_}/vmqd.state"; }

WMAC=$(vmqt_mac "$VMQT_WIRE_NS" "$VMQT_WIRE_DEV")
# rename NS FROM TO: down, renamed, up (a running device keeps its name).
# Going down flushed its neighbours: the static one comes back (no ARP),
# and multicast is off (no IGMP report) among the packets counted.
rename() {
	vmqt_run ip -n "$1" link set dev "$2" down
	vmqt_run ip -n "$1" link set dev "$2" name "$3" multicast off
	VMQT_LINKS+=("$1 $3")
	vmqt_run ip -n "$1" link set dev "$3" up
	[ "$2" = "$PORT" ] || vmqt_run ip -n "$1" neigh replace "$VMQT_WIRE_IP" lladdr "$WMAC" \
		dev "$3" nud permanent
}

# wait_dev_show WHAT NAME: dev show lists exactly NAME, attached, within 5 s.
wait_dev_show() {
	local i devs
	for i in $(seq 50); do
		devs=$(vmqt_ctl -j dev show | vmqt_json '[(d["dev"], d["attached"], d["pin_dir"]) for d in j["devs"]]')
		[ "$devs" != "[[\"$2\",true,\"$PINS/$2\"]]" ] || return 0
		sleep 0.1
	done
	vmqt_fail "$1: dev show: expected $2 attached with pins under $PINS/$2, got $devs"
}

steers() { # WHAT: queue 1 -> TX queue 3
	vmqt_send "$1" 1 "$N" 2
	vmqt_assert_on_txq "$1" 3 "$N"
}

vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"
vmqt_ctl dev attach "$DEV" >/dev/null
vmqt_ctl queue add "$DEV" id 1 txq 3 >/dev/null
vmqt_ctl port bind "$PORT" dev "$DEV" queue 1 >/dev/null

vmqt_case steers
case_steers() {
	steers "before the rename"
}

# --- 1. renamed while vmqd runs ---------------------------------------------------
vmqt_case rename_live
case_rename_live() {
	rename "$HNS" "$OLD" vmqupr1
	DEV=vmqupr1
	VMQT_HOST_DEV=$DEV
	wait_dev_show "renamed to $DEV" "$DEV"
	[ ! -e "$PINS/$OLD" ] || vmqt_fail "pins still under $PINS/$OLD"
	vmqt_assert_file "the program, pinned under the new name" "$PINS/$DEV/vmq_tx_egress"
	out=$("$BUILD/vmqctl" -s "$VMQT_SOCK" -j doctor "$DEV" || true)
	out=$(vmqt_json '[c["status"] for c in j["checks"] if c["name"] in ("pins", "hook", "filters")]' <<<"$out")
	vmqt_assert_eq "doctor $DEV: pins, hook, filters" '["PASS","PASS","PASS"]' "$out"
	steers "after the rename"
	st=$(state_file)
	vmqt_assert_match "state file after the rename" "\"dev\":\"$DEV\"" "$st"
	if grep -q "\"$OLD\"" <<<"$st"; then vmqt_fail "the state file still names $OLD: $st"; fi
	vmqt_ok "renamed $OLD -> $DEV: dev show, pins ($PINS/$DEV), doctor, steering and the state file follow"
}

# --- 2. a new device takes the old name ---------------------------------------------
vmqt_case old_name_reused rename_live
case_old_name_reused() {
	vmqt_uplink_link "$OLD" 203.0.113.1 "$VMQT_WIRE_NS" vmqwire2 203.0.113.2 4
	sleep 0.3
	wait_dev_show "a new $OLD appeared" "$DEV"
	vmqt_ctl_fails queue add "$OLD" id 2 txq 1
	vmqt_assert_one_error "queue add on the new $OLD" "^vmqctl: dev $OLD: not attached"
	q2=$(vmqt_ctl -j queue show "$DEV" | vmqt_json '[q["id"] for q in j["queues"]]')
	vmqt_assert_eq "queues of $DEV after the refused queue add" "[0,1]" "$q2"
	vmqt_ok "a new device named $OLD is not mistaken for $DEV: queue add on it refused"
}

# --- 3. restarts ------------------------------------------------------------------------
vmqt_case rename_offline rename_live
case_rename_offline() {
	vmqt_vmqd_kill "$VMQT_VMQD_PID" TERM
	vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"
	wait_dev_show "restarted" "$DEV"
	vmqt_vmqd_kill "$VMQT_VMQD_PID" TERM
	rename "$HNS" "$DEV" vmqupr2
	DEV=vmqupr2
	VMQT_HOST_DEV=$DEV
	vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"
	wait_dev_show "renamed while no vmqd ran" "$DEV"
	[ ! -e "$PINS/vmqupr1" ] || vmqt_fail "pins still under $PINS/vmqupr1"
	vmqt_assert_hooked "renamed while no vmqd ran" "$HNS" "$DEV" egress vmq_tx_egress >/dev/null
	steers "renamed while no vmqd ran"
	vmqt_assert_match "state file after adoption" "\"dev\":\"$DEV\"" "$(state_file)"
	vmqt_ok "restarted vmqd adopts $DEV; renamed while no vmqd ran, it is found by ifindex and its pins follow"
}

# --- 4. a bound port renamed --------------------------------------------------------------
vmqt_case port_rename rename_offline
case_port_rename() {
	rename "$HNS" "$PORT" vmqportr
	for i in $(seq 50); do
		grep -q '"port":"vmqportr"' <<<"$(state_file)" && break
		sleep 0.1
	done
	vmqt_assert_match "state file after the port's rename" '"port":"vmqportr","dev":"vmqupr2","queue":1' "$(state_file)"
	vmqt_ok "a bound port renamed: the state file follows"
}

# --- detach -------------------------------------------------------------------------------
vmqt_case detach
case_detach() {
	vmqt_ctl dev detach "$DEV" >/dev/null
	[ ! -e "$PINS/$DEV" ] || vmqt_fail "pins of $DEV left after detach"
	vmqt_ok "detached"
}

vmqt_cases "$@"
