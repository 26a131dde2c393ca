package device

import (
	"encoding/binary"
	"slices"

	"github.com/xdpsim/xdpsim/kfuncs"
)

// ComputeHints gives the hints device p would supply for the frame pkt (starting with its Ethernet
// header) received at time tsNs (the pcap record's time, in nanoseconds), and the frame as the
// device hands it to XDP. key overrides the profile's RSS key when it is not nil.
//
//   - Timestamp: tsNs, for a device that timestamps (0 for veth, as measured).
//   - Hash and HashType: the Toeplitz hash over the fields the device hashes for this kind of
//     packet (IPv4 or IPv6 source and destination addresses, then the TCP, UDP or SCTP source and
//     destination ports when the device includes them), in the order of Microsoft's RSS
//     specification, and the matching enum xdp_rss_hash_type. Fragments are hashed on the
//     addresses only. Up to two VLAN tags before the IP header are skipped, as NICs do. Hash and
//     HashType are filled whenever the device hashes, even when its driver does not expose the
//     hash, so that the simulator can pick an RX queue with [Queue].
//   - VLAN tag: when the device strips the frame's outer tag, the tag goes to VLANProto and
//     VLANTCI and the returned frame lacks its 4 bytes. That frame is then a new slice; otherwise
//     it is pkt itself. pkt is never modified.
func ComputeHints(p *Profile, pkt []byte, tsNs uint64, key []byte) (kfuncs.RxHints, []byte) {
	if key == nil {
		key = p.key()
	}
	var tk *ToeplitzKey
	if p.RSS != 0 {
		tk = cachedKey(key)
	}
	return computeHints(p, p.StripVLAN, pkt, tsNs, hasher{t: tk, key: key})
}

// hasher hashes with a prepared key when there is one, by the definition otherwise.
type hasher struct {
	t   *ToeplitzKey
	key []byte
	// known says the caller hashed the frame already (SteerHash): value is its hash.
	known bool
	value uint32
}

func (h hasher) hash(in []byte) uint32 {
	if h.known {
		return h.value
	}
	if h.t != nil {
		return h.t.Hash(in)
	}
	return toeplitzBits(h.key, in)
}

// computeHints is ComputeHints with the TPIDs the device strips now and its key.
func computeHints(p *Profile, strip []uint16, pkt []byte, tsNs uint64, key hasher) (kfuncs.RxHints, []byte) {
	h := kfuncs.RxHints{Supported: p.Hints & (kfuncs.HintTimestamp | kfuncs.HintHash | kfuncs.HintVLANTag)}
	out := pkt
	if len(pkt) >= 18 {
		tpid := binary.BigEndian.Uint16(pkt[12:14])
		if slices.Contains(strip, tpid) {
			h.VLANProto = tpid
			h.VLANTCI = binary.BigEndian.Uint16(pkt[14:16])
			if p.Hints&kfuncs.HintVLANTag != 0 && !(p.VLANNoDataIfZeroTCI && h.VLANTCI == 0) {
				h.Valid |= kfuncs.HintVLANTag
			}
			out = make([]byte, len(pkt)-4)
			copy(out, pkt[:12])
			copy(out[12:], pkt[16:])
		}
	}
	if p.Hints&kfuncs.HintTimestamp != 0 {
		h.Valid |= kfuncs.HintTimestamp
		if !p.TimestampZero {
			h.Timestamp = tsNs
		}
	}
	if p.RSS != 0 {
		var in [36]byte
		n, typ, tagged := rssInput(p.RSS, out, &in)
		if n > 0 {
			h.Hash = key.hash(in[:n])
		}
		h.HashType = typ
		if p.SkbHash {
			h.HashType = kfuncs.RSSTypeNone
			if !tagged && skbL4Hash(out) {
				h.HashType = kfuncs.RSSTypeL4Any
			}
		}
	}
	if p.Hints&kfuncs.HintHash != 0 {
		if p.HashNoDataIfZero && h.Hash == 0 {
			h.WritesOnNoData |= kfuncs.HintHash
		} else {
			h.Valid |= kfuncs.HintHash
		}
	}
	return h, out
}

// IP protocol numbers and IPv6 extension headers rssInput knows.
const (
	protoHopOpts  = 0
	protoTCP      = 6
	protoUDP      = 17
	protoRouting  = 43
	protoFragment = 44
	protoAH       = 51
	protoDstOpts  = 60
	protoSCTP     = 132
)

