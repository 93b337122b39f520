// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A kernel in memory for the fuzzers: a fixed set of links, BPF maps as
 * arrays, and the parts of libvmq that load, attach, pin or read sysfs,
 * faked over them. vmqd's handlers and libvmq's maps.c and parse.c run for
 * real on top; nothing here makes a system call (and fsync() does not
 * either). fake_kernel_reset() gives
 * every run the same clean host.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fake_kernel.h"
#include "libvmq.h"

/* --- links --------------------------------------------------------------- */

struct fake_link {
	const char *name;
	unsigned int ifindex, ntxqs, master;
};

/* up0/up1: uplinks; vm*, tap*, vnet*: ports; br0 holds tap1. */
static const struct fake_link links[] = {
	{ "lo", 1, 1, 0 },    { "up0", 2, 8, 0 },     { "up1", 3, 4, 0 },  { "vm0", 4, 1, 0 },
	{ "vm1", 5, 1, 0 },   { "tap0", 6, 1, 0 },    { "tap1", 7, 1, 8 }, { "br0", 8, 1, 0 },
	{ "vnet0", 9, 1, 0 }, { "up2", 10, 1024, 0 },
};
#define NLINKS (sizeof(links) / sizeof(links[0]))

static const struct fake_link *link_by_name(const char *name)
{
	for (size_t i = 0; i < NLINKS; i++)
		if (!strcmp(links[i].name, name))
			return &links[i];
	return NULL;
}

static const struct fake_link *link_by_index(unsigned int ifindex)
{
	for (size_t i = 0; i < NLINKS; i++)
		if (links[i].ifindex == ifindex)
			return &links[i];
	return NULL;
}

unsigned int if_nametoindex(const char *name)
{
	const struct fake_link *l = link_by_name(name);

	if (!l)
		errno = ENODEV;
	return l ? l->ifindex : 0;
}

char *if_indextoname(unsigned int ifindex, char *name)
{
	const struct fake_link *l = link_by_index(ifindex);

	if (!l) {
		errno = ENXIO;
		return NULL;
	}
	snprintf(name, IF_NAMESIZE, "%s", l->name);
	return name;
}

struct if_nameindex *if_nameindex(void)
{
	struct if_nameindex *out = calloc(NLINKS + 1, sizeof(*out));

	for (size_t i = 0; out && i < NLINKS; i++) {
		out[i].if_index = links[i].ifindex;
		out[i].if_name = strdup(links[i].name);
	}
	return out;
}

void if_freenameindex(struct if_nameindex *ptr)
{
	for (struct if_nameindex *p = ptr; p && p->if_index; p++)
		free(p->if_name);
	free(ptr);
}

/* doctor's probe opens a packet socket: there is none to be had here. */
int socket(int domain, int type, int protocol)
{
	(void)domain;
	(void)type;
	(void)protocol;
	errno = EACCES;
	return -1;
}

/* The state file's durability is not what a fuzzer checks: a disk flush
 * per run would be most of its time. */
int fsync(int fd)
{
	(void)fd;
	return 0;
}

/* --- BPF maps and the store programs ------------------------------------- */

#define FD_BASE 100000
#define FDS_MAX 4096

struct fake_obj {
	bool used, is_prog, hash;
	__u32 key_limit, value_size, count;
	unsigned char *data;
	bool *present;
	int store_map;	 /* a store program: the map it writes */
	int store_stats; /* vmq_queue_store: the per-CPU copies too */
	bool port_store;
};

static struct fake_obj objs[FDS_MAX];

static struct fake_obj *obj_of(int fd)
{
	if (fd < FD_BASE || fd >= FD_BASE + FDS_MAX || !objs[fd - FD_BASE].used)
		return NULL;
	return &objs[fd - FD_BASE];
}

static int obj_new(void)
{
	for (int i = 0; i < FDS_MAX; i++)
		if (!objs[i].used) {
			memset(&objs[i], 0, sizeof(objs[i]));
			objs[i].used = true;
			return FD_BASE + i;
		}
	return -EMFILE;
}

static int map_new(__u32 key_limit, __u32 value_size, bool hash)
{
	int fd = obj_new();
	struct fake_obj *o;

	if (fd < 0)
		return fd;
	o = obj_of(fd);
	o->key_limit = key_limit;
	o->value_size = value_size;
	o->hash = hash;
	o->data = calloc(key_limit, value_size);
	o->present = calloc(key_limit, sizeof(bool));
	if (!o->data || !o->present) {
		free(o->data);
		free(o->present);
		o->used = false;
		return -ENOMEM;
	}
	for (__u32 i = 0; !hash && i < key_limit; i++)
		o->present[i] = true;
	return fd;
}

