/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * libvmq: load, attach, pin and adopt the vmq_tx data plane of one uplink,
 * and edit its maps. Every call returns 0 or a negative errno; callers that
 * know the context report errors.
 */
#ifndef LIBVMQ_H
#define LIBVMQ_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "vmq_abi.h"

/* Pin layout under DIR/<ifname>/, the same as the bpftool path. */
#define VMQ_PIN_PROG "vmq_tx_egress"
#define VMQ_PIN_MAPS "maps"
/* The uplink's tcx link (tcx mode only): DIR/<ifname>/vmq_tx_link. */
#define VMQ_PIN_LINK "vmq_tx_link"
/* The receive side, once loaded: everything under DIR/<ifname>/rx/, the
 * layout of `bpftool prog load OBJ DIR/<ifname>/rx/vmq_rx_xdp ... pinmaps
 * DIR/<ifname>/rx`: the XDP program, its XDP link when libvmq attached it,
 * and every map vmq_rx uses (vmq_queues, shared with vmq_tx, included). */
#define VMQ_PIN_RX_DIR	"rx"
#define VMQ_PIN_RX_PROG "vmq_rx_xdp"
#define VMQ_PIN_RX_LINK "vmq_rx_link"

/* One uplink's data plane, by file descriptors: loaded or adopted alike. */
struct vmq_dev {
	char ifname[IF_NAMESIZE];
	int ifindex;
	char pin_dir[PATH_MAX]; /* DIR/<pin name> (vmq_pin_name_encode) */
	int prog_fd;
	int queues_fd;
	int groups_fd;
	int queue_stats_fd;
	int fallbacks_fd;
	int dev_info_fd;
	int rodata_fd;
	int queue_meta_fd;
	int xps_saved_fd;
	int port_queues_fd; /* -1: adopted pins that predate port resolution */
	int store_fd;	    /* vmq_queue_store: loaded per process, never pinned */
	int port_store_fd;  /* vmq_port_store: likewise; -1 with port_queues_fd */
	struct vmq_config cfg;
	__u32 nr_queues; /* size of the queues map */
	/* The receive side (rx.c): every fd -1 until vmq_rx_load, or until
	 * vmq_dev_adopt finds its pins. */
	int rx_prog_fd;
	int rx_filters_fd;
	int rx_queues_fd;
	int rx_queue_stats_fd;
	int rx_outcomes_fd;
	int rx_cpus_fd;	 /* cpumap, key = CPU, rx_ncpus entries */
	int rx_ports_fd; /* devmap, key = queue ID, nr_queues entries */
	int rx_store_fd; /* vmq_rx_store, loaded per process; -1: written by
			  * bpf_map_update_elem (no single-store promise) */
	__u32 rx_ncpus;
};

struct vmq_load_opts {
	__u32 nr_queues;      /* 0: VMQ_QUEUES_DEFAULT */
	__u32 mark_mask;      /* 0: VMQ_MARK_MASK_DEFAULT */
	const char *obj_path; /* vmq_tx from this object file; NULL: the built-in one */
};

/* bpffs.c */
int vmq_bpffs_ensure(const char *dir, bool *mounted);
bool vmq_is_bpffs(const char *path);
int vmq_mkdir_p(const char *dir, unsigned int mode);
/* DIR/<pin name> of an interface: reversible, no dot (bpffs reserves them). */
int vmq_pin_name_encode(const char *ifname, char *buf, size_t size);
int vmq_pin_name_decode(const char *pin, char *ifname, size_t size);
/* A load cut short before its pins were complete: DIR/<pin name>:new;
 * a removal cut short: DIR/<pin name>:old. ':' is in no interface name. */
#define VMQ_PIN_STAGING_SUFFIX ":new"
#define VMQ_PIN_OLD_SUFFIX     ":old"
/* Test-only crash points: VMQ_FAULT_STEP=N kills the process (SIGKILL)
 * at the Nth point reached; unset, nothing happens. */
void vmq_fault_point(const char *what);

