// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * One uplink's data plane: load it from the skeleton and pin it, or adopt
 * what is pinned. Either way the result is a struct vmq_dev of file
 * descriptors, so nothing after this point cares which happened.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <dirent.h>
#include <fcntl.h>
#include <bpf/btf.h>

#include "dev_priv.h"
#include "libvmq.h"
#include "util.h"
#include "vmq_ctl.skel.h"
#include "vmq_tx.skel.h"

/* Map names in the object, which are also their pin names. */
static const struct {
	const char *name;
	size_t fd_offset;
	bool optional; /* pins made before it existed lack it: adopted as -1 */
} dev_maps[] = {
	{ "vmq_queues", offsetof(struct vmq_dev, queues_fd), false },
	{ "vmq_groups", offsetof(struct vmq_dev, groups_fd), false },
	{ "vmq_queue_stats", offsetof(struct vmq_dev, queue_stats_fd), false },
	{ "vmq_fallbacks", offsetof(struct vmq_dev, fallbacks_fd), false },
	{ "vmq_dev_info", offsetof(struct vmq_dev, dev_info_fd), false },
	{ VMQ_PIN_RODATA, offsetof(struct vmq_dev, rodata_fd), false },
	{ "vmq_queue_meta", offsetof(struct vmq_dev, queue_meta_fd), false },
	{ "vmq_xps_saved", offsetof(struct vmq_dev, xps_saved_fd), false },
	{ "vmq_port_queues", offsetof(struct vmq_dev, port_queues_fd), true },
};

#define DEV_MAPS_COUNT ARRAY_SIZE(dev_maps)

static int *dev_map_fd(struct vmq_dev *dev, size_t i)
{
	return (int *)((char *)dev + dev_maps[i].fd_offset);
}

void vmq_dev_init(struct vmq_dev *dev)
{
	memset(dev, 0, sizeof(*dev));
	dev->prog_fd = -1;
	dev->store_fd = -1;
	dev->port_store_fd = -1;
	for (size_t i = 0; i < DEV_MAPS_COUNT; i++)
		*dev_map_fd(dev, i) = -1;
	vmq_rx_init(dev);
}

void vmq_dev_close(struct vmq_dev *dev)
{
	if (dev->prog_fd >= 0)
		close(dev->prog_fd);
	if (dev->store_fd >= 0)
		close(dev->store_fd);
	if (dev->port_store_fd >= 0)
		close(dev->port_store_fd);
	for (size_t i = 0; i < DEV_MAPS_COUNT; i++)
		if (*dev_map_fd(dev, i) >= 0)
			close(*dev_map_fd(dev, i));
	vmq_rx_close(dev);
	vmq_dev_init(dev);
}

int vmq_dev_set_names(struct vmq_dev *dev, const char *pin_root, const char *ifname)
{
	unsigned int ifindex;
	int n;

	char pin[3 * IF_NAMESIZE];
	int err;

	if (strlen(ifname) >= sizeof(dev->ifname))
		return -ENAMETOOLONG;
	err = vmq_pin_name_encode(ifname, pin, sizeof(pin));
	if (err)
		return err;
	/* 0 when absent: adoption takes it as "missing", loading refuses. */
	ifindex = if_nametoindex(ifname);
	strcpy(dev->ifname, ifname);
	dev->ifindex = (int)ifindex;
	n = snprintf(dev->pin_dir, sizeof(dev->pin_dir), "%s/%s", pin_root, pin);
	if (n < 0 || (size_t)n >= sizeof(dev->pin_dir))
		return -ENAMETOOLONG;
	return 0;
}

/*
 * The device was renamed: its pin directory follows (one rename on the
 * bpffs, which moves every pin and the tcx link with it). When that fails
 * (a directory of the new name exists) the name changes and the pins stay
 * where they are: -errno says so.
 */
