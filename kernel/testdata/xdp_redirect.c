// xdp_redirect redirects every packet through slot 0 of a devmap; when the
// slot is empty the redirect falls back to XDP_PASS (the flags' low bits).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} ports SEC(".maps");

__u32 seen;

SEC("xdp")
int xdp_redirect(struct xdp_md *ctx)
{
	seen++;
	return bpf_redirect_map(&ports, 0, XDP_PASS);
}

char _license[] SEC("license") = "GPL";
