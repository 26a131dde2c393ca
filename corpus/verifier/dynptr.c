/* dynptr: a dynptr over the XDP buffer (bpf_dynptr_from_xdp) lives in 16 bytes of stack; it
 * must be initialised before use and not be overwritten; slices of it may be NULL.
 */
#include "vc.h"

extern int bpf_dynptr_from_xdp(struct xdp_md *x, __u64 flags, struct bpf_dynptr *ptr__uninit) __ksym;
extern void *bpf_dynptr_slice(const struct bpf_dynptr *p, __u32 offset, void *buffer__opt, __u32 buffer__szk) __ksym;
extern void *bpf_dynptr_slice_rdwr(const struct bpf_dynptr *p, __u32 offset, void *buffer__opt, __u32 buffer__szk) __ksym;

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
