/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* vmqd's model: the uplinks it manages, and the request handlers. */
#ifndef VMQD_H
#define VMQD_H

#include <json-c/json.h>
#include <pthread.h>

#include "libvmq.h"
#include "util.h"

#define VMQD_PORTS_POLICY_MAX 256
#define VMQD_STATE_FILE	      "vmqd.state"

/* One managed uplink. The maps are the state: nothing here duplicates an
 * entry, so a restarted daemon knows exactly what the old one knew. */
struct vmqd_dev {
	struct vmq_dev dp;
	unsigned int ntxqs; /* TX queues at the last look, to notice a change */
	bool missing;	    /* the device went away; its state waits for it */
	/* Port policy: shell patterns, comma-separated; "" when none. Not in
	 * any map: it lives here and in the state file. */
	char ports[VMQD_PORTS_POLICY_MAX];
	/* TX queue counters at the last placement, for "recent load". */
	struct vmq_counter *load_prev;
	double load_prev_time;
	struct vmqd_balance *bal; /* NULL: never balanced (balance.h) */
};

/* A request restored from the state file that waits for a device (an
 * uplink or a port) to appear. */
struct vmqd_pending {
	struct json_object *req; /* {"object", "command", "args"} */
};

struct vmqd {
	/* Held while a request is handled: the /metrics thread reads the same
	 * device list. */
	pthread_mutex_t lock;
	char bpffs_dir[PATH_MAX];
	/* --bpf-object: vmq_tx from this file (attach, upgrade, adoption's
	 * check); NULL: the program built in. */
	const char *bpf_object;
	struct vmqd_dev **devs;
	size_t ndevs;
	struct vmq_ports ports; /* map_fd < 0 until a port is bound or adopted */
	/* Persistence: NULL state_dir keeps no state file (unit tests). */
	const char *state_dir;
	bool state_dirty; /* a change succeeded since the file was written */
	struct vmqd_pending *pending;
	size_t npending;
	bool restoring; /* replaying the state file: no rewrite per request */
	/* One saved request is being replayed: TX queues beyond today's count
	 * are taken (the object starts degraded, as it was saved), and a port
	 * may be bound to a queue that is not live (a stale binding). */
	bool replaying;
	/* The request being handled comes from a --read-group client: only
	 * the commands that change nothing are served. */
	bool read_only;
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
	bool mutates;		 /* success changes the state the file keeps */
};

struct vmqd_object {
	const char *name;
	const struct vmqd_command *commands; /* terminated by a NULL name */
};

/* Every object vmqd serves, ending with a NULL name. */
extern const struct vmqd_object vmqd_objects[];
extern const struct vmqd_command vmqd_dev_commands[];
extern const struct vmqd_command vmqd_queue_commands[];
extern const struct vmqd_command vmqd_group_commands[];
extern const struct vmqd_command vmqd_stats_commands[];
extern const struct vmqd_command vmqd_daemon_commands[];
extern const struct vmqd_command vmqd_port_commands[];
extern const struct vmqd_command vmqd_doctor_commands[];
extern const struct vmqd_command vmqd_filter_commands[];

/* reconcile.c */
int vmqd_reconcile(struct vmqd_dev *dev, unsigned int *changed);
unsigned int vmqd_degraded_count(struct vmqd_dev *dev);
int vmqd_sweep_meta(struct vmqd_dev *dev, unsigned int *swept);

/* cmd_dev.c */
/* Upgrades dev's program (and hook, unless keep_hook) to obj_path's, or
 * the built-in one (NULL); fills r on failure (r may be NULL: logged). */
int vmqd_dev_upgrade(struct vmqd *d, struct vmqd_dev *dev, const char *obj_path, bool keep_hook,
		     struct vmq_upgrade_result *res, struct vmqd_reply *r);
void vmqd_abi_refusal(const char *ifname, __u32 found, char *buf, size_t size);
/* args' "rx": "on" or "off"; *given false when absent. */
int vmqd_req_rx(struct json_object *args, const char *what, struct vmqd_reply *r, bool *given,
		bool *on);

/* linkwatch.c */
int vmqd_linkwatch_open(void);
void vmqd_linkwatch_read(int fd, struct vmqd *d);
void vmqd_tcx_report(struct vmqd_dev *dev);
int vmqd_dev_came_back(struct vmqd *d, struct vmqd_dev *dev, int old_ifindex);

/* cmd_stats.c */
int vmqd_stats_collect(struct vmqd *d, const struct vmqd_dev *only, struct json_object **out,
		       const char **failed);

