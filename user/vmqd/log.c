// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "log.h"

static enum vmqd_log_level max_level = VMQD_LOG_INFO;

static const char *const level_names[] = {
	[VMQD_LOG_ERR] = "error",
	[VMQD_LOG_WARN] = "warning",
	[VMQD_LOG_INFO] = "info",
	[VMQD_LOG_DEBUG] = "debug",
};

static void vlog(enum vmqd_log_level level, const char *fmt, va_list ap)
{
	char line[1024];
	size_t len;

	if (level > max_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	len = strlen(line);
	while (len && line[len - 1] == '\n')
		line[--len] = '\0';
	/* One write per line: journald and tests read whole lines. */
	fprintf(stderr, "vmqd: %s: %s\n", level_names[level], line);
}

void vmqd_log(enum vmqd_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

/* libbpf warns about things we probe on purpose (an absent qdisc): its
 * warnings are debug detail to us, our callers report what matters. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	vlog(VMQD_LOG_DEBUG, fmt, ap);
	return 0;
}

void vmqd_log_init(enum vmqd_log_level level)
{
	max_level = level;
	setvbuf(stderr, NULL, _IOLBF, 0);
	libbpf_set_print(libbpf_print);
}
