// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* dev attach | detach | show */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "balance.h"
#include "log.h"
#include "vmqd.h"

/* The receive side: "rx" on or off; once loaded, its filter count; while
 * attached, the XDP mode the kernel runs it in. */
static void rx_json(struct vmqd_dev *dev, struct json_object *o)
{
	struct vmq_rx_status st = {};

	if (vmqd_rx_loaded(dev) && !vmq_rx_status(&dev->dp, &st) && st.attached) {
		vmqd_json_add(o, "rx", vmqd_json_string("on"));
		vmqd_json_add(o, "xdp_mode", vmqd_json_string(st.generic ? "generic" : "native"));
	} else {
		vmqd_json_add(o, "rx", vmqd_json_string("off"));
	}
	if (st.loaded)
		vmqd_json_add(o, "filters", vmqd_json_int(st.filters));
}

static struct json_object *dev_json(struct vmqd_dev *dev)
{
	struct json_object *o = vmqd_json_object();
	struct vmq_queue_entry *entries = calloc(dev->dp.nr_queues, sizeof(*entries));
	struct vmq_dev_info info = {};
	unsigned int ntxqs = 0, live = 0, groups = 0, xps = 0;
	bool attached = false;

	vmq_netdev_txqs(dev->dp.ifname, &ntxqs);
	vmq_dev_info_read(&dev->dp, &info);
	vmq_dev_is_attached(&dev->dp, &attached);
	if (entries && !vmq_queue_read_all(&dev->dp, entries))
		for (__u32 id = 1; id < dev->dp.nr_queues; id++)
			live += entries[id].state != VMQ_QUEUE_FREE;
	for (__u32 g = 0; g < VMQ_GROUPS_MAX; g++) {
		struct vmq_group_entry ge;

		groups += !vmq_group_read(&dev->dp, g, &ge) && ge.ntxqs;
	}
	vmq_xps_cleared_count(&dev->dp, &xps);

	vmqd_json_add(o, "dev", vmqd_json_string(dev->dp.ifname));
	vmqd_json_add(o, "ifindex", vmqd_json_int(dev->dp.ifindex));
	vmqd_json_add(o, "txqs", vmqd_json_int((int32_t)ntxqs));
	vmqd_json_add(o, "queues", vmqd_json_int((int32_t)dev->dp.nr_queues));
	vmqd_json_add(o, "mark_mask", vmqd_json_int(dev->dp.cfg.mark_mask));
	if (entries && entries[0].state == VMQ_QUEUE_TXQ)
		vmqd_json_add(o, "default_txq", vmqd_json_int(entries[0].target));
	else
		vmqd_json_add(o, "default_txq", vmqd_json_string("auto"));
	vmqd_json_add(o, "attached", vmqd_json_bool(attached));
	vmqd_json_add(o, "hook", vmqd_json_string(info.flags & VMQ_DEV_F_TCX ? "tcx" : "clsact"));
	if (info.flags & VMQ_DEV_F_TCX) {
		struct vmq_tcx_chain chain;
		__u32 pos, first;

		/* 0: first in the tcx egress chain; absent: not in it. */
		if (!dev->missing && !vmq_dev_tcx_position(&dev->dp, &pos, &first, &chain))
			vmqd_json_add(o, "tcx_position", vmqd_json_int((int32_t)pos));
	}
	vmqd_json_add(o, "clsact_created", vmqd_json_bool(info.flags & VMQ_DEV_F_HOOK_CREATED));
	vmqd_json_add(o, "xps_cleared", vmqd_json_int((int32_t)xps));
	vmqd_json_add(o, "pin_dir", vmqd_json_string(dev->dp.pin_dir));
	vmqd_json_add(o, "live_queues", vmqd_json_int((int32_t)live));
	vmqd_json_add(o, "groups", vmqd_json_int((int32_t)groups));
	if (dev->ports[0])
		vmqd_json_add(o, "ports", vmqd_json_string(dev->ports));
	vmqd_json_add(o, "state", vmqd_json_string(dev->missing ? "missing" : "ok"));
	vmqd_json_add(o, "degraded_queues", vmqd_json_int((int32_t)vmqd_degraded_count(dev)));
	vmqd_balance_dev_json(dev, o);
	rx_json(dev, o);
	free(entries);
	return o;
}

/* Logs what shares vmq's tcx egress chain: programs ahead of vmq's link
 * (they asked to run first) and after it (they may override queue_mapping). */
