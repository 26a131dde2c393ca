// xdp_maps counts packets in every kind of map the kernel package dumps and
// returns the verdict chosen through the const volatile variable verdict.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

// by_len_class counts packets by length class: 0 for < 64 bytes, 1 for
// 64..127, 2 for 128..255, 3 for longer ones.
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} by_len_class SEC(".maps");

// by_proto counts packets by EtherType (host byte order).
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u16);
	__type(value, __u32);
} by_proto SEC(".maps");

// per_cpu counts packets in slot 0 and bytes in slot 1, per CPU.
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} per_cpu SEC(".maps");

// sized_later is declared without a size: the loader must give it one.
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 0);
	__type(key, __u32);
	__type(value, __u32);
} sized_later SEC(".maps");

// pinned asks for pinning by name, which the kernel package must not need.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pinned SEC(".maps");

const volatile __u32 verdict = XDP_PASS;
const volatile __u8 mark = 0x5a;

__u64 packets;            // .bss
__u32 last_len = 0xffffffff; // .data

SEC("xdp")
int xdp_maps(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 len = data_end - data;
	struct ethhdr *eth = data;

	packets++;
	last_len = len;

	__u32 class = len < 64 ? 0 : len < 128 ? 1 : len < 256 ? 2 : 3;
	__u64 *n = bpf_map_lookup_elem(&by_len_class, &class);
	if (n)
		__sync_fetch_and_add(n, 1);

	if ((void *)(eth + 1) <= data_end) {
		__u16 proto = __builtin_bswap16(eth->h_proto);
		__u32 one = 1, *c = bpf_map_lookup_elem(&by_proto, &proto);
		if (c)
			__sync_fetch_and_add(c, 1);
		else
			bpf_map_update_elem(&by_proto, &proto, &one, BPF_NOEXIST);
	}

	__u32 k = 0;
	__u64 *p = bpf_map_lookup_elem(&per_cpu, &k);
	if (p)
		*p += 1;
	k = 1;
	p = bpf_map_lookup_elem(&per_cpu, &k);
	if (p)
		*p += len;

	// sized_later[1] = mark
	k = 1;
	__u32 m = mark, *s = bpf_map_lookup_elem(&sized_later, &k);
	if (s)
		*s = m;

	k = 7;
	__u32 *q = bpf_map_lookup_elem(&pinned, &k);
	if (q)
		*q += 1;
	else
		bpf_map_update_elem(&pinned, &k, &len, BPF_ANY);

	return verdict;
}

char _license[] SEC("license") = "GPL";
