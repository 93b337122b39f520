// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * filter add | del | show: VMQ's set and clear filter operations. A
 * receive filter gives the frames to one destination MAC (on one VLAN, or
 * untagged) to a VM queue; vmq_rx on the uplink looks them up. A MAC and
 * VLAN belong to one queue: a second queue asking for them is refused,
 * naming the first. Nothing learns addresses from VM traffic.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "proto.h"
#include "vmqd.h"

/* "mac" and optional "vlan" into a key; what becomes "filter MAC[ vlan V] on DEV". */
static int parse_key(struct json_object *args, struct vmqd_dev *dev, const char *cmd, char *what,
		     size_t size, struct vmqd_reply *r, struct vmq_rx_filter_key *key)
{
	char q[VMQD_REQ_QUOTE_SIZE], mac[VMQ_MAC_TEXT_LEN];
	const char *s;
	__u32 vlan = VMQ_RX_VLAN_NONE;
	int err;

	memset(key, 0, sizeof(*key));
	snprintf(what, size, "filter %s on %s", cmd, dev->dp.ifname);
	err = vmqd_req_name(args, "mac", 64, what, r, &s);
	if (err)
		return err;
	err = vmq_parse_mac(s, key->mac);
	if (err == -EADDRNOTAVAIL)
		return vmqd_reply_error(
			r, EINVAL,
			"%s: mac %s is a multicast, broadcast or zero address: such "
			"frames always take the stack",
			what, vmqd_req_quote(s, q, sizeof(q)));
	if (err)
		return vmqd_reply_error(r, EINVAL,
					"%s: mac \"%s\" is not a MAC address "
					"(xx:xx:xx:xx:xx:xx)",
					what, vmqd_req_quote(s, q, sizeof(q)));
	vmq_format_mac(key->mac, mac);
	snprintf(what, size, "filter %s on %s", mac, dev->dp.ifname);
	if (vmqd_req_has(args, "vlan")) {
		err = vmqd_req_u32_range(args, "vlan", 1, VMQ_RX_VLAN_MAX, what, r, &vlan);
		if (err)
			return err;
	}
	key->vlan = (__u16)vlan;
	if (vlan != VMQ_RX_VLAN_NONE)
		snprintf(what, size, "filter %s vlan %u on %s", mac, vlan, dev->dp.ifname);
	else
		snprintf(what, size, "filter %s on %s", mac, dev->dp.ifname);
	return 0;
}

/* "queue 7 (vm web1)", or "queue 7": who holds a filter. */
static void owner_text(struct vmqd_dev *dev, __u32 id, char *buf, size_t size)
{
	struct vmq_queue_meta meta;

	if (!vmq_queue_meta_read(&dev->dp, id, &meta) && meta.vm[0])
		snprintf(buf, size, "queue %u (vm %s)", id, meta.vm);
	else
		snprintf(buf, size, "queue %u", id);
}

static int filter_add(struct vmqd *d, struct json_object *args, struct vmqd_reply *r)
{
	struct vmq_rx_filter_key key;
	struct vmq_queue_entry e;
	struct vmqd_dev *dev;
	char what[96], owner_s[64];
	__u32 id, owner = 0;
	int err;

	err = vmqd_req_dev(d, args, "filter add", r, &dev);
	if (!err)
		err = parse_key(args, dev, "add", what, sizeof(what), r, &key);
	if (!err)
		err = vmqd_req_u32(args, "queue", 0xffffffffU, what, r, &id);
	if (err)
		return err;
	if (id == VMQ_DEFAULT_QUEUE)
		return vmqd_reply_error(r, EINVAL,
					"%s: queue 0 is the default queue, where unfiltered frames "
					"go already",
					what);
	if (id >= dev->dp.nr_queues || vmq_queue_read(&dev->dp, id, &e) ||
	    e.state == VMQ_QUEUE_FREE)
		return vmqd_reply_error(r, ENOENT, "%s: queue %u does not exist on %s", what, id,
					dev->dp.ifname);
	err = vmqd_rx_ready(dev, what, r);
	if (err)
		return err;
	err = vmq_rx_filter_add(&dev->dp, &key, id, &owner);
	if (err == -EEXIST) {
		owner_text(dev, owner, owner_s, sizeof(owner_s));
		return vmqd_reply_error(r, EEXIST, "%s: already filtered for %s", what, owner_s);
	}
	if (err == -E2BIG || err == -ENOSPC)
		return vmqd_reply_error(r, ENOSPC, "%s: %s has %u filters, the most it holds", what,
					dev->dp.ifname, VMQ_RX_FILTERS_MAX);
	if (err)
		return vmqd_reply_error(r, -err, "%s: cannot write: %s", what, strerror(-err));
	log_debug("%s: queue %u", what, id);
	r->result = vmqd_json_object();
	return 0;
}