void vmqd_tcx_report(struct vmqd_dev *dev)
{
	struct vmq_tcx_chain chain;
	char prog[VMQ_PROG_NAME_SIZE];
	__u32 pos = 0, first = 0;

	if (dev->missing || vmq_dev_tcx_position(&dev->dp, &pos, &first, &chain))
		return;
	if (pos) {
		vmq_prog_name(first, prog, sizeof(prog));
		log_warn("dev %s: tcx program %u (%s) runs before vmq's link (position %u of %u); "
			 "\"vmqctl dev attach %s force\" puts vmq first again",
			 dev->dp.ifname, first, prog[0] ? prog : "no name", pos + 1, chain.count,
			 dev->dp.ifname);
	}
	if (pos + 1 < chain.count) {
		vmq_prog_name(chain.prog_ids[pos + 1], prog, sizeof(prog));
		log_info("dev %s: %u tcx program(s) run after vmq's link, first %u (%s): one that "
			 "sets queue_mapping overrides vmq",
			 dev->dp.ifname, chain.count - pos - 1, chain.prog_ids[pos + 1],
			 prog[0] ? prog : "no name");
	}
}

/* default_txq: an integer below the TX queue count, or "auto". */
static int parse_default_txq(struct json_object *args, const char *name, unsigned int ntxqs,
			     unsigned int limit, struct vmqd_reply *r, struct vmq_queue_entry *e)
{
	struct json_object *v;
	__u32 txq;
	int err;

	e->state = VMQ_QUEUE_KERNEL;
	e->target = 0;
	if (!json_object_object_get_ex(args, "default_txq", &v))
		return 0;
	if (json_object_is_type(v, json_type_string) && !strcmp(json_object_get_string(v), "auto"))
		return 0;
	err = vmqd_req_u32(args, "default_txq", VMQ_TXQ_MAX - 1, "dev attach", r, &txq);
	if (err)
		return err;
	if (txq >= limit)
		return vmqd_reply_error(r, ERANGE,
					"dev %s: default-txq %u out of range (%s has %u TX queues)",
					name, txq, name, ntxqs);
	e->state = VMQ_QUEUE_TXQ;
	e->target = (__u16)txq;
	return 0;
}

/* The "force" flag: absent is false. */
static int req_force(struct json_object *args, const char *what, struct vmqd_reply *r, bool *force)
{
	struct json_object *v;

	*force = false;
	if (!json_object_object_get_ex(args, "force", &v))
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return vmqd_reply_error(r, EINVAL, "%s: force must be true or false", what);
	*force = json_object_get_boolean(v);
	return 0;
}

/* "rx": "on" or "off" (absent: *set false). */
int vmqd_req_rx(struct json_object *args, const char *what, struct vmqd_reply *r, bool *given,
		bool *on)
{
	struct json_object *v = vmq_json_member(args, "rx", json_type_string);

	*given = vmqd_req_has(args, "rx");
	*on = false;
	if (!*given)
		return 0;
	if (!v ||
	    (strcmp(json_object_get_string(v), "on") && strcmp(json_object_get_string(v), "off")))
		return vmqd_reply_error(r, EINVAL, "%s: rx must be \"on\" or \"off\"", what);
	*on = !strcmp(json_object_get_string(v), "on");
	return 0;
}

/*
 * dev attach of a device vmq already steers. vmq's tcx link goes to the
 * head of the egress chain; a program found ahead of it was attached later
 * with a request to run before vmq, and is respected: EBUSY, naming it,
 * unless "force", which puts vmq's link first again.
 */
static int dev_reattach(struct vmqd_dev *dev, bool force, const char *what, struct vmqd_reply *r)
{
	struct vmq_tcx_chain chain;
	char prog[VMQ_PROG_NAME_SIZE];
	__u32 pos = 0, first = 0;
	int err;

	if (dev->missing || !vmq_dev_is_tcx(&dev->dp))
		return vmqd_reply_error(r, EEXIST, "%s: already attached", what);
	err = vmq_dev_tcx_position(&dev->dp, &pos, &first, &chain);
	if (err && err != -ENOENT)
		return vmqd_reply_error(r, -err, "%s: cannot read its tcx egress chain: %s", what,
					strerror(-err));
	if (!err && !pos)
		return vmqd_reply_error(
			r, EEXIST, "%s: already attached, first in its tcx egress chain", what);
	if (!err && !force) {
		vmq_prog_name(first, prog, sizeof(prog));
		return vmqd_reply_error(
			r, EBUSY,
			"%s: already attached, but tcx program %u (%s) runs before vmq's "
			"link (position %u of %u): it asked to run first; \"force\" puts "
			"vmq first again",
			what, first, prog[0] ? prog : "no name", pos + 1, chain.count);
	}
	/* Not in the chain at all (its link went away): attach it again. */
	err = err ? vmq_dev_attach(&dev->dp) : vmq_dev_attach_first(&dev->dp);
	if (err)
		return vmqd_reply_error(r, -err, "%s: cannot put vmq's tcx link first: %s", what,
					strerror(-err));
	log_info("%s: vmq's tcx link is first in the egress chain again", what);
	r->result = dev_json(dev);
	return 0;
}

