package verifier

import (
	"slices"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/kfuncs"
	"github.com/xdpsim/xdpsim/vm"
)

// The tc program type (BPF_PROG_TYPE_SCHED_CLS): struct __sk_buff as the context, with the
// access rules and rewrites of skb.go (tc_cls_act_is_valid_access, tc_cls_act_convert_ctx_access),
// the prologue that unclones the skb of a program that writes packet data directly
// (tc_cls_act_prologue), the legacy packet loads (BPF_LD_[ABS|IND]) and the helpers of
// tc_cls_act_func_proto. tc programs may return any value (tcx and cls_bpf read what they know
// and treat the rest as their default).

func init() {
	registerProgType(ebpf.SchedCLS, &progType{
		name:       "tc",
		ctxAccess:  tcCtxAccess,
		convertCtx: tcConvertCtx,
		prologue:   tcPrologue,
		helper:     tcFuncProto,
		pktWrite:   true,
		ldAbs:      true,
		// The kernel registers the RX-metadata kfuncs (and xdpsim's proposals) for XDP only;
		// tc programs get the generic kfuncs and those registered for SCHED_CLS (conntrack's
		// bpf_skb_ct_*, bpf_dynptr_from_skb).
		kfunc: func(k *kfuncs.Kfunc) bool { return len(k.Types) == 0 || slices.Contains(k.Types, ebpf.SchedCLS) },
	})
}

// tcCtxAccess is tc_cls_act_is_valid_access, with what a load of each field gives.
func tcCtxAccess(a ctxAccess) (ctxField, bool) {
	t, ok := SkbTCAccess(a.off, a.size, a.write, a.ldsx)
	if !ok {
		return ctxField{}, false
	}
	switch t {
	case SkbPacket:
		return ctxField{typ: ptrToPacket}, true
	case SkbPacketMeta:
		return ctxField{typ: ptrToPacketMeta}, true
	case SkbPacketEnd:
		return ctxField{typ: ptrToPacketEnd}, true
	case SkbSockCommonOrNull:
		return ctxField{typ: ptrToSockCommon, flags: flagMaybeNull}, true
	}
	return ctxField{typ: scalarValue}, true
}

func tcConvertCtx(ins vm.Instruction, a ctxAccess) []vm.Instruction {
	return SkbTCConvert(ins, a.info.tstampTypeAccess)
}

func tcPrologue(info progInfo) []vm.Instruction {
	if !info.directWrite {
		return nil
	}
	return SkbTCPrologue()
}

// tcHelpers lists the helpers a tc program may call on Linux 6.18 with a root loader
// (tc_cls_act_func_proto, bpf_sk_base_func_proto and bpf_base_func_proto), as measured by
// loading a call of every helper number (kernel/helpers_allowed_test.go holds it to the kernel).
var tcHelpers = map[int32]bool{}

func init() {
	for _, id := range []int32{1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
		22, 23, 24, 25, 26, 28, 29, 30, 31, 32, 33, 34, 35, 37, 38, 39, 40, 41, 42, 43, 46, 47, 48, 50,
		55, 66, 68, 69, 79, 80, 83, 84, 85, 86, 87, 88, 89, 93, 94, 95, 96, 97, 98, 99, 100, 105, 106,
		107, 108, 109, 110, 112, 113, 114, 115, 117, 118, 120, 122, 123, 124, 125, 130, 131, 132, 133,
		134, 135, 136, 137, 138, 139, 140, 141, 148, 149, 151, 152, 153, 154, 155, 156, 157, 158, 160,
		163, 164, 165, 169, 170, 171, 172, 175, 176, 177, 178, 180, 181, 182, 191, 192, 194, 195, 196,
		197, 198, 199, 200, 201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211} {
		tcHelpers[id] = true
	}
}

// tcFuncProto is the kernel's tc_cls_act_func_proto.
func tcFuncProto(id int32, p *Program) *helperProto {
	if !tcHelpers[id] {
		return nil
	}
	if id == 122 {
		return netnsCookieCtxOrNull
	}
	if h := helperProtos[id]; h != nil {
		return h
	}
	return unmodelled
}

// HelperAllowed reports whether a program of type t may call helper id, as the kernel's
// func_proto of the type answers for a root loader (false for a type the verifier does not
// know).
func HelperAllowed(t ebpf.ProgramType, id int32) bool {
	pt := lookupProgType(t)
	return pt != nil && pt.helper(id, nil) != nil
}
