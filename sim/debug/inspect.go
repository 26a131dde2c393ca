package debug

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"

	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/picture"
	"github.com/xdpsim/xdpsim/vm"
	"github.com/xdpsim/xdpsim/vm/assembly"
)

// disasm writes instruction pc in the kernel's verifier-log notation, helpers by name.
func disasm(p *vm.Program, pc int) string {
	return assembly.FormatKernel(p.Instructions(), pc, &assembly.KernelOptions{CallName: func(in vm.Instruction) string {
		if in.Src() == 0 {
			return sim.HelperName(in.Imm)
		}
		return ""
	}})
}

// Describe says what a register value is, from the region its pointer names, in the notation of
// the kernel verifier's log where it has one: scalars as numbers, pkt(data+14), pkt_end, pkt_meta,
// ctx, fp-8 (the stack, against the current frame pointer), map_value(counters)+4,
// map_ptr(counters), func@12 (a function address).
func Describe(x *sim.XDP, v, fp uint64) string {
	id, off := vm.SplitAddress(v)
	m := x.Machine()
	r := m.Region(id)
	switch {
	case id == vm.RegionNull || r == nil:
		switch {
		case int64(v) < 0:
			return fmt.Sprintf("scalar %d (%#x)", int64(v), v)
		case v <= 0xffffffff && int32(v) < 0:
			// A 32-bit ALU result: the program may mean it as a negative 32-bit number.
			return fmt.Sprintf("scalar %d (%#x; %d as a 32-bit signed number)", v, v, int32(v))
		}
		return fmt.Sprintf("scalar %d (%#x)", v, v)
	case id == vm.RegionStack:
		_, fo := vm.SplitAddress(fp)
		if d := int64(off) - int64(fo); d != 0 {
			return fmt.Sprintf("fp%+d (stack)", d)
		}
		return "fp0 (the frame pointer)"
	case id == vm.RegionCode:
		return fmt.Sprintf("func@%d (a function's address)", off)
	case id == x.PacketRegion():
		f := x.Frame()
		switch {
		case off == f.DataEnd:
			return fmt.Sprintf("pkt_end (data+%d, page offset %d)", f.DataEnd-f.Data, off)
		case off == f.DataMeta && f.DataMeta < f.Data:
			return fmt.Sprintf("pkt_meta (data-%d, page offset %d)", f.Data-f.DataMeta, off)
		case off >= f.Data:
			return fmt.Sprintf("pkt(data+%d) (page offset %d)", off-f.Data, off)
		}
		return fmt.Sprintf("pkt(data-%d) (page offset %d, before data)", f.Data-off, off)
	case r.Name == "ctx":
		return fmt.Sprintf("ctx+%d (struct xdp_md)", off)
	case strings.HasPrefix(r.Name, "value of map "):
		return fmt.Sprintf("map_value(%s)+%d", strings.TrimPrefix(r.Name, "value of map "), off)
	case strings.HasPrefix(r.Name, "map "):
		return fmt.Sprintf("map_ptr(%s)", strings.TrimPrefix(r.Name, "map "))
	case strings.HasPrefix(r.Name, "."):
		return fmt.Sprintf("map_value(%s)+%d (global variables)", r.Name, off)
	}
	return fmt.Sprintf("%s+%d", r.Name, off)
}

// regs prints r0-r10 with their types.
func (d *Debugger) regs(w io.Writer) {
	for i, v := range d.at.regs {
		fmt.Fprintf(w, "  r%-2d 0x%016x  %s\n", i, v, Describe(d.x, v, d.at.regs[10]))
	}
}

// printReg prints one register, and for a pointer the bytes it points at.
func (d *Debugger) printReg(w io.Writer, n int) {
	v := d.at.regs[n]
	fmt.Fprintf(w, "r%d = %#x: %s\n", n, v, Describe(d.x, v, d.at.regs[10]))
	id, off := vm.SplitAddress(v)
	if id == vm.RegionNull || id == vm.RegionCode {
		return
	}
	r := d.m.Region(id)
	if r == nil || r.Data == nil || int(off) >= len(r.Data) {
		return
	}
	end := min(len(r.Data), int(off)+32)
	if id == d.x.PacketRegion() {
		end = min(end, int(d.x.Frame().DataEnd))
	}
	if int(off) < end {
		fmt.Fprintf(w, "  bytes there: % x\n", r.Data[off:end])
	}
}

// stack prints the current frame's stack: the 8-byte slots below the frame pointer that hold
// anything but zero.
func (d *Debugger) stack(w io.Writer) {
	st := d.m.Region(vm.RegionStack)
	_, fp := vm.SplitAddress(d.at.regs[10])
	lo := int(fp) - vm.StackSize
	if lo < 0 || int(fp) > len(st.Data) {
		fmt.Fprintln(w, "the frame pointer is off the stack")
		return
	}
	shown := 0
	for off := int(fp) - 8; off >= lo; off -= 8 {
		slot := st.Data[off : off+8]
		if binary.LittleEndian.Uint64(slot) == 0 {
			continue
		}
		fmt.Fprintf(w, "  fp-%-3d % x  %s\n", int(fp)-off, slot, Describe(d.x, binary.LittleEndian.Uint64(slot), d.at.regs[10]))
		shown++
	}
	if shown == 0 {
		fmt.Fprintln(w, "  every slot of this frame's 512 bytes is zero")
	} else {
		fmt.Fprintf(w, "  (%d non-zero 8-byte slots of this frame's 512 bytes; call depth %d)\n", shown, d.at.depth)
	}
}

// list prints the instructions around the current one with their source lines.
func (d *Debugger) list(w io.Writer, around int) {
	p := d.current()
	pc := 0
	if d.running {
		pc = d.at.pc
	}
	if around >= 0 {
		pc = around
	}
	lo, hi := max(0, pc-5), min(p.Len(), pc+6)
	last := ""
	insns := p.Instructions()
	second := false // the slot is a lddw's second word
	for i := 0; i < hi; i++ {
		if i < lo || second {
			second = !second && insns[i].Op == vm.OpLdImm64
			continue
		}
		second = insns[i].Op == vm.OpLdImm64
		if l := p.LineAt(i); l != "" && l != last {
			fmt.Fprintf(w, "     ; %s\n", l)
			last = l
		}
		mark := "  "
		if d.running && i == d.at.pc {
			mark = "=>"
		}
		bp := " "
		if d.isBreak(p, i) {
			bp = "*"
		}
		fmt.Fprintf(w, "%s%s%4d: %s\n", mark, bp, i, disasm(p, i))
	}
}

// backtrace prints the call frames, innermost first.
func (d *Debugger) backtrace(w io.Writer) {
	fmt.Fprintf(w, "  #0 %s %d%s\n", d.at.prog.Name(), d.at.pc, lineSuffix(d.at.prog.LineAt(d.at.pc)))
	for i := d.m.Depth() - 1; i >= 0; i-- {
		p, ret, ok := d.m.Caller(i)
		if !ok {
			break
		}
		call := ret - 1
		fmt.Fprintf(w, "  #%d %s %d%s\n", d.m.Depth()-i, p.Name(), call, lineSuffix(p.LineAt(call)))
	}
}

// frame prints the picture of the frame as it stands, with the pointer moves so far.
func (d *Debugger) frame(w io.Writer, hex bool) {
	run := d.rec.Run
	if run == nil {
		fmt.Fprintln(w, "no packet has started")
		return
	}
	opts := picture.TextOptions{Hex: hex}
	if !d.running {
		run.Text(w, opts)
		return
	}
	run.NowText(w, picture.Capture(d.x.Frame()), opts)
}
