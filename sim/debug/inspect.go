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

// Describe says what a register value is while x's program runs, from the region its pointer
// names, in the notation of the kernel verifier's log where it has one: scalars as numbers,
// pkt(data+14), pkt_end, pkt_meta, ctx, fp-8 (the stack, against the current frame pointer),
// map_value(counters)+4, map_ptr(counters), func@12 (a function address).
func Describe(x *sim.XDP, v, fp uint64) string {
	return xdpView(x, x.Machine()).describe(v, fp)
}

// view is what the debugger needs to say what a value on a machine points to: where the packet's
// pointers sit and which context the program has.
type view struct {
	m *vm.Machine
	// data, end and meta are where data, data_end and data_meta point; where says what
	// offsets in the packet's region count from.
	data, end, meta uint32
	where           string
	ctx             string
}

func xdpView(x *sim.XDP, m *vm.Machine) view {
	f := x.Frame()
	return view{m: m, data: f.Data, end: f.DataEnd, meta: f.DataMeta, where: "page offset", ctx: "struct xdp_md"}
}

func skbView(t *sim.TC, m *vm.Machine) view {
	v := t.Skb()
	return view{m: m, data: uint32(v.Data), end: uint32(v.Tail), meta: uint32(v.Data - v.MetaLen), where: "head offset", ctx: "struct __sk_buff"}
}

// viewAt is the view of the machine the run stands on (the first one between runs).
func (d *Debugger) viewAt() view {
	m := d.at.m
	if m == nil {
		m = d.machines[0]
	}
	if d.tc != nil {
		if _, ok := d.tc.PacketRegion(m); ok {
			return skbView(d.tc, m)
		}
	}
	return xdpView(d.x, m)
}

func (v view) describe(val, fp uint64) string {
	id, off := vm.SplitAddress(val)
	r := v.m.Region(id)
	switch {
	case id == vm.RegionNull || r == nil:
		switch {
		case int64(val) < 0:
			return fmt.Sprintf("scalar %d (%#x)", int64(val), val)
		case val <= 0xffffffff && int32(val) < 0:
			// A 32-bit ALU result: the program may mean it as a negative 32-bit number.
			return fmt.Sprintf("scalar %d (%#x; %d as a 32-bit signed number)", val, val, int32(val))
		}
		return fmt.Sprintf("scalar %d (%#x)", val, val)
	case id == vm.RegionStack:
		_, fo := vm.SplitAddress(fp)
		if d := int64(off) - int64(fo); d != 0 {
			return fmt.Sprintf("fp%+d (stack)", d)
		}
		return "fp0 (the frame pointer)"
	case id == vm.RegionCode:
		return fmt.Sprintf("func@%d (a function's address)", off)
	case r.Name == "packet":
		switch {
		case off == v.end:
			return fmt.Sprintf("pkt_end (data+%d, %s %d)", v.end-v.data, v.where, off)
		case off == v.meta && v.meta < v.data:
			return fmt.Sprintf("pkt_meta (data-%d, %s %d)", v.data-v.meta, v.where, off)
		case off >= v.data:
			return fmt.Sprintf("pkt(data+%d) (%s %d)", off-v.data, v.where, off)
		}
		return fmt.Sprintf("pkt(data-%d) (%s %d, before data)", v.data-off, v.where, off)
	case r.Name == "ctx":
		return fmt.Sprintf("ctx+%d (%s)", off, v.ctx)
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
	v := d.viewAt()
	for i, r := range d.at.regs {
		fmt.Fprintf(w, "  r%-2d 0x%016x  %s\n", i, r, v.describe(r, d.at.regs[10]))
	}
}

// printReg prints one register, and for a pointer the bytes it points at.
func (d *Debugger) printReg(w io.Writer, n int) {
	v := d.viewAt()
	val := d.at.regs[n]
	fmt.Fprintf(w, "r%d = %#x: %s\n", n, val, v.describe(val, d.at.regs[10]))
	id, off := vm.SplitAddress(val)
	if id == vm.RegionNull || id == vm.RegionCode {
		return
	}
	r := v.m.Region(id)
	if r == nil || r.Data == nil || int(off) >= len(r.Data) {
		return
	}
	end := min(len(r.Data), int(off)+32)
	if r.Name == "packet" {
		end = min(end, int(v.end))
	}
	if int(off) < end {
		fmt.Fprintf(w, "  bytes there: % x\n", r.Data[off:end])
	}
}

// stack prints the current frame's stack: the 8-byte slots below the frame pointer that hold
// anything but zero.
func (d *Debugger) stack(w io.Writer) {
	v := d.viewAt()
	st := v.m.Region(vm.RegionStack)
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
		fmt.Fprintf(w, "  fp-%-3d % x  %s\n", int(fp)-off, slot, v.describe(binary.LittleEndian.Uint64(slot), d.at.regs[10]))
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
	m := d.at.m
	fmt.Fprintf(w, "  #0 %s %d%s\n", d.label(d.at.prog), d.at.pc, lineSuffix(d.at.prog.LineAt(d.at.pc)))
	for i := m.Depth() - 1; i >= 0; i-- {
		p, ret, ok := m.Caller(i)
		if !ok {
			break
		}
		call := ret - 1
		fmt.Fprintf(w, "  #%d %s %d%s\n", m.Depth()-i, d.label(p), call, lineSuffix(p.LineAt(call)))
	}
}

// frame prints the picture of the frame (or, while a tc program runs, of the sk_buff) as it
// stands, with the moves so far.
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
	var cur picture.Snapshot
	if d.tc != nil && d.programOf(d.at.prog).tc {
		cur = picture.CaptureSkb(d.tc.Skb(), d.x != nil)
	} else {
		cur = picture.Capture(d.x.Frame())
	}
	if err := run.NowText(w, cur, opts); err != nil {
		fmt.Fprintln(w, err)
	}
}
