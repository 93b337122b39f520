// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * port bind | unbind | show: the virtual switch's half of VMQ. Every packet
 * of a bound port's VM goes to one queue: resolved by the uplink's program
 * from the packet's ingress ifindex (uplink mode), or stamped into the mark
 * on the port (stamp mode) where the uplink cannot see the port. Freeing
 * that queue does not unbind the port: as with VMQ during live migration,
 * its packets keep the stale ID and leave on the default queue until the
 * queue is back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "log.h"
#include "proto.h"
#include "vmqd.h"

/* The host's port program, loaded the first time a port is bound. */
static int ports_ready(struct vmqd *d, struct vmqd_reply *r, const char *what)
{
	int err;

	if (d->ports.map_fd >= 0)
		return 0;
	err = vmq_ports_open(&d->ports, d->bpffs_dir);
	if (err)
		return vmqd_reply_error(r, -err, "%s: cannot load the port program: %s", what,
					strerror(-err));
	return 0;
}

/*
 * The host's port program upgraded to vmqd's built-in one when their tags
 * differ (adoption, dev upgrade): swapped into every stamp-mode port's
 * hook, then pinned. *upgraded: the ports that run the new program.
 */
int vmqd_ports_upgrade(struct vmqd *d, unsigned int *upgraded)
{
	struct vmq_ports_upgrade_result res;
	char old_tag[17], new_tag[17];
	int err;

	*upgraded = 0;
	if (d->ports.map_fd < 0)
		return 0;
	err = vmq_ports_upgrade(&d->ports, NULL, &res);
	*upgraded = res.ports_upgraded;
	if (err) {
		log_err("port program: cannot upgrade to vmqd's build: %s", strerror(-err));
		return err;
	}
	if (!res.changed)
		return 0;
	for (int i = 0; i < 8; i++) {
		snprintf(old_tag + 2 * i, 3, "%02x", res.old_tag[i]);
		snprintf(new_tag + 2 * i, 3, "%02x", res.new_tag[i]);
	}
	log_info("port program upgraded to vmqd's build: program %u -> %u (tag %s -> %s), %u "
		 "stamp-mode port(s) swapped, %u without a hook",
		 res.old_prog_id, res.new_prog_id, old_tag, new_tag, res.ports_upgraded,
		 res.ports_skipped);
	if (res.ports_failed)
		log_warn("port program: %u stamp-mode port(s) kept the old program (it stamps "
			 "the same): %s",
			 res.ports_failed, strerror(-res.first_error));
	return 0;
}

/* The "port" argument: an existing interface; `what` becomes "port NAME". */
static int req_port(struct json_object *args, const char *cmd, char *what, size_t size,
		    struct vmqd_reply *r, const char **port, unsigned int *ifindex)
{
	int err = vmqd_req_ifname(args, "port", cmd, r, port);

	if (err)
		return err;
	snprintf(what, size, "port %s", *port);
	*ifindex = if_nametoindex(*port);
	if (!*ifindex)
		return vmqd_reply_error(r, ENODEV, "%s: no such device", what);
	return 0;
}

/* Whether the device is a loopback (IFF_LOOPBACK): its traffic is every
 * local socket's, no VM's. */
static bool is_loopback(const char *ifname)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool lo;

	if (fd < 0)
		return false;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	lo = !ioctl(fd, SIOCGIFFLAGS, &ifr) && (ifr.ifr_flags & IFF_LOOPBACK);
	close(fd);
	return lo;
}

static struct vmqd_dev *uplink_of(struct vmqd *d, const struct vmq_port_entry *e)
{
	for (size_t i = 0; i < d->ndevs; i++)
		if (d->devs[i]->dp.ifindex == (int)e->uplink_ifindex)
			return d->devs[i];
	return NULL;
}

static const struct vmq_dev *dp_of(const struct vmqd_dev *dev)
{
	return dev ? &dev->dp : NULL;
}

