// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vmq-rx-bench: per-frame cost of vmq_rx (XDP) under BPF_PROG_TEST_RUN,
 * against a program that only returns XDP_PASS, with 1, 4096 and 16384
 * (VMQ_RX_FILTERS_MAX) filters; and, with --gen, the traffic generator of
 * bench/rx.sh's receive pps figures. It prints figures and never fails on
 * time: only a real error (load, map write, a path that does not go where
 * it should) exits non-zero.
 *
 * Cases (the frame: 64 bytes, IPv4 UDP):
 *   match, pass/cpu/port mode  one frame repeated, to the MAC of filter 0
 *                              (queue 1, live) in each receive mode; cpu and
 *                              port return XDP_REDIRECT (BPF_PROG_TEST_RUN
 *                              does not carry the redirect out: the
 *                              program's cost alone)
 *   unmatched, broadcast       the default queue's two commonest reasons
 *   random filter per frame    a wrapper (vmq_rx_bench.bpf.c rx_ring)
 *                              writes another filter's MAC into the frame
 *                              every run and tail-calls vmq_rx; the
 *                              baseline is the same wrapper tail-calling
 *                              XDP_PASS. Filters go to queues 1..4096 by
 *                              index, all live, pass mode: this shows what
 *                              the filter count does to the caches.
 * Each round runs every case's baseline then the case, back to back;
 * ratios are per round, tables give medians over rounds. Two clocks: the
 * kernel's average (opts.duration, whole ns) and the thread's CPU time per
 * run (finer; includes the one syscall spread over the runs). Goals are
 * judged on the CPU-time ratios; flatness too (a count's ratio over the
 * ratio with 1 filter), since counts run apart in time.
 *
 * --gen IFNAME --dst-mac MAC --seconds S: sends 64-byte IPv4 UDP frames
 * to MAC (10.99.0.1 -> 10.99.0.2:9) out of IFNAME as fast as one CPU can,
 * by BPF_PROG_TEST_RUN with live frames on rx_gen (an XDP redirect), for S
 * seconds; prints "frames N ns T". Run it in the namespace of IFNAME.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "libvmq.h"

#define DEFAULT_REPEAT 5000000U
#define DEFAULT_ROUNDS 5U
#define VERIFY_REPEAT  1000
#define NR_QUEUES      8192U
#define LIVE_QUEUES    4096U
#define NCOUNTS	       3U
#define PASS_GOAL      1.25
#define FLAT_GOAL      1.05

struct frame {
	struct ethhdr eth;
	struct iphdr ip;
	struct udphdr udp;
	__u8 payload[22];
} __attribute__((packed));

_Static_assert(sizeof(struct frame) == 64, "a 64-byte frame");

enum bench_case {
	CASE_PASS,
	CASE_CPU,
	CASE_PORT,
	CASE_UNMATCHED,
	CASE_BROADCAST,
	CASE_RANDOM,
	NCASES,
};

static const char *const case_names[NCASES] = {
	[CASE_PASS] = "match, pass mode", [CASE_CPU] = "match, cpu mode",
	[CASE_PORT] = "match, port mode", [CASE_UNMATCHED] = "unmatched",
	[CASE_BROADCAST] = "broadcast",	  [CASE_RANDOM] = "random filter per frame",
};

static const char *const case_keys[NCASES] = {
	[CASE_PASS] = "match_pass",	[CASE_CPU] = "match_cpu",	[CASE_PORT] = "match_port",
	[CASE_UNMATCHED] = "unmatched", [CASE_BROADCAST] = "broadcast", [CASE_RANDOM] = "random",
};

/* The outcome each case must count, once per run. */
static const __u32 case_outcome[NCASES] = {
	[CASE_PASS] = VMQ_RX_TO_STACK,	     [CASE_CPU] = VMQ_RX_TO_CPU,
	[CASE_PORT] = VMQ_RX_TO_PORT,	     [CASE_UNMATCHED] = VMQ_RX_UNMATCHED,
	[CASE_BROADCAST] = VMQ_RX_BROADCAST, [CASE_RANDOM] = VMQ_RX_TO_STACK,
};

static const __u32 counts[NCOUNTS] = { 1, 4096, VMQ_RX_FILTERS_MAX };

struct result {
	double ns, cpu, bns, bcpu; /* medians: the case, its baseline */
	double ratio, ratio_min, ratio_max;
};

static struct result results[NCOUNTS][NCASES];
static char sandbox_dir[64];
static struct vmq_dev dev;
static struct bpf_object *helper;
static int pass_fd = -1, ring_fd = -1, ring_jmp_fd = -1, ring_n_fd = -1;
static int my_cpu;
static const char *rx_obj; /* --rx-obj: vmq_rx from this file, to compare builds */

static double thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int sandbox_enter(void)
{
	if (unshare(CLONE_NEWNET | CLONE_NEWNS))
		return -errno;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return -errno;
	snprintf(sandbox_dir, sizeof(sandbox_dir), "/tmp/vmq-rx-bench-XXXXXX");
	if (!mkdtemp(sandbox_dir)) {
		sandbox_dir[0] = '\0';
		return -errno;
	}
	if (mount("bpf", sandbox_dir, "bpf", 0, "mode=0700")) {
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

static void build_frame(struct frame *f, const __u8 dst[6])
{
	static const __u8 src[6] = { 0x02, 0, 0, 0, 0, 0x01 };

	memset(f, 0, sizeof(*f));
	memcpy(f->eth.h_dest, dst, 6);
	memcpy(f->eth.h_source, src, 6);
	f->eth.h_proto = htons(ETH_P_IP);
	f->ip.version = 4;
	f->ip.ihl = 5;
	f->ip.tot_len = htons(sizeof(*f) - sizeof(f->eth));
	f->ip.ttl = 64;
	f->ip.protocol = IPPROTO_UDP;
	f->ip.saddr = htonl(0x0a630001); /* 10.99.0.1 */
	f->ip.daddr = htonl(0x0a630002); /* 10.99.0.2 */
	f->ip.check = ip_csum(&f->ip, sizeof(f->ip));
	f->udp.source = htons(10000);
	f->udp.dest = htons(9);
	f->udp.len = htons(sizeof(f->udp) + sizeof(f->payload));
}

/* Filter i's MAC: 52:54:00 and i in three bytes (rx_ring writes the same). */
static void filter_mac(__u32 i, __u8 mac[6])
{
	const __u8 m[6] = { 0x52, 0x54, 0x00, (__u8)(i >> 16), (__u8)(i >> 8), (__u8)i };

	memcpy(mac, m, 6);
}

static int run_prog(int fd, struct frame *f, int repeat, double *ns, double *cpu)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f, .data_size_in = sizeof(*f),
		    .repeat = repeat);
	double t0, t1;

	t0 = thread_ns();
	if (bpf_prog_test_run_opts(fd, &opts))
		return -errno;
	t1 = thread_ns();
	if (opts.retval != XDP_PASS && opts.retval != XDP_REDIRECT)
		return -EPROTO;
	if (ns)
		*ns = opts.duration;
	if (cpu)
		*cpu = (t1 - t0) / repeat;
	return 0;
}

/* Exactly `n` filters, filter i to queue 1 + i % LIVE_QUEUES. */
static int fill_filters(__u32 n)
{
	struct vmq_rx_filter_key k;
	unsigned int deleted;
	int err = 0;

	for (__u32 q = 0; !err && q <= LIVE_QUEUES; q++)
		err = vmq_rx_filter_del_queue(&dev, q, &deleted);
	for (__u32 i = 0; !err && i < n; i++) {
		memset(&k, 0, sizeof(k));
		filter_mac(i, k.mac);
		err = vmq_rx_filter_add(&dev, &k, 1 + i % LIVE_QUEUES, NULL);
	}
	return err;
}

/* The case's program, baseline and frame; queue 1's mode set for it. */
static int setup_case(enum bench_case c, struct frame *f, int *prog, int *base)
{
	static const __u8 bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const __u8 none[6] = { 0x52, 0x54, 0x01, 0, 0, 0 };
	__u8 mac[6];
	int err;

	filter_mac(0, mac);
	build_frame(f, c == CASE_UNMATCHED ? none : c == CASE_BROADCAST ? bcast : mac);
	*prog = c == CASE_RANDOM ? ring_fd : dev.rx_prog_fd;
	*base = c == CASE_RANDOM ? ring_fd : pass_fd;
	if (c == CASE_CPU)
		err = vmq_rx_mode_set(&dev, 1, VMQ_RX_MODE_CPU, (__u32)my_cpu);
	else if (c == CASE_PORT)
		err = vmq_rx_mode_set(&dev, 1, VMQ_RX_MODE_PORT, 1); /* lo */
	else
		err = vmq_rx_mode_set(&dev, 1, VMQ_RX_MODE_PASS, 0);
	return err;
}

/* The random case's wrapper tail-calls the case or the baseline. */
static int ring_target(int fd)
{
	__u32 zero = 0;

	return bpf_map_update_elem(ring_jmp_fd, &zero, &fd, BPF_ANY) ? -errno : 0;
}

static int timed(enum bench_case c, int fd, bool baseline, struct frame *f, int repeat, double *ns,
		 double *cpu)
{
	int err = 0;

	if (c == CASE_RANDOM)
		err = ring_target(baseline ? pass_fd : dev.rx_prog_fd);
	return err ? err : run_prog(fd, f, repeat, ns, cpu);
}

/* The case's path really is taken: its outcome counts every run. */
static int verify(enum bench_case c, int prog, struct frame *f)
{
	struct vmq_counter a, b;
	int err = vmq_rx_outcome_read(&dev, case_outcome[c], &b);

	if (!err)
		err = timed(c, prog, false, f, VERIFY_REPEAT, NULL, NULL);
	if (!err)
		err = vmq_rx_outcome_read(&dev, case_outcome[c], &a);
	if (!err && a.packets - b.packets != VERIFY_REPEAT) {
		fprintf(stderr, "vmq-rx-bench: %s: %llu of %d runs counted as %s\n", case_names[c],
			(unsigned long long)(a.packets - b.packets), VERIFY_REPEAT,
			vmq_rx_outcome_name(case_outcome[c]));
		err = -EPROTO;
	}
	return err;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int measure(unsigned int rounds, int repeat)
{
	double *ns = calloc(rounds, sizeof(double)), *cpu = calloc(rounds, sizeof(double));
	double *bns = calloc(rounds, sizeof(double)), *bcpu = calloc(rounds, sizeof(double));
	double *ratio = calloc(rounds, sizeof(double));
	struct frame f;
	int err = ns && cpu && bns && bcpu && ratio ? 0 : -ENOMEM;
	int prog, base;

	for (unsigned int k = 0; !err && k < NCOUNTS; k++) {
		__u32 n = counts[k];

		fprintf(stderr, "vmq-rx-bench: %u filters\n", n);
		err = fill_filters(n);
		if (!err)
			err = bpf_map_update_elem(ring_n_fd, &(__u32){ 0 }, &n, BPF_ANY) ? -errno
											 : 0;
		for (int c = 0; !err && c < NCASES; c++) {
			struct result *r = &results[k][c];

			err = setup_case(c, &f, &prog, &base);
			if (!err)
				err = verify(c, prog, &f);
			for (unsigned int i = 0; !err && i < rounds; i++) {
				err = timed(c, base, true, &f, repeat, &bns[i], &bcpu[i]);
				if (!err)
					err = timed(c, prog, false, &f, repeat, &ns[i], &cpu[i]);
				ratio[i] = cpu[i] / bcpu[i];
			}
			if (err)
				break;
			r->ratio = median(ratio, rounds);
			r->ratio_min = ratio[0];
			r->ratio_max = ratio[rounds - 1];
			r->ns = median(ns, rounds);
			r->cpu = median(cpu, rounds);
			r->bns = median(bns, rounds);
			r->bcpu = median(bcpu, rounds);
		}
	}
	free(ns);
	free(cpu);
	free(bns);
	free(bcpu);
	free(ratio);
	return err;
}

static void print_table(FILE *out, unsigned int rounds, int repeat)
{
	fprintf(out,
		"RECEIVE DATA PLANE  vmq_rx per frame, BPF_PROG_TEST_RUN, CPU ns (kernel ns); %u "
		"rounds x %d runs; CPU %d\n",
		rounds, repeat, my_cpu);
	fprintf(out, "%-32s", "filters");
	for (unsigned int k = 0; k < NCOUNTS; k++)
		fprintf(out, " %14u", counts[k]);
	fprintf(out, "  goal\n");
	fprintf(out, "%-32s", "XDP_PASS only");
	for (unsigned int k = 0; k < NCOUNTS; k++)
		fprintf(out, " %9.2f (%2.0f)", results[k][CASE_PASS].bcpu,
			results[k][CASE_PASS].bns);
	fprintf(out, "\n");
	for (int c = 0; c < NCASES; c++) {
		bool all_met = true;

		fprintf(out, "%-32s", case_names[c]);
		for (unsigned int k = 0; k < NCOUNTS; k++)
			fprintf(out, " %9.2f (%2.0f)", results[k][c].cpu, results[k][c].ns);
		fprintf(out, "\n%-32s",
			c == CASE_RANDOM ? "  x its wrapper+XDP_PASS, +ns"
					 : "  x XDP_PASS (per-round), +ns");
		for (unsigned int k = 0; k < NCOUNTS; k++) {
			const struct result *r = &results[k][c];

			fprintf(out, " %6.3fx %+6.1f", r->ratio, r->cpu - r->bcpu);
			all_met = all_met && r->ratio <= PASS_GOAL;
		}
		if (c == CASE_PASS)
			fprintf(out, "  <= %.2fx  %s", PASS_GOAL, all_met ? "met" : "MISSED");
		fprintf(out, "\n");
	}
	for (unsigned int k = 1; k < NCOUNTS; k++)
		for (int c = 0; c < NCASES; c += CASE_RANDOM) {
			/* Over each count's own baseline, measured beside it: the
			 * counts run minutes apart, under whatever load. */
			double flat = results[k][c].ratio / results[0][c].ratio;

			fprintf(out, "flat: %s, %u over 1 filter %*s %6.3fx  <= %.2fx  %s\n",
				case_names[c], counts[k], c == CASE_RANDOM ? 3 : 10, "", flat,
				FLAT_GOAL, flat <= FLAT_GOAL ? "met" : "MISSED");
		}
}

static int write_json(const char *path, unsigned int rounds, int repeat)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return -errno;
	fprintf(f,
		"{\"rounds\": %u, \"repeat\": %d, \"cpu\": %d, \"pass_goal\": %.2f, "
		"\"flat_goal\": %.2f, \"cases\": [",
		rounds, repeat, my_cpu, PASS_GOAL, FLAT_GOAL);
	for (unsigned int k = 0; k < NCOUNTS; k++)
		for (int c = 0; c < NCASES; c++) {
			const struct result *r = &results[k][c];

			fprintf(f,
				"%s\n {\"case\": \"%s\", \"filters\": %u, \"cpu_ns\": %.3f, "
				"\"kernel_ns\": %.0f, \"base_cpu_ns\": %.3f, \"base_kernel_ns\": "
				"%.0f, \"ratio\": %.4f, \"ratio_min\": %.4f, \"ratio_max\": %.4f}",
				k || c ? "," : "", case_keys[c], counts[k], r->cpu, r->ns, r->bcpu,
				r->bns, r->ratio, r->ratio_min, r->ratio_max);
		}
	fprintf(f, "\n]}\n");
	return fclose(f) ? -errno : 0;
}

static int open_helper(const char *path)
{
	struct bpf_program *p;
	int err;

	helper = bpf_object__open_file(path, NULL);
	if (!helper)
		return -errno;
	/* rx_gen is the generator's: not needed here. */
	p = bpf_object__find_program_by_name(helper, "rx_gen");
	err = p ? bpf_program__set_autoload(p, false) : -ENOENT;
	if (!err)
		err = bpf_object__load(helper);
	if (err)
		return err;
	pass_fd = bpf_program__fd(bpf_object__find_program_by_name(helper, "xdp_pass"));
	ring_fd = bpf_program__fd(bpf_object__find_program_by_name(helper, "rx_ring"));
	ring_jmp_fd = bpf_map__fd(bpf_object__find_map_by_name(helper, "ring_jmp"));
	ring_n_fd = bpf_map__fd(bpf_object__find_map_by_name(helper, "ring_n"));
	return 0;
}

static int prepare(void)
{
	struct vmq_load_opts opts = { .nr_queues = NR_QUEUES };
	struct vmq_queue_entry live = { .state = VMQ_QUEUE_TXQ, .target = 0 };
	int err = vmq_dev_load(&dev, sandbox_dir, "lo", &opts);

	if (!err)
		err = vmq_rx_load(&dev, rx_obj);
	for (__u32 q = 1; !err && q <= LIVE_QUEUES; q++)
		err = vmq_queue_write(&dev, q, live);
	return err;
}

/* --gen: live frames out of ifname until `seconds` have passed. */
static int generate(const char *path, const char *ifname, const char *mac_text, double seconds)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	unsigned int ifindex = if_nametoindex(ifname);
	struct timespec t0, t1;
	unsigned long long frames = 0;
	struct bpf_program *prog;
	struct bpf_map *rodata;
	double elapsed = 0;
	struct frame f;
	__u8 mac[6];
	int err, fd;

	if (!obj)
		return -errno;
	err = vmq_parse_mac(mac_text, mac);
	if (!err && !ifindex)
		err = -ENODEV;
	rodata = bpf_object__find_map_by_name(obj, ".rodata");
	if (!err && !rodata)
		err = -ENOENT;
	if (!err)
		err = bpf_map__set_initial_value(rodata, &(__u32){ ifindex }, sizeof(__u32));
	bpf_object__for_each_program(prog, obj) if (!err) err =
		bpf_program__set_autoload(prog, !strcmp(bpf_program__name(prog), "rx_gen"));
	if (!err)
		err = bpf_object__load(obj);
	if (err) {
		bpf_object__close(obj);
		return err;
	}
	fd = bpf_program__fd(bpf_object__find_program_by_name(obj, "rx_gen"));
	build_frame(&f, mac);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!err && elapsed < seconds) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = &f, .data_size_in = sizeof(f),
			    .repeat = 1 << 16, .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
			    .batch_size = 64);

		if (bpf_prog_test_run_opts(fd, &opts))
			err = -errno;
		else
			frames += 1 << 16;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		elapsed = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	}
	if (!err)
		printf("frames %llu ns %.0f\n", frames, elapsed * 1e9);
	bpf_object__close(obj);
	return err;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: vmq-rx-bench [--rounds N] [--repeat N] [--json FILE] [--obj FILE] "
		     "[--rx-obj FILE]\n"
		     "       vmq-rx-bench --gen IFNAME --dst-mac MAC --seconds S [--obj FILE]\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rounds", required_argument, NULL, 'r' },
		{ "repeat", required_argument, NULL, 'n' },
		{ "json", required_argument, NULL, 'j' },
		{ "obj", required_argument, NULL, 'o' },
		{ "gen", required_argument, NULL, 'g' },
		{ "dst-mac", required_argument, NULL, 'm' },
		{ "seconds", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "rx-obj", required_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};
	const char *json = NULL, *gen = NULL, *mac = NULL;
	char obj[PATH_MAX], self[PATH_MAX];
	unsigned int rounds = DEFAULT_ROUNDS;
	__u32 repeat = DEFAULT_REPEAT, v;
	double seconds = 1;
	ssize_t len;
	int opt, err;

	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[len > 0 ? len : 0] = '\0';
	snprintf(obj, sizeof(obj), "%s/vmq_rx_bench.bpf.o", dirname(self));
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			if (vmq_parse_u32(optarg, 1000, &v) || !v)
				goto bad;
			rounds = v;
			break;
		case 'n':
			if (vmq_parse_u32(optarg, 1000000000, &v) || !v)
				goto bad;
			repeat = v;
			break;
		case 'j':
			json = optarg;
			break;
		case 'o':
			snprintf(obj, sizeof(obj), "%s", optarg);
			break;
		case 'x':
			rx_obj = optarg;
			break;
		case 'g':
			gen = optarg;
			break;
		case 'm':
			mac = optarg;
			break;
		case 's':
			if (vmq_parse_u32(optarg, 3600, &v) || !v)
				goto bad;
			seconds = v;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc || (gen && !mac))
		goto bad;
	if (gen) {
		err = generate(obj, gen, mac, seconds);
		if (err)
			fprintf(stderr, "vmq-rx-bench: generator on %s: %s\n", gen, strerror(-err));
		return err ? 1 : 0;
	}
	signal(SIGPIPE, SIG_IGN);
	vmq_dev_init(&dev);
	err = sandbox_enter();
	if (err) {
		fprintf(stderr, "vmq-rx-bench: sandbox: %s\n", strerror(-err));
		return 1;
	}
	my_cpu = pin_cpu();
	err = my_cpu < 0 ? -EINVAL : 0;
	if (!err)
		err = open_helper(obj);
	if (!err)
		err = prepare();
	if (!err)
		err = measure(rounds, (int)repeat);
	if (!err) {
		print_table(stdout, rounds, (int)repeat);
		if (json)
			err = write_json(json, rounds, (int)repeat);
	}
	if (err)
		fprintf(stderr, "vmq-rx-bench: %s\n", strerror(-err));
	bpf_object__close(helper);
	vmq_rx_unload(&dev);
	vmq_dev_unpin(&dev);
	vmq_dev_close(&dev);
	sandbox_leave();
	return err ? 1 : 0;
bad:
	usage(stderr);
	return 2;
}
