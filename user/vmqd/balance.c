// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The balancer's decision, pure: no I/O, no clock. docs/balancing.md says
 * why each condition is there; tests/unit/test_balance.c holds them.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "balance.h"

bool vmqd_bal_movable(__u32 id, const struct vmq_queue_entry *e, const struct vmq_queue_meta *meta,
		      bool has_meta)
{
	return id != VMQ_DEFAULT_QUEUE && e->state == VMQ_QUEUE_TXQ && has_meta &&
	       (meta->flags & VMQ_META_F_TXQ_AUTO) && !(meta->flags & VMQ_META_F_DEGRADED);
}

const char *vmqd_bal_verdict_name(enum vmqd_bal_verdict v)
{
	static const char *const names[] = {
		[VMQD_BAL_IDLE] = "idle",	[VMQD_BAL_BALANCED] = "balanced",
		[VMQD_BAL_HOLDING] = "holding", [VMQD_BAL_RECENT] = "recent_move",
		[VMQD_BAL_NO_PLAN] = "no_plan", [VMQD_BAL_SMALL_GAIN] = "small_gain",
		[VMQD_BAL_MOVE] = "move",
	};

	return (size_t)v < sizeof(names) / sizeof(names[0]) ? names[v] : "?";
}

static unsigned int argmax(const double *l, unsigned int n)
{
	unsigned int b = 0;

	for (unsigned int q = 1; q < n; q++)
		if (l[q] > l[b])
			b = q;
	return b;
}

static unsigned int argmin(const double *l, unsigned int n)
{
	unsigned int t = 0;

	for (unsigned int q = 1; q < n; q++)
		if (l[q] < l[t])
			t = q;
	return t;
}

/*
 * Greedy dry run on a copy of the loads: take a movable queue off the
 * busiest TX queue and onto the least loaded one, the queue that leaves the
 * lower of the two peaks, while that lowers the busiest and the busiest is
 * above the threshold. Each queue moves at most once per plan.
 */
static void plan_moves(double *l, unsigned int ntxqs, const struct vmqd_bal_queue *queues,
		       size_t nqueues, double limit, bool *moved, struct vmqd_bal_plan *p)
{
	while (p->nmoves < VMQD_BAL_MOVES_MAX) {
		unsigned int b = argmax(l, ntxqs), t = argmin(l, ntxqs);
		double best_peak = l[b];
		size_t best = nqueues;

		if (b == t || l[b] <= limit)
			return;
		for (size_t i = 0; i < nqueues; i++) {
			const struct vmqd_bal_queue *q = &queues[i];
			double peak;

			if (!q->movable || moved[i] || q->txq != b || q->rate <= 0)
				continue;
			peak = l[b] - q->rate > l[t] + q->rate ? l[b] - q->rate : l[t] + q->rate;
			/* Strictly lower, by more than rounding. */
			if (peak < best_peak * (1.0 - 1e-9)) {
				best_peak = peak;
				best = i;
			}
		}
		if (best == nqueues)
			return;
		moved[best] = true;
		l[b] -= queues[best].rate;
		l[t] += queues[best].rate;
		p->moves[p->nmoves++] = (struct vmqd_bal_move){
			.id = queues[best].id,
			.from = (__u16)b,
			.to = (__u16)t,
			.rate = queues[best].rate,
		};
	}
}

bool vmqd_bal_over(const double *txq_rate, unsigned int ntxqs, unsigned int threshold_pct)
{
	double total = 0, mean;

	for (unsigned int q = 0; q < ntxqs; q++)
		total += txq_rate[q];
	mean = ntxqs ? total / ntxqs : 0;
	return ntxqs >= 2 && mean >= VMQD_BAL_IDLE_BPS &&
	       (txq_rate[argmax(txq_rate, ntxqs)] / mean - 1.0) * 100.0 > threshold_pct;
}

void vmqd_bal_decide(const double *txq_rate, unsigned int ntxqs,
		     const struct vmqd_bal_queue *queues, size_t nqueues,
		     unsigned int threshold_pct, struct vmqd_bal_history *h,
		     struct vmqd_bal_plan *p)
{
	double total = 0, limit, *l = NULL;
	bool *moved = NULL;

