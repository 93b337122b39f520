// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vmq_rx's maps: filters, receive modes with their cpumap and devmap
 * entries, counters. bpf_map_* calls only (no libbpf object), so a fake
 * kernel can stand in for the maps.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "dev_priv.h"
#include "libvmq.h"

static bool rx_loaded(const struct vmq_dev *dev)
{
	return dev->rx_filters_fd >= 0 && dev->rx_queues_fd >= 0 && dev->rx_queue_stats_fd >= 0 &&
	       dev->rx_outcomes_fd >= 0 && dev->rx_cpus_fd >= 0 && dev->rx_ports_fd >= 0;
}

int vmq_rx_filter_get(const struct vmq_dev *dev, const struct vmq_rx_filter_key *key,
		      struct vmq_rx_filter *filter)
{
	if (!rx_loaded(dev))
		return -ENOTCONN;
	return bpf_map_lookup_elem(dev->rx_filters_fd, key, filter) ? -errno : 0;
}

int vmq_rx_filter_add(const struct vmq_dev *dev, const struct vmq_rx_filter_key *key,
		      __u32 queue_id, __u32 *owner)
{
	struct vmq_rx_filter f = { .queue_id = queue_id }, old;
	int err;

	if (!rx_loaded(dev))
		return -ENOTCONN;
	if (queue_id >= dev->nr_queues)
		return -ERANGE;
	if (key->vlan > VMQ_RX_VLAN_MAX || (key->mac[0] & 1))
		return -EINVAL;
	/* BPF_NOEXIST: of two writers of one key, one wins and the other
	 * learns the owner, never overwrites it. */
	if (!bpf_map_update_elem(dev->rx_filters_fd, key, &f, BPF_NOEXIST))
		return 0;
	err = -errno;
	if (err != -EEXIST)
		return err;
	err = vmq_rx_filter_get(dev, key, &old);
	if (err == -ENOENT) /* deleted in between: try once more */
		return bpf_map_update_elem(dev->rx_filters_fd, key, &f, BPF_NOEXIST) ? -errno : 0;
	if (err)
		return err;
	if (owner)
		*owner = old.queue_id;
	return old.queue_id == queue_id ? 0 : -EEXIST;
}

int vmq_rx_filter_del(const struct vmq_dev *dev, const struct vmq_rx_filter_key *key)
{
	if (!rx_loaded(dev))
		return -ENOTCONN;
	return bpf_map_delete_elem(dev->rx_filters_fd, key) ? -errno : 0;
}

int vmq_rx_filter_for_each(const struct vmq_dev *dev,
			   int (*fn)(const struct vmq_rx_filter_key *key,
				     const struct vmq_rx_filter *filter, void *ctx),
			   void *ctx)
{
	struct vmq_rx_filter_key key, next;
	struct vmq_rx_filter f;
	bool first = true;
	int err;

	if (!rx_loaded(dev))
		return -ENOTCONN;
	for (;;) {
		if (bpf_map_get_next_key(dev->rx_filters_fd, first ? NULL : &key, &next))
			return errno == ENOENT ? 0 : -errno;
		first = false;
		key = next;
		if (bpf_map_lookup_elem(dev->rx_filters_fd, &key, &f)) {
			if (errno == ENOENT) /* deleted meanwhile */
				continue;
			return -errno;
		}
		err = fn(&key, &f, ctx);
		if (err)
			return err;
	}
}

/* Keys are collected first: deleting while walking a hash can restart
 * the walk (get_next_key of a deleted key starts over). */
struct del_ctx {
	__u32 queue_id;
	struct vmq_rx_filter_key *keys;
	size_t n, cap;
};

static int collect(const struct vmq_rx_filter_key *key, const struct vmq_rx_filter *f, void *arg)
{
	struct del_ctx *d = arg;

	if (f->queue_id != d->queue_id)
		return 0;
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 16;
		struct vmq_rx_filter_key *k = realloc(d->keys, cap * sizeof(*k));

		if (!k)
			return -ENOMEM;
		d->keys = k;
		d->cap = cap;
	}
	d->keys[d->n++] = *key;
	return 0;
}

int vmq_rx_filter_del_queue(const struct vmq_dev *dev, __u32 queue_id, unsigned int *deleted)
{
	struct del_ctx d = { .queue_id = queue_id };
	int err = vmq_rx_filter_for_each(dev, collect, &d);

	*deleted = 0;
	for (size_t i = 0; !err && i < d.n; i++) {
		err = vmq_rx_filter_del(dev, &d.keys[i]);
		if (err == -ENOENT) /* gone meanwhile */
			err = 0;
		else if (!err)
			(*deleted)++;
	}
	free(d.keys);
	return err;
}

