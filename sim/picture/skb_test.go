package picture_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/picture"
	"github.com/xdpsim/xdpsim/sim/simtest"
)

// recordTC runs packets 1..n of a trace through corpus tc program name alone and records packet
// n's run.
func recordTC(t *testing.T, name, trace string, n int) *picture.Run {
	t.Helper()
	tc := simtest.TC(t, simtest.TCProgram(t, name))
	rec := picture.Recorder{Title: fmt.Sprintf("packet %d", n)}
	for i, r := range simtest.Records(t, corpus.TracePath(trace), n) {
		if i == n-1 {
			tc.SetSkbObserver(&rec)
		}
		tc.Run(r.Data, &sim.SkbContext{}, sim.Conditions{})
	}
	if rec.Run == nil || rec.Run.Skb == nil || !rec.Run.Skb.Done {
		t.Fatalf("%s: packet %d of %s did not run", name, n, trace)
	}
	return rec.Run
}

// recordIngress runs packets 1..n of a trace through corpus tc program name behind its XDP
// program, and records packet n's run.
func recordIngress(t *testing.T, name, trace string, n int) *picture.Run {
	t.Helper()
	return recordXDP(t, simtest.Ingress(t, simtest.TCProgram(t, name)), picture.Recorder{Title: fmt.Sprintf("packet %d", n)}, trace, n)
}

// recordSet runs packets 1..n of a trace through a corpus dispatcher set and records packet n's
// run.
func recordSet(t *testing.T, name, trace string, n int) *picture.Run {
	t.Helper()
	set, ok := corpus.LookupDispatcher(name)
	if !ok {
		t.Fatalf("no dispatcher set %s", name)
	}
	return recordXDP(t, simtest.Dispatcher(t, set), picture.Recorder{Title: fmt.Sprintf("packet %d", n), XDPWho: picture.DispatcherWho}, trace, n)
}

// checkStage checks every picture of a stage and that its text and page have their parts.
func checkStage(t *testing.T, what string, st *picture.Stage) {
	t.Helper()
	checkTiling(t, what+" before", st.Before)
	for i, s := range st.Steps {
		checkTiling(t, fmt.Sprintf("%s step %d", what, i+1), s.Frame)
	}
	if st.Done {
		checkTiling(t, what+" after", st.After)
	}
}

func draw(t *testing.T, r *picture.Run) (string, string) {
	t.Helper()
	var text, page bytes.Buffer
	if err := r.Text(&text, picture.TextOptions{Hex: true}); err != nil {
		t.Fatal(err)
	}
	if err := r.HTML(&page); err != nil {
		t.Fatal(err)
	}
	return text.String(), page.String()
}

// Every tc program of the corpus, alone and behind its XDP program, has its skb drawn whole, with
// the head, end and skb_shared_info where the simulator's skb has them.
func TestEveryTCProgramsSkbIsDrawnWhole(t *testing.T) {
	for _, p := range corpus.TCPrograms() {
		t.Run(p.Name+" alone draws every skb whole", func(t *testing.T) {
			tc := simtest.TC(t, p)
			var rec picture.Recorder
			tc.SetSkbObserver(&rec)
			drawn := 0
			for _, tr := range p.Traces {
				for _, r := range simtest.Records(t, corpus.TracePath(tr), 40) {
					rec.Reset()
					out := tc.Run(r.Data, &sim.SkbContext{}, sim.Conditions{})
					if rec.Run == nil {
						if out.Err == "" {
							t.Fatalf("a packet ran and was not recorded")
						}
						continue // refused, as the kernel refuses it
					}
					st := rec.Run.Skb
					checkStage(t, "skb", st)
					if v := tc.Skb(); st.After.Skb.End != v.End || int(st.After.Data) != v.Data || int(st.After.DataEnd) != v.Tail {
						t.Errorf("the picture after has data %d, tail %d, end %d; the skb %d, %d, %d", st.After.Data, st.After.DataEnd, st.After.Skb.End, v.Data, v.Tail, v.End)
					}
					text, page := draw(t, rec.Run)
					for _, want := range []string{"<- head (skb->head)", "<- end (skb->end)", "skb_shared_info", "skb: len "} {
						if !strings.Contains(text, want) {
							t.Fatalf("the text lacks %q:\n%s", want, text)
						}
					}
					if !strings.Contains(page, `aria-label="the sk_buff"`) {
						t.Fatal("the page draws no sk_buff")
					}
					drawn++
				}
			}
			if drawn == 0 {
				t.Fatal("no packet ran")
			}
		})
		if p.XDP == "" {
			continue
		}
		t.Run(p.Name+" behind "+p.XDP+" draws the frame, then the skb built from it", func(t *testing.T) {
			x := simtest.Ingress(t, p)
			var rec picture.Recorder
			x.SetFrameObserver(&rec)
			x.Ingress().SetSkbObserver(&rec)
			for _, r := range simtest.Records(t, corpus.TracePath(p.Traces[0]), 60) {
				rec.Reset()
				out := x.Run(r.Data, nil, sim.Conditions{IngressIfindex: 1})
				if rec.Run == nil {
					continue
				}
				checkStage(t, "frame", rec.Run.XDP)
				if out.Ret != 2 || rec.Run.Skb == nil {
					continue
				}
				st := rec.Run.Skb
				checkStage(t, "skb", st)
				b, xa := st.Before, rec.Run.XDP.After
				if !b.Skb.FromXDP || b.Skb.End != sim.FrameEnd || !bytes.Equal(b.Meta(), xa.Meta()) || !bytes.Equal(b.Packet(), xa.Packet()) && out.TC.Dropped == "" && st.Before.Skb.Fields.VlanTCI == 0 {
					t.Errorf("the skb does not start as the XDP frame ended: end %d, metadata %x / %x", b.Skb.End, b.Meta(), xa.Meta())
				}
				text, _ := draw(t, rec.Run)
				if !strings.Contains(text, "the sk_buff the stack builds from the frame") {
					t.Fatalf("the text does not go on to the skb:\n%s", text)
				}
			}
		})
	}
}

