// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* One request in, one response out: version check, object and command
 * lookup, argument names, then the handler. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsontext.h"
#include "log.h"
#include "proto.h"
#include "util.h"
#include "vmqd.h"

static int daemon_ping(struct vmqd *d, struct json_object *args, struct vmqd_reply *r)
{
	(void)d;
	(void)args;
	r->result = vmqd_json_object();
	vmqd_json_add(r->result, "version", vmqd_json_int(VMQ_PROTO_VERSION));
	vmqd_json_add(r->result, "pid", vmqd_json_int(getpid()));
	return 0;
}

static const char *const no_keys[] = { NULL };

/* The running state as the requests that rebuild it: the state file's
 * contents, and what "vmqctl save" prints. */
static int daemon_save(struct vmqd *d, struct json_object *args, struct vmqd_reply *r)
{
	struct json_object *requests;
	int err;

	(void)args;
	err = vmqd_state_snapshot(d, &requests);
	if (err)
		return vmqd_reply_error(r, -err, "daemon save: %s", strerror(-err));
	r->result = vmqd_json_object();
	vmqd_json_add(r->result, "requests", requests);
	return 0;
}

static int daemon_sync(struct vmqd *d, struct json_object *args, struct vmqd_reply *r)
{
	int err;

	(void)args;
	if (!d->state_dir)
		return vmqd_reply_error(r, EOPNOTSUPP, "daemon sync: vmqd keeps no state file");
	err = vmqd_state_flush(d, true);
	if (err)
		return vmqd_reply_error(r, -err, "daemon sync: cannot write %s/%s: %s",
					d->state_dir, VMQD_STATE_FILE, strerror(-err));
	r->result = vmqd_json_object();
	return 0;
}

const struct vmqd_command vmqd_daemon_commands[] = {
	{ "ping", daemon_ping, no_keys, false },
	{ "save", daemon_save, no_keys, false },
	{ "sync", daemon_sync, no_keys, false },
	{ NULL, NULL, NULL, false },
};

const struct vmqd_object vmqd_objects[] = {
	{ "dev", vmqd_dev_commands },
	{ "queue", vmqd_queue_commands },
	{ "group", vmqd_group_commands },
	{ "port", vmqd_port_commands },
	{ "filter", vmqd_filter_commands },
	{ "stats", vmqd_stats_commands },
	{ "doctor", vmqd_doctor_commands },
	{ "daemon", vmqd_daemon_commands },
	{ NULL, NULL },
};

/* What a --read-group client may run: nothing here changes the data plane,
 * the pins or the state file, nor sends a packet ("doctor" skips its probe). */
static const char *const read_only_commands[] = {
	"dev show",   "queue show", "group show",  "port show",	  "filter show",
	"stats show", "doctor run", "daemon ping", "daemon save",
};

static bool read_only_allowed(const char *what)
{
	for (size_t i = 0; i < ARRAY_SIZE(read_only_commands); i++)
		if (!strcmp(read_only_commands[i], what))
			return true;
	return false;
}

/* NULL for a missing or non-string member: json-c takes a NULL object. */
static const char *req_string(struct json_object *req, const char *key)
{
	return json_object_get_string(vmq_json_member(req, key, json_type_string));
}

static int dispatch(struct vmqd *d, struct json_object *req, struct vmqd_reply *r,
		    const struct vmqd_command **cmd)
{
	const char *object = req_string(req, "object"), *command = req_string(req, "command");
	struct json_object *version = vmq_json_member(req, "version", json_type_int), *args = NULL;

	if (!version || json_object_get_int(version) != VMQ_PROTO_VERSION)
		return vmqd_reply_error(r, EPROTO, "request: protocol version must be %d",
					VMQ_PROTO_VERSION);
	if (!object || !command)
		return vmqd_reply_error(r, EINVAL, "request: object and command must be strings");
	if (json_object_object_get_ex(req, "args", &args) &&
	    !json_object_is_type(args, json_type_object))
		return vmqd_reply_error(r, EINVAL, "request: args must be an object");
	for (const struct vmqd_object *o = vmqd_objects; o->name; o++) {
		const struct vmqd_command *c;
		char what[64];
		int err;

		if (strcmp(o->name, object))
			continue;
		for (c = o->commands; c->name && strcmp(c->name, command); c++)
			;
		if (!c->name) {
			char q[VMQD_REQ_QUOTE_SIZE];

			return vmqd_reply_error(r, EINVAL, "%s: unknown command \"%s\"", object,
						vmqd_req_quote(command, q, sizeof(q)));
		}
		snprintf(what, sizeof(what), "%s %s", object, command);
		if (d->read_only && !read_only_allowed(what))
			return vmqd_reply_error(r, EPERM,
						"%s: permission denied: read-only access (vmqd "
						"--read-group); changes need root or vmqd --group",
						what);
		if (!args) {
			args = vmqd_json_object();
			vmqd_json_add(req, "args", args);
		}
		err = vmqd_req_check_keys(args, c->keys, what, r);
		*cmd = c;
		return err ? err : c->handler(d, args, r);
	}
	{
		char q[VMQD_REQ_QUOTE_SIZE];

		return vmqd_reply_error(r, EINVAL, "unknown object \"%s\"",
					vmqd_req_quote(object, q, sizeof(q)));
	}
}

