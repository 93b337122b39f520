// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vmqctl apply's plan: the difference between a state file and vmqd's
 * running state ("daemon save"), both lists of requests, by the identity
 * of the object each request makes. No I/O here, so that tests can feed it
 * any two states.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "show.h"
#include "util.h"
#include "vmqctl.h"

/* In the order additions go in; removals go in the reverse order. */
enum kind {
	K_DEV,	  /* dev attach, by dev */
	K_PORTS,  /* dev set ports and balance, by dev */
	K_GROUP,  /* group add, by dev and id */
	K_QUEUE0, /* queue set of queue 0, by dev: it always exists */
	K_QUEUE,  /* queue add, by dev and id */
	K_PORT,	  /* port bind, by port */
	K_RXMODE, /* queue set ... rx of a VM queue, by dev and id: after its port */
	K_FILTER, /* filter add, by dev, mac and vlan */
	K_N,
};

/* dev attach's defaults, so that leaving one out is no difference. */
#define DEFAULT_MARK_MASK 0xffff
#define DEFAULT_QUEUES	  4096

struct item {
	enum kind kind;
	char key[48];		  /* identity within its kind */
	struct json_object *args; /* borrowed */
	int line;		  /* want: the file's line */
	bool synth;		  /* queue 0's target, from dev attach default-txq */
	bool recreated;		  /* a queue deleted and added again: its filters and
				   * receive mode go with the deletion */
	struct item *match;	  /* the other side's item of the same identity */
};

struct side {
	struct item *items;
	size_t n;
	struct json_object *extra; /* args made for synth items, owned */
};

const char *ctl_plan_op_name(enum ctl_plan_op op)
{
	switch (op) {
	case CTL_PLAN_REMOVE:
		return "remove";
	case CTL_PLAN_CHANGE:
		return "change";
	default:
		return "add";
	}
}

static bool int_arg(struct json_object *args, const char *key, long long *v)
{
	struct json_object *val = vmq_json_member(args, key, json_type_int);

	if (!val)
		return false;
	*v = (long long)json_object_get_int64(val);
	return true;
}

static struct json_object *arg(struct json_object *args, const char *key)
{
	struct json_object *val = NULL;