/* tc.c: clsact hooks. */
enum vmq_tc_point { VMQ_TC_EGRESS, VMQ_TC_INGRESS };
int vmq_tc_attach(int ifindex, enum vmq_tc_point point, int prog_fd, bool *hook_created);
int vmq_tc_detach(int ifindex, enum vmq_tc_point point, bool destroy_hook);
int vmq_tc_attached_prog_id(int ifindex, enum vmq_tc_point point, __u32 *prog_id);
int vmq_prog_id(int prog_fd, __u32 *id);
int vmq_tc_foreign_filters(int ifindex, enum vmq_tc_point point, unsigned int *count);
int vmq_tc_has_clsact(int ifindex, bool *has);
struct tcmsg;
bool vmq_tc_is_ours(const struct tcmsg *tc);

/* tcx.c: tcx links (kernel 6.6+), clsact (tc.c) as the fallback. */
enum vmq_hook_mode { VMQ_HOOK_AUTO, VMQ_HOOK_CLSACT, VMQ_HOOK_TCX };
#define VMQ_TCX_CHAIN_MAX 64U

struct vmq_tcx_chain {
	__u32 count; /* programs in run order, at most VMQ_TCX_CHAIN_MAX */
	__u32 prog_ids[VMQ_TCX_CHAIN_MAX];
	__u32 link_ids[VMQ_TCX_CHAIN_MAX]; /* 0: attached without a link */
	__u64 revision;
};

struct vmq_tcx_link {
	__u32 id;
	__u32 prog_id;
	__u32 ifindex; /* 0: defunct, its device is gone */
	bool ingress;
};

enum vmq_hook_mode vmq_hook_mode_env(void);
int vmq_tcx_query(int ifindex, enum vmq_tc_point point, struct vmq_tcx_chain *chain);
int vmq_tcx_link_get(const char *pin, struct vmq_tcx_link *link);
int vmq_tcx_attach(int ifindex, enum vmq_tc_point point, int prog_fd, const char *pin,
		   bool to_head);
int vmq_tcx_detach(const char *pin);
int vmq_hook_attach(int ifindex, enum vmq_tc_point point, int prog_fd, const char *pin,
		    enum vmq_hook_mode mode, bool *tcx, bool *clsact_created);
int vmq_hook_detach(int ifindex, enum vmq_tc_point point, const char *pin, bool tcx,
		    bool destroy_clsact);
/* A program's name, with its NUL: BPF_OBJ_NAME_LEN, without libbpf. */
#define VMQ_PROG_NAME_SIZE 16
void vmq_prog_name(__u32 id, char *name, size_t size);

/* nl.c: rtnetlink dumps. */
struct nlmsghdr;
struct rtattr;
int vmq_nl_tc_dump(int type, int ifindex, __u32 parent,
		   int (*fn)(const struct nlmsghdr *nh, void *ctx), void *ctx);
const struct rtattr *vmq_nl_attr(const struct nlmsghdr *nh, size_t hdrlen, unsigned short type);
const struct rtattr *vmq_nl_nested(const struct rtattr *parent, unsigned short type);
int vmq_nl_link_master(int ifindex, int *master);

/* dev.c */
void vmq_dev_init(struct vmq_dev *dev);
int vmq_dev_load(struct vmq_dev *dev, const char *pin_root, const char *ifname,
		 const struct vmq_load_opts *opts);
/* A pinned device that is absent is adopted with ifindex 0. */
int vmq_dev_adopt(struct vmq_dev *dev, const char *pin_root, const char *ifname);
int vmq_dev_attach(struct vmq_dev *dev);
int vmq_dev_detach(struct vmq_dev *dev);
int vmq_dev_unpin(struct vmq_dev *dev);
int vmq_dev_unpin_dir(const char *pin_dir);
int vmq_dev_rename(struct vmq_dev *dev, const char *ifname);
/* Undoes an attach (or finishes a detach) that was cut short: XPS
 * restored, vmq's hook removed (the tcx link pinned, or the clsact filter
 * running the pinned program), pins removed. */
