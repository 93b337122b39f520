# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash disable=SC2034,SC2153 # globals set here for the callers, and by lib.sh
#
# Real QEMU guests (software emulation, no KVM needed) on taps of the
# namespaced host of topology.sh. Source after lib.sh and topology.sh:
#
#   vmqt_init; vmqt_guest                  # build/locate $BUILD/guest (skip: no QEMU)
#   vmqt_topo_host 1                       # uplink vmqup0 -> wire ns
#   vmqt_rx_start rx "$VMQT_WIRE_NS" 9000  # counts the guests' datagrams per tag
#   vmqt_tap_add 1 vmqvm1                  # tap in the host ns, 10.0.1.1/24
#   vmqt_guest_start 1 vmqvm1 g1 send TAG N PPS FLOWS   # guest 10.0.1.2 -> wire:9000
#   vmqt_qemu_wait g1 120                  # it sends, then powers off
#   vmqt_rx_assert_all "VM 1" rx TAG N     # every datagram arrived, once
#
# The guest (tests/guest: Debian's cloud kernel, a busybox initramfs) takes
# its parameters from the kernel command line: tests/guest/init lists them
# (vmq.ip= vmq.gw= vmq.gwmac= vmq.dst= vmq.count= vmq.pps= vmq.flows=
# vmq.sport= vmq.tag= vmq.mode=send|idle) and prints "vmq-guest: first
# packet" and "vmq-guest: sent N" on its serial console, which goes to
# $VMQT_TMP/qemu-NAME.log. QEMU processes and receivers are registered with
# lib.sh (stopped at exit, even on failure), taps too (deleted before their
# namespace).
#
# Quiet guests: IPv6 is off in the guest (ipv6.disable=1) and on the tap
# before it comes up; the guest has a static neighbour for its gateway (the
# tap's MAC, vmq.gwmac) and the host one for the guest (its MAC from
# vmqt_vm_mac), so the tap carries the guest's datagrams and nothing else:
# the tap's rx_packets is the number of packets the guest sent.

VMQT_GUEST_DIR=$BUILD/guest
VMQT_QEMU=qemu-system-x86_64
declare -A VMQT_QEMU_PID=()   # NAME -> QEMU's pid (`ip netns exec` execs it)
declare -A VMQT_QEMU_T0=()    # NAME -> wall-clock start time, s.ns
declare -A VMQT_QEMU_LOG=()   # NAME -> its serial console log
declare -A VMQT_QEMU_QMP=()   # NAME -> its QMP socket (vmqt_qmp)
declare -A VMQT_RX_FILE=()    # receiver NAME -> its summary file (tests/tools/guest_rx.py)
VMQT_QEMU_EXTRA=()            # more QEMU arguments for the next vmqt_qemu_start (then cleared)

# vmqt_guest: builds the guest if needed (tests/guest/build.sh $BUILD/guest,
# which does nothing when it is up to date, and installs QEMU when it is
# missing); skips the test only if QEMU cannot run here. Sets
# VMQT_GUEST_KERNEL and VMQT_GUEST_INITRD.
vmqt_guest() {
	local out
	out=$(vmqt_run bash "$VMQT_ROOT/tests/guest/build.sh" "$VMQT_GUEST_DIR")
	vmqt_log "${out##*$'\n'}"
	VMQT_GUEST_KERNEL=$VMQT_GUEST_DIR/vmlinuz
	VMQT_GUEST_INITRD=$VMQT_GUEST_DIR/initrd.img
	vmqt_need_file "$VMQT_GUEST_KERNEL" "$VMQT_GUEST_INITRD" "$VMQT_ROOT/tests/tools/guest_rx.py"
	command -v "$VMQT_QEMU" >/dev/null || vmqt_skip "$VMQT_QEMU not found (Debian package qemu-system-x86)"
	out=$("$VMQT_QEMU" -accel help 2>&1) || vmqt_skip "$VMQT_QEMU does not run: $out"
	grep -qx tcg <<<"$out" || vmqt_skip "$VMQT_QEMU has no TCG (software emulation)"
	[ -c /dev/net/tun ] || vmqt_skip "no /dev/net/tun (QEMU's tap backend)"
}

