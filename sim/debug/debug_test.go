package debug_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/debug"
	"github.com/xdpsim/xdpsim/sim/result"
	"github.com/xdpsim/xdpsim/sim/simtest"
)

func packets(t *testing.T, trace string, n int) []debug.Packet {
	t.Helper()
	var out []debug.Packet
	for i, r := range simtest.Records(t, corpus.TracePath(trace), n) {
		out = append(out, debug.Packet{Data: r.Data, Cond: sim.Conditions{IngressIfindex: 1, TimeNs: uint64(r.Time.UnixNano())},
			Label: fmt.Sprintf("%s record %d", trace, i+1)})
	}
	return out
}

func newXDP(t *testing.T, p corpus.Program) *sim.XDP { return simtest.XDP(t, p) }

func newDebuggerOf(t *testing.T, p corpus.Program, trace string, n int) *debug.Debugger {
	x := newXDP(t, p)
	return debug.New(x, debug.List(x, packets(t, trace, n)))
}

func newDebugger(t *testing.T, name, trace string, n int) *debug.Debugger {
	return newDebuggerOf(t, program(t, name), trace, n)
}

func program(t *testing.T, name string) corpus.Program { return simtest.Program(t, name) }

// session runs commands and returns what each printed.
type session struct {
	t *testing.T
	d *debug.Debugger
}

func (s session) do(line string) string {
	var b bytes.Buffer
	if s.d.Command(&b, line) {
		s.t.Fatalf("%q quit", line)
	}
	return b.String()
}

func (s session) want(line string, wants ...string) string {
	s.t.Helper()
	out := s.do(line)
	for _, w := range wants {
		if !strings.Contains(out, w) {
			s.t.Errorf("%q printed no %q:\n%s", line, w, out)
		}
	}
	return out
}

func TestRegistersAreTypedByTheRegionTheyPointInto(t *testing.T) {
	s := session{t, newDebugger(t, "encap", "mixed.pcap", 10)}
	// encap.c's first instructions load ctx->data_end and ctx->data: packet 1 is 376 bytes.
	s.want("step 3", "packet 1, xdp_encap 3:")
	s.want("regs",
		"r1  0x", "ctx+0 (struct xdp_md)",
		"pkt_end (data+376, page offset 632)",
		"pkt(data+0) (page offset 256)",
		"r10 0x", "fp0 (the frame pointer)")
	s.want("print r3", "bytes there: 02 00 00 00 00 01")
}

func TestBreakAtACLineThenStepOverTheHelperMovesTheFrame(t *testing.T) {
	s := session{t, newDebugger(t, "encap", "mixed.pcap", 10)}
	out := s.want("break encap.c:75", "breakpoint 1 at instruction", "encap.c:75:")
	if strings.Count(out, "breakpoint") != 1 {
		t.Errorf("one C line gave several breakpoints:\n%s", out)
	}
	// Packets 1 to 6 are not encapsulated (encap.c wraps traffic to 198.51.100.0/24; packet 7 is).
	s.want("packet 7", "packet 7, xdp_encap 0:")
	s.want("continue", "breakpoint: ", "encap.c:75")
	// The line's first instruction sets up the offset argument; next runs it, then the call.
	s.want("next", "call bpf_xdp_adjust_head")
	s.want("next", "if r0 != 0x0")
	s.want("print r0", "scalar 0 (0x0)")
	s.want("frame",
		"step 1: bpf_xdp_adjust_head(ctx, -20) = 0: data_meta 256 -> 236, data 256 -> 236",
		"   236 ├──────────────────────────────┤ <- data_meta, data")
	s.want("continue", "packet 7 ended: XDP_TX (3)")
	s.want("packet 3", "has already run")
}

func TestNextStepsOverABpfToBpfCallAndStepGoesIn(t *testing.T) {
	p := program(t, "calls")
	x := newXDP(t, p)
	// calls.c's entry calls parse_l2 at instruction 4.
	call := -1
	for pc, in := range x.Program().VM.Instructions() {
		if in.Op == 0x85 && in.Src() == 1 {
			call = pc
			break
		}
	}
	if call < 0 {
		t.Fatal("no bpf-to-bpf call in calls.c's entry")
	}
	s := session{t, debug.New(x, debug.List(x, packets(t, "mixed.pcap", 3)))}
	s.want(fmt.Sprintf("break %d", call), "breakpoint 1")
	s.want("continue", fmt.Sprintf("xdp_calls %d:", call))
	s.want("step", "packet 1, ")
	bt := s.want("bt", "#0", "#1 xdp_calls")
	if strings.Count(bt, "#") != 2 {
		t.Errorf("inside the callee the backtrace has not two frames:\n%s", bt)
	}
	// Back out and over: a fresh session stopping at the same call.
	s = session{t, newDebuggerOf(t, p, "mixed.pcap", 3)}
	s.do(fmt.Sprintf("break %d", call))
	s.do("continue")
	s.want("next", fmt.Sprintf("xdp_calls %d:", call+1))
	if bt := s.do("bt"); strings.Contains(bt, "#1") {
		t.Errorf("next stopped inside the call:\n%s", bt)
	}
}

// Running a packet under the debugger gives what running it plainly gives, for every program.
func TestEveryCorpusProgramRunsTheSameUnderTheDebugger(t *testing.T) {
	for _, p := range corpus.Programs() {
		t.Run(p.Name+" gives the same verdicts stepped and plain", func(t *testing.T) {
			steppedAsPlain(t, packets(t, p.Traces[0], 4), func() *sim.XDP { return newXDP(t, p) })
		})
	}
}

func TestBadCommandsSayWhatIsWanted(t *testing.T) {
	s := session{t, newDebugger(t, "encap", "mixed.pcap", 2)}
	for line, want := range map[string]string{
		"regs":            "no packet is running",
		"break nowhere.c": "want an instruction number, PROG:INSN, FILE:LINE or LINE",
		"break 99999":     "has instructions 0 to",
		"break encap.c:1": "no instruction of xdp_encap comes from that line",
		"packet 9":        "the traces hold packets 1 to 2",
		"frobnicate":      "unknown command",
		"print r11":       "no packet is running",
	} {
		t.Run(line, func(t *testing.T) { s.want(line, want) })
	}
	s.do("step")
	s.want("print r11", "r11 is not a register")
}

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

// steppedAsPlain runs pkts plainly through an XDP program (a dispatcher, one with tc programs
// behind it) that build makes, then under the debugger through another it makes, and checks that
// each packet ends alike.
func steppedAsPlain(t *testing.T, pkts []debug.Packet, build func() *sim.XDP) {
	t.Helper()
	plain := build()
	var want []string
	for _, pk := range pkts {
		want = append(want, verdictOf(plain.Run(pk.Data, nil, pk.Cond)))
	}
	x := build()
	stepThrough(t, session{t, debug.New(x, debug.List(x, pkts))}, want)
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
			steppedAsPlain(t, packets(t, p.Traces[0], 4), func() *sim.XDP { return simtest.Ingress(t, p) })
		})
	}
}

// Every dispatcher set of the corpus runs under the debugger as it runs plainly.
func TestEveryDispatcherSetRunsTheSameUnderTheDebugger(t *testing.T) {
	for _, set := range corpus.Dispatchers() {
		t.Run(set.Name+" gives the same verdicts stepped and plain", func(t *testing.T) {
			steppedAsPlain(t, packets(t, set.Traces[0], 4), func() *sim.XDP { return simtest.Dispatcher(t, set) })
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
