#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The libvirt hook under a real libvirtd: `virsh start` binds the domain's
# tap (vm label = domain name, a queue of its own), `virsh destroy` unbinds
# it and frees the queue.
#
# virtlogd and libvirtd run by hand (no systemd) inside the test's host
# namespace, so QEMU (TCG: no /dev/kvm needed) and the hook run there, with
# the tap, the uplink and vmqd. libvirtd reads its hooks at start and runs
# them with a cleared environment (PATH, HOME, LC_ALL only: measured), so
# the hook is installed first, as /etc/libvirt/hooks/qemu.d/vmqt-<id>: a
# two-line wrapper pointing VMQ_HOOK_CONF at this run's settings file
# (VMQ_SOCKET, VMQCTL) and appending the hook's log to a file here.
#
# Global state, all removed by the cleanup trap, also on failure: that hook
# file (and qemu.d if this test made it), the domain (destroyed, undefined,
# its log under /var/log/libvirt/qemu), libvirtd and virtlogd, /run/libvirt
# if it did not exist before. libvirtd's capabilities cache under
# /var/cache/libvirt is kept: it is libvirt's own. Runs of this test are
# serialized by a lock (/run/lock/vmqt-libvirt.lock): /run/libvirt and the
# hooks directory exist once per host.
#
# Packages: libvirt-daemon-system libvirt-clients libvirt-daemon-driver-qemu
# qemu-system-x86 (make deps installs them; installed here when missing,
# skipped only if that fails). Guest: tests/guest/build.sh when present.
#
# Cases (tests/run.sh test_libvirt_real CASE...): virsh_start,
# virsh_destroy (needs virsh_start).
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
vmqt_init
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl"

HOOK=$VMQT_ROOT/contrib/libvirt/qemu
HOOKDIR=/etc/libvirt/hooks/qemu.d
PKGS=(libvirt-daemon-system libvirt-clients libvirt-daemon-driver-qemu qemu-system-x86)
DOM=vmqt-$VMQT_ID
TAP=vmqttap1
LOCK=/run/lock/vmqt-libvirt.lock

# --- packages -----------------------------------------------------------------------
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	vmqt_log "installing ${missing[*]}"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >"$VMQT_TMP/apt.log" 2>&1; then
		vmqt_skip "cannot install ${missing[*]}: $(tail -n 1 "$VMQT_TMP/apt.log")"
	fi
fi
for t in /usr/sbin/libvirtd /usr/sbin/virtlogd virsh flock; do
	command -v "$t" >/dev/null || vmqt_fail "$t not found after installing ${PKGS[*]}"
done

# --- one run at a time ------------------------------------------------------------------
exec {lockfd}>"$LOCK"
flock -w 600 "$lockfd" || vmqt_fail "another run holds $LOCK for 10 minutes"
if [ -S /run/libvirt/libvirt-sock ] && virsh -c qemu:///system version >/dev/null 2>&1; then
	vmqt_fail "a libvirtd already answers on /run/libvirt/libvirt-sock: this test runs its own (stop that one)"
fi

# --- cleanup of the global state, before lib.sh's ------------------------------------------
RUN_LIBVIRT_EXISTED=0
[ -e /run/libvirt ] && RUN_LIBVIRT_EXISTED=1
HOOKDIR_MADE=0
HOOKFILE=""
LIBVIRTD_PID=""
VIRTLOGD_PID=""
QEMU_PID=""
VIRSH=(virsh -q -c "qemu:///system?socket=$VMQT_TMP/sock/libvirt-sock")

_stop_pid() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

_real_cleanup() {
	local rc=$?
	trap '' INT TERM PIPE
	trap - ERR
	set +e
	if [ -n "$LIBVIRTD_PID" ]; then
		timeout 20 "${VIRSH[@]}" destroy "$DOM" >/dev/null 2>&1
		timeout 20 "${VIRSH[@]}" undefine "$DOM" >/dev/null 2>&1
	fi
	_stop_pid "$LIBVIRTD_PID"
	# A QEMU left behind (libvirtd died first) holds the namespace.
	if [ -n "$QEMU_PID" ] && kill -0 "$QEMU_PID" 2>/dev/null; then
		kill -KILL "$QEMU_PID" 2>/dev/null
	fi
	_stop_pid "$VIRTLOGD_PID"
	[ -z "$HOOKFILE" ] || rm -f "$HOOKFILE"
	[ "$HOOKDIR_MADE" -eq 0 ] || rmdir "$HOOKDIR" 2>/dev/null
	rm -f "/etc/libvirt/qemu/$DOM.xml" "/var/log/libvirt/qemu/$DOM.log" "/run/libvirt/qemu/$DOM".*
	[ "$RUN_LIBVIRT_EXISTED" -eq 1 ] || rm -rf /run/libvirt
	(exit "$rc")
	_vmqt_cleanup
}
trap _real_cleanup EXIT

