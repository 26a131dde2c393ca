package kernel_test

import (
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/features"

	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim"
)

// The simulator offers XDP programs exactly the helpers Linux offers them, but for those it lists
// as not simulated (sim.NotSimulated, and the README); the kernel's offer is measured here by
// loading a call of each helper number (cilium/ebpf's features.HaveProgramHelper).
func TestTheSimulatorOffersTheHelpersTheKernelOffers(t *testing.T) {
	if err := kernel.Available(); err != nil {
		t.Skipf("SKIP: %v", err)
	}
	provided := map[int32]bool{}
	for _, id := range sim.Helpers(ebpf.XDP) {
		provided[id] = true
	}
	missing := sim.NotSimulated(ebpf.XDP)
	offered := 0
	for id := int32(1); id < 240; id++ {
		// Any refusal counts: unknown to XDP (ErrNotSupported), or known but unusable there
		// (copy_from_user "might sleep in a non-sleepable prog").
		kernelOffers := features.HaveProgramHelper(ebpf.XDP, asm.BuiltinFunc(id)) == nil
		name := sim.HelperName(id)
		why, listed := missing[id]
		switch {
		case kernelOffers && provided[id] && listed:
			t.Errorf("%s (#%d) is provided and yet listed as not simulated (%s)", name, id, why)
		case kernelOffers && !provided[id] && !listed:
			t.Errorf("the kernel offers %s (#%d) to XDP programs: the simulator neither provides it nor says why not", name, id)
		case !kernelOffers && provided[id]:
			t.Errorf("the simulator offers %s (#%d) to XDP programs, which the kernel refuses", name, id)
		case !kernelOffers && listed:
			t.Errorf("%s (#%d) is listed as not simulated, but the kernel does not offer it either", name, id)
		}
		if kernelOffers {
			offered++
		}
	}
	t.Logf("the kernel offers XDP programs %d helpers; the simulator provides %d of them and lists %d as not simulated", offered, offered-len(missing), len(missing))
}
