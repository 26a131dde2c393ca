package corpus

// TCPrograms lists the tc (SCHED_CLS) programs of the corpus in a stable order. They run as
// BPF_PROG_TEST_RUN runs a tc program (the packet in an skb on loopback, a struct __sk_buff passed
// in and given back), and, in the simulator, at a device's tc ingress hook after XDP.
func TCPrograms() []Program {
	return []Program{
		{Name: "tc_parser", Entry: "tc_parser", Section: "tc", Maps: []Map{m("classes"), m("dports")}, Traces: standard,
			Covers: "direct packet access through VLAN, IPv4, IPv6 and L4 headers, load_bytes_relative, every readable __sk_buff field (narrow loads too), mark/priority/cb/tc_classid writes"},
		{Name: "tc_nat44", Entry: "tc_nat44", Section: "tc", Maps: []Map{m("tc_nat_out"), m("tc_nat_in"), m("tc_nat_stats"), m(".bss")}, Traces: traces("mixed.pcap", "malformed.pcap"),
			Covers: "source NAT with l3_csum_replace and l4_csum_replace (pseudo header, port field, MARK_MANGLED_0) and skb_store_bytes (INVALIDATE_HASH)"},
		{Name: "tc_vlan", Entry: "tc_vlan", Section: "tc", Maps: []Map{m("tc_vlan_actions")}, Traces: traces("vlan.pcap", "mixed.pcap", "malformed.pcap"),
			Covers: "skb_vlan_pop of in-frame tags (QinQ leaves the inner tag beside the packet), skb_vlan_push beside the packet and twice into it, vlan_present/tci/proto reads"},
		{Name: "tc_encap", Entry: "tc_encap", Section: "tc", Maps: []Map{m("tc_encap_stats")}, Traces: traces("mixed.pcap", "malformed.pcap", "ipv6ext.pcap"),
			Covers: "skb_adjust_room: UDP and IPIP encapsulation behind the MAC header, IPIP decapsulation, IPv6 room behind the network header; outer headers with csum_diff"},
		{Name: "tc_redirect", Entry: "tc_redirect", Section: "tc", Maps: []Map{m("tc_redirect_results")}, Traces: traces("mixed.pcap", "malformed.pcap"),
			Covers: "bpf_redirect (egress, BPF_F_INGRESS, a refused flag), redirect_peer, redirect_neigh with and without a nexthop, clone_redirect to a device that is down and to none"},
		{Name: "tc_meta", Entry: "tc_meta_reader", Section: "tc", XDP: "xdp_meta_writer", Maps: []Map{m("tc_meta_paths"), m("tc_meta_classes"), m("tc_meta_seen")}, Traces: standard,
			Covers: "metadata an XDP program left read at data_meta by a tc program (in the simulator's XDP-to-tc path and on a veth; BPF_PROG_TEST_RUN gives a tc program none), and what the skb looks like at tc ingress"},
		{Name: "tc_chain", Entry: "chain_classify", Section: "tcx/ingress", Chain: []string{"chain_classify", "chain_police", "chain_final"}, XDP: "xdp_pass",
			Maps: []Map{m("tc_chain_counts")}, Traces: standard,
			Covers: "a tcx chain: TCX_NEXT hands on through cb[], TCX_DROP and TCX_PASS end it, TC_ACT_PIPE ends it as TCX_NEXT; tc_classid becomes tc_index on TCX_PASS"},
		{Name: "tc_csum", Entry: "tc_csum", Section: "tc", Maps: []Map{m("tc_csum_results")}, Traces: traces("mixed.pcap", "malformed.pcap", "ipv6ext.pcap"),
			Covers: "l3_csum_replace of a 2-byte field and by difference, l4_csum_replace by difference and with BPF_F_IPV6, checked with csum_diff; csum_update, csum_level"},
		{Name: "tc_resize", Entry: "tc_resize", Section: "tc", Maps: []Map{m("tc_resize_results"), m(".bss")}, Traces: traces("mixed.pcap", "malformed.pcap", "ipv6ext.pcap"),
			Covers: "skb_change_tail to pad and trim, skb_change_head for MAC-in-MAC, skb_pull_data (and past the end), load_bytes of the last byte"},
		{Name: "tc_nat64", Entry: "tc_nat64", Section: "tc", Maps: []Map{m("tc_nat64_results")}, Traces: traces("mixed.pcap", "ipv6ext.pcap"),
			Covers: "skb_change_proto IPv4 to IPv6 and back with headers rewritten and the UDP checksum fixed for the new pseudo header; skb_change_type"},
		{Name: "tc_qos", Entry: "tc_qos", Section: "tc", Maps: []Map{m("tc_qos_seen")}, Traces: traces("mixed.pcap", "vlan.pcap"),
			Covers: "priority, tc_classid, tc_index, queue_mapping (0xffff ignored), tstamp, mark and cb writes read back; skb_ecn_set_ce; set_hash, set_hash_invalid, get_hash_recalc"},
		{Name: "tc_fib", Entry: "tc_fib", Section: "tc", Maps: []Map{m("tc_fib_results")}, Traces: traces("mixed.pcap"),
			HostDependent: "bpf_fib_lookup and bpf_check_mtu answer from the network namespace's devices and routes",
			Covers:        "bpf_fib_lookup for skbs (with tot_len, and without: the skb against the egress device), bpf_check_mtu, TTL decrement and bpf_redirect"},
		{Name: "tc_events", Entry: "tc_events", Section: "tc", Maps: []Map{m("tc_event_results"), ordered("tc_udp_events")}, Traces: traces("mixed.pcap", "malformed.pcap"),
			Covers: "perf_event_output with an skb sample (-ENOENT without a reader, -EFAULT past the packet), ringbuf reserve/submit and output, bpf_printk"},
	}
}
