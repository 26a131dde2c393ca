package expect

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// Fields builds a frame from header fields, outermost first; lengths and checksums are computed
// (gopacket's serialisation) unless a field says otherwise.
type Fields struct {
	Eth *struct {
		Src  string  `json:"src"`
		Dst  string  `json:"dst"`
		Type *uint16 `json:"type,omitempty"` // default: from the next header
	} `json:"eth,omitempty"`
	// VLAN lists 802.1Q tags (VLAN IDs), outermost first.
	VLAN []uint16 `json:"vlan,omitempty"`
	IPv4 *struct {
		Src    string `json:"src"`
		Dst    string `json:"dst"`
		TTL    *uint8 `json:"ttl,omitempty"`   // default 64
		Proto  *uint8 `json:"proto,omitempty"` // default: from the next header
		ID     uint16 `json:"id,omitempty"`
		DF     bool   `json:"df,omitempty"`
		MF     bool   `json:"mf,omitempty"`
		FragOf uint16 `json:"frag_offset,omitempty"` // in bytes, a multiple of 8
	} `json:"ipv4,omitempty"`
	IPv6 *struct {
		Src      string `json:"src"`
		Dst      string `json:"dst"`
		HopLimit *uint8 `json:"hop_limit,omitempty"` // default 64
		Next     *uint8 `json:"next,omitempty"`      // default: from the next header
	} `json:"ipv6,omitempty"`
	ICMP *struct {
		Type uint8  `json:"type"`
		Code uint8  `json:"code,omitempty"`
		ID   uint16 `json:"id,omitempty"`
		Seq  uint16 `json:"seq,omitempty"`
	} `json:"icmp,omitempty"`
	UDP *struct {
		Sport        uint16 `json:"sport"`
		Dport        uint16 `json:"dport"`
		ZeroChecksum bool   `json:"zero_checksum,omitempty"`
	} `json:"udp,omitempty"`
	TCP *struct {
		Sport uint16 `json:"sport"`
		Dport uint16 `json:"dport"`
		Flags string `json:"flags,omitempty"` // tcpdump's letters: S, F, R, P, ., U, E, W; e.g. "S." for SYN-ACK
		Seq   uint32 `json:"seq,omitempty"`
		Ack   uint32 `json:"ack,omitempty"`
	} `json:"tcp,omitempty"`
	// Payload is hex bytes ("hex:..") or text ("text:..") after the headers.
	Payload string `json:"payload,omitempty"`
	// PadTo pads the frame with zero bytes to this length (frames are at least 60 bytes, the
	// shortest Ethernet frame without its FCS, as gopacket pads them).
	PadTo int `json:"pad_to,omitempty"`
}

// Frame is the packet's bytes.
func (p *Packet) Frame() ([]byte, error) {
	if p.Fields == nil {
		return ParseBytes(p.Hex)
	}
	return p.Fields.Frame()
}