static bool queue_port_owned(struct vmqd_dev *uplink, __u32 id)
{
	struct vmq_queue_meta meta;

	return uplink && id != VMQ_DEFAULT_QUEUE && !vmq_queue_meta_read(&uplink->dp, id, &meta) &&
	       (meta.flags & VMQ_META_F_PORT_OWNED);
}

struct bound_ctx {
	__u32 uplink_ifindex, queue_id;
	bool found;
};

static int find_binding(__u32 ifindex, const struct vmq_port_entry *e, void *arg)
{
	struct bound_ctx *ctx = arg;

	(void)ifindex;
	if (e->uplink_ifindex == ctx->uplink_ifindex && e->queue_id == ctx->queue_id)
		ctx->found = true;
	return 0;
}

/* Whether any port is bound to this queue of this uplink. */
static bool queue_bound(struct vmqd *d, __u32 uplink_ifindex, __u32 queue_id)
{
	struct bound_ctx ctx = { .uplink_ifindex = uplink_ifindex, .queue_id = queue_id };

	if (d->ports.map_fd >= 0)
		vmq_port_for_each(&d->ports, find_binding, &ctx);
	return ctx.found;
}

/* A binding's own queue ("queue auto") goes with the binding, unless
 * another port was bound to it meanwhile: 0, or the freed ID + 1 so
 * callers can say which. */
static long free_owned_queue(struct vmqd *d, const struct vmq_port_entry *e)
{
	struct vmqd_dev *uplink = uplink_of(d, e);

	if (!queue_port_owned(uplink, e->queue_id) ||
	    queue_bound(d, e->uplink_ifindex, e->queue_id))
		return 0;
	if (vmqd_queue_free(uplink, e->queue_id)) {
		log_warn("queue %u on %s: created for a port, not freed with it", e->queue_id,
			 uplink->dp.ifname);
		return 0;
	}
	log_debug("queue %u on %s: freed with its port", e->queue_id, uplink->dp.ifname);
	return (long)e->queue_id + 1;
}

/* A port that keeps its queue: "txq" is checked all the same, as it
 * would be for a new queue, rather than taken and ignored. */
static int check_txq_arg(struct vmqd *d, struct json_object *args, struct vmqd_dev *uplink,
			 const char *what, struct vmqd_reply *r)
{
	struct json_object *v;
	__u16 txq;

	if (!json_object_object_get_ex(args, "txq", &v) ||
	    (json_object_is_type(v, json_type_string) && !strcmp(json_object_get_string(v), "any")))
		return 0;
	return vmqd_req_txq(d, args, uplink, what, r, &txq);
}

/* "queue auto": a queue of the port's own, placed by "txq" (any unless
 * told), labelled by "vm". A port already bound to its own queue on this
 * uplink keeps it: the hook and the policy may both ask. */
