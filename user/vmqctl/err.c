// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Error messages built up on the way out: the innermost part first. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "vmqctl.h"

int ctl_err_set(struct ctl_err *e, int errnum, const char *fmt, ...)
{
	va_list ap;

	e->errnum = errnum > 0 ? errnum : EINVAL;
	e->line = 0; /* a batch adds it on the way out */
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -e->errnum;
}

void ctl_err_prefix(struct ctl_err *e, const char *fmt, ...)
{
	char prefix[256];
	size_t plen, mlen;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	plen = strlen(prefix);
	mlen = strnlen(e->msg, sizeof(e->msg) - 1);
	/* Keep the prefix whole; the message's tail goes if space runs out. */
	if (plen >= sizeof(e->msg))
		plen = sizeof(e->msg) - 1;
	if (plen + mlen >= sizeof(e->msg))
		mlen = sizeof(e->msg) - 1 - plen;
	memmove(e->msg + plen, e->msg, mlen);
	memcpy(e->msg, prefix, plen);
	e->msg[plen + mlen] = '\0';
}

/* The bad input, made safe to print on one line and not too long. */
const char *ctl_quote(const char *s, char *buf, size_t size)
{
	size_t i, n = strlen(s);

	for (i = 0; i < n && i + 4 < size; i++)
		buf[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	if (i < n && i >= 3)
		memcpy(buf + i - 3, "...", 3);
	buf[i] = '\0';
	return buf;
}