// Frame serialises the fields into a frame.
func (f *Fields) Frame() ([]byte, error) {
	if f.Eth == nil {
		return nil, errors.New("fields: need eth")
	}
	src, err1 := net.ParseMAC(f.Eth.Src)
	dst, err2 := net.ParseMAC(f.Eth.Dst)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("fields: eth: %w", err)
	}
	var ls []gopacket.SerializableLayer
	var nextType = func(t layers.EthernetType) {}
	eth := &layers.Ethernet{SrcMAC: src, DstMAC: dst, EthernetType: 0x88b5}
	ls = append(ls, eth)
	nextType = func(t layers.EthernetType) { eth.EthernetType = t }
	for _, id := range f.VLAN {
		nextType(layers.EthernetTypeDot1Q)
		v := &layers.Dot1Q{VLANIdentifier: id, Type: 0x88b5}
		ls = append(ls, v)
		nextType = func(t layers.EthernetType) { v.Type = t }
	}
	var network gopacket.NetworkLayer
	setProto := func(p layers.IPProtocol) {}
	switch {
	case f.IPv4 != nil && f.IPv6 != nil:
		return nil, errors.New("fields: ipv4 or ipv6, not both")
	case f.IPv4 != nil:
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, SrcIP: net.ParseIP(f.IPv4.Src).To4(), DstIP: net.ParseIP(f.IPv4.Dst).To4(), Id: f.IPv4.ID, Protocol: 253}
		if ip.SrcIP == nil || ip.DstIP == nil {
			return nil, fmt.Errorf("fields: ipv4: %q or %q is not an IPv4 address", f.IPv4.Src, f.IPv4.Dst)
		}
		if f.IPv4.TTL != nil {
			ip.TTL = *f.IPv4.TTL
		}
		if f.IPv4.DF {
			ip.Flags |= layers.IPv4DontFragment
		}
		if f.IPv4.MF {
			ip.Flags |= layers.IPv4MoreFragments
		}
		ip.FragOffset = f.IPv4.FragOf / 8
		nextType(layers.EthernetTypeIPv4)
		setProto = func(p layers.IPProtocol) { ip.Protocol = p }
		if f.IPv4.Proto != nil {
			ip.Protocol = layers.IPProtocol(*f.IPv4.Proto)
			setProto = func(layers.IPProtocol) {}
		}
		network = ip
		ls = append(ls, ip)
	case f.IPv6 != nil:
		ip := &layers.IPv6{Version: 6, HopLimit: 64, SrcIP: net.ParseIP(f.IPv6.Src), DstIP: net.ParseIP(f.IPv6.Dst), NextHeader: 59}
		if ip.SrcIP == nil || ip.DstIP == nil || ip.SrcIP.To4() != nil || ip.DstIP.To4() != nil {
			return nil, fmt.Errorf("fields: ipv6: %q or %q is not an IPv6 address", f.IPv6.Src, f.IPv6.Dst)
		}
		if f.IPv6.HopLimit != nil {
			ip.HopLimit = *f.IPv6.HopLimit
		}
		nextType(layers.EthernetTypeIPv6)
		setProto = func(p layers.IPProtocol) { ip.NextHeader = p }
		if f.IPv6.Next != nil {
			ip.NextHeader = layers.IPProtocol(*f.IPv6.Next)
			setProto = func(layers.IPProtocol) {}
		}
		network = ip
		ls = append(ls, ip)
	}
	l4 := 0
	if f.ICMP != nil {
		l4++
		if f.IPv4 == nil {
			return nil, errors.New("fields: icmp needs ipv4")
		}
		setProto(layers.IPProtocolICMPv4)
		ls = append(ls, &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(f.ICMP.Type, f.ICMP.Code), Id: f.ICMP.ID, Seq: f.ICMP.Seq})
	}
	var udp *layers.UDP
	if f.UDP != nil {
		l4++
		setProto(layers.IPProtocolUDP)
		udp = &layers.UDP{SrcPort: layers.UDPPort(f.UDP.Sport), DstPort: layers.UDPPort(f.UDP.Dport)}
		if network != nil {
			udp.SetNetworkLayerForChecksum(network)
		}
		ls = append(ls, udp)
	}
	if f.TCP != nil {
		l4++
		setProto(layers.IPProtocolTCP)
		t := &layers.TCP{SrcPort: layers.TCPPort(f.TCP.Sport), DstPort: layers.TCPPort(f.TCP.Dport), Seq: f.TCP.Seq, Ack: f.TCP.Ack, Window: 65535}
		for _, c := range f.TCP.Flags {
			switch c {
			case 'S':
				t.SYN = true
			case 'F':
				t.FIN = true
			case 'R':
				t.RST = true
			case 'P':
				t.PSH = true
			case '.':
				t.ACK = true
			case 'U':
				t.URG = true
			case 'E':
				t.ECE = true
			case 'W':
				t.CWR = true
			default:
				return nil, fmt.Errorf("fields: tcp flags %q: %q is not one of S F R P . U E W", f.TCP.Flags, c)
			}
		}
		if network != nil {
			t.SetNetworkLayerForChecksum(network)
		}
		ls = append(ls, t)
	}
	if l4 > 1 {
		return nil, errors.New("fields: one of icmp, udp, tcp")
	}
	var pl []byte
	if f.Payload != "" {
		if text, ok := strings.CutPrefix(f.Payload, "text:"); ok {
			pl = []byte(text)
		} else {
			var err error
			if pl, err = ParseBytes(f.Payload); err != nil {
				return nil, fmt.Errorf("fields: payload: %w", err)
			}
		}
		ls = append(ls, gopacket.Payload(pl))
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		return nil, fmt.Errorf("fields: %w", err)
	}
	out := append([]byte(nil), buf.Bytes()...)
	if f.Eth.Type != nil {
		binary.BigEndian.PutUint16(out[12:], *f.Eth.Type)
	}
	if udp != nil && f.UDP.ZeroChecksum {
		off := 14 + 4*len(f.VLAN) + 20 // the UDP header, after Ethernet, tags and IPv4
		if f.IPv6 != nil {
			off += 20
		}
		out[off+6], out[off+7] = 0, 0
	}
	for len(out) < f.PadTo {
		out = append(out, 0)
	}
	return out, nil
}

