package gentrace

import (
	"encoding/binary"
	"net"

	"github.com/google/gopacket/layers"
)

// fillMixed adds a slice of everyday traffic with a sprinkling of everything else.
func fillMixed(g *gen) {
	if g.flows == nil {
		for i := 0; i < 60; i++ {
			g.flows = append(g.flows, g.flow(tcpPorts))
		}
		for i := 0; i < 50; i++ {
			g.udpFlows = append(g.udpFlows, g.flow(udpPorts))
		}
	}
	g.weighted([]choice{
		{240, func(g *gen) { g.add(g.tcpSegment(g.flows[g.intn(len(g.flows))], g.chance(0.4))) }},
		{170, func(g *gen) { g.add(g.udp4(g.udpFlows[g.intn(len(g.udpFlows))], g.chance(0.3))) }},
		{50, func(g *gen) { g.add(g.tcp6(g.chance(0.4))) }},
		{50, func(g *gen) { g.add(g.udp6()) }},
		{60, func(g *gen) { g.add(g.icmp4()) }},
		{50, func(g *gen) { g.add(g.icmp6()) }},
		{50, func(g *gen) { g.add(g.arp()) }},
		{40, func(g *gen) { g.add(g.ipv4Options()) }},
		{30, func(g *gen) { g.add(g.fragments()...) }},
		{40, func(g *gen) { g.add(g.ipv6Ext()) }},
		{40, func(g *gen) { g.add(g.vlanFrame()) }},
		{30, func(g *gen) { g.add(g.tunnel()) }},
		{45, func(g *gen) { g.add(g.natReply()) }},
		{20, func(g *gen) { g.add(g.otherL2()) }},
		{15, func(g *gen) { g.add(g.big()) }},
		{15, func(g *gen) { g.add(g.malformed()) }},
		{4, func(g *gen) { g.add(g.runt()) }},
	})
}

func fillVLAN(g *gen) { g.add(g.vlanFrame()) }

func fillIPv6Ext(g *gen) {
	if g.chance(0.85) {
		g.add(g.ipv6Ext())
		return
	}
	if g.chance(0.5) {
		g.add(g.udp6())
	} else {
		g.add(g.icmp6())
	}
}

func fillMalformed(g *gen) {
	if g.chance(0.12) {
		g.add(g.runt())
		return
	}
	g.add(g.malformed())
}

func fillJumbo(g *gen) { g.add(g.jumbo()) }

func (g *gen) runt() []byte { return g.bytes(1 + g.intn(13)) }

// vlanFrame makes untagged, 802.1Q, 802.1ad and stacked frames for vlan.c.
func (g *gen) vlanFrame() []byte {
	a := g.inside4()
	h := v4{src: a.ip, dst: g.outside4(), id: g.u16(), ttl: 64}
	x := udpDgram(uint16(30000+g.intn(1000)), pick(g, udpPorts...), g.bytes(g.intn(400)))
	if g.chance(0.3) {
		x = icmp4(8, 0, g.u16(), 1, g.bytes(32))
	}
	q, ad := layers.EthernetTypeDot1Q, layers.EthernetTypeQinQ
	vids := []uint16{100, 100, 10, 20, 30, 13, 666, 999, 4095, 0, 4094, 1}
	switch n := g.intn(100); {
	case n < 12:
		return frame4(a.mac, trunkMAC, h, x) // to the trunk port: gets a tag pushed
	case n < 20:
		return frame4(a.mac, routerMAC, h, x)
	case n < 50:
		vid := pick(g, vids...) | uint16(g.intn(8))<<13
		return frame4Tagged(a.mac, routerMAC, []uint16{vid}, []layers.EthernetType{q}, h, x)
	case n < 68:
		outer := pick(g, uint16(200), 200, 300, 13)
		inner := pick(g, uint16(100), 10, 20, 4095)
		return frame4Tagged(a.mac, routerMAC, []uint16{outer, inner}, []layers.EthernetType{ad, q}, h, x)
	case n < 73: // old-style double 802.1Q
		return frame4Tagged(a.mac, routerMAC, []uint16{200, 30}, []layers.EthernetType{q, q}, h, x)
	case n < 76: // a lone S-tag
		return frame4Tagged(a.mac, routerMAC, []uint16{200}, []layers.EthernetType{ad}, h, x)
	case n < 81: // three tags
		return frame4Tagged(a.mac, routerMAC, []uint16{200, 100, 10}, []layers.EthernetType{ad, q, q}, h, x)
	case n < 85: // cut inside a tag
		f := frame4Tagged(a.mac, routerMAC, []uint16{pick(g, uint16(100), 200)}, []layers.EthernetType{q}, h, x)
		return append([]byte(nil), f[:14+g.intn(4)]...)
	case n < 90:
		arp := g.arp()
		return vlanWrap(arp, pick(g, uint16(10), 100))
	case n < 96:
		b := g.inside6()
		return frame6Tagged(b.mac, routerMAC, []uint16{pick(g, uint16(100), 20)}, []layers.EthernetType{q},
			v6{src: b.ip, dst: g.outside6()}, nil, udpDgram(5000, 53, dnsMessage(g.u16(), false)))
	default: // IPv4 options behind a tag
		f := g.ipv4Options()
		return vlanWrap(f, 30)
	}
}

