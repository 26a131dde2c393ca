// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* time_rand: the helpers whose values differ from run to run.
 *  - bpf_ktime_get_ns, bpf_ktime_get_boot_ns, bpf_ktime_get_coarse_ns, bpf_jiffies64,
 *    bpf_get_prandom_u32 and bpf_get_smp_processor_id are called for every packet;
 *  - only facts that hold on any machine are recorded (calls made, clock going backwards, boot
 *    clock behind the monotonic one, CPU number out of range: the last three stay 0), never the
 *    values themselves;
 *  - 802.3 length frames are reported with bpf_trace_printk and dropped; the rest passes.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __u32 max_cpus = 4096;

struct clock_facts {
	__u64 calls;
	__u64 mono_backwards;
	__u64 boot_behind_mono;
	__u64 cpu_out_of_range;
	__u64 llc_frames;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct clock_facts);
} facts SEC(".maps");

SEC("xdp")
int xdp_time_rand(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct clock_facts *f;
	__u64 mono, boot, coarse, mono2, jiffies;
	__u32 rnd, cpu, key = 0;

	f = bpf_map_lookup_elem(&facts, &key);
	if (!f)
		return XDP_ABORTED;

	mono = bpf_ktime_get_ns();
	boot = bpf_ktime_get_boot_ns();
	coarse = bpf_ktime_get_coarse_ns();
	jiffies = bpf_jiffies64();
	rnd = bpf_get_prandom_u32();
	cpu = bpf_get_smp_processor_id();
	mono2 = bpf_ktime_get_ns();

	__sync_fetch_and_add(&f->calls, 1);
	if (mono2 < mono)
		__sync_fetch_and_add(&f->mono_backwards, 1);
	if (boot < mono)
		__sync_fetch_and_add(&f->boot_behind_mono, 1);
	if (cpu >= max_cpus)
		__sync_fetch_and_add(&f->cpu_out_of_range, 1);
	/* coarse, jiffies and rnd only keep the compiler from dropping the calls */
	asm volatile("" : : "r"(coarse), "r"(jiffies), "r"(rnd));

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (bpf_ntohs(eth->h_proto) < ETH_P_802_3_MIN) {
		char fmt[] = "time_rand: 802.3 frame, length field %u\n";

		__sync_fetch_and_add(&f->llc_frames, 1);
		bpf_trace_printk(fmt, sizeof(fmt), bpf_ntohs(eth->h_proto));
		return XDP_DROP;
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
