package sim

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/kfuncs"
	"github.com/xdpsim/xdpsim/sim/device"
	"github.com/xdpsim/xdpsim/sim/result"
	"github.com/xdpsim/xdpsim/vm"
)

var le = binary.LittleEndian

// The xdp_buff page layout of BPF_PROG_TEST_RUN on x86_64 (spec §1-§3).
const (
	FrameSize     = 4096 // the test run's page
	Headroom      = 256  // XDP_PACKET_HEADROOM
	XDPFrameSize  = 40   // struct xdp_frame, stored at data_hard_start
	Tailroom      = 320  // SKB_DATA_ALIGN(sizeof(struct skb_shared_info))
	MaxLinear     = FrameSize - Headroom - Tailroom
	ETHHdrLen     = 14
	MaxMeta       = Headroom - XDPFrameSize // 216, measured on 6.18
	MaxFrags      = 17                      // MAX_SKB_FRAGS
	hardEnd       = FrameSize - Tailroom
	xdpMdSize     = 24
	maxPacketSize = Headroom + MaxLinear + MaxFrags*FrameSize
)

// Conditions are the per-packet conditions of a run. The zero value is BPF_PROG_TEST_RUN's
// default: the packet arrives on the loopback device (ingress_ifindex 1), RX queue 0, CPU 0.
type Conditions struct {
	// IngressIfindex is the interface the packet arrives on; 0 means 1 (the loopback device),
	// as BPF_PROG_TEST_RUN takes a context without one.
	IngressIfindex uint32
	RxQueue        uint32
	// CPU is the simulated CPU the packet runs on (per-CPU maps, bpf_get_smp_processor_id).
	CPU int
	// TimeNs is the virtual clock at the packet (bpf_ktime_get_ns), usually its pcap timestamp.
	TimeNs uint64

	// steered is the packet Steer hashed (its first byte and length) on device steeredOn, and
	// rssHash its RSS hash, which the run of that packet on that device uses instead of hashing
	// it again.
	steered    *byte
	steeredLen int
	steeredOn  *device.Netdev
	rssHash    uint32
}

// Outcome is everything one packet's run produced.
type Outcome struct {
	result.Packet
	// Executed is the number of instructions run.
	Executed uint64
	// Printk holds the lines bpf_printk/bpf_trace_printk wrote.
	Printk []string
	// Redirect says where XDP_REDIRECT sends the packet, when it does.
	Redirect *Redirect
	// Fault is set when the program faulted (Err then says so too).
	Fault error
	// Exception names what the kernel's xdp_exception tracepoint would report: "XDP_ABORTED" or
	// "invalid action N" (drivers drop such packets); "" otherwise.
	Exception string
	// Skb is the hand-off to the network stack of a packet the program passed.
	Skb *SkbHandoff
	// Hints holds what each RX-metadata kfunc the program called returned, by kfunc name.
	Hints map[string]HintResult
	// Traits holds the packet traits after the run (with the traits feature), in key order:
	// they travel with XDP_PASS to the skb and with redirects.
	Traits []TraitKV
	// Timers lists the BPF timer callbacks that ran before the packet (see timers.go).
	Timers []TimerFiring
	// Dispatch lists, for a dispatcher, the slots whose programs ran, in order, with what each
	// returned; it aliases the XDP's buffer, like Data.
	Dispatch []SlotRun
	// TC is what tc programs did to the packet: the tc ingress hook after XDP_PASS (see
	// XDP.SetIngress), or the tc program a TC runs alone.
	TC *TCOutcome
	// Network is the packet's way through a Network (see Network.Run): every hook it passed and
	// how it ended; nil for a program run on its own.
	Network *NetworkOutcome
}

// SkbHandoff is what the stack receives for XDP_PASS: the frame from data and the metadata in
// front of it (skb_metadata_len), as __xdp_build_skb_from_frame would set them up.
type SkbHandoff struct {
	Len      int       `json:"len"`
	Protocol EtherType `json:"protocol"` // eth_type_trans's skb->protocol
	MetaLen  int       `json:"meta_len"`
	// Exported holds the skb fields bpf_xdp_metadata_export_to_skb populated (export-to-skb).
	Exported *kfuncs.SkbFields `json:"exported,omitempty"`
}

