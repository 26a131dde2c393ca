//go:build linux

package kernel_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/verifier"
	"github.com/xdpsim/xdpsim/vm"
)

// helperCallProgram calls helper id with r1-r5 zero and returns 0: enough for the kernel to say
// whether the program type may call it at all ("program of this type cannot use helper"), and,
// when it may, to reject the first argument a zero cannot be.
func helperCallProgram(id int32) asm.Instructions {
	insns := asm.Instructions{
		asm.Mov.Imm(asm.R1, 0), asm.Mov.Imm(asm.R2, 0), asm.Mov.Imm(asm.R3, 0), asm.Mov.Imm(asm.R4, 0), asm.Mov.Imm(asm.R5, 0),
		asm.FnMapLookupElem.Call(), asm.Mov.Imm(asm.R0, 0), asm.Return(),
	}
	insns[5].Constant = int64(id)
	return insns
}

// TestHelperAllowListsAgreeWithTheKernel loads a call of every helper number as an XDP and as a
// tc program and holds the verifier's allow-lists (xdp_func_proto, tc_cls_act_func_proto) to
// the kernel's answer; where both let the program call the helper, the two verifiers must say
// the same of the zero arguments (accept them, or refuse the first one a zero cannot be with
// the same words).
func TestHelperAllowListsAgreeWithTheKernel(t *testing.T) {
	if err := kernel.Available(); err != nil {
		t.Skip(err)
	}
	for _, pt := range []ebpf.ProgramType{ebpf.XDP, ebpf.SchedCLS} {
		t.Run(fmt.Sprintf("%s programs may call what the kernel lets them call", pt), func(t *testing.T) {
			allowed, messages := 0, 0
			for id := int32(1); id < 212; id++ {
				prog := helperCallProgram(id)
				p, err := ebpf.NewProgramWithOptions(&ebpf.ProgramSpec{Type: pt, License: "GPL", Instructions: prog}, ebpf.ProgramOptions{LogLevel: 1})
				kmsg := ""
				if err == nil {
					p.Close()
				} else {
					var ve *ebpf.VerifierError
					if !errors.As(err, &ve) {
						t.Fatalf("helper %d: %v", id, err)
					}
					kmsg = kernel.ErrorMessage(strings.Join(ve.Log, "\n") + "\n")
				}
				kallowed := !strings.Contains(kmsg, "cannot use helper") && !strings.HasPrefix(kmsg, "invalid func")
				if got := verifier.HelperAllowed(pt, id); got != kallowed {
					t.Errorf("helper %d: the kernel allows it: %v; xdpsim: %v (%s)", id, kallowed, got, kmsg)
					continue
				}
				if !kallowed {
					continue
				}
				allowed++
				var buf bytes.Buffer
				if err := prog.Marshal(&buf, binary.LittleEndian); err != nil {
					t.Fatal(err)
				}
				insns, err := vm.Decode(buf.Bytes())
				if err != nil {
					t.Fatal(err)
				}
				_, verr := verifier.Verify(&verifier.Program{Name: "helper", Insns: insns, Type: pt, GPL: true}, verifier.Options{})
				var ve *verifier.Error
				mine := ""
				if errors.As(verr, &ve) {
					mine = ve.Msg
				}
				if mine != kmsg {
					t.Errorf("helper %d (%s): the kernel says %q, xdpsim %q", id, asm.BuiltinFunc(id), kmsg, mine)
					continue
				}
				messages++
			}
			t.Logf("%d helpers allowed, as the kernel allows them; the zero arguments get the kernel's message for %d", allowed, messages)
		})
	}
}