	json_object_object_get_ex(args, key, &val);
	return val;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* "queue 5 on eth0", for messages. */
static const char *describe(const struct item *it, char *buf, size_t size)
{
	const char *dev = ctl_jstr(it->args, "dev");

	switch (it->kind) {
	case K_DEV:
		snprintf(buf, size, "dev %s", dev);
		break;
	case K_PORTS:
		snprintf(buf, size, "the port policy of %s", dev);
		break;
	case K_GROUP:
		snprintf(buf, size, "group %s on %s", ctl_jnum(it->args, "id"), dev);
		break;
	case K_QUEUE0:
	case K_QUEUE:
		snprintf(buf, size, "queue %s on %s", ctl_jnum(it->args, "id"), dev);
		break;
	case K_RXMODE:
		snprintf(buf, size, "the receive mode of queue %s on %s", ctl_jnum(it->args, "id"),
			 dev);
		break;
	case K_FILTER:
		snprintf(buf, size, "filter %s%s%s on %s", ctl_jstr(it->args, "mac"),
			 ctl_jhas_int(it->args, "vlan") ? " vlan " : "",
			 ctl_jhas_int(it->args, "vlan") ? ctl_jnum(it->args, "vlan") : "", dev);
		break;
	default:
		snprintf(buf, size, "port %s", ctl_jstr(it->args, "port"));
	}
	return buf;
}

#define NOT_STATE                                                                                  \
	"apply takes dev attach, dev set, group add, queue set (queue 0, or rx), queue add, port " \
	"bind and filter add"

/* Which object req makes, or why apply does not take it. */
static int classify(struct json_object *req, struct item *it, struct ctl_err *e)
{
	const char *object = ctl_jstr(req, "object"), *command = ctl_jstr(req, "command");
	struct json_object *args = ctl_jobject(req, "args");
	const char *dev = ctl_jstr(args, "dev");
	char cmd[64];
	long long id = -1;

	snprintf(cmd, sizeof(cmd), "%s %s", object ? object : "?", command ? command : "?");
	if (!args)
		return ctl_err_set(e, EINVAL, "%s: no \"args\" object", cmd);
	it->args = args;
	int_arg(args, "id", &id);
	if (!strcmp(cmd, "dev attach") && dev) {
		it->kind = K_DEV;
	} else if (!strcmp(cmd, "dev set") && dev) {
		it->kind = K_PORTS;
	} else if (!strcmp(cmd, "group add") && dev && id >= 0) {
		it->kind = K_GROUP;
	} else if (!strcmp(cmd, "queue set") && dev && id > 0 && arg(args, "rx") &&
		   !arg(args, "txq") && !arg(args, "group")) {
		it->kind = K_RXMODE;
	} else if (!strcmp(cmd, "queue set") && dev) {
		if (id != 0)
			return ctl_err_set(e, EINVAL,
					   "queue set: apply sets only queue 0 (write queue %s's "
					   "target in its queue add)",
					   ctl_jnum(args, "id"));
		it->kind = K_QUEUE0;
	} else if (!strcmp(cmd, "queue add") && dev) {
		if (ctl_jstr(args, "id"))
			return ctl_err_set(e, EINVAL,
					   "queue add: id auto has no identity to compare; write "
					   "the ID (as vmqctl save does)");
		if (id == 0)
			return ctl_err_set(e, EINVAL,
					   "queue add: queue 0 always exists (queue set %s id 0)",
					   dev);
		it->kind = K_QUEUE;
	} else if (!strcmp(cmd, "filter add") && dev && ctl_jstr(args, "mac")) {
		it->kind = K_FILTER;
	} else if (!strcmp(cmd, "port bind") && ctl_jstr(args, "port")) {
		if (ctl_jstr(args, "queue"))
			return ctl_err_set(e, EINVAL,
					   "port bind: queue auto has no identity to compare; "
					   "write the queue (as vmqctl save does: queue add ... "
					   "owner port, then port bind ... queue ID)");
		it->kind = K_PORT;
	} else {
		return ctl_err_set(e, EINVAL, "\"%s\": not a state line (" NOT_STATE ")", cmd);
	}
	if (it->kind == K_PORT)
		snprintf(it->key, sizeof(it->key), "%s", ctl_jstr(args, "port"));
	else if (it->kind == K_FILTER)
		/* vmqctl writes MACs in lower case; the key compares what it wrote. */
		snprintf(it->key, sizeof(it->key), "%s %s %s", dev, ctl_jstr(args, "mac"),
			 ctl_jhas_int(args, "vlan") ? ctl_jnum(args, "vlan") : "-");
	else if (it->kind == K_GROUP || it->kind == K_QUEUE || it->kind == K_RXMODE)
		snprintf(it->key, sizeof(it->key), "%s %lld", dev, id);
	else
		snprintf(it->key, sizeof(it->key), "%s", dev);
	return 0;
}

static int item_cmp(const void *a, const void *b)
{
	const struct item *x = *(const struct item *const *)a, *y = *(const struct item *const *)b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(x->key, y->key);
}

static struct item *find(struct item **sorted, size_t n, enum kind kind, const char *key)
{
	struct item probe = { .kind = kind }, *p = &probe, **found;

