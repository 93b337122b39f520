// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Upgrade of one uplink's data plane in place: a new vmq_tx (built in, or
 * from an object file) is loaded on the maps that are pinned, then swapped
 * in atomically, so no packet sees a half-done state:
 *
 *   tcx     bpf_link_update on the pinned link (BPF_F_REPLACE: only if it
 *           still runs the pinned program);
 *   clsact  moved to tcx when the kernel has it: a tcx link first (tcx
 *           runs before clsact, so from then on the new program steers),
 *           then vmq's clsact filter goes (a clsact qdisc vmq made goes
 *           at dev detach); or, kept on clsact, the filter's program
 *           replaced in place (BPF_TC_F_REPLACE).
 *
 * Every map of the new object that has a pin is reused (bpf_map__reuse_fd)
 * after checking its layout; one without a pin (a map a newer vmq_tx
 * brought) is created and pinned. The .rodata config is per instance: the
 * new one is a new map with the old one's mark mask and shift. The pins of
 * the program and of the new .rodata are replaced after the swap (pinned
 * at a temporary name, then renamed over the old pin: the hook holds the
 * program meanwhile).
 *
 * Maps of an older ABI version (vmq_dev_info.abi_version) go through the
 * migration steps first: each builds the maps whose layout changed from
 * the old ones, and the new program is loaded on those.
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

#define MIGRATE_MAPS_MAX 16

/* Maps a migration step built in the new layout, by pin name. */
struct migrate_ctx {
	const struct vmq_dev *dev; /* the old maps are its pins */
	size_t n;
	char names[MIGRATE_MAPS_MAX][BPF_OBJ_NAME_LEN];
	int fds[MIGRATE_MAPS_MAX];
};

/* One step from ABI version `from` to `to`: creates the maps whose layout
 * changed in the new layout, copies every old entry across (converted),
 * and hands each to migrate_put(). Maps it does not hand over are reused
 * from their pins as they are. A later step sees the earlier one's maps
 * through migrate_get(). */
struct migration {
	__u32 from;
	__u32 to;
	int (*step)(struct migrate_ctx *ctx);
	/* Run again right before the swap, the new program loaded: copies
	 * what the old program kept counting meanwhile. May be NULL. */
	int (*refresh)(struct migrate_ctx *ctx);
	/* A pin of the old layout that nothing uses any more: removed after
	 * the swap. May be NULL. */
	const char *retire;
};

static int v1_to_v2(struct migrate_ctx *ctx);
static int v1_to_v2_refresh(struct migrate_ctx *ctx);

/* Each step goes from the version before it. */
static const struct migration migrations[] = {
	{ 1, 2, v1_to_v2, v1_to_v2_refresh, "vmq_txq_stats" },
	{ 0, 0, NULL, NULL, NULL },
};

/* The current map `name`: one an earlier step built, or the pinned one.
 * A new fd (the caller closes it), or -errno. */
