package assembly

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/xdpsim/xdpsim/vm"
)

// fuzzSeeds are programs that cover every form of the syntax; the conformance cases, where
// present, are added to them.
var fuzzSeeds = []string{
	"mov32 %r0, 1\nexit",
	"lddw %r0, 0x8877665544332211\nbswap16 %r0\nbe64 %r0\nle32 %r0\nexit",
	"L: ldxdw %r1, [%r10-8]\nstxw [%r1+4], %r2\nstb [%r1], -1\njne %r3, 0x81, L\nja32 L\nja -2",
	"lock fetch add [%r10-8], %r1\nlock cmpxchg32 [%r10-8], %r1\nlock xchg [%r1], %r2\nlock or32 [%r1+2], %r3",
	"call local f\ncall 5\ncall %r2\ncall kfunc 7, 1\nexit\nf: movsx832 %r0, %r1\nsdiv32 %r0, 3\nsmod %r0, %r1\nexit",
	"ldxsb %r0, [%r10-1]\nneg32 %r0\nlddw %r1, map_value 3, 16\nlddw %r2, func -3\nldabsw 12\nldindb %r1, 4",
	"jeq %r1, 0xb, exit # comment\nmov %r0, 2\nexit",
}

func addConformanceSeeds(f *testing.F, add func(asm string, prog []vm.Instruction)) {
	files, _ := filepath.Glob(filepath.Join(conformanceDir, "*.data"))
	for _, file := range files {
		c, err := parseDataFile(file)
		if err != nil {
			continue
		}
		prog, err := Assemble(c.asm)
		if err != nil {
			f.Fatalf("%s: %v", file, err)
		}
		add(c.asm, prog)
	}
}

// FuzzAssembleDisassemble: any text either fails with a *SyntaxError or assembles to a program
// that disassembles and assembles back to the same words.
func FuzzAssembleDisassemble(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	addConformanceSeeds(f, func(asm string, _ []vm.Instruction) { f.Add(asm) })
	f.Fuzz(func(t *testing.T, src string) {
		prog, err := Assemble(src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a *SyntaxError", err)
			}
			return
		}
		text, err := Disassemble(prog)
		if err != nil {
			t.Fatalf("assembled program does not disassemble: %v\nsource:\n%s", err, src)
		}
		again, err := Assemble(text)
		if err != nil {
			t.Fatalf("disassembly does not assemble: %v\n%s", err, text)
		}
		if !slices.Equal(prog, again) {
			t.Fatalf("round trip changed the program\nsource:\n%s\ndisassembly:\n%s", src, text)
		}
		_ = DumpKernel(prog, &KernelOptions{Imm: BPFToolImm})
	})
}

// FuzzDisassembleRoundTrip: any bytes decode to instructions that either disassemble and assemble
// back to the same words, or fail with an *InstructionError; the kernel-style formatter renders
// them all without panicking.
func FuzzDisassembleRoundTrip(f *testing.F) {
	f.Add([]byte{0x95, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0x18, 0x21, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0})
	f.Add([]byte{0xdb, 0x1a, 0xf8, 0xff, 0xf1, 0, 0, 0})
	addConformanceSeeds(f, func(_ string, prog []vm.Instruction) { f.Add(vm.Encode(prog)) })
	f.Fuzz(func(t *testing.T, data []byte) {
		data = data[:len(data)/vm.InstructionSize*vm.InstructionSize]
		prog, err := vm.Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		_ = DumpKernel(prog, &KernelOptions{Imm: BPFToolImm, HidePointers: true})
		// Each word on its own, so that one invalid word does not hide the others.
		for i := range prog {
			text, n, err := Format(prog, i)
			if err != nil {
				if !errors.Is(err, ErrInvalidInstruction) {
					t.Fatalf("word %d: error %v is not an *InstructionError", i, err)
				}
				continue
			}
			back, err := Assemble(text)
			if err != nil {
				t.Fatalf("word %d: %q does not assemble: %v", i, text, err)
			}
			if !slices.Equal(back, prog[i:i+n]) {
				t.Fatalf("word %d: %+v -> %q -> %+v", i, prog[i:i+n], text, back)
			}
		}
		text, err := Disassemble(prog)
		if err != nil {
			var ie *InstructionError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v is not an *InstructionError", err)
			}
			if ie.Index < 0 || ie.Index >= len(prog) || prog[ie.Index] != ie.Insn {
				t.Fatalf("error names instruction %d (%+v) wrongly", ie.Index, ie.Insn)
			}
			return
		}
		again, err := Assemble(text)
		if err != nil {
			t.Fatalf("disassembly does not assemble: %v\n%s", err, text)
		}
		if !slices.Equal(prog, again) {
			t.Fatalf("round trip changed the program\n%s", text)
		}
	})
}

// The conformance folder is optional for fuzzing; make sure the seeds above are valid anyway.
func TestFuzzSeedsAssemble(t *testing.T) {
	for _, s := range fuzzSeeds {
		if _, err := Assemble(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	if _, err := os.Stat(conformanceDir); err != nil {
		t.Logf("conformance seeds not available: %v", err)
	}
}
