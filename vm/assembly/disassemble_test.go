package assembly

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/xdpsim/xdpsim/vm"
)

func TestDisassembleWritesTheCanonicalForm(t *testing.T) {
	tests := []struct {
		prog []vm.Instruction
		want string
	}{
		{[]vm.Instruction{mk(0xb4, 0, 0, 0, 1)}, "mov32 %r0, 1"},
		{[]vm.Instruction{mk(0xb7, 0, 0, 0, -1)}, "mov %r0, -1"},
		{[]vm.Instruction{mk(0xb7, 0, 0, 0, -0x789abcdf)}, "mov %r0, 0x87654321"},
		{[]vm.Instruction{mk(0x3c, 0, 1, 1, 0)}, "sdiv32 %r0, %r1"},
		{[]vm.Instruction{mk(0x97, 0, 0, 1, 3)}, "smod %r0, 3"},
		{[]vm.Instruction{mk(0x84, 2, 0, 0, 0)}, "neg32 %r2"},
		{[]vm.Instruction{mk(0xbc, 0, 1, 8, 0)}, "movsx832 %r0, %r1"},
		{[]vm.Instruction{mk(0xbf, 0, 9, 32, 0)}, "movsx3264 %r0, %r9"},
		{[]vm.Instruction{mk(0xdc, 4, 0, 0, 32)}, "be32 %r4"},
		{[]vm.Instruction{mk(0xd4, 4, 0, 0, 16)}, "le16 %r4"},
		{[]vm.Instruction{mk(0xd7, 0, 0, 0, 64)}, "bswap64 %r0"},
		{[]vm.Instruction{mk(0xe5, 0, 0, -3, 0)}, "may_goto -3"},
		{[]vm.Instruction{mk(0x79, 1, 10, -8, 0)}, "ldxdw %r1, [%r10-8]"},
		{[]vm.Instruction{mk(0x61, 1, 6, 4, 0)}, "ldxw %r1, [%r6+4]"},
		{[]vm.Instruction{mk(0x91, 1, 2, 0, 0)}, "ldxsb %r1, [%r2]"},
		{[]vm.Instruction{mk(0x7a, 10, 0, -8, 5)}, "stdw [%r10-8], 5"},
		{[]vm.Instruction{mk(0x63, 1, 2, 4, 0)}, "stxw [%r1+4], %r2"},
		{[]vm.Instruction{mk(0xdb, 10, 1, -8, 0x01)}, "lock fetch add [%r10-8], %r1"},
		{[]vm.Instruction{mk(0xc3, 10, 1, -8, 0x50)}, "lock and32 [%r10-8], %r1"},
		{[]vm.Instruction{mk(0xc3, 10, 1, -8, 0xf1)}, "lock cmpxchg32 [%r10-8], %r1"},
		{[]vm.Instruction{mk(0xdb, 10, 1, -8, 0xe1)}, "lock xchg [%r10-8], %r1"},
		{[]vm.Instruction{mk(0x18, 0, 0, 0, 0x44332211), mk(0, 0, 0, 0, -0x778899ab)}, "lddw %r0, 0x8877665544332211"},
		{[]vm.Instruction{mk(0x18, 1, 1, 0, 3), mk(0, 0, 0, 0, 0)}, "lddw %r1, map_fd 3"},
		{[]vm.Instruction{mk(0x18, 1, 2, 0, 3), mk(0, 0, 0, 0, 0)}, "lddw %r1, map_value 3, 0"},
		{[]vm.Instruction{mk(0x18, 1, 4, 0, -2), mk(0, 0, 0, 0, 0)}, "lddw %r1, func -2"},
		{[]vm.Instruction{mk(0x05, 0, 0, -2, 0)}, "ja -2"},
		{[]vm.Instruction{mk(0x06, 0, 0, 0, 3)}, "ja32 +3"},
		{[]vm.Instruction{mk(0x55, 3, 0, 1, 0x81)}, "jne %r3, 129, +1"},
		{[]vm.Instruction{mk(0x1e, 1, 2, 0, 0)}, "jeq32 %r1, %r2, +0"},
		{[]vm.Instruction{mk(0x85, 0, 0, 0, 1)}, "call 1"},
		{[]vm.Instruction{mk(0x85, 0, 1, 0, -5)}, "call local -5"},
		{[]vm.Instruction{mk(0x85, 0, 2, 0, 99)}, "call kfunc 99"},
		{[]vm.Instruction{mk(0x85, 0, 2, 1, 99)}, "call kfunc 99, 1"},
		{[]vm.Instruction{mk(0x8d, 2, 0, 0, 0)}, "call %r2"},
		{[]vm.Instruction{mk(0x95, 0, 0, 0, 0)}, "exit"},
		{[]vm.Instruction{mk(0x30, 0, 0, 0, 3)}, "ldabsb 3"},
		{[]vm.Instruction{mk(0x40, 0, 7, 0, 3)}, "ldindw %r7, 3"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			got, err := Disassemble(tt.prog)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want+"\n" {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			back, err := Assemble(got)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(back, tt.prog) {
				t.Errorf("assembles to %+v, want %+v", back, tt.prog)
			}
		})
	}
}

