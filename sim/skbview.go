package sim

import (
	"github.com/cilium/ebpf/asm"

	"github.com/xdpsim/xdpsim/vm"
)

// SkbView is the sk_buff as a tc program sees it at one moment: the head buffer and where the
// kernel's pointers and header offsets sit in it, as offsets from skb->head (the values packet
// pointers hold in the simulator). It aliases the simulator's buffers and is valid only until the
// run goes on: copy what you keep.
//
// The head holds, in order: the headroom (for an skb built from an XDP frame, the frame's page
// from data_hard_start, its xdp_frame and headroom included), the metadata an XDP program left
// (MetaLen bytes before the MAC header: data_meta), the linear packet (Data to Tail: data to
// data_end), the tailroom up to End, and struct skb_shared_info behind End, which lists the page
// fragments that hold the rest of the packet (Paged).
type SkbView struct {
	// Head is the head buffer from skb->head to the end of its skb_shared_info (End + Tailroom
	// bytes).
	Head []byte
	// Data, Tail and End are skb->data, the tail (data_end) and skb->end.
	Data, Tail, End int
	// Mac, Network and Transport are the header offsets, -1 when unset.
	Mac, Network, Transport int
	// MetaLen is skb_metadata_len: the metadata lies in the MetaLen bytes before Data.
	MetaLen int
	// Paged are the packet's bytes in page fragments, behind the linear part (skb->data_len).
	Paged []byte
	// Fields are the skb's fields a tc program reads through struct __sk_buff.
	Fields SkbFields
	// Expanded counts the new heads pskb_expand_head made for the packet so far, Moved the bytes
	// they moved the contents up by, in all: offsets in earlier views are that much lower.
	Expanded, Moved int
}

// SkbMove is one helper call that changed the skb's layout (where data, the tail, the end, the
// headers, the metadata or the fragments are; the protocol or the VLAN tag beside the packet), or
// a call of a helper whose job that is, even when it failed.
type SkbMove struct {
	// PC is the call instruction, in the program Program names.
	PC      int
	Program *vm.Program
	// Helper is the helper's C name ("bpf_skb_change_tail"), ID its number, Args r1 to r5 as the
	// program passed them.
	Helper string
	ID     int32
	Args   [5]uint64
	// Ret is what the helper returned (0, or a negative errno).
	Ret int64
}

// SkbObserver sees the skb of every packet a TC runs: as the first tc program gets it, after
// every helper call that changes its layout, after each program of the chain, and after the hook
// decided. Its views alias the live skb.
type SkbObserver interface {
	SkbStart(v SkbView)
	SkbMoved(v SkbView, mv SkbMove)
	SkbProgramDone(v SkbView, run TCRun)
	// SkbEnd gets the hook's outcome (a program's fault included). A packet the stack drops
	// before tc reaches SkbEnd only; one the kernel refuses to run reaches neither.
	SkbEnd(v SkbView, out *TCOutcome)
}

// SetSkbObserver installs o to watch the skbs of the packets the TC runs (nil removes it). Without
// one, runs pay a nil check per packet and per helper call, and allocate nothing.
func (t *TC) SetSkbObserver(o SkbObserver) { t.skb.obs = o }

// Skb is the skb as it stands now: during a run (from a trace function or an observer) the
// program's current view, after a run the skb the hook left.
func (t *TC) Skb() SkbView { return t.skb.view() }

// PacketRegion is the region of machine m (one of Machines) that holds the skb's head: packet
// pointers of the programs on m point into it. false when m is not one of the TC's.
func (t *TC) PacketRegion(m *vm.Machine) (int, bool) {
	for _, st := range t.stages {
		if st.rs.m == m {
			return st.pkt, true
		}
	}
	return 0, false
}

// Ingress is the tc ingress hook behind the XDP program (SetIngress), nil when there is none.
func (x *XDP) Ingress() *TC { return x.ingress }

func (s *skbState) view() SkbView {
	end := max(s.end, s.tail)
	return SkbView{Head: s.buf[:min(end+Tailroom, len(s.buf))], Data: s.data, Tail: s.tail, End: end,
		Mac: s.mac, Network: s.network, Transport: s.transport, MetaLen: s.metaLen, Paged: s.paged,
		Fields: s.fields(), Expanded: s.expanded, Moved: s.moved}
}

// fields are the skb's fields as SkbFields reports them.
func (s *skbState) fields() SkbFields {
	return SkbFields{Len: s.len(), Protocol: EtherType(s.protocol), PktType: s.pktType, Mark: s.mark,
		Priority: s.priority, QueueMapping: s.queueMapping, VlanProto: EtherType(s.vlanProto), VlanTCI: s.vlanTCI,
		Hash: s.hash, TCIndex: s.tcIndex, TCClassid: s.tcClassid, Tstamp: s.tstamp, MetaLen: s.metaLen}
}

// skbLayout is what a helper call may change of the skb's layout.
type skbLayout struct {
	data, tail, end, mac, network, transport, metaLen, paged, expanded int
	protocol, vlanProto, vlanTCI                                       uint16
}

func (s *skbState) layout() skbLayout {
	return skbLayout{s.data, s.tail, s.end, s.mac, s.network, s.transport, s.metaLen, len(s.paged), s.expanded,
		s.protocol, s.vlanProto, s.vlanTCI}
}

// resizers are the helpers whose job is to move or resize the skb's data: their calls are steps
// even when they fail or change nothing.
var resizers = map[int32]bool{
	helperID(asm.FnSkbChangeHead): true, helperID(asm.FnSkbChangeTail): true, helperID(asm.FnSkbAdjustRoom): true,
	helperID(asm.FnSkbPullData): true, helperID(asm.FnSkbVlanPush): true, helperID(asm.FnSkbVlanPop): true,
	helperID(asm.FnSkbChangeProto): true,
}

// observedSkbHelper is a tc program's helper as the machine calls it: through observeCall when
// the skb has an observer.
func observedSkbHelper(id int32, impl helperImpl) vm.Helper {
	name := helperName(id)
	return func(m *vm.Machine, r1, r2, r3, r4, r5 uint64) (uint64, error) {
		rs := m.Host.(*runState)
		if s := rs.skb; s != nil && s.obs != nil {
			return s.observeCall(id, name, impl, rs, m, r1, r2, r3, r4, r5)
		}
		return impl(rs, m, r1, r2, r3, r4, r5)
	}
}

// observeCall runs a helper of a tc program for an skb with an observer, and tells it about the
// call if the call changed the skb's layout or was a resizer's.
func (s *skbState) observeCall(id int32, name string, impl helperImpl, rs *runState, m *vm.Machine, r1, r2, r3, r4, r5 uint64) (uint64, error) {
	before := s.layout()
	r, err := impl(rs, m, r1, r2, r3, r4, r5)
	if o := s.obs; o != nil && err == nil && (resizers[id] || s.layout() != before) {
		o.SkbMoved(s.view(), SkbMove{PC: m.PC(), Program: m.Program(), Helper: name, ID: id,
			Args: [5]uint64{r1, r2, r3, r4, r5}, Ret: int64(r)})
	}
	return r, err
}

// SlotObserver is a FrameObserver that also sees a dispatcher's frame after each slot's program
// ran (SetFrameObserver notices it).
type SlotObserver interface {
	FrameObserver
	SlotDone(f FrameView, run SlotRun)
}