static int filter_del(struct vmqd *d, struct json_object *args, struct vmqd_reply *r)
{
	struct vmq_rx_filter_key key;
	struct vmqd_dev *dev;
	char what[96];
	int err;

	err = vmqd_req_dev(d, args, "filter del", r, &dev);
	if (!err)
		err = parse_key(args, dev, "del", what, sizeof(what), r, &key);
	if (err)
		return err;
	err = vmqd_rx_loaded(dev) ? vmq_rx_filter_del(&dev->dp, &key) : -ENOENT;
	if (err == -ENOENT)
		return vmqd_reply_error(r, ENOENT, "%s: no such filter", what);
	if (err)
		return vmqd_reply_error(r, -err, "%s: cannot delete: %s", what, strerror(-err));
	log_debug("%s: deleted", what);
	r->result = vmqd_json_object();
	return 0;
}

struct row {
	struct vmq_rx_filter_key key;
	__u32 queue;
};

struct collect_ctx {
	struct row *rows;
	size_t n, cap;
};

static int collect(const struct vmq_rx_filter_key *key, const struct vmq_rx_filter *f, void *arg)
{
	struct collect_ctx *c = arg;

	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;

		c->rows = vmqd_must(realloc(c->rows, cap * sizeof(*c->rows)), "filter rows");
		c->cap = cap;
	}
	c->rows[c->n].key = *key;
	c->rows[c->n++].queue = f->queue_id;
	return 0;
}

/* The map's order is a hash's: rows by queue, MAC, VLAN read better. */
static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c;

	if (x->queue != y->queue)
		return x->queue < y->queue ? -1 : 1;
	c = memcmp(x->key.mac, y->key.mac, sizeof(x->key.mac));
	if (c)
		return c;
	return x->key.vlan < y->key.vlan ? -1 : x->key.vlan > y->key.vlan;
}

int vmqd_filters_json(struct vmqd_dev *dev, struct json_object *list)
{
	struct collect_ctx c = {};
	int err;

	if (!vmqd_rx_loaded(dev))
		return 0;
	err = vmq_rx_filter_for_each(&dev->dp, collect, &c);
	if (!err && c.n)
		qsort(c.rows, c.n, sizeof(*c.rows), row_cmp);
	for (size_t i = 0; !err && i < c.n; i++) {
		struct json_object *o = vmqd_json_object();
		struct vmq_queue_meta meta;
		char mac[VMQ_MAC_TEXT_LEN];

		vmq_format_mac(c.rows[i].key.mac, mac);
		vmqd_json_add(o, "dev", vmqd_json_string(dev->dp.ifname));
		vmqd_json_add(o, "mac", vmqd_json_string(mac));
		if (c.rows[i].key.vlan != VMQ_RX_VLAN_NONE)
			vmqd_json_add(o, "vlan", vmqd_json_int(c.rows[i].key.vlan));
		vmqd_json_add(o, "queue", vmqd_json_int(c.rows[i].queue));
		if (!vmq_queue_meta_read(&dev->dp, c.rows[i].queue, &meta) && meta.vm[0])
			vmqd_json_add(o, "vm", vmqd_json_string(meta.vm));
		vmqd_rx_mode_json(dev, c.rows[i].queue, o);
		vmqd_json_append(list, o);
	}
	free(c.rows);
	return err;
}

static int filter_show(struct vmqd *d, struct json_object *args, struct vmqd_reply *r)
{
	struct json_object *list;
	struct vmqd_dev *only = NULL;
	int err = 0;

	if (vmqd_req_has(args, "dev") && (err = vmqd_req_dev(d, args, "filter show", r, &only)))
		return err;
	list = vmqd_json_array();
	for (size_t i = 0; !err && i < d->ndevs; i++) {
		if (only && d->devs[i] != only)
			continue;
		err = vmqd_filters_json(d->devs[i], list);
		if (err)
			vmqd_reply_error(r, -err, "filter show on %s: %s", d->devs[i]->dp.ifname,
					 strerror(-err));
	}
	if (err) {
		json_object_put(list);
		return err;
	}
	r->result = vmqd_json_object();
	vmqd_json_add(r->result, "filters", list);
	return 0;
}

static const char *const add_keys[] = { "dev", "queue", "mac", "vlan", NULL };
static const char *const del_keys[] = { "dev", "mac", "vlan", NULL };
static const char *const show_keys[] = { "dev", NULL };

const struct vmqd_command vmqd_filter_commands[] = {
	{ "add", filter_add, add_keys, true },
	{ "del", filter_del, del_keys, true },
	{ "show", filter_show, show_keys, false },
	{ NULL, NULL, NULL, false },
};
