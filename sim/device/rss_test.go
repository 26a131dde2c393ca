package device

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/xdpsim/xdpsim/kfuncs"
)

// Packet builders for the tests: just enough header for the RSS parser, with the addresses and
// ports of a Microsoft vector.

var testMACs = []byte{0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1}

// eth prefixes an Ethernet header (and tags, TPID then TCI each) to an L3 payload.
func eth(etype uint16, l3 []byte, tags ...uint16) []byte {
	b := append([]byte(nil), testMACs...)
	for _, t := range tags {
		b = binary.BigEndian.AppendUint16(b, t)
	}
	b = binary.BigEndian.AppendUint16(b, etype)
	return append(b, l3...)
}

// ipv4 builds an IPv4 header with options of optLen bytes (a multiple of 4), the given fragment
// field, protocol, and the vector's addresses, followed by ports.
func ipv4(v rssVector, proto uint8, optLen int, frag uint16) []byte {
	ihl := 20 + optLen
	h := make([]byte, ihl)
	h[0] = 0x40 | byte(ihl/4)
	binary.BigEndian.PutUint16(h[6:], frag)
	h[8], h[9] = 64, proto
	copy(h[12:16], netip.MustParseAddr(v.src).AsSlice())
	copy(h[16:20], netip.MustParseAddr(v.dst).AsSlice())
	for i := 20; i < ihl; i++ {
		h[i] = 1 // NOP options
	}
	h = binary.BigEndian.AppendUint16(h, v.sport)
	h = binary.BigEndian.AppendUint16(h, v.dport)
	return append(h, make([]byte, 16)...)
}

// ipv6 builds an IPv6 header with the given addresses and the extension headers ext (each a whole
// header whose first byte is patched to chain them), then ports.
func ipv6(src, dst string, sport, dport uint16, proto uint8, ext ...[]byte) []byte {
	h := make([]byte, 40)
	h[0] = 0x60
	h[7] = 64
	copy(h[8:24], netip.MustParseAddr(src).AsSlice())
	copy(h[24:40], netip.MustParseAddr(dst).AsSlice())
	next := &h[6]
	for _, e := range ext {
		e = append([]byte(nil), e...)
		*next = e[len(e)-1] // the caller puts the header's own protocol number last, not sent
		e = e[:len(e)-1]
		h = append(h, e...)
		next = &h[len(h)-len(e)]
	}
	*next = proto
	h = binary.BigEndian.AppendUint16(h, sport)
	h = binary.BigEndian.AppendUint16(h, dport)
	return append(h, make([]byte, 16)...)
}

func ipv6v(v rssVector, proto uint8, ext ...[]byte) []byte {
	return ipv6(v.src, v.dst, v.sport, v.dport, proto, ext...)
}

// Extension headers: the bytes of the header, then its protocol number.
var (
	hopByHop = []byte{0, 0, 1, 4, 0, 0, 0, 0, protoHopOpts} // PadN
	fragHdr  = func(offsetAndM uint16) []byte {
		b := []byte{0, 0, 0, 0, 0, 0, 0, 1, protoFragment}
		binary.BigEndian.PutUint16(b[2:], offsetAndM)
		return b
	}
)

// homeAddrOpts is a destination options header carrying a Home Address option with addr.
func homeAddrOpts(addr string) []byte {
	b := []byte{0, 2, 1, 2, 0, 0} // length 2: 24 bytes; PadN of 2 to align the option
	b = append(b, 201, 16)
	b = append(b, netip.MustParseAddr(addr).AsSlice()...)
	return append(b, protoDstOpts)
}

// routing2 is a type 2 routing header carrying addr.
func routing2(addr string) []byte {
	b := []byte{0, 2, 2, 1, 0, 0, 0, 0}
	b = append(b, netip.MustParseAddr(addr).AsSlice()...)
	return append(b, protoRouting)
}

