// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vmqd --metrics [ADDR:]PORT: the input is the argument (cut at its first
 * NUL, as argv would be). An address it takes prints as text that parses
 * back to the same address; one it refuses says why.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmqd/metrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmq_listen_addr a, b;
	char *arg = malloc(size + 1), why[128] = "";

	if (!arg)
		return 0;
	memcpy(arg, data, size);
	arg[size] = '\0';
	if (!vmq_parse_listen_addr(arg, VMQD_METRICS_ADDR_DEFAULT, &a, why, sizeof(why))) {
		if (!memchr(a.text, '\0', sizeof(a.text)) ||
		    vmq_parse_listen_addr(a.text, VMQD_METRICS_ADDR_DEFAULT, &b, why,
					  sizeof(why)) ||
		    a.len != b.len || memcmp(&a.ss, &b.ss, a.len) || strcmp(a.text, b.text)) {
			fprintf(stderr, "\"%s\" -> \"%s\" does not parse back (%s)\n", arg, a.text,
				why);
			abort();
		}
	} else if (!why[0]) {
		abort();
	}
	free(arg);
	return 0;
}