static int bind_auto_queue(struct vmqd *d, struct json_object *args, struct vmqd_dev *uplink,
			   const struct vmq_port_entry *old, const char *what, struct vmqd_reply *r,
			   __u32 *id, bool *reused)
{
	struct json_object *qargs, *v;
	struct vmq_queue_entry e;
	int err;

	*reused = false;
	if (old && old->uplink_ifindex == (__u32)uplink->dp.ifindex &&
	    queue_port_owned(uplink, old->queue_id)) {
		const char *vm;
		struct vmq_queue_meta meta;

		*id = old->queue_id;
		*reused = true;
		err = check_txq_arg(d, args, uplink, what, r);
		if (err)
			return err;
		/* The policy bound it before the hook said whose VM it is. */
		if (!vmqd_req_has(args, "vm"))
			return 0;
		err = vmqd_req_name(args, "vm", VMQ_NAME_MAX, what, r, &vm);
		if (!err && !vmq_queue_meta_read(&uplink->dp, *id, &meta) && strcmp(meta.vm, vm)) {
			snprintf(meta.vm, sizeof(meta.vm), "%s", vm);
			err = vmq_queue_meta_update(&uplink->dp, *id, &meta);
			if (err)
				return vmqd_reply_error(r, -err, "%s: cannot label queue %u: %s",
							what, *id, strerror(-err));
		}
		return err;
	}
	qargs = vmqd_json_object();
	vmqd_json_add(qargs, "dev", vmqd_json_string(uplink->dp.ifname));
	vmqd_json_add(qargs, "id", vmqd_json_string("auto"));
	if (json_object_object_get_ex(args, "txq", &v))
		vmqd_json_add(qargs, "txq", json_object_get(v));
	else
		vmqd_json_add(qargs, "txq", vmqd_json_string("any"));
	if (json_object_object_get_ex(args, "vm", &v))
		vmqd_json_add(qargs, "vm", json_object_get(v));
	err = vmqd_queue_create(d, qargs, r, VMQ_META_F_PORT_OWNED, id, &e);
	json_object_put(qargs);
	if (err) {
		/* Its message names the queue; say it was for this port. */
		char msg[sizeof(r->message)];

		memcpy(msg, r->message, sizeof(msg));
		vmqd_reply_error(r, r->err, "%s: %.190s", what, msg);
	}
	return err;
}

static int port_bind(struct vmqd *d, struct json_object *args, struct vmqd_reply *r)
{
	struct vmq_port_entry old;
	struct vmq_queue_entry q;
	struct vmqd_dev *uplink;
	bool auto_queue, had_old, reused = false;
	const char *port;
	unsigned int ifindex;
	struct json_object *v;
	char what[64];
	__u32 id = 0, why = 0;
	int err;

	err = req_port(args, "port bind", what, sizeof(what), r, &port, &ifindex);
	if (err)
		return err;
	if (vmqd_find_dev(d, port))
		return vmqd_reply_error(r, EINVAL, "%s: is an attached uplink, not a VM port",
					what);
	if (is_loopback(port))
		return vmqd_reply_error(r, EINVAL, "%s: is the loopback device, not a VM port",
					what);
	err = vmqd_req_dev(d, args, what, r, &uplink);
	if (err)
		return err;
	auto_queue = json_object_object_get_ex(args, "queue", &v) &&
		     json_object_is_type(v, json_type_string) &&
		     !strcmp(json_object_get_string(v), "auto");
	if (!auto_queue && (vmqd_req_has(args, "txq") || vmqd_req_has(args, "vm")))
		return vmqd_reply_error(r, EINVAL, "%s: txq and vm go with \"queue auto\" only",
					what);
	if (!auto_queue) {
		err = vmqd_req_u32(args, "queue", 0xffffffffU, what, r, &id);
		if (err)
			return err;
		/* A saved stale binding is restored stale: its queue may come back. */
		if (id >= uplink->dp.nr_queues || vmq_queue_read(&uplink->dp, id, &q) ||
		    (q.state == VMQ_QUEUE_FREE && id != VMQ_DEFAULT_QUEUE && !d->replaying))
			return vmqd_reply_error(r, ENOENT, "%s: queue %u does not exist on %s",
						what, id, uplink->dp.ifname);
	}
	err = ports_ready(d, r, what);
	if (err)
		return err;
	had_old = !vmq_port_get(&d->ports, ifindex, &old);
	err = vmq_port_mode(ifindex, &uplink->dp, &why);
	if (err)
		return vmqd_reply_error(r, -err, "%s: cannot read its master: %s", what,
					strerror(-err));
	if (auto_queue) {
		err = bind_auto_queue(d, args, uplink, had_old ? &old : NULL, what, r, &id,
				      &reused);
		if (err)
			return err;
	}
	err = vmq_port_bind(&d->ports, ifindex, id, &uplink->dp, why,
			    had_old ? dp_of(uplink_of(d, &old)) : NULL);
	if (err) {
		if (auto_queue && !reused)
			vmqd_queue_free(uplink, id);
		return vmqd_reply_error(r, -err, "%s: cannot bind: %s", what, strerror(-err));
	}
	/* Rebound elsewhere: the queue it owned has nobody left. */
	if (had_old && (old.queue_id != id || old.uplink_ifindex != (__u32)uplink->dp.ifindex)) {
		free_owned_queue(d, &old);
		vmqd_rx_follow_port(d, uplink_of(d, &old), old.queue_id);
	}
	/* A queue in port mode delivers to its port from now on. */
	vmqd_rx_follow_port(d, uplink, id);
	log_info("%s: bound to queue %u on %s%s, %s mode", what, id, uplink->dp.ifname,
		 auto_queue ? (reused ? " (its own, kept)" : " (its own, created)") : "",
		 vmq_port_why_uplink(why) ? "uplink" : "stamp");
	r->result = vmqd_json_object();
	vmqd_json_add(r->result, "queue", vmqd_json_int(id));
	if (!vmq_queue_read(&uplink->dp, id, &q) && q.state == VMQ_QUEUE_TXQ)
		vmqd_json_add(r->result, "txq", vmqd_json_int(q.target));
	return 0;
}

