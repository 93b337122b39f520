// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* queue add | set | del | show: VMQ's allocate, update and free. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "balance.h"
#include "log.h"
#include "proto.h"
#include "vmqd.h"

static bool arg_is_word(struct json_object *args, const char *key, const char *word)
{
	struct json_object *v = vmq_json_member(args, key, json_type_string);

	return v && !strcmp(json_object_get_string(v), word);
}

/*
 * Reads "txq N", "txq any" or "group G" (exactly one) into an entry,
 * validated against the device as it is now. For the default queue, "txq
 * auto" is allowed and a group is not. *placed says vmqd chose the TX queue.
 */
static int parse_target(struct vmqd *d, struct vmqd_dev *dev, struct json_object *args, __u32 id,
			const char *what, struct vmqd_reply *r, struct vmq_queue_entry *e,
			bool *placed)
{
	bool has_txq = vmqd_req_has(args, "txq"), has_group = vmqd_req_has(args, "group");
	unsigned int ntxqs;
	__u16 txq;
	__u32 n;
	int err;

	*placed = false;
	if (has_txq == has_group)
		return vmqd_reply_error(r, EINVAL, "%s: give exactly one of txq or group", what);
	if (has_txq) {
		if (id == VMQ_DEFAULT_QUEUE && arg_is_word(args, "txq", "auto")) {
			*e = (struct vmq_queue_entry){ .state = VMQ_QUEUE_KERNEL };
			return 0;
		}
		if (arg_is_word(args, "txq", "any")) {
			if (id == VMQ_DEFAULT_QUEUE)
				return vmqd_reply_error(
					r, EINVAL,
					"%s: the default queue takes a txq or auto, not any", what);
			err = vmqd_dev_txqs(dev, r, what, &ntxqs);
			if (err)
				return err;
			err = vmqd_place_txq(dev, ntxqs < VMQ_TXQ_MAX ? ntxqs : VMQ_TXQ_MAX, id,
					     &txq);
			if (err)
				return vmqd_reply_error(r, -err, "%s: cannot place: %s", what,
							strerror(-err));
			*e = (struct vmq_queue_entry){ .state = VMQ_QUEUE_TXQ, .target = txq };
			*placed = true;
			return 0;
		}
		err = vmqd_req_txq(d, args, dev, what, r, &txq);
		if (!err)
			*e = (struct vmq_queue_entry){ .state = VMQ_QUEUE_TXQ, .target = txq };
		return err;
	}
	if (id == VMQ_DEFAULT_QUEUE)
		return vmqd_reply_error(
			r, EINVAL, "%s: the default queue takes a txq or auto, not a group", what);
	err = vmqd_req_u32(args, "group", 0xffffffffU, what, r, &n);
	if (err)
		return err;
	{
		struct vmq_group_entry g;

		if (n >= VMQ_GROUPS_MAX || vmq_group_read(&dev->dp, n, &g) || !g.ntxqs)
			return vmqd_reply_error(r, ENOENT, "%s: group %u does not exist on %s",
						what, n, dev->dp.ifname);
	}
	*e = (struct vmq_queue_entry){ .state = VMQ_QUEUE_GROUP, .target = (__u16)n };
	return 0;
}

/* The device, then "queue ID on DEV" after checking ID against the map; "id auto" takes
 * the lowest free ID when allow_auto. */
static int parse_id(struct vmqd *d, struct json_object *args, const char *cmd, bool allow_auto,
		    char *what, size_t size, struct vmqd_reply *r, struct vmqd_dev **devp,
		    __u32 *id, struct vmq_queue_entry *cur)
{
	struct vmqd_dev *dev;
	int err;

	*cur = (struct vmq_queue_entry){};
	err = vmqd_req_dev_what(d, args, "queue", cmd, what, size, r, devp);
	if (err)
		return err;
	dev = *devp;
	if (allow_auto && arg_is_word(args, "id", "auto")) {
		err = vmqd_lowest_free_id(dev, id);
		if (err == -ENOSPC)
			return vmqd_reply_error(r, ENOSPC,
						"%s: no free queue ID (%s has IDs 0..%u)", what,
						dev->dp.ifname, dev->dp.nr_queues - 1);
		if (err)
			return vmqd_reply_error(r, -err, "%s: cannot read: %s", what,
						strerror(-err));
	} else {
		err = vmqd_req_u32(args, "id", 0xffffffffU, what, r, id);
		if (err)
			return err;
	}
	snprintf(what, size, "queue %u on %s", *id, dev->dp.ifname);
	if (*id >= dev->dp.nr_queues)
		return vmqd_reply_error(r, ERANGE, "%s: id out of range (%s has queue IDs 0..%u)",
					what, dev->dp.ifname, dev->dp.nr_queues - 1);
	err = vmq_queue_read(&dev->dp, *id, cur);
	if (err)
		return vmqd_reply_error(r, -err, "%s: cannot read: %s", what, strerror(-err));
	return 0;
}