static int migrate_get(struct migrate_ctx *ctx, const char *name)
{
	char path[PATH_MAX];
	int fd, err;

	for (size_t i = 0; i < ctx->n; i++)
		if (!strcmp(ctx->names[i], name)) {
			fd = dup(ctx->fds[i]);
			return fd < 0 ? -errno : fd;
		}
	err = vmq_pin_path(path, sizeof(path), ctx->dev, name, true);
	if (err)
		return err;
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

/* Takes over fd as the new map `name`. */
static int migrate_put(struct migrate_ctx *ctx, const char *name, int fd)
{
	for (size_t i = 0; i < ctx->n; i++)
		if (!strcmp(ctx->names[i], name)) {
			close(ctx->fds[i]);
			ctx->fds[i] = fd;
			return 0;
		}
	if (ctx->n == MIGRATE_MAPS_MAX || strlen(name) >= BPF_OBJ_NAME_LEN)
		return -E2BIG;
	snprintf(ctx->names[ctx->n], BPF_OBJ_NAME_LEN, "%s", name);
	ctx->fds[ctx->n++] = fd;
	return 0;
}

/* The pinned (old) map `name`, whatever a step built: a new fd, or -errno. */
static int migrate_pinned(struct migrate_ctx *ctx, const char *name)
{
	char path[PATH_MAX];
	int fd, err = vmq_pin_path(path, sizeof(path), ctx->dev, name, true);

	if (err)
		return err;
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

/* The map a step built, by name: its fd (not a new one), or -1. */
static int migrate_built(const struct migrate_ctx *ctx, const char *name)
{
	for (size_t i = 0; i < ctx->n; i++)
		if (!strcmp(ctx->names[i], name))
			return ctx->fds[i];
	return -1;
}

struct convert_ctx {
	int new_fd;
	size_t old_size, new_size;
	void (*convert)(__u32 key, int cpu, const void *old, void *new, void *arg);
	void *arg;
	char *news; /* one batch of new values */
};

static int convert_batch(const __u32 *keys, __u32 count, const void *olds, int ncpus, void *arg)
{
	const struct convert_ctx *x = arg;

	memset(x->news, 0, (size_t)ncpus * count * x->new_size);
	for (__u32 i = 0; i < count; i++)
		for (int c = 0; c < ncpus; c++)
			x->convert(keys[i], c,
				   (const char *)olds + ((size_t)i * ncpus + c) * x->old_size,
				   x->news + ((size_t)i * ncpus + c) * x->new_size, x->arg);
	return bpf_map_update_batch(x->new_fd, keys, x->news, &count, NULL);
}

/*
 * Converts every key of a per-CPU array, a chunk of keys per batch
 * syscall: old_fd's values (old_size each, per possible CPU) become
 * new_fd's (new_size) through convert(key, cpu, old, new, arg).
 */
static int percpu_convert(int old_fd, int new_fd, __u32 n, size_t old_size, size_t new_size,
			  void (*convert)(__u32 key, int cpu, const void *old, void *new,
					  void *arg),
			  void *arg)
{
	enum { CHUNK = 256 };
	struct convert_ctx x = { new_fd, old_size, new_size, convert, arg, NULL };
	int ncpus = libbpf_num_possible_cpus();
	int err;

	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	x.news = calloc((size_t)ncpus * CHUNK, new_size);
	if (!x.news)
		return -ENOMEM;
	err = vmq_percpu_batch(old_fd, n, old_size, CHUNK, convert_batch, &x);
	free(x.news);
	return err;
}

/* The v1 layouts (include/vmq_abi.h of ABI version 1). */
struct v1_queue_stats {
	__u64 packets;
	__u64 bytes;
	__u64 fallback_packets;
	__u64 fallback_bytes;
};

static void v1_stats(__u32 key, int cpu, const void *old, void *new, void *arg)
{
	const struct vmq_queue_entry *truth = arg;
	const struct v1_queue_stats *o = old;
	struct vmq_queue_stats *q = new;

	(void)cpu;
	q->entry = truth[key];
	q->packets = o->packets;
	q->bytes = o->bytes;
	q->fallback_packets = o->fallback_packets;
	q->fallback_bytes = o->fallback_bytes;
}

static void v1_fallbacks(__u32 key, int cpu, const void *old, void *new, void *arg)
{
	(void)key;
	(void)cpu;
	(void)arg;
	memcpy(new, old, sizeof(struct vmq_counter));
}

/*
 * Copies v1's counters into v2's maps: per ID, with each CPU's copy of
 * the entry (from vmq_queues); per reason; and v1's kernel-choice slot of
 * vmq_txq_stats into vmq_fallbacks' new slot. The new maps are no
 * program's yet, so writing whole values loses nothing.
 */
static int v1_to_v2_copy(struct migrate_ctx *ctx)
{
	int ncpus = libbpf_num_possible_cpus();
	int qs_new = migrate_built(ctx, "vmq_queue_stats"),
	    fb_new = migrate_built(ctx, "vmq_fallbacks");
	int queues = migrate_get(ctx, "vmq_queues"),
	    qs_old = migrate_pinned(ctx, "vmq_queue_stats");
	int fb_old = migrate_pinned(ctx, "vmq_fallbacks");
	int txq_old = migrate_pinned(ctx, "vmq_txq_stats");
	struct vmq_queue_entry *truth = calloc(ctx->dev->nr_queues, sizeof(*truth));
	struct vmq_counter *kc = ncpus > 0 ? calloc((size_t)ncpus, sizeof(*kc)) : NULL;
	__u32 slot = VMQ_TXQ_SLOT_KERNEL, kslot = VMQ_COUNT_KERNEL_CHOICE;
	int err = 0;

	if (queues < 0 || qs_old < 0 || fb_old < 0 || txq_old < 0 || qs_new < 0 || fb_new < 0)
		err = -ENOENT;
	else if (!truth || !kc)
		err = -ENOMEM;
	for (__u32 id = 0; !err && id < ctx->dev->nr_queues; id++)
		if (bpf_map_lookup_elem(queues, &id, &truth[id]))
			err = -errno;
	if (!err)
		err = percpu_convert(qs_old, qs_new, ctx->dev->nr_queues,
				     sizeof(struct v1_queue_stats), sizeof(struct vmq_queue_stats),
				     v1_stats, truth);
	if (!err)
		err = percpu_convert(fb_old, fb_new, VMQ_FALLBACK_REASONS,
				     sizeof(struct vmq_counter), sizeof(struct vmq_counter),
				     v1_fallbacks, NULL);
	if (!err && bpf_map_lookup_elem(txq_old, &slot, kc))
		err = -errno;
	if (!err && bpf_map_update_elem(fb_new, &kslot, kc, BPF_ANY))
		err = -errno;
	free(truth);
	free(kc);
	if (queues >= 0)
		close(queues);
	if (qs_old >= 0)
		close(qs_old);
	if (fb_old >= 0)
		close(fb_old);
	if (txq_old >= 0)
		close(txq_old);
	return err;
}

/* v1 -> v2: vmq_queue_stats gains the entry's per-CPU copy (40 bytes),
 * vmq_fallbacks the kernel-choice slot; vmq_txq_stats is retired. */
static int v1_to_v2(struct migrate_ctx *ctx)
{
	int qs = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "vmq_queue_stats", sizeof(__u32),
				sizeof(struct vmq_queue_stats), ctx->dev->nr_queues, NULL);
	int fb = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "vmq_fallbacks", sizeof(__u32),
				sizeof(struct vmq_counter), VMQ_FALLBACK_SLOTS, NULL);
	int err = qs < 0 || fb < 0 ? -errno : 0;

	if (!err) {
		err = migrate_put(ctx, "vmq_queue_stats", qs);
		qs = -1;
	}
	if (!err) {
		err = migrate_put(ctx, "vmq_fallbacks", fb);
		fb = -1;
	}
	if (qs >= 0)
		close(qs);
	if (fb >= 0)
		close(fb);
	return err ? err : v1_to_v2_copy(ctx);
}

