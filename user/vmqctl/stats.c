// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* vmqctl stats: vmq's counters per queue and per fallback, the kernel's per
 * TX queue where the device has them (mq); and, under --watch, their rates
 * between two samples. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "show.h"
#include "util.h"
#include "vmqctl.h"

static const struct ctl_param show_params[] = {
	{ .arg = &ctl_arg_dev },
	{ 0 },
};

/* Totals, or (rates) the per-second figures ctl_stats_rates() added. */
static int print_queues(FILE *out, struct json_object *dev, bool rates)
{
	static const struct ctl_column total_cols[] = {
		{ "ID", "id", .align = CTL_RIGHT },
		{ "VM", "vm", .align = CTL_LEFT },
		{ "TARGET", .align = CTL_LEFT, .cell = ctl_cell_target },
		{ "PACKETS", "packets", .align = CTL_RIGHT },
		{ "BYTES", "bytes", .align = CTL_RIGHT },
		{ "FALLBACKS", "fallback_packets", .align = CTL_RIGHT },
	};
	static const struct ctl_column rate_cols[] = {
		{ "ID", "id", .align = CTL_RIGHT },
		{ "VM", "vm", .align = CTL_LEFT },
		{ "TARGET", .align = CTL_LEFT, .cell = ctl_cell_target },
		{ "PKTS/S", "packets_per_s", .align = CTL_RIGHT, .rate = true },
		{ "BYTES/S", "bytes_per_s", .align = CTL_RIGHT, .rate = true },
		{ "FALLBACKS/S", "fallback_packets_per_s", .align = CTL_RIGHT, .rate = true },
	};

	return ctl_print_rows(out, "  ", rates ? rate_cols : total_cols, ARRAY_SIZE(total_cols),
			      ctl_jarray(dev, "queues"));
}

/* The kernel's counters (mq class) when there, and BQL's bytes in flight, a
 * level rather than a counter, in both forms. vmq keeps no per-TX-queue
 * counter: without mq the table says so instead of showing zeros. */
static int print_txqs(FILE *out, struct json_object *dev, bool rates)
{
	static const struct ctl_column total_cols[] = {
		{ "TXQ", "txq", .align = CTL_RIGHT },
		{ "KERNEL PKTS", "kernel.packets", .align = CTL_RIGHT },
		{ "KERNEL BYTES", "kernel.bytes", .align = CTL_RIGHT },
		{ "INFLIGHT", "bql_inflight", .align = CTL_RIGHT },
	};
	static const struct ctl_column rate_cols[] = {
		{ "TXQ", "txq", .align = CTL_RIGHT },
		{ "KERNEL PKTS/S", "kernel_packets_per_s", .align = CTL_RIGHT, .rate = true },
		{ "KERNEL BYTES/S", "kernel_bytes_per_s", .align = CTL_RIGHT, .rate = true },
		{ "INFLIGHT", "bql_inflight", .align = CTL_RIGHT },
	};
	struct json_object *txqs = ctl_jarray(dev, "txqs");
	const char *source = ctl_jstr(dev, "txq_counters");
	bool any = txqs && json_object_array_length(txqs);
	int err;

	if (any)
		fputc('\n', out);
	err = ctl_print_rows(out, "  ", rates ? rate_cols : total_cols, ARRAY_SIZE(total_cols),
			     txqs);
	if (!err && any && source && !strcmp(source, "none"))
		fprintf(out, "  (no per-TX-queue counters: the root qdisc of %s is not mq)\n",
			ctl_jstr(dev, "dev") ? ctl_jstr(dev, "dev") : "-");
	return err;
}

/* Adds {"what": what, and counter's members} to rows. */
static int add_unsteered(struct json_object *rows, const char *what, struct json_object *counter)
{
	struct json_object *row = json_object_new_object();
	int err = row ? 0 : -ENOMEM;

	if (!err && json_object_object_add(row, "what", json_object_new_string(what)))
		err = -ENOMEM;
	json_object_object_foreach(counter, key, val)
	{
		if (!err && json_object_object_add(row, key, json_object_get(val)))
			err = -ENOMEM;
	}
	if (!err && json_object_array_add(rows, row))
		err = -ENOMEM;
	if (err)
		json_object_put(row);
	return err;
}

