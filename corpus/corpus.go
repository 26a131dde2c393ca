package corpus

import (
	"path/filepath"
	"runtime"
)

// CPU versions every program is compiled for (clang -mcpu=...).
var CPUs = []string{"v3", "v4"}

// The reasons a program needs the simulator (see Program.Needs).
const (
	NeedsDevice      = "device"
	NeedsTraits      = "feature traits"
	NeedsExportToSkb = "feature export-to-skb"
	NeedsControlMap  = "feature control-map"
)

// Program is one program of the corpus: an XDP program (Programs), or a tc program (TCPrograms).
type Program struct {
	// Name is the base name of the files: NAME.c, NAME.v3.o, NAME.v4.o.
	Name string
	// Entry is the program (C function) to run; with tail calls, the first one.
	Entry string
	// Section is the ELF section of Entry ("xdp", or "xdp.frags" for multi-buffer programs).
	Section string
	// Frags says the program is frags-aware (loaded with BPF_F_XDP_HAS_FRAGS): it may be given
	// frames longer than one buffer.
	Frags bool
	// Maps are the maps whose contents tell what the program did, in the names cilium/ebpf gives
	// them (global variables live in ".bss", ".data" and ".rodata").
	Maps []Map
	// Traces are the traces (file names under traces/) the program is meant to be run over.
	Traces []string
	// HostDependent, when set, says which results follow the configuration of the host (network
	// namespace, routing tables) rather than the packets, so that a comparison with the kernel
	// must set that configuration up or leave those results out.
	HostDependent string
	// Needs, when set, says why only the simulator can run the program, so that tests which load
	// the objects into the kernel or run them with BPF_PROG_TEST_RUN skip it, naming the reason:
	//   - NeedsDevice: it calls device-bound kfuncs (the RX-metadata hints); the kernel loads it
	//     only bound to a device and cannot test-run it (kernel.RunOnVeth runs it on a veth pair,
	//     the simulator on its device profiles);
	//   - NeedsTraits, NeedsExportToSkb: it calls kfuncs of proposals that never merged into
	//     Linux, which only the simulator provides behind a feature switch (sim.LoadOptions
	//     Features, --feature);
	//   - NeedsControlMap: it declares a BPF_MAP_TYPE_CONTROL map, a proposal that never merged
	//     (--feature control-map); the kernel refuses the map type.
	// Several needs are joined with ", ".
	Needs string
	// Covers says in a line what the program exercises.
	Covers string
	// Cookies says the program answers SYNs with SYN cookies (bpf_tcp_raw_gen_syncookie_*): the
	// kernel draws its cookie secret at random, so its SYN-ACKs carry other sequence numbers (and
	// checksums over them) than the simulator's, and than its own in another minute. Comparisons
	// pass such frames through MaskCookies, which checks the checksum and masks those fields.
	Cookies bool
	// Chain names, for tc programs meant to run as a tcx chain, the chain's programs in order
	// (Entry first); each also runs alone as BPF_PROG_TEST_RUN runs it.
	Chain []string
	// XDP names, for a tc program, the XDP program of the same object whose passed frames it is
	// meant to see at tc ingress.
	XDP string
}

// Map names a map of a program and how to compare its contents.
type Map struct {
	Name string
	// PerCPU maps hold one value per CPU: which CPU ran a packet is not part of the program's
	// result, so compare the sum over CPUs.
	PerCPU bool
	// Order says the map's contents are a sequence (queue, stack, ring buffer) rather than a set
	// of key/value pairs.
	Order bool
}

// Source is the path of the program's C source.
func (p Program) Source() string { return filepath.Join(Dir(), p.Name+".c") }

// Object is the path of the program compiled for cpu ("v3" or "v4").
func (p Program) Object(cpu string) string { return filepath.Join(Dir(), p.Name+"."+cpu+".o") }

// Objects are the paths of the program's compiled objects, one per entry of CPUs.
func (p Program) Objects() []string {
	out := make([]string, 0, len(CPUs))
	for _, cpu := range CPUs {
		out = append(out, p.Object(cpu))
	}
	return out
}

