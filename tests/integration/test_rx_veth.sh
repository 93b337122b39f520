#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The receive side (vmq_rx, XDP) on a veth uplink with native XDP, driven
# through vmqctl and vmqd, every step seen on real frames sent from the
# wire end with a packet socket:
#
#   attach     dev attach DEV rx on: native XDP, dev show and doctor say so
#   port       filters of VM 1 and VM 2, queues in port mode: frames to each
#              VM's MAC reach that VM's namespace through the devmap, the
#              queue's counter and the VM's own interface agree, the other
#              VM sees none of them
#   cpu        rx cpu N runs the rest of the stack on CPU N: an nftables
#              probe on the uplink's ingress counts by CPU (meta cpu)
#   metrics    /metrics (vmqd --metrics on a Unix socket): receive counters
#              by outcome and per queue follow the frames
#   default    unknown MAC, broadcast, multicast, a deleted queue (its
#              filters gone with it) and a filter of a queue that is not
#              live (written with bpftool): the stack, counted by reason
#   vlan       802.1Q and 802.1ad tagged frames match only their VLAN's
#              filter; untagged ones only the untagged filter
#   duplicate  a MAC (and VLAN) filtered for another queue is refused,
#              naming the owner; the same filter again changes nothing
#   bad        a malformed MAC, VLAN 4095, a CPU that does not exist, port
#              mode for a queue without a bound port: a clear error each,
#              and nothing changed
#   unbind     a port-mode queue's port unbound: frames take the stack,
#              counted as no_target; bound again: delivered again
#   rx_off     dev set DEV rx off detaches XDP, filters kept; rx on again
#   busy       another XDP program on DEV: rx on refused (EBUSY) naming it,
#              doctor FAILs
#   uplink_back  DEV deleted and made again: its receive side comes back
#   state      save lists rx on, modes and filters; a vmqd restarted on the
#              pins, and one restoring the state file alone, give the same
#   doctor     xdp and rx-targets PASS; a devmap entry removed behind vmqd's
#              back is a FAIL
#   generic    VMQ_XDP_MODE=generic: generic XDP, shown as such, delivered
#   detach     dev detach removes the XDP program and every rx pin
#
# Cases: tests/run.sh test_rx_veth CASE... runs some, with what they need.
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
vmqt_init
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl"
command -v nft >/dev/null || vmqt_skip "nft (package nftables) is not installed: make deps"
command -v bpftool >/dev/null || vmqt_skip "bpftool is not installed: make deps"

N=200 # frames per step
declare -A VMAC=([1]=02:00:00:0d:01:01 [2]=02:00:00:0d:02:02)
declare -A QID=([1]=11 [2]=12)
UNKNOWN=02:00:00:0d:09:09
MCAST=01:00:5e:00:00:fb
BCAST=ff:ff:ff:ff:ff:ff

vmqt_vmqd_setup
WNS=$VMQT_WIRE_NS
WDEV=$VMQT_WIRE_DEV

# VM N: a namespace holding vmqrxNp (its MAC VMAC[N]), the host side
# vmqrxN in the host namespace, its port. GRO on the VM's end gives it the
# NAPI instance a veth needs to receive frames redirected into its peer
# (docs/kernel-notes.md).
for v in 1 2; do
	vmqt_netns_add "vm$v"
	declare "VMNS$v=$VMQT_LAST_NS"
	vmqt_run ip -n "$HNS" link add "vmqrx$v" type veth peer name "vmqrx${v}p" netns "$VMQT_LAST_NS"
	VMQT_LINKS+=("$HNS vmqrx$v")
	vmqt_run ip -n "$VMQT_LAST_NS" link set "vmqrx${v}p" address "${VMAC[$v]}"
	vmqt_in "$VMQT_LAST_NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	vmqt_in "$HNS" sysctl -qw "net.ipv6.conf.vmqrx$v.disable_ipv6=1"
	vmqt_run ip netns exec "$VMQT_LAST_NS" ethtool -K "vmqrx${v}p" gro on
	vmqt_run ip -n "$VMQT_LAST_NS" link set "vmqrx${v}p" up
	vmqt_run ip -n "$HNS" link set "vmqrx$v" up
done
vmns() { local n="VMNS$1"; printf '%s\n' "${!n}"; }

# frames FROM_CPU DST N [VLAN [TPID]]: N frames to DST from the wire end
# through a packet socket, sent by a process on CPU FROM_CPU (- for any),
# one 802.1Q (or TPID) tag when VLAN is given; ethertype 0x88b5, which
# every stack drops after counting.
frames() {
	local cpu=$1 dst=$2 n=$3 vlan=${4:-} tpid=${5:-0x8100} pin=()
	[ "$cpu" = - ] || pin=(taskset -c "$cpu")
	vmqt_run ip netns exec "$WNS" "${pin[@]}" "$VMQT_PY" -c '
import socket, struct, sys
dev, dst, n, vlan, tpid = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5], 0)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((dev, 0))
src = bytes.fromhex(open("/sys/class/net/%s/address" % dev).read().strip().replace(":", ""))
hdr = bytes.fromhex(dst.replace(":", "")) + src
if vlan:
    hdr += struct.pack("!HH", tpid, int(vlan))
for i in range(n):
    s.send(hdr + struct.pack("!H", 0x88b5) + struct.pack("!I", i) + bytes(60))
' "$WDEV" "$dst" "$n" "$vlan" "$tpid"
}

