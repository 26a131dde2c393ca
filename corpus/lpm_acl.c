// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* lpm_acl: a source-address ACL in two LPM tries (IPv4 and IPv6).
 *  - the rules live in .rodata; the first packet installs them (a cmpxchg on a .bss flag makes sure
 *    only one does);
 *  - the longest matching prefix of the source address decides: allow or drop; per-rule hits
 *    are counted;
 *  - a rule with a hit budget is deleted from its trie once the budget is used up, so later
 *    packets fall through to a shorter prefix.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ACL_ALLOW 0
#define ACL_DROP 1
#define N_RULES4 6
#define N_RULES6 4
#define N_RULES (N_RULES4 + N_RULES6)

struct key4 {
	__u32 prefixlen;
	__u8 addr[4];
};

struct key6 {
	__u32 prefixlen;
	__u8 addr[16];
};

struct rule {
	__u32 id;
	__u32 action;
	__u32 budget;	/* 0: unlimited */
};

struct rule4 {
	__u8 addr[4];
	__u32 prefixlen;
	__u32 action;
	__u32 budget;
};

struct rule6 {
	__u8 addr[16];
	__u32 prefixlen;
	__u32 action;
	__u32 budget;
};

const volatile struct rule4 rules4[N_RULES4] = {
	{ { 0, 0, 0, 0 }, 0, ACL_ALLOW, 0 },
	{ { 10, 0, 0, 0 }, 8, ACL_ALLOW, 0 },
	{ { 10, 66, 0, 0 }, 16, ACL_DROP, 0 },
	{ { 10, 66, 6, 0 }, 24, ACL_ALLOW, 0 },
	{ { 203, 0, 113, 0 }, 24, ACL_DROP, 0 },
	{ { 198, 51, 100, 128 }, 25, ACL_DROP, 25 },
};

const volatile struct rule6 rules6[N_RULES6] = {
	{ { 0 }, 0, ACL_ALLOW, 0 },
	{ { 0x20, 0x01, 0x0d, 0xb8 }, 32, ACL_ALLOW, 0 },
	{ { 0x20, 0x01, 0x0d, 0xb8, 0x0b, 0xad }, 48, ACL_DROP, 0 },
	{ { 0x20, 0x01, 0x0d, 0xb8, 0x0b, 0xad, 0x00, 0x01 }, 64, ACL_DROP, 10 },
};

__u32 installed;

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 64);
	__type(key, struct key4);
	__type(value, struct rule);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} acl4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 64);
	__type(key, struct key6);
	__type(value, struct rule);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} acl6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, N_RULES + 1);	/* last slot: no rule matched */
	__type(key, __u32);
	__type(value, __u64);
} rule_hits SEC(".maps");

static __always_inline void install_rules(void)
{
	struct key4 k4;
	struct key6 k6;
	struct rule r;
	int i, j;

	for (i = 0; i < N_RULES4; i++) {
		k4.prefixlen = rules4[i].prefixlen;
		for (j = 0; j < 4; j++)
			k4.addr[j] = rules4[i].addr[j];
		r.id = i;
		r.action = rules4[i].action;
		r.budget = rules4[i].budget;
		bpf_map_update_elem(&acl4, &k4, &r, BPF_ANY);
	}
	for (i = 0; i < N_RULES6; i++) {
		k6.prefixlen = rules6[i].prefixlen;
		for (j = 0; j < 16; j++)
			k6.addr[j] = rules6[i].addr[j];
		r.id = N_RULES4 + i;
		r.action = rules6[i].action;
		r.budget = rules6[i].budget;
		bpf_map_update_elem(&acl6, &k6, &r, BPF_ANY);
	}
}

static __always_inline __u64 hit(__u32 id)
{
	__u64 *v = bpf_map_lookup_elem(&rule_hits, &id);

	if (!v)
		return 0;
	return __sync_fetch_and_add(v, 1) + 1;
}

SEC("xdp")
int xdp_lpm_acl(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct rule *r;
	struct key4 k4;
	struct key6 k6;
	__u32 action;
	__u64 hits;
	int v6;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;

	if (__sync_val_compare_and_swap(&installed, 0, 1) == 0)
		install_rules();

	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > data_end)
			return XDP_DROP;
		k4.prefixlen = 32;
		__builtin_memcpy(k4.addr, &iph->saddr, 4);
		r = bpf_map_lookup_elem(&acl4, &k4);
		v6 = 0;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return XDP_DROP;
		k6.prefixlen = 128;
		__builtin_memcpy(k6.addr, &ip6->saddr, 16);
		r = bpf_map_lookup_elem(&acl6, &k6);
		v6 = 1;
	} else {
		return XDP_PASS;
	}

	if (!r) {
		hit(N_RULES);
		return XDP_PASS;
	}
	action = r->action;
	hits = hit(r->id);
	if (r->budget && hits >= r->budget) {
		/* delete the matched prefix itself, not the /32 (/128) we looked up */
		if (v6) {
			__u32 id = r->id - N_RULES4;

			if (id < N_RULES6) {
				int j;

				k6.prefixlen = rules6[id].prefixlen;
				for (j = 0; j < 16; j++)
					k6.addr[j] = rules6[id].addr[j];
				bpf_map_delete_elem(&acl6, &k6);
			}
		} else {
			__u32 id = r->id;

			if (id < N_RULES4) {
				int j;

				k4.prefixlen = rules4[id].prefixlen;
				for (j = 0; j < 4; j++)
					k4.addr[j] = rules4[id].addr[j];
				bpf_map_delete_elem(&acl4, &k4);
			}
		}
	}
	return action == ACL_DROP ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