int vmq_dev_rollback(struct vmq_dev *dev);
void vmq_dev_close(struct vmq_dev *dev);
int vmq_dev_info_read(const struct vmq_dev *dev, struct vmq_dev_info *info);
int vmq_dev_info_write(const struct vmq_dev *dev, const struct vmq_dev_info *info);
int vmq_dev_is_attached(const struct vmq_dev *dev, bool *attached);
int vmq_dev_attach_first(struct vmq_dev *dev);
bool vmq_dev_is_tcx(const struct vmq_dev *dev);
int vmq_dev_tcx_position(const struct vmq_dev *dev, __u32 *pos, __u32 *first_prog_id,
			 struct vmq_tcx_chain *chain);

/* upgrade.c: a new vmq_tx on the maps in place, swapped in atomically. */
struct vmq_upgrade_opts {
	const char *obj_path; /* NULL: the program built into libvmq */
	/* Keep a clsact filter on clsact (adoption); otherwise it moves to a
	 * tcx link when the kernel has tcx and VMQ_TC_MODE is not clsact. */
	bool keep_hook;
};

struct vmq_upgrade_result {
	bool changed;	   /* a program, hook or map pin was replaced */
	bool prog_changed; /* the new program's tag differs from the pinned one's */
	bool attached;	   /* it was attached: the swap happened on the hook */
	bool from_tcx;	   /* the hook before, and after */
	bool to_tcx;
	bool clsact_left; /* moved to tcx, but vmq's clsact filter is still there */
	__u32 old_prog_id;
	__u32 new_prog_id; /* the old one when nothing changed */
	__u8 old_tag[8];
	__u8 new_tag[8];
	__u32 abi_found;	   /* the ABI version of the maps found */
	unsigned int maps_created; /* maps new in the object: created and pinned */
	unsigned int maps_migrated;
	char bad_map[32]; /* -EPROTO for a map whose layout is not the object's */
};

int vmq_dev_upgrade(struct vmq_dev *dev, const struct vmq_upgrade_opts *opts,
		    struct vmq_upgrade_result *res);
/* The ABI version recorded in a pinned device's vmq_dev_info. */
int vmq_dev_pinned_abi(const char *pin_root, const char *ifname, __u32 *abi);
/* 0 when maps of ABI version `from` can be brought to VMQ_ABI_VERSION
 * (steps: how many migration steps), -EPROTO when not. */
int vmq_abi_migration(__u32 from, size_t *steps);
/* Migrates a pinned device whose maps have an older ABI version (which
 * vmq_dev_adopt refuses with -EPROTO) and upgrades its program. */
int vmq_dev_migrate(const char *pin_root, const char *ifname, const struct vmq_upgrade_opts *opts,
		    struct vmq_upgrade_result *res);
int vmq_prog_tag(int prog_fd, __u32 *id, __u8 tag[8]);

/* maps.c */
int vmq_queue_read(const struct vmq_dev *dev, __u32 id, struct vmq_queue_entry *entry);
int vmq_queue_write(const struct vmq_dev *dev, __u32 id, struct vmq_queue_entry entry);
int vmq_queue_read_all(const struct vmq_dev *dev, struct vmq_queue_entry *entries);
int vmq_queue_meta_read(const struct vmq_dev *dev, __u32 id, struct vmq_queue_meta *meta);
int vmq_queue_meta_write(const struct vmq_dev *dev, __u32 id, const struct vmq_queue_meta *meta);
int vmq_queue_meta_delete(const struct vmq_dev *dev, __u32 id);
/* The metadata map's walk: the key after prev (NULL: the first), -ENOENT
 * past the last. */
