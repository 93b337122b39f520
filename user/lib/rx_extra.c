// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * What vmqd needs of vmq_rx's maps beyond rx_maps.c: a queue in port mode
 * whose port is gone (unbound, or not back yet after a restart) keeps its
 * mode without a devmap slot, so its frames take the stack, counted as
 * no_target, until one port is bound to it again.
 */
#include <errno.h>
#include <bpf/bpf.h>

#include "libvmq.h"

int vmq_rx_port_drop(const struct vmq_dev *dev, __u32 queue_id)
{
	if (dev->rx_ports_fd < 0 || dev->rx_queues_fd < 0)
		return -ENOTCONN;
	if (queue_id >= dev->nr_queues)
		return -ERANGE;
	if (bpf_map_delete_elem(dev->rx_ports_fd, &queue_id) && errno != ENOENT)
		return -errno;
	return 0;
}

int vmq_rx_port_mode_unbound(const struct vmq_dev *dev, __u32 queue_id)
{
	struct vmq_rx_queue_entry e = { .mode = VMQ_RX_MODE_PORT };
	int err = vmq_rx_mode_set(dev, queue_id, VMQ_RX_MODE_PASS, 0);

	/* Through pass: a CPU entry the queue held is released, and the
	 * devmap slot is gone before the mode says port. */
	if (err)
		return err;
	return bpf_map_update_elem(dev->rx_queues_fd, &queue_id, &e, BPF_ANY) ? -errno : 0;
}