/* cmd_port.c */
int vmqd_unbind_uplink_ports(struct vmqd *d, const struct vmqd_dev *uplink);
int vmqd_prune_ports(struct vmqd *d);
int vmqd_ports_rebase(struct vmqd *d, __u32 old_ifindex, __u32 new_ifindex);
/* The host's port program to vmqd's build when it differs; logged. */
int vmqd_ports_upgrade(struct vmqd *d, unsigned int *upgraded);
/* Switches the bindings of this port or uplink (0: all) to the mode
 * (uplink or stamp) the topology now asks for. */
int vmqd_ports_refresh(struct vmqd *d, __u32 link);
/* Unbinds a port and frees the queue it owned; *freed: that ID + 1, or 0.
 * -ENOENT when it is not bound. */
int vmqd_port_release(struct vmqd *d, __u32 ifindex, long *freed);

/* cmd_queue.c: "queue add" for callers that add flags (port bind auto);
 * fills r on failure. */
int vmqd_queue_create(struct vmqd *d, struct json_object *args, struct vmqd_reply *r,
		      __u32 extra_flags, __u32 *id, struct vmq_queue_entry *entry);
int vmqd_queue_free(struct vmqd_dev *dev, __u32 id);

/* rx.c: the receive side (vmq_rx, XDP) */
bool vmqd_rx_loaded(const struct vmqd_dev *dev);
/* Loads vmq_rx's maps (not attached) when a filter or mode needs them. */
int vmqd_rx_ready(struct vmqd_dev *dev, const char *what, struct vmqd_reply *r);
enum vmq_xdp_mode vmqd_xdp_mode_env(void);
int vmqd_rx_on(struct vmqd_dev *dev, const char *what, struct vmqd_reply *r);
int vmqd_rx_off(struct vmqd_dev *dev, const char *what, struct vmqd_reply *r);
/* Ports bound to queue id of dev; *ifindex: the first. */
unsigned int vmqd_rx_bound_ports(struct vmqd *d, const struct vmqd_dev *dev, __u32 id,
				 __u32 *ifindex);
/* A queue in port mode: its devmap slot to the one port bound to it, or
 * none (NULL dev, or rx not loaded: nothing to do). */
int vmqd_rx_follow_port(struct vmqd *d, struct vmqd_dev *dev, __u32 id);
void vmqd_rx_follow_all(struct vmqd *d);

struct vmqd_rx_req {
	bool set; /* "rx" was given */
	enum vmq_rx_mode mode;
	__u32 arg; /* the CPU, or the port's ifindex (0: replayed before its port) */
};

int vmqd_rx_parse_mode(struct vmqd *d, struct vmqd_dev *dev, struct json_object *args, __u32 id,
		       const char *what, struct vmqd_reply *r, struct vmqd_rx_req *req);
int vmqd_rx_apply_mode(struct vmqd_dev *dev, __u32 id, const struct vmqd_rx_req *req,
		       const char *what, struct vmqd_reply *r);
void vmqd_rx_queue_freed(struct vmqd_dev *dev, __u32 id);
/* vmq_rx to vmqd's build (logged); 0 when rx is not loaded. */
int vmqd_rx_upgrade(struct vmqd_dev *dev, bool *changed);
void vmqd_rx_mode_json(struct vmqd_dev *dev, __u32 id, struct json_object *o);

/* cmd_filter.c: dev's filters as show rows, appended to list. */
int vmqd_filters_json(struct vmqd_dev *dev, struct json_object *list);

/* placement.c */
int vmqd_lowest_free_id(struct vmqd_dev *dev, __u32 *id);
int vmqd_place_txq(struct vmqd_dev *dev, unsigned int ntxqs, __u32 exclude_id, __u16 *txq);

/* policy.c: port policies, and "dev set" that sets them */
int vmqd_dev_set(struct vmqd *d, struct json_object *args, struct vmqd_reply *r);
extern const char *const vmqd_dev_set_keys[];
bool vmqd_policy_matches(const char *policy, const char *ifname);
/* A link appeared (or exists when a policy is set): binds it when a policy
 * matches. 1 if bound, 0 if no policy wants it, -errno. */
int vmqd_policy_apply(struct vmqd *d, const char *ifname);
/* Link events were lost: every link is looked at as if it had appeared. */
void vmqd_links_sweep(struct vmqd *d);

/* state.c: the state file */
int vmqd_state_snapshot(struct vmqd *d, struct json_object **requests);
int vmqd_state_flush(struct vmqd *d, bool force);
/* At start, after adoption: loads and checks the file (refusing a corrupt
 * one), then restores what the pins do not hold. */
int vmqd_state_restore(struct vmqd *d, bool adopted);
/* A link of this name appeared: retries the requests waiting for it. */
void vmqd_state_link_appeared(struct vmqd *d, const char *ifname);
/* Drops the waiting requests whose args[key] is ifname ("dev detach" of
 * an uplink that never came back, "port unbind" of such a port): how many. */
