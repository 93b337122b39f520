// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vmq_rx under BPF_PROG_TEST_RUN: the verdict for each kind of frame (a
 * queue's mode, or the default queue's reason), from the return value and
 * the program's own counters (per queue and per outcome, as exact deltas
 * around each run); then libvmq's receive side: filters, modes with their
 * cpumap and devmap entries, attach, adoption and removal.
 */
#include "vmq_test.h"

#include <arpa/inet.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dev_priv.h" /* vmq_rx_unpin_dirs */
#include "libvmq.h"

#define NR_QUEUES 64U /* small on purpose: ID 100 lies beyond the map */
#define UPLINK	  "vmqrxu0"
#define UPLINK_P  "vmqrxu1"
#define PORT	  "vmqrxp0"
#define PORT_P	  "vmqrxp1"
#define FRAME_LEN 64U

static const char *bpffs;
static struct vmq_dev dev;
static const __u8 mac_a[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x0a };
static const __u8 mac_b[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x0b };
static const __u8 mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const __u8 mac_mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };

struct snap {
	struct vmq_counter out[VMQ_RX_OUTCOMES];
	struct vmq_rx_queue_stats q[NR_QUEUES];
};

static struct snap before, after;

/* --- frames ------------------------------------------------------------ */

/* A 64-byte frame to `dst`; tpid 0: untagged, else one tag of that TPID
 * with VLAN ID `vid`. */
static __u32 frame(__u8 *buf, const __u8 dst[6], __u16 tpid, __u16 vid)
{
	static const __u8 src[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	__u16 v;
	size_t off = 12;

	memset(buf, 0xab, FRAME_LEN);
	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	if (tpid) {
		v = htons(tpid);
		memcpy(buf + off, &v, 2);
		v = htons((__u16)(0x2000 | vid)); /* priority 1: only the VID counts */
		memcpy(buf + off + 2, &v, 2);
		off += 4;
	}
	v = htons(ETH_P_IP);
	memcpy(buf + off, &v, 2);
	return FRAME_LEN;
}

static void snap_take(struct snap *s)
{
	assert_int_equal(vmq_rx_outcomes_read_all(&dev, s->out), 0);
	assert_int_equal(vmq_rx_queue_stats_read_all(&dev, s->q), 0);
}

/* Runs the program on one frame `repeat` times: the run succeeds, the
 * frame comes back unchanged, and the verdict is never a drop. */
static int run(const __u8 *pkt, __u32 len, int repeat)
{
	__u8 out[256];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = len, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = repeat);

	if (bpf_prog_test_run_opts(dev.rx_prog_fd, &opts))
		fail_msg("test run (%u bytes): %s", len, strerror(errno));
	assert_int_equal(opts.data_size_out, len);
	assert_memory_equal(out, pkt, len);
	assert_true(opts.retval == XDP_PASS || opts.retval == XDP_REDIRECT);
	return (int)opts.retval;
}

/* Exactly `n` frames of `len` bytes for outcome `what`, none for any
 * other; `qid` (or -1) took them as handled or as fallbacks. */
static void expect(int what, __u32 n, __u32 len, int qid, bool fallback)
{
	for (int o = 0; o < (int)VMQ_RX_OUTCOMES; o++) {
		__u64 p = after.out[o].packets - before.out[o].packets;
		__u64 b = after.out[o].bytes - before.out[o].bytes;
		__u64 want = o == what ? n : 0;

		if (p != want || b != want * len)
			fail_msg("outcome %s: %llu packets %llu bytes, want %llu of %u",
				 vmq_rx_outcome_name((__u32)o), (unsigned long long)p,
				 (unsigned long long)b, (unsigned long long)want, len);
	}
	for (int q = 0; q < (int)NR_QUEUES; q++) {
		__u64 p = after.q[q].packets - before.q[q].packets;
		__u64 fp = after.q[q].fallback_packets - before.q[q].fallback_packets;
		__u64 fb = after.q[q].fallback_bytes - before.q[q].fallback_bytes;
		__u64 b = after.q[q].bytes - before.q[q].bytes;
		__u64 want = q == qid && !fallback ? n : 0, wantf = q == qid && fallback ? n : 0;

		if (p != want || b != want * len || fp != wantf || fb != wantf * len)
			fail_msg("queue %d: %llu/%llu packets (fallback), want %llu/%llu", q,
				 (unsigned long long)p, (unsigned long long)fp,
				 (unsigned long long)want, (unsigned long long)wantf);
	}
}

/* One frame, repeated: its verdict, and the counters it moved. */
static int run_frame(const __u8 dst[6], __u16 tpid, __u16 vid, int repeat)
{
	__u8 buf[FRAME_LEN];
	__u32 len = frame(buf, dst, tpid, vid);
	int verdict;

	snap_take(&before);
	verdict = run(buf, len, repeat);
	snap_take(&after);
	return verdict;
}