static int dev_attach(struct vmqd *d, struct json_object *args, struct vmqd_reply *r)
{
	struct vmq_load_opts opts = {};
	struct vmq_queue_entry def;
	struct vmqd_dev *dev = NULL;
	unsigned int ntxqs = 0, cleared = 0, ifindex;
	struct vmq_port_entry port;
	const char *name;
	char what[64];
	bool xps_saved = false, attached = false, force = false, rx_given, rx_on;
	int err;

	err = vmqd_req_ifname(args, "dev", "dev attach", r, &name);
	if (err)
		return err;
	snprintf(what, sizeof(what), "dev %s", name);
	err = req_force(args, what, r, &force);
	if (!err)
		err = vmqd_req_rx(args, what, r, &rx_given, &rx_on);
	if (err)
		return err;
	dev = vmqd_find_dev(d, name);
	if (dev)
		return dev_reattach(dev, force, what, r);
	ifindex = if_nametoindex(name);
	if (!ifindex)
		return vmqd_reply_error(r, ENODEV, "%s: no such device", what);
	/* Its hook and an uplink's would share one clsact, and the port
	 * program stamps what the uplink's reads: one role per device. */
	if (d->ports.map_fd >= 0 && !vmq_port_get(&d->ports, ifindex, &port))
		return vmqd_reply_error(r, EINVAL, "%s: is a bound VM port (port unbind %s first)",
					what, name);
	err = vmq_netdev_txqs(name, &ntxqs);
	if (err)
		return vmqd_reply_error(r, -err, "%s: cannot count its TX queues: %s", what,
					strerror(-err));
	/* One TX queue leaves nothing to steer (lo, most virtual devices). */
	if (ntxqs < 2)
		return vmqd_reply_error(r, EINVAL, "%s: not multiqueue (%u TX queue%s)", what,
					ntxqs, ntxqs == 1 ? "" : "s");
	if (ntxqs > VMQ_TXQ_MAX)
		return vmqd_reply_error(r, ERANGE, "%s: %u TX queues, vmq steers at most %u", what,
					ntxqs, VMQ_TXQ_MAX);
	err = parse_default_txq(args, name, ntxqs, vmqd_txq_limit(d, ntxqs), r, &def);
	if (!err && vmqd_req_has(args, "mark_mask")) {
		err = vmqd_req_u32(args, "mark_mask", 0xffffffffU, what, r, &opts.mark_mask);
		if (!err && !vmq_mask_valid(opts.mark_mask))
			err = vmqd_reply_error(r, EINVAL,
					       "%s: mark-mask 0x%x must be one run of set bits",
					       what, opts.mark_mask);
	}
	if (!err && vmqd_req_has(args, "queues")) {
		/* 1 is a map holding only the default queue: allowed, if odd. */
		err = vmqd_req_u32_range(args, "queues", 1, VMQ_QUEUES_MAX, what, r,
					 &opts.nr_queues);
	}
	if (err)
		return err;
	/* A queue ID must fit the mask's bits, or two IDs would share a mark. */
	if (opts.mark_mask && opts.nr_queues > vmq_mask_ids(opts.mark_mask))
		return vmqd_reply_error(
			r, ERANGE, "%s: queues %u do not fit mark-mask 0x%x (%u IDs)", what,
			opts.nr_queues, opts.mark_mask, vmq_mask_ids(opts.mark_mask));
	if (opts.mark_mask && !opts.nr_queues && vmq_mask_ids(opts.mark_mask) < VMQ_QUEUES_DEFAULT)
		opts.nr_queues = vmq_mask_ids(opts.mark_mask);

	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return vmqd_reply_error(r, ENOMEM, "%s: out of memory", what);
	opts.obj_path = d->bpf_object;
	err = vmq_dev_load(&dev->dp, d->bpffs_dir, name, &opts);
	if (err) {
		if (err == -EEXIST) {
			vmqd_reply_error(r, EEXIST, "%s: pins already exist under %s", what,
					 dev->dp.pin_dir);
			free(dev);
			return -EEXIST;
		}
		free(dev);
		return vmqd_reply_error(r, -err,
					"%s: cannot load the data plane (pins under %s/): %s", what,
					d->bpffs_dir, strerror(-err));
	}
	err = vmq_queue_write(&dev->dp, VMQ_DEFAULT_QUEUE, def);
	vmq_fault_point("default queue set");
	if (err) {
		vmqd_reply_error(r, -err, "%s: cannot set the default queue: %s", what,
				 strerror(-err));
		goto undo;
	}
	/* XPS outranks queue_mapping (kernel-notes, general 2): clear it while we steer. */
	err = vmq_xps_clear(&dev->dp, ntxqs, &cleared);
	xps_saved = true;
	if (err) {
		vmqd_reply_error(r, -err, "%s: cannot clear XPS: %s", what, strerror(-err));
		goto undo;
	}
	err = vmq_dev_attach(&dev->dp);
	if (err == -EOPNOTSUPP) {
		vmqd_reply_error(
			r, EOPNOTSUPP,
			"%s: has an ingress qdisc, which has no egress hook; vmq needs clsact "
			"in its place (tc qdisc del dev %s ingress; tc qdisc add dev %s clsact)",
			what, name, name);
		goto undo;
	} else if (err) {
		vmqd_reply_error(r, -err, "%s: cannot attach to its egress (tcx or clsact): %s",
				 what, strerror(-err));
		goto undo;
	}
	attached = true;
	dev->ntxqs = ntxqs;
	/* The receive side last: refused (another XDP program there), the
	 * whole attach is undone. */
	if (rx_on && vmqd_rx_on(dev, what, r))
		goto undo;
	err = vmqd_add_dev(d, dev);
	if (err) {
		vmqd_reply_error(r, ENOMEM, "%s: out of memory", what);
		goto undo;
	}
	log_info("%s: attached on %s (%u TX queues, %u queue IDs, mark mask 0x%08x, XPS cleared "
		 "on %u)",
		 what, vmq_dev_is_tcx(&dev->dp) ? "tcx" : "clsact", ntxqs, dev->dp.nr_queues,
		 dev->dp.cfg.mark_mask, cleared);
	vmqd_tcx_report(dev);
	r->result = dev_json(dev);
	return 0;

undo: /* a rejected attach leaves the device as it found it */
	if (attached)
		vmq_dev_detach(&dev->dp);
	if (xps_saved)
		vmq_xps_restore(&dev->dp);
	vmq_dev_unpin(&dev->dp);
	vmq_dev_close(&dev->dp);
	free(dev);
	return -r->err;
}

