package verifier_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/xdpsim/xdpsim/verifier"
	"github.com/xdpsim/xdpsim/vm"
)

// kernelVerdict loads insns into the running kernel as an XDP program and reports whether its
// verifier accepts them; ok is false where no kernel can be asked (not root, not Linux) or the
// program cannot reach it unchanged: cilium/ebpf, which loads it, decodes and re-encodes every
// instruction, and drops fields it has no use for (the offset of most ALU instructions).
func kernelVerdict(t testing.TB, insns []vm.Instruction) (accepted bool, log string, ok bool) {
	raw := vm.Encode(insns)
	ai, err := asmOf(insns)
	if err != nil {
		return false, "", false
	}
	var again bytes.Buffer
	if err := ai.Marshal(&again, binary.LittleEndian); err != nil || !bytes.Equal(again.Bytes(), raw) {
		return false, "", false
	}
	p, err := ebpf.NewProgramWithOptions(&ebpf.ProgramSpec{Type: ebpf.XDP, License: "GPL", Instructions: ai},
		ebpf.ProgramOptions{LogLevel: ebpf.LogLevelBranch, LogSizeStart: 1 << 20})
	if err == nil {
		p.Close()
		return true, "", true
	}
	var ve *ebpf.VerifierError
	if errors.As(err, &ve) {
		var b bytes.Buffer
		for _, l := range ve.Log {
			b.WriteString(l + "\n")
		}
		return false, b.String(), true
	}
	return false, err.Error(), true
}

func requireKernelVerifier(t testing.TB) {
	if os.Getenv("XDPSIM_NO_KERNEL") != "" {
		t.Skip("XDPSIM_NO_KERNEL is set")
	}
	if _, _, ok := kernelVerdict(t, []vm.Instruction{vm.Make(vm.ClassALU64|vm.AluMov, 0, 0, 0, 2), vm.Make(vm.OpExit, 0, 0, 0, 0)}); !ok {
		t.Skip("the kernel's verifier cannot be asked here")
	}
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.XDP, License: "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 2), asm.Return()}})
	if err != nil {
		t.Skipf("cannot load XDP programs here (root with CAP_BPF and CAP_PERFMON needed): %v", err)
	}
	p.Close()
}

func ourVerdict(insns []vm.Instruction) (bool, error) {
	_, err := verifier.Verify(&verifier.Program{Name: "gen", Insns: insns, Type: ebpf.XDP, GPL: true}, verifier.Options{})
	if err != nil {
		var ve *verifier.Error
		if !errors.As(err, &ve) {
			return false, err
		}
		return false, nil
	}
	return true, nil
}

// FuzzVerifierAgainstKernel: xdpsim's verifier and the kernel's give the same verdict on the
// same generated program (root only). Programs whose analysis runs past fuzzKernelMaxInsns
// processed instructions are not handed to the kernel: it spends seconds on each (up to its
// 1,000,000-instruction limit), which stalls the fuzzer until its worker is given up; the
// corpus's loop cases hold the limits to the kernel instead.
func FuzzVerifierAgainstKernel(f *testing.F) {
	f.Add([]byte{2, 20, 0, 0, 4, 12, 1, 0})
	f.Add([]byte{2, 20, 0, 0, 4, 30, 1, 0, 6, 3, 1, 9, 4, 0, 0, 0})
	f.Add([]byte{9, 1, 2, 3, 0, 1, 2, 3, 7, 0, 0, 0, 8, 0, 0, 1})
	f.Fuzz(func(t *testing.T, code []byte) {
		requireKernelVerifier(t)
		insns := genProgram(code)
		res, err := verifier.Verify(&verifier.Program{Name: "gen", Insns: insns, Type: ebpf.XDP, GPL: true}, verifier.Options{})
		var ve *verifier.Error
		if err != nil && !errors.As(err, &ve) {
			t.Fatal(err)
		}
		mine := ve == nil
		if res != nil && res.Stats.Processed > fuzzKernelMaxInsns {
			return // the kernel would take seconds
		}
		// The kernel may still take seconds where xdpsim's analysis stops early (a path that
		// fails first here); past fuzzKernelWait the program is left to it, unasked.
		type answer struct {
			accepted, ok bool
			log          string
		}
		ch := make(chan answer, 1)
		go func() {
			a, l, ok := kernelVerdict(t, insns)
			ch <- answer{a, ok, l}
		}()
		var ans answer
		select {
		case ans = <-ch:
		case <-time.After(fuzzKernelWait):
			return
		}
		theirs, log, ok := ans.accepted, ans.log, ans.ok
		if !ok {
			return // the kernel would be asked about another program
		}
		if mine != theirs {
			t.Fatalf("xdpsim accepts: %v, the kernel accepts: %v\n%s\nkernel log:\n%s", mine, theirs, dump(insns), log)
		}
	})
}

// fuzzKernelMaxInsns bounds the programs FuzzVerifierAgainstKernel hands to the kernel.
const fuzzKernelMaxInsns = 50000

// fuzzKernelWait is how long FuzzVerifierAgainstKernel waits for the kernel's verdict.
const fuzzKernelWait = 3 * time.Second

// TestVerifierAgreesWithTheKernelOnGeneratedPrograms asks the kernel about a fixed set of
// generated programs (the same every run) and requires xdpsim's verdict on each.
func TestVerifierAgreesWithTheKernelOnGeneratedPrograms(t *testing.T) {
	requireKernelVerifier(t)
	rng := rand.New(rand.NewPCG(1, 2))
	agree, accepted, asked := 0, 0, 0
	const n = 300
	for i := 0; i < n; i++ {
		code := make([]byte, 8+rng.IntN(64))
		for j := range code {
			code[j] = byte(rng.UintN(256))
		}
		insns := genProgram(code)
		mine, err := ourVerdict(insns)
		if err != nil {
			t.Fatal(err)
		}
		theirs, log, ok := kernelVerdict(t, insns)
		if !ok {
			continue // cilium/ebpf would hand the kernel another program
		}
		asked++
		if mine == theirs {
			agree++
			if mine {
				accepted++
			}
			continue
		}
		t.Errorf("program %d: xdpsim accepts: %v, the kernel accepts: %v\n%s\nkernel log:\n%s", i, mine, theirs, dump(insns), log)
	}
	t.Logf("%d of %d generated programs get the kernel's verdict (%d accepted by both; %d could not be handed to the kernel unchanged)", agree, asked, accepted, n-asked)
	if asked < n*9/10 {
		t.Errorf("only %d of %d generated programs could be handed to the kernel unchanged", asked, n)
	}
}
