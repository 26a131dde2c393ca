package device

import (
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/kfuncs"
)

// Profile describes a simulated network device: which RX metadata hints its driver implements,
// whether it strips VLAN tags, and how it hashes for RSS. [ComputeHints] applies it to a frame.
//
// The built-in profiles follow the drivers' xdp_metadata_ops as the kernel's patches show them
// (spec/xdp-kernel.md §4) and veth as measured on Linux 6.18. They model a device with hardware RX
// timestamping switched on (drivers report -ENODATA for the timestamp until it is) and with its
// default RSS configuration, but with the Microsoft key instead of the random key a real driver
// picks at boot.
type Profile struct {
	// Name is the profile's name, as --device takes it.
	Name string
	// Description says which device the profile stands for.
	Description string
	// Hints are the hints the driver implements; the others return -EOPNOTSUPP.
	Hints kfuncs.Hint
	// TimestampZero: the driver returns 0 with a timestamp of 0. veth does, for a packet that
	// arrives as an skb without a hardware timestamp (measured on 6.18).
	TimestampZero bool
	// SkbHash: the hash is the skb's flow hash and the type is XDP_RSS_TYPE_L4_ANY when the
	// hash covered ports and XDP_RSS_TYPE_NONE otherwise, as veth reports (measured on 6.18:
	// L4_ANY for TCP and UDP, NONE for a frame with an in-band 802.1Q tag). The kernel's flow hash
	// is seeded at random per boot; the simulator uses the Toeplitz hash of the same fields instead.
	SkbHash bool
	// HashNoDataIfZero: the driver returns -ENODATA when the hash is 0, after storing it and
	// the type (ice, for frames it did not hash).
	HashNoDataIfZero bool
	// StripVLAN lists the TPIDs of the outer tags the device removes from the frame (VLAN RX
	// offload) and reports through bpf_xdp_metadata_rx_vlan_tag: 0x8100 for 802.1Q, 0x88a8 for
	// 802.1ad.
	StripVLAN []uint16
	// VLANNoDataIfZeroTCI: a stripped tag with TCI 0 reports -ENODATA (ice reads the TCI from
	// the descriptor and takes 0 as "no tag").
	VLANNoDataIfZeroTCI bool
	// RSS says which fields the device hashes.
	RSS RSSFields
	// Key is the RSS key; nil means MicrosoftRSSKey.
	Key []byte
	// Facts are what the driver declares to the kernel and reports through netlink and ethtool:
	// the base of the device's attributes (see [Netdev.Attributes]).
	Facts DriverFacts
	// Notes say what the profile leaves out or approximates.
	Notes []string
}

// RSSFields is a set of the packet types a device's RSS hash covers, and with which fields.
type RSSFields uint16

// The RSS field sets. A packet type without its set gets the next coarser one: TCP over IPv4
// without RSSIPv4TCP is hashed on the IPv4 addresses alone (type L3_IPV4), and IPv4 without RSSIPv4
// is not hashed (hash 0, type NONE).
const (
	RSSIPv4     RSSFields = 1 << iota // IPv4 source and destination addresses
	RSSIPv4TCP                        // ... and the TCP ports (type L4_IPV4_TCP)
	RSSIPv4UDP                        // ... and the UDP ports (L4_IPV4_UDP)
	RSSIPv4SCTP                       // ... and the SCTP ports (L4_IPV4_SCTP)
	RSSIPv6                           // IPv6 source and destination addresses
	RSSIPv6TCP                        // ... and the TCP ports (L4_IPV6_TCP)
	RSSIPv6UDP                        // ... and the UDP ports (L4_IPV6_UDP)
	RSSIPv6SCTP                       // ... and the SCTP ports (L4_IPV6_SCTP)
	// RSSIPv6Ex, RSSIPv6TCPEx and RSSIPv6UDPEx hash IPv6 packets that carry extension
	// headers the way NDIS's "_EX" hash types do: the source address is taken from a Home
	// Address destination option and the destination from a type 2 routing header when they are
	// present, and the type reported is L3_IPV6_EX, L4_IPV6_TCP_EX or L4_IPV6_UDP_EX.
	RSSIPv6Ex
	RSSIPv6TCPEx
	RSSIPv6UDPEx
	// RSSDynHdr sets XDP_RSS_L3_DYNHDR in the type of any packet with IPv4 options or IPv6
	// extension headers (as mlx4 does for IPv6 extension headers), giving L3_IPV4_OPT for
	// IPv4 with options.
	RSSDynHdr
)