// FieldNames lists the output fields an expectation may check.
func FieldNames() []string {
	names := make([]string, 0, len(fieldGetters))
	for n := range fieldGetters {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

type decoded struct {
	eth  *layers.Ethernet
	vlan *layers.Dot1Q
	ip4  *layers.IPv4
	ip6  *layers.IPv6
	icmp *layers.ICMPv4
	udp  *layers.UDP
	tcp  *layers.TCP
}

func decode(frame []byte) decoded {
	p := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.DecodeOptions{NoCopy: true})
	var d decoded
	d.eth, _ = p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
	d.vlan, _ = p.Layer(layers.LayerTypeDot1Q).(*layers.Dot1Q)
	d.ip4, _ = p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	d.ip6, _ = p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
	d.icmp, _ = p.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4)
	d.udp, _ = p.Layer(layers.LayerTypeUDP).(*layers.UDP)
	d.tcp, _ = p.Layer(layers.LayerTypeTCP).(*layers.TCP)
	return d
}

// fieldGetters read one field of a decoded frame: a uint64 or a string, and whether the layer is
// there.
var fieldGetters = map[string]func(d decoded) (any, bool){
	"eth.src": func(d decoded) (any, bool) { return ifs(d.eth != nil, func() any { return d.eth.SrcMAC.String() }) },
	"eth.dst": func(d decoded) (any, bool) { return ifs(d.eth != nil, func() any { return d.eth.DstMAC.String() }) },
	"eth.type": func(d decoded) (any, bool) {
		return ifs(d.eth != nil, func() any { return uint64(d.eth.EthernetType) })
	},
	"vlan.id": func(d decoded) (any, bool) {
		return ifs(d.vlan != nil, func() any { return uint64(d.vlan.VLANIdentifier) })
	},
	"ipv4.src":       func(d decoded) (any, bool) { return ifs(d.ip4 != nil, func() any { return d.ip4.SrcIP.String() }) },
	"ipv4.dst":       func(d decoded) (any, bool) { return ifs(d.ip4 != nil, func() any { return d.ip4.DstIP.String() }) },
	"ipv4.ttl":       func(d decoded) (any, bool) { return ifs(d.ip4 != nil, func() any { return uint64(d.ip4.TTL) }) },
	"ipv4.proto":     func(d decoded) (any, bool) { return ifs(d.ip4 != nil, func() any { return uint64(d.ip4.Protocol) }) },
	"ipv4.len":       func(d decoded) (any, bool) { return ifs(d.ip4 != nil, func() any { return uint64(d.ip4.Length) }) },
	"ipv6.src":       func(d decoded) (any, bool) { return ifs(d.ip6 != nil, func() any { return d.ip6.SrcIP.String() }) },
	"ipv6.dst":       func(d decoded) (any, bool) { return ifs(d.ip6 != nil, func() any { return d.ip6.DstIP.String() }) },
	"ipv6.hop_limit": func(d decoded) (any, bool) { return ifs(d.ip6 != nil, func() any { return uint64(d.ip6.HopLimit) }) },
	"icmp.type": func(d decoded) (any, bool) {
		return ifs(d.icmp != nil, func() any { return uint64(d.icmp.TypeCode.Type()) })
	},
	"icmp.code": func(d decoded) (any, bool) {
		return ifs(d.icmp != nil, func() any { return uint64(d.icmp.TypeCode.Code()) })
	},
	"icmp.id":   func(d decoded) (any, bool) { return ifs(d.icmp != nil, func() any { return uint64(d.icmp.Id) }) },
	"icmp.seq":  func(d decoded) (any, bool) { return ifs(d.icmp != nil, func() any { return uint64(d.icmp.Seq) }) },
	"udp.sport": func(d decoded) (any, bool) { return ifs(d.udp != nil, func() any { return uint64(d.udp.SrcPort) }) },
	"udp.dport": func(d decoded) (any, bool) { return ifs(d.udp != nil, func() any { return uint64(d.udp.DstPort) }) },
	"tcp.sport": func(d decoded) (any, bool) { return ifs(d.tcp != nil, func() any { return uint64(d.tcp.SrcPort) }) },
	"tcp.dport": func(d decoded) (any, bool) { return ifs(d.tcp != nil, func() any { return uint64(d.tcp.DstPort) }) },
}

func ifs(ok bool, v func() any) (any, bool) {
	if !ok {
		return nil, false
	}
	return v(), true
}

// checkField compares one output field with its expected value and describes a mismatch.
func checkField(d decoded, name string, want any) string {
	get := fieldGetters[name]
	if get == nil {
		return fmt.Sprintf("field %s: not a field expectations know (%s)", name, strings.Join(FieldNames(), ", "))
	}
	got, ok := get(d)
	if !ok {
		return fmt.Sprintf("field %s: the output has no %s header", name, strings.Split(name, ".")[0])
	}
	switch g := got.(type) {
	case uint64:
		w, err := wantNumber(want)
		if err != nil {
			return fmt.Sprintf("field %s: %v", name, err)
		}
		if g != w {
			return fmt.Sprintf("field %s: got %d (%#x), want %d (%#x)", name, g, g, w, w)
		}
	case string:
		ws, ok := want.(string)
		if !ok {
			return fmt.Sprintf("field %s: want a string, not %v", name, want)
		}
		if !sameAddress(g, ws) {
			return fmt.Sprintf("field %s: got %s, want %s", name, g, ws)
		}
	}
	return ""
}

