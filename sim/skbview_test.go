package sim_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/simtest"
)

// skbRecorder checks every view an skb observer gets against the one before it.
type skbRecorder struct {
	t                     *testing.T
	starts, ends, dropped int
	moves                 []sim.SkbMove
	programs              []sim.TCRun
	last                  sim.SkbView
	running               bool
}

func (r *skbRecorder) check(what string, v sim.SkbView) {
	r.t.Helper()
	switch {
	case v.Data > v.Tail || v.Tail > v.End || v.Data-v.MetaLen < 0:
		r.t.Errorf("%s: data_meta %d, data %d, tail %d, end %d out of order", what, v.Data-v.MetaLen, v.Data, v.Tail, v.End)
	case len(v.Head) != v.End+sim.Tailroom:
		r.t.Errorf("%s: a head of %d bytes for end %d", what, len(v.Head), v.End)
	case v.Fields.Len != v.Tail-v.Data+len(v.Paged):
		r.t.Errorf("%s: len %d, the linear part %d and %d paged bytes", what, v.Fields.Len, v.Tail-v.Data, len(v.Paged))
	case v.Mac >= 0 && v.Mac > v.Tail:
		r.t.Errorf("%s: the MAC header at %d past the tail %d", what, v.Mac, v.Tail)
	}
}

func (r *skbRecorder) SkbStart(v sim.SkbView) {
	r.check("start", v)
	if r.running {
		r.t.Error("a start without the end of the packet before it")
	}
	r.starts++
	r.running = true
	r.last = v
}

// SkbMoved checks that a call that failed moved nothing, and that one that moved anything said so.
func (r *skbRecorder) SkbMoved(v sim.SkbView, mv sim.SkbMove) {
	r.check(mv.Helper, v)
	r.moves = append(r.moves, mv)
	if mv.Program == nil || mv.PC < 0 || mv.PC >= mv.Program.Len() || mv.Helper == "" {
		r.t.Errorf("move %+v does not name its call", mv)
	}
	if mv.Ret < 0 && (v.Data != r.last.Data || v.Tail != r.last.Tail || v.Fields.Len != r.last.Fields.Len) {
		r.t.Errorf("%s failed with %d yet moved the data: %d..%d -> %d..%d", mv.Helper, mv.Ret, r.last.Data, r.last.Tail, v.Data, v.Tail)
	}
	if v.Expanded != r.last.Expanded && v.Moved < r.last.Moved {
		r.t.Errorf("%s made a new head that moved the contents down", mv.Helper)
	}
	r.last = v
}

func (r *skbRecorder) SkbProgramDone(v sim.SkbView, run sim.TCRun) {
	r.check("after "+run.Program, v)
	r.programs = append(r.programs, run)
}

func (r *skbRecorder) SkbEnd(v sim.SkbView, out *sim.TCOutcome) {
	r.check("end", v)
	switch {
	case out.Dropped != "":
		r.dropped++
	case !r.running:
		r.t.Error("an end without a start")
	}
	r.running = false
	r.ends++
	if out.Err == "" && !bytes.Equal(out.Data, append(append([]byte(nil), v.Head[v.Data:v.Tail]...), v.Paged...)) {
		r.t.Errorf("the outcome's packet is not the skb the observer saw last")
	}
}

// Every tc program of the corpus, alone and behind its XDP program, gives an observer views that
// hold together and a step for every helper call that resized the skb.
func TestEverySkbAnObserverSeesHoldsTogether(t *testing.T) {
	for _, p := range corpus.TCPrograms() {
		t.Run(p.Name+" alone", func(t *testing.T) {
			tc := simtest.TC(t, p)
			rec := &skbRecorder{t: t}
			tc.SetSkbObserver(rec)
			ran, programs := 0, 0
			for _, tr := range p.Traces {
				for _, pkt := range readPcap(t, corpus.TracePath(tr)) {
					out := tc.Run(pkt, &sim.SkbContext{}, sim.Conditions{})
					if out.Err == "" || out.Fault != nil {
						ran++
					}
					if out.TC != nil {
						programs += len(out.TC.Programs)
					}
				}
			}
			if rec.starts != ran || rec.ends != ran {
				t.Errorf("%d packets ran, the observer saw %d starts and %d ends", ran, rec.starts, rec.ends)
			}
			// The observer hears of every program of the chain that ran, and no other.
			if n := len(rec.programs); n != programs || n < ran {
				t.Errorf("the observer saw %d programs end, the outcomes name %d for %d packets", n, programs, ran)
			}
			t.Logf("%d packets, %d steps", ran, len(rec.moves))
		})
		if p.XDP == "" {
			continue
		}
		t.Run(p.Name+" behind "+p.XDP, func(t *testing.T) {
			x := simtest.Ingress(t, p)
			tc := x.Ingress()
			rec := &skbRecorder{t: t}
			tc.SetSkbObserver(rec)
			reached := 0
			for _, tr := range p.Traces {
				for _, pkt := range readPcap(t, corpus.TracePath(tr)) {
					if out := x.Run(pkt, nil, sim.Conditions{IngressIfindex: 1}); out.TC != nil && (len(out.TC.Programs) > 0 || out.TC.Dropped != "") {
						reached++
						if v := tc.Skb(); out.TC.Dropped == "" && v.End != sim.FrameEnd {
							t.Errorf("an skb built on the XDP frame's page ends at %d, not at the frame end %d", v.End, sim.FrameEnd)
						}
					}
				}
			}
			if rec.ends != reached || rec.starts != reached-rec.dropped {
				t.Errorf("%d packets reached tc ingress (%d dropped before it), the observer saw %d starts and %d ends", reached, rec.dropped, rec.starts, rec.ends)
			}
		})
	}
}

