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
			obj, err := sim.Load(p.Object(cpu), sim.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			sp, err := obj.FindProgram(p.Entry)
			if err != nil {
				t.Fatal(err)
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
