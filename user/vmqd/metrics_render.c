// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The Prometheus text format 0.0.4 of a `stats show` result: pure (no
 * locks, sockets or clock), so the unit tests and the HTTP side
 * (metrics.c) see the same text.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "util.h"

/* What one family's samples are read from. */
enum scope {
	SCOPE_DAEMON,	/* one sample, no labels */
	SCOPE_DEV,	/* per device: dev */
	SCOPE_QUEUE,	/* per device, per "queues" item: dev, queue, vm */
	SCOPE_TXQ,	/* per device, per "txqs" item: dev, txq */
	SCOPE_FALLBACK, /* per device, per "fallbacks" member: dev, reason */
	SCOPE_RX,	/* per device, per "rx_outcomes" member: dev, outcome */
};

struct family {
	const char *name;
	const char *type;
	enum scope scope;
	/* The value: item[key], or item[key][sub]; or value(item). */
	const char *key, *sub;
	bool (*value)(struct json_object *item, uint64_t *v);
	const char *help;
};

static bool get_u64(struct json_object *o, const char *key, const char *sub, uint64_t *v)
{
	struct json_object *x;

	if (!json_object_object_get_ex(o, key, &x))
		return false;
	if (sub && !json_object_object_get_ex(x, sub, &x))
		return false;
	/* json-c keeps large positives as uint64: get_int64 saturates them,
	 * so a negative int64 is the only thing to refuse. */
	if (!json_object_is_type(x, json_type_int) || json_object_get_int64(x) < 0)
		return false;
	*v = json_object_get_uint64(x);
	return true;
}

static bool is_live(struct json_object *q)
{
	return json_object_object_get_ex(q, "txq", NULL) ||
	       json_object_object_get_ex(q, "group", NULL);
}

static bool value_one(struct json_object *item, uint64_t *v)
{
	(void)item;
	*v = 1;
	return true;
}

static bool value_queue_live(struct json_object *q, uint64_t *v)
{
	*v = is_live(q);
	return true;
}

/* Counted like `dev show`'s live_queues: IDs 1 and up. `stats show` lists
 * every live queue, so counting its items is exact. */
static bool value_queues_live(struct json_object *dev, uint64_t *v)
{
	struct json_object *queues;
	size_t n;

	if (!json_object_object_get_ex(dev, "queues", &queues) ||
	    !json_object_is_type(queues, json_type_array))
		return false;
	n = json_object_array_length(queues);
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *q = json_object_array_get_idx(queues, i);
		uint64_t id;

		if (get_u64(q, "id", NULL, &id) && id != 0 && is_live(q))
			(*v)++;
	}
	return true;
}

