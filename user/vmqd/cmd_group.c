// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* group add | del | show: a set of TX queues that member queues spread over. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "vmqd.h"

/* The device, then "group GID on DEV" after checking GID. */
static int parse_gid(struct vmqd *d, struct json_object *args, const char *cmd, char *what,
		     size_t size, struct vmqd_reply *r, struct vmqd_dev **devp, __u32 *gid)
{
	struct vmqd_dev *dev;
	int err;

	err = vmqd_req_dev_what(d, args, "group", cmd, what, size, r, devp);
	if (err)
		return err;
	dev = *devp;
	err = vmqd_req_u32(args, "id", 0xffffffffU, what, r, gid);
	if (err)
		return err;
	snprintf(what, size, "group %u on %s", *gid, dev->dp.ifname);
	if (*gid >= VMQ_GROUPS_MAX)
		return vmqd_reply_error(r, ERANGE, "%s: id out of range (0..%u)", what,
					VMQ_GROUPS_MAX - 1);
	return 0;
}

/* Member queue IDs of each group, from one read of the queues map. */
static int members_json(struct vmqd_dev *dev, struct json_object **members)
{
	struct vmq_queue_entry *entries = calloc(dev->dp.nr_queues, sizeof(*entries));
	int err = entries ? vmq_queue_read_all(&dev->dp, entries) : -ENOMEM;

	for (__u32 g = 0; g < VMQ_GROUPS_MAX; g++)
		members[g] = NULL;
	for (__u32 id = 0; !err && id < dev->dp.nr_queues; id++) {
		struct vmq_queue_meta meta;
		__u16 g = entries[id].target;

		/* A degraded queue is still a member: it wants the group back. */
		if (entries[id].state != VMQ_QUEUE_GROUP &&
		    !vmq_queue_meta_read(&dev->dp, id, &meta) &&
		    (meta.flags & VMQ_META_F_DEGRADED) && meta.want.state == VMQ_QUEUE_GROUP)
			g = meta.want.target;
		else if (entries[id].state != VMQ_QUEUE_GROUP)
			continue;
		if (g >= VMQ_GROUPS_MAX)
			continue;
		if (!members[g])
			members[g] = vmqd_json_array();
		vmqd_json_append(members[g], vmqd_json_int(id));
	}
	free(entries);
	return err;
}

static int group_add(struct vmqd *d, struct json_object *args, struct vmqd_reply *r)
{
	__u16 txqs[VMQ_GROUP_TXQS_MAX];
	struct vmq_group_entry cur;
	struct json_object *list;
	struct vmqd_dev *dev;
	unsigned int ntxqs;
	size_t n;
	char what[64];
	__u32 gid;
	int err;

	err = parse_gid(d, args, "add", what, sizeof(what), r, &dev, &gid);
	if (!err)
		err = vmqd_dev_txqs(dev, r, what, &ntxqs);
	if (err)
		return err;
	if (!json_object_object_get_ex(args, "txqs", &list) ||
	    !json_object_is_type(list, json_type_array) || !json_object_array_length(list))
		return vmqd_reply_error(r, EINVAL, "%s: txqs must be a list of TX queues", what);
	n = json_object_array_length(list);
	if (n > VMQ_GROUP_TXQS_MAX)
		return vmqd_reply_error(r, E2BIG, "%s: %zu TX queues, a group holds at most %u",
					what, n, VMQ_GROUP_TXQS_MAX);
	for (size_t i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(list, i);
		int64_t q = json_object_get_int64(v);

		if (!json_object_is_type(v, json_type_int) || q < 0 ||
		    q >= vmqd_txq_limit(d, ntxqs))
			return vmqd_reply_error(
				r, ERANGE, "%s: txq %s out of range (%s has %u TX queues)", what,
				json_object_to_json_string(v), dev->dp.ifname, ntxqs);
		txqs[i] = (__u16)q;
		for (size_t j = 0; j < i; j++)
			if (txqs[j] == txqs[i])
				return vmqd_reply_error(r, EINVAL, "%s: txq %u listed twice", what,
							txqs[i]);
	}
	err = vmq_group_read(&dev->dp, gid, &cur);
	if (!err && cur.ntxqs)
		return vmqd_reply_error(r, EEXIST, "%s: already exists", what);
	if (!err)
		err = vmq_group_write(&dev->dp, gid, txqs, (__u16)n);
	if (err)
		return vmqd_reply_error(r, -err, "%s: cannot write: %s", what, strerror(-err));
	log_debug("%s: added", what);
	r->result = vmqd_json_object();
	return 0;
}

