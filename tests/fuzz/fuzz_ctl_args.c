// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vmqctl's command line: the input split on NUL bytes is argv after
 * "vmqctl". Options, then object, command and arguments as ctl_resolve
 * reads them; nothing is sent. A request it builds must print as a batch
 * line (ctl_request_format) that reads back to the same request.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmqctl/vmqctl.h"

#define ARGS_MAX 64

/* ctl_request_format's line, read back through the batch grammar. */
static void check_round_trip(struct json_object *req)
{
	struct ctl_err e = { 0 };
	struct ctl_call again;
	char *line = NULL, *words[CTL_LINE_WORDS_MAX];
	int n;

	if (ctl_request_format(req, &line, &e)) {
		fprintf(stderr, "cannot format %s: %s\n", json_object_to_json_string(req), e.msg);
		abort();
	}
	n = ctl_split_words(line, words, CTL_LINE_WORDS_MAX);
	if (n <= 0 || ctl_resolve(n, words, &again, &e) || again.kind != CTL_CALL_REQUEST) {
		fprintf(stderr, "formatted line does not parse: %s\n", e.msg);
		abort();
	}
	if (!json_object_equal(req, again.req)) {
		fprintf(stderr, "round trip changed the request: %s -> %s\n",
			json_object_to_json_string(req), json_object_to_json_string(again.req));
		abort();
	}
	ctl_call_release(&again);
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *argv[ARGS_MAX + 2];
	struct ctl_ctx ctx = { .conn = { .fd = -1 } };
	struct ctl_opts opts = { 0 };
	struct ctl_err e = { 0 };
	struct ctl_call call;
	int argc = 0, first;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	argv[argc++] = "vmqctl";
	for (size_t off = 0; off <= size && argc <= ARGS_MAX; off += strlen(copy + off) + 1)
		argv[argc++] = copy + off;
	argv[argc] = NULL;
	first = ctl_parse_options(&ctx, argc, argv, &opts, &e);
	if (first > 0 && first < argc && !opts.help && !opts.version) {
		memset(&e, 0, sizeof(e));
		if (!ctl_resolve(argc - first, argv + first, &call, &e)) {
			/* save and apply run in vmqctl, never as requests. */
			if (call.kind == CTL_CALL_REQUEST && !call.cmd->run)
				check_round_trip(call.req);
			ctl_call_release(&call);
		} else if (!e.errnum || !e.msg[0]) {
			abort(); /* an error always says what it is */
		}
	}
	free(copy);
	return 0;
}
