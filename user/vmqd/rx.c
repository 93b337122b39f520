// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The receive side's control: vmq_rx (XDP) on an uplink, loaded when a
 * filter or a receive mode first needs its maps and attached by "rx on";
 * each queue's receive mode, whose devmap slot follows the queue's port
 * binding. The maps are the state, as for vmq_tx.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>

#include "log.h"
#include "vmqd.h"

bool vmqd_rx_loaded(const struct vmqd_dev *dev)
{
	return dev->dp.rx_filters_fd >= 0;
}

int vmqd_rx_ready(struct vmqd_dev *dev, const char *what, struct vmqd_reply *r)
{
	int err;

	if (vmqd_rx_loaded(dev))
		return 0;
	if (dev->missing)
		return vmqd_reply_error(r, ENODEV, "%s: %s is absent", what, dev->dp.ifname);
	err = vmq_rx_load(&dev->dp, NULL);
	if (err)
		return vmqd_reply_error(r, -err,
					"%s: cannot load the receive side (vmq_rx) of %s: %s", what,
					dev->dp.ifname, strerror(-err));
	log_info("dev %s: receive side loaded (filters and modes pinned under %s/%s)",
		 dev->dp.ifname, dev->dp.pin_dir, VMQ_PIN_RX_DIR);
	return 0;
}

/* VMQ_XDP_MODE=native|generic|auto (unset: auto): generic forces the
 * stack's hook on a driver that has its own, for tests and odd drivers. */
enum vmq_xdp_mode vmqd_xdp_mode_env(void)
{
	const char *s = getenv("VMQ_XDP_MODE");

	if (s && !strcmp(s, "native"))
		return VMQ_XDP_NATIVE;
	if (s && !strcmp(s, "generic"))
		return VMQ_XDP_GENERIC;
	return VMQ_XDP_AUTO;
}

int vmqd_rx_on(struct vmqd_dev *dev, const char *what, struct vmqd_reply *r)
{
	struct vmq_rx_status st = {};
	char prog[VMQ_PROG_NAME_SIZE];
	int err;

	if (dev->missing)
		return vmqd_reply_error(r, ENODEV, "%s: %s is absent", what, dev->dp.ifname);
	err = vmq_rx_attach(&dev->dp, vmqd_xdp_mode_env());
	if (err == -EBUSY) {
		vmq_rx_status(&dev->dp, &st);
		vmq_prog_name(st.found_prog_id, prog, sizeof(prog));
		return vmqd_reply_error(r, EBUSY,
					"%s: XDP program %u (%s) is attached to %s already: one "
					"XDP program per device; detach it first",
					what, st.found_prog_id, prog[0] ? prog : "no name",
					dev->dp.ifname);
	}
	if (err)
		return vmqd_reply_error(r, -err, "%s: cannot attach the receive side (XDP): %s",
					what, strerror(-err));
	vmq_rx_status(&dev->dp, &st);
	log_info("%s: receive side attached, %s XDP%s", what, st.generic ? "generic" : "native",
		 st.link ? " (pinned link)" : "");
	return 0;
}

int vmqd_rx_off(struct vmqd_dev *dev, const char *what, struct vmqd_reply *r)
{
	int err;

	if (!vmqd_rx_loaded(dev))
		return 0;
	err = vmq_rx_detach(&dev->dp);
	if (err)
		return vmqd_reply_error(r, -err, "%s: cannot detach the receive side: %s", what,
					strerror(-err));
	log_info("%s: receive side detached (filters and modes kept)", what);
	return 0;
}

struct bound_ctx {
	__u32 uplink, queue;
	__u32 ifindex; /* the first port bound to the queue */
	unsigned int count;
};

static int count_bound(__u32 ifindex, const struct vmq_port_entry *e, void *arg)
{
	struct bound_ctx *ctx = arg;

	if (e->uplink_ifindex != ctx->uplink || e->queue_id != ctx->queue)
		return 0;
	if (!ctx->count++)
		ctx->ifindex = ifindex;
	return 0;
}

unsigned int vmqd_rx_bound_ports(struct vmqd *d, const struct vmqd_dev *dev, __u32 id,
				 __u32 *ifindex)
{
	struct bound_ctx ctx = { .uplink = (__u32)dev->dp.ifindex, .queue = id };

	if (d->ports.map_fd >= 0 && dev->dp.ifindex > 0)
		vmq_port_for_each(&d->ports, count_bound, &ctx);
	*ifindex = ctx.ifindex;
	return ctx.count;
}

