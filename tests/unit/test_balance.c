// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The balancer's decision (user/vmqd/balance.c): the three conditions of a
 * move, which queues may move, and no oscillation on a steady load. Pure:
 * rates in, plan out; no kernel.
 */
#include <limits.h>

#include "vmq_test.h"
#include "vmqd/balance.h"

#define K 1000.0 /* rates in kB/s: well above the idle floor */

/* Six VMs on four TX queues as "txq any" puts them (0,1,2,3,0,1), the two
 * on TX queue 0 sending twice as much as the others. */
static struct vmqd_bal_queue six[] = {
	{ .id = 1, .txq = 0, .movable = true, .rate = 200 * K },
	{ .id = 2, .txq = 1, .movable = true, .rate = 100 * K },
	{ .id = 3, .txq = 2, .movable = true, .rate = 100 * K },
	{ .id = 4, .txq = 3, .movable = true, .rate = 100 * K },
	{ .id = 5, .txq = 0, .movable = true, .rate = 200 * K },
	{ .id = 6, .txq = 1, .movable = true, .rate = 100 * K },
};

/* TX queue rates: the sum of the queues on each. */
static void loads(const struct vmqd_bal_queue *q, size_t n, double *l, unsigned int ntxqs)
{
	memset(l, 0, ntxqs * sizeof(*l));
	for (size_t i = 0; i < n; i++)
		l[q[i].txq] += q[i].rate;
}

/* Carries the plan out on q, as vmqd's moves would. */
static void apply(struct vmqd_bal_queue *q, size_t n, const struct vmqd_bal_plan *p)
{
	for (size_t m = 0; m < p->nmoves; m++)
		for (size_t i = 0; i < n; i++)
			if (q[i].id == p->moves[m].id) {
				assert_int_equal(q[i].txq, p->moves[m].from);
				q[i].txq = p->moves[m].to;
			}
}

static double peak(const double *l, unsigned int n)
{
	double m = 0;

	for (unsigned int i = 0; i < n; i++)
		m = l[i] > m ? l[i] : m;
	return m;
}

static struct vmqd_bal_history fresh(void)
{
	return (struct vmqd_bal_history){ .since_move = UINT_MAX };
}

/* Condition 1: above the threshold for 3 intervals in a row; a dip below
 * starts the count again. */
static void test_three_intervals_above(void **state)
{
	struct vmqd_bal_queue q[6];
	struct vmqd_bal_history h = fresh();
	struct vmqd_bal_plan p;
	double l[4];

	(void)state;
	memcpy(q, six, sizeof(q));
	loads(q, 6, l, 4);
	vmqd_bal_decide(l, 4, q, 6, 25, &h, &p);
	assert_int_equal(p.verdict, VMQD_BAL_HOLDING);
	assert_int_equal(p.busiest, 0);
	assert_int_equal((int)(p.skew_pct + 0.5), 100); /* 400 vs a mean of 200 */
	assert_true(p.nmoves > 0);			/* planned, not made */
	vmqd_bal_decide(l, 4, q, 6, 25, &h, &p);
	assert_int_equal(p.verdict, VMQD_BAL_HOLDING);
	/* A balanced interval in between: the count starts over. */
	{
		double even[4] = { 200 * K, 200 * K, 200 * K, 200 * K };

		vmqd_bal_decide(even, 4, q, 6, 25, &h, &p);
		assert_int_equal(p.verdict, VMQD_BAL_BALANCED);
		assert_int_equal(h.over, 0);
	}
	vmqd_bal_decide(l, 4, q, 6, 25, &h, &p);
	vmqd_bal_decide(l, 4, q, 6, 25, &h, &p);
	assert_int_equal(p.verdict, VMQD_BAL_HOLDING);
	vmqd_bal_decide(l, 4, q, 6, 25, &h, &p);
	assert_int_equal(p.verdict, VMQD_BAL_MOVE);
	assert_int_equal(h.over, 3);
}

/* The plan for the scenario: the busiest TX queue ends within the
 * threshold, at the mean here, in two moves. */
static void test_plan_evens_the_load(void **state)
{
	struct vmqd_bal_queue q[6];
	struct vmqd_bal_history h = { .over = 2, .since_move = UINT_MAX };
	struct vmqd_bal_plan p;
	double l[4];

	(void)state;
	memcpy(q, six, sizeof(q));
	loads(q, 6, l, 4);
	vmqd_bal_decide(l, 4, q, 6, 25, &h, &p);
	assert_int_equal(p.verdict, VMQD_BAL_MOVE);
	assert_int_equal(p.nmoves, 2);
	assert_true(p.after_max <= 200 * K * 1.25);
	assert_true(p.gain_pct >= 25);
	apply(q, 6, &p);
	loads(q, 6, l, 4);
	assert_true(peak(l, 4) == p.after_max);
	assert_true(peak(l, 4) <= 200 * K * 1.25);
}

/* Condition 2: a dry run that lowers the busiest by less than the
 * threshold (in percent of the mean) moves nothing. */
