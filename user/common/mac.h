/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Ethernet addresses as receive filters take them, for both ends. */
#ifndef VMQ_MAC_H
#define VMQ_MAC_H

#include <stddef.h>
#include <linux/types.h>

/* "52:54:00:12:34:56" plus its NUL. */
#define VMQ_MAC_TEXT_SIZE 18
/* A filter's VLAN ID: 1..4094 (0 is a priority tag, 4095 reserved). */
#define VMQ_VLAN_MIN 1U
#define VMQ_VLAN_MAX 4094U

enum vmq_mac_err {
	VMQ_MAC_OK = 0,
	VMQ_MAC_SYNTAX,	   /* not six colon-separated pairs of hex digits */
	VMQ_MAC_MULTICAST, /* group bit set (broadcast too): never matched */
	VMQ_MAC_ZERO,	   /* 00:00:00:00:00:00 */
};

/* Strict: exactly "xx:xx:xx:xx:xx:xx", either case; only a unicast
 * address a VM can own is accepted. */
enum vmq_mac_err vmq_mac_parse(const char *s, __u8 mac[6]);
/* What is wrong with it, for a message: "not a MAC address (...)". */
const char *vmq_mac_strerror(enum vmq_mac_err err);
/* Lower case, colon-separated; buf of VMQ_MAC_TEXT_SIZE. */
const char *vmq_mac_format(const __u8 mac[6], char *buf, size_t size);

#endif /* VMQ_MAC_H */