int vmq_queue_meta_next(const struct vmq_dev *dev, const __u32 *prev, __u32 *next);
int vmq_queue_meta_read_all(const struct vmq_dev *dev, struct vmq_queue_meta *metas, bool *present);
int vmq_queue_meta_update(const struct vmq_dev *dev, __u32 id, const struct vmq_queue_meta *meta);
int vmq_group_read(const struct vmq_dev *dev, __u32 gid, struct vmq_group_entry *group);
int vmq_group_write(const struct vmq_dev *dev, __u32 gid, const __u16 *txqs, __u16 ntxqs);
int vmq_group_clear(const struct vmq_dev *dev, __u32 gid);
void vmq_group_fill(struct vmq_group_entry *group, const __u16 *txqs, __u16 ntxqs);
int vmq_queue_stats_read(const struct vmq_dev *dev, __u32 id, struct vmq_queue_stats *sum);
int vmq_queue_stats_read_all(const struct vmq_dev *dev, struct vmq_queue_stats *sums);
/* IDs 0..n-1 only, n at most the map's size (-ERANGE beyond). */
int vmq_queue_stats_read_first(const struct vmq_dev *dev, __u32 n, struct vmq_queue_stats *sums);
int vmq_kernel_choice_read(const struct vmq_dev *dev, struct vmq_counter *sum);
int vmq_queue_sync_copies(const struct vmq_dev *dev, unsigned int *synced);
int vmq_fallback_read(const struct vmq_dev *dev, __u32 reason, struct vmq_counter *sum);

/* netdev.c: sysfs facts, XPS, the kernel's per-TX-queue figures. */
struct vmq_txq_kernel {
	bool has_counters; /* mq class counters (root qdisc mq) */
	bool has_bql;	   /* the driver does BQL */
	__u64 packets;
	__u64 bytes;
	__u64 bql_inflight; /* bytes queued to the device, not yet completed */
};

int vmq_netdev_txq_kernel(const char *ifname, int ifindex, unsigned int ntxqs,
			  struct vmq_txq_kernel *out);
int vmq_netdev_txqs(const char *ifname, unsigned int *ntxqs);
int vmq_xps_read(const char *ifname, unsigned int txq, struct vmq_xps_saved *xps);
bool vmq_xps_text_set(const char *text);
int vmq_xps_clear(const struct vmq_dev *dev, unsigned int ntxqs, unsigned int *cleared);
int vmq_xps_restore(const struct vmq_dev *dev);
int vmq_xps_cleared_count(const struct vmq_dev *dev, unsigned int *count);

/* port.c: VM port bindings, one program and map for the host. */
struct vmq_ports {
	int prog_fd;
	int map_fd;
	char pin_dir[PATH_MAX]; /* <pin root>/VMQ_PORTS_PIN_DIR: program, map, links */
};

void vmq_ports_init(struct vmq_ports *ports);
int vmq_ports_open(struct vmq_ports *ports, const char *pin_root);
void vmq_ports_close(struct vmq_ports *ports);
int vmq_port_get(const struct vmq_ports *ports, __u32 ifindex, struct vmq_port_entry *entry);
/* Rewrites a binding's entry in place (its uplink, its reason): -ENOENT
 * when ifindex is not bound. Hooks and slots are vmq_port_bind's. */
int vmq_port_update(const struct vmq_ports *ports, __u32 ifindex,
		    const struct vmq_port_entry *entry);
/* Port modes: *why (enum vmq_port_why) for a binding of ifindex to uplink. */
int vmq_port_mode(__u32 ifindex, const struct vmq_dev *uplink, __u32 *why);
bool vmq_port_why_uplink(__u32 why);
int vmq_port_slot_read(const struct vmq_dev *uplink, __u32 ifindex, struct vmq_port_slot *slot);
/* The port's slot in the uplink's array alone (vmq_port_bind does both). */
int vmq_port_slot_set(const struct vmq_dev *uplink, __u32 ifindex, __u32 queue_id);
int vmq_port_slot_clear(const struct vmq_dev *uplink, __u32 ifindex);
int vmq_port_bind(const struct vmq_ports *ports, __u32 ifindex, __u32 queue_id,
		  const struct vmq_dev *uplink, __u32 why, const struct vmq_dev *old_uplink);