static void add_filter(const __u8 mac[6], __u16 vlan, __u32 q)
{
	struct vmq_rx_filter_key k = { .vlan = vlan };
	__u32 owner = 0;

	memcpy(k.mac, mac, 6);
	assert_int_equal(vmq_rx_filter_add(&dev, &k, q, &owner), 0);
}

static void live(__u32 q)
{
	struct vmq_queue_entry e = { .state = VMQ_QUEUE_TXQ, .target = 1 };

	assert_int_equal(vmq_queue_write(&dev, q, e), 0);
}

/* --- verdicts ---------------------------------------------------------- */

static void test_pass_mode_counted(void **state)
{
	(void)state;
	live(5);
	add_filter(mac_a, VMQ_RX_VLAN_NONE, 5);
	assert_int_equal(run_frame(mac_a, 0, 0, 3), XDP_PASS);
	expect(VMQ_RX_TO_STACK, 3, FRAME_LEN, 5, false);
}

static void test_cpu_mode_redirects(void **state)
{
	__u32 qsize = 0;

	(void)state;
	live(5);
	add_filter(mac_a, VMQ_RX_VLAN_NONE, 5);
	assert_int_equal(vmq_rx_mode_set(&dev, 5, VMQ_RX_MODE_CPU, 1), 0);
	assert_int_equal(vmq_rx_cpu_entry(&dev, 1, &qsize), 0);
	assert_int_equal(qsize, VMQ_RX_CPU_QSIZE);
	assert_int_equal(run_frame(mac_a, 0, 0, 2), XDP_REDIRECT);
	expect(VMQ_RX_TO_CPU, 2, FRAME_LEN, 5, false);
}

static void test_port_mode_redirects(void **state)
{
	__u32 ifindex = 0;

	(void)state;
	live(6);
	add_filter(mac_b, VMQ_RX_VLAN_NONE, 6);
	assert_int_equal(vmq_rx_mode_set(&dev, 6, VMQ_RX_MODE_PORT, if_nametoindex(PORT)), 0);
	assert_int_equal(vmq_rx_port_entry(&dev, 6, &ifindex), 0);
	assert_int_equal(ifindex, if_nametoindex(PORT));
	assert_int_equal(run_frame(mac_b, 0, 0, 2), XDP_REDIRECT);
	expect(VMQ_RX_TO_PORT, 2, FRAME_LEN, 6, false);
	/* Tagged: to the port as it came, tag and all (run() compares). */
	add_filter(mac_b, 10, 6);
	assert_int_equal(run_frame(mac_b, ETH_P_8021Q, 10, 1), XDP_REDIRECT);
	expect(VMQ_RX_TO_PORT, 1, FRAME_LEN, 6, false);
}

/* A mode whose cpumap or devmap entry is missing (written alone, as the
 * bpftool path can): the default queue, counted, not a drop. */
static void test_missing_target_passes(void **state)
{
	struct vmq_rx_queue_entry cpu = { .mode = VMQ_RX_MODE_CPU, .cpu = 0 };
	struct vmq_rx_queue_entry port = { .mode = VMQ_RX_MODE_PORT };
	__u32 q = 5;

	(void)state;
	live(5);
	add_filter(mac_a, VMQ_RX_VLAN_NONE, 5);
	assert_int_equal(bpf_map_update_elem(dev.rx_queues_fd, &q, &cpu, BPF_ANY), 0);
	assert_int_equal(run_frame(mac_a, 0, 0, 1), XDP_PASS);
	expect(VMQ_RX_NO_TARGET, 1, FRAME_LEN, 5, true);
	assert_int_equal(bpf_map_update_elem(dev.rx_queues_fd, &q, &port, BPF_ANY), 0);
	assert_int_equal(run_frame(mac_a, 0, 0, 1), XDP_PASS);
	expect(VMQ_RX_NO_TARGET, 1, FRAME_LEN, 5, true);
}

static void test_unmatched_passes(void **state)
{
	(void)state;
	live(5);
	add_filter(mac_a, VMQ_RX_VLAN_NONE, 5);
	assert_int_equal(run_frame(mac_b, 0, 0, 4), XDP_PASS);
	expect(VMQ_RX_UNMATCHED, 4, FRAME_LEN, -1, false);
}

/* Broadcast and multicast are the stack's, even with a filter written for
 * them (vmq_rx_filter_add refuses one; the map alone does not). */