// vlanWrap inserts an 802.1Q tag into an untagged frame.
func vlanWrap(f []byte, vid uint16) []byte {
	out := append([]byte(nil), f[:12]...)
	out = append(out, 0x81, 0x00, byte(vid>>8), byte(vid))
	return append(out, f[12:]...)
}

// IPv6 extension headers, built by hand (next-header bytes are filled in by frame6).

func tlvHeader(kind layers.IPProtocol, opts []byte) extHdr {
	b := append([]byte{0, 0}, opts...)
	switch pad := (8 - len(b)%8) % 8; pad {
	case 0:
	case 1:
		b = append(b, 0) // Pad1
	default:
		b = append(b, 1, byte(pad-2))
		b = append(b, make([]byte, pad-2)...)
	}
	b[1] = byte(len(b)/8 - 1)
	return extHdr{kind: kind, raw: b}
}

var (
	optRouterAlert = []byte{5, 2, 0, 0}
	optPadN4       = []byte{1, 2, 0, 0}
	optSkip        = []byte{0x1e, 2, 0xab, 0xcd} // unknown, action 00: skip
	optJumbo       = []byte{0xc2, 4, 0, 1, 0, 0}
)

func hopByHop(opts ...[]byte) extHdr {
	var b []byte
	for _, o := range opts {
		b = append(b, o...)
	}
	return tlvHeader(layers.IPProtocolIPv6HopByHop, b)
}

func destOpts(opts ...[]byte) extHdr {
	var b []byte
	for _, o := range opts {
		b = append(b, o...)
	}
	return tlvHeader(layers.IPProtocolIPv6Destination, b)
}

func routingHdr(typ, segLeft byte, addrs ...net.IP) extHdr {
	b := []byte{0, byte(2 * len(addrs)), typ, segLeft, 0, 0, 0, 0}
	if typ == 4 && len(addrs) > 0 { // segment routing: last entry, flags, tag
		b[4] = byte(len(addrs) - 1)
	}
	for _, a := range addrs {
		b = append(b, a.To16()...)
	}
	h := extHdr{kind: layers.IPProtocolIPv6Routing, raw: b}
	if segLeft > 0 && len(addrs) > 0 {
		h.finalDst = addrs[len(addrs)-1]
		if typ == 4 { // segment lists are stored last segment first
			h.finalDst = addrs[0]
		}
	}
	return h
}

func fragHdr(offset uint16, more bool, id uint32) extHdr {
	b := make([]byte, 8)
	v := offset << 3
	if more {
		v |= 1
	}
	binary.BigEndian.PutUint16(b[2:], v)
	binary.BigEndian.PutUint32(b[4:], id)
	return extHdr{kind: layers.IPProtocolIPv6Fragment, raw: b}
}

func authHdr(spi uint32) extHdr {
	b := make([]byte, 24) // 12 bytes + 12 bytes of ICV
	b[1] = byte(len(b)/4 - 2)
	binary.BigEndian.PutUint32(b[4:], spi)
	binary.BigEndian.PutUint32(b[8:], 1)
	return extHdr{kind: layers.IPProtocolAH, raw: b}
}