// Redirect is the target bpf_redirect or bpf_redirect_map chose.
type Redirect struct {
	// Ifindex is bpf_redirect's target, or the devmap entry's ifindex.
	Ifindex uint32 `json:"ifindex,omitempty"`
	// Map is the map of bpf_redirect_map, "" for bpf_redirect; MapType its type.
	Map     string `json:"map,omitempty"`
	MapType string `json:"map_type,omitempty"`
	Key     uint32 `json:"key"`
	Flags   uint64 `json:"flags,omitempty"`
	// Targets lists, for a broadcast, every ifindex the frame goes to.
	Targets []uint32 `json:"targets,omitempty"`
	// QueueCPU is the CPU of a cpumap entry, or the queue of an xskmap entry (whose AF_XDP
	// socket receives the frame and its metadata).
	QueueCPU int `json:"queue_or_cpu,omitempty"`
	// Program is the program attached to the devmap or cpumap entry, which ran on the frame
	// after the redirect; ProgramRet is what it returned. A devmap program must return XDP_PASS
	// for the frame to be sent (a cpumap program may also redirect it on); any other action
	// drops it, and anything but DROP is an exception.
	Program    string `json:"program,omitempty"`
	ProgramRet uint32 `json:"program_ret,omitempty"`
	// Dropped says the frame did not reach the target (the attached program did not pass it, or
	// the program faulted).
	Dropped bool `json:"dropped,omitempty"`
	progID  uint32
}

// XDP runs one XDP program over packets, as a device's RX path (or BPF_PROG_TEST_RUN) would. It owns a
// machine and a frame; use one XDP per goroutine.
type XDP struct {
	prog *Program
	dev  *device.Netdev
	rs   *runState
	st   *xdpState
	pkt  int // region numbers
	ctx  int
	obs  FrameObserver
	// slotObs is obs when it also watches a dispatcher's slots.
	slotObs SlotObserver
	// A dispatcher (NewDispatcher) runs its slots' programs, each an XDP of its own sharing st,
	// as planned; prog, rs, pkt and ctx are then the first slot's.
	plan  *device.Dispatcher
	slots []*XDP
	atts  []Attachment // the programs attached, by device.Program.Ref
	runs  []SlotRun    // per-packet record of the slots that ran
	// ingress runs the tc ingress hook on what the program passes (SetIngress).
	ingress *TC
}

// xdpState is the kernel's view of the packet while an XDP program runs: the xdp_buff.
type xdpState struct {
	x         *XDP
	r         *runState
	ctxWords  [5 * 8]byte // the wide fields of xdp_md as loadCtx gives them, 8 bytes each
	frame     []byte
	data      uint32 // offsets into frame
	dataEnd   uint32
	dataMeta  uint32
	metaOK    bool
	frags     [][]byte // fragment contents, each at most FrameSize
	fragStore [MaxFrags][FrameSize]byte
	// fragOff is where each fragment starts in its page (skb_frag_off): bpf_xdp_pull_data moves
	// it past the bytes it pulls out.
	fragOff    [MaxFrags]int
	running    bool // a program of Run is running: RX-metadata kfuncs record their results
	redirect   Redirect
	redirSet   bool
	redirBy    *XDP // the program (of a dispatcher's, the slot) that chose the redirect target
	outBuf     []byte
	outcome    Outcome
	hints      *kfuncs.RxHints
	hintStore  kfuncs.RxHints
	hintMap    map[string]HintResult
	traitsOK   bool // the frame supports traits (traits feature on, not excluded by metadata)
	traitsUsed bool
	exported   bool   // export-to-skb grew the metadata
	egress     uint32 // the devmap target while a devmap program runs
	skb        SkbHandoff
	// dirtyLo..dirtyHi bounds every byte of the frame a program could have written since the
	// frame was last cleared: the union of the packet windows.
	dirtyLo, dirtyHi uint32
}

// NewXDP prepares p to run over packets.
func NewXDP(p *Program) (*XDP, error) {
	return newXDP(p, nil)
}

