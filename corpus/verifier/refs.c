/* refs: references the program must give back. A socket from bpf_sk_lookup_tcp/udp or
 * bpf_skc_lookup_tcp goes back through bpf_sk_release; ring buffer memory from
 * bpf_ringbuf_reserve through bpf_ringbuf_submit or _discard. Each after its NULL check, each
 * once, and none may be held at exit.
 */
#include "vc.h"
#include "xdpsim_kfuncs.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rb SEC(".maps");

static __always_inline struct bpf_sock *lookup(struct xdp_md *ctx)
{
	struct bpf_sock_tuple t = {};

	t.ipv4.daddr = bpf_htonl(0x7f000001);
	t.ipv4.dport = bpf_htons(80);
	return bpf_sk_lookup_tcp(ctx, &t, sizeof(t.ipv4), BPF_F_CURRENT_NETNS, 0);
}

/* accept: a socket looked up, checked and released */
SEC("xdp")
int sk_release(struct xdp_md *ctx)
{
	struct bpf_sock *sk = lookup(ctx);

	if (sk)
		bpf_sk_release(sk);
	return XDP_PASS;
}

/* reject: a socket looked up and never released */
SEC("xdp")
int sk_leak(struct xdp_md *ctx)
{
	struct bpf_sock *sk = lookup(ctx);

	return sk ? XDP_DROP : XDP_PASS;
}

/* accept: a field of the socket read before the release */
SEC("xdp")
int sk_field(struct xdp_md *ctx)
{
	struct bpf_sock *sk = lookup(ctx);
	int family;

	if (!sk)
		return XDP_PASS;
	family = sk->family;
	bpf_sk_release(sk);
	return family == 2 ? XDP_DROP : XDP_PASS;
}

/* reject: the same field read after the release */
SEC("xdp")
int sk_use_after_release(struct xdp_md *ctx)
{
	struct bpf_sock *sk = lookup(ctx);

	if (!sk)
		return XDP_PASS;
	bpf_sk_release(sk);
	return sk->family == 2 ? XDP_DROP : XDP_PASS;
}

/* reject: the socket released before its NULL check */
SEC("xdp")
int sk_release_unchecked(struct xdp_md *ctx)
{
	struct bpf_sock *sk = lookup(ctx);

	bpf_sk_release(sk);
	return XDP_PASS;
}

/* reject: the socket released twice */
SEC("xdp")
__naked void sk_release_twice(void)
{
	asm volatile ("r7 = r1; r1 = 0; *(u64 *)(r10 - 8) = r1; *(u64 *)(r10 - 16) = r1; *(u64 *)(r10 - 24) = r1; *(u64 *)(r10 - 32) = r1;"
		      "*(u64 *)(r10 - 40) = r1; *(u64 *)(r10 - 48) = r1;"
		      "r1 = r7; r2 = r10; r2 += -48; r3 = 12; r4 = -1; r5 = 0; call %[bpf_sk_lookup_tcp];"
		      "if r0 == 0 goto l_out_%=; r6 = r0; r1 = r6; call %[bpf_sk_release]; r1 = r6; call %[bpf_sk_release];" OUT
		      :: __imm(bpf_sk_lookup_tcp), __imm(bpf_sk_release) : __clobber_all);
}

/* reject: a stack pointer given to bpf_sk_release */
SEC("xdp")
__naked void sk_release_stack(void)
{
	asm volatile ("r1 = r10; r1 += -8; call %[bpf_sk_release];" OUT :: __imm(bpf_sk_release) : __clobber_all);
}

/* accept: bpf_skc_lookup_tcp and bpf_sk_lookup_udp, each released */
SEC("xdp")
int skc_and_udp(struct xdp_md *ctx)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk;

	sk = bpf_skc_lookup_tcp(ctx, &t, sizeof(t.ipv4), BPF_F_CURRENT_NETNS, 0);
	if (sk)
		bpf_sk_release(sk);
	sk = bpf_sk_lookup_udp(ctx, &t, sizeof(t.ipv6), BPF_F_CURRENT_NETNS, 0);
	if (sk)
		bpf_sk_release(sk);
	return XDP_PASS;
}

