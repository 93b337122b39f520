// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* bpffs.c, tc.c, dev.c and maps.c against the kernel, in a sandbox. */
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "vmq_test.h"
#include "libvmq.h"
#include "dev_priv.h"

static const char *root;

static int setup(void **state)
{
	(void)state;
	root = vmq_test_sandbox();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vmq_test_sandbox_done();
	return 0;
}

static bool exists(const char *fmt, const char *a, const char *b)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), fmt, a, b);
	return access(path, F_OK) == 0;
}

static void test_bpffs_mounts_on_plain_dir(void **state)
{
	char dir[] = "/tmp/vmq-test-plain-XXXXXX";
	char sub[PATH_MAX];
	bool mounted = true;

	(void)state;
	assert_true(vmq_is_bpffs(root));
	assert_non_null(mkdtemp(dir));
	assert_false(vmq_is_bpffs(dir));
	assert_int_equal(vmq_bpffs_ensure(dir, &mounted), 0);
	assert_true(mounted);
	assert_true(vmq_is_bpffs(dir));
	/* Already a bpffs: nothing mounted twice. */
	assert_int_equal(vmq_bpffs_ensure(dir, &mounted), 0);
	assert_false(mounted);
	/* Below a bpffs: directories only. */
	snprintf(sub, sizeof(sub), "%s/a/b", dir);
	assert_int_equal(vmq_bpffs_ensure(sub, &mounted), 0);
	assert_false(mounted);
	assert_true(vmq_is_bpffs(sub));
	assert_int_equal(umount2(dir, MNT_DETACH), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void test_load_pins_and_adopt_reads_config(void **state)
{
	struct vmq_load_opts opts = { .nr_queues = 128, .mark_mask = 0x00ff0000 };
	struct vmq_queue_entry e = { .state = VMQ_QUEUE_TXQ, .target = 5 };
	struct vmq_queue_entry got = {};
	struct vmq_dev dev, adopted;

	(void)state;
	assert_int_equal(vmq_dev_load(&dev, root, "lo", &opts), 0);
	assert_int_equal(dev.nr_queues, 128);
	assert_int_equal(dev.cfg.mark_mask, 0x00ff0000);
	assert_int_equal(dev.cfg.mark_shift, 16);
	assert_true(exists("%s/lo/%s", root, VMQ_PIN_PROG));
	assert_true(exists("%s/lo/maps/%s", root, "vmq_queues"));
	assert_true(exists("%s/lo/maps/%s", root, "vmq_tx_rodata"));
	assert_int_equal(vmq_queue_write(&dev, 9, e), 0);

	/* A second load over live pins would orphan them: refused. */
	assert_int_equal(vmq_dev_load(&adopted, root, "lo", &opts), -EEXIST);

	vmq_dev_close(&dev);
	assert_int_equal(vmq_dev_adopt(&adopted, root, "lo"), 0);
	assert_int_equal(adopted.nr_queues, 128);
	assert_int_equal(adopted.cfg.mark_mask, 0x00ff0000);
	assert_int_equal(adopted.cfg.mark_shift, 16);
	assert_int_equal(vmq_queue_read(&adopted, 9, &got), 0);
	assert_int_equal(got.state, VMQ_QUEUE_TXQ);
	assert_int_equal(got.target, 5);

	assert_int_equal(vmq_dev_unpin(&adopted), 0);
	assert_false(exists("%s/%s", root, "lo"));
	vmq_dev_close(&adopted);
}

static void test_load_rejects_bad_sizes_and_devices(void **state)
{
	struct vmq_load_opts big = { .nr_queues = VMQ_QUEUES_MAX + 1 };
	struct vmq_dev dev;

	(void)state;
	assert_int_equal(vmq_dev_load(&dev, root, "lo", &big), -ERANGE);
	assert_int_equal(vmq_dev_load(&dev, root, "nosuchdev0", NULL), -ENODEV);
	assert_int_equal(vmq_dev_adopt(&dev, root, "lo"), -ENOENT);
}

static void test_entries_round_trip_and_bounds(void **state)
{
	struct vmq_queue_entry e = { .state = VMQ_QUEUE_GROUP, .target = 3 };
	__u16 txqs[] = { 2, 4, 6 };
	__u16 too_far[] = { VMQ_TXQ_MAX };
	struct vmq_group_entry g;
	struct vmq_dev dev;

	(void)state;
	assert_int_equal(vmq_dev_load(&dev, root, "lo", NULL), 0);
	assert_int_equal(dev.nr_queues, VMQ_QUEUES_DEFAULT);
	assert_int_equal(dev.cfg.mark_mask, VMQ_MARK_MASK_DEFAULT);
	assert_int_equal(vmq_queue_write(&dev, VMQ_QUEUES_DEFAULT - 1, e), 0);
	assert_int_equal(vmq_queue_write(&dev, VMQ_QUEUES_DEFAULT, e), -ERANGE);
	assert_int_equal(vmq_queue_read(&dev, VMQ_QUEUES_DEFAULT, &e), -ERANGE);

	assert_int_equal(vmq_group_write(&dev, 3, txqs, 3), 0);
	assert_int_equal(vmq_group_read(&dev, 3, &g), 0);
	assert_int_equal(g.ntxqs, 3);
	assert_memory_equal(g.txqs, txqs, sizeof(txqs));
	/* Every slot holds a member, each member a fair share of slots. */
	for (unsigned int i = 0; i < VMQ_GROUP_SLOTS; i++)
		assert_int_equal(g.slots[i], txqs[i % 3]);
	assert_int_equal(vmq_group_write(&dev, VMQ_GROUPS_MAX, txqs, 3), -ERANGE);
	assert_int_equal(vmq_group_write(&dev, 4, txqs, 0), -EINVAL);
	assert_int_equal(vmq_group_write(&dev, 4, too_far, 1), -ERANGE);
	assert_int_equal(vmq_group_clear(&dev, 3), 0);
	assert_int_equal(vmq_group_read(&dev, 3, &g), 0);
	assert_int_equal(g.ntxqs, 0);

	assert_int_equal(vmq_dev_unpin(&dev), 0);
	vmq_dev_close(&dev);
}

/* Metadata: update keeps an entry only while it says something; the walk
 * sees every key once, then -ENOENT. */
static void test_meta_update_and_walk(void **state)
{
	struct vmq_queue_meta meta = { .vm = "vm1" }, none = {};
	unsigned int seen = 0;
	struct vmq_dev dev;
	__u32 id;
	int err;

	(void)state;
	assert_int_equal(vmq_dev_load(&dev, root, "lo", NULL), 0);
	assert_int_equal(vmq_queue_meta_next(&dev, NULL, &id), -ENOENT);
	assert_int_equal(vmq_queue_meta_update(&dev, 5, &meta), 0);
	assert_int_equal(vmq_queue_meta_update(&dev, 9, &meta), 0);
	assert_int_equal(vmq_queue_meta_update(&dev, 7, &meta), 0);
	assert_int_equal(vmq_queue_meta_update(&dev, 7, &none), 0);
	assert_int_equal(vmq_queue_meta_read(&dev, 7, &meta), -ENOENT);
	for (err = vmq_queue_meta_next(&dev, NULL, &id); !err;
	     err = vmq_queue_meta_next(&dev, &id, &id)) {
		assert_true(id == 5 || id == 9);
		assert_false(seen & (1u << id));
		seen |= 1u << id;
	}
	assert_int_equal(err, -ENOENT);
	assert_int_equal(seen, (1u << 5) | (1u << 9));
	assert_int_equal(vmq_dev_unpin(&dev), 0);
	vmq_dev_close(&dev);
}

static bool hook_exists(int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	int err = bpf_tc_hook_create(&hook);

	if (!err) { /* it was absent: undo the probe */
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
	return err == -EEXIST;
}

/* tcx (the default on 6.6+): a pinned link at the head of the chain, no
 * clsact; adopted by path; detach takes link and pin away. */
static void test_tcx_attach_adopt_detach(void **state)
{
	struct vmq_tcx_chain chain;
	struct vmq_tcx_link link;
	struct vmq_dev_info info;
	struct vmq_dev dev;
	char pin[PATH_MAX];
	bool attached = false;
	__u32 ours = 0, pos = 9, first = 0;

	(void)state;
	assert_int_equal(vmq_dev_load(&dev, root, "lo", NULL), 0);
	assert_int_equal(vmq_dev_attach(&dev), 0);
	assert_int_equal(vmq_dev_info_read(&dev, &info), 0);
	assert_int_equal(info.flags, VMQ_DEV_F_ATTACHED | VMQ_DEV_F_TCX);
	assert_false(hook_exists(dev.ifindex));
	snprintf(pin, sizeof(pin), "%s/lo/%s", root, VMQ_PIN_LINK);
	assert_int_equal(vmq_tcx_link_get(pin, &link), 0);
	assert_int_equal(vmq_prog_id(dev.prog_fd, &ours), 0);
	assert_int_equal(link.prog_id, ours);
	assert_int_equal(link.ifindex, dev.ifindex);
	assert_false(link.ingress);
	assert_int_equal(vmq_dev_tcx_position(&dev, &pos, &first, &chain), 0);
	assert_int_equal(pos, 0);
	assert_int_equal(first, ours);
	assert_int_equal(chain.count, 1);
	/* Attaching again keeps the link (its program swapped in place). */
	assert_int_equal(vmq_dev_attach(&dev), 0);
	assert_int_equal(vmq_tcx_link_get(pin, &link), 0);
	assert_int_equal(vmq_tcx_query(dev.ifindex, VMQ_TC_EGRESS, &chain), 0);
	assert_int_equal(chain.count, 1);
	assert_int_equal(chain.link_ids[0], link.id);
	/* Moving to the head when already there leaves one link. */
	assert_int_equal(vmq_dev_attach_first(&dev), 0);
	assert_int_equal(vmq_tcx_query(dev.ifindex, VMQ_TC_EGRESS, &chain), 0);
	assert_int_equal(chain.count, 1);
	assert_false(hook_exists(dev.ifindex));

	vmq_dev_close(&dev);
	assert_int_equal(vmq_dev_adopt(&dev, root, "lo"), 0);
	assert_int_equal(vmq_dev_is_attached(&dev, &attached), 0);
	assert_true(attached);
	assert_int_equal(vmq_dev_detach(&dev), 0);
	assert_int_equal(vmq_dev_is_attached(&dev, &attached), 0);
	assert_false(attached);
	assert_int_equal(vmq_tcx_query(dev.ifindex, VMQ_TC_EGRESS, &chain), 0);
	assert_int_equal(chain.count, 0);
	assert_int_equal(access(pin, F_OK), -1);
	assert_int_equal(vmq_dev_info_read(&dev, &info), 0);
	assert_int_equal(info.flags, 0);
	assert_int_equal(vmq_dev_unpin(&dev), 0);
	vmq_dev_close(&dev);
}

/* The clsact tests force the fallback, as VMQ_TC_MODE=clsact does. */
static void test_attach_detach_removes_what_it_created(void **state)
{
	struct vmq_dev_info info;
	struct vmq_dev dev;
	bool attached = true;

	(void)state;
	setenv("VMQ_TC_MODE", "clsact", 1);
	assert_int_equal(vmq_dev_load(&dev, root, "lo", NULL), 0);
	assert_false(hook_exists(dev.ifindex));
	assert_int_equal(vmq_dev_is_attached(&dev, &attached), 0);
	assert_false(attached);

	assert_int_equal(vmq_dev_attach(&dev), 0);
	assert_int_equal(vmq_dev_is_attached(&dev, &attached), 0);
	assert_true(attached);
	assert_int_equal(vmq_dev_info_read(&dev, &info), 0);
	assert_int_equal(info.flags, VMQ_DEV_F_HOOK_CREATED | VMQ_DEV_F_ATTACHED);
	/* Attaching again replaces in place and keeps ownership. */
	assert_int_equal(vmq_dev_attach(&dev), 0);
	assert_int_equal(vmq_dev_info_read(&dev, &info), 0);
	assert_true(info.flags & VMQ_DEV_F_HOOK_CREATED);

	assert_int_equal(vmq_dev_detach(&dev), 0);
	assert_int_equal(vmq_dev_is_attached(&dev, &attached), 0);
	assert_false(attached);
	assert_false(hook_exists(dev.ifindex));
	assert_int_equal(vmq_dev_unpin(&dev), 0);
	vmq_dev_close(&dev);
}

static void test_detach_keeps_a_clsact_it_found(void **state)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = 1, .attach_point = BPF_TC_EGRESS);
	struct vmq_dev_info info;
	struct vmq_dev dev;
	bool attached = true;

	(void)state;
	setenv("VMQ_TC_MODE", "clsact", 1);
	assert_int_equal(vmq_dev_load(&dev, root, "lo", NULL), 0);
	hook.ifindex = dev.ifindex;
	assert_int_equal(bpf_tc_hook_create(&hook), 0);
	assert_int_equal(vmq_dev_attach(&dev), 0);
	assert_int_equal(vmq_dev_info_read(&dev, &info), 0);
	assert_int_equal(info.flags, VMQ_DEV_F_ATTACHED);

	/* A restarted control plane knows what it created from the pins. */
	vmq_dev_close(&dev);
	assert_int_equal(vmq_dev_adopt(&dev, root, "lo"), 0);
	assert_int_equal(vmq_dev_is_attached(&dev, &attached), 0);
	assert_true(attached);
	assert_int_equal(vmq_dev_detach(&dev), 0);
	assert_true(hook_exists(dev.ifindex));

	hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	assert_int_equal(bpf_tc_hook_destroy(&hook), 0);
	assert_int_equal(vmq_dev_unpin(&dev), 0);
	vmq_dev_close(&dev);
}

static void test_detach_keeps_a_clsact_others_joined(void **state)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	unsigned int others = 99;
	struct vmq_dev dev;

	(void)state;
	setenv("VMQ_TC_MODE", "clsact", 1);
	assert_int_equal(vmq_dev_load(&dev, root, "lo", NULL), 0);
	assert_int_equal(vmq_dev_attach(&dev), 0);
	assert_int_equal(vmq_tc_foreign_filters(dev.ifindex, VMQ_TC_EGRESS, &others), 0);
	assert_int_equal(others, 0);
	/* Someone adds a filter to the clsact vmq created. */
	assert_int_equal(
		system("tc filter add dev lo ingress pref 10 protocol all u32 match u32 0 0"), 0);
	/* u32 dumps its hash table and its key: two entries, one filter. */
	assert_int_equal(vmq_tc_foreign_filters(dev.ifindex, VMQ_TC_EGRESS, &others), 0);
	assert_int_equal(others, 2);
	assert_int_equal(vmq_dev_detach(&dev), 0);
	/* vmq's filter went; the qdisc stayed for the other one. */
	assert_true(hook_exists(dev.ifindex));
	assert_int_equal(vmq_tc_foreign_filters(dev.ifindex, VMQ_TC_EGRESS, &others), 0);
	assert_int_equal(others, 2);
	hook.ifindex = dev.ifindex;
	assert_int_equal(bpf_tc_hook_destroy(&hook), 0);
	assert_int_equal(vmq_dev_unpin(&dev), 0);
	vmq_dev_close(&dev);
}

