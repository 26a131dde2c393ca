package verifier

import "github.com/xdpsim/xdpsim/kfuncs"

// KfuncChecked says whether the verifier checks calls of k as the kernel's verifier does. It
// checks the arguments kinds context, scalar, memory and size, in- and out-pointer, and pointer to a
// kernel object (referenced or trusted, of the prototype's struct), integer, no or kernel-object
// results, references (KF_ACQUIRE, KF_RELEASE, KF_RET_NULL: the conntrack kfuncs), dynptrs made
// from the packet and passed on, their clones (bpf_dynptr_clone: the source's kind and
// reference), read-only dynptr slices (bpf_dynptr_slice, invalidated with the packet pointers),
// the number iterator, and RCU read-side, preemption and local-interrupt sections (paired on
// every path; the interrupt flags in a stack slot of their own, sections closed in reverse
// order); other iterators it does not model yet: a program calling one is loaded without
// verification (the simulator says so).
func KfuncChecked(k *kfuncs.Kfunc) bool {
	switch k.Ret {
	case kfuncs.RetInt, kfuncs.RetVoid, kfuncs.RetBTFPtr:
	case kfuncs.RetMem:
		// Only the read-only slice of a dynptr and the number iterator's element.
		if k.Name != "bpf_dynptr_slice" && k.Name != "bpf_iter_num_next" {
			return false
		}
	default:
		return false
	}
	if k.Flags&(kfuncs.KFIterNew|kfuncs.KFIterNext|kfuncs.KFIterDestroy) != 0 && iterKind(k.Name) != "num" {
		return false
	}
	for _, a := range k.Args {
		switch a.Kind {
		case kfuncs.ArgCtx, kfuncs.ArgScalar, kfuncs.ArgMem, kfuncs.ArgMemSize, kfuncs.ArgOut, kfuncs.ArgIn, kfuncs.ArgBTFPtr,
			kfuncs.ArgDynptr, kfuncs.ArgDynptrUninit, kfuncs.ArgConstSize, kfuncs.ArgIter, kfuncs.ArgIRQFlag:
		default:
			return false
		}
	}
	return true
}
