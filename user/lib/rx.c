// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The receive side of one uplink: vmq_rx (XDP) loaded on vmq_tx's queues
 * map, pinned under DIR/<pin name>/rx/, adopted from its pins, attached
 * through a pinned XDP link (so it outlives vmqd like the tc side does).
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
#include <linux/if_link.h>
#include <sys/stat.h>

#include "dev_priv.h"
#include "libvmq.h"
#include "util.h"
#include "vmq_rx.skel.h"
#include "vmq_rx_ctl.skel.h"

/* Map names in vmq_rx, which are also their pin names under rx/. */
static const struct {
	const char *name;
	size_t fd_offset;
} rx_maps[] = {
	{ "vmq_rx_filters", offsetof(struct vmq_dev, rx_filters_fd) },
	{ "vmq_rx_queues", offsetof(struct vmq_dev, rx_queues_fd) },
	{ "vmq_rx_queue_stats", offsetof(struct vmq_dev, rx_queue_stats_fd) },
	{ "vmq_rx_outcomes", offsetof(struct vmq_dev, rx_outcomes_fd) },
	{ "vmq_rx_cpus", offsetof(struct vmq_dev, rx_cpus_fd) },
	{ "vmq_rx_ports", offsetof(struct vmq_dev, rx_ports_fd) },
};

static int *rx_map_fd(struct vmq_dev *dev, size_t i)
{
	return (int *)((char *)dev + rx_maps[i].fd_offset);
}

void vmq_rx_init(struct vmq_dev *dev)
{
	dev->rx_prog_fd = -1;
	dev->rx_store_fd = -1;
	dev->rx_ncpus = 0;
	for (size_t i = 0; i < ARRAY_SIZE(rx_maps); i++)
		*rx_map_fd(dev, i) = -1;
}

void vmq_rx_close(struct vmq_dev *dev)
{
	if (dev->rx_prog_fd >= 0)
		close(dev->rx_prog_fd);
	if (dev->rx_store_fd >= 0)
		close(dev->rx_store_fd);
	for (size_t i = 0; i < ARRAY_SIZE(rx_maps); i++)
		if (*rx_map_fd(dev, i) >= 0)
			close(*rx_map_fd(dev, i));
	vmq_rx_init(dev);
}

/* DIR/<pin name>/rx<suffix>[/name] */
static int rx_path(char *buf, size_t size, const struct vmq_dev *dev, const char *suffix,
		   const char *name)
{
	int n = snprintf(buf, size, "%s/%s%s%s%s", dev->pin_dir, VMQ_PIN_RX_DIR, suffix,
			 name ? "/" : "", name ? name : "");

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Removes every pin in one directory, then the directory. Unlinking the
 * link's pin would detach it, late: callers detach first. */
static int unpin_dir(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	int err = 0, n;
	DIR *d = opendir(dir);

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		n = snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (n > 0 && (size_t)n < sizeof(path) && unlink(path) && errno != ENOENT && !err)
			err = -errno;
	}
	closedir(d);
	if (rmdir(dir) && errno != ENOENT && !err)
		err = -errno;
	return err;
}

/* rx/, and what a load or removal cut short left (rx:new, rx:old). */
int vmq_rx_unpin_dirs(const char *pin_dir)
{
	static const char *const suffixes[] = { "", VMQ_PIN_STAGING_SUFFIX, VMQ_PIN_OLD_SUFFIX };
	char path[PATH_MAX];
	int err = 0, e, n;

	for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
		n = snprintf(path, sizeof(path), "%s/%s%s", pin_dir, VMQ_PIN_RX_DIR, suffixes[i]);
		if (n < 0 || (size_t)n >= sizeof(path))
			return -ENAMETOOLONG;
		e = unpin_dir(path);
		err = err ? err : e;
	}
	return err;
}

