package replay

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Describe describes a frame in one line as tcpdump -n -S prints it (without the time), down to the
// transport layer: VLAN tags as tcpdump -e shows them ("vlan 100, p 0, "), IPv4 and IPv6 with their
// extension headers, ARP, TCP flags, sequence numbers and options, UDP, ICMP and ICMPv6 echo, and
// truncated headers marked as tcpdump marks them ("[|ip6]", "truncated-ip - 7 bytes missing!").
// Application protocols tcpdump decodes (DNS, NTP, ...) are left at "UDP, length N". origLen is the
// frame's length on the wire (for a snapped record, more than len(frame)).
func Describe(frame []byte, origLen int) string {
	var d describer
	d.describe(frame, max(origLen, len(frame)))
	return d.b.String()
}

type describer struct {
	b strings.Builder
}

func (d *describer) f(format string, args ...any) { fmt.Fprintf(&d.b, format, args...) }

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }
func be32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }

func (d *describer) describe(frame []byte, wire int) {
	if len(frame) < 14 {
		d.f(" [|ether]")
		return
	}
	typ := be16(frame[12:])
	p := frame[14:]
	for typ == 0x8100 || typ == 0x88a8 || typ == 0x9100 {
		if len(p) < 4 {
			d.f(" [|vlan]")
			return
		}
		tci := be16(p)
		d.f("vlan %d, p %d, ", tci&0xfff, tci>>13)
		if tci&0x1000 != 0 {
			d.f("DEI, ")
		}
		typ = be16(p[2:])
		p = p[4:]
	}
	switch {
	case typ == 0x0800:
		d.ipv4(p, wire-(len(frame)-len(p)))
	case typ == 0x86dd:
		d.ipv6(p, wire-(len(frame)-len(p)))
	case typ == 0x0806:
		d.arp(p, wire-(len(frame)-len(p)))
	case typ < 0x600:
		d.f("802.3, length %d", typ)
	default:
		// tcpdump -n shows the link layer of what it cannot decode.
		d.f("%s > %s, ethertype Unknown (%#04x), length %d", mac(frame[6:12]), mac(frame[0:6]), typ, wire)
	}
}

func (d *describer) ipv4(p []byte, wire int) {
	if len(p) < 20 {
		d.f("IP  [|ip]")
		return
	}
	if v := p[0] >> 4; v != 4 {
		if v == 6 {
			d.f("IP6, wrong link-layer encapsulation (invalid)")
		} else {
			d.f("IP%d ", v)
		}
		return
	}
	hlen := int(p[0]&0xf) * 4
	total := int(be16(p[2:]))
	if hlen < 20 {
		d.f("IP bad-hlen %d", hlen)
		return
	}
	if total < hlen {
		d.f("IP bad-len %d", total)
		return
	}
	d.f("IP ")
	if total > len(p) {
		d.f("truncated-ip - %d bytes missing! ", total-len(p))
	}
	src, _ := netip.AddrFromSlice(p[12:16])
	dst, _ := netip.AddrFromSlice(p[16:20])
	proto := p[9]
	frag := be16(p[6:])
	off := int(frag&0x1fff) * 8
	if len(p) < hlen {
		d.f("%s > %s:  [|ip]", src, dst)
		return
	}
	payload := p[hlen:min(total, len(p))]
	l4len := total - hlen
	if off != 0 {
		d.f("%s > %s: ip-proto-%d", src, dst, proto)
		return
	}
	d.transport(proto, src.String(), dst.String(), payload, l4len, false, frag&0x2000 != 0)
}

// transport prints the transport layer after "SRC > DST" (ports join the addresses as tcpdump
// does); afterExt says IPv6 extension headers came first, after which tcpdump prints the ports
// without the addresses.
func (d *describer) transport(proto uint8, src, dst string, p []byte, l4len int, afterExt, fragment bool) {
	addrs := func(sp, dp uint16) {
		if afterExt {
			d.f("%d > %d: ", sp, dp)
		} else {
			d.f("%s.%d > %s.%d: ", src, sp, dst, dp)
		}
	}
	plain := func() {
		if !afterExt {
			d.f("%s > %s: ", src, dst)
		}
	}
	switch proto {
	case 6:
		if len(p) < 20 {
			if len(p) >= 4 {
				addrs(be16(p), be16(p[2:]))
			} else {
				plain()
			}
			d.f(" [|tcp]")
			return
		}
		addrs(be16(p), be16(p[2:]))
		d.tcp(p, l4len)
	case 17:
		if len(p) < 8 {
			plain()
			d.f(" [|udp]")
			return
		}
		addrs(be16(p), be16(p[2:]))
		ulen := int(be16(p[4:]))
		switch {
		case ulen < 8:
			d.f("truncated-udplength %d", ulen)
		case ulen > l4len && !fragment:
			d.f("UDP, bad length %d > %d", ulen-8, l4len-8)
		default:
			d.f("UDP, length %d", ulen-8)
		}
	case 4:
		plain()
		d.ipv4(p, l4len)
	case 41:
		plain()
		d.ipv6(p, l4len)
	case 1:
		plain()
		d.icmp(p, l4len)
	case 58:
		plain()
		d.icmp6(p, l4len)
	default:
		plain()
		d.f("ip-proto-%d %d", proto, l4len)
	}
}

