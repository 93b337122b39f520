// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* vmqctl group: sets of TX queues a queue spreads over by flow hash. */
#include <errno.h>
#include <stdlib.h>

#include "show.h"
#include "util.h"
#include "vmqctl.h"

static const struct ctl_arg arg_id = {
	.keyword = "id",
	.key = "id",
	.metavar = "G",
	.help = "group ID",
	.type = CTL_ARG_U32,
	.max = VMQ_GROUPS_MAX - 1,
};

static const struct ctl_arg arg_txqs = {
	.keyword = "txqs",
	.key = "txqs",
	.metavar = "N[,N...]",
	.help = "the group's TX queues",
	.type = CTL_ARG_TXQ_LIST,
};

static const struct ctl_param add_params[] = {
	{ .arg = &ctl_arg_dev, .required = true },
	{ .arg = &arg_id, .required = true },
	{ .arg = &arg_txqs, .required = true },
	{ 0 },
};

static const struct ctl_param del_params[] = {
	{ .arg = &ctl_arg_dev, .required = true },
	{ .arg = &arg_id, .required = true },
	{ 0 },
};

static const struct ctl_param show_params[] = {
	{ .arg = &ctl_arg_dev },
	{ 0 },
};

static int group_print(FILE *out, struct json_object *args, struct json_object *result)
{
	static const struct ctl_column cols[] = {
		{ "DEV", "dev", .align = CTL_LEFT },
		{ "GROUP", "id", .align = CTL_RIGHT },
		{ "TXQS", "txqs", .align = CTL_LEFT },
		{ "MEMBERS", "members", .align = CTL_LEFT },
	};

	(void)args;
	return ctl_print_rows(out, "", cols, ARRAY_SIZE(cols), ctl_jarray(result, "groups"));
}

static const struct ctl_cmd group_cmds[] = {
	{ .name = "add",
	  .params = add_params,
	  .help = "create group G on DEV, spreading over the TX queues listed" },
	{ .name = "del",
	  .params = del_params,
	  .help = "delete group G; no queue may steer into it" },
	{ .name = "show",
	  .params = show_params,
	  .help = "list groups, of DEV, and the queues steering into each",
	  .print = group_print },
	{ 0 },
};

const struct ctl_object ctl_object_group = {
	.name = "group", .cmds = group_cmds, .help = "groups of TX queues, spread over by flow hash"
};
