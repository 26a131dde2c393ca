/* kfuncs: kernel functions called through BTF. The XDP RX-metadata kfuncs exist only for
 * programs bound to a device (BPF_F_XDP_DEV_BOUND_ONLY); generic kfuncs such as the open-coded
 * number iterator work everywhere, with their own reference rules.
 */
#include "vc.h"
#include "xdpsim_kfuncs.h"

/* Kfuncs called from assembly must be called from C somewhere in the object too, so that their
 * declarations reach the object's BTF (and cilium/ebpf knows them for kfuncs). */
struct bpf_iter_num {
	__u64 opaque[1];
} __attribute__((aligned(8)));
extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __ksym;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __ksym;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __ksym;
extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;
extern int bpf_dynptr_from_skb(struct __sk_buff *s, __u64 flags, struct bpf_dynptr *ptr__uninit) __ksym;

/* reject: bpf_xdp_metadata_rx_hash in a program not bound to a device */
SEC("xdp")
int rx_hash_unbound(struct xdp_md *ctx)
{
	__u32 hash = 0;
	enum xdp_rss_hash_type type = 0;

	return bpf_xdp_metadata_rx_hash(ctx, &hash, &type) ? XDP_PASS : XDP_DROP;
}

/* accept (dev-bound): the same program bound to a device (BPF_F_XDP_DEV_BOUND_ONLY, a veth) */
SEC("xdp")
int rx_hash_bound(struct xdp_md *ctx)
{
	__u32 hash = 0;
	enum xdp_rss_hash_type type = 0;

	return bpf_xdp_metadata_rx_hash(ctx, &hash, &type) ? XDP_PASS : XDP_DROP;
}

/* reject (dev-bound): bound to a device, the kfunc's arguments are still checked: a NULL hash pointer */
SEC("xdp")
__naked void rx_hash_bound_null(void)
{
	asm volatile ("r2 = 0; r3 = r10; r3 += -8; call %[bpf_xdp_metadata_rx_hash];" OUT
		      :: __imm(bpf_xdp_metadata_rx_hash) : __clobber_all);
}

/* accept (dev-bound): bpf_xdp_metadata_rx_vlan_tag bound to a device */
SEC("xdp")
int rx_vlan_bound(struct xdp_md *ctx)
{
	__be16 proto = 0;
	__u16 tci = 0;

	return bpf_xdp_metadata_rx_vlan_tag(ctx, &proto, &tci) ? XDP_PASS : XDP_DROP;
}

/* reject: bpf_xdp_metadata_rx_timestamp likewise */
SEC("xdp")
int rx_timestamp_unbound(struct xdp_md *ctx)
{
	__u64 ts = 0;

	return bpf_xdp_metadata_rx_timestamp(ctx, &ts) ? XDP_PASS : XDP_DROP;
}

/* accept: the number iterator in C: new, next until NULL, destroy */
SEC("xdp")
int iter_num(struct xdp_md *ctx)
{
	struct bpf_iter_num it;
	int *v, sum = 0;

	bpf_iter_num_new(&it, 0, 10);
	while ((v = bpf_iter_num_next(&it)))
		sum += *v;
	bpf_iter_num_destroy(&it);
	return sum == 45 ? XDP_PASS : XDP_DROP;
}

/* reject: the iterator never destroyed */
SEC("xdp")
__naked void iter_num_leak(void)
{
	asm volatile ("r1 = r10; r1 += -8; r2 = 0; r3 = 10; call %[bpf_iter_num_new];"
		      "l0_%=: r1 = r10; r1 += -8; call %[bpf_iter_num_next]; if r0 == 0 goto l1_%=; goto l0_%=;"
		      "l1_%=:" OUT
		      :: __imm(bpf_iter_num_new), __imm(bpf_iter_num_next), __imm(bpf_iter_num_destroy) : __clobber_all);
}

/* reject: bpf_iter_num_next on an iterator never created */
SEC("xdp")
__naked void iter_num_uninit(void)
{
	asm volatile ("r1 = r10; r1 += -8; call %[bpf_iter_num_next];" OUT
		      :: __imm(bpf_iter_num_next) : __clobber_all);
}

/* accept: the value bpf_iter_num_next returns, read after the NULL check */
SEC("xdp")
__naked void iter_num_value(void)
{
	asm volatile ("r6 = 0; r1 = r10; r1 += -8; r2 = 0; r3 = 10; call %[bpf_iter_num_new];"
		      "l0_%=: r1 = r10; r1 += -8; call %[bpf_iter_num_next]; if r0 == 0 goto l1_%=; r1 = *(u32 *)(r0 + 0); r6 += r1; goto l0_%=;"
		      "l1_%=: r1 = r10; r1 += -8; call %[bpf_iter_num_destroy]; r0 = r6; r0 &= 3; exit;"
		      :: __imm(bpf_iter_num_new), __imm(bpf_iter_num_next), __imm(bpf_iter_num_destroy) : __clobber_all);
}

