/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The queues map alone, for the objects that share it (user space reuses one fd): vmq_tx
 * and vmq_ctl (through vmq_queues.bpf.h), and vmq_rx, for which a queue is live for receive
 * exactly when it is for transmit. */
#ifndef VMQ_QUEUE_MAP_BPF_H
#define VMQ_QUEUE_MAP_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VMQ_QUEUES_DEFAULT); /* resized at load time */
	__type(key, __u32);
	__type(value, struct vmq_queue_entry);
} vmq_queues SEC(".maps");

#endif /* VMQ_QUEUE_MAP_BPF_H */
