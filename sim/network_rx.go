package sim

import (
	"fmt"
	"strings"

	"github.com/xdpsim/xdpsim/sim/result"
)

// XDP on a device, the receive path up to the tc ingress hook, and the redirects of tc and netkit
// programs (skb_do_redirect).

// wire runs a frame (n.frameBuf, metadata n.metaBuf) through dev's XDP program, or builds the skb
// a driver without one would.
func (n *Network) wire(dev *netDev, o *Outcome) (stage, *netDev, *netNS) {
	if dev.xdp == nil {
		n.skbFromFrame(n.frameBuf, dev)
		return onRx, dev, dev.ns
	}
	cond := n.cond
	cond.IngressIfindex = dev.ifindex
	x := dev.xdp
	xo := x.Run(n.frameBuf, n.metaBuf, cond)
	account(o, xo.Executed, xo.Printk)
	var progs []TCRun
	if x.plan != nil {
		for _, r := range xo.Dispatch {
			n.runs = append(n.runs, TCRun{Program: r.Program, Ret: int32(r.Ret)})
		}
		progs = n.runs[len(n.runs)-len(xo.Dispatch) : len(n.runs) : len(n.runs)]
	} else {
		progs = n.programs([]TCRun{{Program: x.prog.Name, Ret: int32(xo.Ret)}})
	}
	if xo.Err != "" {
		n.hop(Hop{Device: dev.name, Namespace: dev.ns.name, Hook: "xdp", Programs: progs[:0], Verdict: "error", Detail: xo.Err})
		if xo.Fault != nil {
			return n.fault(dev, o, "program fault at "+dev.name+"'s XDP hook: "+strings.TrimPrefix(xo.Err, "program fault: "), xo.Fault), nil, nil
		}
		o.Err = xo.Err
		return n.end("dropped", dev, nil, xo.Err), nil, nil
	}
	h := Hop{Device: dev.name, Namespace: dev.ns.name, Hook: "xdp", Programs: progs, Verdict: result.VerdictName(xo.Ret), Detail: xo.Exception}
	if xo.Ret > result.XDPRedirect {
		h.Verdict = fmt.Sprintf("XDP_ABORTED (invalid action %d)", xo.Ret)
	}
	cond.RxQueue = x.rs.cond.RxQueue
	n.cond.RxQueue, n.cond.CPU = cond.RxQueue, x.rs.cond.CPU
	switch xo.Ret {
	case result.XDPPass:
		n.hop(h)
		n.skb.fromXDP(x.st, &xo, cond)
		return onRx, dev, dev.ns
	case result.XDPTX:
		n.hop(h)
		n.frameBuf = append(n.frameBuf[:0], xo.Data...)
		n.metaBuf = n.metaBuf[:0]
		return n.xdpXmit(dev, dev, "XDP_TX")
	case result.XDPRedirect:
		r := xo.Redirect
		if r == nil {
			n.hop(h)
			return n.end("dropped", dev, nil, xo.Exception), nil, nil
		}
		h.Detail = redirectDetail(r)
		n.hop(h)
		if r.Dropped {
			return n.end("dropped", dev, nil, fmt.Sprintf("the program %s on %s entry %d returned %d", r.Program, r.Map, r.Key, r.ProgramRet)), nil, nil
		}
		n.frameBuf = append(n.frameBuf[:0], xo.Data...)
		n.metaBuf = append(n.metaBuf[:0], xo.Meta...)
		switch r.MapType {
		case "CPUMap":
			// cpu_map_kthread_run builds an skb of the frame on the entry's CPU and receives it on
			// the device the frame came in on; the driver's hints do not travel in an xdp_frame.
			n.skb.fromXDP(x.st, &xo, cond)
			s := n.skb
			s.hash, s.l4Hash, s.vlanProto, s.vlanTCI, s.hwtstamp = 0, false, 0, 0, 0
			n.cond.CPU = r.QueueCPU
			return onRx, dev, dev.ns
		case "XSKMap":
			return n.end("xsk", dev, nil, fmt.Sprintf("AF_XDP socket on queue %d", r.QueueCPU)), nil, nil
		}
		if len(r.Targets) > 0 {
			return n.broadcast(dev, r.Targets)
		}
		t := n.inNS(dev.ns, r.Ifindex)
		if t == nil {
			return n.end("dropped", dev, nil, fmt.Sprintf("XDP_REDIRECT to ifindex %d: no such device in namespace %s", r.Ifindex, dev.ns.name)), nil, nil
		}
		return n.xdpXmit(dev, t, "XDP_REDIRECT")
	}
	n.hop(h)
	reason := h.Verdict
	if xo.Exception != "" {
		reason += " (" + xo.Exception + ")"
	}
	return n.end("dropped", dev, nil, reason), nil, nil
}