static int v1_to_v2_refresh(struct migrate_ctx *ctx)
{
	return v1_to_v2_copy(ctx);
}

static void migrate_ctx_free(struct migrate_ctx *ctx)
{
	for (size_t i = 0; i < ctx->n; i++)
		close(ctx->fds[i]);
	ctx->n = 0;
}

int vmq_abi_migration(__u32 from, size_t *steps)
{
	__u32 at = from;

	*steps = 0;
	while (at != VMQ_ABI_VERSION) {
		const struct migration *m = NULL;

		for (size_t i = 0; migrations[i].step; i++)
			if (migrations[i].from == at)
				m = &migrations[i];
		if (!m || m->to <= at)
			return -EPROTO;
		at = m->to;
		(*steps)++;
	}
	return 0;
}

static int run_migrations(struct migrate_ctx *ctx, __u32 from)
{
	__u32 at = from;
	int err = 0;

	while (!err && at != VMQ_ABI_VERSION) {
		const struct migration *m = NULL;

		for (size_t i = 0; migrations[i].step; i++)
			if (migrations[i].from == at)
				m = &migrations[i];
		if (!m)
			return -EPROTO;
		err = m->step(ctx);
		at = m->to;
	}
	return err;
}

/* What each step that ran does right before the swap, or after it. */
static int after_migrations(struct migrate_ctx *ctx, __u32 from, bool swapped)
{
	int err = 0;

	for (__u32 at = from; !err && at != VMQ_ABI_VERSION;) {
		const struct migration *m = NULL;
		char path[PATH_MAX];

		for (size_t i = 0; migrations[i].step; i++)
			if (migrations[i].from == at)
				m = &migrations[i];
		if (!m)
			return -EPROTO;
		if (!swapped && m->refresh)
			err = m->refresh(ctx);
		if (swapped && m->retire &&
		    !(err = vmq_pin_path(path, sizeof(path), ctx->dev, m->retire, true)) &&
		    unlink(path) && errno != ENOENT)
			err = -errno;
		at = m->to;
	}
	return err;
}