# rx_stats: `vmqctl -j stats DEV`, one line. q_rx STATS ID: the queue's
# rx_packets (0 when not listed). outcome STATS NAME: that outcome's packets.
rx_stats() { vmqt_ctl -j stats "$DEV"; }
q_rx() {
	vmqt_json "([q.get('rx_packets', 0) for q in j['devs'][0]['queues'] if q['id'] == $2] or [0])[0]" <<<"$1"
}
outcome() { vmqt_json "j['devs'][0]['rx_outcomes']['$2']['packets']" <<<"$1"; }
# if_rx NS DEV: the interface's received packets.
if_rx() { vmqt_in "$1" cat "/sys/class/net/$2/statistics/rx_packets"; }
# delta WHAT BEFORE AFTER EXPECTED
delta() { vmqt_assert_eq "$1" "$4" "$(($3 - $2))"; }

vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"

# --- attach --------------------------------------------------------------------
vmqt_case attach
case_attach() {
	out=$(vmqt_ctl dev attach "$DEV" rx on)
	vmqt_assert_eq "dev attach rx on prints nothing" "" "$out"
	show=$(vmqt_ctl -j dev show "$DEV")
	vmqt_assert_eq "dev show: rx" on "$(vmqt_json "j['devs'][0]['rx']" <<<"$show")"
	vmqt_assert_eq "dev show: xdp_mode (veth has native XDP)" native \
		"$(vmqt_json "j['devs'][0]['xdp_mode']" <<<"$show")"
	vmqt_assert_match "ip link: native XDP on $DEV" "prog/xdp id [0-9]+" \
		"$(ip -n "$HNS" -d link show "$DEV")"
	vmqt_assert_file "pinned XDP program" "$PINS/$DEV/rx/vmq_rx_xdp"
	vmqt_assert_match "dev show (text): RX column" "native" "$(vmqt_ctl dev show "$DEV")"
	vmqt_ok "dev attach $DEV rx on: vmq_rx in native XDP, pinned under $PINS/$DEV/rx"
}

# --- port mode: straight to each VM's port ------------------------------------------
vmqt_case port attach
case_port() {
	for v in 1 2; do
		vmqt_ctl queue add "$DEV" id "${QID[$v]}" txq "$v" vm "vm$v" >/dev/null
		vmqt_ctl port bind "vmqrx$v" dev "$DEV" queue "${QID[$v]}" >/dev/null
		vmqt_ctl filter add "$DEV" queue "${QID[$v]}" mac "${VMAC[$v]}" >/dev/null
		vmqt_ctl queue set "$DEV" id "${QID[$v]}" rx port >/dev/null
	done
	q=$(vmqt_ctl -j queue show "$DEV" id "${QID[1]}")
	vmqt_assert_eq "queue show: rx" port "$(vmqt_json "j['queues'][0]['rx']" <<<"$q")"
	vmqt_assert_eq "queue show: rx_port" vmqrx1 "$(vmqt_json "j['queues'][0]['rx_port']" <<<"$q")"
	f=$(vmqt_ctl -j filter show "$DEV")
	vmqt_assert_eq "filter show" \
		"[[\"${VMAC[1]}\",${QID[1]},\"vm1\",\"port\"],[\"${VMAC[2]}\",${QID[2]},\"vm2\",\"port\"]]" \
		"$(vmqt_json "[[f['mac'], f['queue'], f['vm'], f['rx']] for f in j['filters']]" <<<"$f")"
	for v in 1 2; do
		o=$((3 - v))
		s0=$(rx_stats)
		a0=$(if_rx "$(vmns "$v")" "vmqrx${v}p")
		b0=$(if_rx "$(vmns "$o")" "vmqrx${o}p")
		frames - "${VMAC[$v]}" "$N"
		s1=$(rx_stats)
		a1=$(if_rx "$(vmns "$v")" "vmqrx${v}p")
		b1=$(if_rx "$(vmns "$o")" "vmqrx${o}p")
		delta "VM $v: queue ${QID[$v]} rx_packets" "$(q_rx "$s0" "${QID[$v]}")" "$(q_rx "$s1" "${QID[$v]}")" "$N"
		delta "VM $v: its interface's rx_packets" "$a0" "$a1" "$N"
		delta "VM $o: its interface's rx_packets (not its frames)" "$b0" "$b1" 0
		delta "VM $v: outcome port" "$(outcome "$s0" port)" "$(outcome "$s1" port)" "$N"
	done
	vmqt_ok "port mode: $N frames to each VM's MAC reached that VM's namespace only; queue counter = interface counter"
}

# --- cpu mode: the rest of the stack on the queue's CPU ---------------------------
# An nftables probe on the uplink's ingress (netdev family, the host
# namespace) counts VM 2's frames by the CPU the stack runs them on.
probe_setup() {
	vmqt_run ip netns exec "$HNS" nft -f - <<EOF
table netdev vmqprobe {
	chain in {
		type filter hook ingress device "$DEV" priority 0;
		ether daddr ${VMAC[2]} meta cpu 0 counter
		ether daddr ${VMAC[2]} meta cpu 1 counter
	}
}
EOF
}
# probe_counts: "CPU0 CPU1" packets so far.
probe_counts() {
	ip netns exec "$HNS" nft -j list table netdev vmqprobe | vmqt_json \
		"' '.join(str(r['rule']['expr'][2]['counter']['packets']) for r in j['nftables'] if 'rule' in r)"
}

