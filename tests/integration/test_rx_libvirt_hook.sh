#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The libvirt hook and the receive side: each interface's <mac address=...>
# becomes its queue's receive filter, on the line that reports the binding.
# The hook runs as libvirtd runs it (domain XML on stdin) against a real
# vmqd with the uplink's receive side on.
#
#   started    both taps bound, each MAC filtered for its tap's queue
#   frames     a frame to VM 1's MAC reaches its tap through port mode
#   duplicate  a second domain with VM 1's MAC: bound, its filter refused
#              naming the owner (one warning line), the first kept
#   stopped    unbound, the queues freed and the filters with them
#   reconnect  a filter lost meanwhile is given back; the rest left as is
#
# Cases: tests/run.sh test_rx_libvirt_hook CASE...
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
vmqt_init
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl"

HOOK=$VMQT_ROOT/contrib/libvirt/qemu
FIX=$VMQT_ROOT/tests/fixtures/libvirt
vmqt_need_file "$HOOK" "$FIX/plain.xml"
MAC1=52:54:00:6d:71:01
MAC2=52:54:00:6d:71:02

hook_diag() {
	echo "the last hook run's stderr:"
	sed 's/^/  /' "$VMQT_TMP/hook.err" 2>/dev/null
	vmqt_vmqd_diag "$VMQT_SOCK"
	"$BUILD/vmqctl" -s "$VMQT_SOCK" filter show 2>&1 | sed 's/^/  /'
}
VMQT_DIAG_FN=hook_diag
vmqt_vmqd_setup
for t in vmqttap1 vmqttap2 vmqttap5; do
	vmqt_run ip -n "$HNS" tuntap add dev "$t" mode tap
	VMQT_LINKS+=("$HNS $t")
	vmqt_run ip -n "$HNS" link set dev "$t" up
done
vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"
vmqt_ctl dev attach "$DEV" rx on >/dev/null
# A second domain: plain.xml's first interface (its MAC) on another tap.
"$VMQT_PY" -c '
import sys, xml.etree.ElementTree as ET
dom = ET.parse(sys.argv[1]).getroot()
dom.find("name").text = "vmqt-dup"
devices = dom.find("devices")
ifaces = devices.findall("interface")
ifaces[0].find("target").set("dev", "vmqttap5")
for extra in ifaces[1:]:
    devices.remove(extra)
sys.stdout.write(ET.tostring(dom, encoding="unicode"))
' "$FIX/plain.xml" >"$VMQT_TMP/dup.xml"
vmqt_ok "vmqd $VMQT_VMQD_PID, $DEV attached with rx on, taps vmqttap1, vmqttap2, vmqttap5"

# hook DOMAIN OP SUBOP XMLFILE: as libvirtd runs it; exit 0. Sets HOOK_ERR.
hook() {
	local rc=0
	ip netns exec "$HNS" env VMQ_SOCKET="$VMQT_SOCK" VMQCTL="$BUILD/vmqctl" \
		VMQ_HOOK_CONF=/nonexistent "$HOOK" "$1" "$2" "$3" - <"$4" \
		>"$VMQT_TMP/hook.out" 2>"$VMQT_TMP/hook.err" || rc=$?
	HOOK_ERR=$(cat "$VMQT_TMP/hook.err")
	[ "$rc" -eq 0 ] || vmqt_fail "hook $* exited $rc (must always exit 0)"
}
hook_lines() {
	vmqt_assert_eq "$2: lines logged (stderr: '$HOOK_ERR')" "$1" "$(printf '%s' "$HOOK_ERR" | awk 'END { print NR }')"
}
# filters: [[mac, queue, vm]] of filter show. bound PORT: its queue.
filters() { vmqt_ctl -j filter show | vmqt_json "[[f['mac'], f['queue'], f.get('vm')] for f in j['filters']]"; }
bound() { vmqt_ctl -j port show | vmqt_json "[p['queue'] for p in j['ports'] if p['port'] == '$1'][0]"; }

vmqt_case started
case_started() {
	hook vmqt-plain started begin "$FIX/plain.xml"
	hook_lines 2 "started vmqt-plain"
	vmqt_assert_match "started: the bind line reports the filter" \
		"port bind vmqttap1 dev $DEV queue auto \\(only uplink\\): ok .*; filter $MAC1: ok\$" \
		"$(head -n1 <<<"$HOOK_ERR")"
	q1=$(bound vmqttap1)
	q2=$(bound vmqttap2)
	vmqt_assert_eq "filters after started" "[[\"$MAC1\",$q1,\"vmqt-plain\"],[\"$MAC2\",$q2,\"vmqt-plain\"]]" "$(filters)"
	VMQT_CASE_KEEP+=(q1 q2)
	vmqt_ok "started: vmqttap1 -> queue $q1 with filter $MAC1, vmqttap2 -> queue $q2 with filter $MAC2"
}

