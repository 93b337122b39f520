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

SEC("syscall")
int vmq_queue_store(struct vmq_queue_store_args *args)
{
	__u32 id = args->id;
	__u32 word = *(__u32 *)&args->entry;
	struct vmq_queue_entry *e = bpf_map_lookup_elem(&vmq_queues, &id);

	if (!e)
		return -1;
	*(volatile __u32 *)e = word;
	return 0;
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