// redirectDetail says where an XDP redirect goes.
func redirectDetail(r *Redirect) string {
	switch {
	case r.MapType == "CPUMap":
		return fmt.Sprintf("cpumap %s entry %d (CPU %d)", r.Map, r.Key, r.QueueCPU)
	case r.MapType == "XSKMap":
		return fmt.Sprintf("xskmap %s entry %d", r.Map, r.Key)
	case len(r.Targets) > 0:
		return fmt.Sprintf("broadcast through %s to ifindexes %v", r.Map, r.Targets)
	case r.Map != "":
		return fmt.Sprintf("devmap %s entry %d (ifindex %d)", r.Map, r.Key, r.Ifindex)
	}
	return fmt.Sprintf("ifindex %d", r.Ifindex)
}

// inNS finds the device with ifindex in ns (nil when ns has none).
func (n *Network) inNS(ns *netNS, ifindex uint32) *netDev {
	if d := n.byIndex[ifindex]; d != nil && d.ns == ns {
		return d
	}
	return nil
}

// xdpXmit hands the XDP frame in n.frameBuf to target's ndo_xdp_xmit (XDP_TX: the receiving
// device itself). A NIC sends it out; a veth end hands it to its peer, whose NAPI must run (in
// this model: the peer has an XDP program), else the transmit fails (-ENXIO) and the frame is
// dropped; netkit has no ndo_xdp_xmit (-EOPNOTSUPP).
func (n *Network) xdpXmit(from, target *netDev, how string) (stage, *netDev, *netNS) {
	switch {
	case target.down:
		return n.end("dropped", from, nil, fmt.Sprintf("%s to %s: the device is down", how, target.name)), nil, nil
	case target.kind == KindNIC:
		n.record("tx", target, target.ns, n.frameBuf)
		n.hop(Hop{Device: target.name, Namespace: target.ns.name, Hook: "xmit", Verdict: "sent", Detail: how + " (ndo_xdp_xmit)"})
		return n.end("sent", target, nil, ""), nil, nil
	case target.kind == KindNetkit:
		return n.end("dropped", from, nil, fmt.Sprintf("%s to %s: netkit has no ndo_xdp_xmit (xdp_do_redirect fails with EOPNOTSUPP; an xdp_exception)", how, target.name)), nil, nil
	}
	peer := target.peer
	if peer.xdp == nil || peer.down {
		return n.end("dropped", from, nil, fmt.Sprintf("%s to %s: its peer %s runs no NAPI (no XDP program), so veth_xdp_xmit fails with ENXIO", how, target.name, peer.name)), nil, nil
	}
	n.record("tx", target, target.ns, n.frameBuf)
	n.hop(Hop{Device: target.name, Namespace: target.ns.name, Hook: "xmit", Verdict: "to peer " + peer.name, Detail: how + " (veth_xdp_xmit)"})
	n.depth = 0
	return onWire, peer, peer.ns
}

// broadcast sends copies of the frame to every target NIC (BPF_F_BROADCAST); copies into other
// devices are not followed (the path follows one packet).
func (n *Network) broadcast(from *netDev, targets []uint32) (stage, *netDev, *netNS) {
	var sent, skipped []string
	for _, ifx := range targets {
		t := n.inNS(from.ns, ifx)
		switch {
		case t == nil:
			skipped = append(skipped, fmt.Sprintf("ifindex %d (no such device)", ifx))
		case t.kind == KindNIC && !t.down:
			n.record("tx", t, t.ns, n.frameBuf)
			sent = append(sent, t.name)
		default:
			skipped = append(skipped, t.name+" (not followed)")
		}
	}
	detail := "sent out of " + strings.Join(sent, ", ")
	if len(skipped) > 0 {
		detail += "; not followed: " + strings.Join(skipped, ", ")
	}
	n.hop(Hop{Device: from.name, Namespace: from.ns.name, Hook: "xmit", Verdict: "broadcast", Detail: detail})
	if len(sent) == 0 {
		return n.end("dropped", from, nil, "broadcast reached no NIC: "+detail), nil, nil
	}
	return n.end("sent", n.byName[sent[len(sent)-1]], nil, detail), nil, nil
}

