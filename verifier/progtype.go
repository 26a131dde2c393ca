package verifier

import (
	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/kfuncs"
	"github.com/xdpsim/xdpsim/vm"
)

// A program type's rules: what its context looks like and how the kernel rewrites accesses to
// it, which helpers it may call, and what it may return. Each program type registers one
// progType (see xdp.go); a type without one is not supported.
//
// To add a program type, write a file that calls registerProgType from an init function with:
//   - ctxAccess: the kernel's is_valid_access for the type (what a load of the field gives:
//     a scalar or a pointer type such as ptrToPacket, with its flags);
//   - convertCtx: the kernel's convert_ctx_access (the instructions one valid context access
//     becomes; nil when it stays as it is);
//   - prologue: the kernel's gen_prologue (what is put in front of the program; nil for
//     nothing);
//   - ldAbs: whether the type may use BPF_LD_[ABS|IND] (may_access_skb);
//   - helper: the type's func_proto (the helper's prototype, or nil when the type may not call
//     it); helperProtos holds every prototype, baseHelper the bpf_base_func_proto fallback;
//   - ret: the range the program must return (nil: not checked);
//   - pktWrite: whether the program may write packet data directly.
type progType struct {
	name       string
	ctxAccess  func(a ctxAccess) (ctxField, bool)
	convertCtx func(ins vm.Instruction, a ctxAccess) []vm.Instruction
	prologue   func(a progInfo) []vm.Instruction
	ldAbs      bool
	helper     func(id int32, p *Program) *helperProto
	ret        *retRange
	pktWrite   bool
	// kfunc says whether the type may call a kfunc (the kernel's kfunc id sets per type).
	kfunc func(k *kfuncs.Kfunc) bool
}

// ctxAccess is one access to the context.
type ctxAccess struct {
	off, size int
	write     bool
	ldsx      bool
	attach    ebpf.AttachType
	prog      *Program
	// info is what the exploration learnt of the whole program (for the rewrite).
	info progInfo
}

// ctxField is what a load of a context field gives: a scalar, or a pointer of a type with
// flags (PTR_TO_SOCK_COMMON_OR_NULL for __sk_buff's sk).
type ctxField struct {
	typ   regType
	flags typeFlag
}

// progInfo is what the exploration learnt of the program as a whole, which the rewrite of its
// context accesses and the prologue depend on.
type progInfo struct {
	// directWrite: the program stores into packet data through a packet pointer (the kernel's
	// seen_direct_write).
	directWrite bool
	// tstampTypeAccess: a tc program reads __sk_buff's tstamp_type, which makes tstamp a plain
	// field (prog->tstamp_type_access).
	tstampTypeAccess bool
}

type retRange struct{ min, max int64 }

var progTypes = map[ebpf.ProgramType]*progType{}

func registerProgType(t ebpf.ProgramType, pt *progType) {
	if _, dup := progTypes[t]; dup {
		panic("verifier: program type " + t.String() + " registered twice")
	}
	progTypes[t] = pt
}

func lookupProgType(t ebpf.ProgramType) *progType { return progTypes[t] }

// Supported reports whether the verifier knows the rules of program type t.
func Supported(t ebpf.ProgramType) bool { return progTypes[t] != nil }
