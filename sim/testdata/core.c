// SPDX-License-Identifier: GPL-2.0
/* core: CO-RE relocations of every common kind, resolved against the kernel's BTF at load.
 *  - iphdr___co lists only some of struct iphdr's fields, in a different order, so every field
 *    offset and the type's size must come from the target BTF (saddr even sits in an anonymous
 *    union there);
 *  - xdp_md___co reads the context with its fields shuffled, and asks about a field no kernel has;
 *  - type, field and enum value existence, sizes and values go into .bss (struct core_report);
 *  - a read of the missing field, guarded by bpf_core_field_exists as CO-RE programs do, is
 *    poisoned by the loader but never reached (report.missing becomes 0xdead); the same for the
 *    value of an enumerator no kernel has (report.teleport becomes 0xbeef).
 * UDP over IPv4 passes, everything else is dropped.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>

struct iphdr___co {
	__u8 ttl;
	__u8 protocol;
	__be32 daddr;
	__be32 saddr;
	__be16 tot_len;
} __attribute__((preserve_access_index));

struct xdp_md___co {
	__u32 rx_queue_index;
	__u32 ingress_ifindex;
	__u32 xdpsim_missing;
} __attribute__((preserve_access_index));

struct xdpsim_not_in_kernel {
	int x;
};

enum xdp_action___co {
	XDP_TX___co = 1,
	XDP_TELEPORT___co = 7,
};

struct core_report {
	__u32 ip_size;
	__u32 saddr_off;
	__u32 protocol_off;
	__u32 tot_len_size;
	__u32 has_rx_queue;
	__u32 has_missing_field;
	__u32 has_iphdr;
	__u32 has_fake_type;
	__u32 redirect_value;
	__u32 tx_value;
	__u32 has_teleport;
	__u32 ifindex;
	__u32 rx_queue;
	__u32 ttl;
	__u32 protocol;
	__u32 tot_len;
	__u32 saddr;
	__u32 daddr;
	__u32 missing;
	__u32 teleport;
};

struct core_report report;

SEC("xdp")
int core_reader(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct xdp_md___co *md = (void *)ctx;
	struct ethhdr *eth = data;
	struct iphdr___co *ip = (void *)(eth + 1);

	report.ip_size = bpf_core_type_size(struct iphdr___co);
	report.saddr_off = bpf_core_field_offset(struct iphdr___co, saddr);
	report.protocol_off = bpf_core_field_offset(struct iphdr___co, protocol);
	report.tot_len_size = bpf_core_field_size(struct iphdr___co, tot_len);
	report.has_rx_queue = bpf_core_field_exists(struct xdp_md___co, rx_queue_index);
	report.has_missing_field = bpf_core_field_exists(struct xdp_md___co, xdpsim_missing);
	report.has_iphdr = bpf_core_type_exists(struct iphdr___co);
	report.has_fake_type = bpf_core_type_exists(struct xdpsim_not_in_kernel);
	report.redirect_value = bpf_core_enum_value(enum xdp_action, XDP_REDIRECT);
	report.tx_value = bpf_core_enum_value(enum xdp_action___co, XDP_TX___co);
	report.has_teleport = bpf_core_enum_value_exists(enum xdp_action___co, XDP_TELEPORT___co);
	report.ifindex = md->ingress_ifindex;
	report.rx_queue = md->rx_queue_index;
	/* The usual guard: the load below is poisoned at load time, but never runs. */
	if (bpf_core_field_exists(md->xdpsim_missing))
		report.missing = md->xdpsim_missing;
	else
		report.missing = 0xdead;
	if (bpf_core_enum_value_exists(enum xdp_action___co, XDP_TELEPORT___co))
		report.teleport = bpf_core_enum_value(enum xdp_action___co, XDP_TELEPORT___co);
	else
		report.teleport = 0xbeef;

	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_DROP;
	if ((void *)ip + bpf_core_type_size(struct iphdr___co) > end)
		return XDP_DROP;
	report.ttl = ip->ttl;
	report.protocol = ip->protocol;
	report.tot_len = bpf_ntohs(ip->tot_len);
	report.saddr = bpf_ntohl(ip->saddr);
	report.daddr = bpf_ntohl(ip->daddr);
	return ip->protocol == IPPROTO_UDP ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
