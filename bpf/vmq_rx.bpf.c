// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vmq_rx: XDP receive filters on an uplink, the receive half of VMQ. A
 * frame's destination MAC and VLAN ID (of its first 802.1Q or 802.1ad tag,
 * none when untagged) find its VM queue in vmq_rx_filters; the queue's
 * receive mode sends it to the queue's CPU (cpumap), straight to the
 * queue's port (devmap), or to the normal stack. Everything else takes the
 * default queue, which is the normal stack: XDP_PASS, counted by reason,
 * never dropped. No MAC learning: only the control plane writes filters.
 * Frames are never changed: a tagged frame reaches a port tagged.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "vmq_abi.h"

#include "vmq_queue_map.bpf.h"
#include "vmq_rx_queues.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VMQ_RX_FILTERS_MAX);
	__type(key, struct vmq_rx_filter_key);
	__type(value, struct vmq_rx_filter);
} vmq_rx_filters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VMQ_QUEUES_DEFAULT); /* sized like vmq_queues */
	__type(key, __u32);
	__type(value, struct vmq_rx_queue_stats);
} vmq_rx_queue_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VMQ_RX_OUTCOMES);
	__type(key, __u32);
	__type(value, struct vmq_counter);
} vmq_rx_outcomes SEC(".maps");

/* Key = CPU; sized to the possible CPUs at load time. */
struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct bpf_cpumap_val);
} vmq_rx_cpus SEC(".maps");

/* Key = queue ID, value = its port's ifindex. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, VMQ_QUEUES_DEFAULT); /* sized like vmq_queues */
	__type(key, __u32);
	__type(value, __u32);
} vmq_rx_ports SEC(".maps");

struct vlan_tag {
	__be16 tci;
	__be16 proto;
};

static __always_inline int outcome(__u32 what, __u32 len, int action)
{
	struct vmq_counter *c = bpf_map_lookup_elem(&vmq_rx_outcomes, &what);

	if (c) {
		c->packets++;
		c->bytes += len;
	}
	return action;
}

SEC("xdp")
int vmq_rx_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct vmq_rx_filter_key key = { 0 };
	struct ethhdr *eth = data;
	struct vmq_rx_queue_stats *qs;
	struct vmq_rx_queue_entry *re, entry = { 0 };
	struct vmq_queue_entry *e;
	struct vmq_rx_filter *f;
	/* Not end - data: pointer minus pointer needs CAP_PERFMON, which
	 * vmqd's unit does not grant (CAP_BPF and CAP_NET_ADMIN only). */
	__u32 len = (__u32)bpf_xdp_get_buff_len(ctx), id, what;
	int action;

#ifdef VMQ_RX_VARIANT
	/* The tests' variant build: one extra instruction, another tag, so an
	 * upgrade to it is a real program swap. */
	asm volatile("r0 = 0" ::: "r0");
#endif
	if ((void *)(eth + 1) > end)
		return outcome(VMQ_RX_MALFORMED, len, XDP_PASS);
	/* The group bit: broadcast and multicast are everyone's, the stack's. */
	if (eth->h_dest[0] & 1) {
		if (*(__u32 *)eth->h_dest == 0xffffffffU && *(__u16 *)&eth->h_dest[4] == 0xffffU)
			return outcome(VMQ_RX_BROADCAST, len, XDP_PASS);
		return outcome(VMQ_RX_MULTICAST, len, XDP_PASS);
	}
	if (eth->h_proto == bpf_htons(ETH_P_8021Q) || eth->h_proto == bpf_htons(ETH_P_8021AD)) {
		struct vlan_tag *tag = (void *)(eth + 1);

		if ((void *)(tag + 1) > end)
			return outcome(VMQ_RX_MALFORMED, len, XDP_PASS);
		/* VID 0 is a priority tag: the frame is untagged for its VLAN. */
		key.vlan = bpf_ntohs(tag->tci) & 0x0fff;
	}
	__builtin_memcpy(key.mac, eth->h_dest, sizeof(key.mac));

	f = bpf_map_lookup_elem(&vmq_rx_filters, &key);
	if (!f)
		return outcome(VMQ_RX_UNMATCHED, len, XDP_PASS);
	id = f->queue_id;
	qs = bpf_map_lookup_elem(&vmq_rx_queue_stats, &id);
	if (!qs) /* beyond the map: no queue has that ID */
		return outcome(VMQ_RX_NOT_LIVE, len, XDP_PASS);
	/* Queue 0, the default queue, is always live. */
	e = id ? bpf_map_lookup_elem(&vmq_queues, &id) : NULL;
	if (id && (!e || *(volatile __u16 *)&e->state == VMQ_QUEUE_FREE)) {
		/* The queue was freed (a VM migrated away): the default queue. */
		what = VMQ_RX_NOT_LIVE;
		action = XDP_PASS;
		goto fallback;
	}
	re = bpf_map_lookup_elem(&vmq_rx_queues, &id);
	if (re) /* one 32-bit load: a concurrent store is seen whole */
		*(__u32 *)&entry = *(volatile __u32 *)re;
	switch (entry.mode) {
	case VMQ_RX_MODE_CPU:
		what = VMQ_RX_TO_CPU;
		/* XDP_PASS, in the flags, when the CPU has no entry. */
		action = (int)bpf_redirect_map(&vmq_rx_cpus, entry.cpu, XDP_PASS);
		break;
	case VMQ_RX_MODE_PORT:
		what = VMQ_RX_TO_PORT;
		action = (int)bpf_redirect_map(&vmq_rx_ports, id, XDP_PASS);
		break;
	default:
		what = VMQ_RX_TO_STACK;
		action = XDP_PASS;
		break;
	}
	if (what != VMQ_RX_TO_STACK && action != XDP_REDIRECT) {
		what = VMQ_RX_NO_TARGET;
		goto fallback;
	}
	qs->packets++;
	qs->bytes += len;
	return outcome(what, len, action);
fallback:
	qs->fallback_packets++;
	qs->fallback_bytes += len;
	return outcome(what, len, action);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
