// A program that drives the conntrack kfuncs as the packet asks and writes what they answered back
// into the packet, so that one program covers every edge case on both sides (conntrack_test.go).
// (An allocated entry can only be inserted: the verifier refuses bpf_ct_release on an
// nf_conn___init, measured on 6.18.)
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "../../kfuncs/include/xdpsim_kfuncs.h"

// What the packet asks, right after its 14-byte Ethernet header.
struct ct_req {
	__u8 op;	// an op_* below
	__u8 opts_sz;	// passed as opts__sz (at most 24)
	__u8 tuple_sz;	// passed as tuple__sz (at most 40)
	__u8 manip;	// bpf_ct_set_nat_info's manip
	__u32 arg;	// the status, timeout (ms) or NAT port the op passes
	__u8 opts[24];	// struct bpf_ct_opts as the program fills it
	__u8 tuple[40]; // struct bpf_sock_tuple
	__u8 addr[16];	// union nf_inet_addr for bpf_ct_set_nat_info
};

// What the program writes back, after the request.
struct ct_resp {
	__s32 error;	// opts->error after the lookup or allocation
	__u8 dir;	// opts->dir
	__u8 zone_dir;	// opts->ct_zone_dir after the call
	__u8 found;	// the lookup or allocation returned an entry
	__u8 inserted;	// bpf_ct_insert_entry returned one
	__s32 ret;	// what the op's second kfunc returned
	__u32 status;	// ct->status (low 32 bits) at the end
	__u32 mark;	// ct->mark at the end
	__s32 timeout;	// ct->timeout minus the jiffies now (for an inserted entry, its time left)
};

enum {
	op_lookup,		// lookup, read, release
	op_insert,		// alloc, set_timeout(arg), insert, read, release
	op_change_timeout,	// lookup, change_timeout(arg), read, release
	op_change_status,	// lookup, change_status(arg), read, release
	op_set_status_insert,	// alloc, set_status(arg), insert, read, release
	op_nat_insert,		// alloc, set_nat_info(addr, arg, manip), insert, read, release
	op_lookup_mark,		// lookup, ct->mark = arg, read, release
};

static __always_inline void read_ct(struct ct_resp *resp, struct nf_conn *ct)
{
	resp->status = ct->status;
	resp->mark = ct->mark;
	resp->timeout = (__s32)(ct->timeout - (__u32)bpf_jiffies64());
}

// PROBE defines the probe for one program type: its section, context and kfuncs.
#define PROBE(name, sec, ctx_t, lookup, alloc, pass)					\
SEC(sec)										\
int name(ctx_t *ctx)									\
{											\
	void *data = (void *)(long)ctx->data;	\
	void *data_end = (void *)(long)ctx->data_end;	\
	struct ct_req *req = data + 14;	\
	struct ct_resp *resp = (void *)(req + 1);	\
	\
	if ((void *)(resp + 1) > data_end)	\
		return pass + 1;	\
	\
	struct ct_req r;	\
	__builtin_memcpy(&r, req, sizeof(r));	\
	__u32 opts_sz = r.opts_sz > 24 ? 24 : r.opts_sz;	\
	__u32 tuple_sz = r.tuple_sz > 40 ? 40 : r.tuple_sz;	\
	struct bpf_ct_opts *opts = (void *)r.opts;	\
	struct bpf_sock_tuple *tup = (void *)r.tuple;	\
	struct nf_conn *ct = 0;	\
	struct nf_conn___init *ci = 0;	\
	\
	__builtin_memset(resp, 0, sizeof(*resp));	\
	switch (r.op) {	\
	case op_lookup:	\
	case op_change_timeout:	\
	case op_change_status:	\
	case op_lookup_mark:	\
		ct = lookup(ctx, tup, tuple_sz, opts, opts_sz);	\
		break;	\
	default:	\
		ci = alloc(ctx, tup, tuple_sz, opts, opts_sz);	\
		break;	\
	}	\
	resp->error = opts->error;	\
	resp->dir = opts->dir;	\
	resp->zone_dir = opts->ct_zone_dir;	\
	if (ct) {	\
		resp->found = 1;	\
		if (r.op == op_change_timeout)	\
			resp->ret = bpf_ct_change_timeout(ct, r.arg);	\
		else if (r.op == op_change_status)	\
			resp->ret = bpf_ct_change_status(ct, r.arg);	\
		else if (r.op == op_lookup_mark)	\
			ct->mark = r.arg;	\
		read_ct(resp, ct);	\
		bpf_ct_release(ct);	\
	}	\
	if (ci) {	\
		resp->found = 1;	\
		if (r.op == op_insert)	\
			bpf_ct_set_timeout(ci, r.arg);	\
		else if (r.op == op_set_status_insert)	\
			resp->ret = bpf_ct_set_status(ci, r.arg);	\
		else if (r.op == op_nat_insert)	\
			resp->ret = bpf_ct_set_nat_info(ci, (union nf_inet_addr *)r.addr, (int)r.arg, r.manip);	\
		ct = bpf_ct_insert_entry(ci);	\
		if (ct) {	\
			resp->inserted = 1;	\
			read_ct(resp, ct);	\
			bpf_ct_release(ct);	\
		}	\
	}	\
	return pass;	\
}

PROBE(ct_probe, "xdp", struct xdp_md, bpf_xdp_ct_lookup, bpf_xdp_ct_alloc, XDP_PASS)
PROBE(ct_probe_tc, "tc", struct __sk_buff, bpf_skb_ct_lookup, bpf_skb_ct_alloc, 0)

char LICENSE[] SEC("license") = "GPL";