/* The variant build (make check builds it): vmq_tx with another tag. */
static const char *variant_object(char *buf, size_t size)
{
	const char *build = getenv("BUILD");

	snprintf(buf, size, "%s/tests/vmq_tx_variant.bpf.o", build ? build : "build");
	return access(buf, R_OK) ? NULL : buf;
}

static void test_upgrade_swaps_link_keeps_maps_pins_new_ones(void **state)
{
	struct vmq_load_opts opts = { .nr_queues = 128, .mark_mask = 0x00ff0000 };
	struct vmq_queue_entry e = { .state = VMQ_QUEUE_TXQ, .target = 5 }, got = {};
	struct vmq_upgrade_opts uopts = { 0 };
	struct vmq_upgrade_result res;
	struct vmq_tcx_link link0, link1;
	char obj[PATH_MAX], pin[PATH_MAX], maps[PATH_MAX];
	struct vmq_dev dev;
	__u32 id = 0;

	(void)state;
	unsetenv("VMQ_TC_MODE");
	if (!variant_object(obj, sizeof(obj)))
		skip();
	assert_int_equal(vmq_dev_load(&dev, root, "lo", &opts), 0);
	assert_int_equal(vmq_dev_attach(&dev), 0);
	assert_int_equal(vmq_queue_write(&dev, 9, e), 0);
	snprintf(pin, sizeof(pin), "%s/lo/%s", root, VMQ_PIN_LINK);
	assert_int_equal(vmq_tcx_link_get(pin, &link0), 0);

	/* The same build: nothing to do. */
	assert_int_equal(vmq_dev_upgrade(&dev, NULL, &res), 0);
	assert_false(res.changed);
	assert_false(res.prog_changed);
	assert_int_equal(res.new_prog_id, res.old_prog_id);

	/* A map the pins lack (as one a newer object brings) is created, pinned. */
	snprintf(maps, sizeof(maps), "%s/lo/maps/vmq_fallbacks", root);
	assert_int_equal(unlink(maps), 0);
	uopts.obj_path = obj;
	assert_int_equal(vmq_dev_upgrade(&dev, &uopts, &res), 0);
	assert_true(res.changed);
	assert_true(res.prog_changed);
	assert_true(res.attached);
	assert_true(res.from_tcx);
	assert_true(res.to_tcx);
	assert_int_equal(res.maps_created, 1);
	assert_int_not_equal(res.new_prog_id, res.old_prog_id);
	assert_int_equal(access(maps, F_OK), 0);
	/* Same link, new program, which is the pinned one and dev's. */
	assert_int_equal(vmq_tcx_link_get(pin, &link1), 0);
	assert_int_equal(link1.id, link0.id);
	assert_int_equal(link1.prog_id, res.new_prog_id);
	assert_int_equal(vmq_prog_id(dev.prog_fd, &id), 0);
	assert_int_equal(id, res.new_prog_id);
	assert_int_equal(vmq_queue_read(&dev, 9, &got), 0);
	assert_memory_equal(&got, &e, sizeof(e));

	/* Adopted afresh: the entry, and the config carried to the new .rodata. */
	vmq_dev_close(&dev);
	assert_int_equal(vmq_dev_adopt(&dev, root, "lo"), 0);
	assert_int_equal(dev.cfg.mark_mask, 0x00ff0000);
	assert_int_equal(dev.cfg.mark_shift, 16);
	assert_int_equal(dev.nr_queues, 128);
	assert_int_equal(vmq_prog_id(dev.prog_fd, &id), 0);
	assert_int_equal(id, res.new_prog_id);
	assert_int_equal(vmq_queue_read(&dev, 9, &got), 0);
	assert_memory_equal(&got, &e, sizeof(e));
	/* Back to the built-in program. */
	assert_int_equal(vmq_dev_upgrade(&dev, NULL, &res), 0);
	assert_true(res.prog_changed);
	assert_int_equal(res.maps_created, 0);
	assert_int_equal(vmq_dev_detach(&dev), 0);
	assert_int_equal(vmq_dev_unpin(&dev), 0);
	vmq_dev_close(&dev);
}

