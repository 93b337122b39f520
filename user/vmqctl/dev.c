// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* vmqctl dev: the uplinks vmq steers. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "show.h"
#include "util.h"
#include "vmqctl.h"

static const char *const auto_word[] = { "auto", NULL };

static const struct ctl_arg arg_default_txq = {
	.keyword = "default-txq",
	.key = "default_txq",
	.metavar = "N|auto",
	.help = "TX queue of queue 0, or auto to leave its packets to the kernel",
	.type = CTL_ARG_U32_OR_WORD,
	.max = VMQ_TXQ_MAX - 1,
	.words = auto_word,
};

static const struct ctl_arg arg_mark_mask = {
	.keyword = "mark-mask",
	.key = "mark_mask",
	.metavar = "MASK",
	.help = "skb mark bits carrying the queue ID, by default 0xffff",
	.type = CTL_ARG_MASK,
};

static const struct ctl_arg arg_queues = {
	.keyword = "queues",
	.key = "queues",
	.metavar = "N",
	.help = "queue map size: queue IDs 0..N-1, by default 4096",
	.type = CTL_ARG_U32,
	.min = 1,
	.max = VMQ_QUEUES_MAX,
};

static const struct ctl_arg arg_ports = {
	.keyword = "ports",
	.key = "ports",
	.metavar = "P[,P...]|none",
	.help = "links to bind to DEV by name, each with its own queue",
	.type = CTL_ARG_PATTERNS,
};

static const char *const on_off_words[] = { "on", "off", NULL };

static const struct ctl_arg arg_balance = {
	.keyword = "balance",
	.key = "balance",
	.metavar = "on|off",
	.help = "move vmqd-placed queues between TX queues by measured load",
	.type = CTL_ARG_WORD,
	.words = on_off_words,
};

static const struct ctl_arg arg_interval = {
	.keyword = "interval",
	.key = "interval",
	.metavar = "SECONDS",
	.help = "with balance on: seconds between two looks at the load, by default 10",
	.type = CTL_ARG_U32,
	.min = 1,
	.max = 3600,
};

static const struct ctl_arg arg_threshold = {
	.keyword = "threshold",
	.key = "threshold",
	.metavar = "PERCENT",
	.help = "with balance on: how far above the mean the busiest TX queue may be, "
		"by default 25",
	.type = CTL_ARG_U32,
	.min = 1,
	.max = 1000,
};

static const struct ctl_arg arg_dry_run = {
	.keyword = "--dry-run",
	.key = "dry_run",
	.help = "print what the balancer would do now; nothing changes",
	.type = CTL_ARG_FLAG,
};

static const struct ctl_arg arg_force = {
	.keyword = "force",
	.key = "force",
	.help = "an attached DEV: put vmq's tcx link first again, ahead of a program that "
		"asked to run before it",
	.type = CTL_ARG_FLAG,
};

static const struct ctl_arg arg_object = {
	.keyword = "object",
	.key = "object",
	.metavar = "FILE",
	.help = "a vmq_tx BPF object file (vmqd reads it); by default vmqd's own program",
	.type = CTL_ARG_PATH,
};

static const struct ctl_arg arg_rx = {
	.keyword = "rx",
	.key = "rx",
	.metavar = "on|off",
	.help = "receive filters in XDP on DEV, native where it can",
	.type = CTL_ARG_WORD,
	.words = on_off_words,
};

static const struct ctl_param upgrade_params[] = {
	{ .arg = &ctl_arg_dev, .required = true },
	{ .arg = &arg_object },
	{ 0 },
};

static const struct ctl_param attach_params[] = {
	{ .arg = &ctl_arg_dev, .required = true },
	{ .arg = &arg_default_txq },
	{ .arg = &arg_mark_mask },
	{ .arg = &arg_queues },
	{ .arg = &arg_force },
	{ .arg = &arg_rx },
	{ 0 },
};

static const struct ctl_param set_params[] = {
	{ .arg = &ctl_arg_dev, .required = true },
	{ .arg = &arg_ports },
	{ .arg = &arg_rx },
	{ .arg = &arg_balance },
	{ .arg = &arg_interval },
	{ .arg = &arg_threshold },
	{ 0 },
};