static int prog_new(int store_map, int store_stats, bool port_store)
{
	int fd = obj_new();

	if (fd >= 0) {
		obj_of(fd)->is_prog = true;
		obj_of(fd)->store_map = store_map;
		obj_of(fd)->store_stats = store_stats;
		obj_of(fd)->port_store = port_store;
	}
	return fd;
}

static void fd_close(int *fd)
{
	struct fake_obj *o = obj_of(*fd);

	if (o) {
		free(o->data);
		free(o->present);
		memset(o, 0, sizeof(*o));
	}
	*fd = -1;
}

static void fake_rx_reset(void);

void fake_kernel_reset(void)
{
	for (int i = 0; i < FDS_MAX; i++) {
		int fd = FD_BASE + i;

		fd_close(&fd);
	}
	fake_rx_reset();
}

static int fail(int err)
{
	errno = err;
	return -err;
}

int libbpf_num_possible_cpus(void)
{
	return 1;
}

libbpf_print_fn_t libbpf_set_print(libbpf_print_fn_t fn)
{
	(void)fn;
	return NULL;
}

int bpf_map_lookup_elem(int fd, const void *key, void *value)
{
	struct fake_obj *o = obj_of(fd);
	__u32 k;

	if (!o || o->is_prog)
		return fail(EBADF);
	memcpy(&k, key, sizeof(k));
	if (k >= o->key_limit || !o->present[k])
		return fail(ENOENT);
	memcpy(value, o->data + (size_t)k * o->value_size, o->value_size);
	return 0;
}

int bpf_map_update_elem(int fd, const void *key, const void *value, __u64 flags)
{
	struct fake_obj *o = obj_of(fd);
	__u32 k;

	if (!o || o->is_prog)
		return fail(EBADF);
	memcpy(&k, key, sizeof(k));
	if (k >= o->key_limit)
		return fail(o->hash ? E2BIG : EINVAL);
	if (flags == BPF_EXIST && !o->present[k])
		return fail(ENOENT);
	if (flags == BPF_NOEXIST && o->present[k])
		return fail(EEXIST);
	memcpy(o->data + (size_t)k * o->value_size, value, o->value_size);
	o->present[k] = true;
	return 0;
}

int bpf_map_delete_elem(int fd, const void *key)
{
	struct fake_obj *o = obj_of(fd);
	__u32 k;

	if (!o || o->is_prog)
		return fail(EBADF);
	if (!o->hash)
		return fail(EINVAL);
	memcpy(&k, key, sizeof(k));
	if (k >= o->key_limit || !o->present[k])
		return fail(ENOENT);
	o->present[k] = false;
	memset(o->data + (size_t)k * o->value_size, 0, o->value_size);
	return 0;
}

int bpf_map_get_next_key(int fd, const void *key, void *next)
{
	struct fake_obj *o = obj_of(fd);
	__u32 k = 0;

	if (!o || o->is_prog)
		return fail(EBADF);
	if (key) {
		memcpy(&k, key, sizeof(k));
		k = k >= o->key_limit ? 0 : k + 1;
	}
	for (; k < o->key_limit; k++)
		if (o->present[k]) {
			memcpy(next, &k, sizeof(k));
			return 0;
		}
	return fail(ENOENT);
}

int bpf_map_lookup_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values,
			 __u32 *count, const struct bpf_map_batch_opts *opts)
{
	struct fake_obj *o = obj_of(fd);
	__u32 pos = 0, n = 0;

	(void)opts;
	if (!o || o->is_prog)
		return fail(EBADF);
	if (in_batch)
		memcpy(&pos, in_batch, sizeof(pos));
	for (; pos < o->key_limit && n < *count; pos++) {
		if (!o->present[pos])
			continue;
		memcpy((char *)keys + (size_t)n * sizeof(__u32), &pos, sizeof(pos));
		memcpy((char *)values + (size_t)n * o->value_size,
		       o->data + (size_t)pos * o->value_size, o->value_size);
		n++;
	}
	*count = n;
	memcpy(out_batch, &pos, sizeof(pos));
	while (pos < o->key_limit && !o->present[pos])
		pos++;
	return pos >= o->key_limit ? fail(ENOENT) : 0;
}

/* vmq_queue_store: the entry and its copy (one CPU here), retval the
 * copies written or < 0 beyond the map; vmq_port_store: one slot. */
