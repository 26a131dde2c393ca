package sim

import (
	"fmt"
	"sort"

	"github.com/cilium/ebpf/asm"

	"github.com/xdpsim/xdpsim/vm"
)

// helperID is a helper's number as it stands in a call instruction.
func helperID(f asm.BuiltinFunc) int32 { return int32(uint32(f) & 0x00ffffff) }

// Kernel error numbers helpers return (negated) to programs.
const (
	ePERM       = 1
	eNOENT      = 2
	eFAULT      = 14
	eBUSY       = 16
	eEXIST      = 17
	eINVAL      = 22
	eNOSPC      = 28
	eRANGE      = 34
	eNOTSUPP    = 524 // kernel-internal ENOTSUPP, as bpf_xdp_adjust_meta returns it
	eOPNOTSUPP  = 95
	eMSGSIZE    = 90
	eE2BIG      = 7
	eNODATA     = 61
	eOVERFLOW   = 75
	eAFNOSUPP   = 97
	eNOMEM      = 12
	eHOSTUNREAC = 113
)

// neg is -errno as the 64-bit register value a helper returns.
func neg(errno int) uint64 { return uint64(-int64(errno)) }

// helperImpl is a helper as the simulator implements it: given the XDP state of the run.
type helperImpl func(s *xdpState, m *vm.Machine, r1, r2, r3, r4, r5 uint64) (uint64, error)

// xdpHelpers is the helper table of XDP programs: the kernel's xdp_func_proto and the base helpers it
// falls back to. A helper not in the table fails the load, naming it.
var xdpHelpers = map[int32]helperImpl{}

func register(f asm.BuiltinFunc, h helperImpl) { xdpHelpers[helperID(f)] = h }

// helpersFor builds the vm helper table for a program: every helper its calls name, or an error
// naming the first one the simulator lacks.
func (o *Object) helpersFor(p *Program, raw []vm.Instruction) (map[int32]vm.Helper, error) {
	out := map[int32]vm.Helper{}
	var missing []string
	for pc, in := range raw {
		if in.Op != vm.OpCall || in.Src() != 0 {
			continue
		}
		if _, done := out[in.Imm]; done {
			continue
		}
		impl, ok := xdpHelpers[in.Imm]
		if !ok {
			name := helperName(in.Imm)
			if name == "" {
				name = "unknown helper"
			}
			missing = append(missing, fmt.Sprintf("%s (#%d) at instruction %d%s", name, in.Imm, pc, lineSuffix(p.Line(pc))))
			out[in.Imm] = nil
			continue
		}
		out[in.Imm] = func(m *vm.Machine, r1, r2, r3, r4, r5 uint64) (uint64, error) {
			return impl(m.Host.(*xdpState), m, r1, r2, r3, r4, r5)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("calls helpers the simulator does not provide for XDP programs: %v", missing)
	}
	return out, nil
}

func lineSuffix(l string) string {
	if l == "" {
		return ""
	}
	return " (" + l + ")"
}

// HelperName is the C name of a helper number ("bpf_xdp_adjust_head"), "" when unknown.
func HelperName(id int32) string { return helperName(id) }
