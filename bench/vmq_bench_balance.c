// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vmq-bench-balance: the CPU cost of one balancer interval (docs/
 * balancing.md) at 4096 live queues when the load is skewed: vmqd's map
 * reads, on maps laid out as vmq_tx's, and the pure decision
 * (vmqd_bal_decide) on rates that make it plan its full 8 moves. Two kinds
 * of interval: the metadata read again (every ID's per-CPU counters, whose
 * first word is the entry, and the metadata hash), and the metadata kept
 * (the counters up to the highest live ID). A balanced or idle interval
 * reads no map at all. It prints figures and never fails on time; a failed
 * map operation exits 1. The kernel's per-TX-queue counters (one rtnetlink
 * dump of the mq classes, every interval) are not in it: they need a
 * device.
 *
 *   vmq-bench-balance [--queues N] [--txqs N] [--rounds N]
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "vmqd/balance.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static double cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[(size_t)((double)(n - 1) * p + 0.5)];
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "vmq-bench-balance: %s: %s\n", what, strerror(err));
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "queues", required_argument, NULL, 'q' },
		{ "txqs", required_argument, NULL, 't' },
		{ "rounds", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	LIBBPF_OPTS(bpf_map_create_opts, hash_opts, .map_flags = BPF_F_NO_PREALLOC);
	unsigned int live = 4096, ntxqs = 64, rounds = 200;
	struct vmq_dev dev = { .queues_fd = -1, .queue_stats_fd = -1, .queue_meta_fd = -1 };
	struct vmq_queue_stats *stats;
	struct vmq_queue_meta *metas;
	struct vmqd_bal_queue *queues;
	double *reads[2], *decide[2], *total[2], *cpu[2], txq_rate[VMQ_TXQ_MAX];
	bool *has_meta;
	size_t planned = 0;
	int opt;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		unsigned long v = strtoul(optarg ? optarg : "", NULL, 10);

		if (opt == 'q' && v >= 1 && v < VMQ_QUEUES_MAX)
			live = (unsigned int)v;
		else if (opt == 't' && v >= 2 && v <= VMQ_TXQ_MAX)
			ntxqs = (unsigned int)v;
		else if (opt == 'r' && v >= 1 && v <= 100000)
			rounds = (unsigned int)v;
		else {
			fprintf(stderr,
				"usage: vmq-bench-balance [--queues 1..65535] [--txqs 2..1024] "
				"[--rounds 1..100000]\n");
			return 2;
		}
	}
	/* As vmq_tx's maps for that many live IDs: a map of twice as many. */
	dev.nr_queues = 2 * (live + 1) <= VMQ_QUEUES_MAX ? 2 * (live + 1) : VMQ_QUEUES_MAX;
	dev.queues_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "vmq_queues", 4, 4, dev.nr_queues, NULL);
	dev.queue_stats_fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "vmq_queue_stats", 4,
					    sizeof(struct vmq_queue_stats), dev.nr_queues, NULL);
	dev.queue_meta_fd =
		bpf_map_create(BPF_MAP_TYPE_HASH, "vmq_queue_meta", 4,
			       sizeof(struct vmq_queue_meta), VMQ_QUEUES_MAX, &hash_opts);
	if (dev.queues_fd < 0 || dev.queue_stats_fd < 0 || dev.queue_meta_fd < 0)
		return fail("creating the maps (root?)", errno);
	for (__u32 id = 1; id <= live; id++) {
		struct vmq_queue_entry e = { .state = VMQ_QUEUE_TXQ, .target = id % ntxqs };
		struct vmq_queue_meta m = { .flags = VMQ_META_F_TXQ_AUTO };
		int ncpus = libbpf_num_possible_cpus();
		struct vmq_queue_stats *copies = calloc(ncpus > 0 ? ncpus : 1, sizeof(*copies));

		/* Every CPU's copy of the entry, as vmq_queue_store leaves it. */
		for (int c = 0; copies && c < ncpus; c++)
			copies[c].entry = e;
		snprintf(m.vm, sizeof(m.vm), "vm%u", id);
		if (!copies || bpf_map_update_elem(dev.queues_fd, &id, &e, BPF_ANY) ||
		    bpf_map_update_elem(dev.queue_stats_fd, &id, copies, BPF_ANY) ||
		    bpf_map_update_elem(dev.queue_meta_fd, &id, &m, BPF_ANY))
			return fail("filling the maps", errno);
		free(copies);
	}
	stats = calloc(dev.nr_queues, sizeof(*stats));
	metas = calloc(dev.nr_queues, sizeof(*metas));
	has_meta = calloc(dev.nr_queues, sizeof(*has_meta));
	queues = calloc(dev.nr_queues, sizeof(*queues));
	for (int m = 0; m < 2; m++) {
		reads[m] = calloc(rounds, sizeof(**reads));
		decide[m] = calloc(rounds, sizeof(**decide));
		total[m] = calloc(rounds, sizeof(**total));
		cpu[m] = calloc(rounds, sizeof(**cpu));
		if (!reads[m] || !decide[m] || !total[m] || !cpu[m])
			return fail("memory", ENOMEM);
	}
	if (!stats || !metas || !has_meta || !queues)
		return fail("memory", ENOMEM);
	srand(1);
	/* Mode 0: the metadata read again (after a change, or every 10th
	 * interval), every ID's counters; mode 1: the metadata kept, the
	 * counters up to the highest live ID. */
	for (unsigned int r = 0; r < rounds; r++) {
		for (int m = 0; m < 2; m++) {
			struct vmqd_bal_history h = { .over = VMQD_BAL_HOLD - 1,
						      .since_move = UINT_MAX };
			__u32 ids = m ? live + 1 : dev.nr_queues;
			struct vmqd_bal_plan p;
			double t0 = now_us(), c0 = cpu_us(), t1;
			size_t n = 0;
			int err = vmq_queue_stats_read_first(&dev, ids, stats);

			if (!err && !m)
				err = vmq_queue_meta_read_all(&dev, metas, has_meta);
			if (err)
				return fail("reading the maps", -err);
			/* The rates vmqd would compute: here a random load, TX
			 * queue 0's queues five times heavier, so that the plan
			 * is a full one. */
			memset(txq_rate, 0, sizeof(txq_rate));
			for (__u32 id = 1; id < ids; id++) {
				const struct vmq_queue_entry *e = &stats[id].entry;
				struct vmqd_bal_queue *q;

				if (e->state != VMQ_QUEUE_TXQ || e->target >= ntxqs)
					continue;
				q = &queues[n++];
				q->id = id;
				q->txq = e->target;
				q->movable = vmqd_bal_movable(id, e, &metas[id], has_meta[id]);
				q->rate = (double)(stats[id].bytes + 1000 +
						   (unsigned int)rand() % 100000) *
					  (q->txq ? 1 : 5);
				txq_rate[q->txq] += q->rate;
			}
			t1 = now_us();
			vmqd_bal_decide(txq_rate, ntxqs, queues, n, VMQD_BAL_THRESHOLD_DEFAULT, &h,
					&p);
			decide[m][r] = now_us() - t1;
			reads[m][r] = t1 - t0;
			total[m][r] = now_us() - t0;
			cpu[m][r] = cpu_us() - c0;
			planned = p.nmoves;
		}
	}
	printf("balancer, one interval with a skewed load, %u live queues (map of %u IDs), %u TX "
	       "queues, %d CPUs, %u rounds (goal: under 1000 us):\n",
	       live, dev.nr_queues, ntxqs, libbpf_num_possible_cpus(), rounds);
	for (int m = 0; m < 2; m++) {
		printf("  %s\n",
		       m ? "metadata kept (the next intervals): counters of IDs up to the "
			   "highest live one"
			 : "metadata read (after a change, or every 10th interval): "
			   "counters of every ID, metadata");
		printf("    map reads median %.0f us (p99 %.0f); decision, %zu moves planned, "
		       "median "
		       "%.0f us (p99 %.0f)\n",
		       pct(reads[m], rounds, 0.5), pct(reads[m], rounds, 0.99), planned,
		       pct(decide[m], rounds, 0.5), pct(decide[m], rounds, 0.99));
		printf("    total median %.0f us (p99 %.0f); CPU time median %.0f us (p99 %.0f)\n",
		       pct(total[m], rounds, 0.5), pct(total[m], rounds, 0.99),
		       pct(cpu[m], rounds, 0.5), pct(cpu[m], rounds, 0.99));
	}
	printf("  a balanced or idle interval reads no map: the mq class counters only\n");
	return 0;
}