int vmq_dev_rename(struct vmq_dev *dev, const char *ifname)
{
	char root[PATH_MAX], pin[3 * IF_NAMESIZE], to[PATH_MAX];
	char *slash;
	int n, err;

	if (strlen(ifname) >= sizeof(dev->ifname))
		return -ENAMETOOLONG;
	err = vmq_pin_name_encode(ifname, pin, sizeof(pin));
	if (err)
		return err;
	snprintf(root, sizeof(root), "%s", dev->pin_dir);
	slash = strrchr(root, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	n = snprintf(to, sizeof(to), "%s/%s", root, pin);
	if (n < 0 || (size_t)n >= sizeof(to))
		return -ENAMETOOLONG;
	strcpy(dev->ifname, ifname);
	if (!strcmp(to, dev->pin_dir))
		return 0;
	if (renameat2(AT_FDCWD, dev->pin_dir, AT_FDCWD, to, RENAME_NOREPLACE))
		return -errno;
	strcpy(dev->pin_dir, to);
	return 0;
}

int vmq_pin_path(char *buf, size_t size, const struct vmq_dev *dev, const char *name, bool map)
{
	int n = snprintf(buf, size, "%s/%s%s", dev->pin_dir, map ? VMQ_PIN_MAPS "/" : "", name);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Reads what the control plane needs from the maps themselves, so an
 * instance loaded by bpftool is understood like one loaded by vmqd. */
static int read_config(struct vmq_dev *dev)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	__u32 zero = 0;
	struct vmq_tx_bpf__rodata rodata;
	int err;

	err = bpf_obj_get_info_by_fd(dev->queues_fd, &info, &len);
	if (err)
		return err;
	dev->nr_queues = info.max_entries;
	memset(&info, 0, sizeof(info));
	len = sizeof(info);
	err = bpf_obj_get_info_by_fd(dev->rodata_fd, &info, &len);
	if (err)
		return err;
	if (info.value_size < sizeof(rodata))
		return -EPROTO;
	err = bpf_map_lookup_elem(dev->rodata_fd, &zero, &rodata);
	if (err)
		return err;
	dev->cfg = rodata.vmq_cfg;
	if (dev->cfg.abi_version != VMQ_ABI_VERSION)
		return -EPROTO;
	return 0;
}

/* The atomic writer shares this device's queues map. */
int vmq_dev_load_store_prog(struct vmq_dev *dev)
{
	struct vmq_ctl_bpf *ctl = vmq_ctl_bpf__open();
	int err;

	if (!ctl)
		return -errno;
	err = bpf_map__reuse_fd(ctl->maps.vmq_queues, dev->queues_fd);
	if (!err)
		err = bpf_map__reuse_fd(ctl->maps.vmq_queue_stats, dev->queue_stats_fd);
	/* Pins without port slots: the writer gets a throwaway one-slot map
	 * and port_store_fd stays unused (such an uplink stamps its ports). */
	if (!err)
		err = dev->port_queues_fd >= 0
			      ? bpf_map__reuse_fd(ctl->maps.vmq_port_queues, dev->port_queues_fd)
			      : bpf_map__set_max_entries(ctl->maps.vmq_port_queues, 1);
	if (!err)
		err = vmq_ctl_bpf__load(ctl);
	if (!err) {
		dev->store_fd = dup(bpf_program__fd(ctl->progs.vmq_queue_store));
		if (dev->store_fd < 0)
			err = -errno;
	}
	if (!err && dev->port_queues_fd >= 0) {
		dev->port_store_fd = dup(bpf_program__fd(ctl->progs.vmq_port_store));
		if (dev->port_store_fd < 0)
			err = -errno;
	}
	vmq_ctl_bpf__destroy(ctl);
	return err;
}

/*
 * vmq_tx as a libbpf object, not loaded: the program built into libvmq
 * (path NULL) or an object file with the same program and maps. Its name
 * is the skeleton's either way, so that the maps are named alike.
 */
int vmq_tx_obj_open(const char *path, struct bpf_object **out)
{
	size_t size = 0;
	const void *elf = vmq_tx_bpf__elf_bytes(&size);
	int err = vmq_obj_open(path, elf, size, "vmq_tx_bpf", VMQ_PIN_PROG, out);

	if (!err && !vmq_tx_obj_rodata(*out)) {
		bpf_object__close(*out);
		return -ENOENT;
	}
	return err;
}

/* An object file at path, else the built-in ELF image, named object_name (the skeleton's
 * name, so that the maps are named alike either way), holding program prog. */
int vmq_obj_open(const char *path, const void *elf, size_t size, const char *object_name,
		 const char *prog, struct bpf_object **out)
{
	DECLARE_LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = object_name);
	struct bpf_object *obj;

	if (path)
		obj = bpf_object__open_file(path, &opts);
	else
		obj = bpf_object__open_mem(elf, size, &opts);
	if (!obj)
		return errno ? -errno : -EINVAL;
	if (!bpf_object__find_program_by_name(obj, prog)) {
		bpf_object__close(obj);
		return -ENOENT;
	}
	*out = obj;
	return 0;
}