// Dir is the absolute path of the corpus directory, found from this source file, so that tests
// of any package can reach the fixtures whatever their working directory.
func Dir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "."
	}
	return filepath.Dir(file)
}

// TracePath is the path of a trace file, e.g. TracePath("mixed.pcap").
func TracePath(name string) string { return filepath.Join(Dir(), "traces", name) }

// Trace is one committed pcap trace.
type Trace struct {
	Name    string // file name under traces/
	Packets int    // records in the file
	Covers  string
}

// Path is the trace's path.
func (t Trace) Path() string { return TracePath(t.Name) }

// Traces lists the committed traces (made by cmd/gentrace).
func Traces() []Trace {
	return []Trace{
		{"mixed.pcap", 4000, "everyday IPv4/IPv6 TCP, UDP, ICMP, ICMPv6 and ARP with a sprinkling of everything else"},
		{"vlan.pcap", 400, "802.1Q, 802.1ad, stacked and broken tags"},
		{"ipv6ext.pcap", 400, "IPv6 extension header chains"},
		{"jumbo.pcap", 200, "frames of 1500 to 9000 bytes (multi-buffer in BPF_PROG_TEST_RUN past 3520)"},
		{"malformed.pcap", 400, "runts, truncated frames and headers broken on purpose"},
	}
}

var standard = []string{"mixed.pcap", "vlan.pcap", "ipv6ext.pcap", "malformed.pcap"}

func m(name string) Map           { return Map{Name: name} }
func percpu(name string) Map      { return Map{Name: name, PerCPU: true} }
func ordered(name string) Map     { return Map{Name: name, Order: true} }
func traces(t ...string) []string { return t }