static void test_upgrade_moves_clsact_to_tcx(void **state)
{
	struct vmq_upgrade_opts keep = { .keep_hook = true };
	struct vmq_upgrade_result res;
	struct vmq_dev_info info;
	struct vmq_dev dev;
	bool attached = false;
	__u32 id;
	int err;

	(void)state;
	setenv("VMQ_TC_MODE", "clsact", 1);
	assert_int_equal(vmq_dev_load(&dev, root, "lo", NULL), 0);
	assert_int_equal(vmq_dev_attach(&dev), 0);
	/* Forced to clsact, or keeping the hook: the same program is current. */
	assert_int_equal(vmq_dev_upgrade(&dev, NULL, &res), 0);
	assert_false(res.changed);
	unsetenv("VMQ_TC_MODE");
	assert_int_equal(vmq_dev_upgrade(&dev, &keep, &res), 0);
	assert_false(res.changed);

	assert_int_equal(vmq_dev_upgrade(&dev, NULL, &res), 0);
	assert_true(res.changed);
	assert_false(res.prog_changed);
	assert_false(res.from_tcx);
	assert_true(res.to_tcx);
	assert_false(res.clsact_left);
	/* No vmq filter: its chain is gone (-EINVAL) or empty (-ENOENT). */
	err = vmq_tc_attached_prog_id(dev.ifindex, VMQ_TC_EGRESS, &id);
	assert_true(err == -ENOENT || err == -EINVAL);
	/* The clsact vmq made stays, empty, until detach. */
	assert_true(hook_exists(dev.ifindex));
	assert_int_equal(vmq_dev_info_read(&dev, &info), 0);
	assert_int_equal(info.flags, VMQ_DEV_F_TCX | VMQ_DEV_F_ATTACHED | VMQ_DEV_F_HOOK_CREATED);
	assert_int_equal(vmq_dev_is_attached(&dev, &attached), 0);
	assert_true(attached);
	assert_int_equal(vmq_dev_detach(&dev), 0);
	assert_false(hook_exists(dev.ifindex));
	assert_int_equal(vmq_dev_unpin(&dev), 0);
	vmq_dev_close(&dev);
}

