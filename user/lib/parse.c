// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Strict number parsing: no sign, no trailing bytes, no overflow. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

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

int vmq_parse_listen_addr(const char *arg, const char *default_host, struct vmq_listen_addr *out,
			  char *why, size_t why_len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *port_text = arg;
	__u32 port;
	size_t host_len = 0;
	bool v6 = false;

	memset(out, 0, sizeof(*out));
	if (arg[0] == '/') {
		struct sockaddr_un *sun = (struct sockaddr_un *)&out->ss;

		if (strlen(arg) >= sizeof(sun->sun_path) || strlen(arg) >= sizeof(out->text)) {
			snprintf(why, why_len, "a Unix socket path must be shorter than %zu bytes",
				 sizeof(sun->sun_path));
			return -EINVAL;
		}
		sun->sun_family = AF_UNIX;
		strcpy(sun->sun_path, arg);
		out->len = sizeof(*sun);
		strcpy(out->text, arg);
		return 0;
	}
	if (arg[0] == '[') {
		const char *close = strchr(arg, ']');

		if (!close || close[1] != ':') {
			snprintf(why, why_len, "expected [IPV6]:PORT");
			return -EINVAL;
		}
		host_len = (size_t)(close - arg - 1);
		if (host_len >= sizeof(host)) {
			snprintf(why, why_len, "\"%.*s\": not an IPv6 address", (int)host_len,
				 arg + 1);
			return -EINVAL;
		}
		memcpy(host, arg + 1, host_len);
		port_text = close + 2;
		v6 = true;
	} else if ((colon = strrchr(arg, ':'))) {
		host_len = (size_t)(colon - arg);
		if (memchr(arg, ':', host_len)) {
			snprintf(why, why_len,
				 "an IPv6 address goes in brackets, as in [::1]:9300");
			return -EINVAL;
		}
		if (host_len >= sizeof(host)) {
			snprintf(why, why_len, "\"%.*s\": not an IPv4 address", (int)host_len, arg);
			return -EINVAL;
		}
		memcpy(host, arg, host_len);
		port_text = colon + 1;
	} else {
		host_len = strlen(default_host);
		if (host_len >= sizeof(host))
			return -EINVAL;
		memcpy(host, default_host, host_len);
	}
	host[host_len] = '\0';
	if (vmq_parse_u32(port_text, 65535, &port) || !port) {
		snprintf(why, why_len, "port \"%s\": expected a number 1..65535", port_text);
		return -EINVAL;
	}
	if (v6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
			snprintf(why, why_len, "\"%s\": not an IPv6 address", host);
			return -EINVAL;
		}
		out->len = sizeof(*sin6);
		snprintf(out->text, sizeof(out->text), "[%s]:%u", host, port);
	} else {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
			snprintf(why, why_len,
				 "\"%s\": not an IPv4 address (host names are not looked up)",
				 host);
			return -EINVAL;
		}
		out->len = sizeof(*sin);
		snprintf(out->text, sizeof(out->text), "%s:%u", host, port);
	}
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Exactly "xx:xx:xx:xx:xx:xx": no other separator, no short bytes. */
int vmq_parse_mac(const char *s, __u8 mac[6])
{
	__u8 v[6];
	bool zero = true;

	if (!s || strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		int hi = hex_digit(s[3 * i]), lo = hex_digit(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return -EINVAL;
		v[i] = (__u8)(hi << 4 | lo);
		zero = zero && !v[i];
	}
	/* The group bit: multicast and broadcast frames take the default
	 * queue before any lookup, so such a filter would never match. */
	if (zero || (v[0] & 1))
		return -EADDRNOTAVAIL;
	memcpy(mac, v, sizeof(v));
	return 0;
}

void vmq_format_mac(const __u8 mac[6], char *buf)
{
	snprintf(buf, VMQ_MAC_TEXT_LEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
		 mac[3], mac[4], mac[5]);
}

int vmq_parse_vlan(const char *s, __u16 *vlan)
{
	__u32 v;
	int err = vmq_parse_u32(s, 0xffffffffU, &v);

	if (err)
		return err;
	if (v < 1 || v > VMQ_RX_VLAN_MAX)
		return -ERANGE;
	*vlan = (__u16)v;
	return 0;
}
