package verifier_test

import (
	"testing"

	"github.com/cilium/ebpf"
)

// TestMayGotoBoundsLoopsAsTheKernelDoes: may_goto ends a loop when the function's allowance is
// spent, so the verifier explores the jump at once and the fall-through one turn deeper, and
// stops exploring turns once a turn's state is within an earlier one's. Each case is Linux 6.18's
// verdict, as measured.
func TestMayGotoBoundsLoopsAsTheKernelDoes(t *testing.T) {
	checkKernelCases(t, ebpf.XDP, nil, []kernelCase{
		{name: "a loop bounded by nothing but may_goto", src: `mov %r0, 2
l:
may_goto out
ja l
out:
exit`, accept: true},
		{name: "a loop counting down a random number, ended by may_goto", src: `call 7
mov %r1, %r0
l:
may_goto out
jeq %r1, 0, out
add %r1, -1
ja l
out:
mov %r0, 2
exit`, accept: true},
		{name: "a counter in the loop converges", src: `mov %r0, 0
l:
may_goto out
add %r0, 1
ja l
out:
exit`, accept: true},
		{name: "the allowance may be spent at once: a register set only in the loop is unset after it", src: `l:
may_goto out
mov %r2, 1
ja l
out:
mov %r0, %r2
exit`, insn: 3, message: "R2 !read_ok"},
		{name: "a stack offset that grows each turn is refused on the turn it leaves the frame", src: `mov %r1, 0
l:
may_goto out
stxdw [%r10-8], %r1
add %r1, 1
mov %r2, %r10
add %r2, %r1
ldxb %r3, [%r2-8]
ja l
out:
mov %r0, 2
exit`, insn: 6, message: "invalid read from stack R2 off=0 size=1"},
	})
}
