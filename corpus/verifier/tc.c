/* tc: SCHED_CLS programs and their context, struct __sk_buff: fields to read (narrow loads
 * too), the few to write, direct packet access, and helpers that are for TC but not XDP.
 */
#include "vc.h"

/* accept: skb->len */
SEC("tc")
int len(struct __sk_buff *skb)
{
	return skb->len > 1000 ? 2 : 0;
}

/* accept: skb->mark written */
SEC("tc")
int write_mark(struct __sk_buff *skb)
{
	skb->mark = 7;
	return 0;
}

/* reject: skb->len written */
SEC("tc")
__naked void write_len(void)
{
	asm volatile ("r2 = 0; *(u32 *)(r1 + 0) = r2; r0 = 0; exit;" ::: __clobber_all);
}

/* accept: skb->cb[0] written and read */
SEC("tc")
int cb(struct __sk_buff *skb)
{
	skb->cb[0] = 1;
	return skb->cb[0];
}

/* reject: skb->ifindex written */
SEC("tc")
__naked void write_ifindex(void)
{
	asm volatile ("r2 = 0; *(u32 *)(r1 + 40) = r2; r0 = 0; exit;" ::: __clobber_all);
}

/* accept: a 2-byte load of skb->protocol (offset 16) */
SEC("tc")
__naked void protocol_u16(void)
{
	asm volatile ("r0 = *(u16 *)(r1 + 16); r0 = 0; exit;" ::: __clobber_all);
}

/* accept: a 1-byte load of skb->mark's first byte */
SEC("tc")
__naked void mark_u8(void)
{
	asm volatile ("r0 = *(u8 *)(r1 + 8); r0 = 0; exit;" ::: __clobber_all);
}

/* reject: skb->data loaded with 2 bytes */
SEC("tc")
__naked void data_u16(void)
{
	asm volatile ("r0 = *(u16 *)(r1 + 76); r0 = 0; exit;" ::: __clobber_all);
}

/* accept: direct packet access after a check against data_end */
SEC("tc")
int pkt(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;

	if (data + 14 > end)
		return 0;
	return ((__u8 *)data)[12] == 0x08 ? 1 : 0;
}

/* reject: the same without the check */
SEC("tc")
__naked void pkt_unchecked(void)
{
	asm volatile ("r2 = *(u32 *)(r1 + 76); r0 = *(u8 *)(r2 + 12); r0 = 0; exit;" ::: __clobber_all);
}

/* accept: bpf_skb_load_bytes, a TC helper */
SEC("tc")
int load_bytes(struct __sk_buff *skb)
{
	__u8 b[4];

	return bpf_skb_load_bytes(skb, 0, b, sizeof(b)) ? 0 : b[0] & 1;
}

/* accept: the legacy packet load (BPF_LD | BPF_ABS, context in R6), which TC programs may use */
SEC("tc")
__naked void ld_abs(void)
{
	asm volatile ("r6 = r1; r0 = *(u8 *)skb[12]; r0 = 0; exit;" ::: __clobber_all);
}

/* reject: the legacy packet load with the context not in R6 */
SEC("tc")
__naked void ld_abs_no_r6(void)
{
	asm volatile ("r0 = *(u8 *)skb[12]; r0 = 0; exit;" ::: __clobber_all);
}

/* reject: bpf_xdp_adjust_head, an XDP helper */
SEC("tc")
__naked void xdp_helper(void)
{
	asm volatile ("r2 = 0; call %[bpf_xdp_adjust_head]; r0 = 0; exit;" :: __imm(bpf_xdp_adjust_head) : __clobber_all);
}

/* accept: skb->sk read, checked for NULL and a field read */
SEC("tc")
int sk_checked(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;

	if (!sk)
		return 0;
	return sk->family == 2;
}

/* reject: skb->sk used without the NULL check */
SEC("tc")
__naked void sk_unchecked(void)
{
	asm volatile ("r1 = *(u64 *)(r1 + 168); r0 = *(u32 *)(r1 + 4); r0 = 0; exit;" ::: __clobber_all);
}

/* accept: packet pointers survive bpf_skb_load_bytes */
SEC("tc")
int pkt_after_load_bytes(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	__u8 b[2];

	if (data + 14 > end)
		return 0;
	bpf_skb_load_bytes(skb, 0, b, sizeof(b));
	return ((__u8 *)data)[12] == b[0];
}

/* reject: but not bpf_skb_pull_data, which changes the packet */
SEC("tc")
int pkt_after_pull(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	volatile __u8 *p = data;

	if (data + 14 > end)
		return 0;
	bpf_skb_pull_data(skb, 14);
	return p[12];
}
