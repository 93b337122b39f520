// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * What vmq needs to know and change about a network device outside BPF:
 * its real TX queue count, and XPS, which outranks the steering
 * (kernel-notes, general 2). Both live in sysfs, the only interface the
 * kernel gives XPS.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/gen_stats.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include "libvmq.h"

int vmq_netdev_txqs(const char *ifname, unsigned int *ntxqs)
{
	char path[PATH_MAX];
	struct dirent *de;
	unsigned int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? -ENODEV : -errno;
	while ((de = readdir(dir)))
		if (!strncmp(de->d_name, "tx-", 3))
			n++;
	closedir(dir);
	*ntxqs = n;
	return 0;
}

/* One XPS file of a TX queue, open: the fd, or -errno (-ENOENT: the
 * kernel has no XPS). */
static int xps_open(const char *ifname, unsigned int txq, const char *file, int flags)
{
	char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "/sys/class/net/%s/queues/tx-%u/%s", ifname, txq,
			 file);
	int fd;

	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Reads one XPS file; a missing file (no XPS support) reads as "". */
static int xps_read(const char *ifname, unsigned int txq, const char *file, char *text, size_t size)
{
	int fd = xps_open(ifname, txq, file, O_RDONLY), err;
	ssize_t len;

	text[0] = '\0';
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	len = read(fd, text, size - 1);
	err = len < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	while (len > 0 && isspace((unsigned char)text[len - 1]))
		len--;
	text[len] = '\0';
	return 0;
}

static int xps_write(const char *ifname, unsigned int txq, const char *file, const char *text)
{
	ssize_t len;
	int fd, err;

	if (!text[0])
		return 0;
	fd = xps_open(ifname, txq, file, O_WRONLY);
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	len = write(fd, text, strlen(text));
	err = len < 0 ? -errno : 0;
	close(fd);
	return err;
}

/* A sysfs cpumask ("00000000,00000003") or rxq mask with any bit set. */
bool vmq_xps_text_set(const char *text)
{
	for (; *text; text++)
		if (isxdigit((unsigned char)*text) && *text != '0')
			return true;
	return false;
}

int vmq_xps_read(const char *ifname, unsigned int txq, struct vmq_xps_saved *xps)
{
	int err = xps_read(ifname, txq, "xps_cpus", xps->cpus, sizeof(xps->cpus));

	if (!err)
		err = xps_read(ifname, txq, "xps_rxqs", xps->rxqs, sizeof(xps->rxqs));
	return err;
}

/*
 * Saves and clears XPS on TX queues 0..ntxqs-1. A queue already saved (a
 * re-attach, or a daemon that died half-way) keeps its first saved value,
 * which is the user's, not our zero. *cleared counts queues that had XPS.
 */
int vmq_xps_clear(const struct vmq_dev *dev, unsigned int ntxqs, unsigned int *cleared)
{
	*cleared = 0;
	for (__u32 q = 0; q < ntxqs; q++) {
		struct vmq_xps_saved now, saved;
		int err = vmq_xps_read(dev->ifname, q, &now);

		if (err)
			return err;
		if (bpf_map_lookup_elem(dev->xps_saved_fd, &q, &saved)) {
			if (bpf_map_update_elem(dev->xps_saved_fd, &q, &now, BPF_NOEXIST))
				return -errno;
		}
		if (vmq_xps_text_set(now.cpus) || vmq_xps_text_set(now.rxqs))
			(*cleared)++;
		if (now.cpus[0])
			err = xps_write(dev->ifname, q, "xps_cpus", "0");
		if (!err && now.rxqs[0])
			err = xps_write(dev->ifname, q, "xps_rxqs", "0");
		if (err)
			return err;
		vmq_fault_point("XPS of a TX queue cleared");
	}
	return 0;
}