vmqt_case cpu port
case_cpu() {
	[ "$(nproc)" -ge 2 ] || vmqt_skip "one CPU: nothing to redirect to"
	probe_setup
	# Pass mode first: the probe sees the stack on the sender's CPU.
	vmqt_ctl queue set "$DEV" id "${QID[2]}" rx pass >/dev/null
	for pair in "0 1" "1 0"; do
		set -- $pair
		from=$1 to=$2
		vmqt_ctl queue set "$DEV" id "${QID[2]}" rx pass >/dev/null
		read -r c0 c1 <<<"$(probe_counts)"
		s0=$(rx_stats)
		frames "$from" "${VMAC[2]}" "$N"
		read -r d0 d1 <<<"$(probe_counts)"
		s1=$(rx_stats)
		cpus=("$((d0 - c0))" "$((d1 - c1))")
		vmqt_assert_eq "rx pass, sent on CPU $from: frames the stack ran on CPU $from" "$N" "${cpus[$from]}"
		vmqt_assert_eq "rx pass, sent on CPU $from: frames on CPU $to" 0 "${cpus[$to]}"
		delta "rx pass: outcome pass" "$(outcome "$s0" pass)" "$(outcome "$s1" pass)" "$N"

		vmqt_ctl queue set "$DEV" id "${QID[2]}" rx cpu "$to" >/dev/null
		q=$(vmqt_ctl -j queue show "$DEV" id "${QID[2]}")
		vmqt_assert_eq "queue show: rx_cpu" "$to" "$(vmqt_json "j['queues'][0]['rx_cpu']" <<<"$q")"
		read -r c0 c1 <<<"$(probe_counts)"
		s0=$(rx_stats)
		frames "$from" "${VMAC[2]}" "$N"
		# The cpumap's kthread runs them a moment later.
		for _ in $(seq 50); do
			read -r d0 d1 <<<"$(probe_counts)"
			[ $((d0 - c0 + d1 - c1)) -lt "$N" ] || break
			sleep 0.1
		done
		s1=$(rx_stats)
		cpus=("$((d0 - c0))" "$((d1 - c1))")
		vmqt_assert_eq "rx cpu $to, sent on CPU $from: frames the stack ran on CPU $to" "$N" "${cpus[$to]}"
		vmqt_assert_eq "rx cpu $to, sent on CPU $from: frames on CPU $from" 0 "${cpus[$from]}"
		delta "rx cpu $to: outcome cpu" "$(outcome "$s0" cpu)" "$(outcome "$s1" cpu)" "$N"
		delta "rx cpu $to: queue ${QID[2]} rx_packets" "$(q_rx "$s0" "${QID[2]}")" "$(q_rx "$s1" "${QID[2]}")" "$N"
		vmqt_ok "rx cpu $to: $N frames received on CPU $from ran through the stack on CPU $to (pass: on CPU $from)"
	done
	vmqt_run ip netns exec "$HNS" nft delete table netdev vmqprobe
	vmqt_ctl queue set "$DEV" id "${QID[2]}" rx port >/dev/null
}

# --- /metrics: the receive counters ----------------------------------------------
# metric NAME LABELS: the sample's value in the last scrape ($scrape).
metric() {
	awk -v want="$1{$2}" '$1 == want { print $2; found = 1 } END { if (!found) print "missing" }' <<<"$scrape"
}

vmqt_case metrics port
case_metrics() {
	local sock=$VMQT_TMP/metrics.sock
	vmqt_vmqd_kill "$VMQT_VMQD_PID" TERM
	vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS" --metrics "$sock"
	scrape=$(curl -sf --unix-socket "$sock" http://vmqd/metrics)
	p0=$(metric vmq_rx_packets_total "dev=\"$DEV\",outcome=\"port\"")
	q0=$(metric vmq_rx_queue_packets_total "dev=\"$DEV\",queue=\"${QID[1]}\",vm=\"vm1\"")
	u0=$(metric vmq_rx_packets_total "dev=\"$DEV\",outcome=\"unmatched\"")
	frames - "${VMAC[1]}" "$N"
	frames - "$UNKNOWN" 7
	scrape=$(curl -sf --unix-socket "$sock" http://vmqd/metrics)
	vmqt_assert_match "HELP of vmq_rx_packets_total" "^# HELP vmq_rx_packets_total Received frames by outcome" "$scrape"
	delta "/metrics: outcome port" "$p0" "$(metric vmq_rx_packets_total "dev=\"$DEV\",outcome=\"port\"")" "$N"
	delta "/metrics: queue ${QID[1]}" "$q0" \
		"$(metric vmq_rx_queue_packets_total "dev=\"$DEV\",queue=\"${QID[1]}\",vm=\"vm1\"")" "$N"
	delta "/metrics: outcome unmatched" "$u0" "$(metric vmq_rx_packets_total "dev=\"$DEV\",outcome=\"unmatched\"")" 7
	vmqt_ok "/metrics: vmq_rx_packets_total by outcome and vmq_rx_queue_packets_total per queue follow the frames"
}

