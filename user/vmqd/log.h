/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Leveled logging to stderr; libbpf's own messages come through it too. */
#ifndef VMQD_LOG_H
#define VMQD_LOG_H

enum vmqd_log_level { VMQD_LOG_ERR, VMQD_LOG_WARN, VMQD_LOG_INFO, VMQD_LOG_DEBUG };

void vmqd_log_init(enum vmqd_log_level level);
void vmqd_log(enum vmqd_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...)   vmqd_log(VMQD_LOG_ERR, __VA_ARGS__)
#define log_warn(...)  vmqd_log(VMQD_LOG_WARN, __VA_ARGS__)
#define log_info(...)  vmqd_log(VMQD_LOG_INFO, __VA_ARGS__)
#define log_debug(...) vmqd_log(VMQD_LOG_DEBUG, __VA_ARGS__)

#endif /* VMQD_LOG_H */
