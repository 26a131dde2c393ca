package sim

import (
	"fmt"
	"net/netip"
	"path"
	"strings"
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
	// Transmit sends the frame out of Device as it is, as a packet socket bound to the device
	// sends it: its tc egress hook, then the device's transmit routine.
	Transmit bool `json:"transmit,omitempty"`
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
	if a.Transmit && a.Device == "" {
		o.Err = "an arrival that transmits names the device"
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
		switch {
		case a.Transmit:
			// packet_snd: the protocol from the Ethernet header (packet_parse_headers), the MAC
			// header at data; then dev_queue_xmit.
			n.skbFromFrame(n.frameBuf, nil)
			s := n.skb
			s.mac, s.network = s.data, s.data+ETHHdrLen
			s.protocol = uint16(skbProtocol(pkt))
			st = onXmit
		case dev.kind != KindNIC:
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
	s.end = testRunEnd(len(frame)) // a head sized as BPF_PROG_TEST_RUN sizes it (drivers' differ)
	copy(s.buf[s.data:], frame)
	s.tail = s.data + len(frame)
	if dev != nil && dev.kind == KindNIC && dev.nic != nil && dev.nic.Profile != nil {
		rx := dev.nic.Receive(frame, n.cond.TimeNs)
		if len(rx.Frame) != len(frame) {
			// The NIC stripped a VLAN tag into the descriptor.
			copy(s.buf[s.data:], rx.Frame)
			s.tail = s.data + len(rx.Frame)
		}
		s.setHints(&rx.Hints)
		if rx.Spread {
			n.cond.RxQueue = uint32(rx.Queue)
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
			n.end("loop", dev, ns, fmt.Sprintf("the packet took %d steps (the hop bound): it loops", n.MaxHops))
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
