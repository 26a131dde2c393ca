package debug

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/btfjson"
	"github.com/xdpsim/xdpsim/sim/result"
)

// Prompt is what the debugger prints when it waits for a command.
const Prompt = "(xdpsim) "

// Help lists the commands.
const Help = `commands (an empty line repeats the last one):
  s, step [N]          run N instructions (1), into calls
  n, next [N]          run N instructions, over calls (bpf-to-bpf calls, helpers' callbacks)
  c, continue          run to the next breakpoint or to the end of the packet
  b, break INSN        stop before instruction INSN of the program
  b, break PROG:INSN   stop before instruction INSN of program PROG (a name, or slotN of a dispatcher)
  b, break FILE:LINE   stop where C line LINE of FILE begins, in any program (or break LINE)
  delete [N]           remove breakpoint N (all without N); info shows them
  packet N             run every packet before N and stop at packet N's first instruction
  r, regs              the registers, with what each holds or points to
  p, print rN          one register and the bytes it points to
  stack                the non-zero 8-byte slots of the current stack frame
  bt                   the call frames
  l, list [INSN]       the instructions around the current one (or INSN), with C lines
  frame [hex]          the picture of the frame (or the sk_buff) now: pointers, areas, layers, bytes changed
  maps [hex]           the maps' contents, as their C types (or in hex)
  info                 where the run stands and the breakpoints
  h, help              this text
  q, quit              leave
`

// Run reads commands from in until quit or the end of the input, and writes what they show to
// out. It prints Prompt before each command.
func (d *Debugger) Run(in io.Reader, out io.Writer) error {
	defer d.Close()
	w := bufio.NewWriter(out)
	defer w.Flush()
	fmt.Fprintf(w, "xdpsim debugger: %s, %d packets. Type help for the commands.\n", d.what(), d.pkts.Len())
	d.where(w)
	sc := bufio.NewScanner(in)
	last := ""
	for {
		fmt.Fprint(w, Prompt)
		if err := w.Flush(); err != nil {
			return err
		}
		if !sc.Scan() {
			fmt.Fprintln(w)
			return sc.Err()
		}
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			line = last
		}
		if line == "" {
			continue
		}
		last = line
		if quit := d.Command(w, line); quit {
			return nil
		}
	}
}

// Command runs one command line and reports whether it asked to quit.
func (d *Debugger) Command(w io.Writer, line string) (quit bool) {
	f := strings.Fields(line)
	cmd, args := f[0], f[1:]
	count := func() int {
		if len(args) > 0 {
			if n, err := strconv.Atoi(args[0]); err == nil && n > 0 {
				return n
			}
		}
		return 1
	}
	needRun := func() bool {
		if !d.running {
			fmt.Fprintln(w, "no packet is running: step, next or continue starts one")
			return false
		}
		return true
	}
	switch cmd {
	case "s", "step", "si", "stepi":
		d.moved(w, func() { d.step(count()) })
	case "n", "next", "ni", "nexti":
		d.moved(w, func() { d.next(count()) })
	case "c", "continue", "run", "r!":
		d.moved(w, d.cont)
	case "b", "break":
		if len(args) != 1 {
			fmt.Fprintln(w, "break INSN, break FILE:LINE or break LINE")
			return
		}
		msg, err := d.addBreak(args[0])
		if err != nil {
			fmt.Fprintln(w, err)
			return
		}
		fmt.Fprintln(w, msg)
	case "delete", "d":
		if len(args) == 0 {
			d.breaks = nil
			fmt.Fprintln(w, "every breakpoint removed")
			return
		}
		n, err := strconv.Atoi(args[0])
		if err != nil || n < 1 || n > len(d.breaks) || d.breaks[n-1].pc < 0 {
			fmt.Fprintf(w, "no breakpoint %s\n", args[0])
			return
		}
		d.breaks[n-1].pc = -1 // keep the numbering
		fmt.Fprintf(w, "breakpoint %d removed\n", n)
	case "packet":
		n, err := strconv.Atoi(strings.Join(args, ""))
		if err != nil {
			fmt.Fprintln(w, "packet N: N counts packets from 1")
			return
		}
		if err := d.toPacket(n); err != nil {
			fmt.Fprintln(w, err)
			return
		}
		d.where(w)
	case "r", "regs", "registers":
		if needRun() {
			d.regs(w)
		}
	case "p", "print":
		if !needRun() {
			return
		}
		if len(args) != 1 {
			fmt.Fprintln(w, "print rN, N from 0 to 10")
			return
		}
		n, err := strconv.Atoi(strings.TrimPrefix(strings.ToLower(args[0]), "r"))
		if err != nil || n < 0 || n > 10 {
			fmt.Fprintf(w, "%s is not a register: r0 to r10\n", args[0])
			return
		}
		d.printReg(w, n)
	case "stack", "x":
		if needRun() {
			d.stack(w)
		}
	case "bt", "backtrace", "where":
		if needRun() {
			d.backtrace(w)
		}
	case "l", "list":
		at := -1
		if len(args) > 0 {
			if n, err := strconv.Atoi(args[0]); err == nil {
				at = n
			}
		}
		d.list(w, at)
	case "frame", "f":
		d.frame(w, len(args) > 0 && args[0] == "hex")
	case "maps", "m":
		d.maps(w, len(args) > 0 && args[0] == "hex")
	case "info", "i":
		d.where(w)
		for i, b := range d.breaks {
			if b.pc >= 0 {
				fmt.Fprintf(w, "breakpoint %d: %s, instruction %d of %s\n", i+1, b.what, b.pc, d.label(b.prog))
			}
		}
	case "h", "help", "?":
		fmt.Fprint(w, Help)
	case "q", "quit", "exit":
		return true
	default:
		fmt.Fprintf(w, "unknown command %q; help lists the commands\n", cmd)
	}
	return false
}

