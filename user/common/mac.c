// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Ethernet addresses: parsed strictly, printed one way. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "mac.h"

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

enum vmq_mac_err vmq_mac_parse(const char *s, __u8 mac[6])
{
	__u8 or_all = 0;

	if (strlen(s) != VMQ_MAC_TEXT_SIZE - 1)
		return VMQ_MAC_SYNTAX;
	for (int i = 0; i < 6; i++) {
		int hi = hex_digit(s[3 * i]), lo = hex_digit(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return VMQ_MAC_SYNTAX;
		mac[i] = (__u8)(hi << 4 | lo);
		or_all |= mac[i];
	}
	/* The data plane gives group-addressed frames to the stack, always. */
	if (mac[0] & 0x01)
		return VMQ_MAC_MULTICAST;
	if (!or_all)
		return VMQ_MAC_ZERO;
	return VMQ_MAC_OK;
}

const char *vmq_mac_strerror(enum vmq_mac_err err)
{
	switch (err) {
	case VMQ_MAC_OK:
		return "a unicast address";
	case VMQ_MAC_SYNTAX:
		return "not a MAC address (xx:xx:xx:xx:xx:xx)";
	case VMQ_MAC_MULTICAST:
		return "a multicast or broadcast address: such frames always go to the stack";
	case VMQ_MAC_ZERO:
		return "the all-zero address";
	}
	return "not a MAC address";
}

const char *vmq_mac_format(const __u8 mac[6], char *buf, size_t size)
{
	snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
	return buf;
}