static const struct ctl_param balance_params[] = {
	{ .arg = &ctl_arg_dev, .required = true },
	{ .arg = &arg_dry_run, .required = true },
	{ 0 },
};

/* Something to set; interval and threshold belong to balance. */
static int set_check(struct json_object *args, struct ctl_err *e)
{
	bool balance = ctl_jstr(args, "balance") != NULL;

	if (!balance && (json_object_object_get_ex(args, "interval", NULL) ||
			 json_object_object_get_ex(args, "threshold", NULL)))
		return ctl_err_set(e, EINVAL, "interval and threshold go with \"balance on\"");
	if (!balance && !json_object_object_get_ex(args, "ports", NULL) &&
	    !json_object_object_get_ex(args, "rx", NULL))
		return ctl_err_set(
			e, EINVAL,
			"missing \"ports P[,P...]|none\", \"rx on|off\" or \"balance on|off\"");
	return 0;
}

static const struct ctl_param dev_params[] = {
	{ .arg = &ctl_arg_dev, .required = true },
	{ 0 },
};

static const struct ctl_param show_params[] = {
	{ .arg = &ctl_arg_dev },
	{ 0 },
};

/* The links bound now; silent when none, or for an old vmqd. */
static int set_print(FILE *out, struct json_object *args, struct json_object *result)
{
	struct json_object *bound = ctl_jarray(result, "bound");
	size_t n = bound ? json_object_array_length(bound) : 0;

	for (size_t i = 0; i < n; i++) {
		struct json_object *port = json_object_array_get_idx(bound, i);

		if (json_object_is_type(port, json_type_string))
			fprintf(out, "bound %s to %s\n", json_object_get_string(port),
				ctl_jstr(args, "dev"));
	}
	return 0;
}

static const char *mask_cell(struct json_object *d, char *buf, size_t size)
{
	struct json_object *mask = vmq_json_member(d, "mark_mask", json_type_int);

	if (!mask)
		return "-";
	snprintf(buf, size, "0x%x", (unsigned int)json_object_get_int64(mask));
	return buf;
}

/* A TX queue, or "auto" (the kernel's choice). */
static const char *default_cell(struct json_object *d, char *buf, size_t size)
{
	(void)buf;
	(void)size;
	return ctl_jstr(d, "default_txq") ? ctl_jstr(d, "default_txq") : ctl_jnum(d, "default_txq");
}

static const char *attached_cell(struct json_object *d, char *buf, size_t size)
{
	struct json_object *attached = vmq_json_member(d, "attached", json_type_boolean);

	(void)buf;
	(void)size;
	return !attached ? "-" : json_object_get_boolean(attached) ? "yes" : "no";
}

static const char *live_cell(struct json_object *d, char *buf, size_t size)
{
	ctl_fmt_count(d, "live_queues", buf, size);
	return buf;
}

static const char *groups_cell(struct json_object *d, char *buf, size_t size)
{
	ctl_fmt_count(d, "groups", buf, size);
	return buf;
}

/* "off", or "on 10s 25%". */
static const char *balance_cell(struct json_object *d, char *buf, size_t size)
{
	struct json_object *b = ctl_jobject(d, "balance");
	const char *state = ctl_jstr(b, "state");

	if (!state)
		return "-";
	if (strcmp(state, "on"))
		return state;
	snprintf(buf, size, "on %ss %s%%", ctl_jnum(b, "interval"), ctl_jnum(b, "threshold"));
	return buf;
}

/* dev show DEV: the balancer's last decision, and its last move, under
 * the table. */
static void last_decision_print(FILE *out, struct json_object *d)
{
	struct json_object *last = ctl_jobject(ctl_jobject(d, "balance"), "last");
	struct json_object *move = ctl_jobject(ctl_jobject(d, "balance"), "last_move");
	struct json_object *moves = ctl_jarray(move, "moves");
	size_t n = moves ? json_object_array_length(moves) : 0;

	if (last && ctl_jstr(last, "reason"))
		fprintf(out, "balance, last decision: %s\n", ctl_jstr(last, "reason"));
	if (move && ctl_jstr(move, "reason"))
		fprintf(out, "balance, last move: %s\n", ctl_jstr(move, "reason"));
	for (size_t i = 0; i < n; i++) {
		struct json_object *m = json_object_array_get_idx(moves, i);

		fprintf(out, "  moved queue %s%s%s: txq %s -> txq %s (%s B/s)\n", ctl_jnum(m, "id"),
			ctl_jstr(m, "vm") ? " vm " : "", ctl_jstr(m, "vm") ? ctl_jstr(m, "vm") : "",
			ctl_jnum(m, "from"), ctl_jnum(m, "to"), ctl_jnum(m, "bytes_per_s"));
	}
}

