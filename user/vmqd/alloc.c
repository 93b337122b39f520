// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vmqd's allocation policy (declared in vmqd.h): the JSON it builds, every
 * answer, state-file line and metrics document, is built only through these
 * helpers, which abort when json-c cannot allocate.
 *
 * Abort, not unwind, because nothing is lost by it: the data plane runs
 * without vmqd (programs and maps are pinned), the state file is replaced
 * by rename (a crash leaves the previous one whole), systemd restarts the
 * daemon (Restart=on-failure) and a new vmqd adopts the pins. Carrying on
 * would instead answer, or save, documents with members silently missing
 * or null. Allocations a client's input sizes (its buffers, a parse) are
 * not JSON building: they stay checked, and cost only that client.
 */
#include <stdlib.h>

#include "log.h"
#include "vmqd.h"

void *vmqd_must(void *p, const char *what)
{
	if (!p) {
		log_err("out of memory (%s): aborting; the data plane stays attached", what);
		abort();
	}
	return p;
}

struct json_object *vmqd_json_object(void)
{
	return vmqd_must(json_object_new_object(), "JSON object");
}

struct json_object *vmqd_json_array(void)
{
	return vmqd_must(json_object_new_array(), "JSON array");
}

struct json_object *vmqd_json_int(int64_t v)
{
	return vmqd_must(json_object_new_int64(v), "JSON number");
}

struct json_object *vmqd_json_uint(uint64_t v)
{
	return vmqd_must(json_object_new_uint64(v), "JSON number");
}

struct json_object *vmqd_json_bool(bool v)
{
	return vmqd_must(json_object_new_boolean(v), "JSON boolean");
}

struct json_object *vmqd_json_string(const char *s)
{
	return vmqd_must(json_object_new_string(s), "JSON string");
}

/* val may be NULL: a JSON null member. */
void vmqd_json_add(struct json_object *obj, const char *key, struct json_object *val)
{
	if (json_object_object_add(obj, key, val)) {
		json_object_put(val);
		vmqd_must(NULL, "JSON member");
	}
}

void vmqd_json_append(struct json_object *arr, struct json_object *val)
{
	if (json_object_array_add(arr, val)) {
		json_object_put(val);
		vmqd_must(NULL, "JSON array element");
	}
}
