// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* vmqctl queue: queue IDs (carried in the skb mark) and where they steer. */
#include <errno.h>
#include <string.h>

#include "show.h"
#include "vmqctl.h"

static const struct ctl_arg arg_id = {
	.keyword = "id",
	.key = "id",
	.metavar = "ID",
	.help = "queue ID, 0 being the default queue",
	.type = CTL_ARG_U32,
	.max = VMQ_QUEUES_MAX - 1,
};

static const struct ctl_arg arg_txq = {
	.keyword = "txq",
	.key = "txq",
	.metavar = "N",
	.help = "TX queue to steer to",
	.type = CTL_ARG_U32,
	.max = VMQ_TXQ_MAX - 1,
};

/* Only "queue set" may say auto, and only for queue 0 (set_check). */
static const struct ctl_arg arg_txq_or_auto = {
	.keyword = "txq",
	.key = "txq",
	.metavar = "N|auto",
	.help = "TX queue to steer to, or auto (queue 0 only): the kernel chooses",
	.type = CTL_ARG_U32_OR_AUTO,
	.max = VMQ_TXQ_MAX - 1,
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

enum { TARGET = 1 }; /* choice: txq or group */

static const struct ctl_param add_params[] = {
	{ .arg = &ctl_arg_dev, .required = true },
	{ .arg = &arg_id, .required = true },
	{ .arg = &arg_txq, .required = true, .choice = TARGET },
	{ .arg = &arg_group, .required = true, .choice = TARGET },
	{ .arg = &arg_vm },
	{ .arg = &arg_name },
	{ 0 },
};

static const struct ctl_param set_params[] = {
	{ .arg = &ctl_arg_dev, .required = true },
	{ .arg = &arg_id, .required = true },
	{ .arg = &arg_txq_or_auto, .required = true, .choice = TARGET },
	{ .arg = &arg_group, .required = true, .choice = TARGET },
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

	if (!json_object_object_get_ex(args, "txq", &txq) ||
	    !json_object_is_type(txq, json_type_string))
		return 0;
	json_object_object_get_ex(args, "id", &id);
	if (json_object_get_int64(id) != VMQ_DEFAULT_QUEUE)
		return ctl_err_set(e, EINVAL, "txq \"auto\": only for queue %u", VMQ_DEFAULT_QUEUE);
	return 0;
}

static int queue_print(FILE *out, struct json_object *result)
{
	static const struct ctl_column cols[] = {
		{ "DEV", CTL_LEFT }, { "ID", CTL_RIGHT },  { "TARGET", CTL_LEFT },
		{ "VM", CTL_LEFT },  { "NAME", CTL_LEFT },
	};
	struct json_object *queues = ctl_jarray(result, "queues");
	size_t n = queues ? json_object_array_length(queues) : 0;
	struct ctl_table t;
	int err;

	ctl_table_init(&t, cols, sizeof(cols) / sizeof(cols[0]));
	for (size_t i = 0; i < n; i++) {
		struct json_object *q = json_object_array_get_idx(queues, i);
		char target[32];
		const char *row[5];

		ctl_fmt_target(q, target, sizeof(target));
		row[0] = ctl_jstr(q, "dev");
		row[1] = ctl_jnum(q, "id");
		row[2] = target;
		row[3] = ctl_jstr(q, "vm");
		row[4] = ctl_jstr(q, "name");
		ctl_table_add(&t, row);
	}
	err = ctl_table_print(&t, out, "");
	ctl_table_free(&t);
	return err;
}

static const struct ctl_cmd queue_cmds[] = {
	{ .name = "add",
	  .params = add_params,
	  .help = "create queue ID on DEV, steered to TX queue N or into group G" },
	{ .name = "set",
	  .params = set_params,
	  .help = "steer existing queue ID elsewhere",
	  .check = set_check },
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
