/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The control socket: accept, frame, check credentials, never block. */
#ifndef VMQD_SERVER_H
#define VMQD_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

#include "vmqd.h"

#define VMQD_CLIENTS_MAX 64

struct vmqd_client;

struct vmqd_server {
	char path[108];
	int listen_fd;
	int signal_fd;
	bool grant_group;
	gid_t grant_gid;
	struct vmqd_client *clients[VMQD_CLIENTS_MAX];
	size_t nclients;
	/* One more descriptor the loop watches (link events), and its reader. */
	int watch_fd;
	void (*on_watch)(int fd, struct vmqd *d);
};

int vmqd_server_open(struct vmqd_server *s, const char *path, const char *group);
int vmqd_server_run(struct vmqd_server *s, struct vmqd *d);
void vmqd_server_close(struct vmqd_server *s);

#endif /* VMQD_SERVER_H */
