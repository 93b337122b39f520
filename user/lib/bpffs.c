// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Pins need a bpffs. `ip netns exec` remounts /sys (kernel-notes, general 4), so a
 * pin directory may sit on a plain filesystem: mount a bpffs on it.
 */
#include <errno.h>
#include <limits.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "libvmq.h"

bool vmq_is_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && (unsigned long)st.f_type == (unsigned long)BPF_FS_MAGIC;
}

int vmq_mkdir_p(const char *dir, unsigned int mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(dir);

	if (!len || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, dir, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

static int mount_bpffs(const char *dir)
{
	if (mount("bpf", dir, "bpf", 0, "mode=0700"))
		return -errno;
	return 0;
}

/*
 * Makes `dir` a directory on a bpffs: nothing to do if it is one, else
 * mount a bpffs on it (or on /sys/fs/bpf when dir lies under an unmounted
 * /sys/fs/bpf, where sysfs refuses mkdir). *mounted says whether we did.
 */
int vmq_bpffs_ensure(const char *dir, bool *mounted)
{
	static const char sys_bpf[] = "/sys/fs/bpf";
	int err;

	*mounted = false;
	if (vmq_is_bpffs(dir))
		return 0;
	err = vmq_mkdir_p(dir, 0700);
	if (err && !strncmp(dir, sys_bpf, strlen(sys_bpf)) && !vmq_is_bpffs(sys_bpf)) {
		err = mount_bpffs(sys_bpf);
		if (err)
			return err;
		*mounted = true;
		return vmq_mkdir_p(dir, 0700);
	}
	if (err)
		return err;
	if (vmq_is_bpffs(dir))
		return 0;
	err = mount_bpffs(dir);
	if (!err)
		*mounted = true;
	return err;
}

/*
 * A device's pin directory name: its interface name with '.' written
 * "%2e" and '%' written "%25" (bpffs refuses a name with a dot; the kernel
 * takes '%' in a name as a template, so no real name has one). Every other
 * name is its own pin name.
 */
int vmq_pin_name_encode(const char *ifname, char *buf, size_t size)
{
	size_t n = 0;

	for (const char *c = ifname; *c; c++) {
		const char *out = *c == '.' ? "%2e" : *c == '%' ? "%25" : NULL;
		size_t len = out ? 3 : 1;

		if (n + len >= size)
			return -ENAMETOOLONG;
		memcpy(buf + n, out ? out : c, len);
		n += len;
	}
	if (!n || n >= size)
		return -EINVAL;
	buf[n] = '\0';
	return 0;
}

/* The interface name of a pin directory: -EINVAL for a name no
 * vmq_pin_name_encode makes (a ':' marks an unfinished load). */
int vmq_pin_name_decode(const char *pin, char *ifname, size_t size)
{
	size_t n = 0;

	for (const char *c = pin; *c; c++) {
		char ch = *c;

		if (ch == '.' || ch == ':' || ch == '/')
			return -EINVAL;
		if (ch == '%') {
			if (!strncmp(c, "%2e", 3))
				ch = '.';
			else if (!strncmp(c, "%25", 3))
				ch = '%';
			else
				return -EINVAL;
			c += 2;
		}
		if (n + 1 >= size)
			return -ENAMETOOLONG;
		ifname[n++] = ch;
	}
	if (!n)
		return -EINVAL;
	ifname[n] = '\0';
	return 0;
}
