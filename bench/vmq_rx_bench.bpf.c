// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vmq-rx-bench's helper programs (not part of vmq):
 *   xdp_pass   the baseline: XDP_PASS, nothing else
 *   rx_ring    a different filter's MAC per run: counts runs in the frame's
 *              last word (BPF_PROG_TEST_RUN keeps the frame across repeats),
 *              writes MAC 52:54:00:<hash(n) % ring_n, 3 bytes> as the
 *              destination, then tail-calls slot 0 of ring_jmp (vmq_rx, or
 *              xdp_pass for the baseline). XDP_ABORTED if the call fails.
 *   rx_gen     the traffic generator of the receive pps figures: redirects
 *              every frame out of gen_ifindex (run with live frames)
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 gen_ifindex = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} ring_jmp SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} ring_n SEC(".maps");

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

SEC("xdp")
int rx_ring(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 zero = 0, *n, h, i;

	if (data + 64 > end)
		return XDP_ABORTED;
	n = bpf_map_lookup_elem(&ring_n, &zero);
	if (!n || !*n)
		return XDP_ABORTED;
	h = *(__u32 *)(data + 60) + 1;
	*(__u32 *)(data + 60) = h;
	/* murmur3 fmix32 */
	h ^= h >> 16;
	h *= 0x85ebca6bU;
	h ^= h >> 13;
	h *= 0xc2b2ae35U;
	h ^= h >> 16;
	i = h % *n;
	data[3] = (__u8)(i >> 16);
	data[4] = (__u8)(i >> 8);
	data[5] = (__u8)i;
	bpf_tail_call(ctx, &ring_jmp, 0);
	return XDP_ABORTED;
}

SEC("xdp")
int rx_gen(struct xdp_md *ctx)
{
	(void)ctx;
	return (int)bpf_redirect(gen_ifindex, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
