/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Small helpers both programs use: one definition each. */
#ifndef VMQ_UTIL_H
#define VMQ_UTIL_H

#include <json-c/json.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* obj's member key when it has that JSON type, else NULL (also for a NULL
 * obj): every lookup that cares about the type goes through here. */
struct json_object *vmq_json_member(struct json_object *obj, const char *key, enum json_type type);

#endif /* VMQ_UTIL_H */
