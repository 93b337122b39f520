// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Request lines as vmqd receives them, one per input line, in order, all
 * against one vmqd on the fake kernel (fake_kernel.c): "dev attach up0"
 * then "queue add" reach the handlers' deep ends. Every answer must be a
 * strict JSON line in UTF-8, and "malformed" only for what is not a JSON
 * object.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fake_kernel.h"
#include "vmqd/log.h"
#include "vmqd/vmqd.h"

/* Each run gets a fresh daemon: no state carries from one input to the next. */
static void run_lines(const char *data, size_t size)
{
	struct vmqd d;
	size_t start = 0;

	if (vmqd_init(&d, "/fuzz/bpffs"))
		abort();
	while (start < size) {
		const char *nl = memchr(data + start, '\n', size - start);
		size_t len = nl ? (size_t)(nl - (data + start)) : size - start;
		bool malformed = false;
		char *answer;

		answer = vmqd_handle_line(&d, data + start, len, &malformed);
		if (!answer)
			abort();
		fuzz_check_answer(answer, strlen(answer));
		free(answer);
		start += len + 1;
	}
	vmqd_fini(&d);
	fake_kernel_reset();
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
	run_lines((const char *)data, size);
	return 0;
}