/* Runs req; a change that succeeded marks the state file out of date. */
static int run(struct vmqd *d, struct json_object *req, struct vmqd_reply *r)
{
	const struct vmqd_command *cmd = NULL;
	int err = dispatch(d, req, r, &cmd);

	if (!err && cmd && cmd->mutates)
		d->state_dirty = true;
	return err;
}

int vmqd_run(struct vmqd *d, struct json_object *req, struct json_object **result, char *message,
	     size_t size)
{
	struct vmqd_reply r = {};
	int err;

	vmqd_json_add(req, "version", vmqd_json_int(VMQ_PROTO_VERSION));
	err = run(d, req, &r);
	if (err) {
		json_object_put(r.result);
		snprintf(message, size, "%s", r.message);
		return -r.err;
	}
	if (result)
		*result = r.result ? r.result : vmqd_json_object();
	else
		json_object_put(r.result);
	return 0;
}

/* "sync": false defers the state file to a later request or "daemon sync":
 * a batch pays for one write, not one per line. */
static bool wants_sync(struct json_object *req)
{
	struct json_object *v = vmq_json_member(req, "sync", json_type_boolean);

	return !v || json_object_get_boolean(v);
}

/* The response envelope (docs/protocol.md) around r, whose result it takes. */
static struct json_object *envelope(struct vmqd_reply *r)
{
	struct json_object *resp = vmqd_json_object();

	vmqd_json_add(resp, "version", vmqd_json_int(VMQ_PROTO_VERSION));
	vmqd_json_add(resp, "ok", vmqd_json_bool(!r->err));
	if (r->err) {
		struct json_object *e = vmqd_json_object();

		json_object_put(r->result);
		vmqd_json_add(e, "errno", vmqd_json_int(r->err));
		vmqd_json_add(e, "message", vmqd_json_string(r->message));
		vmqd_json_add(resp, "error", e);
	} else {
		vmqd_json_add(resp, "result", r->result ? r->result : vmqd_json_object());
	}
	r->result = NULL;
	return resp;
}

/* resp as one line, newline included; resp is consumed. NULL only when out
 * of memory. */
static char *response_line(struct json_object *resp)
{
	const char *text = json_object_to_json_string_ext(resp, JSON_C_TO_STRING_PLAIN);
	char *out = NULL;

	if (text && asprintf(&out, "%s\n", text) < 0)
		out = NULL;
	json_object_put(resp);
	return out;
}

char *vmqd_error_line(int err, const char *message)
{
	struct vmqd_reply r = {};

	vmqd_reply_error(&r, err, "%s", message);
	return response_line(envelope(&r));
}

static struct json_object *handle(struct vmqd *d, struct json_object *req, const char *bad_json)
{
	struct vmqd_reply r = {};

	if (!req)
		vmqd_reply_error(&r, EINVAL, "request: not valid JSON%s%s", bad_json ? ": " : "",
				 bad_json ? bad_json : "");
	else if (!json_object_is_type(req, json_type_object))
		vmqd_reply_error(&r, EINVAL, "request: not a JSON object");
	else if (!run(d, req, &r) && d->state_dirty && wants_sync(req))
		vmqd_state_flush(d, false);
	if (r.err)
		log_debug("request failed: %s", r.message);
	return envelope(&r);
}

struct json_object *vmqd_handle_request(struct vmqd *d, struct json_object *req)
{
	return handle(d, req, NULL);
}

/* Parses one line (without its newline); answers with a line that ends in
 * one. Returns NULL only when out of memory. A NULL request is one that did
 * not parse. */
char *vmqd_handle_line(struct vmqd *d, const char *line, size_t len, bool *malformed)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *req = NULL, *resp;
	char bad[96] = "";
	const char *why;
	size_t off;

	if (!tok)
		return NULL;
	/* Strict JSON only, and no NUL in any string: json-c would take
	 * single quotes or NaN, and cut a key (or "any\u0000x") at a NUL. */
	if (len > INT32_MAX || vmq_json_check(line, len, &off, &why)) {
		if (len <= INT32_MAX)
			snprintf(bad, sizeof(bad), "%s at byte %zu", why, off);
	} else {
		json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
		req = json_tokener_parse_ex(tok, line, (int)len);
		/* Trailing bytes after the object are as bad as a broken object. */
		if (req && (size_t)json_tokener_get_parse_end(tok) != len) {
			json_object_put(req);
			req = NULL;
		}
	}
	json_tokener_free(tok);
	*malformed = !req || !json_object_is_type(req, json_type_object);
	resp = handle(d, req, bad[0] ? bad : NULL);
	json_object_put(req);
	return response_line(resp);
}