/* reject: the value read before the NULL check */
SEC("xdp")
__naked void iter_num_value_unchecked(void)
{
	asm volatile ("r6 = 0; r1 = r10; r1 += -8; r2 = 0; r3 = 10; call %[bpf_iter_num_new];"
		      "r1 = r10; r1 += -8; call %[bpf_iter_num_next]; r6 = *(u32 *)(r0 + 0);"
		      "r1 = r10; r1 += -8; call %[bpf_iter_num_destroy]; r0 = r6; r0 &= 3; exit;"
		      :: __imm(bpf_iter_num_new), __imm(bpf_iter_num_next), __imm(bpf_iter_num_destroy) : __clobber_all);
}

/* reject: a kfunc for socket-buffer programs (bpf_dynptr_from_skb) */
SEC("xdp")
int skb_kfunc(struct xdp_md *ctx)
{
	struct bpf_dynptr p;

	return bpf_dynptr_from_skb((struct __sk_buff *)ctx, 0, &p) ? XDP_DROP : XDP_PASS;
}

/* accept: bpf_cast_to_kern_ctx turns the context into struct xdp_buff, whose fields root may read
 * (frame_sz at offset 48) */
SEC("xdp")
int kern_ctx(struct xdp_md *ctx)
{
	__u32 *kctx = bpf_cast_to_kern_ctx(ctx);

	return kctx[12] > 100000 ? XDP_DROP : XDP_PASS;
}

/* reject: but not write them */
SEC("xdp")
__naked void kern_ctx_write(void)
{
	asm volatile ("call %[bpf_cast_to_kern_ctx]; r1 = 0; *(u32 *)(r0 + 48) = r1; r0 = 2; exit;"
		      :: __imm(bpf_cast_to_kern_ctx) : __clobber_all);
}

/* accept: an RCU read-side section, entered and left */
SEC("xdp")
int rcu_section(struct xdp_md *ctx)
{
	bpf_rcu_read_lock();
	bpf_rcu_read_unlock();
	return XDP_PASS;
}

/* reject: RCU read-side sections do not nest */
SEC("xdp")
__naked void rcu_nested(void)
{
	asm volatile ("call %[bpf_rcu_read_lock]; call %[bpf_rcu_read_lock];"
		      "call %[bpf_rcu_read_unlock]; call %[bpf_rcu_read_unlock];" OUT
		      :: __imm(bpf_rcu_read_lock), __imm(bpf_rcu_read_unlock) : __clobber_all);
}

/* reject: an RCU read-side section left without being entered */
SEC("xdp")
__naked void rcu_unmatched_unlock(void)
{
	asm volatile ("call %[bpf_rcu_read_unlock];" OUT :: __imm(bpf_rcu_read_unlock) : __clobber_all);
}

/* reject: the program ends inside an RCU read-side section */
SEC("xdp")
__naked void rcu_exit_locked(void)
{
	asm volatile ("call %[bpf_rcu_read_lock];" OUT :: __imm(bpf_rcu_read_lock) : __clobber_all);
}

/* reject: the section left on one path only */
SEC("xdp")
__naked void rcu_one_path(void)
{
	asm volatile ("r6 = r1; call %[bpf_rcu_read_lock]; call %[bpf_get_prandom_u32];"
		      "if r0 == 0 goto l0_%=; call %[bpf_rcu_read_unlock]; l0_%=:" OUT
		      :: __imm(bpf_rcu_read_lock), __imm(bpf_rcu_read_unlock), __imm(bpf_get_prandom_u32) : __clobber_all);
}

/* accept: preemption disabled and enabled again */
SEC("xdp")
int preempt_section(struct xdp_md *ctx)
{
	bpf_preempt_disable();
	bpf_preempt_enable();
	return XDP_PASS;
}

/* reject: preemption enabled without being disabled */
SEC("xdp")
__naked void preempt_unmatched_enable(void)
{
	asm volatile ("call %[bpf_preempt_enable];" OUT :: __imm(bpf_preempt_enable) : __clobber_all);
}

/* reject: the program ends with preemption disabled */
SEC("xdp")
__naked void preempt_exit_disabled(void)
{
	asm volatile ("call %[bpf_preempt_disable];" OUT :: __imm(bpf_preempt_disable) : __clobber_all);
}