var tcpFlagLetters = []struct {
	bit    uint8
	letter byte
}{{0x01, 'F'}, {0x02, 'S'}, {0x04, 'R'}, {0x08, 'P'}, {0x20, 'U'}, {0x40, 'E'}, {0x80, 'W'}, {0x10, '.'}}

func (d *describer) tcp(p []byte, l4len int) {
	flags := p[13]
	var fl []byte
	for _, f := range tcpFlagLetters {
		if flags&f.bit != 0 {
			fl = append(fl, f.letter)
		}
	}
	if len(fl) == 0 {
		fl = []byte("none")
	}
	hlen := int(p[12]>>4) * 4
	if hlen < 20 {
		d.f(" tcp %d [bad hdr length %d - too short, < 20]", l4len-hlen, hlen)
		return
	}
	d.f("Flags [%s]", fl)
	if hlen > l4len {
		d.f(" [bad hdr length %d - too long, > %d]", hlen, l4len)
		return
	}
	seq, ack := be32(p[4:]), be32(p[8:])
	data := l4len - hlen
	if data > 0 || flags&0x07 != 0 {
		if data > 0 {
			d.f(", seq %d:%d", seq, seq+uint32(data))
		} else {
			d.f(", seq %d", seq)
		}
	}
	if flags&0x10 != 0 {
		d.f(", ack %d", ack)
	}
	d.f(", win %d", be16(p[14:]))
	if flags&0x20 != 0 {
		d.f(", urg %d", be16(p[18:]))
	}
	if hlen > 20 {
		if len(p) < hlen {
			if o := tcpOptions(p[20:]); o != "" && !strings.HasSuffix(o, "bad opt") {
				d.f(", options [%s, [|tcp]", o)
			} else {
				d.f(", options [ [|tcp]")
			}
			return
		}
		d.f(", options [%s]", tcpOptions(p[20:hlen]))
	}
	d.f(", length %d", max(data, 0))
}

func tcpOptions(o []byte) string {
	var out []string
	for len(o) > 0 {
		kind := o[0]
		if kind == 0 {
			out = append(out, "eol")
			break
		}
		if kind == 1 {
			out = append(out, "nop")
			o = o[1:]
			continue
		}
		if len(o) < 2 || int(o[1]) < 2 || int(o[1]) > len(o) {
			out = append(out, "bad opt")
			break
		}
		v := o[2:o[1]]
		switch {
		case kind == 2 && len(v) == 2:
			out = append(out, "mss "+strconv.Itoa(int(be16(v))))
		case kind == 3 && len(v) == 1:
			out = append(out, "wscale "+strconv.Itoa(int(v[0])))
		case kind == 4 && len(v) == 0:
			out = append(out, "sackOK")
		case kind == 8 && len(v) == 8:
			out = append(out, fmt.Sprintf("TS val %d ecr %d", be32(v), be32(v[4:])))
		case kind == 5 && len(v)%8 == 0:
			s := fmt.Sprintf("sack %d", len(v)/8)
			for i := 0; i < len(v); i += 8 {
				s += fmt.Sprintf(" {%d:%d}", be32(v[i:]), be32(v[i+4:]))
			}
			out = append(out, s)
		default:
			out = append(out, fmt.Sprintf("unknown-%d 0x%x", kind, v))
		}
		o = o[o[1]:]
	}
	return strings.Join(out, ",")
}

func (d *describer) icmp(p []byte, l4len int) {
	if len(p) < 4 {
		d.f(" [|icmp]")
		return
	}
	switch typ, code := p[0], p[1]; {
	case (typ == 0 || typ == 8) && len(p) >= 8:
		d.f("ICMP echo %s, id %d, seq %d, length %d", map[uint8]string{0: "reply", 8: "request"}[typ], be16(p[4:]), be16(p[6:]), l4len)
	case typ == 13 || typ == 14:
		if len(p) < 8 {
			d.f("ICMP time stamp [|icmp]")
			return
		}
		d.f("ICMP time stamp %s id %d seq %d, length %d", map[uint8]string{13: "query", 14: "reply"}[typ], be16(p[4:]), be16(p[6:]), l4len)
	case typ == 3 || typ == 5:
		d.icmpError(typ, code, p, l4len)
	case typ == 11 && code == 0:
		d.f("ICMP time exceeded in-transit, length %d", l4len)
	case typ == 11 && code == 1:
		d.f("ICMP ip reassembly time exceeded, length %d", l4len)
	default:
		d.f("ICMP type-#%d, length %d", typ, l4len)
	}
}

