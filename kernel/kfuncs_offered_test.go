package kernel_test

import (
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"

	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/kfuncs"
)

// kernelKfunc is a kfunc of the running kernel: a function its BTF tags bpf_kfunc.
type kernelKfunc struct {
	name string
	id   btf.TypeID
}

func kernelKfuncs(t *testing.T) []kernelKfunc {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		t.Fatal(err)
	}
	var out []kernelKfunc
	for typ := range spec.All() {
		if fn, ok := typ.(*btf.Func); ok && slices.Contains(fn.Tags, "bpf_kfunc") {
			id, err := spec.TypeID(fn)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, kernelKfunc{fn.Name, id})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// kfuncOffer loads a program of type typ calling k and says whether the kernel offers k to it:
// only "calling kernel function ... is not allowed" says no; any other refusal (its arguments,
// unset here) comes after the kernel accepted the call itself.
func kfuncOffer(typ ebpf.ProgramType, k kernelKfunc) (offered bool, log string) {
	call := asm.Instruction{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.Call),
		Src: asm.PseudoKfuncCall, Constant: int64(k.id)}
	spec := &ebpf.ProgramSpec{Type: typ, License: "GPL", Instructions: asm.Instructions{
		call, asm.Mov.Imm(asm.R0, 2), asm.Return()}}
	p, err := ebpf.NewProgramWithOptions(spec, ebpf.ProgramOptions{LogLevel: ebpf.LogLevelBranch})
	if err == nil {
		p.Close()
		return true, ""
	}
	var ve *ebpf.VerifierError
	if errors.As(err, &ve) {
		log = err.Error() + "\n" + strings.Join(ve.Log, "\n")
	} else {
		log = err.Error()
	}
	return !strings.Contains(log, "is not allowed"), log
}

// The simulator provides XDP programs every kfunc Linux offers them but those it lists as not
// simulated (kfuncs.NotSimulated, and the README); the kernel's offer is measured by loading a call
// of each kfunc its BTF tags bpf_kfunc: only "calling kernel function ... is not allowed" says the
// kernel does not offer it.
func TestTheSimulatorOffersTheKfuncsTheKernelOffers(t *testing.T) {
	if err := kernel.Available(); err != nil {
		t.Skipf("SKIP: %v", err)
	}
	missing := kfuncs.NotSimulated()
	provided := map[string]*kfuncs.Kfunc{}
	for _, k := range kfuncs.All(kfuncs.Features{}) {
		provided[k.Name] = k
	}
	inKernel := map[string]bool{}
	offered, forTC := 0, 0
	for _, kk := range kernelKfuncs(t) {
		inKernel[kk.name] = true
		kernelOffers, log := kfuncOffer(ebpf.XDP, kk)
		k := provided[kk.name]
		why, listed := missing[kk.name]
		switch {
		case kernelOffers && k != nil && k.For(ebpf.XDP) && listed:
			t.Errorf("%s is provided and yet listed as not simulated (%s)", kk.name, why)
		case kernelOffers && k != nil && !k.For(ebpf.XDP):
			// The kernel registers the conntrack kfuncs for XDP and tc alike, but an XDP
			// context is no sk_buff: the verifier refuses its context as their argument.
			if !strings.Contains(log, "R1 must be referenced or trusted") {
				t.Errorf("the simulator keeps %s from XDP programs, which the kernel lets call it: %s", kk.name, lastLines(log))
			}
			forTC++
		case kernelOffers && k == nil && !listed:
			t.Errorf("the kernel offers %s to XDP programs: the simulator neither provides it nor says why not", kk.name)
		case !kernelOffers && k != nil && k.For(ebpf.XDP):
			t.Errorf("the simulator offers %s to XDP programs, which the kernel refuses: %s", kk.name, lastLines(log))
		case !kernelOffers && listed:
			t.Errorf("%s is listed as not simulated, but the kernel does not offer it to XDP programs either", kk.name)
		}
		if kernelOffers {
			offered++
		}
	}
	for name := range missing {
		if !inKernel[name] {
			t.Errorf("%s is listed as not simulated, but the kernel has no such kfunc", name)
		}
	}
	for name, k := range provided {
		if !inKernel[name] && k.Feature == "" {
			t.Errorf("the simulator provides %s as a kfunc of Linux, which the kernel does not have", name)
		}
	}
	t.Logf("the kernel has %d kfuncs and offers XDP programs %d; the simulator provides %d of them, keeps %d to tc programs, and lists %d as not simulated",
		len(inKernel), offered, offered-forTC-len(missing), forTC, len(missing))
}

func lastLines(log string) string {
	lines := strings.Split(strings.TrimSpace(log), "\n")
	return strings.Join(lines[max(0, len(lines)-2):], " / ")
}
