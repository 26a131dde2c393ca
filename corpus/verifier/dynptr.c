/* dynptr: a dynptr over the XDP buffer (bpf_dynptr_from_xdp) lives in 16 bytes of stack; it
 * must be initialised before use and not be overwritten; slices of it may be NULL. A clone
 * (bpf_dynptr_clone) is a dynptr of its source's kind that shares its source's reference: a
 * ring buffer reservation is submitted once, through any of them, and that kills them all.
 * bpf_dynptr_write to a tc program's dynptr over the sk_buff may change the packet data: the
 * slices and packet pointers taken before die with it.
 */
#include "vc.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rb SEC(".maps");

VALS_MAP;

extern int bpf_dynptr_from_xdp(struct xdp_md *x, __u64 flags, struct bpf_dynptr *ptr__uninit) __ksym;
extern void *bpf_dynptr_slice(const struct bpf_dynptr *p, __u32 offset, void *buffer__opt, __u32 buffer__szk) __ksym;
extern void *bpf_dynptr_slice_rdwr(const struct bpf_dynptr *p, __u32 offset, void *buffer__opt, __u32 buffer__szk) __ksym;
extern int bpf_dynptr_from_skb(struct __sk_buff *s, __u64 flags, struct bpf_dynptr *ptr__uninit) __ksym;
extern int bpf_dynptr_clone(const struct bpf_dynptr *p, struct bpf_dynptr *clone__uninit) __ksym;

/* accept: the first 4 bytes read through bpf_dynptr_read */
SEC("xdp")
int read4(struct xdp_md *ctx)
{
	struct bpf_dynptr p;
	__u32 v = 0;

	if (bpf_dynptr_from_xdp(ctx, 0, &p))
		return XDP_DROP;
	if (bpf_dynptr_read(&v, sizeof(v), &p, 0, 0))
		return XDP_DROP;
	return v ? XDP_PASS : XDP_DROP;
}

/* reject: bpf_dynptr_read of a dynptr never initialised */
SEC("xdp")
int read_uninit(struct xdp_md *ctx)
{
	struct bpf_dynptr p;
	__u32 v = 0;

	if (bpf_dynptr_read(&v, sizeof(v), &p, 0, 0))
		return XDP_DROP;
	return v ? XDP_PASS : XDP_DROP;
}

/* accept: a slice of 14 bytes, checked for NULL */
SEC("xdp")
int slice_checked(struct xdp_md *ctx)
{
	struct bpf_dynptr p;
	__u8 buf[14];
	__u8 *eth;

	if (bpf_dynptr_from_xdp(ctx, 0, &p))
		return XDP_DROP;
	eth = bpf_dynptr_slice(&p, 0, buf, sizeof(buf));
	if (!eth)
		return XDP_DROP;
	return eth[12] == 0x08 ? XDP_PASS : XDP_DROP;
}

/* reject: the slice used without its NULL check */
SEC("xdp")
int slice_unchecked(struct xdp_md *ctx)
{
	struct bpf_dynptr p;
	__u8 buf[14];
	__u8 *eth;

	if (bpf_dynptr_from_xdp(ctx, 0, &p))
		return XDP_DROP;
	eth = bpf_dynptr_slice(&p, 0, buf, sizeof(buf));
	return eth[12] == 0x08 ? XDP_PASS : XDP_DROP;
}

/* reject: reading past the 14-byte slice */
SEC("xdp")
int slice_past(struct xdp_md *ctx)
{
	struct bpf_dynptr p;
	__u8 buf[14];
	volatile __u8 *eth;

	if (bpf_dynptr_from_xdp(ctx, 0, &p))
		return XDP_DROP;
	eth = bpf_dynptr_slice(&p, 0, buf, sizeof(buf));
	if (!eth)
		return XDP_DROP;
	return eth[14] == 0x08 ? XDP_PASS : XDP_DROP;
}

/* reject: XDP programs get no writable slices of their dynptr */
SEC("xdp")
int slice_rdwr(struct xdp_md *ctx)
{
	struct bpf_dynptr p;
	__u8 buf[6];
	__u8 *mac;

	if (bpf_dynptr_from_xdp(ctx, 0, &p))
		return XDP_DROP;
	mac = bpf_dynptr_slice_rdwr(&p, 0, buf, sizeof(buf));
	if (!mac)
		return XDP_DROP;
	mac[0] = 2;
	return XDP_PASS;
}

