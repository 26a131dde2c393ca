// Package picture draws the packet as a program sees it. For an XDP program: the 4,096-byte page
// with its xdp_frame, packet traits, headroom, metadata, the packet's protocol layers, tailroom and
// skb_shared_info, the fragments, and where data_hard_start, data_meta, data, data_end and the
// frame end sit. For a tc program: the sk_buff's head with its headroom, the metadata an XDP
// program left, the MAC and network headers, data and data_end, the tailroom up to skb->end, the
// skb_shared_info behind it and the paged part. It records a run through sim's observers (before,
// every helper that moves or resizes the data, every slot of a dispatcher and program of a tc
// chain, after) and renders it as text for a terminal or as an HTML page with SVG for a browser.
package picture

import (
	"fmt"
	"strings"

	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/result"
	"github.com/xdpsim/xdpsim/vm"
)

// Snapshot is a copy of the packet's memory at one moment: an XDP frame's page, or an sk_buff's
// head (Skb set).
type Snapshot struct {
	// Page is the XDP frame's page, or the skb's head up to the end of its skb_shared_info.
	Page []byte
	// DataMeta, Data and DataEnd are the pointers a program reads from its context: data_meta,
	// data and data_end (for an skb, the tail).
	DataMeta, Data, DataEnd uint32
	MetaSupported           bool
	Traits                  uint32
	// Frags are the fragments' contents: an XDP frame's pages, or an skb's paged data as one.
	Frags [][]byte
	// Skb is set for an sk_buff.
	Skb *SkbInfo
}

// SkbInfo is what a snapshot of an sk_buff holds beyond the pointers a program reads.
type SkbInfo struct {
	// End is skb->end: skb_shared_info follows it.
	End int
	// Mac, Network and Transport are the header offsets, -1 when unset.
	Mac, Network, Transport int
	Fields                  sim.SkbFields
	// Expanded counts the new heads the kernel made for the packet so far (pskb_expand_head),
	// Moved how far they moved its bytes up, in all.
	Expanded, Moved int
	// FromXDP says the head is the page of an XDP frame the stack built the skb from.
	FromXDP bool
}

// Capture copies a live view of an XDP frame.
func Capture(v sim.FrameView) Snapshot {
	s := Snapshot{Page: append([]byte(nil), v.Page...), DataMeta: v.DataMeta, Data: v.Data, DataEnd: v.DataEnd,
		MetaSupported: v.MetaSupported, Traits: v.Traits}
	for _, f := range v.Frags {
		s.Frags = append(s.Frags, append([]byte(nil), f...))
	}
	return s
}

// CaptureSkb copies a live view of an sk_buff; fromXDP says the stack built it from an XDP frame.
func CaptureSkb(v sim.SkbView, fromXDP bool) Snapshot {
	s := Snapshot{Page: append([]byte(nil), v.Head...), DataMeta: uint32(v.Data - v.MetaLen), Data: uint32(v.Data),
		DataEnd: uint32(v.Tail), MetaSupported: true,
		Skb: &SkbInfo{End: v.End, Mac: v.Mac, Network: v.Network, Transport: v.Transport, Fields: v.Fields,
			Expanded: v.Expanded, Moved: v.Moved, FromXDP: fromXDP}}
	if len(v.Paged) > 0 {
		s.Frags = [][]byte{append([]byte(nil), v.Paged...)}
	}
	return s
}

// Packet is the packet as the program sees it: the linear part followed by the fragments.
func (s Snapshot) Packet() []byte {
	out := append([]byte(nil), s.Page[s.Data:s.DataEnd]...)
	for _, f := range s.Frags {
		out = append(out, f...)
	}
	return out
}

// Meta is the metadata, data_meta to data.
func (s Snapshot) Meta() []byte { return s.Page[s.DataMeta:s.Data] }

// moved is how far the kernel moved the bytes up since the packet's first snapshot.
func (s Snapshot) moved() int {
	if s.Skb != nil {
		return s.Skb.Moved
	}
	return 0
}