static void test_small_gain_moves_nothing(void **state)
{
	/* 2 TX queues: 130 and 70 (mean 100, 30 % above); the only movable
	 * queue on txq 0 is 10: moving it leaves 120, a gain of 10 points. */
	struct vmqd_bal_queue q[] = {
		{ .id = 1, .txq = 0, .movable = false, .rate = 120 * K },
		{ .id = 2, .txq = 0, .movable = true, .rate = 10 * K },
		{ .id = 3, .txq = 1, .movable = true, .rate = 70 * K },
	};
	struct vmqd_bal_history h = { .over = 5, .since_move = UINT_MAX };
	struct vmqd_bal_plan p;
	double l[2];

	(void)state;
	loads(q, 3, l, 2);
	vmqd_bal_decide(l, 2, q, 3, 25, &h, &p);
	assert_int_equal(p.verdict, VMQD_BAL_SMALL_GAIN);
	assert_int_equal(p.nmoves, 1);
	assert_true(p.gain_pct < 25 && p.gain_pct > 0);
	/* With a threshold the gain reaches, it moves. */
	h.over = 5;
	vmqd_bal_decide(l, 2, q, 3, 5, &h, &p);
	assert_int_equal(p.verdict, VMQD_BAL_MOVE);
}

/* Condition 3: nothing moves within 3 intervals of a move. */
static void test_no_move_within_three_intervals(void **state)
{
	struct vmqd_bal_queue q[6];
	struct vmqd_bal_history h = { .over = 5, .since_move = 0 }; /* moved just now */
	struct vmqd_bal_plan p;
	double l[4];

	(void)state;
	memcpy(q, six, sizeof(q));
	loads(q, 6, l, 4);
	vmqd_bal_decide(l, 4, q, 6, 25, &h, &p);
	assert_int_equal(p.verdict, VMQD_BAL_RECENT);
	assert_int_equal(h.since_move, 1);
	vmqd_bal_decide(l, 4, q, 6, 25, &h, &p);
	assert_int_equal(p.verdict, VMQD_BAL_RECENT);
	vmqd_bal_decide(l, 4, q, 6, 25, &h, &p);
	assert_int_equal(p.verdict, VMQD_BAL_MOVE);
	assert_int_equal(h.since_move, 3);
}

/* Operator-placed queues, groups and queue 0 never move: with only such
 * queues on the busiest TX queue there is no plan, whatever the skew. */
static void test_only_automatic_queues_move(void **state)
{
	struct vmq_queue_meta auto_meta = { .flags = VMQ_META_F_TXQ_AUTO };
	struct vmq_queue_meta balanced = { .flags = VMQ_META_F_TXQ_AUTO | VMQ_META_F_BALANCED };
	struct vmq_queue_meta op = { .flags = 0 }, port = { .flags = VMQ_META_F_PORT_OWNED };
	struct vmq_queue_meta degraded = { .flags = VMQ_META_F_TXQ_AUTO | VMQ_META_F_DEGRADED };
	struct vmq_queue_entry txq = { .state = VMQ_QUEUE_TXQ, .target = 1 };
	struct vmq_queue_entry group = { .state = VMQ_QUEUE_GROUP, .target = 1 };
	struct vmq_queue_entry kernel = { .state = VMQ_QUEUE_KERNEL };
	struct vmqd_bal_history h = { .over = 5, .since_move = UINT_MAX };
	struct vmqd_bal_plan p;
	double l[2];

	(void)state;
	assert_true(vmqd_bal_movable(7, &txq, &auto_meta, true));
	assert_true(vmqd_bal_movable(7, &txq, &balanced, true));
	assert_false(vmqd_bal_movable(7, &txq, &op, true));
	assert_false(vmqd_bal_movable(7, &txq, &port, true)); /* a port's, but placed by hand */
	assert_false(vmqd_bal_movable(7, &txq, &degraded, true));
	assert_false(vmqd_bal_movable(7, &txq, &auto_meta, false));
	assert_false(vmqd_bal_movable(7, &group, &auto_meta, true));
	assert_false(vmqd_bal_movable(0, &txq, &auto_meta, true));
	assert_false(vmqd_bal_movable(0, &kernel, &auto_meta, true));

	/* The operator's queue is the one whose move would even the load. */
	{
		struct vmqd_bal_queue q[] = {
			{ .id = 1, .txq = 0, .movable = false, .rate = 100 * K },
			{ .id = 2, .txq = 0, .movable = true, .rate = 300 * K },
			{ .id = 3, .txq = 1, .movable = true, .rate = 100 * K },
		};

		loads(q, 3, l, 2);
		vmqd_bal_decide(l, 2, q, 3, 25, &h, &p);
		/* 400 vs 100: moving 2 (300) leaves 100/400, no lower; only 1 would help. */
		assert_int_equal(p.verdict, VMQD_BAL_NO_PLAN);
		assert_int_equal(p.nmoves, 0);
		q[0].movable = true;
		vmqd_bal_decide(l, 2, q, 3, 25, &h, &p);
		assert_int_equal(p.verdict, VMQD_BAL_MOVE);
		assert_int_equal(p.moves[0].id, 1);
	}
}

