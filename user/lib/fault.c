// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Crash points for tests: attach and detach must survive a kill at any
 * step. Compiled in always, honoured only when VMQ_FAULT_STEP=N is set:
 * the Nth point reached kills the process as kill -9 would.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "libvmq.h"

void vmq_fault_point(const char *what)
{
	static long step = -1, seen;

	if (step < 0) {
		const char *v = getenv("VMQ_FAULT_STEP");

		step = v ? strtol(v, NULL, 10) : 0;
	}
	if (step <= 0 || ++seen != step)
		return;
	fprintf(stderr, "vmq: VMQ_FAULT_STEP=%ld: killed after \"%s\"\n", step, what);
	fflush(stderr);
	raise(SIGKILL);
}