// Step is one thing that happened to the packet during a run: a helper call that moved (or tried to
// move) the frame's pointers (Move), or the skb's data (SkbMove), or the end of a dispatcher's slot
// or of a program of a tc chain (Ended). Frame is the packet after it.
type Step struct {
	Move    sim.FrameMove
	SkbMove *sim.SkbMove
	Ended   *Ended
	// Line is the C source line of the call, "" when unknown (and for Ended).
	Line  string
	Frame Snapshot
}

// Ended is a program that finished its part of the run: a dispatcher's slot, or a program of a tc
// chain.
type Ended struct {
	// Slot is the dispatcher's slot, -1 for a tc program.
	Slot    int
	Program string
	Ret     uint32
	// Continued says the dispatcher went on to its next slot (or, after the last, to XDP_PASS),
	// or the tc chain to its next program.
	Continued bool
	// Alone says the slot is a dispatcher's only one: the program replaces its main function.
	Alone bool
}

// Describe says what the step did, in a line: the call, its result and what it moved, or which
// program ended how.
func (st Step) Describe(prev Snapshot) string {
	switch {
	case st.Ended != nil:
		return st.Ended.describe()
	case st.SkbMove != nil:
		return describeSkbMove(*st.SkbMove, prev, st.Frame)
	}
	call := fmt.Sprintf("%s(ctx, %d) = %s", st.Move.Helper, st.Move.Offset, retName(st.Move.Ret))
	if st.Move.Helper == "bpf_xdp_metadata_export_to_skb" {
		call = fmt.Sprintf("%s(ctx) grew the metadata by %d bytes", st.Move.Helper, -st.Move.Offset)
	}
	var moved []string
	f := st.Frame
	if f.DataMeta != prev.DataMeta && f.MetaSupported {
		moved = append(moved, fmt.Sprintf("data_meta %d -> %d", prev.DataMeta, f.DataMeta))
	}
	if f.Data != prev.Data {
		moved = append(moved, fmt.Sprintf("data %d -> %d", prev.Data, f.Data))
	}
	if f.DataEnd != prev.DataEnd {
		moved = append(moved, fmt.Sprintf("data_end %d -> %d", prev.DataEnd, f.DataEnd))
	}
	if a, b := fragLen(prev), fragLen(f); a != b || len(prev.Frags) != len(f.Frags) {
		moved = append(moved, fmt.Sprintf("fragments %d bytes in %d -> %d bytes in %d", a, len(prev.Frags), b, len(f.Frags)))
	}
	return joinMoves(call, moved)
}

func joinMoves(call string, moved []string) string {
	if len(moved) == 0 {
		return call + ": nothing moved"
	}
	return call + ": " + strings.Join(moved, ", ")
}

// describe says how the program ended its part.
func (e *Ended) describe() string {
	if e.Slot < 0 {
		what := fmt.Sprintf("%s returned %s", e.Program, tcRet(e.Ret))
		if e.Continued {
			return what + ": TCX_NEXT, the chain goes on to its next program"
		}
		return what
	}
	what := fmt.Sprintf("slot %d: %s returned %s", e.Slot, e.Program, slotRet(e.Ret))
	switch {
	case e.Alone:
		return what + ": one program alone replaces the dispatcher's main function, its return value is the verdict"
	case e.Continued:
		return what + ": one of its chain-call actions, the dispatcher goes on"
	}
	return what + ": not one of its chain-call actions, the dispatcher returns it"
}

// slotRet writes what a dispatcher's slot returned, and for a value that is no XDP action how the
// dispatcher's chain-call test reads it: it shifts the actions' bitmap by the value's low 6 bits.
func slotRet(r uint32) string {
	if r <= 4 {
		return fmt.Sprintf("%s (%d)", result.VerdictName(r), r)
	}
	bit := r & 63
	if bit <= 4 {
		return fmt.Sprintf("%d, not an XDP action (the chain-call test reads bit %d, %s)", r, bit, result.VerdictName(bit))
	}
	return fmt.Sprintf("%d, not an XDP action (the chain-call test reads bit %d, which no action sets)", r, bit)
}