// rssInput writes the RSS hash input for frame pkt to in and returns its length (0: not hashed), the
// hash type, and whether an in-band VLAN tag preceded the IP header.
func rssInput(f RSSFields, pkt []byte, in *[36]byte) (n int, typ kfuncs.RSSType, tagged bool) {
	if len(pkt) < 14 {
		return 0, kfuncs.RSSTypeNone, false
	}
	off := 12
	etype := binary.BigEndian.Uint16(pkt[off:])
	for i := 0; i < 2 && (etype == 0x8100 || etype == 0x88a8) && len(pkt) >= off+6; i++ {
		tagged = true
		off += 4
		etype = binary.BigEndian.Uint16(pkt[off:])
	}
	off += 2
	l3 := pkt[off:]
	switch etype {
	case 0x0800:
		n, typ = rssIPv4(f, l3, in)
	case 0x86dd:
		n, typ = rssIPv6(f, l3, in)
	}
	return n, typ, tagged
}

// l4Ports says whether the fields include the ports of protocol proto, and the L4 type bits.
func l4Ports(proto uint8, tcp, udp, sctp bool) (bool, kfuncs.RSSType) {
	switch {
	case proto == protoTCP && tcp:
		return true, kfuncs.RSSL4 | kfuncs.RSSL4TCP
	case proto == protoUDP && udp:
		return true, kfuncs.RSSL4 | kfuncs.RSSL4UDP
	case proto == protoSCTP && sctp:
		return true, kfuncs.RSSL4 | kfuncs.RSSL4SCTP
	}
	return false, 0
}

func rssIPv4(f RSSFields, ip []byte, in *[36]byte) (int, kfuncs.RSSType) {
	if f&RSSIPv4 == 0 || len(ip) < 20 || ip[0]>>4 != 4 {
		return 0, kfuncs.RSSTypeNone
	}
	ihl := int(ip[0]&0xf) * 4
	if ihl < 20 || len(ip) < ihl {
		return 0, kfuncs.RSSTypeNone
	}
	copy(in[0:8], ip[12:20])
	n, typ := 8, kfuncs.RSSTypeL3IPv4
	if ihl > 20 && f&RSSDynHdr != 0 {
		typ |= kfuncs.RSSL3DynHdr
	}
	frag := binary.BigEndian.Uint16(ip[6:8])&0x3fff != 0 // MF or an offset
	ports, l4 := l4Ports(ip[9], f&RSSIPv4TCP != 0, f&RSSIPv4UDP != 0, f&RSSIPv4SCTP != 0)
	if ports && !frag && len(ip) >= ihl+4 {
		copy(in[8:12], ip[ihl:ihl+4])
		n += 4
		typ |= l4
	}
	return n, typ
}

func rssIPv6(f RSSFields, ip []byte, in *[36]byte) (int, kfuncs.RSSType) {
	if f&RSSIPv6 == 0 || len(ip) < 40 || ip[0]>>4 != 6 {
		return 0, kfuncs.RSSTypeNone
	}
	copy(in[0:32], ip[8:40])
	// Walk the extension headers, noting a Home Address option and a type 2 routing header for
	// the _EX hash types.
	next, off := ip[6], 40
	ext, frag := false, false
	var home, rtDst []byte
walk:
	for i := 0; i < 8; i++ {
		switch next {
		case protoHopOpts, protoRouting, protoDstOpts, protoFragment, protoAH:
		default:
			break walk
		}
		if len(ip) < off+8 {
			return 32, kfuncs.RSSTypeL3IPv6 // truncated: the addresses are all the device can hash
		}
		ext = true
		hdr := ip[off:]
		size := (int(hdr[1]) + 1) * 8
		switch next {
		case protoFragment:
			size = 8
			if binary.BigEndian.Uint16(hdr[2:4])&0xfff9 != 0 { // an offset or more fragments
				frag = true
			}
		case protoAH:
			size = (int(hdr[1]) + 2) * 4
		case protoRouting:
			if hdr[2] == 2 && len(hdr) >= 24 && size >= 24 {
				rtDst = hdr[8:24]
			}
		case protoDstOpts:
			home = homeAddress(hdr, size)
		}
		next, off = hdr[0], off+size
	}
	tcp, udp := f&RSSIPv6TCP != 0, f&RSSIPv6UDP != 0
	exL3 := ext && f&RSSIPv6Ex != 0
	exTCP := ext && next == protoTCP && f&RSSIPv6TCPEx != 0
	exUDP := ext && next == protoUDP && f&RSSIPv6UDPEx != 0
	ports, l4 := l4Ports(next, tcp || exTCP, udp || exUDP, f&RSSIPv6SCTP != 0)
	if frag || len(ip) < off+4 {
		ports = false
	}
	typ := kfuncs.RSSTypeL3IPv6
	n := 32
	if ports {
		copy(in[32:36], ip[off:off+4])
		n += 4
		typ |= l4
	}
	ex := (ports && (exTCP || exUDP)) || (!ports && exL3)
	if ex {
		if home != nil {
			copy(in[0:16], home)
		}
		if rtDst != nil {
			copy(in[16:32], rtDst)
		}
	}
	if ex || (ext && f&RSSDynHdr != 0) {
		typ |= kfuncs.RSSL3DynHdr
	}
	return n, typ
}