/* The object's .rodata map (libbpf names it "<object>.rodata"). */
struct bpf_map *vmq_tx_obj_rodata(const struct bpf_object *obj)
{
	struct bpf_map *map;
	size_t len;

	bpf_object__for_each_map(map, obj)
	{
		const char *name = bpf_map__name(map);

		len = strlen(name);
		if (bpf_map__is_internal(map) && len >= 7 && !strcmp(name + len - 7, ".rodata"))
			return map;
	}
	return NULL;
}

/* A map's pin name under maps/: its own name; .rodata's is VMQ_PIN_RODATA;
 * other internal maps (.bss, .data) are not pinned (NULL). */
const char *vmq_tx_obj_pin_name(const struct bpf_object *obj, const struct bpf_map *map)
{
	if (!bpf_map__is_internal(map))
		return bpf_map__name(map);
	return map == vmq_tx_obj_rodata(obj) ? VMQ_PIN_RODATA : NULL;
}

/* Sets the load-time config (const volatile vmq_cfg in .rodata), found by
 * its BTF, so that an object file is configured like the skeleton. */
int vmq_tx_obj_set_cfg(struct bpf_object *obj, const struct vmq_config *cfg)
{
	struct bpf_map *rodata = vmq_tx_obj_rodata(obj);
	struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec;
	const void *initial;
	size_t size = 0;
	int id, err;
	char *data;

	if (!rodata || !btf)
		return -ENOENT;
	id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	initial = bpf_map__initial_value(rodata, &size);
	if (id < 0 || !initial)
		return -ENOENT;
	sec = btf__type_by_id(btf, (__u32)id);
	vs = btf_var_secinfos(sec);
	for (__u16 i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *var = btf__type_by_id(btf, vs->type);

		if (strcmp(btf__name_by_offset(btf, var->name_off), "vmq_cfg"))
			continue;
		if (vs->size != sizeof(*cfg) || vs->offset + sizeof(*cfg) > size)
			return -EPROTO;
		/* libbpf 1.1 hands out the initial value read-only: copy, edit, set. */
		data = malloc(size);
		if (!data)
			return -ENOMEM;
		memcpy(data, initial, size);
		memcpy(data + vs->offset, cfg, sizeof(*cfg));
		err = bpf_map__set_initial_value(rodata, data, size);
		free(data);
		return err;
	}
	return -ENOENT;
}

/* Replaces the fds of dev's program and of every map in the table with
 * the object's (loaded); a map the object lacks keeps its fd. */
int vmq_dev_take_fds(struct vmq_dev *dev, const struct bpf_object *obj)
{
	const struct bpf_program *prog = bpf_object__find_program_by_name(obj, VMQ_PIN_PROG);
	int fd;

	if (!prog)
		return -ENOENT;
	fd = dup(bpf_program__fd(prog));
	if (fd < 0)
		return -errno;
	if (dev->prog_fd >= 0)
		close(dev->prog_fd);
	dev->prog_fd = fd;
	for (size_t i = 0; i < DEV_MAPS_COUNT; i++) {
		const struct bpf_map *map = bpf_object__find_map_by_name(obj, dev_maps[i].name);

		if (!map && !strcmp(dev_maps[i].name, VMQ_PIN_RODATA))
			map = vmq_tx_obj_rodata(obj);
		if (!map)
			continue;
		fd = dup(bpf_map__fd(map));
		if (fd < 0)
			return -errno;
		if (*dev_map_fd(dev, i) >= 0)
			close(*dev_map_fd(dev, i));
		*dev_map_fd(dev, i) = fd;
	}
	return 0;
}

/* Pins the program and every map of the object that has a pin name. */
static int pin_all(struct vmq_dev *dev, const struct bpf_object *obj)
{
	const struct bpf_map *map;
	char path[PATH_MAX];
	int err;

	err = vmq_mkdir_p(dev->pin_dir, 0700);
	if (!err)
		err = vmq_pin_path(path, sizeof(path), dev, "", true);
	if (!err)
		err = vmq_mkdir_p(path, 0700);
	if (!err)
		err = vmq_pin_path(path, sizeof(path), dev, VMQ_PIN_PROG, false);
	if (!err && bpf_obj_pin(dev->prog_fd, path))
		err = -errno;
	vmq_fault_point("pinned the program");
	bpf_object__for_each_map(map, obj)
	{
		const char *name = vmq_tx_obj_pin_name(obj, map);

		if (err)
			break;
		if (!name)
			continue;
		err = vmq_pin_path(path, sizeof(path), dev, name, true);
		if (!err && bpf_obj_pin(bpf_map__fd(map), path))
			err = -errno;
		vmq_fault_point("pinned a map");
	}
	return err;
}

