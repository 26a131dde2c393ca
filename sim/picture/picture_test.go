package picture_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/picture"
	"github.com/xdpsim/xdpsim/sim/simtest"
)

// record runs packets 1..n of a trace and records packet n's run.
func record(t *testing.T, name, trace string, n int) *picture.Run {
	t.Helper()
	return recordXDP(t, simtest.XDP(t, simtest.Program(t, name)), picture.Recorder{}, trace, n)
}

// recordXDP runs packets 1..n of a trace through x (and the tc programs behind it, if any) and
// records packet n's run with rec, which must reach its end (tc's, with tc programs).
func recordXDP(t *testing.T, x *sim.XDP, rec picture.Recorder, trace string, n int) *picture.Run {
	t.Helper()
	for i, r := range simtest.Records(t, corpus.TracePath(trace), n) {
		if i == n-1 {
			rec.Watch(x, x.Ingress())
		}
		x.Run(r.Data, nil, sim.Conditions{IngressIfindex: 1})
	}
	switch {
	case rec.Run == nil || rec.Run.XDP == nil || !rec.Run.XDP.Done:
		t.Fatalf("packet %d of %s did not run", n, trace)
	case x.Ingress() != nil && (rec.Run.Skb == nil || !rec.Run.Skb.Done):
		t.Fatalf("packet %d of %s did not reach tc ingress", n, trace)
	}
	return rec.Run
}

// checkTiling checks that a picture's page areas cover the page without gaps or overlaps, that the
// pointers sit where the areas say, and that the fragments are all drawn.
func checkTiling(t *testing.T, what string, s picture.Snapshot) {
	t.Helper()
	at := 0
	var layers, frags int
	for _, a := range s.Areas() {
		if a.Frag > 0 {
			if a.Len() != len(s.Frags[a.Frag-1]) {
				t.Errorf("%s: %s is drawn %d bytes long, holds %d", what, a.Name, a.Len(), len(s.Frags[a.Frag-1]))
			}
			frags++
			continue
		}
		if a.Start != at {
			t.Errorf("%s: %s starts at %d, the area before ends at %d", what, a.Name, a.Start, at)
		}
		if a.Kind == picture.KindLayer {
			if a.Start < int(s.Data) || a.End > int(s.DataEnd) {
				t.Errorf("%s: layer %s at %d-%d lies outside data %d..data_end %d", what, a.Name, a.Start, a.End, s.Data, s.DataEnd)
			}
			layers += a.Len()
		}
		if a.Kind == picture.KindMeta && (a.Start != int(s.DataMeta) || a.End != int(s.Data)) {
			t.Errorf("%s: metadata drawn at %d-%d, data_meta %d, data %d", what, a.Start, a.End, s.DataMeta, s.Data)
		}
		at = a.End
	}
	if at != len(s.Page) {
		t.Errorf("%s: the areas end at %d, not at the page end %d", what, at, len(s.Page))
	}
	if layers != int(s.DataEnd-s.Data) {
		t.Errorf("%s: the layers cover %d bytes, the linear packet is %d", what, layers, s.DataEnd-s.Data)
	}
	if frags != len(s.Frags) {
		t.Errorf("%s: %d fragments drawn, %d held", what, frags, len(s.Frags))
	}
	prev := -1
	for _, p := range s.Pointers() {
		if p.Off < prev {
			t.Errorf("%s: %s at %d comes before the pointer ahead of it at %d", what, p.Name, p.Off, prev)
		}
		prev = p.Off
	}
}

func TestEveryCorpusProgramsFramesAreDrawnWhole(t *testing.T) {
	for _, p := range corpus.Programs() {
		t.Run(p.Name+" over its first trace draws every frame whole", func(t *testing.T) {
			x := simtest.XDP(t, p)
			var rec picture.Recorder
			x.SetFrameObserver(&rec)
			for i, r := range simtest.Records(t, corpus.TracePath(p.Traces[0]), 60) {
				rec.Run = nil
				x.Run(r.Data, nil, sim.Conditions{IngressIfindex: 1})
				if rec.Run == nil {
					continue // refused, as the kernel refuses it
				}
				checkTiling(t, "before", rec.Run.XDP.Before)
				checkTiling(t, "after", rec.Run.XDP.After)
				var text, page bytes.Buffer
				if err := rec.Run.Text(&text, picture.TextOptions{Hex: true}); err != nil {
					t.Fatal(err)
				}
				if err := rec.Run.HTML(&page); err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(text.String(), "<- data_hard_start") || !strings.Contains(page.String(), "</svg>") {
					t.Fatalf("packet %d: the pictures lack their parts", i+1)
				}
			}
		})
	}
}

