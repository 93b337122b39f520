// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Link events (rtnetlink RTNLGRP_LINK): a managed uplink whose TX queue
 * count changes is reconciled; one that goes away is kept, marked missing,
 * and attached again when a device of its name comes back (a driver
 * reload, a re-created veth): its queues, groups and names are still
 * pinned, so nothing has to be configured twice. A bound port (or an
 * uplink) enslaved to a bridge or released from one switches its bindings'
 * mode (uplink or stamp). A managed uplink renamed is followed: vmqd tracks
 * it by ifindex, and its pin directory takes the new name.
 */
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "log.h"
#include "vmqd.h"

int vmqd_linkwatch_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static struct vmqd_dev *find_by_ifindex(struct vmqd *d, int ifindex)
{
	for (size_t i = 0; i < d->ndevs; i++)
		if (!d->devs[i]->missing && d->devs[i]->dp.ifindex == ifindex)
			return d->devs[i];
	return NULL;
}

static struct vmqd_dev *find_missing(struct vmqd *d, const char *ifname)
{
	for (size_t i = 0; i < d->ndevs; i++)
		if (d->devs[i]->missing && !strcmp(d->devs[i]->dp.ifname, ifname))
			return d->devs[i];
	return NULL;
}

static void txqs_changed(struct vmqd_dev *dev)
{
	unsigned int ntxqs, before = dev->ntxqs, changed = 0, cleared = 0;
	int err;

	if (vmq_netdev_txqs(dev->dp.ifname, &ntxqs) || ntxqs == dev->ntxqs)
		return;
	log_warn("dev %s: TX queues %u -> %u", dev->dp.ifname, before, ntxqs);
	/* Drivers re-apply default XPS maps when their channels change. */
	err = vmq_xps_clear(&dev->dp, ntxqs, &cleared);
	if (err)
		log_err("dev %s: cannot clear XPS: %s", dev->dp.ifname, strerror(-err));
	else if (cleared)
		log_warn("dev %s: XPS came back on %u TX queue(s): cleared", dev->dp.ifname,
			 cleared);
	err = vmqd_reconcile(dev, &changed);
	if (err)
		log_err("dev %s: cannot reconcile its queues: %s", dev->dp.ifname, strerror(-err));
	else
		log_info("dev %s: reconciled, %u queue(s) changed", dev->dp.ifname, changed);
}

/*
 * The device is back under its old name: dev->dp.ifindex is its new index,
 * old_ifindex the one its pinned state and port bindings still name.
 */
int vmqd_dev_came_back(struct vmqd *d, struct vmqd_dev *dev, int old_ifindex)
{
	struct vmq_dev_info info;
	unsigned int ntxqs = 0, cleared = 0, changed = 0;
	bool xps = false;
	int err;

	err = vmq_dev_info_read(&dev->dp, &info);
	if (!err) {
		/* Its clsact went with the old device: whatever we make now is ours.
		 * A tcx link went defunct with it; attach replaces its pin. */
		info.flags &= ~VMQ_DEV_F_HOOK_CREATED;
		err = vmq_dev_info_write(&dev->dp, &info);
	}
	if (!err)
		err = vmq_netdev_txqs(dev->dp.ifname, &ntxqs);
	if (!err) {
		err = vmq_xps_clear(&dev->dp, ntxqs, &cleared);
		xps = true;
	}
	if (!err)
		err = vmq_dev_attach(&dev->dp);
	if (err) {
		if (xps)
			vmq_xps_restore(&dev->dp);
		log_err("dev %s: back, but cannot attach again: %s", dev->dp.ifname,
			strerror(-err));
		return err;
	}
	dev->missing = false;
	dev->ntxqs = ntxqs;
	/* Its XDP link went defunct with the old device: a new one, in the
	 * mode it had. Filters and modes are in the maps, unchanged. */
	if ((info.flags & VMQ_DEV_F_RX_ATTACHED) && vmqd_rx_loaded(dev)) {
		err = vmq_rx_attach(&dev->dp, VMQ_XDP_AUTO);
		if (err)
			log_err("dev %s: back, but its receive side cannot attach again: %s",
				dev->dp.ifname, strerror(-err));
	}
	if (vmqd_ports_rebase(d, (__u32)old_ifindex, (__u32)dev->dp.ifindex))
		log_warn("dev %s: its port bindings still name the old device", dev->dp.ifname);
	/* Back in a bridge, or out of one: its ports' modes follow. */
	else if (d->ports.map_fd >= 0)
		vmqd_ports_refresh(d, (__u32)dev->dp.ifindex);
	err = vmqd_reconcile(dev, &changed);
	log_info("dev %s: back (ifindex %d, %u TX queues): attached again%s", dev->dp.ifname,
		 dev->dp.ifindex, ntxqs, err ? ", but its queues are not reconciled" : "");
	return 0;
}