static int map_id(int fd, __u32 *id, __u32 *max_entries)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (id)
		*id = info.id;
	if (max_entries)
		*max_entries = info.max_entries;
	return 0;
}

/* The writer of receive modes, on this device's vmq_rx_queues. */
static int load_store_prog(struct vmq_dev *dev)
{
	struct vmq_rx_ctl_bpf *ctl = vmq_rx_ctl_bpf__open();
	int err;

	if (!ctl)
		return -errno;
	err = bpf_map__reuse_fd(ctl->maps.vmq_rx_queues, dev->rx_queues_fd);
	if (!err)
		err = vmq_rx_ctl_bpf__load(ctl);
	if (!err) {
		dev->rx_store_fd = dup(bpf_program__fd(ctl->progs.vmq_rx_store));
		if (dev->rx_store_fd < 0)
			err = -errno;
	}
	vmq_rx_ctl_bpf__destroy(ctl);
	return err;
}

int vmq_rx_adopt(struct vmq_dev *dev)
{
	char path[PATH_MAX];
	__u32 ours = 0, theirs = 0, size = 0;
	int err, fd;

	if (dev->rx_prog_fd >= 0)
		return 0;
	err = rx_path(path, sizeof(path), dev, "", VMQ_PIN_RX_PROG);
	if (err)
		return err;
	dev->rx_prog_fd = bpf_obj_get(path);
	if (dev->rx_prog_fd < 0)
		return -errno;
	for (size_t i = 0; !err && i < ARRAY_SIZE(rx_maps); i++) {
		err = rx_path(path, sizeof(path), dev, "", rx_maps[i].name);
		if (!err) {
			*rx_map_fd(dev, i) = bpf_obj_get(path);
			if (*rx_map_fd(dev, i) < 0)
				err = errno == ENOENT ? -EPROTO : -errno;
		}
	}
	/* Loaded on this uplink's queues map, not another's (bpftool). */
	if (!err)
		err = rx_path(path, sizeof(path), dev, "", "vmq_queues");
	if (!err) {
		fd = bpf_obj_get(path);
		if (fd >= 0) {
			err = map_id(fd, &theirs, NULL);
			if (!err)
				err = map_id(dev->queues_fd, &ours, NULL);
			if (!err && ours != theirs)
				err = -EPROTO;
			close(fd);
		}
	}
	if (!err)
		err = map_id(dev->rx_queues_fd, NULL, &size);
	if (!err && size != dev->nr_queues)
		err = -EPROTO;
	if (!err)
		err = map_id(dev->rx_cpus_fd, NULL, &dev->rx_ncpus);
	if (!err)
		err = load_store_prog(dev);
	if (err)
		vmq_rx_close(dev);
	return err;
}

static int set_size(struct bpf_object *obj, const char *name, __u32 n)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, name);

	return map ? bpf_map__set_max_entries(map, n) : -ENOENT;
}

/* vmq_rx as a libbpf object, not loaded (built in, or from a file), its maps sized for dev's
 * queues and ncpus CPUs. */
static int rx_obj_open(const char *path, const struct vmq_dev *dev, __u32 ncpus,
		       struct bpf_object **out)
{
	size_t size = 0;
	const void *elf = vmq_rx_bpf__elf_bytes(&size);
	int err = vmq_obj_open(path, elf, size, "vmq_rx_bpf", VMQ_PIN_RX_PROG, out);

	if (!err)
		err = set_size(*out, "vmq_rx_queues", dev->nr_queues);
	if (!err)
		err = set_size(*out, "vmq_rx_queue_stats", dev->nr_queues);
	if (!err)
		err = set_size(*out, "vmq_rx_ports", dev->nr_queues);
	if (!err)
		err = set_size(*out, "vmq_rx_cpus", ncpus);
	if (err && *out) {
		bpf_object__close(*out);
		*out = NULL;
	}
	return err;
}