	if (!n)
		return NULL;
	snprintf(probe.key, sizeof(probe.key), "%s", key);
	found = bsearch(&p, sorted, n, sizeof(*sorted), item_cmp);
	return found ? *found : NULL;
}

/* Queue 0's target written as dev attach default-txq, where no queue set
 * of queue 0 says it: both sides compare queue 0 the same way then. */
static int add_synth(struct side *s, struct item **sorted, size_t *nsorted)
{
	size_t n = s->n;

	for (size_t i = 0; i < n; i++) {
		struct item *dev = &s->items[i], *q0;
		struct json_object *txq = arg(dev->args, "default_txq"), *args;

		if (dev->kind != K_DEV || !txq || find(sorted, *nsorted, K_QUEUE0, dev->key))
			continue;
		args = json_object_new_object();
		if (!args || json_object_array_add(s->extra, args)) {
			json_object_put(args);
			return -ENOMEM;
		}
		if (json_object_object_add(args, "dev", json_object_new_string(dev->key)) ||
		    json_object_object_add(args, "id", json_object_new_int(0)) ||
		    json_object_object_add(args, "txq", json_object_get(txq)))
			return -ENOMEM;
		q0 = &s->items[s->n++];
		*q0 = (struct item){
			.kind = K_QUEUE0, .args = args, .line = dev->line, .synth = true
		};
		snprintf(q0->key, sizeof(q0->key), "%s", dev->key);
		sorted[(*nsorted)++] = q0;
		qsort(sorted, *nsorted, sizeof(*sorted), item_cmp);
	}
	return 0;
}

/* Items of reqs, checked, sorted by identity into *sorted. For want, a
 * failure names its line and an identity given twice is one. */
static int load(struct json_object *reqs, bool want, struct side *s, struct item ***sorted,
		struct ctl_err *e)
{
	size_t n = json_object_is_type(reqs, json_type_array) ? json_object_array_length(reqs) : 0;
	char what[96];
	int err;

	if (!json_object_is_type(reqs, json_type_array)) {
		ctl_err_set(e, EINVAL, "not a list of requests");
		return -EINVAL;
	}
	/* Room for a queue 0 item per device. */
	s->items = calloc(2 * n + 1, sizeof(*s->items));
	*sorted = calloc(2 * n + 1, sizeof(**sorted));
	s->extra = json_object_new_array();
	if (!s->items || !*sorted || !s->extra) {
		ctl_err_set(e, ENOMEM, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *req = json_object_array_get_idx(reqs, i);
		struct item *it = &s->items[s->n];
		long long line = 0;

		int_arg(req, "line", &line);
		err = classify(req, it, e);
		if (err) {
			if (!want)
				ctl_err_prefix(e, "vmqd's state: ");
			e->line = (int)line;
			return err;
		}
		it->line = (int)line;
		s->n++;
	}
	for (size_t i = 0; i < s->n; i++)
		(*sorted)[i] = &s->items[i];
	qsort(*sorted, s->n, sizeof(**sorted), item_cmp);
	for (size_t i = 1; i < s->n; i++) {
		struct item *a = (*sorted)[i - 1], *b = (*sorted)[i];

		if (item_cmp(&a, &b))
			continue;
		if (a->line > b->line) {
			struct item *t = a;

			a = b;
			b = t;
		}
		err = ctl_err_set(e, EINVAL, "%s given twice (first on line %d)",
				  describe(b, what, sizeof(what)), a->line);
		if (!want)
			ctl_err_prefix(e, "vmqd's state: ");
		e->line = b->line;
		return err;
	}
	n = s->n;
	if (add_synth(s, *sorted, &n))
		return ctl_err_set(e, ENOMEM, "out of memory");
	return 0;
}

static void free_side(struct side *s, struct item **sorted)
{
	free(s->items);
	free(sorted);
	json_object_put(s->extra);
}

/* A request as daemon save writes them, to compare with: no version. */
static struct json_object *make_req(const char *object, const char *command,
				    struct json_object *args)
{
	struct json_object *req = args ? ctl_request_new(object, command, args) : NULL;

	if (req)
		json_object_object_del(req, "version");
	return req;
}

static int add_step(struct ctl_plan *plan, enum ctl_plan_op op, enum kind kind,
		    struct json_object *req)
{
	struct ctl_plan_step *step;

