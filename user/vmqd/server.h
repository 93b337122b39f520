/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The control socket: accept, frame, check credentials, never block. */
#ifndef VMQD_SERVER_H
#define VMQD_SERVER_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "linebuf.h"
#include "vmqd.h"

#define VMQD_CLIENTS_MAX 64
/* Connections one non-root uid may hold, and those all non-root uids leave
 * free for root: a local user (or a group of them) cannot lock root out. */
#define VMQD_CLIENTS_PER_UID	   16
#define VMQD_CLIENTS_ROOT_RESERVED 16
/* Requests one client has answered in a row; then the others get a turn. */
#define VMQD_LINES_PER_TURN 16

/* One connection: the bytes of requests not yet answered, and answers not
 * yet sent. */
struct vmqd_client {
	int fd;
	struct vmq_linebuf in; /* lines up to VMQ_REQUEST_MAX bytes */
	char *out;
	size_t out_len, out_off;
	time_t last;
	/* When the first byte of the unfinished request arrived: later bytes
	 * do not reset it, or one byte every few seconds holds a slot forever. */
	time_t started;
	uid_t uid;
	bool read_only; /* --read-group: changes are refused */
	bool eof;	/* the peer sent everything it will send */
	bool closing;	/* flush what is queued, then close */
	bool pending;	/* complete lines wait for the next turn */
};

struct vmqd_server {
	char path[108];
	int listen_fd;
	int signal_fd;
	bool grant_group;
	gid_t grant_gid;
	bool read_group; /* --read-group: show, stats, doctor, save only */
	gid_t read_gid;
	struct vmqd_client *clients[VMQD_CLIENTS_MAX];
	size_t nclients;
	/* One more descriptor the loop watches (link events), and its reader. */
	int watch_fd;
	void (*on_watch)(int fd, struct vmqd *d);
	/* A periodic timer (the balancer): the period it needs now (0: off),
	 * looked at every turn of the loop, and what runs when it fires. */
	int timer_fd;
	unsigned int timer_ms; /* as armed */
	unsigned int (*timer_period_ms)(const struct vmqd *d);
	void (*on_timer)(struct vmqd *d);
};

/* group: full control; read_group: read-only; either may be NULL. */
int vmqd_server_open(struct vmqd_server *s, const char *path, const char *group,
		     const char *read_group);
int vmqd_server_run(struct vmqd_server *s, struct vmqd *d);
void vmqd_server_close(struct vmqd_server *s);

/* A client on fd (-1: none, for tests and the fuzzer), and the buffers it
 * holds given back (the descriptor is the caller's). */
void vmqd_client_init(struct vmqd_client *c, int fd);
void vmqd_client_release(struct vmqd_client *c);
/* The framing without a socket (the fuzzer feeds it). Bytes as received:
 * how many fit before the next vmqd_client_process, or -ENOMEM. */
ssize_t vmqd_client_input(struct vmqd_client *c, const void *buf, size_t len);
/* Answers the complete lines held, as far as output room allows (sets
 * pending or closing), 0 or -ENOMEM. */
int vmqd_client_process(struct vmqd_client *c, struct vmqd *d);

#endif /* VMQD_SERVER_H */