int vmq_dev_load(struct vmq_dev *dev, const char *pin_root, const char *ifname,
		 const struct vmq_load_opts *opts)
{
	__u32 nr_queues = opts && opts->nr_queues ? opts->nr_queues : VMQ_QUEUES_DEFAULT;
	__u32 mask = opts && opts->mark_mask ? opts->mark_mask : VMQ_MARK_MASK_DEFAULT;
	struct vmq_config cfg = { .mark_mask = mask,
				  .mark_shift = vmq_mask_shift(mask),
				  .abi_version = VMQ_ABI_VERSION };
	struct vmq_dev_info info = { .abi_version = VMQ_ABI_VERSION };
	struct bpf_object *obj = NULL;
	char staging[PATH_MAX], final[PATH_MAX];
	int n, err;

	vmq_dev_init(dev);
	if (nr_queues > VMQ_QUEUES_MAX || nr_queues < 1)
		return -ERANGE;
	err = vmq_dev_set_names(dev, pin_root, ifname);
	if (!err && !dev->ifindex)
		err = -ENODEV;
	if (err)
		return err;
	if (!access(dev->pin_dir, F_OK))
		return -EEXIST;
	n = snprintf(staging, sizeof(staging), "%s%s", dev->pin_dir, VMQ_PIN_STAGING_SUFFIX);
	if (n < 0 || (size_t)n >= sizeof(staging))
		return -ENAMETOOLONG;

	err = vmq_tx_obj_open(opts ? opts->obj_path : NULL, &obj);
	if (err)
		return err;
	err = vmq_tx_obj_set_cfg(obj, &cfg);
	if (!err)
		err = bpf_map__set_max_entries(bpf_object__find_map_by_name(obj, "vmq_queues"),
					       nr_queues);
	if (!err)
		err = bpf_map__set_max_entries(bpf_object__find_map_by_name(obj, "vmq_queue_stats"),
					       nr_queues);
	if (!err)
		err = bpf_object__load(obj);
	if (!err)
		err = vmq_dev_take_fds(dev, obj);
	if (!err)
		err = vmq_dev_load_store_prog(dev);
	if (err)
		goto cleanup;
	dev->cfg = cfg;
	dev->nr_queues = nr_queues;
	info.ifindex = (__u32)dev->ifindex;
	err = vmq_dev_info_write(dev, &info);
	/* Pinned under DIR/<pin name>:new, then renamed into place: a load
	 * cut short leaves no DIR/<pin name> for adoption to trip on (and
	 * vmqd removes the :new directory at start). */
	snprintf(final, sizeof(final), "%s", dev->pin_dir);
	snprintf(dev->pin_dir, sizeof(dev->pin_dir), "%s", staging);
	if (!err)
		err = vmq_dev_unpin(dev); /* one a crash left */
	if (!err)
		err = pin_all(dev, obj);
	if (!err && renameat2(AT_FDCWD, staging, AT_FDCWD, final, RENAME_NOREPLACE))
		err = errno == ENOTEMPTY ? -EEXIST : -errno;
	if (err)
		vmq_dev_unpin(dev);
	snprintf(dev->pin_dir, sizeof(dev->pin_dir), "%s", final);
	if (!err)
		vmq_fault_point("pins in place");
cleanup:
	bpf_object__close(obj);
	if (err)
		vmq_dev_close(dev);
	return err;
}