// Programs lists the corpus programs in a stable order.
func Programs() []Program {
	return []Program{
		{Name: "eth_stats", Entry: "xdp_eth_stats", Section: "xdp", Maps: []Map{m("frames"), percpu("bytes")}, Traces: standard,
			Covers: "Ethernet classification, array and per-CPU array counters, invalid source MACs dropped"},
		{Name: "vlan", Entry: "xdp_vlan", Section: "xdp", Maps: []Map{m("vid_stats"), m("stats")}, Traces: traces("vlan.pcap", "mixed.pcap", "malformed.pcap"),
			Covers: "802.1Q and 802.1ad parsing, tag pop and push with adjust_head, hash map per VID pair, const volatile arrays"},
		{Name: "arp_responder", Entry: "xdp_arp_responder", Section: "xdp", Maps: []Map{m("arp_table"), m("arp_stats")}, Traces: standard,
			Covers: "ARP parsing, replies built in place with XDP_TX, LRU hash of bindings, spoofing detection, bpf_printk"},
		{Name: "ipv4_options", Entry: "xdp_ipv4_options", Section: "xdp", Maps: []Map{m("opt_seen"), percpu("v4_stats")}, Traces: standard,
			Covers: "IPv4 header validation, checksum via load_bytes + csum_diff, bounded option walk"},
		{Name: "ipv4_frag", Entry: "xdp_ipv4_frag", Section: "xdp", Maps: []Map{m("inflight"), m("frag_stats")}, Traces: standard,
			Covers: "IPv4 fragment checks (DF conflicts, ping of death, RFC 1858), reassembly bookkeeping with hash update/delete"},
		{Name: "ipv6_exthdr", Entry: "xdp_ipv6_exthdr", Section: "xdp", Maps: []Map{percpu("ext_seen"), m("upper_proto"), m("v6_stats")}, Traces: traces("ipv6ext.pcap", "mixed.pcap", "malformed.pcap"),
			Covers: "IPv6 extension header chain (hop-by-hop options, routing, fragment, destination, AH) with load_bytes"},
		{Name: "tcp_flags", Entry: "xdp_tcp_flags", Section: "xdp", Maps: []Map{percpu("flag_counts"), m("tcp_stats")}, Traces: standard,
			Covers: "TCP header and flag checks, per-CPU hash, option walk and MSS clamping with an L4 checksum fix (csum_diff, store_bytes)"},
		{Name: "udp_filter", Entry: "xdp_udp_filter", Section: "xdp", Maps: []Map{m("per_port"), m("udp_stats")}, Traces: standard,
			Covers: "UDP length and checksum checks over IPv4/IPv6, reflection source ports, DNS header check"},
		{Name: "icmp_echo", Entry: "xdp_icmp_echo", Section: "xdp", Maps: []Map{m("icmp_types"), m("replies")}, Traces: standard,
			Covers: "ICMP parsing and echo replies with incremental IPv4 and ICMP checksums (csum_diff), XDP_TX"},
		{Name: "icmpv6", Entry: "xdp_icmpv6", Section: "xdp", Maps: []Map{m("icmp6_types"), m("icmp6_stats")}, Traces: traces("mixed.pcap", "ipv6ext.pcap", "malformed.pcap"),
			Covers: "ICMPv6 parsing, neighbour discovery hop-limit rule, echo replies with RFC 1624 checksum arithmetic"},
		{Name: "ttl_router", Entry: "xdp_ttl_router", Section: "xdp", Maps: []Map{percpu("rt_stats")}, Traces: standard,
			HostDependent: "bpf_check_mtu compares with the receiving device's MTU (loopback in BPF_PROG_TEST_RUN, 65536 by default)",
			Covers:        "TTL/hop-limit decrement with an incremental IPv4 checksum, bpf_check_mtu, MAC rewrite, XDP_TX"},
		{Name: "fib_forward", Entry: "xdp_fib_forward", Section: "xdp", Maps: []Map{m("fib_results")}, Traces: traces("mixed.pcap"),
			HostDependent: "bpf_fib_lookup answers from the network namespace's routing table fib_table and its forwarding setting",
			Covers:        "bpf_fib_lookup (IPv4 and IPv6, DIRECT|TBID), bpf_redirect on success"},
		{Name: "nat44", Entry: "xdp_nat44", Section: "xdp", Maps: []Map{m("nat_out"), m("nat_in"), m("nat_stats"), m(".bss")}, Traces: traces("mixed.pcap", "malformed.pcap"),
			Covers: "source NAT with LRU hashes both ways, port allocation from .bss, IPv4 + TCP/UDP checksum rewrite with csum_diff"},
		{Name: "lpm_acl", Entry: "xdp_lpm_acl", Section: "xdp", Maps: []Map{m("acl4"), m("acl6"), m("rule_hits"), m(".bss")}, Traces: standard,
			Covers: "LPM tries (IPv4, IPv6) filled from .rodata rules on the first packet (cmpxchg), prefix deletion after a hit budget"},
		{Name: "tailcall", Entry: "xdp_tailcall_entry", Section: "xdp", Maps: []Map{m("tc_stats")}, Traces: standard,
			Covers: "tail calls through a statically filled prog array, nested tail call, empty slot, metadata handed between programs"},
		{Name: "map_in_map", Entry: "xdp_map_in_map", Section: "xdp",
			Maps:   []Map{m("tcp_counters"), m("udp_counters"), m("icmp_counters"), m("inside_sources"), m("outside_sources"), m(".bss")},
			Traces: traces("mixed.pcap"),
			Covers: "array of maps and hash of maps filled statically in C, lookups through inner maps"},
		{Name: "queue_stack", Entry: "xdp_queue_stack", Section: "xdp", Maps: []Map{ordered("syn_queue"), ordered("recent_lengths"), m("qs_stats")}, Traces: traces("mixed.pcap"),
			Covers: "queue and stack maps: push (BPF_EXIST and BPF_ANY), pop, peek"},
		{Name: "ringbuf", Entry: "xdp_ringbuf", Section: "xdp", Maps: []Map{ordered("events"), m("rb_stats"), m(".bss")}, Traces: traces("mixed.pcap"),
			Covers: "ring buffer reserve/submit/discard, ringbuf_output, ringbuf_query; fills up and fails deterministically"},
		{Name: "perf_event", Entry: "xdp_perf_event", Section: "xdp", Maps: []Map{m("output_results")}, Traces: traces("mixed.pcap"),
			Covers: "bpf_perf_event_output with BPF_F_CURRENT_CPU and packet sample length, -EFAULT and -ENOENT results"},
		{Name: "devmap", Entry: "xdp_devmap", Section: "xdp", Maps: []Map{m("actions")}, Traces: standard,
			Covers: "bpf_redirect_map on DEVMAP and DEVMAP_HASH with fallback actions and BPF_F_BROADCAST, bpf_redirect"},
		{Name: "cpumap", Entry: "xdp_cpumap", Section: "xdp", Maps: []Map{m("steered")}, Traces: standard,
			Covers: "flow hashing and bpf_redirect_map into a CPUMAP with XDP_PASS fallback"},
		{Name: "xsk", Entry: "xdp_xsk", Section: "xdp", Maps: []Map{m("per_queue")}, Traces: traces("mixed.pcap"),
			Covers: "XSKMAP lookup and bpf_redirect_map by rx_queue_index for one UDP port"},
		{Name: "time_rand", Entry: "xdp_time_rand", Section: "xdp", Maps: []Map{m("facts")}, Traces: traces("mixed.pcap"),
			Covers: "ktime_get_ns/boot_ns/coarse_ns, jiffies64, get_prandom_u32, get_smp_processor_id (only sanity recorded), bpf_trace_printk"},
		{Name: "spinlock", Entry: "xdp_spinlock", Section: "xdp", Maps: []Map{m("sources")}, Traces: traces("mixed.pcap"),
			Covers: "bpf_spin_lock/unlock around a multi-field update in a hash map value, byte budget per source"},
		{Name: "atomics", Entry: "xdp_atomics", Section: "xdp", Maps: []Map{m("per_proto"), m(".bss"), m(".data")}, Traces: standard,
			Covers: "atomic add/sub/or/and/xor, fetch variants, xchg and cmpxchg on globals and map values (32 and 64 bit)"},
		{Name: "loops", Entry: "xdp_loops", Section: "xdp", Maps: []Map{m("sum_buckets"), m("popcount"), m("dports"), m(".bss")}, Traces: traces("mixed.pcap"),
			Covers: "bpf_loop over the payload with load_bytes, bpf_for_each_map_elem over array and hash, bounded for loop"},
		{Name: "encap", Entry: "xdp_encap", Section: "xdp", Maps: []Map{m("encap_stats"), m(".bss")}, Traces: traces("mixed.pcap"),
			Covers: "adjust_head push (IPIP encapsulation, new header checksum with csum_diff) and pull (IPIP and VXLAN decapsulation)"},
		{Name: "meta_tail", Entry: "xdp_meta_tail", Section: "xdp", Maps: []Map{m("mt_stats")}, Traces: standard,
			Covers: "adjust_tail shrink and grow, store_bytes at the new tail, adjust_meta with metadata for the stack"},
		{Name: "frags", Entry: "xdp_frags", Section: "xdp.frags", Frags: true, Maps: []Map{m("frag_stats"), m(".bss")}, Traces: traces("jumbo.pcap", "mixed.pcap"),
			Covers: "xdp.frags: get_buff_len, load_bytes/store_bytes across fragments, adjust_tail grow and shrink on jumbo frames"},
		{Name: "calls", Entry: "xdp_calls", Section: "xdp", Maps: []Map{m("classes"), m("hash_buckets")}, Traces: standard,
			Covers: "bpf-to-bpf calls: static and global __noinline functions, ctx, stack pointer and scalar arguments"},
		{Name: "globals", Entry: "xdp_globals", Section: "xdp", Maps: []Map{m(".bss"), m(".data")}, Traces: standard,
			Covers: ".rodata const volatile configuration, .data and .bss state, a frame budget, bpf_printk with a .data string"},
		{Name: "ratelimit", Entry: "xdp_ratelimit", Section: "xdp", Maps: []Map{m("buckets"), percpu("src_bytes"), m(".bss")}, Traces: traces("mixed.pcap"),
			Covers: "LRU hash and LRU per-CPU hash, per-source limits over windows counted in packets"},
		{Name: "udp_echo", Entry: "xdp_udp_echo", Section: "xdp", Maps: []Map{m(".bss")}, Traces: traces("mixed.pcap", "malformed.pcap"),
			Covers: "packet access only through load_bytes/store_bytes, UDP echo over IPv4 and IPv6 with XDP_TX"},
		{Name: "synproxy", Entry: "xdp_synproxy", Section: "xdp", Maps: []Map{m("sp_stats")}, Traces: standard, Cookies: true,
			Covers: "a SYN proxy: conntrack lookup, SYN-ACKs with raw SYN cookies (IPv4, IPv6) built in place and sent with XDP_TX, cookie checks on ACKs, connections entered into conntrack (alloc, set_status, set_timeout, insert)"},
		{Name: "hints", Entry: "xdp_hints", Section: "xdp", Maps: []Map{m("hint_classes"), m("rx_queues"), percpu("cpu_packets")},
			Traces: traces("vlan.pcap", "mixed.pcap"), Needs: NeedsDevice,
			Covers: "RX-metadata kfuncs (rx_timestamp, rx_hash, rx_vlan_tag) per packet class, hints handed on in the XDP metadata, packets per RX queue and CPU"},
		{Name: "traits", Entry: "xdp_traits", Section: "xdp", Maps: []Map{m("results")}, Traces: traces("mixed.pcap"), Needs: NeedsTraits,
			Covers: "packet-traits kfuncs (RFC): set/is_set/get/del with every error, traits kept for the skb, exclusivity with metadata, adjust_head above the store"},
		{Name: "export_skb", Entry: "xdp_export_skb", Section: "xdp", Maps: []Map{m("results")}, Traces: traces("vlan.pcap", "mixed.pcap"),
			Needs:  NeedsDevice + ", " + NeedsExportToSkb,
			Covers: "bpf_xdp_metadata_export_to_skb (RFC) after the hints, in front of the program's own metadata; -EEXIST, adjust_meta refused afterwards"},
		{Name: "planted_bug", Entry: "xdp_planted_bug", Section: "xdp", Maps: []Map{m("tlm_stats"), m("tlm_sources")}, Traces: standard,
			Covers: "a telemetry parser on UDP port 7777 with a bug planted for the fuzzing tests: XDP_ABORTED for a tag starting with \"xdp\", which no trace holds"},
		{Name: "control_steer", Entry: "xdp_control_steer", Section: "xdp", Maps: []Map{m("queue_packets"), m("results")},
			Traces: traces("mixed.pcap"), Needs: NeedsControlMap,
			Covers: "BPF_MAP_TYPE_CONTROL (proposal): device attributes read by ifindex, the indirection table rewritten to drain an RX queue, an MTU change refused with -EPERM"},
		{Name: "control_v1", Entry: "xdp_control_v1", Section: "xdp", Maps: []Map{m("queue_packets"), m("results")},
			Traces: traces("mixed.pcap"), Needs: NeedsControlMap,
			Covers: "BPF_MAP_TYPE_CONTROL (proposal) from a client of the older, shorter layout: lookup of its prefix, the RSS key replaced mid-trace"},

		// The components of the dispatcher sets (Dispatchers), each also a program of its own.
		{Name: "disp_mon", Entry: "xdp_mon", Section: "xdp", Maps: []Map{m("mon_frames")}, Traces: standard,
			Covers: "dispatcher component, priority 1, chains on XDP_PASS and XDP_DROP: EtherType classes counted, unknown ones dropped"},
		{Name: "disp_fw", Entry: "xdp_fw", Section: "xdp", Maps: []Map{m("fw_hits")}, Traces: standard,
			Covers: "dispatcher component, priority 10: SMTP and chargen dropped, IPv4 options aborted"},
		{Name: "disp_echo", Entry: "xdp_echo", Section: "xdp", Maps: []Map{m("echo_stats")}, Traces: standard,
			Covers: "dispatcher component, priority 30: ICMP echo answered in place with XDP_TX"},
		{Name: "disp_acl", Entry: "xdp_acl", Section: "xdp", Maps: []Map{m("acl_hits")}, Traces: standard,
			Covers: "dispatcher component, priority 20, named to sort first among equal priorities: 192.0.2.0/24 dropped"},
		{Name: "disp_count_small", Entry: "xdp_count", Section: "xdp", Maps: []Map{m("count_small")}, Traces: traces("mixed.pcap", "malformed.pcap"),
			Covers: "dispatcher component xdp_count, priority 20, the smaller of two with that name; chains on XDP_DROP too; IPIP dropped"},
		{Name: "disp_count_big", Entry: "xdp_count", Section: "xdp", Maps: []Map{m("count_big")}, Traces: traces("mixed.pcap", "malformed.pcap"),
			Covers: "dispatcher component xdp_count, priority 20, the larger of two with that name: counters by protocol, TTL and length; discard port dropped"},
		{Name: "disp_dup_a", Entry: "xdp_dup", Section: "xdp", Maps: []Map{m("dup_seen")}, Traces: traces("mixed.pcap"),
			Covers: "dispatcher component xdp_dup, priority 20, chains on XDP_TX: UDP echo port turned around in place"},
		{Name: "disp_dup_b", Entry: "xdp_dup", Section: "xdp", Maps: []Map{m("dup_seen")}, Traces: traces("mixed.pcap"),
			Covers: "disp_dup_a's code with a run configuration chaining on XDP_PASS only: equal in priority, name and size"},
		{Name: "disp_verdict", Entry: "xdp_verdict", Section: "xdp", Maps: []Map{m("verdict_tried")}, Traces: standard,
			Covers: "dispatcher component chaining on every action, returning the five actions, 7, 31, 32, 63, 66, 95 and -1 by IPv4 ID"},
		{Name: "disp_last", Entry: "xdp_last", Section: "xdp", Maps: []Map{m("last_reached")}, Traces: standard,
			Covers: "dispatcher component, priority 90: counts which packets the chain let through to it; SSH dropped"},
		{Name: "disp_flen", Entry: "xdp_flen", Section: "xdp.frags", Frags: true, Maps: []Map{m("flen_classes")}, Traces: traces("jumbo.pcap", "mixed.pcap"),
			Covers: "frags-aware dispatcher component: bpf_xdp_get_buff_len classes, frames over 8000 bytes dropped"},
		{Name: "disp_fsum", Entry: "xdp_fsum", Section: "xdp.frags", Frags: true, Maps: []Map{m("fsum_last")}, Traces: traces("jumbo.pcap", "mixed.pcap"),
			Covers: "frags-aware dispatcher component: the last byte read and, past 3000 bytes, inverted in its fragment"},
		{Name: "disp_meta", Entry: "xdp_meta", Section: "xdp", Maps: []Map{m("meta_stats")}, Traces: traces("vlan.pcap", "mixed.pcap"),
			Covers: "dispatcher component that changes packet data: an 8-byte metadata tag for the programs after it (bpf_xdp_adjust_meta)"},
		{Name: "disp_vlanpop", Entry: "xdp_vlanpop", Section: "xdp", Maps: []Map{m("pop_stats")}, Traces: traces("vlan.pcap", "mixed.pcap"),
			Covers: "dispatcher component that changes packet data: 802.1Q tag popped with bpf_xdp_adjust_head, metadata left by an earlier slot checked"},
	}
}

// Lookup finds a program by name.
func Lookup(name string) (Program, bool) {
	for _, p := range Programs() {
		if p.Name == name {
			return p, true
		}
	}
	return Program{}, false
}