/* A queue in port mode sends to the one port bound to it: its devmap slot
 * follows binds and unbinds. No port (or two): the slot goes, and its
 * frames take the stack, counted as no_target, until one port is bound. */
int vmqd_rx_follow_port(struct vmqd *d, struct vmqd_dev *dev, __u32 id)
{
	struct vmq_rx_queue_entry e;
	__u32 cur = 0, want = 0;
	unsigned int n;
	int err;

	if (!dev || !vmqd_rx_loaded(dev) || id == VMQ_DEFAULT_QUEUE || id >= dev->dp.nr_queues)
		return 0;
	err = vmq_rx_mode_get(&dev->dp, id, &e, &cur);
	if (err || e.mode != VMQ_RX_MODE_PORT)
		return err;
	n = vmqd_rx_bound_ports(d, dev, id, &want);
	if (n != 1)
		want = 0;
	if (want == cur)
		return 0;
	err = want ? vmq_rx_mode_set(&dev->dp, id, VMQ_RX_MODE_PORT, want)
		   : vmq_rx_port_drop(&dev->dp, id);
	if (err)
		log_warn("queue %u on %s: receive port not updated: %s", id, dev->dp.ifname,
			 strerror(-err));
	else if (want)
		log_info("queue %u on %s: received frames go to port ifindex %u", id,
			 dev->dp.ifname, want);
	else
		log_info("queue %u on %s: %s bound, its received frames take the stack", id,
			 dev->dp.ifname, n ? "more than one port" : "no port");
	return err;
}

void vmqd_rx_follow_all(struct vmqd *d)
{
	for (size_t i = 0; i < d->ndevs; i++) {
		struct vmqd_dev *dev = d->devs[i];

		for (__u32 id = 1; vmqd_rx_loaded(dev) && id < dev->dp.nr_queues; id++)
			vmqd_rx_follow_port(d, dev, id);
	}
}

/*
 * "rx cpu N|port|pass" of queue set, checked whole before anything is
 * written (queue_set writes the TX target after it only when this passed
 * its checks): *apply is then called by the caller.
 */
int vmqd_rx_parse_mode(struct vmqd *d, struct vmqd_dev *dev, struct json_object *args, __u32 id,
		       const char *what, struct vmqd_reply *r, struct vmqd_rx_req *req)
{
	struct json_object *v = vmq_json_member(args, "rx", json_type_string);
	const char *mode;
	bool online = false;
	unsigned int n;
	int err;

	memset(req, 0, sizeof(*req));
	if (!vmqd_req_has(args, "rx")) {
		if (vmqd_req_has(args, "cpu"))
			return vmqd_reply_error(r, EINVAL, "%s: cpu goes with rx cpu", what);
		return 0;
	}
	if (!v)
		return vmqd_reply_error(r, EINVAL, "%s: rx must be \"cpu\", \"port\" or \"pass\"",
					what);
	if (id == VMQ_DEFAULT_QUEUE)
		return vmqd_reply_error(r, EINVAL,
					"%s: the default queue's frames always take the stack; rx "
					"is for VM queues",
					what);
	mode = json_object_get_string(v);
	req->set = true;
	if (!strcmp(mode, "pass")) {
		req->mode = VMQ_RX_MODE_PASS;
	} else if (!strcmp(mode, "cpu")) {
		req->mode = VMQ_RX_MODE_CPU;
		err = vmqd_req_u32(args, "cpu", 0xffffU, what, r, &req->arg);
		if (err)
			return err;
		err = vmq_cpu_online(req->arg, &online);
		if (err)
			return vmqd_reply_error(r, -err,
						"%s: cannot tell whether CPU %u exists: %s", what,
						req->arg, strerror(-err));
		if (!online)
			return vmqd_reply_error(r, ENODEV,
						"%s: CPU %u does not exist or is offline", what,
						req->arg);
	} else if (!strcmp(mode, "port")) {
		req->mode = VMQ_RX_MODE_PORT;
		n = vmqd_rx_bound_ports(d, dev, id, &req->arg);
		if (!n && !d->replaying)
			return vmqd_reply_error(
				r, EINVAL,
				"%s: no port is bound to it, so port mode has nowhere to deliver "
				"(port bind PORT dev %s queue %u first)",
				what, dev->dp.ifname, id);
		if (n > 1)
			return vmqd_reply_error(r, EINVAL,
						"%s: %u ports are bound to it; port mode delivers "
						"to one",
						what, n);
	} else {
		char q[VMQD_REQ_QUOTE_SIZE];

		return vmqd_reply_error(r, EINVAL,
					"%s: rx \"%s\" is not \"cpu\", \"port\" or \"pass\"", what,
					vmqd_req_quote(mode, q, sizeof(q)));
	}
	if (req->mode != VMQ_RX_MODE_CPU && vmqd_req_has(args, "cpu"))
		return vmqd_reply_error(r, EINVAL, "%s: cpu goes with rx cpu", what);
	/* Pass is every queue's mode until the receive side is loaded. */
	if (req->mode == VMQ_RX_MODE_PASS && !vmqd_rx_loaded(dev)) {
		req->set = false;
		return 0;
	}
	return vmqd_rx_ready(dev, what, r);
}

