/* pkt: direct packet access. A load or store through a packet pointer needs a comparison with
 * data_end that proves the bytes are there (the pointer's range r); metadata is checked against
 * data instead; variable offsets must be bounded (at most MAX_PACKET_OFF, 0xffff).
 */
#include "vc.h"

/* r2 = data, r3 = data_end. */
#define PKT "r2 = *(u32 *)(r1 + 0); r3 = *(u32 *)(r1 + 4);"
/* Go to l_out unless N bytes from r2 are in the packet. */
#define NEED(N) "r4 = r2; r4 += " #N "; if r4 > r3 goto l_out_%=;"

/* accept: 14 bytes checked, the EtherType at offset 12 read */
SEC("xdp")
__naked void checked_14(void)
{
	asm volatile (PKT NEED(14) "r0 = *(u16 *)(r2 + 12);" OUT ::: __clobber_all);
}

/* reject: the same load with no check */
SEC("xdp")
__naked void unchecked(void)
{
	asm volatile (PKT "r0 = *(u16 *)(r2 + 12);" OUT ::: __clobber_all);
}

/* reject: 14 bytes checked, 2 bytes read at offset 13 */
SEC("xdp")
__naked void past_range(void)
{
	asm volatile (PKT NEED(14) "r0 = *(u16 *)(r2 + 13);" OUT ::: __clobber_all);
}

/* accept: the comparison written the other way round: if data_end < data + 14 */
SEC("xdp")
__naked void reversed_cmp(void)
{
	asm volatile (PKT "r4 = r2; r4 += 14; if r3 < r4 goto l_out_%=; r0 = *(u16 *)(r2 + 12);" OUT ::: __clobber_all);
}

/* reject: the comparison with the wrong sense (if data + 14 < data_end goto out) */
SEC("xdp")
__naked void wrong_sense(void)
{
	asm volatile (PKT "r4 = r2; r4 += 14; if r4 < r3 goto l_out_%=; r0 = *(u16 *)(r2 + 12);" OUT ::: __clobber_all);
}

/* accept: the access on the taken side of if data + 14 <= data_end */
SEC("xdp")
__naked void jle_taken(void)
{
	asm volatile (PKT "r4 = r2; r4 += 14; if r4 <= r3 goto l_use_%=; goto l_out_%=; l_use_%=: r0 = *(u16 *)(r2 + 12);" OUT ::: __clobber_all);
}

/* accept: the fall-through side of if data + 14 >= data_end proves 15 bytes, so offset 14 may be read */
SEC("xdp")
__naked void jge_fallthrough(void)
{
	asm volatile (PKT "r4 = r2; r4 += 14; if r4 >= r3 goto l_out_%=; r0 = *(u8 *)(r2 + 14);" OUT ::: __clobber_all);
}

/* accept: a store into checked packet bytes */
SEC("xdp")
__naked void store_checked(void)
{
	asm volatile (PKT NEED(6) "r5 = 0; *(u16 *)(r2 + 4) = r5;" OUT ::: __clobber_all);
}

/* reject: a store just past the checked bytes */
SEC("xdp")
__naked void store_past(void)
{
	asm volatile (PKT NEED(6) "r5 = 0; *(u16 *)(r2 + 5) = r5;" OUT ::: __clobber_all);
}

/* reject: a negative offset from data */
SEC("xdp")
__naked void before_data(void)
{
	asm volatile (PKT NEED(6) "r0 = *(u8 *)(r2 - 1);" OUT ::: __clobber_all);
}

/* accept: a bounded variable offset added first, then checked */
SEC("xdp")
__naked void var_off_then_check(void)
{
	asm volatile (PKT NEED(1) "r6 = *(u8 *)(r2 + 0); r6 &= 0x3f; r2 += r6;" NEED(4) "r0 = *(u32 *)(r2 + 0);" OUT ::: __clobber_all);
}

/* reject: checked first, the variable offset added after */
SEC("xdp")
__naked void check_then_var_off(void)
{
	asm volatile (PKT NEED(68) "r6 = *(u8 *)(r2 + 0); r6 &= 0x3f; r2 += r6; r0 = *(u32 *)(r2 + 0);" OUT ::: __clobber_all);
}

