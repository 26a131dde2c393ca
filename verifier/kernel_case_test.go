package verifier_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/verifier"
	"github.com/xdpsim/xdpsim/vm"
	"github.com/xdpsim/xdpsim/vm/assembly"
)

// kernelCase is a program in xdpsim's assembly with the verdict Linux 6.18 gave it, as measured:
// accepted, or refused at instruction insn (the kernel's numbering) with message.
type kernelCase struct {
	name    string
	src     string
	accept  bool
	insn    int
	message string
	// noAsk: the kernel is not asked again (the case makes it print a warning of its own)
	noAsk bool
}

// checkKernelCases gives each case to xdpsim's verifier as a program of type typ using maps and
// wants the recorded verdict, blamed instruction and message. Where the kernel can be asked, it
// is asked too and must still say what the case records.
func checkKernelCases(t *testing.T, typ ebpf.ProgramType, maps []verifier.Map, cases []kernelCase) {
	t.Helper()
	askKernel := kernel.Available() == nil && os.Getenv("XDPSIM_NO_KERNEL") == ""
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			insns, err := assembly.Assemble(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			if askKernel && !tc.noAsk {
				v, err := kernelVerdictOf(typ, insns, maps)
				if err != nil {
					t.Fatal(err)
				}
				if v.Accepted != tc.accept || !v.Accepted && (v.Insn != tc.insn || v.Message != tc.message) {
					t.Errorf("the kernel no longer says what the case records: accepted=%v insn=%d message=%q\n%s", v.Accepted, v.Insn, v.Message, v.Log)
				}
			}
			_, err = verifier.Verify(&verifier.Program{Name: "prog", Insns: insns, Type: typ, GPL: true, Maps: maps}, verifier.Options{})
			var ve *verifier.Error
			if err != nil && !errors.As(err, &ve) {
				t.Fatal(err)
			}
			switch {
			case tc.accept && ve != nil:
				t.Errorf("xdpsim refuses it at %d: %s; the kernel accepts it", ve.PC, ve.Msg)
			case !tc.accept && ve == nil:
				t.Errorf("xdpsim accepts it; the kernel refuses it at %d: %s", tc.insn, tc.message)
			case !tc.accept && (ve.PC != tc.insn || ve.Msg != tc.message):
				t.Errorf("xdpsim refuses it at %d: %q; the kernel at %d: %q", ve.PC, ve.Msg, tc.insn, tc.message)
			}
		})
	}
}

// kernelVerdictOf loads insns into the running kernel as a program of type typ, with maps created
// for the lddw of a map (map_fd N names maps[N]).
func kernelVerdictOf(typ ebpf.ProgramType, insns []vm.Instruction, maps []verifier.Map) (*kernel.Verdict, error) {
	ai, err := asmOf(insns)
	if err != nil {
		return nil, err
	}
	for i, ins := range ai {
		if ins.IsLoadFromMap() {
			// the map's index in the low half, a map_value's offset in the high half, which
			// the fd replaces and keeps
			idx := uint32(ins.Constant)
			ins.Constant = int64(uint64(ins.Constant) &^ 0xffffffff)
			ai[i] = ins.WithReference(maps[idx].Name)
		}
	}
	spec := &ebpf.CollectionSpec{
		Maps:     map[string]*ebpf.MapSpec{},
		Programs: map[string]*ebpf.ProgramSpec{"prog": {Name: "prog", Type: typ, License: "GPL", Instructions: ai}},
	}
	for _, m := range maps {
		spec.Maps[m.Name] = &ebpf.MapSpec{Name: m.Name, Type: m.Type, KeySize: m.KeySize, ValueSize: m.ValueSize, MaxEntries: m.MaxEntries, Flags: m.Flags}
		if m.BTF {
			spec.Maps[m.Name].Key, spec.Maps[m.Name].Value = mapValueBTF(m)
		}
	}
	return kernel.VerifySpec("test", spec, kernel.VerifyOptions{})
}

// asmOf decodes insns as cilium/ebpf, which loads them into the kernel, reads them.
func asmOf(insns []vm.Instruction) (asm.Instructions, error) {
	var ai asm.Instructions
	rd := bytes.NewReader(vm.Encode(insns))
	for rd.Len() > 0 {
		var ins asm.Instruction
		if err := ins.Unmarshal(rd, binary.LittleEndian, "linux"); err != nil {
			return nil, err
		}
		ai = append(ai, ins)
	}
	return ai, nil
}

// verdictOf reads what verifier.Verify returned: accepted, or the message of the refusal.
func verdictOf(t *testing.T, err error) (accepted bool, msg string) {
	t.Helper()
	var ve *verifier.Error
	if err != nil && !errors.As(err, &ve) {
		t.Fatal(err)
	}
	if ve == nil {
		return true, ""
	}
	return false, ve.Msg
}
