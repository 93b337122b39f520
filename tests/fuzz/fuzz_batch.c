// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vmqctl's files: the input is a batch file (vmqctl -b FILE: every line
 * through ctl_batch_read and ctl_resolve, nothing sent) and a state file
 * for vmqctl apply (ctl_apply_read, then ctl_plan_make against a fixed
 * running state, with and without --prune, and each step formatted as the
 * plan prints it). A file planned against itself needs no step.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmqctl/vmqctl.h"

/* What "daemon save" answers on a host with a bit of everything. */
static const char have_text[] =
	"["
	"{\"object\":\"dev\",\"command\":\"attach\",\"args\":{\"dev\":\"up0\",\"default_txq\":7}},"
	"{\"object\":\"dev\",\"command\":\"set\",\"args\":{\"dev\":\"up0\",\"ports\":\"vnet*\"}},"
	"{\"object\":\"group\",\"command\":\"add\",\"args\":{\"dev\":\"up0\",\"id\":1,\"txqs\":[4,"
	"5]}},"
	"{\"object\":\"queue\",\"command\":\"add\",\"args\":{\"dev\":\"up0\",\"id\":7,\"txq\":3,"
	"\"vm\":\"web1\"}},"
	"{\"object\":\"queue\",\"command\":\"add\",\"args\":{\"dev\":\"up0\",\"id\":8,\"group\":1}}"
	","
	"{\"object\":\"port\",\"command\":\"bind\",\"args\":{\"port\":\"tap0\",\"dev\":\"up0\","
	"\"queue\":7}}"
	"]";

static int resolve_line(void *arg, int line, int argc, char **argv, struct ctl_err *e)
{
	struct ctl_call call;
	int err;

	(void)arg;
	(void)line;
	err = ctl_resolve(argc, argv, &call, e);
	if (!err)
		ctl_call_release(&call);
	return err;
}

static void batch(const uint8_t *data, size_t size)
{
	FILE *in = fmemopen((void *)data, size, "r");
	struct ctl_err e = { 0 };

	if (!in)
		return;
	if (ctl_batch_read(in, "fuzz", resolve_line, NULL, &e) && (!e.errnum || !e.line))
		abort(); /* a batch error names its line */
	fclose(in);
}

static void plan(struct json_object *want, struct json_object *have, bool prune)
{
	struct ctl_plan p = { 0 };
	struct ctl_err e = { 0 };

	if (!ctl_plan_make(want, have, prune, &p, &e)) {
		for (size_t i = 0; i < p.n; i++) {
			char *line = NULL;

			if (ctl_request_format(p.steps[i].req, &line, &e)) {
				fprintf(stderr, "plan step %zu does not print: %s\n", i, e.msg);
				abort();
			}
			free(line);
		}
	}
	ctl_plan_free(&p);
}

static void apply(const uint8_t *data, size_t size, struct json_object *have)
{
	FILE *in = fmemopen((void *)data, size, "r");
	struct json_object *want = NULL;
	struct ctl_err e = { 0 };

	if (!in)
		return;
	if (!ctl_apply_read(in, "fuzz", &want, &e)) {
		struct ctl_plan p = { 0 };

		plan(want, have, false);
		plan(want, have, true);
		/* The file against itself as the running state: nothing to do. */
		if (!ctl_plan_make(want, want, true, &p, &e) && p.n) {
			fprintf(stderr, "a file planned against itself has %zu steps\n", p.n);
			abort();
		}
		ctl_plan_free(&p);
	}
	json_object_put(want);
	fclose(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct json_object *have;

	if (!have)
		have = json_tokener_parse(have_text);
	if (!size)
		return 0;
	batch(data, size);
	apply(data, size, have);
	return 0;
}
