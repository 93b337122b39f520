/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The fuzzers' kernel (fake_kernel.c): links lo, up0 (8 TX queues), up1
 * (4), up2 (1024), vm0, vm1, tap0, tap1 (in bridge br0), br0, vnet0; BPF
 * maps in memory. Also the checks every harness makes of vmqd's answers.
 */
#ifndef VMQ_FAKE_KERNEL_H
#define VMQ_FAKE_KERNEL_H

#include <stdbool.h>
#include <stddef.h>

/* The queue map's size when a request leaves it out: VMQ_QUEUES_DEFAULT
 * would make each run loop over 4096 entries many times over. */
#define FAKE_QUEUES_DEFAULT 64U

/* Forgets every map and program: the next vmqd starts on a clean host. */
void fake_kernel_reset(void);

/* Aborts unless text[0..len) is one answer line as docs/protocol.md has
 * it: a strict JSON object in UTF-8 with "version" and boolean "ok", then
 * a newline. */
void fuzz_check_answer(const char *text, size_t len);

#endif /* VMQ_FAKE_KERNEL_H */
