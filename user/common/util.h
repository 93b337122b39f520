/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Small helpers both programs use: one definition each. */
#ifndef VMQ_UTIL_H
#define VMQ_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* obj's member key when it has that JSON type, else NULL (also for a NULL
 * obj): every lookup that cares about the type goes through here. */
struct json_object *vmq_json_member(struct json_object *obj, const char *key, enum json_type type);

/* All of buf to fd, across short writes and EINTR: 0 or -errno. sock:
 * send(MSG_NOSIGNAL), a peer that hung up being an error to report, not
 * SIGPIPE. */
int vmq_write_all(int fd, const void *buf, size_t len, bool sock);

#endif /* VMQ_UTIL_H */
