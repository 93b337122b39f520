// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Strict number parsing: no sign, no trailing bytes, no overflow. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libvmq.h"

static int parse_ulong(const char *s, int base, unsigned long long max, unsigned long long *out)
{
	unsigned long long v;
	char *end;

	/* strtoull accepts " -1" and wraps it: insist on a leading digit. */
	if (!s || !(base == 16 ? isxdigit((unsigned char)s[0]) : isdigit((unsigned char)s[0])))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno || *end != '\0' || end == s)
		return -EINVAL;
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int vmq_parse_u32(const char *s, __u32 max, __u32 *out)
{
	unsigned long long v;
	int err = parse_ulong(s, 10, max, &v);

	if (!err)
		*out = (__u32)v;
	return err;
}

/* A mark mask: hex (0x...) or decimal, nonzero, its set bits contiguous. */
int vmq_parse_mask(const char *s, __u32 *mask)
{
	unsigned long long v;
	int err;

	if (s && (!strncmp(s, "0x", 2) || !strncmp(s, "0X", 2)))
		err = parse_ulong(s + 2, 16, 0xffffffffULL, &v);
	else
		err = parse_ulong(s, 10, 0xffffffffULL, &v);
	if (err)
		return err;
	if (!vmq_mask_valid((__u32)v))
		return -EINVAL;
	*mask = (__u32)v;
	return 0;
}

/* How many queue IDs a mark mask can carry (2^bits, capped at 2^32-1). */
__u32 vmq_mask_ids(__u32 mask)
{
	__u64 ids = ((__u64)mask >> vmq_mask_shift(mask)) + 1;

	return ids > 0xffffffffULL ? 0xffffffffU : (__u32)ids;
}

/* The mark bits that carry queue ID `id` under a configuration. */
__u32 vmq_mark_of(const struct vmq_config *cfg, __u32 id)
{
	return (id << cfg->mark_shift) & cfg->mark_mask;
}

/* Nonzero and contiguous: shifted down, the bits are 2^n - 1. */
bool vmq_mask_valid(__u32 mask)
{
	unsigned long long low = mask >> vmq_mask_shift(mask);

	return mask && !((low + 1) & low);
}

__u32 vmq_mask_shift(__u32 mask)
{
	return mask ? (__u32)__builtin_ctz(mask) : 0;
}

/* "N[,N...]": distinct TX queues, each below VMQ_TXQ_MAX. */
int vmq_parse_txq_list(const char *s, __u16 *txqs, __u16 max, __u16 *n)
{
	char buf[256];
	char *tok, *save = NULL;
	__u16 count = 0;

	if (!s || !*s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	if (buf[strlen(buf) - 1] == ',' || strstr(buf, ",,") || buf[0] == ',')
		return -EINVAL;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		__u32 v;
		int err = vmq_parse_u32(tok, VMQ_TXQ_MAX - 1, &v);

		if (err)
			return err;
		for (__u16 i = 0; i < count; i++)
			if (txqs[i] == v)
				return -EEXIST;
		if (count == max)
			return -E2BIG;
		txqs[count++] = (__u16)v;
	}
	*n = count;
	return 0;
}