# --- the default queue: never dropped, counted by reason ---------------------------
vmqt_case default port
case_default() {
	for what in "unmatched $UNKNOWN" "broadcast $BCAST" "multicast $MCAST"; do
		set -- $what
		s0=$(rx_stats)
		frames - "$2" "$N"
		s1=$(rx_stats)
		delta "frames to $2: outcome $1" "$(outcome "$s0" "$1")" "$(outcome "$s1" "$1")" "$N"
		vmqt_ok "frames to $2: the stack, counted as $1"
	done
	# A deleted queue: its filters go with it, its frames are unmatched.
	vmqt_ctl queue add "$DEV" id 20 txq 3 vm gone >/dev/null
	vmqt_ctl filter add "$DEV" queue 20 mac 02:00:00:0d:20:20 >/dev/null
	vmqt_ctl filter add "$DEV" queue 20 mac 02:00:00:0d:20:21 vlan 5 >/dev/null
	vmqt_ctl queue del "$DEV" id 20
	vmqt_assert_eq "filter show after queue del: its filters gone" "" \
		"$(vmqt_ctl -j filter show "$DEV" | vmqt_json "' '.join(f['mac'] for f in j['filters'] if f['queue'] == 20)")"
	s0=$(rx_stats)
	frames - 02:00:00:0d:20:20 "$N"
	s1=$(rx_stats)
	delta "deleted queue's MAC: outcome unmatched" "$(outcome "$s0" unmatched)" "$(outcome "$s1" unmatched)" "$N"
	# A filter of a queue that is not live (bpftool writes the map: vmqd
	# never would): the stack, counted as not_live.
	vmqt_run bpftool map update pinned "$PINS/$DEV/rx/vmq_rx_filters" \
		key hex 02 00 00 0d 21 21 00 00 value hex 15 00 00 00 00 00 00 00
	s0=$(rx_stats)
	frames - 02:00:00:0d:21:21 "$N"
	s1=$(rx_stats)
	delta "filter of queue 21 (not live): outcome not_live" "$(outcome "$s0" not_live)" "$(outcome "$s1" not_live)" "$N"
	vmqt_assert_match "doctor: a filter of a queue not live" "WARN +rx-targets .*queue 21" \
		"$("$BUILD/vmqctl" -s "$VMQT_SOCK" doctor "$DEV" || true)"
	vmqt_run bpftool map delete pinned "$PINS/$DEV/rx/vmq_rx_filters" key hex 02 00 00 0d 21 21 00 00
	vmqt_ok "queue deleted: its filters gone, its frames unmatched; a filter of a queue not live: not_live"
}

# --- VLANs -----------------------------------------------------------------------
vmqt_case vlan port
case_vlan() {
	# Tags stay in the frames XDP sees (doctor checks it: rx-vlan below).
	vmqt_run ip netns exec "$HNS" ethtool -K "$DEV" rxvlan off
	# VM 1's MAC: untagged -> queue 11 (port), VLAN 10 -> queue 30 (pass),
	# VLAN 20 -> no filter.
	vmqt_ctl queue add "$DEV" id 30 txq 4 vm vlan10 >/dev/null
	vmqt_ctl filter add "$DEV" queue 30 mac "${VMAC[1]}" vlan 10 >/dev/null
	for what in "10 0x8100 30 pass" "10 0x88a8 30 pass" "20 0x8100 - unmatched" "- - 11 port"; do
		set -- $what
		vlan=$1 tpid=$2 q=$3 out=$4
		s0=$(rx_stats)
		a0=$(if_rx "$(vmns 1)" vmqrx1p)
		if [ "$vlan" = - ]; then
			frames - "${VMAC[1]}" "$N"
		else
			frames - "${VMAC[1]}" "$N" "$vlan" "$tpid"
		fi
		s1=$(rx_stats)
		a1=$(if_rx "$(vmns 1)" vmqrx1p)
		delta "vlan $vlan ($tpid) to ${VMAC[1]}: outcome $out" "$(outcome "$s0" "$out")" "$(outcome "$s1" "$out")" "$N"
		if [ "$q" != - ]; then
			delta "vlan $vlan ($tpid): queue $q rx_packets" "$(q_rx "$s0" "$q")" "$(q_rx "$s1" "$q")" "$N"
		fi
		for other in 11 30; do
			[ "$other" = "$q" ] || delta "vlan $vlan ($tpid): queue $other rx_packets" \
				"$(q_rx "$s0" "$other")" "$(q_rx "$s1" "$other")" 0
		done
		want=0
		[ "$q" != 11 ] || want=$N
		delta "vlan $vlan ($tpid): VM 1's interface" "$a0" "$a1" "$want"
		vmqt_ok "${VMAC[1]} vlan $vlan (TPID $tpid): queue $q, outcome $out"
	done
	vmqt_assert_eq "filter show: the VLAN filter" "[[\"${VMAC[1]}\",10,30]]" \
		"$(vmqt_ctl -j filter show "$DEV" | vmqt_json "[[f['mac'], f['vlan'], f['queue']] for f in j['filters'] if 'vlan' in f]")"
	# A device that strips tags on receive hides them from XDP: doctor says so.
	vmqt_run ip netns exec "$HNS" ethtool -K "$DEV" rxvlan on
	vmqt_ctl_fails doctor "$DEV"
	vmqt_assert_match "doctor: rx-vlan-offload on" \
		"WARN +rx-vlan +1 VLAN filter\\(s\\), but $DEV strips VLAN tags before XDP" "$VMQT_CTL_OUT"
	vmqt_run ip netns exec "$HNS" ethtool -K "$DEV" rxvlan off
	vmqt_assert_match "doctor: rx-vlan-offload off" "PASS +rx-vlan +1 VLAN filter" \
		"$(vmqt_ctl doctor "$DEV")"
}

# --- a MAC (and VLAN) belongs to one queue -------------------------------------------
vmqt_case duplicate vlan
case_duplicate() {
	before=$(vmqt_ctl -j filter show)
	vmqt_ctl_fails filter add "$DEV" queue "${QID[2]}" mac "${VMAC[1]}"
	vmqt_assert_one_error "the same MAC for another queue" \
		"^vmqctl: filter ${VMAC[1]} on $DEV: already filtered for queue ${QID[1]} \\(vm vm1\\)\$"
	vmqt_ctl_fails filter add "$DEV" queue "${QID[2]}" mac "${VMAC[1]}" vlan 10
	vmqt_assert_one_error "the same MAC and VLAN for another queue" \
		"^vmqctl: filter ${VMAC[1]} vlan 10 on $DEV: already filtered for queue 30 \\(vm vlan10\\)\$"
	# The same filter for its own queue again (upper case): nothing new.
	vmqt_ctl filter add "$DEV" queue "${QID[1]}" mac "${VMAC[1]^^}" >/dev/null
	vmqt_assert_eq "filter show after refusals and a repeat" "$before" "$(vmqt_ctl -j filter show)"
	vmqt_ok "a MAC/VLAN filtered for another queue: refused naming the owner; the same filter again: no change"
}

