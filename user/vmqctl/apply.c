// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vmqctl apply FILE: make vmqd's state what FILE (batch lines, as vmqctl
 * save writes them) says. Every line is parsed before anything is sent;
 * the running state comes from "daemon save"; the plan (plan.c) is run
 * like a batch: one connection, "sync": false, one "daemon sync" at the
 * end, stopping at the first error.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "show.h"
#include "vmqctl.h"

static const struct ctl_arg arg_file = {
	.key = "file",
	.metavar = "FILE",
	.help = "the state, as batch lines",
	.type = CTL_ARG_PATH,
};

static const struct ctl_arg arg_dry_run = {
	.keyword = "--dry-run",
	.key = "dry_run",
	.help = "print the plan as batch lines, change nothing",
	.type = CTL_ARG_FLAG,
};

static const struct ctl_arg arg_prune = {
	.keyword = "--prune",
	.key = "prune",
	.help = "also remove what vmqd has and FILE lacks",
	.type = CTL_ARG_FLAG,
};

static const struct ctl_param apply_params[] = {
	{ .arg = &arg_file, .required = true },
	{ .arg = &arg_dry_run },
	{ .arg = &arg_prune },
	{ 0 },
};

/* One line of FILE as {"object", "command", "args", "line"}. */
static int collect(void *arg, int line, int argc, char **argv, struct ctl_err *e)
{
	struct json_object *want = arg, *req, *args = NULL;
	struct ctl_call call;
	int err;

	err = ctl_resolve(argc, argv, &call, e);
	if (err)
		return err;
	if (call.kind == CTL_CALL_HELP || call.cmd->run) {
		ctl_call_release(&call);
		return ctl_err_set(e, EINVAL, "\"%s\" is not a state line", argv[0]);
	}
	json_object_object_get_ex(call.req, "args", &args);
	req = json_object_new_object();
	if (!req || json_object_object_add(req, "object", json_object_new_string(call.obj->name)) ||
	    json_object_object_add(req, "command", json_object_new_string(call.cmd->name)) ||
	    json_object_object_add(req, "args", json_object_get(args)) ||
	    json_object_object_add(req, "line", json_object_new_int(line)) ||
	    json_object_array_add(want, req)) {
		json_object_put(req);
		err = ctl_err_set(e, ENOMEM, "out of memory");
	}
	ctl_call_release(&call);
	return err;
}

/* FILE:LINE: in front of a message about a line of path. */
static void name_line(struct ctl_err *e, const char *path)
{
	int line = e->line;

	if (line)
		ctl_err_prefix(e, "%s:%d: ", path, line);
	else
		ctl_err_prefix(e, "apply: ");
	e->line = 0; /* said in the message already */
}

int ctl_apply_read(FILE *in, const char *name, struct json_object **want, struct ctl_err *e)
{
	int err;

	*want = json_object_new_array();
	if (!*want)
		err = ctl_err_set(e, ENOMEM, "out of memory");
	else
		err = ctl_batch_read(in, name, collect, *want, e);
	if (err)
		name_line(e, name);
	return err;
}

static int read_want(const char *path, struct json_object **want, struct ctl_err *e)
{
	bool use_stdin = !strcmp(path, "-");
	FILE *in = use_stdin ? stdin : fopen(path, "re");
	int err;

	*want = NULL;
	if (!in)
		return ctl_err_set(e, errno, "apply: cannot open %s: %s", path, strerror(errno));
	err = ctl_apply_read(in, use_stdin ? "stdin" : path, want, e);
	if (!use_stdin)
		fclose(in);
	return err;
}

static int read_have(struct ctl_ctx *ctx, struct json_object **resp, struct json_object **have,
		     struct ctl_err *e)
{
	struct ctl_call call = { .kind = CTL_CALL_REQUEST };
	struct json_object *result;
	int err;

	call.req = ctl_request_new("daemon", "save", json_object_new_object());
	if (!call.req)
		return ctl_err_set(e, ENOMEM, "out of memory");
	err = ctl_execute(ctx, &call, resp, &result, e);
	ctl_call_release(&call);
	if (err) {
		ctl_err_prefix(e, "apply: daemon save: ");
		return err;
	}
	*have = ctl_jarray(result, "requests");
	if (!*have)
		return ctl_err_set(e, EPROTO,
				   "apply: malformed answer from vmqd: no \"requests\" array");
	return 0;
}

/* {"steps": [{"op", "line", "request"}], "kept": N}; NULL: out of memory. */
static struct json_object *plan_json(const struct ctl_plan *plan, char **lines)
{
	struct json_object *obj = json_object_new_object(), *steps = json_object_new_array();