	if (!req)
		return -ENOMEM;
	if (plan->n == plan->cap) {
		size_t cap = plan->cap ? 2 * plan->cap : 16;
		struct ctl_plan_step *grown = realloc(plan->steps, cap * sizeof(*grown));

		if (!grown) {
			json_object_put(req);
			return -ENOMEM;
		}
		plan->steps = grown;
		plan->cap = cap;
	}
	step = &plan->steps[plan->n];
	step->op = op;
	step->req = req;
	/* Removals first, the last dependency first; then the rest in order. */
	step->rank = op == CTL_PLAN_REMOVE ? K_N - 1 - kind : K_N + kind;
	step->seq = (unsigned int)plan->n++;
	return 0;
}

/* The request that makes it, as the file says it. */
static int add_want(struct ctl_plan *plan, enum ctl_plan_op op, const struct item *w)
{
	static const char *const cmds[K_N][2] = {
		[K_DEV] = { "dev", "attach" },	 [K_PORTS] = { "dev", "set" },
		[K_GROUP] = { "group", "add" },	 [K_QUEUE0] = { "queue", "set" },
		[K_QUEUE] = { "queue", "add" },	 [K_PORT] = { "port", "bind" },
		[K_RXMODE] = { "queue", "set" }, [K_FILTER] = { "filter", "add" },
	};
	struct json_object *args = NULL;

	if (json_object_deep_copy(w->args, &args, NULL))
		return -ENOMEM;
	return add_step(plan, op, w->kind, make_req(cmds[w->kind][0], cmds[w->kind][1], args));
}

/* Args {"dev"} plus key: value (NULL: none) of it. */
static struct json_object *dev_args(const struct item *it, const char *key, struct json_object *val)
{
	struct json_object *args = json_object_new_object();

