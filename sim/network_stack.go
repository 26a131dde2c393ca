package sim

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/xdpsim/xdpsim/sim/device"
)

// The namespaces' stacks: ip_rcv's checks, the route lookup, ip_forward, local output, the
// neighbour and the Ethernet header.

// stack is the namespace's receive side of IP (ip_rcv, the route lookup, ip_forward), for the
// packet dev received.
func (n *Network) stack(ns *netNS, dev *netDev) (stage, *netDev, *netNS) {
	s := n.skb
	s.atIngress = false
	h := Hop{Device: dev.name, Namespace: ns.name, Hook: "route"}
	var dst netip.Addr
	var tos uint8
	switch s.protocol {
	case ethPIP:
		why, d, t := n.ip4Check()
		if why != "" {
			h.Verdict, h.Detail = "drop", why
			n.hop(h)
			return n.end("dropped", nil, ns, "ip_rcv: "+why), nil, nil
		}
		dst, tos = d, t
	case ethPIPv6:
		why, d := n.ip6Check()
		if why != "" {
			h.Verdict, h.Detail = "drop", why
			n.hop(h)
			return n.end("dropped", nil, ns, "ipv6_rcv: "+why), nil, nil
		}
		dst = d
	default:
		h.Verdict, h.Detail = "local", fmt.Sprintf("protocol %#04x: not IP, the stack's own handler takes it", s.protocol)
		n.hop(h)
		return n.deliver(ns)
	}
	if s.pktType == packetOtherhost {
		h.Verdict, h.Detail = "drop", "addressed to another host's MAC (PACKET_OTHERHOST)"
		n.hop(h)
		return n.end("dropped", nil, ns, "ip_rcv: PACKET_OTHERHOST"), nil, nil
	}
	if dst.IsMulticast() || dst == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		h.Verdict, h.Detail = "local", dst.String()+" is multicast or broadcast"
		n.hop(h)
		return n.deliver(ns)
	}
	if ns.host.isLocal(dst) {
		h.Verdict, h.Detail = "local", ns.local
		n.hop(h)
		return n.deliver(ns)
	}
	r, ok := ns.host.lookup(dst)
	why := unroutable(r, ok, dst)
	switch {
	case why != "":
		h.Verdict, h.Detail = "drop", why
	case !ns.cfg.Forwarding:
		h.Verdict, h.Detail = "drop", ns.name+" does not forward"
	case dst.Is6() && dst.IsLinkLocalUnicast():
		h.Verdict, h.Detail = "drop", "link-local destinations are not forwarded"
	case s.pktType != packetHost:
		h.Verdict, h.Detail = "drop", "ip_forward takes PACKET_HOST only"
	}
	if h.Verdict != "" {
		n.hop(h)
		return n.end("dropped", nil, ns, h.Detail), nil, nil
	}
	out := n.byIndex[r.dev.Ifindex]
	// ip_forward: TTL, the MTU, the priority from the TOS, the TTL decrement.
	ttlOff, hdr := 8, s.data
	if dst.Is6() {
		ttlOff = 7
	}
	if s.buf[hdr+ttlOff] <= 1 {
		h.Verdict, h.Detail = "drop", "TTL exceeded (the kernel sends ICMP time exceeded; the simulator does not)"
		n.hop(h)
		return n.end("dropped", nil, ns, h.Detail), nil, nil
	}
	if why := n.fragNeeded(out); why != "" {
		h.Verdict, h.Detail = "drop", why
		n.hop(h)
		return n.end("dropped", nil, ns, why), nil, nil
	}
	if dst.Is4() {
		s.priority = uint32(ipTOS2Prio[(tos&0x1e)>>1])
		decTTL4(s.buf[hdr:])
	} else {
		s.buf[hdr+7]--
	}
	n.clearTstamp()
	h.Verdict, h.Detail = "forward", n.via(out, r.gw)
	n.hop(h)
	return n.l2Out(ns, out, r.gw, dst)
}

// isLocal tells whether dst is one of the namespace's own addresses: the local table, which the
// kernel consults before the main one.
func (h *Host) isLocal(dst netip.Addr) bool {
	for _, r := range h.routes {
		if r.typ == 4 && r.prefix.Contains(dst) {
			return true
		}
	}
	return false
}

// ipTOS2Prio is the kernel's ip_tos2prio: the priority ip_forward gives a packet by its TOS.
var ipTOS2Prio = [16]uint8{0, 0, 0, 0, 2, 2, 2, 2, 6, 6, 6, 6, 4, 4, 4, 4}

