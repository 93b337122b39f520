// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vmq-bench: per-packet cost of vmq_tx under BPF_PROG_TEST_RUN, against an
 * empty tc program loaded in the same run (r0 = -1 (TC_ACT_UNSPEC); exit:
 * the same verdict as vmq_tx). It prints figures and never fails on time:
 * only a real error (load, map write, a path that does not go where it
 * should) exits non-zero.
 *
 * Three instances of vmq_tx, by live VM queues (the default queue 0 is
 * live in all three and not counted):
 *   1      map of 16 IDs, ID 1 live
 *   4096   map of 8192 IDs, IDs 1..4096 live (what 4096 `queue add` need)
 *   65535  map of 65536 IDs (VMQ_QUEUES_MAX), IDs 1..65535 live
 * and two ways of choosing the packet's queue ID:
 *   same ID  one packet repeated: the tested ID (1, 4096, 65535) on the
 *            direct, group and fallback (that ID freed) paths. Whatever
 *            the map size, the same entry and counters stay in L1: this is
 *            the instruction cost of the path.
 *   random   direct path, a different live ID for every run: a wrapper
 *            program writes skb->mark = 1 + hash(run number) % live, then
 *            tail-calls vmq_tx. The baseline is the same wrapper
 *            tail-calling the empty program. This one shows what the
 *            queue count does to the caches (queue entries: 4 bytes per
 *            ID; per-queue counters: 32 bytes per ID per CPU).
 * Each round runs every case's baseline then the case itself, back to
 * back; ratios are taken per round and the tables give medians over the
 * rounds. Two clocks: the kernel's average (opts.duration, whole ns) and
 * the thread's CPU time / runs (finer; includes the one syscall, spread
 * over the runs). Goals are judged on the CPU-time ratios.
 *
 * Helper modes for bench/run.sh (no benchmark run):
 *   --pin-empty PATH  pins the same empty program at PATH (on a bpffs), for
 *                     the end-to-end control run with empty tc programs
 *   --hold-stats      turns on the kernel's BPF run-time statistics
 *                     (BPF_ENABLE_STATS) and holds them on until killed;
 *                     they go off when this process exits, however it does
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "libvmq.h"

#define DEFAULT_REPEAT 10000000U
#define DEFAULT_ROUNDS 5U
#define DEFAULT_JSON   "build/bench/vmq-bench.json"
#define BENCH_GROUP    1U
#define BENCH_TXQ      3U
/* The port of the "port" path: bound in uplink mode, found by ingress ifindex. */
#define BENCH_PORT_IFINDEX 7U
#define VERIFY_REPEAT	   1000
#define NINST		   3U
#define NPATHS		   4U
#define NCASES		   (NINST * NPATHS + NINST) /* same ID, then random */
#define FLAT_GOAL	   1.02

struct udp_pkt {
	struct ethhdr eth;
	struct iphdr ip;
	struct udphdr udp;
	__u8 payload[22];
} __attribute__((packed));

enum bench_path {
	PATH_DIRECT,
	PATH_GROUP,
	PATH_FALLBACK,
	PATH_PORT, /* mark 0: the port is resolved by ingress_ifindex (uplink mode) */
};

static const char *const path_names[] = {
	[PATH_DIRECT] = "direct",
	[PATH_GROUP] = "group",
	[PATH_FALLBACK] = "fallback",
	[PATH_PORT] = "port",
};

/* Goals to report, not to assert. 0: none given. */
static const double path_goals[] = {
	[PATH_DIRECT] = 1.10,
	[PATH_GROUP] = 1.25,
	[PATH_FALLBACK] = 0,
	[PATH_PORT] = 1.15,
};

struct instance {
	const char *name;
	__u32 nr_queues; /* map size */
	__u32 live;	 /* live VM queues: IDs 1..live */
	struct vmq_dev dev;
	int ring_fd, ring_map_fd;	      /* wrapper -> vmq_tx */
	int ring_empty_fd, ring_empty_map_fd; /* wrapper -> empty */
};

static struct instance insts[NINST] = {
	{ .name = "1", .nr_queues = 16, .live = 1 },
	{ .name = "4096", .nr_queues = 8192, .live = 4096 },
	{ .name = "65535", .nr_queues = VMQ_QUEUES_MAX, .live = VMQ_QUEUES_MAX - 1 },
};

struct bench_case {
	enum bench_path path;
	int random; /* 0: same ID; 1: random live ID per run (wrapper) */
	struct instance *inst;
	__u32 id; /* the tested ID: in the mark (same ID), its entry set per case */
	struct vmq_queue_entry entry;
	int prog_fd, base_fd;
	/* per round */
	double *ns, *cpu;   /* the case: kernel ns/run, CPU ns/run */
	double *bns, *bcpu; /* its baseline, just before */
};

