// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* One run of vmqctl: options, then one command, a batch, or a watch. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "show.h"
#include "vmqctl.h"

static bool is_daemon_sync(struct json_object *req)
{
	const char *object = ctl_jstr(req, "object"), *command = ctl_jstr(req, "command");

	return object && command && !strcmp(object, "daemon") && !strcmp(command, "sync");
}

int ctl_execute(struct ctl_ctx *ctx, const struct ctl_call *call, struct json_object **resp,
		struct json_object **result, struct ctl_err *e)
{
	int err;

	*resp = NULL;
	*result = NULL;
	if (ctx->conn.fd < 0) {
		err = ctl_conn_open(&ctx->conn, ctx->socket_path, e);
		if (err)
			return err;
	}
	/* Applied now, written to the state file at the closing "daemon sync"
	 * (which itself is never "sync": false). */
	if (ctx->nosync && !is_daemon_sync(call->req) &&
	    json_object_object_add(call->req, "sync", json_object_new_boolean(false)))
		return ctl_err_set(e, ENOMEM, "out of memory");
	err = ctl_conn_call(&ctx->conn, call->req, resp, e);
	if (err)
		return err;
	return ctl_response_unwrap(*resp, result, e);
}

int ctl_sync(struct ctl_ctx *ctx, struct ctl_err *e)
{
	struct ctl_call call = { .kind = CTL_CALL_REQUEST };
	struct json_object *resp = NULL, *result;
	bool nosync = ctx->nosync;
	int err;

	call.req = ctl_request_new("daemon", "sync", json_object_new_object());
	if (!call.req)
		return ctl_err_set(e, ENOMEM, "out of memory");
	ctx->nosync = false;
	err = ctl_execute(ctx, &call, &resp, &result, e);
	ctx->nosync = nosync;
	/* A vmqd from before "daemon sync" has no state file to write, and
	 * ignored "sync": false: what it applied is as durable as it gets. */
	if (err == -EINVAL && strstr(e->msg, "unknown command"))
		err = 0;
	if (err)
		ctl_err_prefix(e, "daemon sync: ");
	json_object_put(resp);
	ctl_call_release(&call);
	return err;
}

const char *ctl_socket_path(const char *option)
{
	const char *env = getenv("VMQ_SOCKET");

	if (option)
		return option;
	return env && *env ? env : VMQ_SOCKET_DEFAULT;
}

static void print_help(FILE *out, const struct ctl_call *call)
{
	if (call->cmd)
		ctl_help_cmd(out, call->obj, call->cmd);
	else if (call->obj)
		ctl_help_object(out, call->obj);
	else
		ctl_help_all(out);
}

/* --watch repeats "stats show" and nothing else. */
static int check_watch(const struct ctl_call *call, const struct ctl_opts *opts, struct ctl_err *e)
{
	if (!opts->watch_ms || call->obj == &ctl_object_stats)
		return 0;
	return ctl_err_set(e, EINVAL,
			   "--watch works only with stats, not %s (vmqctl -w SECONDS stats [DEV])",
			   call->obj->name);
}

/* The exit status: 0, 1 on any error, or what the command's result says. */
static int run_one(struct ctl_ctx *ctx, const struct ctl_opts *opts, int argc, char **argv)
{
	struct json_object *resp = NULL, *result;
	struct ctl_call call;
	struct ctl_err e = { 0 };
	int err, status = 0;

	err = ctl_resolve(argc, argv, &call, &e);
	if (err)
		goto out;
	if (call.kind == CTL_CALL_HELP) {
		print_help(ctx->out, &call);
		goto out;
	}
	err = check_watch(&call, opts, &e);
	if (err)
		goto out;
	if (call.cmd->run) {
		struct json_object *args = NULL;

		json_object_object_get_ex(call.req, "args", &args);
		err = call.cmd->run(ctx, args, &e);
		goto out;
	}
	if (opts->watch_ms) {
		status = ctl_watch(ctx, &call, opts);
		goto out;
	}
	err = ctl_execute(ctx, &call, &resp, &result, &e);
	if (err)
		goto out;
	if (call.cmd->status) {
		status = call.cmd->status(result, &e);
		if (status < 0) {
			err = status;
			goto out;
		}
	}
	err = ctl_print_result(ctx, call.cmd, call.req, result);
	if (err)
		ctl_err_set(&e, -err, "cannot print the result: %s", strerror(-err));
out:
	if (err)
		ctl_report(ctx, &e);
	json_object_put(resp);
	ctl_call_release(&call);
	return err ? 1 : status;
}

int ctl_main(int argc, char **argv, FILE *out, FILE *err)
{
	struct ctl_ctx ctx = { .out = out, .err = err };
	struct ctl_opts opts;
	char q[CTL_QUOTE_SIZE];
	struct ctl_err e = { 0 };
	int first, status;

	ctl_conn_init(&ctx.conn);
	first = ctl_parse_options(&ctx, argc, argv, &opts, &e);
	ctx.socket_path = ctl_socket_path(ctx.socket_path);
	if (first < 0) {
		status = 1;
		ctl_report(&ctx, &e);
	} else if (opts.version) {
		fprintf(out, "vmqctl %s (protocol version %d)\n", VMQ_VERSION, VMQ_PROTO_VERSION);
		status = 0;
	} else if (opts.help) {
		ctl_help_all(out);
		status = 0;
	} else if (opts.batch && first < argc) {
		ctl_err_set(&e, EINVAL, "-b FILE takes no OBJECT (\"%s\")",
			    ctl_quote(argv[first], q, sizeof(q)));
		ctl_report(&ctx, &e);
		status = 1;
	} else if (opts.batch && opts.watch_ms) {
		ctl_err_set(&e, EINVAL, "--watch does not go with -b FILE");
		ctl_report(&ctx, &e);
		status = 1;
	} else if (opts.count && !opts.watch_ms) {
		ctl_err_set(&e, EINVAL, "--count needs --watch SECONDS");
		ctl_report(&ctx, &e);
		status = 1;
	} else if (opts.batch) {
		status = ctl_batch(&ctx, opts.batch);
	} else {
		status = run_one(&ctx, &opts, argc - first, argv + first);
	}
	ctl_conn_close(&ctx.conn);
	/* A result that never reached its reader is a failure ("vmqctl ... > /dev/full"). */
	if (fflush(out) && status != 1) {
		fprintf(err, "vmqctl: write error: %s\n", strerror(errno));
		status = 1;
	}
	return status;
}