func TestDisassembleRejectsWhatHasNoTextForm(t *testing.T) {
	tests := []struct {
		why  string
		prog []vm.Instruction
	}{
		{"a lone lddw second word", []vm.Instruction{mk(0, 0, 0, 0, 0)}},
		{"lddw without its second word", []vm.Instruction{mk(0x18, 0, 0, 0, 1)}},
		{"lddw with an opcode in its second word", []vm.Instruction{mk(0x18, 0, 0, 0, 1), mk(0x95, 0, 0, 0, 0)}},
		{"lddw with an offset", []vm.Instruction{mk(0x18, 0, 0, 1, 1), mk(0, 0, 0, 0, 0)}},
		{"lddw with pseudo source 7", []vm.Instruction{mk(0x18, 0, 7, 0, 1), mk(0, 0, 0, 0, 0)}},
		{"opcode 0xff", []vm.Instruction{mk(0xff, 0, 0, 0, 0)}},
		{"ALU op 0xe0", []vm.Instruction{mk(0xe7, 0, 0, 0, 0)}},
		{"may_goto without a target", []vm.Instruction{mk(0xe5, 0, 0, 0, 0)}},
		{"may_goto with an immediate", []vm.Instruction{mk(0xe5, 0, 0, 1, 3)}},
		{"may_goto in JMP32", []vm.Instruction{mk(0xe6, 0, 0, 1, 0)}},
		{"exit with an immediate", []vm.Instruction{mk(0x95, 0, 0, 0, 1)}},
		{"exit in JMP32", []vm.Instruction{mk(0x96, 0, 0, 0, 0)}},
		{"call in JMP32", []vm.Instruction{mk(0x86, 0, 0, 0, 1)}},
		{"call with a destination register", []vm.Instruction{mk(0x85, 1, 0, 0, 1)}},
		{"helper call with an offset", []vm.Instruction{mk(0x85, 0, 0, 1, 1)}},
		{"call with source 3", []vm.Instruction{mk(0x85, 0, 3, 0, 1)}},
		{"callx with an immediate", []vm.Instruction{mk(0x8d, 1, 0, 0, 1)}},
		{"ja with an immediate", []vm.Instruction{mk(0x05, 0, 0, 1, 1)}},
		{"ja with a register source", []vm.Instruction{mk(0x0d, 1, 0, 0, 0)}},
		{"ja32 with an offset", []vm.Instruction{mk(0x06, 0, 0, 1, 1)}},
		{"jeq with an immediate and a source register", []vm.Instruction{mk(0x15, 1, 2, 0, 0)}},
		{"jeq with a register and an immediate", []vm.Instruction{mk(0x1d, 1, 2, 0, 3)}},
		{"mov immediate with a source register", []vm.Instruction{mk(0xb7, 0, 1, 0, 1)}},
		{"mov immediate with an offset", []vm.Instruction{mk(0xb7, 0, 0, 8, 1)}},
		{"add with an offset", []vm.Instruction{mk(0x0f, 0, 1, 1, 0)}},
		{"div with offset 2", []vm.Instruction{mk(0x3f, 0, 1, 2, 0)}},
		{"movsx with an immediate", []vm.Instruction{mk(0xbf, 0, 1, 8, 1)}},
		{"32-bit movsx from 32 bits", []vm.Instruction{mk(0xbc, 0, 1, 32, 0)}},
		{"movsx from 24 bits", []vm.Instruction{mk(0xbf, 0, 1, 24, 0)}},
		{"addr_space_cast", []vm.Instruction{mk(0xbf, 0, 1, 1, 0)}},
		{"neg with a source register", []vm.Instruction{mk(0x87, 0, 1, 0, 0)}},
		{"neg with an immediate", []vm.Instruction{mk(0x87, 0, 0, 0, 1)}},
		{"neg with the register source bit", []vm.Instruction{mk(0x8f, 0, 0, 0, 0)}},
		{"byte swap of 8 bits", []vm.Instruction{mk(0xd4, 0, 0, 0, 8)}},
		{"64-bit byte swap with the source bit", []vm.Instruction{mk(0xdf, 0, 0, 0, 16)}},
		{"byte swap with an offset", []vm.Instruction{mk(0xdc, 0, 0, 1, 16)}},
		{"ldx with an immediate", []vm.Instruction{mk(0x61, 0, 1, 0, 1)}},
		{"ldx in mode 0xa0", []vm.Instruction{mk(0xa1, 0, 1, 0, 0)}},
		{"sign-extending 64-bit load", []vm.Instruction{mk(0x99, 0, 1, 0, 0)}},
		{"st with a source register", []vm.Instruction{mk(0x62, 0, 1, 0, 0)}},
		{"st in atomic mode", []vm.Instruction{mk(0xc2, 0, 0, 0, 0)}},
		{"stx with an immediate", []vm.Instruction{mk(0x63, 0, 1, 0, 1)}},
		{"stx in sign-extending mode", []vm.Instruction{mk(0x83, 0, 1, 0, 0)}},
		{"atomic on a byte", []vm.Instruction{mk(0xd3, 0, 1, 0, 0)}},
		{"atomic sub", []vm.Instruction{mk(0xdb, 0, 1, 0, 0x10)}},
		{"xchg without fetch", []vm.Instruction{mk(0xdb, 0, 1, 0, 0xe0)}},
		{"load-acquire (not ISA v4)", []vm.Instruction{mk(0xdb, 0, 1, 0, 0x100)}},
		{"64-bit packet load", []vm.Instruction{mk(0x38, 0, 0, 0, 0)}},
		{"packet load with a destination", []vm.Instruction{mk(0x20, 1, 0, 0, 0)}},
		{"absolute packet load with a source", []vm.Instruction{mk(0x20, 0, 1, 0, 0)}},
		{"valid then invalid", []vm.Instruction{mk(0x95, 0, 0, 0, 0), mk(0xff, 0, 0, 0, 0)}},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			text, err := Disassemble(tt.prog)
			var ie *InstructionError
			if !errors.As(err, &ie) {
				t.Fatalf("got %q, %v; want an *InstructionError", text, err)
			}
			if !errors.Is(err, ErrInvalidInstruction) {
				t.Error("the error does not match ErrInvalidInstruction")
			}
			if ie.Insn != tt.prog[ie.Index] {
				t.Errorf("error names instruction %d as %+v, which is %+v", ie.Index, ie.Insn, tt.prog[ie.Index])
			}
		})
	}
}

