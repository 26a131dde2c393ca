package sim

import (
	"fmt"

	"github.com/xdpsim/xdpsim/sim/device"
)

// The transmit path: the tc egress hook and the devices' transmit routines (a NIC, a veth end,
// netkit).

// xmit is __dev_queue_xmit on dev: the tc egress hook, then the device.
func (n *Network) xmit(dev *netDev, o *Outcome) (stage, *netDev, *netNS) {
	s := n.skb
	s.mac = s.data
	s.atIngress = false
	if dev.down {
		return n.end("dropped", dev, nil, "transmit on a device that is down (ENETDOWN)"), nil, nil
	}
	t := dev.hooks[1]
	if t == nil {
		return onDevice, dev, dev.ns
	}
	s.pktLen = uint32(s.len())
	if pass, st, d, ns := n.tcHook(t, dev, false, o); !pass {
		return st, d, ns
	}
	return onDevice, dev, dev.ns
}

// device is the device's ndo_start_xmit.
func (n *Network) device(dev *netDev, o *Outcome) (stage, *netDev, *netNS) {
	s := n.skb
	switch dev.kind {
	case KindNIC:
		n.record("tx", dev, dev.ns, n.fromMAC())
		n.hop(Hop{Device: dev.name, Namespace: dev.ns.name, Hook: "xmit", Verdict: "sent"})
		return n.end("sent", dev, nil, ""), nil, nil
	case KindNetkit:
		return n.netkitXmit(dev, o)
	}
	// veth_xmit: the peer must be up and the packet fit its MTU (is_skb_forwardable), then
	// veth_forward_skb: __dev_forward_skb scrubs it (across namespaces: the mark and timestamp
	// too), zeroes the priority, and eth_type_trans runs for the peer.
	if n.depth > xmitRecursionLimit {
		return n.end("dropped", dev, nil, "recursion limit reached on datapath (XMIT_RECURSION_LIMIT)"), nil, nil
	}
	peer := dev.peer
	switch {
	case peer.down:
		return n.end("dropped", dev, nil, "veth: the peer "+peer.name+" is down"), nil, nil
	case s.len() > int(peer.mtu)+ETHHdrLen+vlanHLen:
		return n.end("dropped", dev, nil, fmt.Sprintf("veth: %d bytes do not fit %s's MTU %d", s.len(), peer.name, peer.mtu)), nil, nil
	}
	frame := n.fromMAC()
	n.record("tx", dev, dev.ns, frame)
	n.scrub(dev.ns != peer.ns)
	s.priority = 0
	n.hop(Hop{Device: dev.name, Namespace: dev.ns.name, Hook: "xmit", Verdict: "to peer " + peer.name})
	n.depth = 0
	if peer.xdp != nil {
		// veth_xdp_rcv_skb: the peer's XDP program runs on the skb's data; an skb it passes
		// keeps its mark and timestamp.
		mark, tstamp, ttype := s.mark, s.tstamp, s.tstampType
		n.frameBuf = append(n.frameBuf[:0], frame...)
		n.metaBuf = n.metaBuf[:0]
		st, d, ns := n.wire(peer, o)
		if st == onRx {
			s.mark, s.tstamp, s.tstampType = mark, tstamp, ttype
		}
		return st, d, ns
	}
	return onRx, peer, peer.ns
}

