package sim_test

import (
	"testing"

	"github.com/xdpsim/xdpsim/sim"
)

// recorder keeps the pointers of every view an observer gets.
type recorder struct {
	t       *testing.T
	starts  int
	ends    int
	moves   []sim.FrameMove
	last    sim.FrameView
	checked int
}

func (r *recorder) FrameStart(f sim.FrameView) {
	r.starts++
	if f.Data != sim.Headroom || f.DataMeta != f.Data || len(f.Page) != sim.FrameSize {
		r.t.Errorf("packet %d starts with data_meta %d, data %d, a page of %d bytes; want %d, %d, %d", r.starts, f.DataMeta, f.Data, len(f.Page), sim.Headroom, sim.Headroom, sim.FrameSize)
	}
	r.last = f
}

// FrameMoved checks each move against the helper's documented effect on the view before it.
func (r *recorder) FrameMoved(f sim.FrameView, mv sim.FrameMove) {
	r.moves = append(r.moves, mv)
	prev := r.last
	r.last = f
	if mv.Program == nil || mv.PC < 0 || mv.PC >= mv.Program.Len() {
		r.t.Errorf("move %+v does not name its call instruction", mv)
	}
	if mv.Ret != 0 {
		if f.Data != prev.Data || f.DataEnd != prev.DataEnd || f.DataMeta != prev.DataMeta {
			r.t.Errorf("%s(%d) failed with %d yet moved a pointer: %+v -> %+v", mv.Helper, mv.Offset, mv.Ret, prev, f)
		}
		return
	}
	d := uint32(int64(mv.Offset))
	switch mv.Helper {
	case "bpf_xdp_adjust_head":
		if f.Data != prev.Data+d || f.DataEnd != prev.DataEnd || f.Data-f.DataMeta != prev.Data-prev.DataMeta {
			r.t.Errorf("adjust_head(%d): data %d -> %d, data_end %d -> %d", mv.Offset, prev.Data, f.Data, prev.DataEnd, f.DataEnd)
		}
	case "bpf_xdp_adjust_meta":
		if f.DataMeta != prev.DataMeta+d || f.Data != prev.Data {
			r.t.Errorf("adjust_meta(%d): data_meta %d -> %d", mv.Offset, prev.DataMeta, f.DataMeta)
		}
	case "bpf_xdp_adjust_tail":
		if len(f.Frags) == 0 && len(prev.Frags) == 0 && f.DataEnd != prev.DataEnd+d {
			r.t.Errorf("adjust_tail(%d): data_end %d -> %d", mv.Offset, prev.DataEnd, f.DataEnd)
		}
	default:
		r.t.Errorf("unexpected helper %q", mv.Helper)
	}
	r.checked++
}

func (r *recorder) FrameEnd(f sim.FrameView, out *sim.Outcome) {
	r.ends++
	if out.Fault == nil && len(f.Frags) == 0 && int(f.DataEnd-f.Data) != len(out.Data) {
		r.t.Errorf("the end view's data is %d bytes, the outcome's %d", f.DataEnd-f.Data, len(out.Data))
	}
}

func TestFrameObserverSeesEveryPointerMove(t *testing.T) {
	tests := []struct {
		name, object, trace string
		helpers             []string
	}{
		{"meta_tail's tail trims and metadata appear as moves", "../corpus/meta_tail.v4.o", "../corpus/traces/mixed.pcap", []string{"bpf_xdp_adjust_tail", "bpf_xdp_adjust_meta"}},
		{"encap's pushed and pulled headers appear as moves", "../corpus/encap.v4.o", "../corpus/traces/mixed.pcap", []string{"bpf_xdp_adjust_head"}},
		{"frags' tail changes across fragments appear as moves", "../corpus/frags.v4.o", "../corpus/traces/jumbo.pcap", []string{"bpf_xdp_adjust_tail"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj, err := sim.Load(tt.object, sim.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			prog, err := obj.FindProgram("")
			if err != nil {
				t.Fatal(err)
			}
			x, err := sim.NewXDP(prog)
			if err != nil {
				t.Fatal(err)
			}
			r := &recorder{t: t}
			x.SetFrameObserver(r)
			ran := 0
			for _, pkt := range readPcap(t, tt.trace) {
				if o := x.Run(pkt, nil, sim.Conditions{IngressIfindex: 1}); o.Err == "" || o.Fault != nil {
					ran++
				}
			}
			if r.starts != ran || r.ends != ran {
				t.Errorf("%d packets ran; the observer saw %d starts and %d ends", ran, r.starts, r.ends)
			}
			seen := map[string]bool{}
			for _, mv := range r.moves {
				seen[mv.Helper] = true
			}
			for _, h := range tt.helpers {
				if !seen[h] {
					t.Errorf("no %s call was observed", h)
				}
			}
			if r.checked == 0 {
				t.Error("no successful move was checked")
			}
		})
	}
}

func TestNoObserverMeansNoAllocation(t *testing.T) {
	obj, err := sim.Load("../corpus/meta_tail.v4.o", sim.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	prog, _ := obj.FindProgram("")
	x, _ := sim.NewXDP(prog)
	pkts := readPcap(t, "../corpus/traces/mixed.pcap")
	for _, p := range pkts {
		x.Run(p, nil, sim.Conditions{IngressIfindex: 1})
	}
	i := 0
	allocs := testing.AllocsPerRun(len(pkts), func() {
		x.Run(pkts[i%len(pkts)], nil, sim.Conditions{IngressIfindex: 1})
		i++
	})
	if allocs != 0 {
		t.Errorf("a packet through a pointer-moving program allocates %.2f times without an observer", allocs)
	}
}

type nopObserver struct{}

func (nopObserver) FrameStart(sim.FrameView)                {}
func (nopObserver) FrameMoved(sim.FrameView, sim.FrameMove) {}
func (nopObserver) FrameEnd(sim.FrameView, *sim.Outcome)    {}