/* reject: released on one path only */
SEC("xdp")
int sk_leak_one_path(struct xdp_md *ctx)
{
	struct bpf_sock *sk = lookup(ctx);

	if (!sk)
		return XDP_PASS;
	if (ctx->rx_queue_index == 0)
		return XDP_DROP;
	bpf_sk_release(sk);
	return XDP_PASS;
}

/* accept: ring buffer memory reserved, written and submitted */
SEC("xdp")
int rb_submit(struct xdp_md *ctx)
{
	__u64 *e = bpf_ringbuf_reserve(&rb, 8, 0);

	if (!e)
		return XDP_PASS;
	*e = 1;
	bpf_ringbuf_submit(e, 0);
	return XDP_PASS;
}

/* accept: reserved and discarded */
SEC("xdp")
int rb_discard(struct xdp_md *ctx)
{
	__u64 *e = bpf_ringbuf_reserve(&rb, 8, 0);

	if (e)
		bpf_ringbuf_discard(e, 0);
	return XDP_PASS;
}

/* reject: reserved and kept */
SEC("xdp")
int rb_leak(struct xdp_md *ctx)
{
	__u64 *e = bpf_ringbuf_reserve(&rb, 8, 0);

	if (!e)
		return XDP_PASS;
	*e = 1;
	return XDP_PASS;
}

/* reject: written past the 8 bytes reserved */
SEC("xdp")
int rb_past(struct xdp_md *ctx)
{
	__u64 *e = bpf_ringbuf_reserve(&rb, 8, 0);

	if (!e)
		return XDP_PASS;
	e[1] = 1;
	bpf_ringbuf_submit(e, 0);
	return XDP_PASS;
}

/* reject: submitted before the NULL check */
SEC("xdp")
__naked void rb_submit_unchecked(void)
{
	asm volatile ("r1 = %[rb] ll; r2 = 8; r3 = 0; call %[bpf_ringbuf_reserve]; r1 = r0; r2 = 0; call %[bpf_ringbuf_submit];" OUT
		      :: __imm(bpf_ringbuf_reserve), __imm(bpf_ringbuf_submit), __imm_addr(rb) : __clobber_all);
}

/* reject: submitted twice */
SEC("xdp")
__naked void rb_submit_twice(void)
{
	asm volatile ("r1 = %[rb] ll; r2 = 8; r3 = 0; call %[bpf_ringbuf_reserve]; if r0 == 0 goto l_out_%=; r6 = r0;"
		      "r1 = r6; r2 = 0; call %[bpf_ringbuf_submit]; r1 = r6; r2 = 0; call %[bpf_ringbuf_submit];" OUT
		      :: __imm(bpf_ringbuf_reserve), __imm(bpf_ringbuf_submit), __imm_addr(rb) : __clobber_all);
}

/* reject: a size that is not a constant */
SEC("xdp")
__naked void rb_var_size(void)
{
	asm volatile ("call %[bpf_get_prandom_u32]; r2 = r0; r2 &= 8; r1 = %[rb] ll; r3 = 0; call %[bpf_ringbuf_reserve];"
		      "if r0 == 0 goto l_out_%=; r1 = r0; r2 = 0; call %[bpf_ringbuf_discard];" OUT
		      :: __imm(bpf_ringbuf_reserve), __imm(bpf_ringbuf_discard), __imm(bpf_get_prandom_u32), __imm_addr(rb) : __clobber_all);
}

/* reject: stack memory given to bpf_ringbuf_submit */
SEC("xdp")
__naked void rb_submit_stack(void)
{
	asm volatile ("r1 = r10; r1 += -8; r2 = 0; call %[bpf_ringbuf_submit];" OUT :: __imm(bpf_ringbuf_submit) : __clobber_all);
}