int vmqd_rx_apply_mode(struct vmqd_dev *dev, __u32 id, const struct vmqd_rx_req *req,
		       const char *what, struct vmqd_reply *r)
{
	int err;

	if (!req->set)
		return 0;
	/* Port mode replayed before its port came back: the mode, no slot. */
	if (req->mode == VMQ_RX_MODE_PORT && !req->arg)
		err = vmq_rx_port_mode_unbound(&dev->dp, id);
	else
		err = vmq_rx_mode_set(&dev->dp, id, req->mode, req->arg);
	if (err == -ENODEV && req->mode == VMQ_RX_MODE_CPU)
		return vmqd_reply_error(r, ENODEV, "%s: CPU %u does not exist or is offline", what,
					req->arg);
	if (err)
		return vmqd_reply_error(r, -err, "%s: cannot set its receive mode: %s", what,
					strerror(-err));
	log_debug("%s: rx %s", what, vmq_rx_mode_name(req->mode));
	return 0;
}

/* vmq_rx to vmqd's build when the pinned one differs (by tag): at
 * adoption and by dev upgrade, as vmq_tx. *changed says it was swapped. */
int vmqd_rx_upgrade(struct vmqd_dev *dev, bool *changed)
{
	int err;

	*changed = false;
	if (!vmqd_rx_loaded(dev) || dev->missing)
		return 0;
	err = vmq_rx_upgrade(&dev->dp, NULL, changed);
	if (err)
		log_err("dev %s: receive side not upgraded to vmqd's build: %s", dev->dp.ifname,
			strerror(-err));
	else if (*changed)
		log_info("dev %s: receive side upgraded to vmqd's build (maps, filters and modes "
			 "kept)",
			 dev->dp.ifname);
	return err;
}

/* A freed queue keeps no filter and no receive mode: a new queue of the
 * same ID starts clean. */
void vmqd_rx_queue_freed(struct vmqd_dev *dev, __u32 id)
{
	unsigned int deleted = 0;
	int err;

	if (!vmqd_rx_loaded(dev))
		return;
	err = vmq_rx_filter_del_queue(&dev->dp, id, &deleted);
	if (err)
		log_warn("queue %u on %s: its receive filters not all deleted: %s", id,
			 dev->dp.ifname, strerror(-err));
	else if (deleted)
		log_info("queue %u on %s: freed, %u receive filter(s) deleted", id, dev->dp.ifname,
			 deleted);
	err = vmq_rx_mode_clear(&dev->dp, id);
	if (err)
		log_warn("queue %u on %s: receive mode not reset: %s", id, dev->dp.ifname,
			 strerror(-err));
}

/* "rx": "cpu"|"port"|"pass" and its details, for queue and filter rows. */
void vmqd_rx_mode_json(struct vmqd_dev *dev, __u32 id, struct json_object *o)
{
	struct vmq_rx_queue_entry e;
	char name[IF_NAMESIZE];
	__u32 port = 0;

	if (!vmqd_rx_loaded(dev) || vmq_rx_mode_get(&dev->dp, id, &e, &port) ||
	    !vmq_rx_mode_name(e.mode))
		return;
	vmqd_json_add(o, "rx", vmqd_json_string(vmq_rx_mode_name(e.mode)));
	if (e.mode == VMQ_RX_MODE_CPU)
		vmqd_json_add(o, "rx_cpu", vmqd_json_int(e.cpu));
	if (e.mode == VMQ_RX_MODE_PORT && port && if_indextoname(port, name))
		vmqd_json_add(o, "rx_port", vmqd_json_string(name));
}
