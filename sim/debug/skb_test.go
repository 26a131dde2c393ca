package debug_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/debug"
	"github.com/xdpsim/xdpsim/sim/result"
	"github.com/xdpsim/xdpsim/sim/simtest"
)

// verdictOf is how the debugger ends a packet's line, from a plain run's outcome.
func verdictOf(o sim.Outcome) string {
	switch {
	case o.Err != "" && (o.TC == nil || o.Packet.Type == result.TypeTC):
		return "error"
	case o.Packet.Type == result.TypeTC:
		return fmt.Sprintf("%s (%d)", result.TCVerdictName(o.Ret), int32(o.Ret))
	}
	return fmt.Sprintf("%s (%d)", result.VerdictName(o.Ret), o.Ret)
}

// stepThrough runs every packet under the debugger a few instructions at a time, looking at
// everything on the way, and checks each ends as the plain run ended.
func stepThrough(t *testing.T, s session, want []string) {
	t.Helper()
	for i := range want {
		first := s.do("next 5")
		if !strings.Contains(first, fmt.Sprintf("packet %d", i+1)) {
			t.Fatalf("packet %d: %s", i+1, first)
		}
		running := !strings.Contains(first, "ended")
		for _, cmd := range []string{"regs", "stack", "bt", "list", "frame", "maps"} {
			out := s.do(cmd)
			if running && strings.Contains(out, "no packet is running") || strings.Contains(out, "no sk_buff") || strings.Contains(out, "no frame") {
				t.Errorf("packet %d: %s: %s", i+1, cmd, out)
			}
		}
		end := first
		for n := 0; running && !strings.Contains(end, "ended") && n < 100; n++ {
			end = s.do("continue")
		}
		if want[i] == "error" {
			if strings.Contains(end, "_ACT_") || strings.Contains(end, "XDP_") {
				t.Errorf("packet %d: the plain run was refused, the debugger says %s", i+1, end)
			}
			continue
		}
		if !strings.Contains(end, fmt.Sprintf("packet %d ended: %s", i+1, want[i])) {
			t.Errorf("packet %d: plain run %s, debugger: %s", i+1, want[i], end)
		}
	}
	if out := s.do("step"); !strings.Contains(out, "every packet has run") {
		t.Errorf("after the last packet: %s", out)
	}
}

// Every tc program of the corpus, alone and behind its XDP program, runs under the debugger as it
// runs plainly, and every view works on the way.
func TestEveryTCProgramRunsTheSameUnderTheDebugger(t *testing.T) {
	for _, p := range corpus.TCPrograms() {
		t.Run(p.Name+" alone gives the same verdicts stepped and plain", func(t *testing.T) {
			pkts := packets(t, p.Traces[0], 4)
			plain := simtest.TC(t, p)
			var want []string
			for _, pk := range pkts {
				want = append(want, verdictOf(plain.Run(pk.Data, &sim.SkbContext{Ifindex: 1}, pk.Cond)))
			}
			tc := simtest.TC(t, p)
			stepThrough(t, session{t, debug.NewTC(tc, debug.ListTC(tc, pkts))}, want)
		})
		if p.XDP == "" {
			continue
		}
		t.Run(p.Name+" behind "+p.XDP+" gives the same verdicts stepped and plain", func(t *testing.T) {
			pkts := packets(t, p.Traces[0], 4)
			plain := simtest.Ingress(t, p)
			var want []string
			for _, pk := range pkts {
				want = append(want, verdictOf(plain.Run(pk.Data, nil, pk.Cond)))
			}
			x := simtest.Ingress(t, p)
			stepThrough(t, session{t, debug.New(x, debug.List(x, pkts))}, want)
		})
	}
}

// Every dispatcher set of the corpus runs under the debugger as it runs plainly.
func TestEveryDispatcherSetRunsTheSameUnderTheDebugger(t *testing.T) {
	for _, set := range corpus.Dispatchers() {
		t.Run(set.Name+" gives the same verdicts stepped and plain", func(t *testing.T) {
			pkts := packets(t, set.Traces[0], 4)
			plain := simtest.Dispatcher(t, set)
			var want []string
			for _, pk := range pkts {
				want = append(want, verdictOf(plain.Run(pk.Data, nil, pk.Cond)))
			}
			x := simtest.Dispatcher(t, set)
			stepThrough(t, session{t, debug.New(x, debug.List(x, pkts))}, want)
		})
	}
}

// A tc program's registers say what they point to in the skb: the __sk_buff, the packet from
// data, data_end and data_meta, with their offsets from the skb's head.
func TestSkbRegistersAreTyped(t *testing.T) {
	p := simtest.TCProgram(t, "tc_meta")
	x := simtest.Ingress(t, p)
	s := session{t, debug.New(x, debug.List(x, packets(t, "mixed.pcap", 2)))}
	s.want("break tc_meta.c:124", "breakpoint 1 at instruction", "of tc ingress tc_meta_reader (tc_meta.c:124:")
	s.want("continue", "breakpoint: ", "packet 1, tc ingress tc_meta_reader ")
	s.want("regs",
		"pkt_meta (data-8, head offset 248)",
		"pkt(data+0) (head offset 256)",
		"ctx+0 (struct __sk_buff)",
		"fp0 (the frame pointer)")
	s.want("frame", "the sk_buff now:", "   248 ├──────────────────────────────┤ <- data_meta (data-8)", "skb: len 376")
	s.want("bt", "#0 tc ingress tc_meta_reader")
	s.want("continue", "breakpoint: ")
	s.want("continue", "packet 1 ended: XDP_PASS (2), then at tc ingress: TC_ACT_OK (0), pass")

	// Alone, after it loaded data_end: pkt_end, as the verifier calls it.
	tc := simtest.TC(t, simtest.TCProgram(t, "tc_resize"))
	s = session{t, debug.NewTC(tc, debug.ListTC(tc, packets(t, "mixed.pcap", 1)))}
	s.want("step 3", "packet 1, tc_resize 3:")
	s.want("regs", "pkt_end (data+376, head offset 440)", "ctx+0 (struct __sk_buff)")
	s.want("print r2", "pkt_end")
}

// In a dispatcher, breakpoints go into a slot's program by name, by slot or by C line, and the
// debugger says which slot runs.
func TestBreakInASlotSaysWhichSlotRuns(t *testing.T) {
	set, _ := corpus.LookupDispatcher("pipeline")
	x := simtest.Dispatcher(t, set)
	s := session{t, debug.New(x, debug.List(x, packets(t, "mixed.pcap", 3)))}
	s.want("info", "no packet has started")
	s.want("break slot1:0", "breakpoint 1 at instruction 0 of slot 1 xdp_fw")
	s.want("break xdp_echo:0", "breakpoint 2 at instruction 0 of slot 2 xdp_echo")
	s.want("continue", "breakpoint: ", "packet 1, slot 1 xdp_fw 0:")
	s.want("regs", "ctx+0 (struct xdp_md)")
	s.want("continue", "packet 1, slot 2 xdp_echo 0:")
	s.want("delete", "every breakpoint removed")
	s.want("continue", "packet 1 ended: XDP_PASS (2) (every slot went on)")
	s.want("break disp_mon.c:28", "of slot 0 xdp_mon (disp_mon.c:28:")
	s.want("continue", "packet 2, slot 0 xdp_mon ")
}