// Every dispatcher set of the corpus has its frame drawn after each slot that ran.
func TestEveryDispatcherSetsFrameIsDrawnAfterEachSlot(t *testing.T) {
	for _, set := range corpus.Dispatchers() {
		t.Run(set.Name, func(t *testing.T) {
			x := simtest.Dispatcher(t, set)
			var rec picture.Recorder
			rec.XDPWho = picture.DispatcherWho
			x.SetFrameObserver(&rec)
			for _, r := range simtest.Records(t, corpus.TracePath(set.Traces[0]), 40) {
				rec.Reset()
				out := x.Run(r.Data, nil, sim.Conditions{IngressIfindex: 1})
				if rec.Run == nil {
					continue
				}
				st := rec.Run.XDP
				checkStage(t, "frame", st)
				var ended []*picture.Ended
				for _, s := range st.Steps {
					if s.Ended != nil {
						ended = append(ended, s.Ended)
					}
				}
				if out.Fault == nil && len(ended) != len(out.Dispatch) {
					t.Fatalf("%d slots ran, %d drawn", len(out.Dispatch), len(ended))
				}
				for i, e := range ended {
					if d := out.Dispatch[i]; e.Slot != d.Slot || e.Program != d.Program || e.Ret != d.Ret || e.Continued != d.Continued {
						t.Errorf("slot %d drawn as %+v, ran as %+v", i, *e, d)
					}
				}
				text, _ := draw(t, rec.Run)
				if !strings.Contains(text, "before the dispatcher ran:") || len(ended) > 0 && !strings.Contains(text, "slot 0: ") {
					t.Fatalf("the text lacks the slots:\n%s", text)
				}
			}
		})
	}
}

