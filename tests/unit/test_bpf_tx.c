// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vmq_tx under BPF_PROG_TEST_RUN: the steering decision for each kind of
 * queue ID. The kernel does not copy skb->queue_mapping back (kernel-notes,
 * general 3) and vmq_tx keeps no per-TX-queue counter, so the TX queue is
 * left by the suite's build of vmq_tx (VMQ_TX_OBSERVE: the same program plus
 * one store of queue_mapping into cb[0], which the kernel does copy back)
 * and counted here; the rest from the program's own counters: the
 * per-ID queue counters and the fallback reasons, as exact deltas of
 * packets and bytes around each run.
 */
#include "vmq_test.h"

#include <limits.h>
#include <pthread.h>

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "libvmq.h"

#define NR_QUEUES   64U /* small on purpose: ID 100 lies beyond the map */
#define DEF_TXQ	    11U /* the default queue's TX queue, distinct from 0 */
#define PKT_PAYLOAD 22U
#define MASK_CUSTOM 0x00ff0000U
#define GROUP_FLOWS 128U

struct udp_pkt {
	struct ethhdr eth;
	struct iphdr ip;
	struct udphdr udp;
	__u8 payload[PKT_PAYLOAD];
} __attribute__((packed));

#define PKT_LEN ((__u64)sizeof(struct udp_pkt))

_Static_assert(sizeof(struct udp_pkt) == 64, "a 64-byte frame");

/* Every counter that is not per ID: the observed TX queues, the
 * program's per fallback reason and its kernel-choice count. */
struct snap {
	struct vmq_counter txq[VMQ_TXQ_SLOTS];
	struct vmq_counter fb[VMQ_FALLBACK_SLOTS];
};

static const char *bpffs;
static struct vmq_dev dev;
static struct snap before, after;
/* Per TX queue slot, what the runs chose (skb->cb[0] of the observing
 * build), counted here; snap_take() copies it. */
static struct vmq_counter observed[VMQ_TXQ_SLOTS];

/* --- packets ----------------------------------------------------------- */

static __u16 ip_csum(const void *data, size_t len)
{
	const __u8 *p = data;
	__u32 sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (__u32)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((__u16)~sum);
}

/* 02:00:00:00:00:01 -> 02:00:00:00:00:02 */
static void build_eth(struct ethhdr *eth)
{
	memset(eth, 0, sizeof(*eth));
	eth->h_dest[0] = 0x02;
	eth->h_dest[5] = 0x02;
	eth->h_source[0] = 0x02;
	eth->h_source[5] = 0x01;
}

/* 10.0.0.1:sport -> 10.0.0.2:4789, UDP; `tag` varies bytes outside the
 * flow's 5-tuple (IP ID and payload). */
static void build_udp(struct udp_pkt *p, __u16 sport, __u8 tag)
{
	memset(p, 0, sizeof(*p));
	build_eth(&p->eth);
	p->eth.h_proto = htons(ETH_P_IP);
	p->ip.version = 4;
	p->ip.ihl = 5;
	p->ip.tot_len = htons(sizeof(*p) - sizeof(p->eth));
	p->ip.id = htons((__u16)(0x1000 + tag));
	p->ip.ttl = 64;
	p->ip.protocol = IPPROTO_UDP;
	p->ip.saddr = htonl(0x0a000001);
	p->ip.daddr = htonl(0x0a000002);
	p->ip.check = ip_csum(&p->ip, sizeof(p->ip));
	p->udp.source = htons(sport);
	p->udp.dest = htons(4789);
	p->udp.len = htons(sizeof(p->udp) + PKT_PAYLOAD);
	memset(p->payload, tag, sizeof(p->payload));
}

/* An Ethernet header of type `proto` at the start of `buf`. */
static void eth_frame(__u8 *buf, __u16 proto)
{
	struct ethhdr eth;

	build_eth(&eth);
	eth.h_proto = htons(proto);
	memcpy(buf, &eth, sizeof(eth));
}

/*
 * Runs the program `repeat` times on one packet carrying `mark`. Checks
 * what holds for every packet: the run succeeds, the verdict is
 * TC_ACT_UNSPEC (never a drop), and neither the bytes nor the mark change.
 */
static void run_on_from(const struct vmq_dev *d, const void *pkt, __u32 len, __u32 mark,
			__u32 ingress_ifindex, int repeat)
{
	struct __sk_buff ctx = { .mark = mark, .ingress_ifindex = ingress_ifindex };
	struct __sk_buff ctx_out = {};
	__u32 qm, slot;
	__u8 out[256];
	int err;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = len, .data_out = out,
		    .data_size_out = sizeof(out), .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		    .ctx_out = &ctx_out, .ctx_size_out = sizeof(ctx_out), .repeat = repeat);

	assert_true(len <= sizeof(out));
	err = bpf_prog_test_run_opts(d->prog_fd, &opts);
	if (err)
		fail_msg("test run (%u bytes, mark 0x%x): %s", len, mark, strerror(errno));
	assert_int_equal((int)opts.retval, TC_ACT_UNSPEC);
	assert_int_equal(opts.data_size_out, len);
	assert_memory_equal(out, pkt, len);
	assert_int_equal(ctx_out.mark, mark);
	/* Every run of one packet takes the same path: the last one's choice
	 * is all of theirs. */
	if (!ctx_out.cb[0])
		fail_msg("the run left no TX queue choice in cb[0]: not the observing build?");
	qm = ctx_out.cb[0] - 1; /* queue_mapping: TX queue + 1, or 0 (the kernel's choice) */
	if (qm > VMQ_TXQ_MAX)
		fail_msg("queue_mapping %u beyond vmq's TX queues", qm);
	slot = qm ? qm - 1 : VMQ_TXQ_SLOT_KERNEL;
	observed[slot].packets += (__u64)(repeat ? repeat : 1);
	observed[slot].bytes += (__u64)(repeat ? repeat : 1) * len;
}

static void run_on(const struct vmq_dev *d, const void *pkt, __u32 len, __u32 mark, int repeat)
{
	run_on_from(d, pkt, len, mark, 0, repeat);
}

/* A packet that came in on the port of ifindex `in` (a routed or bridged
 * VM's, as the uplink's egress sees it). */
static void run_udp_from(const struct vmq_dev *d, __u32 mark, __u32 in)
{
	struct udp_pkt p;

	build_udp(&p, 1000, 0);
	run_on_from(d, &p, sizeof(p), mark, in, 1);
}