	if (!obj || !steps || json_object_object_add(obj, "steps", steps)) {
		json_object_put(obj);
		json_object_put(steps);
		return NULL;
	}
	for (size_t i = 0; i < plan->n; i++) {
		struct json_object *step = json_object_new_object();

		if (!step || json_object_array_add(steps, step) ||
		    json_object_object_add(
			    step, "op",
			    json_object_new_string(ctl_plan_op_name(plan->steps[i].op))) ||
		    json_object_object_add(step, "line", json_object_new_string(lines[i])) ||
		    json_object_object_add(step, "request", json_object_get(plan->steps[i].req))) {
			json_object_put(obj);
			return NULL;
		}
	}
	if (json_object_object_add(obj, "kept", json_object_new_int64((int64_t)plan->kept))) {
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

/* Plain batch lines, so that the plan can be read, edited and run with -b. */
static int print_plan(struct ctl_ctx *ctx, const struct ctl_plan *plan, char **lines)
{
	struct json_object *obj;

	if (ctx->json) {
		obj = plan_json(plan, lines);
		if (!obj)
			return -ENOMEM;
		ctl_print_json(ctx->out, obj);
		json_object_put(obj);
		return 0;
	}
	for (size_t i = 0; i < plan->n; i++)
		fprintf(ctx->out, "%s\n", lines[i]);
	if (!plan->n)
		fputs("# no change\n", ctx->out);
	if (plan->kept)
		fprintf(ctx->out,
			"# kept: %zu object%s vmqd has and FILE lacks (--prune removes %s)\n",
			plan->kept, plan->kept == 1 ? "" : "s", plan->kept == 1 ? "it" : "them");
	return 0;
}

static int run_plan(struct ctl_ctx *ctx, const struct ctl_plan *plan, char **lines,
		    struct ctl_err *e)
{
	size_t applied = 0;
	int err = 0;

	ctx->nosync = true;
	for (size_t i = 0; i < plan->n && !err; i++) {
		struct json_object *req = plan->steps[i].req, *args = NULL, *resp = NULL, *result;
		struct ctl_call call = { .kind = CTL_CALL_REQUEST };

		if (json_object_deep_copy(ctl_jobject(req, "args"), &args, NULL))
			return ctl_err_set(e, ENOMEM, "out of memory");
		call.req = ctl_request_new(ctl_jstr(req, "object"), ctl_jstr(req, "command"), args);
		if (!call.req)
			return ctl_err_set(e, ENOMEM, "out of memory");
		err = ctl_execute(ctx, &call, &resp, &result, e);
		if (err)
			ctl_err_prefix(e, "apply: step %zu of %zu (%s): ", i + 1, plan->n,
				       lines[i]);
		else
			applied++;
		json_object_put(resp);
		ctl_call_release(&call);
	}
	/* What was applied before an error stays applied: write it down. */
	if (applied) {
		struct ctl_err sync_e;
		int sync_err = ctl_sync(ctx, &sync_e);

		if (sync_err && !err) {
			*e = sync_e;
			ctl_err_prefix(e, "apply: ");
			err = sync_err;
		}
	}
	ctx->nosync = false;
	return err;
}

/* Each step as a batch line, for the plan's printing and messages. */
static int format_steps(const struct ctl_plan *plan, char ***lines, struct ctl_err *e)
{
	int err;

	*lines = calloc(plan->n + 1, sizeof(**lines));
	if (!*lines) {
		ctl_err_set(e, ENOMEM, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < plan->n; i++) {
		err = ctl_request_format(plan->steps[i].req, &(*lines)[i], e);
		if (err) {
			ctl_err_prefix(e, "apply: ");
			return err;
		}
	}
	return 0;
}

static int apply_plan(struct ctl_ctx *ctx, const struct ctl_plan *plan, bool dry_run,
		      struct ctl_err *e)
{
	char **lines = NULL;
	int err;

	err = format_steps(plan, &lines, e);
	if (!err && !dry_run)
		err = run_plan(ctx, plan, lines, e);
	/* A real apply says nothing, like a batch; -j tells what it did. */
	if (!err && (dry_run || ctx->json) && print_plan(ctx, plan, lines)) {
		ctl_err_set(e, ENOMEM, "out of memory");
		err = -ENOMEM;
	}
	for (size_t i = 0; lines && i < plan->n; i++)
		free(lines[i]);
	free(lines);
	return err;
}

static int apply_run(struct ctl_ctx *ctx, struct json_object *args, struct ctl_err *e)
{
	const char *path = ctl_jstr(args, "file");
	bool dry_run = json_object_object_get_ex(args, "dry_run", NULL);
	bool prune = json_object_object_get_ex(args, "prune", NULL);
	struct json_object *want = NULL, *resp = NULL, *have = NULL;
	struct ctl_plan plan = { 0 };
	int err;

	if (!path) {
		ctl_err_set(e, EINVAL, "apply: missing FILE");
		return -EINVAL;
	}
	err = read_want(path, &want, e);
	if (!err)
		err = read_have(ctx, &resp, &have, e);
	if (!err) {
		err = ctl_plan_make(want, have, prune, &plan, e);
		if (err)
			name_line(e, strcmp(path, "-") ? path : "stdin");
	}
	if (!err)
		err = apply_plan(ctx, &plan, dry_run, e);
	ctl_plan_free(&plan);
	json_object_put(resp);
	json_object_put(want);
	return err;
}

static const struct ctl_cmd apply_cmds[] = {
	{ .name = "run",
	  .params = apply_params,
	  .help = "make vmqd's state what FILE says, changing only what differs",
	  .run = apply_run },
	{ 0 },
};

const struct ctl_object ctl_object_apply = { .name = "apply",
					     .cmds = apply_cmds,
					     .help = "make the running state that of a file",
					     .implicit_cmd = "run" };
