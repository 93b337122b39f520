/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Prometheus exposition: `vmqd --metrics [ADDR:]PORT` serves GET /metrics
 * in the text format 0.0.4 through libmicrohttpd, on a thread of its own.
 * The figures are the `stats show` result (vmqd_stats_collect), taken under
 * d->lock and rendered by vmqd_metrics_render.
 */
#ifndef VMQD_METRICS_H
#define VMQD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "vmqd.h"

#define VMQD_METRICS_PATH	  "/metrics"
#define VMQD_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define VMQD_METRICS_ADDR_DEFAULT "127.0.0.1"

#define VMQD_METRICS_TOKEN_MAX 256

/* Where to listen, and who may read: the figures name every VM, so a TCP
 * port (any local user can connect) may ask for a token, and a Unix
 * socket is 0600 (0660 for one group). */
struct vmqd_metrics_addr {
	struct vmq_listen_addr listen; /* vmq_parse_listen_addr, VMQD_METRICS_ADDR_DEFAULT */
	const char *token;	       /* "Authorization: Bearer TOKEN" required; NULL: not */
	bool group;		       /* a Unix socket: chown to gid, mode 0660 */
	gid_t gid;
};

struct vmqd_metrics;

/* Binds, listens and starts the HTTP thread. Call with SIGTERM and SIGINT
 * blocked (after vmqd_server_open): the thread inherits the mask, so the
 * signals still reach the server's signalfd. Logs its failures; returns 0
 * or -errno. */
int vmqd_metrics_start(struct vmqd_metrics **out, struct vmqd *d,
		       const struct vmqd_metrics_addr *addr);

/* The port actually bound (the one asked for, unless that was 0). */
unsigned int vmqd_metrics_port(const struct vmqd_metrics *m);

/* Stops the thread (an answer in progress finishes first), closes every
 * socket. NULL is a no-op. */
void vmqd_metrics_stop(struct vmqd_metrics *m);

/* The token: FILE's first line (at most VMQD_METRICS_TOKEN_MAX bytes, no
 * blanks). 0, or -errno with the reason in why. */
int vmqd_metrics_read_token(const char *path, char *token, size_t size, char *why, size_t why_len);

/* metrics_render.c: the exposition text of a `stats show` result
 * ({"devs": [...]}). Fields that are absent or not numbers are left out,
 * not guessed. Returns 0 with *text (NUL-terminated, caller frees) and
 * *len, or -ENOMEM. */
int vmqd_metrics_render(struct json_object *stats, char **text, size_t *len);

#endif /* VMQD_METRICS_H */
