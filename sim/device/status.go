package device

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteStatus prints the dispatcher as `xdp-loader status` prints an interface with one (same
// columns and widths), then what xdpsim adds: each slot's object, frags support, size and the
// rule that put it after the previous slot. Program IDs are the simulated ones: the dispatcher
// is loaded first, then the components in slot order.
func (d *Dispatcher) WriteStatus(w io.Writer, iface string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%-16s %-5s %-17s Mode     ID   %-17s %s\n", "Interface", "Prio", "Program name", "Tag", "Chain actions")
	b.WriteString("--------------------------------------------------------------------------------------\n")
	fmt.Fprintf(&b, "%-16s %-5s %-17s %-8s %-4d %-17s\n", iface, "", "xdp_dispatcher", "native", 1, "")
	for i, s := range d.Slots {
		fmt.Fprintf(&b, "%-16s %-5d  %-16s %-8s %-4d %-17x %s\n", " =>", s.Program.Config.Priority, s.Program.Name, "", i+2, s.Program.Tag, s.Program.Config.Actions)
	}
	b.WriteString("\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "slot\treplaces\tprogram\tobject\tfrags\tinsns\tplaced by")
	for _, s := range d.Slots {
		frags := "no"
		if s.Program.Frags {
			frags = "yes"
		}
		why := s.Why
		if s.Index == 0 {
			why = "first"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\n", s.Index, s.Target, s.Program.Name, s.Program.Object, frags, s.Program.Insns, why)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, d.Summary()+"\n")
	return err
}

// Summary says in one line how the dispatcher runs its programs.
func (d *Dispatcher) Summary() string {
	var b strings.Builder
	n := len(d.Slots)
	if n == 1 {
		b.WriteString("1 program, attached in place of the dispatcher's main function: its return value is the verdict, no chain-call actions apply")
	} else {
		fmt.Fprintf(&b, "%d programs in slots 0..%d; each slot's chain-call actions decide whether the next one runs; XDP_PASS when all go on", n, n-1)
	}
	switch {
	case d.Frags:
		b.WriteString("; frags: yes (every program is frags-aware)")
	case len(d.NotFrags) == n:
		b.WriteString("; frags: no (no program is marked frags-aware, which libxdp 1.3.1 needs even for SEC(\"xdp.frags\"))")
	default:
		fmt.Fprintf(&b, "; frags: no (not frags-aware: %s)", strings.Join(d.NotFrags, ", "))
	}
	return b.String()
}

// FixedSlot is a program's place in a dispatcher with fixed slots.
type FixedSlot struct {
	// Slot is the program's priority: in the fixed-slot model each priority is a slot.
	Slot    int
	Program Program
	// Refused says why the program got no slot ("" when it got one).
	Refused string
}

// FixedSlots places programs as the alternative Andrey Ignatov's review of the libxdp proposal
// sketched: a dispatcher created once with n slots that is never regenerated, where a program
// takes the slot its priority reserves (priority p is slot p) by replacing that slot's stub, and
// each slot's chain decision is a separate replaceable step. Programs are placed in the order
// given: a priority at or beyond n, or one a program before it took, gets no slot. The result is
// sorted by slot, refused programs last in the order given.
func FixedSlots(progs []Program, n int) []FixedSlot {
	taken := map[uint32]string{}
	var out, refused []FixedSlot
	for _, p := range progs {
		prio := p.Config.Priority
		switch {
		case prio >= uint32(n):
			refused = append(refused, FixedSlot{Slot: -1, Program: p, Refused: fmt.Sprintf("priority %d is beyond the %d slots", prio, n)})
		case taken[prio] != "":
			refused = append(refused, FixedSlot{Slot: -1, Program: p, Refused: fmt.Sprintf("slot %d is taken by %s", prio, taken[prio])})
		default:
			taken[prio] = p.Name
			out = append(out, FixedSlot{Slot: int(prio), Program: p})
		}
	}
	slices.SortStableFunc(out, func(a, b FixedSlot) int { return a.Slot - b.Slot })
	return append(out, refused...)
}
