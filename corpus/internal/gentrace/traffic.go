package gentrace

import (
	"encoding/binary"
	"net"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

var (
	tcpPorts = []uint16{80, 443, 22, 25, 8080, 3306, 5201}
	udpPorts = []uint16{53, 53, 123, 4242, 7, 9, 7777, 5555, 8080, 443, 5353, 161, 4789}
)

// tcpSegment builds one TCP segment of flow f, in either direction.
func (g *gen) tcpSegment(f flow4, reply bool) []byte {
	t := &layers.TCP{Seq: g.u32(), Window: uint16(1024 + g.intn(64000))}
	var payload []byte
	switch n := g.intn(100); {
	case n < 22:
		t.SYN = true
		t.Options = g.synOptions()
	case n < 32:
		t.SYN, t.ACK = true, true
		t.Ack = g.u32()
		t.Options = g.synOptions()
	case n < 80:
		t.ACK = true
		t.Ack = g.u32()
		if g.chance(0.6) {
			t.PSH = true
			payload = g.bytes(1 + g.intn(1200))
		}
		if g.chance(0.3) {
			t.Options = []layers.TCPOption{{OptionType: layers.TCPOptionKindNop}, {OptionType: layers.TCPOptionKindNop},
				{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: g.bytes(8)}}
		}
	case n < 90:
		t.FIN, t.ACK = true, true
		t.Ack = g.u32()
	case n < 97:
		t.RST = true
		t.ACK = g.chance(0.5)
	default:
		// flag combinations a scanner sends
		switch g.intn(4) {
		case 0:
			t.SYN, t.FIN = true, true
		case 1: // null scan
		case 2:
			t.FIN, t.PSH, t.URG = true, true, true
		case 3:
			t.FIN = true
		}
	}
	src, dst := f.src.ip, f.dst
	smac, dmac := f.src.mac, f.dstMAC
	t.SrcPort, t.DstPort = layers.TCPPort(f.sport), layers.TCPPort(f.dport)
	if reply {
		src, dst, smac, dmac = dst, src, dmac, smac
		if f.outbound {
			smac, dmac = upstreamMAC, routerMAC
		}
		t.SrcPort, t.DstPort = t.DstPort, t.SrcPort
	}
	return frame4(smac, dmac, v4{src: src, dst: dst, ttl: pick(g, uint8(64), 64, 128, 255, 1, 2), id: g.u16(), df: true},
		tcpSeg(t, payload))
}

func (g *gen) synOptions() []layers.TCPOption {
	mssVals := []uint16{1460, 1460, 8960, 536, 1360, 1400, 9000}
	mss := pick(g, mssVals...)
	m := layers.TCPOption{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{byte(mss >> 8), byte(mss)}}
	sack := layers.TCPOption{OptionType: layers.TCPOptionKindSACKPermitted, OptionLength: 2}
	ts := layers.TCPOption{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: g.bytes(8)}
	nop := layers.TCPOption{OptionType: layers.TCPOptionKindNop}
	ws := layers.TCPOption{OptionType: layers.TCPOptionKindWindowScale, OptionLength: 3, OptionData: []byte{byte(g.intn(15))}}
	switch g.intn(5) {
	case 0:
		return []layers.TCPOption{m}
	case 1:
		return []layers.TCPOption{m, sack, ts, nop, ws}
	case 2: // MSS at an odd offset
		return []layers.TCPOption{nop, m, nop, ws, sack}
	case 3:
		return []layers.TCPOption{nop, nop, ts, m, ws}
	default:
		return []layers.TCPOption{sack, nop, ws}
	}
}

func (g *gen) udpPayload(dport uint16) []byte {
	switch dport {
	case 53:
		return dnsMessage(g.u16(), g.chance(0.1))
	case 123:
		p := make([]byte, 48)
		p[0] = 0x23 // v4, client
		return p
	}
	p := g.bytes(g.intn(1200))
	if len(p) > 20 && g.chance(0.05) {
		copy(p[g.intn(len(p)-4):], "EVIL")
	}
	return p
}

func dnsMessage(id uint16, response bool) []byte {
	b := make([]byte, 12, 64)
	binary.BigEndian.PutUint16(b[0:], id)
	flags := uint16(0x0100)
	if response {
		flags = 0x8180
	}
	binary.BigEndian.PutUint16(b[2:], flags)
	binary.BigEndian.PutUint16(b[4:], 1)
	b = append(b, 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1)
	return b
}

func (g *gen) udp4(f flow4, reply bool) []byte {
	src, dst := f.src.ip, f.dst
	smac, dmac := f.src.mac, f.dstMAC
	sport, dport := f.sport, f.dport
	if g.chance(0.03) {
		sport = pick(g, uint16(19), 1900, 11211, 17) // reflection
	}
	payload := g.udpPayload(dport)
	if reply {
		src, dst, smac, dmac, sport, dport = dst, src, dmac, smac, dport, sport
		if f.outbound {
			smac, dmac = upstreamMAC, routerMAC
		}
	}
	fr := frame4(smac, dmac, v4{src: src, dst: dst, ttl: pick(g, uint8(64), 64, 128, 1), id: g.u16()},
		udpDgram(sport, dport, payload))
	if g.chance(0.05) {
		fr[14+20+6], fr[14+20+7] = 0, 0 // no checksum (allowed over IPv4)
	}
	return fr
}

func (g *gen) tcp6(reply bool) []byte {
	a, b := g.inside6(), g.outside6()
	t := &layers.TCP{SrcPort: layers.TCPPort(32768 + g.intn(20000)), DstPort: layers.TCPPort(pick(g, tcpPorts...)),
		Seq: g.u32(), Window: 65535}
	var payload []byte
	switch g.intn(4) {
	case 0:
		t.SYN = true
		t.Options = g.synOptions()
	case 1:
		t.FIN, t.ACK = true, true
	default:
		t.ACK, t.PSH = true, true
		payload = g.bytes(g.intn(1000))
	}
	h := v6{src: a.ip, dst: b, hop: pick(g, uint8(64), 64, 255, 1)}
	smac, dmac := a.mac, routerMAC
	if reply {
		h.src, h.dst = h.dst, h.src
		smac, dmac = upstreamMAC, a.mac
		t.SrcPort, t.DstPort = t.DstPort, t.SrcPort
	}
	return frame6(smac, dmac, h, nil, tcpSeg(t, payload))
}

func (g *gen) udp6() []byte {
	a, b := g.inside6(), g.outside6()
	dport := pick(g, udpPorts...)
	h := v6{src: a.ip, dst: b, hop: pick(g, uint8(64), 64, 1), flow: g.u32() & 0xfffff}
	fr := frame6(a.mac, routerMAC, h, nil, udpDgram(uint16(40000+g.intn(20000)), dport, g.udpPayload(dport)))
	if g.chance(0.03) {
		fr[14+40+6], fr[14+40+7] = 0, 0 // a zero checksum is not allowed over IPv6
	}
	return fr
}

func (g *gen) icmp4() []byte {
	in := g.inside4()
	h := v4{src: in.ip, dst: g.outside4(), ttl: pick(g, uint8(64), 64, 1), id: g.u16()}
	smac, dmac := in.mac, routerMAC
	var x l4
	switch n := g.intn(100); {
	case n < 35:
		x = icmp4(8, 0, g.u16(), g.u16(), g.bytes(56))
		if g.chance(0.4) {
			h.dst = routerIP
		}
	case n < 40:
		x = icmp4(8, 0, g.u16(), g.u16(), g.bytes(56))
		h.dst = ip4(10, 0, 0, 255) // directed broadcast
		dmac = bcastMAC
	case n < 65:
		x = icmp4(0, 0, g.u16(), g.u16(), g.bytes(56))
		h.src, h.dst = h.dst, h.src
		smac, dmac = upstreamMAC, in.mac
	case n < 80:
		// destination unreachable quoting an IPv4/UDP header
		quote := frame4(smac, dmac, v4{src: in.ip, dst: h.dst}, udpDgram(5000, 53, nil))[14:42]
		x = icmp4(3, uint8(pick(g, 1, 3, 4)), 0, 0, quote)
	case n < 92:
		quote := frame4(smac, dmac, v4{src: in.ip, dst: h.dst}, udpDgram(5000, 33434, nil))[14:42]
		x = icmp4(11, 0, 0, 0, quote)
	case n < 96:
		x = icmp4(5, 1, 0, 0, append(ip4(10, 0, 0, 99), g.bytes(28)...)) // redirect
	default:
		x = icmp4(13, 0, g.u16(), g.u16(), g.bytes(12)) // timestamp
	}
	return frame4(smac, dmac, h, x)
}

func (g *gen) icmp6() []byte {
	a := g.inside6()
	h := v6{src: a.ip, dst: g.outside6(), hop: 64}
	smac, dmac := a.mac, routerMAC
	var x l4
	switch n := g.intn(100); {
	case n < 30:
		x = icmp6(128, 0, append([]byte{byte(g.intn(256)), 1, 0, byte(g.intn(100))}, g.bytes(32)...))
	case n < 35:
		x = icmp6(128, 0, append([]byte{0, 1, 0, 1}, g.bytes(16)...))
		h.dst = net.ParseIP("ff02::1")
		dmac = net.HardwareAddr{0x33, 0x33, 0, 0, 0, 1}
	case n < 50:
		x = icmp6(129, 0, append([]byte{0, 9, 0, byte(g.intn(100))}, g.bytes(32)...))
		h.src, h.dst = h.dst, h.src
		smac, dmac = upstreamMAC, a.mac
	case n < 70: // neighbour solicitation with source link-layer address option
		target := ip6("2001:db8:1::", 1)
		body := append(make([]byte, 4), target...)
		body = append(body, 1, 1)
		body = append(body, a.mac...)
		x = icmp6(135, 0, body)
		h.hop = 255
		h.dst = net.ParseIP("ff02::1:ff00:1")
		dmac = net.HardwareAddr{0x33, 0x33, 0xff, 0, 0, 1}
	case n < 80: // neighbour advertisement
		body := append([]byte{0x60, 0, 0, 0}, a.ip...)
		x = icmp6(136, 0, body)
		h.hop = 255
	case n < 87: // router solicitation
		x = icmp6(133, 0, make([]byte, 4))
		h.hop = 255
		h.dst = net.ParseIP("ff02::2")
		dmac = net.HardwareAddr{0x33, 0x33, 0, 0, 0, 2}
	case n < 92: // router advertisement
		x = icmp6(134, 0, []byte{64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0})
		h.src = net.ParseIP("fe80::1")
		h.hop = 255
	case n < 96: // neighbour discovery that was forwarded: invalid
		body := append(make([]byte, 4), ip6("2001:db8:1::", 1)...)
		x = icmp6(135, 0, body)
		h.hop = 63
	default:
		x = icmp6(1, 4, append(make([]byte, 4), g.bytes(48)...)) // port unreachable
	}
	return frame6(smac, dmac, h, nil, x)
}

func (g *gen) arp() []byte {
	a := g.inside4()
	switch n := g.intn(100); {
	case n < 45:
		return arpFrame(a.mac, bcastMAC, 1, a.mac, a.ip, make(net.HardwareAddr, 6), routerIP)
	case n < 60:
		b := g.inside4()
		return arpFrame(a.mac, bcastMAC, 1, a.mac, a.ip, make(net.HardwareAddr, 6), b.ip)
	case n < 75:
		return arpFrame(a.mac, routerMAC, 2, a.mac, a.ip, routerMAC, routerIP)
	case n < 85:
		return arpFrame(a.mac, bcastMAC, 1, a.mac, a.ip, make(net.HardwareAddr, 6), a.ip) // gratuitous
	case n < 92: // probe: no sender address yet
		return arpFrame(a.mac, bcastMAC, 1, a.mac, ip4(0, 0, 0, 0), make(net.HardwareAddr, 6), a.ip)
	default: // someone else claims a's address
		evil := hostMAC(0xee, byte(g.intn(4)))
		return arpFrame(evil, bcastMAC, 2, evil, a.ip, bcastMAC, a.ip)
	}
}

// ipv4Options builds IPv4 packets carrying options.
func (g *gen) ipv4Options() []byte {
	in := g.inside4()
	h := v4{src: in.ip, dst: g.outside4(), ttl: 64, id: g.u16()}
	rr := layers.IPv4Option{OptionType: 7, OptionLength: 11, OptionData: append([]byte{4}, make([]byte, 8)...)}
	ts := layers.IPv4Option{OptionType: 68, OptionLength: 12, OptionData: append([]byte{5, 0}, make([]byte, 8)...)}
	ra := layers.IPv4Option{OptionType: 148, OptionLength: 4, OptionData: []byte{0, 0}}
	nop := layers.IPv4Option{OptionType: 1}
	eol := layers.IPv4Option{OptionType: 0}
	lsrr := layers.IPv4Option{OptionType: 131, OptionLength: 7, OptionData: append([]byte{4}, ip4(10, 0, 0, 9)...)}
	ssrr := layers.IPv4Option{OptionType: 137, OptionLength: 7, OptionData: append([]byte{4}, ip4(10, 0, 0, 9)...)}
	sec := layers.IPv4Option{OptionType: 130, OptionLength: 11, OptionData: make([]byte, 9)}
	switch g.intn(9) {
	case 0:
		h.options = []layers.IPv4Option{rr}
	case 1:
		h.options = []layers.IPv4Option{ts}
	case 2:
		h.options = []layers.IPv4Option{ra}
	case 3:
		h.options = []layers.IPv4Option{nop, nop, ra, eol}
	case 4:
		h.options = []layers.IPv4Option{nop, rr, nop, ra}
	case 5:
		h.options = []layers.IPv4Option{lsrr}
		h.finalDst = ip4(10, 0, 0, 9)
	case 6:
		h.options = []layers.IPv4Option{nop, ssrr}
		h.finalDst = ip4(10, 0, 0, 9)
	case 7:
		h.options = []layers.IPv4Option{sec, nop, ra}
	default:
		h.options = []layers.IPv4Option{nop, nop, nop, nop, nop, nop, nop, nop, nop, nop, nop, nop, nop, nop, ra}
	}
	var x l4
	switch g.intn(3) {
	case 0:
		x = udpDgram(uint16(40000+g.intn(1000)), pick(g, udpPorts...), g.bytes(g.intn(200)))
	case 1:
		x = icmp4(8, 0, g.u16(), g.u16(), g.bytes(32))
	default:
		x = tcpSeg(&layers.TCP{SrcPort: 40001, DstPort: 80, ACK: true, Seq: g.u32(), Window: 1000}, g.bytes(g.intn(100)))
	}
	f := frame4(in.mac, routerMAC, h, x)
	if g.chance(0.08) { // damaged on the way: the header checksum no longer matches
		f[14+8]--
	}
	return f
}

// fragments splits one IPv4 datagram into fragments; some sets are incomplete or hostile.
func (g *gen) fragments() [][]byte {
	in := g.inside4()
	dst := g.outside4()
	id := g.u16()
	var x l4
	var full []byte
	proto := layers.IPProtocolUDP
	switch g.intn(4) {
	case 0:
		proto = layers.IPProtocolICMPv4
		x = icmp4(8, 0, g.u16(), 1, g.bytes(200+g.intn(2500)))
	case 1:
		proto = layers.IPProtocolTCP
		x = tcpSeg(&layers.TCP{SrcPort: 40002, DstPort: 443, ACK: true, PSH: true, Seq: g.u32(), Window: 500}, g.bytes(200+g.intn(2000)))
	default:
		x = udpDgram(uint16(40000+g.intn(1000)), pick(g, uint16(53), 4242, 5000), g.bytes(200+g.intn(2800)))
	}
	h := v4{src: in.ip, dst: dst, ttl: 64, id: id}
	full = x.bytes(h.layer(proto))

	chunk := 8 * (20 + g.intn(150))
	var out [][]byte
	for off := 0; off < len(full); off += chunk {
		end := min(off+chunk, len(full))
		ip := h.layer(proto)
		ip.FragOffset = uint16(off / 8)
		if end < len(full) {
			ip.Flags = layers.IPv4MoreFragments
		}
		out = append(out, ser(ether(in.mac, routerMAC, layers.EthernetTypeIPv4), ip, payloadOf(full[off:end])))
	}
	switch n := g.intn(100); {
	case n < 15 && len(out) > 1: // one fragment lost
		i := g.intn(len(out))
		out = append(out[:i], out[i+1:]...)
	case n < 25 && len(out) > 1: // out of order
		out[0], out[len(out)-1] = out[len(out)-1], out[0]
	case n < 30: // DF with MF
		f := out[0]
		f[14+6] |= 0x40
		fixIPv4Checksum(f, 14)
	case n < 35: // tiny first TCP fragment
		ip := h.layer(layers.IPProtocolTCP)
		ip.Flags = layers.IPv4MoreFragments
		out = [][]byte{ser(ether(in.mac, routerMAC, layers.EthernetTypeIPv4), ip, payloadOf(g.bytes(8)))}
	case n < 40: // TCP fragment at offset 8 overwriting the header
		ip := h.layer(layers.IPProtocolTCP)
		ip.FragOffset = 1
		out = [][]byte{ser(ether(in.mac, routerMAC, layers.EthernetTypeIPv4), ip, payloadOf(g.bytes(64)))}
	case n < 44: // ends past 65535 bytes
		ip := h.layer(layers.IPProtocolICMPv4)
		ip.FragOffset = 8189
		out = [][]byte{ser(ether(in.mac, routerMAC, layers.EthernetTypeIPv4), ip, payloadOf(g.bytes(200)))}
	case n < 48: // a non-last fragment whose length is not a multiple of 8
		ip := h.layer(layers.IPProtocolUDP)
		ip.Flags = layers.IPv4MoreFragments
		out = [][]byte{ser(ether(in.mac, routerMAC, layers.EthernetTypeIPv4), ip, payloadOf(g.bytes(101)))}
	}
	return out
}

// otherL2 makes frames that are not IP or ARP, or whose Ethernet header is itself wrong.
func (g *gen) otherL2() []byte {
	a := g.inside4()
	switch g.intn(6) {
	case 0: // 802.3 length field with an LLC header (spanning tree)
		body := append([]byte{0x42, 0x42, 0x03}, g.bytes(35)...)
		f := append(append(append([]byte{}, 0x01, 0x80, 0xc2, 0, 0, 0), a.mac...), byte(len(body)>>8), byte(len(body)))
		f = append(f, body...)
		return padTo60(f)
	case 1: // LLDP
		f := append(append([]byte{0x01, 0x80, 0xc2, 0, 0, 0x0e}, a.mac...), 0x88, 0xcc)
		return padTo60(append(f, g.bytes(40)...))
	case 2: // multicast source MAC: invalid
		src := net.HardwareAddr{0x03, 0, 0, 0, 0, byte(g.intn(256))}
		return frame4(src, routerMAC, v4{src: a.ip, dst: g.outside4(), id: g.u16()}, udpDgram(1000, 2000, g.bytes(20)))
	case 3: // all-zero source MAC
		return frame4(make(net.HardwareAddr, 6), routerMAC, v4{src: a.ip, dst: g.outside4(), id: g.u16()}, udpDgram(1000, 2000, g.bytes(20)))
	case 4: // local experimental EtherType
		f := append(append(append([]byte{}, routerMAC...), a.mac...), 0x88, 0xb5)
		return padTo60(append(f, g.bytes(g.intn(100))...))
	default: // broadcast IPv4 (DHCP discover)
		return frame4(a.mac, bcastMAC, v4{src: ip4(0, 0, 0, 0), dst: ip4(255, 255, 255, 255), id: g.u16()},
			udpDgram(68, 67, g.bytes(240)))
	}
}

func padTo60(f []byte) []byte {
	for len(f) < 60 {
		f = append(f, 0)
	}
	return f
}

// tunnel makes IPIP and VXLAN packets for encap.c's tunnel end 192.0.2.1.
func (g *gen) tunnel() []byte {
	in := g.inside4()
	innerIP := v4{src: g.outside4(), dst: in.ip, ttl: 63, id: g.u16()}
	inner := frame4(upstreamMAC, in.mac, innerIP, udpDgram(5000, pick(g, udpPorts...), g.bytes(g.intn(300))))
	outer := v4{src: tunnelRemote, dst: publicIP, ttl: 64, id: g.u16(), df: true}
	if g.chance(0.5) {
		ip := outer.layer(layers.IPProtocolIPv4)
		return ser(ether(upstreamMAC, routerMAC, layers.EthernetTypeIPv4), ip, payloadOf(inner[14:]))
	}
	vni := uint32(42)
	if g.chance(0.2) {
		vni = 7
	}
	vx := make([]byte, 8)
	binary.BigEndian.PutUint32(vx[0:], 0x08000000)
	binary.BigEndian.PutUint32(vx[4:], vni<<8)
	if g.chance(0.05) {
		vx[0] = 0 // VNI flag missing
	}
	return frame4(upstreamMAC, routerMAC, outer, udpDgram(uint16(49152+g.intn(16000)), 4789, append(vx, inner...)))
}

// natReply answers a flow the NAT translated (or, now and then, a port it never handed out).
func (g *gen) natReply() []byte {
	if len(g.nat.order) == 0 || g.chance(0.15) {
		return frame4(upstreamMAC, routerMAC, v4{src: g.outside4(), dst: publicIP, id: g.u16()},
			udpDgram(53, uint16(20000+g.intn(9000)), g.bytes(30)))
	}
	k := g.nat.order[g.intn(len(g.nat.order))]
	port := g.nat.ports[k]
	h := v4{src: net.IP(k.daddr[:]), dst: publicIP, ttl: 57, id: g.u16()}
	if k.proto == 6 {
		t := &layers.TCP{SrcPort: layers.TCPPort(k.dport), DstPort: layers.TCPPort(port), ACK: true, Seq: g.u32(), Ack: g.u32(), Window: 502}
		return frame4(upstreamMAC, routerMAC, h, tcpSeg(t, g.bytes(g.intn(600))))
	}
	return frame4(upstreamMAC, routerMAC, h, udpDgram(k.dport, port, g.bytes(g.intn(600))))
}

// truncate cuts a frame short, keeping at least the Ethernet header.
func (g *gen) truncate(f []byte) []byte {
	if len(f) <= 15 {
		return f
	}
	return append([]byte(nil), f[:14+g.intn(len(f)-14)]...)
}

// big makes an IPv4 UDP frame larger than a standard MTU but within one XDP test-run buffer.
func (g *gen) big() []byte {
	in := g.inside4()
	size := 1600 + g.intn(1900)
	return frame4(in.mac, routerMAC, v4{src: in.ip, dst: g.outside4(), id: g.u16()},
		udpDgram(40000, pick(g, uint16(4242), 7777, 5000), g.bytes(size-42)))
}

func payloadOf(b []byte) gopacket.Payload { return gopacket.Payload(b) }