var rssFieldNames = [...]string{"ipv4", "ipv4-tcp", "ipv4-udp", "ipv4-sctp", "ipv6", "ipv6-tcp",
	"ipv6-udp", "ipv6-sctp", "ipv6-ex", "ipv6-tcp-ex", "ipv6-udp-ex", "dynhdr"}

// Names lists the sets by name ("ipv4", "ipv4-tcp", ...); empty, not nil, for none.
func (f RSSFields) Names() []string {
	names := []string{}
	for i, n := range rssFieldNames {
		if f&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	return names
}

const rssCommon = RSSIPv4 | RSSIPv4TCP | RSSIPv4UDP | RSSIPv6 | RSSIPv6TCP | RSSIPv6UDP

// profiles are the built-in device profiles.
var profiles = []Profile{
	{
		Name:        "none",
		Description: "a device without XDP metadata ops (tap, say): every hint returns -EOPNOTSUPP; one queue, no RSS",
		Facts: DriverFacts{
			MinMTU: 68, MaxMTU: 65535, MTU: 1500, MaxQueues: 1, Queues: 1, RingFixed: true,
			Notes: []string{"declares no XDP features (a device with generic XDP only); a real tap declares basic, redirect and ndo-xmit"},
		},
	},
	{
		Name: "veth",
		Description: "veth with packets arriving as skbs (sent through the peer), as measured on Linux 6.18: " +
			"timestamp 0, the skb's flow hash with type L4_ANY or NONE, VLAN tag only when hardware-accelerated",
		Hints:         kfuncs.HintTimestamp | kfuncs.HintHash | kfuncs.HintVLANTag,
		TimestampZero: true,
		SkbHash:       true,
		RSS:           rssCommon | RSSIPv4SCTP | RSSIPv6SCTP,
		Notes: []string{
			"the kernel's skb hash is a jhash with a per-boot random seed; xdpsim uses the Toeplitz hash of the same fields",
			"frames that are not IP get hash 0 (the kernel's flow hash is never 0)",
			"a frame redirected into veth (no skb) gets -ENODATA for every hint",
			"in-band VLAN tags stay in the frame; rx_vlan_tag returns -ENODATA",
		},
		// drivers/net/veth.c (veth_set_xdp_features, veth_xdp_set), measured on Linux 6.18.
		Facts: DriverFacts{
			XDPFeatures: XDPActBasic | XDPActRedirect | XDPActRxSG,
			NdoXmit:     NdoXmitPeerProgramOrGRO, NdoXmitSG: true,
			ZCMaxSegs: 1,
			MinMTU:    68, MaxMTU: 65535, MTU: 1500,
			// SKB_WITH_OVERHEAD(PAGE_SIZE - VETH_XDP_HEADROOM) - ETH_HLEN, and with frags
			// PAGE_SIZE * MAX_SKB_FRAGS more, put on the peer's max_mtu (measured).
			XDPMaxMTU: 3506, XDPMaxMTUErr: errno.ERANGE, XDPMaxMTUOnPeer: true, XDPFragsMaxMTU: 3506 + 4096*17,
			MaxQueues: 64, Queues: 1,
			RingSize: 256, MaxRing: 256, RingFixed: true, // VETH_RING_SIZE, the XDP ring; no ethtool -g
			Notes: []string{
				"no RSS configuration (ethtool -x is not supported); the hash is the skb's flow hash",
				"max_queues stands for the kernel's num_possible_cpus() default of 64",
				"the kernel recomputes the features on channel changes, GRO changes and XDP setup; xdpsim from the current state at every read",
			},
		},
	},
	{
		Name:        "mlx5",
		Description: "NVIDIA/Mellanox ConnectX-4 and later (mlx5_core) with RX hardware timestamping on",
		Hints:       kfuncs.HintTimestamp | kfuncs.HintHash | kfuncs.HintVLANTag,
		StripVLAN:   []uint16{0x8100},
		RSS:         rssCommon,
		Notes: []string{
			"SCTP and IPsec traffic is hashed on the addresses only",
		},
		// drivers/net/ethernet/mellanox/mlx5/core: mlx5e_set_xdp_feature, mlx5e_xdp_max_mtu,
		// mlx5e_xsk_tx_metadata_ops, the default params.
		Facts: DriverFacts{
			XDPFeatures: XDPActBasic | XDPActRedirect | XDPActXSKZeroCopy | XDPActRxSG,
			NdoXmit:     NdoXmitWithProgram, NdoXmitSG: true,
			XSKFeatures: XSKTxTimestamp | XSKTxChecksum,
			ZCMaxSegs:   1,
			MinMTU:      68, MaxMTU: 9978, MTU: 1500,
			// PAGE_SIZE - SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) - XDP_PACKET_HEADROOM -
			// hard_mtu (ETH_HLEN + VLAN_HLEN + ETH_FCS_LEN).
			XDPMaxMTU: 4096 - 320 - 256 - 22, XDPMaxMTUErr: errno.EINVAL,
			MaxQueues: 64, Queues: 1,
			RingSize: 1024, MaxRing: 8192,
			RSSKeySize: 40, IndirSize: 256,
			Strip: true,
			Notes: []string{
				"NDO_XMIT only with an XDP program attached, as since mlx5 allocates its XDP redirect queue only then (2025); earlier kernels declare it always",
				"max_mtu stands for ConnectX's usual hardware limit",
			},
		},
	},
	{
		Name:                "ice",
		Description:         "Intel E800 series (ice) with RX hardware timestamping on",
		Hints:               kfuncs.HintTimestamp | kfuncs.HintHash | kfuncs.HintVLANTag,
		HashNoDataIfZero:    true,
		StripVLAN:           []uint16{0x8100},
		VLANNoDataIfZeroTCI: true,
		RSS:                 rssCommon | RSSIPv4SCTP | RSSIPv6SCTP,
		// drivers/net/ethernet/intel/ice: ice_set_ops, ice_xdp_setup_prog,
		// ice_max_xdp_frame_size (4 KiB pages), ICE_MAX_MTU, the default ring and LUT sizes.
		Facts: DriverFacts{
			XDPFeatures: XDPActBasic | XDPActRedirect | XDPActXSKZeroCopy | XDPActRxSG,
			NdoXmit:     NdoXmitWithProgram, NdoXmitSG: true,
			ZCMaxSegs: 8, // ICE_MAX_BUF_TXD
			MinMTU:    68, MaxMTU: 9702, MTU: 1500,
			XDPMaxMTU: 3072 - 26, XDPMaxMTUErr: errno.EOPNOTSUPP, // ICE_RXBUF_3072 less ICE_ETH_PKT_HDR_PAD
			MaxQueues: 64, Queues: 1,
			RingSize: 2048, MaxRing: 8160,
			RSSKeySize: 52, IndirSize: 512,
			Strip: true,
			Notes: []string{
				"a PF's LUT may be 2048 entries (ICE_LUT_PF) depending on the firmware; xdpsim uses the VSI's 512",
			},
		},
	},
	{
		Name:        "igc",
		Description: "Intel I225/I226 (igc) with RX hardware timestamping on; hashes UDP on the addresses only, as by default",
		Hints:       kfuncs.HintTimestamp | kfuncs.HintHash,
		RSS:         RSSIPv4 | RSSIPv4TCP | RSSIPv6 | RSSIPv6TCP | RSSIPv6TCPEx,
		Notes: []string{
			"no rx_vlan_tag op and no VLAN stripping modelled",
		},
		// drivers/net/ethernet/intel/igc: igc_probe, igc_xdp_set_prog (no XDP with jumbo
		// frames), igc_xsk_tx_metadata_ops (timestamp and launch time), IGC_MAX_RX_QUEUES.
		Facts: DriverFacts{
			XDPFeatures: XDPActBasic | XDPActRedirect | XDPActXSKZeroCopy,
			NdoXmit:     NdoXmitWithProgram,
			XSKFeatures: XSKTxTimestamp | XSKTxLaunchTime,
			ZCMaxSegs:   1,
			MinMTU:      68, MaxMTU: 9216, MTU: 1500,
			XDPMaxMTU: 1500, XDPMaxMTUErr: errno.EOPNOTSUPP, // ETH_DATA_LEN: "Jumbo frames not supported"
			MaxQueues: 4, Queues: 1,
			RingSize: 256, MaxRing: 4096,
			RSSKeySize: 40, IndirSize: 128,
		},
	},
	{
		Name:        "virtio_net",
		Description: "virtio-net with VIRTIO_NET_F_HASH_REPORT negotiated (QEMU hash=on) and the Linux driver's default hash types",
		Hints:       kfuncs.HintHash,
		RSS:         rssCommon,
		Notes: []string{
			"the hash comes from the device (the host); the _EX hash types are off, as the Linux driver sets them",
		},
		// drivers/net/virtio_net.c with mergeable RX buffers (VIRTIO_NET_F_MRG_RXBUF, QEMU's
		// default): virtnet_probe, virtnet_xdp_set; queue, ring, key and table sizes as QEMU
		// offers them.
		Facts: DriverFacts{
			XDPFeatures: XDPActBasic | XDPActRedirect | XDPActRxSG,
			NdoXmit:     NdoXmitWithProgram, NdoXmitSG: true,
			ZCMaxSegs: 1,
			MinMTU:    68, MaxMTU: 65535, MTU: 1500,
			// PAGE_SIZE - SKB_DATA_ALIGN(VIRTIO_XDP_HEADROOM + sizeof(struct skb_shared_info)) - ETH_HLEN.
			XDPMaxMTU: 4096 - 576 - 14, XDPMaxMTUErr: errno.EINVAL,
			MaxQueues: 8, Queues: 1,
			RingSize: 256, MaxRing: 1024,
			RSSKeySize: 40, IndirSize: 128,
			Notes: []string{
				"AF_XDP zero copy (6.11 and later, with a capable device) is not modelled",
			},
		},
	},
}

// DefaultProfile is the profile the simulator uses unless told otherwise.
const DefaultProfile = "veth"

// Profile returns a copy of the named device profile, which the caller may change (its key, say).
func LookupProfile(name string) (*Profile, error) {
	for i := range profiles {
		if profiles[i].Name == name {
			p := profiles[i]
			p.StripVLAN = slices.Clone(p.StripVLAN)
			p.Notes = slices.Clone(p.Notes)
			p.Key = slices.Clone(p.Key)
			p.Facts.Notes = slices.Clone(p.Facts.Notes)
			return &p, nil
		}
	}
	return nil, fmt.Errorf("unknown device profile %q (known: %s)", name, strings.Join(ProfileNames(), ", "))
}

// ProfileNames lists the names of the built-in profiles, sorted.
func ProfileNames() []string {
	names := make([]string, len(profiles))
	for i := range profiles {
		names[i] = profiles[i].Name
	}
	sort.Strings(names)
	return names
}

// ProfileInfo is what `xdpsim devices` shows of a profile; it encodes to JSON as it stands.
type ProfileInfo struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// Hints name the hint kfuncs the driver implements ("rx_timestamp", "rx_hash",
	// "rx_vlan_tag"); the others return -EOPNOTSUPP.
	Hints []string `json:"hints"`
	// VLANStrip names the tags the device strips, as "802.1Q (0x8100)".
	VLANStrip []string `json:"vlan_strip"`
	// RSSFields names the packet types the RSS hash covers (see [RSSFields]).
	RSSFields []string `json:"rss_fields"`
	// RSSKey is the RSS key in hex.
	RSSKey string `json:"rss_key"`
	// MaxQueues is the most RX queues (channels) the driver takes.
	MaxQueues uint32   `json:"max_queues"`
	Notes     []string `json:"notes,omitempty"`
}

