// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* stats show: vmq's own per-CPU counters, summed, per queue ID and per
 * fallback reason; per TX queue, the kernel's (mq's class counters). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "balance.h"
#include "vmqd.h"

static struct json_object *counter_json(__u64 packets, __u64 bytes, struct json_object *o)
{
	vmqd_json_add(o, "packets", vmqd_json_uint(packets));
	vmqd_json_add(o, "bytes", vmqd_json_uint(bytes));
	return o;
}

static const char *const fallback_names[VMQ_FALLBACK_REASONS] = {
	[VMQ_FALLBACK_NOT_LIVE] = "not_live",
	[VMQ_FALLBACK_BEYOND_MAP] = "beyond_map",
	[VMQ_FALLBACK_BAD_GROUP] = "bad_group",
};

static int queues_json(struct vmqd_dev *dev, struct json_object *list)
{
	__u32 n = dev->dp.nr_queues;
	struct vmq_queue_entry *entries = calloc(n, sizeof(*entries));
	struct vmq_queue_stats *stats = calloc(n, sizeof(*stats));
	/* The receive side's, once it is loaded: zeros otherwise. */
	struct vmq_rx_queue_stats *rx = calloc(n, sizeof(*rx));
	bool has_rx = vmqd_rx_loaded(dev);
	int err = entries && stats && rx ? 0 : -ENOMEM;

	if (!err)
		err = vmq_queue_read_all(&dev->dp, entries);
	if (!err)
		err = vmq_queue_stats_read_all(&dev->dp, stats);
	if (!err && has_rx)
		err = vmq_rx_queue_stats_read_all(&dev->dp, rx);
	for (__u32 id = 0; !err && id < n; id++) {
		const struct vmq_queue_stats *s = &stats[id];
		const struct vmq_rx_queue_stats *x = &rx[id];
		struct vmq_queue_meta meta;
		struct json_object *o;

		if (entries[id].state == VMQ_QUEUE_FREE && id != VMQ_DEFAULT_QUEUE && !s->packets &&
		    !s->fallback_packets && !x->packets && !x->fallback_packets)
			continue;
		o = vmqd_json_object();
		vmqd_json_add(o, "id", vmqd_json_int(id));
		vmqd_json_entry_target(&entries[id], o);
		/* Metadata counts only with a live entry: a queue add writes it
		 * first, a queue del drops it last. */
		if ((entries[id].state != VMQ_QUEUE_FREE || id == VMQ_DEFAULT_QUEUE) &&
		    !vmq_queue_meta_read(&dev->dp, id, &meta)) {
			if (meta.vm[0])
				vmqd_json_add(o, "vm", vmqd_json_string(meta.vm));
			if (meta.flags & VMQ_META_F_DEGRADED)
				vmqd_json_degraded(&meta, o);
		}
		counter_json(s->packets, s->bytes, o);
		vmqd_json_add(o, "fallback_packets", vmqd_json_uint(s->fallback_packets));
		vmqd_json_add(o, "fallback_bytes", vmqd_json_uint(s->fallback_bytes));
		if (has_rx) {
			vmqd_json_add(o, "rx_packets", vmqd_json_uint(x->packets));
			vmqd_json_add(o, "rx_bytes", vmqd_json_uint(x->bytes));
			vmqd_json_add(o, "rx_fallback_packets",
				      vmqd_json_uint(x->fallback_packets));
			vmqd_json_add(o, "rx_fallback_bytes", vmqd_json_uint(x->fallback_bytes));
		}
		vmqd_json_append(list, o);
	}
	free(entries);
	free(stats);
	free(rx);
	return err;
}

/* What became of every received frame: "rx_outcomes": {"cpu", "port",
 * "pass", then the default queue's reasons}, once rx is loaded. */
static int rx_outcomes_json(struct vmqd_dev *dev, struct json_object *o)
{
	struct vmq_counter sums[VMQ_RX_OUTCOMES];
	struct json_object *out;
	int err;

	if (!vmqd_rx_loaded(dev))
		return 0;
	err = vmq_rx_outcomes_read_all(&dev->dp, sums);
	if (err)
		return err;
	out = vmqd_json_object();
	for (__u32 i = 0; i < VMQ_RX_OUTCOMES; i++)
		if (vmq_rx_outcome_name(i))
			vmqd_json_add(
				out, vmq_rx_outcome_name(i),
				counter_json(sums[i].packets, sums[i].bytes, vmqd_json_object()));
	vmqd_json_add(o, "rx_outcomes", out);
	return 0;
}

/*
 * Every TX queue of the device with the kernel's figures: vmq_tx keeps no
 * per-TX-queue counter (one map lookup less per packet). With no mq root
 * qdisc the kernel has none either: no "kernel" member then, and
 * "txq_counters" says "none" rather than a column of invented zeros.
 */
