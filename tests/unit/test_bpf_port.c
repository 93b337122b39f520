// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* vmq_port through BPF_PROG_TEST_RUN: the mark comes back in ctx_out, so
 * the stamp is read directly. */
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stamps_queue_bits_only),
		cmocka_unit_test(test_unbound_port_untouched),
		cmocka_unit_test(test_rebind_changes_stamp),
		cmocka_unit_test(test_reopen_adopts_pins),
	};

	return cmocka_run_group_tests_name("vmq_port stamping", tests, setup, teardown);
}
