// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The balancer in vmqd: "dev set DEV balance ...", the interval timer, the
 * counters it samples, the moves (each one atomic queue update, in a gap
 * of the queue's traffic), and "dev balance DEV --dry-run".
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "balance.h"
#include "log.h"
#include "proto.h"

/*
 * The queues' metadata as last read (a batch of the whole hash map, the
 * dearer half of an interval's reads), kept while the entries stay as they
 * were then, VMQD_BAL_META_AGE intervals at most: meanwhile each interval
 * reads the counters of IDs 0..ids-1 only, up to the highest live ID. A
 * queue added above it waits for the next full read; a move reads its
 * queue's metadata again, so what is kept never moves the wrong queue.
 */
#define VMQD_BAL_META_AGE 10U

struct meta_cache {
	bool valid;
	unsigned int age;
	__u32 ids;
	struct vmq_queue_meta *metas;
	bool *has_meta;
	struct vmq_queue_entry *entries;
};

struct vmqd_balance {
	bool on;
	unsigned int interval_s, threshold_pct;
	double next_due; /* monotonic seconds */
	/* The previous sample: rates are the difference to it. */
	bool have_prev;
	double prev_time;
	unsigned int prev_ntxqs;
	__u64 *prev_txq;  /* VMQ_TXQ_MAX bytes counters */
	__u64 *prev_q;	  /* nr_queues bytes counters */
	bool have_prev_q; /* prev_q was read with the previous sample */
	__u32 prev_q_ids; /* of IDs 0..prev_q_ids-1 */
	double prev_q_time;
	struct vmqd_bal_history hist;
	__u32 *queue_moves; /* nr_queues: moves per queue since vmqd started */
	__u64 moves, waited, gave_up, intervals;
	bool have_last, have_move;
	struct vmqd_bal_plan last, last_move; /* the last decision, the last that moved */
	time_t last_time, last_move_time;     /* wall clock, for dev show */
	struct meta_cache cache;
	char last_move_vm[VMQD_BAL_MOVES_MAX][VMQ_META_NAME_LEN];
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void cache_free(struct meta_cache *c)
{
	free(c->metas);
	free(c->has_meta);
	free(c->entries);
	memset(c, 0, sizeof(*c));
}

void vmqd_balance_free(struct vmqd_dev *dev)
{
	struct vmqd_balance *b = dev->bal;

	if (!b)
		return;
	free(b->prev_txq);
	free(b->prev_q);
	free(b->queue_moves);
	cache_free(&b->cache);
	free(b);
	dev->bal = NULL;
}

static struct vmqd_balance *bal_get(struct vmqd_dev *dev)
{
	struct vmqd_balance *b = dev->bal;

	if (b)
		return b;
	b = vmqd_must(calloc(1, sizeof(*b)), "balance");
	b->prev_txq = vmqd_must(calloc(VMQ_TXQ_MAX, sizeof(*b->prev_txq)), "balance");
	b->prev_q = vmqd_must(calloc(dev->dp.nr_queues, sizeof(*b->prev_q)), "balance");
	b->queue_moves = vmqd_must(calloc(dev->dp.nr_queues, sizeof(*b->queue_moves)), "balance");
	b->interval_s = VMQD_BAL_INTERVAL_DEFAULT;
	b->threshold_pct = VMQD_BAL_THRESHOLD_DEFAULT;
	b->hist.since_move = UINT_MAX;
	dev->bal = b;
	return b;
}

/* --- dev set DEV balance on|off [interval S] [threshold P] ------------------ */

int vmqd_balance_set(struct vmqd_dev *dev, struct json_object *args, const char *what,
		     struct vmqd_reply *r, bool apply, bool *set)
{
	struct json_object *v = vmq_json_member(args, "balance", json_type_string);
	__u32 interval = VMQD_BAL_INTERVAL_DEFAULT, threshold = VMQD_BAL_THRESHOLD_DEFAULT;
	bool on, has = vmqd_req_has(args, "balance");
	struct vmqd_balance *b;
	int err = 0;

	*set = has;
	if (!has) {
		if (vmqd_req_has(args, "interval") || vmqd_req_has(args, "threshold"))
			return vmqd_reply_error(r, EINVAL,
						"%s: interval and threshold go with balance", what);
		return 0;
	}
	if (!v ||
	    (strcmp(json_object_get_string(v), "on") && strcmp(json_object_get_string(v), "off")))
		return vmqd_reply_error(r, EINVAL, "%s: balance must be \"on\" or \"off\"", what);
	on = !strcmp(json_object_get_string(v), "on");
	if (vmqd_req_has(args, "interval"))
		err = vmqd_req_u32(args, "interval", UINT32_MAX, what, r, &interval);
	if (!err && (interval < 1 || interval > VMQD_BAL_INTERVAL_MAX))
		err = vmqd_reply_error(r, ERANGE,
				       "%s: balance interval %u s out of range (1..%u seconds)",
				       what, interval, VMQD_BAL_INTERVAL_MAX);
	if (!err && vmqd_req_has(args, "threshold"))
		err = vmqd_req_u32(args, "threshold", UINT32_MAX, what, r, &threshold);
	if (!err && (threshold < 1 || threshold > VMQD_BAL_THRESHOLD_MAX))
		err = vmqd_reply_error(r, ERANGE,
				       "%s: balance threshold %u%% out of range (1..%u percent)",
				       what, threshold, VMQD_BAL_THRESHOLD_MAX);
	if (err || !apply)
		return err;
	if (!on && !dev->bal)
		return 0;
	b = bal_get(dev);
	if (on && (!b->on || b->interval_s != interval)) {
		/* A fresh start: the first interval only takes a sample. */
		b->have_prev = false;
		b->hist.over = 0;
		b->next_due = mono_s();
	}
	b->on = on;
	/* Off keeps the figures it is not given, for dev show. */
	if (on || vmqd_req_has(args, "interval"))
		b->interval_s = interval;
	if (on || vmqd_req_has(args, "threshold"))
		b->threshold_pct = threshold;
	if (on)
		log_info("%s: balancing on, every %u s, threshold %u%%", what, interval, threshold);
	else
		log_info("%s: balancing off", what);
	return 0;
}

bool vmqd_balance_state_args(const struct vmqd_dev *dev, struct json_object *args)
{
	const struct vmqd_balance *b = dev->bal;

	if (!b || !b->on)
		return false;
	vmqd_json_add(args, "balance", vmqd_json_string("on"));
	vmqd_json_add(args, "interval", vmqd_json_int(b->interval_s));
	vmqd_json_add(args, "threshold", vmqd_json_int(b->threshold_pct));
	return true;
}

/* --- one interval --------------------------------------------------------------- */

/* What one look at the counters gives: TX queue rates, and (when asked
 * for) the queues steered to a TX queue with their own rates. */
struct sample {
	unsigned int ntxqs;
	double time; /* monotonic, when the kernel's counters were read */
	double elapsed;
	double *txq_rate;
	__u64 txq_bytes[VMQ_TXQ_MAX];
	bool have_queues;
	double q_time; /* when the queues' counters were read */
	struct vmqd_bal_queue *queues;
	size_t nqueues;
	__u64 *q_bytes;
	const struct vmq_queue_meta *metas; /* the cache's */
	const bool *has_meta;
	bool full_read; /* the metadata was read now */
	__u32 q_ids;	/* q_bytes holds IDs 0..q_ids-1 */
};

static void sample_free(struct sample *s)
{
	free(s->txq_rate);
	free(s->queues);
	free(s->q_bytes);
	free(s);
}

/* The kernel's TX queue counters now; rates against b's previous sample
 * when it has a comparable one (else elapsed is 0). "why" says what is
 * missing. */
static int sample_take(struct vmqd_dev *dev, const struct vmqd_balance *b, struct sample **out,
		       char *why, size_t size)
{
	struct sample *s = vmqd_must(calloc(1, sizeof(*s)), "balance");
	struct vmq_txq_kernel *k = NULL;
	int err;

	s->txq_rate = vmqd_must(calloc(VMQ_TXQ_MAX, sizeof(*s->txq_rate)), "balance");
	err = vmq_netdev_txqs(dev->dp.ifname, &s->ntxqs);
	if (err) {
		snprintf(why, size, "cannot count its TX queues: %s", strerror(-err));
		goto fail;
	}
	if (s->ntxqs > VMQ_TXQ_MAX)
		s->ntxqs = VMQ_TXQ_MAX;
	k = vmqd_must(calloc(s->ntxqs ? s->ntxqs : 1, sizeof(*k)), "balance");
	s->time = mono_s();
	err = vmq_netdev_txq_kernel(dev->dp.ifname, dev->dp.ifindex, s->ntxqs, k);
	if (err) {
		snprintf(why, size, "cannot read its TX queue counters: %s", strerror(-err));
		goto fail;
	}
	if (s->ntxqs < 2) {
		snprintf(why, size, "%u TX queue(s): nothing to balance", s->ntxqs);
		err = -EOPNOTSUPP;
		goto fail;
	}
	if (!k[0].has_counters) {
		snprintf(why, size, "no per-TX-queue counters (its root qdisc is not mq)");
		err = -EOPNOTSUPP;
		goto fail;
	}
	for (unsigned int q = 0; q < s->ntxqs; q++)
		s->txq_bytes[q] = k[q].bytes;
	if (b && b->have_prev && b->prev_ntxqs == s->ntxqs && s->time > b->prev_time)
		s->elapsed = s->time - b->prev_time;
	for (unsigned int q = 0; b && s->elapsed > 0 && q < s->ntxqs; q++)
		s->txq_rate[q] = s->txq_bytes[q] >= b->prev_txq[q]
					 ? (double)(s->txq_bytes[q] - b->prev_txq[q]) / s->elapsed
					 : 0;
	free(k);
	*out = s;
	return 0;
fail:
	free(k);
	sample_free(s);
	return err;
}

static void cache_alloc(struct meta_cache *c, __u32 n)
{
	if (c->metas)
		return;
	c->metas = vmqd_must(calloc(n, sizeof(*c->metas)), "balance");
	c->has_meta = vmqd_must(calloc(n, sizeof(*c->has_meta)), "balance");
	c->entries = vmqd_must(calloc(n, sizeof(*c->entries)), "balance");
}

/*
 * The queues, read only when a plan is needed: the per-CPU counters (whose
 * first word is the entry, CPU 0's copy: vmq_queue_store keeps it equal to
 * vmq_queues, and a move checks vmq_queues itself) and the metadata, from
 * the cache when it holds. Their rates count when b read them at its
 * previous sample.
 */
static int sample_queues(struct vmqd_dev *dev, const struct vmqd_balance *b, struct meta_cache *c,
			 struct sample *s, char *why, size_t size)
{
	__u32 n = dev->dp.nr_queues, ids;
	struct vmq_queue_stats *stats = vmqd_must(calloc(n, sizeof(*stats)), "balance");
	double elapsed;
	int err;

	cache_alloc(c, n);
	ids = c->valid && c->age < VMQD_BAL_META_AGE ? c->ids : n;
	s->q_bytes = vmqd_must(calloc(n, sizeof(*s->q_bytes)), "balance");
	s->queues = vmqd_must(calloc(n, sizeof(*s->queues)), "balance");
	s->q_time = mono_s();
	err = vmq_queue_stats_read_first(&dev->dp, ids, stats);
	for (__u32 id = 0; !err && ids < n && id < ids; id++) {
		if (memcmp(&stats[id].entry, &c->entries[id], sizeof(stats[id].entry))) {
			/* A queue came, went or moved: all of it again. */
			ids = n;
			err = vmq_queue_stats_read_first(&dev->dp, ids, stats);
		}
	}
	if (!err && ids == n) {
		err = vmq_queue_meta_read_all(&dev->dp, c->metas, c->has_meta);
		c->valid = !err;
		c->age = 0;
		c->ids = 1;
		for (__u32 id = 0; !err && id < n; id++) {
			c->entries[id] = stats[id].entry;
			if (stats[id].entry.state != VMQ_QUEUE_FREE)
				c->ids = id + 1;
		}
		s->full_read = true;
	} else if (!err) {
		c->age++;
	}
	if (err) {
		c->valid = false;
		snprintf(why, size, "cannot read its queues: %s", strerror(-err));
		free(stats);
		return err;
	}
	s->metas = c->metas;
	s->has_meta = c->has_meta;
	elapsed = b && b->have_prev_q && b->prev_q_time == b->prev_time ? s->q_time - b->prev_q_time
									: 0;
	for (__u32 id = 0; id < ids; id++)
		s->q_bytes[id] = stats[id].bytes;
	for (__u32 id = 1; id < ids; id++) {
		const struct vmq_queue_entry *e = &stats[id].entry;
		struct vmqd_bal_queue *q;

		if (e->state != VMQ_QUEUE_TXQ || e->target >= s->ntxqs)
			continue;
		q = &s->queues[s->nqueues++];
		q->id = id;
		q->txq = e->target;
		q->movable = vmqd_bal_movable(id, e, &s->metas[id], s->has_meta[id]);
		q->rate = b && elapsed > 0 && id < b->prev_q_ids && s->q_bytes[id] >= b->prev_q[id]
				  ? (double)(s->q_bytes[id] - b->prev_q[id]) / elapsed
				  : 0;
	}
	s->have_queues = true;
	s->q_ids = ids;
	free(stats);
	return 0;
}

static void sample_keep(struct vmqd_balance *b, const struct sample *s, __u32 nr_queues)
{
	memcpy(b->prev_txq, s->txq_bytes, s->ntxqs * sizeof(*b->prev_txq));
	b->prev_ntxqs = s->ntxqs;
	b->prev_time = s->time;
	b->have_prev = true;
	b->have_prev_q = s->have_queues;
	b->prev_q_ids = s->have_queues ? s->q_ids : 0;
	if (s->have_queues) {
		memcpy(b->prev_q, s->q_bytes, nr_queues * sizeof(*b->prev_q));
		/* Paired with the TX queues' sample: the next rates are over the
		 * same interval. */
		b->prev_q_time = s->time;
	}
}

/* A gap in the queue's traffic: its packet counter unchanged for
 * VMQD_BAL_GAP_US, looked at every 100 us; VMQD_BAL_WAIT_MAX_US at most. */
static void wait_gap(struct vmqd_dev *dev, __u32 id, bool *waited, bool *gave_up)
{
	struct vmq_queue_stats st;
	double start = mono_s(), quiet_since = start;
	__u64 last;

	*waited = *gave_up = false;
	if (vmq_queue_stats_read(&dev->dp, id, &st))
		return;
	last = st.packets;
	for (;;) {
		double t = mono_s();

		if (t - quiet_since >= VMQD_BAL_GAP_US / 1e6)
			return;
		if (t - start >= VMQD_BAL_WAIT_MAX_US / 1e6) {
			*gave_up = true;
			return;
		}
		usleep(100);
		if (vmq_queue_stats_read(&dev->dp, id, &st))
			return;
		if (st.packets != last) {
			last = st.packets;
			quiet_since = mono_s();
			*waited = true;
		}
	}
}

static int move_queue(struct vmqd_dev *dev, struct vmqd_balance *b, const struct vmqd_bal_move *m,
		      const struct vmqd_bal_plan *p, const struct sample *s)
{
	struct vmq_queue_entry cur, e = { .state = VMQ_QUEUE_TXQ, .target = m->to };
	struct vmq_queue_meta meta;
	bool waited, gave_up;
	int err;

	wait_gap(dev, m->id, &waited, &gave_up);
	/* Still where the plan saw it, and still vmqd's to move: the plan's
	 * view may be older (the metadata cache), and the store must never
	 * undo a change it did not see. */
	err = vmq_queue_read(&dev->dp, m->id, &cur);
	if (!err)
		err = vmq_queue_meta_read(&dev->dp, m->id, &meta);
	if (!err && (cur.target != m->from || !vmqd_bal_movable(m->id, &cur, &meta, true)))
		err = -ESTALE;
	if (err == -ESTALE || err == -ENOENT)
		b->cache.valid = false;
	if (!err)
		err = vmq_queue_write(&dev->dp, m->id, e);
	if (err) {
		log_warn("dev %s: queue %u not moved from txq %u to txq %u: %s", dev->dp.ifname,
			 m->id, m->from, m->to, strerror(-err));
		return err;
	}
	if (!(meta.flags & VMQ_META_F_BALANCED)) {
		meta.flags |= VMQ_META_F_BALANCED;
		vmq_queue_meta_update(&dev->dp, m->id, &meta);
	}
	b->moves++;
	b->waited += waited;
	b->gave_up += gave_up;
	b->queue_moves[m->id]++;
	log_info("dev %s: queue %u%s%s moved txq %u -> txq %u (queue %.0f B/s; txq %u at %.0f B/s, "
		 "%.0f%% above the mean %.0f B/s; txq %u at %.0f B/s)%s",
		 dev->dp.ifname, m->id, s->has_meta[m->id] && s->metas[m->id].vm[0] ? " vm " : "",
		 s->has_meta[m->id] ? s->metas[m->id].vm : "", m->from, m->to, m->rate, p->busiest,
		 p->busiest_rate, p->skew_pct, p->mean, m->to, s->txq_rate[m->to],
		 gave_up  ? "; no gap in its traffic within 50 ms: moved anyway"
		 : waited ? "; waited for a gap in its traffic"
			  : "");
	return 0;
}

static void run_interval(struct vmqd *d, struct vmqd_dev *dev, struct vmqd_balance *b)
{
	struct vmqd_bal_plan p;
	struct sample *s = NULL;
	char why[160], text[320];
	size_t moved = 0;

	if (sample_take(dev, b, &s, why, sizeof(why))) {
		log_debug("dev %s: balancing skipped: %s", dev->dp.ifname, why);
		b->have_prev = false;
		return;
	}
	b->intervals++;
	/* The queues cost a read of every ID: only when there is a skew (or
	 * to start the next interval's rates at the first look). */
	if ((s->elapsed <= 0 || vmqd_bal_over(s->txq_rate, s->ntxqs, b->threshold_pct)) &&
	    sample_queues(dev, b, &b->cache, s, why, sizeof(why))) {
		log_debug("dev %s: balancing skipped: %s", dev->dp.ifname, why);
		b->have_prev = false;
		sample_free(s);
		return;
	}
	if (s->elapsed <= 0) { /* the first look: no rates yet */
		sample_keep(b, s, dev->dp.nr_queues);
		sample_free(s);
		return;
	}
	vmqd_bal_decide(s->txq_rate, s->ntxqs, s->queues, s->nqueues, b->threshold_pct, &b->hist,
			&p);
	for (size_t i = 0; p.verdict == VMQD_BAL_MOVE && i < p.nmoves; i++)
		moved += !move_queue(dev, b, &p.moves[i], &p, s);
	if (moved) {
		b->hist.since_move = 0;
		d->state_dirty = true; /* the queues' placement is saved as auto */
	}
	vmqd_bal_describe(&p, b->threshold_pct, text, sizeof(text));
	log_debug("dev %s: balance: %s", dev->dp.ifname, text);
	b->last = p;
	b->have_last = true;
	b->last_time = time(NULL);
	if (moved) {
		b->last_move = p;
		b->have_move = true;
		b->last_move_time = b->last_time;
		for (size_t i = 0; i < p.nmoves; i++)
			snprintf(b->last_move_vm[i], sizeof(b->last_move_vm[i]), "%s",
				 s->has_meta[p.moves[i].id] ? s->metas[p.moves[i].id].vm : "");
	}
	/* The next rates start from this sample, taken before the moves: a
	 * moved queue's bytes count where they went. */
	sample_keep(b, s, dev->dp.nr_queues);
	sample_free(s);
}

void vmqd_balance_tick(struct vmqd *d)
{
	double now = mono_s();

	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < d->ndevs; i++) {
		struct vmqd_dev *dev = d->devs[i];
		struct vmqd_balance *b = dev->bal;

		if (!b || !b->on || dev->missing || now < b->next_due)
			continue;
		/* Late (a long request): the next one an interval from now. */
		b->next_due = b->next_due + b->interval_s > now ? b->next_due + b->interval_s
								: now + b->interval_s;
		run_interval(d, dev, b);
	}
	pthread_mutex_unlock(&d->lock);
}

unsigned int vmqd_balance_period_ms(const struct vmqd *d)
{
	for (size_t i = 0; i < d->ndevs; i++)
		if (d->devs[i]->bal && d->devs[i]->bal->on)
			return 100; /* due times are checked at this resolution */
	return 0;
}

/* --- JSON ------------------------------------------------------------------------- */

static struct json_object *plan_json(const struct vmqd_bal_plan *p, unsigned int threshold,
				     const struct sample *s, char (*vms)[VMQ_META_NAME_LEN])
{
	struct json_object *o = vmqd_json_object(), *moves = vmqd_json_array();
	char text[320];

	vmqd_bal_describe(p, threshold, text, sizeof(text));
	vmqd_json_add(o, "verdict", vmqd_json_string(vmqd_bal_verdict_name(p->verdict)));
	vmqd_json_add(o, "reason", vmqd_json_string(text));
	vmqd_json_add(o, "busiest_txq", vmqd_json_int(p->busiest));
	vmqd_json_add(o, "busiest_bytes_per_s", vmqd_json_uint((uint64_t)p->busiest_rate));
	vmqd_json_add(o, "mean_bytes_per_s", vmqd_json_uint((uint64_t)p->mean));
	vmqd_json_add(o, "skew_pct", vmqd_json_int((int64_t)(p->skew_pct + 0.5)));
	vmqd_json_add(o, "after_bytes_per_s", vmqd_json_uint((uint64_t)p->after_max));
	vmqd_json_add(o, "gain_pct", vmqd_json_int((int64_t)(p->gain_pct + 0.5)));
	vmqd_json_add(o, "intervals_over", vmqd_json_int(p->over));
	for (size_t i = 0; i < p->nmoves; i++) {
		struct json_object *m = vmqd_json_object();
		__u32 id = p->moves[i].id;

		vmqd_json_add(m, "id", vmqd_json_int(id));
		if (s && s->have_queues && s->has_meta[id] && s->metas[id].vm[0])
			vmqd_json_add(m, "vm", vmqd_json_string(s->metas[id].vm));
		else if (vms && vms[i][0])
			vmqd_json_add(m, "vm", vmqd_json_string(vms[i]));
		vmqd_json_add(m, "from", vmqd_json_int(p->moves[i].from));
		vmqd_json_add(m, "to", vmqd_json_int(p->moves[i].to));
		vmqd_json_add(m, "bytes_per_s", vmqd_json_uint((uint64_t)p->moves[i].rate));
		vmqd_json_append(moves, m);
	}
	vmqd_json_add(o, "moves", moves);
	return o;
}

static void counters_json(const struct vmqd_balance *b, struct json_object *o)
{
	vmqd_json_add(o, "moves", vmqd_json_uint(b ? b->moves : 0));
	vmqd_json_add(o, "moves_waited", vmqd_json_uint(b ? b->waited : 0));
	vmqd_json_add(o, "moves_gave_up", vmqd_json_uint(b ? b->gave_up : 0));
}

void vmqd_balance_dev_json(const struct vmqd_dev *dev, struct json_object *o)
{
	const struct vmqd_balance *b = dev->bal;
	struct json_object *bo = vmqd_json_object();

	vmqd_json_add(bo, "state", vmqd_json_string(b && b->on ? "on" : "off"));
	vmqd_json_add(bo, "interval", vmqd_json_int(b ? b->interval_s : VMQD_BAL_INTERVAL_DEFAULT));
	vmqd_json_add(bo, "threshold",
		      vmqd_json_int(b ? b->threshold_pct : VMQD_BAL_THRESHOLD_DEFAULT));
	counters_json(b, bo);
	if (b && b->have_last) {
		struct json_object *last = plan_json(&b->last, b->threshold_pct, NULL, NULL);

		vmqd_json_add(last, "time", vmqd_json_int((int64_t)b->last_time));
		vmqd_json_add(last, "moved",
			      vmqd_json_bool(b->have_move && b->last_move_time == b->last_time &&
					     b->last.verdict == VMQD_BAL_MOVE));
		vmqd_json_add(bo, "last", last);
	}
	if (b && b->have_move) {
		struct json_object *last = plan_json(&b->last_move, b->threshold_pct, NULL,
						     (char(*)[VMQ_META_NAME_LEN])b->last_move_vm);

		vmqd_json_add(last, "time", vmqd_json_int((int64_t)b->last_move_time));
		vmqd_json_add(bo, "last_move", last);
	}
	vmqd_json_add(o, "balance", bo);
}

void vmqd_balance_stats_json(const struct vmqd_dev *dev, struct json_object *o)
{
	struct json_object *bo = vmqd_json_object();

	counters_json(dev->bal, bo);
	vmqd_json_add(o, "balance", bo);
}

/* Once it moved: a queue never moved keeps the members it always had. */
void vmqd_balance_queue_json(const struct vmqd_dev *dev, __u32 id, struct json_object *o)
{
	if (id == VMQ_DEFAULT_QUEUE || !dev->bal || id >= dev->dp.nr_queues ||
	    !dev->bal->queue_moves[id])
		return;
	vmqd_json_add(o, "moves", vmqd_json_int(dev->bal->queue_moves[id]));
}

/* --- dev balance DEV --dry-run ------------------------------------------------ */

int vmqd_dev_balance(struct vmqd *d, struct json_object *args, struct vmqd_reply *r)
{
	struct json_object *v = vmq_json_member(args, "dry_run", json_type_boolean);
	struct vmqd_balance tmp = {}, *b;
	struct meta_cache *cache;
	struct vmqd_bal_history h;
	struct vmqd_bal_plan p;
	struct vmqd_dev *dev;
	struct sample *s = NULL;
	char what[64], why[160];
	int err = vmqd_req_dev(d, args, "dev balance", r, &dev);

	if (err)
		return err;
	snprintf(what, sizeof(what), "dev %s", dev->dp.ifname);
	if (!v || !json_object_get_boolean(v))
		return vmqd_reply_error(r, EINVAL,
					"%s: balance takes --dry-run only (moves happen on the "
					"balancer's timer: dev set %s balance on)",
					what, dev->dp.ifname);
	if (dev->missing)
		return vmqd_reply_error(r, ENODEV, "%s: absent", what);
	b = dev->bal;
	cache = b ? &b->cache : &tmp.cache;
	/* No recent sample to compare with: take one, and another shortly. */
	if (!b || !b->on || !b->have_prev || !b->have_prev_q || mono_s() - b->prev_time < 0.1) {
		tmp.prev_txq = vmqd_must(calloc(VMQ_TXQ_MAX, sizeof(*tmp.prev_txq)), "balance");
		tmp.prev_q = vmqd_must(calloc(dev->dp.nr_queues, sizeof(*tmp.prev_q)), "balance");
		tmp.threshold_pct = b ? b->threshold_pct : VMQD_BAL_THRESHOLD_DEFAULT;
		tmp.hist = b ? b->hist : (struct vmqd_bal_history){ .since_move = UINT_MAX };
		err = sample_take(dev, NULL, &s, why, sizeof(why));
		if (!err)
			err = sample_queues(dev, NULL, cache, s, why, sizeof(why));
		if (s && !err) {
			sample_keep(&tmp, s, dev->dp.nr_queues);
			sample_free(s);
			s = NULL;
			usleep(250000);
		}
		if (s)
			sample_free(s);
		s = NULL;
		b = &tmp;
	}
	if (!err)
		err = sample_take(dev, b, &s, why, sizeof(why));
	if (!err)
		err = sample_queues(dev, b, cache, s, why, sizeof(why));
	free(tmp.prev_txq);
	free(tmp.prev_q);
	if (err) {
		if (s)
			sample_free(s);
		cache_free(&tmp.cache);
		return vmqd_reply_error(r, -err, "%s: %s", what, why);
	}
	/* The next interval as the balancer would see it; a dry run with no
	 * history assumes the hold is over (it says so in "intervals_over"). */
	h = b->hist;
	if (b == &tmp && h.over < VMQD_BAL_HOLD - 1)
		h.over = VMQD_BAL_HOLD - 1;
	vmqd_bal_decide(s->txq_rate, s->ntxqs, s->queues, s->nqueues, b->threshold_pct, &h, &p);
	r->result = vmqd_json_object();
	vmqd_json_add(r->result, "dev", vmqd_json_string(dev->dp.ifname));
	vmqd_json_add(r->result, "balance",
		      vmqd_json_string(dev->bal && dev->bal->on ? "on" : "off"));
	vmqd_json_add(r->result, "threshold", vmqd_json_int(b->threshold_pct));
	vmqd_json_add(r->result, "would_move", vmqd_json_bool(p.verdict == VMQD_BAL_MOVE));
	vmqd_json_add(r->result, "plan", plan_json(&p, b->threshold_pct, s, NULL));
	{
		struct json_object *txqs = vmqd_json_array();

		for (unsigned int q = 0; q < s->ntxqs; q++) {
			struct json_object *t = vmqd_json_object();

			vmqd_json_add(t, "txq", vmqd_json_int(q));
			vmqd_json_add(t, "bytes_per_s", vmqd_json_uint((uint64_t)s->txq_rate[q]));
			vmqd_json_append(txqs, t);
		}
		vmqd_json_add(r->result, "txqs", txqs);
	}
	sample_free(s);
	cache_free(&tmp.cache);
	return 0;
}

const char *const vmqd_dev_balance_keys[] = { "dev", "dry_run", NULL };