struct result {
	double ns, ns_min, ns_max, cpu, cpu_min, cpu_max; /* medians, min, max */
	double bns, bcpu;				  /* baseline medians */
	double ratio, ratio_min, ratio_max; /* paired CPU-time ratio case / baseline */
	double ratio_ns;		    /* paired kernel-ns ratio */
};

static char sandbox_dir[64];
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* SIGINT, SIGTERM, SIGHUP: stop at the next test run (no SA_RESTART, so
 * one in progress returns EINTR) and clean up the sandbox on the way out. */
static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static void inst_init(void)
{
	for (size_t i = 0; i < NINST; i++) {
		vmq_dev_init(&insts[i].dev);
		insts[i].ring_fd = -1;
		insts[i].ring_map_fd = -1;
		insts[i].ring_empty_fd = -1;
		insts[i].ring_empty_map_fd = -1;
	}
}

/* A private netns and mountns with its own bpffs, like the unit tests:
 * whatever the benchmark pins vanishes with it. */
static int sandbox_enter(void)
{
	if (unshare(CLONE_NEWNET | CLONE_NEWNS)) {
		fprintf(stderr, "vmq-bench: unshare: %s\n", strerror(errno));
		return -errno;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		fprintf(stderr, "vmq-bench: mount --make-rprivate /: %s\n", strerror(errno));
		return -errno;
	}
	snprintf(sandbox_dir, sizeof(sandbox_dir), "/tmp/vmq-bench-XXXXXX");
	if (!mkdtemp(sandbox_dir)) {
		fprintf(stderr, "vmq-bench: mkdtemp: %s\n", strerror(errno));
		sandbox_dir[0] = '\0';
		return -errno;
	}
	if (mount("bpf", sandbox_dir, "bpf", 0, "mode=0700")) {
		fprintf(stderr, "vmq-bench: mount bpffs: %s\n", strerror(errno));
		rmdir(sandbox_dir);
		sandbox_dir[0] = '\0';
		return -errno;
	}
	return 0;
}

static void sandbox_leave(void)
{
	if (sandbox_dir[0]) {
		umount2(sandbox_dir, MNT_DETACH);
		rmdir(sandbox_dir);
	}
}

/* One CPU for the whole run: the last one this process may use. */
static int pin_cpu(void)
{
	cpu_set_t set;
	int cpu = -1;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -1;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			cpu = c;
	if (cpu < 0)
		return -1;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -1 : cpu;
}

#define INSN(c, d, s, o, i)                                                                        \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define ALU32_K(op, d, k) INSN(BPF_ALU | (op) | BPF_K, d, 0, 0, k)
#define ALU32_X(op, d, s) INSN(BPF_ALU | (op) | BPF_X, d, s, 0, 0)
#define MOV64_X(d, s)	  INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV64_K(d, k)	  INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, k)
#define LDX_W(d, s, off)  INSN(BPF_LDX | BPF_MEM | BPF_W, d, s, off, 0)
#define STX_W(d, s, off)  INSN(BPF_STX | BPF_MEM | BPF_W, d, s, off, 0)
#define EXIT_INSN()	  INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
#define CALL(f)		  INSN(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define SKB_OFF(field)	  ((short)offsetof(struct __sk_buff, field))
#define LD_MAP_FD(d, fd)                                                                           \
	INSN(BPF_LD | BPF_DW | BPF_IMM, d, BPF_PSEUDO_MAP_FD, 0, fd), INSN(0, 0, 0, 0, 0)

static int load_insns(const char *name, const struct bpf_insn *insns, size_t n)
{
	int fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, name, "GPL", insns, n, NULL);

	return fd < 0 ? -errno : fd;
}

/* r0 = -1 (TC_ACT_UNSPEC); exit */
static int load_empty(void)
{
	const struct bpf_insn insns[] = {
		MOV64_K(BPF_REG_0, TC_ACT_UNSPEC),
		EXIT_INSN(),
	};

	return load_insns("vmq_empty", insns, sizeof(insns) / sizeof(insns[0]));
}

/*
 * The random-ID wrapper: n = ++cb[0] (kept in the skb across runs);
 * mark = 1 + fmix32(n) % live; tail call to slot 0 of a one-slot program
 * array holding `target`. Returns TC_ACT_OK if the tail call fails, which
 * run_prog() reports (the target returns TC_ACT_UNSPEC). The caller keeps
 * *map_fd open: a program array loses its entries with its last user
 * reference.
 */