/* reject: nor may they write a read-only one */
SEC("xdp")
int slice_ro_written(struct xdp_md *ctx)
{
	struct bpf_dynptr p;
	__u8 buf[6];
	__u8 *mac;

	if (bpf_dynptr_from_xdp(ctx, 0, &p))
		return XDP_DROP;
	mac = bpf_dynptr_slice(&p, 0, buf, sizeof(buf));
	if (!mac)
		return XDP_DROP;
	mac[0] = 2;
	return XDP_PASS;
}

/* reject: the dynptr's stack slot overwritten, then the dynptr used */
SEC("xdp")
__naked void overwritten(void)
{
	asm volatile ("r6 = r1; r1 = r6; r2 = 0; r3 = r10; r3 += -16; call %[bpf_dynptr_from_xdp];"
		      "r1 = 0; *(u64 *)(r10 - 16) = r1;"
		      "r1 = r10; r1 += -24; r2 = 4; r3 = r10; r3 += -16; r4 = 0; r5 = 0; call %[bpf_dynptr_read];" OUT
		      :: __imm(bpf_dynptr_from_xdp), __imm(bpf_dynptr_read) : __clobber_all);
}

/* accept: the same without the overwrite */
SEC("xdp")
__naked void not_overwritten(void)
{
	asm volatile ("r6 = r1; r1 = r6; r2 = 0; r3 = r10; r3 += -16; call %[bpf_dynptr_from_xdp];"
		      "r1 = r10; r1 += -24; r2 = 4; r3 = r10; r3 += -16; r4 = 0; r5 = 0; call %[bpf_dynptr_read];" OUT
		      :: __imm(bpf_dynptr_from_xdp), __imm(bpf_dynptr_read) : __clobber_all);
}

/* reject: a slice used after bpf_xdp_adjust_head, which invalidates it like a packet pointer */
SEC("xdp")
int slice_after_adjust(struct xdp_md *ctx)
{
	struct bpf_dynptr p;
	__u8 buf[14];
	volatile __u8 *eth;

	if (bpf_dynptr_from_xdp(ctx, 0, &p))
		return XDP_DROP;
	eth = bpf_dynptr_slice(&p, 0, buf, sizeof(buf));
	if (!eth)
		return XDP_DROP;
	bpf_xdp_adjust_head(ctx, 0);
	return eth[12] == 0x08 ? XDP_PASS : XDP_DROP;
}

/* accept: the first 4 bytes read through a clone of the packet's dynptr */
SEC("xdp")
int clone_read(struct xdp_md *ctx)
{
	struct bpf_dynptr p, c;
	__u32 v = 0;

	if (bpf_dynptr_from_xdp(ctx, 0, &p))
		return XDP_DROP;
	if (bpf_dynptr_clone(&p, &c))
		return XDP_DROP;
	if (bpf_dynptr_read(&v, sizeof(v), &c, 0, 0))
		return XDP_DROP;
	return v ? XDP_PASS : XDP_DROP;
}

/* reject: a clone of a dynptr never initialised */
SEC("xdp")
int clone_uninit(struct xdp_md *ctx)
{
	struct bpf_dynptr p, c;
	__u32 v = 0;

	if (bpf_dynptr_clone(&p, &c))
		return XDP_DROP;
	if (bpf_dynptr_read(&v, sizeof(v), &c, 0, 0))
		return XDP_DROP;
	return v ? XDP_PASS : XDP_DROP;
}

/* accept: a clone of the packet's dynptr made over another such dynptr, which it replaces */
SEC("xdp")
int clone_over_unreferenced(struct xdp_md *ctx)
{
	struct bpf_dynptr p, c;
	__u32 v = 0;

	bpf_dynptr_from_xdp(ctx, 0, &p);
	bpf_dynptr_from_xdp(ctx, 0, &c);
	bpf_dynptr_clone(&p, &c);
	if (bpf_dynptr_read(&v, sizeof(v), &c, 0, 0))
		return XDP_DROP;
	return v ? XDP_PASS : XDP_DROP;
}

/* reject: a clone made over a ring buffer reservation, which may not be overwritten */
SEC("xdp")
int clone_over_referenced(struct xdp_md *ctx)
{
	struct bpf_dynptr p, c;

	bpf_dynptr_from_xdp(ctx, 0, &p);
	bpf_ringbuf_reserve_dynptr(&rb, 8, 0, &c);
	bpf_dynptr_clone(&p, &c);
	bpf_ringbuf_submit_dynptr(&c, 0);
	return XDP_PASS;
}