// decTTL4 is ip_decrease_ttl: the TTL less one, the checksum fixed incrementally.
func decTTL4(h []byte) {
	check := uint32(binary.BigEndian.Uint16(h[10:])) + 0x0100
	if check >= 0xffff {
		check++
	}
	binary.BigEndian.PutUint16(h[10:], uint16(check))
	h[8]--
}

// ip4Check is ip_rcv_core's checks of the IPv4 header at data; it gives the destination and the
// TOS, or why the packet is dropped. A packet longer than tot_len is trimmed to it.
func (n *Network) ip4Check() (string, netip.Addr, uint8) {
	s := n.skb
	if !s.pullTail(20) {
		return "shorter than an IPv4 header", netip.Addr{}, 0
	}
	h := s.buf[s.data:s.tail]
	ihl := int(h[0]&0xf) * 4
	if h[0]>>4 != 4 || ihl < 20 {
		return "not a valid IPv4 header (version or IHL)", netip.Addr{}, 0
	}
	if !s.pullTail(ihl) {
		return "the IPv4 header is cut short", netip.Addr{}, 0
	}
	h = s.buf[s.data:s.tail]
	var sum uint32
	for i := 0; i < ihl; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	if sum != 0xffff {
		return "bad IPv4 header checksum", netip.Addr{}, 0
	}
	tot := int(binary.BigEndian.Uint16(h[2:]))
	if tot > s.len() || tot < ihl {
		return fmt.Sprintf("tot_len %d does not fit the %d bytes received", tot, s.len()), netip.Addr{}, 0
	}
	if tot < s.len() {
		s.linearize()
		s.tail = s.data + tot
	}
	return "", netip.AddrFrom4([4]byte(h[16:20])), h[1]
}

// ip6Check is ipv6_rcv's checks of the IPv6 header at data.
func (n *Network) ip6Check() (string, netip.Addr) {
	s := n.skb
	if !s.pullTail(40) {
		return "shorter than an IPv6 header", netip.Addr{}
	}
	h := s.buf[s.data:s.tail]
	if h[0]>>4 != 6 {
		return "not IPv6 (version)", netip.Addr{}
	}
	pl := int(binary.BigEndian.Uint16(h[4:]))
	if pl+40 > s.len() {
		return fmt.Sprintf("payload length %d does not fit the %d bytes received", pl, s.len()), netip.Addr{}
	}
	if pl+40 < s.len() && pl != 0 {
		s.linearize()
		s.tail = s.data + pl + 40
	}
	return "", netip.AddrFrom16([16]byte(h[24:40]))
}

// fragNeeded says why a packet at data cannot leave through out without fragmentation, which the
// simulator does not model ("" when it fits out's MTU).
func (n *Network) fragNeeded(out *netDev) string {
	s := n.skb
	if s.len() <= int(out.mtu) {
		return ""
	}
	if s.protocol == ethPIP && s.buf[s.data+6]&0x40 == 0 {
		return fmt.Sprintf("%d bytes exceed %s's MTU %d: the kernel would fragment the packet, which the simulator does not model", s.len(), out.name, out.mtu)
	}
	return fmt.Sprintf("%d bytes exceed %s's MTU %d and may not be fragmented (the kernel sends ICMP; the simulator does not)", s.len(), out.name, out.mtu)
}

// deliver ends the path in ns's stack.
func (n *Network) deliver(ns *netNS) (stage, *netDev, *netNS) {
	n.record("delivered", nil, ns, n.fromMAC())
	return n.end("delivered", nil, ns, ""), nil, nil
}

// localOut routes a packet ns's stack sends (data at its network header).
func (n *Network) localOut(ns *netNS) (stage, *netDev, *netNS) {
	s := n.skb
	h := Hop{Namespace: ns.name, Hook: "route"}
	var dst netip.Addr
	switch s.protocol {
	case ethPIP:
		why, d, _ := n.ip4Check()
		if why != "" {
			h.Verdict, h.Detail = "drop", why
			n.hop(h)
			return n.end("dropped", nil, ns, why), nil, nil
		}
		dst = d
	case ethPIPv6:
		why, d := n.ip6Check()
		if why != "" {
			h.Verdict, h.Detail = "drop", why
			n.hop(h)
			return n.end("dropped", nil, ns, why), nil, nil
		}
		dst = d
	default:
		h.Verdict, h.Detail = "drop", fmt.Sprintf("protocol %#04x: the simulated stack sends IPv4 and IPv6 only", s.protocol)
		n.hop(h)
		return n.end("dropped", nil, ns, h.Detail), nil, nil
	}
	if ns.host.isLocal(dst) {
		h.Verdict, h.Detail = "local", ns.local+" (through lo)"
		n.hop(h)
		return n.deliver(ns)
	}
	r, ok := ns.host.lookup(dst)
	if why := unroutable(r, ok, dst); why != "" {
		h.Verdict, h.Detail = "drop", why
		n.hop(h)
		return n.end("dropped", nil, ns, why), nil, nil
	}
	out := n.byIndex[r.dev.Ifindex]
	if why := n.fragNeeded(out); why != "" {
		h.Verdict, h.Detail = "drop", why
		n.hop(h)
		return n.end("dropped", nil, ns, why), nil, nil
	}
	h.Verdict, h.Detail = "output", n.via(out, r.gw)
	n.hop(h)
	return n.l2Out(ns, out, r.gw, dst)
}

