/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * vmq_abi.h: every structure and constant shared by the BPF programs and
 * user space, defined once. Fixed-width types only, no bool, no pointers:
 * the layouts below are the contents of pinned maps and outlive any one
 * build of the daemon.
 */
#ifndef VMQ_ABI_H
#define VMQ_ABI_H

#include <linux/types.h>

/* 2: the queue entry's per-CPU copy leads vmq_queue_stats; no per-TX-queue
 * counters (vmq_txq_stats), the kernel's mq class counters instead; the
 * kernel-choice counter is a slot of vmq_fallbacks. */
#define VMQ_ABI_VERSION 2

/* Queue IDs: 0 is the default queue; the map size is chosen at load time. */
#define VMQ_QUEUES_DEFAULT 4096U
#define VMQ_QUEUES_MAX	   65536U
#define VMQ_DEFAULT_QUEUE  0U

/* Mark bits that carry the queue ID unless told otherwise. */
#define VMQ_MARK_MASK_DEFAULT 0x0000ffffU

/* Highest TX queue count vmq steers to. */
#define VMQ_TXQ_MAX 1024U
/* Not a TX queue: the packet is left to the kernel's own TX queue choice. */
#define VMQ_TXQ_SLOT_KERNEL VMQ_TXQ_MAX
#define VMQ_TXQ_SLOTS	    (VMQ_TXQ_MAX + 1U)

/* Groups: a set of TX queues spread by flow hash through a slot table. */
#define VMQ_GROUPS_MAX	   256U
#define VMQ_GROUP_TXQS_MAX 16U
#define VMQ_GROUP_SLOTS	   64U /* power of two: slot = hash & (SLOTS - 1) */

/* tc attachment: clsact egress, direct-action. */
#define VMQ_TC_HANDLE	0x766d71U /* "vmq" */
#define VMQ_TC_PRIORITY 1U

/* What a queue ID's entry in the queues map says. */
enum vmq_queue_state {
	VMQ_QUEUE_FREE = 0,   /* not live: packets fall back to queue 0 */
	VMQ_QUEUE_TXQ = 1,    /* steer to TX queue `target` */
	VMQ_QUEUE_GROUP = 2,  /* steer into group `target` by flow hash */
	VMQ_QUEUE_KERNEL = 3, /* queue 0 only: leave the choice to the kernel */
};

/*
 * Value of the queues map (array, key = queue ID). Four bytes, read by the
 * program in one load, so a writer that stores it in one store can never
 * be seen half-written.
 */
struct vmq_queue_entry {
	__u16 state;  /* enum vmq_queue_state */
	__u16 target; /* TX queue or group ID, by state */
};

/* Value of the groups map (array, key = group ID). Written only while no
 * queue refers to the group. */
struct vmq_group_entry {
	__u16 ntxqs; /* 0: the group does not exist */
	__u16 reserved;
	__u16 txqs[VMQ_GROUP_TXQS_MAX]; /* members, as given */
	__u16 slots[VMQ_GROUP_SLOTS];	/* hash slot -> TX queue, filled by user space */
};

/*
 * Per-CPU value of one queue ID: a copy of its entry, then its counters.
 * The program reads the copy and counts in the same value: one map lookup
 * per packet. vmq_queue_store writes the entry to vmq_queues (the truth)
 * and then every CPU's copy, a 32-bit store to the copy's own word, so no
 * increment of the counters is ever lost to it. A copy in state
 * VMQ_QUEUE_FREE is never trusted: the program reads vmq_queues then (so a
 * write to vmq_queues alone, the bpftool path, still steers).
 */
struct vmq_queue_stats {
	struct vmq_queue_entry entry; /* this CPU's copy of vmq_queues[ID] */
	__u32 reserved;
	__u64 packets; /* steered through this ID's entry */
	__u64 bytes;
	__u64 fallback_packets; /* carried this ID while it was not live */
	__u64 fallback_bytes;
};

/* Per-CPU counters of one TX queue slot, and of one fallback reason. */
struct vmq_counter {
	__u64 packets;
	__u64 bytes;
};

/* Why a packet went to the default queue. */
enum vmq_fallback_reason {
	VMQ_FALLBACK_NOT_LIVE = 0,   /* ID never allocated, or freed */
	VMQ_FALLBACK_BEYOND_MAP = 1, /* ID >= the queues map size */
	VMQ_FALLBACK_BAD_GROUP = 2,  /* queue refers to a group with no TX queues */
	VMQ_FALLBACK_REASONS = 3,
};

