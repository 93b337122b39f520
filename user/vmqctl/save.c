// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vmqctl save: vmqd's running state ("daemon save") as batch lines, which
 * vmqctl -b or vmqctl apply turn back into the same state. Each line comes
 * from the command tables (ctl_request_format), the inverse of parsing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "show.h"
#include "vmqctl.h"

/* A comment line of its own: the batch grammar skips whole lines only. */
#define PENDING_COMMENT "# pending: waits for its device to appear"

static bool is_pending(struct json_object *req)
{
	struct json_object *pending;

	return json_object_object_get_ex(req, "pending", &pending) &&
	       json_object_is_type(pending, json_type_boolean) && json_object_get_boolean(pending);
}

static int save_lines(FILE *out, struct json_object *result, struct ctl_err *e)
{
	struct json_object *reqs = ctl_jarray(result, "requests");
	size_t n = reqs ? json_object_array_length(reqs) : 0;

	if (!reqs)
		return ctl_err_set(e, EPROTO, "malformed answer from vmqd: no \"requests\" array");
	for (size_t i = 0; i < n; i++) {
		struct json_object *req = json_object_array_get_idx(reqs, i);
		char *line;
		int err = ctl_request_format(req, &line, e);

		if (err) {
			ctl_err_prefix(e, "request %zu of vmqd's state: ", i + 1);
			return err;
		}
		if (is_pending(req))
			fputs(PENDING_COMMENT "\n", out);
		fprintf(out, "%s\n", line);
		free(line);
	}
	return 0;
}

int ctl_print_save(FILE *out, struct json_object *args, struct json_object *result)
{
	struct ctl_err e;

	(void)args;
	return save_lines(out, result, &e);
}

static int save_run(struct ctl_ctx *ctx, struct json_object *args, struct ctl_err *e)
{
	struct ctl_call call = { .kind = CTL_CALL_REQUEST };
	struct json_object *resp = NULL, *result;
	int err;

	(void)args;
	call.req = ctl_request_new("daemon", "save", json_object_new_object());
	if (!call.req)
		return ctl_err_set(e, ENOMEM, "out of memory");
	err = ctl_execute(ctx, &call, &resp, &result, e);
	if (!err && ctx->json)
		ctl_print_json(ctx->out, result);
	else if (!err)
		err = save_lines(ctx->out, result, e);
	if (err)
		ctl_err_prefix(e, "save: ");
	json_object_put(resp);
	ctl_call_release(&call);
	return err;
}

static const struct ctl_param no_params[] = {
	{ 0 },
};

static const struct ctl_cmd save_cmds[] = {
	{ .name = "run",
	  .params = no_params,
	  .help = "print vmqd's running state as batch lines (for vmqctl -b or apply)",
	  .run = save_run },
	{ 0 },
};

const struct ctl_object ctl_object_save = { .name = "save",
					    .cmds = save_cmds,
					    .help = "the running state as batch lines",
					    .implicit_cmd = "run" };