/* accept: a reservation cloned, then submitted through the clone: one reference, given back */
SEC("xdp")
int clone_ringbuf_submit_clone(struct xdp_md *ctx)
{
	struct bpf_dynptr p, c;

	bpf_ringbuf_reserve_dynptr(&rb, 8, 0, &p);
	bpf_dynptr_clone(&p, &c);
	bpf_ringbuf_submit_dynptr(&c, 0);
	return XDP_PASS;
}

/* reject: the same, neither submitted: the shared reference is held at exit */
SEC("xdp")
int clone_ringbuf_leak(struct xdp_md *ctx)
{
	struct bpf_dynptr p, c;

	bpf_ringbuf_reserve_dynptr(&rb, 8, 0, &p);
	bpf_dynptr_clone(&p, &c);
	return XDP_PASS;
}

/* reject: the reservation submitted, then the clone read: it died with its source */
SEC("xdp")
int clone_ringbuf_read_after_submit(struct xdp_md *ctx)
{
	struct bpf_dynptr p, c;
	__u32 v = 0;

	bpf_ringbuf_reserve_dynptr(&rb, 8, 0, &p);
	bpf_dynptr_clone(&p, &c);
	bpf_ringbuf_submit_dynptr(&p, 0);
	bpf_dynptr_read(&v, sizeof(v), &c, 0, 0);
	return v ? XDP_PASS : XDP_DROP;
}

/* reject: the reservation submitted twice, once through each */
SEC("xdp")
int clone_ringbuf_submit_both(struct xdp_md *ctx)
{
	struct bpf_dynptr p, c;

	bpf_ringbuf_reserve_dynptr(&rb, 8, 0, &p);
	bpf_dynptr_clone(&p, &c);
	bpf_ringbuf_submit_dynptr(&c, 0);
	bpf_ringbuf_submit_dynptr(&p, 0);
	return XDP_PASS;
}

/* accept: a slice of the clone written before the reservation is submitted */
SEC("xdp")
int clone_ringbuf_slice_before_submit(struct xdp_md *ctx)
{
	struct bpf_dynptr p, c;
	__u64 *d;

	bpf_ringbuf_reserve_dynptr(&rb, 8, 0, &p);
	bpf_dynptr_clone(&p, &c);
	d = bpf_dynptr_data(&c, 0, 8);
	if (d)
		*d = 1;
	bpf_ringbuf_submit_dynptr(&p, 0);
	return XDP_PASS;
}

/* reject: a slice of the clone written after its source is submitted */
SEC("xdp")
__naked void clone_ringbuf_slice_after_submit(void)
{
	asm volatile ("r1 = %[rb] ll; r2 = 8; r3 = 0; r4 = r10; r4 += -16; call %[bpf_ringbuf_reserve_dynptr];"
		      "r1 = r10; r1 += -16; r2 = r10; r2 += -32; call %[bpf_dynptr_clone];"
		      "r1 = r10; r1 += -32; r2 = 0; r3 = 8; call %[bpf_dynptr_data];"
		      "r6 = r0;"
		      "r1 = r10; r1 += -16; r2 = 0; call %[bpf_ringbuf_submit_dynptr];"
		      "if r6 == 0 goto l_out_%=; r1 = 1; *(u64 *)(r6 + 0) = r1;" OUT
		      :: __imm(bpf_ringbuf_reserve_dynptr), __imm(bpf_dynptr_clone), __imm(bpf_dynptr_data),
			 __imm(bpf_ringbuf_submit_dynptr), __imm_addr(rb) : __clobber_all);
}

/* reject: a slice of the packet dynptr's clone used after bpf_xdp_adjust_head */
SEC("xdp")
int clone_slice_after_adjust(struct xdp_md *ctx)
{
	struct bpf_dynptr p, c;
	__u8 buf[14];
	volatile __u8 *eth;

	if (bpf_dynptr_from_xdp(ctx, 0, &p))
		return XDP_DROP;
	bpf_dynptr_clone(&p, &c);
	eth = bpf_dynptr_slice(&c, 0, buf, sizeof(buf));
	if (!eth)
		return XDP_DROP;
	bpf_xdp_adjust_head(ctx, 0);
	return eth[12] == 0x08 ? XDP_PASS : XDP_DROP;
}

