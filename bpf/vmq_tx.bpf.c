// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vmq_tx: tc egress steering for an uplink. Reads the VM queue ID from the
 * queue bits of skb->mark, looks it up in the map of live queues and picks
 * the hardware TX queue; a packet whose mark has no ID takes the queue its
 * port is bound to on this uplink (uplink mode), found by the port's
 * ifindex. A packet is never dropped for its queue ID: an ID
 * that is not live leaves on the default queue (ID 0), and is counted.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "vmq_abi.h"

/* Set between open and load; the defaults serve the bpftool path. */
const volatile struct vmq_config vmq_cfg = {
	.mark_mask = VMQ_MARK_MASK_DEFAULT,
	.mark_shift = 0,
	.abi_version = VMQ_ABI_VERSION,
};

#include "vmq_queues.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VMQ_GROUPS_MAX);
	__type(key, __u32);
	__type(value, struct vmq_group_entry);
} vmq_groups SEC(".maps");

/* Per reason, then the kernel-choice slot (VMQ_COUNT_KERNEL_CHOICE). No
 * per-TX-queue counter: the kernel counts per TX queue (mq's classes). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VMQ_FALLBACK_SLOTS);
	__type(key, __u32);
	__type(value, struct vmq_counter);
} vmq_fallbacks SEC(".maps");

/*
 * Never read here: the control plane's records, pinned with the rest so
 * that they live exactly as long as the data plane they describe.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vmq_dev_info);
} vmq_dev_info SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VMQ_QUEUES_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct vmq_queue_meta);
} vmq_queue_meta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VMQ_TXQ_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct vmq_xps_saved);
} vmq_xps_saved SEC(".maps");

static __always_inline void count(struct vmq_counter *c, __u32 len)
{
	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

/* What resolve() returns when the entry itself served the packet. */
#define STEERED VMQ_FALLBACK_REASONS

/*
 * Resolves a queue entry to a TX queue, or VMQ_TXQ_SLOT_KERNEL for the
 * kernel's choice. Returns STEERED, or the reason to fall back.
 */
static __always_inline __u32 resolve(struct __sk_buff *skb, __u32 id, struct vmq_queue_entry entry,
				     __u32 *txq)
{
	struct vmq_group_entry *g;
	__u32 group, hash;

	switch (entry.state) {
	case VMQ_QUEUE_TXQ:
		*txq = entry.target;
		return STEERED;
	case VMQ_QUEUE_GROUP:
		group = entry.target;
		g = bpf_map_lookup_elem(&vmq_groups, &group);
		if (!g || !g->ntxqs)
			return VMQ_FALLBACK_BAD_GROUP;
		/* One flow, one hash, one slot: order within a flow is kept.
		 * The helper call is only needed when no hash is cached. */
		hash = skb->hash;
		if (!hash)
			hash = bpf_get_hash_recalc(skb);
		*txq = g->slots[hash & (VMQ_GROUP_SLOTS - 1)];
		return STEERED;
	case VMQ_QUEUE_KERNEL:
		*txq = VMQ_TXQ_SLOT_KERNEL;
		return STEERED;
	default:
		/* Queue 0 always exists: left unwritten (the bpftool path), it is
		 * the kernel's choice. */
		if (id == VMQ_DEFAULT_QUEUE) {
			*txq = VMQ_TXQ_SLOT_KERNEL;
			return STEERED;
		}
		return VMQ_FALLBACK_NOT_LIVE;
	}
}

/* The default queue's TX queue, or VMQ_TXQ_SLOT_KERNEL. */
static __always_inline __u32 default_txq(void)
{
	__u32 id = VMQ_DEFAULT_QUEUE;
	struct vmq_queue_entry *e = bpf_map_lookup_elem(&vmq_queues, &id);
	struct vmq_queue_entry entry;

	if (!e)
		return VMQ_TXQ_SLOT_KERNEL;
	*(__u32 *)&entry = *(volatile __u32 *)e; /* one load, as below */
	return entry.state == VMQ_QUEUE_TXQ ? entry.target : VMQ_TXQ_SLOT_KERNEL;
}