/* vmq_fallbacks' slot after the reasons: packets left to the kernel's TX
 * queue choice (queue 0 unwritten or "kernel", or a queue in that state). */
#define VMQ_COUNT_KERNEL_CHOICE VMQ_FALLBACK_REASONS
#define VMQ_FALLBACK_SLOTS	(VMQ_FALLBACK_REASONS + 1U)

/* Control-plane record of one uplink (vmq_dev_info map, one entry). The
 * program never reads it; it lets a restarted daemon undo exactly what
 * attach did. */
#define VMQ_DEV_F_HOOK_CREATED 0x1U /* vmq created the clsact qdisc */
#define VMQ_DEV_F_ATTACHED     0x2U /* the filter is (meant to be) attached */
/* Attached as a tcx link pinned beside the program, not a clsact filter. */
#define VMQ_DEV_F_TCX 0x4U

/* The receive side (vmq_rx, XDP) is attached to the uplink. */
#define VMQ_DEV_F_RX_ATTACHED 0x8U
/* ... in generic (skb) mode: the driver has no native XDP, or it was asked for. */
#define VMQ_DEV_F_RX_GENERIC 0x10U
/* ... through an XDP link pinned beside the program (VMQ_PIN_RX_LINK); without
 * it, through netlink (the bpftool path: `ip link set ... xdp pinned`). */
#define VMQ_DEV_F_RX_LINK 0x20U

struct vmq_dev_info {
	__u32 abi_version;
	__u32 ifindex;
	__u32 flags; /* VMQ_DEV_F_* */
	__u32 reserved;
};

/* Control-plane metadata of a live queue (vmq_queue_meta map, hash by ID):
 * names, and what a degraded queue waits to get back. Pinned, so it
 * survives the daemon. */
#define VMQ_META_NAME_LEN 32 /* NUL-terminated: at most 31 bytes */

#define VMQ_META_F_DEGRADED 0x1U /* its TX queue vanished: `want` is what it was */
#define VMQ_META_F_TXQ_AUTO 0x2U /* vmqd chose its TX queue ("txq any") */
/* Created for a port ("queue auto"): freed with its binding. */
#define VMQ_META_F_PORT_OWNED 0x4U

struct vmq_queue_meta {
	char vm[VMQ_META_NAME_LEN];
	char name[VMQ_META_NAME_LEN];
	__u32 flags;		     /* VMQ_META_F_* */
	struct vmq_queue_entry want; /* while degraded: the entry to restore */
};

/* XPS settings of one TX queue as found at attach (vmq_xps_saved map, hash
 * by TX queue), restored at detach. Text as read from sysfs. */
#define VMQ_XPS_TEXT_LEN 256

struct vmq_xps_saved {
	char cpus[VMQ_XPS_TEXT_LEN];
	char rxqs[VMQ_XPS_TEXT_LEN];
};

/* Argument of the vmq_queue_store syscall program: one queue entry, stored
 * in a single 32-bit write to vmq_queues and to the copy of each of the
 * first `ncpus` CPUs (the possible CPUs: the per-CPU values there are). */
struct vmq_queue_store_args {
	__u32 id;
	struct vmq_queue_entry entry;
	__u32 ncpus;
	__u32 reserved;
};

/* Port bindings (vmq_ports map, hash by the port's ifindex): the VM port's
 * ingress program stamps every packet with one queue ID. */
#define VMQ_PORTS_MAX		4096U
#define VMQ_PORT_F_HOOK_CREATED 0x1U /* vmq created the port's clsact qdisc */
#define VMQ_PORT_F_TCX		0x2U /* a tcx link pinned under VMQ_PORTS_PIN_DIR */
/* Uplink mode: no hook on the port; the binding is the port's slot in its
 * uplink's vmq_port_queues array, and vmq_tx finds it by the packet's
 * ingress_ifindex. Without it: stamp mode (vmq_port on the port). */
#define VMQ_PORT_F_UPLINK 0x4U
/* Pin directory of the port program under the pin root: 16 bytes or more,
 * so it can never be an interface's name. */
#define VMQ_PORTS_PIN_DIR "vmq_port_bindings"

struct vmq_port_entry {
	__u32 mark_value;     /* the queue ID, already shifted into the mask */
	__u32 mark_mask;      /* the uplink's queue bits; other bits are kept */
	__u32 queue_id;	      /* control plane: the bound queue */
	__u32 uplink_ifindex; /* control plane: the uplink it is a queue of */
	__u32 flags;	      /* control plane: VMQ_PORT_F_* */
	__u32 why;	      /* control plane: enum vmq_port_why, why this mode */
};