// moved runs a command that moves the run on, then says where it stands.
func (d *Debugger) moved(w io.Writer, f func()) {
	if !d.running && d.nextPkt >= d.pkts.Len() {
		fmt.Fprintln(w, "every packet has run")
		return
	}
	f()
	if d.running && d.isBreak(d.at.prog, d.at.pc) {
		fmt.Fprint(w, "breakpoint: ")
	}
	d.where(w)
}

// maps prints the maps as their BTF types (or hex): the XDP program's (every slot's for a
// dispatcher, named slot<N>/<map>) and the tc programs' objects'.
func (d *Debugger) maps(w io.Writer, hex bool) {
	dump, specs, err := d.dumpMaps()
	if err != nil {
		fmt.Fprintln(w, err)
		return
	}
	if hex {
		b, _ := json.MarshalIndent(dump, "", "  ")
		fmt.Fprintf(w, "%s\n", b)
		return
	}
	b, err := btfjson.FormatMaps(dump, btfjson.MapSpecTypes(specs))
	if err != nil {
		fmt.Fprintln(w, err)
		return
	}
	w.Write(b)
}

// dumpMaps dumps every map the programs use, with the spec of each by its name in the dump: the
// XDP's (sim.XDP.DumpMaps), then those of each tc object that is not the XDP program's, their
// names prefixed by the object's path when the XDP has a map of that name.
func (d *Debugger) dumpMaps() (result.Maps, map[string]*ebpf.MapSpec, error) {
	dump, specs := result.Maps{}, map[string]*ebpf.MapSpec{}
	seen := map[*sim.Object]bool{}
	if d.x != nil {
		var err error
		if dump, err = d.x.DumpMaps(); err != nil {
			return nil, nil, err
		}
		specs = d.x.MapSpecs()
		for _, p := range d.x.Programs() {
			seen[p.Object()] = true
		}
	}
	if d.tc == nil {
		return dump, specs, nil
	}
	for _, p := range d.tc.Programs() {
		o := p.Object()
		if seen[o] {
			continue
		}
		seen[o] = true
		m, err := o.DumpMaps()
		if err != nil {
			return nil, nil, err
		}
		for n, e := range m {
			name := n
			if _, clash := dump[n]; clash {
				name = o.Path + "/" + n
			}
			dump[name], specs[name] = e, o.Spec.Maps[n]
		}
	}
	return dump, specs, nil
}