// tcRet names a tc program's return value: "TC_ACT_OK (0)".
func tcRet(r uint32) string { return fmt.Sprintf("%s (%d)", result.TCVerdictName(r), int32(r)) }

func fragLen(s Snapshot) int {
	n := 0
	for _, f := range s.Frags {
		n += len(f)
	}
	return n
}

// retName writes a helper's return value with the errno's name when it is one.
func retName(r int64) string {
	if r >= 0 {
		return fmt.Sprint(r)
	}
	if e, ok := errno.FromReturn(r); ok {
		return fmt.Sprintf("-%s (%d)", e.Name(), r)
	}
	return fmt.Sprint(r)
}

// Run is one packet's run as the frame and the skb saw it.
type Run struct {
	// Title names the packet ("packet 3 of corpus/traces/mixed.pcap").
	Title string
	// XDP is the XDP program's (or dispatcher's) frame; nil when a tc program ran alone.
	XDP *Stage
	// Skb is the sk_buff tc programs got: alone, as BPF_PROG_TEST_RUN builds it, or at tc ingress
	// from the frame XDP passed; nil when no tc program got the packet.
	Skb *Stage
}

// Stage is the packet in one program's (or chain's) hands: before, each step, after.
type Stage struct {
	// Who names the program(s): "xdp_encap", "libxdp's dispatcher", "tc_meta_reader".
	Who    string
	Before Snapshot
	Steps  []Step
	// Omitted counts the steps past MaxSteps that were not kept.
	Omitted int
	After   Snapshot
	// Done says the stage ended (After is valid); Outcome is what it ended with.
	Done    bool
	Outcome Outcome
}

// Stages are the run's stages in order.
func (r *Run) Stages() []*Stage {
	var out []*Stage
	for _, s := range []*Stage{r.XDP, r.Skb} {
		if s != nil {
			out = append(out, s)
		}
	}
	return out
}

// Outcome is the part of sim.Outcome a stage shows.
type Outcome struct {
	Ret   uint32
	Err   string
	Fault bool
	// TC is set for a tc hook's outcome: Action is what the hook does with the packet, Dropped why
	// the stack dropped it before tc.
	TC      bool
	Action  string
	Dropped string
}

// Verdict says how the stage ended: "XDP_PASS (2)", "TC_ACT_OK (0)", or the fault.
func (o Outcome) Verdict() string {
	switch {
	case o.Err != "":
		return o.Err
	case o.Dropped != "":
		return "dropped before tc: " + o.Dropped
	case o.TC:
		return tcRet(o.Ret)
	}
	return fmt.Sprintf("%s (%d)", result.VerdictName(o.Ret), o.Ret)
}

// MaxSteps is the number of steps a stage keeps (a loop may move a pointer many times).
const MaxSteps = 64

// Recorder records the runs it sees: install it with XDP.SetFrameObserver and TC.SetSkbObserver
// (it is a sim.SlotObserver and a sim.SkbObserver) for the packets to draw, and Reset it before
// each.
type Recorder struct {
	// Run is the run in progress or the last one.
	Run *Run
	// Title is given to the next run; XDPWho and SkbWho name the programs of its stages.
	Title          string
	XDPWho, SkbWho string
}

// Watch installs the recorder on the XDP program x (or dispatcher) and the tc programs tc, either
// of which may be nil; Unwatch removes it.
func (r *Recorder) Watch(x *sim.XDP, tc *sim.TC) {
	if x != nil {
		x.SetFrameObserver(r)
	}
	if tc != nil {
		tc.SetSkbObserver(r)
	}
}

// Unwatch removes any observer from x and tc (either may be nil).
func Unwatch(x *sim.XDP, tc *sim.TC) {
	if x != nil {
		x.SetFrameObserver(nil)
	}
	if tc != nil {
		tc.SetSkbObserver(nil)
	}
}

// Reset forgets the last run: the next packet starts a new one.
func (r *Recorder) Reset() { r.Run = nil }

func (r *Recorder) run() *Run {
	if r.Run == nil {
		r.Run = &Run{Title: r.Title}
	}
	return r.Run
}