/* Why a binding has the mode it has (vmq_port_entry.why). */
enum vmq_port_why {
	VMQ_PORT_WHY_UNKNOWN = 0,      /* stamp: bound by a build without port modes */
	VMQ_PORT_WHY_ROUTED = 1,       /* uplink: the port has no master */
	VMQ_PORT_WHY_SAME_BRIDGE = 2,  /* uplink: the port is in the uplink's bridge */
	VMQ_PORT_WHY_OTHER_BRIDGE = 3, /* stamp: in a bridge the uplink is not in */
	VMQ_PORT_WHY_BEYOND = 4,       /* stamp: ifindex >= VMQ_PORT_IFINDEX_MAX */
	VMQ_PORT_WHY_NO_ARRAY = 5,     /* stamp: the uplink's pins predate port resolution */
};

/*
 * Port resolution at the uplink (vmq_port_queues: one ARRAY per uplink,
 * pinned with its maps, key = the port's ifindex). At the uplink's egress
 * skb->ingress_ifindex is the VM port's when the host routes straight from
 * the port or bridges it in the uplink's own bridge, so vmq_tx can resolve
 * the port's queue itself: one hook per packet instead of two. Per uplink,
 * not host-wide: vmqd writes a binding into its own uplink's array only,
 * so the program needs no compare with skb->ifindex, and a bound port's
 * packet routed out of another uplink is never taken for that uplink's
 * queue. Ifindex 0 (the host's own sockets) is never bound. Ifindexes only
 * grow over a host's life (every tap a VM start makes takes a new one):
 * 16384 slots cost 64 KiB per uplink; a port beyond them is stamped.
 */
#define VMQ_PORT_IFINDEX_MAX  16384U
#define VMQ_PORT_SLOT_F_BOUND 0x1U

/* One word, stored in one 32-bit write (vmq_port_store) and loaded in one
 * read: a rebind is seen whole, old queue or new. */
struct vmq_port_slot {
	__u16 flags;	/* VMQ_PORT_SLOT_F_BOUND; 0: no binding on this ifindex */
	__u16 queue_id; /* the bound queue on this uplink */
};

/* Argument of the vmq_port_store syscall program. */
struct vmq_port_store_args {
	__u32 ifindex;
	struct vmq_port_slot slot;
};

/*
 * The receive side (vmq_rx: XDP on the uplink). A frame's (destination MAC,
 * VLAN ID) is looked up in vmq_rx_filters (hash) to find its VM queue, and
 * the queue's receive mode (vmq_rx_queues, array by queue ID) says where it
 * goes: its CPU through vmq_rx_cpus (cpumap, key = CPU), its port through
 * vmq_rx_ports (devmap, key = queue ID, value = the port's ifindex), or the
 * normal stack. A queue is live when its vmq_queues entry (shared with
 * vmq_tx) is not free; queue 0 always is. Frames that match no filter,
 * broadcast and multicast, and frames for a queue that is not live take the
 * default queue: XDP_PASS, counted by reason in vmq_rx_outcomes.
 */
#define VMQ_RX_FILTERS_MAX 16384U
/* The VLAN ID of an untagged (or priority-tagged, VID 0) frame. */
#define VMQ_RX_VLAN_NONE 0U
/* VLAN IDs a filter may carry: 1..4094 (0 is "none", 4095 is reserved). */
#define VMQ_RX_VLAN_MAX 4094U
/* Frames a cpumap entry queues for its CPU's kthread. */
#define VMQ_RX_CPU_QSIZE 2048U

/* Key of vmq_rx_filters: 8 bytes, no padding. */
struct vmq_rx_filter_key {
	__u8 mac[6]; /* destination MAC, as on the wire */
	__u16 vlan;  /* VLAN ID of the first 802.1Q/802.1ad tag, or VMQ_RX_VLAN_NONE */
};

struct vmq_rx_filter {
	__u32 queue_id;
	__u32 flags; /* 0 */
};

/* What a queue does with the frames its filters match. */
enum vmq_rx_mode {
	VMQ_RX_MODE_PASS = 0, /* the normal stack, counted (the default) */
	VMQ_RX_MODE_CPU = 1,  /* cpumap to CPU `cpu`: the stack runs there */
	VMQ_RX_MODE_PORT = 2, /* devmap to the queue's port: past bridge and host stack */
	VMQ_RX_MODES = 3,
};

/* Value of vmq_rx_queues (array, key = queue ID): one 32-bit word, stored
 * in one write (vmq_rx_store) and loaded in one read. */