static int load_ring(__u32 live, int target_fd, int *map_fd_out)
{
	const __u32 key = 0;
	int map_fd, fd, err;

	map_fd = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "vmq_bench_jmp", sizeof(__u32),
				sizeof(__u32), 1, NULL);
	if (map_fd < 0)
		return -errno;
	{
		const struct bpf_insn insns[] = {
			MOV64_X(BPF_REG_6, BPF_REG_1),
			LDX_W(BPF_REG_2, BPF_REG_6, SKB_OFF(cb[0])),
			ALU32_K(BPF_ADD, BPF_REG_2, 1),
			STX_W(BPF_REG_6, BPF_REG_2, SKB_OFF(cb[0])),
			/* murmur3 fmix32 */
			ALU32_X(BPF_MOV, BPF_REG_3, BPF_REG_2),
			ALU32_K(BPF_RSH, BPF_REG_3, 16),
			ALU32_X(BPF_XOR, BPF_REG_2, BPF_REG_3),
			ALU32_K(BPF_MUL, BPF_REG_2, (int)0x85ebca6bU),
			ALU32_X(BPF_MOV, BPF_REG_3, BPF_REG_2),
			ALU32_K(BPF_RSH, BPF_REG_3, 13),
			ALU32_X(BPF_XOR, BPF_REG_2, BPF_REG_3),
			ALU32_K(BPF_MUL, BPF_REG_2, (int)0xc2b2ae35U),
			ALU32_X(BPF_MOV, BPF_REG_3, BPF_REG_2),
			ALU32_K(BPF_RSH, BPF_REG_3, 16),
			ALU32_X(BPF_XOR, BPF_REG_2, BPF_REG_3),
			ALU32_K(BPF_MOD, BPF_REG_2, (int)live),
			ALU32_K(BPF_ADD, BPF_REG_2, 1),
			STX_W(BPF_REG_6, BPF_REG_2, SKB_OFF(mark)),
			MOV64_X(BPF_REG_1, BPF_REG_6),
			LD_MAP_FD(BPF_REG_2, map_fd),
			MOV64_K(BPF_REG_3, 0),
			CALL(BPF_FUNC_tail_call),
			MOV64_K(BPF_REG_0, TC_ACT_OK),
			EXIT_INSN(),
		};

		fd = load_insns("vmq_bench_ring", insns, sizeof(insns) / sizeof(insns[0]));
	}
	if (fd >= 0 && bpf_map_update_elem(map_fd, &key, &target_fd, BPF_ANY)) {
		err = -errno;
		close(fd);
		fd = err;
	}
	if (fd < 0)
		close(map_fd);
	else
		*map_fd_out = map_fd;
	return fd;
}

/* 64 bytes: 10.0.0.1:10000 -> 10.0.0.2:4789, UDP. */
static void build_udp(struct udp_pkt *p)
{
	memset(p, 0, sizeof(*p));
	p->eth.h_dest[0] = 0x02;
	p->eth.h_dest[5] = 0x02;
	p->eth.h_source[0] = 0x02;
	p->eth.h_source[5] = 0x01;
	p->eth.h_proto = htons(ETH_P_IP);
	p->ip.version = 4;
	p->ip.ihl = 5;
	p->ip.tot_len = htons(sizeof(*p) - sizeof(p->eth));
	p->ip.ttl = 64;
	p->ip.protocol = IPPROTO_UDP;
	p->ip.saddr = htonl(0x0a000001);
	p->ip.daddr = htonl(0x0a000002);
	p->udp.source = htons(10000);
	p->udp.dest = htons(4789);
	p->udp.len = htons(sizeof(p->udp) + sizeof(p->payload));
}

static double thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* One BPF_PROG_TEST_RUN of `repeat` runs: the kernel's average ns per run
 * (whole ns), and the thread's CPU time per run (finer, includes the one
 * syscall and skb setup, spread over `repeat`). */
static int run_prog(int prog_fd, const struct udp_pkt *pkt, __u32 mark, __u32 ifindex, int repeat,
		    double *ns, double *cpu)
{
	struct __sk_buff ctx = { .mark = mark, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = sizeof(*pkt),
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = repeat);
	double t0, t1;

	t0 = thread_ns();
	if (bpf_prog_test_run_opts(prog_fd, &opts))
		return -errno;
	t1 = thread_ns();
	if ((int)opts.retval != TC_ACT_UNSPEC)
		return -EPROTO;
	if (ns)
		*ns = opts.duration;
	if (cpu)
		*cpu = (t1 - t0) / repeat;
	return 0;
}

/* ID 0 on TX queue 0; group BENCH_GROUP over TX queues 0-3; IDs 1..live on
 * TX queues by ID (the tested one is set per case). One batch update: the
 * benchmark's own instance, no packet is in flight. */
static int prepare(const struct instance *in)
{
	static const __u16 txqs[] = { 0, 1, 2, 3 };
	__u32 n = in->live + 1, *keys;
	struct vmq_queue_entry *vals;
	int err;

	err = vmq_group_write(&in->dev, BENCH_GROUP, txqs, 4);
	if (err)
		return err;
	keys = calloc(n, sizeof(*keys));
	vals = calloc(n, sizeof(*vals));
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	for (__u32 id = 0; id < n; id++) {
		keys[id] = id;
		vals[id] = (struct vmq_queue_entry){ VMQ_QUEUE_TXQ, (__u16)(id % 64) };
	}
	if (bpf_map_update_batch(in->dev.queues_fd, keys, vals, &n, NULL))
		err = -errno;
	else if (n != in->live + 1)
		err = -EIO;
out:
	free(keys);
	free(vals);
	return err;
}