# vmqt_vm_mac N: the guest MAC of VM N (1..250): 52:54:00:76:6d:NN (hex).
vmqt_vm_mac() {
	printf '52:54:00:76:6d:%02x\n' "$1"
}

# vmqt_tap_add N TAP [NS]: a tap TAP in NS (default the host namespace),
# IPv6 off before it comes up, rp_filter off, 10.0.N.1/24, a static
# neighbour 10.0.N.2 -> vmqt_vm_mac N, up (no carrier until QEMU opens it).
# Registered for deletion. Sets VMQT_TAP_MAC (the tap's MAC, the guest's
# vmq.gwmac).
vmqt_tap_add() {
	local n=$1 tap=$2 ns=${3:-$VMQT_HOST_NS}
	vmqt_run ip -n "$ns" tuntap add dev "$tap" mode tap
	VMQT_LINKS+=("$ns $tap")
	vmqt_in "$ns" sysctl -qw "net.ipv6.conf.$tap.disable_ipv6=1" "net.ipv4.conf.$tap.rp_filter=0"
	vmqt_run ip -n "$ns" addr add "10.0.$n.1/24" dev "$tap"
	vmqt_run ip -n "$ns" neigh replace "10.0.$n.2" lladdr "$(vmqt_vm_mac "$n")" dev "$tap" nud permanent
	vmqt_run ip -n "$ns" link set dev "$tap" up
	VMQT_TAP_MAC=$(vmqt_mac "$ns" "$tap")
}

# vmqt_tap_del TAP [NS]: deletes TAP (what a hypervisor does when a VM is
# destroyed).
vmqt_tap_del() {
	vmqt_run ip -n "${2:-$VMQT_HOST_NS}" link delete dev "$1"
}

# vmqt_qemu_start NS TAP NAME MAC PARAMS...: boots the guest in NS on tap
# TAP (virtio-net, MAC), in the background, kernel command line
# "console=ttyS0 quiet ipv6.disable=1 panic=-1 PARAMS...", serial console
# to $VMQT_TMP/qemu-NAME.log (QEMU's own output: .out beside it), a QMP
# socket $VMQT_TMP/qmp-NAME.sock (vmqt_qmp), plus VMQT_QEMU_EXTRA's
# arguments. Sets VMQT_QEMU_PID[NAME] (registered: stopped at exit) and
# VMQT_QEMU_T0[NAME]. Call directly, not in $(...).
vmqt_qemu_start() {
	local ns=$1 tap=$2 name=$3 mac=$4 log pid
	shift 4
	[ -n "${VMQT_GUEST_KERNEL:-}" ] || vmqt_fail "vmqt_qemu_start: call vmqt_guest first"
	[ -z "${VMQT_QEMU_PID[$name]:-}" ] || vmqt_fail "vmqt_qemu_start: guest $name is running"
	log=$VMQT_TMP/qemu-$name.log
	: >"$log"
	VMQT_QEMU_LOG[$name]=$log
	VMQT_QEMU_QMP[$name]=$VMQT_TMP/qmp-$name.sock
	VMQT_QEMU_T0[$name]=$(date +%s.%N)
	ip netns exec "$ns" "$VMQT_QEMU" -name "$name" -accel tcg -m 256 -smp 1 -nodefaults \
		-no-user-config -display none -no-reboot -serial "file:$log" \
		-kernel "$VMQT_GUEST_KERNEL" -initrd "$VMQT_GUEST_INITRD" \
		-append "console=ttyS0 quiet ipv6.disable=1 panic=-1 $*" \
		-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no" \
		-device "virtio-net-pci,netdev=n0,mac=$mac,romfile=" \
		-qmp "unix:${VMQT_QEMU_QMP[$name]},server=on,wait=off" \
		"${VMQT_QEMU_EXTRA[@]}" >"$log.out" 2>&1 &
	pid=$!
	VMQT_QEMU_EXTRA=()
	VMQT_PIDS+=("$pid")
	VMQT_QEMU_PID[$name]=$pid
}