// A head the kernel reallocates is a step that says so, and the bytes that moved with it do not
// count as changed: skb_change_head(200) on a 376-byte packet needs 136 bytes more than the 64
// of headroom, so pskb_expand_head adds 192 in front and the 1024-byte head becomes 2048 bytes
// (measured: kernel/skb_layout_test.go).
func TestAHeadTheKernelReallocatesIsAStep(t *testing.T) {
	insns := asm.Instructions{
		asm.Mov.Imm(asm.R2, 200), asm.Mov.Imm(asm.R3, 0), asm.FnSkbChangeHead.Call(),
		asm.Mov.Imm(asm.R0, 0), asm.Return(),
	}
	spec := &ebpf.CollectionSpec{Programs: map[string]*ebpf.ProgramSpec{
		"grow": {Name: "grow", Type: ebpf.SchedCLS, License: "GPL", Instructions: insns}}}
	o, err := sim.LoadSpec("grow", spec, sim.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := o.FindProgram("grow")
	tc, err := sim.NewTC(p)
	if err != nil {
		t.Fatal(err)
	}
	var rec picture.Recorder
	rec.SkbWho = "grow"
	tc.SetSkbObserver(&rec)
	pkt := simtest.Records(t, corpus.TracePath("mixed.pcap"), 1)[0].Data // 376 bytes
	if out := tc.Run(pkt, &sim.SkbContext{}, sim.Conditions{}); out.Err != "" {
		t.Fatal(out.Err)
	}
	st := rec.Run.Skb
	checkStage(t, "skb", st)
	if len(st.Steps) != 2 || st.Steps[0].SkbMove == nil || st.Steps[1].Ended == nil {
		t.Fatalf("%d steps, want the change_head and the program's end", len(st.Steps))
	}
	want := "bpf_skb_change_head(skb, 200, 0x0) = 0: the kernel gave the skb a new head (pskb_expand_head): end 704 -> 1728, the contents 192 bytes further up, mac_header 64 -> 56, data 64 -> 56, network_header 78 -> 270, data_end 440 -> 632, len 376 -> 576"
	if got := st.Steps[0].Describe(st.Before); got != want {
		t.Errorf("the step says\n %s\nwant\n %s", got, want)
	}
	for _, w := range picture.Writes(st.Before, st.After) {
		if w.Start >= 256 {
			t.Errorf("bytes %d-%d count as changed: they are the packet, moved up with the head", w.Start, w.End)
		}
	}
	text, _ := draw(t, rec.Run)
	for _, line := range []string{
		"  1728 ├──────────────────────────────┤ <- end (skb->end)",
		"  2048 └──────────────────────────────┘ <- end of skb_shared_info",
		"    56 ├──────────────────────────────┤ <- mac_header, data",
	} {
		if !strings.Contains(text, line) {
			t.Errorf("the text lacks %q:\n%s", line, text)
		}
	}
}

// The helpers that resize an skb are steps that say what moved: skb_adjust_room's room behind the
// MAC header (tc_encap), the tag skb_vlan_push puts beside the packet (tc_vlan), skb_change_proto's
// new network header (tc_nat64).
func TestTheCorpusResizersSayWhatMoved(t *testing.T) {
	for _, c := range []struct {
		program, helper, want string
	}{
		{"tc_encap", "bpf_skb_adjust_room", "data 64 -> "},
		{"tc_vlan", "bpf_skb_vlan_", "the tag beside the packet "},
		{"tc_nat64", "bpf_skb_change_proto", "protocol 0x0800 (IPv4) -> 0x86dd (IPv6)"},
	} {
		t.Run(c.program, func(t *testing.T) {
			p := simtest.TCProgram(t, c.program)
			tc := simtest.TC(t, p)
			var rec picture.Recorder
			tc.SetSkbObserver(&rec)
			for _, tr := range p.Traces {
				for _, r := range simtest.Records(t, corpus.TracePath(tr), -1) {
					rec.Reset()
					tc.Run(r.Data, &sim.SkbContext{}, sim.Conditions{})
					if rec.Run == nil {
						continue
					}
					st := rec.Run.Skb
					prev := st.Before
					for _, s := range st.Steps {
						if d := s.Describe(prev); s.SkbMove != nil && strings.HasPrefix(d, c.helper) && strings.Contains(d, ") = 0: ") && strings.Contains(d, c.want) {
							checkStage(t, "skb", st)
							return
						}
						prev = s.Frame
					}
				}
			}
			t.Errorf("no %s step says %q", c.helper, c.want)
		})
	}
}

// The skb at tc ingress is built on the XDP frame's page: head at data_hard_start, the metadata
// the XDP program wrote in front of the MAC header, end at the frame end.
func TestTheSkbAtTCIngressIsBuiltOnTheFrame(t *testing.T) {
	r := recordIngress(t, "tc_meta", "mixed.pcap", 1)
	xa, sb := r.XDP.After, r.Skb.Before
	if len(xa.Meta()) != 8 || !bytes.Equal(sb.Meta(), xa.Meta()) || sb.DataMeta != xa.DataMeta || sb.Data != xa.Data {
		t.Errorf("metadata %x at %d..%d in the frame, %x at %d..%d in the skb", xa.Meta(), xa.DataMeta, xa.Data, sb.Meta(), sb.DataMeta, sb.Data)
	}
	if sb.Skb.End != sim.FrameEnd || sb.Skb.Mac != int(sb.Data) || sb.Skb.Network != int(sb.Data)+14 {
		t.Errorf("end %d, MAC header %d, network header %d; want %d, %d, %d", sb.Skb.End, sb.Skb.Mac, sb.Skb.Network, sim.FrameEnd, sb.Data, sb.Data+14)
	}
	text, _ := draw(t, r)
	for _, want := range []string{
		"then at tc ingress (tc_meta_reader): TC_ACT_OK (0), pass",
		"the sk_buff the stack builds from the frame, as tc_meta_reader gets it at tc ingress:",
		"   248 ├──────────────────────────────┤ <- data_meta (data-8)",
		"   256 ├──────────────────────────────┤ <- mac_header, data",
		"skb: len 376, protocol 0x0800 (IPv4), pkt_type 3 (PACKET_OTHERHOST), queue_mapping 1",
		"mark 0xc1a55001",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the text lacks %q", want)
		}
	}
}

// A dispatcher's slots share the frame: the metadata xdp_meta writes in its slot is in the frame
// drawn after it.
func TestADispatchersFrameAfterASlotShowsWhatItDid(t *testing.T) {
	r := recordSet(t, "meta", "vlan.pcap", 1)
	var after []picture.Step
	for _, s := range r.XDP.Steps {
		if s.Ended != nil {
			after = append(after, s)
		}
	}
	if len(after) != 3 {
		t.Fatalf("%d slots drawn, want 3", len(after))
	}
	for i, s := range after {
		meta := len(s.Frame.Meta())
		if want := map[bool]int{true: 8, false: 0}[i >= 1]; meta != want {
			t.Errorf("after slot %d (%s): %d bytes of metadata, want %d", i, s.Ended.Program, meta, want)
		}
	}
	text, _ := draw(t, r)
	if !strings.Contains(text, "step 3: slot 1: xdp_meta returned XDP_PASS (2): one of its chain-call actions, the dispatcher goes on\n        the frame after it:\n") {
		t.Errorf("the frame after slot 1 is not drawn:\n%s", text)
	}
}