int vmq_port_unbind(const struct vmq_ports *ports, __u32 ifindex, const struct vmq_dev *uplink);
/* tcx.c: a port's hook, tcx link <pin_dir>/link_<ifindex> or clsact;
 * the VMQ_PORT_F_* hook bits of *flags say which. */
int vmq_port_hook_attach(const struct vmq_ports *ports, __u32 ifindex, bool was_bound,
			 __u32 *flags);
int vmq_port_hook_detach(const struct vmq_ports *ports, __u32 ifindex, __u32 flags);
int vmq_port_link_path(const struct vmq_ports *ports, __u32 ifindex, char *buf, size_t size);
int vmq_port_for_each(const struct vmq_ports *ports,
		      int (*fn)(__u32 ifindex, const struct vmq_port_entry *entry, void *ctx),
		      void *ctx);

/* port.c: a new vmq_port (built in, or from obj_path) on the pinned map,
 * swapped into every stamp-mode port's hook, then pinned. */
struct vmq_ports_upgrade_result {
	bool changed; /* the tags differ: the program was replaced */
	__u32 old_prog_id;
	__u32 new_prog_id; /* the old one when nothing changed */
	__u8 old_tag[8];
	__u8 new_tag[8];
	unsigned int ports_upgraded; /* stamp-mode ports whose hook runs the new program */
	unsigned int ports_skipped;  /* stamp-mode ports without a hook (port gone) */
	unsigned int ports_failed;   /* hooks left on the old program (an error) */
	int first_error;	     /* -errno of the first of those */
};

int vmq_ports_upgrade(struct vmq_ports *ports, const char *obj_path,
		      struct vmq_ports_upgrade_result *res);

/*
 * rx.c: the receive side, vmq_rx (XDP), of an uplink whose vmq_tx is loaded
 * or adopted. Loaded on vmq_tx's vmq_queues (a queue is live for both at
 * once), pinned beside it (VMQ_PIN_RX_DIR), adopted by vmq_dev_adopt when
 * its pins are there, detached by vmq_dev_detach and removed with the rest
 * by vmq_dev_unpin.
 */
enum vmq_xdp_mode {
	VMQ_XDP_AUTO = 0,    /* native where the driver has it, else generic */
	VMQ_XDP_NATIVE = 1,  /* the driver's hook (XDP_FLAGS_DRV_MODE) */
	VMQ_XDP_GENERIC = 2, /* the stack's (XDP_FLAGS_SKB_MODE), for any driver */
};

struct vmq_rx_status {
	bool loaded;   /* vmq_rx's pins are there */
	bool attached; /* vmq_rx runs on the device (the pinned program) */
	bool generic;  /* ... in generic mode; native when false */
	bool link;     /* ... through vmq's pinned XDP link (else netlink) */
	__u32 prog_id; /* the pinned program's */
	/* What the kernel runs on the device in the mode vmq_rx uses (or in
	 * any mode when not attached), 0 when nothing: another program here
	 * means another owner. */
	__u32 found_prog_id;
	__u32 filters; /* entries in vmq_rx_filters */
};

/* Creates vmq_rx's program and maps on dev's vmq_queues and pins them
 * (obj_path NULL: the object built into libvmq); loaded already (or
 * pinned, by bpftool say), it adopts what is there. Attaches nothing. */
int vmq_rx_load(struct vmq_dev *dev, const char *obj_path);
/* Opens vmq_rx's pins into dev: -ENOENT when rx was never loaded here,
 * -EPROTO for pins of another layout (or on another uplink's queues map).
 * vmq_dev_adopt calls it; on error the receive side stays closed (its fds
 * -1) and the transmit side is adopted all the same. */