/* Unbinds one port and frees its own queue; *freed is that ID + 1, or 0. */
int vmqd_port_release(struct vmqd *d, __u32 ifindex, long *freed)
{
	struct vmq_port_entry e;
	int err;

	*freed = 0;
	if (d->ports.map_fd < 0 || vmq_port_get(&d->ports, ifindex, &e))
		return -ENOENT;
	err = vmq_port_unbind(&d->ports, ifindex, dp_of(uplink_of(d, &e)));
	if (!err) {
		*freed = free_owned_queue(d, &e);
		/* Port mode without its port: frames take the stack. */
		vmqd_rx_follow_port(d, uplink_of(d, &e), e.queue_id);
	}
	return err;
}

/* A waiting "port bind" dropped: the queue made for it (restored before its
 * port appeared) has nobody left. */
static void forgotten_bind(struct vmqd *d, struct json_object *req)
{
	struct json_object *args = json_object_object_get(req, "args");
	const char *dev = json_object_get_string(json_object_object_get(args, "dev"));
	struct vmqd_dev *uplink = dev ? vmqd_find_dev(d, dev) : NULL;
	__u32 id = (__u32)json_object_get_int64(json_object_object_get(args, "queue"));

	if (strcmp(json_object_get_string(json_object_object_get(req, "command")), "bind") ||
	    !uplink || uplink->missing || !queue_port_owned(uplink, id) ||
	    queue_bound(d, (__u32)uplink->dp.ifindex, id))
		return;
	if (!vmqd_queue_free(uplink, id))
		log_info("queue %u on %s: made for a port that never came, freed", id, dev);
}

static int port_unbind(struct vmqd *d, struct json_object *args, struct vmqd_reply *r)
{
	struct vmq_port_entry entry;
	size_t forgotten;
	const char *port = NULL;
	unsigned int ifindex;
	char what[64];
	long freed;
	int err;

	err = req_port(args, "port unbind", what, sizeof(what), r, &port, &ifindex);
	/* A binding the state file restores once its port (or uplink)
	 * appears is dropped too. */
	forgotten = port ? vmqd_state_forget(d, "port", port, forgotten_bind) : 0;
	if (forgotten)
		log_info("port %s: its waiting binding forgotten", port);
	if (err == -ENODEV && forgotten) {
		r->err = 0;
		r->result = vmqd_json_object();
		vmqd_json_add(r->result, "forgotten", vmqd_json_int(1));
		return 0;
	}
	if (err)
		return err;
	if (forgotten && (d->ports.map_fd < 0 || vmq_port_get(&d->ports, ifindex, &entry))) {
		r->result = vmqd_json_object();
		vmqd_json_add(r->result, "forgotten", vmqd_json_int(1));
		return 0;
	}
	err = vmqd_port_release(d, ifindex, &freed);
	if (err == -ENOENT)
		return vmqd_reply_error(r, ENOENT, "%s: not bound", what);
	if (err)
		return vmqd_reply_error(r, -err, "%s: cannot unbind: %s", what, strerror(-err));
	log_info("%s: unbound%s", what, freed ? ", its queue freed" : "");
	r->result = vmqd_json_object();
	if (freed)
		vmqd_json_add(r->result, "freed_queue", vmqd_json_int(freed - 1));
	return 0;
}