int vmq_rx_load(struct vmq_dev *dev, const char *obj_path)
{
	int ncpus = libbpf_num_possible_cpus();
	char staging[PATH_MAX], final[PATH_MAX], path[PATH_MAX];
	struct bpf_object *obj = NULL;
	struct bpf_map *map;
	int err;

	if (dev->rx_prog_fd >= 0)
		return 0;
	err = vmq_rx_adopt(dev);
	if (err != -ENOENT)
		return err;
	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	/* Whatever a load or removal cut short left: no program pin, so no
	 * receive side to keep. */
	err = vmq_rx_unpin_dirs(dev->pin_dir);
	if (!err)
		err = rx_path(staging, sizeof(staging), dev, VMQ_PIN_STAGING_SUFFIX, NULL);
	if (!err)
		err = rx_path(final, sizeof(final), dev, "", NULL);
	if (!err)
		err = rx_obj_open(obj_path, dev, (__u32)ncpus, &obj);
	if (err)
		return err;
	map = bpf_object__find_map_by_name(obj, "vmq_queues");
	err = map ? bpf_map__reuse_fd(map, dev->queues_fd) : -ENOENT;
	if (!err)
		err = bpf_object__load(obj);
	/* Pinned under rx:new, then renamed into place: adoption never sees
	 * half a receive side. */
	if (!err && mkdir(staging, 0700))
		err = -errno;
	if (!err) {
		err = rx_path(path, sizeof(path), dev, VMQ_PIN_STAGING_SUFFIX, VMQ_PIN_RX_PROG);
		if (!err &&
		    bpf_program__pin(bpf_object__find_program_by_name(obj, VMQ_PIN_RX_PROG), path))
			err = -errno;
	}
	bpf_object__for_each_map(map, obj)
	{
		if (err)
			break;
		if (bpf_map__is_internal(map))
			continue;
		err = rx_path(path, sizeof(path), dev, VMQ_PIN_STAGING_SUFFIX, bpf_map__name(map));
		if (!err && bpf_obj_pin(bpf_map__fd(map), path))
			err = -errno;
		vmq_fault_point("pinned an rx map");
	}
	if (!err && renameat2(AT_FDCWD, staging, AT_FDCWD, final, RENAME_NOREPLACE))
		err = -errno;
	if (err)
		unpin_dir(staging);
	bpf_object__close(obj);
	return err ? err : vmq_rx_adopt(dev);
}

int vmq_xdp_query(int ifindex, __u32 *native_id, __u32 *generic_id)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int err = bpf_xdp_query(ifindex, 0, &q);

	if (err)
		return err;
	*native_id = q.drv_prog_id;
	*generic_id = q.skb_prog_id;
	return 0;
}

static int prog_id_of(int fd, __u32 *id)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*id = info.id;
	return 0;
}

/* The pinned link: its fd, live on ifindex (or -ENOENT / -ENOLINK). */
static int link_open(const struct vmq_dev *dev, __u32 *prog_id, __u32 *ifindex)
{
	struct bpf_link_info info = { 0 };
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int fd, err = rx_path(path, sizeof(path), dev, "", VMQ_PIN_RX_LINK);

	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.type != BPF_LINK_TYPE_XDP) {
		close(fd);
		return -EPROTO;
	}
	*prog_id = info.prog_id;
	*ifindex = info.xdp.ifindex; /* 0: defunct, its device is gone */
	return fd;
}

