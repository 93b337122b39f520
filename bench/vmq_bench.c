// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vmq-bench: per-packet cost of vmq_tx under BPF_PROG_TEST_RUN, against an
 * empty tc program loaded in the same run (r0 = -1 (TC_ACT_UNSPEC); exit:
 * the same verdict as vmq_tx). Runs alternate empty, vmq, empty, vmq...
 * for several rounds; the table gives medians. It prints figures and never
 * fails on time: only a real error (load, map write, a path that does not
 * go where it should) exits non-zero.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
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
#define DEFAULT_ROUNDS 7U
#define DEFAULT_JSON   "build/bench/bench.json"
#define SMALL_QUEUES   16U			 /* map of the 1-live-queue instance */
#define LARGE_QUEUES   VMQ_QUEUES_DEFAULT	 /* 4096, every ID live */
#define TESTED_SMALL   1U			 /* the one live VM queue */
#define TESTED_LARGE   (VMQ_QUEUES_DEFAULT - 1U) /* the last ID */
#define BENCH_GROUP    1U
#define BENCH_TXQ      3U
#define VERIFY_REPEAT  1000

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
};

static const char *const path_names[] = {
	[PATH_DIRECT] = "direct",
	[PATH_GROUP] = "group",
	[PATH_FALLBACK] = "fallback",
};

/* Goals to report, not to assert. 0: none given. */
static const double path_goals[] = {
	[PATH_DIRECT] = 1.10,
	[PATH_GROUP] = 1.25,
	[PATH_FALLBACK] = 0,
};

struct bench_case {
	enum bench_path path;
	unsigned int live; /* live queue IDs in the instance */
	struct vmq_dev *dev;
	__u32 id; /* the queue ID in the mark */
	struct vmq_queue_entry entry;
	double *ns;	 /* per round: vmq_tx, ns/packet (kernel's figure) */
	double *cpu;	 /* per round: vmq_tx, ns/packet (thread CPU time) */
	double *empty;	 /* per round: the empty run just before, kernel */
	double *empty_c; /* ... and CPU time */
};

struct result {
	double ns, ns_min, ns_max, cpu, empty, empty_cpu;
};

static char sandbox_dir[64];

/* A private netns and mountns with its own bpffs, like the unit tests:
 * whatever the benchmark pins vanishes with it. */
static int sandbox_enter(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "vmq-bench: needs root (BPF, namespaces)\n");
		return -EPERM;
	}
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

