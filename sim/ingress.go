package sim

import (
	"github.com/xdpsim/xdpsim/kfuncs"
	"github.com/xdpsim/xdpsim/sim/result"
)

// The receive path from XDP to tc: what the kernel does with a frame an XDP program passed, up to
// the device's tc ingress hook (net/core/dev.c, __netif_receive_skb_core and sch_handle_ingress).

// SetIngress makes the packets the XDP program passes continue into the tc programs of t, as the
// device's tc ingress hook runs them: the outcome's TC field then says what they did. nil removes
// the hook. t's programs must not run on another goroutine meanwhile.
func (x *XDP) SetIngress(t *TC) {
	x.ingress = t
	if t != nil {
		t.SetHost(x.rs.host)
	}
}

// ingressFromXDP builds the skb the RX path makes of the frame x's program passed, and runs the tc
// ingress hook on it. The skb is built as drivers and __xdp_build_skb_from_frame build it:
//
//   - the frame's page becomes the skb's head: headroom, the XDP metadata (skb_metadata_set, so a
//     tc program sees it at data_meta), the linear data, and the fragments as page fragments;
//   - the queue is recorded (queue_mapping is the RX queue + 1), the device's hints fill the
//     hash (skb_set_hash), the stripped VLAN tag (the hardware-accelerated tag) and the RX
//     timestamp (hwtstamp), as its driver does; with export-to-skb, the exported struct does;
//   - eth_type_trans sets the MAC header, pulls it, decides pkt_type against the device's MAC
//     (from the simulated host; loopback's is all zeroes) and sets the protocol;
//   - __netif_receive_skb_core sets skb_iif, the network and transport headers and mac_len, and
//     moves an outer 802.1Q or 802.1ad tag still in the frame into the accelerated tag
//     (skb_vlan_untag, the metadata moving along);
//   - packet traits (the RFC, --feature traits) stay with the skb, which the RFC gives tc no way
//     to read, and are in the outcome as XDP left them;
//   - sch_handle_ingress records the length (wire_len, from the network header), marks the skb
//     at ingress, and the tcx runner puts the MAC header back in front before the programs run.
func (t *TC) ingressFromXDP(x *XDP, xo *Outcome, cond Conditions) {
	t.begin()
	s := t.skb
	s.fromXDP(x.st, xo, cond)
	t.tc.Traits = xo.Traits // carried by the skb, out of the programs' reach
	addr, brd := t.device(cond.IngressIfindex)
	if why := s.receive(cond.IngressIfindex, addr, brd); why != "" {
		t.finishDropped(why)
		return
	}
	s.pktLen = uint32(s.len())
	s.push(s.macLen)
	t.runChain(cond, true)
}

// fromXDP is napi_build_skb on the page of the frame an XDP program passed (see ingressFromXDP
// for what it keeps): the skb starts empty and gets the frame's headroom, metadata, data and
// fragments, the RX queue, and the device's hints or the exported fields.
func (s *skbState) fromXDP(xs *xdpState, xo *Outcome, cond Conditions) {
	s.reset()
	copy(s.buf, xs.frame[:xs.dataEnd])
	s.data, s.tail = int(xs.data), int(xs.dataEnd)
	s.end = hardEnd // build_skb_around the frame's page: its frame size less skb_shared_info
	if len(xs.frags) > 0 {
		s.pagedStore = s.pagedStore[:0]
		for _, f := range xs.frags {
			s.pagedStore = append(s.pagedStore, f...)
		}
		s.paged = s.pagedStore
	}
	if xs.metaOK && xs.dataMeta < xs.data {
		s.metaLen = int(xs.data - xs.dataMeta)
	}
	s.queueMapping = uint16(cond.RxQueue + 1) // skb_record_rx_queue
	if h := xs.hints; h != nil {
		s.setHints(h)
	}
	if f := xo.Skb; f != nil && f.Exported != nil {
		e := f.Exported
		if e.Set&kfuncs.HintHash != 0 {
			s.hash, s.l4Hash = e.Hash, e.HashType == kfuncs.PktHashL4
		}
		if e.Set&kfuncs.HintVLANTag != 0 {
			s.vlanProto, s.vlanTCI = e.VLANProto, e.VLANTCI
		}
		if e.Set&kfuncs.HintTimestamp != 0 {
			s.hwtstamp = e.HwTstamp
		}
		s.metaLen = e.MetaLen // the exported struct is consumed
	}
}