// ipv6Ext makes IPv6 packets with extension header chains for ipv6_exthdr.c.
func (g *gen) ipv6Ext() []byte {
	a := g.inside6()
	h := v6{src: a.ip, dst: g.outside6(), hop: 64}
	udp := udpDgram(uint16(40000+g.intn(1000)), pick(g, udpPorts...), g.bytes(g.intn(300)))
	tcp := tcpSeg(&layers.TCP{SrcPort: 40000, DstPort: 443, SYN: true, Seq: g.u32(), Window: 65535,
		Options: g.synOptions()}, nil)
	echo := icmp6(128, 0, append([]byte{0, 7, 0, 1}, g.bytes(24)...))
	seg := []net.IP{ip6("2001:db8:2::", 1), ip6("2001:db8:2::", 2)}
	var exts []extHdr
	x := udp
	switch n := g.intn(100); {
	case n < 10:
		exts = []extHdr{hopByHop(optRouterAlert)}
		x = echo
	case n < 16:
		exts = []extHdr{hopByHop(optPadN4, optSkip)}
		x = tcp
	case n < 20:
		exts = []extHdr{hopByHop(pick(g, []byte{0x4f, 2, 0, 0}, []byte{0x8f, 2, 0, 0}, []byte{0xcf, 0}))} // discard
	case n < 23:
		exts = []extHdr{hopByHop(optJumbo)}
	case n < 33:
		exts = []extHdr{destOpts(optPadN4)}
	case n < 42:
		exts = []extHdr{routingHdr(pick(g, byte(2), 4), 1, seg[:1+g.intn(2)]...)}
		x = tcp
	case n < 47:
		exts = []extHdr{routingHdr(0, 2, seg...)} // RH0: deprecated
	case n < 57:
		exts = []extHdr{fragHdr(0, true, g.u32())}
	case n < 64: // a later fragment: raw bytes, no upper-layer header
		exts = []extHdr{fragHdr(uint16(1+g.intn(100)), g.chance(0.5), g.u32())}
		x = l4{proto: layers.IPProtocolUDP, payload: g.bytes(8 * (1 + g.intn(40)))}
	case n < 72:
		exts = []extHdr{hopByHop(optRouterAlert), destOpts(optPadN4), routingHdr(4, 1, seg...), fragHdr(0, true, g.u32()), destOpts(optSkip)}
	case n < 78:
		exts = []extHdr{authHdr(g.u32())}
		x = tcp
	case n < 81: // ESP as the upper layer: opaque
		x = l4{proto: layers.IPProtocolESP, payload: g.bytes(64)}
		exts = []extHdr{destOpts(optPadN4)}
	case n < 85: // no next header
		exts = []extHdr{destOpts(optPadN4)}
		x = l4{proto: layers.IPProtocolNoNextHeader}
	case n < 89: // hop-by-hop not first
		exts = []extHdr{destOpts(optPadN4), hopByHop(optRouterAlert)}
	case n < 93: // nine headers: longer than the walker follows
		for i := 0; i < 9; i++ {
			exts = append(exts, destOpts(optPadN4))
		}
	case n < 97: // chain cut short
		exts = []extHdr{hopByHop(optRouterAlert), routingHdr(4, 1, seg...)}
		f := frame6(a.mac, routerMAC, h, exts, x)
		return append([]byte(nil), f[:14+40+8+g.intn(30)]...)
	default:
		exts = nil
		x = echo
	}
	return frame6(a.mac, routerMAC, h, exts, x)
}

// jumbo makes frames of up to 9000 bytes for frags.c; most carry a payload-sum trailer.
func (g *gen) jumbo() []byte {
	a := g.inside4()
	size := 1500 + g.intn(7501) // whole frame, 1500..9000 bytes
	if g.chance(0.05) {
		size = 64 + g.intn(1400)
	}
	h := v4{src: a.ip, dst: g.outside4(), id: g.u16(), ttl: 64}
	switch n := g.intn(100); {
	case n < 62:
		payload := g.bytes(size - 42 - 4)
		var sum uint32
		for _, b := range payload {
			sum += uint32(b)
		}
		if g.chance(0.12) {
			sum++ // wrong trailer
		}
		payload = binary.BigEndian.AppendUint32(payload, sum)
		return frame4(a.mac, routerMAC, h, udpDgram(40000, 9000, payload))
	case n < 75:
		return frame4(a.mac, routerMAC, h, udpDgram(40000, 9001, g.bytes(size-42)))
	case n < 90:
		t := &layers.TCP{SrcPort: 40003, DstPort: 5201, ACK: true, PSH: true, Seq: g.u32(), Ack: g.u32(), Window: 65535}
		return frame4(a.mac, routerMAC, h, tcpSeg(t, g.bytes(size-54)))
	default:
		b := g.inside6()
		return frame6(b.mac, routerMAC, v6{src: b.ip, dst: g.outside6()}, nil, udpDgram(40000, 9000, g.bytes(size-62)))
	}
}