// The corpus's resizing programs are seen resizing: tc_resize's change_tail, change_head and
// pull_data, tc_encap's adjust_room, tc_vlan's vlan_push and pop, tc_nat64's change_proto.
func TestTheResizersOfTheCorpusAreSteps(t *testing.T) {
	for name, want := range map[string][]string{
		"tc_resize": {"bpf_skb_change_tail", "bpf_skb_change_head", "bpf_skb_pull_data"},
		"tc_encap":  {"bpf_skb_adjust_room"},
		"tc_vlan":   {"bpf_skb_vlan_push", "bpf_skb_vlan_pop"},
		"tc_nat64":  {"bpf_skb_change_proto"},
	} {
		t.Run(name, func(t *testing.T) {
			p := simtest.TCProgram(t, name)
			tc := simtest.TC(t, p)
			rec := &skbRecorder{t: t}
			tc.SetSkbObserver(rec)
			for _, tr := range p.Traces {
				for _, pkt := range readPcap(t, corpus.TracePath(tr)) {
					tc.Run(pkt, &sim.SkbContext{}, sim.Conditions{})
				}
			}
			seen := map[string]int{}
			for _, mv := range rec.moves {
				seen[mv.Helper]++
			}
			for _, h := range want {
				if seen[h] == 0 {
					t.Errorf("no %s call was seen (seen: %v)", h, seen)
				}
			}
		})
	}
}

// Without an observer, tc runs allocate nothing (TestTCRunsDoNotAllocate covers the XDP-to-tc
// path); with one that keeps nothing, the views cost no allocation either.
func TestTheSkbObserverCostsNoAllocation(t *testing.T) {
	pkts := readPcap(t, "../corpus/traces/mixed.pcap")
	tc := simtest.TC(t, simtest.TCProgram(t, "tc_resize"))
	ctx := sim.SkbContext{}
	for _, obs := range []sim.SkbObserver{nil, nopSkbObserver{}} {
		tc.SetSkbObserver(obs)
		n := 0
		for range 200 { // warm up: the head grows once
			tc.Run(pkts[n%len(pkts)], &ctx, sim.Conditions{})
			n++
		}
		if allocs := testing.AllocsPerRun(len(pkts), func() {
			tc.Run(pkts[n%len(pkts)], &ctx, sim.Conditions{})
			n++
		}); allocs != 0 {
			t.Errorf("observer %T: %v allocations per packet, want 0", obs, allocs)
		}
	}
}

type nopSkbObserver struct{}

func (nopSkbObserver) SkbStart(sim.SkbView)                  {}
func (nopSkbObserver) SkbMoved(sim.SkbView, sim.SkbMove)     {}
func (nopSkbObserver) SkbProgramDone(sim.SkbView, sim.TCRun) {}
func (nopSkbObserver) SkbEnd(sim.SkbView, *sim.TCOutcome)    {}

// BenchmarkObservers measures a packet with no observer and with one that does nothing, the cost
// of the hooks themselves: on meta_tail's frames (it moves pointers) and tc_resize's skbs (it
// resizes them).
func BenchmarkObservers(b *testing.B) {
	pkts := readPcap(b, "../corpus/traces/mixed.pcap")
	for _, c := range []struct {
		name string
		// prepare makes the program, watched or not, and returns how a packet runs through it.
		prepare func(b *testing.B, watch bool) func(pkt []byte)
	}{
		{"frame", func(b *testing.B, watch bool) func([]byte) {
			x := simtest.XDP(b, simtest.Program(b, "meta_tail"))
			if watch {
				x.SetFrameObserver(nopObserver{})
			}
			return func(pkt []byte) { x.Run(pkt, nil, sim.Conditions{IngressIfindex: 1}) }
		}},
		{"skb", func(b *testing.B, watch bool) func([]byte) {
			tc := simtest.TC(b, simtest.TCProgram(b, "tc_resize"))
			if watch {
				tc.SetSkbObserver(nopSkbObserver{})
			}
			ctx := sim.SkbContext{}
			return func(pkt []byte) { tc.Run(pkt, &ctx, sim.Conditions{}) }
		}},
	} {
		for _, watch := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/observer=%v", c.name, watch), func(b *testing.B) {
				run := c.prepare(b, watch)
				b.ReportAllocs()
				n := 0
				for b.Loop() {
					run(pkts[n%len(pkts)])
					n++
				}
			})
		}
	}
}
