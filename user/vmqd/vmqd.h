/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* vmqd's model: the uplinks it manages, and the request handlers. */
#ifndef VMQD_H
#define VMQD_H

#include <json-c/json.h>
#include <pthread.h>

#include "libvmq.h"

/* One managed uplink. The maps are the state: nothing here duplicates an
 * entry, so a restarted daemon knows exactly what the old one knew. */
struct vmqd_dev {
	struct vmq_dev dp;
	unsigned int ntxqs; /* TX queues at the last look, to notice a change */
	bool missing;	    /* the device went away; its state waits for it */
};

struct vmqd {
	/* Held while a request is handled: the /metrics thread reads the same
	 * device list. */
	pthread_mutex_t lock;
	char bpffs_dir[PATH_MAX];
	struct vmqd_dev **devs;
	size_t ndevs;
	struct vmq_ports ports; /* map_fd < 0 until a port is bound or adopted */
};

/* What a handler answers: a result object, or an errno and one line. */
struct vmqd_reply {
	struct json_object *result;
	int err; /* positive errno, 0 on success */
	char message[256];
};

typedef int (*vmqd_handler)(struct vmqd *d, struct json_object *args, struct vmqd_reply *r);

struct vmqd_command {
	const char *name;
	vmqd_handler handler;
	const char *const *keys; /* the argument names it accepts; NULL-terminated */
};

struct vmqd_object {
	const char *name;
	const struct vmqd_command *commands; /* terminated by a NULL name */
};

extern const struct vmqd_command vmqd_dev_commands[];
extern const struct vmqd_command vmqd_queue_commands[];
extern const struct vmqd_command vmqd_group_commands[];
extern const struct vmqd_command vmqd_stats_commands[];
extern const struct vmqd_command vmqd_daemon_commands[];
extern const struct vmqd_command vmqd_port_commands[];
extern const struct vmqd_command vmqd_doctor_commands[];

/* reconcile.c */
int vmqd_reconcile(struct vmqd_dev *dev, unsigned int *changed);
unsigned int vmqd_degraded_count(struct vmqd_dev *dev);

/* linkwatch.c */
int vmqd_linkwatch_open(void);
void vmqd_linkwatch_read(int fd, struct vmqd *d);
int vmqd_dev_came_back(struct vmqd *d, struct vmqd_dev *dev, int old_ifindex);

/* cmd_stats.c */
int vmqd_stats_collect(struct vmqd *d, const struct vmqd_dev *only, struct json_object **out,
		       const char **failed);

/* cmd_port.c */
int vmqd_unbind_uplink_ports(struct vmqd *d, const struct vmqd_dev *uplink);
int vmqd_prune_ports(struct vmqd *d);
int vmqd_ports_rebase(struct vmqd *d, __u32 old_ifindex, __u32 new_ifindex);

/* dispatch.c: one request line in, one response line out (caller frees);
 * *malformed says the line was not a JSON object at all. */
char *vmqd_handle_line(struct vmqd *d, const char *line, size_t len, bool *malformed);
struct json_object *vmqd_handle_request(struct vmqd *d, struct json_object *req);

/* devices.c */
int vmqd_init(struct vmqd *d, const char *bpffs_dir);
void vmqd_fini(struct vmqd *d);
int vmqd_adopt_all(struct vmqd *d);
struct vmqd_dev *vmqd_find_dev(struct vmqd *d, const char *ifname);
int vmqd_add_dev(struct vmqd *d, struct vmqd_dev *dev);
void vmqd_remove_dev(struct vmqd *d, struct vmqd_dev *dev);

/* request.c: argument access with messages that name the object. Each
 * returns 0, or -errno after filling r. */
int reply_error(struct vmqd_reply *r, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int req_check_keys(struct json_object *args, const char *const *keys, const char *what,
		   struct vmqd_reply *r);
bool req_has(struct json_object *args, const char *key);
int req_u32(struct json_object *args, const char *key, __u32 max, const char *what,
	    struct vmqd_reply *r, __u32 *out);
int req_name(struct json_object *args, const char *key, size_t max_len, const char *what,
	     struct vmqd_reply *r, const char **out);
int req_dev(struct vmqd *d, struct json_object *args, const char *what, struct vmqd_reply *r,
	    struct vmqd_dev **dev);
int dev_txqs(struct vmqd_dev *dev, struct vmqd_reply *r, const char *what, unsigned int *ntxqs);

/* json helpers */
struct json_object *json_entry_target(const struct vmq_queue_entry *e, struct json_object *o);
struct json_object *json_degraded(const struct vmq_queue_meta *meta, struct json_object *o);

#endif /* VMQD_H */