# --- bad inputs: a clear error each, nothing changed ----------------------------------
# A request past vmqctl's checks, straight to vmqd.
raw_req() {
	printf '{"version":1,"object":"%s","command":"%s","args":%s}\n' "$1" "$2" "$3"
}

vmqt_case bad port
case_bad() {
	local cpus re args out
	vmqt_ctl queue add "$DEV" id 40 txq 5 vm noport >/dev/null
	before=$(vmqt_state; vmqt_ctl -j filter show; vmqt_ctl -j port show)
	cpus=$(nproc --all)
	while read -r re args; do
		# shellcheck disable=SC2086 # args are words
		vmqt_ctl_fails $args
		vmqt_assert_one_error "vmqctl $args" "$re"
	done <<LIST
^vmqctl:.filter.add:.mac."52:54:00:12:34:5":.not.a.MAC.address.\(xx:xx:xx:xx:xx:xx\)$ filter add $DEV queue 40 mac 52:54:00:12:34:5
^vmqctl:.filter.add:.mac."52-54-00-12-34-56":.not.a.MAC.address filter add $DEV queue 40 mac 52-54-00-12-34-56
^vmqctl:.filter.add:.mac."ff:ff:ff:ff:ff:ff":.a.multicast,.broadcast.or.zero.address filter add $DEV queue 40 mac ff:ff:ff:ff:ff:ff
^vmqctl:.filter.add:.vlan."4095":.out.of.range.\(1..4094\)$ filter add $DEV queue 40 mac 02:00:00:0d:40:40 vlan 4095
^vmqctl:.filter.add:.vlan."0":.out.of.range.\(1..4094\)$ filter add $DEV queue 40 mac 02:00:00:0d:40:40 vlan 0
^vmqctl:.filter.${VMAC[1]}.on.$DEV:.queue.41.does.not.exist.on.$DEV$ filter add $DEV queue 41 mac ${VMAC[1]}
^vmqctl:.filter.add:.queue."0":.out.of.range filter add $DEV queue 0 mac 02:00:00:0d:40:40
^vmqctl:.filter.02:00:00:0d:40:40.on.$DEV:.no.such.filter$ filter del $DEV mac 02:00:00:0d:40:40
^vmqctl:.queue.40.on.$DEV:.CPU.$cpus.does.not.exist.or.is.offline$ queue set $DEV id 40 rx cpu $cpus
^vmqctl:.queue.set:.cpu."9000":.out.of.range.\(0..8191\)$ queue set $DEV id 40 rx cpu 9000
^vmqctl:.queue.40.on.$DEV:.no.port.is.bound.to.it,.so.port.mode.has.nowhere.to.deliver.\(port.bind.PORT.dev.$DEV.queue.40.first\)$ queue set $DEV id 40 rx port
^vmqctl:.queue.0.on.$DEV:.the.default.queue's.frames.always.take.the.stack queue set $DEV id 0 rx pass
^vmqctl:.queue.41.on.$DEV:.does.not.exist$ queue set $DEV id 41 rx pass
^vmqctl:.queue.set:.rx."cpuu":.not."cpu",."port".or."pass"$ queue set $DEV id 40 rx cpuu
^vmqctl:.dev.set:.rx."yes":.not."on".or."off"$ dev set $DEV rx yes
LIST
	out=$({
		raw_req filter add '{"dev":"'"$DEV"'","queue":40,"mac":"52:54:00:12:34:5"}'
		raw_req filter add '{"dev":"'"$DEV"'","queue":40,"mac":"01:00:5e:00:00:01"}'
		raw_req filter add '{"dev":"'"$DEV"'","queue":40,"mac":"02:00:00:0d:40:40","vlan":4095}'
		raw_req queue set '{"dev":"'"$DEV"'","id":40,"rx":"cpu","cpu":'"$cpus"'}'
		raw_req queue set '{"dev":"'"$DEV"'","id":40,"rx":"cpu"}'
		raw_req queue set '{"dev":"'"$DEV"'","id":40,"rx":"port"}'
		raw_req queue set '{"dev":"'"$DEV"'","id":40,"rx":"pass","cpu":1}'
		raw_req dev set '{"dev":"'"$DEV"'","rx":true}'
	} | vmqt_raw "$VMQT_SOCK")
	vmqt_assert_eq "raw requests: each refused" \
		'[[22,"filter add on vmqup0: mac \"52:54:00:12:34:5\" is not a MAC address (xx:xx:xx:xx:xx:xx)"],[22,"filter add on vmqup0: mac 01:00:5e:00:00:01 is a multicast, broadcast or zero address: such frames always take the stack"],[34,"filter 02:00:00:0d:40:40 on vmqup0: vlan 4095 out of range (1..4094)"],[19,"queue 40 on vmqup0: CPU '"$cpus"' does not exist or is offline"],[22,"queue 40 on vmqup0: cpu is required"],[22,"queue 40 on vmqup0: no port is bound to it, so port mode has nowhere to deliver (port bind PORT dev vmqup0 queue 40 first)"],[22,"queue 40 on vmqup0: cpu goes with rx cpu"],[22,"dev vmqup0: rx must be \"on\" or \"off\""]]' \
		"$(grep -v '^EOF$' <<<"$out" | vmqt_json -l "[[r['error']['errno'], r['error']['message']] for r in j]")"
	vmqt_assert_eq "state after every refusal" "$before" "$(vmqt_state; vmqt_ctl -j filter show; vmqt_ctl -j port show)"
	vmqt_ctl queue del "$DEV" id 40
	vmqt_ok "malformed MAC, VLAN 4095, a CPU that does not exist, port mode without a port: refused, nothing changed"
}