/* Every packet whose ID is in the map, steered or not, counted by its ID. */
static int counted_total(const struct vmq_dev *dev, __u64 *total)
{
	struct vmq_queue_stats *sums = calloc(dev->nr_queues, sizeof(*sums));
	int err = sums ? vmq_queue_stats_read_all(dev, sums) : -ENOMEM;

	*total = 0;
	for (__u32 i = 0; !err && i < dev->nr_queues; i++)
		*total += sums[i].packets + sums[i].fallback_packets;
	free(sums);
	return err;
}

static int fallback_total(const struct vmq_dev *dev, __u64 *total)
{
	struct vmq_counter c;
	int err = 0;

	*total = 0;
	for (__u32 r = 0; !err && r < VMQ_FALLBACK_REASONS; r++) {
		err = vmq_fallback_read(dev, r, &c);
		*total += c.packets;
	}
	return err;
}

/* What a run's context carries: the ID in the mark, or (the port path) no
 * ID and the bound port's ifindex. */
static __u32 case_mark(const struct bench_case *c)
{
	return c->path == PATH_PORT ? 0 : c->id;
}

static __u32 case_ifindex(const struct bench_case *c)
{
	return c->path == PATH_PORT ? BENCH_PORT_IFINDEX : 0;
}

/* The case's path really is taken: its counters move by exactly the runs.
 * Random IDs: every run counted by its ID, none fell back. */
static int verify(const struct bench_case *c, const struct udp_pkt *pkt)
{
	const struct vmq_dev *dev = &c->inst->dev;
	struct vmq_queue_stats qb, qa;
	__u64 fb, fa, tb, ta;
	int err;

	err = vmq_queue_write(dev, c->id, c->entry);
	if (!err)
		err = run_prog(c->base_fd, pkt, case_mark(c), case_ifindex(c), VERIFY_REPEAT, NULL,
			       NULL);
	if (!err)
		err = vmq_queue_stats_read(dev, c->id, &qb);
	if (!err)
		err = fallback_total(dev, &fb);
	if (!err)
		err = counted_total(dev, &tb);
	if (!err)
		err = run_prog(c->prog_fd, pkt, case_mark(c), case_ifindex(c), VERIFY_REPEAT, NULL,
			       NULL);
	if (!err)
		err = vmq_queue_stats_read(dev, c->id, &qa);
	if (!err)
		err = fallback_total(dev, &fa);
	if (!err)
		err = counted_total(dev, &ta);
	if (err)
		return err;
	if (ta - tb != VERIFY_REPEAT)
		return -EPROTO;
	if (c->random)
		return fa == fb ? 0 : -EPROTO;
	if (c->path == PATH_FALLBACK)
		return qa.fallback_packets - qb.fallback_packets == VERIFY_REPEAT &&
				       fa - fb == VERIFY_REPEAT
			       ? 0
			       : -EPROTO;
	return qa.packets - qb.packets == VERIFY_REPEAT && fa == fb ? 0 : -EPROTO;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, size_t n)
{
	double *s = malloc(n * sizeof(*s));
	double m;

	if (!s)
		return 0;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	free(s);
	return m;
}

static double min_of(const double *v, size_t n)
{
	double m = v[0];

	for (size_t i = 1; i < n; i++)
		m = v[i] < m ? v[i] : m;
	return m;
}

static double max_of(const double *v, size_t n)
{
	double m = v[0];

	for (size_t i = 1; i < n; i++)
		m = v[i] > m ? v[i] : m;
	return m;
}

/* Median over rounds of a[r] / b[r]; min and max too. */
static double paired(const double *a, const double *b, size_t n, double *mn, double *mx)
{
	double *q = calloc(n, sizeof(*q));
	double m;

	if (!q || !n) {
		free(q);
		return 0;
	}
	for (size_t r = 0; r < n; r++)
		q[r] = b[r] > 0 ? a[r] / b[r] : 0;
	m = median(q, n);
	if (mn)
		*mn = min_of(q, n);
	if (mx)
		*mx = max_of(q, n);
	free(q);
	return m;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vmq-bench [--repeat N] [--rounds N] [--json PATH]\n"
		"       vmq-bench --pin-empty PATH | --hold-stats | --help\n"
		"  --repeat N        runs per BPF_PROG_TEST_RUN (default %u)\n"
		"  --rounds N        rounds; each runs every case after its baseline (default %u)\n"
		"  --json PATH       where to write the figures (default %s)\n"
		"  --pin-empty PATH  pin the empty tc program at PATH (on a bpffs) and exit\n"
		"  --hold-stats      turn on BPF run-time stats until killed\n"
		"Needs root. Prints figures; never fails on time.\n",
		DEFAULT_REPEAT, DEFAULT_ROUNDS, DEFAULT_JSON);
}