// netkitXmit is netkit_xmit on dev (Linux 6.18): the peer must be up and the packet hold an
// Ethernet header; netkit_prep_forward scrubs it (skb_scrub_packet without xnet: pkt_type, skb_iif,
// the extensions; across namespaces the timestamp, and with NETKIT_SCRUB_DEFAULT the mark and the
// priority); eth_skb_pkt_type decides pkt_type against the peer's address; skb->dev becomes the
// peer; the device's programs run in bpf_mprog order from the device's policy, while they
// return NETKIT_NEXT. NEXT and PASS pull the MAC header and hand the packet to the peer
// (__netif_rx), REDIRECT redirects it as skb_do_redirect does, anything else drops it.
func (n *Network) netkitXmit(dev *netDev, o *Outcome) (stage, *netDev, *netNS) {
	s := n.skb
	peer := dev.peer
	switch {
	case peer == nil || peer.down:
		return n.end("dropped", dev, nil, "netkit: the peer is down"), nil, nil
	case !s.pullTail(ETHHdrLen):
		return n.end("dropped", dev, nil, "netkit: shorter than an Ethernet header"), nil, nil
	case n.depth > xmitRecursionLimit:
		return n.end("dropped", dev, nil, "recursion limit reached on datapath (XMIT_RECURSION_LIMIT)"), nil, nil
	}
	n.depth++
	nk, _ := n.reg.Netkit(dev.ifindex)
	xnet := dev.ns != peer.ns
	n.scrub(false)
	s.mac = s.data
	if xnet {
		n.clearTstamp()
		if nk.Scrub == device.NetkitScrubDefault {
			s.priority, s.mark = 0, 0
		}
	}
	s.pktType = ethPktType(s.buf[s.data:s.data+6], peer.mac)
	s.ifindex = peer.ifindex
	s.atIngress = false
	ret := nk.Policy
	h := Hop{Device: dev.name, Namespace: dev.ns.name, Hook: "netkit"}
	if t := dev.nk; t != nil {
		s.redirSet, s.redirect = false, TCRedirect{}
		s.clones = s.clones[:0]
		t.begin()
		for i := range t.stages {
			r, ok := t.runOne(&t.stages[i], n.cond)
			if !ok {
				account(o, t.tc.Executed, t.tc.Printk)
				h.Programs, h.Verdict = n.programs(t.tc.Programs), "fault"
				n.hop(h)
				return n.fault(dev, o, t.tc.Err, t.tc.Fault), nil, nil
			}
			if ret = device.NetkitAction(int32(r)); ret != device.NetkitNext {
				break
			}
		}
		h.Programs = n.programs(t.tc.Programs)
		h.Verdict = ret.String()
		account(o, t.tc.Executed, t.tc.Printk)
	} else {
		h.Verdict, h.Detail = ret.String(), "the device's default policy (no programs)"
	}
	switch ret {
	case device.NetkitNext, device.NetkitPass:
		n.hop(h)
		n.record("tx", dev, dev.ns, n.fromMAC())
		s.pull(ETHHdrLen) // eth_skb_pull_mac
		n.depth = 0
		return onRxNK, peer, peer.ns
	case device.NetkitRedirect:
		r := s.redirect
		switch {
		case !s.redirSet:
			r.Dropped = "NETKIT_REDIRECT without a redirect target"
		default:
			n.resolveRedirect(peer.ns, &r)
		}
		return n.redirected(h, dev, peer.ns, &r, false)
	}
	n.hop(h)
	var last TCRun
	if k := len(h.Programs); k > 0 {
		last = h.Programs[k-1]
	}
	why := n.text(textKey{run: last, verdict: h.Verdict}, func() string {
		if last.Program == "" {
			return "netkit: the default policy " + h.Verdict + " (no programs)"
		}
		w := fmt.Sprintf("netkit: %s returned %s", last.Program, device.NetkitAction(last.Ret))
		if ret != device.NetkitDrop {
			w += ", which netkit_xmit drops"
		}
		return w
	})
	return n.end("dropped", dev, nil, why), nil, nil
}

// ethPktType is eth_skb_pkt_type on a packet whose PACKET_HOST the scrub set: another unicast
// destination than the device's address is PACKET_OTHERHOST, a group address broadcast or
// multicast.
func ethPktType(dst, addr []byte) uint8 {
	switch {
	case string(dst) == string(addr):
		return packetHost
	case dst[0]&1 == 0:
		return packetOtherhost
	case string(dst) == "\xff\xff\xff\xff\xff\xff":
		return packetBroadcast
	}
	return packetMulticast
}