static void run_udp(const struct vmq_dev *d, __u32 mark, __u16 sport, int repeat)
{
	struct udp_pkt p;

	build_udp(&p, sport, 0);
	run_on(d, &p, sizeof(p), mark, repeat);
}

/* --- counters ---------------------------------------------------------- */

static void snap_take(const struct vmq_dev *d, struct snap *s)
{
	for (__u32 i = 0; i < VMQ_TXQ_SLOTS; i++)
		s->txq[i] = observed[i];
	for (__u32 r = 0; r < VMQ_FALLBACK_REASONS; r++)
		assert_int_equal(vmq_fallback_read(d, r, &s->fb[r]), 0);
	assert_int_equal(vmq_kernel_choice_read(d, &s->fb[VMQ_COUNT_KERNEL_CHOICE]), 0);
}

static struct vmq_queue_stats qstats(const struct vmq_dev *d, __u32 id)
{
	struct vmq_queue_stats s;

	assert_int_equal(vmq_queue_stats_read(d, id, &s), 0);
	return s;
}

/* Exactly `packets` packets of `len` bytes on TX queue slot `slot`, and
 * nothing on any other slot. */
static void expect_only_txq(__u32 slot, __u64 packets, __u64 len)
{
	for (__u32 i = 0; i < VMQ_TXQ_SLOTS; i++) {
		__u64 dp = after.txq[i].packets - before.txq[i].packets;
		__u64 db = after.txq[i].bytes - before.txq[i].bytes;

		if (i == slot) {
			assert_int_equal(dp, packets);
			assert_int_equal(db, packets * len);
		} else if (dp || db) {
			fail_msg("txq slot %u moved by %llu packets (expected only slot %u)", i,
				 (unsigned long long)dp, slot);
		}
	}
}

/* Per fallback reason: exactly n[reason] packets of `len` bytes. */
static void expect_fallbacks(__u64 not_live, __u64 beyond, __u64 bad_group, __u64 len)
{
	const __u64 n[VMQ_FALLBACK_REASONS] = {
		[VMQ_FALLBACK_NOT_LIVE] = not_live,
		[VMQ_FALLBACK_BEYOND_MAP] = beyond,
		[VMQ_FALLBACK_BAD_GROUP] = bad_group,
	};

	for (__u32 r = 0; r < VMQ_FALLBACK_REASONS; r++) {
		assert_int_equal(after.fb[r].packets - before.fb[r].packets, n[r]);
		assert_int_equal(after.fb[r].bytes - before.fb[r].bytes, n[r] * len);
	}
}

static void expect_qstats(const struct vmq_queue_stats *b, const struct vmq_queue_stats *a,
			  __u64 packets, __u64 fallback_packets, __u64 len)
{
	assert_int_equal(a->packets - b->packets, packets);
	assert_int_equal(a->bytes - b->bytes, packets * len);
	assert_int_equal(a->fallback_packets - b->fallback_packets, fallback_packets);
	assert_int_equal(a->fallback_bytes - b->fallback_bytes, fallback_packets * len);
}

/* --- steps: packets sent, then every counter checked --------------------- */

#define NO_ID UINT32_MAX /* a step that checks no ID's counters */

/* One UDP packet (source port 1000) per mark, each sent `repeat` times (once
 * when 0); they must all leave on TX queue slot `slot`, count the fallbacks
 * given, and grow queue `id`'s counters by `packets` and `fallback_packets`
 * (NO_ID: no ID checked). */
struct send_step {
	__u32 marks[3];
	unsigned int nmarks;
	int repeat;
	__u32 slot;
	__u64 not_live, beyond, bad_group;
	__u32 id;
	__u64 packets, fallback_packets;
};

static void send_steps(const struct vmq_dev *d, const struct send_step *steps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct send_step *st = &steps[i];
		int repeat = st->repeat ? st->repeat : 1;
		struct vmq_queue_stats qb = { 0 }, qa;

		if (st->id != NO_ID)
			qb = qstats(d, st->id);
		snap_take(d, &before);
		for (unsigned int m = 0; m < st->nmarks; m++)
			run_udp(d, st->marks[m], 1000, repeat);
		snap_take(d, &after);
		expect_only_txq(st->slot, (__u64)st->nmarks * (__u64)repeat, PKT_LEN);
		expect_fallbacks(st->not_live, st->beyond, st->bad_group, PKT_LEN);
		if (st->id != NO_ID) {
			qa = qstats(d, st->id);
			expect_qstats(&qb, &qa, st->packets, st->fallback_packets, PKT_LEN);
		}
	}
}

#define SEND_STEPS(d, steps) send_steps((d), (steps), sizeof(steps) / sizeof((steps)[0]))

/* --- map edits --------------------------------------------------------- */

static void set_queue(const struct vmq_dev *d, __u32 id, __u16 state, __u16 target)
{
	struct vmq_queue_entry e = { .state = state, .target = target };

	assert_int_equal(vmq_queue_write(d, id, e), 0);
}

/* Port ifindexes the tests bind (slots cleared before each test). */
#define PORT_A	 7U
#define PORT_B	 8U
#define PORT_TOP (VMQ_PORT_IFINDEX_MAX - 1U)

/* Every ID free, every group empty, the default queue on DEF_TXQ, no
 * port slot bound. */
static void reset_maps(const struct vmq_dev *d)
{
	static const __u32 slots[] = { PORT_A, PORT_B, PORT_TOP };

	for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++)
		assert_int_equal(vmq_port_slot_clear(d, slots[i]), 0);
	for (__u32 id = 0; id < d->nr_queues; id++)
		set_queue(d, id, VMQ_QUEUE_FREE, 0);
	for (__u32 g = 0; g < VMQ_GROUPS_MAX; g++)
		assert_int_equal(vmq_group_clear(d, g), 0);
	set_queue(d, VMQ_DEFAULT_QUEUE, VMQ_QUEUE_TXQ, DEF_TXQ);
}

/* The object the suite loads: vmq_tx built with VMQ_TX_OBSERVE, the same
 * program plus one store of its choice where the test can see it. */
static const char *observe_obj(void)
{
	static char path[PATH_MAX];
	const char *build = getenv("BUILD");

	snprintf(path, sizeof(path), "%s/tests/vmq_tx_observe.bpf.o", build ? build : "build");
	return path;
}

static int setup_test(void **state)
{
	(void)state;
	reset_maps(&dev);
	return 0;
}