/* Why a binding has its mode, in words (port show). */
static void why_text(__u32 ifindex, const struct vmq_port_entry *e, char *buf, size_t size)
{
	char master[IF_NAMESIZE] = "";
	int m = 0;

	switch (e->why) {
	case VMQ_PORT_WHY_ROUTED:
		snprintf(buf, size, "routed from the port");
		break;
	case VMQ_PORT_WHY_SAME_BRIDGE:
		snprintf(buf, size, "same bridge as the uplink");
		break;
	case VMQ_PORT_WHY_OTHER_BRIDGE:
		/* The name as it is now; vmqd follows any change of master. */
		if (vmq_nl_link_master((int)ifindex, &m) || !m ||
		    !if_indextoname((unsigned int)m, master))
			snprintf(master, sizeof(master), "?");
		snprintf(buf, size, "in bridge %s without the uplink", master);
		break;
	case VMQ_PORT_WHY_BEYOND:
		snprintf(buf, size, "ifindex beyond %u", VMQ_PORT_IFINDEX_MAX - 1);
		break;
	case VMQ_PORT_WHY_NO_ARRAY:
		snprintf(buf, size, "uplink loaded without port slots");
		break;
	default:
		snprintf(buf, size, "bound by an older vmqd");
		break;
	}
}

struct show_ctx {
	struct vmqd *d;
	struct json_object *list;
	const char *only_dev;
};

static int port_json(__u32 ifindex, const struct vmq_port_entry *e, void *arg)
{
	struct show_ctx *ctx = arg;
	struct json_object *o;
	struct vmq_queue_entry q;
	struct vmq_queue_meta meta;
	struct vmqd_dev *uplink = NULL;
	char port[IF_NAMESIZE], dev[IF_NAMESIZE], why[64];
	const char *state = "no uplink";

	if (!if_indextoname(ifindex, port))
		snprintf(port, sizeof(port), "#%u", ifindex);
	if (if_indextoname(e->uplink_ifindex, dev))
		uplink = vmqd_find_dev(ctx->d, dev);
	else
		snprintf(dev, sizeof(dev), "#%u", e->uplink_ifindex);
	if (ctx->only_dev && strcmp(ctx->only_dev, dev))
		return 0;
	if (uplink && !vmq_queue_read(&uplink->dp, e->queue_id, &q))
		state = q.state != VMQ_QUEUE_FREE || e->queue_id == VMQ_DEFAULT_QUEUE ? "live"
										      : "stale";
	o = vmqd_json_object();
	vmqd_json_add(o, "port", vmqd_json_string(port));
	vmqd_json_add(o, "ifindex", vmqd_json_int(ifindex));
	vmqd_json_add(o, "dev", vmqd_json_string(dev));
	vmqd_json_add(o, "queue", vmqd_json_int(e->queue_id));
	vmqd_json_add(o, "state", vmqd_json_string(state));
	vmqd_json_add(o, "mode",
		      vmqd_json_string(e->flags & VMQ_PORT_F_UPLINK ? "uplink" : "stamp"));
	why_text(ifindex, e, why, sizeof(why));
	vmqd_json_add(o, "why", vmqd_json_string(why));
	if (uplink && !vmq_queue_meta_read(&uplink->dp, e->queue_id, &meta) && meta.vm[0])
		vmqd_json_add(o, "vm", vmqd_json_string(meta.vm));
	/* Only a port in stamp mode has a hook of its own. */
	if (!(e->flags & VMQ_PORT_F_UPLINK))
		vmqd_json_add(o, "hook",
			      vmqd_json_string(e->flags & VMQ_PORT_F_TCX ? "tcx" : "clsact"));
	vmqd_json_append(ctx->list, o);
	return 0;
}