/* What a lost event would have said about dev: gone, back, or resized. */
static void recheck(struct vmqd *d, struct vmqd_dev *dev)
{
	char name[IF_NAMESIZE];
	int now, old = dev->dp.ifindex;

	/* Its device is still there: renamed, perhaps. */
	if (!dev->missing && old > 0 && if_indextoname((unsigned int)old, name)) {
		vmqd_dev_renamed(d, dev, name);
		txqs_changed(dev);
		return;
	}
	now = (int)if_nametoindex(dev->dp.ifname);
	if (!now) {
		dev->missing = true;
	} else if (dev->missing || now != old) {
		dev->missing = true;
		dev->dp.ifindex = now;
		if (vmqd_dev_came_back(d, dev, old))
			dev->dp.ifindex = old;
	} else {
		txqs_changed(dev);
	}
}

static void link_event(struct vmqd *d, const struct nlmsghdr *nh)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(nh);
	const struct rtattr *name = vmq_nl_attr(nh, sizeof(*ifi), IFLA_IFNAME);
	struct vmqd_dev *dev = find_by_ifindex(d, ifi->ifi_index);
	struct vmq_port_entry port;

	/* The bridge's own news of its ports: RTM_DELLINK there says a port
	 * left the bridge, not that the link is gone. Only modes follow it. */
	if (ifi->ifi_family == AF_BRIDGE) {
		if (d->ports.map_fd >= 0)
			vmqd_ports_refresh(d, (__u32)ifi->ifi_index);
		return;
	}
	if (nh->nlmsg_type == RTM_DELLINK && dev) {
		dev->missing = true;
		log_warn("dev %s: removed; its queues stay pinned and it is attached again if it "
			 "comes back (\"vmqctl dev detach %s\" forgets it)",
			 dev->dp.ifname, dev->dp.ifname);
	} else if (nh->nlmsg_type == RTM_NEWLINK && dev) {
		/* Renamed: vmqd follows the device, not the name. */
		if (name)
			vmqd_dev_renamed(d, dev, RTA_DATA(name));
		txqs_changed(dev);
		/* Enslaved or released: its ports may change mode. */
		if (d->ports.map_fd >= 0)
			vmqd_ports_refresh(d, (__u32)ifi->ifi_index);
	} else if (nh->nlmsg_type == RTM_NEWLINK && name &&
		   (dev = find_missing(d, RTA_DATA(name)))) {
		int old = dev->dp.ifindex;

		dev->dp.ifindex = ifi->ifi_index;
		if (vmqd_dev_came_back(d, dev, old))
			dev->dp.ifindex = old;
	} else if (nh->nlmsg_type == RTM_NEWLINK && name) {
		/* A new link (or news of one): the state file's requests that
		 * wait for it, then the port policies. */
		vmqd_state_link_appeared(d, RTA_DATA(name));
		/* Only a link that was just created: an operator's unbind of a
		 * port must survive its next carrier or MTU change. */
		if (ifi->ifi_change == ~0U)
			vmqd_policy_apply(d, RTA_DATA(name));
		/* A bound port enslaved to a bridge or released: its mode. */
		if (d->ports.map_fd >= 0)
			vmqd_ports_refresh(d, (__u32)ifi->ifi_index);
		/* The state file names a bound port: it follows a rename (the
		 * event does not say whether the name changed). */
		if (d->ports.map_fd >= 0 && !vmq_port_get(&d->ports, (__u32)ifi->ifi_index, &port))
			d->state_dirty = true;
	} else if (nh->nlmsg_type == RTM_DELLINK && d->ports.map_fd >= 0) {
		/* A bound port's VM is gone: so is its filter, its binding and
		 * the queue it was given. */
		long freed;

		if (!vmqd_port_release(d, (__u32)ifi->ifi_index, &freed)) {
			d->state_dirty = true;
			log_info("port #%d: gone; unbound%s", ifi->ifi_index,
				 freed ? ", its queue freed" : "");
		}
	}
}

/* Reads what the socket has; called when it is readable. */
void vmqd_linkwatch_read(int fd, struct vmqd *d)
{
	char buf[16384];

	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nh;

		if (len < 0 && errno == ENOBUFS) {
			/* Events were lost: look at every device instead. */
			log_warn("link events overran; checking every device");
			pthread_mutex_lock(&d->lock);
			for (size_t i = 0; i < d->ndevs; i++)
				recheck(d, d->devs[i]);
			/* Ports that came and went meanwhile. */
			if (d->ports.map_fd >= 0 && vmqd_prune_ports(d))
				log_warn("bindings of vanished ports not all removed");
			if (d->ports.map_fd >= 0)
				vmqd_ports_refresh(d, 0);
			vmqd_links_sweep(d);
			vmqd_state_flush(d, false);
			pthread_mutex_unlock(&d->lock);
			continue;
		}
		if (len <= 0)
			return;
		pthread_mutex_lock(&d->lock);
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)len);
		     nh = NLMSG_NEXT(nh, len))
			if (nh->nlmsg_type == RTM_NEWLINK || nh->nlmsg_type == RTM_DELLINK)
				link_event(d, nh);
		vmqd_state_flush(d, false);
		pthread_mutex_unlock(&d->lock);
	}
}