# vmqt_guest_start N TAP NAME MODE [TAG COUNT PPS FLOWS [SPORT]]: VM N
# (10.0.N.2/24, gateway the tap, static neighbour) on TAP in the host
# namespace; in send mode it sends COUNT datagrams tagged TAG at PPS over
# FLOWS flows (source ports SPORT.., default 40000) to the receiver at
# $VMQT_RX_DST (vmqt_rx_start). Call directly, not in $(...).
vmqt_guest_start() {
	local n=$1 tap=$2 name=$3 mode=$4 gwmac
	local -a p
	gwmac=$(vmqt_mac "$VMQT_HOST_NS" "$tap")
	p=("vmq.ip=10.0.$n.2/24" "vmq.gw=10.0.$n.1" "vmq.gwmac=$gwmac" "vmq.mode=$mode")
	if [ "$mode" = send ]; then
		[ -n "${VMQT_RX_DST:-}" ] || vmqt_fail "vmqt_guest_start: no receiver (vmqt_rx_start)"
		p+=("vmq.dst=$VMQT_RX_DST" "vmq.tag=$5" "vmq.count=$6" "vmq.pps=$7" "vmq.flows=$8"
			"vmq.sport=${9:-40000}")
	fi
	vmqt_qemu_start "$VMQT_HOST_NS" "$tap" "$name" "$(vmqt_vm_mac "$n")" "${p[@]}"
}

# _vmqt_qemu_tail NAME: the end of guest NAME's console and QEMU output.
_vmqt_qemu_tail() {
	printf '\n   console of %s (last lines):\n' "$1"
	tail -n 15 "${VMQT_QEMU_LOG[$1]}" | tr -d '\r' | sed 's/^/   | /'
	if [ -s "${VMQT_QEMU_LOG[$1]}.out" ]; then
		printf '   QEMU output:\n'
		tail -n 10 "${VMQT_QEMU_LOG[$1]}.out" | sed 's/^/   | /'
	fi
}

# vmqt_qemu_wait NAME TIMEOUT [LINE]: with LINE, waits (TIMEOUT seconds at
# most) until guest NAME's console shows LINE (a fixed string); without,
# until QEMU exits, which must be with status 0 (the guest powered off).
# Fails at once when the guest prints "vmq-guest: error", or exits while
# LINE is awaited. Call directly, not in $(...).
vmqt_qemu_wait() {
	local name=$1 timeout=$2 line=${3:-} pid log end rc=0
	pid=${VMQT_QEMU_PID[$name]:-}
	log=${VMQT_QEMU_LOG[$name]:-}
	[ -n "$pid" ] || vmqt_fail "vmqt_qemu_wait: no running guest $name"
	end=$((SECONDS + timeout))
	while :; do
		if grep -q 'vmq-guest: error' "$log"; then
			vmqt_fail "guest $name failed:$(_vmqt_qemu_tail "$name")"
		fi
		if [ -n "$line" ] && grep -qF -- "$line" "$log"; then
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" || rc=$?
			vmqt_forget_pid "$pid"
			unset 'VMQT_QEMU_PID[$name]'
			[ -z "$line" ] || vmqt_fail "guest $name: QEMU exited (status $rc) before '$line':$(_vmqt_qemu_tail "$name")"
			[ "$rc" -eq 0 ] || vmqt_fail "guest $name: QEMU exited with status $rc:$(_vmqt_qemu_tail "$name")"
			return 0
		fi
		[ "$SECONDS" -lt "$end" ] ||
			vmqt_fail "guest $name: ${line:-no exit} within $timeout s:$(_vmqt_qemu_tail "$name")"
		sleep 0.1
	done
}

# vmqt_qemu_kill NAME [SIGNAL]: kills guest NAME's QEMU (default SIGKILL:
# the VM destroyed, nothing flushed) and reaps it. Call directly.
vmqt_qemu_kill() {
	local name=$1 sig=${2:-KILL} pid
	pid=${VMQT_QEMU_PID[$name]:-}
	[ -n "$pid" ] || vmqt_fail "vmqt_qemu_kill: no running guest $name"
	kill "-$sig" "$pid" || vmqt_fail "kill -$sig $pid (guest $name): no such process"
	{ wait "$pid"; } 2>/dev/null || true
	vmqt_forget_pid "$pid"
	unset 'VMQT_QEMU_PID[$name]'
}

