// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The rate arithmetic of vmqctl -w: each counter of a stats answer against
 * the same counter in the answer before, over the time between them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "show.h"
#include "vmqctl.h"

#define RATE_SIZE 32

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
	/* The receive side's, once vmq_rx is loaded. */
	if (!err)
		err = add_rate(q, "rx_packets_per_s", q, before, "rx_packets", true, elapsed);
	if (!err)
		err = add_rate(q, "rx_bytes_per_s", q, before, "rx_bytes", true, elapsed);
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

/* Each member of cur's obj[key] (fallback reasons, receive outcomes)
 * against the same member before. */
static int member_rates(struct json_object *cur, struct json_object *before, const char *key,
			double elapsed)
{
	struct json_object *members = ctl_jobject(cur, key), *members_before;
	int err = 0;

	members_before = ctl_jobject(before, key);
	if (!members || !members_before)
		return 0;
	json_object_object_foreach(members, name, c)
	{
		if (!err && json_object_is_type(c, json_type_object))
			err = unsteered_rates(c, ctl_jobject(members_before, name), elapsed);
	}
	return err;
}

static int dev_rates(struct json_object *dev, struct json_object *before, double elapsed)
{
	int err;

	err = list_rates(dev, before, "queues", "id", queue_rates, elapsed);
	if (!err)
		err = list_rates(dev, before, "txqs", "txq", txq_rates, elapsed);
	if (!err)
		err = unsteered_rates(ctl_jobject(dev, "kernel_choice"),
				      ctl_jobject(before, "kernel_choice"), elapsed);
	if (!err)
		err = member_rates(dev, before, "fallbacks", elapsed);
	if (!err)
		err = member_rates(dev, before, "rx_outcomes", elapsed);
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