/* An uplink the state file restores once it appears: detaching it drops
 * what waits for it. */
static bool forget_pending(struct vmqd *d, struct json_object *args, struct vmqd_reply *r)
{
	const char *name = json_object_get_string(json_object_object_get(args, "dev"));
	size_t n = name ? vmqd_state_forget(d, "dev", name, NULL) : 0;

	if (!n)
		return false;
	log_info("dev %s: %zu request(s) waiting for it forgotten", name, n);
	r->err = 0;
	r->result = vmqd_json_object();
	vmqd_json_add(r->result, "forgotten", vmqd_json_int((int64_t)n));
	return true;
}

static int dev_detach(struct vmqd *d, struct json_object *args, struct vmqd_reply *r)
{
	struct vmqd_dev *dev;
	int err = vmqd_req_dev(d, args, "dev detach", r, &dev);

	if (err == -ENODEV && forget_pending(d, args, r))
		return 0;
	if (err)
		return err;
	/* The uplink first: if that fails, nothing has changed. */
	err = vmq_dev_detach(&dev->dp);
	if (err)
		return vmqd_reply_error(r, -err, "dev %s: cannot detach: %s", dev->dp.ifname,
					strerror(-err));
	/* Its ports have nothing left to stamp for; a stale stamp does no harm. */
	err = vmqd_unbind_uplink_ports(d, dev);
	if (err)
		log_warn("dev %s: its ports not all unbound: %s", dev->dp.ifname, strerror(-err));
	err = vmq_xps_restore(&dev->dp);
	if (err)
		log_warn("dev %s: XPS not fully restored: %s", dev->dp.ifname, strerror(-err));
	err = vmq_dev_unpin(&dev->dp);
	if (err)
		log_warn("dev %s: pins not fully removed: %s", dev->dp.ifname, strerror(-err));
	log_info("dev %s: detached", dev->dp.ifname);
	vmqd_remove_dev(d, dev);
	r->result = vmqd_json_object();
	return 0;
}

