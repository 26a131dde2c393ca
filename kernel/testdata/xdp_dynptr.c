// Dynptrs over the packet and over a map value: every kfunc and helper, with their edge cases,
// each result recorded in results[] and the packet changed where they write (dynptr_test.go).
// (Linux 6.18 refuses bpf_dynptr_slice_rdwr in XDP and tc programs, "bpf_dynptr_slice_rdwr() is
// not allowed", and bpf_dynptr_from_mem over the stack, "Unsupported reg type fp": measured.)
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "../../kfuncs/include/xdpsim_kfuncs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 56);
	__type(key, __u32);
	__type(value, __s64);
} results SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[16]);
} scratch SEC(".maps");

static __always_inline void rec(__u32 i, __s64 v)
{
	__s64 *slot = bpf_map_lookup_elem(&results, &i);

	if (slot)
		*slot = v;
}

// where says where a slice points: 1 into the packet (or the dynptr's memory), 2 to the buffer,
// 0 nowhere.
#define where(s, buf) ((s) == 0 ? 0 : (void *)(s) == (void *)(buf) ? 2 : 1)

SEC("xdp.frags")
int dynptr_probe(struct xdp_md *ctx)
{
	struct bpf_dynptr p, c, bad, local;
	char buf[16] = {};
	__u64 word = 0;
	__u32 zero = 0;
	char *mem = bpf_map_lookup_elem(&scratch, &zero);

	if (!mem)
		return XDP_ABORTED;

	rec(0, bpf_dynptr_from_xdp(ctx, 1, &bad));
	rec(1, bpf_dynptr_is_null(&bad));
	rec(2, bpf_dynptr_size(&bad));
	rec(3, bpf_dynptr_read(buf, 4, &bad, 0, 0));
	if (bpf_dynptr_from_xdp(ctx, 0, &p))
		return XDP_ABORTED;
	__u32 size = bpf_dynptr_size(&p);
	rec(4, size);
	rec(5, bpf_dynptr_is_null(&p));
	rec(6, bpf_dynptr_is_rdonly(&p));

	/* Reads. */
	rec(7, bpf_dynptr_read(&word, 8, &p, 6, 0));
	rec(8, word);
	rec(9, bpf_dynptr_read(&word, 8, &p, size - 4, 0));
	rec(10, bpf_dynptr_read(&word, 8, &p, 0, 1));
	rec(11, bpf_dynptr_read(&word, 0, &p, size, 0));

	/* Writes. */
	word = 0x1122334455667788;
	rec(12, bpf_dynptr_write(&p, 2, &word, 2, 0));
	rec(13, bpf_dynptr_write(&p, 2, &word, 2, 1));
	rec(14, bpf_dynptr_write(&p, size - 1, &word, 2, 0));
	rec(15, bpf_dynptr_write(&p, size - 8, &word, 8, 0));

	/* Slices: in the linear part, across its end, inside a fragment, out of bounds. */
	char *s = bpf_dynptr_slice(&p, 0, buf, sizeof(buf));
	rec(16, where(s, buf));
	if (s)
		rec(17, s[0]);
	s = bpf_dynptr_slice(&p, 3512, buf, sizeof(buf));
	rec(18, where(s, buf));
	if (s)
		rec(19, s[15]);
	s = bpf_dynptr_slice(&p, 4000, buf, sizeof(buf));
	rec(20, where(s, buf));
	s = bpf_dynptr_slice(&p, size - 8, buf, sizeof(buf));
	rec(21, where(s, buf));
	s = bpf_dynptr_slice(&p, 3512, 0, sizeof(buf));
	rec(22, where(s, buf));
	rec(23, 0);
	rec(24, 0);
	rec(25, 0);

	/* Clones and adjustments. */
	rec(26, bpf_dynptr_clone(&p, &c));
	rec(27, bpf_dynptr_adjust(&c, 10, 5));
	rec(28, bpf_dynptr_adjust(&c, 0, size + 1));
	rec(29, bpf_dynptr_adjust(&c, 14, 30));
	rec(30, bpf_dynptr_size(&c));
	rec(31, bpf_dynptr_read(&word, 8, &c, 0, 0));
	rec(32, word);
	rec(33, bpf_dynptr_read(&word, 8, &c, 10, 0));
	rec(34, bpf_dynptr_size(&p));

	/* A dynptr of the stack, bpf_dynptr_data, copy and memset. */
	rec(35, bpf_dynptr_from_mem(mem, 16, 0, &local));
	__u8 *d = bpf_dynptr_data(&local, 4, 4);
	rec(36, d != 0);
	if (d)
		d[0] = 0x99;
	rec(37, bpf_dynptr_data(&p, 0, 4) != 0);
	rec(38, bpf_dynptr_copy(&local, 8, &p, 0, 8));
	rec(39, *(__u64 *)(mem + 8));
	rec(40, mem[4]);
	rec(41, bpf_dynptr_copy(&p, 40, &local, 0, 8));
	rec(42, bpf_dynptr_copy(&local, 12, &p, 0, 8));
	rec(43, bpf_dynptr_memset(&p, 48, 4, 0x77));
	rec(44, bpf_dynptr_memset(&p, size - 2, 4, 0x77));
	rec(45, bpf_dynptr_memset(&p, 3518, 4, 0x88));
	rec(46, bpf_dynptr_from_mem(mem, 16, 1, &bad));
	rec(47, bpf_dynptr_is_null(&bad));

	/* Ring buffer samples through dynptrs. */
	struct bpf_dynptr rb;
	rec(48, bpf_ringbuf_reserve_dynptr(&events, 16, 1, &rb));
	rec(49, bpf_dynptr_is_null(&rb));
	bpf_ringbuf_discard_dynptr(&rb, 0);
	rec(50, bpf_ringbuf_reserve_dynptr(&events, 16, 0, &rb));
	rec(51, bpf_dynptr_size(&rb));
	rec(52, bpf_dynptr_write(&rb, 0, &word, 8, 0));
	rec(53, bpf_dynptr_write(&rb, 12, &word, 8, 0));
	bpf_ringbuf_submit_dynptr(&rb, 0);
	rec(54, bpf_ringbuf_reserve_dynptr(&events, 8192, 0, &rb));
	rec(55, bpf_dynptr_is_null(&rb));
	bpf_ringbuf_discard_dynptr(&rb, 0);
	return XDP_PASS;
}