/* reject: a slice of the sk_buff's dynptr read after bpf_dynptr_write to it */
SEC("tc")
int skb_slice_after_write(struct __sk_buff *skb)
{
	struct bpf_dynptr p;
	__u8 buf[14], mac[6] = {2};
	volatile __u8 *eth;

	if (bpf_dynptr_from_skb(skb, 0, &p))
		return 2;
	eth = bpf_dynptr_slice(&p, 0, buf, sizeof(buf));
	if (!eth)
		return 2;
	bpf_dynptr_write(&p, 0, mac, sizeof(mac), 0);
	return eth[12] == 0x08;
}

/* accept: the same slice read before the write */
SEC("tc")
int skb_slice_before_write(struct __sk_buff *skb)
{
	struct bpf_dynptr p;
	__u8 buf[14], mac[6] = {2};
	volatile __u8 *eth;
	int r;

	if (bpf_dynptr_from_skb(skb, 0, &p))
		return 2;
	eth = bpf_dynptr_slice(&p, 0, buf, sizeof(buf));
	if (!eth)
		return 2;
	r = eth[12] == 0x08;
	bpf_dynptr_write(&p, 0, mac, sizeof(mac), 0);
	return r;
}

/* reject: a packet pointer checked against data_end, read after bpf_dynptr_write to the sk_buff */
SEC("tc")
int skb_pkt_after_write(struct __sk_buff *skb)
{
	struct bpf_dynptr p;
	__u8 mac[6] = {2};
	volatile __u8 *data = (void *)(long)skb->data;

	if ((void *)(data + 14) > (void *)(long)skb->data_end)
		return 2;
	if (bpf_dynptr_from_skb(skb, 0, &p))
		return 2;
	bpf_dynptr_write(&p, 0, mac, sizeof(mac), 0);
	return data[12] == 0x08;
}

/* accept: an XDP program's slice read after bpf_dynptr_write to its dynptr, which keeps it */
SEC("xdp")
int xdp_slice_after_write(struct xdp_md *ctx)
{
	struct bpf_dynptr p;
	__u8 buf[14], mac[6] = {2};
	volatile __u8 *eth;

	if (bpf_dynptr_from_xdp(ctx, 0, &p))
		return XDP_DROP;
	eth = bpf_dynptr_slice(&p, 0, buf, sizeof(buf));
	if (!eth)
		return XDP_DROP;
	bpf_dynptr_write(&p, 0, mac, sizeof(mac), 0);
	return eth[12] == 0x08 ? XDP_PASS : XDP_DROP;
}

__noinline int g_skb_write(struct __sk_buff *skb)
{
	struct bpf_dynptr p;
	__u8 mac[6] = {2};

	if (bpf_dynptr_from_skb(skb, 0, &p))
		return 0;
	return bpf_dynptr_write(&p, 0, mac, sizeof(mac), 0);
}

/* reject: a packet pointer read after a global function's bpf_dynptr_write to the sk_buff */
SEC("tc")
int skb_pkt_after_global_write(struct __sk_buff *skb)
{
	volatile __u8 *data = (void *)(long)skb->data;

	if ((void *)(data + 14) > (void *)(long)skb->data_end)
		return 2;
	g_skb_write(skb);
	return data[12] == 0x08;
}

__noinline int g_local_write(void)
{
	struct bpf_dynptr p;
	__u64 v = 0;
	__u8 mac[6] = {2};

	bpf_dynptr_from_mem(&v, sizeof(v), 0, &p);
	return bpf_dynptr_write(&p, 0, mac, sizeof(mac), 0);
}

/* reject: the same after a global function's bpf_dynptr_write to a local dynptr: a function
 * calling bpf_dynptr_write is taken to change packet data, whatever the dynptr
 */
SEC("xdp")
int xdp_pkt_after_global_local_write(struct xdp_md *ctx)
{
	volatile __u8 *data = (void *)(long)ctx->data;

	if ((void *)(data + 14) > (void *)(long)ctx->data_end)
		return 2;
	g_local_write();
	return data[12] == 0x08;
}

__noinline int g_from_skb(struct __sk_buff *skb)
{
	struct bpf_dynptr p;

	return bpf_dynptr_from_skb(skb, 0, &p);
}

/* accept: the same after a global function that only makes a dynptr of the sk_buff */
SEC("tc")
int skb_pkt_after_global_from_skb(struct __sk_buff *skb)
{
	volatile __u8 *data = (void *)(long)skb->data;

	if ((void *)(data + 14) > (void *)(long)skb->data_end)
		return 2;
	g_from_skb(skb);
	return data[12] == 0x08;
}