int vmq_prog_tag(int prog_fd, __u32 *id, __u8 tag[8])
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	*id = info.id;
	memcpy(tag, info.tag, sizeof(info.tag));
	return 0;
}

/* A pinned map fits the object's map: same type, sizes and flags, but for
 * BPF_F_RDONLY_PROG, which the kernel sets itself on cpumaps and devmaps
 * whatever the object asked for (a program writing a map it marks so fails
 * to load anyway). */
bool vmq_map_fits(int fd, const struct bpf_map *map)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return false;
	return info.type == bpf_map__type(map) && info.key_size == bpf_map__key_size(map) &&
	       info.value_size == bpf_map__value_size(map) &&
	       info.max_entries == bpf_map__max_entries(map) &&
	       (info.map_flags & ~BPF_F_RDONLY_PROG) ==
		       (bpf_map__map_flags(map) & ~BPF_F_RDONLY_PROG);
}

/*
 * Gives every map of the object its fd before load: one a migration step
 * built, else the pinned one (checked to fit), else none (libbpf creates
 * it: a map new in this object). The .rodata (and any other internal map)
 * is always new.
 */
static int reuse_maps(struct vmq_dev *dev, struct bpf_object *obj, struct migrate_ctx *ctx,
		      struct vmq_upgrade_result *res)
{
	struct bpf_map *map;
	char path[PATH_MAX];
	int err = 0;

	bpf_object__for_each_map(map, obj)
	{
		const char *name = vmq_tx_obj_pin_name(obj, map);
		int fd = -1;

		if (!name || bpf_map__is_internal(map))
			continue;
		for (size_t i = 0; i < ctx->n; i++)
			if (!strcmp(ctx->names[i], name))
				fd = dup(ctx->fds[i]);
		if (fd < 0) {
			err = vmq_pin_path(path, sizeof(path), dev, name, true);
			if (err)
				return err;
			fd = bpf_obj_get(path);
			if (fd < 0 && errno == ENOENT) {
				res->maps_created++;
				continue;
			}
			if (fd < 0)
				return -errno;
			if (!vmq_map_fits(fd, map)) {
				snprintf(res->bad_map, sizeof(res->bad_map), "%s", name);
				close(fd);
				return -EPROTO;
			}
		}
		err = bpf_map__reuse_fd(map, fd);
		close(fd);
		if (err)
			return err;
	}
	return 0;
}

/* Pins fd at path, replacing what is there: pinned at path_new, then
 * renamed over path (bpffs names take no '.'). */
int vmq_replace_pin(int fd, const char *path)
{
	char tmp[PATH_MAX];
	int n = snprintf(tmp, sizeof(tmp), "%s_new", path);

	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	if (unlink(tmp) && errno != ENOENT)
		return -errno;
	if (bpf_obj_pin(fd, tmp))
		return -errno;
	if (rename(tmp, path)) {
		int err = -errno;

		unlink(tmp);
		return err;
	}
	return 0;
}

/* After the swap: the program's pin, the new .rodata's, the migrated
 * maps' and the pins of maps new in the object. */
