package verifier

import (
	"fmt"
	"strings"

	"github.com/xdpsim/xdpsim/vm/assembly"
)

func (e *env) insnText(pc int) string {
	return assembly.FormatKernel(e.insns, pc, &assembly.KernelOptions{CallName: e.callName, Imm: assembly.BPFToolImm})
}

// formatState renders the state as print_verifier_state does: every register and stack slot
// (all), or only those the last instruction touched. It starts with a space, or is "".
func (e *env) formatState(st *vstate, all bool) string {
	var b strings.Builder
	cur := st.curframe
	if all {
		for i := 0; i <= cur; i++ {
			if i < cur {
				continue
			}
		}
	}
	b.WriteString(e.formatFrameBody(st, cur, all))
	if all && len(st.refs) > 0 {
		fmt.Fprintf(&b, " refs=%d", st.refs[0].id)
		for _, r := range st.refs[1:] {
			fmt.Fprintf(&b, ",%d", r.id)
		}
	}
	return b.String()
}

func (e *env) formatFrame(st *vstate, fi int, all bool) string {
	return e.formatFrameBody(st, fi, all)
}

func (e *env) formatFrameBody(st *vstate, fi int, all bool) string {
	var b strings.Builder
	f := st.frames[fi]
	if f.frameno > 0 {
		fmt.Fprintf(&b, " frame%d:", f.frameno)
	}
	for r := 0; r < 11; r++ {
		rg := &f.regs[r]
		if rg.typ == notInit {
			continue
		}
		if !all && e.scratchRegs&(1<<r) == 0 {
			continue
		}
		fmt.Fprintf(&b, " R%d=%s", r, rg.format(e.p, f.frameno))
	}
	for spi := range f.stack {
		if !all && (spi >= 64 || e.scratchStack&(1<<spi) == 0) {
			continue
		}
		s := &f.stack[spi]
		var types [8]byte
		valid := false
		for j, t := range s.slot {
			if t != stackInvalid {
				valid = true
			}
			types[j] = slotTypeChar[t]
		}
		if !valid {
			continue
		}
		off := -(spi + 1) * 8
		switch s.slot[7] {
		case stackSpill:
			j := 0
			for j < 8 && s.slot[j] != stackSpill {
				j++
			}
			fmt.Fprintf(&b, " fp%d=%s%s", off, types[:j], s.spilled.format(e.p, f.frameno))
		case stackDynptr:
			if s.dynptrFirst {
				fmt.Fprintf(&b, " fp%d=dynptr_%s(", off, dynptrKindNames[s.dynKind])
				sep := ""
				if s.spilled.id != 0 {
					fmt.Fprintf(&b, "id=%d", s.spilled.id)
					sep = ","
				}
				if s.spilled.refID != 0 {
					fmt.Fprintf(&b, "%sref_id=%d", sep, s.spilled.refID)
				}
				b.WriteString(")")
			}
		default:
			fmt.Fprintf(&b, " fp%d=%s", off, types[:])
		}
	}
	if f.inCallback {
		b.WriteString(" cb")
	}
	if f.async {
		b.WriteString(" async_cb")
	}
	return b.String()
}
