//go:build amd64 && linux

package vm

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestJITCodeDisassembles hands the machine code of many random programs to GNU objdump: every
// byte must decode as an instruction (no "(bad)"), so the encoder emits no malformed instruction
// that the agreement tests might not reach. The code's behaviour is the agreement tests' job.
func TestJITCodeDisassembles(t *testing.T) {
	objdump, err := exec.LookPath("objdump")
	if err != nil {
		t.Skip("SKIP: no objdump (binutils) to disassemble with")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	n := 300
	if testing.Short() {
		n = 30
	}
	var code bytes.Buffer
	for compiled := 0; compiled < n; {
		insns := randomProgram(rng)
		p, err := NewProgram(insns, ProgramOptions{Helpers: callHelpers(new(*Program), nil)(nil)})
		if err != nil {
			continue
		}
		nc := nativeProgram(p)
		if nc == nil {
			t.Fatal("a valid program did not compile")
		}
		code.Write(nc.mem[:nc.code])
		compiled++
	}
	for _, e := range [][]Instruction{sumLoop(), byteSum(), parser(), calls()} {
		nc := nativeProgram(mustProgram(t, e, ProgramOptions{Helpers: callHelpers(new(*Program), nil)(nil)}))
		code.Write(nc.mem[:nc.code])
	}
	path := filepath.Join(t.TempDir(), "code.bin")
	if err := os.WriteFile(path, code.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(objdump, "-D", "-b", "binary", "-m", "i386:x86-64", path).CombinedOutput()
	if err != nil {
		t.Fatalf("objdump: %v\n%s", err, out)
	}
	lines := strings.Split(string(out), "\n")
	decoded := 0
	for _, l := range lines {
		if strings.Contains(l, "(bad)") {
			t.Fatalf("objdump cannot decode the code: %s", l)
		}
		if strings.Contains(l, ":\t") {
			decoded++
		}
	}
	t.Logf("%d bytes of machine code, %d instructions decoded", code.Len(), decoded)
}

// TestJITIndexesARegionTableOfAnySize compiles with the multiplication a Region of a size that is
// not a power of two would need, and holds the code to the interpreter.
func TestJITIndexesARegionTableOfAnySize(t *testing.T) {
	multiplyRegionSize = true
	defer func() { multiplyRegionSize = false }()
	t.Run("the byte sum", func(t *testing.T) { agreeAtEveryBudget(t, simple(byteSum(), nil)) })
	t.Run("wide fields", func(t *testing.T) {
		agreeAtEveryBudget(t, wideScenario([]Instruction{Make(0x61, 2, 1, 0, 0), Make(0x71, 0, 2, 0, 0), exit()}))
	})
	t.Run("faults", func(t *testing.T) {
		agreeAtEveryBudget(t, simple([]Instruction{Make(0x63, 1, 2, 14, 0), exit()}, nil))
	})
}