real_diag() {
	echo "hook log:"
	sed 's/^/  /' "$VMQT_TMP/hook.log" 2>/dev/null
	echo "libvirtd log (last 15 lines):"
	tail -n 15 "$VMQT_TMP/libvirtd.log" 2>/dev/null | cut -c 1-300 | sed 's/^/  /'
	echo "QEMU log of $DOM (last 10 lines):"
	tail -n 10 "/var/log/libvirt/qemu/$DOM.log" 2>/dev/null | cut -c 1-300 | sed 's/^/  /'
	vmqt_vmqd_diag "$VMQT_SOCK"
	echo "vmqctl port show:"
	"$BUILD/vmqctl" -s "$VMQT_SOCK" port show 2>&1 | sed 's/^/  /'
}
VMQT_DIAG_FN=real_diag

# --- the guest ---------------------------------------------------------------------------
# The shared test guest (tests/guest), in idle mode: it only has to run.
vmqt_run bash "$VMQT_ROOT/tests/guest/build.sh" "$BUILD/guest" >/dev/null
GUEST=$BUILD/guest
# QEMU runs as libvirt-qemu: the guest files go where it can read them.
chmod 0755 "$VMQT_TMP"
mkdir -m 0755 "$VMQT_TMP/guest"
cp "$GUEST/vmlinuz" "$GUEST/initrd.img" "$VMQT_TMP/guest/"

# --- host namespace: uplink, tap, vmqd ----------------------------------------------------
vmqt_vmqd_setup
vmqt_run ip -n "$HNS" tuntap add dev "$TAP" mode tap
VMQT_LINKS+=("$HNS $TAP")
vmqt_run ip -n "$HNS" link set dev "$TAP" up
vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"
vmqt_ctl dev attach "$DEV" default-txq 0 >/dev/null

# --- the hook, then virtlogd and libvirtd ---------------------------------------------------
printf 'VMQ_SOCKET=%s\nVMQCTL=%s\n' "$VMQT_SOCK" "$BUILD/vmqctl" >"$VMQT_TMP/hook.conf"
: >"$VMQT_TMP/hook.log"
if [ ! -d "$HOOKDIR" ]; then
	mkdir -p "$HOOKDIR"
	HOOKDIR_MADE=1
fi
HOOKFILE=$HOOKDIR/vmqt-$VMQT_ID
printf '#!/bin/sh\nVMQ_HOOK_CONF=%s exec %s "$@" 2>>%s\n' "$VMQT_TMP/hook.conf" "$HOOK" \
	"$VMQT_TMP/hook.log" >"$HOOKFILE"
chmod 0755 "$HOOKFILE"

mkdir -m 0700 "$VMQT_TMP/sock"
printf 'unix_sock_dir = "%s"\n' "$VMQT_TMP/sock" >"$VMQT_TMP/libvirtd.conf"
ip netns exec "$HNS" /usr/sbin/virtlogd -p "$VMQT_TMP/virtlogd.pid" >"$VMQT_TMP/virtlogd.log" 2>&1 &
VIRTLOGD_PID=$!
t0=$(date +%s%N)
ip netns exec "$HNS" /usr/sbin/libvirtd -f "$VMQT_TMP/libvirtd.conf" -p "$VMQT_TMP/libvirtd.pid" \
	>"$VMQT_TMP/libvirtd.log" 2>&1 &
LIBVIRTD_PID=$!
for i in $(seq 600); do
	kill -0 "$LIBVIRTD_PID" 2>/dev/null || vmqt_fail "libvirtd exited at start"
	"${VIRSH[@]}" version >/dev/null 2>&1 && break
	[ "$i" -lt 600 ] || vmqt_fail "libvirtd did not answer within 60 s"
	sleep 0.1