	memset(p, 0, sizeof(*p));
	p->ntxqs = ntxqs;
	if (h->since_move < UINT_MAX)
		h->since_move++;
	for (unsigned int q = 0; q < ntxqs; q++)
		total += txq_rate[q];
	p->mean = ntxqs ? total / ntxqs : 0;
	if (ntxqs < 2 || p->mean < VMQD_BAL_IDLE_BPS) {
		h->over = 0;
		p->verdict = VMQD_BAL_IDLE;
		goto out;
	}
	p->busiest = argmax(txq_rate, ntxqs);
	p->busiest_rate = txq_rate[p->busiest];
	p->skew_pct = (p->busiest_rate / p->mean - 1.0) * 100.0;
	p->after_max = p->busiest_rate;
	if (p->skew_pct <= threshold_pct) {
		h->over = 0;
		p->verdict = VMQD_BAL_BALANCED;
		goto out;
	}
	if (h->over < UINT_MAX)
		h->over++;
	/* The plan is made whatever the history says: dev show and the dry
	 * run tell what would move. */
	l = malloc(ntxqs * sizeof(*l));
	moved = calloc(nqueues ? nqueues : 1, sizeof(*moved));
	if (l && moved) {
		memcpy(l, txq_rate, ntxqs * sizeof(*l));
		limit = p->mean * (1.0 + threshold_pct / 100.0);
		plan_moves(l, ntxqs, queues, nqueues, limit, moved, p);
		p->after_max = l[argmax(l, ntxqs)];
	}
	p->gain_pct = (p->busiest_rate - p->after_max) / p->mean * 100.0;
	if (h->over < VMQD_BAL_HOLD)
		p->verdict = VMQD_BAL_HOLDING;
	else if (h->since_move < VMQD_BAL_HOLD)
		p->verdict = VMQD_BAL_RECENT;
	else if (!p->nmoves)
		p->verdict = VMQD_BAL_NO_PLAN;
	else if (p->gain_pct < threshold_pct)
		p->verdict = VMQD_BAL_SMALL_GAIN;
	else
		p->verdict = VMQD_BAL_MOVE;
out:
	p->over = h->over;
	p->since_move = h->since_move;
	free(l);
	free(moved);
}

void vmqd_bal_describe(const struct vmqd_bal_plan *p, unsigned int threshold_pct, char *buf,
		       size_t size)
{
	int n;

	if (p->verdict == VMQD_BAL_IDLE) {
		snprintf(buf, size, "idle: %.0f B/s per TX queue on average, nothing to balance",
			 p->mean);
		return;
	}
	n = snprintf(buf, size,
		     "txq %u at %.0f B/s, %.0f%% above the mean %.0f B/s (threshold %u%%)",
		     p->busiest, p->busiest_rate, p->skew_pct, p->mean, threshold_pct);
	if (n < 0 || (size_t)n >= size)
		return;
	buf += n;
	size -= (size_t)n;
	switch (p->verdict) {
	case VMQD_BAL_BALANCED:
		snprintf(buf, size, ": balanced, nothing to do");
		break;
	case VMQD_BAL_HOLDING:
		snprintf(buf, size, ": over for %u of %u intervals, waiting", p->over,
			 VMQD_BAL_HOLD);
		break;
	case VMQD_BAL_RECENT:
		snprintf(buf, size, ": a queue moved %u interval(s) ago, waiting for %u",
			 p->since_move, VMQD_BAL_HOLD);
		break;
	case VMQD_BAL_NO_PLAN:
		snprintf(buf, size, ": no move of an automatically placed queue lowers it");
		break;
	case VMQD_BAL_SMALL_GAIN:
		snprintf(buf, size, ": %zu move(s) would lower it by %.0f%% of the mean only",
			 p->nmoves, p->gain_pct);
		break;
	default:
		snprintf(buf, size, ": %zu move(s) lower it to %.0f B/s (by %.0f%% of the mean)",
			 p->nmoves, p->after_max, p->gain_pct);
	}
}
