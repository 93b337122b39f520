#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# contrib/libvirt/qemu, the libvirt qemu hook, run as libvirtd runs it
# (`qemu DOMAIN OPERATION SUB-OPERATION EXTRA`, domain XML on stdin) on the
# domain XML files of tests/fixtures/libvirt, against a real vmqd:
#
#   no uplink attached  started: skipped with a log line, exit 0, nothing bound
#   started             each tap bound with `queue auto`, its own queue,
#                       vm label = the domain name (sanitised: "vmqt meta/1"
#                       -> vmqt_meta_1); metadata: explicit queue 12 on
#                       txq 3 created (name vmq-hook), a mac-matched
#                       interface on txq 5
#   release / stopped   unbound, auto queues freed, queue 12 deleted
#   migrate begin       stdout = stdin byte for byte; queue 12 reserved, no
#                       port bound; the `started` that follows binds to it
#   reconnect begin     binds what lost its binding, leaves the rest
#   port policy         a port matching `dev set ... ports` is bound by vmqd;
#                       the hook keeps its queue and labels it with the VM
#   malformed XML, no interfaces: one log line, exit 0, nothing changed
#   settings file       VMQ_SOCKET and VMQCTL from VMQ_HOOK_CONF's file
#   hung vmqd           exit 0 within the timeout, one "no answer" line
#
# Needs vmqd's automatic allocation and port policies (docs/protocol.md).
#
# Cases (tests/run.sh test_libvirt_hook CASE...): no_uplink_skipped,
# started_auto_queues, started_metadata and reconnect (both need
# started_auto_queues), release_frees (needs both), migrate_reserves (needs
# release_frees), port_policy_labels, malformed_nothing_changed,
# settings_file, hung_vmqd. The cases after no_uplink_skipped attach the
# uplink when it is not.
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
vmqt_init
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl"

HOOK=$VMQT_ROOT/contrib/libvirt/qemu
FIX=$VMQT_ROOT/tests/fixtures/libvirt
vmqt_need_file "$HOOK" "$FIX/plain.xml" "$FIX/metadata.xml" "$FIX/malformed.xml" "$FIX/nonet.xml"

hook_diag() {
	echo "the last hook run's stderr:"
	sed 's/^/  /' "$VMQT_TMP/hook.err" 2>/dev/null
	vmqt_vmqd_diag "$VMQT_SOCK"
	echo "vmqctl port show:"
	"$BUILD/vmqctl" -s "$VMQT_SOCK" port show 2>&1 | sed 's/^/  /'
}
VMQT_DIAG_FN=hook_diag
vmqt_vmqd_setup
for t in vmqttap1 vmqttap2 vmqttap3 vmqttap4 vmqtpol1; do
	vmqt_run ip -n "$HNS" tuntap add dev "$t" mode tap
	VMQT_LINKS+=("$HNS $t")
	vmqt_run ip -n "$HNS" link set dev "$t" up
done
vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"
vmqt_ok "vmqd $VMQT_VMQD_PID in $HNS, uplink $DEV (not attached yet), taps vmqttap1-4, vmqtpol1"

# hook [ENV=VAL...] DOMAIN OP SUBOP XMLFILE: runs the hook in the host
# namespace as libvirtd does, settings from the environment only (no host
# settings file). Must exit 0. Sets HOOK_OUT, HOOK_ERR (text), HOOK_SECS.
# Call directly, not in $(...).
hook() {
	local -a envs=()
	local rc=0 t0 t1
	while [[ $1 == *=* ]]; do
		envs+=("$1")
		shift
	done
	t0=$(date +%s%N)
	ip netns exec "$HNS" env VMQ_SOCKET="$VMQT_SOCK" VMQCTL="$BUILD/vmqctl" \
		VMQ_HOOK_CONF=/nonexistent "${envs[@]}" "$HOOK" "$1" "$2" "$3" - \
		<"$4" >"$VMQT_TMP/hook.out" 2>"$VMQT_TMP/hook.err" || rc=$?
	t1=$(date +%s%N)
	HOOK_SECS=$(((t1 - t0) / 1000000000))
	HOOK_OUT=$(cat "$VMQT_TMP/hook.out")
	HOOK_ERR=$(cat "$VMQT_TMP/hook.err")
	[ "$rc" -eq 0 ] || vmqt_fail "hook $* exited $rc (must always exit 0); stderr:$(printf '\n%s' "$HOOK_ERR" | sed 's/^/   | /')"
}

# hook_lines N WHAT: the last hook logged exactly N lines.
hook_lines() {
	vmqt_assert_eq "$2: lines logged (stderr: '$HOOK_ERR')" "$1" "$(printf '%s' "$HOOK_ERR" | awk 'END { print NR }')"
}