/* accept: a slice of the packet used after its dynptr's stack slot was overwritten: it lives on */
SEC("xdp")
__naked void slice_after_overwrite(void)
{
	asm volatile ("r6 = r1; r1 = r6; r2 = 0; r3 = r10; r3 += -16; call %[bpf_dynptr_from_xdp];"
		      "r1 = r10; r1 += -16; r2 = 0; r3 = r10; r3 += -24; r4 = 4; call %[bpf_dynptr_slice];"
		      "if r0 == 0 goto l_out_%=; r7 = r0;"
		      "r1 = 0; *(u64 *)(r10 - 16) = r1;"
		      "r0 = *(u8 *)(r7 + 0);" OUT
		      :: __imm(bpf_dynptr_from_xdp), __imm(bpf_dynptr_slice) : __clobber_all);
}

/* accept: a slice of a clone used after the clone was replaced by a new dynptr */
SEC("xdp")
__naked void clone_slice_after_replace(void)
{
	asm volatile ("r6 = r1; r1 = r6; r2 = 0; r3 = r10; r3 += -16; call %[bpf_dynptr_from_xdp];"
		      "r1 = r10; r1 += -16; r2 = r10; r2 += -32; call %[bpf_dynptr_clone];"
		      "r1 = r10; r1 += -32; r2 = 0; r3 = r10; r3 += -40; r4 = 4; call %[bpf_dynptr_slice];"
		      "if r0 == 0 goto l_out_%=; r7 = r0;"
		      "r1 = r6; r2 = 0; r3 = r10; r3 += -32; call %[bpf_dynptr_from_xdp];"
		      "r0 = *(u8 *)(r7 + 0);" OUT
		      :: __imm(bpf_dynptr_from_xdp), __imm(bpf_dynptr_clone), __imm(bpf_dynptr_slice) : __clobber_all);
}

/* accept: a slice of the source used after the clone was replaced */
SEC("xdp")
__naked void source_slice_after_clone_replace(void)
{
	asm volatile ("r6 = r1; r1 = r6; r2 = 0; r3 = r10; r3 += -16; call %[bpf_dynptr_from_xdp];"
		      "r1 = r10; r1 += -16; r2 = r10; r2 += -32; call %[bpf_dynptr_clone];"
		      "r1 = r10; r1 += -16; r2 = 0; r3 = r10; r3 += -40; r4 = 4; call %[bpf_dynptr_slice];"
		      "if r0 == 0 goto l_out_%=; r7 = r0;"
		      "r1 = r6; r2 = 0; r3 = r10; r3 += -32; call %[bpf_dynptr_from_xdp];"
		      "r0 = *(u8 *)(r7 + 0);" OUT
		      :: __imm(bpf_dynptr_from_xdp), __imm(bpf_dynptr_clone), __imm(bpf_dynptr_slice) : __clobber_all);
}

/* reject: a slice of a local dynptr (over a map value) used after the dynptr's slot was
 * overwritten: it dies with the dynptr
 */
SEC("xdp")
__naked void local_slice_after_overwrite(void)
{
	asm volatile (VALPTR
		      "r1 = r7; r2 = 8; r3 = 0; r4 = r10; r4 += -32; call %[bpf_dynptr_from_mem];"
		      "r1 = r10; r1 += -32; r2 = 0; r3 = 4; call %[bpf_dynptr_data];"
		      "if r0 == 0 goto l_out_%=; r8 = r0;"
		      "r1 = 0; *(u64 *)(r10 - 32) = r1;"
		      "r0 = *(u8 *)(r8 + 0);" OUT
		      :: VALS_IMMS, __imm(bpf_dynptr_from_mem), __imm(bpf_dynptr_data) : __clobber_all);
}

/* accept: the same slice used before the overwrite */
SEC("xdp")
__naked void local_slice_before_overwrite(void)
{
	asm volatile (VALPTR
		      "r1 = r7; r2 = 8; r3 = 0; r4 = r10; r4 += -32; call %[bpf_dynptr_from_mem];"
		      "r1 = r10; r1 += -32; r2 = 0; r3 = 4; call %[bpf_dynptr_data];"
		      "if r0 == 0 goto l_out_%=; r8 = r0;"
		      "r0 = *(u8 *)(r8 + 0);"
		      "r1 = 0; *(u64 *)(r10 - 32) = r1;" OUT
		      :: VALS_IMMS, __imm(bpf_dynptr_from_mem), __imm(bpf_dynptr_data) : __clobber_all);
}
