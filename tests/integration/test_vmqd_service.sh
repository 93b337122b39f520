#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# contrib/vmqd.service grants vmqd what it needs and nothing more, and vmqd
# works under exactly that (docs/vmqd.md, "Under systemd"). systemd is not
# running here, so:
#   - `systemd-analyze verify` checks the unit (no warning at all), with
#     ExecStart pointed at this build;
#   - the hardening lines the daemon is documented to run under are there;
#   - vmqd runs under setpriv with the unit's own capability list (read from
#     the file: a capability removed there is removed here), as bounding
#     and ambient set, with no-new-privs: the kernel's view of its
#     capabilities must be exactly that list. Through attach (XPS cleared),
#     queue and group add, a port bind in stamp mode, marked traffic
#     steered, stats, doctor with its probe, metrics on a Unix socket, a
#     restart that adopts everything, more traffic, unbind and detach (XPS
#     restored);
#   - strace follows it: every system call it makes is in the unit's
#     SystemCallFilter (expanded by systemd-analyze), every socket family in
#     RestrictAddressFamilies, and everything it creates or writes lies in
#     its pin, state and socket directories (the unit's ReadWritePaths and
#     RuntimeDirectory), /sys or /proc (ProtectSystem=strict leaves them);
#   - pins and the state file are created 0600 in 0700 directories, the
#     socket 0600.
#
# Cases (tests/run.sh test_vmqd_service CASE...): unit_file; first_run (a
# vmqd's whole life: started, used, file modes, SIGTERM); restart (needs
# first_run); syscalls (needs both); group_needs_chown.
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
vmqt_init setpriv capsh strace systemd-analyze stat curl
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl" "$BUILD/tests/vmq-udpsend"
UNIT=$VMQT_ROOT/contrib/vmqd.service
vmqt_need_file "$UNIT"