static int repin(struct vmq_dev *dev, const struct bpf_object *obj, const struct migrate_ctx *ctx,
		 int prog_fd)
{
	const struct bpf_map *map;
	char path[PATH_MAX];
	int err;

	err = vmq_pin_path(path, sizeof(path), dev, VMQ_PIN_PROG, false);
	if (!err)
		err = vmq_replace_pin(prog_fd, path);
	bpf_object__for_each_map(map, obj)
	{
		const char *name = vmq_tx_obj_pin_name(obj, map);
		bool migrated = false;

		if (err)
			break;
		if (!name)
			continue;
		for (size_t i = 0; i < ctx->n; i++)
			migrated |= !strcmp(ctx->names[i], name);
		err = vmq_pin_path(path, sizeof(path), dev, name, true);
		if (err)
			break;
		if (bpf_map__is_internal(map) || migrated)
			err = vmq_replace_pin(bpf_map__fd(map), path);
		else if (access(path, F_OK) && bpf_obj_pin(bpf_map__fd(map), path))
			err = -errno;
	}
	return err;
}

static int link_update(struct vmq_dev *dev, int prog_fd)
{
	DECLARE_LIBBPF_OPTS(bpf_link_update_opts, opts, .flags = BPF_F_REPLACE,
			    .old_prog_fd = dev->prog_fd);
	char path[PATH_MAX];
	int fd, err;

	err = vmq_pin_path(path, sizeof(path), dev, VMQ_PIN_LINK, false);
	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	/* Atomic: each packet runs the old program or the new one. */
	err = bpf_link_update(fd, prog_fd, &opts) ? -errno : 0;
	close(fd);
	return err;
}

/*
 * clsact to tcx: the link first, at the head of the chain (it runs before
 * clsact, so the new program steers from here on, and the old filter
 * after it sets the same queue); then vmq's filter goes. A clsact qdisc
 * vmq created stays (empty) until dev detach: deleting a qdisc deactivates
 * the device for a moment, which drops packets being sent (kernel notes).
 * *info gets the new mode. -EINVAL/-EOPNOTSUPP: no tcx here, nothing
 * changed.
 */
static int move_to_tcx(struct vmq_dev *dev, int prog_fd, struct vmq_dev_info *info,
		       struct vmq_upgrade_result *res)
{
	char path[PATH_MAX];
	int err;

	err = vmq_pin_path(path, sizeof(path), dev, VMQ_PIN_LINK, false);
	if (!err)
		err = vmq_tcx_attach(dev->ifindex, VMQ_TC_EGRESS, prog_fd, path, true);
	if (err)
		return err;
	info->flags |= VMQ_DEV_F_TCX;
	if (vmq_tc_detach(dev->ifindex, VMQ_TC_EGRESS, false))
		res->clsact_left = true;
	return 0;
}

/* Puts the loaded program on the hook dev's is on (or moves it to tcx). */
static int swap(struct vmq_dev *dev, const struct vmq_upgrade_opts *opts, int prog_fd,
		struct vmq_dev_info *info, struct vmq_upgrade_result *res)
{
	enum vmq_hook_mode env = vmq_hook_mode_env();
	bool created = false;
	int err;

	if (res->from_tcx)
		return link_update(dev, prog_fd);
	if (!opts->keep_hook && env != VMQ_HOOK_CLSACT) {
		err = move_to_tcx(dev, prog_fd, info, res);
		if (!err || env == VMQ_HOOK_TCX || (err != -EINVAL && err != -EOPNOTSUPP))
			return err;
	}
	/* Atomic per filter: same handle and priority, new program. */
	return vmq_tc_attach(dev->ifindex, VMQ_TC_EGRESS, prog_fd, &created);
}

int vmq_dev_upgrade(struct vmq_dev *dev, const struct vmq_upgrade_opts *opts,
		    struct vmq_upgrade_result *res)
{
	static const struct vmq_upgrade_opts defaults = { 0 };
	struct vmq_config cfg = dev->cfg;
	struct migrate_ctx ctx = { .dev = dev };
	const struct bpf_program *prog;
	struct bpf_object *obj = NULL;
	struct vmq_dev_info info;
	size_t steps = 0;
	int prog_fd, err;
	bool want_tcx;