# ports: `port show` as {port: [dev, queue, vm, state]}. queues: `queue
# show` as {id: [txq, vm, name, owner]} of $DEV.
ports() {
	vmqt_ctl -j port show | vmqt_json \
		'{p["port"]: [p["dev"], p["queue"], p.get("vm"), p["state"]] for p in j["ports"]}'
}
queues() {
	vmqt_ctl -j queue show "$DEV" | vmqt_json \
		'{str(q["id"]): [q.get("txq"), q.get("vm"), q.get("name"), q.get("owner")] for q in j["queues"] if q["id"] != 0}'
}
everything() {
	printf '%s\n%s\n' "$(vmqt_state)" "$(ports)"
}
# attached: the uplink attached, unless it is already.
attached() {
	[ "$(vmqt_ctl -j dev show | vmqt_json '[d["dev"] for d in j["devs"]]')" = "[\"$DEV\"]" ] ||
		vmqt_ctl dev attach "$DEV" default-txq 0 >/dev/null
}
# The queues the cases gave the taps, for the cases after.
q1="" q2="" q4=""
VMQT_CASE_KEEP+=(q1 q2 q4)

# --- no uplink attached: skip, say so, exit 0 -------------------------------------
vmqt_case no_uplink_skipped
case_no_uplink_skipped() {
	hook vmqt-plain started begin "$FIX/plain.xml"
	hook_lines 2 "started, no uplink"
	vmqt_assert_match "started, no uplink: log" '^vmq-hook: vmqt-plain started: vmqttap1: skipped: no uplink attached' "$HOOK_ERR"
	vmqt_assert_eq "port show, no uplink" '{}' "$(ports)"
	vmqt_ok "started with no uplink attached: one skip line per interface, exit 0, nothing bound"
}

# --- started: one auto queue per tap, labelled with the domain ----------------------
vmqt_case started_auto_queues
case_started_auto_queues() {
	attached
	hook vmqt-plain started begin "$FIX/plain.xml"
	hook_lines 2 "started vmqt-plain"
	p=$(ports)
	q1=$(vmqt_json 'j["vmqttap1"][1]' <<<"$p")
	q2=$(vmqt_json 'j["vmqttap2"][1]' <<<"$p")
	vmqt_uint "queue of vmqttap1" "$q1"
	vmqt_uint "queue of vmqttap2" "$q2"
	if [ "$q1" -eq "$q2" ] || [ "$q1" -eq 0 ] || [ "$q2" -eq 0 ]; then
		vmqt_fail "vmqttap1 and vmqttap2 must each have their own queue, not 0: $p"
	fi
	vmqt_assert_eq "port show after started vmqt-plain" \
		"{\"vmqttap1\":[\"$DEV\",$q1,\"vmqt-plain\",\"live\"],\"vmqttap2\":[\"$DEV\",$q2,\"vmqt-plain\",\"live\"]}" "$p"
	qs=$(queues)
	for q in "$q1" "$q2"; do
		vmqt_assert_eq "queue $q: vm, name, owner" '["vmqt-plain",null,"port"]' "$(vmqt_json "j['$q'][1:]" <<<"$qs")"
	done
	vmqt_ok "started vmqt-plain: vmqttap1 -> queue $q1, vmqttap2 -> queue $q2 (queue auto, vm vmqt-plain, owner port)"
}

# --- started with metadata: explicit queue 12 on txq 3, mac match on txq 5 --------------
vmqt_case started_metadata started_auto_queues
case_started_metadata() {
	hook "vmqt meta/1" started begin "$FIX/metadata.xml"
	p=$(ports)
	q4=$(vmqt_json 'j["vmqttap4"][1]' <<<"$p")
	vmqt_uint "queue of vmqttap4" "$q4"
	vmqt_assert_eq "port show: vmqttap3" "[\"$DEV\",12,\"vmqt_meta_1\",\"live\"]" "$(vmqt_json 'j["vmqttap3"]' <<<"$p")"
	vmqt_assert_eq "port show: vmqttap4" "[\"$DEV\",$q4,\"vmqt_meta_1\",\"live\"]" "$(vmqt_json 'j["vmqttap4"]' <<<"$p")"
	qs=$(queues)
	vmqt_assert_eq "queue 12 (metadata queue=12 txq=3)" '[3,"vmqt_meta_1","vmq-hook",null]' "$(vmqt_json 'j["12"]' <<<"$qs")"
	vmqt_assert_eq "queue $q4 (metadata mac=... txq=5)" '[5,"vmqt_meta_1",null,"port"]' "$(vmqt_json "j['$q4']" <<<"$qs")"
	if [ "$q4" -eq "$q1" ] || [ "$q4" -eq "$q2" ] || [ "$q4" -eq 12 ]; then
		vmqt_fail "vmqttap4's queue $q4 is shared: $p"
	fi
	vmqt_ok "started \"vmqt meta/1\": vmqttap3 -> queue 12 on txq 3 (created, name vmq-hook), vmqttap4 (by mac) -> queue $q4 on txq 5; vm vmqt_meta_1"
}

