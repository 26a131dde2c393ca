package gentrace

import (
	"encoding/binary"
	"net"
)

var upstreamMAC = hostMAC(1, 1) // the next hop outside

type host4 struct {
	ip  net.IP
	mac net.HardwareAddr
}

// inside4 picks a host of the inside network 10.0.0.0/8 (mostly 10.0.0.2-41; a few in the ACL's
// 10.66.0.0/16 drop and 10.66.6.0/24 allow ranges).
func (g *gen) inside4() host4 {
	switch n := g.intn(100); {
	case n < 4:
		b := byte(2 + g.intn(5))
		return host4{ip4(10, 66, 0, b), hostMAC(0x66, b)}
	case n < 7:
		b := byte(2 + g.intn(5))
		return host4{ip4(10, 66, 6, b), hostMAC(0x67, b)}
	default:
		b := byte(2 + g.intn(40))
		return host4{ip4(10, 0, 0, b), hostMAC(0, b)}
	}
}

// outside4 picks an address outside: mostly 172.16.5.0/24, also the documentation ranges that
// the ACL (203.0.113.0/24, 198.51.100.128/25) and the tunnel (198.51.100.0/24) care about.
func (g *gen) outside4() net.IP {
	switch n := g.intn(100); {
	case n < 50:
		return ip4(172, 16, 5, byte(1+g.intn(30)))
	case n < 65:
		return ip4(203, 0, 113, byte(1+g.intn(20)))
	case n < 97:
		return ip4(198, 51, 100, byte(1+g.intn(254)))
	default:
		return pick(g, ip4(127, 0, 0, 1), ip4(0, 1, 2, 3), ip4(169, 254, 1, 1), ip4(224, 0, 0, 5))
	}
}

type host6 struct {
	ip  net.IP
	mac net.HardwareAddr
}

func (g *gen) inside6() host6 {
	n := uint16(2 + g.intn(30))
	return host6{ip6("2001:db8:1::", n), hostMAC(0x10, byte(n))}
}

func (g *gen) outside6() net.IP {
	switch n := g.intn(100); {
	case n < 70:
		return ip6("2001:db8:2::", uint16(1+g.intn(40)))
	case n < 80:
		return ip6("2001:db8:bad::", uint16(1+g.intn(10)))
	case n < 88:
		return ip6("2001:db8:bad:1::", uint16(1+g.intn(10)))
	default:
		return ip6("2001:db8:dead::", uint16(1+g.intn(20)))
	}
}

// flow4 is a fixed 4-tuple, reused so that per-flow and per-source state builds up.
type flow4 struct {
	src          host4
	dst          net.IP
	dstMAC       net.HardwareAddr
	sport, dport uint16
	outbound     bool
}

func (g *gen) flow(dports []uint16) flow4 {
	f := flow4{src: g.inside4(), sport: uint16(32768 + g.intn(28000)), dport: pick(g, dports...)}
	if g.chance(0.8) {
		f.dst, f.dstMAC, f.outbound = g.outside4(), routerMAC, true
	} else {
		in := g.inside4()
		f.dst, f.dstMAC = in.ip, in.mac
	}
	return f
}

// natKey mirrors the flow key of nat44.c.
type natKey struct {
	saddr, daddr [4]byte
	sport, dport uint16
	proto        byte
}

// natModel follows nat44.c's port allocation over the frames of a trace, so that the trace can
// hold replies addressed to ports the program has actually handed out.
type natModel struct {
	ports map[natKey]uint16
	order []natKey
	next  uint32
}

func (m *natModel) observe(f []byte) {
	if len(f) < 34 || binary.BigEndian.Uint16(f[12:]) != 0x0800 {
		return
	}
	ihl := int(f[14]&0x0f) * 4
	if ihl < 20 || binary.BigEndian.Uint16(f[20:])&0x3fff != 0 {
		return
	}
	proto := f[23]
	l4 := 14 + ihl
	switch proto {
	case 6:
		if l4+20 > len(f) {
			return
		}
	case 17:
		if l4+8 > len(f) {
			return
		}
	default:
		return
	}
	var k natKey
	copy(k.saddr[:], f[26:30])
	copy(k.daddr[:], f[30:34])
	if k.saddr[0] != 10 || k.daddr[0] == 10 {
		return
	}
	k.sport = binary.BigEndian.Uint16(f[l4:])
	k.dport = binary.BigEndian.Uint16(f[l4+2:])
	k.proto = proto
	if _, ok := m.ports[k]; ok {
		return
	}
	m.ports[k] = uint16(20000 + m.next%8192)
	m.next++
	m.order = append(m.order, k)
}
