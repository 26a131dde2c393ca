// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* atomics: every BPF atomic operation on globals and map values, with results that decide.
 *  - add (64 and 32 bit), sub, or, and, xor with and without fetching, xchg and cmpxchg;
 *  - a packet budget in .data counts down with fetch-and-sub: once used up, IPv4 UDP is dropped;
 *  - the first IPv4 source to reach the admin port claims it with cmpxchg; others are dropped;
 *  - TCP flags seen are OR-ed together, a mask of protocols never seen is AND-ed down, source
 *    addresses are XOR-ed, and the previous frame length is swapped out with xchg: a frame as long
 *    as the previous one is counted.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __u16 admin_port = 8080;

/* .data: initialised globals */
__s64 udp_budget = 1500;
__u64 protos_never_seen = ~0ULL;	/* bit n clear once protocol n % 64 was seen */

/* .bss */
__u64 bytes_total;
__u32 frames_total;
__u64 tcp_flags_seen;
__u64 saddr_xor;
__u64 prev_len;
__u64 same_len_as_prev;
__u32 admin_owner;
__u64 admin_denied;

struct proto_counts {
	__u64 packets;
	__u64 bytes;
	__u32 last_len;
	__u32 max_len;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct proto_counts);
} per_proto SEC(".maps");

SEC("xdp")
int xdp_atomics(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct proto_counts *pc;
	__u64 len = data_end - data, prev;
	__u32 proto, old_max, cur;
	void *l4;
	int i;

	__sync_fetch_and_add(&bytes_total, len);
	__atomic_fetch_add(&frames_total, 1, __ATOMIC_RELAXED);
	prev = __atomic_exchange_n(&prev_len, len, __ATOMIC_SEQ_CST);
	if (prev == len)
		__sync_fetch_and_add(&same_len_as_prev, 1);

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if ((void *)(iph + 1) > data_end || iph->ihl < 5)
		return XDP_DROP;

	proto = iph->protocol;
	__atomic_fetch_and(&protos_never_seen, ~(1ULL << (proto & 63)), __ATOMIC_RELAXED);
	__atomic_fetch_xor(&saddr_xor, iph->saddr, __ATOMIC_RELAXED);

	pc = bpf_map_lookup_elem(&per_proto, &proto);
	if (pc) {
		__sync_fetch_and_add(&pc->packets, 1);
		__atomic_add_fetch(&pc->bytes, len, __ATOMIC_RELAXED);
		/* clang 19 has no BPF atomic store; a plain aligned store is what READ/WRITE_ONCE give */
		*(volatile __u32 *)&pc->last_len = len;
		/* raise max_len with a cmpxchg loop */
		for (i = 0; i < 4; i++) {
			old_max = pc->max_len;
			if (len <= old_max)
				break;
			cur = __sync_val_compare_and_swap(&pc->max_len, old_max, (__u32)len);
			if (cur == old_max)
				break;
		}
	}

	if (iph->frag_off & bpf_htons(0x1fff))
		return XDP_PASS;
	l4 = (void *)iph + iph->ihl * 4;

	if (proto == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;

		if ((void *)(tcp + 1) > data_end)
			return XDP_DROP;
		__atomic_fetch_or(&tcp_flags_seen, ((__u8 *)tcp)[13], __ATOMIC_RELAXED);
		return XDP_PASS;
	}
	if (proto == IPPROTO_UDP) {
		struct udphdr *udp = l4;

		if ((void *)(udp + 1) > data_end)
			return XDP_DROP;
		if (udp->dest == bpf_htons(admin_port)) {
			__u32 owner = __sync_val_compare_and_swap(&admin_owner, 0, iph->saddr);

			if (owner != 0 && owner != iph->saddr) {
				__sync_fetch_and_add(&admin_denied, 1);
				return XDP_DROP;
			}
		}
		if (__sync_fetch_and_sub(&udp_budget, 1) <= 0)
			return XDP_DROP;
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
