package xdptest

import (
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/xdptest/internal/fuzzcov"
	"github.com/xdpsim/xdpsim/vm"
)

// features turns a run's coverage record into what Go's fuzzer sees: a slot for each edge of each
// conditional jump (hit as often as the edge ran), a slot for each kind of ending (verdict, fault,
// refusal), and a slot for each degree of closeness of the comparison the run ended on
// (vm.Coverage.LastComparison: agreeing bits, or the leading zeros of a difference), so that the
// magic value or bound that stops an input's path is met a bit at a time. Slots beyond
// fuzzcov.Slots wrap around.
//
// Slots are numbered in the same order in every process (programs by name, instructions in
// order), as the fuzzer's workers compare their coverage with one another.
type features struct {
	progs   map[*vm.Program]*progSlots
	pending []hit
}

type progSlots struct {
	branches []int   // pcs of the conditional jumps
	edge     []int32 // per pc of a conditional jump: the slot of its taken edge; the next is its fall-through
	near     []int32 // per pc of a comparing jump: the slot of closeness 1; then 2, ...
	// seen says, per pc of a conditional jump, which of its edges (1 taken, 2 fall-through) any
	// run in this process took.
	seen []uint8
}

type hit struct {
	slot int
	n    uint64
	near bool // a closeness, not an edge or an ending
}

// Slots for the ending of a run: return values 0..4, another value, a fault, a refusal.
const (
	slotInvalidAction = 5
	slotFault         = 6
	slotRefused       = 7
	endingSlots       = 8
)

func newFeatures(obj *sim.Object) *features {
	f := &features{progs: map[*vm.Program]*progSlots{}}
	next := int32(endingSlots)
	for _, name := range obj.XDPPrograms() {
		p, err := obj.Program(name)
		if err != nil {
			continue // it cannot run, so it has no edges
		}
		ps := &progSlots{edge: make([]int32, p.VM.Len()), near: make([]int32, p.VM.Len()), seen: make([]uint8, p.VM.Len())}
		for i := range p.VM.Len() {
			ps.edge[i], ps.near[i] = -1, -1
			if !p.VM.IsBranch(i) {
				continue
			}
			ps.branches = append(ps.branches, i)
			ps.edge[i] = next
			next += 2
			if bits := p.VM.CompareBits(i); bits > 0 {
				ps.near[i] = next
				next += int32(bits - 1)
			}
		}
		f.progs[p.VM] = ps
	}
	return f
}

// collect adds the features of a run to pending (while the fuzzer's counters are masked).
func (f *features) collect(cov *vm.Coverage, out *sim.Outcome) {
	switch {
	case out.Fault != nil:
		f.pending = append(f.pending, hit{slotFault, 1, false})
	case out.Err != "":
		f.pending = append(f.pending, hit{slotRefused, 1, false})
	case out.Ret <= 4:
		f.pending = append(f.pending, hit{int(out.Ret), 1, false})
	default:
		f.pending = append(f.pending, hit{slotInvalidAction, 1, false})
	}
	for _, pc := range cov.Programs() {
		ps := f.progs[pc.Prog()]
		if ps == nil {
			continue
		}
		for _, i := range ps.branches {
			taken, fell := pc.Branch(i)
			if taken != 0 {
				f.pending = append(f.pending, hit{int(ps.edge[i]), taken, false})
			}
			if fell != 0 {
				f.pending = append(f.pending, hit{int(ps.edge[i]) + 1, fell, false})
			}
		}
	}
	// How close the comparison the run ended on came to its other outcome, when no run has had
	// that outcome yet: the next branch of the input's path. (Once one has, coming closer to it
	// is nothing new; and so a seed that reaches both outcomes leaves no ladder to climb.)
	if cmp, ok := cov.LastComparison(); ok {
		rec, i, near := cmp.Rec, cmp.PC, cmp.Near
		if ps := f.progs[rec.Prog()]; ps != nil && near > 0 && near < cmp.Bits {
			var other uint8
			switch taken, fell := rec.Branch(i); {
			case taken == 0:
				other = 1
			case fell == 0:
				other = 2
			}
			if other != 0 && ps.seen[i]&other == 0 {
				f.pending = append(f.pending, hit{int(ps.near[i]) + near - 1, 1, true})
			}
		}
	}
	for _, pc := range cov.Programs() {
		ps := f.progs[pc.Prog()]
		if ps == nil {
			continue
		}
		for _, i := range ps.branches {
			if taken, fell := pc.Branch(i); taken != 0 || fell != 0 {
				if taken != 0 {
					ps.seen[i] |= 1
				}
				if fell != 0 {
					ps.seen[i] |= 2
				}
			}
		}
	}
}

// show writes the noted features into the fuzzer's counters.
func (f *features) show() {
	for _, h := range f.pending {
		fuzzcov.Hit(h.slot, h.n)
	}
}
