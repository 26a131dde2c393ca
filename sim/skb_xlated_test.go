package sim

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/xdpsim/xdpsim/verifier"
	"github.com/xdpsim/xdpsim/vm"
	"github.com/xdpsim/xdpsim/vm/assembly"
)

func TestXlatedTCProgramsThatWritePacketDataStartWithThePrologue(t *testing.T) {
	raw, lines, _ := loadRaw(t, "testdata/ctx/skb.o", "skb_fields")
	res, err := xlatedOf(raw, ebpf.SchedCLS, ebpf.AttachNone, lines)
	if err != nil {
		t.Fatal(err)
	}
	out, origin := res.Xlated, res.Origin
	if !res.DirectWrite {
		t.Fatal("the verifier missed the direct packet write")
	}
	pro := verifier.SkbTCPrologue()
	if fmt.Sprint(out[:len(pro)]) != fmt.Sprint(pro) {
		t.Errorf("the xlated program starts with\n%s\nnot the prologue", assembly.DumpKernel(out[:len(pro)], nil))
	}
	for i := range pro {
		if origin[i] != 0 {
			t.Errorf("prologue instruction %d comes from slot %d, want 0", i, origin[i])
		}
	}
	if res.TstampTypeAccess {
		t.Error("skb_fields does not read tstamp_type")
	}
	raw, lines, _ = loadRaw(t, "testdata/ctx/skb.o", "skb_tstamp_type")
	if res, err = xlatedOf(raw, ebpf.SchedCLS, ebpf.AttachNone, lines); err != nil {
		t.Fatal(err)
	}
	if !res.TstampTypeAccess || res.DirectWrite {
		t.Errorf("skb_tstamp_type: tstamp_type access %v, direct write %v; want true, false", res.TstampTypeAccess, res.DirectWrite)
	}
}

// TestXlatedTCAgreesWithTheLiveKernel loads the tc programs of testdata/ctx/skb.o into
// the kernel, where one can be loaded, and compares their xlated instructions with the
// simulator's: the prologue, every __sk_buff load and store expanded, and every branch and call
// moved. Helper calls are compared by place only (the kernel's immediate is an address).
func TestXlatedTCAgreesWithTheLiveKernel(t *testing.T) {
	if os.Getenv("XDPSIM_NO_KERNEL") != "" {
		t.Skip("XDPSIM_NO_KERNEL is set")
	}
	probe, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SchedCLS, License: "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}})
	if err != nil {
		t.Skipf("cannot load BPF programs here: %v", err)
	}
	probe.Close()
	normalize := func(insns []vm.Instruction, kernel bool) string {
		out := append([]vm.Instruction(nil), insns...)
		for i := range out {
			switch {
			case out[i].Op == vm.OpCall && out[i].Src() == vm.PseudoCall && kernel:
				out[i].Imm, out[i].Off = int32(out[i].Off), 0
			case out[i].Op == vm.OpCall && out[i].Src() == 0:
				out[i].Imm = 0
			}
		}
		return assembly.DumpKernel(out, nil)
	}
	for _, name := range []string{"skb_fields", "skb_tstamp_type"} {
		t.Run(name, func(t *testing.T) {
			raw, lines, ps := loadRaw(t, "testdata/ctx/skb.o", name)
			res, err := xlatedOf(raw, ebpf.SchedCLS, ebpf.AttachNone, lines)
			if err != nil {
				t.Fatal(err)
			}
			mine := res.Xlated
			p, err := ebpf.NewProgram(ps)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			info, err := p.Info()
			if err != nil {
				t.Fatal(err)
			}
			if n, err := info.JitedSize(); err != nil || n == 0 {
				t.Skip("the program is not JIT-compiled here: its calls are encoded differently")
			}
			xl, err := info.Instructions()
			if err != nil {
				t.Skipf("the kernel does not show xlated instructions here: %v", err)
			}
			var buf bytes.Buffer
			if err := xl.Marshal(&buf, binary.LittleEndian); err != nil {
				t.Fatal(err)
			}
			kernel, err := vm.Decode(buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if got, want := normalize(mine, false), normalize(kernel, true); got != want {
				t.Errorf("simulator\n%s\nkernel\n%s", got, want)
			}
		})
	}
}
