//go:build ignore

// Maps whose keys and values use every kind of C type BTF describes, for the BTF <-> JSON tests:
// their bpftool map dump -j output is the reference.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum colour { RED = 0, GREEN = 1, BLUE = 7 };
enum wide : long long { SMALL = -1, HUGE = 0x100000000LL };

struct inner {
	unsigned short port;
	unsigned char proto;
	signed char delta;
};

struct value {
	unsigned long long packets;
	int signed_count;
	_Bool seen;
	char name[12];
	unsigned char mac[6];
	enum colour colour;
	enum wide wide;
	struct inner inner;
	struct inner pairs[2];
	union {
		unsigned int as_u32;
		unsigned char as_bytes[4];
	} either;
	unsigned int flags : 3;
	unsigned int level : 5;
	int negative : 6;
	void *ptr;
	char empty[4];
	char unterminated[3];
	short signed_short;
	unsigned int matrix[2][3];
	union {
		unsigned short anon_a;
		signed char anon_b[2];
	};
	unsigned __int128 big;
	signed char schars[3];
};

struct key {
	unsigned int addr;
	unsigned short port;
	unsigned char proto;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, struct key);
	__type(value, struct value);
} typed SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct inner);
} per_cpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, enum colour);
} colours SEC(".maps");

/* Global data: bpftool prints a .data or .bss value as its section's variables. */
unsigned long long counter = 5;
char greeting[8] = "hi";
int zeroed;
struct inner last_inner;
enum colour last_colour;

SEC("xdp")
int xdp_types(struct xdp_md *ctx)
{
	struct key k = {};
	struct value *v = bpf_map_lookup_elem(&typed, &k);
	__u32 i = 0;

	if (v)
		v->packets++;
	counter++;
	zeroed += greeting[0];
	last_inner.port = 1;
	last_colour = GREEN;
	bpf_map_lookup_elem(&per_cpu, &i);
	bpf_map_lookup_elem(&colours, &i);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
