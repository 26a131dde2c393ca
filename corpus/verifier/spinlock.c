/* spinlock: bpf_spin_lock and bpf_spin_unlock on the lock inside a map value: paired on every
 * path, one lock at a time, no calls and no exit while it is held, and the lock itself never
 * read or written directly.
 */
#include "vc.h"

struct locked {
	struct bpf_spin_lock lock;
	__u32 n;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct locked);
} locks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} plain SEC(".maps");

static __always_inline struct locked *get(__u32 k)
{
	return bpf_map_lookup_elem(&locks, &k);
}

/* accept: locked, updated, unlocked */
SEC("xdp")
int lock_unlock(struct xdp_md *ctx)
{
	struct locked *v = get(0);

	if (!v)
		return XDP_PASS;
	bpf_spin_lock(&v->lock);
	v->n++;
	bpf_spin_unlock(&v->lock);
	return XDP_PASS;
}

/* reject: exit while the lock is held */
SEC("xdp")
int exit_locked(struct xdp_md *ctx)
{
	struct locked *v = get(0);

	if (!v)
		return XDP_PASS;
	bpf_spin_lock(&v->lock);
	v->n++;
	return XDP_PASS;
}

/* reject: unlocked on one path only */
SEC("xdp")
int unlock_one_path(struct xdp_md *ctx)
{
	struct locked *v = get(0);

	if (!v)
		return XDP_PASS;
	bpf_spin_lock(&v->lock);
	if (v->n > 10)
		return XDP_DROP;
	bpf_spin_unlock(&v->lock);
	return XDP_PASS;
}

/* reject: a helper called while the lock is held */
SEC("xdp")
int call_locked(struct xdp_md *ctx)
{
	struct locked *v = get(0);

	if (!v)
		return XDP_PASS;
	bpf_spin_lock(&v->lock);
	v->n = bpf_get_prandom_u32();
	bpf_spin_unlock(&v->lock);
	return XDP_PASS;
}

/* reject: unlocked without having locked */
SEC("xdp")
int unlock_only(struct xdp_md *ctx)
{
	struct locked *v = get(0);

	if (!v)
		return XDP_PASS;
	bpf_spin_unlock(&v->lock);
	return XDP_PASS;
}

/* reject: two locks held at once */
SEC("xdp")
int two_locks(struct xdp_md *ctx)
{
	struct locked *a = get(0), *b = get(1);

	if (!a || !b)
		return XDP_PASS;
	bpf_spin_lock(&a->lock);
	bpf_spin_lock(&b->lock);
	bpf_spin_unlock(&b->lock);
	bpf_spin_unlock(&a->lock);
	return XDP_PASS;
}

/* accept: two locks, one after the other */
SEC("xdp")
int two_locks_in_turn(struct xdp_md *ctx)
{
	struct locked *a = get(0), *b = get(1);

	if (!a || !b)
		return XDP_PASS;
	bpf_spin_lock(&a->lock);
	a->n++;
	bpf_spin_unlock(&a->lock);
	bpf_spin_lock(&b->lock);
	b->n++;
	bpf_spin_unlock(&b->lock);
	return XDP_PASS;
}

/* reject: a map whose value has no bpf_spin_lock */
SEC("xdp")
int lock_plain_map(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&plain, &k);

	if (!v)
		return XDP_PASS;
	bpf_spin_lock((struct bpf_spin_lock *)v);
	bpf_spin_unlock((struct bpf_spin_lock *)v);
	return XDP_PASS;
}

/* reject: the lock read directly */
SEC("xdp")
__naked void read_lock_word(void)
{
	asm volatile (LOOKUP0(locks) "if r0 == 0 goto l_out_%=; r0 = *(u32 *)(r0 + 0);" OUT
		      :: __imm(bpf_map_lookup_elem), __imm_addr(locks) : __clobber_all);
}

/* reject: a pointer to the value's second field given as the lock */
SEC("xdp")
__naked void lock_wrong_offset(void)
{
	asm volatile (LOOKUP0(locks) "if r0 == 0 goto l_out_%=; r6 = r0; r1 = r0; r1 += 4; call %[bpf_spin_lock];"
		      "r1 = r6; call %[bpf_spin_unlock];" OUT
		      :: __imm(bpf_map_lookup_elem), __imm(bpf_spin_lock), __imm(bpf_spin_unlock), __imm_addr(locks) : __clobber_all);
}
