package verifier_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/verifier"
	"github.com/xdpsim/xdpsim/vm/assembly"
)

// callChain is a program whose entry calls f1, f1 calls f2, ... up to fN, each function using
// the bytes of stack given (0 for none); global says whether f1..fN are global functions.
func callChain(t *testing.T, global bool, stacks ...int) *verifier.Program {
	t.Helper()
	var src strings.Builder
	funcs := []verifier.Func{{Insn: 0, Name: "main", Global: true}}
	body := func(stack int, next string) {
		if stack > 0 {
			fmt.Fprintf(&src, "stdw [%%r10-%d], 0\n", stack)
		}
		if next != "" {
			fmt.Fprintf(&src, "call local %s\n", next)
		}
		src.WriteString("mov %r0, 2\nexit\n")
	}
	next := func(i int) string {
		if i < len(stacks) {
			return fmt.Sprintf("f%d", i)
		}
		return ""
	}
	body(stacks[0], next(1))
	for i := 1; i < len(stacks); i++ {
		fmt.Fprintf(&src, "f%d:\n", i)
		n := strings.Count(src.String(), "\n") - i // the labels are no instructions
		funcs = append(funcs, verifier.Func{Insn: n, Name: fmt.Sprintf("f%d", i), Global: global})
		body(stacks[i], next(i+1))
	}
	insns, err := assembly.Assemble(src.String())
	if err != nil {
		t.Fatal(err)
	}
	return &verifier.Program{Name: "chain", Insns: insns, Type: ebpf.XDP, GPL: true, Funcs: funcs}
}

// The frames of a call chain share the kernel's 512 bytes of stack, each function's own stack
// rounded up to the JIT's 16 bytes, and a chain is at most 8 frames deep. Global functions are
// verified on their own, once, but run on their caller's stack all the same: Linux 6.18 counts
// them in the chain (test_global_func1.c: "combined stack size of 3 calls is 544. Too large";
// test_global_func3.c: "the call stack of 8 frames is too deep !"), and blames no instruction.
func TestCallChainsShareTheStack(t *testing.T) {
	for _, tc := range []struct {
		name   string
		global bool
		stacks []int
		want   string // "" for accepted
	}{
		{"two static functions of 264 bytes under an entry without stack are too many", false, []int{0, 264, 264}, "combined stack size of 3 calls is 544. Too large"},
		{"two global functions of 264 bytes under an entry without stack are too many", true, []int{0, 264, 264}, "combined stack size of 3 calls is 544. Too large"},
		{"an entry of 8 bytes and two global functions of 256 count 16 for the entry", true, []int{8, 256, 256}, "combined stack size of 3 calls is 528. Too large"},
		{"two global functions of 256 bytes fill the stack exactly", true, []int{0, 256, 256}, ""},
		{"a chain of eight frames through global functions is allowed", true, []int{0, 0, 0, 0, 0, 0, 0, 0}, ""},
		{"a chain of nine frames through global functions is too deep", true, []int{0, 0, 0, 0, 0, 0, 0, 0, 0}, "the call stack of 8 frames is too deep !"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verifier.Verify(callChain(t, tc.global, tc.stacks...), verifier.Options{})
			wantWholeProgramVerdict(t, err, tc.want)
		})
	}
}

// A function that tail-calls may be called only under less than 256 bytes of its callers'
// stack (the kernel's limit, so that 32 chained tail calls stay within 8 KiB). Measured on Linux
// 6.18 with an entry of 240, 248, 256 and 264 bytes calling a static function that tail-calls:
// 240 is accepted, 248 and 256 are refused with "... previous frames is 256 bytes. Too large"
// (248 rounds up to 256), 264 with "... 272 bytes. Too large"; no instruction is blamed.
func TestTailCallsUnderALargeStack(t *testing.T) {
	progs := verifier.Map{Name: "jmp", Type: ebpf.ProgramArray, KeySize: 4, ValueSize: 4, MaxEntries: 1, SpinLock: -1, Timer: -1}
	for _, tc := range []struct {
		stack int
		want  string
	}{
		{240, ""},
		{248, "tail_calls are not allowed when call stack of previous frames is 256 bytes. Too large"},
		{256, "tail_calls are not allowed when call stack of previous frames is 256 bytes. Too large"},
		{264, "tail_calls are not allowed when call stack of previous frames is 272 bytes. Too large"},
	} {
		t.Run(fmt.Sprintf("an entry of %d bytes", tc.stack), func(t *testing.T) {
			src := fmt.Sprintf(`mov64 %%r6, %%r1
stxdw [%%r10-%d], %%r6
call local f
mov %%r0, 2
exit
f:
lddw %%r2, map_fd 0
mov %%r3, 0
call 12
mov %%r0, 0
exit`, tc.stack)
			insns, err := assembly.Assemble(src)
			if err != nil {
				t.Fatal(err)
			}
			_, err = verifier.Verify(&verifier.Program{Name: "tail", Insns: insns, Type: ebpf.XDP, GPL: true, Maps: []verifier.Map{progs}}, verifier.Options{})
			wantWholeProgramVerdict(t, err, tc.want)
		})
	}
}

// wantWholeProgramVerdict checks Verify's err: accepted when want is empty, else refused with
// message want and no instruction blamed (-1), as the kernel reports the checks made on the
// whole call graph.
func wantWholeProgramVerdict(t *testing.T, err error, want string) {
	t.Helper()
	var ve *verifier.Error
	if err != nil && !errors.As(err, &ve) {
		t.Fatal(err)
	}
	switch {
	case want == "" && ve != nil:
		t.Fatalf("refused: %v", err)
	case want == "":
	case ve == nil:
		t.Fatalf("accepted, want %q", want)
	case ve.Msg != want || ve.PC != -1:
		t.Fatalf("refused at %d: %q, want at -1: %q", ve.PC, ve.Msg, want)
	}
}
