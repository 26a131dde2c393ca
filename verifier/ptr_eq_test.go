package verifier_test

import (
	"errors"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/verifier"
	"github.com/xdpsim/xdpsim/vm/assembly"
)

// Two lookups in an XSKMAP give two pointers that may be NULL; once one is checked against
// NULL, comparing the two tells the verifier the other is not NULL where they are equal (the
// kernel's check_cond_jmp_op marks it so). Linux 6.18 accepts the selftests'
// verifier_jeq_infer_not_null.c null_ptr_to_map_value, which does exactly this with JNE
// (corpus's TestLinuxSourceXDPAndTCProgramsGetTheKernelsVerdict asks it); xdpsim once refused it
// ("R7 invalid mem access 'map_value_or_null'").
func TestComparingAPointerThatMayBeNullWithOneThatIsNotProvesItNotNull(t *testing.T) {
	xsk := verifier.Map{Name: "xsks", Type: ebpf.XSKMap, KeySize: 4, ValueSize: 4, MaxEntries: 4, SpinLock: -1, Timer: -1}
	// r6 and r7 are the results of two lookups of key 0; r6 is checked against NULL.
	const lookups = `stw [%r10-8], 0
lddw %r1, map_fd 0
mov64 %r2, %r10
add %r2, -8
call 1
mov64 %r6, %r0
lddw %r1, map_fd 0
mov64 %r2, %r10
add %r2, -8
call 1
mov64 %r7, %r0
jeq %r6, 0, out
`
	for _, tc := range []struct {
		name   string
		src    string
		accept bool
	}{
		{"reading r7 where r6 != r7 is false is accepted", "jne %r6, %r7, out\nldxw %r0, [%r7]\n", true},
		{"reading r7 where r6 == r7 is true is accepted", "jeq %r6, %r7, eq\nja out\neq:\nldxw %r0, [%r7]\n", true},
		{"reading r7 where r6 != r7 is true is refused", "jne %r6, %r7, ne\nja out\nne:\nldxw %r0, [%r7]\n", false},
		{"reading r7 without the comparison is refused", "ldxw %r0, [%r7]\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			insns, err := assembly.Assemble(lookups + tc.src + "out:\nmov %r0, 2\nexit")
			if err != nil {
				t.Fatal(err)
			}
			_, verr := verifier.Verify(&verifier.Program{Name: "eq", Insns: insns, Type: ebpf.XDP, GPL: true, Maps: []verifier.Map{xsk}}, verifier.Options{})
			var ve *verifier.Error
			if verr != nil && !errors.As(verr, &ve) {
				t.Fatal(verr)
			}
			switch {
			case tc.accept && ve != nil:
				t.Errorf("refused at %d: %s", ve.PC, ve.Msg)
			case !tc.accept && ve == nil:
				t.Error("accepted")
			case ve != nil:
				t.Logf("refused at %d: %s", ve.PC, ve.Msg)
			}
		})
	}
}