# --- a port-mode queue loses its port, then gets it back ----------------------------
vmqt_case unbind port
case_unbind() {
	vmqt_ctl port unbind vmqrx2
	q=$(vmqt_ctl -j queue show "$DEV" id "${QID[2]}")
	vmqt_assert_eq "queue show after unbind: rx still port, no port" "port -" \
		"$(vmqt_json "j['queues'][0]['rx'] + ' ' + j['queues'][0].get('rx_port', '-')" <<<"$q")"
	s0=$(rx_stats)
	a0=$(if_rx "$(vmns 2)" vmqrx2p)
	frames - "${VMAC[2]}" "$N"
	s1=$(rx_stats)
	a1=$(if_rx "$(vmns 2)" vmqrx2p)
	delta "port unbound: outcome no_target" "$(outcome "$s0" no_target)" "$(outcome "$s1" no_target)" "$N"
	delta "port unbound: VM 2's interface" "$a0" "$a1" 0
	vmqt_assert_match "doctor: port mode without a port" "WARN +rx-targets +queue ${QID[2]}: rx port, but no port is bound" \
		"$("$BUILD/vmqctl" -s "$VMQT_SOCK" doctor "$DEV" || true)"
	vmqt_ctl port bind vmqrx2 dev "$DEV" queue "${QID[2]}" >/dev/null
	s0=$(rx_stats)
	a0=$(if_rx "$(vmns 2)" vmqrx2p)
	frames - "${VMAC[2]}" "$N"
	s1=$(rx_stats)
	a1=$(if_rx "$(vmns 2)" vmqrx2p)
	delta "bound again: outcome port" "$(outcome "$s0" port)" "$(outcome "$s1" port)" "$N"
	delta "bound again: VM 2's interface" "$a0" "$a1" "$N"
	vmqt_ok "port unbound: its queue's frames take the stack (no_target); bound again: delivered"
}

# --- rx off and on ------------------------------------------------------------------
vmqt_case rx_off port
case_rx_off() {
	filters=$(vmqt_ctl -j filter show)
	vmqt_ctl dev set "$DEV" rx off >/dev/null
	vmqt_assert_eq "dev show: rx" off "$(vmqt_ctl -j dev show "$DEV" | vmqt_json "j['devs'][0]['rx']")"
	if ip -n "$HNS" -d link show "$DEV" | grep -q "prog/xdp"; then
		vmqt_fail "rx off: an XDP program is still on $DEV"
	fi
	vmqt_assert_eq "rx off: filters kept" "$filters" "$(vmqt_ctl -j filter show)"
	a0=$(if_rx "$(vmns 1)" vmqrx1p)
	frames - "${VMAC[1]}" "$N"
	a1=$(if_rx "$(vmns 1)" vmqrx1p)
	delta "rx off: VM 1's interface (no XDP, no bridge)" "$a0" "$a1" 0
	vmqt_assert_match "doctor: rx off with filters" "WARN +xdp +receive side off" \
		"$("$BUILD/vmqctl" -s "$VMQT_SOCK" doctor "$DEV" || true)"
	vmqt_ctl dev set "$DEV" rx on >/dev/null
	a0=$(if_rx "$(vmns 1)" vmqrx1p)
	frames - "${VMAC[1]}" "$N"
	a1=$(if_rx "$(vmns 1)" vmqrx1p)
	delta "rx on again: VM 1's interface" "$a0" "$a1" "$N"
	vmqt_ok "dev set rx off: XDP detached, filters kept, nothing delivered; rx on: delivered again"
}

# --- another XDP program holds the uplink ------------------------------------------
vmqt_case busy port
case_busy() {
	local pin=$VMQT_BPFFS/foreign_xdp id
	vmqt_ctl dev set "$DEV" rx off >/dev/null
	# Someone else's XDP program (vmq_rx's object, loaded apart: another ID).
	vmqt_run bpftool prog load "$BUILD/vmq_rx.bpf.o" "$pin" type xdp
	vmqt_run ip -n "$HNS" link set dev "$DEV" xdpdrv pinned "$pin"
	id=$(bpftool -j prog show pinned "$pin" | vmqt_json "j['id']")
	before=$(vmqt_state)
	vmqt_ctl_fails dev set "$DEV" rx on
	vmqt_assert_one_error "rx on over another XDP program" \
		"^vmqctl: dev $DEV: XDP program $id \\([a-z_]+\\) is attached to $DEV already: one XDP program per device; detach it first\$"
	vmqt_assert_eq "state after the refusal" "$before" "$(vmqt_state)"
	vmqt_ctl_fails doctor "$DEV"
	vmqt_assert_match "doctor: another XDP program" "FAIL +xdp +receive side off, and XDP program $id" "$VMQT_CTL_OUT"
	vmqt_run ip -n "$HNS" link set dev "$DEV" xdpdrv off
	rm -f "$pin"
	vmqt_ctl dev set "$DEV" rx on >/dev/null
	vmqt_ok "rx on refused (EBUSY, naming program $id) while another XDP program holds $DEV; on once it is gone"
}

