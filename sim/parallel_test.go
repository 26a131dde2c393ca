package sim_test

import (
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/device"
	"github.com/xdpsim/xdpsim/sim/simtest"
	"github.com/xdpsim/xdpsim/vm"
)

// corpusXDP loads corpus program name as an XDP.
func corpusXDP(t *testing.T, name string) *sim.XDP {
	t.Helper()
	return simtest.XDP(t, simtest.Program(t, name))
}

// TestForksRunOnTheEngineOfTheirOrigin: a parallel replay's forks run on the engine the user
// chose (the jit's native code, not the interpreter), with its budget.
func TestForksRunOnTheEngineOfTheirOrigin(t *testing.T) {
	for _, e := range vm.Engines() {
		t.Run("a fork of an XDP on "+e.Name()+" runs on "+e.Name(), func(t *testing.T) {
			x := corpusXDP(t, "eth_stats")
			x.Machine().SetEngine(e)
			x.Machine().SetBudget(12345)
			y, err := x.Fork()
			if err != nil {
				t.Fatal(err)
			}
			if got := y.Machine().Engine(); got != e {
				t.Errorf("the fork runs on %s", got.Name())
			}
			if got := y.Machine().Budget(); got != 12345 {
				t.Errorf("the fork's budget is %d", got)
			}
		})
	}
}

// TestWhatDoesNotForkSaysWhy: what is not per CPU besides maps keeps an XDP on one goroutine, and
// Forkable names it.
func TestWhatDoesNotForkSaysWhy(t *testing.T) {
	timers := &ebpf.CollectionSpec{Programs: map[string]*ebpf.ProgramSpec{"t": {Name: "t", Type: ebpf.XDP, License: "GPL", Instructions: asm.Instructions{
		asm.Mov.Imm(asm.R1, 0), asm.Mov.Imm(asm.R2, 0), asm.Mov.Imm(asm.R3, 0),
		asm.FnTimerInit.Call(), asm.Mov.Imm(asm.R0, 2), asm.Return(),
	}}}}
	for _, tc := range []struct {
		name string
		make func(t *testing.T) *sim.XDP
		want string
	}{
		{"a program with BPF timers runs on one goroutine", func(t *testing.T) *sim.XDP {
			o, err := sim.LoadSpec("timers.o", timers, sim.LoadOptions{NoVerify: true})
			if err != nil {
				t.Fatal(err)
			}
			p, err := o.FindProgram("t")
			if err != nil {
				t.Fatal(err)
			}
			x, err := sim.NewXDP(p)
			if err != nil {
				t.Fatal(err)
			}
			return x
		}, "BPF timers"},
		{"a program of the conntrack kfuncs runs on one goroutine", func(t *testing.T) *sim.XDP {
			return corpusXDP(t, "synproxy")
		}, "conntrack"},
		{"a dispatcher runs on one goroutine", func(t *testing.T) *sim.XDP {
			var atts []sim.Attachment
			for _, name := range []string{"disp_echo", "disp_fw"} {
				atts = append(atts, sim.Attachment{Program: corpusXDP(t, name).Programs()[0]})
			}
			x, err := sim.NewDispatcher(atts, device.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return x
		}, "dispatcher"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := tc.make(t)
			err := x.Forkable()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Forkable: %v, want a reason naming %s", err, tc.want)
			}
			if _, err := x.Fork(); err == nil {
				t.Fatal("Fork made a fork")
			}
		})
	}
	t.Run("a program of maps alone forks", func(t *testing.T) {
		if err := corpusXDP(t, "eth_stats").Forkable(); err != nil {
			t.Fatal(err)
		}
	})
}
