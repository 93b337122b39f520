/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Shared by the CMocka suites. A suite that needs the kernel enters a
 * private network and mount namespace with its own bpffs: whatever it
 * creates (qdiscs, pins, mounts) vanishes with the process, even when a
 * test fails half-way.
 */
#ifndef VMQ_TEST_H
#define VMQ_TEST_H

#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>
#include <net/if.h>
#include <cmocka.h>

/* Exit code that tells tests/run.sh a suite was skipped, not failed. */
#define VMQ_TEST_SKIP 77

static char vmq_test_bpffs[64];

static void vmq_test_link_up(const char *ifname)
{
	struct ifreq ifr = {};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (!ioctl(fd, SIOCGIFFLAGS, &ifr)) {
		ifr.ifr_flags |= IFF_UP;
		ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
}

/* Returns the bpffs directory of the sandbox; exits 77 when not root. */
static inline const char *vmq_test_sandbox(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "skipped: needs root (BPF, namespaces)\n");
		exit(VMQ_TEST_SKIP);
	}
	if (unshare(CLONE_NEWNET | CLONE_NEWNS)) {
		fprintf(stderr, "unshare: %s\n", strerror(errno));
		exit(1);
	}
	/* Our mounts must not propagate back to the host namespace. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		fprintf(stderr, "mount --make-rprivate /: %s\n", strerror(errno));
		exit(1);
	}
	snprintf(vmq_test_bpffs, sizeof(vmq_test_bpffs), "/tmp/vmq-test-XXXXXX");
	if (!mkdtemp(vmq_test_bpffs)) {
		fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
		exit(1);
	}
	if (mount("bpf", vmq_test_bpffs, "bpf", 0, "mode=0700")) {
		fprintf(stderr, "mount bpffs: %s\n", strerror(errno));
		rmdir(vmq_test_bpffs);
		exit(1);
	}
	/* Like `ip netns exec`: a sysfs that shows this namespace's devices. */
	if (umount2("/sys", MNT_DETACH) || mount("sysfs", "/sys", "sysfs", 0, NULL)) {
		fprintf(stderr, "remount /sys: %s\n", strerror(errno));
		exit(1);
	}
	vmq_test_link_up("lo");
	return vmq_test_bpffs;
}

/* A veth pair with ntxqs TX queues on each end, up, in the sandbox. */
static inline int vmq_test_veth(const char *name, const char *peer, unsigned int ntxqs)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd),
		 "ip link add %s numtxqueues %u numrxqueues %u type veth peer name %s "
		 "numtxqueues %u numrxqueues %u && ip link set %s up && ip link set %s up",
		 name, ntxqs, ntxqs, peer, ntxqs, ntxqs, name, peer);
	return system(cmd);
}

/* The mount dies with the namespace; the directory under /tmp does not. */
static inline void vmq_test_sandbox_done(void)
{
	if (vmq_test_bpffs[0]) {
		umount2(vmq_test_bpffs, MNT_DETACH);
		rmdir(vmq_test_bpffs);
	}
}

#endif /* VMQ_TEST_H */