static const struct family families[] = {
	{ "vmq_up", "gauge", SCOPE_DAEMON, NULL, NULL, value_one, "1: vmqd answered this scrape." },
	{ "vmq_queues_live", "gauge", SCOPE_DEV, NULL, NULL, value_queues_live,
	  "VM queues (IDs 1 and up) with a TX queue or a group." },
	{ "vmq_queue_live", "gauge", SCOPE_QUEUE, NULL, NULL, value_queue_live,
	  "1 when the queue has a TX queue, a group or the kernel's choice; 0 when it was freed "
	  "and still has counters." },
	{ "vmq_queue_packets_total", "counter", SCOPE_QUEUE, "packets", NULL, NULL,
	  "Packets steered as this queue." },
	{ "vmq_queue_bytes_total", "counter", SCOPE_QUEUE, "bytes", NULL, NULL,
	  "Bytes steered as this queue." },
	{ "vmq_queue_fallback_packets_total", "counter", SCOPE_QUEUE, "fallback_packets", NULL,
	  NULL,
	  "Packets that carried this queue's ID while it was not live; they left on the default "
	  "queue." },
	{ "vmq_queue_fallback_bytes_total", "counter", SCOPE_QUEUE, "fallback_bytes", NULL, NULL,
	  "Bytes that carried this queue's ID while it was not live." },
	{ "vmq_txq_kernel_packets_total", "counter", SCOPE_TXQ, "kernel", "packets", NULL,
	  "Packets the kernel counted on this TX queue (its qdisc), from every sender." },
	{ "vmq_txq_kernel_bytes_total", "counter", SCOPE_TXQ, "kernel", "bytes", NULL,
	  "Bytes the kernel counted on this TX queue (its qdisc), from every sender." },
	{ "vmq_txq_bql_inflight_bytes", "gauge", SCOPE_TXQ, "bql_inflight", NULL, NULL,
	  "Bytes queued to the driver on this TX queue and not yet completed (BQL)." },
	{ "vmq_kernel_choice_packets_total", "counter", SCOPE_DEV, "kernel_choice", "packets", NULL,
	  "Packets whose TX queue vmq_tx left to the kernel (default queue set to auto)." },
	{ "vmq_kernel_choice_bytes_total", "counter", SCOPE_DEV, "kernel_choice", "bytes", NULL,
	  "Bytes whose TX queue vmq_tx left to the kernel." },
	{ "vmq_fallback_packets_total", "counter", SCOPE_FALLBACK, "packets", NULL, NULL,
	  "Packets that left on the default queue because their queue ID could not be used, by "
	  "reason." },
	{ "vmq_fallback_bytes_total", "counter", SCOPE_FALLBACK, "bytes", NULL, NULL,
	  "Bytes that left on the default queue because their queue ID could not be used, by "
	  "reason." },
	{ "vmq_balance_moves_total", "counter", SCOPE_DEV, "balance", "moves", NULL,
	  "Queues the balancer moved to another TX queue on this uplink." },
	{ "vmq_balance_moves_waited_total", "counter", SCOPE_DEV, "balance", "moves_waited", NULL,
	  "Balancer moves that waited for a gap in the queue's traffic." },
	{ "vmq_balance_moves_gave_up_total", "counter", SCOPE_DEV, "balance", "moves_gave_up", NULL,
	  "Balancer moves made without a gap, after the bounded wait." },
	{ "vmq_rx_queue_packets_total", "counter", SCOPE_QUEUE, "rx_packets", NULL, NULL,
	  "Received frames that matched this queue's filters and went where its receive mode "
	  "says." },
	{ "vmq_rx_queue_bytes_total", "counter", SCOPE_QUEUE, "rx_bytes", NULL, NULL,
	  "Bytes of received frames that matched this queue's filters." },
	{ "vmq_rx_queue_fallback_packets_total", "counter", SCOPE_QUEUE, "rx_fallback_packets",
	  NULL, NULL,
	  "Received frames that matched this queue's filters but took the default queue (the "
	  "stack): the queue was not live, or its CPU or port entry was missing." },
	{ "vmq_rx_queue_fallback_bytes_total", "counter", SCOPE_QUEUE, "rx_fallback_bytes", NULL,
	  NULL, "Bytes of received frames that matched this queue's filters but took the stack." },
	{ "vmq_rx_packets_total", "counter", SCOPE_RX, "packets", NULL, NULL,
	  "Received frames by outcome: cpu, port, pass (a queue's mode), or the default queue's "
	  "reason (unmatched, broadcast, multicast, not_live, no_target, malformed)." },
	{ "vmq_rx_bytes_total", "counter", SCOPE_RX, "bytes", NULL, NULL,
	  "Bytes of received frames by outcome." },
};

/* Label values escape backslash, double quote and newline; HELP text
 * escapes backslash and newline. */
static void put_escaped(FILE *f, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '"' && quote)
			fputs("\\\"", f);
		else
			fputc(*s, f);
	}
}

struct label {
	const char *name;
	const char *value; /* NULL: left out */
};

static void put_sample(FILE *f, const char *name, const struct label *labels, size_t nlabels,
		       uint64_t v)
{
	size_t shown = 0;

	fputs(name, f);
	for (size_t i = 0; i < nlabels; i++) {
		if (!labels[i].value)
			continue;
		fprintf(f, "%c%s=\"", shown++ ? ',' : '{', labels[i].name);
		put_escaped(f, labels[i].value, true);
		fputc('"', f);
	}
	if (shown)
		fputc('}', f);
	fprintf(f, " %" PRIu64 "\n", v);
}

static bool family_value(const struct family *fam, struct json_object *item, uint64_t *v)
{
	return fam->value ? fam->value(item, v) : get_u64(item, fam->key, fam->sub, v);
}

static const char *get_string(struct json_object *o, const char *key)
{
	return json_object_get_string(vmq_json_member(o, key, json_type_string));
}