	memset(res, 0, sizeof(*res));
	if (!opts)
		opts = &defaults;
	err = vmq_dev_info_read(dev, &info);
	if (err)
		return err;
	/* 0: never recorded (loaded by bpftool): the program's own version. */
	if (!info.abi_version)
		info.abi_version = dev->cfg.abi_version;
	res->abi_found = info.abi_version;
	err = vmq_abi_migration(info.abi_version, &steps);
	if (!err)
		err = vmq_prog_tag(dev->prog_fd, &res->old_prog_id, res->old_tag);
	if (err)
		return err;
	res->new_prog_id = res->old_prog_id;
	memcpy(res->new_tag, res->old_tag, sizeof(res->new_tag));
	/* Recorded as attached, or found on vmq's hook all the same. */
	res->attached = info.flags & VMQ_DEV_F_ATTACHED;
	if (!res->attached && dev->ifindex)
		vmq_dev_is_attached(dev, &res->attached);
	res->from_tcx = res->to_tcx = info.flags & VMQ_DEV_F_TCX;

	err = vmq_tx_obj_open(opts->obj_path, &obj);
	if (err)
		return err;
	cfg.abi_version = VMQ_ABI_VERSION;
	err = vmq_tx_obj_set_cfg(obj, &cfg);
	/* Maps new in this object that are sized like the queues. */
	if (!err)
		err = bpf_map__set_max_entries(bpf_object__find_map_by_name(obj, "vmq_queues"),
					       dev->nr_queues);
	if (!err)
		err = bpf_map__set_max_entries(bpf_object__find_map_by_name(obj, "vmq_queue_stats"),
					       dev->nr_queues);
	if (!err && steps)
		err = run_migrations(&ctx, info.abi_version);
	res->maps_migrated = (unsigned int)ctx.n;
	if (!err)
		err = reuse_maps(dev, obj, &ctx, res);
	if (!err)
		err = bpf_object__load(obj);
	if (err)
		goto out;
	prog = bpf_object__find_program_by_name(obj, VMQ_PIN_PROG);
	prog_fd = bpf_program__fd(prog);
	err = vmq_prog_tag(prog_fd, &res->new_prog_id, res->new_tag);
	if (err)
		goto out;
	res->prog_changed = memcmp(res->old_tag, res->new_tag, sizeof(res->new_tag)) != 0;
	want_tcx = res->from_tcx ||
		   (res->attached && !opts->keep_hook && vmq_hook_mode_env() != VMQ_HOOK_CLSACT);
	if (!res->prog_changed && !steps && !res->maps_created &&
	    (!res->attached || want_tcx == res->from_tcx)) {
		/* Already current: the loaded copy goes, nothing was touched. */
		res->new_prog_id = res->old_prog_id;
		goto out;
	}

	/* The old program counted on meanwhile (the load takes a while):
	 * its latest counters, just before it stops. */
	if (steps) {
		err = after_migrations(&ctx, info.abi_version, false);
		if (err)
			goto out;
	}
	if (res->attached) {
		err = swap(dev, opts, prog_fd, &info, res);
		if (err)
			goto out;
	}
	res->changed = true;
	res->to_tcx = info.flags & VMQ_DEV_F_TCX;
	err = repin(dev, obj, &ctx, prog_fd);
	if (!err && steps)
		err = after_migrations(&ctx, info.abi_version, true);
	if (!err) {
		info.abi_version = VMQ_ABI_VERSION;
		err = vmq_dev_info_write(dev, &info);
	}
	if (!err)
		err = vmq_dev_take_fds(dev, obj);
	if (!err) {
		dev->cfg = cfg;
		/* The writers share the queues and port-slot maps, which a
		 * migration may replace or the new program add. */
		if (dev->store_fd >= 0)
			close(dev->store_fd);
		if (dev->port_store_fd >= 0)
			close(dev->port_store_fd);
		dev->store_fd = dev->port_store_fd = -1;
		err = vmq_dev_load_store_prog(dev);
	}
out:
	migrate_ctx_free(&ctx);
	bpf_object__close(obj);
	return err;
}

