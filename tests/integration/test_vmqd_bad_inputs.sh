#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Bad inputs, as a table. Each one must be refused by vmqctl: nonzero exit,
# nothing on stdout, exactly one line on stderr naming the object and the
# reason; and under -j, one JSON error object on stdout with the same
# message. Each leaves the state unchanged: `vmqctl -j dev show`,
# `queue show` and `group show` are compared before and after.
#
# Then the same kinds of bad values sent as raw protocol requests (what
# vmqctl would never send): vmqd checks again and refuses them, also without
# changing anything. Finally, real traffic shows the data plane steers as it
# did before the table.
#
# Cases, each alone possible (tests/run.sh test_vmqd_bad_inputs CASE...):
# out_of_range, not_numbers, existence, grammar, raw, data_plane.
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
vmqt_init
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl" "$BUILD/tests/vmq-udpsend"

vmqt_vmqd_setup
# A second device, 4 TX queues, never attached: refused attaches must
# leave it untouched too.
OTHER=vmqx0
vmqt_run ip -n "$HNS" link add name "$OTHER" numtxqueues 4 numrxqueues 4 type veth peer name vmqx1
VMQT_LINKS+=("$HNS $OTHER")


vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"
vmqt_ctl dev attach "$DEV" default-txq 7 >/dev/null
vmqt_ctl queue add "$DEV" id 1 txq 1 vm vm1 name one >/dev/null
vmqt_ctl group add "$DEV" id 1 txqs 4,5 >/dev/null
vmqt_ctl queue add "$DEV" id 10 group 1 vm vm10 >/dev/null
STATE=$(vmqt_state)
other_tc0=$(vmqt_in "$HNS" tc qdisc show dev "$OTHER")

check_state() { # WHAT
	local now
	now=$(vmqt_state)
	[ "$now" = "$STATE" ] ||
		vmqt_fail "$1: state changed:$(diff <(printf '%s\n' "$STATE") <(printf '%s\n' "$now") | sed 's/^/   | /')"
	[ ! -e "$PINS/$OTHER" ] || vmqt_fail "$1: pins appeared for $OTHER"
	vmqt_assert_eq "$1: qdiscs of $OTHER" "$other_tc0" "$(vmqt_in "$HNS" tc qdisc show dev "$OTHER")"
}

