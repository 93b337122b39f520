// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Automatic allocation: the lowest free queue ID ("id auto"), and where a
 * queue goes when vmqd chooses ("txq any"): the TX queue with the fewest
 * queues on it, ties broken by the lowest recent load.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vmqd.h"

int vmqd_lowest_free_id(struct vmqd_dev *dev, __u32 *id)
{
	struct vmq_queue_entry *entries = calloc(dev->dp.nr_queues, sizeof(*entries));
	int err = entries ? vmq_queue_read_all(&dev->dp, entries) : -ENOMEM;

	for (__u32 i = 1; !err && i < dev->dp.nr_queues; i++) {
		if (entries[i].state == VMQ_QUEUE_FREE) {
			*id = i;
			free(entries);
			return 0;
		}
	}
	free(entries);
	return err ? err : -ENOSPC;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Bytes per TX queue since the previous look (at most a few seconds old, so
 * "recent"), as the kernel counted them (mq's classes: every sender's, not
 * vmq's alone); the first look has no history and sees no load, and
 * neither does a device without mq counters. */
static int recent_load(struct vmqd_dev *dev, unsigned int ntxqs, __u64 *load)
{
	struct vmq_txq_kernel *k = calloc(ntxqs, sizeof(*k));
	struct vmq_counter *now = calloc(VMQ_TXQ_SLOTS, sizeof(*now));
	double t = now_s();
	int err = k && now ? 0 : -ENOMEM;

	if (!err && ntxqs > VMQ_TXQ_MAX)
		ntxqs = VMQ_TXQ_MAX;
	/* Unreadable figures (the device went away) are no load: the load
	 * only breaks ties. */
	if (!err && vmq_netdev_txq_kernel(dev->dp.ifname, dev->dp.ifindex, ntxqs, k))
		memset(k, 0, ntxqs * sizeof(*k));
	if (err) {
		free(k);
		free(now);
		return err;
	}
	for (unsigned int q = 0; q < ntxqs; q++) {
		now[q].packets = k[q].packets;
		now[q].bytes = k[q].bytes;
	}
	free(k);
	for (unsigned int q = 0; q < ntxqs; q++)
		load[q] = dev->load_prev && now[q].bytes >= dev->load_prev[q].bytes
				  ? now[q].bytes - dev->load_prev[q].bytes
				  : 0;
	/* Keep a window of about a second: older history is not recent. */
	if (!dev->load_prev || t - dev->load_prev_time >= 1.0) {
		free(dev->load_prev);
		dev->load_prev = now;
		dev->load_prev_time = t;
	} else {
		free(now);
	}
	return 0;
}

int vmqd_place_txq(struct vmqd_dev *dev, unsigned int ntxqs, __u32 exclude_id, __u16 *txq)
{
	struct vmq_queue_entry *entries = calloc(dev->dp.nr_queues, sizeof(*entries));
	unsigned int *count = calloc(ntxqs ? ntxqs : 1, sizeof(*count));
	__u64 *load = calloc(ntxqs ? ntxqs : 1, sizeof(*load));
	int err = entries && count && load ? 0 : -ENOMEM;
	unsigned int best = 0;

	if (!err && !ntxqs)
		err = -ENODEV;
	if (!err)
		err = vmq_queue_read_all(&dev->dp, entries);
	if (!err)
		err = recent_load(dev, ntxqs, load);
	for (__u32 id = 0; !err && id < dev->dp.nr_queues; id++) {
		const struct vmq_queue_entry *e = &entries[id];
		struct vmq_group_entry g;

		if (id == exclude_id)
			continue;
		if (e->state == VMQ_QUEUE_TXQ && e->target < ntxqs) {
			count[e->target]++;
		} else if (e->state == VMQ_QUEUE_GROUP &&
			   !vmq_group_read(&dev->dp, e->target, &g)) {
			/* A group's queue weighs on every member. */
			for (unsigned int i = 0; i < g.ntxqs && i < VMQ_GROUP_TXQS_MAX; i++)
				if (g.txqs[i] < ntxqs)
					count[g.txqs[i]]++;
		}
	}
	for (unsigned int q = 1; !err && q < ntxqs; q++)
		if (count[q] < count[best] || (count[q] == count[best] && load[q] < load[best]))
			best = q;
	if (!err)
		*txq = (__u16)best;
	free(entries);
	free(count);
	free(load);
	return err;
}