int vmq_dev_pinned_abi(const char *pin_root, const char *ifname, __u32 *abi)
{
	struct vmq_dev dev;
	struct vmq_dev_info info;
	char path[PATH_MAX];
	int err;

	vmq_dev_init(&dev);
	err = vmq_dev_set_names(&dev, pin_root, ifname);
	if (!err)
		err = vmq_pin_path(path, sizeof(path), &dev, "vmq_dev_info", true);
	if (err)
		return err;
	dev.dev_info_fd = bpf_obj_get(path);
	if (dev.dev_info_fd < 0)
		return -errno;
	/* abi_version stays the first field of vmq_dev_info in every version. */
	err = vmq_dev_info_read(&dev, &info);
	if (!err)
		*abi = info.abi_version;
	/* 0: never recorded (loaded by bpftool): the program's own version,
	 * in the config that leads its .rodata. */
	if (!err && !*abi)
		err = vmq_pin_path(path, sizeof(path), &dev, VMQ_PIN_RODATA, true);
	if (!err && !*abi) {
		struct bpf_map_info minfo = {};
		__u32 len = sizeof(minfo), zero = 0;
		char *value = NULL;

		dev.rodata_fd = bpf_obj_get(path);
		if (dev.rodata_fd < 0 || bpf_obj_get_info_by_fd(dev.rodata_fd, &minfo, &len))
			err = -errno;
		if (!err && minfo.value_size < sizeof(struct vmq_config))
			err = -EPROTO;
		if (!err && !(value = calloc(1, minfo.value_size)))
			err = -ENOMEM;
		if (!err && bpf_map_lookup_elem(dev.rodata_fd, &zero, value))
			err = -errno;
		if (!err)
			*abi = ((const struct vmq_config *)(const void *)value)->abi_version;
		free(value);
	}
	vmq_dev_close(&dev);
	return err;
}

/*
 * Opens what every ABI version pins alike (program, vmq_dev_info, the
 * .rodata config, vmq_queues for its size) and upgrades from there; the
 * other maps are found by the migration steps and reuse_maps.
 */
int vmq_dev_migrate(const char *pin_root, const char *ifname, const struct vmq_upgrade_opts *opts,
		    struct vmq_upgrade_result *res)
{
	struct bpf_map_info minfo = {};
	__u32 len = sizeof(minfo), zero = 0;
	struct vmq_config cfg;
	char path[PATH_MAX];
	struct vmq_dev dev;
	int queues, err;

	memset(res, 0, sizeof(*res));
	vmq_dev_init(&dev);
	err = vmq_dev_set_names(&dev, pin_root, ifname);
	if (!err)
		err = vmq_pin_path(path, sizeof(path), &dev, VMQ_PIN_PROG, false);
	if (!err && (dev.prog_fd = bpf_obj_get(path)) < 0)
		err = -errno;
	if (!err)
		err = vmq_pin_path(path, sizeof(path), &dev, "vmq_dev_info", true);
	if (!err && (dev.dev_info_fd = bpf_obj_get(path)) < 0)
		err = -errno;
	if (!err)
		err = vmq_pin_path(path, sizeof(path), &dev, VMQ_PIN_RODATA, true);
	if (!err && (dev.rodata_fd = bpf_obj_get(path)) < 0)
		err = -errno;
	/* The config leads the .rodata in every version. */
	if (!err && bpf_obj_get_info_by_fd(dev.rodata_fd, &minfo, &len))
		err = -errno;
	if (!err && minfo.value_size < sizeof(cfg))
		err = -EPROTO;
	if (!err) {
		char *value = calloc(1, minfo.value_size);

		if (!value)
			err = -ENOMEM;
		else if (bpf_map_lookup_elem(dev.rodata_fd, &zero, value))
			err = -errno;
		if (!err) {
			memcpy(&cfg, value, sizeof(cfg));
			dev.cfg = cfg;
		}
		free(value);
	}
	if (!err)
		err = vmq_pin_path(path, sizeof(path), &dev, "vmq_queues", true);
	if (!err) {
		queues = bpf_obj_get(path);
		memset(&minfo, 0, sizeof(minfo));
		len = sizeof(minfo);
		if (queues < 0 || bpf_obj_get_info_by_fd(queues, &minfo, &len))
			err = -errno;
		if (queues >= 0)
			close(queues);
		dev.nr_queues = minfo.max_entries;
	}
	if (!err)
		err = vmq_dev_upgrade(&dev, opts, res);
	vmq_dev_close(&dev);
	return err;
}
