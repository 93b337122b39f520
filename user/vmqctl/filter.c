// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* vmqctl filter: receive filters, VMQ's set and clear filter operations. */
#include "libvmq.h"
#include "show.h"
#include "util.h"
#include "vmqctl.h"

static const struct ctl_arg arg_queue = {
	.keyword = "queue",
	.key = "queue",
	.metavar = "ID",
	.help = "the live queue whose frames these are",
	.type = CTL_ARG_U32,
	.min = 1,
	.max = VMQ_QUEUES_MAX - 1,
};

static const struct ctl_arg arg_mac = {
	.keyword = "mac",
	.key = "mac",
	.metavar = "MAC",
	.help = "destination MAC address the frames carry",
	.type = CTL_ARG_MAC,
};

static const struct ctl_arg arg_vlan = {
	.keyword = "vlan",
	.key = "vlan",
	.metavar = "V",
	.help = "VLAN ID (802.1Q or 802.1ad); none: untagged only",
	.type = CTL_ARG_U32,
	.min = 1,
	.max = VMQ_RX_VLAN_MAX,
};

static const struct ctl_param add_params[] = {
	{ .arg = &ctl_arg_dev, .required = true },
	{ .arg = &arg_queue, .required = true },
	{ .arg = &arg_mac, .required = true },
	{ .arg = &arg_vlan },
	{ 0 },
};

static const struct ctl_param del_params[] = {
	{ .arg = &ctl_arg_dev, .required = true },
	{ .arg = &arg_mac, .required = true },
	{ .arg = &arg_vlan },
	{ 0 },
};

static const struct ctl_param show_params[] = {
	{ .arg = &ctl_arg_dev },
	{ 0 },
};

static int filter_print(FILE *out, struct json_object *args, struct json_object *result)
{
	static const struct ctl_column cols[] = {
		{ "DEV", "dev", .align = CTL_LEFT },
		{ "MAC", "mac", .align = CTL_LEFT },
		{ "VLAN", "vlan", .align = CTL_RIGHT },
		{ "QUEUE", "queue", .align = CTL_RIGHT },
		{ "VM", "vm", .align = CTL_LEFT },
		{ "RX", .align = CTL_LEFT, .cell = ctl_cell_rx },
	};

	(void)args;
	return ctl_print_rows(out, "", cols, ARRAY_SIZE(cols), ctl_jarray(result, "filters"));
}

static const struct ctl_cmd filter_cmds[] = {
	{ .name = "add",
	  .params = add_params,
	  .help = "frames to MAC (on VLAN V) received on DEV go to queue ID" },
	{ .name = "del",
	  .params = del_params,
	  .help = "delete the filter; its frames go to the default queue (the stack)" },
	{ .name = "show",
	  .params = show_params,
	  .help = "list receive filters, of DEV",
	  .print = filter_print },
	{ 0 },
};

const struct ctl_object ctl_object_filter = {
	.name = "filter",
	.cmds = filter_cmds,
	.help = "receive filters: destination MAC (and VLAN) to VM queue"
};