static int setup_group(void **state)
{
	struct vmq_load_opts opts = { .nr_queues = NR_QUEUES, .obj_path = observe_obj() };
	int err;

	(void)state;
	bpffs = vmq_test_sandbox();
	vmq_dev_init(&dev);
	err = vmq_dev_load(&dev, bpffs, "lo", &opts);
	if (err) {
		fprintf(stderr, "vmq_dev_load: %s\n", strerror(-err));
		return -1;
	}
	return 0;
}

static int teardown_group(void **state)
{
	(void)state;
	vmq_dev_unpin(&dev);
	vmq_dev_close(&dev);
	vmq_test_sandbox_done();
	return 0;
}

/* --- the entry's per-CPU copy ------------------------------------------- */

/* Each possible CPU's copy of `id`'s entry, as one 32-bit word. */
static void expect_copies(const struct vmq_dev *d, __u32 id, __u16 state, __u16 target)
{
	int ncpus = libbpf_num_possible_cpus();
	struct vmq_queue_stats *vals;

	assert_true(ncpus > 0);
	vals = calloc((size_t)ncpus, sizeof(*vals));
	assert_non_null(vals);
	assert_int_equal(bpf_map_lookup_elem(d->queue_stats_fd, &id, vals), 0);
	for (int c = 0; c < ncpus; c++) {
		if (vals[c].entry.state != state || vals[c].entry.target != target)
			fail_msg("ID %u, CPU %d: copy is state %u target %u, want %u %u", id, c,
				 vals[c].entry.state, vals[c].entry.target, state, target);
	}
	free(vals);
}

/* The store writes vmq_queues and every possible CPU's copy. */
static void test_store_writes_every_copy(void **state)
{
	struct vmq_queue_entry e;

	(void)state;
	set_queue(&dev, 9, VMQ_QUEUE_TXQ, 21);
	assert_int_equal(vmq_queue_read(&dev, 9, &e), 0);
	assert_int_equal(e.state, VMQ_QUEUE_TXQ);
	assert_int_equal(e.target, 21);
	expect_copies(&dev, 9, VMQ_QUEUE_TXQ, 21);
	set_queue(&dev, 9, VMQ_QUEUE_GROUP, 2);
	expect_copies(&dev, 9, VMQ_QUEUE_GROUP, 2);
	set_queue(&dev, 9, VMQ_QUEUE_FREE, 0);
	expect_copies(&dev, 9, VMQ_QUEUE_FREE, 0);
}

/* A copy that is not free decides: vmq_queues is not read then (a write
 * to vmq_queues alone does not reach a queue vmq_queue_store wrote). */
static void test_copy_used(void **state)
{
	static const struct send_step steps[] = {
		{ .marks = { 5 }, .nmarks = 1, .slot = 3, .id = NO_ID },
	};
	struct vmq_queue_entry truth = { .state = VMQ_QUEUE_TXQ, .target = 7 };
	__u32 id = 5;

	(void)state;
	set_queue(&dev, id, VMQ_QUEUE_TXQ, 3);
	assert_int_equal(bpf_map_update_elem(dev.queues_fd, &id, &truth, BPF_ANY), 0);
	SEND_STEPS(&dev, steps);
}

/* A free copy is never trusted: vmq_queues written alone (the bpftool
 * path) steers, and a free entry there still falls back. */
static void test_free_copy_reads_truth(void **state)
{
	static const struct send_step steps[] = {
		{ .marks = { 6 }, .nmarks = 1, .repeat = 3, .slot = 19, .id = 6, .packets = 3 },
	};
	struct vmq_queue_entry truth = { .state = VMQ_QUEUE_TXQ, .target = 19 };
	__u32 id = 6;

	(void)state;
	expect_copies(&dev, id, VMQ_QUEUE_FREE, 0);
	assert_int_equal(bpf_map_update_elem(dev.queues_fd, &id, &truth, BPF_ANY), 0);
	SEND_STEPS(&dev, steps);
	expect_copies(&dev, id, VMQ_QUEUE_FREE, 0); /* the data path never writes it */

	/* vmqd's adoption makes the copies equal to the truth, once. */
	{
		unsigned int synced = 0;

		assert_int_equal(vmq_queue_sync_copies(&dev, &synced), 0);
		assert_int_equal(synced, 1);
		expect_copies(&dev, id, VMQ_QUEUE_TXQ, 19);
		assert_int_equal(vmq_queue_sync_copies(&dev, &synced), 0);
		assert_int_equal(synced, 0);
	}
}

/* A store leaves the counters beside the copy alone. */
static void test_store_keeps_counters(void **state)
{
	struct vmq_queue_stats qb, qa;

	(void)state;
	set_queue(&dev, 8, VMQ_QUEUE_TXQ, 2);
	qb = qstats(&dev, 8);
	run_udp(&dev, 8, 1000, 5);
	set_queue(&dev, 8, VMQ_QUEUE_TXQ, 4);
	set_queue(&dev, 8, VMQ_QUEUE_FREE, 0);
	run_udp(&dev, 8, 1000, 2); /* not live now: fallbacks */
	set_queue(&dev, 8, VMQ_QUEUE_TXQ, 2);
	qa = qstats(&dev, 8);
	expect_qstats(&qb, &qa, 5, 2, PKT_LEN);
}

/* Stores racing the data path, on two CPUs. */
struct store_race {
	volatile int stop;
	unsigned long stores;
	int err;
};

static void pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void *store_loop(void *arg)
{
	struct store_race *r = arg;

	pin_to(1);
	while (!r->stop && !r->err) {
		struct vmq_queue_entry e = { .state = VMQ_QUEUE_TXQ,
					     .target = (__u16)(3 + (r->stores & 1)) };

		r->err = vmq_queue_write(&dev, 4, e);
		r->stores++;
	}
	return NULL;
}

/*
 * Every increment survives stores made meanwhile: the store writes the
 * copy's word only, never the counters (a user-space rewrite of the whole
 * per-CPU value would lose the increments made between its read and its
 * write). N runs on one CPU while another stores as fast as it can: the
 * ID's packets grow by exactly N.
 */