int vmq_rx_adopt(struct vmq_dev *dev);
/* Attaches vmq_rx (loading it first when needed) through an XDP link
 * pinned at VMQ_PIN_RX_LINK. AUTO tries native first, generic when the
 * driver answers EOPNOTSUPP; a re-attach keeps the recorded mode unless
 * told one. Attached already: the pinned program is swapped in. -EBUSY
 * when another XDP program is attached to the device (vmq_rx_status's
 * found_prog_id says which). Recorded in vmq_dev_info (VMQ_DEV_F_RX_*). */
int vmq_rx_attach(struct vmq_dev *dev, enum vmq_xdp_mode mode);
/* Detaches vmq_rx (its link, or the program attached by netlink); the
 * maps stay pinned with their filters and modes. Not attached: 0. */
int vmq_rx_detach(struct vmq_dev *dev);
/* Upgrade, as vmq_dev_upgrade does for vmq_tx: a new vmq_rx (built in, or
 * obj_path) loaded on the pinned maps (a map of another layout: -EPROTO,
 * nothing changes), swapped in where it runs (the link updated in place,
 * or the netlink attachment replaced), then pinned. Every map carries over
 * with its filters, modes and counters. *changed: the tags differed (the
 * same tag: nothing done). -ENOTCONN when rx is not loaded. */
int vmq_rx_upgrade(struct vmq_dev *dev, const char *obj_path, bool *changed);
/* Detaches, then removes vmq_rx's pins: filters, modes and counters go. */
int vmq_rx_unload(struct vmq_dev *dev);
int vmq_rx_status(const struct vmq_dev *dev, struct vmq_rx_status *st);
/* What the kernel runs in XDP on ifindex: per mode, a program ID or 0. */
int vmq_xdp_query(int ifindex, __u32 *native_id, __u32 *generic_id);

/* rx_maps.c: vmq_rx's maps (bpf_map_* calls only). -ENOTCONN when rx is
 * not loaded on dev. */
/* Sets a filter for queue_id. The same key for the same queue: 0 (no
 * change). For another queue: -EEXIST and *owner is that queue. */
int vmq_rx_filter_add(const struct vmq_dev *dev, const struct vmq_rx_filter_key *key,
		      __u32 queue_id, __u32 *owner);
/* -ENOENT when there is no such filter. */
int vmq_rx_filter_del(const struct vmq_dev *dev, const struct vmq_rx_filter_key *key);
int vmq_rx_filter_get(const struct vmq_dev *dev, const struct vmq_rx_filter_key *key,
		      struct vmq_rx_filter *filter);
/* Every filter, in the map's order; fn's nonzero return ends the walk and
 * is returned. */
int vmq_rx_filter_for_each(const struct vmq_dev *dev,
			   int (*fn)(const struct vmq_rx_filter_key *key,
				     const struct vmq_rx_filter *filter, void *ctx),
			   void *ctx);
/* Deletes every filter of queue_id (a queue freed); *deleted counts them. */
int vmq_rx_filter_del_queue(const struct vmq_dev *dev, __u32 queue_id, unsigned int *deleted);

/*
 * A queue's receive mode. CPU: arg is the CPU (-ENODEV unless online);
 * its cpumap entry is created if absent (VMQ_RX_CPU_QSIZE). PORT: arg is
 * the port's ifindex (-ENODEV unless it exists, -EINVAL for 0), written to
 * the devmap first. PASS: arg unused. Then the entry, in one store; then
 * the devmap slot and cpumap entries no queue uses any more are removed.
 * -ERANGE for a queue beyond the map, -EINVAL for an unknown mode. On
 * error nothing changed.
 */
int vmq_rx_mode_set(const struct vmq_dev *dev, __u32 queue_id, enum vmq_rx_mode mode, __u32 arg);
/* The entry, and the port's ifindex in the devmap (0 when none). */
int vmq_rx_mode_get(const struct vmq_dev *dev, __u32 queue_id, struct vmq_rx_queue_entry *entry,
		    __u32 *port_ifindex);
