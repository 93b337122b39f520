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
# Kernel facts these helpers rely on (docs: /work/shared/VMQ-ON-LINUX.md):
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
	local rc=$? pid i mnt leak=0
	trap '' INT TERM
	trap - ERR
	set +e
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -n "$VMQT_DIAG_FN" ]; then
		printf '   --- state at failure ---\n' >&2
		# In a subshell: a failing helper in it must not end the cleanup.
		("$VMQT_DIAG_FN") >&2 2>&1
		printf '   ---\n' >&2
	fi
	for pid in "${VMQT_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${VMQT_PIDS[@]}"; do
		for i in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
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

# vmqt_veth_pair [NTXQ]: two namespaces joined by a veth pair (NTXQ >= 2:
# mq refuses a single-queue device).
#   host side: $VMQT_HOST_NS / $VMQT_HOST_DEV / $VMQT_HOST_IP (mq root, no XPS)
#   wire side: $VMQT_WIRE_NS / $VMQT_WIRE_DEV / $VMQT_WIRE_IP
# Both ends have NTXQ (default 8) TX and RX queues, IPv6 off (before the
# links come up, so not one router solicitation leaves), and a static
# neighbour entry for the other end, so no ARP.
vmqt_veth_pair() {
	local nq=${1:-8} ns
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
	for ns in "$VMQT_HOST_NS" "$VMQT_WIRE_NS"; do
		vmqt_in "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 >/dev/null
	done
	vmqt_run ip -n "$VMQT_HOST_NS" link add name "$VMQT_HOST_DEV" \
		numtxqueues "$nq" numrxqueues "$nq" type veth \
		peer name "$VMQT_WIRE_DEV" netns "$VMQT_WIRE_NS" numtxqueues "$nq" numrxqueues "$nq"
	VMQT_LINKS+=("$VMQT_HOST_NS $VMQT_HOST_DEV")
	vmqt_in "$VMQT_HOST_NS" sysctl -qw "net.ipv6.conf.$VMQT_HOST_DEV.disable_ipv6=1"
	vmqt_in "$VMQT_WIRE_NS" sysctl -qw "net.ipv6.conf.$VMQT_WIRE_DEV.disable_ipv6=1"
	vmqt_run ip -n "$VMQT_HOST_NS" addr add "$VMQT_HOST_IP/24" dev "$VMQT_HOST_DEV"
	vmqt_run ip -n "$VMQT_WIRE_NS" addr add "$VMQT_WIRE_IP/24" dev "$VMQT_WIRE_DEV"
	VMQT_HOST_MAC=$(vmqt_mac "$VMQT_HOST_NS" "$VMQT_HOST_DEV")
	VMQT_WIRE_MAC=$(vmqt_mac "$VMQT_WIRE_NS" "$VMQT_WIRE_DEV")
	vmqt_run ip -n "$VMQT_HOST_NS" neigh replace "$VMQT_WIRE_IP" lladdr "$VMQT_WIRE_MAC" \
		dev "$VMQT_HOST_DEV" nud permanent
	vmqt_run ip -n "$VMQT_WIRE_NS" neigh replace "$VMQT_HOST_IP" lladdr "$VMQT_HOST_MAC" \
		dev "$VMQT_WIRE_DEV" nud permanent
	vmqt_run tc -n "$VMQT_HOST_NS" qdisc add dev "$VMQT_HOST_DEV" root handle 1: mq
	vmqt_clear_xps "$VMQT_HOST_NS" "$VMQT_HOST_DEV"
	vmqt_run ip -n "$VMQT_HOST_NS" link set dev "$VMQT_HOST_DEV" up
	vmqt_run ip -n "$VMQT_WIRE_NS" link set dev "$VMQT_WIRE_DEV" up
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