// setHints puts what the device supplied for a frame into the skb, as its driver does: the RSS
// hash (skb_set_hash), the stripped VLAN tag (the hardware-accelerated tag) and the RX timestamp.
func (s *skbState) setHints(h *kfuncs.RxHints) {
	if h.Valid&kfuncs.HintHash != 0 {
		s.hash, s.l4Hash = h.Hash, h.HashType&kfuncs.RSSL4 != 0
	}
	if h.Valid&kfuncs.HintVLANTag != 0 {
		s.vlanProto, s.vlanTCI = h.VLANProto, h.VLANTCI
	}
	if h.Valid&kfuncs.HintTimestamp != 0 {
		s.hwtstamp = h.Timestamp
	}
}

// receive is what eth_type_trans and __netif_receive_skb_core do to an skb whose data starts at
// the MAC header, on the device with ifindex (addr and brd its addresses): the MAC header set and
// pulled, pkt_type and the protocol, skb_iif, the network and transport headers and mac_len, and
// an outer VLAN tag still in the frame moved into the accelerated tag. It returns why the stack
// frees the skb instead, "" when it does not.
func (s *skbState) receive(ifindex uint32, addr, brd []byte) string {
	s.ifindex, s.skbIif = ifindex, ifindex
	s.protocol = s.ethTypeTrans(addr, brd)
	s.network, s.transport = s.data, s.data
	s.macLen = s.network - s.mac
	if isVLANType(s.protocol) && !s.vlanPresent() {
		if !s.vlanUntag() {
			// The frame ends inside the tag: the stack frees it before tc sees it.
			return "the frame ends inside its VLAN tag (skb_vlan_untag frees it)"
		}
	}
	return ""
}

// vlanUntag is skb_vlan_untag: the tag after the Ethernet header (data points behind it) becomes
// the accelerated tag, and the MAC addresses and the metadata move up over it
// (skb_reorder_vlan_header). false when the frame is too short to hold it.
func (s *skbState) vlanUntag() bool {
	if !s.pullTail(vlanHLen + 2) {
		return false
	}
	s.vlanProto, s.vlanTCI = s.protocol, s.be16(s.data)
	s.pull(vlanHLen)
	s.protocol = s.encapProto(s.data - 2)
	// The MAC addresses move up by the tag; so does the metadata in front of them.
	copy(s.buf[s.mac+vlanHLen:], s.buf[s.mac:s.mac+12])
	if s.metaLen > 0 {
		copy(s.buf[s.mac-s.metaLen+vlanHLen:], s.buf[s.mac-s.metaLen:s.mac])
	}
	s.mac += vlanHLen
	s.network, s.transport = s.data, s.data
	s.macLen = s.network - s.mac
	return true
}

// finishDropped fills the outcome of a packet the stack dropped before the tc programs ran.
func (t *TC) finishDropped(why string) {
	s := t.skb
	t.tc.Action, t.tc.Dropped = TCDrop, why
	t.tc.Packet.Type = result.TypeTC
	t.tc.Data = s.bytes(&t.scratch)
	t.tc.Meta = s.buf[s.mac-s.metaLen : s.mac : s.mac]
	t.tc.Skb = SkbFields{Len: s.len(), Protocol: EtherType(s.protocol), PktType: s.pktType, MetaLen: s.metaLen}
	if s.obs != nil {
		s.obs.SkbEnd(s.view(), &t.tc)
	}
}