/* Back to PASS, the devmap slot removed (a queue freed). */
int vmq_rx_mode_clear(const struct vmq_dev *dev, __u32 queue_id);
/* The cpumap's entry for cpu: 0 and its queue size, or -ENOENT. */
int vmq_rx_cpu_entry(const struct vmq_dev *dev, __u32 cpu, __u32 *qsize);
/* The devmap's entry for a queue: 0 and the ifindex, or -ENOENT. */
int vmq_rx_port_entry(const struct vmq_dev *dev, __u32 queue_id, __u32 *ifindex);
/* Port mode without a port. The devmap slot alone removed
 * (the mode stays); and port mode set with no slot (restored before its
 * port is bound). Frames take the stack, counted as no_target. */
int vmq_rx_port_drop(const struct vmq_dev *dev, __u32 queue_id);
int vmq_rx_port_mode_unbound(const struct vmq_dev *dev, __u32 queue_id);
/* Whether a CPU exists and is online (sysfs). */
int vmq_cpu_online(__u32 cpu, bool *online);
/* rx_netdev.c: whether the device strips VLAN tags on receive
 * (rx-vlan-offload): XDP then sees tagged frames as untagged, and filters
 * with a VLAN never match them (kernel-notes, rx 7). -ENODEV: no device. */
int vmq_netdev_rxvlan(const char *ifname, bool *on);

/* Counters, summed over CPUs. */
int vmq_rx_queue_stats_read(const struct vmq_dev *dev, __u32 id, struct vmq_rx_queue_stats *sum);
int vmq_rx_queue_stats_read_all(const struct vmq_dev *dev, struct vmq_rx_queue_stats *sums);
int vmq_rx_outcome_read(const struct vmq_dev *dev, __u32 outcome, struct vmq_counter *sum);
/* sums[VMQ_RX_OUTCOMES] */
int vmq_rx_outcomes_read_all(const struct vmq_dev *dev, struct vmq_counter *sums);
/* Names for output: "cpu", "port", "pass"; "unmatched", "broadcast", ...
 * NULL when out of range. */
const char *vmq_rx_mode_name(__u32 mode);
const char *vmq_rx_outcome_name(__u32 outcome);

/* parse.c: strict parsing; 0 or -EINVAL / -ERANGE. */
int vmq_parse_u32(const char *s, __u32 max, __u32 *out);
/* A MAC as six two-digit hex bytes separated by ':' ("52:54:00:12:34:56");
 * -EINVAL otherwise. Multicast and all-zero addresses are -EADDRNOTAVAIL:
 * vmq_rx never looks them up. */
int vmq_parse_mac(const char *s, __u8 mac[6]);
/* "52:54:00:12:34:56": buf of at least VMQ_MAC_TEXT_LEN. */
#define VMQ_MAC_TEXT_LEN 18
void vmq_format_mac(const __u8 mac[6], char *buf);
/* A VLAN ID 1..VMQ_RX_VLAN_MAX: -EINVAL not a number, -ERANGE out of range
 * (0, 4095 and beyond). */
int vmq_parse_vlan(const char *s, __u16 *vlan);
int vmq_parse_mask(const char *s, __u32 *mask);
int vmq_parse_txq_list(const char *s, __u16 *txqs, __u16 max, __u16 *n);

/* Where to listen: [ADDR:]PORT, ADDR an IPv4 address or an IPv6 one in
 * brackets (default_host when absent), PORT plain decimal 1..65535; or an
 * absolute path: a Unix socket. Host names are not looked up. 0, or -EINVAL
 * with the reason, quoting the bad part, in why. */
struct vmq_listen_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	char text[112]; /* "127.0.0.1:9300", "[::1]:9300", "/run/vmq/metrics.sock" */
};
int vmq_parse_listen_addr(const char *arg, const char *default_host, struct vmq_listen_addr *out,
			  char *why, size_t why_len);
__u32 vmq_mask_shift(__u32 mask);
bool vmq_mask_valid(__u32 mask);
__u32 vmq_mask_ids(__u32 mask);
__u32 vmq_mark_of(const struct vmq_config *cfg, __u32 id);

#endif /* LIBVMQ_H */
