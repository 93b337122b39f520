// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The one place that decides between text and JSON. */
#include <errno.h>

#include "vmqctl.h"

/* One line, no spaces; valid until obj changes or is freed. */
const char *ctl_json_text(struct json_object *obj)
{
	const char *text = json_object_to_json_string_ext(
		obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	return text ? text : "null";
}

void ctl_print_json(FILE *out, struct json_object *obj)
{
	fprintf(out, "%s\n", ctl_json_text(obj));
}

/* {"errno": N, "message": "..."} plus "line" inside a batch. */
struct json_object *ctl_err_json(const struct ctl_err *e)
{
	struct json_object *error = json_object_new_object();
	struct json_object *wrap = json_object_new_object();

	if (!error || !wrap) {
		json_object_put(error);
		json_object_put(wrap);
		return NULL;
	}
	json_object_object_add(error, "errno", json_object_new_int(e->errnum));
	json_object_object_add(error, "message", json_object_new_string(e->msg));
	if (e->line)
		json_object_object_add(error, "line", json_object_new_int(e->line));
	json_object_object_add(wrap, "error", error);
	return wrap;
}

void ctl_report(const struct ctl_ctx *ctx, const struct ctl_err *e)
{
	struct json_object *obj;

	if (!ctx->json) {
		if (e->line)
			fprintf(ctx->err, "vmqctl: batch line %d: %s\n", e->line, e->msg);
		else
			fprintf(ctx->err, "vmqctl: %s\n", e->msg);
		return;
	}
	obj = ctl_err_json(e);
	ctl_print_json(ctx->out, obj);
	json_object_put(obj);
}

int ctl_print_result(const struct ctl_ctx *ctx, const struct ctl_cmd *cmd, struct json_object *req,
		     struct json_object *result)
{
	struct json_object *args = NULL;

	if (ctx->json) {
		ctl_print_json(ctx->out, result);
		return 0;
	}
	json_object_object_get_ex(req, "args", &args);
	return cmd->print ? cmd->print(ctx->out, args, result) : 0;
}