// Info describes the profile for listing.
func (p *Profile) Info() ProfileInfo {
	info := ProfileInfo{
		Name:        p.Name,
		Description: p.Description,
		Hints:       p.Hints.Names(),
		VLANStrip:   []string{},
		RSSFields:   p.RSS.Names(),
		RSSKey:      hex.EncodeToString(p.key()),
		MaxQueues:   max(p.Facts.MaxQueues, 1),
		Notes:       slices.Clone(p.Notes),
	}
	for _, tpid := range p.StripVLAN {
		info.VLANStrip = append(info.VLANStrip, fmt.Sprintf("%s (%#04x)", tpidName(tpid), tpid))
	}
	return info
}

// Profiles describes every built-in profile, in the order of [ProfileNames].
func Profiles() []ProfileInfo {
	var out []ProfileInfo
	for _, name := range ProfileNames() {
		p, _ := LookupProfile(name)
		out = append(out, p.Info())
	}
	return out
}

// key is the profile's RSS key.
func (p *Profile) key() []byte {
	if p.Key != nil {
		return p.Key
	}
	return MicrosoftRSSKey[:]
}

// HintsWithoutData gives the hints of a frame that reached the device's XDP program without passing
// its RX hardware (redirected into it through ndo_xdp_xmit, say): the driver implements what it
// implements, but has data for nothing, so every implemented hint returns -ENODATA (measured on 6.18
// for veth).
func (p *Profile) HintsWithoutData() kfuncs.RxHints {
	return kfuncs.RxHints{Supported: p.Hints}
}

func tpidName(tpid uint16) string {
	switch tpid {
	case 0x8100:
		return "802.1Q"
	case 0x88a8:
		return "802.1ad"
	}
	return "TPID"
}