# --- reconnect: rebinds what lost its binding, leaves the rest ---------------------------
vmqt_case reconnect started_auto_queues
case_reconnect() {
	vmqt_ctl port unbind vmqttap2 >/dev/null
	hook vmqt-plain reconnect begin "$FIX/plain.xml"
	p=$(ports)
	vmqt_assert_eq "reconnect: vmqttap1 untouched" "[\"$DEV\",$q1,\"vmqt-plain\",\"live\"]" "$(vmqt_json 'j["vmqttap1"]' <<<"$p")"
	vmqt_assert_eq "reconnect: vmqttap2 bound again (dev, vm, state)" "[\"$DEV\",\"vmqt-plain\",\"live\"]" \
		"$(vmqt_json '[j["vmqttap2"][0]] + j["vmqttap2"][2:]' <<<"$p")"
	q2=$(vmqt_json 'j["vmqttap2"][1]' <<<"$p")
	vmqt_ok "reconnect vmqt-plain: vmqttap2 (unbound meanwhile) bound again to queue $q2, vmqttap1 left on $q1"
}

# --- release / stopped: unbound, queues freed --------------------------------------------
vmqt_case release_frees started_metadata reconnect
case_release_frees() {
	hook vmqt-plain release end "$FIX/plain.xml"
	p=$(ports)
	vmqt_assert_eq "release vmqt-plain: its ports" '[]' "$(vmqt_json '[k for k in j if k in ("vmqttap1", "vmqttap2")]' <<<"$p")"
	qs=$(queues)
	vmqt_assert_eq "release vmqt-plain: its queues $q1 $q2" '[]' "$(vmqt_json "[k for k in j if k in ('$q1', '$q2')]" <<<"$qs")"
	hook "vmqt meta/1" stopped end "$FIX/metadata.xml"
	hook "vmqt meta/1" release end "$FIX/metadata.xml"
	vmqt_assert_eq "port show after both domains' release" '{}' "$(ports)"
	vmqt_assert_eq "queue show after both domains' release" '{}' "$(queues)"
	vmqt_ok "release/stopped: every port unbound, auto queues freed, queue 12 (created by the hook) deleted"
}

# --- migrate begin: echo, reserve; then started binds to the reservation ---------------------
vmqt_case migrate_reserves release_frees
case_migrate_reserves() {
	hook "vmqt meta/1" migrate begin "$FIX/metadata.xml"
	cmp -s "$VMQT_TMP/hook.out" "$FIX/metadata.xml" ||
		vmqt_fail "migrate begin: stdout is not stdin byte for byte: $(cmp "$VMQT_TMP/hook.out" "$FIX/metadata.xml" 2>&1)"
	vmqt_assert_eq "migrate begin: queue 12 reserved" '{"12":[3,"vmqt_meta_1","vmq-hook",null]}' "$(queues)"
	vmqt_assert_eq "migrate begin: no port bound" '{}' "$(ports)"
	hook "vmqt meta/1" started begin "$FIX/metadata.xml"
	vmqt_assert_eq "started after migrate: vmqttap3" "[\"$DEV\",12,\"vmqt_meta_1\",\"live\"]" "$(vmqt_json 'j["vmqttap3"]' <<<"$(ports)")"
	hook "vmqt meta/1" release end "$FIX/metadata.xml"
	vmqt_assert_eq "queues after release (migrated away)" '{}' "$(queues)"
	vmqt_ok "migrate begin: XML echoed byte for byte, queue 12 reserved before the taps; started binds vmqttap3 to it; release frees it"
}

