// SPDX-License-Identifier: GPL-2.0
/* unsupported: calls the simulator cannot make, each in its own program, beside one it can.
 *  - plain passes every frame;
 *  - pid_tagger calls bpf_get_current_pid_tgid (helper 14), which XDP may call (the idle task's 0)
 *    (Linux 6.18 does offer it to XDP programs, among its base helpers);
 *  - vlan_pusher calls bpf_skb_vlan_push (helper 18), a socket-buffer helper that neither the
 *    kernel nor the simulator lets an XDP program call;
 *  - kfunc_user calls the kfunc bpf_xdpsim_test_kfunc, which neither the kernel nor the
 *    simulator provides; it would return the kfunc's result as the verdict.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

extern __u64 bpf_xdpsim_test_kfunc(__u32 len) __ksym;

SEC("xdp")
int plain(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int pid_tagger(struct xdp_md *ctx)
{
	return bpf_get_current_pid_tgid() & 1 ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int vlan_pusher(struct xdp_md *ctx)
{
	return bpf_skb_vlan_push((struct __sk_buff *)ctx, bpf_htons(0x8100), 7) ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int kfunc_user(struct xdp_md *ctx)
{
	return bpf_xdpsim_test_kfunc(ctx->data_end - ctx->data);
}

char LICENSE[] SEC("license") = "GPL";