static int port_show(struct vmqd *d, struct json_object *args, struct vmqd_reply *r)
{
	struct show_ctx ctx = { .d = d };
	int err = 0;

	if (vmqd_req_has(args, "dev"))
		err = vmqd_req_ifname(args, "dev", "port show", r, &ctx.only_dev);
	if (err)
		return err;
	vmqd_prune_ports(d);
	ctx.list = vmqd_json_array();
	if (d->ports.map_fd >= 0)
		err = vmq_port_for_each(&d->ports, port_json, &ctx);
	if (err) {
		json_object_put(ctx.list);
		return vmqd_reply_error(r, -err, "port show: %s", strerror(-err));
	}
	r->result = vmqd_json_object();
	vmqd_json_add(r->result, "ports", ctx.list);
	return 0;
}

/* Ports picked by a predicate, collected before acting: unbinding deletes
 * from the map being walked. */
struct port_pick {
	bool (*match)(__u32 ifindex, const struct vmq_port_entry *e, __u32 arg);
	__u32 arg;
	size_t n;
	__u32 ports[VMQ_PORTS_MAX];
};

static int pick_port(__u32 ifindex, const struct vmq_port_entry *e, void *arg)
{
	struct port_pick *p = arg;

	if (p->match(ifindex, e, p->arg) && p->n < VMQ_PORTS_MAX)
		p->ports[p->n++] = ifindex;
	return 0;
}

static int for_picked(struct vmqd *d,
		      bool (*match)(__u32 ifindex, const struct vmq_port_entry *e, __u32 arg),
		      __u32 arg, int (*act)(struct vmqd *d, __u32 ifindex, __u32 act_arg),
		      __u32 act_arg)
{
	struct port_pick *p;
	int err;

	if (d->ports.map_fd < 0)
		return 0;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->match = match;
	p->arg = arg;
	err = vmq_port_for_each(&d->ports, pick_port, p);
	for (size_t i = 0; !err && i < p->n; i++)
		err = act(d, p->ports[i], act_arg);
	free(p);
	return err;
}

static int unbind(struct vmqd *d, __u32 ifindex, __u32 unused)
{
	long freed;
	int err = vmqd_port_release(d, ifindex, &freed);

	(void)unused;
	if (!err && freed)
		d->state_dirty = true;
	return err == -ENOENT ? 0 : err;
}

static int unbind_picked(struct vmqd *d,
			 bool (*match)(__u32 ifindex, const struct vmq_port_entry *e, __u32 arg),
			 __u32 arg)
{
	return for_picked(d, match, arg, unbind, 0);
}

static bool of_uplink(__u32 ifindex, const struct vmq_port_entry *e, __u32 uplink)
{
	(void)ifindex;
	return e->uplink_ifindex == uplink;
}

static bool vanished(__u32 ifindex, const struct vmq_port_entry *e, __u32 unused)
{
	char name[IF_NAMESIZE];

	(void)e;
	(void)unused;
	return !if_indextoname(ifindex, name);
}

/* dev detach: a detached uplink's ports have nothing left to stamp for. */
int vmqd_unbind_uplink_ports(struct vmqd *d, const struct vmqd_dev *uplink)
{
	return unbind_picked(d, of_uplink, (__u32)uplink->dp.ifindex);
}

