// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vmq_port: tc ingress on a VM's host-side port (tap or veth). The
 * virtual switch's half of VMQ: every packet the VM sends is stamped with
 * its port's queue ID in the uplink's mark bits, other mark bits kept. It
 * runs in the host namespace, where the mark survives routing or bridging
 * to the uplink (a veth crossing namespaces would clear it: kernel-notes, general 6).
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "vmq_abi.h"

/* Hash: a binding changes by replacing its element, which a packet sees
 * whole, old or new. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VMQ_PORTS_MAX);
	__type(key, __u32);
	__type(value, struct vmq_port_entry);
} vmq_ports SEC(".maps");

SEC("tc")
int vmq_port_ingress(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ingress_ifindex;
	struct vmq_port_entry *port = bpf_map_lookup_elem(&vmq_ports, &ifindex);

#ifdef VMQ_PORT_VARIANT
	/* The tests' variant build (make check): one extra instruction, so
	 * its tag differs and an upgrade to it is a real program swap. */
	asm volatile("r0 = 0" ::: "r0");
#endif
	if (port)
		skb->mark = (skb->mark & ~port->mark_mask) | port->mark_value;
	/* Stamping never decides a packet's fate: later filters still run. */
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
