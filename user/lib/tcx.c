// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tcx links (kernel 6.6+), with vmq's clsact filter as the fallback.
 *
 * A program goes on a device's tc hook as a tcx link pinned on the bpffs:
 * the pin keeps the link (and so the attachment) alive without a process,
 * a restarted vmqd adopts it by its path, and detach is the link's
 * BPF_LINK_DETACH and unpin. vmq puts its link at the head of the chain
 * (BPF_F_BEFORE, no relative). When the kernel has no tcx (EINVAL or
 * EOPNOTSUPP from BPF_LINK_CREATE), or VMQ_TC_MODE=clsact says so, the
 * program goes on clsact instead (tc.c), as before. The caller records
 * which one it got, so that adoption and detach undo the right one.
 *
 * libbpf 1.1 knows neither the tcx attach types nor relative positions, so
 * link creation and the chain query use bpf(2) directly (tcx_uapi.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>

#include "libvmq.h"
#include "tcx_uapi.h"

/* The one place libvmq reads VMQ_TC_MODE: "clsact" forces the clsact
 * filter, "tcx" forbids the fallback; unset (or "auto") tries tcx first.
 * It applies to new attachments: a recorded mode is kept. */
enum vmq_hook_mode vmq_hook_mode_env(void)
{
	const char *v = getenv("VMQ_TC_MODE");

	if (v && !strcmp(v, "clsact"))
		return VMQ_HOOK_CLSACT;
	if (v && !strcmp(v, "tcx"))
		return VMQ_HOOK_TCX;
	return VMQ_HOOK_AUTO;
}

static __u32 tcx_type(enum vmq_tc_point point)
{
	return point == VMQ_TC_INGRESS ? VMQ_BPF_TCX_INGRESS : VMQ_BPF_TCX_EGRESS;
}

static int sys_bpf(int cmd, void *attr, size_t size)
{
	long ret = syscall(__NR_bpf, cmd, attr, size);

	return ret < 0 ? -errno : (int)ret;
}

/* The device's tcx chain in run order: program and link IDs. A device
 * without tcx programs has an empty chain. */
int vmq_tcx_query(int ifindex, enum vmq_tc_point point, struct vmq_tcx_chain *chain)
{
	struct vmq_tcx_query_attr attr = {
		.target_ifindex = (__u32)ifindex,
		.attach_type = tcx_type(point),
		.prog_ids = (__u64)(unsigned long)chain->prog_ids,
		.link_ids = (__u64)(unsigned long)chain->link_ids,
		.count = VMQ_TCX_CHAIN_MAX,
	};
	int err;

	memset(chain->prog_ids, 0, sizeof(chain->prog_ids));
	memset(chain->link_ids, 0, sizeof(chain->link_ids));
	err = sys_bpf(BPF_PROG_QUERY, &attr, sizeof(attr));
	/* ENOSPC: more than we asked for; the first VMQ_TCX_CHAIN_MAX came. */
	if (err < 0 && err != -ENOSPC)
		return err;
	chain->count = attr.count < VMQ_TCX_CHAIN_MAX ? attr.count : VMQ_TCX_CHAIN_MAX;
	chain->revision = attr.revision;
	return 0;
}

/* The pinned link's IDs and device; -ENOENT when nothing is pinned there,
 * -EPROTO when the pin is not a tcx link. */
int vmq_tcx_link_get(const char *pin, struct vmq_tcx_link *link)
{
	struct vmq_tcx_link_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(pin), err = 0;

	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		err = -errno;
	else if (info.type != VMQ_BPF_LINK_TYPE_TCX)
		err = -EPROTO;
	close(fd);
	if (err)
		return err;
	link->id = info.id;
	link->prog_id = info.prog_id;
	link->ifindex = info.ifindex;
	link->ingress = info.attach_type == VMQ_BPF_TCX_INGRESS;
	return 0;
}

/* A new link at the head of the chain: 0 and the link's fd, or -errno. */
static int link_create_first(int ifindex, enum vmq_tc_point point, int prog_fd)
{
	struct vmq_tcx_link_create_attr attr = {
		.prog_fd = (__u32)prog_fd,
		.target_ifindex = (__u32)ifindex,
		.attach_type = tcx_type(point),
		.flags = VMQ_BPF_F_BEFORE,
	};

	return sys_bpf(BPF_LINK_CREATE, &attr, sizeof(attr));
}

/* Ends a pinned link: detached from its device (even if another process
 * holds it), then unpinned. Nothing pinned is not an error. */
int vmq_tcx_detach(const char *pin)
{
	int fd = bpf_obj_get(pin), err = 0;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	/* A defunct link (its device gone) detaches as a no-op. */
	if (bpf_link_detach(fd) && errno != ENOLINK)
		err = -errno;
	close(fd);
	if (!err && unlink(pin) && errno != ENOENT)
		err = -errno;
	return err;
}

/* Creates a link at the head and pins it at `pin` (free): 0 or -errno. */
static int create_and_pin(int ifindex, enum vmq_tc_point point, int prog_fd, const char *pin)
{
	int fd = link_create_first(ifindex, point, prog_fd), err = 0;

	if (fd < 0)
		return fd;
	if (bpf_obj_pin(fd, pin)) {
		err = -errno;
		bpf_link_detach(fd);
	}
	close(fd);
	return err;
}

/*
 * Moves the live link pinned at `pin` to the head of the chain. The kernel
 * takes a program only once per chain (a second link of it is EEXIST), so
 * the old link must go before the new one comes: meanwhile the program
 * runs as vmq's clsact filter, which keeps steering without a gap. If the
 * new link fails, that filter stays (the caller's hook check shows it).
 */
static int move_to_head(int ifindex, enum vmq_tc_point point, int prog_fd, const char *pin)
{
	bool created = false;
	int err = vmq_tc_attach(ifindex, point, prog_fd, &created);

	if (err)
		return err;
	err = vmq_tcx_detach(pin);
	if (!err)
		err = create_and_pin(ifindex, point, prog_fd, pin);
	if (!err)
		err = vmq_tc_detach(ifindex, point, created);
	return err;
}

/*
 * Attaches prog_fd to the device's tcx hook as the link pinned at `pin`,
 * at the head of the chain. A live link there for this device and hook is
 * kept and its program swapped atomically (no gap), unless to_head asks
 * for it to be made first again. A stale pin (its device gone, or another
 * device) is replaced.
 */
int vmq_tcx_attach(int ifindex, enum vmq_tc_point point, int prog_fd, const char *pin, bool to_head)
{
	struct vmq_tcx_link old = { 0 };
	int fd, err;

	err = vmq_tcx_link_get(pin, &old);
	if (!err && old.ifindex == (__u32)ifindex && old.ingress == (point == VMQ_TC_INGRESS)) {
		if (to_head)
			return move_to_head(ifindex, point, prog_fd, pin);
		fd = bpf_obj_get(pin);
		if (fd < 0)
			return -errno;
		err = bpf_link_update(fd, prog_fd, NULL) ? -errno : 0;
		close(fd);
		return err;
	}
	if (!err || err == -EPROTO)
		err = vmq_tcx_detach(pin);
	else if (err == -ENOENT)
		err = 0;
	if (!err)
		err = create_and_pin(ifindex, point, prog_fd, pin);
	return err;
}

/*
 * Attaches a program to a device's tc hook in the given mode; VMQ_HOOK_AUTO
 * is VMQ_TC_MODE's choice, tcx when the kernel has it. *tcx says which it
 * got; *clsact_created whether a clsact qdisc was created for it.
 */
int vmq_hook_attach(int ifindex, enum vmq_tc_point point, int prog_fd, const char *pin,
		    enum vmq_hook_mode mode, bool *tcx, bool *clsact_created)
{
	int err;

	*tcx = false;
	*clsact_created = false;
	if (mode == VMQ_HOOK_AUTO)
		mode = vmq_hook_mode_env();
	if (mode != VMQ_HOOK_CLSACT) {
		err = vmq_tcx_attach(ifindex, point, prog_fd, pin, false);
		if (!err) {
			*tcx = true;
			return 0;
		}
		/* A kernel before 6.6 knows no tcx attach type. */
		if (mode == VMQ_HOOK_TCX || (err != -EINVAL && err != -EOPNOTSUPP))
			return err;
	}
	return vmq_tc_attach(ifindex, point, prog_fd, clsact_created);
}

/* Undoes vmq_hook_attach in the mode it recorded. */
int vmq_hook_detach(int ifindex, enum vmq_tc_point point, const char *pin, bool tcx,
		    bool destroy_clsact)
{
	if (tcx)
		return vmq_tcx_detach(pin);
	return vmq_tc_detach(ifindex, point, destroy_clsact);
}

/* The running program's name, for messages: "" when it cannot be read. */
_Static_assert(VMQ_PROG_NAME_SIZE == BPF_OBJ_NAME_LEN, "VMQ_PROG_NAME_SIZE is the kernel's");

void vmq_prog_name(__u32 id, char *name, size_t size)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	name[0] = '\0';
	if (fd < 0)
		return;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		snprintf(name, size, "%s", info.name);
	close(fd);
}