func mustProfile(t testing.TB, name string) *Profile {
	t.Helper()
	p, err := LookupProfile(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The expected hashes below are the Microsoft vectors (toeplitz_test.go), the types those of enum
// xdp_rss_hash_type for what each device hashes (spec/xdp-kernel.md §4 and the drivers' defaults
// described in profiles.go).
func TestComputeHintsHashesWhatTheDeviceHashes(t *testing.T) {
	v4, v4b, v6 := msVectors[0], msVectors[1], msVectors[5]
	arp := eth(0x0806, make([]byte, 28))
	cases := []struct {
		name     string
		profile  string
		pkt      []byte
		hash     uint32
		typ      kfuncs.RSSType
		hashData bool // rx_hash returns data
	}{
		{"mlx5 hashes IPv4 TCP over addresses and ports", "mlx5", eth(0x0800, ipv4(v4, protoTCP, 0, 0)), v4.withPort, 0x19, true},
		{"mlx5 hashes IPv4 UDP over addresses and ports", "mlx5", eth(0x0800, ipv4(v4b, protoUDP, 0, 0)), v4b.withPort, 0x29, true},
		{"mlx5 hashes IPv4 SCTP over the addresses alone", "mlx5", eth(0x0800, ipv4(v4, protoSCTP, 0, 0)), v4.addrOnly, 0x1, true},
		{"ice hashes IPv4 SCTP over addresses and ports", "ice", eth(0x0800, ipv4(v4, protoSCTP, 0, 0)), v4.withPort, 0x49, true},
		{"mlx5 hashes ICMP over the addresses", "mlx5", eth(0x0800, ipv4(v4, 1, 0, 0)), v4.addrOnly, 0x1, true},
		{"mlx5 hashes an IPv4 fragment over the addresses", "mlx5", eth(0x0800, ipv4(v4, protoTCP, 0, 0x2000)), v4.addrOnly, 0x1, true},
		{"mlx5 hashes a later IPv4 fragment over the addresses", "mlx5", eth(0x0800, ipv4(v4, protoTCP, 0, 185)), v4.addrOnly, 0x1, true},
		{"mlx5 finds the ports after IPv4 options", "mlx5", eth(0x0800, ipv4(v4, protoTCP, 8, 0)), v4.withPort, 0x19, true},
		{"mlx5 hashes IPv6 TCP over addresses and ports", "mlx5", eth(0x86dd, ipv6v(v6, protoTCP)), v6.withPort, 0x1a, true},
		{"mlx5 hashes IPv6 UDP over addresses and ports", "mlx5", eth(0x86dd, ipv6v(msVectors[6], protoUDP)), msVectors[6].withPort, 0x2a, true},
		{"mlx5 hashes ICMPv6 over the addresses", "mlx5", eth(0x86dd, ipv6v(msVectors[7], 58)), msVectors[7].addrOnly, 0x2, true},
		{"mlx5 skips extension headers to the TCP ports", "mlx5", eth(0x86dd, ipv6v(v6, protoTCP, hopByHop)), v6.withPort, 0x1a, true},
		{"mlx5 hashes an IPv6 fragment over the addresses", "mlx5", eth(0x86dd, ipv6v(v6, protoTCP, fragHdr(1))), v6.addrOnly, 0x2, true},
		{"mlx5 hashes through a 802.1ad and a 802.1Q tag", "mlx5", eth(0x0800, ipv4(v4, protoTCP, 0, 0), 0x88a8, 5, 0x8100, 6), v4.withPort, 0x19, true},
		{"mlx5 gives hash 0 and type NONE for ARP", "mlx5", arp, 0, 0, true},
		{"ice reports no data for ARP, which it does not hash", "ice", arp, 0, 0, false},
		{"igc hashes UDP over the addresses alone, as by default", "igc", eth(0x0800, ipv4(v4b, protoUDP, 0, 0)), v4b.addrOnly, 0x1, true},
		{"igc hashes IPv4 TCP over addresses and ports", "igc", eth(0x0800, ipv4(v4b, protoTCP, 0, 0)), v4b.withPort, 0x19, true},
		{"igc reports IPv6 TCP with extension headers as TCP_EX", "igc", eth(0x86dd, ipv6v(v6, protoTCP, hopByHop)), v6.withPort, 0x1e, true},
		{"igc takes the source from a Home Address option for TCP_EX", "igc",
			eth(0x86dd, ipv6("2001:db8::1", v6.dst, v6.sport, v6.dport, protoTCP, homeAddrOpts(v6.src))), v6.withPort, 0x1e, true},
		{"igc takes the destination from a type 2 routing header for TCP_EX", "igc",
			eth(0x86dd, ipv6(v6.src, "2001:db8::2", v6.sport, v6.dport, protoTCP, routing2(v6.dst))), v6.withPort, 0x1e, true},
		{"igc hashes IPv6 UDP with extension headers over the plain addresses", "igc",
			eth(0x86dd, ipv6("2001:db8::1", v6.dst, v6.sport, v6.dport, protoUDP, homeAddrOpts(v6.src))),
			Toeplitz(MicrosoftRSSKey[:], append(netip.MustParseAddr("2001:db8::1").AsSlice(), netip.MustParseAddr(v6.dst).AsSlice()...)), 0x2, true},
		{"virtio_net hashes IPv6 UDP over addresses and ports", "virtio_net", eth(0x86dd, ipv6v(v6, protoUDP)), v6.withPort, 0x2a, true},
		{"virtio_net hashes IPv6 with extension headers without the EX types", "virtio_net", eth(0x86dd, ipv6v(v6, protoTCP, hopByHop)), v6.withPort, 0x1a, true},
		{"veth reports L4_ANY for TCP, as measured on 6.18", "veth", eth(0x0800, ipv4(v4, protoTCP, 0, 0)), v4.withPort, 0x8, true},
		{"veth reports L4_ANY for UDP, as measured on 6.18", "veth", eth(0x86dd, ipv6v(v6, protoUDP)), v6.withPort, 0x8, true},
		{"veth reports NONE for an in-band 802.1Q frame, as measured on 6.18", "veth", eth(0x0800, ipv4(v4, protoTCP, 0, 0), 0x8100, 0x6064), v4.withPort, 0, true},
		{"veth reports NONE for ICMP", "veth", eth(0x0800, ipv4(v4, 1, 0, 0)), v4.addrOnly, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := mustProfile(t, c.profile)
			orig := append([]byte(nil), c.pkt...)
			h, _ := ComputeHints(p, c.pkt, 7, nil)
			if h.Hash != c.hash || h.HashType != c.typ {
				t.Errorf("hash %#08x type %#x (%v), want %#08x type %#x (%v)", h.Hash, uint32(h.HashType), h.HashType, c.hash, uint32(c.typ), c.typ)
			}
			if got := h.Valid&kfuncs.HintHash != 0; got != c.hashData {
				t.Errorf("hash valid = %v, want %v", got, c.hashData)
			}
			if !bytes.Equal(c.pkt, orig) {
				t.Error("ComputeHints changed the packet")
			}
		})
	}
}

func TestComputeHintsReportsTypesWithDynamicHeaders(t *testing.T) {
	p := &Profile{Name: "custom", Hints: kfuncs.HintHash, RSS: rssCommon | RSSDynHdr}
	v4, v6 := msVectors[0], msVectors[5]
	cases := []struct {
		name string
		pkt  []byte
		hash uint32
		typ  kfuncs.RSSType
	}{
		{"IPv4 with options and no ports is L3_IPV4_OPT", eth(0x0800, ipv4(v4, 1, 4, 0)), v4.addrOnly, kfuncs.RSSTypeL3IPv4Opt},
		{"IPv4 TCP with options has DYNHDR too", eth(0x0800, ipv4(v4, protoTCP, 4, 0)), v4.withPort, 0x1d},
		{"IPv4 TCP without options has no DYNHDR", eth(0x0800, ipv4(v4, protoTCP, 0, 0)), v4.withPort, 0x19},
		{"IPv6 with an extension header and no ports is L3_IPV6_EX", eth(0x86dd, ipv6v(v6, 58, hopByHop)), v6.addrOnly, kfuncs.RSSTypeL3IPv6Ex},
		{"IPv6 TCP with an extension header is L4_IPV6_TCP_EX", eth(0x86dd, ipv6v(v6, protoTCP, hopByHop)), v6.withPort, kfuncs.RSSTypeL4IPv6TCPEx},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, _ := ComputeHints(p, c.pkt, 0, nil)
			if h.Hash != c.hash || h.HashType != c.typ {
				t.Errorf("hash %#08x type %v, want %#08x type %v", h.Hash, h.HashType, c.hash, c.typ)
			}
		})
	}
}

