/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* vmqctl's side of the control socket: one request line out, one answer in. */
#ifndef VMQCTL_IPC_H
#define VMQCTL_IPC_H

#include <json-c/json.h>

#include "linebuf.h"

struct ctl_err;

/* -t: how long vmqctl waits for vmqd by default (connect, each answer). */
#define CTL_TIMEOUT_DEFAULT_MS 10000

struct ctl_conn {
	int fd; /* -1: not connected */
	struct vmq_linebuf in;
	unsigned int timeout_ms; /* per connect, send and answer */
	const char *path;	 /* for messages */
};

void ctl_conn_init(struct ctl_conn *c);
int ctl_conn_open(struct ctl_conn *c, const char *path, struct ctl_err *e);
void ctl_conn_close(struct ctl_conn *c);
/* Sends req as one line and waits for its answer: 0 and *resp (owned by the
 * caller, a JSON object), or -errno. Blocking; requests go one at a time so
 * that a batch can stop at its first error with nothing after it applied. */
int ctl_conn_call(struct ctl_conn *c, struct json_object *req, struct json_object **resp,
		  struct ctl_err *e);

#endif /* VMQCTL_IPC_H */