int vmq_rx_status(const struct vmq_dev *dev, struct vmq_rx_status *st)
{
	struct vmq_dev_info info = { 0 };
	struct vmq_rx_filter_key key, next;
	__u32 native = 0, generic = 0, lprog = 0, lif = 0;
	bool first = true;
	int err, fd;

	memset(st, 0, sizeof(*st));
	if (dev->rx_prog_fd < 0)
		return 0;
	st->loaded = true;
	err = prog_id_of(dev->rx_prog_fd, &st->prog_id);
	if (!err)
		err = vmq_dev_info_read(dev, &info);
	if (err)
		return err;
	if (dev->ifindex > 0 && vmq_xdp_query(dev->ifindex, &native, &generic) == 0) {
		bool gen = info.flags & VMQ_DEV_F_RX_ATTACHED ? info.flags & VMQ_DEV_F_RX_GENERIC
							      : !native && generic;

		st->found_prog_id = gen ? generic : native;
		st->generic = gen;
		st->attached = st->found_prog_id == st->prog_id;
	}
	fd = link_open(dev, &lprog, &lif);
	if (fd >= 0) {
		st->link = lif && lif == (__u32)dev->ifindex && lprog == st->prog_id;
		close(fd);
	}
	while (!bpf_map_get_next_key(dev->rx_filters_fd, first ? NULL : &key, &next)) {
		first = false;
		key = next;
		st->filters++;
	}
	return 0;
}

/* Attaches a new link in one mode and pins it. */
static int link_attach(struct vmq_dev *dev, bool generic)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts,
		    .flags = generic ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE);
	char path[PATH_MAX];
	int fd, err = rx_path(path, sizeof(path), dev, "", VMQ_PIN_RX_LINK);

	if (err)
		return err;
	fd = bpf_link_create(dev->rx_prog_fd, dev->ifindex, BPF_XDP, &opts);
	if (fd < 0)
		return fd;
	vmq_fault_point("rx link created");
	/* Closing the unpinned link detaches it: nothing is left behind. */
	err = bpf_obj_pin(fd, path) ? -errno : 0;
	if (!err)
		vmq_fault_point("rx link pinned");
	close(fd);
	return err;
}

/* Detaches vmq_rx however it is attached: the link (at once, not when
 * its last reference goes), then a netlink attachment of the pinned
 * program (the bpftool path) in either mode. */
static int detach_all(struct vmq_dev *dev)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = dev->rx_prog_fd);
	__u32 lprog, lif, native = 0, generic = 0, ours = 0;
	char path[PATH_MAX];
	int fd, err;

	fd = link_open(dev, &lprog, &lif);
	if (fd >= 0) {
		err = bpf_link_detach(fd) ? -errno : 0;
		close(fd);
		/* A defunct link (device gone) detaches as ENOLINK: nothing to do. */
		if (err && err != -ENOLINK && err != -EINVAL)
			return err;
	} else if (fd != -ENOENT) {
		return fd;
	}
	err = rx_path(path, sizeof(path), dev, "", VMQ_PIN_RX_LINK);
	if (!err && unlink(path) && errno != ENOENT)
		err = -errno;
	if (err || dev->ifindex <= 0)
		return err;
	err = prog_id_of(dev->rx_prog_fd, &ours);
	if (!err && !vmq_xdp_query(dev->ifindex, &native, &generic)) {
		if (native == ours)
			err = bpf_xdp_detach(dev->ifindex, XDP_FLAGS_DRV_MODE | XDP_FLAGS_REPLACE,
					     &opts);
		if (!err && generic == ours)
			err = bpf_xdp_detach(dev->ifindex, XDP_FLAGS_SKB_MODE | XDP_FLAGS_REPLACE,
					     &opts);
	}
	return err;
}