# vmqt_qmp NAME COMMAND [ARGUMENTS-JSON]: runs one QMP command on guest
# NAME's QEMU (its QMP socket, capabilities negotiated first; events
# skipped); prints its "return" as canonical JSON; fails on an error
# answer. Usable in $(...).
vmqt_qmp() {
	local sock=${VMQT_QEMU_QMP[$1]:-} out rc=0
	[ -n "$sock" ] || vmqt_fail "vmqt_qmp: no guest $1"
	out=$("$VMQT_PY" -c '
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
f = s.makefile("rw")
def call(cmd, args=None):
    req = {"execute": cmd}
    if args is not None:
        req["arguments"] = args
    f.write(json.dumps(req) + "\n")
    f.flush()
    while True:
        line = f.readline()
        if not line:
            sys.exit("QMP connection closed")
        msg = json.loads(line)
        if "error" in msg:
            sys.exit("QMP %s: %s" % (cmd, msg["error"]))
        if "return" in msg:
            return msg["return"]
json.loads(f.readline())  # the greeting
call("qmp_capabilities")
r = call(sys.argv[2], json.loads(sys.argv[3]) if len(sys.argv) > 3 else None)
print(json.dumps(r, sort_keys=True, separators=(",", ":")))
' "$sock" "${@:2}" 2>&1) || rc=$?
	[ "$rc" -eq 0 ] || vmqt_fail "QMP ${*:2} on guest $1: $out"
	printf '%s\n' "$out"
}

# vmqt_guest_sent NAME: N of guest NAME's "vmq-guest: sent N" (fails if absent).
vmqt_guest_sent() {
	local n
	n=$(tr -d '\r' <"${VMQT_QEMU_LOG[$1]}" | sed -n 's/^vmq-guest: sent \([0-9]*\)$/\1/p')
	[ -n "$n" ] || vmqt_fail "guest $1 printed no 'vmq-guest: sent N':$(_vmqt_qemu_tail "$1")"
	printf '%s\n' "$n"
}

# --- the wire side's receiver ----------------------------------------------------------
# vmqt_rx_start NAME NS PORT: tests/tools/guest_rx.py on UDP PORT in NS (a
# wire namespace), recording every datagram's tag and sequence number.
# Sets VMQT_RX_FILE[NAME] and VMQT_RX_DST (IP:PORT the guests send to: the
# wire end of uplink 0 when NS is $VMQT_WIRE_NS, else set it yourself).
# Call directly, not in $(...).
vmqt_rx_start() {
	local name=$1 ns=$2 port=$3 f i
	vmqt_need_python
	f=$VMQT_TMP/rx-$name.json
	vmqt_bg "$ns" "$VMQT_PY" "$VMQT_ROOT/tests/tools/guest_rx.py" "$port" "$f"
	VMQT_RX_FILE[$name]=$f
	[ "$ns" != "${VMQT_WIRE_NS:-}" ] || VMQT_RX_DST=$VMQT_WIRE_IP:$port
	for i in $(seq 100); do
		[ ! -e "$f" ] || return 0
		kill -0 "$VMQT_BG_PID" 2>/dev/null || vmqt_fail "receiver $name (UDP $port in $ns) exited"
		sleep 0.05
	done
	vmqt_fail "receiver $name (UDP $port in $ns) not ready within 5 s"
}

# vmqt_rx NAME EXPR: EXPR (Python) on receiver NAME's summary, with
# t(TAG) = that tag's record (zeros, max -1, first 0 when none arrived) and
# j = the whole summary. Usable in $(...).
vmqt_rx() {
	local f=${VMQT_RX_FILE[$1]:-}
	[ -n "$f" ] || vmqt_fail "no receiver $1"
	vmqt_json "(lambda t: $2)(lambda tag: j['tags'].get(tag, {'count': 0, 'unique': 0, 'dups': 0, 'max': -1, 'missing': 0, 'first_missing': -1, 'first': 0, 'last': 0, 'sports': 0}))" <"$f"
}

# vmqt_rx_wait NAME TAG N TIMEOUT: waits until receiver NAME has N distinct
# datagrams tagged TAG (TIMEOUT seconds at most; then fails).
vmqt_rx_wait() {
	local name=$1 tag=$2 n=$3 end=$((SECONDS + $4)) got
	while :; do
		got=$(vmqt_rx "$name" "t('$tag')['unique']")
		[ "$got" -lt "$n" ] || return 0
		[ "$SECONDS" -lt "$end" ] || vmqt_fail "receiver $name: $got of $n datagrams tagged $tag within $4 s"
		sleep 0.1
	done
}

# vmqt_rx_settle NAME TAG: waits until receiver NAME's count for TAG has
# not moved for a second (10 s at most); prints it. Usable in $(...).
vmqt_rx_settle() {
	local prev=-1 now i
	for i in $(seq 100); do
		now=$(vmqt_rx "$1" "t('$2')['count']")
		[ "$now" != "$prev" ] || break
		prev=$now
		sleep 1
		[ "$i" -lt 10 ] || vmqt_fail "receiver $1: datagrams tagged $2 still arriving after 10 s"
	done
	printf '%s\n' "$now"
}

# vmqt_rx_assert_all WHAT NAME TAG N: receiver NAME got datagrams 0..N-1
# tagged TAG, each exactly once, and nothing it could not parse.
vmqt_rx_assert_all() {
	local what=$1 name=$2 tag=$3 n=$4 got
	got=$(vmqt_rx "$name" "'%d %d %d %d %d' % (t('$tag')['unique'], t('$tag')['dups'], t('$tag')['max'], t('$tag')['missing'], j['bad'])")
	vmqt_assert_eq "$what: datagrams tagged $tag at the receiver (unique dups max missing bad)" \
		"$n 0 $((n - 1)) 0 0" "$got"
}

# vmqt_boot_to_first NAME RX TAG: seconds from guest NAME's QEMU start to
# the first datagram tagged TAG at receiver RX (2 decimals). Usable in $(...).
vmqt_boot_to_first() {
	local first
	first=$(vmqt_rx "$2" "t('$3')['first']")
	[ "$first" != 0 ] || vmqt_fail "receiver $2: no datagram tagged $3"
	awk -v a="${VMQT_QEMU_T0[$1]}" -v b="$first" 'BEGIN { printf "%.2f\n", b - a }'
}

# vmqt_assert_below WHAT LIMIT VALUE: VALUE (decimal) < LIMIT.
vmqt_assert_below() {
	awk -v v="$3" -v l="$2" 'BEGIN { exit !(v < l) }' ||
		vmqt_fail "$1: expected below $2, got $3"
}

# vmqt_vm_diag: vmqt_topo_diag, then each guest's console and receiver summary.
vmqt_vm_diag() {
	local name
	vmqt_topo_diag
	for name in "${!VMQT_QEMU_LOG[@]}"; do
		echo "console of guest $name (last lines):"
		tail -n 12 "${VMQT_QEMU_LOG[$name]}" | tr -d '\r' | sed 's/^/  /'
		tail -n 5 "${VMQT_QEMU_LOG[$name]}.out" 2>/dev/null | sed 's/^/  qemu: /'
	done
	for name in "${!VMQT_RX_FILE[@]}"; do
		echo "receiver $name: $(head -c 2000 "${VMQT_RX_FILE[$name]}" 2>&1)"
	done
}

# --- waiting for vmqd ---------------------------------------------------------------------
# vmqt_ctl_wait WHAT TIMEOUT EXPR ARGS...: repeats `vmqctl -j ARGS` until
# the Python expression EXPR (j: its JSON) is true, TIMEOUT seconds at most
# (vmqd reacts to links coming and going asynchronously). Prints the last
# answer. Usable in $(...).
vmqt_ctl_wait() {
	local what=$1 timeout=$2 expr=$3 end out
	shift 3
	end=$((SECONDS + timeout))
	while :; do
		out=$(vmqt_ctl -j "$@")
		[ "$(vmqt_json "bool($expr)" <<<"$out")" != true ] || break
		[ "$SECONDS" -lt "$end" ] ||
			vmqt_fail "$what: not within $timeout s; vmqctl -j $* says:$(printf '\n%s' "$out" | sed 's/^/   | /')"
		sleep 0.1
	done
	printf '%s\n' "$out"
}
