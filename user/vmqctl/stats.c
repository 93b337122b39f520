// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* vmqctl stats: vmq's counters per queue, per TX queue, and per fallback. */
#include <errno.h>

#include "show.h"
#include "vmqctl.h"

static const struct ctl_param show_params[] = {
	{ .arg = &ctl_arg_dev },
	{ 0 },
};

static int print_queues(FILE *out, struct json_object *dev)
{
	static const struct ctl_column cols[] = {
		{ "ID", CTL_RIGHT },	  { "VM", CTL_LEFT },	  { "TARGET", CTL_LEFT },
		{ "PACKETS", CTL_RIGHT }, { "BYTES", CTL_RIGHT }, { "FALLBACKS", CTL_RIGHT },
	};
	struct json_object *queues = ctl_jarray(dev, "queues");
	size_t n = queues ? json_object_array_length(queues) : 0;
	struct ctl_table t;
	int err;

	ctl_table_init(&t, cols, sizeof(cols) / sizeof(cols[0]));
	for (size_t i = 0; i < n; i++) {
		struct json_object *q = json_object_array_get_idx(queues, i);
		char target[32];
		const char *row[6];

		ctl_fmt_target(q, target, sizeof(target));
		row[0] = ctl_jnum(q, "id");
		row[1] = ctl_jstr(q, "vm");
		row[2] = target;
		row[3] = ctl_jnum(q, "packets");
		row[4] = ctl_jnum(q, "bytes");
		row[5] = ctl_jnum(q, "fallback_packets");
		ctl_table_add(&t, row);
	}
	err = ctl_table_print(&t, out, "  ");
	ctl_table_free(&t);
	return err;
}

static int print_txqs(FILE *out, struct json_object *dev)
{
	static const struct ctl_column cols[] = {
		{ "TXQ", CTL_RIGHT },
		{ "PACKETS", CTL_RIGHT },
		{ "BYTES", CTL_RIGHT },
	};
	struct json_object *txqs = ctl_jarray(dev, "txqs");
	size_t n = txqs ? json_object_array_length(txqs) : 0;
	struct ctl_table t;
	int err;

	ctl_table_init(&t, cols, sizeof(cols) / sizeof(cols[0]));
	for (size_t i = 0; i < n; i++) {
		struct json_object *q = json_object_array_get_idx(txqs, i);
		const char *row[] = { ctl_jnum(q, "txq"), ctl_jnum(q, "packets"),
				      ctl_jnum(q, "bytes") };

		ctl_table_add(&t, row);
	}
	if (n)
		fputc('\n', out);
	err = ctl_table_print(&t, out, "  ");
	ctl_table_free(&t);
	return err;
}

/* Packets vmq did not steer: left to the kernel (queue 0 on auto), and the
 * fallbacks to queue 0, by whatever reasons vmqd reports. */
static int print_other(FILE *out, struct json_object *dev)
{
	static const struct ctl_column cols[] = {
		{ "UNSTEERED", CTL_LEFT },
		{ "PACKETS", CTL_RIGHT },
		{ "BYTES", CTL_RIGHT },
	};
	struct json_object *kernel = ctl_jobject(dev, "kernel_choice");
	struct json_object *fallbacks = ctl_jobject(dev, "fallbacks");
	struct ctl_table t;
	int err;

	ctl_table_init(&t, cols, sizeof(cols) / sizeof(cols[0]));
	if (kernel) {
		const char *row[] = { "kernel choice", ctl_jnum(kernel, "packets"),
				      ctl_jnum(kernel, "bytes") };

		ctl_table_add(&t, row);
	}
	if (fallbacks) {
		json_object_object_foreach(fallbacks, reason, counter)
		{
			char what[64];
			const char *row[] = { what, ctl_jnum(counter, "packets"),
					      ctl_jnum(counter, "bytes") };

			snprintf(what, sizeof(what), "fallback %s", reason);
			ctl_table_add(&t, row);
		}
	}
	if (t.nrows)
		fputc('\n', out);
	err = ctl_table_print(&t, out, "  ");
	ctl_table_free(&t);
	return err;
}

static int stats_print(FILE *out, struct json_object *result)
{
	struct json_object *devs = ctl_jarray(result, "devs");
	size_t n = devs ? json_object_array_length(devs) : 0;
	int err = 0;

	for (size_t i = 0; i < n && !err; i++) {
		struct json_object *dev = json_object_array_get_idx(devs, i);
		const char *name = ctl_jstr(dev, "dev");

		fprintf(out, "%sdev %s\n", i ? "\n" : "", name ? name : "-");
		err = print_queues(out, dev);
		if (!err)
			err = print_txqs(out, dev);
		if (!err)
			err = print_other(out, dev);
	}
	return err;
}

static const struct ctl_cmd stats_cmds[] = {
	{ .name = "show",
	  .params = show_params,
	  .help = "counters of every device, or of DEV",
	  .print = stats_print },
	{ 0 },
};

const struct ctl_object ctl_object_stats = {
	.name = "stats", .cmds = stats_cmds, .help = "vmq's counters", .implicit_cmd = "show"
};