// rx is __netif_receive_skb_core on dev, then the tc ingress hook.
func (n *Network) rx(st stage, dev *netDev, o *Outcome) (stage, *netDev, *netNS) {
	s := n.skb
	switch st {
	case onRx:
		brd := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
		if why := s.receive(dev.ifindex, dev.mac, brd); why != "" {
			return n.end("dropped", dev, nil, why), nil, nil
		}
	default:
		// netkit's __netif_rx and another_round: no eth_type_trans, the protocol and pkt_type
		// stay as the sender and the scrub left them.
		s.ifindex, s.skbIif = dev.ifindex, dev.ifindex
		s.network, s.transport = s.data, s.data
		if s.mac < 0 {
			s.mac = s.data - ETHHdrLen
		}
		s.macLen = s.network - s.mac
	}
	t := dev.hooks[0]
	if t == nil {
		return onStack, dev, dev.ns
	}
	s.pktLen = uint32(s.len())
	s.push(s.macLen)
	if pass, st, d, ns := n.tcHook(t, dev, true, o); !pass {
		return st, d, ns
	}
	s.pull(s.macLen)
	return onStack, dev, dev.ns
}

// tcHook runs a device's tc ingress or egress hook on the skb and follows what it decided: it
// reports pass, or where the way goes on (a redirect) or how it ended (drop, stolen, a fault).
func (n *Network) tcHook(t *TC, dev *netDev, ingress bool, o *Outcome) (bool, stage, *netDev, *netNS) {
	n.runHook(t, ingress, o)
	tc := &t.tc
	name := "tc-egress"
	if ingress {
		name = "tc-ingress"
	}
	h := Hop{Device: dev.name, Namespace: dev.ns.name, Hook: name, Programs: n.programs(tc.Programs), Verdict: tc.Action}
	if tc.Fault != nil {
		h.Verdict = "fault"
		n.hop(h)
		return false, n.fault(dev, o, tc.Err, tc.Fault), nil, nil
	}
	switch tc.Action {
	case TCPass:
		n.hop(h)
		return true, 0, nil, nil
	case TCRedirected:
		st, d, ns := n.redirected(h, dev, dev.ns, tc.Redirect, ingress)
		return false, st, d, ns
	case TCStolen:
		n.hop(h)
		return false, n.end("stolen", dev, nil, "a "+strings.Replace(name, "-", " ", 1)+" program took the packet (TC_ACT_STOLEN, QUEUED or TRAP)"), nil, nil
	}
	st, d, ns := n.tcDropped(h, dev, tc, strings.Replace(name, "-", " ", 1))
	return false, st, d, ns
}

// tcDropped ends the path at a tc hook that dropped the packet (or whose redirect failed).
func (n *Network) tcDropped(h Hop, dev *netDev, tc *TCOutcome, hook string) (stage, *netDev, *netNS) {
	if r := tc.Redirect; r != nil && r.Dropped != "" {
		h.Verdict, h.Detail = "redirect", r.Dropped
		n.hop(h)
		return n.end("dropped", dev, nil, hook+": redirect: "+r.Dropped), nil, nil
	}
	n.hop(h)
	return n.end("dropped", dev, nil, hook+": "+lastRun(tc)), nil, nil
}

// lastRun names the program that decided and its return value.
func lastRun(tc *TCOutcome) string {
	if k := len(tc.Programs); k > 0 {
		r := tc.Programs[k-1]
		return fmt.Sprintf("%s returned %s", r.Program, result.TCVerdictName(uint32(r.Ret)))
	}
	return tc.Action
}

// runHook runs a tc hook's chain on the network's skb.
func (n *Network) runHook(t *TC, atIngress bool, o *Outcome) {
	s := n.skb
	s.redirSet, s.redirect = false, TCRedirect{}
	s.clones = s.clones[:0]
	t.begin()
	t.runChain(n.cond, atIngress)
	account(o, t.tc.Executed, t.tc.Printk)
}

// account adds what a hook ran and printed to the packet's outcome.
func account(o *Outcome, executed uint64, printk []string) {
	o.Executed += executed
	o.Printk = append(o.Printk, printk...)
}

// redirected records a hook that redirected and follows the redirect, as skb_do_redirect does:
// ns is the namespace of skb->dev, atIngress says the hook was tc ingress.
func (n *Network) redirected(h Hop, dev *netDev, ns *netNS, r *TCRedirect, atIngress bool) (stage, *netDev, *netNS) {
	h.Verdict = "redirect"
	if r.Dropped != "" {
		h.Detail = r.Dropped
		n.hop(h)
		return n.end("dropped", dev, nil, "redirect: "+r.Dropped), nil, nil
	}
	h.Detail = n.text(textKey{redirect: *r}, func() string { return redirectTarget(r) })
	n.hop(h)
	return n.follow(*r, dev, ns, atIngress)
}