func wantNumber(v any) (uint64, error) {
	switch w := v.(type) {
	case float64:
		return uint64(w), nil
	case string:
		n, err := strconv.ParseUint(w, 0, 64)
		if err != nil {
			return 0, fmt.Errorf("want a number, not %q", w)
		}
		return n, nil
	}
	return 0, fmt.Errorf("want a number, not %v", v)
}

func sameAddress(a, b string) bool {
	if ia, ib := net.ParseIP(a), net.ParseIP(b); ia != nil && ib != nil {
		return ia.Equal(ib)
	}
	if ma, err1 := net.ParseMAC(a); err1 == nil {
		if mb, err2 := net.ParseMAC(b); err2 == nil {
			return ma.String() == mb.String()
		}
	}
	return a == b
}

// Checksums describes every IPv4 header, ICMP, UDP and TCP checksum of an Ethernet frame that is
// wrong, and an IP header too malformed to check them; nil when the frame has none wrong (or is
// no IP). xdptest.WellFormed checks fuzzed programs' output with it.
func Checksums(frame []byte) []string { return badChecksums(frame) }

// badChecksums describes every IPv4 header, ICMP, UDP and TCP checksum of a frame that is wrong,
// computed independently of gopacket's decoders: the one's complement sum over each must be 0xffff.
func badChecksums(frame []byte) []string {
	var out []string
	off := 14
	if len(frame) < off {
		return []string{"checksums: the frame is shorter than an Ethernet header"}
	}
	typ := binary.BigEndian.Uint16(frame[12:])
	for (typ == 0x8100 || typ == 0x88a8) && len(frame) >= off+4 {
		typ = binary.BigEndian.Uint16(frame[off+2:])
		off += 4
	}
	var pseudo func(proto uint8, n int) uint32
	var proto uint8
	var l4 []byte
	switch typ {
	case 0x0800:
		if len(frame) < off+20 {
			return []string{"checksums: truncated IPv4 header"}
		}
		ihl := int(frame[off]&0xf) * 4
		total := int(binary.BigEndian.Uint16(frame[off+2:]))
		if ihl < 20 || len(frame) < off+total || total < ihl {
			return []string{"checksums: malformed IPv4 header"}
		}
		if fold(sum(frame[off:off+ihl])) != 0xffff {
			out = append(out, fmt.Sprintf("checksums: the IPv4 header checksum %#04x is wrong", binary.BigEndian.Uint16(frame[off+10:])))
		}
		src, dst := frame[off+12:off+16], frame[off+16:off+20]
		pseudo = func(p uint8, n int) uint32 { return sum(src) + sum(dst) + uint32(p) + uint32(n) }
		proto, l4 = frame[off+9], frame[off+ihl:off+total]
		if binary.BigEndian.Uint16(frame[off+6:])&0x3fff != 0 {
			return out // a fragment: its transport checksum covers the whole datagram
		}
	case 0x86dd:
		if len(frame) < off+40 {
			return []string{"checksums: truncated IPv6 header"}
		}
		n := int(binary.BigEndian.Uint16(frame[off+4:]))
		if len(frame) < off+40+n {
			return []string{"checksums: truncated IPv6 payload"}
		}
		src, dst := frame[off+8:off+24], frame[off+24:off+40]
		pseudo = func(p uint8, n int) uint32 { return sum(src) + sum(dst) + uint32(p) + uint32(n) }
		proto, l4 = frame[off+6], frame[off+40:off+40+n]
	default:
		return nil
	}
	switch proto {
	case 1: // ICMP: no pseudo header
		if fold(sum(l4)) != 0xffff {
			out = append(out, "checksums: the ICMP checksum is wrong")
		}
	case 6, 17:
		name := map[uint8]string{6: "TCP", 17: "UDP"}[proto]
		if proto == 17 && len(l4) >= 8 && l4[6] == 0 && l4[7] == 0 && typ == 0x0800 {
			return out // no UDP checksum over IPv4
		}
		if fold(pseudo(proto, len(l4))+sum(l4)) != 0xffff {
			out = append(out, "checksums: the "+name+" checksum is wrong")
		}
	}
	return out
}

func sum(b []byte) uint32 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	return s
}

func fold(s uint32) uint16 {
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}