static void test_broadcast_multicast_pass(void **state)
{
	struct vmq_rx_filter f = { .queue_id = 5 };
	struct vmq_rx_filter_key k = { 0 };

	(void)state;
	live(5);
	memcpy(k.mac, mac_bcast, 6);
	assert_int_equal(bpf_map_update_elem(dev.rx_filters_fd, &k, &f, BPF_ANY), 0);
	memcpy(k.mac, mac_mcast, 6);
	assert_int_equal(bpf_map_update_elem(dev.rx_filters_fd, &k, &f, BPF_ANY), 0);
	assert_int_equal(run_frame(mac_bcast, 0, 0, 2), XDP_PASS);
	expect(VMQ_RX_BROADCAST, 2, FRAME_LEN, -1, false);
	assert_int_equal(run_frame(mac_mcast, 0, 0, 3), XDP_PASS);
	expect(VMQ_RX_MULTICAST, 3, FRAME_LEN, -1, false);
	assert_int_equal(run_frame(mac_bcast, ETH_P_8021Q, 10, 1), XDP_PASS);
	expect(VMQ_RX_BROADCAST, 1, FRAME_LEN, -1, false);
}

/* A filter whose queue was freed (a VM gone): the default queue, counted
 * as the queue's fallback and by reason; in its mode again once live. */
static void test_freed_queue_passes(void **state)
{
	struct vmq_queue_entry freed = { .state = VMQ_QUEUE_FREE };

	(void)state;
	live(7);
	add_filter(mac_a, VMQ_RX_VLAN_NONE, 7);
	assert_int_equal(vmq_rx_mode_set(&dev, 7, VMQ_RX_MODE_CPU, 0), 0);
	assert_int_equal(run_frame(mac_a, 0, 0, 1), XDP_REDIRECT);
	expect(VMQ_RX_TO_CPU, 1, FRAME_LEN, 7, false);
	assert_int_equal(vmq_queue_write(&dev, 7, freed), 0);
	assert_int_equal(run_frame(mac_a, 0, 0, 2), XDP_PASS);
	expect(VMQ_RX_NOT_LIVE, 2, FRAME_LEN, 7, true);
	live(7);
	assert_int_equal(run_frame(mac_a, 0, 0, 1), XDP_REDIRECT);
	expect(VMQ_RX_TO_CPU, 1, FRAME_LEN, 7, false);
}

/* Never allocated, and beyond the map (written to the map alone). */
static void test_unknown_queue_passes(void **state)
{
	struct vmq_rx_filter f = { .queue_id = 100 };
	struct vmq_rx_filter_key k = { 0 };

	(void)state;
	add_filter(mac_a, VMQ_RX_VLAN_NONE, 9);
	assert_int_equal(run_frame(mac_a, 0, 0, 1), XDP_PASS);
	expect(VMQ_RX_NOT_LIVE, 1, FRAME_LEN, 9, true);
	memcpy(k.mac, mac_b, 6);
	assert_int_equal(bpf_map_update_elem(dev.rx_filters_fd, &k, &f, BPF_ANY), 0);
	assert_int_equal(run_frame(mac_b, 0, 0, 1), XDP_PASS);
	expect(VMQ_RX_NOT_LIVE, 1, FRAME_LEN, -1, false);
}

/* Queue 0 is live with no entry written. */
static void test_default_queue_always_live(void **state)
{
	(void)state;
	add_filter(mac_a, VMQ_RX_VLAN_NONE, 0);
	assert_int_equal(run_frame(mac_a, 0, 0, 1), XDP_PASS);
	expect(VMQ_RX_TO_STACK, 1, FRAME_LEN, 0, false);
}

/* (MAC, VLAN) is the key: a tagged frame matches its VLAN's filter alone,
 * whichever TPID; VID 0 (a priority tag) is untagged. */
static void test_vlan_matches_only_its_vlan(void **state)
{
	(void)state;
	live(5);
	live(6);
	live(8);
	add_filter(mac_a, 10, 5);
	add_filter(mac_a, VMQ_RX_VLAN_NONE, 6);
	add_filter(mac_a, 4094, 8);
	assert_int_equal(run_frame(mac_a, ETH_P_8021Q, 10, 1), XDP_PASS);
	expect(VMQ_RX_TO_STACK, 1, FRAME_LEN, 5, false);
	assert_int_equal(run_frame(mac_a, ETH_P_8021AD, 10, 1), XDP_PASS);
	expect(VMQ_RX_TO_STACK, 1, FRAME_LEN, 5, false);
	assert_int_equal(run_frame(mac_a, ETH_P_8021Q, 4094, 1), XDP_PASS);
	expect(VMQ_RX_TO_STACK, 1, FRAME_LEN, 8, false);
	assert_int_equal(run_frame(mac_a, 0, 0, 1), XDP_PASS);
	expect(VMQ_RX_TO_STACK, 1, FRAME_LEN, 6, false);
	assert_int_equal(run_frame(mac_a, ETH_P_8021Q, 0, 1), XDP_PASS);
	expect(VMQ_RX_TO_STACK, 1, FRAME_LEN, 6, false);
	assert_int_equal(run_frame(mac_a, ETH_P_8021Q, 20, 1), XDP_PASS);
	expect(VMQ_RX_UNMATCHED, 1, FRAME_LEN, -1, false);
	assert_int_equal(run_frame(mac_b, ETH_P_8021Q, 10, 1), XDP_PASS);
	expect(VMQ_RX_UNMATCHED, 1, FRAME_LEN, -1, false);
}

