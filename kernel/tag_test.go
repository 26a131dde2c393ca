package kernel_test

import (
	"encoding/hex"
	"testing"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim"
)

// TestProgramTagsAreTheKernels: the tag the simulator computes for a program (what xdpsim status
// shows, and what libxdp orders loaded programs of equal priority and name by) is the tag the
// kernel gives it, for every corpus program at both ISA levels.
func TestProgramTagsAreTheKernels(t *testing.T) {
	if err := kernel.Available(); err != nil {
		t.Skipf("SKIP: %v", err)
	}
	n := 0
	for _, p := range corpus.Programs() {
		if p.Needs != "" {
			continue
		}
		for _, cpu := range corpus.CPUs {
			kp, err := kernel.Load(p.Object(cpu), kernel.Options{Program: p.Entry})
			if err != nil {
				t.Fatal(err)
			}
			want, err := kp.Tag()
			kp.Close()
			if err != nil {
				t.Fatal(err)
			}
			sp := simProgram(t, p.Object(cpu), p.Entry, sim.LoadOptions{})
			if len(sp.Kfuncs) > 0 {
				// The kernel's tag covers each kfunc call's BTF id, which is its build's:
				// the simulator reads them from the running kernel's BTF then.
				sp = simProgram(t, p.Object(cpu), p.Entry, sim.LoadOptions{BTF: "/sys/kernel/btf/vmlinux"})
			}
			tag := sp.Tag()
			if got := hex.EncodeToString(tag[:]); got != want {
				t.Errorf("%s.%s: the simulator's tag %s, the kernel's %s", p.Name, cpu, got, want)
			}
			n++
		}
	}
	t.Logf("%d programs: the simulator's tags are the kernel's", n)
}

func simProgram(t *testing.T, obj, entry string, opts sim.LoadOptions) *sim.Program {
	t.Helper()
	o, err := sim.Load(obj, opts)
	if err != nil {
		t.Fatal(err)
	}
	p, err := o.FindProgram(entry)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
