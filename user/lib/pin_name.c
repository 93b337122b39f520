// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Pin directory names of devices: pure string work, apart from the bpffs. */
#include <errno.h>
#include <string.h>

#include "libvmq.h"

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
