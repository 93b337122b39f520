// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Keeping queues true to the device when its TX queues change (ethtool -L,
 * a driver reload). A queue whose TX queue no longer exists is degraded:
 * its entry becomes a copy of the default queue's, so its packets leave on
 * the default queue, never on a TX queue the kernel would pick by wrapping
 * the number; what it was is kept in its metadata and put back when the TX
 * queue returns.
 */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "vmqd.h"

/* Whether an entry names only TX queues below ntxqs. */
static bool entry_fits(const struct vmq_dev *dp, const struct vmq_queue_entry *e,
		       unsigned int ntxqs)
{
	struct vmq_group_entry g;

	switch (e->state) {
	case VMQ_QUEUE_TXQ:
		return e->target < ntxqs;
	case VMQ_QUEUE_GROUP:
		/* A group deleted meanwhile is nothing to come back to. */
		if (vmq_group_read(dp, e->target, &g) || !g.ntxqs)
			return false;
		for (__u16 i = 0; i < g.ntxqs; i++)
			if (g.txqs[i] >= ntxqs)
				return false;
		return true;
	default:
		return true;
	}
}

static void describe(const struct vmq_queue_entry *e, char *buf, size_t size)
{
	if (e->state == VMQ_QUEUE_GROUP)
		snprintf(buf, size, "group %u", e->target);
	else if (e->state == VMQ_QUEUE_TXQ)
		snprintf(buf, size, "txq %u", e->target);
	else
		snprintf(buf, size, "auto");
}

/* Degrades or restores one queue; *changed counts what moved. */
static int reconcile_one(struct vmqd_dev *dev, __u32 id, struct vmq_queue_entry cur,
			 struct vmq_queue_entry fallback, unsigned int ntxqs, unsigned int *changed)
{
	struct vmq_queue_meta meta = {};
	bool has_meta = !vmq_queue_meta_read(&dev->dp, id, &meta);
	bool degraded = has_meta && (meta.flags & VMQ_META_F_DEGRADED);
	char what[32];
	int err = 0;

	if (!degraded && !entry_fits(&dev->dp, &cur, ntxqs)) {
		meta.flags |= VMQ_META_F_DEGRADED;
		meta.want = cur;
		err = vmq_queue_meta_write(&dev->dp, id, &meta);
		if (!err)
			err = vmq_queue_write(&dev->dp, id, fallback);
		describe(&cur, what, sizeof(what));
		log_warn(
			"queue %u on %s: %s no longer exists (%u TX queues): degraded, its packets "
			"leave on the default queue",
			id, dev->dp.ifname, what, ntxqs);
		(*changed)++;
	} else if (degraded && entry_fits(&dev->dp, &meta.want, ntxqs)) {
		err = vmq_queue_write(&dev->dp, id, meta.want);
		meta.flags &= ~VMQ_META_F_DEGRADED;
		if (!err)
			err = vmq_queue_meta_update(&dev->dp, id, &meta);
		describe(&meta.want, what, sizeof(what));
		log_info("queue %u on %s: %s is back: restored", id, dev->dp.ifname, what);
		(*changed)++;
	} else if (degraded && memcmp(&cur, &fallback, sizeof(cur))) {
		/* Still degraded: follow the default queue wherever it went. */
		err = vmq_queue_write(&dev->dp, id, fallback);
	}
	return err;
}

/*
 * Brings every queue of dev in line with its current TX queue count: queue
 * 0 first (the others copy it), then the rest. Returns how many changed.
 */
int vmqd_reconcile(struct vmqd_dev *dev, unsigned int *changed)
{
	struct vmq_queue_entry *entries = calloc(dev->dp.nr_queues, sizeof(*entries));
	struct vmq_queue_entry fallback;
	unsigned int ntxqs;
	int err;

	*changed = 0;
	if (!entries)
		return -ENOMEM;
	err = vmq_netdev_txqs(dev->dp.ifname, &ntxqs);
	if (!err)
		err = vmq_queue_read_all(&dev->dp, entries);
	/* Queue 0 degraded falls back to the kernel's choice. */
	if (!err)
		err = reconcile_one(dev, VMQ_DEFAULT_QUEUE, entries[0],
				    (struct vmq_queue_entry){ .state = VMQ_QUEUE_KERNEL }, ntxqs,
				    changed);
	if (!err)
		err = vmq_queue_read(&dev->dp, VMQ_DEFAULT_QUEUE, &fallback);
	if (!err && fallback.state == VMQ_QUEUE_FREE)
		fallback.state = VMQ_QUEUE_KERNEL;
	for (__u32 id = 1; !err && id < dev->dp.nr_queues; id++)
		if (entries[id].state != VMQ_QUEUE_FREE)
			err = reconcile_one(dev, id, entries[id], fallback, ntxqs, changed);
	free(entries);
	if (!err)
		dev->ntxqs = ntxqs;
	return err;
}

/* Queues of dev waiting for a TX queue to come back. */
unsigned int vmqd_degraded_count(struct vmqd_dev *dev)
{
	struct vmq_queue_meta meta;
	unsigned int n = 0;
	__u32 id;
	int err;

	for (err = vmq_queue_meta_next(&dev->dp, NULL, &id); !err;
	     err = vmq_queue_meta_next(&dev->dp, &id, &id))
		n += !vmq_queue_meta_read(&dev->dp, id, &meta) &&
		     (meta.flags & VMQ_META_F_DEGRADED);
	return n;
}

/*
 * Drops metadata whose queue is not live. A queue add writes the metadata
 * first (a live queue never lacks its names and flags) and a queue del
 * frees the entry first, so a vmqd killed between the two writes leaves
 * metadata alone, never a live queue without it: this sweep, at adoption,
 * removes it. Queue 0 always exists, whatever its entry says.
 */
int vmqd_sweep_meta(struct vmqd_dev *dev, unsigned int *swept)
{
	__u32 n = dev->dp.nr_queues, id, *orphans = NULL;
	struct vmq_queue_entry *entries = calloc(n, sizeof(*entries));
	size_t norphans = 0, cap = 0;
	int err = entries ? vmq_queue_read_all(&dev->dp, entries) : -ENOMEM;

	*swept = 0;
	for (int next = err ? -1 : vmq_queue_meta_next(&dev->dp, NULL, &id); !next && !err;
	     next = vmq_queue_meta_next(&dev->dp, &id, &id)) {
		if (id == VMQ_DEFAULT_QUEUE || (id < n && entries[id].state != VMQ_QUEUE_FREE))
			continue;
		if (norphans == cap) {
			__u32 *more = realloc(orphans, (cap ? cap * 2 : 64) * sizeof(*orphans));

			if (!more) {
				err = -ENOMEM;
				break;
			}
			orphans = more;
			cap = cap ? cap * 2 : 64;
		}
		orphans[norphans++] = id;
	}
	/* Deleted after the walk: a hash map's walk restarts at a deleted key. */
	for (size_t i = 0; !err && i < norphans; i++) {
		err = vmq_queue_meta_delete(&dev->dp, orphans[i]);
		*swept += !err;
	}
	free(orphans);
	free(entries);
	return err;
}
