package verifier

import "github.com/xdpsim/xdpsim/kfuncs"

// KfuncChecked says whether the verifier checks calls of k as the kernel's verifier does. It
// checks the arguments kinds context, scalar, memory and size, in- and out-pointer, and pointer to a
// kernel object (referenced or trusted, of the prototype's struct), integer, no or kernel-object
// results, references (KF_ACQUIRE, KF_RELEASE, KF_RET_NULL: the conntrack kfuncs), dynptrs made
// from the packet and passed on, their clones (bpf_dynptr_clone: the source's kind and
// reference), read-only dynptr slices (bpf_dynptr_slice, invalidated with the packet pointers),
// the number iterator, and RCU read-side and preemption sections (paired on every path); other
// iterators and the local-interrupt section kfuncs (whose flags live in a stack slot of their
// own) it does not model yet: a program calling one is loaded without verification (the
// simulator says so).
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
	if pairedKfuncs[k.Name] {
		return false
	}
	for _, a := range k.Args {
		switch a.Kind {
		case kfuncs.ArgCtx, kfuncs.ArgScalar, kfuncs.ArgMem, kfuncs.ArgMemSize, kfuncs.ArgOut, kfuncs.ArgIn, kfuncs.ArgBTFPtr,
			kfuncs.ArgDynptr, kfuncs.ArgDynptrUninit, kfuncs.ArgConstSize, kfuncs.ArgIter:
		default:
			return false
		}
	}
	return true
}

// pairedKfuncs open and close sections the kernel's verifier pairs that the verifier does not
// model: local interrupts.
var pairedKfuncs = map[string]bool{
	"bpf_local_irq_save": true, "bpf_local_irq_restore": true,
}
