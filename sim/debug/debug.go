// Package debug is a step debugger for XDP programs in the simulator: it runs packets through a
// program one instruction at a time on the machine's trace hook, stops at breakpoints (an
// instruction or a C source line), and shows the registers with what they point to (packet, ctx,
// stack, map value, ...), the stack, the maps and the frame picture. A Session reads commands a
// line at a time, as a learner types them.
package debug

import (
	"fmt"
	"io"
	"iter"
	"strings"

	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/picture"
	"github.com/xdpsim/xdpsim/vm"
)

// Packets are the packets to run, in order. Run runs packet i (from 0) through the debugger's
// XDP (which the debugger has set up to pause) and returns its outcome; the caller decides the
// conditions, as a replay loop does.
type Packets interface {
	Len() int
	// Label names packet i for messages ("mixed.pcap record 3").
	Label(i int) string
	Run(i int) sim.Outcome
}

// Packet is one packet with its conditions; a list of them is Packets that run on x.
type Packet struct {
	Data  []byte
	Cond  sim.Conditions
	Label string
}

// List runs a list of packets on x.
func List(x *sim.XDP, pkts []Packet) Packets { return list{x, pkts} }

type list struct {
	x    *sim.XDP
	pkts []Packet
}

func (l list) Len() int              { return len(l.pkts) }
func (l list) Label(i int) string    { return l.pkts[i].Label }
func (l list) Run(i int) sim.Outcome { return l.x.Run(l.pkts[i].Data, nil, l.pkts[i].Cond) }

// stop is where a run stopped: before an instruction, or at the end of the packet.
type stop struct {
	done  bool
	prog  *vm.Program
	pc    int
	regs  [11]uint64
	depth int
	out   sim.Outcome
}

// breakpoint is an instruction of a program where continue stops.
type breakpoint struct {
	prog string
	pc   int
	what string // what the user asked for: "insn 12", "encap.c:75"
}

// Debugger runs packets through an XDP program under the user's control.
type Debugger struct {
	x    *sim.XDP
	m    *vm.Machine
	pkts Packets
	// cur is the packet being run (0-based), next the one that starts next.
	cur, nextPkt int
	resume       func() (stop, bool)
	cancel       func()
	at           stop
	running      bool
	rec          picture.Recorder
	breaks       []breakpoint
	// want decides, inside the trace hook, whether to stop before an instruction.
	want func(p *vm.Program, pc, depth int) bool
}

// New prepares a debugger over packets. The XDP must not be used elsewhere while it runs.
func New(x *sim.XDP, pkts Packets) *Debugger {
	return &Debugger{x: x, m: x.Machine(), pkts: pkts, cur: -1}
}

// startPacket begins running packet i; the run pauses wherever want says.
func (d *Debugger) startPacket(i int) {
	d.cur, d.nextPkt = i, i+1
	seq := func(yield func(stop) bool) {
		alive := true
		d.m.SetTrace(func(p *vm.Program, pc int, regs *[11]uint64) {
			if !alive || !d.want(p, pc, d.m.Depth()) {
				return
			}
			alive = yield(stop{prog: p, pc: pc, regs: *regs, depth: d.m.Depth()})
		})
		d.rec.Title = fmt.Sprintf("packet %d (%s)", i+1, d.pkts.Label(i))
		d.x.SetFrameObserver(&d.rec)
		out := d.pkts.Run(i)
		d.m.SetTrace(nil)
		d.x.SetFrameObserver(nil)
		if alive {
			yield(stop{done: true, out: out})
		}
	}
	d.resume, d.cancel = iter.Pull(iter.Seq[stop](seq))
	d.running = true
}

// advance resumes the run until want says stop or the packet ends.
func (d *Debugger) advance(want func(p *vm.Program, pc, depth int) bool) {
	d.want = want
	s, ok := d.resume()
	if !ok {
		s = stop{done: true}
	}
	d.at = s
	if s.done {
		d.running = false
		d.cancel()
	}
}

// finishPacket runs the current packet to its end without stopping.
func (d *Debugger) finishPacket() {
	if d.running {
		d.advance(func(*vm.Program, int, int) bool { return false })
	}
}

// Close ends a run in progress (it runs to its end without stopping).
func (d *Debugger) Close() {
	d.finishPacket()
}

// always stops before every instruction.
func always(*vm.Program, int, int) bool { return true }

// step executes n instructions (into calls).
func (d *Debugger) step(n int) {
	for i := 0; i < n && d.ensureRunning(); i++ {
		d.advance(always)
		if d.at.done {
			return
		}
	}
}

// next executes n instructions, running calls (bpf-to-bpf, helpers with callbacks) to their end.
func (d *Debugger) next(n int) {
	for i := 0; i < n && d.ensureRunning(); i++ {
		if d.at.done {
			return
		}
		depth := d.at.depth
		d.advance(func(p *vm.Program, pc, dep int) bool { return dep <= depth })
		if d.at.done {
			return
		}
	}
}

