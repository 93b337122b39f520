// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The socket's line framing, both ends, with the input cut at points the
 * fuzzer picks: vmqd's client (server.c, on linebuf.c) must answer exactly as it
 * does with the input arriving in the largest pieces it takes, and
 * vmqctl's line buffer (linebuf.c) must hand out exactly the lines a plain
 * split finds, with -EMSGSIZE where a line reaches its limit.
 *
 * Input: byte 0 picks the line buffer's limit, bytes 1..8 seed the cuts,
 * the rest is the stream.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_kernel.h"
#include "linebuf.h"
#include "proto.h"
#include "vmqd/log.h"
#include "vmqd/server.h"

/* xorshift: the cut points, reproducible from the input. */
static size_t next_cut(uint64_t *s, size_t left)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	/* Mostly small pieces, sometimes large ones. */
	return 1 + (size_t)(*s % ((*s >> 60) ? 16 : left));
}

/* Feeds the stream to a fresh client, pieces of at most `cut` (0: as much
 * as fits); returns everything answered. */
static char *serve(struct vmqd *d, const char *data, size_t size, uint64_t seed, size_t *out_len)
{
	struct vmqd_client c;
	size_t off = 0;
	char *out;

	vmqd_client_init(&c, -1);
	/* A client that sent nothing yet: server.c runs it through the same
	 * path before its first byte (no buffer yet). */
	if (vmqd_client_process(&c, d))
		abort();
	while (!c.closing) {
		size_t piece = size - off;
		ssize_t n;

		if (seed && piece) {
			size_t k = next_cut(&seed, piece);

			piece = k < piece ? k : piece;
		}
		n = vmqd_client_input(&c, data + off, piece);
		if (n < 0)
			abort();
		off += (size_t)n;
		do {
			if (vmqd_client_process(&c, d))
				abort();
		} while (c.pending && !c.closing);
		if (off == size || (!n && !c.pending))
			break;
	}
	out = c.out;
	*out_len = c.out_len;
	if (!out)
		out = calloc(1, 1);
	c.out = NULL;
	vmqd_client_release(&c);
	return out;
}

static void check_answers(const char *out, size_t len)
{
	size_t start = 0;

	while (start < len) {
		const char *nl = memchr(out + start, '\n', len - start);

		if (!nl)
			abort(); /* every answer ends its line */
		fuzz_check_answer(out + start, (size_t)(nl - out - start) + 1);
		start = (size_t)(nl - out) + 1;
	}
}

static void server_framing(const char *data, size_t size, uint64_t seed)
{
	struct vmqd d;
	size_t whole_len, cut_len;
	char *whole, *cut;

	if (vmqd_init(&d, "/fuzz/bpffs"))
		abort();
	whole = serve(&d, data, size, 0, &whole_len);
	vmqd_fini(&d);
	fake_kernel_reset();
	if (vmqd_init(&d, "/fuzz/bpffs"))
		abort();
	cut = serve(&d, data, size, seed | 1, &cut_len);
	vmqd_fini(&d);
	fake_kernel_reset();
	if (whole_len != cut_len || memcmp(whole, cut, whole_len)) {
		fprintf(stderr, "answers differ with the input cut:\n%.*s\n--- versus ---\n%.*s\n",
			(int)whole_len, whole, (int)cut_len, cut);
		abort();
	}
	check_answers(whole, whole_len);
	free(whole);
	free(cut);
}

static void client_framing(const char *data, size_t size, size_t max, uint64_t seed)
{
	struct vmq_linebuf lb;
	size_t off = 0, ref = 0;
	bool done = false;

	vmq_linebuf_init(&lb, max);
	while (!done) {
		char *line;
		size_t len;
		int rc = vmq_linebuf_next(&lb, &line, &len);

		if (rc == 1) {
			/* The same line a plain split finds, within the limit. */
			const char *nl = memchr(data + ref, '\n', size - ref);

			if (!nl || (size_t)(nl - data - ref) != len || len + 1 > max ||
			    memcmp(line, data + ref, len) || line[len])
				abort();
			ref += len + 1;
			continue;
		}
		if (rc == -EMSGSIZE) {
			/* Only for a line that reaches the limit. */
			const char *nl = memchr(data + ref, '\n', size - ref);
			size_t want = nl ? (size_t)(nl - data - ref) : size - ref;

			if (want < max)
				abort();
			break;
		}
		if (rc)
			abort();
		if (off == size) {
			/* What is left is an unfinished line shorter than the limit. */
			if (memchr(data + ref, '\n', size - ref) || size - ref >= max)
				abort();
			break;
		}
		{
			size_t piece = next_cut(&seed, size - off);
			ssize_t n = vmq_linebuf_put(&lb, data + off,
						    piece < size - off ? piece : size - off);

			if (n == -EMSGSIZE) {
				/* Full of one unfinished line, as long as the limit. */
				done = true;
				if (off - ref < max || memchr(data + ref, '\n', off - ref))
					abort();
			} else if (n <= 0) {
				abort();
			} else {
				off += (size_t)n;
			}
		}
	}
	vmq_linebuf_free(&lb);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	vmqd_log_init(VMQD_LOG_ERR);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t seed = 0;
	size_t max;

	if (size < 9)
		return 0;
	/* Small limits find the edges; 4096 is the buffer's first size. */
	max = data[0] == 0xff ? 4097 : 1 + data[0] % 80;
	memcpy(&seed, data + 1, sizeof(seed));
	seed |= 1;
	client_framing((const char *)data + 9, size - 9, max, seed);
	server_framing((const char *)data + 9, size - 9, seed);
	return 0;
}
