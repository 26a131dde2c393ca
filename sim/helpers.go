package sim

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/xdpsim/xdpsim/vm"
)

// helperID is a helper's number as it stands in a call instruction.
func helperID(f asm.BuiltinFunc) int32 { return int32(uint32(f) & 0x00ffffff) }

// helperImpl is a helper as the simulator implements it: given the run's state, whatever the
// program's type.
type helperImpl func(s *runState, m *vm.Machine, r1, r2, r3, r4, r5 uint64) (uint64, error)

// The helper tables. baseHelpers holds the helpers every simulated program type may call (the
// kernel's bpf_base_func_proto and bpf_sk_base_func_proto, which the per-type tables fall back to);
// xdpHelpers those of XDP programs (xdp_func_proto), skbHelpers those of tc programs
// (tc_cls_act_func_proto). A per-type entry wins over a base one of the same number. A helper in
// neither table of a program's type fails the load, naming it.
var (
	baseHelpers = map[int32]helperImpl{}
	xdpHelpers  = map[int32]helperImpl{}
	skbHelpers  = map[int32]helperImpl{}
)

// registerBase adds a helper every program type may call.
func registerBase(f asm.BuiltinFunc, h helperImpl) { baseHelpers[helperID(f)] = h }

// registerXDP adds a helper of XDP programs, which works on the xdp_buff.
func registerXDP(f asm.BuiltinFunc, h func(s *xdpState, m *vm.Machine, r1, r2, r3, r4, r5 uint64) (uint64, error)) {
	xdpHelpers[helperID(f)] = func(s *runState, m *vm.Machine, r1, r2, r3, r4, r5 uint64) (uint64, error) {
		return h(s.xdp, m, r1, r2, r3, r4, r5)
	}
}

// registerSkb adds a helper of tc programs, which works on the sk_buff.
func registerSkb(f asm.BuiltinFunc, h func(s *skbState, m *vm.Machine, r1, r2, r3, r4, r5 uint64) (uint64, error)) {
	skbHelpers[helperID(f)] = func(s *runState, m *vm.Machine, r1, r2, r3, r4, r5 uint64) (uint64, error) {
		return h(s.skb, m, r1, r2, r3, r4, r5)
	}
}

// registerXDPAndTC adds a helper that XDP and tc programs may call (each type's table lists it in the
// kernel), working on either packet through the run state.
func registerXDPAndTC(f asm.BuiltinFunc, h helperImpl) {
	xdpHelpers[helperID(f)] = h
	skbHelpers[helperID(f)] = h
}

// helperTable is the table of a program type ("XDP", "SchedCLS"), nil for a type the simulator
// does not run.
func helperTable(t ebpf.ProgramType) map[int32]helperImpl {
	switch t {
	case ebpf.XDP:
		return xdpHelpers
	case ebpf.SchedCLS:
		return skbHelpers
	}
	return nil
}

// lookupHelper finds helper id for a program of type t.
func lookupHelper(t ebpf.ProgramType, id int32) (helperImpl, bool) {
	if h, ok := helperTable(t)[id]; ok {
		return h, true
	}
	h, ok := baseHelpers[id]
	return h, ok
}

// helpersFor builds the vm helper table for a program: every helper its calls name. The helpers
// the simulator lacks come back as missing calls (with nil in the table), for the load error to
// name together with any missing kfunc.
func (o *Object) helpersFor(p *Program, raw []vm.Instruction) (map[int32]vm.Helper, []MissingCall) {
	out := map[int32]vm.Helper{}
	var missing []MissingCall
	for pc, in := range raw {
		if in.Op != vm.OpCall || in.Src() != 0 {
			continue
		}
		if _, done := out[in.Imm]; done {
			continue
		}
		impl, ok := lookupHelper(p.Type, in.Imm)
		if !ok {
			missing = append(missing, MissingCall{Name: helperName(in.Imm), Helper: in.Imm, Insn: pc, Line: p.Line(pc), Note: helperNote(p.Type, in.Imm)})
			out[in.Imm] = nil
			continue
		}
		out[in.Imm] = func(m *vm.Machine, r1, r2, r3, r4, r5 uint64) (uint64, error) {
			return impl(m.Host.(*runState), m, r1, r2, r3, r4, r5)
		}
		if p.Type == ebpf.SchedCLS {
			out[in.Imm] = observedSkbHelper(in.Imm, impl)
		}
	}
	return out, missing
}

func lineSuffix(l string) string {
	if l == "" {
		return ""
	}
	return " (" + l + ")"
}

// HelperName is the C name of a helper number ("bpf_xdp_adjust_head"), "" when unknown.
func HelperName(id int32) string { return helperName(id) }

// typeWord names a program type as users know it: "XDP", "tc" (SCHED_CLS).
func typeWord(t ebpf.ProgramType) string {
	switch t {
	case ebpf.XDP:
		return "XDP"
	case ebpf.SchedCLS:
		return "tc"
	}
	return t.String()
}
