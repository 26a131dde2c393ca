package verifier

import "github.com/xdpsim/xdpsim/kfuncs"

// KfuncChecked says whether the verifier checks calls of k as the kernel's verifier does. It
// checks the arguments kinds context, scalar, memory and size, in- and out-pointer, and pointer to a
// kernel object (referenced or trusted, of the prototype's struct), integer, no or kernel-object
// results, and references (KF_ACQUIRE, KF_RELEASE, KF_RET_NULL: the conntrack kfuncs); kfuncs
// that take or return pointers to memory, dynptrs, iterators, or that open and close critical
// sections the kernel pairs, it does not model yet: a program calling one is loaded without
// verification (the simulator says so).
func KfuncChecked(k *kfuncs.Kfunc) bool {
	if k.Ret != kfuncs.RetInt && k.Ret != kfuncs.RetVoid && k.Ret != kfuncs.RetBTFPtr {
		return false
	}
	if k.Flags&(kfuncs.KFIterNew|kfuncs.KFIterNext|kfuncs.KFIterDestroy) != 0 {
		return false
	}
	if pairedKfuncs[k.Name] {
		return false
	}
	for _, a := range k.Args {
		switch a.Kind {
		case kfuncs.ArgCtx, kfuncs.ArgScalar, kfuncs.ArgMem, kfuncs.ArgMemSize, kfuncs.ArgOut, kfuncs.ArgIn, kfuncs.ArgBTFPtr:
		default:
			return false
		}
	}
	return true
}

// pairedKfuncs open and close sections the kernel's verifier pairs (RCU read-side sections,
// preemption, local interrupts).
var pairedKfuncs = map[string]bool{
	"bpf_rcu_read_lock": true, "bpf_rcu_read_unlock": true,
	"bpf_preempt_disable": true, "bpf_preempt_enable": true,
	"bpf_local_irq_save": true, "bpf_local_irq_restore": true,
}
