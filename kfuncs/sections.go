package kfuncs

import (
	"github.com/xdpsim/xdpsim/vm"
)

// Critical sections (kernel/bpf/helpers.c, Linux 6.18): RCU read-side sections, preemption and
// local interrupts. The verifier pairs the calls (an unmatched unlock, or an exit inside a
// section, fails the load); at run time they only change the CPU's state, which a simulated run,
// one program at a time on one simulated CPU, has no use for. So they do nothing here but what a
// program could see: bpf_local_irq_save stores the interrupt flags, as x86's
// local_irq_save would with interrupts on (X86_EFLAGS_IF, 0x200, and the always-set bit 1).

// savedIRQFlags is what bpf_local_irq_save stores: x86's EFLAGS with interrupts enabled.
const savedIRQFlags = 0x202

func init() {
	noop := func(Features) vm.Helper {
		return func(*vm.Machine, uint64, uint64, uint64, uint64, uint64) (uint64, error) { return 0, nil }
	}
	for _, k := range []struct{ name, doc string }{
		{"bpf_rcu_read_lock", "enters an RCU read-side section (nothing to do in the simulator)"},
		{"bpf_rcu_read_unlock", "leaves the RCU read-side section (nothing to do in the simulator)"},
		{"bpf_preempt_disable", "disables preemption (nothing to do in the simulator)"},
		{"bpf_preempt_enable", "enables preemption again (nothing to do in the simulator)"},
	} {
		register(Kfunc{Name: k.name, Proto: "void " + k.name + "(void)", Doc: k.doc}, noop)
	}
	flags := Arg{Name: "flags__irq_flag", Type: "unsigned long *", Kind: ArgIRQFlag}
	register(Kfunc{
		Name:  "bpf_local_irq_save",
		Proto: "void bpf_local_irq_save(unsigned long *flags__irq_flag)",
		Doc:   "disables local interrupts, saving their state in *flags__irq_flag (0x202 in the simulator: x86 with interrupts on)",
		Args:  []Arg{flags},
	}, func(Features) vm.Helper { return irqSave })
	register(Kfunc{
		Name:  "bpf_local_irq_restore",
		Proto: "void bpf_local_irq_restore(unsigned long *flags__irq_flag)",
		Doc:   "restores local interrupts as bpf_local_irq_save saved them",
		Args:  []Arg{flags},
	}, func(Features) vm.Helper { return irqRestore })
}

func irqSave(m *vm.Machine, flags, _, _, _, _ uint64) (uint64, error) {
	b, err := m.Bytes(flags, 8, true)
	if err != nil {
		return 0, err
	}
	le.PutUint64(b, savedIRQFlags)
	return 0, nil
}

func irqRestore(m *vm.Machine, flags, _, _, _, _ uint64) (uint64, error) {
	_, err := m.Bytes(flags, 8, false)
	return 0, err
}