# --- port policy: vmqd binds, the hook labels -----------------------------------------------
vmqt_case port_policy_labels
case_port_policy_labels() {
	attached
	sed -e 's/vmqttap1/vmqtpol1/' -e 's/vmqt-plain/vmqt-pol/' -e '/vmqttap2/d' "$FIX/plain.xml" >"$VMQT_TMP/pol.xml"
	vmqt_ctl dev set "$DEV" ports 'vmqtpol*' >/dev/null
	polq=$(vmqt_json 'j["vmqtpol1"][1]' <<<"$(ports)")
	vmqt_uint "vmqtpol1 bound by the policy" "$polq"
	hook vmqt-pol started begin "$VMQT_TMP/pol.xml"
	hook_lines 1 "started, port under a policy"
	vmqt_assert_match "started, port under a policy: log" "vmqtpol1: bound by $DEV's port policy to queue $polq" "$HOOK_ERR"
	vmqt_assert_eq "vmqtpol1 after started: its queue, now labelled" "[\"$DEV\",$polq,\"vmqt-pol\"]" "$(vmqt_json 'j["vmqtpol1"][:3]' <<<"$(ports)")"
	vmqt_ctl dev set "$DEV" ports none >/dev/null
	vmqt_ctl port unbind vmqtpol1 >/dev/null
	vmqt_ok "port policy vmqtpol*: vmqd bound vmqtpol1 (queue $polq), the hook labelled it with its VM"
}

# --- malformed XML, no interfaces: one line, nothing changed ----------------------------------
vmqt_case malformed_nothing_changed
case_malformed_nothing_changed() {
	attached
	hook vmqt-plain started begin "$FIX/plain.xml"
	before=$(everything)
	for op in "started begin" "release end" "migrate begin"; do
		read -r o s <<<"$op"
		hook vmqt-malformed "$o" "$s" "$FIX/malformed.xml"
		hook_lines 1 "malformed XML, $o"
		vmqt_assert_match "malformed XML, $o: log" '^vmq-hook: vmqt-malformed [a-z]+: domain XML unreadable \(.*\): nothing done$' "$HOOK_ERR"
		vmqt_assert_eq "state after malformed XML, $o" "$before" "$(everything)"
	done
	cmp -s "$VMQT_TMP/hook.out" "$FIX/malformed.xml" || vmqt_fail "migrate begin, malformed XML: stdout is not stdin"
	for op in "started begin" "release end"; do
		read -r o s <<<"$op"
		hook vmqt-nonet "$o" "$s" "$FIX/nonet.xml"
		hook_lines 1 "no interfaces, $o"
		vmqt_assert_match "no interfaces, $o: log" 'no interface with a host-side port: nothing to do$' "$HOOK_ERR"
		vmqt_assert_eq "state after a domain without interfaces, $o" "$before" "$(everything)"
	done
	vmqt_ok "malformed XML (started, release, migrate) and a domain without interfaces: one log line each, exit 0, state unchanged"
}

# --- the settings file (libvirtd passes no environment to hooks) ------------------------------
vmqt_case settings_file
case_settings_file() {
	attached
	hook vmqt-plain release end "$FIX/plain.xml"
	printf '# vmq hook settings\nVMQ_SOCKET=%s\nVMQCTL="%s"\n' "$VMQT_SOCK" "$BUILD/vmqctl" >"$VMQT_TMP/hook.conf"
	hook VMQ_SOCKET= VMQCTL= VMQ_HOOK_CONF="$VMQT_TMP/hook.conf" vmqt-plain started begin "$FIX/plain.xml"
	vmqt_assert_eq "ports bound with the settings file" '["vmqttap1","vmqttap2"]' "$(vmqt_json 'sorted(j)' <<<"$(ports)")"
	hook vmqt-plain release end "$FIX/plain.xml"
	vmqt_assert_eq "port show after release" '{}' "$(ports)"
	vmqt_ok "settings from a VMQ_HOOK_CONF file (VMQ_SOCKET, VMQCTL quoted) drive the hook like the environment"
}

# --- a hung vmqd: the hook gives up in time ---------------------------------------------------
vmqt_case hung_vmqd
case_hung_vmqd() {
	"$VMQT_PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(8)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)   # never answers
' "$VMQT_TMP/hung.sock" &
	VMQT_PIDS+=("$!")
	for _ in $(seq 50); do
		[ -S "$VMQT_TMP/hung.sock" ] && break
		sleep 0.1
	done
	hook VMQ_SOCKET="$VMQT_TMP/hung.sock" VMQ_HOOK_TIMEOUT=1 vmqt-plain started begin "$FIX/plain.xml"
	[ "$HOOK_SECS" -le 3 ] || vmqt_fail "hook against a hung vmqd took $HOOK_SECS s (timeout 1 s)"
	hook_lines 1 "hung vmqd"
	vmqt_assert_match "hung vmqd: log" 'no answer within 1 s \(vmqd hung\?\): no further calls$' "$HOOK_ERR"
	vmqt_ok "hung vmqd: the hook gave up after one 1 s timeout, exit 0"
}

vmqt_cases "$@"
