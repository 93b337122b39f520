// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* queue add | set | del | show: VMQ's allocate, update and free. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "proto.h"
#include "vmqd.h"

/*
 * Reads "txq N" or "group G" (exactly one) into an entry, validated against
 * the device as it is now. For the default queue, "txq auto" is allowed and
 * a group is not.
 */
static int parse_target(struct vmqd_dev *dev, struct json_object *args, __u32 id, const char *what,
			struct vmqd_reply *r, struct vmq_queue_entry *e)
{
	bool has_txq = req_has(args, "txq"), has_group = req_has(args, "group");
	struct json_object *v;
	unsigned int ntxqs;
	__u32 n;
	int err;

	if (has_txq == has_group)
		return reply_error(r, EINVAL, "%s: give exactly one of txq or group", what);
	if (has_txq) {
		json_object_object_get_ex(args, "txq", &v);
		if (id == VMQ_DEFAULT_QUEUE && json_object_is_type(v, json_type_string) &&
		    !strcmp(json_object_get_string(v), "auto")) {
			*e = (struct vmq_queue_entry){ .state = VMQ_QUEUE_KERNEL };
			return 0;
		}
		err = req_u32(args, "txq", 0xffffffffU, what, r, &n);
		if (!err)
			err = dev_txqs(dev, r, what, &ntxqs);
		if (err)
			return err;
		if (n >= ntxqs)
			return reply_error(r, ERANGE,
					   "%s: txq %u out of range (%s has %u TX queues)", what, n,
					   dev->dp.ifname, ntxqs);
		*e = (struct vmq_queue_entry){ .state = VMQ_QUEUE_TXQ, .target = (__u16)n };
		return 0;
	}
	if (id == VMQ_DEFAULT_QUEUE)
		return reply_error(r, EINVAL,
				   "%s: the default queue takes a txq or auto, not a group", what);
	err = req_u32(args, "group", 0xffffffffU, what, r, &n);
	if (err)
		return err;
	{
		struct vmq_group_entry g;

		if (n >= VMQ_GROUPS_MAX || vmq_group_read(&dev->dp, n, &g) || !g.ntxqs)
			return reply_error(r, ENOENT, "%s: group %u does not exist on %s", what, n,
					   dev->dp.ifname);
	}
	*e = (struct vmq_queue_entry){ .state = VMQ_QUEUE_GROUP, .target = (__u16)n };
	return 0;
}

/* "queue ID on DEV", after checking ID against the map. */
static int parse_id(struct vmqd_dev *dev, struct json_object *args, const char *cmd, char *what,
		    size_t size, struct vmqd_reply *r, __u32 *id)
{
	int err;

	snprintf(what, size, "queue %s on %s", cmd, dev->dp.ifname);
	err = req_u32(args, "id", 0xffffffffU, what, r, id);
	if (err)
		return err;
	snprintf(what, size, "queue %u on %s", *id, dev->dp.ifname);
	if (*id >= dev->dp.nr_queues)
		return reply_error(r, ERANGE, "%s: id out of range (%s has queue IDs 0..%u)", what,
				   dev->dp.ifname, dev->dp.nr_queues - 1);
	return 0;
}