// slice_rdwr is what Linux 6.18 refuses: a writable slice of the packet.
SEC("xdp")
int slice_rdwr(struct xdp_md *ctx)
{
	struct bpf_dynptr p;
	char buf[4];

	if (bpf_dynptr_from_xdp(ctx, 0, &p))
		return XDP_ABORTED;
	char *s = bpf_dynptr_slice_rdwr(&p, 20, buf, 4);
	if (s)
		s[0] = 1;
	return XDP_PASS;
}

// dynptr_probe_tc is the tc side: a dynptr over the sk_buff (its data from the Ethernet header on),
// with reads, writes (the skb's flags allowed), slices, clones and copies; results as above.
SEC("tc")
int dynptr_probe_tc(struct __sk_buff *skb)
{
	struct bpf_dynptr p, c, bad, local;
	char buf[16] = {};
	__u64 word = 0;
	__u32 zero = 0;
	char *mem = bpf_map_lookup_elem(&scratch, &zero);

	if (!mem)
		return 2;
	rec(0, bpf_dynptr_from_skb(skb, 1, &bad));
	rec(1, bpf_dynptr_is_null(&bad));
	rec(2, bpf_dynptr_size(&bad));
	rec(3, bpf_dynptr_read(buf, 4, &bad, 0, 0));
	if (bpf_dynptr_from_skb(skb, 0, &p))
		return 2;
	__u32 size = bpf_dynptr_size(&p);
	rec(4, size);
	rec(5, bpf_dynptr_is_null(&p));
	rec(6, bpf_dynptr_is_rdonly(&p));
	rec(7, bpf_dynptr_read(&word, 8, &p, 6, 0));
	rec(8, word);
	rec(9, bpf_dynptr_read(&word, 8, &p, size - 4, 0));
	rec(10, bpf_dynptr_read(&word, 8, &p, 0, 1));
	word = 0x1122334455667788;
	rec(12, bpf_dynptr_write(&p, 2, &word, 2, 0));
	rec(13, bpf_dynptr_write(&p, 20, &word, 2, BPF_F_RECOMPUTE_CSUM));
	rec(14, bpf_dynptr_write(&p, size - 1, &word, 2, 0));
	rec(15, bpf_dynptr_write(&p, size - 8, &word, 8, 0));
	rec(11, bpf_dynptr_write(&p, 24, &word, 2, 4));
	char *s = bpf_dynptr_slice(&p, 0, buf, sizeof(buf));
	rec(16, where(s, buf));
	if (s)
		rec(17, s[0]);
	s = bpf_dynptr_slice(&p, size - 8, buf, sizeof(buf));
	rec(18, where(s, buf));
	s = bpf_dynptr_slice(&p, 30, 0, sizeof(buf));
	rec(19, where(s, buf));
	rec(26, bpf_dynptr_clone(&p, &c));
	rec(27, bpf_dynptr_adjust(&c, 10, 5));
	rec(28, bpf_dynptr_adjust(&c, 0, size + 1));
	rec(29, bpf_dynptr_adjust(&c, 14, 30));
	rec(30, bpf_dynptr_size(&c));
	rec(31, bpf_dynptr_read(&word, 8, &c, 0, 0));
	rec(32, word);
	rec(33, bpf_dynptr_read(&word, 8, &c, 10, 0));
	rec(34, bpf_dynptr_size(&p));
	rec(35, bpf_dynptr_from_mem(mem, 16, 0, &local));
	rec(36, bpf_dynptr_data(&p, 0, 4) != 0);
	rec(38, bpf_dynptr_copy(&local, 8, &p, 0, 8));
	rec(39, *(__u64 *)(mem + 8));
	rec(41, bpf_dynptr_copy(&p, 40, &local, 0, 8));
	rec(43, bpf_dynptr_memset(&p, 48, 4, 0x77));
	rec(44, bpf_dynptr_memset(&p, size - 2, 4, 0x77));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