int bpf_prog_test_run_opts(int fd, struct bpf_test_run_opts *opts)
{
	struct fake_obj *o = obj_of(fd);
	__u32 key;
	int err;

	if (!o || !o->is_prog || !obj_of(o->store_map))
		return fail(EBADF);
	if (o->port_store) {
		struct vmq_port_store_args a;

		memcpy(&a, opts->ctx_in, sizeof(a));
		key = a.ifindex;
		err = bpf_map_update_elem(o->store_map, &key, &a.slot, BPF_ANY);
		opts->retval = err ? 1 : 0;
	} else {
		struct vmq_queue_store_args a;
		struct vmq_queue_stats st;

		memcpy(&a, opts->ctx_in, sizeof(a));
		key = a.id;
		err = bpf_map_update_elem(o->store_map, &key, &a.entry, BPF_ANY);
		if (!err && !bpf_map_lookup_elem(o->store_stats, &key, &st)) {
			st.entry = a.entry;
			err = bpf_map_update_elem(o->store_stats, &key, &st, BPF_ANY);
		}
		opts->retval = err ? (__u32)-ERANGE : 1;
	}
	return 0;
}

/* --- libvmq: devices ------------------------------------------------------ */

void vmq_dev_init(struct vmq_dev *dev)
{
	memset(dev, 0, sizeof(*dev));
	dev->prog_fd = dev->queues_fd = dev->groups_fd = dev->queue_stats_fd = -1;
	dev->fallbacks_fd = dev->dev_info_fd = dev->rodata_fd = -1;
	dev->queue_meta_fd = dev->xps_saved_fd = dev->port_queues_fd = -1;
	dev->store_fd = dev->port_store_fd = -1;
	dev->rx_prog_fd = dev->rx_filters_fd = dev->rx_queues_fd = dev->rx_queue_stats_fd = -1;
	dev->rx_outcomes_fd = dev->rx_cpus_fd = dev->rx_ports_fd = dev->rx_store_fd = -1;
}

