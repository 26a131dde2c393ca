package debug

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/xdpsim/xdpsim/sim/btfjson"
)

// Prompt is what the debugger prints when it waits for a command.
const Prompt = "(xdpsim) "

// Help lists the commands.
const Help = `commands (an empty line repeats the last one):
  s, step [N]          run N instructions (1), into calls
  n, next [N]          run N instructions, over calls (bpf-to-bpf calls, helpers' callbacks)
  c, continue          run to the next breakpoint or to the end of the packet
  b, break INSN        stop before instruction INSN of the program
  b, break FILE:LINE   stop where C line LINE of FILE begins (or break LINE)
  delete [N]           remove breakpoint N (all without N); info shows them
  packet N             run every packet before N and stop at packet N's first instruction
  r, regs              the registers, with what each holds or points to
  p, print rN          one register and the bytes it points to
  stack                the non-zero 8-byte slots of the current stack frame
  bt                   the call frames
  l, list [INSN]       the instructions around the current one (or INSN), with C lines
  frame [hex]          the picture of the frame now: pointers, areas, layers, bytes changed
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
	fmt.Fprintf(w, "xdpsim debugger: program %s, %d packets. Type help for the commands.\n", d.x.Program().Name, d.pkts.Len())
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
				fmt.Fprintf(w, "breakpoint %d: %s, instruction %d of %s\n", i+1, b.what, b.pc, b.prog)
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

// maps prints the object's maps as their BTF types (or hex).
func (d *Debugger) maps(w io.Writer, hex bool) {
	obj := d.x.Program().Object()
	dump, err := obj.DumpMaps()
	if err != nil {
		fmt.Fprintln(w, err)
		return
	}
	if hex {
		b, _ := json.MarshalIndent(dump, "", "  ")
		fmt.Fprintf(w, "%s\n", b)
		return
	}
	b, err := btfjson.FormatMaps(dump, btfjson.SpecTypes(obj.Spec))
	if err != nil {
		fmt.Fprintln(w, err)
		return
	}
	w.Write(b)
}
