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
			pkts := packets(t, p.Traces[0], 4)
			plain := newXDP(t, p)
			var want []string
			for _, pk := range pkts {
				o := plain.Run(pk.Data, nil, pk.Cond)
				if o.Err != "" {
					want = append(want, "error")
				} else {
					want = append(want, fmt.Sprintf("%s (%d)", result.VerdictName(o.Ret), o.Ret))
				}
			}
			s := session{t, newDebuggerOf(t, p, p.Traces[0], len(pkts))}
			for i := range pkts {
				// Packet by packet: step a few instructions, look at everything, run to the end.
				first := s.do("next 5")
				if !strings.Contains(first, fmt.Sprintf("packet %d", i+1)) {
					t.Fatalf("packet %d: %s", i+1, first)
				}
				for _, cmd := range []string{"regs", "stack", "bt", "list", "frame", "maps"} {
					if out := s.do(cmd); strings.Contains(out, "no packet is running") && !strings.Contains(first, "ended") {
						t.Errorf("%s: %s", cmd, out)
					}
				}
				end := first
				if !strings.Contains(end, "ended") {
					end = s.do("continue")
				}
				if want[i] == "error" {
					if strings.Contains(end, "XDP_") {
						t.Errorf("packet %d: plain run refused it, the debugger says %s", i+1, end)
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
		})
	}
}

func TestBadCommandsSayWhatIsWanted(t *testing.T) {
	s := session{t, newDebugger(t, "encap", "mixed.pcap", 2)}
	for line, want := range map[string]string{
		"regs":            "no packet is running",
		"break nowhere.c": "want an instruction number, FILE:LINE or LINE",
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