# --- upgrade: another build's vmq_rx adopted, swapped for vmqd's --------------------
# xdp_prog: the ID of the XDP program on DEV (native).
xdp_prog() { ip -n "$HNS" -d -j link show "$DEV" | vmqt_json "j[0]['xdp']['prog']['id']"; }

vmqt_case upgrade port
case_upgrade() {
	local rx=$PINS/$DEV/rx variant=$VMQT_BPFFS/rx_variant maps=() m id0 id1 s0 s1
	vmqt_need_file "$BUILD/tests/vmq_rx_variant.bpf.o"
	vmqt_vmqd_kill "$VMQT_VMQD_PID" TERM
	# Another build of vmq_rx on the same maps, attached the bpftool way.
	for m in vmq_rx_filters vmq_rx_queues vmq_rx_queue_stats vmq_rx_outcomes vmq_rx_cpus vmq_rx_ports; do
		maps+=(map name "$m" pinned "$rx/$m")
	done
	vmqt_run bpftool prog load "$BUILD/tests/vmq_rx_variant.bpf.o" "$variant" type xdp \
		map name vmq_queues pinned "$PINS/$DEV/maps/vmq_queues" "${maps[@]}"
	rm "$rx/vmq_rx_link"
	for _ in $(seq 50); do
		ip -n "$HNS" -d link show "$DEV" | grep -q "prog/xdp" || break
		sleep 0.1
	done
	vmqt_run ip -n "$HNS" link set dev "$DEV" xdpdrv pinned "$variant"
	rm "$rx/vmq_rx_xdp"
	mv "$variant" "$rx/vmq_rx_xdp"
	id0=$(xdp_prog)
	delivered "the other build's vmq_rx"
	vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"
	id1=$(xdp_prog)
	[ "$id1" != "$id0" ] || vmqt_fail "adoption: XDP program $id0 still runs (not upgraded)"
	vmqt_assert_match "vmqd's log: the upgrade" "receive side upgraded to vmqd's build" "$(cat "$VMQT_VMQD_LOG")"
	s0=$(rx_stats)
	delivered "vmqd's vmq_rx after the upgrade"
	s1=$(rx_stats)
	delta "after the upgrade: queue ${QID[1]} counts on" "$(q_rx "$s0" "${QID[1]}")" "$(q_rx "$s1" "${QID[1]}")" "$N"
	vmqt_assert_eq "dev upgrade after that: rx_upgraded" false \
		"$(vmqt_ctl -j dev upgrade "$DEV" | vmqt_json "j['rx_upgraded']")"
	vmqt_ok "adoption upgraded vmq_rx of another build (program $id0 -> $id1) on its maps; filters, modes and counters kept"
}

# --- the uplink goes away and comes back ----------------------------------------
vmqt_case uplink_back port
case_uplink_back() {
	vmqt_run ip -n "$HNS" link delete dev "$DEV"
	vmqt_uplink_link "$DEV" "$VMQT_HOST_IP" "$WNS" "$WDEV" "$VMQT_WIRE_IP" "$VMQT_NTXQ"
	for _ in $(seq 100); do
		st=$(vmqt_ctl -j dev show "$DEV" | vmqt_json "j['devs'][0]['state'] + ' ' + j['devs'][0]['rx']")
		[ "$st" != "ok on" ] || break
		sleep 0.1
	done
	vmqt_assert_eq "dev show once $DEV is back" "ok on" "$st"
	vmqt_assert_match "ip link: XDP on the new $DEV" "prog/xdp id [0-9]+" \
		"$(ip -n "$HNS" -d link show "$DEV")"
	a0=$(if_rx "$(vmns 1)" vmqrx1p)
	frames - "${VMAC[1]}" "$N"
	a1=$(if_rx "$(vmns 1)" vmqrx1p)
	delta "$DEV back: VM 1's interface" "$a0" "$a1" "$N"
	vmqt_ok "$DEV deleted and made again: vmqd attached its receive side again, frames delivered"
}

# --- state: save, restart on the pins, restore from the file alone -----------------
# rx_state: what the receive side looks like through vmqctl, ifindexes left out.
rx_state() {
	{
		vmqt_ctl -j dev show "$DEV"
		vmqt_ctl -j queue show "$DEV"
		vmqt_ctl -j filter show "$DEV"
	} | vmqt_json -l '[[{k: v for k, v in o.items() if k not in ("ifindex", "pin_dir")} for o in list(d.values())[0]] for d in j]'
}
# delivered WHAT: frames to VM 1 and VM 2 reach their namespaces.
delivered() {
	for v in 1 2; do
		a0=$(if_rx "$(vmns "$v")" "vmqrx${v}p")
		frames - "${VMAC[$v]}" "$N"
		a1=$(if_rx "$(vmns "$v")" "vmqrx${v}p")
		delta "$1: VM $v's interface" "$a0" "$a1" "$N"
	done
}