// homeAddress finds the Home Address option (type 201) in a destination options header of size bytes.
func homeAddress(hdr []byte, size int) []byte {
	if len(hdr) < size {
		return nil
	}
	opts := hdr[2:size]
	for len(opts) > 0 {
		if opts[0] == 0 { // Pad1
			opts = opts[1:]
			continue
		}
		if len(opts) < 2 || len(opts) < 2+int(opts[1]) {
			return nil
		}
		if opts[0] == 201 && opts[1] == 16 {
			return opts[2:18]
		}
		opts = opts[2+int(opts[1]):]
	}
	return nil
}

// DefaultIndirectionSize is the size of the RSS indirection table [Queue] uses when given none.
const DefaultIndirectionSize = 128

// Queue picks the RX queue for a frame with RSS hash hash, as the device's indirection table does:
// table[hash mod len(table)] (the low bits of the hash, for the usual power-of-two sizes). An empty
// table stands for Linux's default (ethtool_rxfh_indir_default): 128 entries spread round robin over
// queues, entry i pointing to queue i mod queues. With no queues (queues < 1 and no table) the
// answer is queue 0.
func Queue(hash uint32, queues int, table []uint32) int {
	if len(table) == 0 {
		if queues < 1 {
			return 0
		}
		return int(hash%DefaultIndirectionSize) % queues
	}
	n := uint32(len(table))
	if n&(n-1) == 0 {
		return int(table[hash&(n-1)])
	}
	return int(table[hash%n])
}

// DefaultIndirection returns the round-robin table Linux sets up by default: size entries, entry i
// holding queue i mod queues.
func DefaultIndirection(queues, size int) []uint32 {
	if queues < 1 {
		queues = 1
	}
	t := make([]uint32, size)
	for i := range t {
		t[i] = uint32(i % queues)
	}
	return t
}

// skbL4Hash says whether the kernel's flow dissector would call the skb's hash an L4 hash
// (flow_keys_have_l4: it found non-zero ports, or an IPv6 flow label), which veth reports as
// XDP_RSS_TYPE_L4_ANY. "Ports" are those of TCP, UDP, UDP-Lite, DCCP and SCTP, and the SPI of ESP
// and AH; the dissector looks through IPv4-in-IP and IPv6-in-IP once; it does not look past a
// fragment. (Measured on 6.18 for TCP, UDP, ESP, IPIP carrying UDP and ICMPv6 with a flow label.)
func skbL4Hash(pkt []byte) bool {
	if len(pkt) < 14 {
		return false
	}
	switch binary.BigEndian.Uint16(pkt[12:14]) {
	case 0x0800:
		return l4v4(pkt[14:], 1)
	case 0x86dd:
		return l4v6(pkt[14:], 1)
	}
	return false
}

func l4v4(ip []byte, depth int) bool {
	if len(ip) < 20 || ip[0]>>4 != 4 {
		return false
	}
	ihl := int(ip[0]&0xf) * 4
	if ihl < 20 || len(ip) < ihl || binary.BigEndian.Uint16(ip[6:8])&0x3fff != 0 {
		return false
	}
	return l4Proto(ip[9], ip[ihl:], depth)
}

func l4v6(ip []byte, depth int) bool {
	if len(ip) < 40 || ip[0]>>4 != 6 {
		return false
	}
	if binary.BigEndian.Uint32(ip[0:4])&0xfffff != 0 {
		return true // the flow label counts as L4
	}
	next, rest := ip[6], ip[40:]
	for i := 0; i < 8; i++ {
		switch next {
		case protoHopOpts, protoRouting, protoDstOpts:
			if len(rest) < 8 {
				return false
			}
			n := (int(rest[1]) + 1) * 8
			if len(rest) < n {
				return false
			}
			next, rest = rest[0], rest[n:]
			continue
		case protoFragment:
			return false
		}
		break
	}
	return l4Proto(next, rest, depth)
}

func l4Proto(proto uint8, l4 []byte, depth int) bool {
	const (
		protoIPIP    = 4
		protoDCCP    = 33
		protoIPv6    = 41
		protoESP     = 50
		protoUDPLite = 136
	)
	off := 0
	switch proto {
	case protoTCP, protoUDP, protoSCTP, protoDCCP, protoUDPLite, protoESP:
	case protoAH:
		off = 4
	case protoIPIP:
		return depth > 0 && l4v4(l4, depth-1)
	case protoIPv6:
		return depth > 0 && l4v6(l4, depth-1)
	default:
		return false
	}
	return len(l4) >= off+4 && binary.BigEndian.Uint32(l4[off:off+4]) != 0
}