/* accept: bpf_ringbuf_output copies from the stack and takes no reference */
SEC("xdp")
int rb_output(struct xdp_md *ctx)
{
	__u64 v = 7;

	bpf_ringbuf_output(&rb, &v, sizeof(v), 0);
	return XDP_PASS;
}

/* Conntrack entries from the kfuncs: bpf_xdp_ct_lookup's (struct nf_conn) go back through
 * bpf_ct_release; bpf_xdp_ct_alloc's (struct nf_conn___init) become a struct nf_conn through
 * bpf_ct_insert_entry, which releases the allocation. */
static __always_inline struct nf_conn *ct_lookup(struct xdp_md *ctx, struct bpf_ct_opts *opts)
{
	struct bpf_sock_tuple t = {};

	t.ipv4.daddr = bpf_htonl(0x7f000001);
	t.ipv4.dport = bpf_htons(80);
	opts->netns_id = BPF_F_CURRENT_NETNS;
	opts->l4proto = 6; /* IPPROTO_TCP */
	return bpf_xdp_ct_lookup(ctx, &t, sizeof(t.ipv4), opts, sizeof(*opts));
}

static __always_inline struct nf_conn___init *ct_alloc(struct xdp_md *ctx, struct bpf_ct_opts *opts)
{
	struct bpf_sock_tuple t = {};

	t.ipv4.daddr = bpf_htonl(0x7f000001);
	t.ipv4.dport = bpf_htons(80);
	opts->netns_id = BPF_F_CURRENT_NETNS;
	opts->l4proto = 6; /* IPPROTO_TCP */
	return bpf_xdp_ct_alloc(ctx, &t, sizeof(t.ipv4), opts, sizeof(*opts));
}

/* accept: a conntrack entry looked up, its status read after the NULL check, released */
SEC("xdp")
int ct_release(struct xdp_md *ctx)
{
	struct bpf_ct_opts opts = {};
	struct nf_conn *ct = ct_lookup(ctx, &opts);
	unsigned long status;

	if (!ct)
		return XDP_PASS;
	status = ct->status;
	bpf_ct_release(ct);
	return status & 8 ? XDP_DROP : XDP_PASS;
}

/* reject: a conntrack entry looked up and never released */
SEC("xdp")
int ct_leak(struct xdp_md *ctx)
{
	struct bpf_ct_opts opts = {};
	struct nf_conn *ct = ct_lookup(ctx, &opts);

	return ct ? XDP_DROP : XDP_PASS;
}

/* reject: the entry released before its NULL check */
SEC("xdp")
int ct_release_unchecked(struct xdp_md *ctx)
{
	struct bpf_ct_opts opts = {};

	bpf_ct_release(ct_lookup(ctx, &opts));
	return XDP_PASS;
}

/* reject: the entry's status read after the release */
SEC("xdp")
int ct_use_after_release(struct xdp_md *ctx)
{
	struct bpf_ct_opts opts = {};
	struct nf_conn *ct = ct_lookup(ctx, &opts);

	if (!ct)
		return XDP_PASS;
	bpf_ct_release(ct);
	return ct->status & 8 ? XDP_DROP : XDP_PASS;
}

/* reject: the entry released twice */
SEC("xdp")
int ct_release_twice(struct xdp_md *ctx)
{
	struct bpf_ct_opts opts = {};
	struct nf_conn *ct = ct_lookup(ctx, &opts);

	if (!ct)
		return XDP_PASS;
	bpf_ct_release(ct);
	bpf_ct_release(ct);
	return XDP_PASS;
}

/* reject: a stack pointer given to bpf_ct_release */
SEC("xdp")
__naked void ct_release_stack(void)
{
	asm volatile ("r1 = r10; r1 += -8; call %[bpf_ct_release];" OUT :: __imm(bpf_ct_release) : __clobber_all);
}

