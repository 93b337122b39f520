// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * VM port bindings: one vmq_port program and map for the host, pinned under
 * <pin root>/vmq_port_bindings. The map records every binding; a port in
 * stamp mode has the program on its ingress, one in uplink mode has a slot
 * in its uplink's vmq_port_queues instead (vmq_abi.h).
 *
 * Upgrade (vmq_ports_upgrade): a vmq_port with another tag is loaded on
 * the pinned map and swapped into every stamp-mode port's hook (a tcx
 * link updated with BPF_F_REPLACE, a clsact filter replaced in place),
 * then pinned over the old program (vmq_replace_pin, as upgrade.c does).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dev_priv.h"
#include "libvmq.h"
#include "vmq_port.skel.h"

#define PORT_PROG "vmq_port_ingress"
#define PORT_MAP  "vmq_ports"

void vmq_ports_init(struct vmq_ports *ports)
{
	ports->prog_fd = ports->map_fd = -1;
}

void vmq_ports_close(struct vmq_ports *ports)
{
	if (ports->prog_fd >= 0)
		close(ports->prog_fd);
	if (ports->map_fd >= 0)
		close(ports->map_fd);
	vmq_ports_init(ports);
}

static int paths(const char *pin_root, char *dir, char *prog, char *map, size_t size)
{
	int n = snprintf(dir, size, "%s/%s", pin_root, VMQ_PORTS_PIN_DIR);

	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	n = snprintf(prog, size, "%s/%s", dir, PORT_PROG);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	n = snprintf(map, size, "%s/%s", dir, PORT_MAP);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Adopts the pinned program and map, or loads and pins them the first time. */
int vmq_ports_open(struct vmq_ports *ports, const char *pin_root)
{
	char dir[PATH_MAX], prog[PATH_MAX], map[PATH_MAX];
	struct vmq_port_bpf *skel;
	int err;

	vmq_ports_init(ports);
	err = paths(pin_root, dir, prog, map, sizeof(dir));
	if (err)
		return err;
	strcpy(ports->pin_dir, dir);
	ports->prog_fd = bpf_obj_get(prog);
	if (ports->prog_fd >= 0) {
		ports->map_fd = bpf_obj_get(map);
		if (ports->map_fd >= 0)
			return 0;
		err = -errno;
		vmq_ports_close(ports);
		return err;
	}
	skel = vmq_port_bpf__open_and_load();
	if (!skel)
		return -errno;
	err = vmq_mkdir_p(dir, 0700);
	if (!err && bpf_obj_pin(bpf_map__fd(skel->maps.vmq_ports), map))
		err = -errno;
	if (!err && bpf_obj_pin(bpf_program__fd(skel->progs.vmq_port_ingress), prog))
		err = -errno;
	if (!err) {
		ports->prog_fd = dup(bpf_program__fd(skel->progs.vmq_port_ingress));
		ports->map_fd = dup(bpf_map__fd(skel->maps.vmq_ports));
		if (ports->prog_fd < 0 || ports->map_fd < 0)
			err = -errno;
	}
	if (err) {
		unlink(prog);
		unlink(map);
		rmdir(dir);
		vmq_ports_close(ports);
	}
	vmq_port_bpf__destroy(skel);
	return err;
}

int vmq_port_get(const struct vmq_ports *ports, __u32 ifindex, struct vmq_port_entry *entry)
{
	return bpf_map_lookup_elem(ports->map_fd, &ifindex, entry) ? -errno : 0;
}

int vmq_port_update(const struct vmq_ports *ports, __u32 ifindex,
		    const struct vmq_port_entry *entry)
{
	return bpf_map_update_elem(ports->map_fd, &ifindex, entry, BPF_EXIST) ? -errno : 0;
}

/* --- port modes ------------------------------------------------------- */

int vmq_port_slot_read(const struct vmq_dev *uplink, __u32 ifindex, struct vmq_port_slot *slot)
{
	if (uplink->port_queues_fd < 0)
		return -EOPNOTSUPP;
	return bpf_map_lookup_elem(uplink->port_queues_fd, &ifindex, slot) ? -errno : 0;
}

/* Stores a port's slot through vmq_port_store: one 32-bit write, seen
 * whole by vmq_tx. -ERANGE for slot 0 and ifindexes beyond the array. */
static int slot_write(const struct vmq_dev *uplink, __u32 ifindex, struct vmq_port_slot slot)
{
	struct vmq_port_store_args args = { .ifindex = ifindex, .slot = slot };
	LIBBPF_OPTS(bpf_test_run_opts, run, .ctx_in = &args, .ctx_size_in = sizeof(args));

	if (uplink->port_store_fd < 0 || uplink->port_queues_fd < 0)
		return -EOPNOTSUPP;
	if (!ifindex || ifindex >= VMQ_PORT_IFINDEX_MAX)
		return -ERANGE;
	if (bpf_prog_test_run_opts(uplink->port_store_fd, &run))
		return -errno;
	return run.retval ? -ENOENT : 0;
}

int vmq_port_slot_set(const struct vmq_dev *uplink, __u32 ifindex, __u32 queue_id)
{
	struct vmq_port_slot slot = { .flags = VMQ_PORT_SLOT_F_BOUND, .queue_id = (__u16)queue_id };

	if (queue_id > 0xffffU)
		return -ERANGE;
	return slot_write(uplink, ifindex, slot);
}

int vmq_port_slot_clear(const struct vmq_dev *uplink, __u32 ifindex)
{
	struct vmq_port_slot none = { 0 };

	return slot_write(uplink, ifindex, none);
}

/*
 * Which mode a binding of this port to this uplink takes, and why. Uplink
 * mode when packets from the port reach the uplink with ingress_ifindex =
 * the port: the port has no master (the host routes from it), or it is in
 * the uplink's own bridge. Stamp mode when it is in a bridge the uplink is
 * not in (a bridge with an IP as the VMs' gateway: there ingress_ifindex
 * is the bridge's), or when no slot can hold it.
 */
int vmq_port_mode(__u32 ifindex, const struct vmq_dev *uplink, __u32 *why)
{
	int master = 0, uplink_master = 0, err;

	if (ifindex >= VMQ_PORT_IFINDEX_MAX) {
		*why = VMQ_PORT_WHY_BEYOND;
		return 0;
	}
	if (uplink->port_queues_fd < 0 || uplink->port_store_fd < 0) {
		*why = VMQ_PORT_WHY_NO_ARRAY;
		return 0;
	}
	err = vmq_nl_link_master((int)ifindex, &master);
	if (err)
		return err;
	if (!master) {
		*why = VMQ_PORT_WHY_ROUTED;
		return 0;
	}
	/* A missing uplink is in no bridge until it is back. */
	if (uplink->ifindex > 0 && vmq_nl_link_master(uplink->ifindex, &uplink_master) == -ENODEV)
		uplink_master = 0;
	*why = master == uplink_master ? VMQ_PORT_WHY_SAME_BRIDGE : VMQ_PORT_WHY_OTHER_BRIDGE;
	return 0;
}

bool vmq_port_why_uplink(__u32 why)
{
	return why == VMQ_PORT_WHY_ROUTED || why == VMQ_PORT_WHY_SAME_BRIDGE;
}

/* The stamp hook: vmq_port on the port's ingress, a tcx link or a clsact
 * filter (tcx.c); had_hook says *flags records one already, whose mode is
 * kept. The hook's bits go into *flags. */
static int stamp_attach(const struct vmq_ports *ports, __u32 ifindex, bool had_hook, __u32 *flags)
{
	return vmq_port_hook_attach(ports, ifindex, had_hook, flags);
}

static int stamp_detach(const struct vmq_ports *ports, __u32 ifindex, __u32 *flags)
{
	int err = vmq_port_hook_detach(ports, ifindex, *flags);

	/* A port that vanished has nothing left to detach. */
	if (err && err != -ENODEV && err != -EINVAL)
		return err;
	*flags &= ~(VMQ_PORT_F_HOOK_CREATED | VMQ_PORT_F_TCX);
	return 0;
}

/*
 * Binds (or rebinds, or switches the mode of) a port: `why` (from
 * vmq_port_mode) picks the mode, old_uplink is the uplink of the binding
 * it replaces (NULL if none, or unknown). The new way in goes in before
 * the old one goes: a stamp hook is attached before a slot is cleared,
 * a slot is written before a stamp hook is removed, a rebind is one
 * element replacement or one slot store. Packets see old or new, never
 * neither.
 */
int vmq_port_bind(const struct vmq_ports *ports, __u32 ifindex, __u32 queue_id,
		  const struct vmq_dev *uplink, __u32 why, const struct vmq_dev *old_uplink)
{
	struct vmq_port_entry old, entry = {
		.mark_value = vmq_mark_of(&uplink->cfg, queue_id),
		.mark_mask = uplink->cfg.mark_mask,
		.queue_id = queue_id,
		.uplink_ifindex = (__u32)uplink->ifindex,
		.why = why,
	};
	bool was_bound = !vmq_port_get(ports, ifindex, &old);
	bool to_uplink = vmq_port_why_uplink(why);
	bool old_slot = was_bound && (old.flags & VMQ_PORT_F_UPLINK);
	bool old_hook = was_bound && !old_slot;
	int err;

	/* The ID must fit the mask whole, or it would stamp another queue. */
	if (queue_id >= uplink->nr_queues || queue_id > vmq_mask_ids(uplink->cfg.mark_mask) - 1)
		return -ERANGE;
	if (old_hook)
		entry.flags = old.flags & (VMQ_PORT_F_HOOK_CREATED | VMQ_PORT_F_TCX);
	if (to_uplink)
		entry.flags |= VMQ_PORT_F_UPLINK;
	/* A stamp hook already there stamps the new ID from here on. */
	if (bpf_map_update_elem(ports->map_fd, &ifindex, &entry, BPF_ANY))
		return -errno;
	err = to_uplink ? vmq_port_slot_set(uplink, ifindex, queue_id)
			: stamp_attach(ports, ifindex, old_hook, &entry.flags);
	if (err) {
		if (was_bound)
			bpf_map_update_elem(ports->map_fd, &ifindex, &old, BPF_ANY);
		else
			bpf_map_delete_elem(ports->map_fd, &ifindex);
		return err;
	}
	/* The old way out, now that the new one is in. */
	if (old_slot && old_uplink && (!to_uplink || old_uplink->ifindex != uplink->ifindex))
		vmq_port_slot_clear(old_uplink, ifindex);
	if (old_hook && to_uplink) {
		err = stamp_detach(ports, ifindex, &entry.flags);
		if (err) {
			/* The hook stays and stamps the same queue: keep it on record. */
			entry.flags &= ~VMQ_PORT_F_UPLINK;
			entry.why = VMQ_PORT_WHY_UNKNOWN;
			vmq_port_slot_clear(uplink, ifindex);
		}
	}
	if (bpf_map_update_elem(ports->map_fd, &ifindex, &entry, BPF_ANY)) {
		/* Without the record, unbind would leave our hook behind. */
		err = -errno;
		if (!to_uplink)
			stamp_detach(ports, ifindex, &entry.flags);
		else
			vmq_port_slot_clear(uplink, ifindex);
		bpf_map_delete_elem(ports->map_fd, &ifindex);
	}
	return err;
}

/* Removes the stamp hook (and a clsact we created) or the uplink slot,
 * then the binding. uplink: the binding's uplink, NULL if unknown. */
int vmq_port_unbind(const struct vmq_ports *ports, __u32 ifindex, const struct vmq_dev *uplink)
{
	struct vmq_port_entry entry;
	int err = vmq_port_get(ports, ifindex, &entry);

	if (err)
		return err;
	if (entry.flags & VMQ_PORT_F_UPLINK) {
		if (uplink && uplink->ifindex == (int)entry.uplink_ifindex) {
			err = vmq_port_slot_clear(uplink, ifindex);
			if (err && err != -ERANGE && err != -EOPNOTSUPP)
				return err;
		}
	} else {
		err = stamp_detach(ports, ifindex, &entry.flags);
		if (err)
			return err;
	}
	return bpf_map_delete_elem(ports->map_fd, &ifindex) ? -errno : 0;
}

/* Calls fn for each binding; stops at the first nonzero return. */
static int cmp_ifindex(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/* In ifindex order, as ip link lists links: the hash map's own order
 * changes from run to run, and listings should not. */
int vmq_port_for_each(const struct vmq_ports *ports,
		      int (*fn)(__u32 ifindex, const struct vmq_port_entry *entry, void *ctx),
		      void *ctx)
{
	struct vmq_port_entry entry;
	__u32 *keys, key, next;
	size_t n = 0;
	int err;

	keys = calloc(VMQ_PORTS_MAX, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	for (err = bpf_map_get_next_key(ports->map_fd, NULL, &next); !err && n < VMQ_PORTS_MAX;
	     err = bpf_map_get_next_key(ports->map_fd, &key, &next)) {
		key = next;
		keys[n++] = key;
	}
	if (err == -ENOENT || !err)
		err = 0;
	qsort(keys, n, sizeof(*keys), cmp_ifindex);
	for (size_t i = 0; !err && i < n; i++) {
		if (bpf_map_lookup_elem(ports->map_fd, &keys[i], &entry))
			continue;
		err = fn(keys[i], &entry, ctx);
	}
	free(keys);
	return err;
}

/* --- upgrade ---------------------------------------------------------- */

struct swap_ctx {
	const struct vmq_ports *ports;
	int prog_fd; /* the new program */
	struct vmq_ports_upgrade_result *res;
};

/* One stamp-mode port's hook onto the new program, atomically: each packet
 * runs the old one or the new one. 0, or -ENOENT when there is no hook. */
static int swap_port(const struct swap_ctx *ctx, __u32 ifindex, __u32 flags)
{
	DECLARE_LIBBPF_OPTS(bpf_link_update_opts, opts, .flags = BPF_F_REPLACE,
			    .old_prog_fd = ctx->ports->prog_fd);
	char link[PATH_MAX];
	bool created = false;
	__u32 id;
	int fd, err;

	if (flags & VMQ_PORT_F_TCX) {
		err = vmq_port_link_path(ctx->ports, ifindex, link, sizeof(link));
		if (err)
			return err;
		fd = bpf_obj_get(link);
		if (fd < 0)
			return -errno;
		err = bpf_link_update(fd, ctx->prog_fd, &opts) ? -errno : 0;
		close(fd);
		/* A defunct link: its port is gone. */
		return err == -ENOLINK ? -ENOENT : err;
	}
	/* Only a filter that is there: replacing creates none. */
	err = vmq_tc_attached_prog_id((int)ifindex, VMQ_TC_INGRESS, &id);
	if (err == -EINVAL || err == -ENODEV)
		err = -ENOENT;
	if (!err)
		err = vmq_tc_attach((int)ifindex, VMQ_TC_INGRESS, ctx->prog_fd, &created);
	return err;
}

static int swap_one(__u32 ifindex, const struct vmq_port_entry *entry, void *arg)
{
	struct swap_ctx *ctx = arg;
	int err;

	if (entry->flags & VMQ_PORT_F_UPLINK)
		return 0;
	err = swap_port(ctx, ifindex, entry->flags);
	if (!err)
		ctx->res->ports_upgraded++;
	else if (err == -ENOENT)
		ctx->res->ports_skipped++;
	else if (!ctx->res->ports_failed++)
		ctx->res->first_error = err;
	/* One port's error must not keep the others on the old program. */
	return 0;
}

int vmq_ports_upgrade(struct vmq_ports *ports, const char *obj_path,
		      struct vmq_ports_upgrade_result *res)
{
	struct vmq_port_bpf *skel = NULL;
	char prog_pin[PATH_MAX];
	struct bpf_object *obj = NULL;
	struct swap_ctx ctx = { .ports = ports, .res = res };
	struct bpf_program *prog;
	struct bpf_map *map;
	int err, fd;

	memset(res, 0, sizeof(*res));
	if (ports->prog_fd < 0 || ports->map_fd < 0)
		return -EBADF;
	err = vmq_prog_tag(ports->prog_fd, &res->old_prog_id, res->old_tag);
	if (err)
		return err;
	res->new_prog_id = res->old_prog_id;
	memcpy(res->new_tag, res->old_tag, sizeof(res->new_tag));
	if (obj_path) {
		obj = bpf_object__open_file(obj_path, NULL);
		if (!obj)
			return -errno;
	} else {
		skel = vmq_port_bpf__open();
		if (!skel)
			return -errno;
		obj = skel->obj;
	}
	map = bpf_object__find_map_by_name(obj, PORT_MAP);
	prog = bpf_object__find_program_by_name(obj, PORT_PROG);
	if (!map || !prog)
		err = -ENOENT;
	else if (!vmq_map_fits(ports->map_fd, map))
		err = -EPROTO;
	if (!err)
		err = bpf_map__reuse_fd(map, ports->map_fd);
	if (!err)
		err = bpf_object__load(obj);
	if (!err)
		err = vmq_prog_tag(bpf_program__fd(prog), &res->new_prog_id, res->new_tag);
	if (err)
		goto out;
	if (!memcmp(res->old_tag, res->new_tag, sizeof(res->new_tag))) {
		/* Already current: the loaded copy goes, nothing was touched. */
		res->new_prog_id = res->old_prog_id;
		goto out;
	}
	res->changed = true;
	ctx.prog_fd = bpf_program__fd(prog);
	err = vmq_port_for_each(ports, swap_one, &ctx);
	/* The pin follows the ports that run the new program (a failed one
	 * keeps the old program alive on its hook, stamping the same). */
	if (!err) {
		int n = snprintf(prog_pin, sizeof(prog_pin), "%s/%s", ports->pin_dir, PORT_PROG);

		err = n < 0 || (size_t)n >= sizeof(prog_pin) ? -ENAMETOOLONG : 0;
	}
	if (!err)
		err = vmq_replace_pin(ctx.prog_fd, prog_pin);
	if (!err) {
		fd = dup(ctx.prog_fd);
		if (fd < 0) {
			err = -errno;
		} else {
			close(ports->prog_fd);
			ports->prog_fd = fd;
		}
	}
out:
	if (skel)
		vmq_port_bpf__destroy(skel);
	else
		bpf_object__close(obj);
	return err;
}
