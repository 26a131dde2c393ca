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
// forbidden, value_size=4 off=0 size=4" then "Caller passes invalid args into func#1 ('foo')").
func TestGlobalFunctionsMayWriteThroughTheirPointers(t *testing.T) {
	// main passes the map's value (4 bytes) to f(int *p), which returns 0.
	const src = `lddw %r1, map_value 0, 0
call local f
exit
f:
mov %r0, 0
exit`
	funcs := []verifier.Func{
		{Insn: 0, Name: "main", Global: true},
		{Insn: 4, Name: "f", Global: true, Args: []verifier.FuncArg{{Name: "p", Kind: verifier.FuncArgMem, Size: 4}}},
	}
	data := verifier.Map{Name: ".data", Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1, SpinLock: -1, Timer: -1}
	rodata := data
	rodata.Name, rodata.Flags, rodata.ReadOnly, rodata.Data = ".rodata", 1<<7, true, make([]byte, 4)
	for _, tc := range []struct {
		name string
		m    verifier.Map
		want string // "" for accepted
	}{
		{"a writable global may be passed", data, ""},
		{"a read-only global is refused at the call", rodata, "write into map forbidden, value_size=4 off=0 size=4\nCaller passes invalid args into func#1 ('f')"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ve := verifyWithFuncs(t, src, []verifier.Map{tc.m}, funcs...)
			switch {
			case tc.want == "" && ve != nil:
				t.Fatalf("refused at %d: %s", ve.PC, ve.Msg)
			case tc.want == "":
			case ve == nil:
				t.Fatalf("accepted, want %q", tc.want)
			case ve.PC != 2 || ve.Msg != tc.want:
				t.Fatalf("refused at %d: %q, want at 2: %q", ve.PC, ve.Msg, tc.want)
			}
		})
	}
}