/* Puts back what vmq_xps_clear saved, and forgets it. */
int vmq_xps_restore(const struct vmq_dev *dev)
{
	struct vmq_xps_saved saved;
	int err = 0;
	__u32 q;

	/* Each pass takes the first key left: deleting while walking is safe. */
	while (!bpf_map_get_next_key(dev->xps_saved_fd, NULL, &q)) {
		if (!bpf_map_lookup_elem(dev->xps_saved_fd, &q, &saved)) {
			int e1 = xps_write(dev->ifname, q, "xps_cpus", saved.cpus);
			int e2 = xps_write(dev->ifname, q, "xps_rxqs", saved.rxqs);

			if (!err)
				err = e1 ? e1 : e2;
		}
		if (bpf_map_delete_elem(dev->xps_saved_fd, &q))
			return -errno;
	}
	return err;
}

/* TX queues whose XPS was set when vmq cleared it. */
int vmq_xps_cleared_count(const struct vmq_dev *dev, unsigned int *count)
{
	struct vmq_xps_saved saved;
	int err;
	__u32 q;

	*count = 0;
	for (err = bpf_map_get_next_key(dev->xps_saved_fd, NULL, &q); !err;
	     err = bpf_map_get_next_key(dev->xps_saved_fd, &q, &q))
		if (!bpf_map_lookup_elem(dev->xps_saved_fd, &q, &saved) &&
		    (vmq_xps_text_set(saved.cpus) || vmq_xps_text_set(saved.rxqs)))
			(*count)++;
	return err == -ENOENT ? 0 : err;
}

/* mq's classes are its TX queues: class X:(q+1) is TX queue q. */
struct mq_classes {
	unsigned int ntxqs;
	struct vmq_txq_kernel *out;
};

static int mq_class(const struct nlmsghdr *nh, void *arg)
{
	const struct tcmsg *tc = NLMSG_DATA(nh);
	const struct rtattr *kind = vmq_nl_attr(nh, sizeof(*tc), TCA_KIND);
	const struct rtattr *stats = vmq_nl_attr(nh, sizeof(*tc), TCA_STATS2);
	const struct rtattr *basic = stats ? vmq_nl_nested(stats, TCA_STATS_BASIC) : NULL;
	const struct rtattr *pkt64 = stats ? vmq_nl_nested(stats, TCA_STATS_PKT64) : NULL;
	struct mq_classes *c = arg;
	struct gnet_stats_basic b;
	__u32 q = TC_H_MIN(tc->tcm_handle) - 1;

	if (nh->nlmsg_type != RTM_NEWTCLASS || tc->tcm_parent != TC_H_ROOT || !kind ||
	    strcmp(RTA_DATA(kind), "mq") || !basic || RTA_PAYLOAD(basic) < 12 || q >= c->ntxqs)
		return 0;
	memcpy(&b.bytes, RTA_DATA(basic), sizeof(b.bytes));
	memcpy(&b.packets, (const char *)RTA_DATA(basic) + 8, sizeof(b.packets));
	c->out[q].has_counters = true;
	c->out[q].bytes = b.bytes;
	c->out[q].packets = b.packets;
	/* 32-bit packets wrap: the 64-bit attribute, where the kernel has it. */
	if (pkt64 && RTA_PAYLOAD(pkt64) >= sizeof(__u64))
		memcpy(&c->out[q].packets, RTA_DATA(pkt64), sizeof(__u64));
	return 0;
}

static bool read_u64_file(const char *path, __u64 *v)
{
	char buf[32];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return sscanf(buf, "%llu", (unsigned long long *)v) == 1;
}

/*
 * The kernel's own figures of TX queues 0..ntxqs-1: mq class counters when
 * the root qdisc is mq, BQL's bytes in flight where the driver has BQL.
 */
int vmq_netdev_txq_kernel(const char *ifname, int ifindex, unsigned int ntxqs,
			  struct vmq_txq_kernel *out)
{
	struct mq_classes c = { .ntxqs = ntxqs, .out = out };
	char path[PATH_MAX];

	memset(out, 0, ntxqs * sizeof(*out));
	for (unsigned int q = 0; q < ntxqs; q++) {
		snprintf(path, sizeof(path),
			 "/sys/class/net/%s/queues/tx-%u/byte_queue_limits/inflight", ifname, q);
		out[q].has_bql = read_u64_file(path, &out[q].bql_inflight);
	}
	return vmq_nl_tc_dump(RTM_GETTCLASS, ifindex, 0, mq_class, &c);
}
