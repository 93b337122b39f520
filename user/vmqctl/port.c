// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* vmqctl port: VM ports whose every packet carries one queue ID. */
#include <errno.h>

#include "show.h"
#include "vmqctl.h"

static const struct ctl_arg arg_port = {
	.key = "port",
	.metavar = "PORT",
	.help = "the VM's host-side port (tap or veth)",
	.type = CTL_ARG_DEV,
};

static const struct ctl_arg arg_uplink = {
	.keyword = "dev",
	.key = "dev",
	.metavar = "DEV",
	.help = "the uplink whose queue the port uses",
	.type = CTL_ARG_DEV,
};

static const struct ctl_arg arg_queue = {
	.keyword = "queue",
	.key = "queue",
	.metavar = "ID",
	.help = "queue ID stamped on every packet from PORT",
	.type = CTL_ARG_U32,
	.max = VMQ_QUEUES_MAX - 1,
};

static const struct ctl_param bind_params[] = {
	{ .arg = &arg_port, .required = true },
	{ .arg = &arg_uplink, .required = true },
	{ .arg = &arg_queue, .required = true },
	{ 0 },
};

static const struct ctl_param unbind_params[] = {
	{ .arg = &arg_port, .required = true },
	{ 0 },
};

static const struct ctl_param show_params[] = {
	{ .arg = &arg_uplink },
	{ 0 },
};

static int port_print(FILE *out, struct json_object *result)
{
	static const struct ctl_column cols[] = {
		{ "PORT", CTL_LEFT }, { "DEV", CTL_LEFT },   { "QUEUE", CTL_RIGHT },
		{ "VM", CTL_LEFT },   { "STATE", CTL_LEFT },
	};
	struct json_object *ports = ctl_jarray(result, "ports");
	size_t n = ports ? json_object_array_length(ports) : 0;
	struct ctl_table t;
	int err;

	ctl_table_init(&t, cols, sizeof(cols) / sizeof(cols[0]));
	for (size_t i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(ports, i);
		const char *row[] = { ctl_jstr(p, "port"), ctl_jstr(p, "dev"), ctl_jnum(p, "queue"),
				      ctl_jstr(p, "vm"), ctl_jstr(p, "state") };

		ctl_table_add(&t, row);
	}
	err = ctl_table_print(&t, out, "");
	ctl_table_free(&t);
	return err;
}

static const struct ctl_cmd port_cmds[] = {
	{ .name = "bind",
	  .params = bind_params,
	  .help = "stamp every packet from PORT with queue ID of DEV (rebinding moves it)" },
	{ .name = "unbind",
	  .params = unbind_params,
	  .help = "stop stamping PORT's packets; they leave on the default queue" },
	{ .name = "show",
	  .params = show_params,
	  .help = "list bound ports (state stale: the queue was freed; packets use queue 0)",
	  .print = port_print },
	{ 0 },
};

const struct ctl_object ctl_object_port = { .name = "port",
					    .cmds = port_cmds,
					    .help = "VM ports stamped with a queue ID" };
