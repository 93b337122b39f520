// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * VM port bindings: one vmq_port program and map for the host, pinned under
 * <pin root>/vmq_port_bindings, attached to the ingress of every bound port.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

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

/*
 * Binds (or rebinds) a port. The entry goes in before the filter, so the
 * first packet the program sees is stamped; a rebind is one element
 * replacement and never detaches.
 */
int vmq_port_bind(const struct vmq_ports *ports, __u32 ifindex, __u32 queue_id,
		  const struct vmq_dev *uplink)
{
	struct vmq_port_entry old, entry = {
		.mark_value = vmq_mark_of(&uplink->cfg, queue_id),
		.mark_mask = uplink->cfg.mark_mask,
		.queue_id = queue_id,
		.uplink_ifindex = (__u32)uplink->ifindex,
	};
	bool was_bound = !vmq_port_get(ports, ifindex, &old);
	int err;

	/* The ID must fit the mask whole, or it would stamp another queue. */
	if (queue_id >= uplink->nr_queues || queue_id > vmq_mask_ids(uplink->cfg.mark_mask) - 1)
		return -ERANGE;
	if (was_bound)
		entry.flags = old.flags;
	if (bpf_map_update_elem(ports->map_fd, &ifindex, &entry, BPF_ANY))
		return -errno;
	err = vmq_port_hook_attach(ports, ifindex, was_bound, &entry.flags);
	if (err) {
		if (was_bound)
			bpf_map_update_elem(ports->map_fd, &ifindex, &old, BPF_ANY);
		else
			bpf_map_delete_elem(ports->map_fd, &ifindex);
		return err;
	}
	if (entry.flags != (was_bound ? old.flags : 0)) {
		if (bpf_map_update_elem(ports->map_fd, &ifindex, &entry, BPF_ANY)) {
			/* Without the record, unbind would leave our hook behind. */
			err = -errno;
			vmq_port_hook_detach(ports, ifindex, entry.flags);
			bpf_map_delete_elem(ports->map_fd, &ifindex);
			return err;
		}
	}
	return 0;
}

/* Removes the filter (and a clsact we created), then the binding. A port
 * that vanished has nothing left to detach. */
int vmq_port_unbind(const struct vmq_ports *ports, __u32 ifindex)
{
	struct vmq_port_entry entry;
	int err = vmq_port_get(ports, ifindex, &entry);

	if (err)
		return err;
	err = vmq_port_hook_detach(ports, ifindex, entry.flags);
	if (err && err != -ENODEV && err != -EINVAL)
		return err;
	return bpf_map_delete_elem(ports->map_fd, &ifindex) ? -errno : 0;
}

/* Calls fn for each binding; stops at the first nonzero return. */
int vmq_port_for_each(const struct vmq_ports *ports,
		      int (*fn)(__u32 ifindex, const struct vmq_port_entry *entry, void *ctx),
		      void *ctx)
{
	struct vmq_port_entry entry;
	__u32 key, next;
	int err;

	for (err = bpf_map_get_next_key(ports->map_fd, NULL, &next); !err;
	     err = bpf_map_get_next_key(ports->map_fd, &key, &next)) {
		key = next;
		if (bpf_map_lookup_elem(ports->map_fd, &key, &entry))
			continue;
		err = fn(key, &entry, ctx);
		if (err)
			return err;
	}
	return err == -ENOENT ? 0 : err;
}