// cont runs to the next breakpoint or the end of the packet.
func (d *Debugger) cont() {
	started := !d.running
	if !d.ensureRunning() || started && d.isBreak(d.at.prog, d.at.pc) {
		return
	}
	first := true
	d.advance(func(p *vm.Program, pc, _ int) bool {
		// The instruction we stand on does not stop us again.
		if first && p == d.at.prog && pc == d.at.pc {
			first = false
			return false
		}
		first = false
		return d.isBreak(p, pc)
	})
}

// ensureRunning starts the next packet when none is running, stopped before its first
// instruction; false when none is left.
func (d *Debugger) ensureRunning() bool {
	if d.running {
		return true
	}
	if d.nextPkt >= d.pkts.Len() {
		return false
	}
	d.startPacket(d.nextPkt)
	d.advance(always)
	return !d.at.done
}

// toPacket runs everything before packet n (1-based) and stops before its first instruction.
func (d *Debugger) toPacket(n int) error {
	if n < 1 || n > d.pkts.Len() {
		return fmt.Errorf("packet %d: the traces hold packets 1 to %d", n, d.pkts.Len())
	}
	if n-1 == d.cur && d.running {
		return nil
	}
	if n-1 < d.nextPkt {
		return fmt.Errorf("packet %d has already run: map state only moves forward (start the debugger again to see it)", n)
	}
	d.finishPacket()
	for d.nextPkt < n-1 {
		d.pkts.Run(d.nextPkt)
		d.nextPkt++
	}
	d.ensureRunning()
	return nil
}

func (d *Debugger) isBreak(p *vm.Program, pc int) bool {
	for _, b := range d.breaks {
		if b.pc == pc && b.prog == p.Name() {
			return true
		}
	}
	return false
}

// entry is the program a packet starts in.
func (d *Debugger) entry() *vm.Program { return d.x.Program().VM }

// current is the program the run stands in (the entry program between runs).
func (d *Debugger) current() *vm.Program {
	if d.running && d.at.prog != nil {
		return d.at.prog
	}
	return d.entry()
}

// addBreak sets breakpoints for "N" (an instruction), "FILE:LINE" or "LINE" (every instruction
// where that source line begins).
func (d *Debugger) addBreak(arg string) (string, error) {
	p := d.current()
	if n, ok := parseInt(arg); ok && !strings.Contains(arg, ":") && n >= 0 {
		if n >= p.Len() {
			return "", fmt.Errorf("%s has instructions 0 to %d", p.Name(), p.Len()-1)
		}
		d.breaks = append(d.breaks, breakpoint{prog: p.Name(), pc: n, what: "instruction " + arg})
		return fmt.Sprintf("breakpoint %d at instruction %d of %s%s", len(d.breaks), n, p.Name(), lineSuffix(p.LineAt(n))), nil
	}
	file, line, _ := strings.Cut(arg, ":")
	if line == "" {
		file, line = "", arg
	}
	if _, ok := parseInt(line); !ok {
		return "", fmt.Errorf("break %q: want an instruction number, FILE:LINE or LINE", arg)
	}
	var pcs []int
	for pc := 0; pc < p.Len(); pc++ {
		l := p.LineAt(pc)
		f, rest, ok := strings.Cut(l, ":")
		if !ok || (file != "" && f != file) || !strings.HasPrefix(rest, line+":") {
			continue
		}
		if pc > 0 && p.LineAt(pc-1) == l {
			continue
		}
		pcs = append(pcs, pc)
	}
	if len(pcs) == 0 {
		return "", fmt.Errorf("break %s: no instruction of %s comes from that line", arg, p.Name())
	}
	var msgs []string
	for _, pc := range pcs {
		d.breaks = append(d.breaks, breakpoint{prog: p.Name(), pc: pc, what: arg})
		msgs = append(msgs, fmt.Sprintf("breakpoint %d at instruction %d of %s%s", len(d.breaks), pc, p.Name(), lineSuffix(p.LineAt(pc))))
	}
	return strings.Join(msgs, "\n"), nil
}

func lineSuffix(l string) string {
	if l == "" {
		return ""
	}
	return " (" + l + ")"
}

func parseInt(s string) (int, bool) {
	n := 0
	if s == "" {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
		if n > 1<<30 {
			return 0, false
		}
	}
	return n, true
}

// where says where the run stands.
func (d *Debugger) where(w io.Writer) {
	switch {
	case d.cur < 0:
		fmt.Fprintf(w, "no packet has started: step, next or continue starts packet 1 (%s)\n", d.pkts.Label(0))
	case !d.running:
		o := d.at.out
		verdict := o.Err
		if verdict == "" {
			verdict = picture.Outcome{Ret: o.Ret}.Verdict()
		}
		fmt.Fprintf(w, "packet %d ended: %s after %d instructions\n", d.cur+1, verdict, o.Executed)
		if d.nextPkt < d.pkts.Len() {
			fmt.Fprintf(w, "step, next or continue starts packet %d (%s)\n", d.nextPkt+1, d.pkts.Label(d.nextPkt))
		} else {
			fmt.Fprintln(w, "that was the last packet")
		}
	default:
		s := d.at
		if l := s.prog.LineAt(s.pc); l != "" {
			fmt.Fprintf(w, "; %s\n", l)
		}
		fmt.Fprintf(w, "packet %d, %s %d: %s\n", d.cur+1, s.prog.Name(), s.pc, disasm(s.prog, s.pc))
	}
}