// newXDP prepares p to run on the xdp_buff st (nil: one of its own).
func newXDP(p *Program, st *xdpState) (*XDP, error) {
	if p.Type != ebpf.XDP {
		where := ""
		if p.obj != nil {
			where = p.obj.Path + ": "
		}
		return nil, fmt.Errorf("%sprogram %s (section %s) is of type %s, not XDP", where, p.Name, p.Section, p.Type)
	}
	rs, err := newRunState(p.obj)
	if err != nil {
		return nil, err
	}
	x := &XDP{prog: p, rs: rs}
	if st == nil {
		st = &xdpState{x: x, r: rs, frame: make([]byte, FrameSize), dirtyHi: FrameSize}
	}
	x.st = st
	rs.xdp = x.st
	x.pkt = rs.m.AddRegion(vm.Region{Name: "packet", Data: x.st.frame})
	// data, data_end, data_meta, ingress_ifindex and rx_queue_index are wide fields the
	// machine reads from ctxWords without calling loadCtx (see fields); loadCtx answers the rest.
	x.ctx = rs.m.AddRegion(vm.Region{Name: "ctx", Data: x.st.ctxWords[:], WideMask: 0b11111, Load: x.st.loadCtx})
	if p.Verification == nil {
		rs.m.SetBudget(UnverifiedBudget)
	}
	return x, nil
}

// UnverifiedBudget is the instruction budget per packet of a program loaded without
// verification (LoadOptions.NoVerify): a program the kernel's verifier would refuse may never
// end, and this stops it within milliseconds (1,048,576 instructions, the verifier's own limit of
// processed instructions). Machine().SetBudget changes it.
const UnverifiedBudget = 1 << 20

// UnverifiedBudgetError is a run of an unverified program that exhausted its instruction
// budget. It unwraps to the machine's *vm.BudgetError (and so matches vm.ErrBudget).
type UnverifiedBudgetError struct {
	Budget uint64
	Err    *vm.BudgetError
}

func (e *UnverifiedBudgetError) Error() string {
	msg := fmt.Sprintf("instruction %d: the program ran the %d instructions an unverified program may run on one packet (loaded with --no-verify; the kernel's verifier bounds what a program it accepts may run): give a larger budget with --budget N", e.Err.PC, e.Budget)
	if e.Err.Line != "" {
		msg += "\n  at " + e.Err.Line
	}
	return msg
}

func (e *UnverifiedBudgetError) Unwrap() error { return e.Err }

// Machine is the machine the program runs on (for tracing and budgets).
func (x *XDP) Machine() *vm.Machine { return x.rs.m }

// Program is the program being run.
func (x *XDP) Program() *Program { return x.prog }

// loadCtx serves the program's loads from struct xdp_md, as the kernel's context rewriting makes
// them: data, data_end and data_meta become 64-bit packet pointers.
func (s *xdpState) loadCtx(m *vm.Machine, off, size uint32) (uint64, bool) {
	if size != 4 || off%4 != 0 || off >= xdpMdSize {
		return 0, false
	}
	switch off {
	case 0:
		return vm.Address(s.x.pkt, s.data), true
	case 4:
		return vm.Address(s.x.pkt, s.dataEnd), true
	case 8:
		return vm.Address(s.x.pkt, s.dataMeta), true
	case 12:
		return uint64(s.r.cond.IngressIfindex), true
	case 16:
		return uint64(s.r.cond.RxQueue), true
	case 20:
		// egress_ifindex: only programs attached to devmap entries may read it.
		if s.egress == 0 {
			return 0, false
		}
		return uint64(s.egress), true
	}
	return 0, false
}

// window updates the packet region after a pointer moved.
func (s *xdpState) window() {
	lo := s.dataMeta
	if !s.metaOK {
		lo = s.data
	}
	s.r.m.SetWindow(s.x.pkt, lo, s.dataEnd)
	s.dirtyLo = min(s.dirtyLo, lo)
	s.dirtyHi = max(s.dirtyHi, s.dataEnd)
	s.fields()
}

