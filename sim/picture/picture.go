// Package picture draws the XDP frame as a program sees it: the 4,096-byte page with its xdp_frame,
// packet traits, headroom, metadata, the packet's protocol layers, tailroom and skb_shared_info,
// the fragments, and where data_hard_start, data_meta, data, data_end and the frame end sit. It
// records a run through sim's frame observer (before, every pointer move, after) and renders it as
// text for a terminal or as an HTML page with SVG for a browser.
package picture

import (
	"fmt"

	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/result"
)

// Snapshot is a copy of the frame at one moment.
type Snapshot struct {
	Page                    []byte
	DataMeta, Data, DataEnd uint32
	MetaSupported           bool
	Traits                  uint32
	Frags                   [][]byte
}

// Capture copies a live view.
func Capture(v sim.FrameView) Snapshot {
	s := Snapshot{Page: append([]byte(nil), v.Page...), DataMeta: v.DataMeta, Data: v.Data, DataEnd: v.DataEnd,
		MetaSupported: v.MetaSupported, Traits: v.Traits}
	for _, f := range v.Frags {
		s.Frags = append(s.Frags, append([]byte(nil), f...))
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

// Step is one call of a helper that moved (or tried to move) the frame's pointers.
type Step struct {
	Move sim.FrameMove
	// Line is the C source line of the call, "" when unknown.
	Line  string
	Frame Snapshot
}

// Describe says what the step did, in a line: the call, its result and the pointers it moved.
func (st Step) Describe(prev Snapshot) string {
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
	if len(moved) == 0 {
		return call + ": nothing moved"
	}
	out := call + ": "
	for i, m := range moved {
		if i > 0 {
			out += ", "
		}
		out += m
	}
	return out
}

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

// Run is one packet's run as the frame saw it.
type Run struct {
	// Title names the packet ("packet 3 of corpus/traces/mixed.pcap").
	Title  string
	Before Snapshot
	Steps  []Step
	// Omitted counts the steps past MaxSteps that were not kept.
	Omitted int
	After   Snapshot
	// Done says the run ended (After is valid); Outcome is what it ended with.
	Done    bool
	Outcome Outcome
}

// Outcome is the part of sim.Outcome the picture shows.
type Outcome struct {
	Ret   uint32
	Err   string
	Fault bool
}

// Verdict says how the run ended: "XDP_PASS (2)" or the fault.
func (o Outcome) Verdict() string {
	if o.Err != "" {
		return o.Err
	}
	return fmt.Sprintf("%s (%d)", result.VerdictName(o.Ret), o.Ret)
}

// MaxSteps is the number of pointer moves a Run keeps (a loop may move a pointer many times).
const MaxSteps = 64

// Recorder is a sim.FrameObserver that records the runs it sees: install it with
// XDP.SetFrameObserver for the packets to draw.
type Recorder struct {
	// Run is the run in progress or the last one.
	Run *Run
	// Title is given to the next run.
	Title string
}

// FrameStart begins a run.
func (r *Recorder) FrameStart(f sim.FrameView) {
	r.Run = &Run{Title: r.Title, Before: Capture(f)}
}

// FrameMoved records a step.
func (r *Recorder) FrameMoved(f sim.FrameView, mv sim.FrameMove) {
	if r.Run == nil {
		return
	}
	if len(r.Run.Steps) >= MaxSteps {
		r.Run.Omitted++
		return
	}
	line := ""
	if mv.Program != nil {
		line = mv.Program.LineAt(mv.PC)
	}
	r.Run.Steps = append(r.Run.Steps, Step{Move: mv, Line: line, Frame: Capture(f)})
}

// FrameEnd ends the run.
func (r *Recorder) FrameEnd(f sim.FrameView, out *sim.Outcome) {
	if r.Run == nil {
		return
	}
	r.Run.After = Capture(f)
	r.Run.Done = true
	r.Run.Outcome = Outcome{Ret: out.Ret, Err: out.Err, Fault: out.Fault != nil}
}