func TestFormatReportsWidthAndRange(t *testing.T) {
	prog := []vm.Instruction{mk(0x18, 1, 0, 0, 1), mk(0, 0, 0, 0, 0), mk(0x95, 0, 0, 0, 0)}
	if text, n, err := Format(prog, 0); err != nil || n != 2 || text != "lddw %r1, 0x1" {
		t.Errorf("lddw: %q, %d, %v", text, n, err)
	}
	if text, n, err := Format(prog, 2); err != nil || n != 1 || text != "exit" {
		t.Errorf("exit: %q, %d, %v", text, n, err)
	}
	for _, i := range []int{-1, 3} {
		if _, _, err := Format(prog, i); !errors.Is(err, ErrInvalidInstruction) {
			t.Errorf("index %d: got %v, want an error", i, err)
		}
	}
	if text, err := Disassemble(nil); err != nil || text != "" {
		t.Errorf("empty program: %q, %v", text, err)
	}
}

// TestEveryDisassembledInstructionAssemblesBack walks every opcode through a spread of field
// values: whatever Disassemble accepts must assemble to the same words, and every opcode of the
// ISA must be accepted with some fields.
func TestEveryDisassembledInstructionAssemblesBack(t *testing.T) {
	regs := []uint8{0x00, 0x01, 0x10, 0x21, 0xa0, 0x0a, 0xfb, 0x30, 0x60, 0x70}
	offs := []int16{0, 1, -1, 8, 16, 24, 32, -8, 32767, -32768}
	imms := []int32{0, 1, -1, 16, 32, 64, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe0, 0xe1, 0xf1, 0x100, 0x10, -1 << 31, 0x7fffffff}
	accepted := map[uint8]bool{}
	for op := 0; op < 256; op++ {
		for _, r := range regs {
			for _, off := range offs {
				for _, imm := range imms {
					prog := []vm.Instruction{{Op: uint8(op), Regs: r, Off: off, Imm: imm}}
					if op == vm.OpLdImm64 {
						prog = append(prog, vm.Instruction{Imm: imm ^ 0x5a5a})
					}
					text, err := Disassemble(prog)
					if err != nil {
						if !errors.Is(err, ErrInvalidInstruction) {
							t.Fatalf("%+v: error %v is not an InstructionError", prog, err)
						}
						continue
					}
					accepted[uint8(op)] = true
					back, err := Assemble(text)
					if err != nil {
						t.Fatalf("%+v -> %q: %v", prog, text, err)
					}
					if !slices.Equal(back, prog) {
						t.Fatalf("%+v -> %q -> %+v", prog, text, back)
					}
				}
			}
		}
	}
	var want []uint8
	for _, class := range []uint8{vm.ClassALU, vm.ClassALU64} {
		for op := uint8(0); op <= 0xc0; op += 0x10 {
			want = append(want, class|op|vm.SrcK)
			if op != vm.AluNeg {
				want = append(want, class|op|vm.SrcX)
			}
		}
	}
	want = append(want, 0xd4, 0xdc, 0xd7)
	for _, class := range []uint8{vm.ClassJMP, vm.ClassJMP32} {
		for _, op := range []uint8{0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0} {
			want = append(want, class|op|vm.SrcK, class|op|vm.SrcX)
		}
	}
	want = append(want, 0x05, 0x06, 0x85, 0x8d, 0x95, 0x18, vm.OpMayGoto)
	for _, size := range []uint8{vm.SizeB, vm.SizeH, vm.SizeW, vm.SizeDW} {
		want = append(want, vm.ClassLDX|vm.ModeMEM|size, vm.ClassST|vm.ModeMEM|size, vm.ClassSTX|vm.ModeMEM|size)
		if size != vm.SizeDW {
			want = append(want, vm.ClassLDX|vm.ModeMEMSX|size, vm.ClassLD|modeABS|size, vm.ClassLD|modeIND|size)
		}
	}
	want = append(want, 0xc3, 0xdb)
	var missing []string
	for _, op := range want {
		if !accepted[op] {
			missing = append(missing, fmt.Sprintf("0x%02x", op))
		}
	}
	if len(missing) > 0 {
		t.Errorf("opcodes never accepted: %v", missing)
	}
	if len(accepted) != len(want) {
		t.Errorf("%d opcodes accepted, want %d", len(accepted), len(want))
	}
}