static void test_upgrade_refuses_unknown_abi(void **state)
{
	struct vmq_upgrade_result res;
	struct vmq_dev_info info;
	struct vmq_dev dev, other;
	size_t steps = 9;
	__u32 abi = 0, id0, id1;

	(void)state;
	assert_int_equal(vmq_abi_migration(VMQ_ABI_VERSION, &steps), 0);
	assert_int_equal(steps, 0);
	assert_int_equal(vmq_abi_migration(VMQ_ABI_VERSION + 98, &steps), -EPROTO);
	assert_int_equal(vmq_abi_migration(0, &steps), -EPROTO);

	assert_int_equal(vmq_dev_load(&dev, root, "lo", NULL), 0);
	assert_int_equal(vmq_prog_id(dev.prog_fd, &id0), 0);
	assert_int_equal(vmq_dev_info_read(&dev, &info), 0);
	info.abi_version = 99;
	assert_int_equal(vmq_dev_info_write(&dev, &info), 0);
	assert_int_equal(vmq_dev_pinned_abi(root, "lo", &abi), 0);
	assert_int_equal(abi, 99);
	assert_int_equal(vmq_dev_upgrade(&dev, NULL, &res), -EPROTO);
	assert_int_equal(res.abi_found, 99);
	assert_false(res.changed);
	assert_int_equal(vmq_dev_migrate(root, "lo", NULL, &res), -EPROTO);
	assert_int_equal(vmq_dev_adopt(&other, root, "lo"), -EPROTO);
	assert_int_equal(vmq_prog_id(dev.prog_fd, &id1), 0);
	assert_int_equal(id1, id0);
	assert_int_equal(vmq_dev_unpin(&dev), 0);
	vmq_dev_close(&dev);
}