/* r0 = -1 (TC_ACT_UNSPEC); exit */
static int load_empty(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = TC_ACT_UNSPEC },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "vmq_empty", "GPL", insns,
			       sizeof(insns) / sizeof(insns[0]), NULL);

	return fd < 0 ? -errno : fd;
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
static int run_prog(int prog_fd, const struct udp_pkt *pkt, __u32 mark, int repeat, double *ns,
		    double *cpu)
{
	struct __sk_buff ctx = { .mark = mark };
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

static int set_queue(const struct vmq_dev *dev, __u32 id, __u16 state, __u16 target)
{
	struct vmq_queue_entry e = { .state = state, .target = target };

	return vmq_queue_write(dev, id, e);
}

/* ID 0 on TX queue 0; group BENCH_GROUP over TX queues 0-3; IDs 1 to
 * live - 1 on TX queues by ID (the tested one is set per case). */
static int prepare(const struct vmq_dev *dev, unsigned int live)
{
	static const __u16 txqs[] = { 0, 1, 2, 3 };
	int err;

	err = vmq_group_write(dev, BENCH_GROUP, txqs, 4);
	if (!err)
		err = set_queue(dev, VMQ_DEFAULT_QUEUE, VMQ_QUEUE_TXQ, 0);
	for (__u32 id = 1; !err && id < live; id++)
		err = set_queue(dev, id, VMQ_QUEUE_TXQ, (__u16)(id % 64));
	return err;
}

/* The case's path really is taken: its counter moves by exactly the runs. */
static int verify(const struct bench_case *c, const struct udp_pkt *pkt)
{
	struct vmq_queue_stats qb, qa;
	struct vmq_counter fb, fa;
	int err;

	err = vmq_queue_write(c->dev, c->id, c->entry);
	if (!err)
		err = vmq_queue_stats_read(c->dev, c->id, &qb);
	if (!err)
		err = vmq_fallback_read(c->dev, VMQ_FALLBACK_NOT_LIVE, &fb);
	if (!err)
		err = run_prog(c->dev->prog_fd, pkt, c->id, VERIFY_REPEAT, NULL, NULL);
	if (!err)
		err = vmq_queue_stats_read(c->dev, c->id, &qa);
	if (!err)
		err = vmq_fallback_read(c->dev, VMQ_FALLBACK_NOT_LIVE, &fa);
	if (err)
		return err;
	if (c->path == PATH_FALLBACK)
		return qa.fallback_packets - qb.fallback_packets == VERIFY_REPEAT &&
				       fa.packets - fb.packets == VERIFY_REPEAT
			       ? 0
			       : -EPROTO;
	return qa.packets - qb.packets == VERIFY_REPEAT && fa.packets == fb.packets ? 0 : -EPROTO;
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

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vmq-bench [--repeat N] [--rounds N] [--json PATH] [--help]\n"
		"  --repeat N   runs per BPF_PROG_TEST_RUN (default %u)\n"
		"  --rounds N   alternations of empty and vmq_tx per case (default %u)\n"
		"  --json PATH  where to write the figures (default %s)\n"
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

static int write_json(const char *path, unsigned int repeat, unsigned int rounds,
		      const struct bench_case *cases, const struct result *res, size_t ncases,
		      double empty, double empty_cpu)
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
	fprintf(f, "  \"repeat\": %u,\n  \"rounds\": %u,\n", repeat, rounds);
	fprintf(f, "  \"packet_bytes\": %zu,\n", sizeof(struct udp_pkt));
	fprintf(f, "  \"empty_program\": \"r0 = -1; exit\",\n");
	fprintf(f, "  \"empty_ns_median\": %.2f,\n", empty);
	fprintf(f, "  \"empty_cpu_ns_median\": %.3f,\n", empty_cpu);
	fprintf(f, "  \"cases\": [\n");
	for (size_t i = 0; i < ncases; i++) {
		const struct result *r = &res[i];
		double goal = path_goals[cases[i].path];

		fprintf(f, "    {\"path\": \"%s\", \"live_queues\": %u, \"queue_id\": %u, ",
			path_names[cases[i].path], cases[i].live, cases[i].id);
		fprintf(f, "\"ns_median\": %.2f, \"ns_min\": %.2f, \"ns_max\": %.2f, ", r->ns,
			r->ns_min, r->ns_max);
		fprintf(f, "\"ratio\": %.3f, \"cpu_ns_median\": %.3f, \"cpu_ratio\": %.3f, ",
			r->ns / empty, r->cpu, r->cpu / empty_cpu);
		fprintf(f, "\"paired_empty_ns_median\": %.2f, ", r->empty);
		if (goal > 0)
			fprintf(f, "\"goal_ratio\": %.2f, \"within_goal\": %s}", goal,
				r->ns / empty <= goal ? "true" : "false");
		else
			fprintf(f, "\"goal_ratio\": null, \"within_goal\": null}");
		fprintf(f, "%s\n", i + 1 < ncases ? "," : "");
	}
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

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "repeat", required_argument, NULL, 'r' },
		{ "rounds", required_argument, NULL, 'n' },
		{ "json", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	__u32 repeat = DEFAULT_REPEAT, rounds = DEFAULT_ROUNDS;
	const char *json = DEFAULT_JSON;
	struct vmq_load_opts small_opts = { .nr_queues = SMALL_QUEUES };
	struct vmq_load_opts large_opts = { .nr_queues = LARGE_QUEUES };
	struct vmq_dev small, large;
	struct bench_case cases[6];
	struct result res[6];
	const size_t ncases = sizeof(cases) / sizeof(cases[0]);
	double *all_empty = NULL, *all_empty_c = NULL, empty, empty_cpu;
	double *store = NULL;
	char root[PATH_MAX];
	struct udp_pkt pkt;
	int empty_fd = -1;
	int err = 0, opt;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			if (parse_count("--repeat", optarg, INT_MAX, &repeat))
				return 2;
			break;
		case 'n':
			if (parse_count("--rounds", optarg, 10000, &rounds))
				return 2;
			break;
		case 'j':
			json = optarg;
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

	vmq_dev_init(&small);
	vmq_dev_init(&large);
	err = sandbox_enter();
	if (err)
		return 1;
	libbpf_set_print(NULL);

	empty_fd = load_empty();
	if (empty_fd < 0) {
		err = empty_fd;
		fprintf(stderr, "vmq-bench: loading the empty program: %s\n", strerror(-err));
		goto out;
	}
	snprintf(root, sizeof(root), "%s/small", sandbox_dir);
	err = vmq_dev_load(&small, root, "lo", &small_opts);
	if (!err) {
		snprintf(root, sizeof(root), "%s/large", sandbox_dir);
		err = vmq_dev_load(&large, root, "lo", &large_opts);
	}
	if (err) {
		fprintf(stderr, "vmq-bench: loading vmq_tx: %s\n", strerror(-err));
		goto out;
	}
	err = prepare(&small, 1);
	if (!err)
		err = prepare(&large, LARGE_QUEUES);
	if (err) {
		fprintf(stderr, "vmq-bench: writing queues: %s\n", strerror(-err));
		goto out;
	}

	/* Small: one live VM queue (besides the default queue 0) in a map of
	 * 16; its fallback is that ID freed. Large: all 4096 IDs live, the
	 * last one tested; its fallback is that ID freed (4095 left live). */
	for (size_t i = 0; i < ncases; i++) {
		struct bench_case *c = &cases[i];

		c->path = (enum bench_path)(i % 3);
		c->live = i < 3 ? 1 : LARGE_QUEUES;
		c->dev = i < 3 ? &small : &large;
		c->id = i < 3 ? TESTED_SMALL : TESTED_LARGE;
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
		}
	}

	store = calloc(ncases * 4 * rounds, sizeof(*store));
	all_empty = calloc(ncases * rounds, sizeof(*all_empty));
	all_empty_c = calloc(ncases * rounds, sizeof(*all_empty_c));
	if (!store || !all_empty || !all_empty_c) {
		err = -ENOMEM;
		fprintf(stderr, "vmq-bench: out of memory\n");
		goto out;
	}
	for (size_t i = 0; i < ncases; i++) {
		cases[i].ns = store + (i * 4 + 0) * rounds;
		cases[i].cpu = store + (i * 4 + 1) * rounds;
		cases[i].empty = store + (i * 4 + 2) * rounds;
		cases[i].empty_c = store + (i * 4 + 3) * rounds;
	}

	build_udp(&pkt);
	for (size_t i = 0; i < ncases; i++) {
		err = verify(&cases[i], &pkt);
		if (err) {
			fprintf(stderr, "vmq-bench: %s path with %u live queues: %s\n",
				path_names[cases[i].path], cases[i].live,
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
		for (size_t i = 0; i < ncases; i++) {
			struct bench_case *c = &cases[i];

			err = vmq_queue_write(c->dev, c->id, c->entry);
			if (!err)
				err = run_prog(empty_fd, &pkt, c->id, (int)repeat, &c->empty[r],
					       &c->empty_c[r]);
			if (!err)
				err = run_prog(c->dev->prog_fd, &pkt, c->id, (int)repeat, &c->ns[r],
					       &c->cpu[r]);
			if (err) {
				fprintf(stderr, "vmq-bench: test run: %s\n", strerror(-err));
				goto out;
			}
			all_empty[r * ncases + i] = c->empty[r];
			all_empty_c[r * ncases + i] = c->empty_c[r];
		}
	}

	empty = median(all_empty, ncases * rounds);
	empty_cpu = median(all_empty_c, ncases * rounds);
	printf("empty tc program (r0 = -1; exit): median %.1f ns/packet (CPU time %.2f ns)\n\n",
	       empty, empty_cpu);
	printf("%-9s %5s %6s %6s %6s %7s %8s %8s %6s\n", "path", "live", "ns", "min", "max",
	       "x empty", "cpu ns", "x empty", "goal");
	for (size_t i = 0; i < ncases; i++) {
		struct bench_case *c = &cases[i];
		struct result *q = &res[i];
		double goal = path_goals[c->path];
		char goal_text[32];

		q->ns = median(c->ns, rounds);
		q->ns_min = min_of(c->ns, rounds);
		q->ns_max = max_of(c->ns, rounds);
		q->cpu = median(c->cpu, rounds);
		q->empty = median(c->empty, rounds);
		q->empty_cpu = median(c->empty_c, rounds);
		if (goal > 0)
			snprintf(goal_text, sizeof(goal_text), "%.2fx %s", goal,
				 q->ns / empty <= goal ? "met" : "MISSED");
		else
			snprintf(goal_text, sizeof(goal_text), "-");
		printf("%-9s %5u %6.1f %6.1f %6.1f %6.2fx %8.2f %7.2fx %s\n", path_names[c->path],
		       c->live, q->ns, q->ns_min, q->ns_max, q->ns / empty, q->cpu,
		       q->cpu / empty_cpu, goal_text);
	}
	printf("\nns: the kernel's average per run (whole ns), median of the rounds; cpu ns: "
	       "thread CPU time / runs.\n");
	printf("Goals are reported, not asserted. One packet repeated: the group path's flow "
	       "hash is\ncomputed on the first run and cached in the skb for the rest.\n");

	err = write_json(json, repeat, rounds, cases, res, ncases, empty, empty_cpu);
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
	if (small.prog_fd >= 0)
		vmq_dev_unpin(&small);
	if (large.prog_fd >= 0)
		vmq_dev_unpin(&large);
	vmq_dev_close(&small);
	vmq_dev_close(&large);
	sandbox_leave();
	return err ? 1 : 0;
}
