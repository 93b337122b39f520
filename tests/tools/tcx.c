// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vmq-tcx: what bpftool 7.1 and tc cannot do with tcx links, for the
 * integration tests.
 *
 *   vmq-tcx attach DEV ingress|egress first|last NAME PIN
 *       loads a program named NAME that does nothing (returns TCX_NEXT, so
 *       the chain goes on), attaches it to DEV's tcx hook at the head
 *       (BPF_F_BEFORE: "run before everything there") or the tail
 *       (BPF_F_AFTER), and pins the link at PIN. Removing PIN detaches it.
 *   vmq-tcx query DEV ingress|egress
 *       prints the tcx chain in run order, one "PROG_ID NAME" line each.
 *
 * Exit 0, or 1 with the reason on stderr.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>

#include "tcx_uapi.h"

static int usage(void)
{
	fprintf(stderr, "usage: vmq-tcx attach DEV ingress|egress first|last NAME PIN\n"
			"       vmq-tcx query DEV ingress|egress\n");
	return 1;
}

static int attach(unsigned int ifindex, __u32 type, __u32 flags, const char *name, const char *pin)
{
	/* r0 = -1 (TCX_NEXT); exit */
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = -1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	struct vmq_tcx_link_create_attr attr = {
		.target_ifindex = ifindex,
		.attach_type = type,
		.flags = flags,
	};
	int prog, link;

	prog = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, name, "GPL", insns, 2, NULL);
	if (prog < 0) {
		fprintf(stderr, "vmq-tcx: loading program %s: %s\n", name, strerror(errno));
		return 1;
	}
	attr.prog_fd = (__u32)prog;
	link = (int)syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	if (link < 0) {
		fprintf(stderr, "vmq-tcx: tcx link of %s on ifindex %u: %s\n", name, ifindex,
			strerror(errno));
		return 1;
	}
	if (bpf_obj_pin(link, pin)) {
		fprintf(stderr, "vmq-tcx: pinning the link at %s: %s\n", pin, strerror(errno));
		return 1;
	}
	return 0;
}

static int query(unsigned int ifindex, __u32 type)
{
	__u32 ids[64] = { 0 };
	struct vmq_tcx_query_attr attr = {
		.target_ifindex = ifindex,
		.attach_type = type,
		.prog_ids = (__u64)(unsigned long)ids,
		.count = 64,
	};

	if (syscall(__NR_bpf, BPF_PROG_QUERY, &attr, sizeof(attr)) < 0) {
		fprintf(stderr, "vmq-tcx: querying ifindex %u: %s\n", ifindex, strerror(errno));
		return 1;
	}
	for (__u32 i = 0; i < attr.count && i < 64; i++) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);
		int fd = bpf_prog_get_fd_by_id(ids[i]);

		if (fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len))
			info.name[0] = '\0';
		if (fd >= 0)
			close(fd);
		printf("%u %s\n", ids[i], info.name[0] ? info.name : "-");
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int ifindex;
	__u32 type;

	if (argc < 4)
		return usage();
	ifindex = if_nametoindex(argv[2]);
	if (!ifindex) {
		fprintf(stderr, "vmq-tcx: %s: no such device\n", argv[2]);
		return 1;
	}
	if (!strcmp(argv[3], "ingress"))
		type = VMQ_BPF_TCX_INGRESS;
	else if (!strcmp(argv[3], "egress"))
		type = VMQ_BPF_TCX_EGRESS;
	else
		return usage();
	if (!strcmp(argv[1], "query") && argc == 4)
		return query(ifindex, type);
	if (!strcmp(argv[1], "attach") && argc == 7 &&
	    (!strcmp(argv[4], "first") || !strcmp(argv[4], "last")))
		return attach(ifindex, type,
			      !strcmp(argv[4], "first") ? VMQ_BPF_F_BEFORE : VMQ_BPF_F_AFTER,
			      argv[5], argv[6]);
	return usage();
}