size_t vmqd_state_forget(struct vmqd *d, const char *key, const char *ifname,
			 void (*dropped)(struct vmqd *d, struct json_object *req));
void vmqd_state_fini(struct vmqd *d);
/* Runs one request as if a client had sent it (policies, restore). */
int vmqd_run(struct vmqd *d, struct json_object *req, struct json_object **result, char *message,
	     size_t size);

/*
 * alloc.c: the allocation policy. Out of memory while building JSON aborts
 * (alloc.c says why that is safe for vmqd); these never return NULL.
 */
void *vmqd_must(void *p, const char *what);
struct json_object *vmqd_json_object(void);
struct json_object *vmqd_json_array(void);
struct json_object *vmqd_json_int(int64_t v);
struct json_object *vmqd_json_uint(uint64_t v);
struct json_object *vmqd_json_bool(bool v);
struct json_object *vmqd_json_string(const char *s);
void vmqd_json_add(struct json_object *obj, const char *key, struct json_object *val);
void vmqd_json_append(struct json_object *arr, struct json_object *val);

/* dispatch.c: one request line in, one response line out (caller frees);
 * *malformed says the line was not a JSON object at all. */
char *vmqd_handle_line(struct vmqd *d, const char *line, size_t len, bool *malformed);
struct json_object *vmqd_handle_request(struct vmqd *d, struct json_object *req);
/* The error answer, one line with its newline, for a request the
 * dispatcher never saw; NULL only when out of memory. */
char *vmqd_error_line(int err, const char *message);

/* lock.c: an exclusive flock on the pin directory, held until exit;
 * -EBUSY (logged, naming the holder's pid) when another vmqd has it. */
int vmqd_lock_dir(const char *dir, int *fd_out);

/* devices.c */
int vmqd_init(struct vmqd *d, const char *bpffs_dir);
void vmqd_fini(struct vmqd *d);
int vmqd_adopt_all(struct vmqd *d);
struct vmqd_dev *vmqd_find_dev(struct vmqd *d, const char *ifname);
void vmqd_dev_renamed(struct vmqd *d, struct vmqd_dev *dev, const char *ifname);
int vmqd_add_dev(struct vmqd *d, struct vmqd_dev *dev);
void vmqd_remove_dev(struct vmqd *d, struct vmqd_dev *dev);

/* request.c: argument access with messages that name the object. Each
 * returns 0, or -errno after filling r. */
int vmqd_reply_error(struct vmqd_reply *r, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int vmqd_req_check_keys(struct json_object *args, const char *const *keys, const char *what,
			struct vmqd_reply *r);
bool vmqd_req_has(struct json_object *args, const char *key);
int vmqd_req_u32(struct json_object *args, const char *key, __u32 max, const char *what,
		 struct vmqd_reply *r, __u32 *out);
int vmqd_req_u32_range(struct json_object *args, const char *key, __u32 min, __u32 max,
		       const char *what, struct vmqd_reply *r, __u32 *out);
int vmqd_req_name(struct json_object *args, const char *key, size_t max_len, const char *what,
		  struct vmqd_reply *r, const char **out);
/* An interface name as the kernel takes it, and no ':' (an alias). */
int vmqd_req_ifname(struct json_object *args, const char *key, const char *what,
		    struct vmqd_reply *r, const char **out);
/* A client's string for a message: valid UTF-8, "..." when cut. */
#define VMQD_REQ_QUOTE_SIZE 36
const char *vmqd_req_quote(const char *s, char *buf, size_t size);
int vmqd_req_dev(struct vmqd *d, struct json_object *args, const char *what, struct vmqd_reply *r,
		 struct vmqd_dev **dev);
int vmqd_req_dev_what(struct vmqd *d, struct json_object *args, const char *object, const char *cmd,
		      char *what, size_t size, struct vmqd_reply *r, struct vmqd_dev **dev);
int vmqd_dev_txqs(struct vmqd_dev *dev, struct vmqd_reply *r, const char *what,
		  unsigned int *ntxqs);
/* The TX queue numbers a request may name: below the device's count, or
 * below VMQ_TXQ_MAX while a saved request is replayed. */
unsigned int vmqd_txq_limit(const struct vmqd *d, unsigned int ntxqs);
/* args' "txq", a number within that limit for dev. */
int vmqd_req_txq(struct vmqd *d, struct json_object *args, struct vmqd_dev *dev, const char *what,
		 struct vmqd_reply *r, __u16 *txq);

/* json helpers */
struct json_object *vmqd_json_entry_target(const struct vmq_queue_entry *e, struct json_object *o);
struct json_object *vmqd_json_degraded(const struct vmq_queue_meta *meta, struct json_object *o);

#endif /* VMQD_H */