int vmq_rx_attach(struct vmq_dev *dev, enum vmq_xdp_mode mode)
{
	struct vmq_dev_info info;
	__u32 native = 0, generic = 0, ours = 0, lprog = 0, lif = 0;
	bool gen;
	int err, fd;

	if (dev->ifindex <= 0)
		return -ENODEV;
	err = vmq_rx_load(dev, NULL);
	if (!err)
		err = vmq_dev_info_read(dev, &info);
	if (!err)
		err = prog_id_of(dev->rx_prog_fd, &ours);
	if (!err)
		err = vmq_xdp_query(dev->ifindex, &native, &generic);
	if (err)
		return err;
	if (mode == VMQ_XDP_AUTO && (info.flags & VMQ_DEV_F_RX_ATTACHED))
		mode = info.flags & VMQ_DEV_F_RX_GENERIC ? VMQ_XDP_GENERIC : VMQ_XDP_NATIVE;

	/* Ours already, through our link: swap the pinned program in, or
	 * move to the mode asked for. */
	fd = link_open(dev, &lprog, &lif);
	if (fd >= 0 && lif == (__u32)dev->ifindex) {
		bool is_gen = generic == lprog && native != lprog;

		if (mode == VMQ_XDP_AUTO || (mode == VMQ_XDP_GENERIC) == is_gen) {
			err = lprog == ours
				      ? 0
				      : (bpf_link_update(fd, dev->rx_prog_fd, NULL) ? -errno : 0);
			close(fd);
			gen = is_gen;
			goto record;
		}
	}
	if (fd >= 0)
		close(fd);
	err = detach_all(dev);
	if (err)
		return err;
	err = vmq_xdp_query(dev->ifindex, &native, &generic);
	if (err)
		return err;
	/* Someone else's program: XDP has one per mode; not ours to replace. */
	if ((native && native != ours) || (generic && generic != ours))
		return -EBUSY;
	gen = mode == VMQ_XDP_GENERIC;
	err = link_attach(dev, gen);
	if (err == -EOPNOTSUPP && mode == VMQ_XDP_AUTO) {
		gen = true;
		err = link_attach(dev, true);
	}
	if (err)
		return err;
record:
	if (err)
		return err;
	info.flags &= ~(VMQ_DEV_F_RX_GENERIC | VMQ_DEV_F_RX_LINK);
	info.flags |= VMQ_DEV_F_RX_ATTACHED | VMQ_DEV_F_RX_LINK | (gen ? VMQ_DEV_F_RX_GENERIC : 0);
	err = vmq_dev_info_write(dev, &info);
	if (!err)
		vmq_fault_point("rx marked attached");
	return err;
}

int vmq_rx_detach(struct vmq_dev *dev)
{
	struct vmq_dev_info info;
	int err;

	if (dev->rx_prog_fd < 0)
		return 0;
	err = vmq_dev_info_read(dev, &info);
	if (err)
		return err;
	/* Not attached from here on: a crash before the end leaves a link
	 * the next detach (or rollback) removes, never one re-attached. */
	if (info.flags & VMQ_DEV_F_RX_ATTACHED) {
		info.flags &= ~VMQ_DEV_F_RX_ATTACHED;
		err = vmq_dev_info_write(dev, &info);
		if (err)
			return err;
		vmq_fault_point("rx marked detached");
	}
	err = detach_all(dev);
	if (err && err != -ENODEV)
		return err;
	info.flags &= ~(VMQ_DEV_F_RX_GENERIC | VMQ_DEV_F_RX_LINK);
	return vmq_dev_info_write(dev, &info);
}

int vmq_rx_unload(struct vmq_dev *dev)
{
	char final[PATH_MAX], old[PATH_MAX];
	int err;

	if (dev->rx_prog_fd < 0)
		return 0;
	err = vmq_rx_detach(dev);
	if (!err)
		err = rx_path(final, sizeof(final), dev, "", NULL);
	if (!err)
		err = rx_path(old, sizeof(old), dev, VMQ_PIN_OLD_SUFFIX, NULL);
	if (err)
		return err;
	vmq_rx_close(dev);
	/* Renamed first: a removal cut short leaves no program pin to adopt. */
	unpin_dir(old);
	if (!renameat2(AT_FDCWD, final, AT_FDCWD, old, RENAME_NOREPLACE))
		return unpin_dir(old);
	return unpin_dir(final);
}

/* The fd a map of a new vmq_rx object takes: vmq_tx's queues map, or the
 * pinned one of the same name (checked to fit); -1: a map new in the
 * object, created by the load and pinned after it. */