/* Packets vmq did not steer: left to the kernel (queue 0 on auto), and the
 * fallbacks to queue 0, by whatever reasons vmqd reports. */
static int print_other(FILE *out, struct json_object *dev, bool rates)
{
	static const struct ctl_column total_cols[] = {
		{ "UNSTEERED", "what", .align = CTL_LEFT },
		{ "PACKETS", "packets", .align = CTL_RIGHT },
		{ "BYTES", "bytes", .align = CTL_RIGHT },
	};
	static const struct ctl_column rate_cols[] = {
		{ "UNSTEERED", "what", .align = CTL_LEFT },
		{ "PKTS/S", "packets_per_s", .align = CTL_RIGHT, .rate = true },
		{ "BYTES/S", "bytes_per_s", .align = CTL_RIGHT, .rate = true },
	};
	struct json_object *kernel = ctl_jobject(dev, "kernel_choice");
	struct json_object *fallbacks = ctl_jobject(dev, "fallbacks");
	struct json_object *rows = json_object_new_array();
	int err = rows ? 0 : -ENOMEM;

	if (!err && kernel)
		err = add_unsteered(rows, "kernel choice", kernel);
	if (!err && fallbacks) {
		json_object_object_foreach(fallbacks, reason, counter)
		{
			char what[64];

			snprintf(what, sizeof(what), "fallback %s", reason);
			if (!err && json_object_is_type(counter, json_type_object))
				err = add_unsteered(rows, what, counter);
		}
	}
	if (!err && json_object_array_length(rows))
		fputc('\n', out);
	if (!err)
		err = ctl_print_rows(out, "  ", rates ? rate_cols : total_cols,
				     ARRAY_SIZE(total_cols), rows);
	json_object_put(rows);
	return err;
}

/* The balancer's moves, once it made one. */
static void print_balance(FILE *out, struct json_object *dev)
{
	struct json_object *b = ctl_jobject(dev, "balance");
	struct json_object *moves = vmq_json_member(b, "moves", json_type_int);

	if (!moves || !json_object_get_int64(moves))
		return;
	fprintf(out,
		"  balance: %s moves, %s waited for a gap in the queue's traffic, %s gave up\n",
		ctl_jnum(b, "moves"), ctl_jnum(b, "moves_waited"), ctl_jnum(b, "moves_gave_up"));
}

/* The receive side, once vmq_rx is loaded: per queue, the frames its
 * filters matched; then what became of every received frame. */