vmqt_case frames started
case_frames() {
	vmqt_ctl queue set "$DEV" id "$q1" rx port >/dev/null
	# The VM's end of the tap, as QEMU holds it: a tap with no reader
	# takes no redirected frame. It counts the frames it reads.
	ip netns exec "$HNS" "$VMQT_PY" -c '
import fcntl, os, select, struct, sys, time
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", sys.argv[1].encode(), 0x0002 | 0x1000))
open(sys.argv[2] + ".ready", "w").close()
n, end = 0, time.time() + 10
while n < 50 and time.time() < end:
    if select.select([fd], [], [], 0.2)[0] and os.read(fd, 2048)[12:14] == b"\x88\xb5":
        n += 1
open(sys.argv[2], "w").write("%d\n" % n)
' vmqttap1 "$VMQT_TMP/tap1.count" &
	VMQT_PIDS+=("$!")
	for _ in $(seq 50); do
		[ ! -e "$VMQT_TMP/tap1.count.ready" ] || break
		sleep 0.1
	done
	s0=$(vmqt_ctl -j stats "$DEV" | vmqt_json "j['devs'][0]['rx_outcomes']['port']['packets']")
	vmqt_run ip netns exec "$VMQT_WIRE_NS" "$VMQT_PY" -c '
import socket, struct, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
for i in range(50):
    s.send(bytes.fromhex(sys.argv[2].replace(":", "")) + bytes(6) + struct.pack("!H", 0x88b5) + bytes(64))
' "$VMQT_WIRE_DEV" "$MAC1"
	s1=$(vmqt_ctl -j stats "$DEV" | vmqt_json "j['devs'][0]['rx_outcomes']['port']['packets']")
	for _ in $(seq 100); do
		[ ! -s "$VMQT_TMP/tap1.count" ] || break
		sleep 0.1
	done
	vmqt_assert_eq "frames to $MAC1: outcome port" 50 "$((s1 - s0))"
	vmqt_assert_eq "frames to $MAC1: read from vmqttap1 by its VM's end" 50 "$(cat "$VMQT_TMP/tap1.count")"
	vmqt_ok "50 frames to $MAC1 went to vmqttap1 through the devmap, and were read there"
}

vmqt_case duplicate started
case_duplicate() {
	before=$(filters)
	hook vmqt-dup started begin "$VMQT_TMP/dup.xml"
	hook_lines 1 "started vmqt-dup"
	vmqt_assert_match "duplicate: one warning, naming the owner" \
		"port bind vmqttap5 dev $DEV queue auto \\(only uplink\\): ok .*; filter $MAC1: failed: filter $MAC1 on $DEV: already filtered for queue $q1 \\(vm vmqt-plain\\)\$" \
		"$HOOK_ERR"
	vmqt_assert_eq "filters after the duplicate" "$before" "$(filters)"
	hook vmqt-dup stopped end "$VMQT_TMP/dup.xml"
	vmqt_assert_eq "filters after the duplicate stopped" "$before" "$(filters)"
	vmqt_ok "a second domain with $MAC1: bound, its filter refused naming queue $q1 (vm vmqt-plain); the owner's kept"
}

vmqt_case reconnect started
case_reconnect() {
	vmqt_ctl filter del "$DEV" mac "$MAC2"
	hook vmqt-plain reconnect begin "$FIX/plain.xml"
	hook_lines 2 "reconnect vmqt-plain"
	vmqt_assert_eq "filters after reconnect" "[[\"$MAC1\",$q1,\"vmqt-plain\"],[\"$MAC2\",$q2,\"vmqt-plain\"]]" "$(filters)"
	vmqt_ok "reconnect: the filter lost meanwhile given back, the other left"
}

vmqt_case stopped started
case_stopped() {
	hook vmqt-plain stopped end "$FIX/plain.xml"
	vmqt_assert_match "stopped: the unbind line says the filter went" \
		"port unbind vmqttap1 \\(was $DEV queue $q1\\): ok .*; filter $MAC1: deleted\$" "$HOOK_ERR"
	vmqt_assert_eq "filters after stopped" "[]" "$(filters)"
	vmqt_assert_eq "ports after stopped" '{"ports":[]}' "$(vmqt_ctl -j port show)"
	vmqt_ok "stopped: unbound, queues freed, filters gone"
}

vmqt_cases "$@"