/* The frozen ABI version 1 build of vmq_tx (make check builds it). */
static const char *v1_object(char *buf, size_t size)
{
	const char *build = getenv("BUILD");

	snprintf(buf, size, "%s/tests/vmq_tx_v1.bpf.o", build ? build : "build");
	return access(buf, R_OK) ? NULL : buf;
}

/* v1's per-ID counters (include/vmq_abi.h of ABI version 1). */
struct v1_stats {
	__u64 packets, bytes, fallback_packets, fallback_bytes;
};

/* Puts a map of the v1 object under the pins, by its pin name. */
static void v1_pin(const struct bpf_object *obj, const char *name, const char *dir)
{
	const struct bpf_map *map = bpf_object__find_map_by_name(obj, name);
	char path[PATH_MAX];

	assert_non_null(map);
	assert_true(snprintf(path, sizeof(path), "%s/maps/%s", dir, vmq_tx_obj_pin_name(obj, map)) <
		    (int)sizeof(path));
	assert_int_equal(bpf_obj_pin(bpf_map__fd(map), path), 0);
}

/* What an ABI version 1 build left: its program on a tcx link, its maps
 * (with counters) pinned, vmq_dev_info saying version 1. */
static void v1_setup(const char *obj_path, int ncpus)
{
	struct vmq_dev_info info = { .abi_version = 1,
				     .flags = VMQ_DEV_F_ATTACHED | VMQ_DEV_F_TCX };
	struct vmq_queue_entry e5 = { .state = VMQ_QUEUE_TXQ, .target = 3 };
	struct vmq_queue_entry e0 = { .state = VMQ_QUEUE_TXQ, .target = 1 };
	struct v1_stats *st = calloc((size_t)ncpus, sizeof(*st));
	struct vmq_counter *c = calloc((size_t)ncpus, sizeof(*c));
	char dir[PATH_MAX], path[PATH_MAX];
	struct bpf_object *obj = NULL;
	struct bpf_map *map;
	__u32 key;

	assert_non_null(st);
	assert_non_null(c);
	assert_int_equal(vmq_tx_obj_open(obj_path, &obj), 0);
	assert_int_equal(
		bpf_map__set_max_entries(bpf_object__find_map_by_name(obj, "vmq_queues"), 128), 0);
	assert_int_equal(
		bpf_map__set_max_entries(bpf_object__find_map_by_name(obj, "vmq_queue_stats"), 128),
		0);
	assert_int_equal(bpf_object__load(obj), 0);
	assert_true(snprintf(dir, sizeof(dir), "%s/lo", root) < (int)sizeof(dir));
	assert_true(snprintf(path, sizeof(path), "%s/maps", dir) < (int)sizeof(path));
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	bpf_object__for_each_map(map, obj) v1_pin(obj, bpf_map__name(map), dir);
	assert_true(snprintf(path, sizeof(path), "%s/%s", dir, VMQ_PIN_PROG) < (int)sizeof(path));
	assert_int_equal(
		bpf_program__pin(bpf_object__find_program_by_name(obj, VMQ_PIN_PROG), path), 0);

	info.ifindex = if_nametoindex("lo");
	key = 0;
	assert_int_equal(bpf_map__update_elem(bpf_object__find_map_by_name(obj, "vmq_dev_info"),
					      &key, sizeof(key), &info, sizeof(info), BPF_ANY),
			 0);
	assert_int_equal(bpf_map__update_elem(bpf_object__find_map_by_name(obj, "vmq_queues"), &key,
					      sizeof(key), &e0, sizeof(e0), BPF_ANY),
			 0);
	key = 5;
	assert_int_equal(bpf_map__update_elem(bpf_object__find_map_by_name(obj, "vmq_queues"), &key,
					      sizeof(key), &e5, sizeof(e5), BPF_ANY),
			 0);
	/* Counters of ID 5, of reason not_live and of the kernel's choice. */
	for (int i = 0; i < ncpus; i++) {
		st[i] = (struct v1_stats){ 10 + i, 1000 + i, 1, 64 };
		c[i] = (struct vmq_counter){ 7, 700 };
	}
	assert_int_equal(bpf_map_update_elem(
				 bpf_map__fd(bpf_object__find_map_by_name(obj, "vmq_queue_stats")),
				 &key, st, BPF_ANY),
			 0);
	key = VMQ_TXQ_SLOT_KERNEL;
	assert_int_equal(
		bpf_map_update_elem(bpf_map__fd(bpf_object__find_map_by_name(obj, "vmq_txq_stats")),
				    &key, c, BPF_ANY),
		0);
	key = VMQ_FALLBACK_NOT_LIVE;
	for (int i = 0; i < ncpus; i++)
		c[i] = (struct vmq_counter){ 2, 128 };
	assert_int_equal(
		bpf_map_update_elem(bpf_map__fd(bpf_object__find_map_by_name(obj, "vmq_fallbacks")),
				    &key, c, BPF_ANY),
		0);
	assert_true(snprintf(path, sizeof(path), "%s/%s", dir, VMQ_PIN_LINK) < (int)sizeof(path));
	assert_int_equal(
		vmq_tcx_attach((int)info.ifindex, VMQ_TC_EGRESS,
			       bpf_program__fd(bpf_object__find_program_by_name(obj, VMQ_PIN_PROG)),
			       path, true),
		0);
	bpf_object__close(obj);
	free(st);
	free(c);
}

