// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Queue, group and counter entries of one uplink's maps. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dev_priv.h"
#include "libvmq.h"

int vmq_queue_read(const struct vmq_dev *dev, __u32 id, struct vmq_queue_entry *entry)
{
	if (id >= dev->nr_queues)
		return -ERANGE;
	return bpf_map_lookup_elem(dev->queues_fd, &id, entry) ? -errno : 0;
}

/* Stores through vmq_queue_store: one 32-bit write that a packet sees whole,
 * to vmq_queues and to every possible CPU's copy in vmq_queue_stats. */
int vmq_queue_write(const struct vmq_dev *dev, __u32 id, struct vmq_queue_entry entry)
{
	int ncpus = libbpf_num_possible_cpus();
	struct vmq_queue_store_args args = { .id = id, .entry = entry };
	DECLARE_LIBBPF_OPTS(bpf_test_run_opts, run, .ctx_in = &args, .ctx_size_in = sizeof(args));

	if (id >= dev->nr_queues)
		return -ERANGE;
	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	args.ncpus = (__u32)ncpus;
	if (bpf_prog_test_run_opts(dev->store_fd, &run))
		return -errno;
	if ((int)run.retval < 0)
		return -ERANGE;
	/* Fewer copies than possible CPUs: the map is not what it seems. */
	return run.retval == args.ncpus ? 0 : -EIO;
}

/*
 * Makes every CPU's copy equal to vmq_queues, once, where it is not:
 * after vmq_queues was written alone (the bpftool path) or by an older
 * build. Counters are left as they are. *synced counts the IDs written.
 */
int vmq_queue_sync_copies(const struct vmq_dev *dev, unsigned int *synced)
{
	int ncpus = libbpf_num_possible_cpus();
	struct vmq_queue_entry *truth = calloc(dev->nr_queues, sizeof(*truth));
	struct vmq_queue_stats *vals = ncpus > 0 ? calloc((size_t)ncpus, sizeof(*vals)) : NULL;
	int err = truth && vals ? 0 : -ENOMEM;

	if (ncpus <= 0)
		err = ncpus ? ncpus : -EINVAL;
	*synced = 0;
	if (!err)
		err = vmq_queue_read_all(dev, truth);
	for (__u32 id = 0; !err && id < dev->nr_queues; id++) {
		bool same = true;

		if (bpf_map_lookup_elem(dev->queue_stats_fd, &id, vals)) {
			err = -errno;
			break;
		}
		for (int c = 0; c < ncpus; c++)
			same &= !memcmp(&vals[c].entry, &truth[id], sizeof(truth[id]));
		if (same)
			continue;
		err = vmq_queue_write(dev, id, truth[id]);
		(*synced)++;
	}
	free(truth);
	free(vals);
	return err;
}

/*
 * Every queue's metadata, a few hundred per batch syscall: metas and
 * present hold dev->nr_queues each; present[id] says metas[id] was found.
 * A snapshot of thousands of queues then costs a handful of syscalls, not
 * one per queue.
 */
int vmq_queue_meta_read_all(const struct vmq_dev *dev, struct vmq_queue_meta *metas, bool *present)
{
	enum { CHUNK = 256 };
	struct vmq_queue_meta *vals = calloc(CHUNK, sizeof(*vals));
	__u32 keys[CHUNK], batch = 0;
	bool first = true;
	int err = vals ? 0 : -ENOMEM;

	memset(present, 0, dev->nr_queues * sizeof(*present));
	while (!err) {
		__u32 count = CHUNK;

		err = bpf_map_lookup_batch(dev->queue_meta_fd, first ? NULL : &batch, &batch, keys,
					   vals, &count, NULL);
		first = false;
		for (__u32 i = 0; i < count && (!err || err == -ENOENT); i++) {
			if (keys[i] < dev->nr_queues) {
				metas[keys[i]] = vals[i];
				present[keys[i]] = true;
			}
		}
		if (err == -ENOENT) { /* the last batch */
			err = 0;
			break;
		}
	}
	free(vals);
	return err;
}

