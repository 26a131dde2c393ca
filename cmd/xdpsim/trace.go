package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/vm"
	"github.com/xdpsim/xdpsim/vm/assembly"
)

// tracer prints every instruction a program executes in the kernel verifier-log style, with the C
// source line whenever it changes and the registers the previous instruction changed.
type tracer struct {
	w        io.Writer
	m        *vm.Machine
	prev     [11]uint64
	started  bool
	lastLine string
	lastProg *vm.Program
}

func newTracer(w io.Writer, m *vm.Machine) *tracer {
	return &tracer{w: w, m: m}
}

// packet starts the trace of a new packet.
func (t *tracer) packet(n int) {
	fmt.Fprintf(t.w, "--- packet %d\n", n)
	t.started = false
	t.lastLine = ""
}

func (t *tracer) step(p *vm.Program, pc int, regs *[11]uint64) {
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
	insns := p.Instructions()
	fmt.Fprintf(t.w, "%d: %s", pc, assembly.FormatKernel(insns, pc, &assembly.KernelOptions{CallName: func(in vm.Instruction) string {
		if in.Src() == 0 {
			return sim.HelperName(in.Imm)
		}
		return ""
	}}))
}

// value shows a register: pointers as region+offset, scalars in hex.
func (t *tracer) value(v uint64) string {
	id, off := vm.SplitAddress(v)
	if id == vm.RegionStack {
		return fmt.Sprintf("fp%d", int(off)-vm.MaxFrames*vm.StackSize)
	}
	if id >= vm.FirstHostRegion {
		if r := t.m.Region(id); r != nil && r.Name != "" {
			return fmt.Sprintf("%s+%d", r.Name, off)
		}
	}
	return fmt.Sprintf("%#x", v)
}

// changes ends the previous instruction's line with the registers it changed.
func (t *tracer) changes(regs *[11]uint64) {
	var changed []string
	for i := 0; i < 11; i++ {
		if regs[i] != t.prev[i] {
			changed = append(changed, fmt.Sprintf("r%d=%s", i, t.value(regs[i])))
		}
	}
	if len(changed) > 0 {
		fmt.Fprintf(t.w, "\t; %s", strings.Join(changed, " "))
	}
	fmt.Fprintln(t.w)
}

// end finishes a packet's trace.
func (t *tracer) end(r0 uint32) {
	if t.started {
		fmt.Fprintln(t.w)
	}
	fmt.Fprintf(t.w, "; returned %d\n", r0)
}