int vmq_port_link_path(const struct vmq_ports *ports, __u32 ifindex, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/link_%u", ports->pin_dir, ifindex);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Attaches the port program to the port's ingress: a bound port keeps the
 * mode it has, a new one gets VMQ_TC_MODE's (tcx when the kernel has it).
 * *flags (the binding's) get the mode and ownership bits. */
int vmq_port_hook_attach(const struct vmq_ports *ports, __u32 ifindex, bool was_bound, __u32 *flags)
{
	enum vmq_hook_mode mode = VMQ_HOOK_AUTO;
	bool tcx = false, created = false;
	char link[PATH_MAX];
	int err = vmq_port_link_path(ports, ifindex, link, sizeof(link));

	if (err)
		return err;
	if (was_bound)
		mode = *flags & VMQ_PORT_F_TCX ? VMQ_HOOK_TCX : VMQ_HOOK_CLSACT;
	err = vmq_hook_attach((int)ifindex, VMQ_TC_INGRESS, ports->prog_fd, link, mode, &tcx,
			      &created);
	if (err)
		return err;
	if (created)
		*flags |= VMQ_PORT_F_HOOK_CREATED;
	*flags = tcx ? *flags | VMQ_PORT_F_TCX : *flags & ~VMQ_PORT_F_TCX;
	return 0;
}

/* Removes the port's link, or its filter (and the clsact vmq created). */
int vmq_port_hook_detach(const struct vmq_ports *ports, __u32 ifindex, __u32 flags)
{
	char link[PATH_MAX];
	int err = vmq_port_link_path(ports, ifindex, link, sizeof(link));

	if (err)
		return err;
	return vmq_hook_detach((int)ifindex, VMQ_TC_INGRESS, link, flags & VMQ_PORT_F_TCX,
			       flags & VMQ_PORT_F_HOOK_CREATED);
}
