// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* clsact egress attachment through libbpf's netlink tc API (libbpf 1.1 has
 * no tcx links: kernel-notes, general 7). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "libvmq.h"

#define DECLARE_HOOK(name, idx, point)                                                             \
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, name, .ifindex = (idx),                                   \
			    .attach_point =                                                        \
				    (point) == VMQ_TC_INGRESS ? BPF_TC_INGRESS : BPF_TC_EGRESS)

/* Finds the kind of the qdisc at clsact's place (ffff:, shared with the
 * older ingress qdisc). */
static int hook_kind(const struct nlmsghdr *nh, void *ctx)
{
	const struct tcmsg *tc = NLMSG_DATA(nh);
	const struct rtattr *kind = vmq_nl_attr(nh, sizeof(*tc), TCA_KIND);

	if (nh->nlmsg_type == RTM_NEWQDISC && tc->tcm_parent == TC_H_CLSACT && kind)
		snprintf(ctx, 16, "%s", (const char *)RTA_DATA(kind));
	return 0;
}

/* Attaches prog_fd as vmq's filter (handle VMQ_TC_HANDLE, priority
 * VMQ_TC_PRIORITY), replacing ours in place if it is there. */
int vmq_tc_attach(int ifindex, enum vmq_tc_point point, int prog_fd, bool *hook_created)
{
	DECLARE_HOOK(hook, ifindex, point);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = VMQ_TC_HANDLE, .priority = VMQ_TC_PRIORITY,
			    .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE);
	int err;

	*hook_created = false;
	err = bpf_tc_hook_create(&hook);
	if (!err)
		*hook_created = true;
	else if (err != -EEXIST)
		return err;
	if (err == -EEXIST && point == VMQ_TC_EGRESS) {
		char kind[16] = "";

		/* An ingress qdisc there takes the filter but has no egress
		 * hook: it would never run. */
		err = vmq_nl_tc_dump(RTM_GETQDISC, ifindex, 0, hook_kind, kind);
		if (err)
			return err;
		if (strcmp(kind, "clsact"))
			return -EOPNOTSUPP;
	}
	err = bpf_tc_attach(&hook, &opts);
	if (err && *hook_created) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
		*hook_created = false;
	}
	return err;
}

/* Whether the device has a clsact qdisc (not an ingress one) in place. */
int vmq_tc_has_clsact(int ifindex, bool *has)
{
	char kind[16] = "";
	int err = vmq_nl_tc_dump(RTM_GETQDISC, ifindex, 0, hook_kind, kind);

	*has = !err && !strcmp(kind, "clsact");
	return err;
}

/* Removes our filter; the clsact qdisc too when we created it. A clsact
 * deleted behind vmq's back took the filter with it: nothing to do. */
int vmq_tc_detach(int ifindex, enum vmq_tc_point point, bool destroy_hook)
{
	DECLARE_HOOK(hook, ifindex, point);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = VMQ_TC_HANDLE,
			    .priority = VMQ_TC_PRIORITY);
	int err = bpf_tc_detach(&hook, &opts);
	bool has = true;

	/* No clsact: the kernel says EINVAL (no block to detach from). */
	if (err && err != -ENOENT && !vmq_tc_has_clsact(ifindex, &has) && !has)
		return 0;
	if (err && err != -ENOENT)
		return err;
	if (destroy_hook) {
		unsigned int others = 0;

		/* Filters added since attach would go down with the qdisc. */
		err = vmq_tc_foreign_filters(ifindex, point, &others);
		if (err || others)
			return err;
		/* Destroying clsact takes ingress with it: the qdisc is one. */
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		err = bpf_tc_hook_destroy(&hook);
		if (err && err != -ENOENT && err != -EINVAL)
			return err;
	}
	return 0;
}

int vmq_tc_attached_prog_id(int ifindex, enum vmq_tc_point point, __u32 *prog_id)
{
	DECLARE_HOOK(hook, ifindex, point);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = VMQ_TC_HANDLE,
			    .priority = VMQ_TC_PRIORITY);
	int err = bpf_tc_query(&hook, &opts);

	if (err)
		return err;
	*prog_id = opts.prog_id;
	return 0;
}

int vmq_prog_id(int prog_fd, __u32 *id)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	*id = info.id;
	return 0;
}

/* Whether a dumped filter is vmq's: its handle at its priority. */
bool vmq_tc_is_ours(const struct tcmsg *tc)
{
	return tc->tcm_handle == VMQ_TC_HANDLE && TC_H_MAJ(tc->tcm_info) >> 16 == VMQ_TC_PRIORITY;
}

struct foreign_ctx {
	bool any; /* the other direction: vmq's handle there is not ours */
	unsigned int count;
};

/* Counts filter entries that are not vmq's (a u32 filter dumps its hash
 * table as an entry too); handle 0 is a chain's head, not a filter. */
static int count_foreign(const struct nlmsghdr *nh, void *arg)
{
	const struct tcmsg *tc = NLMSG_DATA(nh);
	struct foreign_ctx *ctx = arg;

	if (nh->nlmsg_type == RTM_NEWTFILTER && tc->tcm_handle && (ctx->any || !vmq_tc_is_ours(tc)))
		ctx->count++;
	return 0;
}

/*
 * Whether the device's clsact carries filters other than vmq's filter at
 * `point`: then a clsact vmq created is no longer vmq's alone to remove. A
 * filter in the other direction is never that one, whatever its handle and
 * pref: a port's clsact may carry an uplink's egress filter (another vmq,
 * the bpftool path), and an uplink's a port's ingress filter.
 */
int vmq_tc_foreign_filters(int ifindex, enum vmq_tc_point point, unsigned int *count)
{
	struct foreign_ctx in = { .any = point != VMQ_TC_INGRESS };
	struct foreign_ctx eg = { .any = point != VMQ_TC_EGRESS };
	int err;

	*count = 0;
	err = vmq_nl_tc_dump(RTM_GETTFILTER, ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS),
			     count_foreign, &in);
	if (!err)
		err = vmq_nl_tc_dump(RTM_GETTFILTER, ifindex,
				     TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS), count_foreign, &eg);
	*count = in.count + eg.count;
	return err;
}
