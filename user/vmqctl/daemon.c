// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* vmqctl daemon: vmqd itself. "daemon ping" is the health check; save and
 * sync are the state file's. */
#include "show.h"
#include "vmqctl.h"

static const struct ctl_param no_params[] = {
	{ 0 },
};

static int ping_print(FILE *out, struct json_object *args, struct json_object *result)
{
	(void)args;
	fprintf(out, "vmqd pid %s, protocol version %s\n", ctl_jnum(result, "pid"),
		ctl_jnum(result, "version"));
	return 0;
}

static const struct ctl_cmd daemon_cmds[] = {
	{ .name = "ping",
	  .params = no_params,
	  .help = "check that vmqd answers; print its pid",
	  .print = ping_print },
	{ .name = "save",
	  .params = no_params,
	  .help = "print the running state as batch lines (vmqctl save)",
	  .print = ctl_print_save },
	{ .name = "sync",
	  .params = no_params,
	  .help = "write vmqd's state file now (vmqctl -b does at its end)" },
	{ 0 },
};

const struct ctl_object ctl_object_daemon = { .name = "daemon",
					      .cmds = daemon_cmds,
					      .help = "vmqd itself" };
