/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Dynamic TX queue balancing (docs/balancing.md). The decision is pure
 * (vmqd_bal_decide: rates and history in, planned moves and the reason
 * out), so that it is unit-tested and benchmarked without a kernel; the
 * rest (cmd_balance.c) reads the counters, keeps the history and moves
 * queues.
 */
#ifndef VMQD_BALANCE_H
#define VMQD_BALANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "vmqd.h"

#define VMQD_BAL_INTERVAL_DEFAULT  10U	 /* seconds */
#define VMQD_BAL_INTERVAL_MAX	   3600U /* seconds */
#define VMQD_BAL_THRESHOLD_DEFAULT 25U	 /* percent above the mean */
#define VMQD_BAL_THRESHOLD_MAX	   1000U
/* Intervals in a row the busiest TX queue must stay over the threshold,
 * and intervals after a move during which nothing moves again. */
#define VMQD_BAL_HOLD 3U
/* Moves in one decision at most: each may wait for a gap (below), and the
 * loop serves no request meanwhile. */
#define VMQD_BAL_MOVES_MAX 8U
/* Below this mean (bytes/s per TX queue) there is nothing worth moving. */
#define VMQD_BAL_IDLE_BPS 1000.0
/* The gap a move waits for: no packet on the queue for GAP_US, checked on
 * its counter; after WAIT_MAX_US it moves anyway. */
#define VMQD_BAL_GAP_US	     1000U
#define VMQD_BAL_WAIT_MAX_US 50000U

/* One queue as the decision sees it. */
struct vmqd_bal_queue {
	__u32 id;
	__u16 txq;    /* where it steers now */
	bool movable; /* placed by vmqd (vmqd_bal_movable) */
	double rate;  /* bytes/s over the last interval */
};

/* What the decision remembers between intervals. */
struct vmqd_bal_history {
	unsigned int over;	 /* intervals in a row above the threshold */
	unsigned int since_move; /* intervals since the last move (UINT_MAX: none yet) */
};

struct vmqd_bal_move {
	__u32 id;
	__u16 from, to;
	double rate;
};

enum vmqd_bal_verdict {
	VMQD_BAL_IDLE,	     /* too little traffic */
	VMQD_BAL_BALANCED,   /* the busiest TX queue is within the threshold */
	VMQD_BAL_HOLDING,    /* above, but not for VMQD_BAL_HOLD intervals yet */
	VMQD_BAL_RECENT,     /* a move happened within VMQD_BAL_HOLD intervals */
	VMQD_BAL_NO_PLAN,    /* no move of a movable queue lowers the busiest */
	VMQD_BAL_SMALL_GAIN, /* the planned moves gain less than the threshold */
	VMQD_BAL_MOVE,	     /* every condition holds: moves planned */
};

struct vmqd_bal_plan {
	enum vmqd_bal_verdict verdict;
	unsigned int ntxqs;
	unsigned int busiest; /* TX queue */
	double busiest_rate;  /* bytes/s */
	double mean;	      /* bytes/s per TX queue */
	double skew_pct;      /* busiest above the mean, percent */
	double after_max;     /* the busiest TX queue's rate after the planned moves */
	double gain_pct;      /* (busiest_rate - after_max) in percent of the mean */
	unsigned int over;    /* history after this interval */
	unsigned int since_move;
	size_t nmoves;
	struct vmqd_bal_move moves[VMQD_BAL_MOVES_MAX];
};

/* A queue the balancer may move: steered to a TX queue that vmqd chose
 * ("txq any", a port policy, the libvirt hook), not degraded, not queue 0.
 * Operator-placed queues, groups and queue 0 stay. */
bool vmqd_bal_movable(__u32 id, const struct vmq_queue_entry *e, const struct vmq_queue_meta *meta,
		      bool has_meta);

/*
 * One interval's decision. txq_rate: bytes/s of each TX queue (the kernel's
 * counters: every sender's); queues: every queue steered to a TX queue,
 * in ID order, with its own rate. Updates h (over, since_move: the caller
 * sets since_move to 0 once it has moved) and fills p.
 */
void vmqd_bal_decide(const double *txq_rate, unsigned int ntxqs,
		     const struct vmqd_bal_queue *queues, size_t nqueues,
		     unsigned int threshold_pct, struct vmqd_bal_history *h,
		     struct vmqd_bal_plan *p);
/* Whether the busiest TX queue is above the threshold, with traffic enough
 * to count: only then do the queues' own rates matter. */
bool vmqd_bal_over(const double *txq_rate, unsigned int ntxqs, unsigned int threshold_pct);
/* "txq 0 at 112% above the mean ...: moved 2 queues", one line. */
void vmqd_bal_describe(const struct vmqd_bal_plan *p, unsigned int threshold_pct, char *buf,
		       size_t size);
const char *vmqd_bal_verdict_name(enum vmqd_bal_verdict v);

/* cmd_balance.c: vmqd's side. */
struct vmqd_balance;
void vmqd_balance_free(struct vmqd_dev *dev);
/* "dev set DEV balance on|off [interval S] [threshold P]": 0, or -errno
 * with r filled; nothing changes on error, and nothing at all without apply
 * (dev set checks every part of its request before changing any). *set says
 * balance was given. */
int vmqd_balance_set(struct vmqd_dev *dev, struct json_object *args, const char *what,
		     struct vmqd_reply *r, bool apply, bool *set);
/* Members of dev show, stats, queue show, and the state file's dev set. */
void vmqd_balance_dev_json(const struct vmqd_dev *dev, struct json_object *o);
void vmqd_balance_stats_json(const struct vmqd_dev *dev, struct json_object *o);
void vmqd_balance_queue_json(const struct vmqd_dev *dev, __u32 id, struct json_object *o);
bool vmqd_balance_state_args(const struct vmqd_dev *dev, struct json_object *args);
/* The timer: run the intervals that are due; the period the loop's timer
 * needs now (0: no uplink balances). */
void vmqd_balance_tick(struct vmqd *d);
unsigned int vmqd_balance_period_ms(const struct vmqd *d);
extern const char *const vmqd_dev_balance_keys[];
int vmqd_dev_balance(struct vmqd *d, struct json_object *args, struct vmqd_reply *r);

#endif /* VMQD_BALANCE_H */