int vmq_dev_adopt(struct vmq_dev *dev, const char *pin_root, const char *ifname)
{
	struct vmq_dev_info info;
	char path[PATH_MAX];
	int err;

	vmq_dev_init(dev);
	err = vmq_dev_set_names(dev, pin_root, ifname);
	if (err)
		return err;
	err = vmq_pin_path(path, sizeof(path), dev, VMQ_PIN_PROG, false);
	if (err)
		goto fail;
	dev->prog_fd = bpf_obj_get(path);
	if (dev->prog_fd < 0) {
		err = -errno;
		goto fail;
	}
	for (size_t i = 0; i < DEV_MAPS_COUNT; i++) {
		err = vmq_pin_path(path, sizeof(path), dev, dev_maps[i].name, true);
		if (err)
			goto fail;
		*dev_map_fd(dev, i) = bpf_obj_get(path);
		if (*dev_map_fd(dev, i) < 0 && errno == ENOENT && dev_maps[i].optional)
			continue;
		if (*dev_map_fd(dev, i) < 0) {
			err = -errno;
			goto fail;
		}
	}
	/* Maps of another layout are not ours to edit: vmq_dev_migrate. */
	err = vmq_dev_info_read(dev, &info);
	/* 0: never written (the bpftool path); read_config checks .rodata's. */
	if (!err && info.abi_version && info.abi_version != VMQ_ABI_VERSION)
		err = -EPROTO;
	if (!err)
		err = read_config(dev);
	if (!err)
		err = vmq_dev_load_store_prog(dev);
	/* The receive side, when it was ever loaded here. Pins it cannot
	 * use (another layout) leave it closed, not the transmit side
	 * unadopted: vmq_rx_load reports them. */
	if (!err) {
		vmq_rx_adopt(dev);
		return 0;
	}
fail:
	vmq_dev_close(dev);
	return err;
}

int vmq_dev_info_read(const struct vmq_dev *dev, struct vmq_dev_info *info)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(dev->dev_info_fd, &zero, info) ? -errno : 0;
}

int vmq_dev_info_write(const struct vmq_dev *dev, const struct vmq_dev_info *info)
{
	__u32 zero = 0;

	return bpf_map_update_elem(dev->dev_info_fd, &zero, info, BPF_ANY) ? -errno : 0;
}

/* The device's record, and the path of its link pin (tcx mode). */
static int info_and_link(const struct vmq_dev *dev, struct vmq_dev_info *info, char *link,
			 size_t size)
{
	int err = vmq_dev_info_read(dev, info);

	return err ? err : vmq_pin_path(link, size, dev, VMQ_PIN_LINK, false);
}

/* The mode of a re-attach is the one recorded; a first attach chooses. */
static int dev_attach(struct vmq_dev *dev, bool to_head)
{
	struct vmq_dev_info info;
	enum vmq_hook_mode mode = VMQ_HOOK_AUTO;
	char link[PATH_MAX];
	bool created = false, tcx = false;
	int err;

	err = info_and_link(dev, &info, link, sizeof(link));
	if (err)
		return err;
	if (info.flags & VMQ_DEV_F_ATTACHED)
		mode = info.flags & VMQ_DEV_F_TCX ? VMQ_HOOK_TCX : VMQ_HOOK_CLSACT;
	if (to_head) {
		if (mode != VMQ_HOOK_TCX)
			return -EOPNOTSUPP;
		err = vmq_tcx_attach(dev->ifindex, VMQ_TC_EGRESS, dev->prog_fd, link, true);
		tcx = true;
	} else {
		err = vmq_hook_attach(dev->ifindex, VMQ_TC_EGRESS, dev->prog_fd, link, mode, &tcx,
				      &created);
	}
	if (err)
		return err;
	vmq_fault_point("hook attached");
	/* Re-attaching over a hook we created earlier keeps that ownership. */
	if (created)
		info.flags |= VMQ_DEV_F_HOOK_CREATED;
	info.flags &= ~VMQ_DEV_F_TCX;
	info.flags |= VMQ_DEV_F_ATTACHED | (tcx ? VMQ_DEV_F_TCX : 0);
	info.ifindex = (__u32)dev->ifindex;
	err = vmq_dev_info_write(dev, &info);
	if (err)
		vmq_hook_detach(dev->ifindex, VMQ_TC_EGRESS, link, tcx, created);
	else
		vmq_fault_point("marked attached");
	return err;
}

/* Attaches: a tcx link at the head of the egress chain, or vmq's clsact
 * filter (tcx.c says when); attached already, the program is swapped in. */
int vmq_dev_attach(struct vmq_dev *dev)
{
	return dev_attach(dev, false);
}

/* tcx mode: puts vmq's link back at the head of the chain. */
int vmq_dev_attach_first(struct vmq_dev *dev)
{
	return dev_attach(dev, true);
}

