// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vmqctl -b FILE: one command per line, all over one connection, one at a
 * time. Waiting for each answer costs a round trip per line (tens of
 * microseconds on a Unix socket) and buys the guarantee that matters: the
 * batch stops at its first error and nothing after that line is applied.
 * Every request says "sync": false, and one "daemon sync" at the end has
 * vmqd write its state file once rather than once a line.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmqctl.h"

#define BATCH_WORDS_MAX CTL_LINE_WORDS_MAX
#define BLANKS		" \t\r\n\v\f"

int ctl_split_words(char *line, char **words, int max)
{
	char *save = NULL, *w;
	int n = 0;

	for (w = strtok_r(line, BLANKS, &save); w; w = strtok_r(NULL, BLANKS, &save)) {
		if (n == max)
			return -E2BIG;
		words[n++] = w;
	}
	return n;
}

/* Under -j the batch prints one JSON array: each command's result in order,
 * then, if one failed, its error (with "line"). */
static void print_json_element(struct ctl_ctx *ctx, struct json_object *obj, bool *first)
{
	fprintf(ctx->out, "%s%s", *first ? "" : ",", ctl_json_text(obj));
	*first = false;
}

struct batch_run {
	struct ctl_ctx *ctx;
	bool first;	/* -j: no element printed yet */
	size_t applied; /* requests vmqd accepted */
};

static int run_words(void *arg, int line, int argc, char **argv, struct ctl_err *e)
{
	struct json_object *resp = NULL, *result;
	struct batch_run *b = arg;
	struct ctl_ctx *ctx = b->ctx;
	struct ctl_call call;
	int err;

	(void)line;
	err = ctl_resolve(argc, argv, &call, e);
	if (err)
		return err;
	if (call.kind == CTL_CALL_HELP) {
		err = ctl_err_set(e, EINVAL, "help is not a batch command");
		goto out;
	}
	if (call.cmd->run) {
		err = ctl_err_set(e, EINVAL, "%s is not a batch command", call.obj->name);
		goto out;
	}
	err = ctl_execute(ctx, &call, &resp, &result, e);
	if (err)
		goto out;
	b->applied++;
	if (ctx->json) {
		print_json_element(ctx, result, &b->first);
	} else {
		err = ctl_print_result(ctx, call.cmd, call.req, result);
		if (err)
			ctl_err_set(e, -err, "cannot print the result: %s", strerror(-err));
	}
out:
	json_object_put(resp);
	ctl_call_release(&call);
	return err;
}

/* Blank lines and lines whose first word starts with '#' are skipped. */
static int read_line(char *line, size_t len, int lineno, ctl_line_fn fn, void *arg,
		     struct ctl_err *e)
{
	char *words[BATCH_WORDS_MAX];
	int n;

	if (strlen(line) != len)
		return ctl_err_set(e, EINVAL, "contains a NUL byte");
	n = ctl_split_words(line, words, BATCH_WORDS_MAX);
	if (n < 0)
		return ctl_err_set(e, E2BIG, "more than %d words", BATCH_WORDS_MAX);
	if (!n || words[0][0] == '#')
		return 0;
	return fn(arg, lineno, n, words, e);
}

int ctl_batch_read(FILE *in, const char *path, ctl_line_fn fn, void *arg, struct ctl_err *e)
{
	size_t cap = 0;
	char *line = NULL;
	ssize_t len;
	int lineno = 0, err = 0;

	while ((len = getline(&line, &cap, in)) >= 0) {
		lineno++;
		err = read_line(line, (size_t)len, lineno, fn, arg, e);
		if (err) {
			e->line = lineno;
			break;
		}
	}
	if (!err && ferror(in))
		err = ctl_err_set(e, EIO, "cannot read %s: %s", path, strerror(errno));
	free(line);
	return err;
}

int ctl_batch(struct ctl_ctx *ctx, const char *path)
{
	struct batch_run b = { .ctx = ctx, .first = true };
	bool use_stdin = !strcmp(path, "-");
	struct ctl_err e = { 0 }, sync_e = { 0 };
	FILE *in = NULL;
	int err, sync_err = 0;

	if (ctx->json)
		fputc('[', ctx->out);
	in = use_stdin ? stdin : fopen(path, "re");
	if (!in) {
		err = ctl_err_set(&e, errno, "cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	/* Connect before the first line, so that a daemon that is not there is
	 * reported as such, not as a failure of line 1. */
	err = ctl_conn_open(&ctx->conn, ctx->socket_path, &e);
	if (err)
		goto out;
	ctx->nosync = true;
	err = ctl_batch_read(in, use_stdin ? "stdin" : path, run_words, &b, &e);
	/* Also after an error: what was applied before it is kept, so written. */
	if (b.applied)
		sync_err = ctl_sync(ctx, &sync_e);
	if (sync_err && !err) {
		err = sync_err;
		e = sync_e;
	}
out:
	if (in && !use_stdin)
		fclose(in);
	if (ctx->json) {
		if (err) {
			struct json_object *obj = ctl_err_json(&e);

			print_json_element(ctx, obj, &b.first);
			json_object_put(obj);
		}
		fputs("]\n", ctx->out);
	} else if (err) {
		ctl_report(ctx, &e);
	}
	return err ? 1 : 0;
}