/* Samples of one "queues" or "txqs" item array; id_key names the item. */
static size_t put_items(FILE *f, const struct family *fam, struct json_object *dev_obj,
			const char *dev, const char *list_key, const char *id_key,
			const char *id_label)
{
	struct json_object *items;
	size_t n, samples = 0;

	if (!json_object_object_get_ex(dev_obj, list_key, &items) ||
	    !json_object_is_type(items, json_type_array))
		return 0;
	n = json_object_array_length(items);
	for (size_t i = 0; i < n; i++) {
		struct json_object *item = json_object_array_get_idx(items, i);
		char id_text[24];
		uint64_t id, v;
		struct label labels[] = {
			{ "dev", dev },
			{ id_label, id_text },
			{ "vm", fam->scope == SCOPE_QUEUE ? get_string(item, "vm") : NULL },
		};

		if (!get_u64(item, id_key, NULL, &id) || !family_value(fam, item, &v))
			continue;
		snprintf(id_text, sizeof(id_text), "%" PRIu64, id);
		put_sample(f, fam->name, labels, 3, v);
		samples++;
	}
	return samples;
}

static size_t put_family_samples(FILE *f, const struct family *fam, struct json_object *devs)
{
	size_t n = devs ? json_object_array_length(devs) : 0, samples = 0;
	uint64_t v;

	if (fam->scope == SCOPE_DAEMON) {
		if (!family_value(fam, NULL, &v))
			return 0;
		put_sample(f, fam->name, NULL, 0, v);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *dev_obj = json_object_array_get_idx(devs, i), *fb;
		const char *dev = get_string(dev_obj, "dev");
		struct label label = { "dev", dev };

		if (!dev)
			continue;
		switch (fam->scope) {
		case SCOPE_DEV:
			if (family_value(fam, dev_obj, &v)) {
				put_sample(f, fam->name, &label, 1, v);
				samples++;
			}
			break;
		case SCOPE_QUEUE:
			samples += put_items(f, fam, dev_obj, dev, "queues", "id", "queue");
			break;
		case SCOPE_TXQ:
			samples += put_items(f, fam, dev_obj, dev, "txqs", "txq", "txq");
			break;
		case SCOPE_FALLBACK:
		case SCOPE_RX:
			if (!json_object_object_get_ex(
				    dev_obj, fam->scope == SCOPE_RX ? "rx_outcomes" : "fallbacks",
				    &fb) ||
			    !json_object_is_type(fb, json_type_object))
				break;
			json_object_object_foreach(fb, reason, counters)
			{
				struct label labels[] = {
					{ "dev", dev },
					{ fam->scope == SCOPE_RX ? "outcome" : "reason", reason },
				};

				if (family_value(fam, counters, &v)) {
					put_sample(f, fam->name, labels, 2, v);
					samples++;
				}
			}
			break;
		case SCOPE_DAEMON:
			break;
		}
	}
	return samples;
}

/* A family is written whole, HELP and TYPE first, and only when it has a
 * sample: figures the stats do not carry (the kernel's per-TX-queue ones on
 * an older vmqd) leave no empty family behind. */
int vmqd_metrics_render(struct json_object *stats, char **text, size_t *len)
{
	struct json_object *devs = NULL;
	char *out = NULL, *body = NULL;
	size_t out_len = 0, body_len = 0;
	FILE *f = open_memstream(&out, &out_len);
	int err = 0;

	if (!f)
		return -ENOMEM;
	if (!json_object_object_get_ex(stats, "devs", &devs) ||
	    !json_object_is_type(devs, json_type_array))
		devs = NULL;
	for (size_t i = 0; !err && i < ARRAY_SIZE(families); i++) {
		const struct family *fam = &families[i];
		FILE *b = open_memstream(&body, &body_len);
		size_t samples;

		if (!b) {
			err = -ENOMEM;
			break;
		}
		samples = put_family_samples(b, fam, devs);
		if (ferror(b))
			err = -ENOMEM;
		if (fclose(b))
			err = -ENOMEM;
		if (!err && samples) {
			fprintf(f, "# HELP %s ", fam->name);
			put_escaped(f, fam->help, false);
			fprintf(f, "\n# TYPE %s %s\n", fam->name, fam->type);
			fwrite(body, 1, body_len, f);
		}
		free(body);
		body = NULL;
	}
	if (ferror(f))
		err = -ENOMEM;
	if (fclose(f))
		err = -ENOMEM;
	if (err) {
		free(out);
		return err;
	}
	*text = out;
	*len = out_len;
	return 0;
}
