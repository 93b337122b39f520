/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The parts of the kernel 6.6 BPF uapi that tcx needs, defined here because
 * the build's linux/bpf.h (Debian 12: 6.1) and libbpf (1.1) predate tcx:
 * the attach types, the multi-program ordering flags, and the layouts of
 * BPF_LINK_CREATE, BPF_PROG_QUERY and the link info that carry the tcx
 * fields. Each layout is the kernel's, member for member; the asserts pin
 * the offsets. Used through the raw bpf(2) syscall (docs/kernel-notes.md).
 */
#ifndef VMQ_TCX_UAPI_H
#define VMQ_TCX_UAPI_H

#include <linux/types.h>

/* enum bpf_attach_type */
#define VMQ_BPF_TCX_INGRESS 46
#define VMQ_BPF_TCX_EGRESS  47

/* enum bpf_link_type */
#define VMQ_BPF_LINK_TYPE_TCX 11

/* Flags of BPF_LINK_CREATE / BPF_PROG_ATTACH for multi-program hooks. */
#define VMQ_BPF_F_BEFORE (1U << 3)
#define VMQ_BPF_F_AFTER	 (1U << 4)
#define VMQ_BPF_F_ID	 (1U << 5)
#define VMQ_BPF_F_LINK	 (1U << 13)

/* union bpf_attr, BPF_LINK_CREATE, with link_create.tcx. */
struct vmq_tcx_link_create_attr {
	__u32 prog_fd;
	__u32 target_ifindex;
	__u32 attach_type;
	__u32 flags;
	__u32 relative_fd_or_id;
	__u32 pad;
	__u64 expected_revision;
};

/* union bpf_attr, BPF_PROG_QUERY, with link_ids and revision. */
struct vmq_tcx_query_attr {
	__u32 target_ifindex;
	__u32 attach_type;
	__u32 query_flags;
	__u32 attach_flags;
	__u64 prog_ids;
	__u32 count;
	__u32 pad;
	__u64 prog_attach_flags;
	__u64 link_ids;
	__u64 link_attach_flags;
	__u64 revision;
};

/* struct bpf_link_info, up to link_info.tcx. */
struct vmq_tcx_link_info {
	__u32 type;
	__u32 id;
	__u32 prog_id;
	__u32 pad;
	__u32 ifindex; /* 0 once the device is gone: the link is defunct */
	__u32 attach_type;
};

_Static_assert(__builtin_offsetof(struct vmq_tcx_link_create_attr, relative_fd_or_id) == 16,
	       "link_create.tcx.relative_fd");
_Static_assert(__builtin_offsetof(struct vmq_tcx_link_create_attr, expected_revision) == 24,
	       "link_create.tcx.expected_revision");
_Static_assert(__builtin_offsetof(struct vmq_tcx_query_attr, link_ids) == 40, "query.link_ids");
_Static_assert(__builtin_offsetof(struct vmq_tcx_query_attr, revision) == 56, "query.revision");
_Static_assert(__builtin_offsetof(struct vmq_tcx_link_info, ifindex) == 16, "link_info.tcx");

#endif /* VMQ_TCX_UAPI_H */