# unit_get KEY: the values of KEY in the unit's [Service] section, one
# assignment a line (comments and other sections left out).
unit_get() {
	awk -v k="$1" '
		/^\[/ { svc = ($0 == "[Service]"); next }
		svc && index($0, k "=") == 1 { print substr($0, length(k) + 2) }' "$UNIT"
}

# What the unit grants, read once: the cases check and use it.
CAPS=$(unit_get CapabilityBoundingSet | tr ' ' '\n' | grep . | sort -u | tr '\n' ' ')
AMBIENT=$(unit_get AmbientCapabilities | tr ' ' '\n' | grep . | sort -u | tr '\n' ' ')
FAMILIES=$(unit_get RestrictAddressFamilies)
FILTER=$(unit_get SystemCallFilter)

# --- the unit file -------------------------------------------------------------------
vmqt_case unit_file
case_unit_file() {
	sed "s|^ExecStart=.*|ExecStart=$BUILD/vmqd|" "$UNIT" >"$VMQT_TMP/vmqd.service"
	out=$(systemd-analyze verify "$VMQT_TMP/vmqd.service" 2>&1) ||
		vmqt_fail "systemd-analyze verify failed:$(printf '\n%s' "$out" | sed 's/^/   | /')"
	[ -z "$out" ] || vmqt_fail "systemd-analyze verify warns:$(printf '\n%s' "$out" | sed 's/^/   | /')"
	for kv in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
		RuntimeDirectory=vmq StateDirectory=vmq; do
		vmqt_assert_eq "the unit's ${kv%%=*}" "${kv#*=}" "$(unit_get "${kv%%=*}")"
	done
	rw=" $(unit_get ReadWritePaths | tr '\n' ' ') "
	for p in /var/lib/vmq /sys/fs/bpf; do
		[[ $rw == *" $p "* ]] || vmqt_fail "the unit's ReadWritePaths lacks $p: $rw"
	done
	[ -n "$CAPS" ] || vmqt_fail "the unit has no CapabilityBoundingSet"
	vmqt_assert_eq "the unit's AmbientCapabilities (the bounding set)" "$CAPS" "$AMBIENT"
	[ -n "$FAMILIES" ] && [ -n "$FILTER" ] || vmqt_fail "the unit lacks RestrictAddressFamilies or SystemCallFilter"
	vmqt_ok "systemd-analyze verify: no warning; capabilities: $CAPS; families: $FAMILIES; system calls: $FILTER"
}

# setpriv's list: -all,+bpf,+net_admin,...
SETPRIV_CAPS=-all
for c in $CAPS; do
	c=${c,,}
	SETPRIV_CAPS+=",+${c#cap_}"
done

# --- vmqd under exactly those privileges --------------------------------------------------
vmqt_vmqd_setup
NQ=$VMQT_NTXQ
RUN=$VMQT_TMP/run   # stands for the unit's RuntimeDirectory
STATE=$VMQT_TMP/state # its StateDirectory
VMQT_SOCK=$RUN/vmqd.sock
MSOCK=$RUN/metrics.sock
mkdir -m 0755 "$RUN"
TRACE=$VMQT_TMP/trace
VMQT_VMQD_WRAP=(strace -D -f -q -A -o "$TRACE" setpriv --bounding-set "$SETPRIV_CAPS"
	--inh-caps "$SETPRIV_CAPS" --ambient-caps "$SETPRIV_CAPS" --no-new-privs)

# caps_of PID: the capability names of a set in /proc/PID/status, sorted.
caps_of() {
	local hex
	hex=$(awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status")
	capsh --decode="$hex" | sed 's/^[^=]*=//' | tr ',' '\n' | grep . | tr '[:lower:]' '[:upper:]' |
		sort -u | tr '\n' ' '
}
check_privileges() {
	local pid=$1 set
	for set in CapEff CapPrm CapBnd CapAmb; do
		vmqt_assert_eq "vmqd $pid's $set" "$CAPS" "$(caps_of "$pid" "$set")"
	done
	vmqt_assert_eq "vmqd $pid's NoNewPrivs" 1 "$(awk '$1 == "NoNewPrivs:" { print $2 }' "/proc/$pid/status")"
}

# XPS set by the user before attach: cleared by attach, restored by detach.
vmqt_in "$HNS" sh -ec 'echo 1 >/sys/class/net/"$1"/queues/tx-1/xps_cpus' sh "$DEV"
xps0=$(vmqt_in "$HNS" cat "/sys/class/net/$DEV/queues/tx-1/xps_cpus")

# The first vmqd's state, and the pids strace follows, handed to the next cases.
before="" PIDS=()
VMQT_CASE_KEEP+=(before PIDS)

vmqt_case first_run
case_first_run() {
	vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS" -d "$STATE" --metrics "$MSOCK"
	PID=$VMQT_VMQD_PID
	PIDS=("$PID")
	check_privileges "$PID"
	vmqt_ok "vmqd $PID runs with exactly $CAPS(effective, permitted, bounding, ambient), no-new-privs"

	vmqt_ctl dev attach "$DEV" default-txq 7 >/dev/null
	xps=$(vmqt_in "$HNS" cat "/sys/class/net/$DEV/queues/tx-1/xps_cpus")
	[[ $xps =~ ^[0,]+$ ]] || vmqt_fail "XPS on tx-1 after attach: $xps (expected cleared)"
	vmqt_ctl queue add "$DEV" id 1 txq 1 vm web1 >/dev/null
	vmqt_ctl group add "$DEV" id 2 txqs 4,5 >/dev/null
	vmqt_ctl queue add "$DEV" id 2 group 2 vm db1 >/dev/null
	vmqt_ctl queue add "$DEV" id 3 txq 3 vm app1 >/dev/null
	# A port in a bridge without the uplink: stamp mode, vmq's program on its ingress.
	vmqt_run ip -n "$HNS" link add vmqbr0 type bridge
	vmqt_run ip -n "$HNS" link add vmqtap0 type veth peer name vmqtap0p
	vmqt_run ip -n "$HNS" link set vmqtap0 master vmqbr0
	vmqt_run ip -n "$HNS" link set vmqbr0 up
	vmqt_run ip -n "$HNS" link set vmqtap0 up
	vmqt_ctl port bind vmqtap0 dev "$DEV" queue 3 >/dev/null
	mode=$(vmqt_ctl -j port show | vmqt_json '[p["mode"] for p in j["ports"] if p["port"] == "vmqtap0"][0]')
	vmqt_assert_eq "port vmqtap0's mode" stamp "$mode"
	vmqt_assert_hooked "port vmqtap0 bound" "$HNS" vmqtap0 ingress vmq_port_ingres >/dev/null

	vmqt_send "queue 1" 1 100 4
	vmqt_assert_on_txq "queue 1" 1 100
	vmqt_send "queue 2 (group 4,5)" 2 100 16
	[ $((VMQT_DELTA[4] + VMQT_DELTA[5])) -eq 100 ] || vmqt_fail "queue 2: expected all 100 on TX queues 4 and 5, got $VMQT_DELTA_TEXT"
	pk=$(vmqt_ctl -j stats "$DEV" | vmqt_json '[q["packets"] for q in j["devs"][0]["queues"] if q["id"] == 1][0]')
	vmqt_assert_eq "stats: queue 1's packets" 100 "$pk"
	code=$(curl -s --max-time 5 --unix-socket "$MSOCK" -o "$VMQT_TMP/metrics.out" -w '%{http_code}' http://localhost/metrics || true)
	vmqt_assert_eq "metrics on $MSOCK: status" 200 "$code"
	vmqt_assert_match "metrics: queue 1" 'vmq_queue_packets_total\{dev="'"$DEV"'",queue="1",vm="web1"\} 100' "$(cat "$VMQT_TMP/metrics.out")"
	# The probe sends marked frames (AF_PACKET, CAP_NET_RAW).
	vmqt_ctl doctor "$DEV" >"$VMQT_TMP/doctor.out" ||
		vmqt_fail "doctor $DEV under the unit's privileges:$(sed 's/^/   | /' "$VMQT_TMP/doctor.out")"
	vmqt_assert_match "doctor's probe" '^PASS +probe +[0-9]+ queue\(s\) probed' "$(cat "$VMQT_TMP/doctor.out")"
	vmqt_ok "attach, queues, a group, a stamp-mode port, traffic steered, stats, doctor (probe PASS), metrics"

	# The modes of what vmqd created.
	bad=$(find "$PINS" \( -type d ! -perm 0700 \) -o \( ! -type d ! -perm 0600 \) -printf '%m %p\n')
	[ -z "$bad" ] || vmqt_fail "pins or pin directories not 0600/0700:$(printf '\n%s' "$bad" | sed 's/^/   | /')"
	npins=$(find "$PINS" ! -type d | wc -l)
	[ "$npins" -ge 10 ] || vmqt_fail "only $npins pins under $PINS"
	vmqt_assert_eq "state directory mode" 700 "$(stat -c %a "$STATE")"
	vmqt_assert_eq "state file mode" 600 "$(stat -c %a "$STATE/vmqd.state")"
	vmqt_assert_eq "control socket mode" 600 "$(stat -c %a "$VMQT_SOCK")"
	vmqt_assert_eq "metrics socket mode" 600 "$(stat -c %a "$MSOCK")"
	vmqt_ok "$npins pins 0600 in 0700 directories; state file 0600 in a 0700 directory; sockets 0600"

	before=$(vmqt_state)
	vmqt_vmqd_kill "$PID" TERM
	vmqt_assert_eq "vmqd's exit status after SIGTERM" 0 "$VMQT_KILL_RC"
}

# --- restart: adoption under the same privileges ------------------------------------------
vmqt_case restart first_run
case_restart() {
	vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS" -d "$STATE" --metrics "$MSOCK"
	PID=$VMQT_VMQD_PID
	PIDS+=("$PID")
	check_privileges "$PID"
	vmqt_assert_eq "state adopted by the restarted vmqd" "$before" "$(vmqt_state)"
	vmqt_send "queue 1 after the restart" 1 100 4
	vmqt_assert_on_txq "queue 1 after the restart" 1 100
	vmqt_ctl queue add "$DEV" id 4 txq 6 >/dev/null
	vmqt_send "queue 4, added after the restart" 4 100 4
	vmqt_assert_on_txq "queue 4, added after the restart" 6 100
	vmqt_ctl port unbind vmqtap0 >/dev/null
	vmqt_assert_unhooked "port vmqtap0 unbound" "$HNS" vmqtap0 ingress vmq_port_ingres
	vmqt_ctl dev detach "$DEV" >/dev/null
	vmqt_assert_eq "XPS on tx-1 after detach (restored)" "$xps0" \
		"$(vmqt_in "$HNS" cat "/sys/class/net/$DEV/queues/tx-1/xps_cpus")"
	vmqt_vmqd_kill "$PID" TERM
	vmqt_assert_eq "vmqd's exit status after SIGTERM" 0 "$VMQT_KILL_RC"
	vmqt_ok "restart: adopted, steering, a new queue, unbind, detach (XPS restored), all under $CAPS"
}

# --- what strace saw -----------------------------------------------------------------------
vmqt_case syscalls first_run restart
case_syscalls() {
	# strace -D runs detached: wait until it has written both exits.
	for i in $(seq 150); do
		n=0
		for p in "${PIDS[@]}"; do
			! grep -Eq "^$p +[+]{3} exited" "$TRACE" || n=$((n + 1))
		done
		[ "$n" -lt 2 ] || break
		sleep 0.1
	done
	[ "$n" -eq 2 ] || vmqt_fail "strace did not record both vmqd exits (${PIDS[*]}) within 15 s: $(grep -a "+++" "$TRACE" | tr "\n" " ")"
	ALLOWED=$VMQT_TMP/allowed
	"$VMQT_PY" - "$FILTER" >"$ALLOWED" <<'EOF'
import subprocess, sys
text = subprocess.run(["systemd-analyze", "syscall-filter"], check=True,
                      capture_output=True, text=True).stdout
groups, cur = {}, None
for line in text.splitlines():
    s = line.strip()
    if line.startswith("@"):
        cur = s
        groups[cur] = []
    elif s and not s.startswith("#") and cur:
        groups[cur].append(s)
def expand(name, seen=()):
    if not name.startswith("@"):
        return {name}
    if name not in groups:
        sys.exit("unknown group " + name)
    out = set()
    for x in groups[name]:
        out |= expand(x, seen + (name,))
    return out
allowed = set()
for word in sys.argv[1].split():
    allowed |= expand(word)
print("\n".join(sorted(allowed)))
EOF
	"$VMQT_PY" - "$BUILD/vmqd" "$ALLOWED" "$FAMILIES" "$PINS/" "$STATE/" "$RUN/" "$TRACE" \
		>"$VMQT_TMP/trace.report" <<'EOF' || vmqt_fail "vmqd stepped outside the unit:$(sed 's/^/   | /' "$VMQT_TMP/trace.report")"
import re, sys
vmqd, allowed_file, families, *prefixes, trace = sys.argv[1:]
allowed = set(open(allowed_file).read().split())
families = set(families.split())
writable = tuple(prefixes) + ("/sys/", "/proc/", "/dev/")
name_re = re.compile(r"^\d+\s+([a-z0-9_]+)\((.*)$")
ret_re = re.compile(r"\)\s+=\s+(-?\d+|\?)")
bad, calls, execs = [], set(), 0
started = False
for line in open(trace):
    if not started:
        # setpriv's own calls come first: systemd makes those itself.
        started = line.split(None, 1)[1].startswith('execve("%s"' % vmqd)
        execs += started
        continue
    if line.split(None, 1)[1].startswith('execve("%s"' % vmqd):
        execs += 1
    m = name_re.match(line)
    if not m:
        continue  # "<... resumed>", "+++ exited", signals
    name, args = m.groups()
    r = ret_re.search(args)
    ret = r.group(1) if r else "?"
    calls.add(name)
    if name not in allowed:
        bad.append("system call outside SystemCallFilter: " + line.strip())
    if name == "socket":
        fam = args.split(",")[0].strip()
        if fam not in families:
            bad.append("socket family outside RestrictAddressFamilies: " + line.strip())
    ok = ret != "?" and int(ret) >= 0
    paths = []
    if name in ("openat", "open") and re.search(r"O_(WRONLY|RDWR|CREAT)", args):
        paths = re.findall(r'"([^"]*)"', args)[:1]
    elif name in ("mkdir", "mkdirat", "unlink", "unlinkat", "rename", "renameat", "renameat2", "rmdir"):
        paths = re.findall(r'"([^"]*)"', args)
    elif name == "bpf" and "BPF_OBJ_PIN" in args:
        paths = re.findall(r'pathname="([^"]*)"', args)
    elif name == "bind" and "AF_UNIX" in args:
        paths = re.findall(r'sun_path="([^"]*)"', args)
    for p in paths if ok else []:
        if not (p.startswith(writable) or p + "/" in writable):
            bad.append("writes outside ReadWritePaths: " + line.strip())
if not calls:
    bad.append("no system call of vmqd in the trace (execve not found)")
print("vmqd started %d times, made %d distinct system calls" % (execs, len(calls)))
print("\n".join(bad[:20]))
sys.exit(1 if bad or execs != 2 else 0)
EOF
	vmqt_ok "strace: $(head -n1 "$VMQT_TMP/trace.report"), all in \"$FILTER\"; socket families in \"$FAMILIES\"; writes only to its pin, state and socket directories, /sys, /proc"
}

# --group needs one more capability: the unit says to add CAP_CHOWN, and
# vmqd says so when it is missing.
vmqt_case group_needs_chown
case_group_needs_chown() {
	rc=0
	timeout 10 ip netns exec "$HNS" setpriv --bounding-set "$SETPRIV_CAPS" --inh-caps "$SETPRIV_CAPS" \
		--ambient-caps "$SETPRIV_CAPS" --no-new-privs "$BUILD/vmqd" -s "$RUN/group.sock" \
		-b "$VMQT_BPFFS/vmq-group" -d "$VMQT_TMP/state-group" --group users \
		2>"$VMQT_TMP/group.err" || rc=$?
	[ "$rc" -ne 124 ] || vmqt_fail "vmqd --group users without CAP_CHOWN still running after 10 s"
	[ "$rc" -ne 0 ] || vmqt_fail "vmqd --group users without CAP_CHOWN exited 0"
	vmqt_assert_match "vmqd --group without CAP_CHOWN" \
		"group.sock: cannot give it to group [0-9]+ \\(mode 0660\\): Operation not permitted \\(--group and --read-group need CAP_CHOWN\\)" \
		"$(cat "$VMQT_TMP/group.err")"
	[ ! -e "$RUN/group.sock" ] || vmqt_fail "vmqd --group without CAP_CHOWN left its socket"
	vmqt_ok "with the unit's capabilities, --group is refused naming CAP_CHOWN: $(cat "$VMQT_TMP/group.err")"
}

vmqt_cases "$@"
