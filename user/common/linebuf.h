/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Line framing for the control socket (docs/protocol.md): bytes in, complete
 * lines out. It never blocks by itself, so the same buffer serves a blocking
 * client and a non-blocking server: read with vmq_linebuf_fill() when
 * vmq_linebuf_next() has no complete line left.
 */
#ifndef VMQ_LINEBUF_H
#define VMQ_LINEBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct vmq_linebuf {
	char *buf;
	size_t size;	/* allocated */
	size_t start;	/* first byte not yet handed out as a line */
	size_t scanned; /* buf[start..scanned) holds no newline */
	size_t len;	/* bytes held, buf[0..len) */
	size_t max;	/* longest line accepted, its newline included */
};

void vmq_linebuf_init(struct vmq_linebuf *lb, size_t max);
void vmq_linebuf_free(struct vmq_linebuf *lb);

/*
 * One read(2) into the buffer: bytes read, 0 at end of file, or -errno
 * (-EAGAIN on a non-blocking descriptor with nothing to read). Invalidates
 * the lines handed out so far.
 */
ssize_t vmq_linebuf_fill(struct vmq_linebuf *lb, int fd);

/* The same from memory (the fuzzer): bytes taken, at most len, or -errno. */
ssize_t vmq_linebuf_put(struct vmq_linebuf *lb, const void *data, size_t len);

/*
 * The next complete line, its newline replaced by a NUL: 1 and *line, *len
 * set; 0 when no complete line is held yet; -EMSGSIZE when the line is, or
 * already must be, longer than max. The line stays valid until the next fill.
 */
int vmq_linebuf_next(struct vmq_linebuf *lb, char **line, size_t *len);

/* Whether vmq_linebuf_next() would hand out a line now. */
bool vmq_linebuf_has_line(const struct vmq_linebuf *lb);

/* Bytes of a line begun but not finished (for idle timeouts). */
static inline size_t vmq_linebuf_pending(const struct vmq_linebuf *lb)
{
	return lb->len - lb->start;
}

#endif /* VMQ_LINEBUF_H */
