package assembly

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/vm"
)

// mk is vm.Make under a shorter name for the tables below.
var mk = vm.Make

func TestAssembleEncodesEachForm(t *testing.T) {
	tests := []struct {
		src  string
		want []vm.Instruction
	}{
		{"mov32 %r0, 1", []vm.Instruction{mk(0xb4, 0, 0, 0, 1)}},
		{"mov %r0, -1", []vm.Instruction{mk(0xb7, 0, 0, 0, -1)}},
		{"mov %r0, 0xffffffff", []vm.Instruction{mk(0xb7, 0, 0, 0, -1)}},
		{"mov64 %r1, %r2", []vm.Instruction{mk(0xbf, 1, 2, 0, 0)}},
		{"add %r1, %r2", []vm.Instruction{mk(0x0f, 1, 2, 0, 0)}},
		{"add32 %r1, 5", []vm.Instruction{mk(0x04, 1, 0, 0, 5)}},
		{"sub %r1, 5", []vm.Instruction{mk(0x17, 1, 0, 0, 5)}},
		{"mul32 %r1, %r9", []vm.Instruction{mk(0x2c, 1, 9, 0, 0)}},
		{"div %r1, 3", []vm.Instruction{mk(0x37, 1, 0, 0, 3)}},
		{"sdiv32 %r0, %r1", []vm.Instruction{mk(0x3c, 0, 1, 1, 0)}},
		{"sdiv %r0, -3", []vm.Instruction{mk(0x37, 0, 0, 1, -3)}},
		{"smod %r0, 3", []vm.Instruction{mk(0x97, 0, 0, 1, 3)}},
		{"smod32 %r0, %r2", []vm.Instruction{mk(0x9c, 0, 2, 1, 0)}},
		{"mod32 %r0, %r2", []vm.Instruction{mk(0x9c, 0, 2, 0, 0)}},
		{"or %r1, 0x10", []vm.Instruction{mk(0x47, 1, 0, 0, 16)}},
		{"and32 %r1, %r2", []vm.Instruction{mk(0x5c, 1, 2, 0, 0)}},
		{"lsh %r1, 63", []vm.Instruction{mk(0x67, 1, 0, 0, 63)}},
		{"rsh32 %r1, %r3", []vm.Instruction{mk(0x7c, 1, 3, 0, 0)}},
		{"xor %r1, %r1", []vm.Instruction{mk(0xaf, 1, 1, 0, 0)}},
		{"arsh32 %r1, 3", []vm.Instruction{mk(0xc4, 1, 0, 0, 3)}},
		{"neg %r2", []vm.Instruction{mk(0x87, 2, 0, 0, 0)}},
		{"neg32 %r2", []vm.Instruction{mk(0x84, 2, 0, 0, 0)}},
		{"movsx832 %r0, %r1", []vm.Instruction{mk(0xbc, 0, 1, 8, 0)}},
		{"movsx1632 %r4, %r3", []vm.Instruction{mk(0xbc, 4, 3, 16, 0)}},
		{"movsx864 %r6, %r5", []vm.Instruction{mk(0xbf, 6, 5, 8, 0)}},
		{"movsx1664 %r8, %r7", []vm.Instruction{mk(0xbf, 8, 7, 16, 0)}},
		{"movsx3264 %r0, %r9", []vm.Instruction{mk(0xbf, 0, 9, 32, 0)}},
		{"le16 %r0", []vm.Instruction{mk(0xd4, 0, 0, 0, 16)}},
		{"le64 %r3", []vm.Instruction{mk(0xd4, 3, 0, 0, 64)}},
		{"be32 %r4", []vm.Instruction{mk(0xdc, 4, 0, 0, 32)}},
		{"bswap16 %r0", []vm.Instruction{mk(0xd7, 0, 0, 0, 16)}},
		{"swap64 %r0", []vm.Instruction{mk(0xd7, 0, 0, 0, 64)}},
		{"ldxb %r0, [%r1]", []vm.Instruction{mk(0x71, 0, 1, 0, 0)}},
		{"ldxh %r0, [%r1+2]", []vm.Instruction{mk(0x69, 0, 1, 2, 0)}},
		{"ldxw %r0, [%r1 + 0x10]", []vm.Instruction{mk(0x61, 0, 1, 16, 0)}},
		{"ldxdw %r1, [%r10-8]", []vm.Instruction{mk(0x79, 1, 10, -8, 0)}},
		{"ldxsb %r0, [%r10-1]", []vm.Instruction{mk(0x91, 0, 10, -1, 0)}},
		{"ldxsh %r0, [%r10-2]", []vm.Instruction{mk(0x89, 0, 10, -2, 0)}},
		{"ldxsw %r0, [%r10-4]", []vm.Instruction{mk(0x81, 0, 10, -4, 0)}},
		{"stb [%r1+2], 0x11", []vm.Instruction{mk(0x72, 1, 0, 2, 0x11)}},
		{"sth [%r0], 0x1234", []vm.Instruction{mk(0x6a, 0, 0, 0, 0x1234)}},
		{"stw [%r10-4], 0x80000001", []vm.Instruction{mk(0x62, 10, 0, -4, -0x7fffffff)}},
		{"stdw [%r10-16], 0xab", []vm.Instruction{mk(0x7a, 10, 0, -16, 0xab)}},
		{"stxb [%r0+9], %r1", []vm.Instruction{mk(0x73, 0, 1, 9, 0)}},
		{"stxh [%r10-2], %r1", []vm.Instruction{mk(0x6b, 10, 1, -2, 0)}},
		{"stxw [%r1+4], %r2", []vm.Instruction{mk(0x63, 1, 2, 4, 0)}},
		{"stxdw [%r10-8], %r0", []vm.Instruction{mk(0x7b, 10, 0, -8, 0)}},
		{"lock add [%r10-8], %r1", []vm.Instruction{mk(0xdb, 10, 1, -8, 0x00)}},
		{"lock add32 [%r10-4], %r1", []vm.Instruction{mk(0xc3, 10, 1, -4, 0x00)}},
		{"lock or [%r10-8], %r1", []vm.Instruction{mk(0xdb, 10, 1, -8, 0x40)}},
		{"lock and32 [%r10-8], %r1", []vm.Instruction{mk(0xc3, 10, 1, -8, 0x50)}},
		{"lock xor [%r10-8], %r1", []vm.Instruction{mk(0xdb, 10, 1, -8, 0xa0)}},
		{"lock fetch add [%r10-8], %r1", []vm.Instruction{mk(0xdb, 10, 1, -8, 0x01)}},
		{"lock fetch or32 [%r10-4], %r3", []vm.Instruction{mk(0xc3, 10, 3, -4, 0x41)}},
		{"lock fetch and [%r10-8], %r3", []vm.Instruction{mk(0xdb, 10, 3, -8, 0x51)}},
		{"lock fetch xor32 [%r10-8], %r1", []vm.Instruction{mk(0xc3, 10, 1, -8, 0xa1)}},
		{"lock xchg [%r10-8], %r1", []vm.Instruction{mk(0xdb, 10, 1, -8, 0xe1)}},
		{"lock xchg32 [%r10-8], %r1", []vm.Instruction{mk(0xc3, 10, 1, -8, 0xe1)}},
		{"lock cmpxchg [%r10-8], %r1", []vm.Instruction{mk(0xdb, 10, 1, -8, 0xf1)}},
		{"lock cmpxchg32 [%r10-8], %r1", []vm.Instruction{mk(0xc3, 10, 1, -8, 0xf1)}},
		{"lddw %r0, 0x8877665544332211", []vm.Instruction{mk(0x18, 0, 0, 0, 0x44332211), mk(0, 0, 0, 0, -0x778899ab)}},
		{"lddw %r1, -1", []vm.Instruction{mk(0x18, 1, 0, 0, -1), mk(0, 0, 0, 0, -1)}},
		{"lddw %r1, map_fd 3", []vm.Instruction{mk(0x18, 1, 1, 0, 3), mk(0, 0, 0, 0, 0)}},
		{"lddw %r1, map_value 3, 16", []vm.Instruction{mk(0x18, 1, 2, 0, 3), mk(0, 0, 0, 0, 16)}},
		{"lddw %r2, btf_id 77", []vm.Instruction{mk(0x18, 2, 3, 0, 77), mk(0, 0, 0, 0, 0)}},
		{"lddw %r2, func +4", []vm.Instruction{mk(0x18, 2, 4, 0, 4), mk(0, 0, 0, 0, 0)}},
		{"lddw %r1, map_idx 0", []vm.Instruction{mk(0x18, 1, 5, 0, 0), mk(0, 0, 0, 0, 0)}},
		{"lddw %r1, map_idx_value 2, 8", []vm.Instruction{mk(0x18, 1, 6, 0, 2), mk(0, 0, 0, 0, 8)}},
		{"ja +3", []vm.Instruction{mk(0x05, 0, 0, 3, 0)}},
		{"ja -1", []vm.Instruction{mk(0x05, 0, 0, -1, 0)}},
		{"ja32 +100000", []vm.Instruction{mk(0x06, 0, 0, 0, 100000)}},
		{"jeq %r1, 0xb, +1", []vm.Instruction{mk(0x15, 1, 0, 1, 11)}},
		{"jne %r3, 0x81, -2", []vm.Instruction{mk(0x55, 3, 0, -2, 0x81)}},
		{"jset32 %r1, %r2, +0", []vm.Instruction{mk(0x4e, 1, 2, 0, 0)}},
		{"jsle32 %r1, -5, +7", []vm.Instruction{mk(0xd6, 1, 0, 7, -5)}},
		{"jgt %r1, %r2, +1", []vm.Instruction{mk(0x2d, 1, 2, 1, 0)}},
		{"jge32 %r1, 1, +1", []vm.Instruction{mk(0x36, 1, 0, 1, 1)}},
		{"jlt %r1, 1, +1", []vm.Instruction{mk(0xa5, 1, 0, 1, 1)}},
		{"jle %r1, %r0, +1", []vm.Instruction{mk(0xbd, 1, 0, 1, 0)}},
		{"jsgt %r1, 1, +1", []vm.Instruction{mk(0x65, 1, 0, 1, 1)}},
		{"jsge %r1, 1, +1", []vm.Instruction{mk(0x75, 1, 0, 1, 1)}},
		{"jslt32 %r1, %r2, +1", []vm.Instruction{mk(0xce, 1, 2, 1, 0)}},
		{"call 5", []vm.Instruction{mk(0x85, 0, 0, 0, 5)}},
		{"call helper 1", []vm.Instruction{mk(0x85, 0, 0, 0, 1)}},
		{"call local +3", []vm.Instruction{mk(0x85, 0, 1, 0, 3)}},
		{"call kfunc 1234", []vm.Instruction{mk(0x85, 0, 2, 0, 1234)}},
		{"call runtime 7, 2", []vm.Instruction{mk(0x85, 0, 2, 2, 7)}},
		{"call %r2", []vm.Instruction{mk(0x8d, 2, 0, 0, 0)}},
		{"exit", []vm.Instruction{mk(0x95, 0, 0, 0, 0)}},
		{"ldabsw 12", []vm.Instruction{mk(0x20, 0, 0, 0, 12)}},
		{"ldindh %r1, 4", []vm.Instruction{mk(0x48, 0, 1, 0, 4)}},
		{"MOV %R1, 2 # case does not matter for mnemonics and registers", []vm.Instruction{mk(0xb7, 1, 0, 0, 2)}},
		{"mov r1, r2", []vm.Instruction{mk(0xbf, 1, 2, 0, 0)}},
		{"mov %r11, 1", []vm.Instruction{mk(0xb7, 11, 0, 0, 1)}},
		{"  # only a comment\n\n", []vm.Instruction{}},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			got, err := Assemble(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestAssembleResolvesLabels(t *testing.T) {
	src := `
		mov %r0, 0
		jeq %r1, 0, done      # forward, over the lddw (two slots)
		lddw %r2, 0x100000000
	loop: add %r0, 1
		jlt %r0, 3, loop      # backward
		ja32 done
		call local fn
		lddw %r3, func fn
	done:
		exit
	fn:
		mov %r0, 7
		ja exit               # the first exit, implicitly
	`
	got, err := Assemble(src)
	if err != nil {
		t.Fatal(err)
	}
	want := []vm.Instruction{
		mk(0xb7, 0, 0, 0, 0),
		mk(0x15, 1, 0, 8, 0), // slot 1 -> done at 10
		mk(0x18, 2, 0, 0, 0), mk(0, 0, 0, 0, 1),
		mk(0x07, 0, 0, 0, 1), // loop at 4
		mk(0xa5, 0, 0, -2, 3),
		mk(0x06, 0, 0, 0, 3),  // slot 6 -> 10
		mk(0x85, 0, 1, 0, 3),  // slot 7 -> fn at 11
		mk(0x18, 3, 4, 0, 2),  // slot 8 -> 11
		mk(0, 0, 0, 0, 0),     //
		mk(0x95, 0, 0, 0, 0),  // done at 10
		mk(0xb7, 0, 0, 0, 7),  // fn at 11
		mk(0x05, 0, 0, -3, 0), // slot 12 -> exit at 10
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%+v\nwant\n%+v", got, want)
	}
}

func TestAnExplicitExitLabelWinsOverTheImplicitOne(t *testing.T) {
	got, err := Assemble("ja exit\nexit\nexit:\nexit")
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Off != 1 {
		t.Errorf("ja exit jumps by %d, want 1 (the labelled exit)", got[0].Off)
	}
}

func TestAssembleErrorsNameTheLineAndText(t *testing.T) {
	tests := []struct {
		src    string
		line   int
		reason string
	}{
		{"mov %r0, 1\nfrob %r0", 2, `unknown mnemonic "frob"`},
		{"mov %r16, 1", 1, `invalid register "%r16"`},
		{"mov %r0", 1, "takes 2 operand(s), got 1"},
		{"add %r0, 1, 2", 1, "takes 2 operand(s), got 3"},
		{"mov %r0,", 1, "empty operand"},
		{"exit %r0", 1, "no operands"},
		{"ja nowhere", 1, `undefined label "nowhere"`},
		{"ja 3", 1, `undefined label "3"`},
		{"a:\na:\nexit", 2, `label "a" already defined on line 1`},
		{"bad label: exit", 1, `invalid label "bad label"`},
		{"ja +32768", 1, "out of range"},
		{"ja -32769", 1, "out of range"},
		{"mov %r0, 0x100000000", 1, "does not fit in 32 bits"},
		{"mov %r0, -2147483649", 1, "does not fit in 32 bits"},
		{"mov %r0, 12abc", 1, `invalid number "12abc"`},
		{"ldxw %r0, [%r1+70000]", 1, "does not fit in 16 bits"},
		{"ldxw %r0, %r1", 1, "invalid memory operand"},
		{"ldxw %r0, [%r1", 1, "invalid memory operand"},
		{"stxw [%r1], 5", 1, `invalid register "5"`},
		{"lock [%r1], %r2", 1, "unknown atomic operation"},
		{"lock", 1, "lock needs an operation"},
		{"lock fetch sub [%r1], %r2", 1, `unknown atomic operation "sub"`},
		{"call", 1, "call needs a target"},
		{"call local", 1, "call local needs a target"},
		{"call 1 2", 1, "call takes one target"},
		{"lddw %r0, 0x10000000000000000", 1, "does not fit in 64 bits"},
		{"lddw %r0, 1, 2", 1, "plain value takes 2 operands"},
		{"lddw %r0, map_fd", 1, "needs a value"},
		{"movsx832 %r0, 1", 1, `invalid register "1"`},
		{"jeq %r1, 0, +1, +2", 1, "takes 3 operand(s)"},
		{"mov %r0, 0\n\njne %r0, 0, +1\nexit\nja x", 5, `undefined label "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			_, err := Assemble(tt.src)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want a *SyntaxError", err)
			}
			if !errors.Is(err, ErrSyntax) {
				t.Error("the error does not match ErrSyntax")
			}
			if se.Line != tt.line {
				t.Errorf("line %d, want %d (%v)", se.Line, tt.line, err)
			}
			lines := strings.Split(tt.src, "\n")
			text := strings.TrimSpace(lines[tt.line-1])
			if se.Text != text {
				t.Errorf("text %q, want %q", se.Text, text)
			}
			if !strings.Contains(se.Reason, tt.reason) {
				t.Errorf("reason %q does not mention %q", se.Reason, tt.reason)
			}
			if !strings.Contains(err.Error(), "line ") || !strings.Contains(err.Error(), text) {
				t.Errorf("message %q names neither line nor text", err)
			}
		})
	}
}
