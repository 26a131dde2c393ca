// Package debug is a step debugger for the simulator's programs: an XDP program, the programs of
// libxdp's dispatcher slot by slot, tc programs alone or at tc ingress behind an XDP program. It
// runs packets one instruction at a time on the machines' trace hooks, stops at breakpoints (an
// instruction or a C source line, in any of the programs), and shows the registers with what they
// point to (packet, ctx, stack, map value, ...), the stack, the maps and the picture of the frame
// or of the sk_buff. A Session reads commands a line at a time, as a learner types them.
package debug

import (
	"fmt"
	"io"
	"iter"
	"strings"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/picture"
	"github.com/xdpsim/xdpsim/sim/result"
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
func List(x *sim.XDP, pkts []Packet) Packets {
	return list{run: func(p Packet) sim.Outcome { return x.Run(p.Data, nil, p.Cond) }, pkts: pkts}
}

// ListTC runs a list of packets through tc programs alone, as BPF_PROG_TEST_RUN runs them (on the
// device the conditions name).
func ListTC(t *sim.TC, pkts []Packet) Packets {
	return list{run: func(p Packet) sim.Outcome {
		return t.Run(p.Data, &sim.SkbContext{Ifindex: p.Cond.IngressIfindex}, p.Cond)
	}, pkts: pkts}
}

type list struct {
	run  func(Packet) sim.Outcome
	pkts []Packet
}

func (l list) Len() int              { return len(l.pkts) }
func (l list) Label(i int) string    { return l.pkts[i].Label }
func (l list) Run(i int) sim.Outcome { return l.run(l.pkts[i]) }

// stop is where a run stopped: before an instruction of a program on machine m, or at the end of
// the packet.
type stop struct {
	done  bool
	m     *vm.Machine
	prog  *vm.Program
	pc    int
	regs  [11]uint64
	depth int
	out   sim.Outcome
}

// breakpoint is an instruction of a program where continue stops.
type breakpoint struct {
	prog *vm.Program
	pc   int
	what string // what the user asked for: "insn 12", "encap.c:75"
}

// program is a program the debugger knows: where it runs, and whether it is a tc program.
type program struct {
	vm *vm.Program
	// role says where it runs: "" (an XDP program on its own, or a tc program alone), "slot 1"
	// (of libxdp's dispatcher), "tc ingress".
	role string
	tc   bool
}

// Debugger runs packets through XDP or tc programs under the user's control.
type Debugger struct {
	// x is the XDP program (or dispatcher), nil for tc programs alone; tc the tc programs, alone
	// or at tc ingress behind x, nil for none.
	x  *sim.XDP
	tc *sim.TC
	// machines are every machine a packet may run on; progs the programs the debugger knows, in
	// the order they run (the entry programs first, then the programs they tail-call).
	machines []*vm.Machine
	progs    []program
	pkts     Packets
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

// New prepares a debugger over packets that run through x: an XDP program, or a dispatcher
// (sim.NewDispatcher), with the tc programs at its tc ingress hook if it has them (XDP.SetIngress).
// The XDP must not be used elsewhere while the debugger runs.
func New(x *sim.XDP, pkts Packets) *Debugger {
	d := &Debugger{x: x, tc: x.Ingress(), pkts: pkts, cur: -1}
	d.machines = x.Machines()
	for i, p := range x.Programs() {
		role := ""
		if x.Dispatcher() != nil {
			role = fmt.Sprintf("slot %d", i)
		}
		d.progs = append(d.progs, program{vm: p.VM, role: role})
	}
	if d.tc != nil {
		d.addTC("tc ingress")
	}
	d.addTailCalled()
	return d
}

// NewTC prepares a debugger over packets that run through tc programs alone (ListTC).
func NewTC(t *sim.TC, pkts Packets) *Debugger {
	d := &Debugger{tc: t, pkts: pkts, cur: -1}
	d.addTC("")
	d.addTailCalled()
	return d
}

func (d *Debugger) addTC(role string) {
	d.machines = append(d.machines, d.tc.Machines()...)
	for _, p := range d.tc.Programs() {
		d.progs = append(d.progs, program{vm: p.VM, role: role, tc: true})
	}
}

// addTailCalled adds the other programs of the objects, of the same types: the programs a tail
// call may enter.
func (d *Debugger) addTailCalled() {
	known := map[*vm.Program]bool{}
	objs := map[*sim.Object]bool{}
	var order []*sim.Object
	for _, p := range d.progs {
		known[p.vm] = true
	}
	var entries []*sim.Program
	if d.x != nil {
		entries = append(entries, d.x.Programs()...)
	}
	if d.tc != nil {
		entries = append(entries, d.tc.Programs()...)
	}
	for _, p := range entries {
		if o := p.Object(); !objs[o] {
			objs[o] = true
			order = append(order, o)
		}
	}
	for _, o := range order {
		for _, t := range []ebpf.ProgramType{ebpf.XDP, ebpf.SchedCLS} {
			names := o.XDPPrograms()
			if t == ebpf.SchedCLS {
				names = o.TCPrograms()
			}
			for _, n := range names {
				p, err := o.Program(n)
				if err != nil || known[p.VM] {
					continue
				}
				known[p.VM] = true
				d.progs = append(d.progs, program{vm: p.VM, tc: t == ebpf.SchedCLS})
			}
		}
	}
}

// programOf finds what the debugger knows of p.
func (d *Debugger) programOf(p *vm.Program) program {
	for _, q := range d.progs {
		if q.vm == p {
			return q
		}
	}
	return program{vm: p}
}

// label names where a program runs for the messages: "xdp_encap", "slot 1 xdp_fw", "tc ingress
// tc_meta_reader".
func (d *Debugger) label(p *vm.Program) string {
	if r := d.programOf(p).role; r != "" {
		return r + " " + p.Name()
	}
	return p.Name()
}

// what names what the debugger runs packets through, for its greeting.
func (d *Debugger) what() string {
	var tcNames []string
	if d.tc != nil {
		for _, p := range d.tc.Programs() {
			tcNames = append(tcNames, p.Name)
		}
	}
	switch {
	case d.x == nil && len(tcNames) > 1:
		return "tc programs " + strings.Join(tcNames, ", ")
	case d.x == nil:
		return "tc program " + tcNames[0]
	}
	what := "program " + d.x.Program().Name
	if d.x.Dispatcher() != nil {
		var slots []string
		for _, p := range d.x.Programs() {
			slots = append(slots, d.label(p.VM))
		}
		what = "libxdp's dispatcher (" + strings.Join(slots, ", ") + ")"
	}
	if len(tcNames) > 0 {
		what += ", then tc ingress (" + strings.Join(tcNames, ", ") + ")"
	}
	return what
}

// startPacket begins running packet i; the run pauses wherever want says.
func (d *Debugger) startPacket(i int) {
	d.cur, d.nextPkt = i, i+1
	seq := func(yield func(stop) bool) {
		alive := true
		for _, m := range d.machines {
			m.SetTrace(func(p *vm.Program, pc int, regs *[11]uint64) {
				if !alive || !d.want(p, pc, m.Depth()) {
					return
				}
				alive = yield(stop{m: m, prog: p, pc: pc, regs: *regs, depth: m.Depth()})
			})
		}
		d.rec.Reset()
		d.rec.Title = fmt.Sprintf("packet %d (%s)", i+1, d.pkts.Label(i))
		d.rec.Watch(d.x, d.tc)
		out := d.pkts.Run(i)
		for _, m := range d.machines {
			m.SetTrace(nil)
		}
		picture.Unwatch(d.x, d.tc)
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
		if b.pc == pc && b.prog == p {
			return true
		}
	}
	return false
}

// entry is the program a packet starts in.
func (d *Debugger) entry() *vm.Program { return d.progs[0].vm }

// current is the program the run stands in (the entry program between runs).
func (d *Debugger) current() *vm.Program {
	if d.running && d.at.prog != nil {
		return d.at.prog
	}
	return d.entry()
}

// addBreak sets breakpoints for "N" (an instruction of the current program), "PROG:N" (of
// program PROG, by name or slot: "xdp_fw:12", "slot1:12"), "FILE:LINE" (every instruction of any
// program where that source line begins) or "LINE" (the same in the current program's file).
func (d *Debugger) addBreak(arg string) (string, error) {
	p := d.current()
	if n, ok := parseInt(arg); ok && n >= 0 {
		return d.breakAt(p, n, "instruction "+arg)
	}
	file, line, _ := strings.Cut(arg, ":")
	if n, ok := parseInt(line); ok && file != "" {
		for _, q := range d.progs {
			if q.vm.Name() == file || strings.ReplaceAll(q.role, " ", "") == file {
				return d.breakAt(q.vm, n, "instruction "+line+" of "+file)
			}
		}
	}
	if line == "" {
		file, line = "", arg
		if f, _, ok := strings.Cut(p.LineAt(0), ":"); ok {
			file = f
		}
	}
	if _, ok := parseInt(line); !ok {
		return "", fmt.Errorf("break %q: want an instruction number, PROG:INSN, FILE:LINE or LINE", arg)
	}
	var msgs []string
	var searched []string
	for _, q := range d.progs {
		searched = append(searched, q.vm.Name())
		for pc := 0; pc < q.vm.Len(); pc++ {
			l := q.vm.LineAt(pc)
			f, rest, ok := strings.Cut(l, ":")
			if !ok || (file != "" && f != file) || !strings.HasPrefix(rest, line+":") {
				continue
			}
			if pc > 0 && q.vm.LineAt(pc-1) == l {
				continue
			}
			d.breaks = append(d.breaks, breakpoint{prog: q.vm, pc: pc, what: arg})
			msgs = append(msgs, fmt.Sprintf("breakpoint %d at instruction %d of %s%s", len(d.breaks), pc, d.label(q.vm), lineSuffix(q.vm.LineAt(pc))))
		}
	}
	if len(msgs) == 0 {
		return "", fmt.Errorf("break %s: no instruction of %s comes from that line", arg, strings.Join(searched, ", "))
	}
	return strings.Join(msgs, "\n"), nil
}

// breakAt sets a breakpoint at instruction n of p.
func (d *Debugger) breakAt(p *vm.Program, n int, what string) (string, error) {
	if n >= p.Len() {
		return "", fmt.Errorf("%s has instructions 0 to %d", p.Name(), p.Len()-1)
	}
	d.breaks = append(d.breaks, breakpoint{prog: p, pc: n, what: what})
	return fmt.Sprintf("breakpoint %d at instruction %d of %s%s", len(d.breaks), n, d.label(p), lineSuffix(p.LineAt(n))), nil
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
		fmt.Fprintf(w, "packet %d ended: %s after %d instructions\n", d.cur+1, verdictOf(&o), o.Executed)
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
		fmt.Fprintf(w, "packet %d, %s %d: %s\n", d.cur+1, d.label(s.prog), s.pc, disasm(s.prog, s.pc))
	}
}

// verdictOf says how a packet ended: the XDP verdict (for a dispatcher, which slot gave it), then
// what tc did; a tc program's alone; or why it did not run.
func verdictOf(o *sim.Outcome) string {
	if o.Err != "" && (o.TC == nil || o.Packet.Type == result.TypeTC) {
		return o.Err
	}
	var b strings.Builder
	if o.Packet.Type == result.TypeTC {
		b.WriteString(picture.Outcome{Ret: o.Ret, TC: true}.Verdict())
	} else {
		b.WriteString(picture.Outcome{Ret: o.Ret, Err: o.Err}.Verdict())
		if n := len(o.Dispatch); n > 0 {
			last := o.Dispatch[n-1]
			if last.Continued {
				b.WriteString(" (every slot went on)")
			} else {
				fmt.Fprintf(&b, " (from slot %d, %s)", last.Slot, last.Program)
			}
		}
		if tc := o.TC; tc != nil && (len(tc.Programs) > 0 || tc.Dropped != "" || tc.Err != "") {
			b.WriteString(", then at tc ingress: ")
			switch {
			case tc.Err != "":
				b.WriteString(tc.Err)
			case tc.Dropped != "":
				b.WriteString("dropped before tc: " + tc.Dropped)
			default:
				fmt.Fprintf(&b, "%s, %s", picture.Outcome{Ret: tc.Ret, TC: true}.Verdict(), tc.Action)
			}
		}
	}
	return b.String()
}
