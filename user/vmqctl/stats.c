// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* vmqctl stats: vmq's counters per queue and per fallback, the kernel's per
 * TX queue where the device has them (mq); and, under --watch, their rates
 * between two samples. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "show.h"
#include "vmqctl.h"

static const struct ctl_param show_params[] = {
	{ .arg = &ctl_arg_dev },
	{ 0 },
};

#define RATE_SIZE   32
#define NCOLS(cols) (sizeof(cols) / sizeof((cols)[0]))

/* Totals, or (rates) the per-second figures ctl_stats_rates() added. */
static int print_queues(FILE *out, struct json_object *dev, bool rates)
{
	static const struct ctl_column total_cols[] = {
		{ .header = "ID", .align = CTL_RIGHT },
		{ .header = "VM", .align = CTL_LEFT },
		{ .header = "TARGET", .align = CTL_LEFT },
		{ .header = "PACKETS", .align = CTL_RIGHT },
		{ .header = "BYTES", .align = CTL_RIGHT },
		{ .header = "FALLBACKS", .align = CTL_RIGHT },
	};
	static const struct ctl_column rate_cols[] = {
		{ .header = "ID", .align = CTL_RIGHT },
		{ .header = "VM", .align = CTL_LEFT },
		{ .header = "TARGET", .align = CTL_LEFT },
		{ .header = "PKTS/S", .align = CTL_RIGHT },
		{ .header = "BYTES/S", .align = CTL_RIGHT },
		{ .header = "FALLBACKS/S", .align = CTL_RIGHT },
	};
	struct json_object *queues = ctl_jarray(dev, "queues");
	size_t n = queues ? json_object_array_length(queues) : 0;
	struct ctl_table t;
	int err;

	ctl_table_init(&t, rates ? rate_cols : total_cols, NCOLS(total_cols));
	for (size_t i = 0; i < n; i++) {
		struct json_object *q = json_object_array_get_idx(queues, i);
		char target[48], r[3][RATE_SIZE];
		const char *row[6];

		ctl_fmt_target(q, target, sizeof(target));
		row[0] = ctl_jnum(q, "id");
		row[1] = ctl_jstr(q, "vm");
		row[2] = target;
		if (rates) {
			row[3] = ctl_fmt_rate(q, "packets_per_s", r[0], RATE_SIZE);
			row[4] = ctl_fmt_rate(q, "bytes_per_s", r[1], RATE_SIZE);
			row[5] = ctl_fmt_rate(q, "fallback_packets_per_s", r[2], RATE_SIZE);
		} else {
			row[3] = ctl_jnum(q, "packets");
			row[4] = ctl_jnum(q, "bytes");
			row[5] = ctl_jnum(q, "fallback_packets");
		}
		ctl_table_add(&t, row);
	}
	err = ctl_table_print(&t, out, "  ");
	ctl_table_free(&t);
	return err;
}

/* The kernel's counters (mq class) when there, and BQL's bytes in flight, a
 * level rather than a counter, in both forms. vmq keeps no per-TX-queue
 * counter: without mq the table says so instead of showing zeros. */
static int print_txqs(FILE *out, struct json_object *dev, bool rates)
{
	static const struct ctl_column total_cols[] = {
		{ .header = "TXQ", .align = CTL_RIGHT },
		{ .header = "KERNEL PKTS", .align = CTL_RIGHT },
		{ .header = "KERNEL BYTES", .align = CTL_RIGHT },
		{ .header = "INFLIGHT", .align = CTL_RIGHT },
	};
	static const struct ctl_column rate_cols[] = {
		{ .header = "TXQ", .align = CTL_RIGHT },
		{ .header = "KERNEL PKTS/S", .align = CTL_RIGHT },
		{ .header = "KERNEL BYTES/S", .align = CTL_RIGHT },
		{ .header = "INFLIGHT", .align = CTL_RIGHT },
	};
	struct json_object *txqs = ctl_jarray(dev, "txqs");
	const char *source = ctl_jstr(dev, "txq_counters");
	size_t n = txqs ? json_object_array_length(txqs) : 0;
	struct ctl_table t;
	int err;

	ctl_table_init(&t, rates ? rate_cols : total_cols, NCOLS(total_cols));
	for (size_t i = 0; i < n; i++) {
		struct json_object *q = json_object_array_get_idx(txqs, i);
		struct json_object *kernel = ctl_jobject(q, "kernel");
		char r[2][RATE_SIZE];
		const char *row[4];

		row[0] = ctl_jnum(q, "txq");
		if (rates) {
			row[1] = ctl_fmt_rate(q, "kernel_packets_per_s", r[0], RATE_SIZE);
			row[2] = ctl_fmt_rate(q, "kernel_bytes_per_s", r[1], RATE_SIZE);
		} else {
			row[1] = kernel ? ctl_jnum(kernel, "packets") : "-";
			row[2] = kernel ? ctl_jnum(kernel, "bytes") : "-";
		}
		row[3] = ctl_jnum(q, "bql_inflight");
		ctl_table_add(&t, row);
	}
	if (n)
		fputc('\n', out);
	err = ctl_table_print(&t, out, "  ");
	ctl_table_free(&t);
	if (!err && n && source && !strcmp(source, "none"))
		fprintf(out, "  (no per-TX-queue counters: the root qdisc of %s is not mq)\n",
			ctl_jstr(dev, "dev") ? ctl_jstr(dev, "dev") : "-");
	return err;
}