void vmq_dev_close(struct vmq_dev *dev)
{
	int *fds[] = { &dev->prog_fd,	     &dev->queues_fd,	  &dev->groups_fd,
		       &dev->queue_stats_fd, &dev->fallbacks_fd,  &dev->dev_info_fd,
		       &dev->rodata_fd,	     &dev->queue_meta_fd, &dev->xps_saved_fd,
		       &dev->port_queues_fd, &dev->store_fd,	  &dev->port_store_fd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		fd_close(fds[i]);
}

int vmq_dev_load(struct vmq_dev *dev, const char *pin_root, const char *ifname,
		 const struct vmq_load_opts *opts)
{
	const struct fake_link *l = link_by_name(ifname);
	__u32 nr = opts && opts->nr_queues ? opts->nr_queues : FAKE_QUEUES_DEFAULT;
	__u32 mask = opts && opts->mark_mask ? opts->mark_mask : VMQ_MARK_MASK_DEFAULT;
	struct vmq_dev_info info = { .abi_version = VMQ_ABI_VERSION };

	vmq_dev_init(dev);
	if (!l)
		return -ENODEV;
	if (nr > VMQ_QUEUES_MAX || !vmq_mask_valid(mask))
		return -EINVAL;
	snprintf(dev->ifname, sizeof(dev->ifname), "%s", ifname);
	snprintf(dev->pin_dir, sizeof(dev->pin_dir), "%s/%s", pin_root, ifname);
	dev->ifindex = (int)l->ifindex;
	dev->nr_queues = nr;
	dev->cfg.mark_mask = mask;
	dev->cfg.mark_shift = vmq_mask_shift(mask);
	dev->cfg.abi_version = VMQ_ABI_VERSION;
	dev->queues_fd = map_new(nr, sizeof(struct vmq_queue_entry), false);
	dev->groups_fd = map_new(VMQ_GROUPS_MAX, sizeof(struct vmq_group_entry), false);
	dev->queue_stats_fd = map_new(nr, sizeof(struct vmq_queue_stats), false);
	dev->fallbacks_fd = map_new(VMQ_FALLBACK_SLOTS, sizeof(struct vmq_counter), false);
	dev->dev_info_fd = map_new(1, sizeof(struct vmq_dev_info), false);
	dev->rodata_fd = map_new(1, sizeof(struct vmq_config), false);
	dev->queue_meta_fd = map_new(nr, sizeof(struct vmq_queue_meta), true);
	dev->xps_saved_fd = map_new(VMQ_TXQ_MAX, sizeof(struct vmq_xps_saved), true);
	dev->port_queues_fd = map_new(VMQ_PORT_IFINDEX_MAX, sizeof(struct vmq_port_slot), false);
	dev->prog_fd = prog_new(-1, -1, false);
	dev->store_fd = prog_new(dev->queues_fd, dev->queue_stats_fd, false);
	dev->port_store_fd = prog_new(dev->port_queues_fd, -1, true);
	if (dev->queues_fd < 0 || dev->groups_fd < 0 || dev->queue_stats_fd < 0 ||
	    dev->fallbacks_fd < 0 || dev->dev_info_fd < 0 || dev->rodata_fd < 0 ||
	    dev->queue_meta_fd < 0 || dev->xps_saved_fd < 0 || dev->port_queues_fd < 0 ||
	    dev->prog_fd < 0 || dev->store_fd < 0 || dev->port_store_fd < 0) {
		vmq_dev_close(dev);
		return -ENOMEM;
	}
	info.ifindex = l->ifindex;
	return vmq_dev_info_write(dev, &info);
}

/* Nothing is ever pinned in the fake: every start is a clean host. */
int vmq_dev_adopt(struct vmq_dev *dev, const char *pin_root, const char *ifname)
{
	(void)pin_root;
	(void)ifname;
	vmq_dev_init(dev);
	return -ENOENT;
}

int vmq_dev_info_read(const struct vmq_dev *dev, struct vmq_dev_info *info)
{
	__u32 key = 0;

	return bpf_map_lookup_elem(dev->dev_info_fd, &key, info) ? -errno : 0;
}

int vmq_dev_info_write(const struct vmq_dev *dev, const struct vmq_dev_info *info)
{
	__u32 key = 0;

	return bpf_map_update_elem(dev->dev_info_fd, &key, info, BPF_ANY) ? -errno : 0;
}

static int dev_flags(const struct vmq_dev *dev, __u32 set, __u32 clear)
{
	struct vmq_dev_info info;
	int err = vmq_dev_info_read(dev, &info);

	if (err)
		return err;
	info.flags = (info.flags | set) & ~clear;
	return vmq_dev_info_write(dev, &info);
}

int vmq_dev_attach(struct vmq_dev *dev)
{
	return dev_flags(dev, VMQ_DEV_F_ATTACHED | VMQ_DEV_F_TCX, 0);
}

int vmq_dev_detach(struct vmq_dev *dev)
{
	return dev_flags(dev, 0, VMQ_DEV_F_ATTACHED);
}

int vmq_dev_unpin(struct vmq_dev *dev)
{
	(void)dev;
	return 0;
}

int vmq_dev_unpin_dir(const char *pin_dir)
{
	(void)pin_dir;
	return 0;
}

int vmq_dev_rename(struct vmq_dev *dev, const char *ifname)
{
	const struct fake_link *l = link_by_name(ifname);

	if (!l)
		return -ENODEV;
	snprintf(dev->ifname, sizeof(dev->ifname), "%s", ifname);
	dev->ifindex = (int)l->ifindex;
	return 0;
}

int vmq_dev_rollback(struct vmq_dev *dev)
{
	return dev_flags(dev, 0, VMQ_DEV_F_ATTACHED);
}

int vmq_dev_is_attached(const struct vmq_dev *dev, bool *attached)
{
	struct vmq_dev_info info;
	int err = vmq_dev_info_read(dev, &info);

	if (!err)
		*attached = info.flags & VMQ_DEV_F_ATTACHED;
	return err;
}

int vmq_dev_attach_first(struct vmq_dev *dev)
{
	(void)dev;
	return 0;
}

bool vmq_dev_is_tcx(const struct vmq_dev *dev)
{
	(void)dev;
	return true;
}

int vmq_dev_tcx_position(const struct vmq_dev *dev, __u32 *pos, __u32 *first_prog_id,
			 struct vmq_tcx_chain *chain)
{
	*pos = 0;
	*first_prog_id = (__u32)dev->prog_fd;
	if (chain) {
		memset(chain, 0, sizeof(*chain));
		chain->count = 1;
		chain->prog_ids[0] = (__u32)dev->prog_fd;
	}
	return 0;
}

int vmq_dev_upgrade(struct vmq_dev *dev, const struct vmq_upgrade_opts *opts,
		    struct vmq_upgrade_result *res)
{
	(void)opts;
	memset(res, 0, sizeof(*res));
	res->old_prog_id = res->new_prog_id = (__u32)dev->prog_fd;
	res->to_tcx = res->from_tcx = true;
	res->abi_found = VMQ_ABI_VERSION;
	return 0;
}

int vmq_dev_pinned_abi(const char *pin_root, const char *ifname, __u32 *abi)
{
	(void)pin_root;
	(void)ifname;
	(void)abi;
	return -ENOENT;
}

int vmq_abi_migration(__u32 from, size_t *steps)
{
	if (from != VMQ_ABI_VERSION)
		return -EPROTO;
	*steps = 0;
	return 0;
}

int vmq_dev_migrate(const char *pin_root, const char *ifname, const struct vmq_upgrade_opts *opts,
		    struct vmq_upgrade_result *res)
{
	(void)pin_root;
	(void)ifname;
	(void)opts;
	memset(res, 0, sizeof(*res));
	return -EPROTO;
}

int vmq_prog_id(int prog_fd, __u32 *id)
{
	if (!obj_of(prog_fd))
		return -EBADF;
	*id = (__u32)prog_fd;
	return 0;
}

void vmq_prog_name(__u32 id, char *name, size_t size)
{
	snprintf(name, size, "prog%u", id);
}

/* --- libvmq: hooks, netlink, sysfs ---------------------------------------- */

int vmq_bpffs_ensure(const char *dir, bool *mounted)
{
	(void)dir;
	*mounted = false;
	return 0;
}

int vmq_mkdir_p(const char *dir, unsigned int mode)
{
	(void)dir;
	(void)mode;
	return 0;
}

int vmq_tcx_query(int ifindex, enum vmq_tc_point point, struct vmq_tcx_chain *chain)
{
	(void)point;
	memset(chain, 0, sizeof(*chain));
	return link_by_index((unsigned int)ifindex) ? 0 : -ENODEV;
}

int vmq_tcx_link_get(const char *pin, struct vmq_tcx_link *link)
{
	(void)pin;
	memset(link, 0, sizeof(*link));
	return -ENOENT;
}

bool vmq_tc_is_ours(const struct tcmsg *tc)
{
	(void)tc;
	return false;
}

int vmq_nl_tc_dump(int type, int ifindex, __u32 parent,
		   int (*fn)(const struct nlmsghdr *nh, void *ctx), void *ctx)
{
	(void)type;
	(void)parent;
	(void)fn;
	(void)ctx;
	return link_by_index((unsigned int)ifindex) ? 0 : -ENODEV;
}

const struct rtattr *vmq_nl_attr(const struct nlmsghdr *nh, size_t hdrlen, unsigned short type)
{
	(void)nh;
	(void)hdrlen;
	(void)type;
	return NULL;
}

const struct rtattr *vmq_nl_nested(const struct rtattr *parent, unsigned short type)
{
	(void)parent;
	(void)type;
	return NULL;
}

int vmq_nl_link_master(int ifindex, int *master)
{
	const struct fake_link *l = link_by_index((unsigned int)ifindex);

	if (!l)
		return -ENODEV;
	*master = (int)l->master;
	return 0;
}

int vmq_netdev_txqs(const char *ifname, unsigned int *ntxqs)
{
	const struct fake_link *l = link_by_name(ifname);

	if (!l)
		return -ENODEV;
	*ntxqs = l->ntxqs;
	return 0;
}

int vmq_netdev_txq_kernel(const char *ifname, int ifindex, unsigned int ntxqs,
			  struct vmq_txq_kernel *out)
{
	(void)ifname;
	(void)ifindex;
	memset(out, 0, ntxqs * sizeof(*out));
	return 0;
}

int vmq_xps_read(const char *ifname, unsigned int txq, struct vmq_xps_saved *xps)
{
	(void)ifname;
	(void)txq;
	memset(xps, 0, sizeof(*xps));
	snprintf(xps->cpus, sizeof(xps->cpus), "0");
	snprintf(xps->rxqs, sizeof(xps->rxqs), "0");
	return 0;
}

bool vmq_xps_text_set(const char *text)
{
	for (; *text; text++)
		if (strchr("123456789abcdefABCDEF", *text))
			return true;
	return false;
}

int vmq_xps_clear(const struct vmq_dev *dev, unsigned int ntxqs, unsigned int *cleared)
{
	(void)dev;
	(void)ntxqs;
	*cleared = 0;
	return 0;
}

int vmq_xps_restore(const struct vmq_dev *dev)
{
	(void)dev;
	return 0;
}

int vmq_xps_cleared_count(const struct vmq_dev *dev, unsigned int *count)
{
	(void)dev;
	*count = 0;
	return 0;
}

/* --- libvmq: ports ---------------------------------------------------------- */

void vmq_ports_init(struct vmq_ports *ports)
{
	memset(ports, 0, sizeof(*ports));
	ports->prog_fd = ports->map_fd = -1;
}

int vmq_ports_open(struct vmq_ports *ports, const char *pin_root)
{
	snprintf(ports->pin_dir, sizeof(ports->pin_dir), "%s/%s", pin_root, VMQ_PORTS_PIN_DIR);
	ports->map_fd = map_new(VMQ_PORT_IFINDEX_MAX, sizeof(struct vmq_port_entry), true);
	ports->prog_fd = prog_new(-1, -1, false);
	if (ports->map_fd < 0 || ports->prog_fd < 0) {
		vmq_ports_close(ports);
		return -ENOMEM;
	}
	return 0;
}

void vmq_ports_close(struct vmq_ports *ports)
{
	fd_close(&ports->map_fd);
	fd_close(&ports->prog_fd);
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

int vmq_port_mode(__u32 ifindex, const struct vmq_dev *uplink, __u32 *why)
{
	const struct fake_link *l = link_by_index(ifindex);

	if (!l)
		return -ENODEV;
	if (ifindex >= VMQ_PORT_IFINDEX_MAX)
		*why = VMQ_PORT_WHY_BEYOND;
	else if (uplink->port_queues_fd < 0)
		*why = VMQ_PORT_WHY_NO_ARRAY;
	else
		*why = l->master ? VMQ_PORT_WHY_OTHER_BRIDGE : VMQ_PORT_WHY_ROUTED;
	return 0;
}

bool vmq_port_why_uplink(__u32 why)
{
	return why == VMQ_PORT_WHY_ROUTED || why == VMQ_PORT_WHY_SAME_BRIDGE;
}

static int slot_set(const struct vmq_dev *uplink, __u32 ifindex, __u16 flags, __u16 queue)
{
	struct vmq_port_slot slot = { .flags = flags, .queue_id = queue };

	if (!uplink || uplink->port_queues_fd < 0 || ifindex >= VMQ_PORT_IFINDEX_MAX)
		return 0;
	return bpf_map_update_elem(uplink->port_queues_fd, &ifindex, &slot, BPF_ANY) ? -errno : 0;
}

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

	if (queue_id >= uplink->nr_queues || queue_id > vmq_mask_ids(uplink->cfg.mark_mask) - 1)
		return -ERANGE;
	entry.flags = vmq_port_why_uplink(why) ? VMQ_PORT_F_UPLINK : VMQ_PORT_F_TCX;
	if (was_bound && (old.flags & VMQ_PORT_F_UPLINK) && old_uplink)
		slot_set(old_uplink, ifindex, 0, 0);
	if (bpf_map_update_elem(ports->map_fd, &ifindex, &entry, BPF_ANY))
		return -errno;
	if (entry.flags & VMQ_PORT_F_UPLINK)
		return slot_set(uplink, ifindex, VMQ_PORT_SLOT_F_BOUND, (__u16)queue_id);
	return 0;
}

int vmq_port_unbind(const struct vmq_ports *ports, __u32 ifindex, const struct vmq_dev *uplink)
{
	struct vmq_port_entry old;

	if (vmq_port_get(ports, ifindex, &old))
		return -ENOENT;
	if (old.flags & VMQ_PORT_F_UPLINK)
		slot_set(uplink, ifindex, 0, 0);
	return bpf_map_delete_elem(ports->map_fd, &ifindex) ? -errno : 0;
}

int vmq_port_for_each(const struct vmq_ports *ports,
		      int (*fn)(__u32 ifindex, const struct vmq_port_entry *entry, void *ctx),
		      void *ctx)
{
	__u32 key, *prev = NULL;
	int err;

	while (!bpf_map_get_next_key(ports->map_fd, prev, &key)) {
		struct vmq_port_entry e;

		prev = &key;
		if (vmq_port_get(ports, key, &e))
			continue;
		err = fn(key, &e, ctx);
		if (err)
			return err;
	}
	return 0;
}

int vmq_ports_upgrade(struct vmq_ports *ports, const char *obj_path,
		      struct vmq_ports_upgrade_result *res)
{
	(void)obj_path;
	memset(res, 0, sizeof(*res));
	res->old_prog_id = res->new_prog_id = (__u32)ports->prog_fd;
	return 0;
}

/* --- libvmq: the receive side, in memory ---------------------------------- */
/* A device's rx is "loaded" when rx_filters_fd is its ifindex; filters and
 * receive modes of every device live in two small tables, by ifindex. One
 * CPU (CPU 0) exists; every port a mode names does. */
#define FAKE_RX_ROWS 256

static struct fake_filter {
	bool used;
	int ifindex;
	struct vmq_rx_filter_key key;
	__u32 queue;
} fake_filters[FAKE_RX_ROWS];

static struct fake_mode {
	bool used;
	int ifindex;
	__u32 id;
	struct vmq_rx_queue_entry entry;
	__u32 port; /* devmap slot; 0: none */
} fake_modes[FAKE_RX_ROWS];

static bool fake_rx_attached[FAKE_RX_ROWS];

static void fake_rx_reset(void)
{
	memset(fake_filters, 0, sizeof(fake_filters));
	memset(fake_modes, 0, sizeof(fake_modes));
	memset(fake_rx_attached, 0, sizeof(fake_rx_attached));
}

static bool rx_loaded(const struct vmq_dev *dev)
{
	return dev->rx_filters_fd >= 0 && dev->rx_filters_fd == dev->ifindex;
}

int vmq_rx_load(struct vmq_dev *dev, const char *obj_path)
{
	(void)obj_path;
	if (dev->ifindex <= 0 || dev->ifindex >= FAKE_RX_ROWS)
		return -ENODEV;
	dev->rx_filters_fd = dev->ifindex;
	return 0;
}

int vmq_rx_attach(struct vmq_dev *dev, enum vmq_xdp_mode mode)
{
	int err = rx_loaded(dev) ? 0 : vmq_rx_load(dev, NULL);

	(void)mode;
	if (!err)
		fake_rx_attached[dev->ifindex] = true;
	return err;
}

int vmq_rx_detach(struct vmq_dev *dev)
{
	if (rx_loaded(dev))
		fake_rx_attached[dev->ifindex] = false;
	return 0;
}

int vmq_rx_status(const struct vmq_dev *dev, struct vmq_rx_status *st)
{
	memset(st, 0, sizeof(*st));
	if (!rx_loaded(dev))
		return 0;
	st->loaded = true;
	st->attached = fake_rx_attached[dev->ifindex];
	st->prog_id = st->found_prog_id = st->attached ? 1 : 0;
	for (int i = 0; i < FAKE_RX_ROWS; i++)
		st->filters += fake_filters[i].used && fake_filters[i].ifindex == dev->ifindex;
	return 0;
}

static struct fake_filter *filter_find(const struct vmq_dev *dev,
				       const struct vmq_rx_filter_key *key)
{
	for (int i = 0; i < FAKE_RX_ROWS; i++)
		if (fake_filters[i].used && fake_filters[i].ifindex == dev->ifindex &&
		    !memcmp(&fake_filters[i].key, key, sizeof(*key)))
			return &fake_filters[i];
	return NULL;
}

int vmq_rx_filter_add(const struct vmq_dev *dev, const struct vmq_rx_filter_key *key,
		      __u32 queue_id, __u32 *owner)
{
	struct fake_filter *f;

	if (!rx_loaded(dev))
		return -ENOTCONN;
	if (queue_id >= dev->nr_queues)
		return -ERANGE;
	f = filter_find(dev, key);
	if (f) {
		if (owner)
			*owner = f->queue;
		return f->queue == queue_id ? 0 : -EEXIST;
	}
	for (int i = 0; i < FAKE_RX_ROWS; i++)
		if (!fake_filters[i].used) {
			fake_filters[i] =
				(struct fake_filter){ true, dev->ifindex, *key, queue_id };
			return 0;
		}
	return -E2BIG;
}

int vmq_rx_filter_del(const struct vmq_dev *dev, const struct vmq_rx_filter_key *key)
{
	struct fake_filter *f;

	if (!rx_loaded(dev))
		return -ENOTCONN;
	f = filter_find(dev, key);
	if (!f)
		return -ENOENT;
	f->used = false;
	return 0;
}

int vmq_rx_filter_for_each(const struct vmq_dev *dev,
			   int (*fn)(const struct vmq_rx_filter_key *key,
				     const struct vmq_rx_filter *filter, void *ctx),
			   void *ctx)
{
	if (!rx_loaded(dev))
		return -ENOTCONN;
	for (int i = 0; i < FAKE_RX_ROWS; i++) {
		struct vmq_rx_filter f = { .queue_id = fake_filters[i].queue };
		int err;

		if (!fake_filters[i].used || fake_filters[i].ifindex != dev->ifindex)
			continue;
		err = fn(&fake_filters[i].key, &f, ctx);
		if (err)
			return err;
	}
	return 0;
}

int vmq_rx_filter_del_queue(const struct vmq_dev *dev, __u32 queue_id, unsigned int *deleted)
{
	*deleted = 0;
	if (!rx_loaded(dev))
		return -ENOTCONN;
	for (int i = 0; i < FAKE_RX_ROWS; i++)
		if (fake_filters[i].used && fake_filters[i].ifindex == dev->ifindex &&
		    fake_filters[i].queue == queue_id) {
			fake_filters[i].used = false;
			(*deleted)++;
		}
	return 0;
}

static struct fake_mode *mode_find(const struct vmq_dev *dev, __u32 id, bool create)
{
	struct fake_mode *free_row = NULL;

	for (int i = 0; i < FAKE_RX_ROWS; i++) {
		if (fake_modes[i].used && fake_modes[i].ifindex == dev->ifindex &&
		    fake_modes[i].id == id)
			return &fake_modes[i];
		if (!fake_modes[i].used && !free_row)
			free_row = &fake_modes[i];
	}
	if (!create || !free_row)
		return NULL;
	*free_row = (struct fake_mode){ .used = true, .ifindex = dev->ifindex, .id = id };
	return free_row;
}

int vmq_rx_mode_get(const struct vmq_dev *dev, __u32 queue_id, struct vmq_rx_queue_entry *entry,
		    __u32 *port_ifindex)
{
	struct fake_mode *m;

	if (!rx_loaded(dev))
		return -ENOTCONN;
	if (queue_id >= dev->nr_queues)
		return -ERANGE;
	m = mode_find(dev, queue_id, false);
	*entry = m ? m->entry : (struct vmq_rx_queue_entry){ 0 };
	if (port_ifindex)
		*port_ifindex = m ? m->port : 0;
	return 0;
}

int vmq_rx_mode_set(const struct vmq_dev *dev, __u32 queue_id, enum vmq_rx_mode mode, __u32 arg)
{
	struct fake_mode *m;

	if (!rx_loaded(dev))
		return -ENOTCONN;
	if (queue_id >= dev->nr_queues)
		return -ERANGE;
	if (mode >= VMQ_RX_MODES || (mode == VMQ_RX_MODE_CPU && arg != 0) ||
	    (mode == VMQ_RX_MODE_PORT && !arg))
		return mode == VMQ_RX_MODE_CPU ? -ENODEV : -EINVAL;
	m = mode_find(dev, queue_id, true);
	if (!m)
		return -ENOSPC;
	m->entry = (struct vmq_rx_queue_entry){ .mode = (__u16)mode,
						.cpu = mode == VMQ_RX_MODE_CPU ? (__u16)arg : 0 };
	m->port = mode == VMQ_RX_MODE_PORT ? arg : 0;
	return 0;
}

int vmq_rx_mode_clear(const struct vmq_dev *dev, __u32 queue_id)
{
	return vmq_rx_mode_set(dev, queue_id, VMQ_RX_MODE_PASS, 0);
}

int vmq_rx_port_drop(const struct vmq_dev *dev, __u32 queue_id)
{
	struct fake_mode *m;

	if (!rx_loaded(dev))
		return -ENOTCONN;
	m = mode_find(dev, queue_id, false);
	if (m)
		m->port = 0;
	return 0;
}

int vmq_rx_port_mode_unbound(const struct vmq_dev *dev, __u32 queue_id)
{
	int err = vmq_rx_mode_set(dev, queue_id, VMQ_RX_MODE_PASS, 0);
	struct fake_mode *m = err ? NULL : mode_find(dev, queue_id, false);

	if (m)
		m->entry.mode = VMQ_RX_MODE_PORT;
	return err;
}

int vmq_rx_cpu_entry(const struct vmq_dev *dev, __u32 cpu, __u32 *qsize)
{
	if (!rx_loaded(dev))
		return -ENOTCONN;
	if (cpu != 0)
		return -ENOENT;
	*qsize = VMQ_RX_CPU_QSIZE;
	return 0;
}

int vmq_cpu_online(__u32 cpu, bool *online)
{
	*online = cpu == 0;
	return 0;
}

int vmq_rx_queue_stats_read_all(const struct vmq_dev *dev, struct vmq_rx_queue_stats *sums)
{
	if (!rx_loaded(dev))
		return -ENOTCONN;
	memset(sums, 0, (size_t)dev->nr_queues * sizeof(*sums));
	return 0;
}

int vmq_rx_outcomes_read_all(const struct vmq_dev *dev, struct vmq_counter *sums)
{
	if (!rx_loaded(dev))
		return -ENOTCONN;
	memset(sums, 0, VMQ_RX_OUTCOMES * sizeof(*sums));
	return 0;
}

const char *vmq_rx_mode_name(__u32 mode)
{
	static const char *const names[VMQ_RX_MODES] = { "pass", "cpu", "port" };

	return mode < VMQ_RX_MODES ? names[mode] : NULL;
}

const char *vmq_rx_outcome_name(__u32 outcome)
{
	static const char *const names[VMQ_RX_OUTCOMES] = {
		"cpu",	     "port",	 "pass",      "unmatched", "broadcast",
		"multicast", "not_live", "no_target", "malformed",
	};

	return outcome < VMQ_RX_OUTCOMES ? names[outcome] : NULL;
}

int vmq_rx_upgrade(struct vmq_dev *dev, const char *obj_path, bool *changed)
{
	(void)obj_path;
	*changed = false;
	return rx_loaded(dev) ? 0 : -ENOTCONN;
}

int vmq_netdev_rxvlan(const char *ifname, bool *on)
{
	*on = false;
	return link_by_name(ifname) ? 0 : -ENODEV;
}
