// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* vmq_port through BPF_PROG_TEST_RUN: the mark comes back in ctx_out, so
 * the stamp is read directly. */
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <limits.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "vmq_test.h"
#include "libvmq.h"

static const char *root;
static struct vmq_ports ports;

static int setup(void **state)
{
	(void)state;
	root = vmq_test_sandbox();
	return vmq_ports_open(&ports, root);
}

static int teardown(void **state)
{
	(void)state;
	vmq_ports_close(&ports);
	vmq_test_sandbox_done();
	return 0;
}

/* Runs one packet arriving on ifindex with a mark; returns the new mark. */
static __u32 stamp(__u32 ifindex, __u32 mark)
{
	unsigned char pkt[ETH_HLEN + 64] = { [12] = 0x08, [13] = 0x00, [14] = 0x45 };
	struct __sk_buff in = { .mark = mark, .ingress_ifindex = ifindex }, out = {};
	DECLARE_LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = sizeof(pkt),
			    .ctx_in = &in, .ctx_size_in = sizeof(in), .ctx_out = &out,
			    .ctx_size_out = sizeof(out));

	assert_int_equal(bpf_prog_test_run_opts(ports.prog_fd, &opts), 0);
	assert_int_equal((int)opts.retval, TC_ACT_UNSPEC);
	return out.mark;
}

static void put(__u32 ifindex, __u32 id, __u32 mask)
{
	struct vmq_port_entry e = {
		.mark_value = (id << vmq_mask_shift(mask)) & mask,
		.mark_mask = mask,
		.queue_id = id,
	};

	assert_int_equal(bpf_map_update_elem(ports.map_fd, &ifindex, &e, BPF_ANY), 0);
}

static void test_stamps_queue_bits_only(void **state)
{
	(void)state;
	put(7, 42, VMQ_MARK_MASK_DEFAULT);
	assert_int_equal(stamp(7, 0), 42);
	/* Other users' bits survive; old queue bits are replaced. */
	assert_int_equal(stamp(7, 0xabcd0000), 0xabcd002a);
	assert_int_equal(stamp(7, 0xabcdffff), 0xabcd002a);

	put(8, 5, 0x00ff0000);
	assert_int_equal(stamp(8, 0xff00ffff), 0xff05ffff);
	assert_int_equal(stamp(8, 0x00120000), 0x00050000);
}

static void test_unbound_port_untouched(void **state)
{
	(void)state;
	assert_int_equal(stamp(99, 0x1234), 0x1234);
	assert_int_equal(stamp(99, 0), 0);
}

static void test_rebind_changes_stamp(void **state)
{
	(void)state;
	put(9, 1, VMQ_MARK_MASK_DEFAULT);
	assert_int_equal(stamp(9, 0), 1);
	put(9, 2, VMQ_MARK_MASK_DEFAULT);
	assert_int_equal(stamp(9, 0), 2);
	assert_int_equal(bpf_map_delete_elem(ports.map_fd, &(__u32){ 9 }), 0);
	assert_int_equal(stamp(9, 0x77), 0x77);
}

static void test_reopen_adopts_pins(void **state)
{
	struct vmq_ports again;
	struct vmq_port_entry e;

	(void)state;
	put(10, 3, VMQ_MARK_MASK_DEFAULT);
	assert_int_equal(vmq_ports_open(&again, root), 0);
	assert_int_equal(vmq_port_get(&again, 10, &e), 0);
	assert_int_equal(e.queue_id, 3);
	vmq_ports_close(&again);
}

/* An entry rewritten in place; an unbound port is not bound by it. */
static void test_update_in_place(void **state)
{
	struct vmq_port_entry e;

	(void)state;
	put(11, 4, VMQ_MARK_MASK_DEFAULT);
	assert_int_equal(vmq_port_get(&ports, 11, &e), 0);
	e.uplink_ifindex = 77;
	assert_int_equal(vmq_port_update(&ports, 11, &e), 0);
	memset(&e, 0, sizeof(e));
	assert_int_equal(vmq_port_get(&ports, 11, &e), 0);
	assert_int_equal(e.uplink_ifindex, 77);
	assert_int_equal(e.queue_id, 4);
	assert_int_equal(vmq_port_update(&ports, 12, &e), -ENOENT);
	assert_int_equal(vmq_port_get(&ports, 12, &e), -ENOENT);
	/* Later tests count the bindings left behind. */
	assert_int_equal(bpf_map_delete_elem(ports.map_fd, &(__u32){ 11 }), 0);
}