// icmpError prints destination unreachable and redirect messages, which name addresses and ports
// of the datagram they quote.
func (d *describer) icmpError(typ, code uint8, p []byte, l4len int) {
	inner := p[min(8, len(p)):]
	if len(inner) < 20 {
		d.f("ICMP type-#%d [|icmp]", typ)
		return
	}
	dst, _ := netip.AddrFromSlice(inner[16:20])
	ihl := int(inner[0]&0xf) * 4
	switch {
	case typ == 5 && len(p) >= 8:
		gw, _ := netip.AddrFromSlice(p[4:8])
		d.f("ICMP redirect %s to %s %s, length %d", dst, map[uint8]string{0: "net", 1: "host"}[code%2], gw, l4len)
	case code == 0:
		d.f("ICMP net %s unreachable, length %d", dst, l4len)
	case code == 1:
		d.f("ICMP host %s unreachable, length %d", dst, l4len)
	case code == 2:
		d.f("ICMP %s protocol %d unreachable, length %d", dst, inner[9], l4len)
	case code == 3 && len(inner) >= ihl+4:
		proto := map[uint8]string{6: "tcp", 17: "udp"}[inner[9]]
		if proto == "" {
			proto = "ip-proto-" + strconv.Itoa(int(inner[9]))
		}
		d.f("ICMP %s %s port %d unreachable, length %d", dst, proto, be16(inner[ihl+2:]), l4len)
	case code == 4:
		if mtu := be16(p[6:]); mtu != 0 {
			d.f("ICMP %s unreachable - need to frag (mtu %d), length %d", dst, mtu, l4len)
		} else {
			d.f("ICMP %s unreachable - need to frag, length %d", dst, l4len)
		}
	default:
		d.f("ICMP %s unreachable - code %d, length %d", dst, code, l4len)
	}
}

func (d *describer) icmp6(p []byte, l4len int) {
	if len(p) < 1 {
		d.f(" [|icmp6]")
		return
	}
	switch typ := p[0]; {
	case (typ == 128 || typ == 129) && len(p) < 8:
		d.f("ICMP6, echo %s [|icmp6]", map[uint8]string{128: "request", 129: "reply"}[typ])
	case len(p) < 4:
		d.f(" [|icmp6]")
	case typ == 128 || typ == 129:
		d.f("ICMP6, echo %s, id %d, seq %d, length %d", map[uint8]string{128: "request", 129: "reply"}[typ], be16(p[4:]), be16(p[6:]), l4len)
	case typ == 135:
		d.f("ICMP6, neighbor solicitation, ")
		if len(p) >= 24 {
			a, _ := netip.AddrFromSlice(p[8:24])
			d.f("who has %s, ", a)
		}
		d.f("length %d", l4len)
	case typ == 136:
		d.f("ICMP6, neighbor advertisement, ")
		if len(p) >= 24 {
			a, _ := netip.AddrFromSlice(p[8:24])
			d.f("tgt is %s, ", a)
		}
		d.f("length %d", l4len)
	case typ == 1:
		d.f("ICMP6, destination unreachable, ")
		d.f("%s", map[uint8]string{0: "unreachable route", 1: "unreachable prohibited", 3: "unreachable address", 4: "unreachable port"}[p[1]])
		if len(p) < 8+40 {
			d.f(" [|icmp6]")
			return
		}
		d.f(", length %d", l4len)
	case typ == 133:
		d.f("ICMP6, router solicitation, length %d", l4len)
	case typ == 134:
		d.f("ICMP6, router advertisement, length %d", l4len)
	default:
		d.f("ICMP6, type %d, length %d", typ, l4len)
	}
}

