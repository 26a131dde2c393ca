package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/device"
)

// cmdStatus shows how libxdp would attach objects to one interface, in the style of xdp-loader
// status: the slots, their order and why, and what adding more programs would change.
func cmdStatus(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("status", "[flags] PROG.o [PROG.o...]", stdout)
	var df dispatchFlags
	df.register(fs)
	var add []string
	var fixed int
	var asJSON bool
	var iface string
	fs.StringArrayVar(&add, "add", nil, "then attach this object too, as a later xdp-loader load would, and show the regenerated dispatcher and what moved (repeatable)")
	fs.IntVar(&fixed, "fixed-slots", 0, "also place the programs in a dispatcher with N fixed slots that is never regenerated (the alternative of the libxdp proposal's review): each takes the slot its priority names")
	fs.BoolVar(&asJSON, "json", false, "print the plan as JSON")
	fs.StringVar(&iface, "iface", "sim0", "the interface name to show")
	if err := parseFlags(fs, args); err != nil {
		if errors.Is(err, errHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() == 0 {
		return usageErr(errors.New("need at least one object (see xdpsim status --help)"))
	}
	if fixed < 0 {
		return usageErr(fmt.Errorf("--fixed-slots %d: want a number of slots (0: none)", fixed))
	}
	dopts, err := df.options()
	if err != nil {
		return usageErr(err)
	}
	load := func(paths []string) ([]sim.Attachment, error) {
		var progs []*sim.Program
		for _, path := range paths {
			obj, err := sim.Load(path, sim.LoadOptions{})
			if err != nil {
				return nil, err
			}
			p, err := obj.FindProgram("")
			if err != nil {
				return nil, err
			}
			progs = append(progs, p)
		}
		return df.attachments(progs, paths)
	}
	atts, err := load(fs.Args())
	if err != nil {
		return usageErr(err)
	}
	x, err := sim.NewDispatcher(atts, dopts)
	if err != nil {
		return usageErr(err)
	}
	var after *sim.XDP
	if len(add) > 0 {
		more, err := load(add)
		if err != nil {
			return usageErr(err)
		}
		if after, err = x.Add(more...); err != nil {
			return usageErr(fmt.Errorf("--add: %w", err))
		}
	}
	var fixedSlots []device.FixedSlot
	if fixed > 0 {
		var progs []device.Program
		for _, s := range x.Dispatcher().Slots {
			progs = append(progs, s.Program)
		}
		if after != nil {
			for _, s := range after.Dispatcher().Slots {
				if s.Program.Ref >= len(atts) {
					progs = append(progs, s.Program)
				}
			}
		}
		fixedSlots = device.FixedSlots(progs, fixed)
	}
	if asJSON {
		out := map[string]any{"dispatcher": statusJSON(x.Dispatcher())}
		if after != nil {
			out["after_add"] = statusJSON(after.Dispatcher())
		}
		if fixedSlots != nil {
			out["fixed_slots"] = fixedJSON(fixedSlots)
		}
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s\n", b)
		return err
	}
	if err := x.Dispatcher().WriteStatus(stdout, iface); err != nil {
		return err
	}
	if after != nil {
		fmt.Fprintf(stdout, "\nAfter adding %d program(s), libxdp builds a new dispatcher and replaces the old one atomically:\n\n", len(add))
		if err := after.Dispatcher().WriteStatus(stdout, iface); err != nil {
			return err
		}
		fmt.Fprintln(stdout)
		writeMoves(stdout, x.Dispatcher(), after.Dispatcher())
	}
	if fixedSlots != nil {
		fmt.Fprintf(stdout, "\nWith %d fixed slots instead (never regenerated; priority p is slot p):\n\n", fixed)
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "slot\tprogram\tobject\tchain actions\tnote")
		for _, s := range fixedSlots {
			slot := fmt.Sprint(s.Slot)
			if s.Refused != "" {
				slot = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", slot, s.Program.Name, s.Program.Object, s.Program.Config.Actions, s.Refused)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// writeMoves says, for every program, where the regeneration put it.
func writeMoves(w io.Writer, before, after *device.Dispatcher) {
	was := map[int]int{}
	for _, s := range before.Slots {
		was[s.Program.Ref] = s.Index
	}
	moved := 0
	for _, s := range after.Slots {
		old, ok := was[s.Program.Ref]
		switch {
		case !ok:
			fmt.Fprintf(w, "  %s (%s): new, slot %d\n", s.Program.Name, s.Program.Object, s.Index)
		case old != s.Index:
			moved++
			fmt.Fprintf(w, "  %s (%s): slot %d -> %d\n", s.Program.Name, s.Program.Object, old, s.Index)
		default:
			fmt.Fprintf(w, "  %s (%s): stays in slot %d\n", s.Program.Name, s.Program.Object, s.Index)
		}
	}
	fmt.Fprintf(w, "Every program was linked again into the new dispatcher's slots; %d of the %d already there moved.\n", moved, len(before.Slots))
}

type slotJSON struct {
	Slot     int      `json:"slot"`
	Replaces string   `json:"replaces"`
	Program  string   `json:"program"`
	Object   string   `json:"object"`
	Priority uint32   `json:"priority"`
	Actions  []string `json:"chain_actions"`
	Frags    bool     `json:"frags"`
	Insns    int      `json:"insns"`
	Tag      string   `json:"tag"`
	PlacedBy string   `json:"placed_by,omitempty"`
}

func statusJSON(d *device.Dispatcher) map[string]any {
	var slots []slotJSON
	for _, s := range d.Slots {
		acts := []string{}
		for a := device.Aborted; a <= device.Redirect; a++ {
			if s.Program.Config.Actions.Has(a) {
				acts = append(acts, a.String())
			}
		}
		slots = append(slots, slotJSON{s.Index, s.Target, s.Program.Name, s.Program.Object, s.Program.Config.Priority, acts,
			s.Program.Frags, s.Program.Insns, hex.EncodeToString(s.Program.Tag[:]), s.Why})
	}
	cfg, _ := d.Config.MarshalBinary()
	return map[string]any{"slots": slots, "frags": d.Frags, "config": hex.EncodeToString(cfg)}
}

func fixedJSON(fs []device.FixedSlot) []map[string]any {
	var out []map[string]any
	for _, s := range fs {
		e := map[string]any{"program": s.Program.Name, "object": s.Program.Object}
		if s.Refused != "" {
			e["refused"] = s.Refused
		} else {
			e["slot"] = s.Slot
		}
		out = append(out, e)
	}
	return out
}