/* Maps of ABI version 1: the v1 -> v2 step builds vmq_queue_stats with
 * the entry's copies and vmq_fallbacks with the kernel-choice slot,
 * counters carried over; the program is swapped on the link; the unused
 * vmq_txq_stats pin goes. */
static void test_migrate_v1_to_v2(void **state)
{
	struct vmq_upgrade_opts keep = { .keep_hook = true };
	int ncpus = libbpf_num_possible_cpus();
	struct vmq_upgrade_result res;
	struct vmq_queue_stats qs, *per_cpu;
	struct vmq_tcx_link link;
	struct vmq_counter c;
	char obj[PATH_MAX], path[PATH_MAX];
	struct vmq_dev dev;
	__u64 n = (__u64)ncpus;
	__u32 abi = 0, id = 0, key;

	(void)state;
	unsetenv("VMQ_TC_MODE");
	if (!v1_object(obj, sizeof(obj)))
		skip();
	assert_true(ncpus > 0);
	v1_setup(obj, ncpus);
	assert_int_equal(vmq_dev_pinned_abi(root, "lo", &abi), 0);
	assert_int_equal(abi, 1);
	assert_int_equal(vmq_dev_adopt(&dev, root, "lo"), -EPROTO);

	assert_int_equal(vmq_dev_migrate(root, "lo", &keep, &res), 0);
	assert_int_equal(res.abi_found, 1);
	assert_int_equal(res.maps_migrated, 2);
	assert_true(res.changed);
	assert_true(res.attached);
	assert_true(res.to_tcx);
	assert_int_not_equal(res.new_prog_id, res.old_prog_id);
	assert_true(snprintf(path, sizeof(path), "%s/lo/maps/vmq_txq_stats", root) <
		    (int)sizeof(path));
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(vmq_dev_pinned_abi(root, "lo", &abi), 0);
	assert_int_equal(abi, VMQ_ABI_VERSION);

	assert_int_equal(vmq_dev_adopt(&dev, root, "lo"), 0);
	assert_true(snprintf(path, sizeof(path), "%s/lo/%s", root, VMQ_PIN_LINK) <
		    (int)sizeof(path));
	assert_int_equal(vmq_tcx_link_get(path, &link), 0);
	assert_int_equal(vmq_prog_id(dev.prog_fd, &id), 0);
	assert_int_equal(link.prog_id, id);
	/* Counters carried: sums over CPUs of what v1 had. */
	assert_int_equal(vmq_queue_stats_read(&dev, 5, &qs), 0);
	assert_int_equal(qs.packets, 10 * n + n * (n - 1) / 2);
	assert_int_equal(qs.bytes, 1000 * n + n * (n - 1) / 2);
	assert_int_equal(qs.fallback_packets, n);
	assert_int_equal(qs.fallback_bytes, 64 * n);
	assert_int_equal(vmq_fallback_read(&dev, VMQ_FALLBACK_NOT_LIVE, &c), 0);
	assert_int_equal(c.packets, 2 * n);
	assert_int_equal(c.bytes, 128 * n);
	assert_int_equal(vmq_kernel_choice_read(&dev, &c), 0);
	assert_int_equal(c.packets, 7 * n);
	assert_int_equal(c.bytes, 700 * n);
	/* Every CPU's copy is vmq_queues' entry. */
	per_cpu = calloc((size_t)ncpus, sizeof(*per_cpu));
	assert_non_null(per_cpu);
	key = 5;
	assert_int_equal(bpf_map_lookup_elem(dev.queue_stats_fd, &key, per_cpu), 0);
	for (int i = 0; i < ncpus; i++) {
		assert_int_equal(per_cpu[i].entry.state, VMQ_QUEUE_TXQ);
		assert_int_equal(per_cpu[i].entry.target, 3);
	}
	key = 0;
	assert_int_equal(bpf_map_lookup_elem(dev.queue_stats_fd, &key, per_cpu), 0);
	for (int i = 0; i < ncpus; i++)
		assert_int_equal(per_cpu[i].entry.target, 1);
	free(per_cpu);
	/* The store writes the migrated map. */
	assert_int_equal(vmq_queue_write(&dev, 6, (struct vmq_queue_entry){ VMQ_QUEUE_TXQ, 2 }), 0);
	assert_int_equal(vmq_queue_stats_read(&dev, 6, &qs), 0);
	assert_int_equal(qs.entry.target, 2);
	assert_int_equal(vmq_dev_detach(&dev), 0);
	assert_int_equal(vmq_dev_unpin(&dev), 0);
	vmq_dev_close(&dev);
}