// unroutable says why a route lookup for dst gives no unicast route ("" when it does).
func unroutable(r route, ok bool, dst netip.Addr) string {
	switch {
	case !ok:
		return "no route to " + dst.String()
	case r.typ != 0:
		return fmt.Sprintf("route to %s is %s", dst, []string{"", "blackhole", "unreachable", "prohibit"}[r.typ])
	}
	return ""
}

// l2Out is the neighbour output of the route's device: the next hop's address (gw, or the
// destination itself), resolved through ns's neighbour table, or the device's own address on a
// device that does no ARP (an L3 netkit device); the Ethernet header built in front of the network
// header; then the device's transmit path.
func (n *Network) l2Out(ns *netNS, out *netDev, gw, dst netip.Addr) (stage, *netDev, *netNS) {
	next := dst
	if gw.IsValid() {
		next = gw
	}
	mac, why := n.neighbour(ns, out, next)
	if why != "" {
		n.hop(Hop{Device: out.name, Namespace: ns.name, Hook: "route", Verdict: "drop", Detail: why})
		return n.end("dropped", out, nil, why), nil, nil
	}
	n.pushEthernet(out, mac)
	return onXmit, out, out.ns
}

// neighbour resolves next on out.
func (n *Network) neighbour(ns *netNS, out *netDev, next netip.Addr) ([]byte, string) {
	if out.kind == KindNetkit {
		if nk, _ := n.reg.Netkit(out.ifindex); nk.Mode == device.NetkitL3 {
			return out.mac, "" // IFF_NOARP: the neighbour takes the device's own (all-zero) address
		}
	}
	if mac, ok := ns.host.neigh[next]; ok {
		return mac, ""
	}
	return nil, fmt.Sprintf("no neighbour entry for %s on %s (the kernel would send an ARP or NDP request and hold the packet; the simulator drops it)", next, out.name)
}

// pushEthernet builds the Ethernet header in front of the network header: to dst from out.
func (n *Network) pushEthernet(out *netDev, dst []byte) {
	s := n.skb
	s.metaLen = 0
	s.network = s.data
	s.push(ETHHdrLen)
	s.mac = s.data
	copy(s.buf[s.data:], dst)
	copy(s.buf[s.data+6:], out.mac)
	binary.BigEndian.PutUint16(s.buf[s.data+12:], s.protocol)
	s.macLen = ETHHdrLen
}

// neighOut is __bpf_redirect_neigh: the next hop (given, or found by a route lookup through t in
// t's namespace), its neighbour, the L2 header, then t's transmit path.
func (n *Network) neighOut(t *netDev, nexthop string) (stage, *netDev, *netNS) {
	s := n.skb
	var next netip.Addr
	if nexthop != "" {
		next, _ = netip.ParseAddr(nexthop)
	} else {
		var why string
		switch s.protocol {
		case ethPIP:
			why, next, _ = n.ip4Check()
		case ethPIPv6:
			why, next = n.ip6Check()
		default:
			why = "not IP"
		}
		if why != "" {
			return n.end("dropped", t, nil, "bpf_redirect_neigh: "+why), nil, nil
		}
		if r, ok := t.ns.host.lookup(next); ok && r.typ == 0 && r.dev.Ifindex == t.ifindex && r.gw.IsValid() {
			next = r.gw
		}
	}
	mac, why := n.neighbour(t.ns, t, next)
	if why != "" {
		return n.end("dropped", t, nil, "bpf_redirect_neigh: "+why), nil, nil
	}
	n.clearTstamp()
	n.pushEthernet(t, mac)
	return onXmit, t, t.ns
}
