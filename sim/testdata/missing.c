// SPDX-License-Identifier: GPL-2.0
/* missing: one program that calls several helpers and kfuncs the simulator does not provide for
 * XDP, for the load error that names them all at once.
 *  - bpf_skb_vlan_push (18), a socket-buffer helper XDP may not call;
 *  - bpf_get_task_stack (141) and bpf_find_vma (180), which Linux 6.18 offers XDP programs
 *    (among the base helpers of CAP_PERFMON) but the simulator does not;
 *  - the kfunc bpf_xdpsim_test_kfunc, which nobody provides, and bpf_strlen, a string
 *    kfunc of the kernel the simulator lacks.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

extern __u64 bpf_xdpsim_test_kfunc(__u32 len) __ksym;
extern int bpf_strlen(const char *s__ign) __ksym;

static long vma_cb(void *task, void *vma, void *data)
{
	return 0;
}

SEC("xdp")
int many_missing(struct xdp_md *ctx)
{
	__u64 stack[4];
	long r = 0;

	r += bpf_strlen("xdp");
	if (bpf_skb_vlan_push((struct __sk_buff *)ctx, bpf_htons(0x8100), 7))
		r++;
	r += bpf_get_task_stack(0, stack, sizeof(stack), 0);
	r += bpf_find_vma(0, 0, vma_cb, 0, 0);
	r += bpf_xdpsim_test_kfunc(ctx->data_end - ctx->data);
	if (bpf_skb_vlan_push((struct __sk_buff *)ctx, bpf_htons(0x8100), 8))
		r++;
	return r ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
