// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* vmqctl port: VM ports whose every packet carries one queue ID. */
#include <errno.h>
#include <string.h>

#include "show.h"
#include "util.h"
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

static const char *const auto_word[] = { "auto", NULL };
static const char *const any_word[] = { "any", NULL };

static const struct ctl_arg arg_queue = {
	.keyword = "queue",
	.key = "queue",
	.metavar = "ID|auto",
	.help = "queue ID for PORT's packets; auto: a new one for PORT",
	.type = CTL_ARG_U32_OR_WORD,
	.max = VMQ_QUEUES_MAX - 1,
	.words = auto_word,
};

static const struct ctl_arg arg_txq = {
	.keyword = "txq",
	.key = "txq",
	.metavar = "N|any",
	.help = "queue auto's TX queue; any (default): vmqd picks",
	.type = CTL_ARG_U32_OR_WORD,
	.max = VMQ_TXQ_MAX - 1,
	.words = any_word,
};

static const struct ctl_arg arg_vm = {
	.keyword = "vm",
	.key = "vm",
	.metavar = "NAME",
	.help = "with queue auto: the new queue's VM label",
	.type = CTL_ARG_NAME,
};

static const struct ctl_param bind_params[] = {
	{ .arg = &arg_port, .required = true },
	{ .arg = &arg_uplink, .required = true },
	{ .arg = &arg_queue, .required = true },
	{ .arg = &arg_txq },
	{ .arg = &arg_vm },
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

/* txq and vm describe the queue "queue auto" creates; an existing queue
 * has its own. */
static int bind_check(struct json_object *args, struct ctl_err *e)
{
	const char *queue = ctl_jstr(args, "queue");

	if (queue && !strcmp(queue, "auto"))
		return 0;
	if (json_object_object_get_ex(args, "txq", NULL))
		return ctl_err_set(e, EINVAL, "\"txq\" only with \"queue auto\"");
	if (json_object_object_get_ex(args, "vm", NULL))
		return ctl_err_set(e, EINVAL, "\"vm\" only with \"queue auto\"");
	return 0;
}

/* Silent for a plain bind, like ip; what vmqd chose for queue auto. */
static int bind_print(FILE *out, struct json_object *args, struct json_object *result)
{
	if (!ctl_jstr(args, "queue"))
		return 0;
	fprintf(out, "%s: queue %s on %s, txq %s\n", ctl_jstr(args, "port"),
		ctl_jnum(result, "queue"), ctl_jstr(args, "dev"), ctl_jnum(result, "txq"));
	return 0;
}

static int unbind_print(FILE *out, struct json_object *args, struct json_object *result)
{
	(void)args;
	if (ctl_jhas_int(result, "freed_queue"))
		fprintf(out, "freed queue %s\n", ctl_jnum(result, "freed_queue"));
	return 0;
}

static int port_print(FILE *out, struct json_object *args, struct json_object *result)
{
	static const struct ctl_column cols[] = {
		{ "PORT", "port", .align = CTL_LEFT },	  { "DEV", "dev", .align = CTL_LEFT },
		{ "QUEUE", "queue", .align = CTL_RIGHT }, { "VM", "vm", .align = CTL_LEFT },
		{ "STATE", "state", .align = CTL_LEFT },  { "MODE", "mode", .align = CTL_LEFT },
		{ "WHY", "why", .align = CTL_LEFT },
	};

	(void)args;
	return ctl_print_rows(out, "", cols, ARRAY_SIZE(cols), ctl_jarray(result, "ports"));
}

static const struct ctl_cmd port_cmds[] = {
	{ .name = "bind",
	  .params = bind_params,
	  .help = "stamp every packet from PORT with queue ID of DEV (rebinding moves it)",
	  .check = bind_check,
	  .print = bind_print },
	{ .name = "unbind",
	  .params = unbind_params,
	  .help = "stop stamping PORT's packets (default queue); free its queue auto",
	  .print = unbind_print },
	{ .name = "show",
	  .params = show_params,
	  .help = "list bound ports: state (stale: queue freed), mode (uplink|stamp)",
	  .print = port_print },
	{ 0 },
};

const struct ctl_object ctl_object_port = { .name = "port",
					    .cmds = port_cmds,
					    .help = "VM ports stamped with a queue ID" };