static int print_rx(FILE *out, struct json_object *dev, bool rates)
{
	static const struct ctl_column total_cols[] = {
		{ "ID", "id", .align = CTL_RIGHT },
		{ "VM", "vm", .align = CTL_LEFT },
		{ "RX PACKETS", "rx_packets", .align = CTL_RIGHT },
		{ "RX BYTES", "rx_bytes", .align = CTL_RIGHT },
		{ "RX FALLBACKS", "rx_fallback_packets", .align = CTL_RIGHT },
	};
	static const struct ctl_column rate_cols[] = {
		{ "ID", "id", .align = CTL_RIGHT },
		{ "VM", "vm", .align = CTL_LEFT },
		{ "RX PKTS/S", "rx_packets_per_s", .align = CTL_RIGHT, .rate = true },
		{ "RX BYTES/S", "rx_bytes_per_s", .align = CTL_RIGHT, .rate = true },
	};
	static const struct ctl_column out_cols[] = {
		{ "RECEIVED", "what", .align = CTL_LEFT },
		{ "PACKETS", "packets", .align = CTL_RIGHT },
		{ "BYTES", "bytes", .align = CTL_RIGHT },
	};
	static const struct ctl_column out_rate_cols[] = {
		{ "RECEIVED", "what", .align = CTL_LEFT },
		{ "PKTS/S", "packets_per_s", .align = CTL_RIGHT, .rate = true },
		{ "BYTES/S", "bytes_per_s", .align = CTL_RIGHT, .rate = true },
	};
	struct json_object *outcomes = ctl_jobject(dev, "rx_outcomes");
	struct json_object *queues = ctl_jarray(dev, "queues"), *rows, *qrows;
	size_t n = queues ? json_object_array_length(queues) : 0;
	int err;

	if (!outcomes)
		return 0;
	rows = json_object_new_array();
	qrows = json_object_new_array();
	err = rows && qrows ? 0 : -ENOMEM;
	/* Queue 0 takes no filters: VM queues only. */
	for (size_t i = 0; !err && i < n; i++) {
		struct json_object *q = json_object_array_get_idx(queues, i);

		if (ctl_jhas_int(q, "rx_packets") && strcmp(ctl_jnum(q, "id"), "0") &&
		    json_object_array_add(qrows, json_object_get(q)))
			err = -ENOMEM;
	}
	json_object_object_foreach(outcomes, name, counter)
	{
		if (!err && json_object_is_type(counter, json_type_object))
			err = add_unsteered(rows, name, counter);
	}
	if (!err && json_object_array_length(qrows)) {
		fputc('\n', out);
		err = rates ? ctl_print_rows(out, "  ", rate_cols, ARRAY_SIZE(rate_cols), qrows)
			    : ctl_print_rows(out, "  ", total_cols, ARRAY_SIZE(total_cols), qrows);
	}
	if (!err && json_object_array_length(rows)) {
		fputc('\n', out);
		err = ctl_print_rows(out, "  ", rates ? out_rate_cols : out_cols,
				     ARRAY_SIZE(out_cols), rows);
	}
	json_object_put(rows);
	json_object_put(qrows);
	return err;
}

static int print_devs(FILE *out, struct json_object *result, bool rates)
{
	struct json_object *devs = ctl_jarray(result, "devs");
	size_t n = devs ? json_object_array_length(devs) : 0;
	int err = 0;

	for (size_t i = 0; i < n && !err; i++) {
		struct json_object *dev = json_object_array_get_idx(devs, i);
		const char *name = ctl_jstr(dev, "dev");

		fprintf(out, "%sdev %s\n", i ? "\n" : "", name ? name : "-");
		err = print_queues(out, dev, rates);
		if (!err)
			err = print_txqs(out, dev, rates);
		if (!err)
			err = print_other(out, dev, rates);
		if (!err)
			err = print_rx(out, dev, rates);
		if (!err)
			print_balance(out, dev);
	}
	return err;
}

static int stats_print(FILE *out, struct json_object *args, struct json_object *result)
{
	(void)args;
	return print_devs(out, result, false);
}

static bool is_number(struct json_object *val)
{
	return json_object_is_type(val, json_type_double) ||
	       json_object_is_type(val, json_type_int);
}

int ctl_stats_print_sample(FILE *out, struct json_object *sample, unsigned int every_ms)
{
	struct json_object *when = NULL, *interval = NULL;
	char stamp[64] = "-";
	struct tm tm;
	time_t secs;

	json_object_object_get_ex(sample, "time", &when);
	json_object_object_get_ex(sample, "interval", &interval);
	if (when && is_number(when)) {
		secs = (time_t)json_object_get_double(when);
		if (localtime_r(&secs, &tm))
			strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S %z", &tm);
	}
	if (interval && is_number(interval)) {
		fprintf(out, "%s  every %g s, rates over the last %.3f s\n", stamp,
			every_ms / 1000.0, json_object_get_double(interval));
		return print_devs(out, sample, true);
	}
	fprintf(out, "%s  every %g s, totals (rates from the next sample on)\n", stamp,
		every_ms / 1000.0);
	return print_devs(out, sample, false);
}

static const struct ctl_cmd stats_cmds[] = {
	{ .name = "show",
	  .params = show_params,
	  .help = "counters of every device, or of DEV (-w SECONDS: rates, again and again)",
	  .print = stats_print },
	{ 0 },
};

const struct ctl_object ctl_object_stats = {
	.name = "stats", .cmds = stats_cmds, .help = "vmq's counters", .implicit_cmd = "show"
};