static void test_store_loses_no_increment(void **state)
{
	const int repeat = 2000000;
	struct store_race race = { 0 };
	struct vmq_queue_stats qb, qa;
	struct udp_pkt p;
	pthread_t t;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = &p, .data_size_in = sizeof(p),
		    .repeat = repeat);
	struct __sk_buff ctx = { .mark = 4 };
	cpu_set_t was;

	(void)state;
	assert_int_equal(sched_getaffinity(0, sizeof(was), &was), 0);
	if (libbpf_num_possible_cpus() < 2)
		skip();
	opts.ctx_in = &ctx;
	opts.ctx_size_in = sizeof(ctx);
	build_udp(&p, 1000, 0);
	set_queue(&dev, 4, VMQ_QUEUE_TXQ, 3);
	qb = qstats(&dev, 4);
	assert_int_equal(pthread_create(&t, NULL, store_loop, &race), 0);
	pin_to(0);
	while (!race.stores) /* the race is on */
		sched_yield();
	assert_int_equal(bpf_prog_test_run_opts(dev.prog_fd, &opts), 0);
	race.stop = 1;
	pthread_join(t, NULL);
	sched_setaffinity(0, sizeof(was), &was);
	assert_int_equal(race.err, 0);
	qa = qstats(&dev, 4);
	print_message("%d runs, %lu stores meanwhile\n", repeat, race.stores);
	assert_true(race.stores > 10);
	expect_qstats(&qb, &qa, (__u64)repeat, 0, PKT_LEN);
}

/* --- tests ------------------------------------------------------------- */

static void test_live_queue_goes_to_its_txq(void **state)
{
	static const struct send_step steps[] = {
		{ .marks = { 5 }, .nmarks = 1, .slot = 3, .id = 5, .packets = 1 },
		/* Mark bits outside the default mask (low 16 bits) are not the ID. */
		{ .marks = { 0xabcd0005U }, .nmarks = 1, .slot = 3, .id = 5, .packets = 1 },
	};

	(void)state;
	set_queue(&dev, 5, VMQ_QUEUE_TXQ, 3);
	SEND_STEPS(&dev, steps);
}

static void test_queue_update_moves_traffic(void **state)
{
	static const struct send_step on3[] = {
		{ .marks = { 6 }, .nmarks = 1, .slot = 3, .id = NO_ID },
	};
	static const struct send_step on4[] = {
		{ .marks = { 6 }, .nmarks = 1, .slot = 4, .id = NO_ID },
	};
	static const struct send_step grouped[] = {
		{ .marks = { 6 }, .nmarks = 1, .slot = 40, .id = 6, .packets = 1 },
	};
	__u16 txqs[] = { 40 };

	(void)state;
	set_queue(&dev, 6, VMQ_QUEUE_TXQ, 3);
	SEND_STEPS(&dev, on3);
	set_queue(&dev, 6, VMQ_QUEUE_TXQ, 4);
	SEND_STEPS(&dev, on4);
	/* Regrouped: a one-member group sends everything to that member. */
	assert_int_equal(vmq_group_write(&dev, 2, txqs, 1), 0);
	set_queue(&dev, 6, VMQ_QUEUE_GROUP, 2);
	SEND_STEPS(&dev, grouped);
}

static void test_unknown_id_goes_to_default(void **state)
{
	/* ID 9 was never allocated. */
	static const struct send_step steps[] = {
		{ .marks = { 9 },
		  .nmarks = 1,
		  .slot = DEF_TXQ,
		  .not_live = 1,
		  .id = 9,
		  .fallback_packets = 1 },
	};

	(void)state;
	SEND_STEPS(&dev, steps);
}

static void test_freed_id_goes_to_default(void **state)
{
	static const struct send_step live[] = {
		{ .marks = { 10 }, .nmarks = 1, .slot = 7, .id = 10, .packets = 1 },
	};
	/* Deleted (a VM migrated away): stale IDs still leave, on queue 0. */
	static const struct send_step freed[] = {
		{ .marks = { 10 },
		  .nmarks = 1,
		  .slot = DEF_TXQ,
		  .not_live = 1,
		  .id = 10,
		  .fallback_packets = 1 },
	};

	(void)state;
	set_queue(&dev, 10, VMQ_QUEUE_TXQ, 7);
	SEND_STEPS(&dev, live);
	set_queue(&dev, 10, VMQ_QUEUE_FREE, 0);
	SEND_STEPS(&dev, freed);
}

static void test_id_beyond_map(void **state)
{
	struct vmq_queue_stats s;

	(void)state;
	assert_int_equal(dev.nr_queues, NR_QUEUES);
	/* No per-ID counter exists beyond the map: only the reason counts. */
	assert_int_equal(vmq_queue_stats_read(&dev, 100, &s), -ERANGE);
	assert_int_equal(vmq_queue_stats_read(&dev, NR_QUEUES, &s), -ERANGE);
	snap_take(&dev, &before);
	run_udp(&dev, 100, 1000, 1);
	run_udp(&dev, NR_QUEUES, 1000, 1); /* the first ID past the end */
	run_udp(&dev, 0xffff, 1000, 1);	   /* the highest the mask allows */
	snap_take(&dev, &after);
	expect_only_txq(DEF_TXQ, 3, PKT_LEN);
	expect_fallbacks(0, 3, 0, PKT_LEN);

	/* The last ID in the map is an ordinary ID. */
	set_queue(&dev, NR_QUEUES - 1, VMQ_QUEUE_TXQ, 8);
	before = after;
	run_udp(&dev, NR_QUEUES - 1, 1000, 1);
	snap_take(&dev, &after);
	expect_only_txq(8, 1, PKT_LEN);
	expect_fallbacks(0, 0, 0, PKT_LEN);
}