int vmq_dev_detach(struct vmq_dev *dev)
{
	struct vmq_dev_info info;
	char link[PATH_MAX];
	int err;

	/* The receive side first: detach removes everything attach added. */
	err = vmq_rx_detach(dev);
	if (!err)
		err = info_and_link(dev, &info, link, sizeof(link));
	if (err)
		return err;
	/* Not attached from here on: a crash before the end leaves a device
	 * vmqd's adoption rolls back (vmq_dev_rollback), not one it attaches
	 * again. The mode bits stay until the hook is gone: they say which. */
	if (info.flags & VMQ_DEV_F_ATTACHED) {
		info.flags &= ~VMQ_DEV_F_ATTACHED;
		err = vmq_dev_info_write(dev, &info);
		if (err)
			return err;
		vmq_fault_point("marked detached");
		info.flags |= VMQ_DEV_F_ATTACHED;
	}
	err = vmq_hook_detach(dev->ifindex, VMQ_TC_EGRESS, link, info.flags & VMQ_DEV_F_TCX,
			      info.flags & VMQ_DEV_F_HOOK_CREATED);
	/* Moved from clsact to tcx by an upgrade: the clsact qdisc vmq made
	 * then stayed (empty); it goes now, unless someone else uses it. */
	if (!err && (info.flags & VMQ_DEV_F_TCX) && (info.flags & VMQ_DEV_F_HOOK_CREATED))
		err = vmq_tc_detach(dev->ifindex, VMQ_TC_EGRESS, true);
	/* A device that is gone took its filter and clsact with it. */
	if (err && err != -ENODEV) {
		vmq_dev_info_write(dev, &info);
		return err;
	}
	vmq_fault_point("hook detached");
	info.flags &= ~(VMQ_DEV_F_HOOK_CREATED | VMQ_DEV_F_ATTACHED | VMQ_DEV_F_TCX);
	return vmq_dev_info_write(dev, &info);
}

int vmq_dev_rollback(struct vmq_dev *dev)
{
	struct vmq_dev_info info = { 0 };
	__u32 ours = 0, found = 0;
	char link[PATH_MAX];
	int err, e;

	vmq_dev_info_read(dev, &info);
	/* Whatever the flags say: the crash may have come before they did. */
	err = vmq_rx_detach(dev);
	e = vmq_pin_path(link, sizeof(link), dev, VMQ_PIN_LINK, false);
	if (!e)
		e = vmq_tcx_detach(link);
	err = err ? err : e;
	if (dev->ifindex > 0 && !vmq_prog_id(dev->prog_fd, &ours) &&
	    !vmq_tc_attached_prog_id(dev->ifindex, VMQ_TC_EGRESS, &found) && found == ours) {
		e = vmq_tc_detach(dev->ifindex, VMQ_TC_EGRESS, info.flags & VMQ_DEV_F_HOOK_CREATED);
		err = err ? err : e;
	} else if (dev->ifindex > 0 && (info.flags & VMQ_DEV_F_TCX) &&
		   (info.flags & VMQ_DEV_F_HOOK_CREATED)) {
		e = vmq_tc_detach(dev->ifindex, VMQ_TC_EGRESS, true);
		err = err ? err : e;
	}
	/* An absent device has no XPS to put back; the saved copy goes. */
	e = vmq_xps_restore(dev);
	if (dev->ifindex > 0 && e != -ENOENT && e != -ENODEV)
		err = err ? err : e;
	e = vmq_dev_unpin(dev);
	return err ? err : e;
}

bool vmq_dev_is_tcx(const struct vmq_dev *dev)
{
	struct vmq_dev_info info;

	return !vmq_dev_info_read(dev, &info) && (info.flags & VMQ_DEV_F_TCX);
}

/* tcx mode: the pinned link, live on this device, running the pinned
 * program. clsact mode: vmq's filter runs the pinned program. */
int vmq_dev_is_attached(const struct vmq_dev *dev, bool *attached)
{
	__u32 ours, found = 0;
	int err;

	*attached = false;
	if (vmq_dev_is_tcx(dev)) {
		struct vmq_tcx_link link = { 0 };
		char path[PATH_MAX];

		err = vmq_pin_path(path, sizeof(path), dev, VMQ_PIN_LINK, false);
		if (!err)
			err = vmq_tcx_link_get(path, &link);
		if (err == -ENOENT || err == -EPROTO)
			return 0;
		if (!err)
			err = vmq_prog_id(dev->prog_fd, &ours);
		if (!err)
			*attached = link.ifindex && link.ifindex == (__u32)dev->ifindex &&
				    link.prog_id == ours;
		return err;
	}
	err = vmq_tc_attached_prog_id(dev->ifindex, VMQ_TC_EGRESS, &found);
	if (err == -ENOENT || err == -EINVAL)
		return 0;
	if (!err)
		err = vmq_prog_id(dev->prog_fd, &ours);
	if (!err)
		*attached = ours == found;
	return err;
}