static int queue_add(struct vmqd *d, struct json_object *args, struct vmqd_reply *r)
{
	struct vmq_queue_meta meta = {};
	struct vmq_queue_entry e = {}, cur;
	struct vmqd_dev *dev;
	const char *s;
	char what[64];
	__u32 id;
	int err;

	err = req_dev(d, args, "queue add", r, &dev);
	if (!err)
		err = parse_id(dev, args, "add", what, sizeof(what), r, &id);
	if (err)
		return err;
	if (id == VMQ_DEFAULT_QUEUE)
		return reply_error(r, EEXIST,
				   "%s: the default queue always exists (use \"queue set\")", what);
	err = vmq_queue_read(&dev->dp, id, &cur);
	if (err)
		return reply_error(r, -err, "%s: cannot read: %s", what, strerror(-err));
	if (cur.state != VMQ_QUEUE_FREE)
		return reply_error(r, EEXIST, "%s: already exists", what);
	err = parse_target(dev, args, id, what, r, &e);
	if (!err && req_has(args, "vm") && !(err = req_name(args, "vm", VMQ_NAME_MAX, what, r, &s)))
		strcpy(meta.vm, s);
	if (!err && req_has(args, "name") &&
	    !(err = req_name(args, "name", VMQ_NAME_MAX, what, r, &s)))
		strcpy(meta.name, s);
	if (err)
		return err;
	/* Metadata first: a queue is never live without its names. */
	err = vmq_queue_meta_store(&dev->dp, id, &meta);
	if (!err)
		err = vmq_queue_write(&dev->dp, id, e);
	if (err) {
		vmq_queue_meta_delete(&dev->dp, id);
		return reply_error(r, -err, "%s: cannot write: %s", what, strerror(-err));
	}
	log_debug("%s: added", what);
	r->result = json_object_new_object();
	return 0;
}

static int queue_set(struct vmqd *d, struct json_object *args, struct vmqd_reply *r)
{
	struct vmq_queue_meta meta;
	unsigned int changed;
	struct vmq_queue_entry e = {}, cur;
	struct vmqd_dev *dev;
	char what[64];
	__u32 id;
	int err;

	err = req_dev(d, args, "queue set", r, &dev);
	if (!err)
		err = parse_id(dev, args, "set", what, sizeof(what), r, &id);
	if (err)
		return err;
	err = vmq_queue_read(&dev->dp, id, &cur);
	if (err)
		return reply_error(r, -err, "%s: cannot read: %s", what, strerror(-err));
	if (cur.state == VMQ_QUEUE_FREE && id != VMQ_DEFAULT_QUEUE)
		return reply_error(r, ENOENT, "%s: does not exist", what);
	err = parse_target(dev, args, id, what, r, &e);
	if (err)
		return err;
	/* One store: packets see the old target or the new one. */
	err = vmq_queue_write(&dev->dp, id, e);
	if (err)
		return reply_error(r, -err, "%s: cannot write: %s", what, strerror(-err));
	/* Set by hand, it is no longer waiting for its old TX queue. */
	if (!vmq_queue_meta_read(&dev->dp, id, &meta) && (meta.flags & VMQ_META_F_DEGRADED)) {
		meta.flags &= ~VMQ_META_F_DEGRADED;
		vmq_queue_meta_store(&dev->dp, id, &meta);
	}
	/* Degraded queues follow the default queue. */
	if (id == VMQ_DEFAULT_QUEUE)
		vmqd_reconcile(dev, &changed);
	log_debug("%s: set", what);
	r->result = json_object_new_object();
	return 0;
}

static int queue_del(struct vmqd *d, struct json_object *args, struct vmqd_reply *r)
{
	struct vmq_queue_entry cur, freed = { .state = VMQ_QUEUE_FREE };
	struct vmqd_dev *dev;
	char what[64];
	__u32 id;
	int err;

	err = req_dev(d, args, "queue del", r, &dev);
	if (!err)
		err = parse_id(dev, args, "del", what, sizeof(what), r, &id);
	if (err)
		return err;
	if (id == VMQ_DEFAULT_QUEUE)
		return reply_error(r, EPERM, "%s: the default queue cannot be deleted", what);
	err = vmq_queue_read(&dev->dp, id, &cur);
	if (err)
		return reply_error(r, -err, "%s: cannot read: %s", what, strerror(-err));
	if (cur.state == VMQ_QUEUE_FREE)
		return reply_error(r, ENOENT, "%s: does not exist", what);
	/* From this store on, packets carrying the ID leave on queue 0. */
	err = vmq_queue_write(&dev->dp, id, freed);
	if (err)
		return reply_error(r, -err, "%s: cannot write: %s", what, strerror(-err));
	vmq_queue_meta_delete(&dev->dp, id);
	log_debug("%s: deleted", what);
	r->result = json_object_new_object();
	return 0;
}

