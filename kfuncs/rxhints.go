package kfuncs

import (
	"fmt"
	"strings"
)

// Hint is a set of RX metadata hints, as bits of the kernel's enum netdev_xdp_rx_metadata (the
// netdev netlink family's xdp-rx-metadata-features).
type Hint uint8

// The hints, with their netdev_xdp_rx_metadata values.
const (
	// HintTimestamp is bpf_xdp_metadata_rx_timestamp (NETDEV_XDP_RX_METADATA_TIMESTAMP).
	HintTimestamp Hint = 1 << 0
	// HintHash is bpf_xdp_metadata_rx_hash (NETDEV_XDP_RX_METADATA_HASH).
	HintHash Hint = 1 << 1
	// HintVLANTag is bpf_xdp_metadata_rx_vlan_tag (NETDEV_XDP_RX_METADATA_VLAN_TAG).
	HintVLANTag Hint = 1 << 2

	allHints = HintTimestamp | HintHash | HintVLANTag
)

var hintNames = [...]string{"rx_timestamp", "rx_hash", "rx_vlan_tag"}

// Names lists the hints of the set by their netlink names: "rx_timestamp", "rx_hash",
// "rx_vlan_tag". An empty set gives an empty (not nil) slice, for JSON.
func (h Hint) Names() []string {
	names := []string{}
	for i, n := range hintNames {
		if h&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	return names
}

// String joins the names with "|", or gives "none".
func (h Hint) String() string {
	if h&allHints == 0 {
		return "none"
	}
	return strings.Join(h.Names(), "|")
}

// RxHints is what a device supplies for one frame: the values its driver's xdp_metadata_ops read from
// the RX descriptor. The hint kfuncs return -EOPNOTSUPP for a hint not in Supported (the kernel's
// default stub, as for a driver without that op), -ENODATA for one in Supported but not in Valid, and
// 0 with the value otherwise.
type RxHints struct {
	// Supported are the hints the driver implements.
	Supported Hint
	// Valid are the hints with data for this frame.
	Valid Hint
	// WritesOnNoData are the hints whose driver fills the out-parameters before finding it has no
	// data (ice's rx_hash stores the hash, 0, and the type before returning -ENODATA).
	WritesOnNoData Hint

	// Timestamp is the RX timestamp in nanoseconds.
	Timestamp uint64
	// Hash is the RSS hash.
	Hash uint32
	// HashType says what the hash covers.
	HashType RSSType
	// VLANProto is the TPID of the stripped tag (0x8100 for 802.1Q, 0x88a8 for 802.1ad), as a
	// number; bpf_xdp_metadata_rx_vlan_tag stores it in network byte order.
	VLANProto uint16
	// VLANTCI is the stripped tag's TCI: PCP (3 bits), DEI (1), VID (12); stored in host order.
	VLANTCI uint16
}

// RSSType is the kernel's enum xdp_rss_hash_type: which headers the device's RSS hash covered.
type RSSType uint32

// The bits and combinations of enum xdp_rss_hash_type (include/net/xdp.h).
const (
	RSSL3IPv4   RSSType = 1 << 0 // XDP_RSS_L3_IPV4
	RSSL3IPv6   RSSType = 1 << 1 // XDP_RSS_L3_IPV6
	RSSL3DynHdr RSSType = 1 << 2 // XDP_RSS_L3_DYNHDR: IPv4 options or IPv6 extension headers
	RSSL4       RSSType = 1 << 3 // XDP_RSS_L4
	RSSL4TCP    RSSType = 1 << 4 // XDP_RSS_L4_TCP
	RSSL4UDP    RSSType = 1 << 5 // XDP_RSS_L4_UDP
	RSSL4SCTP   RSSType = 1 << 6 // XDP_RSS_L4_SCTP
	RSSL4IPSec  RSSType = 1 << 7 // XDP_RSS_L4_IPSEC
	RSSL4ICMP   RSSType = 1 << 8 // XDP_RSS_L4_ICMP

	RSSTypeNone         RSSType = 0                               // XDP_RSS_TYPE_NONE (= XDP_RSS_TYPE_L2)
	RSSTypeL3IPv4       RSSType = RSSL3IPv4                       // 0x1
	RSSTypeL3IPv6       RSSType = RSSL3IPv6                       // 0x2
	RSSTypeL3IPv4Opt    RSSType = RSSL3IPv4 | RSSL3DynHdr         // 0x5
	RSSTypeL3IPv6Ex     RSSType = RSSL3IPv6 | RSSL3DynHdr         // 0x6
	RSSTypeL4Any        RSSType = RSSL4                           // 0x8
	RSSTypeL4IPv4TCP    RSSType = RSSL3IPv4 | RSSL4 | RSSL4TCP    // 0x19
	RSSTypeL4IPv4UDP    RSSType = RSSL3IPv4 | RSSL4 | RSSL4UDP    // 0x29
	RSSTypeL4IPv4SCTP   RSSType = RSSL3IPv4 | RSSL4 | RSSL4SCTP   // 0x49
	RSSTypeL4IPv4IPSec  RSSType = RSSL3IPv4 | RSSL4 | RSSL4IPSec  // 0x89
	RSSTypeL4IPv4ICMP   RSSType = RSSL3IPv4 | RSSL4 | RSSL4ICMP   // 0x109
	RSSTypeL4IPv6TCP    RSSType = RSSL3IPv6 | RSSL4 | RSSL4TCP    // 0x1a
	RSSTypeL4IPv6UDP    RSSType = RSSL3IPv6 | RSSL4 | RSSL4UDP    // 0x2a
	RSSTypeL4IPv6SCTP   RSSType = RSSL3IPv6 | RSSL4 | RSSL4SCTP   // 0x4a
	RSSTypeL4IPv6IPSec  RSSType = RSSL3IPv6 | RSSL4 | RSSL4IPSec  // 0x8a
	RSSTypeL4IPv6ICMP   RSSType = RSSL3IPv6 | RSSL4 | RSSL4ICMP   // 0x10a
	RSSTypeL4IPv6TCPEx  RSSType = RSSTypeL4IPv6TCP | RSSL3DynHdr  // 0x1e
	RSSTypeL4IPv6UDPEx  RSSType = RSSTypeL4IPv6UDP | RSSL3DynHdr  // 0x2e
	RSSTypeL4IPv6SCTPEx RSSType = RSSTypeL4IPv6SCTP | RSSL3DynHdr // 0x4e
)

var rssBitNames = [...]string{"L3_IPV4", "L3_IPV6", "L3_DYNHDR", "L4", "L4_TCP", "L4_UDP", "L4_SCTP", "L4_IPSEC", "L4_ICMP"}

// String names the type by its bits, as "L3_IPV4|L4|L4_TCP", or "NONE".
func (t RSSType) String() string {
	if t == 0 {
		return "NONE"
	}
	var parts []string
	for i, n := range rssBitNames {
		if t&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	if rest := t &^ (1<<len(rssBitNames) - 1); rest != 0 {
		parts = append(parts, fmt.Sprintf("%#x", uint32(rest)))
	}
	return strings.Join(parts, "|")
}