	if (!args || json_object_object_add(args, "dev", json_object_get(arg(it->args, "dev"))) ||
	    (key && json_object_object_add(args, key, val))) {
		json_object_put(args);
		return NULL;
	}
	return args;
}

static bool balance_on(const struct item *it);

static int add_removal(struct ctl_plan *plan, const struct item *h)
{
	struct json_object *args;

	switch (h->kind) {
	case K_PORT:
		args = json_object_new_object();
		if (args &&
		    json_object_object_add(args, "port", json_object_get(arg(h->args, "port")))) {
			json_object_put(args);
			args = NULL;
		}
		return add_step(plan, CTL_PLAN_REMOVE, h->kind, make_req("port", "unbind", args));
	case K_QUEUE:
	case K_GROUP:
		args = dev_args(h, "id", json_object_get(arg(h->args, "id")));
		return add_step(plan, CTL_PLAN_REMOVE, h->kind,
				make_req(h->kind == K_QUEUE ? "queue" : "group", "del", args));
	case K_PORTS:
		args = dev_args(h, "ports", json_object_new_string(""));
		if (args && balance_on(h) &&
		    json_object_object_add(args, "balance", json_object_new_string("off"))) {
			json_object_put(args);
			args = NULL;
		}
		return add_step(plan, CTL_PLAN_REMOVE, h->kind, make_req("dev", "set", args));
	case K_RXMODE:
		args = dev_args(h, "id", json_object_get(arg(h->args, "id")));
		if (args && json_object_object_add(args, "rx", json_object_new_string("pass"))) {
			json_object_put(args);
			args = NULL;
		}
		return add_step(plan, CTL_PLAN_REMOVE, h->kind, make_req("queue", "set", args));
	case K_FILTER:
		args = dev_args(h, "mac", json_object_get(arg(h->args, "mac")));
		if (args && arg(h->args, "vlan") &&
		    json_object_object_add(args, "vlan", json_object_get(arg(h->args, "vlan")))) {
			json_object_put(args);
			args = NULL;
		}
		return add_step(plan, CTL_PLAN_REMOVE, h->kind, make_req("filter", "del", args));
	case K_DEV:
		return add_step(plan, CTL_PLAN_REMOVE, h->kind,
				make_req("dev", "detach", dev_args(h, NULL, NULL)));
	default: /* queue 0 is never removed */
		return 0;
	}
}

/* An attached device keeps its mark mask and map size: changing either
 * means detaching, which drops every queue and binding on it. */
static int compare_dev(const struct item *w, const struct item *h, struct ctl_err *e)
{
	static const struct {
		const char *key, *keyword;
		bool hex;
		long long dflt;
	} opts[] = {
		{ "mark_mask", "mark-mask", true, DEFAULT_MARK_MASK },
		{ "queues", "queues", false, DEFAULT_QUEUES },
	};

	for (size_t i = 0; i < ARRAY_SIZE(opts); i++) {
		long long want = opts[i].dflt, have = opts[i].dflt;
		char a[24], b[24];

		int_arg(w->args, opts[i].key, &want);
		int_arg(h->args, opts[i].key, &have);
		if (want == have)
			continue;
		snprintf(a, sizeof(a), opts[i].hex ? "0x%llx" : "%lld", want);
		snprintf(b, sizeof(b), opts[i].hex ? "0x%llx" : "%lld", have);
		e->line = 0;
		ctl_err_set(e, EBUSY,
			    "dev attach %s: %s %s, but %s runs with %s; apply does not re-attach "
			    "a device (dev detach %s first, then apply)",
			    w->key, opts[i].keyword, a, w->key, b, w->key);
		e->line = w->line;
		return -EBUSY;
	}
	return 0;
}

static const char *ports_of(const struct item *it)
{
	const char *ports = it ? ctl_jstr(it->args, "ports") : NULL;

	return ports ? ports : "";
}

/* Balancing as "dev set" says it: off unless "balance on"; interval and
 * threshold count only when on, their defaults when left out. */
static bool balance_on(const struct item *it)
{
	const char *b = ctl_jstr(it->args, "balance");

	return b && !strcmp(b, "on");
}

static bool balance_same(const struct item *w, const struct item *h)
{
	long long wi = 10, hi = 10, wt = 25, ht = 25;

	if (balance_on(w) != balance_on(h))
		return false;
	int_arg(w->args, "interval", &wi);
	int_arg(h->args, "interval", &hi);
	int_arg(w->args, "threshold", &wt);
	int_arg(h->args, "threshold", &ht);
	return !balance_on(w) || (wi == hi && wt == ht);
}

/* No port policy and no balancing: what a device has by default. */
static bool policy_empty(const struct item *it)
{
	return !*ports_of(it) && !balance_on(it);
}

/* The file's dev set, saying what it leaves out and h has: no policy,
 * balancing off. */
static int change_policy(struct ctl_plan *plan, const struct item *w, const struct item *h)
{
	struct json_object *args = NULL;

	if (json_object_deep_copy(w->args, &args, NULL))
		return -ENOMEM;
	if ((!arg(args, "ports") && *ports_of(h) &&
	     json_object_object_add(args, "ports", json_object_new_string(""))) ||
	    (!arg(args, "balance") && balance_on(h) &&
	     json_object_object_add(args, "balance", json_object_new_string("off")))) {
		json_object_put(args);
		return -ENOMEM;
	}
	return add_step(plan, CTL_PLAN_CHANGE, K_PORTS, make_req("dev", "set", args));
}

/* The queues of have steering into group g: "12,13", "" when none. */
static void group_users(struct side *have, const struct item *g, char *buf, size_t size)
{
	const char *dev = ctl_jstr(g->args, "dev");
	long long id = -1, gid;
	size_t len = 0;

	buf[0] = '\0';
	int_arg(g->args, "id", &id);
	for (size_t i = 0; i < have->n && len < size; i++) {
		const struct item *q = &have->items[i];

		if (q->kind == K_QUEUE && same_str(ctl_jstr(q->args, "dev"), dev) &&
		    int_arg(q->args, "group", &gid) && gid == id)
			len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? "," : "",
						ctl_jnum(q->args, "id"));
	}
}

static int compare_group(struct ctl_plan *plan, struct side *have, const struct item *w,
			 const struct item *h, struct ctl_err *e)
{
	char users[256], what[64];
	int err;

	if (json_object_equal(arg(w->args, "txqs"), arg(h->args, "txqs")))
		return 0;
	group_users(have, h, users, sizeof(users));
	if (users[0]) {
		ctl_err_set(e, EBUSY,
			    "%s: its TX queues differ, and queue %s steers into it; vmqd cannot "
			    "change a group in use (move its queues first)",
			    describe(w, what, sizeof(what)), users);
		e->line = w->line;
		return -EBUSY;
	}
	err = add_removal(plan, h);
	return err ? err : add_want(plan, CTL_PLAN_ADD, w);
}

/* "placement auto": vmqd chose the TX queue, and which one it is now is
 * its business; "txq any" asks for just that. */
static bool auto_placed(struct json_object *args)
{
	const char *txq = ctl_jstr(args, "txq"), *placement = ctl_jstr(args, "placement");

	return (txq && !strcmp(txq, "any")) || (placement && !strcmp(placement, "auto"));
}

static int compare_queue(struct ctl_plan *plan, struct item *w, const struct item *h)
{
	static const char *const labels[] = { "vm", "name", "owner" };
	bool labels_same = true, target_same;
	struct json_object *args;
	int err;

	for (size_t i = 0; i < ARRAY_SIZE(labels); i++)
		labels_same &= same_str(ctl_jstr(w->args, labels[i]), ctl_jstr(h->args, labels[i]));
	if (auto_placed(w->args))
		target_same = auto_placed(h->args);
	else
		target_same = !auto_placed(h->args) &&
			      json_object_equal(arg(w->args, "txq"), arg(h->args, "txq")) &&
			      json_object_equal(arg(w->args, "group"), arg(h->args, "group"));
	if (labels_same && target_same)
		return 0;
	if (!labels_same) { /* labels are set by queue add only */
		w->recreated = true;
		err = add_removal(plan, h);
		return err ? err : add_want(plan, CTL_PLAN_ADD, w);
	}
	if (auto_placed(w->args))
		args = dev_args(w, "txq", json_object_new_string("any"));
	else if (arg(w->args, "group"))
		args = dev_args(w, "group", json_object_get(arg(w->args, "group")));
	else
		args = dev_args(w, "txq", json_object_get(arg(w->args, "txq")));
	if (args && json_object_object_add(args, "id", json_object_get(arg(w->args, "id")))) {
		json_object_put(args);
		args = NULL;
	}
	return add_step(plan, CTL_PLAN_CHANGE, K_QUEUE, make_req("queue", "set", args));
}

/* "rx" of dev attach: on, or off when absent. */
static bool rx_on(const struct item *it)
{
	const char *rx = ctl_jstr(it->args, "rx");

	return rx && !strcmp(rx, "on");
}

/* A queue's receive mode and CPU, as one comparable value. */
static bool same_rx(const struct item *a, const struct item *b)
{
	return same_str(ctl_jstr(a->args, "rx"), ctl_jstr(b->args, "rx")) &&
	       json_object_equal(arg(a->args, "cpu"), arg(b->args, "cpu"));
}

/* The want side's queue add of an rx item's queue, when it is deleted and
 * added again: its filters and mode are gone then, and go in again. */
static bool queue_recreated(struct item **want_sorted, size_t n, const struct item *it)
{
	const char *dev = ctl_jstr(it->args, "dev");
	char key[sizeof(it->key)];
	struct item *q;

	snprintf(key, sizeof(key), "%s %s", dev,
		 ctl_jnum(it->args, it->kind == K_FILTER ? "queue" : "id"));
	q = find(want_sorted, n, K_QUEUE, key);
	return q && q->recreated;
}

/* What to do about w, which have may have too (w->match). */
static int diff_want(struct ctl_plan *plan, struct side *have, struct item **have_sorted,
		     struct item **want_sorted, size_t nwant, struct item *w, struct ctl_err *e)
{
	const struct item *h = w->match;