vmqt_case state vlan
case_state() {
	saved=$(vmqt_ctl save)
	for line in "dev attach $DEV default-txq auto mark-mask 0xffff queues 4096 rx on" \
		"queue set $DEV id ${QID[1]} rx port" "queue set $DEV id ${QID[2]} rx port" \
		"filter add $DEV queue ${QID[1]} mac ${VMAC[1]}" \
		"filter add $DEV queue 30 mac ${VMAC[1]} vlan 10" \
		"filter add $DEV queue ${QID[2]} mac ${VMAC[2]}"; do
		grep -qxF "$line" <<<"$saved" || vmqt_fail "vmqctl save lacks '$line':$(printf '\n%s' "$saved" | sed 's/^/   | /')"
	done
	vmqt_assert_match "save | apply --dry-run: no change" "^# no change" \
		"$(vmqt_ctl save | vmqt_ctl apply --dry-run -)"
	before=$(rx_state)

	# vmqd stopped: the data plane runs on; a new vmqd adopts the pins.
	vmqt_vmqd_kill "$VMQT_VMQD_PID" TERM
	delivered "no vmqd"
	vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"
	vmqt_assert_eq "state after a restart on the pins" "$before" "$(rx_state)"
	vmqt_assert_eq "save after a restart on the pins" "$saved" "$(vmqt_ctl save)"

	# A reboot: no vmqd, no pins (the XDP link goes with its pin).
	vmqt_vmqd_kill "$VMQT_VMQD_PID" KILL
	rm -rf "${PINS:?}"
	for _ in $(seq 50); do
		ip -n "$HNS" -d link show "$DEV" | grep -q "prog/xdp" || break
		sleep 0.1
	done
	if ip -n "$HNS" -d link show "$DEV" | grep -q "prog/xdp"; then
		vmqt_fail "the XDP program outlived its pinned link"
	fi
	vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"
	vmqt_assert_eq "state restored from the state file" "$before" "$(rx_state)"
	vmqt_assert_eq "save after the restore" "$saved" "$(vmqt_ctl save)"
	delivered "restored from the state file"
	vmqt_ok "save lists rx on, modes and filters; kept by a restart on the pins and by a restore from the file"
}

# --- doctor ------------------------------------------------------------------------
vmqt_case doctor port
case_doctor() {
	# VLAN filters (the vlan case) and a device that strips tags: a WARN
	# of its own (rx-vlan, the vlan case); not this case's subject.
	vmqt_run ip netns exec "$HNS" ethtool -K "$DEV" rxvlan off
	doc=$(vmqt_ctl -j doctor "$DEV")
	vmqt_assert_eq "doctor: xdp, rx-targets" "PASS PASS" \
		"$(vmqt_json "' '.join(c['status'] for c in j['checks'] if c['name'] in ('xdp', 'rx-targets'))" <<<"$doc")"
	# The devmap entry of VM 1's queue removed behind vmqd's back.
	key=$(printf '%02x 00 00 00' "${QID[1]}")
	# shellcheck disable=SC2086 # hex bytes
	vmqt_run bpftool map delete pinned "$PINS/$DEV/rx/vmq_rx_ports" key hex $key
	vmqt_ctl_fails doctor "$DEV"
	vmqt_assert_match "doctor: the devmap differs from the binding" \
		"FAIL +rx-targets +queue ${QID[1]}: rx port, bound to ifindex [0-9]+, but the devmap sends to 0" "$VMQT_CTL_OUT"
	# vmqd puts it back when the binding is made again.
	vmqt_ctl port bind vmqrx1 dev "$DEV" queue "${QID[1]}" >/dev/null
	vmqt_ctl doctor "$DEV" >/dev/null
	vmqt_ok "doctor: xdp and rx-targets PASS; a devmap entry removed behind vmqd's back is a FAIL"
}

# --- generic XDP -------------------------------------------------------------------
vmqt_case generic port
case_generic() {
	vmqt_vmqd_kill "$VMQT_VMQD_PID" TERM
	VMQ_XDP_MODE=generic vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"
	vmqt_ctl dev set "$DEV" rx off >/dev/null
	vmqt_ctl dev set "$DEV" rx on >/dev/null
	vmqt_assert_eq "dev show: xdp_mode" generic \
		"$(vmqt_ctl -j dev show "$DEV" | vmqt_json "j['devs'][0]['xdp_mode']")"
	vmqt_assert_match "ip link: generic XDP" " xdpgeneric .*prog/xdp id [0-9]+" \
		"$(ip -n "$HNS" -d link show "$DEV" | tr '\n' ' ')"
	doc=$("$BUILD/vmqctl" -s "$VMQT_SOCK" -j doctor "$DEV" || true)
	vmqt_assert_eq "doctor: xdp in generic mode" WARN \
		"$(vmqt_json "[c['status'] for c in j['checks'] if c['name'] == 'xdp'][0]" <<<"$doc")"
	delivered "generic XDP"
	vmqt_ctl dev set "$DEV" rx off >/dev/null
	vmqt_vmqd_kill "$VMQT_VMQD_PID" TERM
	vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"
	vmqt_ctl dev set "$DEV" rx on >/dev/null
	vmqt_assert_eq "dev show: xdp_mode" native \
		"$(vmqt_ctl -j dev show "$DEV" | vmqt_json "j['devs'][0]['xdp_mode']")"
	vmqt_ok "VMQ_XDP_MODE=generic: generic XDP, shown as such (dev show, doctor WARN), frames delivered"
}

# --- detach ------------------------------------------------------------------------
vmqt_case detach attach
case_detach() {
	vmqt_ctl dev detach "$DEV"
	if ip -n "$HNS" -d link show "$DEV" | grep -q "prog/xdp"; then
		vmqt_fail "dev detach: an XDP program is still on $DEV"
	fi
	[ ! -e "$PINS/$DEV" ] || vmqt_fail "dev detach: $PINS/$DEV still exists: $(ls -R "$PINS/$DEV")"
	vmqt_assert_eq "filter show after detach" '{"filters":[]}' "$(vmqt_ctl -j filter show)"
	vmqt_ok "dev detach: XDP program and every pin gone"
}

vmqt_cases "$@"