// fields writes the xdp_md fields loadCtx would answer into the context's wide fields, after the
// packet pointers moved or a run began.
func (s *xdpState) fields() {
	w := s.ctxWords[:]
	binary.LittleEndian.PutUint64(w[0:], vm.Address(s.x.pkt, s.data))
	binary.LittleEndian.PutUint64(w[8:], vm.Address(s.x.pkt, s.dataEnd))
	binary.LittleEndian.PutUint64(w[16:], vm.Address(s.x.pkt, s.dataMeta))
	binary.LittleEndian.PutUint64(w[24:], uint64(s.r.cond.IngressIfindex))
	binary.LittleEndian.PutUint64(w[32:], uint64(s.r.cond.RxQueue))
}

func (s *xdpState) fragsSize() int {
	n := 0
	for _, f := range s.frags {
		n += len(f)
	}
	return n
}

// ErrRefused is matched by errors.Is for packets the kernel would not run.
var ErrRefused = errors.New("the kernel refuses this packet")

// Run runs the program over one packet with metadata meta (nil for none) and returns what happened.
// Map state carries over from packet to packet. The outcome's Data and Meta alias the XDP's own
// buffers and stay valid until the next Run: copy them to keep them. Steady-state runs of programs
// that do not print do not allocate.
func (x *XDP) Run(pkt, meta []byte, cond Conditions) (out Outcome) {
	if x.run(&out, pkt, meta, cond) && x.obs != nil {
		// The observer sees the outcome in the XDP's own copy, so that without one the outcome
		// is made where the caller receives it.
		s := x.st
		s.outcome = out
		x.obs.FrameEnd(x.Frame(), &s.outcome)
		out = s.outcome
	}
	return out
}

// RunTo is Run writing the outcome into *out, for a caller that keeps its outcomes in place (the
// replay loop): it saves copying the outcome out of Run.
func (x *XDP) RunTo(out *Outcome, pkt, meta []byte, cond Conditions) {
	*out = Outcome{}
	if x.run(out, pkt, meta, cond) && x.obs != nil {
		x.obs.FrameEnd(x.Frame(), out)
	}
}

// run runs one packet into out, which starts zero, and reports whether the program ran (the kernel
// did not refuse the packet).
func (x *XDP) run(out *Outcome, pkt, meta []byte, cond Conditions) bool {
	s := x.st
	if len(s.hintMap) > 0 {
		clear(s.hintMap)
	}
	if x.plan != nil {
		s.x, s.r = x.slots[0], x.slots[0].rs
	}
	if x.dev != nil || (x.plan == nil && x.prog.DevBound) {
		pkt = x.deviceSetup(pkt, &cond)
	} else {
		s.hints = nil
	}
	if err := s.setup(pkt, meta, cond); err != nil {
		out.Err = err.Error()
		return false
	}
	out.Timers = x.rs.fired
	if x.obs != nil {
		x.obs.FrameStart(x.Frame())
	}
	var r0 uint64
	var err error
	s.running = true
	if x.plan != nil {
		r0, err = x.dispatch(out, cond)
	} else {
		r0, err = x.rs.m.Run(x.prog.VM, vm.Address(x.ctx, 0))
		x.rs.releaseSpin()
		out.Executed = x.rs.m.Executed()
		out.Printk = x.rs.printed
	}
	s.running = false
	if len(s.hintMap) > 0 {
		out.Hints = s.hintMap
	}
	if err != nil {
		var be *vm.BudgetError
		if x.prog.Verification == nil && errors.As(err, &be) {
			err = &UnverifiedBudgetError{Budget: be.Executed, Err: be}
		}
		out.Err = "program fault: " + err.Error()
		out.Fault = err
		return true
	}
	out.Ret = uint32(r0)
	switch {
	case out.Ret == 0:
		out.Exception = "XDP_ABORTED"
	case out.Ret > 4:
		out.Exception = fmt.Sprintf("invalid action %d", out.Ret)
	case out.Ret == 4 && s.redirSet:
		out.Redirect = &s.redirect
		if s.redirect.progID != 0 {
			if err := x.runAttached(out); err != nil {
				out.Err = "program fault in the program attached to the redirect target: " + err.Error()
				out.Fault = err
				return true
			}
		}
	case out.Ret == 4:
		// XDP_REDIRECT without a target set: xdp_do_redirect fails, the driver drops it.
		out.Exception = "XDP_REDIRECT without a redirect target"
	}
	// The output aliases the XDP's buffers: it stays valid until the next Run.
	if len(s.frags) == 0 {
		out.Data = s.frame[s.data:s.dataEnd:s.dataEnd]
	} else {
		s.outBuf = append(s.outBuf[:0], s.frame[s.data:s.dataEnd]...)
		for _, f := range s.frags {
			s.outBuf = append(s.outBuf, f...)
		}
		out.Data = s.outBuf
	}
	out.Meta = s.frame[s.data:s.data:s.data]
	if s.metaOK && s.dataMeta < s.data {
		out.Meta = s.frame[s.dataMeta:s.data:s.data]
	}
	if out.Ret == 2 {
		s.skb = SkbHandoff{Len: len(out.Data), MetaLen: len(out.Meta), Protocol: skbProtocol(out.Data)}
		if s.exported {
			if f, ok := kfuncs.ParseSkbMetadata(out.Meta); ok {
				s.skb.Exported = &f
			}
		}
		out.Skb = &s.skb
	}
	// Traits travel with the frame: to the skb, or to a redirect target that takes it.
	leaves := out.Ret == 2 || (out.Ret == 4 && out.Redirect != nil && !out.Redirect.Dropped)
	if s.traitsUsed && s.traitsOK && leaves {
		for k, v := range s.traitsLayout().All(s.traitsArea()) {
			out.Traits = append(out.Traits, TraitKV{Key: k, Value: fmt.Sprintf("%x", v)})
		}
	}
	if out.Ret == 2 && x.ingress != nil {
		x.ingress.ingressFromXDP(x, out, cond)
		out.TC = &x.ingress.tc
		out.Executed += x.ingress.tc.Executed
	}
	return true
}

