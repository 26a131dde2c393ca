/* ctx: loads and stores on struct xdp_md (data 0, data_end 4, data_meta 8, ingress_ifindex 12,
 * rx_queue_index 16, egress_ifindex 20): which offsets and sizes, what may be written, and
 * egress_ifindex only for programs run from a devmap.
 */
#include "vc.h"

/* accept: data as a 4-byte load */
SEC("xdp")
__naked void data_u32(void)
{
	asm volatile ("r2 = *(u32 *)(r1 + 0); r0 = 2; exit;" ::: __clobber_all);
}

/* reject: data as an 8-byte load */
SEC("xdp")
__naked void data_u64(void)
{
	asm volatile ("r2 = *(u64 *)(r1 + 0); r0 = 2; exit;" ::: __clobber_all);
}

/* reject: a 2-byte (narrow) load of data */
SEC("xdp")
__naked void data_u16(void)
{
	asm volatile ("r2 = *(u16 *)(r1 + 0); r0 = 2; exit;" ::: __clobber_all);
}

/* accept: data_meta and data_end as 4-byte loads */
SEC("xdp")
__naked void meta_and_end(void)
{
	asm volatile ("r2 = *(u32 *)(r1 + 8); r3 = *(u32 *)(r1 + 4); r0 = 2; exit;" ::: __clobber_all);
}

/* accept: ingress_ifindex and rx_queue_index */
SEC("xdp")
__naked void ifindex_and_queue(void)
{
	asm volatile ("r2 = *(u32 *)(r1 + 12); r3 = *(u32 *)(r1 + 16); r0 = 2; exit;" ::: __clobber_all);
}

/* reject: a 1-byte load of ingress_ifindex */
SEC("xdp")
__naked void ifindex_u8(void)
{
	asm volatile ("r2 = *(u8 *)(r1 + 12); r0 = 2; exit;" ::: __clobber_all);
}

/* reject: a misaligned 4-byte load (offset 2) */
SEC("xdp")
__naked void misaligned(void)
{
	asm volatile ("r2 = *(u32 *)(r1 + 2); r0 = 2; exit;" ::: __clobber_all);
}

/* reject: egress_ifindex in a program attached to an interface */
SEC("xdp")
__naked void egress_plain(void)
{
	asm volatile ("r2 = *(u32 *)(r1 + 20); r0 = 2; exit;" ::: __clobber_all);
}

/* accept: egress_ifindex in a program run from a devmap entry */
SEC("xdp/devmap")
__naked void egress_devmap(void)
{
	asm volatile ("r2 = *(u32 *)(r1 + 20); r0 = 2; exit;" ::: __clobber_all);
}

/* reject: past the end of xdp_md (offset 24) */
SEC("xdp")
__naked void past_end(void)
{
	asm volatile ("r2 = *(u32 *)(r1 + 24); r0 = 2; exit;" ::: __clobber_all);
}

/* reject: a negative offset */
SEC("xdp")
__naked void negative_off(void)
{
	asm volatile ("r2 = *(u32 *)(r1 - 4); r0 = 2; exit;" ::: __clobber_all);
}

/* reject: a store to data */
SEC("xdp")
__naked void store_data(void)
{
	asm volatile ("r2 = 0; *(u32 *)(r1 + 0) = r2; r0 = 2; exit;" ::: __clobber_all);
}

/* reject: a store to rx_queue_index */
SEC("xdp")
__naked void store_queue(void)
{
	asm volatile ("r2 = 0; *(u32 *)(r1 + 16) = r2; r0 = 2; exit;" ::: __clobber_all);
}

/* reject: an immediate store (BPF_ST) to ingress_ifindex */
SEC("xdp")
__naked void store_imm_ifindex(void)
{
	asm volatile ("*(u32 *)(r1 + 12) = 0; r0 = 2; exit;" ::: __clobber_all);
}

/* accept: the context pointer spilled to the stack and filled back is still the context */
SEC("xdp")
__naked void spill_fill_ctx(void)
{
	asm volatile ("*(u64 *)(r10 - 8) = r1; r1 = 0; r1 = *(u64 *)(r10 - 8); r2 = *(u32 *)(r1 + 0); r0 = 2; exit;" ::: __clobber_all);
}

/* reject: filled back as 4 bytes it is a scalar */
SEC("xdp")
__naked void spill_fill_ctx_half(void)
{
	asm volatile ("*(u64 *)(r10 - 8) = r1; r1 = *(u32 *)(r10 - 8); r2 = *(u32 *)(r1 + 0); r0 = 2; exit;" ::: __clobber_all);
}

/* accept: the same fields read in C */
SEC("xdp")
int c_fields(struct xdp_md *ctx)
{
	return ctx->ingress_ifindex + ctx->rx_queue_index > 100000 ? XDP_DROP : XDP_PASS;
}
