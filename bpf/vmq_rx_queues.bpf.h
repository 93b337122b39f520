/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Each queue's receive mode, shared by vmq_rx (reads it per frame) and vmq_rx_ctl (writes an
 * entry in one store); user space reuses one fd for both. */
#ifndef VMQ_RX_QUEUES_BPF_H
#define VMQ_RX_QUEUES_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VMQ_QUEUES_DEFAULT); /* sized like vmq_queues */
	__type(key, __u32);
	__type(value, struct vmq_rx_queue_entry);
} vmq_rx_queues SEC(".maps");

#endif /* VMQ_RX_QUEUES_BPF_H */