/* A second instance, pinned under another root, with the ID in bits 16-23. */
static void test_custom_mark_mask(void **state)
{
	struct vmq_load_opts opts = { .nr_queues = 128,
				      .mark_mask = MASK_CUSTOM,
				      .obj_path = observe_obj() };
	static const struct send_step steps[] = {
		/* ID 7: nothing else, every other bit set, some */
		{ .marks = { 0x00070000U, 0xff07ffffU, 0x0f070001U },
		  .nmarks = 3,
		  .slot = 17,
		  .id = 7,
		  .packets = 3 },
		/* Low bits that would be ID 7 (or 9) under the default mask are ID 0. */
		{ .marks = { 0xff00ffffU, 0x00000007U },
		  .nmarks = 2,
		  .slot = DEF_TXQ,
		  .id = 0,
		  .packets = 2 },
		/* Unknown ID 9 in the mask's bits, and ID 200 past this map's 128. */
		{ .marks = { 0xaa09aaaaU, 0x00c80000U },
		  .nmarks = 2,
		  .slot = DEF_TXQ,
		  .not_live = 1,
		  .beyond = 1,
		  .id = 9,
		  .fallback_packets = 1 },
	};
	struct snap *first;
	char root[PATH_MAX];
	struct vmq_dev m;
	int err;

	(void)state;
	first = malloc(sizeof(*first));
	assert_non_null(first);
	snap_take(&dev, first);
	snprintf(root, sizeof(root), "%s/mask", bpffs);
	err = vmq_dev_load(&m, root, "lo", &opts);
	if (err)
		fail_msg("vmq_dev_load mask 0x%x: %s", MASK_CUSTOM, strerror(-err));
	assert_int_equal(m.cfg.mark_mask, MASK_CUSTOM);
	assert_int_equal(m.cfg.mark_shift, 16);
	reset_maps(&m);
	set_queue(&m, 7, VMQ_QUEUE_TXQ, 17);
	SEND_STEPS(&m, steps);

	assert_int_equal(vmq_dev_unpin(&m), 0);
	vmq_dev_close(&m);
	assert_int_equal(rmdir(root), 0);

	/* The first instance counted none of it (the observed TX queues are
	 * the test's own, shared by both). */
	snap_take(&dev, &after);
	assert_memory_equal(first->fb, after.fb, sizeof(after.fb));
	free(first);
}

static void test_group_spreads_flows(void **state)
{
	static const __u16 txqs[] = { 20, 21, 22 };
	__u64 per_txq[3] = { 0, 0, 0 };
	struct vmq_queue_stats qb, qa;
	struct snap *total_before;
	unsigned int used = 0;

	(void)state;
	assert_int_equal(vmq_group_write(&dev, 3, txqs, 3), 0);
	set_queue(&dev, 12, VMQ_QUEUE_GROUP, 3);
	total_before = malloc(sizeof(*total_before));
	assert_non_null(total_before);
	qb = qstats(&dev, 12);
	snap_take(&dev, total_before);
	for (__u16 f = 0; f < GROUP_FLOWS; f++) {
		struct vmq_counter c[3], d[3];
		int hit = -1;

		for (int i = 0; i < 3; i++)
			c[i] = observed[txqs[i]];
		run_udp(&dev, 12, (__u16)(10000 + f * 7), 1);
		for (int i = 0; i < 3; i++) {
			d[i] = observed[txqs[i]];
			if (d[i].packets - c[i].packets == 1 && hit < 0)
				hit = i;
			else
				assert_int_equal(d[i].packets - c[i].packets, 0);
		}
		if (hit < 0)
			fail_msg("flow %u landed on none of the group's TX queues", f);
		per_txq[hit]++;
	}
	memcpy(&before, total_before, sizeof(before));
	free(total_before);
	snap_take(&dev, &after);
	qa = qstats(&dev, 12);
	expect_fallbacks(0, 0, 0, PKT_LEN);
	expect_qstats(&qb, &qa, GROUP_FLOWS, 0, PKT_LEN);
	/* Nothing outside the group. */
	for (__u32 i = 0; i < VMQ_TXQ_SLOTS; i++) {
		__u64 dp = after.txq[i].packets - before.txq[i].packets;
		int member = i >= 20 && i <= 22;

		if (!member && dp)
			fail_msg("txq slot %u outside the group got %llu packets", i,
				 (unsigned long long)dp);
		if (member) {
			assert_int_equal(dp, per_txq[i - 20]);
			assert_int_equal(after.txq[i].bytes - before.txq[i].bytes, dp * PKT_LEN);
		}
	}
	for (int i = 0; i < 3; i++)
		used += per_txq[i] != 0;
	print_message("group 3 {20,21,22}: %u flows -> %llu / %llu / %llu\n", GROUP_FLOWS,
		      (unsigned long long)per_txq[0], (unsigned long long)per_txq[1],
		      (unsigned long long)per_txq[2]);
	assert_true(used >= 2);
	/* 128 flows all missing one member of three: odds about 3 * (2/3)^128. */
	assert_int_equal(used, 3);
}

/* Which of the group's TX queues one run of `pkt` went to; -1 if none. */
static int group_member_hit(const __u16 *txqs, int n, const struct snap *b, const struct snap *a,
			    __u64 packets)
{
	int hit = -1;

	for (int i = 0; i < n; i++) {
		__u64 dp = a->txq[txqs[i]].packets - b->txq[txqs[i]].packets;

		if (dp == packets && hit < 0)
			hit = i;
		else if (dp)
			return -2;
	}
	return hit;
}

static void test_flow_stays_on_one_txq(void **state)
{
	static const __u16 txqs[] = { 30, 31, 32, 33 };
	const int repeat = 1000;

	(void)state;
	assert_int_equal(vmq_group_write(&dev, 4, txqs, 4), 0);
	set_queue(&dev, 13, VMQ_QUEUE_GROUP, 4);
	for (__u16 f = 0; f < 8; f++) {
		__u16 sport = (__u16)(20000 + f * 13);
		struct udp_pkt p;
		int first;

		/* One test run, the same skb `repeat` times. The skb keeps
		 * the hash computed on the first run, so this alone would
		 * prove little: the fresh skbs below recompute it. */
		snap_take(&dev, &before);
		run_udp(&dev, 13, sport, repeat);
		snap_take(&dev, &after);
		first = group_member_hit(txqs, 4, &before, &after, (__u64)repeat);
		assert_true(first >= 0);
		expect_only_txq(txqs[first], (__u64)repeat, PKT_LEN);
		expect_fallbacks(0, 0, 0, PKT_LEN);

		/* Fresh skbs of the same flow, whose IP ID and payload differ:
		 * the flow is its 5-tuple, so the TX queue does not move. */
		before = after;
		for (__u8 tag = 1; tag <= 16; tag++) {
			build_udp(&p, sport, tag);
			run_on(&dev, &p, sizeof(p), 13, 1);
		}
		snap_take(&dev, &after);
		expect_only_txq(txqs[first], 16, PKT_LEN);
	}
}

static void test_default_fixed_txq(void **state)
{
	/* Unmarked traffic is ID 0: steered through the default entry. */
	static const struct send_step unmarked[] = {
		{ .marks = { 0, 0xffff0000U },
		  .nmarks = 2,
		  .slot = DEF_TXQ,
		  .id = 0,
		  .packets = 2 },
	};
	/* Moving the default queue moves the fallbacks with it. */
	static const struct send_step moved[] = {
		{ .marks = { 0, 9 }, .nmarks = 2, .slot = 0, .not_live = 1, .id = NO_ID },
	};

	(void)state;
	SEND_STEPS(&dev, unmarked);
	set_queue(&dev, VMQ_DEFAULT_QUEUE, VMQ_QUEUE_TXQ, 0);
	SEND_STEPS(&dev, moved);
}