static struct json_object *queue_json(struct vmqd_dev *dev, __u32 id,
				      const struct vmq_queue_entry *e)
{
	struct json_object *o = json_object_new_object();
	struct vmq_queue_meta meta;

	json_object_object_add(o, "dev", json_object_new_string(dev->dp.ifname));
	json_object_object_add(o, "id", json_object_new_int64(id));
	json_entry_target(e, o);
	if (!vmq_queue_meta_read(&dev->dp, id, &meta)) {
		if (meta.vm[0])
			json_object_object_add(o, "vm", json_object_new_string(meta.vm));
		if (meta.name[0])
			json_object_object_add(o, "name", json_object_new_string(meta.name));
		if (meta.flags & VMQ_META_F_DEGRADED)
			json_degraded(&meta, o);
	}
	return o;
}

static int show_dev(struct vmqd_dev *dev, bool one, __u32 only, struct json_object *list,
		    struct vmqd_reply *r)
{
	struct vmq_queue_entry *entries = calloc(dev->dp.nr_queues, sizeof(*entries));
	int err = entries ? vmq_queue_read_all(&dev->dp, entries) : -ENOMEM;

	if (err) {
		free(entries);
		return reply_error(r, -err, "queue show on %s: %s", dev->dp.ifname, strerror(-err));
	}
	for (__u32 id = 0; id < dev->dp.nr_queues; id++) {
		/* Queue 0 always exists: FREE there means the kernel's choice. */
		struct vmq_queue_entry e = entries[id];

		if (id == VMQ_DEFAULT_QUEUE && e.state == VMQ_QUEUE_FREE)
			e.state = VMQ_QUEUE_KERNEL;
		if ((one && id != only) || e.state == VMQ_QUEUE_FREE)
			continue;
		json_object_array_add(list, queue_json(dev, id, &e));
	}
	free(entries);
	return 0;
}

static int queue_show(struct vmqd *d, struct json_object *args, struct vmqd_reply *r)
{
	struct json_object *list;
	struct vmqd_dev *only = NULL;
	bool one = req_has(args, "id");
	__u32 id = 0;
	int err = 0;

	if (req_has(args, "dev") && (err = req_dev(d, args, "queue show", r, &only)))
		return err;
	if (one) {
		if (!only)
			return reply_error(r, EINVAL, "queue show: id needs a dev");
		err = req_u32(args, "id", 0xffffffffU, "queue show", r, &id);
		if (err)
			return err;
		if (id >= only->dp.nr_queues)
			return reply_error(
				r, ERANGE,
				"queue %u on %s: id out of range (%s has queue IDs 0..%u)", id,
				only->dp.ifname, only->dp.ifname, only->dp.nr_queues - 1);
	}
	list = json_object_new_array();
	for (size_t i = 0; !err && i < d->ndevs; i++)
		if (!only || d->devs[i] == only)
			err = show_dev(d->devs[i], one, id, list, r);
	if (!err && one && !json_object_array_length(list))
		err = reply_error(r, ENOENT, "queue %u on %s: does not exist", id, only->dp.ifname);
	if (err) {
		json_object_put(list);
		return err;
	}
	r->result = json_object_new_object();
	json_object_object_add(r->result, "queues", list);
	return 0;
}

static const char *const add_keys[] = { "dev", "id", "txq", "group", "vm", "name", NULL };
static const char *const set_keys[] = { "dev", "id", "txq", "group", NULL };
static const char *const id_keys[] = { "dev", "id", NULL };

const struct vmqd_command vmqd_queue_commands[] = {
	{ "add", queue_add, add_keys }, { "set", queue_set, set_keys },
	{ "del", queue_del, id_keys },	{ "show", queue_show, id_keys },
	{ NULL, NULL, NULL },
};
