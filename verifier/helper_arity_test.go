package verifier_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strconv"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/xdpsim/xdpsim/verifier"
	"github.com/xdpsim/xdpsim/vm"
	"github.com/xdpsim/xdpsim/vm/assembly"
)

// bpf_skb_get_tunnel_opt and bpf_skb_set_tunnel_opt take three arguments (skb, opt, size): a tc
// program that never writes R4 before calling them is accepted by the kernel (the selftests'
// test_tunnel_kern.c does so), and must be by xdpsim, which once asked R4 to be initialised
// ("R4 !read_ok"). Each is held to the running kernel's verdict too, where it can be asked.
func TestTunnelOptHelpersTakeThreeArguments(t *testing.T) {
	for _, tc := range []struct {
		name   string
		helper int
	}{
		{"bpf_skb_get_tunnel_opt with R4 never written is accepted", 29},
		{"bpf_skb_set_tunnel_opt with R4 never written is accepted", 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := "stdw [%r10-8], 0\nstdw [%r10-16], 0\nmov64 %r2, %r10\nadd %r2, -16\nmov %r3, 16\ncall " +
				strconv.Itoa(tc.helper) + "\nmov %r0, 0\nexit"
			insns, err := assembly.Assemble(src)
			if err != nil {
				t.Fatal(err)
			}
			_, verr := verifier.Verify(&verifier.Program{Name: "tun", Insns: insns, Type: ebpf.SchedCLS, GPL: true}, verifier.Options{})
			var ve *verifier.Error
			if verr != nil && !errors.As(verr, &ve) {
				t.Fatal(verr)
			}
			if ve != nil {
				t.Errorf("xdpsim refuses it at %d: %s", ve.PC, ve.Msg)
			}
			// The kernel's verdict on the same instructions.
			raw := vm.Encode(insns)
			var ai asm.Instructions
			for rd := bytes.NewReader(raw); rd.Len() > 0; {
				var ins asm.Instruction
				if err := ins.Unmarshal(rd, binary.LittleEndian, "linux"); err != nil {
					t.Fatal(err)
				}
				ai = append(ai, ins)
			}
			p, err := ebpf.NewProgramWithOptions(&ebpf.ProgramSpec{Type: ebpf.SchedCLS, License: "GPL", Instructions: ai},
				ebpf.ProgramOptions{LogLevel: ebpf.LogLevelBranch})
			var kve *ebpf.VerifierError
			switch {
			case err == nil:
				p.Close()
			case errors.As(err, &kve):
				t.Errorf("the kernel refuses it: %v", err)
			default:
				t.Logf("the kernel cannot be asked here: %v", err)
			}
		})
	}
}
