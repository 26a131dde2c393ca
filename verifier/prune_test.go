package verifier_test

import (
	"os"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/verifier"
	"github.com/xdpsim/xdpsim/vm/assembly"
)

// A function called from two sites: the checkpoint made at its entry on the first call stays on
// the path until the end (its exploration is not finished), and must not stop the second call
// site from recording a checkpoint of its own there. The kernel keeps the states of an
// instruction in lists by the instruction and the call site of the innermost frame
// (explored_state), so the first call's checkpoint is not in the second's list; and the callee's
// first instruction is a prune point (visit_func_call_insn). So the second path to the second
// call (r8 = 2) is pruned at f's entry. The figures are Linux 6.18's, as measured; one state list
// per instruction gives 60 insns and 6 states, a callee entry that is no prune point 62 and 6.
// test_verif_scale3.o's balancer_ingress, which calls its jhash from 90 sites, passed the
// 1,000,000-instruction limit that way (the kernel: 837,487 insns, 8,636 states).
func TestACalleesEntryKeepsTheStatesOfEachCallSiteApart(t *testing.T) {
	const src = `mov64 %r6, %r1
call 7
mov64 %r7, %r0
jgt %r7, 100, a1
a1:
jgt %r7, 200, a2
a2:
mov %r1, 0
call local f
jgt %r7, 10, b
mov %r8, 1
c:
mov %r9, 0
mov %r9, 0
mov %r9, 0
mov %r9, 0
mov %r9, 0
mov %r9, 0
mov %r9, 0
mov %r9, 0
mov %r1, 0
call local f
mov %r0, 2
exit
b:
mov %r8, 2
ja c
f:
mov64 %r0, %r1
jgt %r0, 5, f1
add %r0, 1
f1:
add %r0, 2
add %r0, 3
add %r0, 4
add %r0, 5
mov %r0, 2
exit`
	want := verifier.Stats{Processed: 59, MaxStatesPerInsn: 0, TotalStates: 5, PeakStates: 5}
	insns, err := assembly.Assemble(src)
	if err != nil {
		t.Fatal(err)
	}
	if kernel.Available() == nil && os.Getenv("XDPSIM_NO_KERNEL") == "" {
		v, err := kernelVerdictOf(ebpf.XDP, insns, nil)
		if err != nil {
			t.Fatal(err)
		}
		k := v.Stats
		if !v.Accepted || k.Processed != want.Processed || k.MaxStatesPerInsn != want.MaxStatesPerInsn ||
			k.TotalStates != want.TotalStates || k.PeakStates != want.PeakStates {
			t.Errorf("the kernel no longer gives the recorded figures: accepted=%v %+v\n%s", v.Accepted, k, v.Log)
		}
	}
	res, err := verifier.Verify(&verifier.Program{Name: "prog", Insns: insns, Type: ebpf.XDP, GPL: true}, verifier.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := res.Stats
	if got.Processed != want.Processed || got.MaxStatesPerInsn != want.MaxStatesPerInsn ||
		got.TotalStates != want.TotalStates || got.PeakStates != want.PeakStates {
		t.Errorf("processed %d, max_states_per_insn %d, total_states %d, peak_states %d; the kernel: %d, %d, %d, %d",
			got.Processed, got.MaxStatesPerInsn, got.TotalStates, got.PeakStates,
			want.Processed, want.MaxStatesPerInsn, want.TotalStates, want.PeakStates)
	}
}