	if (h && (w->kind == K_FILTER || w->kind == K_RXMODE) &&
	    queue_recreated(want_sorted, nwant, w))
		return add_want(plan, CTL_PLAN_ADD, w);

	if (!h) {
		/* A new device brings queue 0's target in its own dev attach. */
		if (w->synth && !find(have_sorted, have->n, K_DEV, w->key))
			return 0;
		/* "ports none" where there is no policy: nothing to do */
		if (w->kind == K_PORTS && policy_empty(w))
			return 0;
		return add_want(plan,
				w->kind == K_QUEUE0 && find(have_sorted, have->n, K_DEV, w->key)
					? CTL_PLAN_CHANGE
					: CTL_PLAN_ADD,
				w);
	}
	switch (w->kind) {
	case K_DEV: {
		int err = compare_dev(w, h, e);

		if (err || rx_on(w) == rx_on(h))
			return err;
		return add_step(
			plan, CTL_PLAN_CHANGE, K_DEV,
			make_req("dev", "set",
				 dev_args(w, "rx",
					  json_object_new_string(rx_on(w) ? "on" : "off"))));
	}
	case K_RXMODE:
		return same_rx(w, h) ? 0 : add_want(plan, CTL_PLAN_CHANGE, w);
	case K_FILTER: {
		int err;

		if (json_object_equal(arg(w->args, "queue"), arg(h->args, "queue")))
			return 0;
		/* Another queue's: deleted first, or the add is refused. */
		err = add_removal(plan, h);
		return err ? err : add_want(plan, CTL_PLAN_ADD, w);
	}
	case K_PORTS:
		return strcmp(ports_of(w), ports_of(h)) || !balance_same(w, h)
			       ? change_policy(plan, w, h)
			       : 0;
	case K_GROUP:
		return compare_group(plan, have, w, h, e);
	case K_QUEUE0:
		return json_object_equal(arg(w->args, "txq"), arg(h->args, "txq"))
			       ? 0
			       : add_want(plan, CTL_PLAN_CHANGE, w);
	case K_QUEUE:
		return compare_queue(plan, w, h);
	default: /* binding again moves the port */
		return same_str(ctl_jstr(w->args, "dev"), ctl_jstr(h->args, "dev")) &&
				       json_object_equal(arg(w->args, "queue"),
							 arg(h->args, "queue"))
			       ? 0
			       : add_want(plan, CTL_PLAN_CHANGE, w);
	}
}

/* Unbinding a port frees the queue vmqd made for it: no queue del then. */
static bool freed_by_unbind(struct side *have, struct item **have_sorted, const struct item *q)
{
	const char *owner = ctl_jstr(q->args, "owner");
	long long id = -1, bound;

	if (!owner || strcmp(owner, "port"))
		return false;
	int_arg(q->args, "id", &id);
	for (size_t i = 0; i < have->n; i++) {
		const struct item *p = &have->items[i];

		if (p->kind == K_PORT && !p->match &&
		    same_str(ctl_jstr(p->args, "dev"), ctl_jstr(q->args, "dev")) &&
		    int_arg(p->args, "queue", &bound) && bound == id)
			return true;
	}
	(void)have_sorted;
	return false;
}

static int step_cmp(const void *a, const void *b)
{
	const struct ctl_plan_step *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int ctl_plan_make(struct json_object *want, struct json_object *have, bool prune,
		  struct ctl_plan *plan, struct ctl_err *e)
{
	struct side w = { 0 }, h = { 0 };
	struct item **ws = NULL, **hs = NULL;
	int err;

	memset(plan, 0, sizeof(*plan));
	e->line = 0;
	err = load(want, true, &w, &ws, e);
	if (!err)
		err = load(have, false, &h, &hs, e);
	for (size_t i = 0; !err && i < w.n; i++) {
		w.items[i].match = find(hs, h.n, w.items[i].kind, w.items[i].key);
		if (w.items[i].match)
			w.items[i].match->match = &w.items[i];
	}
	/* Queues first: a queue added again takes its filters and mode. */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; !err && i < w.n; i++)
			if ((w.items[i].kind >= K_RXMODE) == pass)
				err = diff_want(plan, &h, hs, ws, w.n, &w.items[i], e);
	for (size_t i = 0; !err && i < h.n; i++) {
		const struct item *it = &h.items[i];

		/* queue 0 cannot go; an empty policy is none already */
		if (it->match || it->kind == K_QUEUE0 || (it->kind == K_PORTS && policy_empty(it)))
			continue;
		if (!prune)
			plan->kept++;
		else if (!(it->kind == K_QUEUE && freed_by_unbind(&h, hs, it)))
			err = add_removal(plan, it);
	}
	if (err == -ENOMEM)
		ctl_err_set(e, ENOMEM, "out of memory");
	free_side(&w, ws);
	free_side(&h, hs);
	if (err) {
		int line = e->line;

		ctl_plan_free(plan);
		e->line = line;
		return err;
	}
	if (plan->n)
		qsort(plan->steps, plan->n, sizeof(*plan->steps), step_cmp);
	return 0;
}

void ctl_plan_free(struct ctl_plan *plan)
{
	for (size_t i = 0; i < plan->n; i++)
		json_object_put(plan->steps[i].req);
	free(plan->steps);
	memset(plan, 0, sizeof(*plan));
}