static int upgrade_map_fd(struct vmq_dev *dev, const struct bpf_map *map, int *fd)
{
	const char *name = bpf_map__name(map);

	*fd = -1;
	if (!strcmp(name, "vmq_queues")) {
		*fd = dev->queues_fd;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(rx_maps); i++)
		if (!strcmp(name, rx_maps[i].name)) {
			*fd = *rx_map_fd(dev, i);
			return vmq_map_fits(*fd, map) ? 0 : -EPROTO;
		}
	return 0;
}

int vmq_rx_upgrade(struct vmq_dev *dev, const char *obj_path, bool *changed)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, xopts, .old_prog_fd = dev->rx_prog_fd);
	__u32 old_id, new_id, lprog = 0, lif = 0, native = 0, generic = 0;
	__u8 old_tag[8], new_tag[8];
	struct bpf_object *obj = NULL;
	char path[PATH_MAX];
	struct bpf_map *map;
	int err, fd, new_fd = -1;

	*changed = false;
	if (dev->rx_prog_fd < 0)
		return -ENOTCONN;
	err = rx_obj_open(obj_path, dev, dev->rx_ncpus, &obj);
	if (err)
		return err;
	bpf_object__for_each_map(map, obj)
	{
		if (err)
			break;
		if (bpf_map__is_internal(map))
			continue;
		err = upgrade_map_fd(dev, map, &fd);
		if (!err && fd >= 0)
			err = bpf_map__reuse_fd(map, fd);
	}
	if (!err)
		err = bpf_object__load(obj);
	if (!err)
		err = vmq_prog_tag(dev->rx_prog_fd, &old_id, old_tag);
	if (!err) {
		new_fd = dup(
			bpf_program__fd(bpf_object__find_program_by_name(obj, VMQ_PIN_RX_PROG)));
		err = new_fd < 0 ? -errno : vmq_prog_tag(new_fd, &new_id, new_tag);
	}
	if (err || !memcmp(old_tag, new_tag, sizeof(old_tag)))
		goto out;
	/* Maps the new program brings: pinned beside the others. */
	bpf_object__for_each_map(map, obj)
	{
		if (err)
			break;
		if (bpf_map__is_internal(map) || upgrade_map_fd(dev, map, &fd) || fd >= 0)
			continue;
		err = rx_path(path, sizeof(path), dev, "", bpf_map__name(map));
		if (!err && access(path, F_OK) && bpf_obj_pin(bpf_map__fd(map), path))
			err = -errno;
	}
	/* The swap, where it runs: the link's program in place, or the
	 * netlink attachment replaced only if it is still ours. */
	fd = err ? -1 : link_open(dev, &lprog, &lif);
	if (fd >= 0) {
		if (lif && lprog == old_id && bpf_link_update(fd, new_fd, NULL))
			err = -errno;
		close(fd);
	} else if (!err && dev->ifindex > 0 && !vmq_xdp_query(dev->ifindex, &native, &generic)) {
		if (native == old_id)
			err = bpf_xdp_attach(dev->ifindex, new_fd,
					     XDP_FLAGS_DRV_MODE | XDP_FLAGS_REPLACE, &xopts);
		else if (generic == old_id)
			err = bpf_xdp_attach(dev->ifindex, new_fd,
					     XDP_FLAGS_SKB_MODE | XDP_FLAGS_REPLACE, &xopts);
	}
	if (!err)
		vmq_fault_point("rx program swapped");
	if (!err)
		err = rx_path(path, sizeof(path), dev, "", VMQ_PIN_RX_PROG);
	if (!err)
		err = vmq_replace_pin(new_fd, path);
	if (!err) {
		close(dev->rx_prog_fd);
		dev->rx_prog_fd = new_fd;
		new_fd = -1;
		*changed = true;
	}
out:
	if (new_fd >= 0)
		close(new_fd);
	bpf_object__close(obj);
	return err;
}
