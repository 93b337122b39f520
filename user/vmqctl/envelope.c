// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The request and response envelopes of docs/protocol.md, version 1. */
#include <errno.h>

#include "util.h"
#include "vmqctl.h"

struct json_object *ctl_request_new(const char *object, const char *command,
				    struct json_object *args)
{
	struct json_object *req = json_object_new_object();

	if (!req ||
	    json_object_object_add(req, "version", json_object_new_int(VMQ_PROTO_VERSION)) ||
	    json_object_object_add(req, "object", json_object_new_string(object)) ||
	    json_object_object_add(req, "command", json_object_new_string(command)) ||
	    json_object_object_add(req, "args", args)) {
		json_object_put(req);
		json_object_put(args);
		return NULL;
	}
	return req;
}

#define member vmq_json_member

/* The daemon's own words: its errno and its one-line message. */
static int daemon_error(struct json_object *resp, struct ctl_err *e)
{
	struct json_object *error = member(resp, "error", json_type_object);
	struct json_object *errnum, *message;
	int64_t n;

	errnum = error ? member(error, "errno", json_type_int) : NULL;
	message = error ? member(error, "message", json_type_string) : NULL;
	if (!errnum || !message)
		return ctl_err_set(e, EPROTO,
				   "malformed answer from vmqd: a failure without "
				   "\"error\": {\"errno\", \"message\"}");
	n = json_object_get_int64(errnum);
	return ctl_err_set(e, n > 0 && n < 4096 ? (int)n : EPROTO, "%s",
			   json_object_get_string(message));
}

int ctl_response_unwrap(struct json_object *resp, struct json_object **result, struct ctl_err *e)
{
	struct json_object *version = member(resp, "version", json_type_int);
	struct json_object *ok = member(resp, "ok", json_type_boolean);

	if (!version || !ok)
		return ctl_err_set(e, EPROTO,
				   "malformed answer from vmqd: no \"version\" or no \"ok\"");
	if (json_object_get_int64(version) != VMQ_PROTO_VERSION)
		return ctl_err_set(e, EPROTO, "vmqd speaks protocol version %lld, vmqctl speaks %d",
				   (long long)json_object_get_int64(version), VMQ_PROTO_VERSION);
	if (!json_object_get_boolean(ok))
		return daemon_error(resp, e);
	*result = member(resp, "result", json_type_object);
	if (!*result)
		return ctl_err_set(e, EPROTO, "malformed answer from vmqd: no \"result\" object");
	return 0;
}