/* A steady load, decided again and again with the plans carried out,
 * settles: after the first moves nothing moves again. The load of the
 * scenario's second phase too (one queue alone outweighs the mean). */
static void test_no_oscillation_on_steady_load(void **state)
{
	struct vmqd_bal_queue a[6], b[6];
	struct vmqd_bal_history h = fresh();
	unsigned int moves = 0, late_moves = 0;
	struct vmqd_bal_plan p;
	double l[4];

	(void)state;
	memcpy(a, six, sizeof(a));
	for (int i = 0; i < 60; i++) {
		loads(a, 6, l, 4);
		vmqd_bal_decide(l, 4, a, 6, 25, &h, &p);
		if (p.verdict == VMQD_BAL_MOVE) {
			apply(a, 6, &p);
			h.since_move = 0;
			moves++;
			late_moves += i >= 10;
		}
	}
	assert_int_equal(moves, 1);
	assert_int_equal(late_moves, 0);
	loads(a, 6, l, 4);
	assert_true(peak(l, 4) <= 200 * K * 1.25);

	/* Two quiet, two others heavy, sharing a TX queue: 0, 0, 400, 200 and
	 * the best possible is 200 on three TX queues (1.33x the mean of 150). */
	memcpy(b, six, sizeof(b));
	b[0] = (struct vmqd_bal_queue){ .id = 1, .txq = 0, .movable = true, .rate = 0 };
	b[4] = (struct vmqd_bal_queue){ .id = 5, .txq = 1, .movable = true, .rate = 0 };
	b[1] = (struct vmqd_bal_queue){ .id = 2, .txq = 2, .movable = true, .rate = 200 * K };
	b[5] = (struct vmqd_bal_queue){ .id = 6, .txq = 2, .movable = true, .rate = 200 * K };
	b[2] = (struct vmqd_bal_queue){ .id = 3, .txq = 3, .movable = true, .rate = 100 * K };
	b[3] = (struct vmqd_bal_queue){ .id = 4, .txq = 3, .movable = true, .rate = 100 * K };
	h = fresh();
	moves = late_moves = 0;
	for (int i = 0; i < 60; i++) {
		loads(b, 6, l, 4);
		vmqd_bal_decide(l, 4, b, 6, 25, &h, &p);
		if (p.verdict == VMQD_BAL_MOVE) {
			apply(b, 6, &p);
			h.since_move = 0;
			moves++;
			late_moves += i >= 10;
		}
	}
	assert_int_equal(moves, 1);
	assert_int_equal(late_moves, 0);
	loads(b, 6, l, 4);
	assert_true(peak(l, 4) == 200 * K);
	/* Still above the threshold, and no plan helps: it says so. */
	assert_int_equal(p.verdict, VMQD_BAL_NO_PLAN);
}

/* Whether the queues need reading: over the threshold, with traffic. */
static void test_over(void **state)
{
	double skewed[4] = { 400 * K, 200 * K, 100 * K, 100 * K };
	double even[4] = { 240 * K, 200 * K, 180 * K, 180 * K }; /* 20 % above */
	double idle[4] = { 3000, 0, 0, 0 };			 /* 750 B/s on average */

	(void)state;
	assert_true(vmqd_bal_over(skewed, 4, 25));
	assert_false(vmqd_bal_over(skewed, 4, 100)); /* exactly 100 % above: not over */
	assert_false(vmqd_bal_over(even, 4, 25));
	assert_true(vmqd_bal_over(even, 4, 19));
	assert_false(vmqd_bal_over(idle, 4, 25));
	assert_false(vmqd_bal_over(skewed, 1, 25));
}

/* Too little traffic, or one TX queue: nothing to balance. */
static void test_idle(void **state)
{
	struct vmqd_bal_history h = { .over = 2, .since_move = UINT_MAX };
	struct vmqd_bal_plan p;
	double l[2] = { 1500, 10 };
	char text[200];

	(void)state;
	vmqd_bal_decide(l, 2, NULL, 0, 25, &h, &p);
	assert_int_equal(p.verdict, VMQD_BAL_IDLE);
	assert_int_equal(h.over, 0);
	vmqd_bal_describe(&p, 25, text, sizeof(text));
	assert_non_null(strstr(text, "idle"));
	vmqd_bal_decide(l, 1, NULL, 0, 25, &h, &p);
	assert_int_equal(p.verdict, VMQD_BAL_IDLE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_three_intervals_above),
		cmocka_unit_test(test_plan_evens_the_load),
		cmocka_unit_test(test_small_gain_moves_nothing),
		cmocka_unit_test(test_no_move_within_three_intervals),
		cmocka_unit_test(test_only_automatic_queues_move),
		cmocka_unit_test(test_no_oscillation_on_steady_load),
		cmocka_unit_test(test_over),
		cmocka_unit_test(test_idle),
	};

	return cmocka_run_group_tests_name("balance", tests, NULL, NULL);
}