/* reject: an unbounded variable added to a packet pointer */
SEC("xdp")
__naked void unbounded_var_off(void)
{
	asm volatile (PKT NEED(8) "r6 = *(u64 *)(r2 + 0); r2 += r6;" NEED(4) "r0 = *(u32 *)(r2 + 0);" OUT ::: __clobber_all);
}

/* accept: a variable offset up to 0xfffe plus the 1 byte checked reaches MAX_PACKET_OFF (0xffff) */
SEC("xdp")
__naked void var_off_max_packet_off(void)
{
	asm volatile (PKT NEED(2) "r6 = *(u16 *)(r2 + 0); r6 &= 0xfffe; r2 += r6;" NEED(1) "r0 = *(u8 *)(r2 + 0);" OUT ::: __clobber_all);
}

/* reject: a variable offset up to 0xffff plus the 1 byte checked passes MAX_PACKET_OFF: the check gives no range */
SEC("xdp")
__naked void var_off_past_max(void)
{
	asm volatile (PKT NEED(2) "r6 = *(u16 *)(r2 + 0); r2 += r6;" NEED(1) "r0 = *(u8 *)(r2 + 0);" OUT ::: __clobber_all);
}

/* reject: a constant offset of 0x10000 (past MAX_PACKET_OFF) */
SEC("xdp")
__naked void const_off_too_large(void)
{
	asm volatile (PKT "r2 += 0x10000;" NEED(1) "r0 = *(u8 *)(r2 + 0);" OUT ::: __clobber_all);
}

/* accept: metadata read after checking data_meta + 4 against data */
SEC("xdp")
__naked void meta_checked(void)
{
	asm volatile ("r2 = *(u32 *)(r1 + 8); r3 = *(u32 *)(r1 + 0);" NEED(4) "r0 = *(u32 *)(r2 + 0);" OUT ::: __clobber_all);
}

/* reject: metadata checked against data_end, not data */
SEC("xdp")
__naked void meta_vs_end(void)
{
	asm volatile ("r2 = *(u32 *)(r1 + 8); r3 = *(u32 *)(r1 + 4);" NEED(4) "r0 = *(u32 *)(r2 + 0);" OUT ::: __clobber_all);
}

/* accept: the range learnt by the check holds for every packet pointer loaded before it */
SEC("xdp")
__naked void range_shared(void)
{
	asm volatile (PKT "r5 = *(u32 *)(r1 + 0);" NEED(14) "r0 = *(u16 *)(r5 + 12);" OUT ::: __clobber_all);
}

/* reject: a packet pointer loaded after the check has no range */
SEC("xdp")
__naked void range_not_for_later_load(void)
{
	asm volatile (PKT NEED(14) "r5 = *(u32 *)(r1 + 0); r0 = *(u16 *)(r5 + 12);" OUT ::: __clobber_all);
}

/* reject: data_end itself cannot be read through */
SEC("xdp")
__naked void load_pkt_end(void)
{
	asm volatile (PKT "r0 = *(u8 *)(r3 + 0);" OUT ::: __clobber_all);
}

/* accept: an Ethernet header in C */
SEC("xdp")
int c_eth(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u8 *p = data;

	if (data + 14 > end)
		return XDP_DROP;
	return p[12] == 0x08 ? XDP_PASS : XDP_DROP;
}

/* reject: C that reads one byte more than it checked */
SEC("xdp")
int c_eth_short(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	volatile __u8 *p = data;

	if (data + 13 > end)
		return XDP_DROP;
	return p[13] == 0x00 ? XDP_PASS : XDP_DROP;
}

/* reject: the legacy packet load (BPF_LD | BPF_ABS), which XDP programs may not use */
SEC("xdp")
__naked void ld_abs(void)
{
	asm volatile ("r6 = r1; r0 = *(u8 *)skb[12]; r0 = 2; exit;" ::: __clobber_all);
}
