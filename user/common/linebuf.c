// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Line framing: a growable buffer, capped, that hands out complete lines. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "linebuf.h"

/* Small answers stay small; a 64 MiB "queue show" grows by doubling. */
#define LINEBUF_MIN_SIZE 4096

void vmq_linebuf_init(struct vmq_linebuf *lb, size_t max)
{
	memset(lb, 0, sizeof(*lb));
	lb->max = max;
}

void vmq_linebuf_free(struct vmq_linebuf *lb)
{
	free(lb->buf);
	vmq_linebuf_init(lb, lb->max);
}

/* Moves the unread bytes to the front, then makes room for at least one. */
static int linebuf_make_room(struct vmq_linebuf *lb)
{
	size_t size;
	char *buf;

	if (lb->start) {
		memmove(lb->buf, lb->buf + lb->start, lb->len - lb->start);
		lb->len -= lb->start;
		lb->scanned -= lb->start;
		lb->start = 0;
	}
	if (lb->len < lb->size)
		return 0;
	/* A line of max bytes is all we ever need to hold unread. */
	if (lb->size >= lb->max)
		return -EMSGSIZE;
	size = lb->size ? lb->size * 2 : LINEBUF_MIN_SIZE;
	if (size > lb->max)
		size = lb->max;
	buf = realloc(lb->buf, size);
	if (!buf)
		return -ENOMEM;
	lb->buf = buf;
	lb->size = size;
	return 0;
}

ssize_t vmq_linebuf_fill(struct vmq_linebuf *lb, int fd)
{
	ssize_t n;
	int err;

	err = linebuf_make_room(lb);
	if (err)
		return err;
	do
		n = read(fd, lb->buf + lb->len, lb->size - lb->len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	lb->len += (size_t)n;
	return n;
}

ssize_t vmq_linebuf_put(struct vmq_linebuf *lb, const void *data, size_t len)
{
	int err;

	if (!len)
		return 0;
	err = linebuf_make_room(lb);
	if (err)
		return err;
	if (len > lb->size - lb->len)
		len = lb->size - lb->len;
	memcpy(lb->buf + lb->len, data, len);
	lb->len += len;
	return (ssize_t)len;
}

int vmq_linebuf_next(struct vmq_linebuf *lb, char **line, size_t *len)
{
	char *nl;
	size_t n;

	nl = lb->len > lb->scanned ? memchr(lb->buf + lb->scanned, '\n', lb->len - lb->scanned)
				   : NULL;
	if (!nl) {
		lb->scanned = lb->len;
		/* Even if the newline came next, the line would be too long. */
		return lb->len - lb->start >= lb->max ? -EMSGSIZE : 0;
	}
	n = (size_t)(nl - (lb->buf + lb->start));
	if (n + 1 > lb->max)
		return -EMSGSIZE;
	*nl = '\0';
	*line = lb->buf + lb->start;
	*len = n;
	lb->start = lb->scanned = (size_t)(nl - lb->buf) + 1;
	return 1;
}

bool vmq_linebuf_has_line(const struct vmq_linebuf *lb)
{
	/* buf[start..scanned) holds no newline: only the rest is looked at. */
	return lb->len > lb->scanned && memchr(lb->buf + lb->scanned, '\n', lb->len - lb->scanned);
}
