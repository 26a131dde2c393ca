// The string helpers, bpf_snprintf, bpf_strncmp, bpf_strtol and bpf_strtoul, on inputs the packet
// carries: each answer and what it wrote go to results[] and out[] (strings_test.go). (The
// verifier checks bpf_snprintf's constant format against its arguments at load: a bad format,
// too few arguments or a length not a multiple of 8 never reach a run.)
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 32);
	__type(key, __u32);
	__type(value, __s64);
} results SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, char[48]);
} out SEC(".maps");

static __always_inline void rec(__u32 i, __s64 v)
{
	__s64 *slot = bpf_map_lookup_elem(&results, &i);

	if (slot)
		*slot = v;
}

static const char fmt_mix[] = "%d|%u|%x|%lld|%s|%c|%pI4";
static const char fmt_short[] = "pkt %d bytes";
static const char word[] = "xdpsim";

SEC("xdp")
int strings_probe(struct xdp_md *ctx)
{
	__u32 k0 = 0, k1 = 1, k2 = 2;
	char *o0 = bpf_map_lookup_elem(&out, &k0);
	char *o1 = bpf_map_lookup_elem(&out, &k1);
	char *o2 = bpf_map_lookup_elem(&out, &k2);
	char name[8] = "abc";
	__u8 addr[4] = {192, 0, 2, 1};
	__u64 args[7];
	long res = 0;
	unsigned long ures = 0;

	if (!o0 || !o1 || !o2)
		return XDP_ABORTED;

	args[0] = (__u64)-5;
	args[1] = 4000000000u;
	args[2] = 0xbeef;
	args[3] = (__u64)-1234567890123LL;
	args[4] = (__u64)(long)name;
	args[5] = 'Z';
	args[6] = (__u64)(long)addr;
	rec(0, bpf_snprintf(o0, 48, fmt_mix, args, sizeof(args)));
	rec(1, bpf_snprintf(o1, 8, fmt_short, args, 8));
	rec(2, bpf_snprintf(0, 0, fmt_short, args, 8));
	rec(3, bpf_snprintf(o2, 48, fmt_short, args, 16));
	rec(4, bpf_snprintf(o2, 48, word, 0, 0));

	/* The packet's bytes 14.. hold numbers as text, 16 bytes apiece (helpers may not read the
	 * packet itself: they get a copy). */
	char text[50];
	if (bpf_xdp_load_bytes(ctx, 14, text, sizeof(text)))
		return XDP_ABORTED;
	rec(6, bpf_strtol(text, 16, 0, &res));
	rec(7, res);
	rec(8, bpf_strtoul(text + 16, 16, 0, &ures));
	rec(9, ures);
	rec(10, bpf_strtol(text + 32, 16, 16, &res));
	rec(11, res);
	rec(12, bpf_strtoul(text, 16, 10, &ures));
	rec(13, bpf_strtol(text, 16, 7, &res));
	rec(14, bpf_strtol(text, 16, 1 << 5, &res));

	rec(15, bpf_strncmp(text + 48, 2, word));
	rec(16, bpf_strncmp(name, 3, word));
	rec(17, bpf_strncmp(name, 1, word));

	/* Reading memory without faulting: the program's own stack, then nothing. */
	char copy[8] = {1, 1, 1, 1, 1, 1, 1, 1};
	rec(18, bpf_probe_read_kernel(copy, 4, name));
	rec(19, *(__u64 *)copy);
	rec(20, bpf_probe_read_kernel(copy, 4, (void *)16));
	rec(21, *(__u64 *)copy);
	rec(22, bpf_probe_read_kernel_str(copy, 8, name));
	rec(23, *(__u64 *)copy);
	rec(24, bpf_probe_read_kernel_str(copy, 3, name));
	rec(25, *(__u64 *)copy);
	rec(26, bpf_probe_read_kernel_str(copy, 8, (void *)16));
	rec(27, *(__u64 *)copy);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