static void add_unsteered(struct ctl_table *t, const char *what, struct json_object *counter,
			  bool rates)
{
	char r[2][RATE_SIZE];
	const char *row[3] = { what };

	if (rates) {
		row[1] = ctl_fmt_rate(counter, "packets_per_s", r[0], RATE_SIZE);
		row[2] = ctl_fmt_rate(counter, "bytes_per_s", r[1], RATE_SIZE);
	} else {
		row[1] = ctl_jnum(counter, "packets");
		row[2] = ctl_jnum(counter, "bytes");
	}
	ctl_table_add(t, row);
}

/* Packets vmq did not steer: left to the kernel (queue 0 on auto), and the
 * fallbacks to queue 0, by whatever reasons vmqd reports. */
static int print_other(FILE *out, struct json_object *dev, bool rates)
{
	static const struct ctl_column total_cols[] = {
		{ .header = "UNSTEERED", .align = CTL_LEFT },
		{ .header = "PACKETS", .align = CTL_RIGHT },
		{ .header = "BYTES", .align = CTL_RIGHT },
	};
	static const struct ctl_column rate_cols[] = {
		{ .header = "UNSTEERED", .align = CTL_LEFT },
		{ .header = "PKTS/S", .align = CTL_RIGHT },
		{ .header = "BYTES/S", .align = CTL_RIGHT },
	};
	struct json_object *kernel = ctl_jobject(dev, "kernel_choice");
	struct json_object *fallbacks = ctl_jobject(dev, "fallbacks");
	struct ctl_table t;
	int err;

	ctl_table_init(&t, rates ? rate_cols : total_cols, NCOLS(total_cols));
	if (kernel)
		add_unsteered(&t, "kernel choice", kernel, rates);
	if (fallbacks) {
		json_object_object_foreach(fallbacks, reason, counter)
		{
			char what[64];

			snprintf(what, sizeof(what), "fallback %s", reason);
			add_unsteered(&t, what, counter, rates);
		}
	}
	if (t.nrows)
		fputc('\n', out);
	err = ctl_table_print(&t, out, "  ");
	ctl_table_free(&t);
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

/* --- rates ---------------------------------------------------------------- */

/* A counter: a nonnegative integer member. */
static bool counter(struct json_object *obj, const char *key, __u64 *v)
{
	struct json_object *val;

	if (!obj || !json_object_object_get_ex(obj, key, &val) ||
	    !json_object_is_type(val, json_type_int) || json_object_get_int64(val) < 0)
		return false;
	*v = json_object_get_uint64(val);
	return true;
}

/*
 * dst.out_key = (cur.key - before.key) / elapsed. before NULL: the entry was
 * not listed, so its counters were zero (if zero_if_absent). No rate for a
 * counter either side lacks, or that went down (reset).
 */
static int add_rate(struct json_object *dst, const char *out_key, struct json_object *cur,
		    struct json_object *before, const char *key, bool zero_if_absent,
		    double elapsed)
{
	struct json_object *val;
	__u64 now, then = 0;
	char text[RATE_SIZE];
	double rate;

	if (!counter(cur, key, &now))
		return 0;
	if (before ? !counter(before, key, &then) : !zero_if_absent)
		return 0;
	if (now < then)
		return 0;
	rate = (double)(now - then) / elapsed;
	/* json-c would print all 17 digits of the double; 3 decimals will do */
	snprintf(text, sizeof(text), "%.3f", rate);
	val = json_object_new_double_s(rate, text);
	if (!val || json_object_object_add(dst, out_key, val)) {
		json_object_put(val);
		return -ENOMEM;
	}
	return 0;
}

struct keyed {
	__u64 key;
	struct json_object *obj;
};

static int keyed_cmp(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

/* The entries of arr by their integer member key, sorted: a queue list may
 * hold 65536 entries, too many to search one by one for each. */
static int index_entries(struct json_object *arr, const char *key, struct keyed **idx, size_t *n)
{
	size_t len = arr ? json_object_array_length(arr) : 0;

	*n = 0;
	*idx = NULL;
	if (!len)
		return 0;
	*idx = calloc(len, sizeof(**idx));
	if (!*idx)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);

		if (counter(e, key, &(*idx)[*n].key))
			(*idx)[(*n)++].obj = e;
	}
	qsort(*idx, *n, sizeof(**idx), keyed_cmp);
	return 0;
}

