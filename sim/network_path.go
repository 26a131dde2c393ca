package sim

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"path"
	"strings"

	"github.com/xdpsim/xdpsim/kfuncs"
	"github.com/xdpsim/xdpsim/sim/device"
	"github.com/xdpsim/xdpsim/sim/result"
)

// The way of a packet through a Network. A packet arrives on a device (from a NIC's wire, or as
// received from a pair's other end) or is sent by a namespace's stack, and is followed hook by hook:
//
//	wire ─► XDP ─┬─ PASS ─► skb ─► tc ingress ─┬─ pass ─► stack: local ─► delivered
//	             │                             │                 forward ─► tc egress ─► device xmit
//	             ├─ TX / REDIRECT ─► ndo_xdp_xmit of a device    └─ redirect (egress, ingress, peer, neigh)
//	             └─ DROP, ABORTED
//	device xmit: NIC ─► sent out; veth ─► the peer receives it (its XDP, then its rx path);
//	             netkit ─► the device's netkit programs ─► NEXT/PASS: the peer receives it,
//	                                                    REDIRECT: as a tc redirect, DROP
//
// until it is delivered to a namespace's stack, dropped, sent out of a NIC or handed to an AF_XDP
// socket. Every hook it passes is a Hop of its path.

// Arrival says where a packet enters the network: received by Device, or sent by the stack of
// Namespace. A NIC receives from the wire; a veth or netkit device receives as if its peer had
// sent the frame, without the peer's hooks (send from the peer's namespace to have them run).
// Namespace's stack routes the packet as a locally generated one: the frame's Ethernet header is
// dropped and rebuilt for the route's device.
type Arrival struct {
	Device    string `json:"device,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	// Match, when set, selects the traces (by file name, path.Match patterns) this arrival is for.
	Match string `json:"match,omitempty"`
}

// ArrivalFor is the first of arrivals that is for a trace file.
func ArrivalFor(arrivals []Arrival, file string) (Arrival, bool) {
	for _, a := range arrivals {
		if a.Matches(file) {
			return a, true
		}
	}
	return Arrival{}, false
}

// Matches reports whether the arrival is for a trace file.
func (a Arrival) Matches(file string) bool {
	if a.Match == "" {
		return true
	}
	ok, _ := path.Match(a.Match, path.Base(strings.ReplaceAll(file, "\\", "/")))
	return ok
}

// Hop is one step of a packet's path: a hook that ran (its programs and their return values), or
// a decision of a device or a stack.
type Hop struct {
	Device    string `json:"device,omitempty"`
	Namespace string `json:"ns"`
	// Hook is "xdp", "tc-ingress", "tc-egress", "netkit" (a device's netkit programs or policy),
	// "route" (the stack's decision), "xmit" (what the device did with the packet it transmits),
	// or "redirect".
	Hook     string  `json:"hook"`
	Programs []TCRun `json:"programs,omitempty"`
	// Verdict is what the hook decided: an XDP action, a tc action ("pass", "drop",
	// "redirect", "stolen"), a netkit action, "local", "forward", ...
	Verdict string `json:"verdict"`
	Detail  string `json:"detail,omitempty"`
}

// End is how a packet's way through a Network ended.
type End struct {
	// Kind is "delivered" (to Namespace's stack), "sent" (out of the NIC Device), "xsk" (to
	// an AF_XDP socket of Device), "dropped" (at Device or in Namespace), "stolen" (a tc program
	// took it), "fault" (a program faulted) or "loop" (the hop bound stopped it).
	Kind      string `json:"kind"`
	Device    string `json:"device,omitempty"`
	Namespace string `json:"ns,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// Summary is the end in a few words, for counts: "sent out of eth0", "delivered to pod1",
// "dropped at nk0", ...
func (e End) Summary() string {
	switch e.Kind {
	case "sent":
		return "sent out of " + e.Device
	case "delivered":
		return "delivered to " + e.Namespace
	case "xsk":
		return "to an AF_XDP socket of " + e.Device
	case "loop":
		return "stopped by the hop bound"
	}
	where := e.Device
	if where == "" {
		where = e.Namespace
	}
	if where == "" {
		return e.Kind
	}
	return e.Kind + " at " + where
}

// Frame is a packet that left a device (Kind "tx": to the wire, or to a pair's other end) or was
// delivered to a namespace's stack (Kind "delivered"), from its Ethernet header.
type Frame struct {
	Kind      string
	Device    string
	Namespace string
	Data      []byte
}

// NetworkOutcome is a packet's way through a Network.
type NetworkOutcome struct {
	Path []Hop `json:"path"`
	End  End   `json:"end"`
	// Frames are what left devices and what was delivered, in order; their Data alias the
	// network's buffers until the next packet.
	Frames    []Frame `json:"-"`
	frameBufs [][]byte
}

// where a packet is.
type stage int

const (
	onWire     stage = iota // a frame arrives on dev from outside, or as an XDP frame
	onRx                    // an skb on dev's receive path, data at its MAC header
	onRxNK                  // an skb a netkit device passed to dev, its MAC header pulled
	onRound                 // an skb bpf_redirect_peer moved to dev, data at its network header
	onStack                 // an skb in ns's stack after tc ingress, data at its network header
	onXmit                  // an skb to transmit on dev, data at its MAC header
	onDevice                // an skb at dev's ndo_start_xmit
	onLocalOut              // an skb sent by ns's stack, data at its network header
	done
)

// Run follows one packet, with metadata meta (nil for none), from where a arrives: see Arrival.
// cond gives its time and RX queue (IngressIfindex is the arrival device's). The outcome's
// Network field holds the path; its Packet is the packet as the path ended (Data from the
// Ethernet header). Programs that fault end the path with Err and Fault set. The outcome aliases
// the network's buffers until the next Run.
func (n *Network) Run(pkt, meta []byte, cond Conditions, a Arrival) Outcome {
	var o Outcome
	if err := n.Build(); err != nil {
		o.Err = err.Error()
		return o
	}
	n.begin(cond)
	if a.Namespace != "" && a.Device != "" || a.Namespace == "" && a.Device == "" {
		o.Err = "an arrival names a device or a namespace"
		return o
	}
	st := onWire
	var dev *netDev
	var ns *netNS
	if a.Device != "" {
		if dev = n.byName[a.Device]; dev == nil {
			o.Err = fmt.Sprintf("no device %q to arrive on", a.Device)
			return o
		}
		if len(pkt) < ETHHdrLen {
			o.Err = fmt.Sprintf("%v: %d bytes is shorter than an Ethernet header (EINVAL)", ErrRefused, len(pkt))
			return o
		}
		n.frameBuf = append(n.frameBuf[:0], pkt...)
		n.metaBuf = append(n.metaBuf[:0], meta...)
		if dev.kind != KindNIC {
			// Received from the other end: an skb, unless XDP on a veth end takes it first.
			n.skbFromFrame(n.frameBuf, dev)
			st = onRx
			if dev.kind == KindVeth && dev.xdp != nil {
				st = onWire
			}
		}
	} else {
		if ns = n.nsByName[a.Namespace]; ns == nil {
			o.Err = fmt.Sprintf("no namespace %q to send from", a.Namespace)
			return o
		}
		if len(pkt) < ETHHdrLen {
			o.Err = fmt.Sprintf("%v: %d bytes is shorter than an Ethernet header", ErrRefused, len(pkt))
			return o
		}
		n.skbFromFrame(pkt, nil)
		s := n.skb
		s.mac, s.network = s.data, s.data+ETHHdrLen
		s.protocol = uint16(skbProtocol(pkt))
		s.pull(ETHHdrLen)
		s.mac = -1
		st = onLocalOut
	}
	n.walk(st, dev, ns, &o)
	return o
}

// begin clears the network's per-packet state.
func (n *Network) begin(cond Conditions) {
	n.cond = cond
	n.depth, n.hops = 0, 0
	n.out.Path = n.out.Path[:0]
	n.out.Frames = n.out.Frames[:0]
	n.out.End = End{}
	n.runs = n.runs[:0]
}

// programs keeps a copy of a hook's runs for its hop, in an arena reused from packet to packet.
func (n *Network) programs(runs []TCRun) []TCRun {
	start := len(n.runs)
	n.runs = append(n.runs, runs...)
	return n.runs[start:len(n.runs):len(n.runs)]
}

// skbFromFrame puts a frame into the network's skb as a driver receives it: the frame linear
// after NET_SKB_PAD of headroom, data at the MAC header, the device's hints when it is a NIC.
func (n *Network) skbFromFrame(frame []byte, dev *netDev) {
	s := n.skb
	s.reset()
	if need := skbPad + len(frame) + Tailroom; need > len(s.buf) {
		s.buf = make([]byte, need+FrameSize)
	}
	s.data = skbPad
	copy(s.buf[s.data:], frame)
	s.tail = s.data + len(frame)
	if dev != nil && dev.kind == KindNIC && dev.nic != nil && dev.nic.Profile != nil {
		dev.nic.ready(1)
		h, out := kfuncs.ComputeHints(dev.nic.Profile, frame, n.cond.TimeNs, dev.nic.RSSKey)
		if len(out) != len(frame) {
			// The NIC stripped a VLAN tag into the descriptor.
			copy(s.buf[s.data:], out)
			s.tail = s.data + len(out)
		}
		s.setHints(&h)
		if dev.nic.Queues > 1 {
			n.cond.RxQueue = uint32(kfuncs.Queue(h.Hash, dev.nic.Queues, dev.nic.table))
		}
		s.queueMapping = uint16(n.cond.RxQueue + 1)
	}
}

// hop records a step of the path.
func (n *Network) hop(h Hop) { n.out.Path = append(n.out.Path, h) }

// record keeps a copy of the skb's bytes from the MAC header as a frame of the outcome.
func (n *Network) record(kind string, dev *netDev, ns *netNS, data []byte) {
	i := len(n.out.Frames)
	if i == len(n.out.frameBufs) {
		n.out.frameBufs = append(n.out.frameBufs, nil)
	}
	n.out.frameBufs[i] = append(n.out.frameBufs[i][:0], data...)
	f := Frame{Kind: kind, Data: n.out.frameBufs[i]}
	if dev != nil {
		f.Device = dev.name
	}
	if ns != nil {
		f.Namespace = ns.name
	}
	n.out.Frames = append(n.out.Frames, f)
}

// fromMAC is the skb's bytes from its MAC header.
func (n *Network) fromMAC() []byte {
	s := n.skb
	from := s.data
	if s.mac >= 0 && s.mac < s.data {
		from = s.mac
	}
	if len(s.paged) == 0 {
		return s.buf[from:s.tail:s.tail]
	}
	n.frameBuf = append(append(n.frameBuf[:0], s.buf[from:s.tail]...), s.paged...)
	return n.frameBuf
}

// end ends the path.
func (n *Network) end(kind string, dev *netDev, ns *netNS, reason string) stage {
	e := End{Kind: kind, Reason: reason}
	if dev != nil {
		e.Device = dev.name
		if ns == nil {
			ns = dev.ns
		}
	}
	if ns != nil {
		e.Namespace = ns.name
	}
	n.out.End = e
	return done
}

// walk follows the packet from stage st until it ends.
func (n *Network) walk(st stage, dev *netDev, ns *netNS, o *Outcome) {
	for st != done {
		if n.hops++; n.hops > n.MaxHops {
			st = n.end("loop", dev, ns, fmt.Sprintf("the packet took %d steps (the hop bound): it loops", n.MaxHops))
			break
		}
		switch st {
		case onWire:
			st, dev, ns = n.wire(dev, o)
		case onRx, onRxNK, onRound:
			st, dev, ns = n.rx(st, dev, o)
		case onStack:
			st, dev, ns = n.stack(ns, dev)
		case onLocalOut:
			st, dev, ns = n.localOut(ns)
		case onXmit:
			st, dev, ns = n.xmit(dev, o)
		case onDevice:
			st, dev, ns = n.device(dev, o)
		}
	}
	o.Network = &n.out
	if o.Err == "" {
		o.Packet.Data = n.lastFrame()
	}
}

// lastFrame is the packet as its path ended: the last frame recorded, or the skb.
func (n *Network) lastFrame() []byte {
	if k := len(n.out.Frames); k > 0 {
		return n.out.Frames[k-1].Data
	}
	return n.fromMAC()
}

// fault ends the path on a program's fault.
func (n *Network) fault(dev *netDev, o *Outcome, msg string, err error) stage {
	o.Err, o.Fault = msg, err
	return n.end("fault", dev, nil, msg)
}

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
	progs := n.programs([]TCRun{{Program: x.prog.Name, Ret: int32(xo.Ret)}})
	if xo.Err != "" {
		n.hop(Hop{Device: dev.name, Namespace: dev.ns.name, Hook: "xdp", Programs: progs[:0], Verdict: "error", Detail: xo.Err})
		if xo.Fault != nil {
			return n.fault(dev, o, "program fault in XDP program "+x.prog.Name+" on "+dev.name+": "+strings.TrimPrefix(xo.Err, "program fault: "), xo.Fault), nil, nil
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
	n.runHook(t, true, o)
	tc := &t.tc
	h := Hop{Device: dev.name, Namespace: dev.ns.name, Hook: "tc-ingress", Programs: n.programs(tc.Programs), Verdict: tc.Action}
	if tc.Fault != nil {
		h.Verdict = "fault"
		n.hop(h)
		return n.fault(dev, o, tc.Err, tc.Fault), nil, nil
	}
	switch tc.Action {
	case TCPass:
		n.hop(h)
		s.pull(s.macLen)
		return onStack, dev, dev.ns
	case TCRedirected:
		return n.redirected(h, dev, dev.ns, tc.Redirect, true)
	case TCStolen:
		n.hop(h)
		return n.end("stolen", dev, nil, "a tc ingress program took the packet (TC_ACT_STOLEN, QUEUED or TRAP)"), nil, nil
	}
	return n.tcDropped(h, dev, tc, "tc ingress")
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
	switch {
	case !ok:
		h.Verdict, h.Detail = "drop", "no route to "+dst.String()
	case r.typ != 0:
		h.Verdict, h.Detail = "drop", fmt.Sprintf("route to %s is %s", dst, []string{"", "blackhole", "unreachable", "prohibit"}[r.typ])
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

// via says where a route sends a packet: "to DEV" or "to DEV via GW", made once per device and
// gateway.
func (n *Network) via(out *netDev, gw netip.Addr) string {
	k := viaKey{out, gw}
	if s, ok := n.vias[k]; ok {
		return s
	}
	s := "to " + out.name
	if gw.IsValid() {
		s += " via " + gw.String()
	}
	if n.vias == nil {
		n.vias = map[viaKey]string{}
	}
	n.vias[k] = s
	return s
}

// textKey names a text the path repeats from packet to packet.
type textKey struct {
	redirect TCRedirect
	run      TCRun
	verdict  string
}

// text makes a text once and keeps it (up to maxTexts of them), so that packets that take the
// same way allocate nothing.
func (n *Network) text(k textKey, build func() string) string {
	if s, ok := n.texts[k]; ok {
		return s
	}
	s := build()
	if n.texts == nil {
		n.texts = map[textKey]string{}
	}
	if len(n.texts) < maxTexts {
		n.texts[k] = s
	}
	return s
}

const maxTexts = 1024

type viaKey struct {
	dev *netDev
	gw  netip.Addr
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
	switch {
	case !ok:
		h.Verdict, h.Detail = "drop", "no route to "+dst.String()
	case r.typ != 0:
		h.Verdict, h.Detail = "drop", fmt.Sprintf("route to %s is %s", dst, []string{"", "blackhole", "unreachable", "prohibit"}[r.typ])
	}
	if h.Verdict != "" {
		n.hop(h)
		return n.end("dropped", nil, ns, h.Detail), nil, nil
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
	n.runHook(t, false, o)
	tc := &t.tc
	h := Hop{Device: dev.name, Namespace: dev.ns.name, Hook: "tc-egress", Programs: n.programs(tc.Programs), Verdict: tc.Action}
	if tc.Fault != nil {
		h.Verdict = "fault"
		n.hop(h)
		return n.fault(dev, o, tc.Err, tc.Fault), nil, nil
	}
	switch tc.Action {
	case TCPass:
		n.hop(h)
		return onDevice, dev, dev.ns
	case TCRedirected:
		return n.redirected(h, dev, dev.ns, tc.Redirect, false)
	case TCStolen:
		n.hop(h)
		return n.end("stolen", dev, nil, "a tc egress program took the packet"), nil, nil
	}
	return n.tcDropped(h, dev, tc, "tc egress")
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