static int mkdir_parent(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	if (strlen(path) >= sizeof(dir))
		return -ENAMETOOLONG;
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	return vmq_mkdir_p(dir, 0755);
}

static const struct bench_case *find_case(const struct bench_case *cases, enum bench_path path,
					  int random, size_t inst)
{
	for (size_t i = 0; i < NCASES; i++)
		if (cases[i].path == path && cases[i].random == random &&
		    cases[i].inst == &insts[inst])
			return &cases[i];
	return NULL;
}

struct flat {
	double ratio, ratio_min, ratio_max; /* paired CPU-time ratio, 65535 over 1 */
	double ratio_ns;		    /* the same, kernel ns */
};

/* Direct path at 65535 live queues over 1 live queue, per round. */
static void flatness(const struct bench_case *cases, int random, __u32 rounds, struct flat *f)
{
	const struct bench_case *one = find_case(cases, PATH_DIRECT, random, 0);
	const struct bench_case *big = find_case(cases, PATH_DIRECT, random, NINST - 1);

	f->ratio = paired(big->cpu, one->cpu, rounds, &f->ratio_min, &f->ratio_max);
	f->ratio_ns = paired(big->ns, one->ns, rounds, NULL, NULL);
}

static void json_case(FILE *f, const struct bench_case *c, const struct result *r)
{
	double goal = c->random ? 0 : path_goals[c->path];

	fprintf(f,
		"    {\"path\": \"%s\", \"ids\": \"%s\", \"live_queues\": %u, \"map_entries\": "
		"%u, ",
		path_names[c->path], c->random ? "random" : "same", c->inst->live,
		c->inst->nr_queues);
	if (c->random)
		fprintf(f, "\"queue_id\": null, ");
	else
		fprintf(f, "\"queue_id\": %u, ", c->id);
	fprintf(f, "\"ns_median\": %.2f, \"ns_min\": %.2f, \"ns_max\": %.2f, ", r->ns, r->ns_min,
		r->ns_max);
	fprintf(f, "\"cpu_ns_median\": %.3f, \"cpu_ns_min\": %.3f, \"cpu_ns_max\": %.3f, ", r->cpu,
		r->cpu_min, r->cpu_max);
	fprintf(f, "\"baseline\": \"%s\", \"baseline_ns_median\": %.2f, ",
		c->random ? "wrapper + tail call + empty" : "empty", r->bns);
	fprintf(f, "\"baseline_cpu_ns_median\": %.3f, \"above_baseline_cpu_ns\": %.3f, ", r->bcpu,
		r->cpu - r->bcpu);
	fprintf(f,
		"\"ratio\": %.4f, \"ratio_min\": %.4f, \"ratio_max\": %.4f, \"ratio_ns\": %.4f, ",
		r->ratio, r->ratio_min, r->ratio_max, r->ratio_ns);
	if (goal > 0)
		fprintf(f, "\"goal_ratio\": %.2f, \"within_goal\": %s}", goal,
			r->ratio <= goal ? "true" : "false");
	else
		fprintf(f, "\"goal_ratio\": null, \"within_goal\": null}");
}

static int write_json(const char *path, unsigned int repeat, unsigned int rounds, int cpu,
		      const struct bench_case *cases, const struct result *res, double empty,
		      double empty_cpu, const struct flat *flat)
{
	FILE *f;
	int err = mkdir_parent(path);

	if (err)
		return err;
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "{\n");
	fprintf(f, "  \"tool\": \"vmq-bench\",\n");
	fprintf(f, "  \"method\": \"BPF_PROG_TEST_RUN\",\n");
	fprintf(f, "  \"repeat\": %u,\n  \"rounds\": %u,\n  \"cpu\": %d,\n", repeat, rounds, cpu);
	fprintf(f, "  \"packet_bytes\": %zu,\n", sizeof(struct udp_pkt));
	fprintf(f, "  \"empty_program\": \"r0 = -1; exit\",\n");
	fprintf(f, "  \"empty_ns_median\": %.2f,\n", empty);
	fprintf(f, "  \"empty_cpu_ns_median\": %.3f,\n", empty_cpu);
	fprintf(f,
		"  \"ratio_basis\": \"per round, CPU time of the case / its baseline; median\",\n");
	fprintf(f, "  \"cases\": [\n");
	for (size_t i = 0; i < NCASES; i++) {
		json_case(f, &cases[i], &res[i]);
		fprintf(f, "%s\n", i + 1 < NCASES ? "," : "");
	}
	fprintf(f, "  ],\n  \"flatness\": [\n");
	for (int r = 0; r < 2; r++)
		fprintf(f,
			"    {\"ids\": \"%s\", \"path\": \"direct\", \"from_live\": 1, "
			"\"to_live\": %u, \"ratio\": %.4f, \"ratio_min\": %.4f, \"ratio_max\": "
			"%.4f, \"ratio_ns\": %.4f, \"goal_ratio\": %.2f, \"within_goal\": %s}%s\n",
			r ? "random" : "same", insts[NINST - 1].live, flat[r].ratio,
			flat[r].ratio_min, flat[r].ratio_max, flat[r].ratio_ns, FLAT_GOAL,
			flat[r].ratio <= FLAT_GOAL ? "true" : "false", r ? "" : ",");
	fprintf(f, "  ]\n}\n");
	if (fclose(f))
		return -errno;
	return 0;
}