func TestAHeaderPushedWithAdjustHeadIsAStep(t *testing.T) {
	// Packet 7 of mixed.pcap is TCP from 10.0.0.16 to 198.51.100.216, which encap.c wraps in an
	// outer IPv4 header (IPIP) and sends back out.
	r := record(t, "encap", "mixed.pcap", 7)
	if len(r.XDP.Steps) != 1 {
		t.Fatalf("%d steps, want the one adjust_head", len(r.XDP.Steps))
	}
	st := r.XDP.Steps[0]
	if st.Move.Helper != "bpf_xdp_adjust_head" || st.Move.Offset != -20 || st.Move.Ret != 0 {
		t.Errorf("step %+v, want bpf_xdp_adjust_head(ctx, -20) = 0", st.Move)
	}
	if !strings.HasPrefix(st.Line, "encap.c:") {
		t.Errorf("the step's source line is %q", st.Line)
	}
	if r.XDP.Before.Data != sim.Headroom || r.XDP.After.Data != sim.Headroom-20 || r.XDP.After.DataEnd != r.XDP.Before.DataEnd {
		t.Errorf("data %d -> %d, data_end %d -> %d; want data 256 -> 236 and data_end kept", r.XDP.Before.Data, r.XDP.After.Data, r.XDP.Before.DataEnd, r.XDP.After.DataEnd)
	}
	var names []string
	for _, a := range r.XDP.After.Areas() {
		if a.Kind == picture.KindLayer {
			names = append(names, a.Name)
		}
	}
	if got := strings.Join(names, " "); !strings.HasPrefix(got, "Ethernet IPv4 IPv4 TCP") {
		t.Errorf("layers after the push: %s; want Ethernet, the outer IPv4, the inner IPv4, TCP", got)
	}
	for _, w := range picture.Writes(r.XDP.Before, r.XDP.After) {
		if w.Area.Name != "Ethernet" && w.Area.Name != "IPv4" {
			t.Errorf("bytes changed in %s, which encapsulation does not touch", w.Area.Name)
		}
		if w.Area.Start >= sim.Headroom+14 {
			t.Errorf("bytes changed at %d, inside the inner packet", w.Start)
		}
	}
	var text bytes.Buffer
	if err := r.Text(&text, picture.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"step 1: bpf_xdp_adjust_head(ctx, -20) = 0: data_meta 256 -> 236, data 256 -> 236",
		"   236 ├──────────────────────────────┤ <- data_meta, data",
		"  3776 ├──────────────────────────────┤ <- frame end (data_hard_end)",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the text lacks %q:\n%s", want, text.String())
		}
	}
}

func TestMetadataAndTailMovesAreSteps(t *testing.T) {
	// meta_tail.c puts 8 bytes of metadata in front of every IPv4 frame it passes.
	r := record(t, "meta_tail", "mixed.pcap", 1)
	if r.XDP.After.Data-r.XDP.After.DataMeta != 8 {
		t.Fatalf("metadata after the run: %d bytes, want 8", r.XDP.After.Data-r.XDP.After.DataMeta)
	}
	found := false
	for _, a := range r.XDP.After.Areas() {
		if a.Kind == picture.KindMeta && a.Start == sim.Headroom-8 && a.Len() == 8 {
			found = true
		}
	}
	if !found {
		t.Error("no 8-byte metadata area right below data")
	}
	if len(r.XDP.Steps) == 0 || r.XDP.Steps[len(r.XDP.Steps)-1].Move.Helper != "bpf_xdp_adjust_meta" {
		t.Errorf("steps %+v, want adjust_meta last", r.XDP.Steps)
	}
}

func TestFragmentsAreDrawnAfterThePage(t *testing.T) {
	// Packet 3 of jumbo.pcap is an 8,279-byte frame: 3,520 bytes in the page, the rest in two
	// fragments (BPF_PROG_TEST_RUN's split).
	r := record(t, "frags", "jumbo.pcap", 3)
	if got := len(r.XDP.Before.Frags); got != 2 || r.XDP.Before.DataEnd != sim.FrameEnd {
		t.Fatalf("%d fragments and data_end %d, want 2 and the frame end %d", got, r.XDP.Before.DataEnd, sim.FrameEnd)
	}
	var text bytes.Buffer
	r.Text(&text, picture.TextOptions{})
	for _, want := range []string{"fragment 1, 4096 B: packet bytes 3520-7615", "data_end (data+3520), frame end (data_hard_end)", "2 fragments"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the text lacks %q", want)
		}
	}
}
