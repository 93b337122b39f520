// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* clsact egress attachment through libbpf's netlink tc API (libbpf 1.1 has
 * no tcx links: brief, fact 7). */
#include <errno.h>
#include <bpf/libbpf.h>

#include "libvmq.h"

#define DECLARE_EGRESS_HOOK(name, idx)                                                             \
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, name, .ifindex = (idx), .attach_point = BPF_TC_EGRESS)

int vmq_tc_attach(int ifindex, int prog_fd, bool *hook_created)
{
	DECLARE_EGRESS_HOOK(hook, ifindex);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = VMQ_TC_HANDLE,
			    .priority = VMQ_TC_PRIORITY, .prog_fd = prog_fd,
			    .flags = BPF_TC_F_REPLACE);
	int err;

	*hook_created = false;
	err = bpf_tc_hook_create(&hook);
	if (!err)
		*hook_created = true;
	else if (err != -EEXIST)
		return err;
	err = bpf_tc_attach(&hook, &opts);
	if (err && *hook_created) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
		*hook_created = false;
	}
	return err;
}

/* Removes our filter; the clsact qdisc too when we created it. */
int vmq_tc_detach(int ifindex, bool destroy_hook)
{
	DECLARE_EGRESS_HOOK(hook, ifindex);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = VMQ_TC_HANDLE,
			    .priority = VMQ_TC_PRIORITY);
	int err = bpf_tc_detach(&hook, &opts);

	if (err && err != -ENOENT)
		return err;
	if (destroy_hook) {
		/* Destroying clsact takes ingress with it: the qdisc is one. */
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		err = bpf_tc_hook_destroy(&hook);
		if (err && err != -ENOENT && err != -EINVAL)
			return err;
	}
	return 0;
}

int vmq_tc_attached_prog_id(int ifindex, __u32 *prog_id)
{
	DECLARE_EGRESS_HOOK(hook, ifindex);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = VMQ_TC_HANDLE,
			    .priority = VMQ_TC_PRIORITY);
	int err = bpf_tc_query(&hook, &opts);

	if (err)
		return err;
	*prog_id = opts.prog_id;
	return 0;
}
