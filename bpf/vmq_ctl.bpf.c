// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vmq_ctl: the control plane's writer. bpf_map_update_elem copies a value
 * with memcpy, which promises no single store; a packet could then read a
 * queue entry half old, half new. Run through BPF_PROG_TEST_RUN, this
 * program stores the whole 4-byte entry in one aligned 32-bit write, which
 * the program reading it loads in one read.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "vmq_abi.h"
#include "vmq_queues.bpf.h"

/* What each CPU's copy gets: the entry of one ID. */
struct copy_ctx {
	__u32 id;
	__u32 word;
	__u32 written;
};

static long store_copy(__u64 cpu, void *arg)
{
	struct copy_ctx *c = arg;
	struct vmq_queue_stats *qs = bpf_map_lookup_percpu_elem(&vmq_queue_stats, &c->id, cpu);

	if (!qs)
		return 1; /* beyond the CPUs there are */
	/* The copy's own word: the counters beside it are never written
	 * here, so no increment on that CPU can be lost. */
	*(volatile __u32 *)&qs->entry = c->word;
	c->written++;
	return 0;
}

/*
 * The truth first, then every CPU's copy. In between, a packet on a CPU
 * not yet written steers by the old entry: as it would have a moment
 * before. Returns how many copies were written (ncpus when all were).
 */
SEC("syscall")
int vmq_queue_store(struct vmq_queue_store_args *args)
{
	struct copy_ctx c = { .id = args->id, .word = *(__u32 *)&args->entry };
	struct vmq_queue_entry *e = bpf_map_lookup_elem(&vmq_queues, &c.id);

	if (!e)
		return -1;
	*(volatile __u32 *)e = c.word;
	bpf_loop(args->ncpus, store_copy, &c, 0);
	return (int)c.written;
}

/* The same for a port's slot in the uplink's vmq_port_queues. */
SEC("syscall")
int vmq_port_store(struct vmq_port_store_args *args)
{
	__u32 ifindex = args->ifindex;
	__u32 word = *(__u32 *)&args->slot;
	struct vmq_port_slot *s = bpf_map_lookup_elem(&vmq_port_queues, &ifindex);

	if (!s)
		return -1;
	*(volatile __u32 *)s = word;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