static struct json_object *find_entry(const struct keyed *idx, size_t n, struct json_object *e,
				      const char *key)
{
	struct keyed want, *found;

	if (!counter(e, key, &want.key))
		return NULL;
	found = n ? bsearch(&want, idx, n, sizeof(*idx), keyed_cmp) : NULL;
	return found ? found->obj : NULL;
}

static int queue_rates(struct json_object *q, struct json_object *before, double elapsed)
{
	int err = add_rate(q, "packets_per_s", q, before, "packets", true, elapsed);

	if (!err)
		err = add_rate(q, "bytes_per_s", q, before, "bytes", true, elapsed);
	if (!err)
		err = add_rate(q, "fallback_packets_per_s", q, before, "fallback_packets", true,
			       elapsed);
	return err;
}

/* The kernel's counters have no zero-if-absent rule: a TX queue new to the
 * list, or a root qdisc just replaced by mq, has no earlier figure. */
static int txq_rates(struct json_object *t, struct json_object *before, double elapsed)
{
	struct json_object *kernel = ctl_jobject(t, "kernel");
	struct json_object *kernel_before = before ? ctl_jobject(before, "kernel") : NULL;
	int err = 0;

	if (kernel && kernel_before)
		err = add_rate(t, "kernel_packets_per_s", kernel, kernel_before, "packets", false,
			       elapsed);
	if (!err && kernel && kernel_before)
		err = add_rate(t, "kernel_bytes_per_s", kernel, kernel_before, "bytes", false,
			       elapsed);
	return err;
}

/* Each element of cur's arr[key] against the one with the same key in
 * before's. */
static int list_rates(struct json_object *cur, struct json_object *before, const char *arr,
		      const char *key,
		      int (*rates)(struct json_object *, struct json_object *, double),
		      double elapsed)
{
	struct json_object *list = ctl_jarray(cur, arr);
	size_t len = list ? json_object_array_length(list) : 0, n;
	struct keyed *idx;
	int err = index_entries(ctl_jarray(before, arr), key, &idx, &n);

	for (size_t i = 0; !err && i < len; i++) {
		struct json_object *e = json_object_array_get_idx(list, i);

		err = rates(e, find_entry(idx, n, e, key), elapsed);
	}
	free(idx);
	return err;
}

/* kernel_choice and each fallback reason: {"packets", "bytes"} objects
 * that are always there, so one missing before is not a zero. */
static int unsteered_rates(struct json_object *c, struct json_object *before, double elapsed)
{
	int err;

	if (!c || !before)
		return 0;
	err = add_rate(c, "packets_per_s", c, before, "packets", false, elapsed);
	if (!err)
		err = add_rate(c, "bytes_per_s", c, before, "bytes", false, elapsed);
	return err;
}

static int dev_rates(struct json_object *dev, struct json_object *before, double elapsed)
{
	struct json_object *fallbacks = ctl_jobject(dev, "fallbacks");
	struct json_object *fallbacks_before = ctl_jobject(before, "fallbacks");
	int err;

	err = list_rates(dev, before, "queues", "id", queue_rates, elapsed);
	if (!err)
		err = list_rates(dev, before, "txqs", "txq", txq_rates, elapsed);
	if (!err)
		err = unsteered_rates(ctl_jobject(dev, "kernel_choice"),
				      ctl_jobject(before, "kernel_choice"), elapsed);
	if (!err && fallbacks && fallbacks_before) {
		json_object_object_foreach(fallbacks, reason, c)
		{
			if (!err && json_object_is_type(c, json_type_object))
				err = unsteered_rates(c, ctl_jobject(fallbacks_before, reason),
						      elapsed);
		}
	}
	return err;
}

int ctl_stats_rates(struct json_object *cur, struct json_object *prev, double elapsed)
{
	struct json_object *devs = ctl_jarray(cur, "devs");
	struct json_object *devs_before = ctl_jarray(prev, "devs");
	size_t n = devs ? json_object_array_length(devs) : 0;
	size_t m = devs_before ? json_object_array_length(devs_before) : 0;
	int err = 0;

	if (!(elapsed > 0))
		return 0;
	for (size_t i = 0; !err && i < n; i++) {
		struct json_object *dev = json_object_array_get_idx(devs, i);
		const char *name = ctl_jstr(dev, "dev");

		/* a handful of devices: no index needed */
		for (size_t j = 0; name && j < m; j++) {
			struct json_object *before = json_object_array_get_idx(devs_before, j);
			const char *name_before = ctl_jstr(before, "dev");

			if (name_before && !strcmp(name, name_before)) {
				err = dev_rates(dev, before, elapsed);
				break;
			}
		}
	}
	return err;
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
