package verifier_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/verifier"
	"github.com/xdpsim/xdpsim/vm/assembly"
)

// verifyWithFuncs verifies an XDP program of src whose functions funcs describes.
func verifyWithFuncs(t *testing.T, src string, maps []verifier.Map, funcs ...verifier.Func) (*verifier.Result, *verifier.Error) {
	t.Helper()
	insns, err := assembly.Assemble(src)
	if err != nil {
		t.Fatal(err)
	}
	res, err := verifier.Verify(&verifier.Program{Name: "p", Insns: insns, Type: ebpf.XDP, GPL: true, Maps: maps, Funcs: funcs}, verifier.Options{LogLevel: 1})
	var ve *verifier.Error
	if err != nil && !errors.As(err, &ve) {
		t.Fatal(err)
	}
	return res, ve
}

// Only functions that return an integer (or an enum) may be global. Linux 6.18 finds out at the
// first call of one declared to return void, whatever the caller does with R0, and refuses the
// call (test_global_func7.c: "Global function foo() doesn't return scalar. Only those are
// supported." on the log, then the error "Caller passes invalid args into func#1 ('foo')").
func TestGlobalFunctionsReturnAScalar(t *testing.T) {
	const src = `call local f
mov %r0, 2
exit
f:
mov %r0, 0
exit`
	main := verifier.Func{Insn: 0, Name: "main", Global: true}
	for _, tc := range []struct {
		name string
		f    verifier.Func
		want string // "" for accepted
	}{
		{"a global function returning void is refused at the call", verifier.Func{Insn: 3, Name: "f", Global: true, RetVoid: true}, "Caller passes invalid args into func#1 ('f')"},
		{"a global function returning int may be called", verifier.Func{Insn: 3, Name: "f", Global: true}, ""},
		{"a static function returning void may be called", verifier.Func{Insn: 3, Name: "f", RetVoid: true}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, ve := verifyWithFuncs(t, src, nil, main, tc.f)
			switch {
			case tc.want == "" && ve != nil:
				t.Fatalf("refused at %d: %s", ve.PC, ve.Msg)
			case tc.want == "":
			case ve == nil:
				t.Fatalf("accepted, want %q", tc.want)
			case ve.PC != 0 || ve.Msg != tc.want:
				t.Fatalf("refused at %d: %q, want at 0: %q", ve.PC, ve.Msg, tc.want)
			case !strings.Contains(res.Log, "Global function f() doesn't return scalar. Only those are supported.\n"+tc.want+"\n"):
				t.Fatalf("log:\n%s\nwant the kernel's two lines", res.Log)
			}
		})
	}
}

// A global function may write through a pointer argument, so Linux 6.18 checks the memory it is
// given for a write as well as a read: a value of a read-only map (a frozen .rodata, or a map
// made with BPF_F_RDONLY_PROG) is refused at the call (test_global_func17.c: "write into map
// forbidden, value_size=4 off=0 size=4" then "Caller passes invalid args into func#1 ('foo')"),
// and what the caller's stack held there is unknown data after the call (a constant or a pointer
// spilled there and loaded back is an unknown scalar, as measured on Linux 6.18).
func TestGlobalFunctionsMayWriteThroughTheirPointers(t *testing.T) {
	f := verifier.Func{Insn: -1, Name: "f", Global: true, Args: []verifier.FuncArg{{Name: "p", Kind: verifier.FuncArgMem, Size: 8}}}
	data := verifier.Map{Name: ".data", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1, SpinLock: -1, Timer: -1}
	rodata := data
	rodata.Name, rodata.Flags, rodata.ReadOnly, rodata.Data = ".rodata", 1<<7, true, make([]byte, 8)
	// main passes the map's value to f(long *p), which returns 0.
	const passValue = `lddw %r1, map_value 0, 0
call local f
exit
`
	// main spills r6 (a constant, or the context) to fp-8, passes fp-8 to f, and then uses
	// what it loads back from fp-8 as a stack offset (or a pointer).
	const spill = `stxdw [%r10-8], %r6
mov64 %r1, %r10
add64 %r1, -8
call local f
ldxdw %r0, [%r10-8]
`
	const useAsOffset = `mov64 %r1, %r10
add64 %r1, %r0
stb [%r1-16], 0
mov %r0, 2
exit
`
	const tail = `f:
mov %r0, 0
exit`
	for _, tc := range []struct {
		name string
		src  string
		m    verifier.Map
		pc   int
		want string // "" for accepted
	}{
		{"a writable global may be passed", passValue + tail, data, 0, ""},
		{"a read-only global is refused at the call", passValue + tail, rodata, 2,
			"write into map forbidden, value_size=8 off=0 size=8\nCaller passes invalid args into func#1 ('f')"},
		{"a constant spilled to the stack passed is unknown after the call", "mov %r6, 0\n" + spill + useAsOffset + tail, data, 7,
			"math between fp pointer and register with unbounded min value is not allowed"},
		{"a pointer spilled to the stack passed is a scalar after the call", "mov64 %r6, %r1\n" + spill + "ldxw %r0, [%r0+0]\nexit\n" + tail, data, 6,
			"R0 invalid mem access 'scalar'"},
		{"a constant spilled to the stack not passed is still known after the call",
			"mov %r6, 0\nstxdw [%r10-8], %r6\nstdw [%r10-16], 0\nmov64 %r1, %r10\nadd64 %r1, -16\ncall local f\nldxdw %r0, [%r10-8]\n" + useAsOffset + tail, data, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			insns, err := assembly.Assemble(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			g := f
			g.Insn = len(insns) - 2
			_, ve := verifyWithFuncs(t, tc.src, []verifier.Map{tc.m}, verifier.Func{Insn: 0, Name: "main", Global: true}, g)
			switch {
			case tc.want == "" && ve != nil:
				t.Fatalf("refused at %d: %s", ve.PC, ve.Msg)
			case tc.want == "":
			case ve == nil:
				t.Fatalf("accepted, want %q", tc.want)
			case ve.PC != tc.pc || ve.Msg != tc.want:
				t.Fatalf("refused at %d: %q, want at %d: %q", ve.PC, ve.Msg, tc.pc, tc.want)
			}
		})
	}
}