// redirectTarget says where a tc or netkit redirect goes.
func redirectTarget(r *TCRedirect) string {
	dir := "egress"
	if r.Ingress {
		dir = "ingress"
	}
	name := r.Device
	if name == "" {
		name = fmt.Sprintf("ifindex %d", r.Ifindex)
	}
	switch {
	case r.Peer:
		return "to the peer of " + name + " (bpf_redirect_peer)"
	case r.Neigh && r.Nexthop != "":
		return "to " + name + " via " + r.Nexthop + " (bpf_redirect_neigh)"
	case r.Neigh:
		return "to " + name + " (bpf_redirect_neigh)"
	}
	return "to " + name + " " + dir
}

// resolveRedirect names a redirect's target in ns, as skb_do_redirect looks it up
// (dev_get_by_index_rcu in the namespace of skb->dev): no such device there drops the packet.
func (n *Network) resolveRedirect(ns *netNS, r *TCRedirect) {
	d := n.inNS(ns, r.Ifindex)
	if d == nil {
		r.Dropped = fmt.Sprintf("no device with ifindex %d in namespace %s", r.Ifindex, ns.name)
		return
	}
	r.Device = d.name
}

// follow does what skb_do_redirect does with a redirect from a hook of from, skb->dev being in ns
// (the peer's namespace while netkit programs run).
func (n *Network) follow(r TCRedirect, from *netDev, ns *netNS, atIngress bool) (stage, *netDev, *netNS) {
	s := n.skb
	t := n.inNS(ns, r.Ifindex)
	if t == nil {
		return n.end("dropped", from, nil, fmt.Sprintf("redirect to ifindex %d: no such device in namespace %s", r.Ifindex, ns.name)), nil, nil
	}
	if r.Peer {
		p := t.peer
		switch {
		case !atIngress:
			return n.end("dropped", from, nil, "bpf_redirect_peer outside tc ingress: skb_do_redirect drops the packet"), nil, nil
		case p == nil:
			return n.end("dropped", from, nil, t.name+" has no peer (bpf_redirect_peer needs a veth or netkit device)"), nil, nil
		case p.down:
			return n.end("dropped", from, nil, "bpf_redirect_peer: "+p.name+" is down"), nil, nil
		case p.ns == ns:
			return n.end("dropped", from, nil, "bpf_redirect_peer: "+p.name+" is in the same namespace"), nil, nil
		}
		// skb_scrub_packet(skb, false), then another_round on the peer, data at the network
		// header.
		n.scrub(false)
		s.pull(s.macLen)
		return onRound, p, p.ns
	}
	// __bpf_redirect_common: a link-layer header must be there.
	if s.mac < 0 || s.mac >= s.network || s.len() == 0 {
		return n.end("dropped", from, nil, "redirect: the packet carries no link-layer header (ERANGE)"), nil, nil
	}
	if r.Neigh {
		if n.depth > xmitRecursionLimit {
			return n.end("dropped", from, nil, "bpf: recursion limit reached on datapath"), nil, nil
		}
		n.depth++
		s.pull(s.network - s.data) // the neighbour code builds a new L2 header
		return n.neighOut(t, r.Nexthop)
	}
	if r.Ingress {
		// __bpf_rx_skb: ____dev_forward_skb without the MTU check, then eth_type_trans and
		// netif_rx.
		if t.down {
			return n.end("dropped", from, nil, "redirect to "+t.name+" ingress: the device is down"), nil, nil
		}
		n.scrub(t.ns != ns)
		s.priority = 0
		n.depth = 0
		return onRx, t, t.ns
	}
	// __bpf_tx_skb.
	if n.depth > xmitRecursionLimit {
		return n.end("dropped", from, nil, "bpf: recursion limit reached on datapath"), nil, nil
	}
	n.depth++
	n.clearTstamp()
	return onXmit, t, t.ns
}

// scrub is skb_scrub_packet: pkt_type PACKET_HOST, skb_iif 0 (and, unseen by programs, the dst,
// the extensions, conntrack); xnet also clears the mark and the timestamp (not a delivery time).
func (n *Network) scrub(xnet bool) {
	s := n.skb
	s.pktType = packetHost
	s.skbIif = 0
	if xnet {
		s.mark = 0
		n.clearTstamp()
	}
}

// clearTstamp is skb_clear_tstamp: a delivery time (tstamp_type set) stays.
func (n *Network) clearTstamp() {
	if n.skb.tstampType == 0 {
		n.skb.tstamp = 0
	}
}