static int group_del(struct vmqd *d, struct json_object *args, struct vmqd_reply *r)
{
	struct json_object *members[VMQ_GROUPS_MAX];
	struct vmq_group_entry cur;
	struct vmqd_dev *dev;
	char what[64];
	__u32 gid;
	int err;

	err = parse_gid(d, args, "del", what, sizeof(what), r, &dev, &gid);
	if (err)
		return err;
	err = vmq_group_read(&dev->dp, gid, &cur);
	if (!err && !cur.ntxqs)
		return vmqd_reply_error(r, ENOENT, "%s: does not exist", what);
	if (!err)
		err = members_json(dev, members);
	if (err)
		return vmqd_reply_error(r, -err, "%s: cannot read: %s", what, strerror(-err));
	if (members[gid]) {
		vmqd_reply_error(
			r, EBUSY, "%s: still has member queues %s (delete or move them first)",
			what, json_object_to_json_string_ext(members[gid], JSON_C_TO_STRING_PLAIN));
		err = -EBUSY;
	}
	for (__u32 g = 0; g < VMQ_GROUPS_MAX; g++)
		json_object_put(members[g]);
	if (err)
		return err;
	err = vmq_group_clear(&dev->dp, gid);
	if (err)
		return vmqd_reply_error(r, -err, "%s: cannot write: %s", what, strerror(-err));
	log_debug("%s: deleted", what);
	r->result = vmqd_json_object();
	return 0;
}

static int show_dev(struct vmqd_dev *dev, struct json_object *list, struct vmqd_reply *r)
{
	struct json_object *members[VMQ_GROUPS_MAX];
	int err = members_json(dev, members);

	for (__u32 g = 0; !err && g < VMQ_GROUPS_MAX; g++) {
		struct vmq_group_entry ge;
		struct json_object *o, *txqs;

		if (vmq_group_read(&dev->dp, g, &ge) || !ge.ntxqs)
			continue;
		o = vmqd_json_object();
		txqs = vmqd_json_array();
		for (__u16 i = 0; i < ge.ntxqs; i++)
			vmqd_json_append(txqs, vmqd_json_int(ge.txqs[i]));
		vmqd_json_add(o, "dev", vmqd_json_string(dev->dp.ifname));
		vmqd_json_add(o, "id", vmqd_json_int(g));
		vmqd_json_add(o, "txqs", txqs);
		vmqd_json_add(o, "members",
			      members[g] ? json_object_get(members[g]) : vmqd_json_array());
		vmqd_json_append(list, o);
	}
	for (__u32 g = 0; g < VMQ_GROUPS_MAX; g++)
		json_object_put(members[g]);
	if (err)
		return vmqd_reply_error(r, -err, "group show on %s: %s", dev->dp.ifname,
					strerror(-err));
	return 0;
}

static int group_show(struct vmqd *d, struct json_object *args, struct vmqd_reply *r)
{
	struct json_object *list;
	struct vmqd_dev *only = NULL;
	int err = 0;

	if (vmqd_req_has(args, "dev"))
		err = vmqd_req_dev(d, args, "group show", r, &only);
	if (err)
		return err;
	list = vmqd_json_array();
	for (size_t i = 0; !err && i < d->ndevs; i++)
		if (!only || d->devs[i] == only)
			err = show_dev(d->devs[i], list, r);
	if (err) {
		json_object_put(list);
		return err;
	}
	r->result = vmqd_json_object();
	vmqd_json_add(r->result, "groups", list);
	return 0;
}

static const char *const add_keys[] = { "dev", "id", "txqs", NULL };
static const char *const id_keys[] = { "dev", "id", NULL };
static const char *const show_keys[] = { "dev", NULL };

const struct vmqd_command vmqd_group_commands[] = {
	{ "add", group_add, add_keys, true },
	{ "del", group_del, id_keys, true },
	{ "show", group_show, show_keys, false },
	{ NULL, NULL, NULL, false },
};
