// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Writing everything: the state file (vmqd), a request (vmqctl). */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

int vmq_write_all(int fd, const void *buf, size_t len, bool sock)
{
	const char *p = buf;

	while (len) {
		ssize_t n = sock ? send(fd, p, len, MSG_NOSIGNAL) : write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