/* A tag cut short: counted as malformed, passed. */
static void test_truncated_tag_passes(void **state)
{
	__u8 buf[FRAME_LEN];

	(void)state;
	live(5);
	add_filter(mac_a, 10, 5);
	frame(buf, mac_a, ETH_P_8021Q, 10);
	snap_take(&before);
	assert_int_equal(run(buf, 16, 1), XDP_PASS);
	snap_take(&after);
	expect(VMQ_RX_MALFORMED, 1, 16, -1, false);
}

/* --- filters ----------------------------------------------------------- */

static int count_of(const struct vmq_rx_filter_key *k, const struct vmq_rx_filter *f, void *arg)
{
	(void)k;
	(void)f;
	++*(unsigned int *)arg;
	return 0;
}

static void test_filter_owner_refused(void **state)
{
	struct vmq_rx_filter_key k = { .vlan = 10 };
	struct vmq_rx_filter f;
	unsigned int n = 0, deleted = 0;
	__u32 owner = 0;

	(void)state;
	memcpy(k.mac, mac_a, 6);
	assert_int_equal(vmq_rx_filter_add(&dev, &k, 5, &owner), 0);
	assert_int_equal(vmq_rx_filter_add(&dev, &k, 5, &owner), 0); /* the same: no change */
	assert_int_equal(vmq_rx_filter_add(&dev, &k, 6, &owner), -EEXIST);
	assert_int_equal(owner, 5);
	assert_int_equal(vmq_rx_filter_get(&dev, &k, &f), 0);
	assert_int_equal(f.queue_id, 5);
	/* Several filters per queue; freeing the queue clears them all. */
	k.vlan = 11;
	assert_int_equal(vmq_rx_filter_add(&dev, &k, 5, &owner), 0);
	memcpy(k.mac, mac_b, 6);
	assert_int_equal(vmq_rx_filter_add(&dev, &k, 6, &owner), 0);
	assert_int_equal(vmq_rx_filter_for_each(&dev, count_of, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(vmq_rx_filter_del_queue(&dev, 5, &deleted), 0);
	assert_int_equal(deleted, 2);
	n = 0;
	assert_int_equal(vmq_rx_filter_for_each(&dev, count_of, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(vmq_rx_filter_del(&dev, &k), 0);
	assert_int_equal(vmq_rx_filter_del(&dev, &k), -ENOENT);
}

static void test_filter_bad_inputs(void **state)
{
	struct vmq_rx_filter_key k = { .vlan = 4095 };
	unsigned int n = 0;

	(void)state;
	memcpy(k.mac, mac_a, 6);
	assert_int_equal(vmq_rx_filter_add(&dev, &k, 5, NULL), -EINVAL);
	k.vlan = 0;
	assert_int_equal(vmq_rx_filter_add(&dev, &k, NR_QUEUES, NULL), -ERANGE);
	memcpy(k.mac, mac_mcast, 6);
	assert_int_equal(vmq_rx_filter_add(&dev, &k, 5, NULL), -EINVAL);
	assert_int_equal(vmq_rx_filter_for_each(&dev, count_of, &n), 0);
	assert_int_equal(n, 0);
}

/* --- modes ------------------------------------------------------------- */

static void expect_mode(__u32 q, __u16 mode, __u16 cpu, __u32 port)
{
	struct vmq_rx_queue_entry e;
	__u32 ifindex = 0;

	assert_int_equal(vmq_rx_mode_get(&dev, q, &e, &ifindex), 0);
	assert_int_equal(e.mode, mode);
	assert_int_equal(e.cpu, cpu);
	assert_int_equal(ifindex, port);
}

static void test_mode_bad_inputs_change_nothing(void **state)
{
	__u32 port = if_nametoindex(PORT), qsize;

	(void)state;
	assert_int_equal(vmq_rx_mode_set(&dev, 5, VMQ_RX_MODE_PORT, port), 0);
	assert_int_equal(vmq_rx_mode_set(&dev, 5, VMQ_RX_MODE_CPU, 4096), -ENODEV);
	assert_int_equal(vmq_rx_mode_set(&dev, 5, VMQ_RX_MODE_CPU, 100000), -ENODEV);
	assert_int_equal(vmq_rx_mode_set(&dev, 5, VMQ_RX_MODE_PORT, 0), -EINVAL);
	assert_int_equal(vmq_rx_mode_set(&dev, 5, VMQ_RX_MODE_PORT, 999999), -ENODEV);
	assert_int_equal(vmq_rx_mode_set(&dev, 5, (enum vmq_rx_mode)7, 0), -EINVAL);
	assert_int_equal(vmq_rx_mode_set(&dev, NR_QUEUES, VMQ_RX_MODE_PASS, 0), -ERANGE);
	expect_mode(5, VMQ_RX_MODE_PORT, 0, port);
	for (__u32 cpu = 0; cpu < dev.rx_ncpus; cpu++)
		assert_int_equal(vmq_rx_cpu_entry(&dev, cpu, &qsize), -ENOENT);
}

/* A CPU's cpumap entry lives while a queue's mode names it; a queue that
 * leaves port mode leaves no devmap entry behind. */
static void test_mode_entries_follow_queues(void **state)
{
	__u32 port = if_nametoindex(PORT), qsize, ifindex;

	(void)state;
	assert_int_equal(vmq_rx_mode_set(&dev, 5, VMQ_RX_MODE_CPU, 1), 0);
	assert_int_equal(vmq_rx_mode_set(&dev, 6, VMQ_RX_MODE_CPU, 1), 0);
	expect_mode(5, VMQ_RX_MODE_CPU, 1, 0);
	assert_int_equal(vmq_rx_mode_set(&dev, 5, VMQ_RX_MODE_PORT, port), 0);
	expect_mode(5, VMQ_RX_MODE_PORT, 0, port);
	assert_int_equal(vmq_rx_cpu_entry(&dev, 1, &qsize), 0);
	assert_int_equal(vmq_rx_mode_set(&dev, 6, VMQ_RX_MODE_CPU, 0), 0);
	assert_int_equal(vmq_rx_cpu_entry(&dev, 1, &qsize), -ENOENT);
	assert_int_equal(vmq_rx_cpu_entry(&dev, 0, &qsize), 0);
	assert_int_equal(vmq_rx_mode_clear(&dev, 5), 0);
	expect_mode(5, VMQ_RX_MODE_PASS, 0, 0);
	assert_int_equal(vmq_rx_port_entry(&dev, 5, &ifindex), -ENOENT);
	assert_int_equal(vmq_rx_mode_clear(&dev, 6), 0);
	assert_int_equal(vmq_rx_cpu_entry(&dev, 0, &qsize), -ENOENT);
}

/* --- attach, adoption, removal ------------------------------------------ */

static void expect_status(const struct vmq_dev *d, bool attached, bool generic)
{
	struct vmq_rx_status st;
	__u32 native = 0, gen = 0;

	assert_int_equal(vmq_rx_status(d, &st), 0);
	assert_true(st.loaded);
	assert_int_equal(st.attached, attached);
	assert_int_equal(st.link, attached);
	assert_int_equal(vmq_xdp_query(d->ifindex, &native, &gen), 0);
	if (attached) {
		assert_int_equal(st.generic, generic);
		assert_int_equal(generic ? gen : native, st.prog_id);
		assert_int_equal(generic ? native : gen, 0);
	} else {
		assert_int_equal(native, 0);
		assert_int_equal(gen, 0);
	}
}

static void test_attach_native_adopt_detach(void **state)
{
	struct vmq_dev d2;
	struct vmq_rx_status st;
	struct vmq_dev_info info;

	(void)state;
	add_filter(mac_a, VMQ_RX_VLAN_NONE, 5);
	assert_int_equal(vmq_rx_attach(&dev, VMQ_XDP_AUTO), 0);
	expect_status(&dev, true, false); /* veth has native XDP */
	assert_int_equal(vmq_dev_info_read(&dev, &info), 0);
	assert_int_equal(info.flags & (VMQ_DEV_F_RX_ATTACHED | VMQ_DEV_F_RX_GENERIC),
			 VMQ_DEV_F_RX_ATTACHED);
	/* Attached again: nothing changes. */
	assert_int_equal(vmq_rx_attach(&dev, VMQ_XDP_AUTO), 0);
	expect_status(&dev, true, false);
	/* Another process adopts it all from the pins. */
	assert_int_equal(vmq_dev_adopt(&d2, bpffs, UPLINK), 0);
	assert_true(d2.rx_prog_fd >= 0);
	expect_status(&d2, true, false);
	assert_int_equal(vmq_rx_status(&d2, &st), 0);
	assert_int_equal(st.filters, 1);
	/* Asked for generic: moved there. */
	assert_int_equal(vmq_rx_attach(&d2, VMQ_XDP_GENERIC), 0);
	expect_status(&d2, true, true);
	/* Detached: off the device at once, filters kept. */
	assert_int_equal(vmq_rx_detach(&d2), 0);
	expect_status(&d2, false, false);
	assert_int_equal(vmq_rx_status(&dev, &st), 0);
	assert_int_equal(st.filters, 1);
	/* The recorded mode is gone with it: auto is native again. */
	assert_int_equal(vmq_rx_attach(&d2, VMQ_XDP_AUTO), 0);
	expect_status(&d2, true, false);
	assert_int_equal(vmq_rx_detach(&d2), 0);
	vmq_dev_close(&d2);
}

/* A driver without native XDP (lo): generic, and said so. */
static void test_attach_generic_fallback(void **state)
{
	struct vmq_load_opts opts = { .nr_queues = NR_QUEUES };
	struct vmq_dev lo;

	(void)state;
	assert_int_equal(vmq_dev_load(&lo, bpffs, "lo", &opts), 0);
	assert_int_equal(vmq_rx_attach(&lo, VMQ_XDP_NATIVE), -EOPNOTSUPP);
	assert_int_equal(vmq_rx_attach(&lo, VMQ_XDP_AUTO), 0);
	expect_status(&lo, true, true);
	/* The whole device's detach takes the receive side with it. */
	assert_int_equal(vmq_dev_detach(&lo), 0);
	expect_status(&lo, false, false);
	assert_int_equal(vmq_dev_unpin(&lo), 0);
	vmq_dev_close(&lo);
	assert_int_equal(access(bpffs, F_OK), 0);
}

/* Another owner's XDP program is left alone: -EBUSY. */
static void test_attach_refuses_foreign(void **state)
{
	struct bpf_insn pass[] = {
		{ .code = 0xb7, .dst_reg = 0, .imm = XDP_PASS }, /* r0 = XDP_PASS */
		{ .code = 0x95 },				 /* exit */
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "foreign", "GPL", pass, 2, NULL);
	int ifindex = dev.ifindex;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(bpf_xdp_attach(ifindex, fd, XDP_FLAGS_DRV_MODE, NULL), 0);
	assert_int_equal(vmq_rx_attach(&dev, VMQ_XDP_AUTO), -EBUSY);
	assert_int_equal(bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL), 0);
	close(fd);
}

/* Unloaded: the pins go, and with them filters and modes; loaded again,
 * empty. */
static void test_unload_removes_pins(void **state)
{
	char path[PATH_MAX + 8];
	struct vmq_rx_status st;

	(void)state;
	add_filter(mac_a, VMQ_RX_VLAN_NONE, 5);
	assert_int_equal(vmq_rx_attach(&dev, VMQ_XDP_AUTO), 0);
	assert_int_equal(vmq_rx_unload(&dev), 0);
	assert_int_equal(dev.rx_prog_fd, -1);
	snprintf(path, sizeof(path), "%s/%s", dev.pin_dir, VMQ_PIN_RX_DIR);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(vmq_rx_status(&dev, &st), 0);
	assert_false(st.loaded);
	assert_int_equal(
		vmq_rx_filter_add(&dev, &(struct vmq_rx_filter_key){ .mac = { 2 } }, 1, NULL),
		-ENOTCONN);
	assert_int_equal(vmq_rx_load(&dev, NULL), 0);
	assert_int_equal(vmq_rx_status(&dev, &st), 0);
	assert_true(st.loaded);
	assert_int_equal(st.filters, 0);
}

/* Receive pins vmq cannot use (here: another uplink's, with another
 * queue count and queues map): the transmit side is adopted all the same,
 * the receive side stays closed, and loading it says why. */
static void test_adopt_foreign_rx_pins(void **state)
{
	struct vmq_load_opts opts = { .nr_queues = 32 };
	char from[PATH_MAX + 8], to[PATH_MAX + 8];
	struct vmq_dev lo, d2;

	(void)state;
	assert_int_equal(vmq_rx_unload(&dev), 0);
	assert_int_equal(vmq_dev_load(&lo, bpffs, "lo", &opts), 0);
	assert_int_equal(vmq_rx_load(&lo, NULL), 0);
	snprintf(from, sizeof(from), "%s/%s", lo.pin_dir, VMQ_PIN_RX_DIR);
	snprintf(to, sizeof(to), "%s/%s", dev.pin_dir, VMQ_PIN_RX_DIR);
	assert_int_equal(rename(from, to), 0);
	assert_int_equal(vmq_dev_adopt(&d2, bpffs, UPLINK), 0);
	assert_int_equal(d2.rx_prog_fd, -1);
	assert_true(d2.queues_fd >= 0);
	assert_int_equal(vmq_rx_load(&d2, NULL), -EPROTO);
	vmq_dev_close(&d2);
	assert_int_equal(vmq_rx_unpin_dirs(dev.pin_dir), 0);
	assert_int_equal(vmq_dev_unpin(&lo), 0);
	vmq_dev_close(&lo);
}

/* vmqd's unit grants CAP_BPF and CAP_NET_ADMIN only: vmq_rx loads with
 * them (no CAP_PERFMON, which pointer arithmetic between packet pointers
 * would need). In a child, which drops the rest. */
static void test_loads_without_perfmon(void **state)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct caps[2] = { 0 };
	const __u64 keep = 1ULL << CAP_BPF | 1ULL << CAP_NET_ADMIN;
	int status = -1;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		struct vmq_load_opts opts = { .nr_queues = NR_QUEUES };
		struct vmq_dev d;
		int err;

		caps[0].effective = caps[0].permitted = (__u32)keep;
		caps[1].effective = caps[1].permitted = (__u32)(keep >> 32);
		if (syscall(SYS_capset, &hdr, caps))
			_exit(100);
		err = vmq_dev_load(&d, bpffs, PORT, &opts);
		if (!err)
			err = vmq_rx_load(&d, NULL);
		if (err)
			fprintf(stderr, "without CAP_PERFMON: %s\n", strerror(-err));
		_exit(err ? 1 : 0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	{
		struct vmq_dev d;

		assert_int_equal(vmq_dev_adopt(&d, bpffs, PORT), 0);
		assert_true(d.rx_prog_fd >= 0);
		assert_int_equal(vmq_rx_unload(&d), 0);
		assert_int_equal(vmq_dev_unpin(&d), 0);
		vmq_dev_close(&d);
	}
}

/* What doctor can say about VLAN filters on an uplink. */
static void test_rxvlan_read(void **state)
{
	bool on = false;

	(void)state;
	assert_int_equal(system("ethtool -K " UPLINK " rxvlan on"), 0);
	assert_int_equal(vmq_netdev_rxvlan(UPLINK, &on), 0);
	assert_true(on);
	assert_int_equal(system("ethtool -K " UPLINK " rxvlan off"), 0);
	assert_int_equal(vmq_netdev_rxvlan(UPLINK, &on), 0);
	assert_false(on);
	assert_int_equal(vmq_netdev_rxvlan("vmqrxnone0", &on), -ENODEV);
	assert_int_equal(system("ethtool -K " UPLINK " rxvlan on"), 0);
}

/* --- upgrade ----------------------------------------------------------- */

static const char *variant_obj(void)
{
	static char path[PATH_MAX];
	const char *build = getenv("BUILD");

	snprintf(path, sizeof(path), "%s/tests/vmq_rx_variant.bpf.o", build ? build : "build");
	return path;
}

static __u32 link_prog_id(void)
{
	struct bpf_link_info info = { 0 };
	__u32 len = sizeof(info);
	char path[PATH_MAX + 32];
	int fd;

	snprintf(path, sizeof(path), "%s/%s/%s", dev.pin_dir, VMQ_PIN_RX_DIR, VMQ_PIN_RX_LINK);
	fd = bpf_obj_get(path);
	assert_true(fd >= 0);
	assert_int_equal(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	close(fd);
	return info.prog_id;
}

/* A program of another tag swapped in under the running link: the maps,
 * filters and counters carry over; the same tag changes nothing. */
static void test_upgrade_swaps_in_place(void **state)
{
	struct vmq_rx_status before_st, after_st;
	struct vmq_rx_queue_stats q0;
	struct vmq_dev d2;
	bool changed = true;

	(void)state;
	live(5);
	add_filter(mac_a, VMQ_RX_VLAN_NONE, 5);
	assert_int_equal(vmq_rx_queue_stats_read(&dev, 5, &q0), 0);
	assert_int_equal(run_frame(mac_a, 0, 0, 2), XDP_PASS);
	assert_int_equal(vmq_rx_attach(&dev, VMQ_XDP_AUTO), 0);
	assert_int_equal(vmq_rx_status(&dev, &before_st), 0);
	assert_int_equal(vmq_rx_upgrade(&dev, NULL, &changed), 0);
	assert_false(changed);
	assert_int_equal(vmq_rx_upgrade(&dev, variant_obj(), &changed), 0);
	assert_true(changed);
	assert_int_equal(vmq_rx_status(&dev, &after_st), 0);
	assert_int_not_equal(after_st.prog_id, before_st.prog_id);
	expect_status(&dev, true, false);
	assert_int_equal(link_prog_id(), after_st.prog_id);
	assert_int_equal(after_st.filters, 1);
	/* The new program counts on: the old runs' counts are still there. */
	assert_int_equal(run_frame(mac_a, 0, 0, 3), XDP_PASS);
	expect(VMQ_RX_TO_STACK, 3, FRAME_LEN, 5, false);
	assert_int_equal(after.q[5].packets - q0.packets, 5);
	/* Pinned: another process adopts the new program. */
	assert_int_equal(vmq_dev_adopt(&d2, bpffs, UPLINK), 0);
	assert_int_equal(vmq_rx_status(&d2, &before_st), 0);
	assert_int_equal(before_st.prog_id, after_st.prog_id);
	vmq_dev_close(&d2);
	/* And back: the built-in one. */
	assert_int_equal(vmq_rx_upgrade(&dev, NULL, &changed), 0);
	assert_true(changed);
	expect_status(&dev, true, false);
}

/* Attached by netlink (the bpftool path): replaced there. */
static void test_upgrade_netlink_attached(void **state)
{
	struct vmq_rx_status st;
	__u32 native = 0, generic = 0;
	bool changed = false;

	(void)state;
	assert_int_equal(bpf_xdp_attach(dev.ifindex, dev.rx_prog_fd, XDP_FLAGS_DRV_MODE, NULL), 0);
	assert_int_equal(vmq_rx_upgrade(&dev, variant_obj(), &changed), 0);
	assert_true(changed);
	assert_int_equal(vmq_rx_status(&dev, &st), 0);
	assert_int_equal(vmq_xdp_query(dev.ifindex, &native, &generic), 0);
	assert_int_equal(native, st.prog_id);
	assert_false(st.link);
	assert_int_equal(vmq_rx_detach(&dev), 0);
	assert_int_equal(vmq_xdp_query(dev.ifindex, &native, &generic), 0);
	assert_int_equal(native, 0);
	assert_int_equal(vmq_rx_upgrade(&dev, NULL, &changed), 0);
}

/* --- setup ------------------------------------------------------------- */

static void clear_all(void)
{
	struct vmq_rx_filter_key k;
	struct vmq_queue_entry freed = { .state = VMQ_QUEUE_FREE };
	vmq_rx_detach(&dev);
	while (!bpf_map_get_next_key(dev.rx_filters_fd, NULL, &k))
		bpf_map_delete_elem(dev.rx_filters_fd, &k);
	for (__u32 q = 0; q < NR_QUEUES; q++) {
		vmq_rx_mode_clear(&dev, q);
		vmq_queue_write(&dev, q, freed);
	}
}

static int setup_test(void **state)
{
	(void)state;
	assert_int_equal(vmq_rx_load(&dev, NULL), 0);
	clear_all();
	return 0;
}

static int setup_group(void **state)
{
	struct vmq_load_opts opts = { .nr_queues = NR_QUEUES };
	int err;

	(void)state;
	bpffs = vmq_test_sandbox();
	if (vmq_test_veth(UPLINK, UPLINK_P, 1) || vmq_test_veth(PORT, PORT_P, 1)) {
		fprintf(stderr, "veth pairs: cannot create\n");
		return -1;
	}
	vmq_dev_init(&dev);
	err = vmq_dev_load(&dev, bpffs, UPLINK, &opts);
	if (!err)
		err = vmq_rx_load(&dev, NULL);
	if (err) {
		fprintf(stderr, "load: %s\n", strerror(-err));
		return -1;
	}
	return 0;
}

static int teardown_group(void **state)
{
	(void)state;
	vmq_rx_unload(&dev);
	vmq_dev_unpin(&dev);
	vmq_dev_close(&dev);
	vmq_test_sandbox_done();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_pass_mode_counted, setup_test),
		cmocka_unit_test_setup(test_cpu_mode_redirects, setup_test),
		cmocka_unit_test_setup(test_port_mode_redirects, setup_test),
		cmocka_unit_test_setup(test_missing_target_passes, setup_test),
		cmocka_unit_test_setup(test_unmatched_passes, setup_test),
		cmocka_unit_test_setup(test_broadcast_multicast_pass, setup_test),
		cmocka_unit_test_setup(test_freed_queue_passes, setup_test),
		cmocka_unit_test_setup(test_unknown_queue_passes, setup_test),
		cmocka_unit_test_setup(test_default_queue_always_live, setup_test),
		cmocka_unit_test_setup(test_vlan_matches_only_its_vlan, setup_test),
		cmocka_unit_test_setup(test_truncated_tag_passes, setup_test),
		cmocka_unit_test_setup(test_filter_owner_refused, setup_test),
		cmocka_unit_test_setup(test_filter_bad_inputs, setup_test),
		cmocka_unit_test_setup(test_mode_bad_inputs_change_nothing, setup_test),
		cmocka_unit_test_setup(test_mode_entries_follow_queues, setup_test),
		cmocka_unit_test_setup(test_attach_native_adopt_detach, setup_test),
		cmocka_unit_test_setup(test_attach_generic_fallback, setup_test),
		cmocka_unit_test_setup(test_attach_refuses_foreign, setup_test),
		cmocka_unit_test_setup(test_adopt_foreign_rx_pins, setup_test),
		cmocka_unit_test_setup(test_loads_without_perfmon, setup_test),
		cmocka_unit_test_setup(test_rxvlan_read, setup_test),
		cmocka_unit_test_setup(test_upgrade_swaps_in_place, setup_test),
		cmocka_unit_test_setup(test_upgrade_netlink_attached, setup_test),
		cmocka_unit_test_setup(test_unload_removes_pins, setup_test),
	};

	return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