// FrameStart begins a run with the XDP frame.
func (r *Recorder) FrameStart(f sim.FrameView) {
	r.Run = &Run{Title: r.Title, XDP: &Stage{Who: r.XDPWho, Before: Capture(f)}}
}

func (st *Stage) add(s Step) {
	if len(st.Steps) >= MaxSteps {
		st.Omitted++
		return
	}
	st.Steps = append(st.Steps, s)
}

// FrameMoved records a step of the XDP frame.
func (r *Recorder) FrameMoved(f sim.FrameView, mv sim.FrameMove) {
	if r.Run == nil || r.Run.XDP == nil {
		return
	}
	r.Run.XDP.add(Step{Move: mv, Line: lineAt(mv.Program, mv.PC), Frame: Capture(f)})
}

// lineAt is the C source line of instruction pc of p ("" without p or line information).
func lineAt(p *vm.Program, pc int) string {
	if p == nil {
		return ""
	}
	return p.LineAt(pc)
}

// SlotDone records the frame after a dispatcher's slot.
func (r *Recorder) SlotDone(f sim.FrameView, run sim.SlotRun) {
	if r.Run == nil || r.Run.XDP == nil {
		return
	}
	r.Run.XDP.add(Step{Ended: &Ended{Slot: run.Slot, Program: run.Program, Ret: run.Ret, Continued: run.Continued}, Frame: Capture(f)})
}

// FrameEnd ends the XDP stage.
func (r *Recorder) FrameEnd(f sim.FrameView, out *sim.Outcome) {
	if r.Run == nil || r.Run.XDP == nil {
		return
	}
	st := r.Run.XDP
	st.After = Capture(f)
	st.Done = true
	slots := 0
	for _, s := range st.Steps {
		if s.Ended != nil {
			slots++
		}
	}
	if n := len(st.Steps); slots == 1 && st.Steps[n-1].Ended != nil && st.Steps[n-1].Ended.Slot == 0 {
		st.Steps[n-1].Ended.Alone = true
	}
	st.Outcome = Outcome{Ret: out.Ret, Err: out.Err, Fault: out.Fault != nil}
}

// SkbStart begins the skb's stage: after the XDP stage of the same run, or a run of its own.
func (r *Recorder) SkbStart(v sim.SkbView) {
	run := r.run()
	run.Skb = &Stage{Who: r.SkbWho, Before: CaptureSkb(v, run.XDP != nil)}
}

// SkbMoved records a step of the skb.
func (r *Recorder) SkbMoved(v sim.SkbView, mv sim.SkbMove) {
	if r.Run == nil || r.Run.Skb == nil {
		return
	}
	r.Run.Skb.add(Step{SkbMove: &mv, Line: lineAt(mv.Program, mv.PC), Frame: CaptureSkb(v, r.Run.XDP != nil)})
}

// SkbProgramDone records the skb after a program of a chain of several.
func (r *Recorder) SkbProgramDone(v sim.SkbView, run sim.TCRun) {
	if r.Run == nil || r.Run.Skb == nil {
		return
	}
	r.Run.Skb.add(Step{Ended: &Ended{Slot: -1, Program: run.Program, Ret: uint32(run.Ret), Continued: uint32(run.Ret) == sim.TCXNext},
		Frame: CaptureSkb(v, r.Run.XDP != nil)})
}

// SkbEnd ends the skb's stage; a packet the stack dropped before tc gets a stage that only ends.
func (r *Recorder) SkbEnd(v sim.SkbView, out *sim.TCOutcome) {
	run := r.run()
	if run.Skb == nil {
		run.Skb = &Stage{Who: r.SkbWho, Before: CaptureSkb(v, run.XDP != nil)}
	}
	st := run.Skb
	if st.Who == "" && len(out.Programs) > 0 {
		var names []string
		for _, r := range out.Programs {
			names = append(names, r.Program)
		}
		st.Who = strings.Join(names, ", ")
	}
	st.After = CaptureSkb(v, run.XDP != nil)
	st.Done = true
	st.Outcome = Outcome{Ret: out.Ret, Err: out.Err, Fault: out.Fault != nil, TC: true, Action: out.Action, Dropped: out.Dropped}
}