static int txqs_json(struct vmqd_dev *dev, struct json_object *list, bool *have)
{
	struct vmq_txq_kernel *kernel = NULL;
	unsigned int ntxqs = 0;
	int err;

	*have = false;
	if (vmq_netdev_txqs(dev->dp.ifname, &ntxqs))
		ntxqs = 0; /* the device is gone: nothing to list */
	if (ntxqs > VMQ_TXQ_MAX)
		ntxqs = VMQ_TXQ_MAX;
	kernel = calloc(ntxqs ? ntxqs : 1, sizeof(*kernel));
	if (!kernel)
		return -ENOMEM;
	err = ntxqs ? vmq_netdev_txq_kernel(dev->dp.ifname, dev->dp.ifindex, ntxqs, kernel) : 0;
	for (__u32 q = 0; !err && q < ntxqs; q++) {
		struct json_object *t = vmqd_json_object();

		vmqd_json_add(t, "txq", vmqd_json_int(q));
		if (kernel[q].has_counters) {
			*have = true;
			vmqd_json_add(t, "kernel",
				      counter_json(kernel[q].packets, kernel[q].bytes,
						   vmqd_json_object()));
		}
		if (kernel[q].has_bql)
			vmqd_json_add(t, "bql_inflight", vmqd_json_uint(kernel[q].bql_inflight));
		vmqd_json_append(list, t);
	}
	free(kernel);
	return err;
}

static int dev_stats_json(struct vmqd_dev *dev, struct json_object **out)
{
	struct json_object *o = vmqd_json_object(), *queues = vmqd_json_array();
	struct json_object *txqs = vmqd_json_array(), *fb = vmqd_json_object();
	struct vmq_counter kc;
	bool have = false;
	int err = 0;

	vmqd_json_add(o, "dev", vmqd_json_string(dev->dp.ifname));
	vmqd_json_add(o, "queues", queues);
	vmqd_json_add(o, "txqs", txqs);
	vmqd_json_add(o, "fallbacks", fb);
	vmqd_balance_stats_json(dev, o);
	if (!err)
		err = queues_json(dev, queues);
	if (!err)
		err = txqs_json(dev, txqs, &have);
	if (!err)
		vmqd_json_add(o, "txq_counters", vmqd_json_string(have ? "mq" : "none"));
	if (!err)
		err = vmq_kernel_choice_read(&dev->dp, &kc);
	if (!err)
		vmqd_json_add(o, "kernel_choice",
			      counter_json(kc.packets, kc.bytes, vmqd_json_object()));
	for (__u32 why = 0; !err && why < VMQ_FALLBACK_REASONS; why++) {
		struct vmq_counter c;

		err = vmq_fallback_read(&dev->dp, why, &c);
		if (!err)
			vmqd_json_add(fb, fallback_names[why],
				      counter_json(c.packets, c.bytes, vmqd_json_object()));
	}
	if (!err)
		err = rx_outcomes_json(dev, o);
	if (err) {
		json_object_put(o);
		return err;
	}
	*out = o;
	return 0;
}

/* {"devs": [...]} of every managed device, or of `only`: what `stats`
 * answers and what /metrics renders. *failed names a device that failed. */
int vmqd_stats_collect(struct vmqd *d, const struct vmqd_dev *only, struct json_object **out,
		       const char **failed)
{
	struct json_object *list = vmqd_json_array();

	for (size_t i = 0; i < d->ndevs; i++) {
		struct json_object *o;
		int err;

		if (only && d->devs[i] != only)
			continue;
		err = dev_stats_json(d->devs[i], &o);
		if (err) {
			*failed = d->devs[i]->dp.ifname;
			json_object_put(list);
			return err;
		}
		vmqd_json_append(list, o);
	}
	*out = vmqd_json_object();
	vmqd_json_add(*out, "devs", list);
	return 0;
}

static int stats_show(struct vmqd *d, struct json_object *args, struct vmqd_reply *r)
{
	struct vmqd_dev *only = NULL;
	const char *failed = "";
	int err = 0;

	if (vmqd_req_has(args, "dev"))
		err = vmqd_req_dev(d, args, "stats", r, &only);
	if (err)
		return err;
	err = vmqd_stats_collect(d, only, &r->result, &failed);
	if (err)
		return vmqd_reply_error(r, -err, "stats on %s: %s", failed, strerror(-err));
	return 0;
}

static const char *const show_keys[] = { "dev", NULL };

const struct vmqd_command vmqd_stats_commands[] = {
	{ "show", stats_show, show_keys, false },
	{ NULL, NULL, NULL, false },
};