// shortFrame is the refusal of a frame shorter than an Ethernet header, by its length, made once:
// traces hold such frames, and a refusal should cost no allocation.
var shortFrame = func() (errs [ETHHdrLen]error) {
	for n := range errs {
		errs[n] = fmt.Errorf("%w: %d bytes is shorter than an Ethernet header (EINVAL)", ErrRefused, n)
	}
	return errs
}()

// setup lays the packet out in the frame as BPF_PROG_TEST_RUN does.
func (s *xdpState) setup(pkt, meta []byte, cond Conditions) error {
	if len(pkt) < ETHHdrLen {
		return shortFrame[len(pkt)]
	}
	if len(meta)%4 != 0 || len(meta) > MaxMeta {
		return fmt.Errorf("%w: %d bytes of metadata (the kernel takes multiples of 4 up to %d; EINVAL)", ErrRefused, len(meta), MaxMeta)
	}
	// BPF_PROG_TEST_RUN puts the first 3520 bytes in the linear buffer and the rest in page-sized
	// fragments, whether or not the program is frags-aware (measured on 6.18).
	linear := min(len(pkt), MaxLinear)
	if rest := len(pkt) - linear; rest > MaxFrags*FrameSize {
		return fmt.Errorf("%w: %d bytes need more than %d fragments (ENOMEM)", ErrRefused, len(pkt), MaxFrags)
	}
	s.r.begin(cond)
	s.metaOK = true
	s.data = Headroom
	s.dataMeta = Headroom - uint32(len(meta))
	s.dataEnd = s.data + uint32(linear)
	// The test run's buffer starts zeroed; only what earlier packets could reach needs clearing,
	// and of that only what the metadata and the packet do not overwrite now.
	if s.dirtyLo < s.dirtyHi {
		if lo, hi := s.dirtyLo, min(s.dirtyHi, s.dataMeta); lo < hi {
			clear(s.frame[lo:hi])
		}
		if lo, hi := max(s.dirtyLo, s.dataEnd), s.dirtyHi; lo < hi {
			clear(s.frame[lo:hi])
		}
	}
	s.dirtyLo, s.dirtyHi = FrameSize, 0
	if len(meta) > 0 {
		copy(s.frame[s.dataMeta:], meta)
	}
	copy(s.frame[s.data:], pkt[:linear])
	s.frags = s.frags[:0]
	if len(pkt) > linear {
		for rest, i := pkt[linear:], 0; len(rest) > 0; i++ {
			n := min(len(rest), FrameSize)
			f := s.fragStore[i][:n]
			s.fragOff[i] = 0
			copy(f, rest[:n])
			s.frags = append(s.frags, f)
			rest = rest[n:]
		}
	}
	s.redirSet, s.redirBy = false, nil
	s.egress = 0
	s.exported, s.traitsUsed = false, false
	s.traitsOK = false
	if s.r.obj.opts.Features.Traits {
		// xdp_prepare_buff initialises the store right after the xdp_frame (traits RFC).
		s.traitsOK = s.traitsLayout().Init(s.frame[XDPFrameSize:s.dataMeta]) == nil
		s.dirtyLo = min(s.dirtyLo, XDPFrameSize)
	}
	s.window()
	return nil
}