struct vmq_rx_queue_entry {
	__u16 mode; /* enum vmq_rx_mode */
	__u16 cpu;  /* VMQ_RX_MODE_CPU: the CPU, a key of vmq_rx_cpus */
};

/* Argument of the vmq_rx_store syscall program. */
struct vmq_rx_store_args {
	__u32 id;
	struct vmq_rx_queue_entry entry;
};

/* Per-CPU counters of one queue ID (vmq_rx_queue_stats, array by ID). */
struct vmq_rx_queue_stats {
	__u64 packets; /* matched one of its filters and handled by its mode */
	__u64 bytes;
	__u64 fallback_packets; /* matched, but went to the default queue */
	__u64 fallback_bytes;
};

/* Per-CPU counters of what became of each frame (vmq_rx_outcomes, array by
 * outcome, struct vmq_counter). The first three are a queue's mode; the
 * rest are the default queue's reasons: XDP_PASS, never a drop. */
enum vmq_rx_outcome {
	VMQ_RX_TO_CPU = 0,    /* redirected to the queue's CPU */
	VMQ_RX_TO_PORT = 1,   /* redirected to the queue's port */
	VMQ_RX_TO_STACK = 2,  /* a queue in pass mode */
	VMQ_RX_UNMATCHED = 3, /* no filter for (MAC, VLAN) */
	VMQ_RX_BROADCAST = 4, /* ff:ff:ff:ff:ff:ff */
	VMQ_RX_MULTICAST = 5, /* group bit set, not broadcast */
	VMQ_RX_NOT_LIVE = 6,  /* a filter's queue that is free (or beyond the map) */
	VMQ_RX_NO_TARGET = 7, /* the queue's cpumap or devmap entry is missing */
	VMQ_RX_MALFORMED = 8, /* shorter than its Ethernet header or VLAN tag */
	VMQ_RX_OUTCOMES = 9,
};
#define VMQ_RX_FIRST_DEFAULT VMQ_RX_UNMATCHED

/* Load-time configuration of one uplink's program (its .rodata). */
struct vmq_config {
	__u32 mark_mask;  /* mark bits holding the queue ID */
	__u32 mark_shift; /* trailing zeros of mark_mask */
	__u32 abi_version;
	__u32 reserved;
};

_Static_assert(sizeof(struct vmq_queue_entry) == 4, "queue entry is one 32-bit word");
_Static_assert(sizeof(struct vmq_group_entry) == 4U + 2U * (VMQ_GROUP_TXQS_MAX + VMQ_GROUP_SLOTS),
	       "group entry has no padding");
_Static_assert(sizeof(struct vmq_queue_stats) == 40, "queue stats layout");
_Static_assert(sizeof(struct vmq_counter) == 16, "counter layout");
_Static_assert(sizeof(struct vmq_config) == 16, "config layout");
_Static_assert(sizeof(struct vmq_dev_info) == 16, "dev info layout");
_Static_assert(sizeof(struct vmq_queue_meta) == 72, "queue meta layout");
_Static_assert(sizeof(struct vmq_xps_saved) == 2U * VMQ_XPS_TEXT_LEN, "xps layout");
_Static_assert(sizeof(struct vmq_queue_store_args) == 16, "store args layout");
_Static_assert(sizeof(struct vmq_port_entry) == 24, "port entry layout");
_Static_assert(sizeof(struct vmq_port_slot) == 4, "port slot is one 32-bit word");
_Static_assert(sizeof(struct vmq_port_store_args) == 8, "port store args layout");
_Static_assert(VMQ_QUEUES_MAX - 1U <= 0xffffU, "a queue ID fits a port slot");
_Static_assert(VMQ_PORT_IFINDEX_MAX > 1U, "slot 0 is never bound");
_Static_assert(sizeof(VMQ_PORTS_PIN_DIR) > 16, "port pin dir cannot be an ifname");
_Static_assert(sizeof(struct vmq_rx_filter_key) == 8, "filter key has no padding");
_Static_assert(sizeof(struct vmq_rx_filter) == 8, "filter layout");
_Static_assert(sizeof(struct vmq_rx_queue_entry) == 4, "rx entry is one 32-bit word");
_Static_assert(sizeof(struct vmq_rx_store_args) == 8, "rx store args layout");
_Static_assert(sizeof(struct vmq_rx_queue_stats) == 32, "rx queue stats layout");
_Static_assert((VMQ_GROUP_SLOTS & (VMQ_GROUP_SLOTS - 1)) == 0, "slots are a power of two");
_Static_assert(VMQ_TXQ_MAX < 65535U, "queue_mapping holds txq + 1 in 16 bits");

#endif /* VMQ_ABI_H */
