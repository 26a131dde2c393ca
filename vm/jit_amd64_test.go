//go:build linux

package vm

import (
	"errors"
	"strings"
	"syscall"
	"testing"
)

// TestCompileJITNamesAProgramTheSystemWillNotLetItCompile: when the system refuses executable
// memory, CompileJIT answers ErrNotNative with the system's reason, and the JIT engine still runs
// the program, on the interpreter, with the interpreter's result.
func TestCompileJITNamesAProgramTheSystemWillNotLetItCompile(t *testing.T) {
	defer func(f func([]byte) ([]byte, error)) { mapCode = f }(mapCode)
	mapCode = func([]byte) ([]byte, error) {
		return nil, errors.New("mapping for native code: " + syscall.EPERM.Error())
	}
	p, err := NewProgram([]Instruction{Make(0xb7, 0, 0, 0, 7), Make(0x95, 0, 0, 0, 0)}, ProgramOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = p.CompileJIT()
	if !errors.Is(err, ErrNotNative) || !strings.Contains(err.Error(), syscall.EPERM.Error()) {
		t.Fatalf("CompileJIT: %v, want ErrNotNative with the system's reason", err)
	}
	r0, err := NewMachine(JIT).Run(p)
	if err != nil || r0 != 7 {
		t.Fatalf("JIT run of the program it could not compile: r0 %d, %v; want 7 from the interpreter", r0, err)
	}
}