static void test_default_kernel_choice(void **state)
{
	static const struct send_step steps[] = {
		{ .marks = { 0 }, .nmarks = 1, .slot = VMQ_TXQ_SLOT_KERNEL, .id = 0, .packets = 1 },
		{ .marks = { 9, 100 },
		  .nmarks = 2,
		  .slot = VMQ_TXQ_SLOT_KERNEL,
		  .not_live = 1,
		  .beyond = 1,
		  .id = 9,
		  .fallback_packets = 1 },
	};

	(void)state;
	set_queue(&dev, VMQ_DEFAULT_QUEUE, VMQ_QUEUE_KERNEL, 0);
	SEND_STEPS(&dev, steps);
}

static void test_default_free_kernel_choice(void **state)
{
	static const struct send_step steps[] = {
		{ .marks = { 9, 100 },
		  .nmarks = 2,
		  .slot = VMQ_TXQ_SLOT_KERNEL,
		  .not_live = 1,
		  .beyond = 1,
		  .id = 9,
		  .fallback_packets = 1 },
		/*
		 * Unmarked traffic (ID 0) also goes to the kernel's choice, as
		 * queue 0's own traffic: queue 0 always exists, so it is no
		 * fallback.
		 */
		{ .marks = { 0 },
		  .nmarks = 1,
		  .slot = VMQ_TXQ_SLOT_KERNEL,
		  .id = VMQ_DEFAULT_QUEUE,
		  .packets = 1 },
	};

	(void)state;
	/* A freshly loaded map: ID 0 not written yet. */
	set_queue(&dev, VMQ_DEFAULT_QUEUE, VMQ_QUEUE_FREE, 0);
	SEND_STEPS(&dev, steps);
}

static void test_txq_out_of_range_left_to_kernel(void **state)
{
	static const struct send_step steps[] = {
		{ .marks = { 14, 15 },
		  .nmarks = 2,
		  .slot = VMQ_TXQ_SLOT_KERNEL,
		  .id = 14,
		  .packets = 1 },
		{ .marks = { 16 }, .nmarks = 1, .slot = VMQ_TXQ_MAX - 1, .id = NO_ID },
	};

	(void)state;
	/* libvmq does not stop a queue entry naming a TX queue vmq cannot
	 * steer to; the program leaves such packets to the kernel. */
	set_queue(&dev, 14, VMQ_QUEUE_TXQ, VMQ_TXQ_MAX);
	set_queue(&dev, 15, VMQ_QUEUE_TXQ, 0xffff);
	set_queue(&dev, 16, VMQ_QUEUE_TXQ, VMQ_TXQ_MAX - 1);
	SEND_STEPS(&dev, steps);
}

static void test_bad_group_goes_to_default(void **state)
{
	static const __u16 txqs[] = { 50, 51 };
	struct vmq_queue_stats qb, qa;

	(void)state;
	/* Group 5 never written (ntxqs 0). */
	set_queue(&dev, 17, VMQ_QUEUE_GROUP, 5);
	/* Group ID past the groups map. */
	set_queue(&dev, 18, VMQ_QUEUE_GROUP, VMQ_GROUPS_MAX);
	qb = qstats(&dev, 17);
	snap_take(&dev, &before);
	run_udp(&dev, 17, 1000, 1);
	run_udp(&dev, 18, 1000, 1);
	snap_take(&dev, &after);
	qa = qstats(&dev, 17);
	expect_only_txq(DEF_TXQ, 2, PKT_LEN);
	expect_fallbacks(0, 0, 2, PKT_LEN);
	/* The ID is live but could not serve: its packets count as its
	 * fallbacks, like the reason counter says. */
	expect_qstats(&qb, &qa, 0, 1, PKT_LEN);

	/* A group that existed and was cleared under a queue still pointing
	 * at it. */
	assert_int_equal(vmq_group_write(&dev, 6, txqs, 2), 0);
	set_queue(&dev, 19, VMQ_QUEUE_GROUP, 6);
	before = after;
	run_udp(&dev, 19, 1000, 1);
	snap_take(&dev, &after);
	assert_int_equal(after.txq[50].packets + after.txq[51].packets - before.txq[50].packets -
				 before.txq[51].packets,
			 1);
	expect_fallbacks(0, 0, 0, PKT_LEN);
	assert_int_equal(vmq_group_clear(&dev, 6), 0);
	before = after;
	run_udp(&dev, 19, 1000, 1);
	snap_take(&dev, &after);
	expect_only_txq(DEF_TXQ, 1, PKT_LEN);
	expect_fallbacks(0, 0, 1, PKT_LEN);

	/* With the default queue left to the kernel, so are bad groups. */
	set_queue(&dev, VMQ_DEFAULT_QUEUE, VMQ_QUEUE_KERNEL, 0);
	before = after;
	run_udp(&dev, 19, 1000, 1);
	snap_take(&dev, &after);
	expect_only_txq(VMQ_TXQ_SLOT_KERNEL, 1, PKT_LEN);
	expect_fallbacks(0, 0, 1, PKT_LEN);
}

/*
 * Whatever the mark and the packet, the verdict is TC_ACT_UNSPEC and each
 * packet is counted on exactly one TX queue slot. Covers packets the flow
 * dissector has little to hash (one byte after the Ethernet header, ARP,
 * IPv4 and IPv6 with no transport header) through a group.
 */