SEC("tc")
int vmq_tx_egress(struct __sk_buff *skb)
{
	__u32 id = (skb->mark & vmq_cfg.mark_mask) >> vmq_cfg.mark_shift;
	__u32 len = skb->len;
	struct vmq_queue_entry *e;
	struct vmq_queue_stats *qs;
	struct vmq_queue_entry entry;
	__u32 txq = VMQ_TXQ_SLOT_KERNEL, why = VMQ_FALLBACK_BEYOND_MAP;

#ifdef VMQ_TX_VARIANT
	/* The tests' variant build (make check): one extra instruction, so
	 * its tag differs and an upgrade to it is a real program swap. */
	asm volatile("r0 = 0" ::: "r0");
#endif
	/* No ID in the mark: the port the packet came in on may be bound on
	 * this uplink (uplink mode). A mark with an ID wins. One extra array
	 * lookup, only here; ifindex 0 (the host's own) and ifindexes beyond
	 * the array are not looked up. */
	if (!id) {
		__u32 in = skb->ingress_ifindex;

		if (in && in < VMQ_PORT_IFINDEX_MAX) {
			struct vmq_port_slot *ps = bpf_map_lookup_elem(&vmq_port_queues, &in);
			struct vmq_port_slot slot;

			if (ps) {
				*(__u32 *)&slot = *(volatile __u32 *)ps; /* one load */
				if (slot.flags & VMQ_PORT_SLOT_F_BOUND)
					id = slot.queue_id;
			}
		}
	}
	/* One lookup: this CPU's copy of the entry and the ID's counters. */
	qs = bpf_map_lookup_elem(&vmq_queue_stats, &id);
	if (qs) {
		/* One 32-bit load: a concurrent store is seen whole or not at all. */
		*(__u32 *)&entry = *(volatile __u32 *)&qs->entry;
		/* A free copy may be one never written (vmq_queues written
		 * alone: the bpftool path): the truth decides. */
		if (entry.state == VMQ_QUEUE_FREE) {
			e = bpf_map_lookup_elem(&vmq_queues, &id);
			if (e)
				*(__u32 *)&entry = *(volatile __u32 *)e;
		}
		why = resolve(skb, id, entry, &txq);
		if (why == STEERED) {
			qs->packets++;
			qs->bytes += len;
		} else {
			qs->fallback_packets++;
			qs->fallback_bytes += len;
		}
	}
	if (why != STEERED) {
		/* Not an error: a stale ID leaves on the default queue. */
		count(bpf_map_lookup_elem(&vmq_fallbacks, &why), len);
		txq = default_txq();
	}

	if (txq >= VMQ_TXQ_MAX) {
		/* Kernel choice: clear the recorded queue so the stack picks
		 * afresh (XPS, socket, hash) instead of reusing, say, a
		 * forwarded packet's RX queue. Counted here, off the steered
		 * path: the kernel's per-TX-queue figures cannot tell these
		 * packets apart. */
		__u32 slot = VMQ_COUNT_KERNEL_CHOICE;

		skb->queue_mapping = 0;
		count(bpf_map_lookup_elem(&vmq_fallbacks, &slot), len);
	} else {
		/* The stack takes a nonzero queue_mapping as "recorded queue
		 * + 1" (kernel-notes, general 1). */
		skb->queue_mapping = txq + 1;
	}
#ifdef VMQ_TX_OBSERVE
	/* The unit tests' build only: BPF_PROG_TEST_RUN copies cb back, not
	 * queue_mapping (kernel-notes, general 3), and vmq_tx keeps no
	 * per-TX-queue counter. 0: never written. */
	skb->cb[0] = (__u32)skb->queue_mapping + 1U;
#endif
	/* TC_ACT_UNSPEC: steering is a side effect; later egress filters
	 * still run and the packet is never dropped here. */
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
