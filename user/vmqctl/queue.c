// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* vmqctl queue: queue IDs (carried in the skb mark) and where they steer. */
#include <errno.h>
#include <string.h>

#include "show.h"
#include "util.h"
#include "vmqctl.h"

static const char *const auto_word[] = { "auto", NULL };
static const char *const any_word[] = { "any", NULL };
static const char *const any_auto_words[] = { "any", "auto", NULL };
static const char *const placement_words[] = { "operator", "auto", NULL };
static const char *const owner_words[] = { "port", NULL };

static const struct ctl_arg arg_id = {
	.keyword = "id",
	.key = "id",
	.metavar = "ID",
	.help = "queue ID, 0 being the default queue",
	.type = CTL_ARG_U32,
	.max = VMQ_QUEUES_MAX - 1,
};

static const struct ctl_arg arg_id_or_auto = {
	.keyword = "id",
	.key = "id",
	.metavar = "ID|auto",
	.help = "queue ID, or auto: the lowest free ID from 1",
	.type = CTL_ARG_U32_OR_WORD,
	.max = VMQ_QUEUES_MAX - 1,
	.words = auto_word,
};

static const struct ctl_arg arg_txq = {
	.keyword = "txq",
	.key = "txq",
	.metavar = "N|any",
	.help = "TX queue to steer to, or any: vmqd picks the least used",
	.type = CTL_ARG_U32_OR_WORD,
	.max = VMQ_TXQ_MAX - 1,
	.words = any_word,
};

/* Only "queue set" may say auto, and only for queue 0 (set_check). */
static const struct ctl_arg arg_txq_set = {
	.keyword = "txq",
	.key = "txq",
	.metavar = "N|any|auto",
	.help = "TX queue; any: vmqd picks; auto: the kernel (queue 0)",
	.type = CTL_ARG_U32_OR_WORD,
	.max = VMQ_TXQ_MAX - 1,
	.words = any_auto_words,
};

static const struct ctl_arg arg_group = {
	.keyword = "group",
	.key = "group",
	.metavar = "G",
	.help = "group of TX queues to spread over by flow hash",
	.type = CTL_ARG_U32,
	.max = VMQ_GROUPS_MAX - 1,
};

static const struct ctl_arg arg_vm = {
	.keyword = "vm",
	.key = "vm",
	.metavar = "NAME",
	.help = "the VM the queue belongs to (a label)",
	.type = CTL_ARG_NAME,
};

static const struct ctl_arg arg_name = {
	.keyword = "name",
	.key = "name",
	.metavar = "NAME",
	.help = "the queue's own label",
	.type = CTL_ARG_NAME,
};

/* placement and owner: what "vmqctl save" writes so that a restore is exact. */
static const struct ctl_arg arg_placement = {
	.keyword = "placement",
	.key = "placement",
	.metavar = "operator|auto",
	.help = "who chose the TX queue: the operator (default) or vmqd",
	.type = CTL_ARG_WORD,
	.words = placement_words,
};

static const struct ctl_arg arg_owner = {
	.keyword = "owner",
	.key = "owner",
	.metavar = "port",
	.help = "freed with the port it was made for (queue auto)",
	.type = CTL_ARG_WORD,
	.words = owner_words,
};

/* The receive side: where frames that match the queue's filters go. */
static const char *const rx_words[] = { "cpu", "port", "pass", NULL };

static const struct ctl_arg arg_rx_cpu = {
	.keyword = "cpu",
	.key = "cpu",
	.metavar = "N",
	.help = "the CPU the queue's frames are processed on",
	.type = CTL_ARG_U32,
	.max = CTL_CPU_MAX,
};

static const struct ctl_arg arg_rx = {
	.keyword = "rx",
	.key = "rx",
	.metavar = "cpu N|port|pass",
	.help = "received frames: to CPU N, the bound port, or the stack",
	.type = CTL_ARG_WORD,
	.words = rx_words,
	.then_word = "cpu",
	.then_arg = &arg_rx_cpu,
};

enum { TARGET = 1 }; /* choice: txq or group */

static const struct ctl_param add_params[] = {
	{ .arg = &ctl_arg_dev, .required = true },
	{ .arg = &arg_id_or_auto, .required = true },
	{ .arg = &arg_txq, .required = true, .choice = TARGET },
	{ .arg = &arg_group, .required = true, .choice = TARGET },
	{ .arg = &arg_vm },
	{ .arg = &arg_name },
	{ .arg = &arg_placement },
	{ .arg = &arg_owner },
	{ 0 },
};

static const struct ctl_param set_params[] = {
	{ .arg = &ctl_arg_dev, .required = true },
	{ .arg = &arg_id, .required = true },
	{ .arg = &arg_txq_set, .choice = TARGET },
	{ .arg = &arg_group, .choice = TARGET },
	{ .arg = &arg_rx },
	{ 0 },
};

static const struct ctl_param del_params[] = {
	{ .arg = &ctl_arg_dev, .required = true },
	{ .arg = &arg_id, .required = true },
	{ 0 },
};

static const struct ctl_param show_params[] = {
	{ .arg = &ctl_arg_dev },
	{ .arg = &arg_id },
	{ 0 },
};

