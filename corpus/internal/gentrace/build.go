package gentrace

import (
	"encoding/binary"
	"net"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// Addresses of the simulated network. The corpus programs' defaults refer to the same ones (see
// corpus/README.md).
var (
	routerMAC = mac(0x01)
	trunkMAC  = mac(0xfe)
	bcastMAC  = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

	routerIP     = ip4(10, 0, 0, 1)
	publicIP     = ip4(192, 0, 2, 1) // NAT public address and tunnel local end
	tunnelRemote = ip4(192, 0, 2, 2)
)

func mac(last byte) net.HardwareAddr { return net.HardwareAddr{0x02, 0, 0, 0, 0, last} }

// hostMAC gives each host its own locally administered MAC.
func hostMAC(a, b byte) net.HardwareAddr { return net.HardwareAddr{0x02, 0, 0, 0, a, b} }

func ip4(a, b, c, d byte) net.IP { return net.IPv4(a, b, c, d).To4() }

func ip6(prefix string, last uint16) net.IP {
	ip := net.ParseIP(prefix).To16()
	out := make(net.IP, 16)
	copy(out, ip)
	binary.BigEndian.PutUint16(out[14:], last)
	return out
}

var serializeOpts = gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}

// ser serializes layers into a fresh buffer (fresh, so padding is always zero).
func ser(ls ...gopacket.SerializableLayer) []byte {
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, serializeOpts, ls...); err != nil {
		panic("gentrace: serialize: " + err.Error())
	}
	return append([]byte(nil), buf.Bytes()...)
}

func ether(src, dst net.HardwareAddr, t layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: src, DstMAC: dst, EthernetType: t}
}

// l4 holds a transport layer (and its payload) still to be checksummed against an IP header.
type l4 struct {
	proto   layers.IPProtocol
	layers  []gopacket.SerializableLayer
	payload []byte
}

func tcpSeg(t *layers.TCP, payload []byte) l4 {
	return l4{proto: layers.IPProtocolTCP, layers: []gopacket.SerializableLayer{t}, payload: payload}
}

func udpDgram(sport, dport uint16, payload []byte) l4 {
	u := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	return l4{proto: layers.IPProtocolUDP, layers: []gopacket.SerializableLayer{u}, payload: payload}
}

func icmp4(typ, code uint8, id, seq uint16, payload []byte) l4 {
	ic := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(typ, code), Id: id, Seq: seq}
	return l4{proto: layers.IPProtocolICMPv4, layers: []gopacket.SerializableLayer{ic}, payload: payload}
}

// icmp6 builds an ICMPv6 message: type, code, checksum, then body (which holds id/seq for echo).
func icmp6(typ, code uint8, body []byte) l4 {
	ic := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(typ, code)}
	return l4{proto: layers.IPProtocolICMPv6, layers: []gopacket.SerializableLayer{ic}, payload: body}
}

type networkLayer interface {
	gopacket.NetworkLayer
	gopacket.SerializableLayer
}

// bytes serializes the transport part with its checksum computed against the given IP header.
func (x l4) bytes(ip networkLayer) []byte {
	for _, l := range x.layers {
		switch t := l.(type) {
		case *layers.TCP:
			_ = t.SetNetworkLayerForChecksum(ip)
		case *layers.UDP:
			_ = t.SetNetworkLayerForChecksum(ip)
		case *layers.ICMPv6:
			_ = t.SetNetworkLayerForChecksum(ip)
		}
	}
	ls := append([]gopacket.SerializableLayer{}, x.layers...)
	ls = append(ls, gopacket.Payload(x.payload))
	return ser(ls...)
}

type v4 struct {
	src, dst net.IP
	ttl      uint8
	tos      uint8
	id       uint16
	df       bool
	options  []layers.IPv4Option
	// finalDst, when set, is the destination the transport checksum is computed for (the last
	// hop of a source route, RFC 791/793).
	finalDst net.IP
}

func (h v4) layer(proto layers.IPProtocol) *layers.IPv4 {
	ip := &layers.IPv4{
		Version: 4, TTL: h.ttl, TOS: h.tos, Id: h.id, Protocol: proto,
		SrcIP: h.src, DstIP: h.dst, Options: h.options,
	}
	if h.df {
		ip.Flags = layers.IPv4DontFragment
	}
	if ip.TTL == 0 {
		ip.TTL = 64
	}
	return ip
}

// frame4 builds Ethernet + IPv4 + transport.
func frame4(src, dst net.HardwareAddr, h v4, x l4) []byte {
	ip := h.layer(x.proto)
	return ser(ether(src, dst, layers.EthernetTypeIPv4), ip, gopacket.Payload(x.bytes(h.pseudo(x.proto))))
}