static int dev_show(struct vmqd *d, struct json_object *args, struct vmqd_reply *r)
{
	struct json_object *list = vmqd_json_array();
	struct vmqd_dev *only = NULL;

	if (vmqd_req_has(args, "dev")) {
		int err = vmqd_req_dev(d, args, "dev show", r, &only);

		if (err) {
			json_object_put(list);
			return err;
		}
	}
	for (size_t i = 0; i < d->ndevs; i++)
		if (!only || d->devs[i] == only)
			vmqd_json_append(list, dev_json(d->devs[i]));
	r->result = vmqd_json_object();
	vmqd_json_add(r->result, "devs", list);
	return 0;
}

void vmqd_abi_refusal(const char *ifname, __u32 found, char *buf, size_t size)
{
	snprintf(buf, size, "dev %s: maps of ABI version %u, this vmqd knows %u: no migration",
		 ifname, found, VMQ_ABI_VERSION);
}

static void tag_hex(const __u8 tag[8], char out[17])
{
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", tag[i]);
}

int vmqd_dev_upgrade(struct vmqd *d, struct vmqd_dev *dev, const char *obj_path, bool keep_hook,
		     struct vmq_upgrade_result *res, struct vmqd_reply *r)
{
	struct vmq_upgrade_opts opts = { .obj_path = obj_path ? obj_path : d->bpf_object,
					 .keep_hook = keep_hook };
	const char *name = dev->dp.ifname, *from = opts.obj_path ? opts.obj_path : "vmqd's build";
	char msg[256], old_tag[17], new_tag[17];
	int err;

	memset(res, 0, sizeof(*res));
	if (dev->missing) {
		snprintf(msg, sizeof(msg), "dev %s: absent; upgrade it when it is back", name);
		err = -ENODEV;
		goto fail;
	}
	err = vmq_dev_upgrade(&dev->dp, &opts, res);
	if (err == -EPROTO && res->abi_found != VMQ_ABI_VERSION) {
		vmqd_abi_refusal(name, res->abi_found, msg, sizeof(msg));
		goto fail;
	}
	if (err == -EPROTO && res->bad_map[0]) {
		snprintf(msg, sizeof(msg),
			 "dev %s: pinned map %s does not fit the program of %s (another layout "
			 "under the same ABI version %u)",
			 name, res->bad_map, from, VMQ_ABI_VERSION);
		goto fail;
	}
	if (err == -ENOENT && opts.obj_path && access(opts.obj_path, R_OK)) {
		snprintf(msg, sizeof(msg), "dev %s: object %s: cannot read it: %s", name,
			 opts.obj_path, strerror(errno));
		goto fail;
	}
	if (err) {
		snprintf(msg, sizeof(msg), "dev %s: cannot upgrade to the program of %s: %s", name,
			 from, strerror(-err));
		goto fail;
	}
	tag_hex(res->old_tag, old_tag);
	tag_hex(res->new_tag, new_tag);
	if (!res->changed) {
		log_debug("dev %s: already current (program %u, tag %s)", name, res->old_prog_id,
			  old_tag);
		return 0;
	}
	log_info("dev %s: upgraded to the program of %s: program %u -> %u (tag %s -> %s), hook "
		 "%s -> %s%s%s",
		 name, from, res->old_prog_id, res->new_prog_id, old_tag, new_tag,
		 res->from_tcx ? "tcx" : "clsact", res->to_tcx ? "tcx" : "clsact",
		 res->attached ? "" : " (not attached: pins only)",
		 res->maps_created ? ", new maps created and pinned" : "");
	if (res->clsact_left)
		log_warn("dev %s: moved to tcx, but vmq's clsact filter could not be removed: it "
			 "runs after the link and sets the same queue",
			 name);
	return 0;
fail:
	if (r)
		return vmqd_reply_error(r, -err, "%s", msg);
	log_err("%s", msg);
	return err;
}

