/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The queues map, its per-CPU copies and the port slots, declared once for the objects that
 * share them: vmq_tx reads them per packet, vmq_ctl writes them (user space reuses one fd for
 * both). */
#ifndef VMQ_QUEUES_BPF_H
#define VMQ_QUEUES_BPF_H

#include "vmq_queue_map.bpf.h"

/* Per ID and CPU: the entry's copy and the ID's counters (vmq_abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VMQ_QUEUES_DEFAULT); /* sized like vmq_queues */
	__type(key, __u32);
	__type(value, struct vmq_queue_stats);
} vmq_queue_stats SEC(".maps");

/* Port bindings resolved at the uplink: slot = the port's ifindex. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VMQ_PORT_IFINDEX_MAX);
	__type(key, __u32);
	__type(value, struct vmq_port_slot);
} vmq_port_queues SEC(".maps");

#endif /* VMQ_QUEUES_BPF_H */
