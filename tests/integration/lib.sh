# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash disable=SC2034 # globals are set for the tests
#
# Shared by the network-namespace integration tests. Source it, then call
# vmqt_init first:
#
#   . "$(dirname "$0")/lib.sh"
#   vmqt_init
#   vmqt_veth_pair            # host ns <-> wire ns, 8 TX queues, mq, no XPS
#   vmqt_bpffs_mount          # bpffs under /run: $VMQT_BPFFS
#   VMQT_SOCK=$VMQT_TMP/vmqd.sock
#   vmqt_vmqd_start "$VMQT_HOST_NS" "$VMQT_SOCK" "$VMQT_BPFFS/vmq"
#   vmqt_ctl dev attach "$VMQT_HOST_DEV" default-txq 7   # vmqctl, must succeed
#   vmqt_send WHAT MARK N FLOWS; vmqt_assert_on_txq WHAT TXQ N   # real traffic
#
# Exit status follows tests/run.sh: 0 pass, 77 skip (reason on stderr),
# anything else fail. Sourcing turns on strict mode (-Eeuo pipefail): an
# unchecked failing command ends the test as a failure, naming the line.
# Every helper checks what it runs; none ignores an exit status.
#
# Everything a test creates through these helpers (namespaces, bpffs
# mounts and their pins, temporary files, background processes) is
# registered and removed by an EXIT trap, on success, failure, ^C or TERM.
#
# Helpers that create things set global variables, so call them directly,
# never inside $(...): a subshell's registrations would be lost.
#
# Which vmqd and vmqctl run: VMQ_BIN_DIR's (default $BUILD's). The scripts
# name them $BUILD/vmqd and $BUILD/vmqctl, so with VMQ_BIN_DIR vmqt_init
# points BUILD at a directory of links: those two to VMQ_BIN_DIR, the rest
# to the build directory. VMQ_SANITIZED=1 (make check-san, binaries built
# with ASan and UBSan): every report goes to a file in $VMQT_TMP/san, the
# first error stops the process, LeakSanitizer runs at exit, and the test
# fails when any report file exists once its processes are stopped.
#
# Kernel facts these helpers rely on (docs/kernel-notes.md, "General"):
# - `ip netns exec` remounts /sys for the namespace: /sys/class/net/DEV
#   there is the namespace's device, and /sys/fs/bpf is not mounted, so
#   pins live on a bpffs under /run.
# - XPS outranks the queue_mapping set at tc egress: it is cleared on the
#   host device's TX queues.
# - ARP and IPv6 autoconfiguration add stray packets: IPv6 is off and
#   neighbours are static on both ends, so the host device sends only what
#   the test sends.

set -Eeuo pipefail

VMQT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$VMQT_ROOT/build}
VMQT_ID="$$-$RANDOM"   # unique per run: names, dirs
VMQT_NETNS=()          # namespaces to delete
VMQT_LINKS=()          # "NS DEV" links deleted before their namespace
VMQT_MOUNTS=()         # bpffs mount points: pins removed, unmounted, rmdir'ed
VMQT_PIDS=()           # background processes to stop
VMQT_TMP=""            # scratch dir, removed
VMQT_DIAG_FN=""        # optional function the test sets: prints state on failure
VMQT_SANLOG=""         # sanitizer reports (VMQ_SANITIZED=1)

# --- messages, failure, skip -------------------------------------------
vmqt_log() { printf '   %s\n' "$*"; }
vmqt_ok() { printf '   ok  %s\n' "$*"; }

vmqt_fail() {
	printf '   FAIL: %s\n' "$*" >&2
	exit 1
}

vmqt_skip() {
	printf '   skipped: %s\n' "$*" >&2
	exit 77
}

_vmqt_on_err() {
	local rc=$1 line=$2 cmd=$3
	printf '   error: line %s: command failed (exit %s): %s\n' "$line" "$rc" "$cmd" >&2
}

