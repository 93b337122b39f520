// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* rtnetlink dumps of tc objects: what libbpf's tc API cannot list. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "libvmq.h"

/*
 * Dumps `type` (RTM_GETTFILTER, RTM_GETTCLASS, ...) for one device and
 * tc parent, calling fn for each answer. A device or parent that does not
 * exist dumps nothing.
 */
int vmq_nl_tc_dump(int type, int ifindex, __u32 parent,
		   int (*fn)(const struct nlmsghdr *nh, void *ctx), void *ctx)
{
	struct {
		struct nlmsghdr nh;
		struct tcmsg tc;
	} req = {
		.nh = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg)),
			.nlmsg_type = (__u16)type,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = 1 },
		.tc = { .tcm_family = AF_UNSPEC, .tcm_ifindex = ifindex, .tcm_parent = parent },
	};
	enum { BUF_SIZE = 32768 };
	char *buf = malloc(BUF_SIZE);
	int sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	int err = 0;
	bool done = false;

	if (sock < 0 || !buf) {
		err = sock < 0 ? -errno : -ENOMEM;
		free(buf);
		if (sock >= 0)
			close(sock);
		return err;
	}
	if (send(sock, &req, req.nh.nlmsg_len, 0) < 0)
		err = -errno;
	while (!err && !done) {
		ssize_t len = recv(sock, buf, BUF_SIZE, 0);
		struct nlmsghdr *nh;

		if (len < 0) {
			err = -errno;
			break;
		}
		for (nh = (struct nlmsghdr *)buf; !err && NLMSG_OK(nh, (size_t)len);
		     nh = NLMSG_NEXT(nh, len)) {
			if (nh->nlmsg_type == NLMSG_DONE) {
				done = true;
				break;
			}
			if (nh->nlmsg_type == NLMSG_ERROR) {
				err = ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
				if (err == -EINVAL || err == -ENOENT || err == -ENODEV)
					err = 0;
				done = true;
				break;
			}
			err = fn(nh, ctx);
		}
	}
	close(sock);
	free(buf);
	return err;
}

/* Finds attribute `type` in a message's attributes after `hdrlen` bytes. */
const struct rtattr *vmq_nl_attr(const struct nlmsghdr *nh, size_t hdrlen, unsigned short type)
{
	const struct rtattr *rta =
		(const struct rtattr *)((const char *)NLMSG_DATA(nh) + NLMSG_ALIGN(hdrlen));
	int len = (int)nh->nlmsg_len - (int)NLMSG_LENGTH(hdrlen);

	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
		if (rta->rta_type == type)
			return rta;
	return NULL;
}

/* Finds attribute `type` nested in `parent`. */
const struct rtattr *vmq_nl_nested(const struct rtattr *parent, unsigned short type)
{
	const struct rtattr *rta = RTA_DATA(parent);
	int len = (int)RTA_PAYLOAD(parent);

	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
		if (rta->rta_type == type)
			return rta;
	return NULL;
}

/* The ifindex of a link's master (its bridge), 0 when it has none, by
 * RTM_GETLINK: keyed by ifindex and right in any namespace, where sysfs
 * may show another one. -ENODEV when the link does not exist. */
int vmq_nl_link_master(int ifindex, int *master)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {
		.nh = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
			.nlmsg_type = RTM_GETLINK,
			.nlmsg_flags = NLM_F_REQUEST,
			.nlmsg_seq = 1 },
		.ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex },
	};
	char buf[32768]; /* a link's whole message: stats, AF_SPEC, ... */
	int sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	const struct nlmsghdr *nh = (const struct nlmsghdr *)buf;
	const struct rtattr *rta;
	ssize_t len;
	int err = 0;

	*master = 0;
	if (sock < 0)
		return -errno;
	if (send(sock, &req, req.nh.nlmsg_len, 0) < 0)
		err = -errno;
	len = err ? 0 : recv(sock, buf, sizeof(buf), 0);
	if (!err && len < 0)
		err = -errno;
	close(sock);
	if (err)
		return err;
	if (!NLMSG_OK(nh, (size_t)len))
		return -EPROTO;
	if (nh->nlmsg_type == NLMSG_ERROR) {
		err = ((const struct nlmsgerr *)NLMSG_DATA(nh))->error;
		return err == -ENOENT || err == -EINVAL ? -ENODEV : err ? err : -EPROTO;
	}
	if (nh->nlmsg_type != RTM_NEWLINK)
		return -EPROTO;
	rta = vmq_nl_attr(nh, sizeof(struct ifinfomsg), IFLA_MASTER);
	if (rta && RTA_PAYLOAD(rta) >= sizeof(__u32))
		*master = (int)*(const __u32 *)RTA_DATA(rta);
	return 0;
}