/* An optional argument that takes one of two words: *set says the second. */
static int req_word(struct json_object *args, const char *key, const char *no, const char *yes,
		    const char *what, struct vmqd_reply *r, bool *set)
{
	*set = false;
	if (!vmqd_req_has(args, key) || arg_is_word(args, key, no))
		return 0;
	if (!yes || !arg_is_word(args, key, yes))
		return yes ? vmqd_reply_error(r, EINVAL, "%s: %s must be \"%s\" or \"%s\"", what,
					      key, no, yes)
			   : vmqd_reply_error(r, EINVAL, "%s: %s must be \"%s\"", what, key, no);
	*set = true;
	return 0;
}

static struct json_object *placed_json(__u32 id, const struct vmq_queue_entry *e)
{
	struct json_object *o = vmqd_json_object();

	vmqd_json_add(o, "id", vmqd_json_int(id));
	if (e->state == VMQ_QUEUE_TXQ)
		vmqd_json_add(o, "txq", vmqd_json_int(e->target));
	else if (e->state == VMQ_QUEUE_GROUP)
		vmqd_json_add(o, "group", vmqd_json_int(e->target));
	return o;
}

int vmqd_queue_create(struct vmqd *d, struct json_object *args, struct vmqd_reply *r,
		      __u32 extra_flags, __u32 *out_id, struct vmq_queue_entry *out_entry)
{
	struct vmq_queue_meta meta = {};
	struct vmq_queue_entry e = {}, cur;
	bool placed = false, auto_placement = false, port_owned = false;
	struct vmqd_dev *dev;
	const char *s;
	char what[64];
	__u32 id;
	int err;

	err = parse_id(d, args, "add", true, what, sizeof(what), r, &dev, &id, &cur);
	if (err)
		return err;
	if (id == VMQ_DEFAULT_QUEUE)
		return vmqd_reply_error(
			r, EEXIST, "%s: the default queue always exists (use \"queue set\")", what);
	if (cur.state != VMQ_QUEUE_FREE)
		return vmqd_reply_error(r, EEXIST, "%s: already exists", what);
	err = parse_target(d, dev, args, id, what, r, &e, &placed);
	if (!err && vmqd_req_has(args, "vm") &&
	    !(err = vmqd_req_name(args, "vm", VMQ_NAME_MAX, what, r, &s)))
		strcpy(meta.vm, s);
	if (!err && vmqd_req_has(args, "name") &&
	    !(err = vmqd_req_name(args, "name", VMQ_NAME_MAX, what, r, &s)))
		strcpy(meta.name, s);
	if (!err)
		err = req_word(args, "placement", "operator", "auto", what, r, &auto_placement);
	if (!err)
		err = req_word(args, "owner", "operator", "port", what, r, &port_owned);
	if (err)
		return err;
	if (auto_placement && e.state != VMQ_QUEUE_TXQ)
		return vmqd_reply_error(r, EINVAL, "%s: placement auto needs a txq", what);
	meta.flags = extra_flags | (placed || auto_placement ? VMQ_META_F_TXQ_AUTO : 0) |
		     (port_owned ? VMQ_META_F_PORT_OWNED : 0);
	/* Metadata first: a queue is never live without its names or flags
	 * (an owner port's). A crash in between leaves metadata of a queue
	 * that is not live: no reader shows it, and adoption sweeps it. */
	err = vmq_queue_meta_update(&dev->dp, id, &meta);
	if (!err)
		err = vmq_queue_write(&dev->dp, id, e);
	if (err) {
		vmq_queue_meta_delete(&dev->dp, id);
		return vmqd_reply_error(r, -err, "%s: cannot write: %s", what, strerror(-err));
	}
	log_debug("%s: added", what);
	if (out_id)
		*out_id = id;
	if (out_entry)
		*out_entry = e;
	return 0;
}