func TestComputeHintsUsesTheKeyItIsGiven(t *testing.T) {
	pkt := eth(0x0800, ipv4(msVectors[0], protoTCP, 0, 0))
	p := mustProfile(t, "mlx5")
	t.Run("a zero key hashes to 0", func(t *testing.T) {
		if h, _ := ComputeHints(p, pkt, 0, make([]byte, 40)); h.Hash != 0 {
			t.Errorf("hash %#08x, want 0", h.Hash)
		}
	})
	t.Run("a profile's own key is used when none is given", func(t *testing.T) {
		p := mustProfile(t, "mlx5")
		p.Key = make([]byte, 40)
		if h, _ := ComputeHints(p, pkt, 0, nil); h.Hash != 0 {
			t.Errorf("hash %#08x, want 0", h.Hash)
		}
	})
	t.Run("the Microsoft key is the default", func(t *testing.T) {
		if h, _ := ComputeHints(p, pkt, 0, nil); h.Hash != msVectors[0].withPort {
			t.Errorf("hash %#08x, want %#08x", h.Hash, msVectors[0].withPort)
		}
	})
}

func TestComputeHintsStripsTheVLANTagsTheDeviceOffloads(t *testing.T) {
	v4 := msVectors[0]
	untagged := eth(0x0800, ipv4(v4, protoTCP, 0, 0))
	ctag := eth(0x0800, ipv4(v4, protoTCP, 0, 0), 0x8100, 0x6064) // VID 100, PCP 3, as in the spec's measurement
	stag := eth(0x0800, ipv4(v4, protoTCP, 0, 0), 0x88a8, 0x0005)
	prio := eth(0x0800, ipv4(v4, protoTCP, 0, 0), 0x8100, 0x0000)
	cases := []struct {
		name      string
		profile   string
		pkt       []byte
		out       []byte
		valid     bool
		proto     uint16
		tci       uint16
		supported bool
	}{
		{"mlx5 strips an 802.1Q tag and reports it", "mlx5", ctag, untagged, true, 0x8100, 0x6064, true},
		{"mlx5 leaves an 802.1ad tag in the frame", "mlx5", stag, stag, false, 0, 0, true},
		{"mlx5 has no tag to report for an untagged frame", "mlx5", untagged, untagged, false, 0, 0, true},
		{"ice strips an 802.1Q tag and reports it", "ice", ctag, untagged, true, 0x8100, 0x6064, true},
		{"ice strips a tag with TCI 0 but reports no data", "ice", prio, untagged, false, 0x8100, 0, true},
		{"veth leaves an in-band tag in the frame and reports no data", "veth", ctag, ctag, false, 0, 0, true},
		{"igc does not implement the VLAN hint", "igc", ctag, ctag, false, 0, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, out := ComputeHints(mustProfile(t, c.profile), c.pkt, 0, nil)
			if !bytes.Equal(out, c.out) {
				t.Errorf("frame\n% x\nwant\n% x", out, c.out)
			}
			if got := h.Valid&kfuncs.HintVLANTag != 0; got != c.valid {
				t.Errorf("VLAN valid = %v, want %v", got, c.valid)
			}
			if got := h.Supported&kfuncs.HintVLANTag != 0; got != c.supported {
				t.Errorf("VLAN supported = %v, want %v", got, c.supported)
			}
			if h.VLANProto != c.proto || h.VLANTCI != c.tci {
				t.Errorf("tag %#04x/%#04x, want %#04x/%#04x", h.VLANProto, h.VLANTCI, c.proto, c.tci)
			}
			if h.Hash != v4.withPort {
				t.Errorf("hash %#08x, want the inner flow's %#08x", h.Hash, v4.withPort)
			}
		})
	}
}