/* The variant build (make check builds it): vmq_port with another tag. */
static const char *variant_object(char *buf, size_t size)
{
	const char *build = getenv("BUILD");

	snprintf(buf, size, "%s/tests/vmq_port_variant.bpf.o", build ? build : "build");
	return access(buf, R_OK) ? NULL : buf;
}

/* The program's id the port's hook runs: its tcx link's, or its filter's. */
static __u32 hook_prog(__u32 ifindex, __u32 flags, __u32 *link_id)
{
	struct vmq_tcx_link link = { 0 };
	char pin[PATH_MAX];
	__u32 id = 0;

	if (flags & VMQ_PORT_F_TCX) {
		assert_int_equal(vmq_port_link_path(&ports, ifindex, pin, sizeof(pin)), 0);
		assert_int_equal(vmq_tcx_link_get(pin, &link), 0);
		*link_id = link.id;
		return link.prog_id;
	}
	assert_int_equal(vmq_tc_attached_prog_id((int)ifindex, VMQ_TC_INGRESS, &id), 0);
	return id;
}

/* A stamp-mode port on tcx and one on clsact swap to the new program: the
 * link stays, the filter is replaced in place, the pin follows. */
static void test_upgrade_swaps_stamp_hooks(void **state)
{
	struct vmq_ports_upgrade_result res;
	struct vmq_port_entry e;
	__u32 tcx_if, cls_if, upl_if = 4000, tcx_flags = 0, cls_flags = 0;
	__u32 link0 = 0, link1 = 0, id = 0, old_id;
	char obj[PATH_MAX], pin[PATH_MAX];
	int fd;

	(void)state;
	if (!variant_object(obj, sizeof(obj)))
		skip();
	assert_int_equal(vmq_test_veth("vpt0", "vpt1", 1), 0);
	assert_int_equal(vmq_test_veth("vpc0", "vpc1", 1), 0);
	tcx_if = if_nametoindex("vpt0");
	cls_if = if_nametoindex("vpc0");
	unsetenv("VMQ_TC_MODE");
	assert_int_equal(vmq_port_hook_attach(&ports, tcx_if, false, &tcx_flags), 0);
	assert_true(tcx_flags & VMQ_PORT_F_TCX);
	setenv("VMQ_TC_MODE", "clsact", 1);
	assert_int_equal(vmq_port_hook_attach(&ports, cls_if, false, &cls_flags), 0);
	unsetenv("VMQ_TC_MODE");
	assert_false(cls_flags & VMQ_PORT_F_TCX);
	put(tcx_if, 6, VMQ_MARK_MASK_DEFAULT);
	put(cls_if, 7, VMQ_MARK_MASK_DEFAULT);
	put(upl_if, 8, VMQ_MARK_MASK_DEFAULT);
	e = (struct vmq_port_entry){ .mark_value = 6,
				     .mark_mask = VMQ_MARK_MASK_DEFAULT,
				     .queue_id = 6,
				     .flags = tcx_flags };
	assert_int_equal(bpf_map_update_elem(ports.map_fd, &tcx_if, &e, BPF_ANY), 0);
	e = (struct vmq_port_entry){ .mark_value = 7,
				     .mark_mask = VMQ_MARK_MASK_DEFAULT,
				     .queue_id = 7,
				     .flags = cls_flags };
	assert_int_equal(bpf_map_update_elem(ports.map_fd, &cls_if, &e, BPF_ANY), 0);
	/* Uplink mode: no hook, not counted. */
	e = (struct vmq_port_entry){ .mark_value = 8,
				     .mark_mask = VMQ_MARK_MASK_DEFAULT,
				     .queue_id = 8,
				     .flags = VMQ_PORT_F_UPLINK };
	assert_int_equal(bpf_map_update_elem(ports.map_fd, &upl_if, &e, BPF_ANY), 0);
	assert_int_equal(vmq_prog_id(ports.prog_fd, &old_id), 0);
	assert_int_equal(hook_prog(tcx_if, tcx_flags, &link0), old_id);
	assert_int_equal(hook_prog(cls_if, cls_flags, &link1), old_id);

	/* The same build: nothing to do. */
	assert_int_equal(vmq_ports_upgrade(&ports, NULL, &res), 0);
	assert_false(res.changed);
	assert_int_equal(res.new_prog_id, old_id);
	assert_int_equal(res.ports_upgraded, 0);

	assert_int_equal(vmq_ports_upgrade(&ports, obj, &res), 0);
	assert_true(res.changed);
	assert_int_equal(res.old_prog_id, old_id);
	assert_int_not_equal(res.new_prog_id, old_id);
	assert_memory_not_equal(res.old_tag, res.new_tag, sizeof(res.new_tag));
	assert_int_equal(res.ports_upgraded, 2);
	/* The earlier tests' bindings (ports that do not exist) have no hook. */
	assert_int_equal(res.ports_skipped, 3);
	assert_int_equal(res.ports_failed, 0);
	/* Same link, new program; the filter runs it too; so does the pin. */
	assert_int_equal(hook_prog(tcx_if, tcx_flags, &link1), res.new_prog_id);
	assert_int_equal(link1, link0);
	assert_int_equal(hook_prog(cls_if, cls_flags, &link1), res.new_prog_id);
	assert_int_equal(vmq_prog_id(ports.prog_fd, &id), 0);
	assert_int_equal(id, res.new_prog_id);
	snprintf(pin, sizeof(pin), "%s/%s/vmq_port_ingress", root, VMQ_PORTS_PIN_DIR);
	fd = bpf_obj_get(pin);
	assert_true(fd >= 0);
	assert_int_equal(vmq_prog_id(fd, &id), 0);
	close(fd);
	assert_int_equal(id, res.new_prog_id);
	strcat(pin, "_new");
	assert_int_not_equal(access(pin, F_OK), 0);
	/* The new program stamps from the same map. */
	assert_int_equal(stamp(tcx_if, 0xabcd0000), 0xabcd0006);
	assert_int_equal(stamp(cls_if, 0), 7);

	/* Back to the built-in program. */
	old_id = res.new_prog_id;
	assert_int_equal(vmq_ports_upgrade(&ports, NULL, &res), 0);
	assert_true(res.changed);
	assert_int_equal(res.old_prog_id, old_id);
	assert_int_equal(res.ports_upgraded, 2);
	assert_int_equal(hook_prog(tcx_if, tcx_flags, &link1), res.new_prog_id);
	assert_int_equal(link1, link0);
	assert_int_equal(hook_prog(cls_if, cls_flags, &link1), res.new_prog_id);

	assert_int_equal(vmq_port_hook_detach(&ports, tcx_if, tcx_flags), 0);
	assert_int_equal(vmq_port_hook_detach(&ports, cls_if, cls_flags), 0);
	assert_int_equal(bpf_map_delete_elem(ports.map_fd, &tcx_if), 0);
	assert_int_equal(bpf_map_delete_elem(ports.map_fd, &cls_if), 0);
	assert_int_equal(bpf_map_delete_elem(ports.map_fd, &upl_if), 0);
	assert_int_equal(system("ip link del vpt0 && ip link del vpc0"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stamps_queue_bits_only),
		cmocka_unit_test(test_unbound_port_untouched),
		cmocka_unit_test(test_rebind_changes_stamp),
		cmocka_unit_test(test_reopen_adopts_pins),
		cmocka_unit_test(test_update_in_place),
		cmocka_unit_test(test_upgrade_swaps_stamp_hooks),
	};

	return cmocka_run_group_tests_name("vmq_port stamping", tests, setup, teardown);
}