/* All entries in one batch syscall; `entries` holds dev->nr_queues. */
int vmq_queue_read_all(const struct vmq_dev *dev, struct vmq_queue_entry *entries)
{
	__u32 *keys = calloc(dev->nr_queues, sizeof(*keys));
	__u32 done = 0, out_batch = 0;
	int err = 0;

	if (!keys)
		return -ENOMEM;
	while (done < dev->nr_queues) {
		__u32 count = dev->nr_queues - done;

		err = bpf_map_lookup_batch(dev->queues_fd, done ? &out_batch : NULL, &out_batch,
					   keys + done, entries + done, &count, NULL);
		done += count;
		if (err) {
			err = err == -ENOENT ? 0 : err;
			break;
		}
	}
	free(keys);
	if (!err && done != dev->nr_queues)
		err = -EIO;
	return err;
}

int vmq_queue_meta_read(const struct vmq_dev *dev, __u32 id, struct vmq_queue_meta *meta)
{
	return bpf_map_lookup_elem(dev->queue_meta_fd, &id, meta) ? -errno : 0;
}

int vmq_queue_meta_write(const struct vmq_dev *dev, __u32 id, const struct vmq_queue_meta *meta)
{
	return bpf_map_update_elem(dev->queue_meta_fd, &id, meta, BPF_ANY) ? -errno : 0;
}

/* Keeps an entry only while it says something: names, or a flag. */
int vmq_queue_meta_update(const struct vmq_dev *dev, __u32 id, const struct vmq_queue_meta *meta)
{
	if (meta->vm[0] || meta->name[0] || meta->flags)
		return vmq_queue_meta_write(dev, id, meta);
	return vmq_queue_meta_delete(dev, id);
}

int vmq_queue_meta_next(const struct vmq_dev *dev, const __u32 *prev, __u32 *next)
{
	return bpf_map_get_next_key(dev->queue_meta_fd, prev, next) ? -errno : 0;
}

int vmq_queue_meta_delete(const struct vmq_dev *dev, __u32 id)
{
	if (bpf_map_delete_elem(dev->queue_meta_fd, &id) && errno != ENOENT)
		return -errno;
	return 0;
}

int vmq_group_read(const struct vmq_dev *dev, __u32 gid, struct vmq_group_entry *group)
{
	if (gid >= VMQ_GROUPS_MAX)
		return -ERANGE;
	return bpf_map_lookup_elem(dev->groups_fd, &gid, group) ? -errno : 0;
}

/* Spreads the hash slots over the members in turn: the control plane does
 * the arithmetic so the program only indexes. */
void vmq_group_fill(struct vmq_group_entry *group, const __u16 *txqs, __u16 ntxqs)
{
	memset(group, 0, sizeof(*group));
	group->ntxqs = ntxqs;
	memcpy(group->txqs, txqs, ntxqs * sizeof(*txqs));
	for (__u32 i = 0; ntxqs && i < VMQ_GROUP_SLOTS; i++)
		group->slots[i] = txqs[i % ntxqs];
}

int vmq_group_write(const struct vmq_dev *dev, __u32 gid, const __u16 *txqs, __u16 ntxqs)
{
	struct vmq_group_entry group;

	if (gid >= VMQ_GROUPS_MAX)
		return -ERANGE;
	if (!ntxqs || ntxqs > VMQ_GROUP_TXQS_MAX)
		return -EINVAL;
	for (__u16 i = 0; i < ntxqs; i++)
		if (txqs[i] >= VMQ_TXQ_MAX)
			return -ERANGE;
	vmq_group_fill(&group, txqs, ntxqs);
	return bpf_map_update_elem(dev->groups_fd, &gid, &group, BPF_ANY) ? -errno : 0;
}

int vmq_group_clear(const struct vmq_dev *dev, __u32 gid)
{
	struct vmq_group_entry group = {};

	if (gid >= VMQ_GROUPS_MAX)
		return -ERANGE;
	return bpf_map_update_elem(dev->groups_fd, &gid, &group, BPF_ANY) ? -errno : 0;
}

/*
 * Sums a per-CPU value whose __u64 counters start at byte `skip`; the bytes
 * before them are CPU 0's. The kernel returns one copy per possible CPU,
 * each rounded up to 8 bytes: counters are whole words.
 */
static int percpu_sum(int fd, __u32 key, void *sum, size_t size, size_t skip)
{
	int ncpus = libbpf_num_possible_cpus();
	size_t words = size / sizeof(__u64), first = skip / sizeof(__u64);
	__u64 *out = sum;
	__u64 *vals;
	int err = 0;

	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	vals = calloc((size_t)ncpus, size);
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &key, vals))
		err = -errno;
	memset(out, 0, size);
	memcpy(out, vals, skip);
	for (size_t c = 0; !err && c < (size_t)ncpus; c++)
		for (size_t w = first; w < words; w++)
			out[w] += vals[c * words + w];
	free(vals);
	return err;
}