int vmq_cpu_online(__u32 cpu, bool *online)
{
	char path[64], c = '1';
	int n = libbpf_num_possible_cpus();
	FILE *f;

	*online = false;
	if (n < 0)
		return n;
	if (cpu >= (__u32)n)
		return 0;
	/* CPU 0 often has no "online" file: it cannot be taken offline. */
	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%u/online", cpu);
	f = fopen(path, "re");
	if (f) {
		if (fread(&c, 1, 1, f) != 1)
			c = '0';
		fclose(f);
	} else {
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%u", cpu);
		f = fopen(path, "re");
		if (!f && errno == ENOENT)
			return 0;
		if (f)
			fclose(f);
	}
	*online = c == '1';
	return 0;
}

/* One 32-bit store through vmq_rx_store, or an update without it. */
static int entry_store(const struct vmq_dev *dev, __u32 id, struct vmq_rx_queue_entry entry)
{
	struct vmq_rx_store_args args = { .id = id, .entry = entry };
	DECLARE_LIBBPF_OPTS(bpf_test_run_opts, run, .ctx_in = &args, .ctx_size_in = sizeof(args));

	if (dev->rx_store_fd < 0)
		return bpf_map_update_elem(dev->rx_queues_fd, &id, &entry, BPF_ANY) ? -errno : 0;
	if (bpf_prog_test_run_opts(dev->rx_store_fd, &run))
		return -errno;
	return (int)run.retval < 0 ? -ERANGE : 0;
}

int vmq_rx_cpu_entry(const struct vmq_dev *dev, __u32 cpu, __u32 *qsize)
{
	struct bpf_cpumap_val v = { 0 };

	if (!rx_loaded(dev))
		return -ENOTCONN;
	if (cpu >= dev->rx_ncpus)
		return -ENOENT;
	/* An empty slot of a cpumap: ENOENT. */
	if (bpf_map_lookup_elem(dev->rx_cpus_fd, &cpu, &v))
		return -errno;
	*qsize = v.qsize;
	return 0;
}

int vmq_rx_port_entry(const struct vmq_dev *dev, __u32 queue_id, __u32 *ifindex)
{
	__u32 v = 0;

	if (!rx_loaded(dev))
		return -ENOTCONN;
	if (queue_id >= dev->nr_queues)
		return -ERANGE;
	if (bpf_map_lookup_elem(dev->rx_ports_fd, &queue_id, &v))
		return -errno;
	*ifindex = v;
	return 0;
}

int vmq_rx_mode_get(const struct vmq_dev *dev, __u32 queue_id, struct vmq_rx_queue_entry *entry,
		    __u32 *port_ifindex)
{
	int err;

	if (!rx_loaded(dev))
		return -ENOTCONN;
	if (queue_id >= dev->nr_queues)
		return -ERANGE;
	if (bpf_map_lookup_elem(dev->rx_queues_fd, &queue_id, entry))
		return -errno;
	if (!port_ifindex)
		return 0;
	*port_ifindex = 0;
	err = vmq_rx_port_entry(dev, queue_id, port_ifindex);
	return err == -ENOENT ? 0 : err;
}

/* Removes the cpumap entries no queue's mode names (their kthreads go
 * with them). Best effort: a leftover entry costs a kthread, not a frame. */
static int cpus_gc(const struct vmq_dev *dev)
{
	bool *used = calloc(dev->rx_ncpus ? dev->rx_ncpus : 1, sizeof(*used));
	struct vmq_rx_queue_entry e;
	int err = used ? 0 : -ENOMEM;

	for (__u32 id = 0; !err && id < dev->nr_queues; id++) {
		if (bpf_map_lookup_elem(dev->rx_queues_fd, &id, &e))
			err = -errno;
		else if (e.mode == VMQ_RX_MODE_CPU && e.cpu < dev->rx_ncpus)
			used[e.cpu] = true;
	}
	for (__u32 cpu = 0; !err && cpu < dev->rx_ncpus; cpu++)
		if (!used[cpu] && bpf_map_delete_elem(dev->rx_cpus_fd, &cpu) && errno != ENOENT)
			err = -errno;
	free(used);
	return err;
}