static int queue_add(struct vmqd *d, struct json_object *args, struct vmqd_reply *r)
{
	struct vmq_queue_entry e = {};
	__u32 id = 0;
	int err = vmqd_queue_create(d, args, r, 0, &id, &e);

	if (!err)
		r->result = placed_json(id, &e);
	return err;
}

static int queue_set(struct vmqd *d, struct json_object *args, struct vmqd_reply *r)
{
	struct vmq_queue_meta meta;
	bool placed = false, tx = vmqd_req_has(args, "txq") || vmqd_req_has(args, "group");
	unsigned int changed;
	struct vmq_queue_entry e = {}, cur;
	struct vmqd_rx_req rx;
	struct vmqd_dev *dev;
	char what[64];
	__u32 id;
	int err;

	err = parse_id(d, args, "set", false, what, sizeof(what), r, &dev, &id, &cur);
	if (err)
		return err;
	if (cur.state == VMQ_QUEUE_FREE && id != VMQ_DEFAULT_QUEUE)
		return vmqd_reply_error(r, ENOENT, "%s: does not exist", what);
	if (!tx && !vmqd_req_has(args, "rx"))
		return vmqd_reply_error(r, EINVAL, "%s: give txq or group, or rx", what);
	/* Both halves are checked before either is written. */
	err = tx ? parse_target(d, dev, args, id, what, r, &e, &placed) : 0;
	if (!err)
		err = vmqd_rx_parse_mode(d, dev, args, id, what, r, &rx);
	if (err)
		return err;
	err = vmqd_rx_apply_mode(dev, id, &rx, what, r);
	if (err || !tx) {
		if (!err)
			r->result = vmqd_json_object();
		return err;
	}
	/* One store: packets see the old target or the new one. */
	err = vmq_queue_write(&dev->dp, id, e);
	if (err)
		return vmqd_reply_error(r, -err, "%s: cannot write: %s", what, strerror(-err));
	/* Set by hand, it is no longer waiting for its old TX queue; and its
	 * placement is now the operator's or vmqd's, as this request says. */
	if (!vmq_queue_meta_read(&dev->dp, id, &meta)) {
		__u32 flags = meta.flags &
			      ~(VMQ_META_F_DEGRADED | VMQ_META_F_TXQ_AUTO | VMQ_META_F_BALANCED);

		flags |= placed ? VMQ_META_F_TXQ_AUTO : 0;
		if (flags != meta.flags) {
			meta.flags = flags;
			vmq_queue_meta_update(&dev->dp, id, &meta);
		}
	}
	/* Degraded queues follow the default queue. */
	if (id == VMQ_DEFAULT_QUEUE)
		vmqd_reconcile(dev, &changed);
	log_debug("%s: set", what);
	r->result = vmqd_json_object();
	if (e.state == VMQ_QUEUE_TXQ)
		vmqd_json_add(r->result, "txq", vmqd_json_int(e.target));
	return 0;
}

int vmqd_queue_free(struct vmqd_dev *dev, __u32 id)
{
	/* From this store on, packets carrying the ID leave on queue 0. */
	int err =
		vmq_queue_write(&dev->dp, id, (struct vmq_queue_entry){ .state = VMQ_QUEUE_FREE });

	if (!err) {
		vmq_queue_meta_delete(&dev->dp, id);
		vmqd_rx_queue_freed(dev, id);
	}
	return err;
}

static int queue_del(struct vmqd *d, struct json_object *args, struct vmqd_reply *r)
{
	struct vmq_queue_entry cur;
	struct vmqd_dev *dev;
	char what[64];
	__u32 id;
	int err;

	err = parse_id(d, args, "del", false, what, sizeof(what), r, &dev, &id, &cur);
	if (err)
		return err;
	if (id == VMQ_DEFAULT_QUEUE)
		return vmqd_reply_error(r, EPERM, "%s: the default queue cannot be deleted", what);
	if (cur.state == VMQ_QUEUE_FREE)
		return vmqd_reply_error(r, ENOENT, "%s: does not exist", what);
	err = vmqd_queue_free(dev, id);
	if (err)
		return vmqd_reply_error(r, -err, "%s: cannot write: %s", what, strerror(-err));
	log_debug("%s: deleted", what);
	r->result = vmqd_json_object();
	return 0;
}