func TestComputeHintsTimestampsWithThePcapTime(t *testing.T) {
	const ts = 1_700_000_000_123_456_789
	pkt := eth(0x0800, ipv4(msVectors[0], protoTCP, 0, 0))
	cases := []struct {
		profile   string
		supported bool
		valid     bool
		value     uint64
	}{
		{"mlx5", true, true, ts},
		{"ice", true, true, ts},
		{"igc", true, true, ts},
		{"veth", true, true, 0}, // measured on 6.18: returns 0 with a timestamp of 0
		{"virtio_net", false, false, 0},
		{"none", false, false, 0},
	}
	for _, c := range cases {
		t.Run(c.profile+" gives the right timestamp", func(t *testing.T) {
			h, _ := ComputeHints(mustProfile(t, c.profile), pkt, ts, nil)
			if got := h.Supported&kfuncs.HintTimestamp != 0; got != c.supported {
				t.Errorf("supported = %v, want %v", got, c.supported)
			}
			if got := h.Valid&kfuncs.HintTimestamp != 0; got != c.valid {
				t.Errorf("valid = %v, want %v", got, c.valid)
			}
			if h.Timestamp != c.value {
				t.Errorf("timestamp %d, want %d", h.Timestamp, c.value)
			}
		})
	}
}

func TestComputeHintsSurvivesShortAndOddFrames(t *testing.T) {
	v4, v6 := msVectors[0], msVectors[5]
	full4 := eth(0x0800, ipv4(v4, protoTCP, 0, 0))
	full6 := eth(0x86dd, ipv6v(v6, protoTCP, hopByHop, homeAddrOpts(v6.src)))
	for _, name := range ProfileNames() {
		p := mustProfile(t, name)
		t.Run("the "+name+" profile handles every truncation of IPv4 and IPv6 frames", func(t *testing.T) {
			for _, full := range [][]byte{full4, full6, eth(0x0800, nil, 0x8100, 1)} {
				for n := 0; n <= len(full); n++ {
					ComputeHints(p, full[:n], 0, nil)
				}
			}
		})
	}
	t.Run("a truncated TCP header is hashed on the addresses", func(t *testing.T) {
		pkt := eth(0x0800, ipv4(v4, protoTCP, 0, 0))[:14+20+2]
		if h, _ := ComputeHints(mustProfile(t, "mlx5"), pkt, 0, nil); h.Hash != v4.addrOnly || h.HashType != kfuncs.RSSTypeL3IPv4 {
			t.Errorf("hash %#08x type %v, want %#08x L3_IPV4", h.Hash, h.HashType, v4.addrOnly)
		}
	})
}