int vmq_percpu_batch(int fd, __u32 n, size_t size, __u32 chunk,
		     int (*each)(const __u32 *keys, __u32 count, const void *vals, int ncpus,
				 void *arg),
		     void *arg)
{
	int ncpus = libbpf_num_possible_cpus();
	__u32 *keys, done = 0, batch = 0;
	void *vals;
	int err = 0;

	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	keys = calloc(chunk, sizeof(*keys));
	vals = calloc((size_t)ncpus * chunk, size);
	if (!keys || !vals)
		err = -ENOMEM;
	while (!err && done < n) {
		__u32 count = n - done < chunk ? n - done : chunk;

		err = bpf_map_lookup_batch(fd, done ? &batch : NULL, &batch, keys, vals, &count,
					   NULL);
		/* -ENOENT: the last batch, unless it came back empty. */
		if (err == -ENOENT)
			err = count ? 0 : -EIO;
		if (err || !count)
			break;
		err = each(keys, count, vals, ncpus, arg);
		done += count;
	}
	free(keys);
	free(vals);
	return err;
}

struct sum_ctx {
	__u64 *out;
	size_t words, first, skip;
};

static int sum_batch(const __u32 *keys, __u32 count, const void *vals, int ncpus, void *arg)
{
	const struct sum_ctx *s = arg;
	const __u64 *v = vals;

	for (__u32 i = 0; i < count; i++) {
		__u64 *out = &s->out[(size_t)keys[i] * s->words];

		memcpy(out, &v[(size_t)i * ncpus * s->words], s->skip);
		for (size_t c = 0; c < (size_t)ncpus; c++)
			for (size_t w = s->first; w < s->words; w++)
				out[w] += v[((size_t)i * ncpus + c) * s->words + w];
	}
	return 0;
}

/* Sums n per-CPU values of __u64 counters (from byte `skip`, as above),
 * keys 0..n-1, a chunk of keys per batch syscall. */
static int percpu_sum_all(int fd, __u32 n, size_t size, size_t skip, void *sums)
{
	struct sum_ctx s = { .out = sums,
			     .words = size / sizeof(__u64),
			     .first = skip / sizeof(__u64),
			     .skip = skip };

	memset(sums, 0, (size_t)n * size);
	return vmq_percpu_batch(fd, n, size, 1024, sum_batch, &s);
}

/* The counters summed over CPUs; `entry` is CPU 0's copy. */
int vmq_queue_stats_read_all(const struct vmq_dev *dev, struct vmq_queue_stats *sums)
{
	return percpu_sum_all(dev->queue_stats_fd, dev->nr_queues, sizeof(*sums),
			      offsetof(struct vmq_queue_stats, packets), sums);
}

int vmq_queue_stats_read(const struct vmq_dev *dev, __u32 id, struct vmq_queue_stats *sum)
{
	if (id >= dev->nr_queues)
		return -ERANGE;
	return percpu_sum(dev->queue_stats_fd, id, sum, sizeof(*sum),
			  offsetof(struct vmq_queue_stats, packets));
}

/* Packets left to the kernel's TX queue choice. */
int vmq_kernel_choice_read(const struct vmq_dev *dev, struct vmq_counter *sum)
{
	return percpu_sum(dev->fallbacks_fd, VMQ_COUNT_KERNEL_CHOICE, sum, sizeof(*sum), 0);
}

int vmq_fallback_read(const struct vmq_dev *dev, __u32 reason, struct vmq_counter *sum)
{
	if (reason >= VMQ_FALLBACK_REASONS)
		return -ERANGE;
	return percpu_sum(dev->fallbacks_fd, reason, sum, sizeof(*sum), 0);
}

/* For rx_maps.c: the same sums on vmq_rx's per-CPU maps. */
int vmq_percpu_sum(int fd, __u32 key, void *sum, size_t size, size_t skip)
{
	return percpu_sum(fd, key, sum, size, skip);
}

int vmq_percpu_sum_all(int fd, __u32 n, size_t size, size_t skip, void *sums)
{
	return percpu_sum_all(fd, n, size, skip, sums);
}