CASES=0 # bad commands refused so far
VMQT_CASE_KEEP+=(CASES)
# bad WHAT REGEX ARGS...: ARGS must be refused with one stderr line matching
# REGEX (prefixed "vmqctl: "); -j: the same message in {"error": {...}}.
bad() {
	local what=$1 re=$2 msg jmsg errno
	shift 2
	vmqt_ctl_fails "$@"
	vmqt_assert_one_error "$what (vmqctl $*)" "^vmqctl: $re"
	msg=${VMQT_CTL_ERR#vmqctl: }
	vmqt_ctl_fails -j "$@"
	[ -z "$VMQT_CTL_ERR" ] || vmqt_fail "$what: -j: expected nothing on stderr, got: $VMQT_CTL_ERR"
	jmsg=$(vmqt_json '"%s %s" % (j["error"]["errno"], j["error"]["message"])' <<<"$VMQT_CTL_OUT")
	errno=${jmsg%% *}
	jmsg=${jmsg#* }
	vmqt_assert_eq "$what: -j: error message" "$msg" "$jmsg"
	[[ $errno =~ ^[1-9][0-9]*$ ]] || vmqt_fail "$what: -j: errno '$errno' is not a positive integer"
	check_state "$what"
	CASES=$((CASES + 1))
	vmqt_log "refused: vmqctl $* -> $msg"
}

D=$DEV
long=$(printf 'x%.0s' $(seq 32))
# --- out of range -------------------------------------------------------------------
vmqt_case out_of_range
case_out_of_range() {
	bad "txq out of range (add)" "queue 20 on $D: txq 8 out of range \($D has 8 TX queues\)" queue add "$D" id 20 txq 8
	bad "txq out of range (set)" "queue 1 on $D: txq 8 out of range \($D has 8 TX queues\)" queue set "$D" id 1 txq 8
	bad "txq beyond vmq's limit" "queue add: txq \"1024\": out of range" queue add "$D" id 20 txq 1024
	bad "group txq out of range" "group 2 on $D: txq 8 out of range \($D has 8 TX queues\)" group add "$D" id 2 txqs 1,8
	bad "default-txq out of range" "dev $OTHER: default-txq 4 out of range \($OTHER has 4 TX queues\)" \
		dev attach "$OTHER" default-txq 4
	bad "id beyond the queue map" "queue 4096 on $D: id out of range \($D has queue IDs 0\.\.4095\)" \
		queue add "$D" id 4096 txq 1
	bad "id overflow 99999999999" "queue add: id \"99999999999\": out of range" queue add "$D" id 99999999999 txq 1
	bad "group id out of range" "group add: id \"256\": out of range" group add "$D" id 256 txqs 1
	bad "queues 0" "dev attach: queues \"0\": out of range" dev attach "$OTHER" queues 0
	bad "queues 65537" "dev attach: queues \"65537\": out of range" dev attach "$OTHER" queues 65537
}

# --- not numbers ----------------------------------------------------------------------
vmqt_case not_numbers
case_not_numbers() {
	bad "id 12abc" "queue add: id \"12abc\": not a number" queue add "$D" id 12abc txq 1
	bad "id -1" "queue add: id \"-1\": (not a number|out of range|negative)" queue add "$D" id -1 txq 1
	bad "txq 12abc" "queue add: txq \"12abc\": not a number" queue add "$D" id 20 txq 12abc
	bad "id empty" "queue add: id \"\": not a number" queue add "$D" id "" txq 1
	bad "id 0x10 (decimal only)" "queue add: id \"0x10\": not a number" queue add "$D" id 0x10 txq 1
	bad "txqs 1,,2" "group add: txqs \"1,,2\": not a list of TX queues" group add "$D" id 2 txqs 1,,2
	bad "txqs 1,1" "group add: txqs \"1,1\": names a TX queue twice" group add "$D" id 2 txqs 1,1
	bad "mark-mask 0x0f0f" "dev attach: mark-mask \"0x0f0f\": not a nonzero contiguous bit mask" \
		dev attach "$OTHER" mark-mask 0x0f0f
	bad "txq auto on queue 1" "queue set: txq \"auto\": only for queue 0" queue set "$D" id 1 txq auto
}

# --- existence --------------------------------------------------------------------------
vmqt_case existence
case_existence() {
	bad "duplicate queue ID" "queue 1 on $D: already exists" queue add "$D" id 1 txq 2
	bad "duplicate group ID" "group 1 on $D: already exists" group add "$D" id 1 txqs 3
	bad "attach twice" "dev $D: already attached" dev attach "$D"
	bad "queue add: the default queue" "queue 0 on $D: the default queue always exists" queue add "$D" id 0 txq 1
	bad "delete queue 0" "queue 0 on $D: the default queue cannot be deleted" queue del "$D" id 0
	bad "delete a missing queue" "queue 20 on $D: does not exist" queue del "$D" id 20
	bad "set a missing queue" "queue 20 on $D: does not exist" queue set "$D" id 20 txq 1
	bad "show a missing queue" "queue 20 on $D: does not exist" queue show "$D" id 20
	bad "delete a missing group" "group 5 on $D: does not exist" group del "$D" id 5
	bad "group del with members" "group 1 on $D: still has member queues \[10\]" group del "$D" id 1
	bad "queue add into a missing group" "queue 20 on $D: group 7 does not exist on $D" queue add "$D" id 20 group 7
	bad "queue set into a missing group" "queue 1 on $D: group 7 does not exist on $D" queue set "$D" id 1 group 7
	bad "unknown device (queue add)" "dev nosuch0: no such device" queue add nosuch0 id 20 txq 1
	bad "unknown device (attach)" "dev nosuch0: no such device" dev attach nosuch0
	bad "unknown device (show)" "dev nosuch0: no such device" queue show nosuch0
	bad "device not attached" "dev $OTHER: not attached" queue add "$OTHER" id 20 txq 1
	bad "detach a device not attached" "dev $OTHER: not attached" dev detach "$OTHER"
	bad "bad device name" "queue add: (dev|DEV) \"a/b\": not an interface name" queue add a/b id 20 txq 1
}

# --- grammar --------------------------------------------------------------------------------
vmqt_case grammar
case_grammar() {
	bad "unknown object" "unknown object \"frob\"" frob show
	bad "unknown command" "queue: unknown command \"frob\"" queue frob
	bad "unknown keyword" "queue add: unknown argument \"color\"" queue add "$D" id 20 txq 1 color red
	bad "keyword without value" "queue add: \"txq\" needs a value" queue add "$D" id 20 txq
	bad "txq and group" "queue add: \"txq\" and \"group\" exclude each other" queue add "$D" id 20 txq 1 group 1
	bad "neither txq nor group" "queue add: needs one of \"txq N\" or \"group G\"" queue add "$D" id 20
	bad "no id" "queue add: missing \"id ID\"" queue add "$D" txq 1
	bad "no DEV" "queue add: missing DEV" queue add
	bad "keyword twice" "queue add: \"id\" given twice" queue add "$D" id 20 id 21 txq 1
	bad "vm name too long" "queue add: vm \"x+\.*\": longer than 31 bytes" queue add "$D" id 20 txq 1 vm "$long"
	bad "vm name with a space" "queue add: vm \"a b\": not printable ASCII without spaces" queue add "$D" id 20 txq 1 vm "a b"
	bad "extra word" "queue show: unknown argument \"extra\"" queue show "$D" id 1 extra
	vmqt_ok "$CASES bad commands refused: nonzero exit, one stderr line naming object and reason, same message in -j, state unchanged"
}

# --- the daemon checks again: raw requests ---------------------------------------------------
vmqt_case raw
case_raw() {
	RAWS=0
	# raw WHAT REGEX JSON-ARGS [OBJECT COMMAND]: refused with a message matching
	# REGEX, state unchanged.
	raw() {
		local what=$1 re=$2 args=$3 obj=${4:-queue} cmd=${5:-add} out ok msg
		out=$(printf '{"version":1,"object":"%s","command":"%s","args":%s}\n' "$obj" "$cmd" "$args" |
			vmqt_raw "$VMQT_SOCK")
		vmqt_assert_eq "$what: lines of the answer (answer, EOF)" 2 "$(wc -l <<<"$out")"
		ok=$(head -n 1 <<<"$out" | vmqt_json 'j["ok"]')
		vmqt_assert_eq "$what: ok in: $out" false "$ok"
		msg=$(head -n 1 <<<"$out" | vmqt_json 'j["error"]["message"]')
		vmqt_assert_match "$what: message" "$re" "$msg"
		check_state "raw $what"
		RAWS=$((RAWS + 1))
		vmqt_log "refused by vmqd: $obj $cmd $args -> $msg"
	}
	raw "id -1" "queue add on $D: id -1 out of range" "{\"dev\":\"$D\",\"id\":-1,\"txq\":1}"
	raw "id 99999999999" "id 99999999999 out of range" "{\"dev\":\"$D\",\"id\":99999999999,\"txq\":1}"
	raw "id 1e30" "id .* out of range|id must be an integer" "{\"dev\":\"$D\",\"id\":1e30,\"txq\":1}"
	raw "id 2^64" "id .* out of range" "{\"dev\":\"$D\",\"id\":18446744073709551616,\"txq\":1}"
	raw "id \"20\"" "id must be an integer" "{\"dev\":\"$D\",\"id\":\"20\",\"txq\":1}"
	raw "id 20.5" "id must be an integer" "{\"dev\":\"$D\",\"id\":20.5,\"txq\":1}"
	raw "txq 8" "queue 20 on $D: txq 8 out of range" "{\"dev\":\"$D\",\"id\":20,\"txq\":8}"
	raw "txq 65537 (wraps to 1 in 16 bits)" "queue 20 on $D: txq 65537 out of range" "{\"dev\":\"$D\",\"id\":20,\"txq\":65537}"
	raw "txq -1" "txq -1 out of range" "{\"dev\":\"$D\",\"id\":20,\"txq\":-1}"
	raw "txq \"auto\" on queue 20" "txq must be an integer" "{\"dev\":\"$D\",\"id\":20,\"txq\":\"auto\"}"
	raw "group 65537 (wraps to 1 in 16 bits)" "group 65537 does not exist" "{\"dev\":\"$D\",\"id\":20,\"group\":65537}"
	raw "txq and group" "exactly one of txq or group" "{\"dev\":\"$D\",\"id\":20,\"txq\":1,\"group\":1}"
	raw "unknown argument" "queue add: unknown argument \"color\"" "{\"dev\":\"$D\",\"id\":20,\"txq\":1,\"color\":\"red\"}"
	raw "vm with a slash" "vm has a space, '/' or non-printable byte" "{\"dev\":\"$D\",\"id\":20,\"txq\":1,\"vm\":\"a/b\"}"
	raw "vm 32 bytes" "vm must be 1 to 31 bytes" "{\"dev\":\"$D\",\"id\":20,\"txq\":1,\"vm\":\"$long\"}"
	raw "vm with a NUL" "not valid JSON: a NUL .* in a string" "{\"dev\":\"$D\",\"id\":20,\"txq\":1,\"vm\":\"a\\u0000b\"}"
	raw "dev not a string" "dev must be a string" "{\"dev\":5,\"id\":20,\"txq\":1}"
	raw "dev 16 bytes" "dev must be 1 to 15 bytes" "{\"dev\":\"abcdefghijklmnop\",\"id\":20,\"txq\":1}"
	raw "txqs not a list" "txqs must be a list" "{\"dev\":\"$D\",\"id\":2,\"txqs\":\"1,2\"}" group add
	raw "txqs with a string" "txq \"1\" out of range|txq .* must be an integer" "{\"dev\":\"$D\",\"id\":2,\"txqs\":[\"1\"]}" group add
	raw "txqs with 17 entries" "at most 16" "{\"dev\":\"$D\",\"id\":2,\"txqs\":[0,1,2,3,4,5,6,7,0,1,2,3,4,5,6,7,0]}" group add
	raw "txqs twice" "txq 1 listed twice" "{\"dev\":\"$D\",\"id\":2,\"txqs\":[1,1]}" group add
	raw "default_txq \"sometimes\"" "default_txq must be an integer" "{\"dev\":\"$OTHER\",\"default_txq\":\"sometimes\"}" dev attach
	raw "mark_mask 0" "mark-mask 0x0 must be one run of set bits" "{\"dev\":\"$OTHER\",\"mark_mask\":0}" dev attach
	raw "queues 65537" "queues 65537 out of range" "{\"dev\":\"$OTHER\",\"queues\":65537}" dev attach
	raw "queue set 0 group 1" "the default queue takes a txq or auto, not a group" "{\"dev\":\"$D\",\"id\":0,\"group\":1}" queue set
	raw "unknown command" "queue: unknown command \"frob\"" "{}" queue frob
	raw "unknown object" "unknown object \"frob\"" "{}" frob show
	raw "args not an object" "args must be an object" "[]" queue show
	vmqt_ok "$RAWS raw requests with bad values refused by vmqd itself, state unchanged"
}

# --- the data plane is as it was ---------------------------------------------------------------
vmqt_case data_plane
case_data_plane() {
	vmqt_send "queue 1 after the table" 1 100 4
	vmqt_assert_on_txq "queue 1 after the table" 1 100
	vmqt_send "queue 10 after the table" 10 240 24
	vmqt_assert_within "queue 10 after the table" "4 5" 240 2
	vmqt_send "queue 20 (never created) after the table" 20 100 4
	vmqt_assert_on_txq "queue 20 (never created) after the table -> default txq 7" 7 100
	vmqt_ok "traffic after the table: queue 1 -> txq 1, queue 10 -> txqs 4,5, queue 20 -> default txq 7"
}

vmqt_cases "$@"
