package sim

import (
	"github.com/xdpsim/xdpsim/vm"
)

// FrameView is the xdp_buff as the program sees it at one moment: the page and where its pointers
// sit, as offsets from data_hard_start (offset 0 of the page). It aliases the simulator's buffers
// and is valid only until the run goes on: copy what you keep.
//
// The page holds, in order: the xdp_frame (XDPFrameSize bytes at data_hard_start), the packet
// traits store (with the traits feature), the free headroom, the metadata (DataMeta to Data), the
// linear packet (Data to DataEnd), the free tailroom up to the frame end (FrameEnd), and the
// skb_shared_info that describes the fragments (FrameEnd to FrameSize).
type FrameView struct {
	// Page is the whole FrameSize-byte page.
	Page []byte
	// DataMeta, Data and DataEnd are the xdp_buff's pointers. Without metadata support DataMeta
	// equals Data (the kernel then keeps data_meta at data+1 and MetaSupported is false).
	DataMeta, Data, DataEnd uint32
	MetaSupported           bool
	// Traits is the length of the packet traits store right after the xdp_frame (0 without the
	// traits feature, or when metadata has excluded it).
	Traits uint32
	// Frags are the fragments' contents, each in a page of its own (FrameSize bytes).
	Frags [][]byte
}

// FrameEnd is data_hard_end: where the linear packet must stop, the start of skb_shared_info.
const FrameEnd = hardEnd

// FrameMove is one call of a helper that moves the xdp_buff's pointers.
type FrameMove struct {
	// PC is the call instruction, in the program Program names.
	PC      int
	Program *vm.Program
	// Helper is the helper's C name ("bpf_xdp_adjust_head"); Offset its offset argument.
	Helper string
	Offset int32
	// Ret is what the helper returned (0, or a negative errno).
	Ret int64
}

// FrameObserver sees the frame of every packet the XDP runs: laid out before the program starts,
// after every helper call that moves a pointer, and after the run. Its views alias the live frame.
type FrameObserver interface {
	FrameStart(f FrameView)
	FrameMoved(f FrameView, mv FrameMove)
	// FrameEnd gets the outcome too (a program fault included); packets the kernel refuses to run
	// reach neither FrameStart nor FrameEnd.
	FrameEnd(f FrameView, out *Outcome)
}

// SetFrameObserver installs o to watch the frames (nil removes it). Without one, runs pay a nil
// check per packet and per pointer move, and allocate nothing.
func (x *XDP) SetFrameObserver(o FrameObserver) {
	x.obs = o
	x.slotObs, _ = o.(SlotObserver)
	for _, c := range x.slots {
		c.obs = o
	}
}

// Frame is the frame as it stands now: during a run (from a trace function or an observer) the
// program's current view, after a run the frame it left.
func (x *XDP) Frame() FrameView {
	s := x.st
	v := FrameView{Page: s.frame, DataMeta: s.dataMeta, Data: s.data, DataEnd: s.dataEnd, MetaSupported: s.metaOK, Frags: s.frags}
	if !s.metaOK {
		v.DataMeta = s.data
	}
	if s.traitsOK {
		v.Traits = uint32(s.traitsLayout().Len(s.frame[XDPFrameSize:v.DataMeta]))
	}
	return v
}

// PacketRegion is the number of the machine region that holds the page: packet pointers point
// into it.
func (x *XDP) PacketRegion() int { return x.pkt }

// xdpHelper is a helper that works on the xdp_buff.
type xdpHelper = func(s *xdpState, m *vm.Machine, r1, r2, r3, r4, r5 uint64) (uint64, error)

// observed wraps a pointer-moving helper so that the frame observer sees each call.
func observed(name string, h xdpHelper) xdpHelper {
	return func(s *xdpState, m *vm.Machine, r1, r2, r3, r4, r5 uint64) (uint64, error) {
		r, err := h(s, m, r1, r2, r3, r4, r5)
		if o := s.x.obs; o != nil && err == nil {
			o.FrameMoved(s.x.Frame(), FrameMove{PC: m.PC(), Program: m.Program(), Helper: name, Offset: int32(r2), Ret: int64(r)})
		}
		return r, err
	}
}