static void test_never_drops(void **state)
{
	static const __u16 txqs[] = { 60, 61, 62 };
	static const __u32 marks[] = { 0, 1, 2, 3, 4, 5, 63, 64, 100, 0xffff, 0x10000, 0xffffffff };
	/* test_run refuses a frame of ETH_HLEN bytes or fewer, and an IPv4
	 * one shorter than an IP header (EINVAL): the shortest frame tried
	 * has one byte after the header, of an experimental ethertype. */
	__u8 bare[ETH_HLEN + 1] = {};
	__u8 ip4[ETH_HLEN + 20] = {};
	__u8 arp[ETH_HLEN + 28] = {};
	__u8 ip6[ETH_HLEN + 40] = {};
	struct udp_pkt udp;
	const struct {
		const void *data;
		__u32 len;
	} pkts[] = {
		{ &udp, sizeof(udp) }, { bare, sizeof(bare) }, { ip4, sizeof(ip4) },
		{ arp, sizeof(arp) },  { ip6, sizeof(ip6) },
	};
	const size_t npkts = sizeof(pkts) / sizeof(pkts[0]);
	const size_t nmarks = sizeof(marks) / sizeof(marks[0]);
	__u64 packets = 0, bytes = 0, slot_packets = 0, slot_bytes = 0, sum;
	__u64 group_packets = 0, group_bytes = 0;

	(void)state;
	build_udp(&udp, 1234, 0);
	eth_frame(bare, 0x88b5);
	eth_frame(ip4, ETH_P_IP);
	ip4[ETH_HLEN] = 0x45;	   /* version 4, 20-byte header */
	ip4[ETH_HLEN + 3] = 20;	   /* total length: the header alone */
	ip4[ETH_HLEN + 9] = 17;	   /* UDP, but no UDP header follows */
	eth_frame(arp, ETH_P_ARP); /* an empty ARP body */
	eth_frame(ip6, ETH_P_IPV6);
	ip6[ETH_HLEN] = 0x60; /* version 6, no next header, zero addresses */
	ip6[ETH_HLEN + 6] = 59;
	assert_int_equal(vmq_group_write(&dev, 7, txqs, 3), 0);
	set_queue(&dev, 1, VMQ_QUEUE_TXQ, 1);
	set_queue(&dev, 2, VMQ_QUEUE_GROUP, 7);
	set_queue(&dev, 3, VMQ_QUEUE_GROUP, 8); /* empty group */
	set_queue(&dev, 4, VMQ_QUEUE_KERNEL, 0);
	set_queue(&dev, 5, 0x7fff, 1); /* a state this build does not know */
	snap_take(&dev, &before);
	for (size_t p = 0; p < npkts; p++) {
		for (size_t m = 0; m < nmarks; m++) {
			run_on(&dev, pkts[p].data, pkts[p].len, marks[m], 1);
			packets++;
			bytes += pkts[p].len;
		}
	}
	snap_take(&dev, &after);
	for (__u32 i = 0; i < VMQ_TXQ_SLOTS; i++) {
		slot_packets += after.txq[i].packets - before.txq[i].packets;
		slot_bytes += after.txq[i].bytes - before.txq[i].bytes;
	}
	assert_int_equal(slot_packets, packets);
	assert_int_equal(slot_bytes, bytes);

	/* Per mark, every packet shape went the same way. */
	sum = bytes / nmarks;
	assert_int_equal(after.txq[1].packets - before.txq[1].packets, npkts);
	assert_int_equal(after.txq[1].bytes - before.txq[1].bytes, sum);
	assert_int_equal(after.txq[VMQ_TXQ_SLOT_KERNEL].packets -
				 before.txq[VMQ_TXQ_SLOT_KERNEL].packets,
			 npkts);
	for (int i = 0; i < 3; i++) {
		group_packets += after.txq[txqs[i]].packets - before.txq[txqs[i]].packets;
		group_bytes += after.txq[txqs[i]].bytes - before.txq[txqs[i]].bytes;
	}
	assert_int_equal(group_packets, npkts);
	assert_int_equal(group_bytes, sum);
	/* Marks 0 and 0x10000 (ID 0), 3 (bad group), 5 and 63 (not live),
	 * 64, 100, 0xffff and 0xffffffff (beyond the map). */
	assert_int_equal(after.txq[DEF_TXQ].packets - before.txq[DEF_TXQ].packets, 9 * npkts);
	assert_int_equal(after.txq[DEF_TXQ].bytes - before.txq[DEF_TXQ].bytes, 9 * sum);
	for (__u32 r = 0; r < VMQ_FALLBACK_REASONS; r++) {
		__u64 n = r == VMQ_FALLBACK_NOT_LIVE ? 2 : r == VMQ_FALLBACK_BEYOND_MAP ? 4 : 1;

		assert_int_equal(after.fb[r].packets - before.fb[r].packets, n * npkts);
		assert_int_equal(after.fb[r].bytes - before.fb[r].bytes, n * sum);
	}
}

/* --- port resolution at the uplink (uplink mode) ------------------------ */

/* Mark without an ID, from a bound port: the port's queue. */
static void test_port_slot_steers(void **state)
{
	struct vmq_port_slot slot;
	struct vmq_queue_stats qb, qa;

	(void)state;
	set_queue(&dev, 5, VMQ_QUEUE_TXQ, 3);
	assert_int_equal(vmq_port_slot_set(&dev, PORT_A, 5), 0);
	assert_int_equal(vmq_port_slot_read(&dev, PORT_A, &slot), 0);
	assert_int_equal(slot.flags, VMQ_PORT_SLOT_F_BOUND);
	assert_int_equal(slot.queue_id, 5);
	qb = qstats(&dev, 5);
	snap_take(&dev, &before);
	run_udp_from(&dev, 0, PORT_A);
	/* Bits outside the mask are no ID: still the port's. */
	run_udp_from(&dev, 0xabcd0000U, PORT_A);
	snap_take(&dev, &after);
	qa = qstats(&dev, 5);
	expect_only_txq(3, 2, PKT_LEN);
	expect_fallbacks(0, 0, 0, PKT_LEN);
	expect_qstats(&qb, &qa, 2, 0, PKT_LEN);

	/* The highest slot works like any other. */
	assert_int_equal(vmq_port_slot_set(&dev, PORT_TOP, 5), 0);
	before = after;
	run_udp_from(&dev, 0, PORT_TOP);
	snap_take(&dev, &after);
	expect_only_txq(3, 1, PKT_LEN);

	/* Rebound (one store) and cleared. */
	set_queue(&dev, 6, VMQ_QUEUE_TXQ, 4);
	assert_int_equal(vmq_port_slot_set(&dev, PORT_A, 6), 0);
	before = after;
	run_udp_from(&dev, 0, PORT_A);
	snap_take(&dev, &after);
	expect_only_txq(4, 1, PKT_LEN);
	assert_int_equal(vmq_port_slot_clear(&dev, PORT_A), 0);
	before = after;
	run_udp_from(&dev, 0, PORT_A);
	snap_take(&dev, &after);
	expect_only_txq(DEF_TXQ, 1, PKT_LEN);
	expect_fallbacks(0, 0, 0, PKT_LEN);
}

