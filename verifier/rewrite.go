package verifier

import (
	"fmt"
	"math"

	"github.com/xdpsim/xdpsim/vm"
)

// rewrite applies the program type's context rewriting (convert_ctx_accesses) to every load
// and store the exploration saw accessing the context, puts the type's prologue in front, moving jumps, calls and function addresses so that
// they keep their targets. The result is what `bpftool prog dump xlated` shows for the
// program, as far as context accesses go: the kernel's other rewrites (helper inlining, map
// pointer loads, dead code removal) are not made.
func (e *env) rewrite() ([]vm.Instruction, []int, error) {
	n := len(e.insns)
	out := make([]vm.Instruction, 0, n+8)
	origin := make([]int, 0, n+8)
	newPos := make([]int, n+1)
	var prologue []vm.Instruction
	if e.pt.prologue != nil {
		prologue = e.pt.prologue(e.info)
	}
	for _, x := range prologue {
		out = append(out, x)
		origin = append(origin, 0)
	}
	for pc := 0; pc < n; pc++ {
		newPos[pc] = len(out)
		ins := e.insns[pc]
		if e.aux[pc].ctx && !e.second[pc] && e.pt.convertCtx != nil {
			if x := e.pt.convertCtx(ins, ctxAccess{off: int(ins.Off), size: sizeBytes(ins.Op), write: ins.Class() != vm.ClassLDX,
				attach: e.p.AttachType, prog: e.p, info: e.info}); x != nil {
				for _, xi := range x {
					out = append(out, xi)
					origin = append(origin, pc)
				}
				continue
			}
		}
		out = append(out, ins)
		origin = append(origin, pc)
	}
	newPos[n] = len(out)
	if len(out) == n {
		return out, origin, nil
	}
	for pc := 0; pc < n; pc++ {
		if e.second[pc] {
			continue
		}
		ins := e.insns[pc]
		at := newPos[pc]
		retarget := func(delta int) (int, bool) {
			t := pc + delta + 1
			if t < 0 || t > n {
				return delta, false
			}
			// A jump to the first instruction lands on the prologue, as the kernel's
			// bpf_patch_insn_data leaves it.
			nt := newPos[t]
			if t == 0 {
				nt = 0
			}
			return nt - at - 1, true
		}
		switch {
		case ins.Op == vm.OpLdImm64 && ins.Src() == vm.PseudoFunc,
			ins.Op == vm.OpCall && ins.Src() == vm.PseudoCall,
			ins.Op == vm.OpJA32:
			if d, ok := retarget(int(ins.Imm)); ok {
				out[at].Imm = int32(d)
			}
		default:
			if _, ok := e.jumpTarget(pc); !ok {
				continue
			}
			d, ok := retarget(int(ins.Off))
			if !ok {
				continue
			}
			if d < math.MinInt16 || d > math.MaxInt16 {
				return nil, nil, &Error{Program: e.p.Name, PC: pc, Line: e.line(pc),
					Msg: fmt.Sprintf("jump to pc%+d does not fit in 16 bits once context loads are expanded", d)}
			}
			out[at].Off = int16(d)
		}
	}
	return out, origin, nil
}
