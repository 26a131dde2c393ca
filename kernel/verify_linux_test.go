//go:build linux

package kernel

import (
	"errors"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// xdpSpec is a collection spec holding one XDP program "prog" made of insns.
func xdpSpec(insns ...asm.Instruction) *ebpf.CollectionSpec {
	return &ebpf.CollectionSpec{
		Maps: map[string]*ebpf.MapSpec{},
		Programs: map[string]*ebpf.ProgramSpec{
			"prog": {Name: "prog", Type: ebpf.XDP, License: "GPL", Instructions: insns},
		},
	}
}

func TestVerifyReportsTheKernelsVerdict(t *testing.T) {
	requireKernel(t)
	for _, tc := range []struct {
		name      string
		insns     []asm.Instruction
		opts      VerifyOptions
		accept    bool
		errno     string
		insn      int
		message   string
		processed int
	}{
		{"a program that sets R0 is accepted and runs", []asm.Instruction{asm.Mov.Imm(asm.R0, 2), asm.Return()},
			VerifyOptions{TestRun: true}, true, "", -1, "", 2},
		{"a program that exits without R0 is refused at the exit", []asm.Instruction{asm.Mov.Imm(asm.R1, 2), asm.Return()},
			VerifyOptions{}, false, "EACCES", 1, "R0 !read_ok", 2},
		{"level 2 gives the same verdict", []asm.Instruction{asm.Mov.Imm(asm.R1, 2), asm.Return()},
			VerifyOptions{LogLevel: 2}, false, "EACCES", 1, "R0 !read_ok", 2},
		{"a jump out of the program is refused before the walk and blamed on the jump",
			[]asm.Instruction{asm.Mov.Imm(asm.R0, 2), {OpCode: asm.Ja.Op(asm.ImmSource), Offset: 5}, asm.Return()},
			VerifyOptions{}, false, "EINVAL", 1, "jump out of range from insn 1 to 7", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := VerifySpec("test", xdpSpec(tc.insns...), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if v.Accepted != tc.accept || v.Errno != tc.errno || v.Insn != tc.insn || v.Message != tc.message {
				t.Errorf("got accepted=%v errno=%q insn=%d message=%q, want %v %q %d %q\n%s",
					v.Accepted, v.Errno, v.Insn, v.Message, tc.accept, tc.errno, tc.insn, tc.message, v.Log)
			}
			if !v.Stats.Found || v.Stats.Processed != tc.processed {
				t.Errorf("stats %+v, want %d instructions processed", v.Stats, tc.processed)
			}
			if tc.opts.TestRun && (v.Run == nil || v.Run.Err != "" || v.Run.Ret != 2) {
				t.Errorf("test run %+v, want return value 2", v.Run)
			}
			if !tc.opts.TestRun && v.Run != nil {
				t.Errorf("a test run nobody asked for: %+v", v.Run)
			}
			if tc.opts.LogLevel == 2 && !strings.Contains(v.Log, "Live regs before insn:") {
				t.Errorf("level 2 asked for, the log is not level 2:\n%s", v.Log)
			}
		})
	}
}

func TestVerifyCreatesTheMapsAProgramUses(t *testing.T) {
	requireKernel(t)
	spec := xdpSpec(
		asm.Mov.Imm(asm.R1, 0),
		asm.StoreMem(asm.RFP, -4, asm.R1, asm.Word),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.LoadMapPtr(asm.R1, 0).WithReference("counts"),
		asm.FnMapLookupElem.Call(),
		asm.LoadMem(asm.R0, asm.R0, 0, asm.DWord), // no NULL check
		asm.Mov.Imm(asm.R0, 2),
		asm.Return(),
	)
	spec.Maps["counts"] = &ebpf.MapSpec{Name: "counts", Type: ebpf.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 1}
	v, err := VerifySpec("test", spec, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v.Accepted || v.Insn != 7 || v.Message != "R0 invalid mem access 'map_value_or_null'" {
		t.Errorf("got accepted=%v insn=%d message=%q, want the unchecked load at 7 refused\n%s", v.Accepted, v.Insn, v.Message, v.Log)
	}
}

func TestVerifyNeedsAProgramNameWhenThereAreSeveral(t *testing.T) {
	requireKernel(t)
	spec := xdpSpec(asm.Mov.Imm(asm.R0, 2), asm.Return())
	spec.Programs["other"] = spec.Programs["prog"].Copy()
	_, err := VerifySpec("two.o", spec, VerifyOptions{})
	if err == nil || !strings.Contains(err.Error(), "other, prog") {
		t.Errorf("got %v, want an error listing both programs", err)
	}
	_, err = VerifySpec("two.o", spec, VerifyOptions{Program: "third"})
	if err == nil || !strings.Contains(err.Error(), `no program "third"`) {
		t.Errorf("got %v, want an error naming the missing program", err)
	}
	_, err = VerifySpec("two.o", spec, VerifyOptions{Program: "prog", LogLevel: 3})
	if err == nil || errors.Is(err, ErrNoKernel) {
		t.Errorf("got %v, want an error about the log level", err)
	}
}
