package replay

import (
	"bufio"
	"fmt"
	"io"
	"strconv"

	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/result"
	"github.com/xdpsim/xdpsim/vm"
	"github.com/xdpsim/xdpsim/vm/assembly"
)

// Trace prints every instruction the selected packets execute, in the kernel verifier log's
// notation and numbering (instruction slots of the program as loaded, lddw counting two), with the
// C source line whenever it changes and, after each instruction, the registers it changed. A fault
// is printed where it happens, under the faulting instruction; the trace of a packet ends with the
// verdict by name.
//
// Trace is a Sink (and a Starter); sinks placed after it in a Loop print after each packet's
// trace, so views of the packet (a frame picture) extend it without changing it.
type Trace struct {
	w *bufio.Writer
	m *vm.Machine
	// others are more machines a packet's run may continue on (the tc programs after an XDP
	// program), each with its step function; cur is the machine of the instruction traced last.
	others   []*vm.Machine
	steps    []vm.TraceFunc
	cur      *vm.Machine
	prev     [11]uint64
	started  bool
	lastLine string
	lastProg *vm.Program
	opts     assembly.KernelOptions
	changed  []byte
}

// NewTrace traces the machine m (see Tracer) onto w.
func NewTrace(w io.Writer, m *vm.Machine) *Trace {
	t := &Trace{w: bufio.NewWriter(w), m: m, cur: m}
	t.opts.CallName = func(in vm.Instruction) string {
		if in.Src() == 0 {
			return sim.HelperName(in.Imm)
		}
		return ""
	}
	return t
}

// Also traces more machines a packet's run continues on: the tc programs an XDP program passes
// packets to (sim.XDP.SetIngress), which run on machines of their own.
func (t *Trace) Also(ms ...*vm.Machine) {
	for _, m := range ms {
		if m == t.m {
			continue
		}
		t.others = append(t.others, m)
		t.steps = append(t.steps, func(p *vm.Program, pc int, regs *[11]uint64) {
			t.cur = m
			t.step(p, pc, regs)
		})
	}
}

// Start begins a packet's trace: only selected packets are traced, the others run at full speed.
func (t *Trace) Start(p *Packet) error {
	if !p.Selected {
		t.m.SetTrace(nil)
		for _, m := range t.others {
			m.SetTrace(nil)
		}
		return nil
	}
	t.m.SetTrace(t.stepMain)
	for i, m := range t.others {
		m.SetTrace(t.steps[i])
	}
	fmt.Fprintf(t.w, "--- packet %d\n", p.N)
	t.started = false
	t.lastLine = ""
	t.lastProg = nil
	return nil
}

func (t *Trace) stepMain(p *vm.Program, pc int, regs *[11]uint64) {
	t.cur = t.m
	t.step(p, pc, regs)
}

func (t *Trace) step(p *vm.Program, pc int, regs *[11]uint64) {
	if t.started {
		t.changes(regs)
	} else {
		fmt.Fprintf(t.w, "\t; r1=%s r10=%s\n", t.value(regs[1]), t.value(regs[10]))
	}
	t.started = true
	t.prev = *regs
	if p != t.lastProg {
		fmt.Fprintf(t.w, "; program %s\n", p.Name())
		t.lastProg = p
		t.lastLine = ""
	}
	if line := p.LineAt(pc); line != "" && line != t.lastLine {
		fmt.Fprintf(t.w, "; %s\n", line)
		t.lastLine = line
	}
	fmt.Fprintf(t.w, "%d: %s", pc, assembly.FormatKernel(p.Instructions(), pc, &t.opts))
}

// value shows a register: pointers as region+offset, scalars in hex.
func (t *Trace) value(v uint64) string {
	id, off := vm.SplitAddress(v)
	if id == vm.RegionStack {
		return "fp" + strconv.Itoa(int(off)-vm.MaxFrames*vm.StackSize)
	}
	if id >= vm.FirstHostRegion {
		if r := t.cur.Region(id); r != nil && r.Name != "" {
			return r.Name + "+" + strconv.FormatUint(uint64(off), 10)
		}
	}
	return "0x" + strconv.FormatUint(v, 16)
}

// changes ends the previous instruction's line with the registers it changed.
func (t *Trace) changes(regs *[11]uint64) {
	sep := "\t; "
	for i := 0; i < 11; i++ {
		if regs[i] != t.prev[i] {
			fmt.Fprintf(t.w, "%sr%d=%s", sep, i, t.value(regs[i]))
			sep = " "
		}
	}
	t.w.WriteByte('\n')
}

// Packet ends a packet's trace: the last instruction's line, then the fault where it happened, or
// the verdict.
func (t *Trace) Packet(p *Packet) error {
	if !p.Selected {
		return nil
	}
	o := &p.Outcome
	if t.started {
		if o.Fault != nil {
			// The faulting instruction changed nothing: end its line, then say what went wrong.
			t.w.WriteByte('\n')
		} else {
			t.changes(&t.prev)
		}
	}
	switch {
	case o.Fault != nil:
		fmt.Fprintf(t.w, "; FAULT: %v\n", o.Fault)
	case o.Err != "":
		fmt.Fprintf(t.w, "; not run: %s\n", o.Err)
	case o.Packet.Type == result.TypeTC:
		fmt.Fprintf(t.w, "; returned %d (%s)\n", int32(o.Ret), o.Packet.Verdict())
	default:
		fmt.Fprintf(t.w, "; returned %d (%s)", o.Ret, result.VerdictName(o.Ret))
		if o.Ret > result.XDPRedirect {
			fmt.Fprintf(t.w, ": an invalid action, which the kernel treats as XDP_ABORTED")
		}
		t.w.WriteByte('\n')
		if o.Exception != "" && o.Ret <= result.XDPRedirect && o.Ret != result.XDPAborted {
			fmt.Fprintf(t.w, "; exception: %s\n", o.Exception)
		}
	}
	return t.w.Flush()
}