static int parse_count(const char *opt, const char *s, __u32 max, __u32 *out)
{
	int err = vmq_parse_u32(s, max, out);

	if (!err && !*out)
		err = -ERANGE;
	if (err)
		fprintf(stderr, "vmq-bench: %s: '%s' is not a number from 1 to %u\n", opt, s, max);
	return err;
}

static int pin_empty(const char *path)
{
	int fd = load_empty();

	if (fd < 0) {
		fprintf(stderr, "vmq-bench: loading the empty program: %s\n", strerror(-fd));
		return 1;
	}
	if (bpf_obj_pin(fd, path)) {
		fprintf(stderr, "vmq-bench: pinning at %s: %s\n", path, strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);
	return 0;
}

static int hold_stats(void)
{
	int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);

	if (fd < 0) {
		fprintf(stderr, "vmq-bench: BPF_ENABLE_STATS: %s\n", strerror(-fd));
		return 1;
	}
	printf("stats on\n");
	fflush(stdout);
	for (;;)
		pause(); /* SIGTERM ends the process; the kernel closes fd */
}

static void print_tables(const struct bench_case *cases, const struct result *res, __u32 repeat,
			 __u32 rounds, int cpu, double empty, double empty_cpu,
			 const struct flat *flat)
{
	printf("empty tc program (r0 = -1; exit): median %.1f ns/packet (CPU time %.2f ns)\n\n",
	       empty, empty_cpu);
	printf("Same ID (one packet repeated):\n");
	printf("%-9s %5s %5s %6s %6s %6s %8s %7s %15s %s\n", "path", "live", "ID", "ns", "min",
	       "max", "cpu ns", "+empty", "x empty", "goal");
	for (size_t i = 0; i < NCASES; i++) {
		const struct bench_case *c = &cases[i];
		const struct result *q = &res[i];
		double goal = path_goals[c->path];
		char goal_text[32], ratio_text[32];

		if (c->random)
			continue;
		if (goal > 0)
			snprintf(goal_text, sizeof(goal_text), "%.2fx %s", goal,
				 q->ratio <= goal ? "met" : "MISSED");
		else
			snprintf(goal_text, sizeof(goal_text), "-");
		snprintf(ratio_text, sizeof(ratio_text), "%.3fx (%.2f-%.2f)", q->ratio,
			 q->ratio_min, q->ratio_max);
		printf("%-9s %5u %5u %6.1f %6.1f %6.1f %8.2f %7.2f %15s %s\n", path_names[c->path],
		       c->inst->live, c->id, q->ns, q->ns_min, q->ns_max, q->cpu, q->cpu - q->bcpu,
		       ratio_text, goal_text);
	}
	printf("\nRandom live ID per packet (direct path; wrapper sets the mark, tail-calls):\n");
	printf("%-9s %5s %6s %8s %10s %8s %15s\n", "path", "live", "ns", "cpu ns", "base cpu",
	       "+base", "x base");
	for (size_t i = 0; i < NCASES; i++) {
		const struct bench_case *c = &cases[i];
		const struct result *q = &res[i];
		char ratio_text[32];

		if (!c->random)
			continue;
		snprintf(ratio_text, sizeof(ratio_text), "%.3fx (%.2f-%.2f)", q->ratio,
			 q->ratio_min, q->ratio_max);
		printf("%-9s %5u %6.1f %8.2f %10.2f %8.2f %15s\n", path_names[c->path],
		       c->inst->live, q->ns, q->cpu, q->bcpu, q->cpu - q->bcpu, ratio_text);
	}
	printf("\nFlat across queue counts (direct, %u live over 1 live, per-round CPU-time ratio; "
	       "goal %.2fx):\n",
	       insts[NINST - 1].live, FLAT_GOAL);
	for (int r = 0; r < 2; r++)
		printf("  %-6s IDs: %.3fx (rounds %.3f-%.3f; kernel ns %.3fx) %s\n",
		       r ? "random" : "same", flat[r].ratio, flat[r].ratio_min, flat[r].ratio_max,
		       flat[r].ratio_ns, flat[r].ratio <= FLAT_GOAL ? "met" : "MISSED");
	printf("\n%u rounds x %u runs per case, pinned to CPU %d. ns: the kernel's average per run "
	       "(whole ns), median;\ncpu ns: thread CPU time / runs, median; +empty / +base: cpu "
	       "ns "
	       "above the baseline; x empty /\nx base: per-round CPU-time ratio, median (min-max). "
	       "Goals are reported, not asserted.\nSame ID, group path: the flow hash is computed "
	       "on the first run and cached in the skb.\n",
	       rounds, repeat, cpu);
}