/* Mark without an ID from an unbound port, or from the host (ifindex 0):
 * the default queue, as its own traffic (no fallback). */
static void test_port_slot_unbound(void **state)
{
	struct vmq_queue_stats qb, qa;

	(void)state;
	set_queue(&dev, 5, VMQ_QUEUE_TXQ, 3);
	assert_int_equal(vmq_port_slot_set(&dev, PORT_A, 5), 0);
	/* Slot 0 is never bound. */
	assert_int_equal(vmq_port_slot_set(&dev, 0, 5), -ERANGE);
	qb = qstats(&dev, VMQ_DEFAULT_QUEUE);
	snap_take(&dev, &before);
	run_udp_from(&dev, 0, PORT_B);
	run_udp_from(&dev, 0, 0);
	snap_take(&dev, &after);
	qa = qstats(&dev, VMQ_DEFAULT_QUEUE);
	expect_only_txq(DEF_TXQ, 2, PKT_LEN);
	expect_fallbacks(0, 0, 0, PKT_LEN);
	expect_qstats(&qb, &qa, 2, 0, PKT_LEN);
}

/* A mark that carries an ID wins over the port's binding. */
static void test_port_slot_mark_wins(void **state)
{
	struct vmq_queue_stats qb, qa;

	(void)state;
	set_queue(&dev, 5, VMQ_QUEUE_TXQ, 3);
	set_queue(&dev, 6, VMQ_QUEUE_TXQ, 4);
	assert_int_equal(vmq_port_slot_set(&dev, PORT_A, 5), 0);
	qb = qstats(&dev, 5);
	snap_take(&dev, &before);
	run_udp_from(&dev, 6, PORT_A);
	/* Even a stale ID: the mark said it, the port is not asked. */
	run_udp_from(&dev, 9, PORT_A);
	snap_take(&dev, &after);
	qa = qstats(&dev, 5);
	assert_int_equal(after.txq[4].packets - before.txq[4].packets, 1);
	assert_int_equal(after.txq[DEF_TXQ].packets - before.txq[DEF_TXQ].packets, 1);
	expect_fallbacks(1, 0, 0, PKT_LEN);
	expect_qstats(&qb, &qa, 0, 0, PKT_LEN);
}

/* Beyond the array: no lookup, no slot to bind; the default queue. */
static void test_port_slot_beyond_array(void **state)
{
	static const __u32 beyond[] = { VMQ_PORT_IFINDEX_MAX, VMQ_PORT_IFINDEX_MAX + 1U,
					0x7fffffffU, 0xffffffffU };

	(void)state;
	set_queue(&dev, 5, VMQ_QUEUE_TXQ, 3);
	assert_int_equal(vmq_port_slot_set(&dev, VMQ_PORT_IFINDEX_MAX, 5), -ERANGE);
	snap_take(&dev, &before);
	for (size_t i = 0; i < sizeof(beyond) / sizeof(beyond[0]); i++)
		run_udp_from(&dev, 0, beyond[i]);
	/* With a mark, as stamping does beyond the array: the mark's queue. */
	run_udp_from(&dev, 5, VMQ_PORT_IFINDEX_MAX);
	snap_take(&dev, &after);
	assert_int_equal(after.txq[DEF_TXQ].packets - before.txq[DEF_TXQ].packets, 4);
	assert_int_equal(after.txq[3].packets - before.txq[3].packets, 1);
	expect_fallbacks(0, 0, 0, PKT_LEN);
}

/* A port bound to a queue that is not live (freed after the bind): the
 * default queue, counted as a not_live fallback of that queue. */
static void test_port_slot_not_live(void **state)
{
	struct vmq_queue_stats qb, qa;

	(void)state;
	assert_int_equal(vmq_port_slot_set(&dev, PORT_B, 10), 0);
	qb = qstats(&dev, 10);
	snap_take(&dev, &before);
	run_udp_from(&dev, 0, PORT_B);
	snap_take(&dev, &after);
	qa = qstats(&dev, 10);
	expect_only_txq(DEF_TXQ, 1, PKT_LEN);
	expect_fallbacks(1, 0, 0, PKT_LEN);
	expect_qstats(&qb, &qa, 0, 1, PKT_LEN);

	/* Back: steered again, with no rebind. */
	set_queue(&dev, 10, VMQ_QUEUE_TXQ, 7);
	before = after;
	run_udp_from(&dev, 0, PORT_B);
	snap_take(&dev, &after);
	expect_only_txq(7, 1, PKT_LEN);
	expect_fallbacks(0, 0, 0, PKT_LEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_live_queue_goes_to_its_txq, setup_test),
		cmocka_unit_test_setup(test_queue_update_moves_traffic, setup_test),
		cmocka_unit_test_setup(test_unknown_id_goes_to_default, setup_test),
		cmocka_unit_test_setup(test_freed_id_goes_to_default, setup_test),
		cmocka_unit_test_setup(test_id_beyond_map, setup_test),
		cmocka_unit_test_setup(test_custom_mark_mask, setup_test),
		cmocka_unit_test_setup(test_group_spreads_flows, setup_test),
		cmocka_unit_test_setup(test_flow_stays_on_one_txq, setup_test),
		cmocka_unit_test_setup(test_default_fixed_txq, setup_test),
		cmocka_unit_test_setup(test_default_kernel_choice, setup_test),
		cmocka_unit_test_setup(test_default_free_kernel_choice, setup_test),
		cmocka_unit_test_setup(test_txq_out_of_range_left_to_kernel, setup_test),
		cmocka_unit_test_setup(test_bad_group_goes_to_default, setup_test),
		cmocka_unit_test_setup(test_never_drops, setup_test),
		cmocka_unit_test_setup(test_port_slot_steers, setup_test),
		cmocka_unit_test_setup(test_port_slot_unbound, setup_test),
		cmocka_unit_test_setup(test_port_slot_mark_wins, setup_test),
		cmocka_unit_test_setup(test_port_slot_beyond_array, setup_test),
		cmocka_unit_test_setup(test_port_slot_not_live, setup_test),
		cmocka_unit_test_setup(test_store_writes_every_copy, setup_test),
		cmocka_unit_test_setup(test_copy_used, setup_test),
		cmocka_unit_test_setup(test_free_copy_reads_truth, setup_test),
		cmocka_unit_test_setup(test_store_keeps_counters, setup_test),
		cmocka_unit_test_setup(test_store_loses_no_increment, setup_test),
	};

	return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
