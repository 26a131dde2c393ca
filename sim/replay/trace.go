package replay

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/device"
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
	// lastExit says the instruction traced last was the exit of a program (not of a function it
	// called): when another program starts, the one before returned r0.
	lastExit bool
	// names are what Name said about programs.
	names map[*vm.Program]programName
	opts  assembly.KernelOptions
}

// programName is what the trace says about a program when it starts and returns.
type programName struct {
	where   string
	returns Returns
}

// Returns says by which names a program's return value reads.
type Returns int

// The kinds of return values: XDP actions, tc actions (TC_ACT_*), tcx actions (TCX_*: the
// same numbers, read by tcx_action_code), netkit actions (NETKIT_*).
const (
	ReturnsXDP Returns = iota
	ReturnsTC
	ReturnsTCX
	ReturnsNetkit
)

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

// Name says where program p runs ("slot 1 of libxdp's dispatcher", "at tc ingress"): the trace
// names it so when it starts, and says what it returned by the names of its kind when another
// program takes over. A program named at several places (one program on two devices) is named
// by all of them.
func (t *Trace) Name(p *vm.Program, where string, returns Returns) {
	if t.names == nil {
		t.names = map[*vm.Program]programName{}
	}
	if n, ok := t.names[p]; ok && n.where != "" && where != "" && n.where != where {
		where = n.where + " or " + where
	}
	t.names[p] = programName{where, returns}
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
	t.lastExit = false
	return nil
}

func (t *Trace) stepMain(p *vm.Program, pc int, regs *[11]uint64) {
	t.cur = t.m
	t.step(p, pc, regs)
}

func (t *Trace) step(p *vm.Program, pc int, regs *[11]uint64) {
	// Another program takes over after one returned (a dispatcher's next slot, tc after XDP, the
	// same program on the next device): its registers start afresh.
	handover := t.started && t.lastExit
	switch {
	case handover:
		t.w.WriteByte('\n')
	case t.started:
		t.changes(regs)
	default:
		fmt.Fprintf(t.w, "\t; r1=%s r10=%s\n", t.value(regs[1]), t.value(regs[10]))
	}
	t.started = true
	r0 := t.prev[0]
	t.prev = *regs
	if p != t.lastProg || handover {
		if handover {
			fmt.Fprintf(t.w, "; %s returned %s\n", t.lastProg.Name(), t.retName(t.lastProg, r0))
		}
		fmt.Fprintf(t.w, "; program %s", p.Name())
		if n := t.names[p]; n.where != "" {
			fmt.Fprintf(t.w, " (%s)", n.where)
		}
		t.w.WriteByte('\n')
		if handover {
			fmt.Fprintf(t.w, "\t; r1=%s r10=%s\n", t.value(regs[1]), t.value(regs[10]))
		}
		t.lastProg = p
		t.lastLine = ""
	}
	t.lastExit = p.Instructions()[pc].Op == vm.OpExit && t.cur.Depth() == 0
	if line := p.LineAt(pc); line != "" && line != t.lastLine {
		fmt.Fprintf(t.w, "; %s\n", line)
		t.lastLine = line
	}
	fmt.Fprintf(t.w, "%d: %s", pc, assembly.FormatKernel(p.Instructions(), pc, &t.opts))
}

// retName writes what program p returned: "2 (XDP_PASS)", "-1 (TC_ACT_UNSPEC)", "2 (NETKIT_DROP)".
func (t *Trace) retName(p *vm.Program, r0 uint64) string {
	switch t.names[p].returns {
	case ReturnsTC:
		return fmt.Sprintf("%d (%s)", int32(r0), result.TCVerdictName(uint32(r0)))
	case ReturnsTCX:
		return tcxName(int32(r0))
	case ReturnsNetkit:
		return netkitName(int32(r0))
	}
	if uint32(r0) > result.XDPRedirect {
		return fmt.Sprintf("%d (not an XDP action)", uint32(r0))
	}
	return fmt.Sprintf("%d (%s)", uint32(r0), result.VerdictName(uint32(r0)))
}

// tcxName writes a tcx program's return value: "0 (TCX_PASS)"; tcx_action_code reads a value it
// does not know as TCX_NEXT.
func tcxName(ret int32) string {
	if n, ok := tcxNames[uint32(ret)]; ok {
		return fmt.Sprintf("%d (%s)", ret, n)
	}
	return fmt.Sprintf("%d (not a tcx action, which tcx takes as TCX_NEXT)", ret)
}