# --- cleanup -------------------------------------------------------------
_vmqt_cleanup() {
	local rc=$? pid i mnt leak=0 grace=10
	# PIPE too: a reader that went away (test | head) must not stop the cleanup.
	trap '' INT TERM PIPE
	trap - ERR
	set +e
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -n "$VMQT_DIAG_FN" ] && [ -z "$VMQT_DIAG_SHOWN" ]; then
		printf '   --- state at failure ---\n' >&2
		# In a subshell: a failing helper in it must not end the cleanup.
		("$VMQT_DIAG_FN") >&2 2>&1
		printf '   ---\n' >&2
	fi
	for pid in "${VMQT_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	# Sanitized, exit takes longer (LeakSanitizer): a KILL would lose its report.
	[ -z "$VMQT_SANLOG" ] || grace=100
	for pid in "${VMQT_PIDS[@]}"; do
		for ((i = 0; i < grace; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	if [ -n "$VMQT_SANLOG" ] && [ -n "$(ls -A "$VMQT_SANLOG" 2>/dev/null)" ]; then
		for i in "$VMQT_SANLOG"/*; do
			printf '   FAIL: sanitizer report %s:\n' "$(basename "$i")" >&2
			head -n 60 "$i" | sed 's/^/   | /' >&2
		done
		[ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] || rc=1
	fi
	# Deleting a link is synchronous (its qdiscs and tc filters go with
	# it); namespace teardown is not, so links go first.
	for ((i = ${#VMQT_LINKS[@]} - 1; i >= 0; i--)); do
		# shellcheck disable=SC2086 # "NS DEV"
		set -- ${VMQT_LINKS[i]}
		ip -n "$1" link delete dev "$2" 2>/dev/null
	done
	for ((i = ${#VMQT_NETNS[@]} - 1; i >= 0; i--)); do
		if ! ip netns delete "${VMQT_NETNS[i]}"; then
			printf '   cleanup: could not delete netns %s\n' "${VMQT_NETNS[i]}" >&2
			leak=1
		fi
	done
	for ((i = ${#VMQT_MOUNTS[@]} - 1; i >= 0; i--)); do
		mnt=${VMQT_MOUNTS[i]}
		# Unpin first: if another mount namespace still holds a copy of
		# this mount, unmounting alone would not free the objects.
		rm -rf --one-file-system "${mnt:?}"/* 2>/dev/null
		if ! umount "$mnt"; then
			printf '   cleanup: could not unmount %s\n' "$mnt" >&2
			leak=1
		elif ! rmdir "$mnt"; then
			printf '   cleanup: could not remove %s\n' "$mnt" >&2
			leak=1
		fi
	done
	[ -n "$VMQT_TMP" ] && rm -rf "$VMQT_TMP"
	if [ "$leak" -ne 0 ] && [ "$rc" -eq 0 ]; then
		printf '   FAIL: cleanup left things behind\n' >&2
		rc=1
	fi
	exit "$rc"
}

# Call first: checks root and tools, installs the traps.
vmqt_init() {
	local t
	trap '_vmqt_on_err "$?" "$LINENO" "$BASH_COMMAND"' ERR
	trap _vmqt_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	[ "$(id -u)" -eq 0 ] || vmqt_skip "needs root (network namespaces, BPF)"
	for t in ip tc mount umount "$@"; do
		command -v "$t" >/dev/null || vmqt_skip "'$t' not found (make deps installs the tools)"
	done
	VMQT_TMP=$(mktemp -d "/tmp/vmqt-$VMQT_ID.XXXXXX")
	if [ -n "${VMQ_BIN_DIR:-}" ]; then
		vmqt_need_file "$VMQ_BIN_DIR/vmqd" "$VMQ_BIN_DIR/vmqctl"
		mkdir "$VMQT_TMP/build"
		ln -s "$BUILD"/* "$VMQT_TMP/build/"
		ln -sfn "$VMQ_BIN_DIR/vmqd" "$VMQT_TMP/build/vmqd"
		ln -sfn "$VMQ_BIN_DIR/vmqctl" "$VMQT_TMP/build/vmqctl"
		BUILD=$VMQT_TMP/build
	fi
	if [ "${VMQ_SANITIZED:-0}" = 1 ]; then
		VMQT_SANLOG=$VMQT_TMP/san
		mkdir "$VMQT_SANLOG"
		export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:log_path=$VMQT_SANLOG/asan"
		export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$VMQT_SANLOG/ubsan"
	fi
}

# Fails unless the build products exist: `make check` builds them first.
vmqt_need_file() {
	local f
	for f in "$@"; do
		[ -e "$f" ] || vmqt_fail "$f is missing: build first (make check builds everything)"
	done
}

# --- running commands ----------------------------------------------------
# vmqt_run CMD...: runs CMD; on success prints its stdout (its stderr is
# dropped); on failure prints the command, exit status, stdout and stderr,
# and fails the test. Usable inside $(...): the caller's set -e then stops.
vmqt_run() {
	local out err rc=0
	out=$(mktemp "$VMQT_TMP/out.XXXXXX")
	err=$(mktemp "$VMQT_TMP/err.XXXXXX")
	"$@" >"$out" 2>"$err" || rc=$?
	if [ "$rc" -ne 0 ]; then
		{
			printf '   command failed (exit %d): %s\n' "$rc" "$*"
			sed 's/^/   | /' "$out" "$err"
		} >&2
		rm -f "$out" "$err"
		exit 1
	fi
	cat "$out"
	rm -f "$out" "$err"
}

# vmqt_in NS CMD...: vmqt_run inside network namespace NS.
vmqt_in() {
	local ns=$1
	shift
	vmqt_run ip netns exec "$ns" "$@"
}

# vmqt_bg NS CMD...: starts CMD in NS in the background, stopped at exit.
# Sets VMQT_BG_PID. Call directly, not in $(...).
vmqt_bg() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@" &
	VMQT_BG_PID=$!
	VMQT_PIDS+=("$VMQT_BG_PID")
}

# --- assertions ----------------------------------------------------------
_vmqt_is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

# vmqt_assert_eq WHAT EXPECTED ACTUAL
vmqt_assert_eq() {
	[ "$2" = "$3" ] || vmqt_fail "$1: expected '$2', got '$3'"
}

# vmqt_assert_match WHAT REGEX TEXT (extended regex, grep -E)
vmqt_assert_match() {
	grep -Eq -- "$2" <<<"$3" ||
		vmqt_fail "$1: expected a match for /$2/ in:$(printf '\n%s' "$3" | sed 's/^/   | /')"
}

# vmqt_assert_file WHAT PATH
vmqt_assert_file() {
	[ -e "$2" ] || vmqt_fail "$1: expected $2 to exist; the directory holds: $(ls -A "$(dirname "$2")" 2>&1 | tr '\n' ' ')"
}

# vmqt_uint WHAT VALUE: fails unless VALUE is a decimal unsigned integer.
vmqt_uint() {
	_vmqt_is_uint "$2" || vmqt_fail "$1: expected a number, got '$2'"
}

# --- named cases ---------------------------------------------------------------
# A script may split its checks into named cases, reported one by one and
# run alone on request (tests/run.sh test_X CASE...):
#
#   vmqt_case attach                 # the function case_attach
#   case_attach() { ...; }
#   vmqt_case queue_add attach       # needs attach: runs after it, and with
#   case_queue_add() { ...; }        # it when selected alone
#   ...
#   vmqt_vmqd_setup; vmqt_vmqd_start ...   # what every case starts from
#   vmqt_cases "$@"                  # the cases named (default: all), in order
#
# Each case runs in a subshell: a failing one (vmqt_fail, a failing command)
# ends only itself; the next cases still run, those that need it are
# skipped. What cases create is registered as usual (its registrations are
# handed back to the script), and the script's EXIT trap removes it all at
# the end. A case hands on state through the VMQT_* variables (lib.sh's
# counters and totals) and the variables named in VMQT_CASE_KEEP; anything
# else it sets is lost. A case can wait only for the processes it started
# (vmqt_bg_wait, the status of vmqt_vmqd_kill): one the script or another
# case started can be signalled, and is stopped at exit, but its exit status
# is not the case's to read (wait: "not a child of this shell").
# The script exits 1 when a case failed, 77 when all were skipped.
# VMQT_CASE_LOG (tests/run.sh sets it): a file where each case's result is
# appended, "SCRIPT CASE PASS|FAIL|SKIP".
VMQT_CASES=()                 # declared cases, in order
declare -A VMQT_CASE_NEEDS=() # case -> the cases it needs
declare -A VMQT_CASE_RESULT=() # case -> PASS, FAIL or SKIP once run
VMQT_CASE_KEEP=()             # the script's variables handed from case to case
VMQT_DIAG_SHOWN=""            # diagnostics already printed for a failed case

# vmqt_case NAME [NEEDS...]: declares case NAME (function case_NAME), which
# needs the cases NEEDS (declared before it).
vmqt_case() {
	local name=$1 n
	shift
	[[ $name =~ ^[A-Za-z0-9_]+$ ]] || vmqt_fail "vmqt_case: bad name '$name'"
	[ -z "${VMQT_CASE_NEEDS[$name]+x}" ] || vmqt_fail "vmqt_case: $name declared twice"
	for n in "$@"; do
		[ -n "${VMQT_CASE_NEEDS[$n]+x}" ] || vmqt_fail "vmqt_case $name: needs $n, not declared before it"
	done
	VMQT_CASES+=("$name")
	VMQT_CASE_NEEDS[$name]="$*"
}

# _vmqt_case_want NAME: selects NAME and, first, what it needs.
_vmqt_case_want() {
	local n
	[ -z "${_vmqt_want[$1]:-}" ] || return 0
	for n in ${VMQT_CASE_NEEDS[$1]}; do _vmqt_case_want "$n"; done
	_vmqt_want[$1]=1
}

# _vmqt_case_save FILE: (in a case's subshell, at its exit) the variables
# the script keeps, as declarations the script can source.
_vmqt_case_save() {
	local rc=$?
	# shellcheck disable=SC2046 # names
	# A kept variable still unset is no error: declare -p fails for it (pipefail).
	{ declare -p $(compgen -v VMQT_) "${VMQT_CASE_KEEP[@]}" 2>/dev/null || :; } |
		sed -n 's/^declare -- /declare -g /p; s/^declare -\([aAix]*\) /declare -g\1 /p' >"$1"
	exit "$rc"
}

# vmqt_cases [NAME...]: runs the cases named (default: every case), each
# after what it needs, in declaration order, and reports each.
vmqt_cases() {
	local name n rc why state=$VMQT_TMP/case-state pass=0 fail=0 skip=0
	local -A _vmqt_want=()
	for name in "$@"; do
		[ -n "${VMQT_CASE_NEEDS[$name]+x}" ] ||
			vmqt_fail "$(basename "$0"): no case '$name'; its cases: ${VMQT_CASES[*]}"
		_vmqt_case_want "$name"
	done
	[ "$#" -gt 0 ] || for name in "${VMQT_CASES[@]}"; do _vmqt_want[$name]=1; done
	for name in "${VMQT_CASES[@]}"; do
		[ -n "${_vmqt_want[$name]:-}" ] || continue
		printf '   --- case %s\n' "$name"
		why=""
		for n in ${VMQT_CASE_NEEDS[$name]}; do
			[ "${VMQT_CASE_RESULT[$n]}" = PASS ] || why+="${why:+, }$n ${VMQT_CASE_RESULT[$n]}"
		done
		if [ -n "$why" ]; then
			printf '   skipped: needs %s\n' "$why" >&2
			rc=77
		else
			# Not in a tested context (||, if): that would turn off set -e in it.
			trap - ERR
			set +e
			(
				set -e
				trap '_vmqt_on_err "$?" "$LINENO" "$BASH_COMMAND"' ERR
				trap '_vmqt_case_save "$state"' EXIT
				"case_$name"
			)
			rc=$?
			set -e
			trap '_vmqt_on_err "$?" "$LINENO" "$BASH_COMMAND"' ERR
			if [ -f "$state" ]; then
				# shellcheck disable=SC1090
				. "$state"
				rm -f "$state"
			fi
		fi
		case $rc in
		0) VMQT_CASE_RESULT[$name]=PASS pass=$((pass + 1)) ;;
		77) VMQT_CASE_RESULT[$name]=SKIP skip=$((skip + 1)) ;;
		*)
			VMQT_CASE_RESULT[$name]=FAIL fail=$((fail + 1))
			if [ -n "$VMQT_DIAG_FN" ]; then
				printf '   --- state at failure of %s ---\n' "$name" >&2
				("$VMQT_DIAG_FN") >&2 2>&1 || true
				printf '   ---\n' >&2
				VMQT_DIAG_SHOWN=1
			fi
			;;
		esac
		printf '   %s case %s\n' "${VMQT_CASE_RESULT[$name]}" "$name"
		[ -z "${VMQT_CASE_LOG:-}" ] ||
			printf '%s %s %s\n' "$(basename "$0" .sh)" "$name" "${VMQT_CASE_RESULT[$name]}" >>"$VMQT_CASE_LOG"
	done
	printf '   cases: %d passed, %d failed, %d skipped\n' "$pass" "$fail" "$skip"
	[ "$fail" -eq 0 ] || exit 1
	[ "$pass" -gt 0 ] || exit 77
}

# --- namespaces and the veth pair ----------------------------------------
# vmqt_netns_add NAME: creates netns vmqt-<id>-NAME, registered for
# deletion; sets VMQT_LAST_NS to its full name.
vmqt_netns_add() {
	local ns="vmqt-$VMQT_ID-$1"
	vmqt_run ip netns add "$ns" >/dev/null
	VMQT_NETNS+=("$ns")
	VMQT_LAST_NS=$ns
}

# vmqt_mac NS DEV: prints DEV's MAC address.
vmqt_mac() {
	local mac
	mac=$(vmqt_in "$1" cat "/sys/class/net/$2/address")
	[[ $mac =~ ^[0-9a-f]{2}(:[0-9a-f]{2}){5}$ ]] || vmqt_fail "MAC of $2 in $1: got '$mac'"
	printf '%s\n' "$mac"
}

# vmqt_clear_xps NS DEV: writes 0 to every TX queue's xps_cpus and
# xps_rxqs, then checks they read back empty.
vmqt_clear_xps() {
	local ns=$1 dev=$2
	# Runs inside `ip netns exec`, where /sys shows the namespace's DEV.
	vmqt_in "$ns" sh -ec '
		set -- /sys/class/net/"$1"/queues/tx-*
		[ -e "$1" ] || { echo "no TX queues under /sys/class/net"; exit 1; }
		for q; do
			for f in xps_cpus xps_rxqs; do
				[ -e "$q/$f" ] || continue
				echo 0 >"$q/$f"
				v=$(cat "$q/$f")
				case $v in *[!0,]*|"") echo "$q/$f still $v"; exit 1 ;; esac
			done
		done' sh "$dev" >/dev/null
}

# vmqt_uplink_link DEV IP WIRE_NS WIRE_DEV WIRE_IP NTXQ: a veth pair from
# DEV in the host namespace to WIRE_DEV in WIRE_NS (a new namespace, IPv6
# off by default there), NTXQ queues each way, IPv6 off on both ends before
# they come up, addresses on a /24, static neighbours both ways (no ARP), an
# mq root on DEV and its XPS cleared, then both ends up.
vmqt_uplink_link() {
	local dev=$1 ip=$2 wns=$3 wdev=$4 wip=$5 nq=$6 mac wmac
	vmqt_in "$wns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null
	vmqt_run ip -n "$VMQT_HOST_NS" link add name "$dev" numtxqueues "$nq" numrxqueues "$nq" \
		type veth peer name "$wdev" netns "$wns" numtxqueues "$nq" numrxqueues "$nq"
	VMQT_LINKS+=("$VMQT_HOST_NS $dev")
	vmqt_in "$VMQT_HOST_NS" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
	vmqt_in "$wns" sysctl -qw "net.ipv6.conf.$wdev.disable_ipv6=1"
	vmqt_run ip -n "$VMQT_HOST_NS" addr add "$ip/24" dev "$dev"
	vmqt_run ip -n "$wns" addr add "$wip/24" dev "$wdev"
	mac=$(vmqt_mac "$VMQT_HOST_NS" "$dev")
	wmac=$(vmqt_mac "$wns" "$wdev")
	vmqt_run ip -n "$VMQT_HOST_NS" neigh replace "$wip" lladdr "$wmac" dev "$dev" nud permanent
	vmqt_run ip -n "$wns" neigh replace "$ip" lladdr "$mac" dev "$wdev" nud permanent
	vmqt_run tc -n "$VMQT_HOST_NS" qdisc add dev "$dev" root handle 1: mq
	vmqt_clear_xps "$VMQT_HOST_NS" "$dev"
	vmqt_run ip -n "$VMQT_HOST_NS" link set dev "$dev" up
	vmqt_run ip -n "$wns" link set dev "$wdev" up
}

# vmqt_veth_pair [NTXQ]: two namespaces joined by a veth pair (NTXQ >= 2:
# mq refuses a single-queue device).
#   host side: $VMQT_HOST_NS / $VMQT_HOST_DEV / $VMQT_HOST_IP (mq root, no XPS)
#   wire side: $VMQT_WIRE_NS / $VMQT_WIRE_DEV / $VMQT_WIRE_IP
# Both ends have NTXQ (default 8) TX and RX queues, IPv6 off (before the
# links come up, so not one router solicitation leaves), and a static
# neighbour entry for the other end, so no ARP.
vmqt_veth_pair() {
	local nq=${1:-8}
	_vmqt_is_uint "$nq" && [ "$nq" -ge 2 ] || vmqt_fail "vmqt_veth_pair: NTXQ must be >= 2 (mq), got '$nq'"
	VMQT_NTXQ=$nq
	vmqt_netns_add host
	VMQT_HOST_NS=$VMQT_LAST_NS
	vmqt_netns_add wire
	VMQT_WIRE_NS=$VMQT_LAST_NS
	VMQT_HOST_DEV=vmqup0
	VMQT_WIRE_DEV=vmqwire0
	VMQT_HOST_IP=192.0.2.1
	VMQT_WIRE_IP=192.0.2.2
	vmqt_in "$VMQT_HOST_NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null
	vmqt_uplink_link "$VMQT_HOST_DEV" "$VMQT_HOST_IP" "$VMQT_WIRE_NS" "$VMQT_WIRE_DEV" \
		"$VMQT_WIRE_IP" "$nq"
	_vmqt_uplink_set 0 "$VMQT_HOST_DEV" "$VMQT_HOST_IP" "$VMQT_WIRE_NS" "$VMQT_WIRE_DEV" \
		"$VMQT_WIRE_IP" "$nq"
}

# --- counters ------------------------------------------------------------
# vmqt_txq_counts NS DEV NTXQ: prints the mq class packet counts of TX
# queues 0..NTXQ-1, space-separated (class 1:(q+1), minor in hex).
vmqt_txq_counts() {
	local ns=$1 dev=$2 n=$3 out counts
	out=$(vmqt_run tc -n "$ns" -s class show dev "$dev")
	counts=$(awk -v n="$n" '
		$1 == "class" && $2 == "mq" { split($3, h, ":"); cls = h[1] ":" h[2]; next }
		$1 == "Sent" && cls != "" {
			if ($3 != "bytes" || $5 != "pkt" || $4 !~ /^[0-9]+$/) { bad = 1; exit }
			pk[cls] = $4; cls = ""
		}
		END {
			if (bad) exit 1
			for (q = 0; q < n; q++) {
				c = sprintf("1:%x", q + 1)
				if (!(c in pk)) exit 1
				printf "%s%s", (q ? " " : ""), pk[c]
			}
			print ""
		}' <<<"$out") || vmqt_fail "cannot read $n TX queue counters of $dev from:$(printf '\n%s' "$out" | sed 's/^/   | /')"
	printf '%s\n' "$counts"
}

# vmqt_txq_packets NS DEV Q: packets sent on TX queue Q (mq class 1:(Q+1)).
vmqt_txq_packets() {
	local counts
	counts=$(vmqt_txq_counts "$1" "$2" "$(($3 + 1))")
	printf '%s\n' "${counts##* }"
}

# vmqt_dev_stat NS DEV NAME: /sys/class/net/DEV/statistics/NAME in NS.
vmqt_dev_stat() {
	local v
	v=$(vmqt_in "$1" cat "/sys/class/net/$2/statistics/$3")
	vmqt_uint "$2 $3" "$v"
	printf '%s\n' "$v"
}

# vmqt_snmp NS PROTO FIELD: a /proc/net/snmp counter in NS (e.g. Udp NoPorts).
vmqt_snmp() {
	local out v
	out=$(vmqt_in "$1" cat /proc/net/snmp)
	v=$(awk -v p="$2:" -v f="$3" '
		$1 == p && !hdr { for (i = 2; i <= NF; i++) if ($i == f) col = i; hdr = 1; next }
		$1 == p && hdr && col { print $col; exit }' <<<"$out")
	vmqt_uint "$2 $3 in $1" "$v"
	printf '%s\n' "$v"
}

# --- bpffs and bpftool -----------------------------------------------------
# vmqt_bpffs_mount: mounts a fresh bpffs on /run/vmqt-<id>-bpffs-XXXXXX
# (not under /sys: `ip netns exec` remounts /sys), registered for removal.
# Sets VMQT_BPFFS. No '.' in the path: libbpf rewrites every '.' of a pin
# path to '_' (bpffs names), so pinmaps under a dotted directory fails.
vmqt_bpffs_mount() {
	local dir fstype
	dir=$(mktemp -d "/run/vmqt-$VMQT_ID-bpffs-XXXXXX")
	if ! mount -t bpf bpf "$dir"; then
		rmdir "$dir"
		vmqt_skip "cannot mount bpffs on $dir"
	fi
	VMQT_MOUNTS+=("$dir")
	fstype=$(stat -f -c %T "$dir")
	vmqt_assert_eq "file system type of $dir" bpf_fs "$fstype"
	VMQT_BPFFS=$dir
}

# Byte lists for bpftool key/value arguments, little-endian, decimal.
vmqt_le32() { printf '%d %d %d %d' $(($1 & 255)) $((($1 >> 8) & 255)) $((($1 >> 16) & 255)) $((($1 >> 24) & 255)); }
vmqt_le16() { printf '%d %d' $(($1 & 255)) $((($1 >> 8) & 255)); }

# vmqt_percpu_sum PINNED_MAP KEY FIELD: sum over CPUs of FIELD in the
# per-CPU value at u32 KEY, from `bpftool -j map lookup` (BTF-formatted).
vmqt_percpu_sum() {
	local map=$1 key=$2 field=$3 out
	# shellcheck disable=SC2046
	out=$(vmqt_run bpftool -j map lookup pinned "$map" key $(vmqt_le32 "$key"))
	printf '%s\n' "$out" | grep -o "\"$field\":[0-9]*" | awk -F: '
		{ s += $2; n++ } END { if (!n) exit 1; print s }' ||
		vmqt_fail "no \"$field\" in $map key $key (no BTF?):$(printf '\n%s' "$out" | sed 's/^/   | /')"
}

# --- JSON (python3 from Debian) -------------------------------------------
# The vmqd tests read vmqctl -j output with Debian's python3 (json is in its
# standard library); /usr/bin, not whatever python3 PATH finds first.
VMQT_PY=/usr/bin/python3

# vmqt_need_python: skips the test when Debian's python3 is missing.
vmqt_need_python() {
	[ -x "$VMQT_PY" ] || vmqt_skip "$VMQT_PY not found (Debian package python3)"
}

# vmqt_json [-l] EXPR: evaluates the Python expression EXPR with j bound
# to the JSON document read from stdin (-l: to the list of the JSON
# documents on its lines); prints a string result as is, anything else as
# canonical JSON (sorted keys, no spaces): comparable as text. Fails the
# test (naming EXPR and showing the input) on bad JSON or a bad expression.
# Usable in $(...).
vmqt_json() {
	local in out rc=0 lines=0
	if [ "$1" = -l ]; then
		lines=1
		shift
	fi
	in=$(cat)
	out=$("$VMQT_PY" -c '
import json, sys
expr, lines = sys.argv[1], sys.argv[2] == "1"
text = sys.stdin.read()
j = [json.loads(l) for l in text.splitlines()] if lines else json.loads(text)
v = eval(expr, {"j": j, "json": json})
if isinstance(v, str):
    print(v)
else:
    print(json.dumps(v, sort_keys=True, separators=(",", ":")))
' "$1" "$lines" <<<"$in" 2>&1) || rc=$?
	if [ "$rc" -ne 0 ]; then
		{
			printf '   vmqt_json %s: failed (exit %d):\n' "$1" "$rc"
			printf '%s\n' "$out" | sed 's/^/   | /'
			printf '   input:\n'
			printf '%s\n' "$in" | head -c 4000 | sed 's/^/   | /'
		} >&2
		exit 1
	fi
	printf '%s\n' "$out"
}

# --- vmqd and vmqctl ---------------------------------------------------------
# vmqd runs in the host namespace (it manages that namespace's devices);
# vmqctl talks to it over a Unix socket path, which any namespace reaches,
# so it runs directly. The socket lives in $VMQT_TMP: unique, and removed.
VMQT_VMQD_N=0

# vmqt_vmqd_setup: what every vmqd test starts from, vmqd not yet started:
# the veth pair (8 TX queues) and a bpffs. Sets HNS, DEV (the host end),
# PINS (a pin directory on the bpffs) and VMQT_SOCK, and shows vmqd's state
# on failure unless the test set its own diagnostics.
vmqt_vmqd_setup() {
	vmqt_veth_pair 8
	HNS=$VMQT_HOST_NS
	DEV=$VMQT_HOST_DEV
	vmqt_bpffs_mount
	PINS=$VMQT_BPFFS/vmq
	VMQT_SOCK=$VMQT_TMP/vmqd.sock
	[ -n "$VMQT_DIAG_FN" ] || VMQT_DIAG_FN=_vmqt_vmqd_setup_diag
}
_vmqt_vmqd_setup_diag() { vmqt_vmqd_diag "$VMQT_SOCK"; }

# vmqt_vmqd_start NS SOCK PINDIR [VMQD OPTIONS...]: starts vmqd in NS
# (`ip netns exec` execs it: the pid is vmqd's), its state file under
# $VMQT_TMP, one per PINDIR, unless OPTIONS give -d (restarts on the same
# pins share it; the host's /var/lib/vmq is never touched), and waits until it answers
# `daemon ping` on SOCK. PINDIR should lie on a bpffs mounted outside the
# namespace (vmqt_bpffs_mount): one vmqd mounts inside `ip netns exec`
# vanishes with it. Sets VMQT_VMQD_PID and VMQT_VMQD_LOG (its stderr).
# VMQT_VMQD_WRAP: words put before vmqd's (setpriv ..., strace -D ...): a
# wrapper that execs vmqd keeps the pid. Call directly, not in $(...).
VMQT_VMQD_WRAP=()
vmqt_vmqd_start() {
	local ns=$1 sock=$2 pindir=$3 i pid out rc
	shift 3
	vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl"
	VMQT_VMQD_N=$((VMQT_VMQD_N + 1))
	VMQT_VMQD_LOG=$VMQT_TMP/vmqd-$VMQT_VMQD_N.log
	case " $* " in
	*" -d "* | *" --state-dir "* | *" --state-dir="*) ;;
	*) set -- -d "$VMQT_TMP/state${pindir//\//_}" "$@" ;;
	esac
	local env=()
	# LeakSanitizer cannot run under ptrace (a wrapper with strace): off
	# for that vmqd alone, ASan and UBSan stay.
	if [ -n "$VMQT_SANLOG" ] && [[ " ${VMQT_VMQD_WRAP[*]} " == *" strace "* ]]; then
		env=(env "ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0")
	fi
	ip netns exec "$ns" "${env[@]}" "${VMQT_VMQD_WRAP[@]}" "$BUILD/vmqd" -s "$sock" -b "$pindir" "$@" \
		2>"$VMQT_VMQD_LOG" &
	pid=$!
	VMQT_PIDS+=("$pid")
	VMQT_VMQD_PID=$pid
	for i in $(seq 100); do
		if ! kill -0 "$pid" 2>/dev/null; then
			rc=0
			wait "$pid" || rc=$?
			vmqt_forget_pid "$pid"
			vmqt_fail "vmqd ($*) exited at start (status $rc); its log:$(sed 's/^/   | /' "$VMQT_VMQD_LOG")"
		fi
		if out=$("$BUILD/vmqctl" -j -s "$sock" daemon ping 2>/dev/null); then
			vmqt_assert_eq "pid answering daemon ping on $sock" "$pid" \
				"$(vmqt_json 'j["pid"]' <<<"$out")"
			return 0
		fi
		sleep 0.05
	done
	vmqt_fail "vmqd did not answer on $sock within 5 s; its log:$(sed 's/^/   | /' "$VMQT_VMQD_LOG")"
}

# --- vmq's hook on a device, tcx or clsact ------------------------------
# vmq attaches as a tcx link (kernel 6.6+) unless VMQ_TC_MODE=clsact forces
# its clsact filter; neither tc nor bpftool 7.1 lists tcx programs, so
# build/tests/vmq-tcx queries the chain.
# vmqt_tc_mode: the mode the tests expect vmq to use ("tcx" or "clsact").
vmqt_tc_mode() {
	if [ "${VMQ_TC_MODE:-}" = clsact ]; then echo clsact; else echo tcx; fi
}

# vmqt_hooks NS DEV ingress|egress: every BPF program on DEV's tc hook, in
# run order: "tcx ID NAME" per tcx program, then "clsact ID NAME" per bpf
# filter on clsact (names truncated by the kernel to 15 bytes). Usable in $(...).
vmqt_hooks() {
	local ns=$1 dev=$2 dir=$3
	vmqt_need_file "$BUILD/tests/vmq-tcx"
	vmqt_in "$ns" "$BUILD/tests/vmq-tcx" query "$dev" "$dir" | sed 's/^/tcx /'
	vmqt_in "$ns" tc filter show dev "$dev" "$dir" |
		sed -n 's/.* \([A-Za-z0-9_]*\):\[[0-9]*\] direct-action.* id \([0-9]*\) .*/clsact \2 \1/p'
}

# vmqt_assert_hooked WHAT NS DEV ingress|egress NAME: vmq's program NAME is
# on DEV's hook exactly once, in the mode the tests expect, and first in
# its chain (tcx) or at vmq's pref and handle (clsact). Prints its ID.
vmqt_assert_hooked() {
	local what=$1 ns=$2 dev=$3 dir=$4 name=$5 hooks mode
	mode=$(vmqt_tc_mode)
	hooks=$(vmqt_hooks "$ns" "$dev" "$dir")
	vmqt_assert_eq "$what: $name on $dev $dir ($mode), times" 1 \
		"$(grep -c " $name\$" <<<"$hooks" || true)"
	if [ "$mode" = tcx ]; then
		vmqt_assert_match "$what: first in $dev's tcx $dir chain" "^tcx [0-9]+ $name\$" \
			"$(head -n1 <<<"$hooks")"
	else
		vmqt_assert_match "$what: vmq's clsact filter on $dev $dir" \
			"pref 1 bpf chain 0 handle 0x766d71 $name" \
			"$(vmqt_in "$ns" tc filter show dev "$dev" "$dir")"
	fi
	grep " $name\$" <<<"$hooks" | awk '{ print $2 }'
}

# vmqt_assert_unhooked WHAT NS DEV ingress|egress NAME: no program NAME on
# DEV's hook, in either mode.
vmqt_assert_unhooked() {
	local hooks
	hooks=$(vmqt_hooks "$2" "$3" "$4")
	if grep -q " $5\$" <<<"$hooks"; then
		vmqt_fail "$1: $5 still on $3 $4:$(printf '\n%s' "$hooks" | sed 's/^/   | /')"
	fi
}

# vmqt_forget_pid PID: PID is gone (waited for): no longer stopped at exit.
vmqt_forget_pid() {
	local i
	for i in "${!VMQT_PIDS[@]}"; do
		[ "${VMQT_PIDS[i]}" != "$1" ] || unset 'VMQT_PIDS[i]'
	done
	VMQT_PIDS=("${VMQT_PIDS[@]}")
}

# vmqt_vmqd_kill PID SIGNAL: sends SIGNAL, waits until PID exits (5 s at
# most), forgets it. Sets VMQT_KILL_RC, its exit status (128+N when killed
# by signal N). Call directly, not in $(...).
vmqt_vmqd_kill() {
	local pid=$1 sig=$2 i
	kill "-$sig" "$pid" || vmqt_fail "kill -$sig $pid: no such process"
	# Braces: bash may reap it here, and its "Killed" notice is not a test message.
	{
		for i in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
	} 2>/dev/null
	! kill -0 "$pid" 2>/dev/null || vmqt_fail "vmqd $pid still running 5 s after SIG$sig"
	VMQT_KILL_RC=0
	# Braces: bash's "Killed" notice for the job is not a test message.
	{ wait "$pid"; } 2>/dev/null || VMQT_KILL_RC=$?
	vmqt_forget_pid "$pid"
}

# vmqt_ctl ARGS...: vmqctl on $VMQT_SOCK; must succeed: prints its stdout
# (stderr must be empty). Usable in $(...).
vmqt_ctl() {
	local out err rc=0
	out=$(mktemp "$VMQT_TMP/out.XXXXXX")
	err=$(mktemp "$VMQT_TMP/err.XXXXXX")
	"$BUILD/vmqctl" -s "$VMQT_SOCK" "$@" >"$out" 2>"$err" || rc=$?
	if [ "$rc" -ne 0 ] || [ -s "$err" ]; then
		{
			printf '   vmqctl %s: exit %d (expected 0, stderr empty)\n' "$*" "$rc"
			sed 's/^/   | /' "$out" "$err"
		} >&2
		rm -f "$out" "$err"
		exit 1
	fi
	cat "$out"
	rm -f "$out" "$err"
}

# vmqt_ctl_fails ARGS...: vmqctl on $VMQT_SOCK; must fail (nonzero exit).
# Sets VMQT_CTL_RC, VMQT_CTL_OUT (stdout), VMQT_CTL_ERR (stderr). Call
# directly, not in $(...).
vmqt_ctl_fails() {
	local out err
	out=$(mktemp "$VMQT_TMP/out.XXXXXX")
	err=$(mktemp "$VMQT_TMP/err.XXXXXX")
	VMQT_CTL_RC=0
	"$BUILD/vmqctl" -s "$VMQT_SOCK" "$@" >"$out" 2>"$err" || VMQT_CTL_RC=$?
	VMQT_CTL_OUT=$(cat "$out")
	VMQT_CTL_ERR=$(cat "$err")
	rm -f "$out" "$err"
	[ "$VMQT_CTL_RC" -ne 0 ] ||
		vmqt_fail "vmqctl $*: expected a nonzero exit, got 0; stdout:$(printf '\n%s' "$VMQT_CTL_OUT" | sed 's/^/   | /')"
}

# vmqt_assert_one_error WHAT REGEX: the last vmqt_ctl_fails printed nothing
# on stdout and exactly one line on stderr, matching REGEX.
vmqt_assert_one_error() {
	local lines
	lines=$(printf '%s' "$VMQT_CTL_ERR" | awk 'END { print NR }')
	[ -z "$VMQT_CTL_OUT" ] || vmqt_fail "$1: expected nothing on stdout, got:$(printf '\n%s' "$VMQT_CTL_OUT" | sed 's/^/   | /')"
	vmqt_assert_eq "$1: lines on stderr (stderr: '$VMQT_CTL_ERR')" 1 "$lines"
	vmqt_assert_match "$1: the error line" "$2" "$VMQT_CTL_ERR"
}

# vmqt_state: the daemon's whole visible state, canonical JSON, one line
# each for dev, queue and group show. Usable in $(...).
vmqt_state() {
	local d q g
	d=$(vmqt_ctl -j dev show)
	q=$(vmqt_ctl -j queue show)
	g=$(vmqt_ctl -j group show)
	printf '%s\n%s\n%s\n' "$d" "$q" "$g" | vmqt_json -l \
		'"\n".join(json.dumps(d, sort_keys=True, separators=(",", ":")) for d in j)'
}

# vmqt_vmqd_rss PID: VmRSS of PID in kB.
vmqt_vmqd_rss() {
	local v
	v=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status")
	vmqt_uint "VmRSS of $1" "$v"
	printf '%s\n' "$v"
}

# vmqt_perf_bounded: true unless vmqd runs under ASan (VMQ_SANITIZED=1):
# there memory and time bounds mean nothing (ASan's quarantine holds freed
# memory on purpose, and every access is checked); LeakSanitizer checks
# vmqd's heap at its exit instead, and make check holds the bounds.
vmqt_perf_bounded() { [ "${VMQ_SANITIZED:-0}" != 1 ]; }

# vmqt_raw SOCK [TIMEOUT [keep]]: sends stdin's bytes on one connection to
# SOCK, then shuts its sending side (unless "keep": the daemon must close
# by itself); reads until the daemon closes or TIMEOUT (default 3) seconds
# of silence; prints the answers' lines, then "EOF" if the daemon closed,
# else "OPEN". For protocol tests that bypass vmqctl. Usable in $(...).
vmqt_raw() {
	"$VMQT_PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.settimeout(float(sys.argv[2]))
data = sys.stdin.buffer.read()
try:
    s.sendall(data)
    if sys.argv[3] != "keep":
        s.shutdown(socket.SHUT_WR)
except (BrokenPipeError, ConnectionResetError):
    pass  # the daemon may close as soon as it has seen enough
buf, state = b"", "OPEN"
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            state = "EOF"
            break
        buf += chunk
except socket.timeout:
    pass
except ConnectionResetError:
    state = "EOF"
sys.stdout.write(buf.decode("utf-8", "replace"))
if buf and not buf.endswith(b"\n"):
    sys.stdout.write("\n")
print(state)
' "$1" "${2:-3}" "${3:-shut}"
}

# --- traffic through the uplinks and its per-TX-queue counters ----------------
# Uplink K: ${VMQT_UP_DEV[K]} in the host namespace, ${VMQT_UP_NTXQ[K]} TX
# queues with mq counters, its wire end ${VMQT_UP_WIRE_DEV[K]} in
# ${VMQT_UP_WIRE_NS[K]} at ${VMQT_UP_WIRE_IP[K]}, where datagrams to port 9
# are counted (nobody listens: Udp NoPorts). vmqt_veth_pair makes uplink 0;
# topology.sh adds more. Every send, from the host (vmqt_send) or from a VM
# (topology.sh's vmqt_vm_traffic), is settled and asserted on by the same
# helpers: snapshot, settle, then vmqt_assert_up_txq / vmqt_assert_up_within.
VMQT_UPLINKS=0                # uplinks made so far: 0..VMQT_UPLINKS-1
VMQT_UP_DEV=()                # K -> host-side device (vmqupK)
VMQT_UP_IP=()                 # K -> its address
VMQT_UP_NTXQ=()               # K -> its TX queues
VMQT_UP_WIRE_NS=()            # K -> wire namespace
VMQT_UP_WIRE_DEV=()           # K -> wire-side device
VMQT_UP_WIRE_IP=()            # K -> wire address (where VMs send to reach uplink K)
VMQT_UP_DELTA=()              # K -> "d0 d1 ...": uplink K's per-TX-queue delta of the last send
VMQT_UP_TOTAL=()              # K -> "t0 t1 ...": per-TX-queue packets put there by the sends

# _vmqt_uplink_set K DEV IP WIRE_NS WIRE_DEV WIRE_IP NTXQ: records uplink K.
_vmqt_uplink_set() {
	local k=$1
	VMQT_UP_DEV[k]=$2
	VMQT_UP_IP[k]=$3
	VMQT_UP_WIRE_NS[k]=$4
	VMQT_UP_WIRE_DEV[k]=$5
	VMQT_UP_WIRE_IP[k]=$6
	VMQT_UP_NTXQ[k]=$7
	[ "$VMQT_UPLINKS" -gt "$k" ] || VMQT_UPLINKS=$((k + 1))
}

# vmqt_up_counts K: uplink K's mq packet counts of its TX queues.
vmqt_up_counts() {
	vmqt_txq_counts "$VMQT_HOST_NS" "${VMQT_UP_DEV[$1]}" "${VMQT_UP_NTXQ[$1]}"
}

# vmqt_txq_delta BEFORE AFTER: per-TX-queue differences of two
# vmqt_txq_counts lines.
vmqt_txq_delta() {
	local -a b a
	local i out=""
	read -r -a b <<<"$1"
	read -r -a a <<<"$2"
	[ "${#a[@]}" -eq "${#b[@]}" ] || vmqt_fail "vmqt_txq_delta: '$1' vs '$2'"
	for i in "${!a[@]}"; do
		out+="${out:+ }$((a[i] - b[i]))"
	done
	printf '%s\n' "$out"
}

# _vmqt_sum "N N ...": the sum of the words.
_vmqt_sum() {
	local s=0 v
	for v in $1; do s=$((s + v)); done
	printf '%s\n' "$s"
}

# vmqt_up_snapshot: prints one line per uplink K: "mq counts|wire rx_packets|wire Udp NoPorts".
vmqt_up_snapshot() {
	local k
	for ((k = 0; k < VMQT_UPLINKS; k++)); do
		printf '%s|%s|%s\n' "$(vmqt_up_counts "$k")" \
			"$(vmqt_dev_stat "${VMQT_UP_WIRE_NS[k]}" "${VMQT_UP_WIRE_DEV[k]}" rx_packets)" \
			"$(vmqt_snmp "${VMQT_UP_WIRE_NS[k]}" Udp NoPorts)"
	done
}

# vmqt_up_settle WHAT BEFORE K N: after a sender in a VM returned, waits
# (5 s at most) until N more packets left the uplinks and N more datagrams
# reached UDP on uplink K's wire end, since BEFORE (vmqt_up_snapshot).
# Then checks: exactly N left the uplinks (all TX queues of all uplinks),
# uplink K's wire end received exactly N and its UDP saw N (Udp NoPorts),
# the other wire ends nothing. Sets VMQT_UP_DELTA[*] and adds to
# VMQT_UP_TOTAL[*]. Call directly, not in $(...).
vmqt_up_settle() {
	local what=$1 before=$2 k=$3 n=$4 i j now sum nb na
	local -a bl al bf af
	mapfile -t bl <<<"$before"
	for i in $(seq 50); do
		now=$(vmqt_up_snapshot)
		mapfile -t al <<<"$now"
		sum=0
		for ((j = 0; j < VMQT_UPLINKS; j++)); do
			IFS='|' read -r -a bf <<<"${bl[j]}"
			IFS='|' read -r -a af <<<"${al[j]}"
			VMQT_UP_DELTA[j]=$(vmqt_txq_delta "${bf[0]}" "${af[0]}")
			sum=$((sum + $(_vmqt_sum "${VMQT_UP_DELTA[j]}")))
			[ "$j" -ne "$k" ] || { nb=${bf[2]}; na=${af[2]}; }
		done
		[ "$sum" -lt "$n" ] || [ $((na - nb)) -lt "$n" ] || break
		sleep 0.1
	done
	now=""
	for ((j = 0; j < VMQT_UPLINKS; j++)); do
		now+=" ${VMQT_UP_DEV[j]}: ${VMQT_UP_DELTA[j]};"
	done
	vmqt_assert_eq "$what: packets that left the uplinks (per TX queue:$now)" "$n" "$sum"
	for ((j = 0; j < VMQT_UPLINKS; j++)); do
		IFS='|' read -r -a bf <<<"${bl[j]}"
		IFS='|' read -r -a af <<<"${al[j]}"
		if [ "$j" -eq "$k" ]; then
			vmqt_assert_eq "$what: packets received by ${VMQT_UP_WIRE_DEV[j]} (wire of ${VMQT_UP_DEV[j]})" \
				"$n" $((af[1] - bf[1]))
			vmqt_assert_eq "$what: datagrams reaching UDP behind ${VMQT_UP_DEV[j]} (Udp NoPorts)" \
				"$n" $((af[2] - bf[2]))
		else
			vmqt_assert_eq "$what: packets received by ${VMQT_UP_WIRE_DEV[j]} (not the route)" \
				0 $((af[1] - bf[1]))
		fi
		VMQT_UP_TOTAL[j]=$(_vmqt_vec_add "${VMQT_UP_TOTAL[j]:-}" "${VMQT_UP_DELTA[j]}")
	done
}

# _vmqt_vec_add "A..." "B...": element-wise sum (an empty A counts as zeros).
_vmqt_vec_add() {
	local -a a b
	local i out=""
	read -r -a a <<<"$1"
	read -r -a b <<<"$2"
	for i in "${!b[@]}"; do
		out+="${out:+ }$((${a[i]:-0} + b[i]))"
	done
	printf '%s\n' "$out"
}

# vmqt_up_send WHAT K COUNT FLOWS BASE NS ARGS...: vmq-udpsend in namespace
# NS to uplink K's wire end, port 9, COUNT datagrams over FLOWS flows from
# source port BASE (ARGS: vmq-udpsend's others); then vmqt_up_settle. Call
# directly, not in $(...).
vmqt_up_send() {
	local what=$1 k=$2 count=$3 flows=$4 base=$5 ns=$6 before out
	shift 6
	[ -n "${VMQT_UP_WIRE_IP[k]:-}" ] || vmqt_fail "no uplink $k"
	before=$(vmqt_up_snapshot)
	out=$(vmqt_in "$ns" "$BUILD/tests/vmq-udpsend" --dst "${VMQT_UP_WIRE_IP[k]}" --port 9 \
		--count "$count" --flows "$flows" --src-port-base "$base" "$@")
	vmqt_assert_eq "$what: vmq-udpsend output" "sent $count" "$out"
	vmqt_up_settle "$what" "$before" "$k" "$count"
}

# vmqt_send WHAT MARK|- N FLOWS [SRC_PORT_BASE]: sends N datagrams (SO_MARK
# MARK, or none) over FLOWS flows from the host namespace out of uplink 0
# (vmqt_veth_pair's host device) to its wire end: vmqt_up_send. Sets, for
# uplink 0, VMQT_DELTA (packets per TX queue in this send), VMQT_DELTA_TEXT,
# VMQT_TXQ_TOTAL (per TX queue, all sends) and VMQT_SENT_TOTAL (datagrams
# sent by vmqt_send). Call directly, not in $(...).
VMQT_PORT_NEXT=20000   # source ports: each vmqt_send takes the next FLOWS
VMQT_SENT_TOTAL=0
VMQT_TXQ_TOTAL=()
VMQT_DELTA=()
vmqt_send() {
	local what=$1 mark=$2 n=$3 flows=$4 base=${5:-} q
	local -a markarg=()
	[ "$mark" = - ] || markarg=(--mark "$mark")
	if [ -z "$base" ]; then
		base=$VMQT_PORT_NEXT
		VMQT_PORT_NEXT=$((VMQT_PORT_NEXT + flows))
		[ "$VMQT_PORT_NEXT" -le 60000 ] || VMQT_PORT_NEXT=20000
	fi
	# A test that renames the host device says so in VMQT_HOST_DEV.
	VMQT_UP_DEV[0]=$VMQT_HOST_DEV
	vmqt_up_send "$what" 0 "$n" "$flows" "$base" "$VMQT_HOST_NS" "${markarg[@]}" \
		--bind-dev "$VMQT_HOST_DEV"
	VMQT_DELTA_TEXT=${VMQT_UP_DELTA[0]}
	read -r -a VMQT_DELTA <<<"$VMQT_DELTA_TEXT"
	# Its own sum, not VMQT_UP_TOTAL[0]: tests add what they send otherwise.
	for ((q = 0; q < ${#VMQT_DELTA[@]}; q++)); do
		VMQT_TXQ_TOTAL[q]=$((${VMQT_TXQ_TOTAL[q]:-0} + VMQT_DELTA[q]))
	done
	VMQT_SENT_TOTAL=$((VMQT_SENT_TOTAL + n))
}

# vmqt_assert_on_txq WHAT TXQ N: the last send put all N on uplink 0's TXQ.
vmqt_assert_on_txq() { vmqt_assert_up_txq "$1" 0 "$2" "$3"; }

# vmqt_assert_within WHAT "TXQ..." N MIN_USED: the last send put its N
# packets on uplink 0's TX queues listed only, using at least MIN_USED.
vmqt_assert_within() { vmqt_assert_up_within "$1" 0 "$2" "$3" "$4"; }

# vmqt_assert_up_txq WHAT K TXQ N: the last send put all N packets on
# uplink K's TX queue TXQ, none on its other TX queues nor on other uplinks
# (-1 for TXQ: none at all on uplink K).
vmqt_assert_up_txq() {
	local what=$1 k=$2 txq=$3 n=$4 j q
	local -a d
	for ((j = 0; j < VMQT_UPLINKS; j++)); do
		read -r -a d <<<"${VMQT_UP_DELTA[j]}"
		for ((q = 0; q < ${#d[@]}; q++)); do
			if [ "$j" -eq "$k" ] && [ "$q" -eq "$txq" ]; then
				vmqt_assert_eq "$what: packets on ${VMQT_UP_DEV[j]} TX queue $q (per queue: ${VMQT_UP_DELTA[j]})" \
					"$n" "${d[q]}"
			else
				vmqt_assert_eq "$what: packets on ${VMQT_UP_DEV[j]} TX queue $q, expected only on ${VMQT_UP_DEV[k]} TX queue $txq (per queue: ${VMQT_UP_DELTA[j]})" \
					0 "${d[q]}"
			fi
		done
	done
}

# vmqt_assert_up_within WHAT K "TXQ..." N MIN_USED: the last send put its N
# packets on uplink K's TX queues listed only (none elsewhere, none on other
# uplinks), using at least MIN_USED of them. Sets VMQT_USED_TXQS (the TX
# queues used, space-separated).
vmqt_assert_up_within() {
	local what=$1 k=$2 set=$3 n=$4 min=$5 j q sum=0
	local -a d
	VMQT_USED_TXQS=""
	for ((j = 0; j < VMQT_UPLINKS; j++)); do
		read -r -a d <<<"${VMQT_UP_DELTA[j]}"
		for ((q = 0; q < ${#d[@]}; q++)); do
			if [ "$j" -eq "$k" ] && [[ " $set " == *" $q "* ]]; then
				sum=$((sum + d[q]))
				[ "${d[q]}" -eq 0 ] || VMQT_USED_TXQS+="${VMQT_USED_TXQS:+ }$q"
			else
				vmqt_assert_eq "$what: packets on ${VMQT_UP_DEV[j]} TX queue $q, outside ${VMQT_UP_DEV[k]} {$set} (per queue: ${VMQT_UP_DELTA[j]})" \
					0 "${d[q]}"
			fi
		done
	done
	vmqt_assert_eq "$what: packets on ${VMQT_UP_DEV[k]} TX queues {$set} (per queue: ${VMQT_UP_DELTA[k]})" "$n" "$sum"
	[ "$(wc -w <<<"$VMQT_USED_TXQS")" -ge "$min" ] ||
		vmqt_fail "$what: expected at least $min of ${VMQT_UP_DEV[k]} TX queues {$set} used, got {$VMQT_USED_TXQS} (per queue: ${VMQT_UP_DELTA[k]})"
}

# vmqt_vmqd_diag SOCK: what a failing vmqd test wants to see (to stdout).
vmqt_vmqd_diag() {
	local f
	echo "vmqctl dev/queue/group show:"
	for f in dev queue group; do
		"$BUILD/vmqctl" -j -s "$1" "$f" show 2>&1 | head -c 3000 | sed 's/^/  /'
	done
	if [ -n "${VMQT_HOST_NS:-}" ]; then
		echo "tc -s class show dev $VMQT_HOST_DEV:"
		tc -n "$VMQT_HOST_NS" -s class show dev "$VMQT_HOST_DEV" 2>&1 | grep -E 'class|Sent' | sed 's/^/  /'
		echo "tc qdisc / filters on $VMQT_HOST_DEV:"
		tc -n "$VMQT_HOST_NS" qdisc show dev "$VMQT_HOST_DEV" 2>&1 | grep -v pfifo_fast | sed 's/^/  /'
		tc -n "$VMQT_HOST_NS" filter show dev "$VMQT_HOST_DEV" egress 2>&1 | sed 's/^/  egress: /'
		tc -n "$VMQT_HOST_NS" filter show dev "$VMQT_HOST_DEV" ingress 2>&1 | sed 's/^/  ingress: /'
		echo "tcx egress chain of $VMQT_HOST_DEV:"
		ip netns exec "$VMQT_HOST_NS" "$BUILD/tests/vmq-tcx" query "$VMQT_HOST_DEV" egress 2>&1 | sed 's/^/  /'
	fi
	for f in "$VMQT_TMP"/vmqd-*.log; do
		[ -e "$f" ] || continue
		echo "$(basename "$f"):"
		tail -n 20 "$f" | sed 's/^/  /'
	done
}

# vmqt_assert_maps_match WHAT DEV [--labelled]: vmqd's `queue show` and
# `group show` of DEV equal its pinned maps under $PINS/DEV entry by entry
# (the per-CPU copies of the entries too), no metadata without a live
# queue, no group member without its group
# (--labelled: no live queue without metadata either); tests/tools/
# maps_check.py. Prints its one line of figures. Usable in $(...).
vmqt_assert_maps_match() {
	local what=$1 dev=$2 dir maps out rc=0
	shift 2
	dir=$(mktemp -d "$VMQT_TMP/maps.XXXXXX")
	maps=$PINS/$dev/maps
	vmqt_ctl -j queue show "$dev" >"$dir/queues.json"
	vmqt_ctl -j group show "$dev" >"$dir/groups.json"
	vmqt_run bpftool -j map dump pinned "$maps/vmq_queues" >"$dir/mq.json"
	vmqt_run bpftool -j map dump pinned "$maps/vmq_groups" >"$dir/mg.json"
	vmqt_run bpftool -j map dump pinned "$maps/vmq_queue_meta" >"$dir/mm.json"
	vmqt_run bpftool -j map dump pinned "$maps/vmq_queue_stats" >"$dir/ms.json"
	out=$("$VMQT_PY" "$VMQT_ROOT/tests/tools/maps_check.py" "$dir" "$@" 2>&1) || rc=$?
	[ "$rc" -eq 0 ] || vmqt_fail "$what: vmqd and the pinned maps of $dev differ:$(printf '\n%s' "$out" | sed 's/^/   | /')"
	rm -rf "$dir"
	printf '%s\n' "$out"
}