/*
 * tcx mode: where vmq's link runs in the device's egress chain (*pos, 0 is
 * first) and what runs first (*first_prog_id). -ENOENT when vmq's link is
 * not in the chain, -EOPNOTSUPP in clsact mode.
 */
int vmq_dev_tcx_position(const struct vmq_dev *dev, __u32 *pos, __u32 *first_prog_id,
			 struct vmq_tcx_chain *chain)
{
	struct vmq_tcx_link link = { 0 };
	char path[PATH_MAX];
	int err;

	if (!vmq_dev_is_tcx(dev))
		return -EOPNOTSUPP;
	err = vmq_pin_path(path, sizeof(path), dev, VMQ_PIN_LINK, false);
	if (!err)
		err = vmq_tcx_link_get(path, &link);
	if (!err)
		err = vmq_tcx_query(dev->ifindex, VMQ_TC_EGRESS, chain);
	if (err)
		return err;
	*first_prog_id = chain->count ? chain->prog_ids[0] : 0;
	for (__u32 i = 0; i < chain->count; i++)
		if (chain->link_ids[i] == link.id) {
			*pos = i;
			return 0;
		}
	return -ENOENT;
}

/* Removes every pin under one pin directory, then the directory. */
int vmq_dev_unpin_dir(const char *pin_dir)
{
	char path[PATH_MAX], maps[PATH_MAX];
	static const char *const top[] = { VMQ_PIN_PROG, VMQ_PIN_LINK };
	struct dirent *de;
	int err = 0, n;
	DIR *dir;

	n = snprintf(maps, sizeof(maps), "%s/%s", pin_dir, VMQ_PIN_MAPS);
	if (n < 0 || (size_t)n >= sizeof(maps))
		return -ENAMETOOLONG;
	/* Every pin under maps/: the table's, and those of maps a newer
	 * object brought (vmq_dev_upgrade pins them). */
	dir = opendir(maps);
	while (dir && (de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		n = snprintf(path, sizeof(path), "%s/%s", maps, de->d_name);
		if (n > 0 && (size_t)n < sizeof(path) && unlink(path) && errno != ENOENT && !err)
			err = -errno;
		vmq_fault_point("unpinned a map");
	}
	if (dir)
		closedir(dir);
	/* The link's pin: detach removed it; were it still there, this would
	 * detach. */
	for (size_t i = 0; i < ARRAY_SIZE(top); i++) {
		n = snprintf(path, sizeof(path), "%s/%s", pin_dir, top[i]);
		if (n > 0 && (size_t)n < sizeof(path) && unlink(path) && errno != ENOENT && !err)
			err = -errno;
	}
	if (rmdir(maps) && errno != ENOENT && !err)
		err = -errno;
	n = vmq_rx_unpin_dirs(pin_dir);
	err = err ? err : n;
	if (rmdir(pin_dir) && errno != ENOENT && !err)
		err = -errno;
	return err;
}

/*
 * Removes the pins (the objects live on while a filter holds them; in tcx
 * mode the link's pin is the attachment: vmq_dev_detach first). The
 * directory is first renamed DIR/<pin name>:old, so that a removal cut
 * short leaves nothing adoption takes for a device (vmqd removes :old and
 * :new directories at start).
 */
int vmq_dev_unpin(struct vmq_dev *dev)
{
	const char *base = strrchr(dev->pin_dir, '/');
	char old[PATH_MAX];
	int n, err;

	if (base && strchr(base, ':'))
		return vmq_dev_unpin_dir(dev->pin_dir);
	n = snprintf(old, sizeof(old), "%s%s", dev->pin_dir, VMQ_PIN_OLD_SUFFIX);
	if (n < 0 || (size_t)n >= sizeof(old))
		return vmq_dev_unpin_dir(dev->pin_dir);
	err = vmq_dev_unpin_dir(old); /* one a crash left */
	if (!err && !renameat2(AT_FDCWD, dev->pin_dir, AT_FDCWD, old, RENAME_NOREPLACE))
		return vmq_dev_unpin_dir(old);
	return vmq_dev_unpin_dir(dev->pin_dir);
}
