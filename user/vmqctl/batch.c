// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vmqctl -b FILE: one command per line, all over one connection, one at a
 * time. Waiting for each answer costs a round trip per line (tens of
 * microseconds on a Unix socket) and buys the guarantee that matters: the
 * batch stops at its first error and nothing after that line is applied.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmqctl.h"

#define BATCH_WORDS_MAX 64
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

static int run_words(struct ctl_ctx *ctx, int argc, char **argv, bool *first, struct ctl_err *e)
{
	struct json_object *resp = NULL, *result;
	struct ctl_call call;
	int err;

	err = ctl_resolve(argc, argv, &call, e);
	if (err)
		return err;
	if (call.kind == CTL_CALL_HELP) {
		err = ctl_err_set(e, EINVAL, "help is not a batch command");
		goto out;
	}
	err = ctl_execute(ctx, &call, &resp, &result, e);
	if (err)
		goto out;
	if (ctx->json) {
		print_json_element(ctx, result, first);
	} else {
		err = ctl_print_result(ctx, call.cmd, result);
		if (err)
			ctl_err_set(e, -err, "cannot print the result: %s", strerror(-err));
	}
out:
	json_object_put(resp);
	ctl_call_release(&call);
	return err;
}

/* Blank lines and lines whose first word starts with '#' are skipped. */
static int run_line(struct ctl_ctx *ctx, char *line, size_t len, bool *first, struct ctl_err *e)
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
	return run_words(ctx, n, words, first, e);
}

static int run_file(struct ctl_ctx *ctx, FILE *in, const char *path, bool *first, struct ctl_err *e)
{
	size_t cap = 0;
	char *line = NULL;
	ssize_t len;
	int lineno = 0, err = 0;

	while ((len = getline(&line, &cap, in)) >= 0) {
		lineno++;
		err = run_line(ctx, line, (size_t)len, first, e);
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
	bool use_stdin = !strcmp(path, "-"), first = true;
	struct ctl_err e = { 0 };
	FILE *in = NULL;
	int err;

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
	err = run_file(ctx, in, use_stdin ? "stdin" : path, &first, &e);
out:
	if (in && !use_stdin)
		fclose(in);
	if (ctx->json) {
		if (err) {
			struct json_object *obj = ctl_err_json(&e);

			print_json_element(ctx, obj, &first);
			json_object_put(obj);
		}
		fputs("]\n", ctx->out);
	} else if (err) {
		ctl_report(ctx, &e);
	}
	return err ? 1 : 0;
}
