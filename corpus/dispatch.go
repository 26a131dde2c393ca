package corpus

// DispatcherSet is a set of corpus programs attached to one interface through libxdp's
// dispatcher, as `xdp-loader load IFACE OBJECT...` attaches them.
type DispatcherSet struct {
	Name string
	// Programs are corpus program names (see Programs) in the order they are given to libxdp.
	Programs []string
	// Priority and Actions, when set, override every program's run configuration as
	// xdp-loader's --prio and --actions do (xdp-loader ignores a priority of 0).
	Priority uint32
	Actions  string
	// PacketChangingStubs says the set needs libxdp 1.5.5's stubs: some program changes packet
	// data, which Linux 6.13 and later refuse in libxdp 1.3.1's dispatcher.
	PacketChangingStubs bool
	// SetFrags says the application marks the SEC("xdp.frags") programs frags-aware
	// (xdp_program__set_xdp_frags_support), which libxdp's API offers and xdp-loader does not:
	// without it libxdp 1.3.1 takes no program as frags-aware, SEC("xdp.frags") or not.
	SetFrags bool
	// Traces are the traces (file names under traces/) the set is meant to be run over.
	Traces []string
	// Covers says in a line what the set exercises.
	Covers string
}

// Dispatchers lists the dispatcher sets in a stable order.
func Dispatchers() []DispatcherSet {
	return []DispatcherSet{
		{Name: "pipeline", Programs: []string{"disp_echo", "disp_fw", "disp_mon"}, Traces: standard,
			Covers: "priorities 1, 10, 30 given out of order; a monitor whose XDP_DROP chains on; a filter's DROP and ABORTED and an echo's TX end the chain"},
		{Name: "ties", Programs: []string{"disp_dup_a", "disp_count_big", "disp_dup_b", "disp_count_small", "disp_acl"}, Traces: traces("mixed.pcap"),
			Covers: "five programs of priority 20: by name (xdp_acl first), by size (the smaller xdp_count first), and two identical xdp_dup in the order given"},
		{Name: "ties-reversed", Programs: []string{"disp_acl", "disp_count_small", "disp_dup_b", "disp_count_big", "disp_dup_a"}, Traces: traces("mixed.pcap"),
			Covers: "the ties set given in the opposite order: only the two identical xdp_dup swap"},
		{Name: "chain-rules", Programs: []string{"disp_last", "disp_verdict"}, Traces: standard,
			Covers: "every kind of return value through a slot chaining on every action: which go on to the next slot, which become the verdict"},
		{Name: "chain-rules-drop", Programs: []string{"disp_last", "disp_verdict"}, Actions: "XDP_DROP", Traces: traces("mixed.pcap"),
			Covers: "the chain-rules set with xdp-loader's --actions XDP_DROP: every slot chains on XDP_DROP only"},
		{Name: "chain-rules-prio", Programs: []string{"disp_verdict", "disp_last"}, Priority: 5, Traces: traces("mixed.pcap"),
			Covers: "the chain-rules set with xdp-loader's --prio 5: equal priorities, so xdp_last sorts before xdp_verdict by name"},
		{Name: "single", Programs: []string{"disp_verdict"}, Traces: traces("mixed.pcap"),
			Covers: "one program replaces the dispatcher's main function: every return value is the verdict as it is"},
		{Name: "frags", Programs: []string{"disp_fsum", "disp_flen"}, Traces: traces("jumbo.pcap", "mixed.pcap"),
			Covers: "two SEC(\"xdp.frags\") programs through xdp-loader: libxdp 1.3.1 does not take them as frags-aware, so the dispatcher has no frags support"},
		{Name: "frags-api", Programs: []string{"disp_fsum", "disp_flen"}, SetFrags: true, Traces: traces("jumbo.pcap", "mixed.pcap"),
			Covers: "the same with each program marked frags-aware through libxdp's API: the dispatcher is loaded with BPF_F_XDP_HAS_FRAGS"},
		{Name: "frags-mix", Programs: []string{"disp_fsum", "disp_mon", "disp_flen"}, SetFrags: true, Traces: traces("jumbo.pcap", "mixed.pcap"),
			Covers: "the frags-aware programs marked so, with one that is not: the dispatcher has no frags support, and a veth whose MTU needs it refuses the dispatcher"},
		{Name: "meta", Programs: []string{"disp_vlanpop", "disp_meta", "disp_mon"}, PacketChangingStubs: true, Traces: traces("vlan.pcap", "mixed.pcap"),
			Covers: "programs that change packet data share the xdp_buff: metadata written in one slot read in the next, a tag popped (libxdp 1.5.5's stubs)"},
	}
}

// LookupDispatcher finds a dispatcher set by name.
func LookupDispatcher(name string) (DispatcherSet, bool) {
	for _, d := range Dispatchers() {
		if d.Name == name {
			return d, true
		}
	}
	return DispatcherSet{}, false
}