/* Pin names: dots encoded, reversibly; a rename moves the pins; a load
 * builds under :new and renames into place, over a crashed load's leftover. */
static void test_pin_names_rename_and_staging(void **state)
{
	char buf[64], path[PATH_MAX];
	struct vmq_dev dev, other;

	(void)state;
	assert_int_equal(vmq_pin_name_encode("eth0.100", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "eth0%2e100");
	assert_int_equal(vmq_pin_name_decode(buf, path, IF_NAMESIZE), 0);
	assert_string_equal(path, "eth0.100");
	assert_int_equal(vmq_pin_name_encode("a%b.", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "a%25b%2e");
	assert_int_equal(vmq_pin_name_decode(buf, path, IF_NAMESIZE), 0);
	assert_string_equal(path, "a%b.");
	assert_int_equal(vmq_pin_name_encode("eth0", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "eth0");
	assert_int_equal(vmq_pin_name_decode("eth0:new", path, IF_NAMESIZE), -EINVAL);
	assert_int_equal(vmq_pin_name_decode("eth0.1", path, IF_NAMESIZE), -EINVAL);
	assert_int_equal(vmq_pin_name_decode("eth%zz", path, IF_NAMESIZE), -EINVAL);
	assert_int_equal(vmq_pin_name_decode("", path, IF_NAMESIZE), -EINVAL);

	/* A load killed halfway left lo:new: the next load clears it. */
	snprintf(path, sizeof(path), "%s/lo:new/maps", root);
	assert_int_equal(vmq_mkdir_p(path, 0700), 0);
	assert_int_equal(vmq_dev_load(&dev, root, "lo", NULL), 0);
	assert_false(exists("%s/%s", root, "lo:new"));
	assert_true(exists("%s/%s/vmq_tx_egress", root, "lo"));

	assert_int_equal(vmq_dev_rename(&dev, "lo.7"), 0);
	assert_string_equal(dev.ifname, "lo.7");
	assert_true(exists("%s/%s/vmq_tx_egress", root, "lo%2e7"));
	assert_false(exists("%s/%s", root, "lo"));
	assert_int_equal(vmq_dev_adopt(&other, root, "lo.7"), 0);
	vmq_dev_close(&other);
	/* A directory in the way: the name changes, the pins stay. */
	snprintf(path, sizeof(path), "%s/lo%%2e8/x", root);
	assert_int_equal(vmq_mkdir_p(path, 0700), 0);
	assert_true(vmq_dev_rename(&dev, "lo.8") < 0);
	assert_string_equal(dev.ifname, "lo.8");
	assert_true(exists("%s/%s/vmq_tx_egress", root, "lo%2e7"));
	assert_int_equal(rmdir(path), 0);
	snprintf(path, sizeof(path), "%s/lo%%2e8", root);
	assert_int_equal(rmdir(path), 0);

	assert_int_equal(vmq_dev_unpin(&dev), 0);
	assert_false(exists("%s/%s", root, "lo%2e7"));
	assert_false(exists("%s/%s", root, "lo%2e7:old"));
	vmq_dev_close(&dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bpffs_mounts_on_plain_dir),
		cmocka_unit_test(test_load_pins_and_adopt_reads_config),
		cmocka_unit_test(test_load_rejects_bad_sizes_and_devices),
		cmocka_unit_test(test_entries_round_trip_and_bounds),
		cmocka_unit_test(test_meta_update_and_walk),
		cmocka_unit_test(test_tcx_attach_adopt_detach),
		cmocka_unit_test(test_attach_detach_removes_what_it_created),
		cmocka_unit_test(test_detach_keeps_a_clsact_it_found),
		cmocka_unit_test(test_detach_keeps_a_clsact_others_joined),
		cmocka_unit_test(test_upgrade_swaps_link_keeps_maps_pins_new_ones),
		cmocka_unit_test(test_upgrade_moves_clsact_to_tcx),
		cmocka_unit_test(test_migrate_v1_to_v2),
		cmocka_unit_test(test_upgrade_refuses_unknown_abi),
		cmocka_unit_test(test_pin_names_rename_and_staging),
	};

	return cmocka_run_group_tests_name("libvmq device", tests, setup, teardown);
}
