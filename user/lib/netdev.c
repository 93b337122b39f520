// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * What vmq needs to know and change about a network device outside BPF:
 * its real TX queue count, and XPS, which outranks the steering (brief,
 * fact 2). Both live in sysfs, the only interface the kernel gives XPS.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

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

static int xps_path(char *buf, size_t size, const char *ifname, unsigned int txq, const char *file)
{
	int n = snprintf(buf, size, "/sys/class/net/%s/queues/tx-%u/%s", ifname, txq, file);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Reads one XPS file; a missing file (no XPS support) reads as "". */
static int xps_read(const char *ifname, unsigned int txq, const char *file, char *text, size_t size)
{
	char path[PATH_MAX];
	ssize_t len;
	int fd, err;

	text[0] = '\0';
	err = xps_path(path, sizeof(path), ifname, txq, file);
	if (err)
		return err;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
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
	char path[PATH_MAX];
	ssize_t len;
	int fd, err;

	if (!text[0])
		return 0;
	err = xps_path(path, sizeof(path), ifname, txq, file);
	if (err)
		return err;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
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
