// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * One vmqd per pin directory. Two that adopt the same pins each keep their
 * own idea of the state (policies, pending requests, the state file), and
 * edits made through one are lost to the other. A flock on the directory
 * itself (a bpffs holds no plain files) dies with its process, so a
 * killed vmqd never leaves a stale lock behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "log.h"
#include "vmqd.h"

/* The pid holding a flock on the inode, from /proc/locks; 0 if not found. */
static long lock_holder(const struct stat *st)
{
	FILE *f = fopen("/proc/locks", "re");
	char line[256];
	long pid = 0;

	if (!f)
		return 0;
	while (!pid && fgets(line, sizeof(line), f)) {
		unsigned int maj, min;
		unsigned long ino;
		char type[16];
		long p;

		/* "1: FLOCK  ADVISORY  WRITE 1234 00:2d:5678 0 EOF" */
		if (sscanf(line, "%*d: %15s %*s %*s %ld %x:%x:%lu", type, &p, &maj, &min, &ino) !=
		    5)
			continue;
		if (!strcmp(type, "FLOCK") && maj == major(st->st_dev) &&
		    min == minor(st->st_dev) && ino == st->st_ino)
			pid = p;
	}
	fclose(f);
	return pid;
}

int vmqd_lock_dir(const char *dir, int *fd_out)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;
	long pid;

	if (fd < 0) {
		log_err("%s: cannot open it to lock it: %s", dir, strerror(errno));
		return -errno;
	}
	if (!flock(fd, LOCK_EX | LOCK_NB)) {
		*fd_out = fd;
		return 0;
	}
	if (errno != EWOULDBLOCK) {
		int err = -errno;

		log_err("%s: cannot lock it: %s", dir, strerror(-err));
		close(fd);
		return err;
	}
	pid = fstat(fd, &st) ? 0 : lock_holder(&st);
	if (pid > 0)
		log_err("%s: another vmqd (pid %ld) serves this pin directory; stop it first, or "
			"give this one another --bpffs-dir",
			dir, pid);
	else
		log_err("%s: another vmqd serves this pin directory; stop it first, or give "
			"this one another --bpffs-dir",
			dir);
	close(fd);
	return -EBUSY;
}