/* accept: an entry allocated, given a timeout and a status, inserted, and the inserted entry released */
SEC("xdp")
int ct_alloc_insert(struct xdp_md *ctx)
{
	struct bpf_ct_opts opts = {};
	struct nf_conn___init *ci = ct_alloc(ctx, &opts);
	struct nf_conn *ct;

	if (!ci)
		return XDP_PASS;
	bpf_ct_set_timeout(ci, 10000);
	bpf_ct_set_status(ci, 8);
	ct = bpf_ct_insert_entry(ci);
	if (ct)
		bpf_ct_release(ct);
	return XDP_PASS;
}

/* reject: an allocated entry (struct nf_conn___init) given to bpf_ct_release */
SEC("xdp")
int ct_release_alloc(struct xdp_md *ctx)
{
	struct bpf_ct_opts opts = {};
	struct nf_conn___init *ci = ct_alloc(ctx, &opts);

	if (ci)
		bpf_ct_release((struct nf_conn *)ci);
	return XDP_PASS;
}

/* reject: a looked-up entry (struct nf_conn) given to bpf_ct_set_timeout, which wants an allocated one */
SEC("xdp")
int ct_timeout_lookup(struct xdp_md *ctx)
{
	struct bpf_ct_opts opts = {};
	struct nf_conn *ct = ct_lookup(ctx, &opts);

	if (!ct)
		return XDP_PASS;
	bpf_ct_set_timeout((struct nf_conn___init *)ct, 10000);
	bpf_ct_release(ct);
	return XDP_PASS;
}

/* reject: an allocation that is neither inserted nor released */
SEC("xdp")
int ct_alloc_leak(struct xdp_md *ctx)
{
	struct bpf_ct_opts opts = {};
	struct nf_conn___init *ci = ct_alloc(ctx, &opts);

	return ci ? XDP_DROP : XDP_PASS;
}

/* reject: the entry bpf_ct_insert_entry returns used without its NULL check */
SEC("xdp")
int ct_insert_unchecked(struct xdp_md *ctx)
{
	struct bpf_ct_opts opts = {};
	struct nf_conn___init *ci = ct_alloc(ctx, &opts);

	if (!ci)
		return XDP_PASS;
	bpf_ct_release(bpf_ct_insert_entry(ci));
	return XDP_PASS;
}

/* struct nf_conn's pointer to the entry it expects from (a CO-RE flavour of the kernel's struct). */
struct nf_conn___master {
	struct nf_conn___master *master;
	__u32 mark;
} __attribute__((preserve_access_index));

/* accept: a pointer member of a looked-up entry (ct->master) is a pointer to struct nf_conn, read through */
SEC("xdp")
int ct_master_mark(struct xdp_md *ctx)
{
	struct bpf_ct_opts opts = {};
	struct nf_conn *ct = ct_lookup(ctx, &opts);
	struct nf_conn___master *m;
	__u32 mark = 0;

	if (!ct)
		return XDP_PASS;
	m = ((struct nf_conn___master *)ct)->master;
	if (m)
		mark = m->mark;
	bpf_ct_release(ct);
	return mark ? XDP_DROP : XDP_PASS;
}

/* reject: a read 4096 bytes into a struct nf_conn, past its end */
SEC("xdp")
int ct_read_past_struct(struct xdp_md *ctx)
{
	struct bpf_ct_opts opts = {};
	struct nf_conn *ct = ct_lookup(ctx, &opts);
	__u32 v;

	if (!ct)
		return XDP_PASS;
	v = *(volatile __u32 *)((char *)ct + 4096);
	bpf_ct_release(ct);
	return v ? XDP_DROP : XDP_PASS;
}

/* reject: half of the pointer member ct->master read (4 of its 8 bytes) */
SEC("xdp")
int ct_master_half(struct xdp_md *ctx)
{
	struct bpf_ct_opts opts = {};
	struct nf_conn *ct = ct_lookup(ctx, &opts);
	__u32 v;

	if (!ct)
		return XDP_PASS;
	v = *(volatile __u32 *)&((struct nf_conn___master *)ct)->master;
	bpf_ct_release(ct);
	return v ? XDP_DROP : XDP_PASS;
}
