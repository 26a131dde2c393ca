package device

import (
	"encoding/hex"
	"fmt"
	"github.com/xdpsim/xdpsim/kfuncs"
	"slices"
	"sort"
	"strings"
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
	},
	{
		Name:                "ice",
		Description:         "Intel E800 series (ice) with RX hardware timestamping on",
		Hints:               kfuncs.HintTimestamp | kfuncs.HintHash | kfuncs.HintVLANTag,
		HashNoDataIfZero:    true,
		StripVLAN:           []uint16{0x8100},
		VLANNoDataIfZeroTCI: true,
		RSS:                 rssCommon | RSSIPv4SCTP | RSSIPv6SCTP,
	},
	{
		Name:        "igc",
		Description: "Intel I225/I226 (igc) with RX hardware timestamping on; hashes UDP on the addresses only, as by default",
		Hints:       kfuncs.HintTimestamp | kfuncs.HintHash,
		RSS:         RSSIPv4 | RSSIPv4TCP | RSSIPv6 | RSSIPv6TCP | RSSIPv6TCPEx,
		Notes: []string{
			"no rx_vlan_tag op and no VLAN stripping modelled",
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
	RSSKey string   `json:"rss_key"`
	Notes  []string `json:"notes,omitempty"`
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