func TestQueuePicksThroughTheIndirectionTable(t *testing.T) {
	cases := []struct {
		name   string
		hash   uint32
		queues int
		table  []uint32
		want   int
	}{
		// Default table: entry hash&127 holds queue (hash&127) mod queues.
		{"the default table sends entry 120 to queue 0 of 4", 0x51ccc178, 4, nil, 0},                // 0x78 = 120
		{"the default table sends entry 106 to queue 1 of 3", 0xc626b0ea, 3, nil, 1},                // 0x6a = 106
		{"the default table sends entry 127 to queue 7 of 8", 0xffffffff, 8, nil, 7},                // 127 mod 8
		{"the default table uses only the low 7 bits of the hash", 0x00000080, 5, nil, 0},           // entry 0
		{"one queue takes everything", 0xdeadbeef, 1, nil, 0},                                       // entry 0x6f
		{"no queues means queue 0", 0xdeadbeef, 0, nil, 0},                                          // nothing to pick
		{"a power-of-two table is indexed by the low bits", 0x51ccc17b, 0, []uint32{9, 8, 7, 6}, 6}, // 0x7b & 3 = 3
		{"another table size is indexed by the remainder", 10, 0, []uint32{5, 6, 7}, 6},             // 10 mod 3 = 1
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Queue(c.hash, c.queues, c.table); got != c.want {
				t.Errorf("Queue = %d, want %d", got, c.want)
			}
		})
	}
	t.Run("the default table is Linux's round robin", func(t *testing.T) {
		tab := DefaultIndirection(3, 8)
		if want := []uint32{0, 1, 2, 0, 1, 2, 0, 1}; !equalU32(tab, want) {
			t.Errorf("table %v, want %v", tab, want)
		}
		for h := uint32(0); h < 300; h++ {
			if got, want := Queue(h, 3, DefaultIndirection(3, DefaultIndirectionSize)), Queue(h, 3, nil); got != want {
				t.Fatalf("hash %d: explicit default table gives %d, implicit %d", h, got, want)
			}
		}
	})
}

func equalU32(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