func (d *describer) ipv6(p []byte, wire int) {
	if len(p) < 40 {
		d.f(" [|ip6]")
		return
	}
	if v := p[0] >> 4; v != 6 {
		d.f("IP6 version error: %d != 6", v)
		return
	}
	plen := int(be16(p[4:]))
	d.f("IP6 ")
	if 40+plen > len(p) {
		d.f("truncated-ip6 - %d bytes missing!", 40+plen-len(p))
	}
	src, _ := netip.AddrFromSlice(p[8:24])
	dst, _ := netip.AddrFromSlice(p[24:40])
	next := p[6]
	rest := p[40:min(40+plen, len(p))]
	l4len := plen
	ext, fragmented := false, false
	start := func() {
		if !ext {
			d.f("%s > %s: ", src, dst)
		}
		ext = true
	}
	for {
		switch next {
		case 0, 60, 43:
			trunc := map[uint8]string{0: "hbhopt", 60: "dstopt", 43: "srcrt"}[next]
			if next == 0 && ext {
				d.f("[The Hop-by-Hop Options header don't follow the IPv6 header] (invalid)")
				return
			}
			start()
			if len(rest) < 2 || len(rest) < (int(rest[1])+1)*8 {
				trim(&d.b)
				d.f(" [|%s]", trunc)
				return
			}
			n := (int(rest[1]) + 1) * 8
			if next == 43 {
				d.routing(rest[:n])
			} else {
				d.f("%s ", map[uint8]string{0: "HBH", 60: "DSTOPT"}[next])
			}
			next, rest, l4len = rest[0], rest[n:], l4len-n
		case 44:
			start()
			if len(rest) < 8 {
				trim(&d.b)
				d.f(" [|frag]")
				return
			}
			off := int(be16(rest[2:]) &^ 7)
			d.f("frag (%d|%d) ", off, l4len-8)
			fragmented = be16(rest[2:])&1 != 0
			if off != 0 {
				trim(&d.b)
				return
			}
			next, rest, l4len = rest[0], rest[8:], l4len-8
		case 51:
			start()
			if len(rest) < 12 || len(rest) < (int(rest[1])+2)*4 {
				trim(&d.b)
				d.f(" [|AH]")
				return
			}
			n := (int(rest[1]) + 2) * 4
			d.f("AH(spi=0x%08x,seq=0x%x,icv=0x%x): ", be32(rest[4:]), be32(rest[8:]), rest[12:n])
			next, rest, l4len = rest[0], rest[n:], l4len-n
		case 50:
			start()
			if len(rest) < 8 {
				d.f("ESP [|esp]")
				return
			}
			d.f("ESP(spi=0x%08x,seq=0x%x), length %d", be32(rest), be32(rest[4:]), l4len)
			return
		case 59:
			start()
			d.f("no next header")
			return
		default:
			d.transport(next, src.String(), dst.String(), rest, l4len, ext, fragmented)
			return
		}
	}
}

// routing prints an IPv6 routing header as tcpdump does.
func (d *describer) routing(h []byte) {
	typ, segleft := h[2], h[3]
	d.f("RT6 (len=%d, type=%d", h[1], typ)
	if typ == 0 {
		d.f(" [Deprecated]")
	}
	d.f(", segleft=%d", segleft)
	if typ == 4 {
		d.f(", last-entry=%d", h[4])
		if h[5] != 0 {
			d.f(", flags=0x%x", h[5])
		}
		d.f(", tag=%x", be16(h[6:]))
	}
	for i, a := 0, h[8:]; len(a) >= 16; i, a = i+1, a[16:] {
		addr, _ := netip.AddrFromSlice(a[:16])
		d.f(", [%d]%s", i, addr)
	}
	d.f(") ")
}

// trim drops a trailing space.
func trim(b *strings.Builder) {
	s := b.String()
	if strings.HasSuffix(s, " ") {
		b.Reset()
		b.WriteString(s[:len(s)-1])
	}
}

func (d *describer) arp(p []byte, wire int) {
	if len(p) < 8 {
		d.f(" [|arp]")
		return
	}
	hln, pln, op := int(p[4]), int(p[5]), be16(p[6:])
	if len(p) < 8+2*hln+2*pln {
		d.f(" [|arp]")
		return
	}
	if hrd := be16(p); hrd != 1 && hrd != 6 || be16(p[2:]) != 0x0800 || hln != 6 || pln != 4 {
		d.f("ARP, hardware %d, protocol %#04x, length %d", be16(p), be16(p[2:]), wire)
		return
	}
	sha, spa, tpa := p[8:14], p[14:18], p[24:28]
	s, _ := netip.AddrFromSlice(spa)
	t, _ := netip.AddrFromSlice(tpa)
	switch op {
	case 1:
		d.f("ARP, Request who-has %s tell %s, length %d", t, s, wire)
	case 2:
		d.f("ARP, Reply %s is-at %02x:%02x:%02x:%02x:%02x:%02x, length %d", s, sha[0], sha[1], sha[2], sha[3], sha[4], sha[5], wire)
	default:
		d.f("ARP, op %d, length %d", op, wire)
	}
}

func mac(b []byte) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5])
}
