//go:build linux

package kernel_test

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/verifier"
	"github.com/xdpsim/xdpsim/vm"
)

var updateSkbTestdata = flag.Bool("update-skb-testdata", false, "rewrite verifier/testdata/skb_tc_ctx.txt from this kernel's answers")

// skbAccessProgram is a tc program that makes one access to its context through r1: a load into
// r0 (sign-extending with sx), a store of r2 or a store of an immediate.
func skbAccessProgram(kind string, off, size int, sx bool) []vm.Instruction {
	sz := map[int]uint8{1: vm.SizeB, 2: vm.SizeH, 4: vm.SizeW, 8: vm.SizeDW}[size]
	ret := []vm.Instruction{vm.Make(vm.ClassALU64|vm.AluMov|vm.SrcK, 0, 0, 0, 0), vm.Make(vm.OpExit, 0, 0, 0, 0)}
	switch kind {
	case "load":
		mode := uint8(vm.ModeMEM)
		if sx {
			mode = vm.ModeMEMSX
		}
		return []vm.Instruction{vm.Make(vm.ClassLDX|mode|sz, 0, 1, int16(off), 0), ret[1]}
	case "store":
		return append([]vm.Instruction{vm.Make(vm.ClassALU64|vm.AluMov|vm.SrcK, 2, 0, 0, 7), vm.Make(vm.ClassSTX|vm.ModeMEM|sz, 1, 2, int16(off), 0)}, ret...)
	}
	return append([]vm.Instruction{vm.Make(vm.ClassST|vm.ModeMEM|sz, 1, 0, int16(off), 7)}, ret...)
}

// kernelXlated loads insns as a SCHED_CLS program and returns the kernel's xlated instructions, or
// the verifier's refusal.
func kernelXlated(insns []vm.Instruction) ([]vm.Instruction, error) {
	var ai asm.Instructions
	r := bytes.NewReader(vm.Encode(insns))
	for r.Len() > 0 {
		var in asm.Instruction
		if err := in.Unmarshal(r, binary.LittleEndian, "linux"); err != nil {
			return nil, err
		}
		ai = append(ai, in)
	}
	p, err := ebpf.NewProgramWithOptions(&ebpf.ProgramSpec{Type: ebpf.SchedCLS, License: "GPL", Instructions: ai}, ebpf.ProgramOptions{LogDisabled: true})
	if err != nil {
		return nil, err
	}
	defer p.Close()
	info, err := p.Info()
	if err != nil {
		return nil, err
	}
	x, err := info.Instructions()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := x.Marshal(&buf, binary.LittleEndian); err != nil {
		return nil, err
	}
	return vm.Decode(buf.Bytes())
}

func hexInsns(insns []vm.Instruction) string {
	var parts []string
	for _, in := range insns {
		parts = append(parts, fmt.Sprintf("%x", vm.Encode([]vm.Instruction{in})))
	}
	return strings.Join(parts, " ")
}

// TestSkbContextRulesMatchTheKernel offers the kernel every access a tc program can make to its
// __sk_buff (every offset, size and direction, sign-extending loads too) and holds the verifier's
// rules (verifier.SkbTCAccess) and rewrites (verifier.SkbTCConvert) to the kernel's verdict and
// xlated instructions. With -update-skb-testdata it records the kernel's answers for the
// verifier's own tests, which run without a kernel.
func TestSkbContextRulesMatchTheKernel(t *testing.T) {
	if err := kernel.Available(); err != nil {
		t.Skipf("SKIP: %v", err)
	}
	var lines []string
	for off := 0; off < verifier.SkbSize+8; off++ {
		for _, size := range []int{1, 2, 4, 8} {
			if off%size != 0 {
				continue
			}
			for _, kind := range []string{"load", "ldsx", "store", "stimm"} {
				if kind == "ldsx" && size == 8 {
					continue // no such opcode
				}
				insns := skbAccessProgram(strings.TrimSuffix(kind, "sx"), off, size, kind == "ldsx")
				if kind == "ldsx" {
					insns = skbAccessProgram("load", off, size, true)
				}
				at := 0
				if kind == "store" {
					at = 1
				}
				x, err := kernelXlated(insns)
				write := kind == "store" || kind == "stimm"
				_, ok := verifier.SkbTCAccess(off, size, write, kind == "ldsx")
				name := fmt.Sprintf("%s off=%d size=%d", kind, off, size)
				if (err == nil) != ok {
					t.Errorf("%s: the kernel accepts it: %v, the verifier's rules: %v (%v)", name, err == nil, ok, err)
					continue
				}
				if err != nil {
					continue
				}
				// The kernel's rewrite of the access sits where the access was.
				n := len(x) - len(insns) + 1
				got := x[at : at+n]
				want := verifier.SkbTCConvert(insns[at], false)
				if hexInsns(got) != hexInsns(want) {
					t.Errorf("%s: the kernel rewrites it as\n    %s\nthe verifier as\n    %s", name, hexInsns(got), hexInsns(want))
				}
				lines = append(lines, fmt.Sprintf("%s: %s", name, hexInsns(got)))
			}
		}
	}
	if *updateSkbTestdata {
		path := filepath.Join("..", "verifier", "testdata", "skb_tc_ctx.txt")
		head := "# Every access a tc program may make to struct __sk_buff, as Linux 6.18 accepts it, and the\n" +
			"# instructions its verifier rewrites it into (hex, one instruction word each). Written by\n" +
			"# go test ./kernel -run TestSkbContextRulesMatchTheKernel -update-skb-testdata (as root).\n"
		if err := os.WriteFile(path, []byte(head+strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