done
vmqt_ok "virtlogd $VIRTLOGD_PID, libvirtd $LIBVIRTD_PID in $HNS (answering after $((($(date +%s%N) - t0) / 1000000)) ms); hook $HOOKFILE"

# QEMU's pid (the cleanup kills a QEMU left behind) and the domain's queue.
q=""
VMQT_CASE_KEEP+=(QEMU_PID q)

# --- virsh start: bound ---------------------------------------------------------------------
vmqt_case virsh_start
case_virsh_start() {
	cat >"$VMQT_TMP/$DOM.xml" <<EOF
<domain type='qemu'>
  <name>$DOM</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$VMQT_TMP/guest/vmlinuz</kernel>
    <initrd>$VMQT_TMP/guest/initrd.img</initrd>
    <cmdline>console=ttyS0 vmq.mode=idle</cmdline>
  </os>
  <devices>
    <interface type='ethernet'>
      <mac address='52:54:00:6d:71:11'/>
      <target dev='$TAP' managed='no'/>
      <model type='virtio'/>
    </interface>
    <serial type='pty'/>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
	vmqt_run "${VIRSH[@]}" define "$VMQT_TMP/$DOM.xml" >/dev/null
	t0=$(date +%s%N)
	vmqt_run "${VIRSH[@]}" start "$DOM" >/dev/null
	ms=$((($(date +%s%N) - t0) / 1000000))
	QEMU_PID=$(cat "/run/libvirt/qemu/$DOM.pid")
	vmqt_uint "QEMU pid" "$QEMU_PID"
	vmqt_assert_eq "QEMU's network namespace" "$HNS" "$(ip netns identify "$QEMU_PID")"
	p=$(vmqt_ctl -j port show | vmqt_json "[[x['dev'], x['queue'], x.get('vm'), x['state']] for x in j['ports'] if x['port'] == '$TAP']")
	q=$(vmqt_json 'j[0][1]' <<<"$p")
	vmqt_uint "queue of $TAP" "$q"
	[ "$q" -ne 0 ] || vmqt_fail "$TAP bound to the default queue"
	vmqt_assert_eq "port show: $TAP after virsh start" "[[\"$DEV\",$q,\"$DOM\",\"live\"]]" "$p"
	vmqt_assert_eq "queue $q: vm, owner" "[\"$DOM\",\"port\"]" \
		"$(vmqt_ctl -j queue show "$DEV" | vmqt_json "[[x.get('vm'), x.get('owner')] for x in j['queues'] if x['id'] == $q][0]")"
	vmqt_assert_match "hook log after start" "^vmq-hook: $DOM started: port bind $TAP dev $DEV queue auto \\(only uplink\\): ok" \
		"$(cat "$VMQT_TMP/hook.log")"
	vmqt_ok "virsh start $DOM (${ms} ms, QEMU $QEMU_PID in $HNS): hook bound $TAP to queue $q, vm $DOM"
}

# --- virsh destroy: unbound, freed ------------------------------------------------------------
vmqt_case virsh_destroy virsh_start
case_virsh_destroy() {
	t0=$(date +%s%N)
	vmqt_run "${VIRSH[@]}" destroy "$DOM" >/dev/null
	ms=$((($(date +%s%N) - t0) / 1000000))
	vmqt_assert_eq "port show: $TAP after virsh destroy" '[]' \
		"$(vmqt_ctl -j port show | vmqt_json "[x for x in j['ports'] if x['port'] == '$TAP']")"
	vmqt_assert_eq "queue $q after virsh destroy" '[]' \
		"$(vmqt_ctl -j queue show "$DEV" | vmqt_json "[x for x in j['queues'] if x['id'] == $q]")"
	vmqt_assert_match "hook log after destroy" "^vmq-hook: $DOM stopped: port unbind $TAP \\(was $DEV queue $q\\): ok" \
		"$(cat "$VMQT_TMP/hook.log")"
	vmqt_run "${VIRSH[@]}" undefine "$DOM" >/dev/null
	vmqt_ok "virsh destroy $DOM (${ms} ms): $TAP unbound, queue $q freed; domain undefined"
}

vmqt_cases "$@"
