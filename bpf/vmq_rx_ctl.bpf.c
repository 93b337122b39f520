// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vmq_rx_ctl: the control plane's writer of receive modes, as vmq_ctl is
 * of queue entries: bpf_map_update_elem copies with memcpy, which promises
 * no single store, so a frame could read a mode half old, half new. Run
 * through BPF_PROG_TEST_RUN, this stores the 4-byte entry in one write.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "vmq_abi.h"

#include "vmq_rx_queues.bpf.h"

SEC("syscall")
int vmq_rx_store(struct vmq_rx_store_args *args)
{
	__u32 id = args->id;
	struct vmq_rx_queue_entry *e = bpf_map_lookup_elem(&vmq_rx_queues, &id);

	if (!e)
		return -1;
	*(volatile __u32 *)e = *(__u32 *)&args->entry;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