/* The port policy's patterns; "" (none) shows as "-". */
static const char *ports_cell(struct json_object *d, char *buf, size_t size)
{
	const char *ports = ctl_jstr(d, "ports");

	(void)buf;
	(void)size;
	return ports && *ports ? ports : "-";
}

/* The receive side: off, or the XDP mode it runs in. */
static const char *rx_cell(struct json_object *d, char *buf, size_t size)
{
	const char *rx = ctl_jstr(d, "rx"), *mode = ctl_jstr(d, "xdp_mode");

	(void)buf;
	(void)size;
	if (rx && !strcmp(rx, "on"))
		return mode ? mode : "on";
	return rx ? rx : "-";
}

static int dev_print(FILE *out, struct json_object *args, struct json_object *result)
{
	static const struct ctl_column cols[] = {
		{ "DEV", "dev", .align = CTL_LEFT },
		{ "TXQS", "txqs", .align = CTL_RIGHT },
		{ "QUEUES", "queues", .align = CTL_RIGHT },
		{ "MASK", .align = CTL_LEFT, .cell = mask_cell },
		{ "DEFAULT", .align = CTL_LEFT, .cell = default_cell },
		{ "ATTACHED", .align = CTL_LEFT, .cell = attached_cell },
		{ "LIVE", .align = CTL_RIGHT, .cell = live_cell },
		{ "GROUPS", .align = CTL_RIGHT, .cell = groups_cell },
		{ "PORTS", .align = CTL_LEFT, .cell = ports_cell },
		{ "RX", .align = CTL_LEFT, .cell = rx_cell },
		{ "BALANCE", .align = CTL_LEFT, .cell = balance_cell },
	};
	struct json_object *devs = ctl_jarray(result, "devs");
	size_t n = devs ? json_object_array_length(devs) : 0, ncols = ARRAY_SIZE(cols) - 1;
	int err;

	/* BALANCE, the last column, once a device balances. */
	for (size_t i = 0; i < n; i++) {
		const char *state = ctl_jstr(
			ctl_jobject(json_object_array_get_idx(devs, i), "balance"), "state");

		if (state && !strcmp(state, "on"))
			ncols = ARRAY_SIZE(cols);
	}
	err = ctl_print_rows(out, "", cols, ncols, devs);

	if (!err && ctl_jstr(args, "dev") && devs && json_object_array_length(devs) == 1)
		last_decision_print(out, json_object_array_get_idx(devs, 0));
	return err;
}

/* dev balance DEV --dry-run: the load, then what would move and why. */
static int balance_print(FILE *out, struct json_object *args, struct json_object *result)
{
	struct json_object *plan = ctl_jobject(result, "plan"), *txqs = ctl_jarray(result, "txqs"),
			   *v;
	struct json_object *moves = ctl_jarray(plan, "moves");
	bool would =
		json_object_object_get_ex(result, "would_move", &v) && json_object_get_boolean(v);
	size_t n = txqs ? json_object_array_length(txqs) : 0;

	(void)args;
	fprintf(out,
		"dev %s (balance %s):", ctl_jstr(result, "dev") ? ctl_jstr(result, "dev") : "?",
		ctl_jstr(result, "balance") ? ctl_jstr(result, "balance") : "?");
	for (size_t i = 0; i < n; i++) {
		struct json_object *t = json_object_array_get_idx(txqs, i);

		fprintf(out, " txq %s %s B/s%s", ctl_jnum(t, "txq"), ctl_jnum(t, "bytes_per_s"),
			i + 1 < n ? "," : "");
	}
	fprintf(out, "\n%s\n", ctl_jstr(plan, "reason") ? ctl_jstr(plan, "reason") : "?");
	n = moves ? json_object_array_length(moves) : 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *m = json_object_array_get_idx(moves, i);

		fprintf(out, "  %s queue %s%s%s: txq %s -> txq %s (%s B/s)\n",
			would ? "would move" : "planned, not moved:", ctl_jnum(m, "id"),
			ctl_jstr(m, "vm") ? " vm " : "", ctl_jstr(m, "vm") ? ctl_jstr(m, "vm") : "",
			ctl_jnum(m, "from"), ctl_jnum(m, "to"), ctl_jnum(m, "bytes_per_s"));
	}
	fprintf(out, "%s\n",
		would ? "would move now (dry run: nothing changed)"
		      : "would not move now (dry run: nothing changed)");
	return 0;
}

