package verifier_test

import (
	"errors"
	"strconv"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/verifier"
	"github.com/xdpsim/xdpsim/vm"
	"github.com/xdpsim/xdpsim/vm/assembly"
)

// bpf_get_smp_processor_id returns at most nr_cpu_ids-1 to the kernel's verifier: a program that
// indexes a stack array of one 8-byte slot per possible CPU with it is accepted by the kernel,
// and by xdpsim when Program.NrCPUs is this machine's; without NrCPUs the index is unbounded and
// the access refused.
func TestTheCPUNumberIsBoundedByThePossibleCPUs(t *testing.T) {
	requireKernelVerifier(t)
	ncpu, err := kernel.PossibleCPUs()
	if err != nil {
		t.Fatal(err)
	}
	if ncpu > 64 {
		t.Skipf("%d possible CPUs: more slots than a 512-byte frame holds", ncpu)
	}
	// prog indexes an array of slots 8-byte stack slots with the CPU number.
	prog := func(slots int) []vm.Instruction {
		src := ""
		for i := 1; i <= slots; i++ {
			src += "stdw [%r10-" + strconv.Itoa(8*i) + "], 0\n"
		}
		src += "call 8\nlsh %r0, 3\nmov64 %r1, %r10\nadd %r1, -" + strconv.Itoa(8*slots) + "\nadd %r1, %r0\nldxdw %r0, [%r1]\nmov %r0, 2\nexit"
		insns, err := assembly.Assemble(src)
		if err != nil {
			t.Fatal(err)
		}
		return insns
	}
	insns := prog(ncpu)
	if theirs, log, _ := kernelVerdict(t, insns); !theirs {
		t.Fatalf("the kernel refuses the program:\n%s", log)
	}
	if ncpu > 1 {
		// One slot short: the kernel's bound is tight, and so is xdpsim's.
		short := prog(ncpu - 1)
		if theirs, _, _ := kernelVerdict(t, short); theirs {
			t.Fatal("the kernel accepts an array one slot short of the CPUs")
		}
		if ok, err := ourVerdict2(short, ncpu); err != nil || ok {
			t.Fatalf("xdpsim accepts an array one slot short of the CPUs (%v)", err)
		}
	}
	for _, tc := range []struct {
		name   string
		nrCPUs int
		accept bool
	}{{"with the machine's CPUs it is accepted, as the kernel accepts it", ncpu, true}, {"without them it is refused", 0, false}} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verifier.Verify(&verifier.Program{Name: "cpu", Insns: insns, Type: ebpf.XDP, GPL: true, NrCPUs: tc.nrCPUs}, verifier.Options{})
			var ve *verifier.Error
			if err != nil && !errors.As(err, &ve) {
				t.Fatal(err)
			}
			if (ve == nil) != tc.accept {
				t.Fatalf("accepted: %v, want %v (%v)", ve == nil, tc.accept, err)
			}
		})
	}
}

func ourVerdict2(insns []vm.Instruction, nrCPUs int) (bool, error) {
	_, err := verifier.Verify(&verifier.Program{Name: "cpu", Insns: insns, Type: ebpf.XDP, GPL: true, NrCPUs: nrCPUs}, verifier.Options{})
	var ve *verifier.Error
	if err != nil && !errors.As(err, &ve) {
		return false, err
	}
	return ve == nil, nil
}