/* "auto" hands the choice back to the kernel: only the default queue, which
 * catches everything unsteered, can mean that. vmqd checks it too. */
static int set_check(struct json_object *args, struct ctl_err *e)
{
	struct json_object *txq, *id = NULL;

	if (!json_object_object_get_ex(args, "txq", NULL) &&
	    !json_object_object_get_ex(args, "group", NULL) &&
	    !json_object_object_get_ex(args, "rx", NULL))
		return ctl_err_set(
			e, EINVAL,
			"needs one of \"txq N\" or \"group G\", or \"rx cpu N|port|pass\"");
	if (!json_object_object_get_ex(args, "txq", &txq) ||
	    !json_object_is_type(txq, json_type_string) ||
	    strcmp(json_object_get_string(txq), "auto"))
		return 0;
	json_object_object_get_ex(args, "id", &id);
	if (json_object_get_int64(id) != VMQ_DEFAULT_QUEUE)
		return ctl_err_set(e, EINVAL, "txq \"auto\": only for queue %u", VMQ_DEFAULT_QUEUE);
	return 0;
}

/* "placement auto" needs a TX queue for vmqd to have chosen, not a group. */
static int add_check(struct json_object *args, struct ctl_err *e)
{
	const char *placement = ctl_jstr(args, "placement");

	if (placement && !strcmp(placement, "auto") && !ctl_jhas_int(args, "txq") &&
	    !ctl_jstr(args, "txq"))
		return ctl_err_set(e, EINVAL, "placement \"auto\": only with \"txq N|any\"");
	return 0;
}

/* Plain commands stay silent, like ip; what vmqd chose is printed. */
static int add_print(FILE *out, struct json_object *args, struct json_object *result)
{
	bool txq = ctl_jhas_int(result, "txq");

	if (!ctl_jstr(args, "id") && !ctl_jstr(args, "txq"))
		return 0;
	fprintf(out, "queue %s on %s: %s %s\n", ctl_jnum(result, "id"), ctl_jstr(args, "dev"),
		txq ? "txq" : "group", txq ? ctl_jnum(result, "txq") : ctl_jnum(args, "group"));
	return 0;
}

static int set_print(FILE *out, struct json_object *args, struct json_object *result)
{
	const char *txq = ctl_jstr(args, "txq");

	if (!txq || strcmp(txq, "any"))
		return 0;
	fprintf(out, "queue %s on %s: txq %s\n", ctl_jnum(args, "id"), ctl_jstr(args, "dev"),
		ctl_jnum(result, "txq"));
	return 0;
}

/* Who chose the TX queue: "-" (the operator), "auto" (vmqd), "balanced"
 * (then moved by the balancer); "(N)": moves since vmqd started. */
static const char *placed_cell(struct json_object *q, char *buf, size_t size)
{
	const char *placement = ctl_jstr(q, "placement");
	struct json_object *moves = vmq_json_member(q, "moves", json_type_int);

	if (!placement)
		return "-";
	if (!moves || !json_object_get_int64(moves))
		return placement;
	snprintf(buf, size, "%s(%s)", placement, ctl_jnum(q, "moves"));
	return buf;
}

/* PLACED: who chose the TX queue; OWNER: "port" for a queue freed with
 * its port. */
static int queue_print(FILE *out, struct json_object *args, struct json_object *result)
{
	static const struct ctl_column cols[] = {
		{ "DEV", "dev", .align = CTL_LEFT },
		{ "ID", "id", .align = CTL_RIGHT },
		{ "TARGET", .align = CTL_LEFT, .cell = ctl_cell_target },
		{ "VM", "vm", .align = CTL_LEFT },
		{ "NAME", "name", .align = CTL_LEFT },
		{ "PLACED", .align = CTL_LEFT, .cell = placed_cell },
		{ "OWNER", "owner", .align = CTL_LEFT },
		{ "RX", .align = CTL_LEFT, .cell = ctl_cell_rx },
	};
	struct json_object *queues = ctl_jarray(result, "queues");
	size_t n = queues ? json_object_array_length(queues) : 0, ncols = ARRAY_SIZE(cols) - 1;

	(void)args;
	/* RX only where a device has its receive side loaded. */
	for (size_t i = 0; i < n; i++)
		if (ctl_jstr(json_object_array_get_idx(queues, i), "rx"))
			ncols = ARRAY_SIZE(cols);
	return ctl_print_rows(out, "", cols, ncols, queues);
}

static const struct ctl_cmd queue_cmds[] = {
	{ .name = "add",
	  .params = add_params,
	  .help = "create queue ID on DEV, steered to TX queue N or into group G",
	  .check = add_check,
	  .print = add_print },
	{ .name = "set",
	  .params = set_params,
	  .help = "steer existing queue ID elsewhere, or set where its received frames go",
	  .check = set_check,
	  .print = set_print },
	{ .name = "del",
	  .params = del_params,
	  .help = "delete queue ID; its packets fall back to queue 0" },
	{ .name = "show",
	  .params = show_params,
	  .help = "list queues, of DEV, or queue ID",
	  .print = queue_print },
	{ 0 },
};

const struct ctl_object ctl_object_queue = {
	.name = "queue",
	.cmds = queue_cmds,
	.help = "queue IDs and the TX queue or group each steers to"
};