/* vmqd reads the object: it gets an absolute name. */
static int upgrade_check(struct json_object *args, struct ctl_err *e)
{
	struct json_object *v;
	char *abs;

	if (!json_object_object_get_ex(args, "object", &v))
		return 0;
	abs = realpath(json_object_get_string(v), NULL);
	if (!abs)
		return ctl_err_set(e, errno, "object %s: %s", json_object_get_string(v),
				   strerror(errno));
	json_object_object_add(args, "object", json_object_new_string(abs));
	free(abs);
	return 0;
}

static int upgrade_print(FILE *out, struct json_object *args, struct json_object *result)
{
	const char *dev = ctl_jstr(result, "dev"), *from = ctl_jstr(result, "from"),
		   *hook = ctl_jstr(result, "hook");
	struct json_object *v;
	bool upgraded =
		json_object_object_get_ex(result, "upgraded", &v) && json_object_get_boolean(v);

	(void)args;
	if (!upgraded)
		fprintf(out, "dev %s: already current (program %s, %s)\n", dev ? dev : "?",
			ctl_jnum(result, "prog_id"), hook ? hook : "?");
	else
		fprintf(out, "dev %s: upgraded: program %s -> %s, hook %s -> %s\n", dev ? dev : "?",
			ctl_jnum(result, "old_prog_id"), ctl_jnum(result, "prog_id"),
			from ? from : "?", hook ? hook : "?");
	if (json_object_object_get_ex(result, "ports_upgraded", &v) && json_object_get_int64(v))
		fprintf(out, "port program upgraded on %s stamp-mode port(s)\n",
			ctl_jnum(result, "ports_upgraded"));
	if (ctl_jstr(result, "ports_error"))
		fprintf(out, "port program not upgraded: %s\n", ctl_jstr(result, "ports_error"));
	if (json_object_object_get_ex(result, "rx_upgraded", &v) && json_object_get_boolean(v))
		fprintf(out, "receive side upgraded\n");
	if (ctl_jstr(result, "rx_error"))
		fprintf(out, "receive side not upgraded: %s\n", ctl_jstr(result, "rx_error"));
	return 0;
}

static const struct ctl_cmd dev_cmds[] = {
	{ .name = "attach",
	  .params = attach_params,
	  .help = "load vmq's program and maps for DEV, pin them, attach to DEV's egress" },
	{ .name = "set",
	  .params = set_params,
	  .help = "set DEV's port policy (bound ports stay), receive side or balancing",
	  .check = set_check,
	  .print = set_print },
	{ .name = "detach",
	  .params = dev_params,
	  .help = "detach vmq from DEV and remove its pinned maps" },
	{ .name = "upgrade",
	  .params = upgrade_params,
	  .help = "swap a new program in on DEV atomically, maps kept; clsact moves to tcx",
	  .check = upgrade_check,
	  .print = upgrade_print },
	{ .name = "show",
	  .params = show_params,
	  .help = "list the devices vmq manages, or DEV",
	  .print = dev_print },
	{ .name = "balance",
	  .params = balance_params,
	  .help = "print what DEV's TX queue balancer would move now, and why",
	  .print = balance_print },
	{ 0 },
};

const struct ctl_object ctl_object_dev = { .name = "dev",
					   .cmds = dev_cmds,
					   .help = "uplinks vmq steers" };