// malformed makes frames broken at some layer on purpose.
func (g *gen) malformed() []byte {
	a := g.inside4()
	dst := g.outside4()
	h := v4{src: a.ip, dst: dst, id: g.u16(), ttl: 64}
	udp := udpDgram(40000, pick(g, udpPorts...), g.bytes(40))
	switch n := g.intn(100); {
	case n < 5: // just an Ethernet header
		f := append(append([]byte{}, routerMAC...), a.mac...)
		return append(f, pick(g, []byte{8, 0}, []byte{0x86, 0xdd}, []byte{8, 6}, []byte{0x81, 0}, []byte{0x88, 0xa8})...)
	case n < 25: // a valid frame cut short
		var f []byte
		switch g.intn(6) {
		case 0:
			f = g.tcpSegment(g.flow(tcpPorts), false)
		case 1:
			f = g.udp4(g.flow(udpPorts), false)
		case 2:
			f = g.icmp6()
		case 3:
			f = g.ipv4Options()
		case 4:
			f = g.arp()
		default:
			f = g.tcp6(false)
		}
		return g.truncate(f)
	case n < 30: // wrong IP version in an IPv4 frame
		f := frame4(a.mac, routerMAC, h, udp)
		f[14] = 0x65
		fixIPv4Checksum(f, 14)
		return f
	case n < 35: // IHL below 5
		f := frame4(a.mac, routerMAC, h, udp)
		f[14] = 0x40 | byte(g.intn(5))
		return f
	case n < 40: // total length beyond the frame
		f := frame4(a.mac, routerMAC, h, udp)
		binary.BigEndian.PutUint16(f[16:], uint16(len(f)+g.intn(500)))
		fixIPv4Checksum(f, 14)
		return f
	case n < 43: // total length shorter than the header
		f := frame4(a.mac, routerMAC, h, udp)
		binary.BigEndian.PutUint16(f[16:], uint16(g.intn(20)))
		fixIPv4Checksum(f, 14)
		return f
	case n < 48: // bad header checksum
		f := frame4(a.mac, routerMAC, h, udp)
		f[24] ^= 0x5a
		return f
	case n < 53: // broken IPv4 options
		h.options = []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 1}}
		f := frame4(a.mac, routerMAC, h, udp)
		copy(f[34:], pick(g, []byte{7, 1, 0, 0}, []byte{68, 0, 0, 0}, []byte{1, 148, 40, 0}, []byte{130, 9, 0, 0}))
		fixIPv4Checksum(f, 14)
		return f
	case n < 58: // TCP data offset below 5 or past the frame
		t := &layers.TCP{SrcPort: 1234, DstPort: 80, ACK: true, Seq: g.u32(), Window: 100}
		f := frame4(a.mac, routerMAC, h, tcpSeg(t, g.bytes(g.intn(20))))
		f[46] = pick(g, byte(0x20), 0x40, 0xf0)
		return f
	case n < 62: // TCP flag combinations nobody sends
		t := &layers.TCP{SrcPort: 1234, DstPort: 80, Seq: g.u32(), Window: 100}
		switch g.intn(3) {
		case 0:
			t.SYN, t.RST = true, true
		case 1:
			t.FIN, t.PSH, t.URG, t.SYN = true, true, true, true
		default:
		}
		return frame4(a.mac, routerMAC, h, tcpSeg(t, nil))
	case n < 68: // UDP length below 8 or past the IP payload
		f := frame4(a.mac, routerMAC, h, udp)
		binary.BigEndian.PutUint16(f[38:], pick(g, uint16(0), 4, 7, 200, 65535))
		return f
	case n < 73: // malformed ARP
		f := arpFrame(a.mac, bcastMAC, 1, a.mac, a.ip, make(net.HardwareAddr, 6), routerIP)
		switch g.intn(4) {
		case 0:
			f[18] = 8 // hardware address length
		case 1:
			f[15] = 6 // hardware type
		case 2:
			f[21] = 9 // operation
		default:
			f = f[:14+8+g.intn(20)]
		}
		return f
	case n < 80: // hostile or broken fragments
		fr := g.fragments()
		return fr[g.intn(len(fr))]
	case n < 85: // IPv6 payload length past the frame, or a header cut short
		b := g.inside6()
		f := frame6(b.mac, routerMAC, v6{src: b.ip, dst: g.outside6()}, nil, udpDgram(4000, 53, dnsMessage(1, false)))
		if g.chance(0.5) {
			binary.BigEndian.PutUint16(f[18:], uint16(len(f)))
			return f
		}
		return f[:14+g.intn(40)]
	case n < 89:
		f := g.ipv6Ext()
		return g.truncate(f)
	case n < 93: // DNS to port 53 without a whole DNS header, or an answer
		payload := dnsMessage(g.u16(), true)
		if g.chance(0.5) {
			payload = payload[:g.intn(12)]
		}
		return frame4(a.mac, routerMAC, h, udpDgram(40000, 53, payload))
	case n < 96: // ICMP types a host should not accept
		return frame4(upstreamMAC, routerMAC, v4{src: dst, dst: a.ip, id: g.u16()}, icmp4(5, 0, 0, 0, g.bytes(28)))
	default: // random bytes behind an Ethernet header
		f := append(append([]byte{}, routerMAC...), a.mac...)
		f = append(f, pick(g, []byte{8, 0}, []byte{0x86, 0xdd}, []byte{8, 6}, []byte{0x81, 0}, g.bytes(2))...)
		return append(f, g.bytes(g.intn(200))...)
	}
}
