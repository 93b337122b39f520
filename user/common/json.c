// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "util.h"

struct json_object *vmq_json_member(struct json_object *obj, const char *key, enum json_type type)
{
	struct json_object *val;

	if (!obj || !json_object_object_get_ex(obj, key, &val) || !json_object_is_type(val, type))
		return NULL;
	return val;
}