int vmq_rx_mode_set(const struct vmq_dev *dev, __u32 queue_id, enum vmq_rx_mode mode, __u32 arg)
{
	struct vmq_rx_queue_entry entry = { .mode = (__u16)mode }, old;
	struct bpf_cpumap_val cv = { .qsize = VMQ_RX_CPU_QSIZE };
	char name[IF_NAMESIZE];
	bool online;
	__u32 q;
	int err;

	if (!rx_loaded(dev))
		return -ENOTCONN;
	if (queue_id >= dev->nr_queues)
		return -ERANGE;
	if (bpf_map_lookup_elem(dev->rx_queues_fd, &queue_id, &old))
		return -errno;
	switch (mode) {
	case VMQ_RX_MODE_CPU:
		err = vmq_cpu_online(arg, &online);
		if (err)
			return err;
		if (!online || arg >= dev->rx_ncpus || arg > 0xffffU)
			return -ENODEV;
		entry.cpu = (__u16)arg;
		/* The CPU's entry first: its kthread is there before a frame. */
		if (vmq_rx_cpu_entry(dev, arg, &q) &&
		    bpf_map_update_elem(dev->rx_cpus_fd, &arg, &cv, BPF_ANY))
			return -errno;
		break;
	case VMQ_RX_MODE_PORT:
		if (!arg)
			return -EINVAL;
		if (!if_indextoname(arg, name))
			return -ENODEV;
		if (bpf_map_update_elem(dev->rx_ports_fd, &queue_id, &arg, BPF_ANY))
			return -errno;
		break;
	case VMQ_RX_MODE_PASS:
		break;
	default:
		return -EINVAL;
	}
	err = entry_store(dev, queue_id, entry);
	if (err) {
		if (mode == VMQ_RX_MODE_PORT && old.mode != VMQ_RX_MODE_PORT)
			bpf_map_delete_elem(dev->rx_ports_fd, &queue_id);
		if (mode == VMQ_RX_MODE_CPU)
			cpus_gc(dev);
		return err;
	}
	if (mode != VMQ_RX_MODE_PORT && bpf_map_delete_elem(dev->rx_ports_fd, &queue_id) &&
	    errno != ENOENT)
		return -errno;
	return old.mode == VMQ_RX_MODE_CPU ? cpus_gc(dev) : 0;
}

int vmq_rx_mode_clear(const struct vmq_dev *dev, __u32 queue_id)
{
	return vmq_rx_mode_set(dev, queue_id, VMQ_RX_MODE_PASS, 0);
}

int vmq_rx_queue_stats_read(const struct vmq_dev *dev, __u32 id, struct vmq_rx_queue_stats *sum)
{
	if (!rx_loaded(dev))
		return -ENOTCONN;
	if (id >= dev->nr_queues)
		return -ERANGE;
	return vmq_percpu_sum(dev->rx_queue_stats_fd, id, sum, sizeof(*sum), 0);
}

int vmq_rx_queue_stats_read_all(const struct vmq_dev *dev, struct vmq_rx_queue_stats *sums)
{
	if (!rx_loaded(dev))
		return -ENOTCONN;
	return vmq_percpu_sum_all(dev->rx_queue_stats_fd, dev->nr_queues, sizeof(*sums), 0, sums);
}

int vmq_rx_outcome_read(const struct vmq_dev *dev, __u32 outcome, struct vmq_counter *sum)
{
	if (!rx_loaded(dev))
		return -ENOTCONN;
	if (outcome >= VMQ_RX_OUTCOMES)
		return -ERANGE;
	return vmq_percpu_sum(dev->rx_outcomes_fd, outcome, sum, sizeof(*sum), 0);
}

int vmq_rx_outcomes_read_all(const struct vmq_dev *dev, struct vmq_counter *sums)
{
	if (!rx_loaded(dev))
		return -ENOTCONN;
	return vmq_percpu_sum_all(dev->rx_outcomes_fd, VMQ_RX_OUTCOMES, sizeof(*sums), 0, sums);
}

const char *vmq_rx_mode_name(__u32 mode)
{
	static const char *const names[VMQ_RX_MODES] = {
		[VMQ_RX_MODE_PASS] = "pass",
		[VMQ_RX_MODE_CPU] = "cpu",
		[VMQ_RX_MODE_PORT] = "port",
	};

	return mode < VMQ_RX_MODES ? names[mode] : NULL;
}

const char *vmq_rx_outcome_name(__u32 outcome)
{
	static const char *const names[VMQ_RX_OUTCOMES] = {
		[VMQ_RX_TO_CPU] = "cpu",	  [VMQ_RX_TO_PORT] = "port",
		[VMQ_RX_TO_STACK] = "pass",	  [VMQ_RX_UNMATCHED] = "unmatched",
		[VMQ_RX_BROADCAST] = "broadcast", [VMQ_RX_MULTICAST] = "multicast",
		[VMQ_RX_NOT_LIVE] = "not_live",	  [VMQ_RX_NO_TARGET] = "no_target",
		[VMQ_RX_MALFORMED] = "malformed",
	};

	return outcome < VMQ_RX_OUTCOMES ? names[outcome] : NULL;
}

/* Port mode without a port: a queue whose port is gone (unbound, or not back
 * yet after a restart) keeps its mode without a devmap slot, so its frames
 * take the stack, counted as no_target, until one port is bound to it again. */
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
	/* Through pass: a CPU entry the queue held is released, and the devmap
	 * slot is gone before the mode says port. */
	int err = vmq_rx_mode_set(dev, queue_id, VMQ_RX_MODE_PASS, 0);

	if (err)
		return err;
	return entry_store(dev, queue_id, (struct vmq_rx_queue_entry){ .mode = VMQ_RX_MODE_PORT });
}