/*
 * A socket user may be a --group member, not root: the object vmqd (root)
 * loads must be one only root could have written. A regular file owned by
 * root, not writable by group or others, in a directory of the same kind.
 */
static int trusted_object(const char *path, const char *ifname, struct vmqd_reply *r)
{
	char dir[PATH_MAX];
	struct stat st;
	char *slash;

	if (stat(path, &st))
		return vmqd_reply_error(r, errno, "dev %s: object %s: %s", ifname, path,
					strerror(errno));
	if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return vmqd_reply_error(
			r, EPERM,
			"dev %s: object %s: must be a regular file owned by root and "
			"writable by root only",
			ifname, path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	if (stat(dir, &st) || st.st_uid != 0 ||
	    ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)))
		return vmqd_reply_error(
			r, EPERM,
			"dev %s: object %s: its directory must be owned by root and "
			"writable by root only",
			ifname, path);
	return 0;
}

/* dev upgrade DEV [object FILE] */
static int dev_upgrade(struct vmqd *d, struct json_object *args, struct vmqd_reply *r)
{
	struct vmq_upgrade_result res;
	struct vmqd_dev *dev;
	const char *obj = NULL;
	unsigned int ports = 0;
	bool rx_changed = false;
	int err = vmqd_req_dev(d, args, "dev upgrade", r, &dev), perr, rerr;

	if (err)
		return err;
	if (vmqd_req_has(args, "object")) {
		struct json_object *v = json_object_object_get(args, "object");

		obj = json_object_get_string(v);
		if (!json_object_is_type(v, json_type_string) || obj[0] != '/')
			return vmqd_reply_error(r, EINVAL,
						"dev %s: object must be an absolute file name",
						dev->dp.ifname);
		err = trusted_object(obj, dev->dp.ifname, r);
		if (err)
			return err;
	}
	err = vmqd_dev_upgrade(d, dev, obj, false, &res, r);
	if (err)
		return err;
	/* The host's one port program, to vmqd's build (logged on error). */
	perr = vmqd_ports_upgrade(d, &ports);
	/* The receive side's, when loaded: vmqd's build too. */
	rerr = vmqd_rx_upgrade(dev, &rx_changed);
	r->result = vmqd_json_object();
	vmqd_json_add(r->result, "dev", vmqd_json_string(dev->dp.ifname));
	vmqd_json_add(r->result, "upgraded", vmqd_json_bool(res.changed));
	vmqd_json_add(r->result, "hook", vmqd_json_string(res.to_tcx ? "tcx" : "clsact"));
	vmqd_json_add(r->result, "from", vmqd_json_string(res.from_tcx ? "tcx" : "clsact"));
	vmqd_json_add(r->result, "prog_id", vmqd_json_int(res.new_prog_id));
	vmqd_json_add(r->result, "old_prog_id", vmqd_json_int(res.old_prog_id));
	vmqd_json_add(r->result, "attached", vmqd_json_bool(res.attached));
	vmqd_json_add(r->result, "maps_created", vmqd_json_int(res.maps_created));
	vmqd_json_add(r->result, "ports_upgraded", vmqd_json_int(ports));
	if (perr)
		vmqd_json_add(r->result, "ports_error", vmqd_json_string(strerror(-perr)));
	if (vmqd_rx_loaded(dev))
		vmqd_json_add(r->result, "rx_upgraded", vmqd_json_bool(rx_changed));
	if (rerr)
		vmqd_json_add(r->result, "rx_error", vmqd_json_string(strerror(-rerr)));
	return 0;
}

static const char *const attach_keys[] = { "dev",   "default_txq", "mark_mask", "queues",
					   "force", "rx",	   NULL };
static const char *const dev_keys[] = { "dev", NULL };
static const char *const upgrade_keys[] = { "dev", "object", NULL };

const struct vmqd_command vmqd_dev_commands[] = {
	{ "attach", dev_attach, attach_keys, true },
	{ "detach", dev_detach, dev_keys, true },
	{ "show", dev_show, dev_keys, false },
	{ "set", vmqd_dev_set, vmqd_dev_set_keys, true },
	{ "upgrade", dev_upgrade, upgrade_keys, false },
	{ "balance", vmqd_dev_balance, vmqd_dev_balance_keys, false },
	{ NULL, NULL, NULL, false },
};