var tcxNames = map[uint32]string{sim.TCXNext: "TCX_NEXT", sim.TCXPass: "TCX_PASS", sim.TCXDrop: "TCX_DROP", sim.TCXRedirect: "TCX_REDIRECT"}

// netkitName writes a netkit program's return value: "2 (NETKIT_DROP)"; netkit_xmit drops on a
// value it does not know.
func netkitName(ret int32) string {
	switch a := device.NetkitAction(ret); a {
	case device.NetkitNext, device.NetkitPass, device.NetkitDrop, device.NetkitRedirect:
		return fmt.Sprintf("%d (%s)", ret, a)
	}
	return fmt.Sprintf("%d (not a netkit action, which netkit_xmit drops)", ret)
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
	case o.Network != nil:
		// Through a network: the last program's return, then the path the packet took.
		if t.lastProg != nil {
			fmt.Fprintf(t.w, "; %s returned %s\n", t.lastProg.Name(), t.retName(t.lastProg, t.prev[0]))
		}
		fmt.Fprintf(t.w, "; the path: %s\n; %s", PathLine(o.Network), o.Network.End.Summary())
		if o.Err != "" {
			fmt.Fprintf(t.w, ": %s", o.Err)
		} else if r := o.Network.End.Reason; r != "" {
			fmt.Fprintf(t.w, ": %s", r)
		}
		t.w.WriteByte('\n')
		return t.w.Flush()
	case o.Err != "":
		fmt.Fprintf(t.w, "; not run: %s\n", o.Err)
	case o.Packet.Type == result.TypeTC:
		fmt.Fprintf(t.w, "; returned %d (%s)\n", int32(o.Ret), o.Packet.Verdict())
	default:
		if tc := o.TC; tc != nil && (len(tc.Programs) > 0 || tc.Dropped != "" || tc.Err != "") {
			t.w.WriteString("; XDP")
		} else {
			t.w.WriteString(";")
		}
		fmt.Fprintf(t.w, " returned %d (%s)", o.Ret, result.VerdictName(o.Ret))
		if o.Ret > result.XDPRedirect {
			fmt.Fprintf(t.w, ": an invalid action, which the kernel treats as XDP_ABORTED")
		}
		t.w.WriteByte('\n')
		if o.Exception != "" && o.Ret <= result.XDPRedirect && o.Ret != result.XDPAborted {
			fmt.Fprintf(t.w, "; exception: %s\n", o.Exception)
		}
	}
	t.dispatch(o)
	if tc := o.TC; tc != nil && o.Packet.Type != result.TypeTC && (len(tc.Programs) > 0 || tc.Dropped != "" || tc.Err != "") {
		fmt.Fprintf(t.w, "; at tc ingress: %s\n", tcLine(tc))
	}
	return t.w.Flush()
}

// dispatch says, for a dispatcher of several slots, what each slot returned and what the
// dispatcher made of it.
func (t *Trace) dispatch(o *sim.Outcome) {
	if len(o.Dispatch) == 0 {
		return
	}
	t.w.WriteString("; the dispatcher:")
	for i, r := range o.Dispatch {
		if i > 0 {
			t.w.WriteByte(',')
		}
		what := "its verdict"
		if r.Continued {
			what = "goes on"
		}
		ret := fmt.Sprintf("%d (%s)", r.Ret, result.VerdictName(r.Ret))
		if r.Ret > result.XDPRedirect {
			ret = fmt.Sprintf("%d (not an XDP action)", r.Ret)
		}
		fmt.Fprintf(t.w, " slot %d %s returned %s, %s", r.Slot, r.Program, ret, what)
	}
	t.w.WriteByte('\n')
}

// tcLine says what each tc program returned and what the hook did.
func tcLine(tc *sim.TCOutcome) string {
	var b strings.Builder
	for _, r := range tc.Programs {
		fmt.Fprintf(&b, "%s returned %d (%s); ", r.Program, r.Ret, result.TCVerdictName(uint32(r.Ret)))
	}
	b.WriteString(TCHookLine(tc))
	return b.String()
}