// EtherType is an Ethernet protocol number; JSON writes it as hex ("0x0800").
type EtherType uint16

// MarshalJSON writes the protocol as a hex string.
func (e EtherType) MarshalJSON() ([]byte, error) {
	const digits = "0123456789abcdef"
	return []byte{'"', '0', 'x', digits[e>>12], digits[e>>8&0xf], digits[e>>4&0xf], digits[e&0xf], '"'}, nil
}

// skbProtocol is what eth_type_trans gives skb->protocol for a frame: the EtherType when it is one
// (>= 0x600), else 802.3 framing (ETH_P_802_3, or ETH_P_802_2 without the raw IPX marker).
func skbProtocol(frame []byte) EtherType {
	if len(frame) < ETHHdrLen {
		return 0
	}
	t := EtherType(frame[12])<<8 | EtherType(frame[13])
	switch {
	case t >= 0x600:
		return t
	case len(frame) >= 16 && frame[14] == 0xff && frame[15] == 0xff:
		return 0x0001 // ETH_P_802_3
	}
	return 0x0004 // ETH_P_802_2
}

// setRedirect records the target bpf_redirect or bpf_redirect_map chose, as the kernel's per-CPU
// bpf_redirect_info does: it outlives the program that set it, so in a dispatcher a later slot's
// XDP_REDIRECT goes where an earlier one chose.
func (s *xdpState) setRedirect(r Redirect) {
	s.redirect, s.redirSet, s.redirBy = r, true, s.x
}

// runAttached runs the program attached to the devmap or cpumap entry the packet was redirected to,
// on the frame as the first program left it, as dev_map_bpf_prog_run and cpu_map_bpf_prog_run do.
// The entry belongs to a map of the program that chose the target.
func (x *XDP) runAttached(out *Outcome) error {
	s := x.st
	r := &s.redirect
	dispatcher := x.plan != nil
	if s.redirBy != nil {
		x = s.redirBy
		s.x, s.r = x, x.rs
	}
	p, err := x.rs.obj.ProgramByID(r.progID)
	if err != nil {
		return err
	}
	r.Program = p.Name
	if r.MapType == "DevMap" || r.MapType == "DevMapHash" {
		s.egress = r.Ifindex
	}
	printed := len(x.rs.printed)
	r0, err := x.rs.m.Run(p.VM, vm.Address(x.ctx, 0))
	x.rs.releaseSpin()
	out.Executed += x.rs.m.Executed()
	if dispatcher {
		out.Printk = append(out.Printk, x.rs.printed[printed:]...)
	} else {
		out.Printk = x.rs.printed
	}
	s.egress = 0
	if err != nil {
		return err
	}
	r.ProgramRet = uint32(r0)
	switch {
	case r.ProgramRet == 2:
	case r.ProgramRet == 4 && r.MapType == "CPUMap":
		// cpu_map_bpf_prog_run hands the frame on to xdp_do_redirect.
	case r.ProgramRet == 1:
		r.Dropped = true
	default:
		r.Dropped = true
		out.Exception = fmt.Sprintf("program %s on %s entry %d returned action %d; the frame is dropped", p.Name, r.Map, r.Key, r.ProgramRet)
	}
	return nil
}