int main(int argc, char **argv)
{
	enum { O_REPEAT = 1, O_ROUNDS, O_JSON, O_PIN, O_HOLD };
	static const struct option longopts[] = {
		{ "repeat", required_argument, NULL, O_REPEAT },
		{ "rounds", required_argument, NULL, O_ROUNDS },
		{ "json", required_argument, NULL, O_JSON },
		{ "pin-empty", required_argument, NULL, O_PIN },
		{ "hold-stats", no_argument, NULL, O_HOLD },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	__u32 repeat = DEFAULT_REPEAT, rounds = DEFAULT_ROUNDS;
	const char *json = DEFAULT_JSON, *pin_path = NULL;
	struct bench_case cases[NCASES];
	struct result res[NCASES];
	struct flat flat[2];
	double *all_empty = NULL, *all_empty_c = NULL, empty, empty_cpu;
	double *store = NULL;
	char root[PATH_MAX];
	struct udp_pkt pkt;
	size_t nempty = 0;
	int empty_fd = -1, cpu;
	int err = 0, opt, hold = 0;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case O_REPEAT:
			if (parse_count("--repeat", optarg, INT_MAX, &repeat))
				return 2;
			break;
		case O_ROUNDS:
			if (parse_count("--rounds", optarg, 10000, &rounds))
				return 2;
			break;
		case O_JSON:
			json = optarg;
			break;
		case O_PIN:
			pin_path = optarg;
			break;
		case O_HOLD:
			hold = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "vmq-bench: needs root (BPF, namespaces)\n");
		return 1;
	}
	libbpf_set_print(NULL);
	if (pin_path)
		return pin_empty(pin_path);
	if (hold)
		return hold_stats();

	inst_init();
	catch_signals();
	err = sandbox_enter();
	if (err)
		return 1;
	cpu = pin_cpu();

	empty_fd = load_empty();
	if (empty_fd < 0) {
		err = empty_fd;
		fprintf(stderr, "vmq-bench: loading the empty program: %s\n", strerror(-err));
		goto out;
	}
	for (size_t i = 0; i < NINST; i++) {
		struct instance *in = &insts[i];
		struct vmq_load_opts o = { .nr_queues = in->nr_queues };

		snprintf(root, sizeof(root), "%s/i%zu", sandbox_dir, i);
		err = vmq_dev_load(&in->dev, root, "lo", &o);
		if (err) {
			fprintf(stderr, "vmq-bench: loading vmq_tx with %u queue IDs: %s\n",
				in->nr_queues, strerror(-err));
			goto out;
		}
		err = prepare(in);
		if (err) {
			fprintf(stderr, "vmq-bench: writing %u queues: %s\n", in->live,
				strerror(-err));
			goto out;
		}
		in->ring_fd = load_ring(in->live, in->dev.prog_fd, &in->ring_map_fd);
		in->ring_empty_fd = in->ring_fd < 0
					    ? in->ring_fd
					    : load_ring(in->live, empty_fd, &in->ring_empty_map_fd);
		if (in->ring_fd < 0 || in->ring_empty_fd < 0) {
			err = in->ring_fd < 0 ? in->ring_fd : in->ring_empty_fd;
			fprintf(stderr, "vmq-bench: loading the random-ID wrapper: %s\n",
				strerror(-err));
			goto out;
		}
	}

	/* Same ID: per instance direct, group, fallback (the tested ID freed;
	 * the others stay live). Random: per instance, direct. */
	for (size_t i = 0; i < NCASES; i++) {
		struct bench_case *c = &cases[i];

		memset(c, 0, sizeof(*c));
		c->random = i >= NINST * NPATHS;
		c->path = c->random ? PATH_DIRECT : (enum bench_path)(i % NPATHS);
		c->inst = &insts[c->random ? i - NINST * NPATHS : i / NPATHS];
		c->id = c->inst->live;
		c->prog_fd = c->random ? c->inst->ring_fd : c->inst->dev.prog_fd;
		c->base_fd = c->random ? c->inst->ring_empty_fd : empty_fd;
		switch (c->path) {
		case PATH_DIRECT:
			c->entry = (struct vmq_queue_entry){ VMQ_QUEUE_TXQ, BENCH_TXQ };
			break;
		case PATH_GROUP:
			c->entry = (struct vmq_queue_entry){ VMQ_QUEUE_GROUP, BENCH_GROUP };
			break;
		case PATH_FALLBACK:
			c->entry = (struct vmq_queue_entry){ VMQ_QUEUE_FREE, 0 };
			break;
		case PATH_PORT:
			c->entry = (struct vmq_queue_entry){ VMQ_QUEUE_TXQ, BENCH_TXQ };
			break;
		}
	}

	store = calloc((size_t)NCASES * 4 * rounds, sizeof(*store));
	all_empty = calloc((size_t)NCASES * rounds, sizeof(*all_empty));
	all_empty_c = calloc((size_t)NCASES * rounds, sizeof(*all_empty_c));
	if (!store || !all_empty || !all_empty_c) {
		err = -ENOMEM;
		fprintf(stderr, "vmq-bench: out of memory\n");
		goto out;
	}
	for (size_t i = 0; i < NCASES; i++) {
		cases[i].ns = store + (i * 4 + 0) * rounds;
		cases[i].cpu = store + (i * 4 + 1) * rounds;
		cases[i].bns = store + (i * 4 + 2) * rounds;
		cases[i].bcpu = store + (i * 4 + 3) * rounds;
	}

	build_udp(&pkt);
	/* The port path's port: bound to the tested ID in each instance. */
	for (size_t i = 0; i < NINST; i++) {
		err = vmq_port_slot_set(&insts[i].dev, BENCH_PORT_IFINDEX, insts[i].live);
		if (err) {
			fprintf(stderr, "vmq-bench: binding port #%u with %u live queues: %s\n",
				BENCH_PORT_IFINDEX, insts[i].live, strerror(-err));
			goto out;
		}
	}
	for (size_t i = 0; i < NCASES; i++) {
		err = verify(&cases[i], &pkt);
		if (err) {
			fprintf(stderr, "vmq-bench: %s path (%s IDs) with %u live queues: %s\n",
				path_names[cases[i].path], cases[i].random ? "random" : "same",
				cases[i].inst->live,
				err == -EPROTO ? "the counters say another path was taken"
					       : strerror(-err));
			goto out;
		}
	}

	printf("vmq_tx per-packet cost: BPF_PROG_TEST_RUN, %u runs x %u rounds per case, "
	       "%zu-byte UDP/IPv4 frame\n",
	       repeat, rounds, sizeof(pkt));
	fflush(stdout);
	for (__u32 r = 0; r < rounds; r++) {
		for (size_t i = 0; i < NCASES; i++) {
			struct bench_case *c = &cases[i];

			err = interrupted ? -EINTR
					  : vmq_queue_write(&c->inst->dev, c->id, c->entry);
			if (!err)
				err = run_prog(c->base_fd, &pkt, case_mark(c), case_ifindex(c),
					       (int)repeat, &c->bns[r], &c->bcpu[r]);
			if (!err)
				err = run_prog(c->prog_fd, &pkt, case_mark(c), case_ifindex(c),
					       (int)repeat, &c->ns[r], &c->cpu[r]);
			if (err) {
				if (interrupted)
					fprintf(stderr, "vmq-bench: interrupted\n");
				else
					fprintf(stderr, "vmq-bench: test run: %s\n",
						strerror(-err));
				goto out;
			}
			if (!c->random) {
				all_empty[nempty] = c->bns[r];
				all_empty_c[nempty++] = c->bcpu[r];
			}
		}
	}

	empty = median(all_empty, nempty);
	empty_cpu = median(all_empty_c, nempty);
	for (size_t i = 0; i < NCASES; i++) {
		struct bench_case *c = &cases[i];
		struct result *q = &res[i];

		q->ns = median(c->ns, rounds);
		q->ns_min = min_of(c->ns, rounds);
		q->ns_max = max_of(c->ns, rounds);
		q->cpu = median(c->cpu, rounds);
		q->cpu_min = min_of(c->cpu, rounds);
		q->cpu_max = max_of(c->cpu, rounds);
		q->bns = median(c->bns, rounds);
		q->bcpu = median(c->bcpu, rounds);
		q->ratio = paired(c->cpu, c->bcpu, rounds, &q->ratio_min, &q->ratio_max);
		q->ratio_ns = paired(c->ns, c->bns, rounds, NULL, NULL);
	}
	flatness(cases, 0, rounds, &flat[0]);
	flatness(cases, 1, rounds, &flat[1]);
	print_tables(cases, res, repeat, rounds, cpu, empty, empty_cpu, flat);

	err = write_json(json, repeat, rounds, cpu, cases, res, empty, empty_cpu, flat);
	if (err)
		fprintf(stderr, "vmq-bench: writing %s: %s\n", json, strerror(-err));
	else
		printf("JSON: %s\n", json);
out:
	free(store);
	free(all_empty);
	free(all_empty_c);
	if (empty_fd >= 0)
		close(empty_fd);
	for (size_t i = 0; i < NINST; i++) {
		if (insts[i].ring_fd >= 0)
			close(insts[i].ring_fd);
		if (insts[i].ring_empty_fd >= 0)
			close(insts[i].ring_empty_fd);
		if (insts[i].ring_map_fd >= 0)
			close(insts[i].ring_map_fd);
		if (insts[i].ring_empty_map_fd >= 0)
			close(insts[i].ring_empty_map_fd);
		if (insts[i].dev.prog_fd >= 0)
			vmq_dev_unpin(&insts[i].dev);
		vmq_dev_close(&insts[i].dev);
	}
	sandbox_leave();
	return err ? 1 : 0;
}