// pseudo is the header whose addresses go into the transport checksum.
func (h v4) pseudo(proto layers.IPProtocol) *layers.IPv4 {
	if h.finalDst != nil {
		h.dst = h.finalDst
	}
	h.options = nil
	return h.layer(proto)
}

// frame4Tagged is frame4 behind VLAN tags (outer first); tpids gives the TPID of each tag.
func frame4Tagged(src, dst net.HardwareAddr, tags []uint16, tpids []layers.EthernetType, h v4, x l4) []byte {
	ip := h.layer(x.proto)
	return ser(taggedLayers(src, dst, tags, tpids, layers.EthernetTypeIPv4, ip, gopacket.Payload(x.bytes(h.pseudo(x.proto))))...)
}

func taggedLayers(src, dst net.HardwareAddr, tags []uint16, tpids []layers.EthernetType, inner layers.EthernetType,
	rest ...gopacket.SerializableLayer) []gopacket.SerializableLayer {
	first := inner
	if len(tags) > 0 {
		first = tpids[0]
	}
	ls := []gopacket.SerializableLayer{ether(src, dst, first)}
	for i, vid := range tags {
		next := inner
		if i+1 < len(tags) {
			next = tpids[i+1]
		}
		ls = append(ls, &layers.Dot1Q{VLANIdentifier: vid & 0xfff, Priority: uint8(vid>>13) & 7, Type: next})
	}
	return append(ls, rest...)
}

type v6 struct {
	src, dst net.IP
	hop      uint8
	tc       uint8
	flow     uint32
}

func (h v6) layer(next layers.IPProtocol) *layers.IPv6 {
	ip := &layers.IPv6{Version: 6, HopLimit: h.hop, NextHeader: next, SrcIP: h.src, DstIP: h.dst,
		TrafficClass: h.tc, FlowLabel: h.flow}
	if ip.HopLimit == 0 {
		ip.HopLimit = 64
	}
	return ip
}

// extHdr is one raw IPv6 extension header; its next-header byte is filled in by frame6.
type extHdr struct {
	kind layers.IPProtocol
	raw  []byte
	// finalDst is set on a routing header with segments left: the transport checksum is computed
	// for the final destination (RFC 8200 section 8.1).
	finalDst net.IP
}

// frame6 builds Ethernet + IPv6 + extension headers + transport.
func frame6(src, dst net.HardwareAddr, h v6, exts []extHdr, x l4) []byte {
	return frame6Tagged(src, dst, nil, nil, h, exts, x)
}

func frame6Tagged(src, dst net.HardwareAddr, tags []uint16, tpids []layers.EthernetType, h v6, exts []extHdr, x l4) []byte {
	first := x.proto
	if len(exts) > 0 {
		first = exts[0].kind
	}
	ip := h.layer(first)
	// the transport checksum is computed with the transport protocol in the pseudo header
	pseudo := h
	for _, e := range exts {
		if e.finalDst != nil {
			pseudo.dst = e.finalDst
		}
	}
	sum := pseudo.layer(x.proto)
	var body []byte
	for i, e := range exts {
		raw := append([]byte(nil), e.raw...)
		if i+1 < len(exts) {
			raw[0] = byte(exts[i+1].kind)
		} else {
			raw[0] = byte(x.proto)
		}
		body = append(body, raw...)
	}
	body = append(body, x.bytes(sum)...)
	return ser(taggedLayers(src, dst, tags, tpids, layers.EthernetTypeIPv6, ip, gopacket.Payload(body))...)
}

func arpFrame(src, dst net.HardwareAddr, op uint16, sha net.HardwareAddr, sip net.IP, tha net.HardwareAddr, tip net.IP) []byte {
	a := &layers.ARP{
		AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
		HwAddressSize: 6, ProtAddressSize: 4, Operation: op,
		SourceHwAddress: sha, SourceProtAddress: sip, DstHwAddress: tha, DstProtAddress: tip,
	}
	return ser(ether(src, dst, layers.EthernetTypeARP), a)
}

// fixIPv4Checksum recomputes the IPv4 header checksum of a frame whose IP header starts at off.
func fixIPv4Checksum(f []byte, off int) {
	ihl := int(f[off]&0x0f) * 4
	if off+ihl > len(f) || ihl < 20 {
		return
	}
	f[off+10], f[off+11] = 0, 0
	binary.BigEndian.PutUint16(f[off+10:], ipChecksum(f[off:off+ihl]))
}

func ipChecksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