static struct json_object *queue_json(struct vmqd_dev *dev, __u32 id,
				      const struct vmq_queue_entry *e)
{
	struct json_object *o = vmqd_json_object();
	struct vmq_queue_meta meta = {};

	vmqd_json_add(o, "dev", vmqd_json_string(dev->dp.ifname));
	vmqd_json_add(o, "id", vmqd_json_int(id));
	vmqd_json_entry_target(e, o);
	if (!vmq_queue_meta_read(&dev->dp, id, &meta)) {
		if (meta.vm[0])
			vmqd_json_add(o, "vm", vmqd_json_string(meta.vm));
		if (meta.name[0])
			vmqd_json_add(o, "name", vmqd_json_string(meta.name));
		if (meta.flags & VMQ_META_F_DEGRADED)
			vmqd_json_degraded(&meta, o);
		if (meta.flags & VMQ_META_F_PORT_OWNED)
			vmqd_json_add(o, "owner", vmqd_json_string("port"));
	}
	/* No placement: the operator's, which the balancer never moves. */
	if (id && (meta.flags & VMQ_META_F_TXQ_AUTO)) {
		vmqd_json_add(
			o, "placement",
			vmqd_json_string(meta.flags & VMQ_META_F_BALANCED ? "balanced" : "auto"));
		vmqd_balance_queue_json(dev, id, o);
	}
	if (id)
		vmqd_rx_mode_json(dev, id, o);
	return o;
}

static int show_dev(struct vmqd_dev *dev, bool one, __u32 only, struct json_object *list,
		    struct vmqd_reply *r)
{
	struct vmq_queue_entry *entries = calloc(dev->dp.nr_queues, sizeof(*entries));
	int err = entries ? vmq_queue_read_all(&dev->dp, entries) : -ENOMEM;

	if (err) {
		free(entries);
		return vmqd_reply_error(r, -err, "queue show on %s: %s", dev->dp.ifname,
					strerror(-err));
	}
	for (__u32 id = 0; id < dev->dp.nr_queues; id++) {
		/* Queue 0 always exists: FREE there means the kernel's choice. */
		struct vmq_queue_entry e = entries[id];

		if (id == VMQ_DEFAULT_QUEUE && e.state == VMQ_QUEUE_FREE)
			e.state = VMQ_QUEUE_KERNEL;
		if ((one && id != only) || e.state == VMQ_QUEUE_FREE)
			continue;
		vmqd_json_append(list, queue_json(dev, id, &e));
	}
	free(entries);
	return 0;
}

static int queue_show(struct vmqd *d, struct json_object *args, struct vmqd_reply *r)
{
	struct json_object *list;
	struct vmqd_dev *only = NULL;
	bool one = vmqd_req_has(args, "id");
	__u32 id = 0;
	int err = 0;

	if (vmqd_req_has(args, "dev") && (err = vmqd_req_dev(d, args, "queue show", r, &only)))
		return err;
	if (one) {
		if (!only)
			return vmqd_reply_error(r, EINVAL, "queue show: id needs a dev");
		err = vmqd_req_u32(args, "id", 0xffffffffU, "queue show", r, &id);
		if (err)
			return err;
		if (id >= only->dp.nr_queues)
			return vmqd_reply_error(
				r, ERANGE,
				"queue %u on %s: id out of range (%s has queue IDs 0..%u)", id,
				only->dp.ifname, only->dp.ifname, only->dp.nr_queues - 1);
	}
	list = vmqd_json_array();
	for (size_t i = 0; !err && i < d->ndevs; i++)
		if (!only || d->devs[i] == only)
			err = show_dev(d->devs[i], one, id, list, r);
	if (!err && one && !json_object_array_length(list))
		err = vmqd_reply_error(r, ENOENT, "queue %u on %s: does not exist", id,
				       only->dp.ifname);
	if (err) {
		json_object_put(list);
		return err;
	}
	r->result = vmqd_json_object();
	vmqd_json_add(r->result, "queues", list);
	return 0;
}

static const char *const add_keys[] = { "dev",	"id",	     "txq",   "group", "vm",
					"name", "placement", "owner", NULL };
static const char *const set_keys[] = { "dev", "id", "txq", "group", "rx", "cpu", NULL };
static const char *const id_keys[] = { "dev", "id", NULL };

const struct vmqd_command vmqd_queue_commands[] = {
	{ "add", queue_add, add_keys, true }, { "set", queue_set, set_keys, true },
	{ "del", queue_del, id_keys, true },  { "show", queue_show, id_keys, false },
	{ NULL, NULL, NULL, false },
};
