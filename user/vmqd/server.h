/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The control socket: accept, frame, check credentials, never block. */
#ifndef VMQD_SERVER_H
#define VMQD_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

#include "vmqd.h"

#define VMQD_CLIENTS_MAX 64
/* Connections one non-root uid may hold, and those all non-root uids leave
 * free for root: a local user (or a group of them) cannot lock root out. */
#define VMQD_CLIENTS_PER_UID	   16
#define VMQD_CLIENTS_ROOT_RESERVED 16

struct vmqd_client;

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
};

/* group: full control; read_group: read-only; either may be NULL. */
int vmqd_server_open(struct vmqd_server *s, const char *path, const char *group,
		     const char *read_group);
int vmqd_server_run(struct vmqd_server *s, struct vmqd *d);
void vmqd_server_close(struct vmqd_server *s);

#endif /* VMQD_SERVER_H */