static int rebase(struct vmqd *d, __u32 ifindex, __u32 new_uplink)
{
	struct vmq_port_entry e;
	int err = vmq_port_get(&d->ports, ifindex, &e);

	e.uplink_ifindex = new_uplink;
	return err ? err : vmq_port_update(&d->ports, ifindex, &e);
}

/* An uplink came back with a new ifindex: its ports follow it. */
int vmqd_ports_rebase(struct vmqd *d, __u32 old_ifindex, __u32 new_ifindex)
{
	if (old_ifindex == new_ifindex)
		return 0;
	return for_picked(d, of_uplink, old_ifindex, rebase, new_ifindex);
}

/* Whether a binding's mode follows from a change of this link: the port
 * itself, or its uplink (enslaved or released too). 0: every binding. */
static bool port_or_uplink(__u32 ifindex, const struct vmq_port_entry *e, __u32 link)
{
	return !link || ifindex == link || e->uplink_ifindex == link;
}

/*
 * Re-decides one binding's mode and switches it when the topology changed
 * (a port enslaved to or released from a bridge). vmq_port_bind orders
 * the switch so that no packet goes without: stamp -> uplink writes the
 * slot before removing the hook, uplink -> stamp attaches the hook before
 * clearing the slot.
 */
static int refresh_mode(struct vmqd *d, __u32 ifindex, __u32 unused)
{
	struct vmq_port_entry e;
	struct vmqd_dev *uplink;
	char port[IF_NAMESIZE];
	__u32 why;
	int err;

	(void)unused;
	if (vmq_port_get(&d->ports, ifindex, &e))
		return 0;
	uplink = uplink_of(d, &e);
	/* A vanished port is pruned; a missing uplink is decided when back. */
	if (!uplink || uplink->missing || vmq_port_mode(ifindex, &uplink->dp, &why))
		return 0;
	if (why == e.why)
		return 0;
	if (!if_indextoname(ifindex, port))
		snprintf(port, sizeof(port), "#%u", ifindex);
	if (vmq_port_why_uplink(why) == !!(e.flags & VMQ_PORT_F_UPLINK)) {
		/* Same mode, another reason (say, a bridge renamed its ports). */
		e.why = why;
		err = vmq_port_update(&d->ports, ifindex, &e);
		if (err)
			log_warn("port %s: cannot record why it is in %s mode: %s", port,
				 vmq_port_why_uplink(why) ? "uplink" : "stamp", strerror(-err));
		return 0;
	}
	err = vmq_port_bind(&d->ports, ifindex, e.queue_id, &uplink->dp, why, &uplink->dp);
	if (err)
		log_err("port %s: cannot switch to %s mode: %s", port,
			vmq_port_why_uplink(why) ? "uplink" : "stamp", strerror(-err));
	else
		log_info("port %s: %s mode now (queue %u on %s)", port,
			 vmq_port_why_uplink(why) ? "uplink" : "stamp", e.queue_id,
			 uplink->dp.ifname);
	return 0;
}

/* A link changed (its master, say): the bindings of that port, or of that
 * uplink, take the mode the topology now asks for. 0: every binding. */
int vmqd_ports_refresh(struct vmqd *d, __u32 link)
{
	return for_picked(d, port_or_uplink, link, refresh_mode, 0);
}

/* A port whose device is gone (its VM destroyed) took its filter with it;
 * its binding goes too, before anyone looks. */
int vmqd_prune_ports(struct vmqd *d)
{
	return unbind_picked(d, vanished, 0);
}

static const char *const bind_keys[] = { "port", "dev", "queue", "txq", "vm", NULL };
static const char *const unbind_keys[] = { "port", NULL };
static const char *const show_keys[] = { "dev", NULL };

const struct vmqd_command vmqd_port_commands[] = {
	{ "bind", port_bind, bind_keys, true },
	{ "unbind", port_unbind, unbind_keys, true },
	{ "show", port_show, show_keys, false },
	{ NULL, NULL, NULL, false },
};
