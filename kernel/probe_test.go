package kernel_test

import (
	"bytes"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/result"
)

// probeRun runs a probe program over one packet on one side and gives its outcome and the maps
// after it.
type probeRun func(pkt, meta []byte) (result.Packet, result.Maps)

// probeSides loads one XDP or tc program of a testdata object on each side, from fresh maps: the
// simulator, and the kernel when there is one (kern is nil then, and the test says so).
func probeSides(t *testing.T, obj, prog string, opts kernel.Options) (simRun, kernRun probeRun) {
	t.Helper()
	o, err := sim.Load(obj, sim.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := o.FindProgram(prog)
	if err != nil {
		t.Fatal(err)
	}
	var run func(pkt, meta []byte) sim.Outcome
	if p.Type == ebpf.SchedCLS {
		tc, err := sim.NewTC(p)
		if err != nil {
			t.Fatal(err)
		}
		run = func(pkt, _ []byte) sim.Outcome { return tc.Run(pkt, nil, sim.Conditions{}) }
	} else {
		x, err := sim.NewXDP(p)
		if err != nil {
			t.Fatal(err)
		}
		run = func(pkt, meta []byte) sim.Outcome { return x.Run(pkt, meta, sim.Conditions{}) }
	}
	simRun = func(pkt, meta []byte) (result.Packet, result.Maps) {
		out := run(pkt, meta).Packet
		out.Data, out.Meta = bytes.Clone(out.Data), bytes.Clone(out.Meta)
		m, err := o.DumpMaps()
		if err != nil {
			t.Fatal(err)
		}
		return out, m
	}
	if err := kernel.Available(); err != nil {
		t.Logf("kernel side skipped: %v", err)
		return simRun, nil
	}
	opts.Program = prog
	kp, err := kernel.Load(obj, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kp.Close() })
	kernRun = func(pkt, meta []byte) (result.Packet, result.Maps) {
		var out result.Packet
		if kp.IsTC() {
			out = kp.RunTC(pkt, nil, kernel.Context{})
		} else {
			out = kp.Run(pkt, meta, kernel.Context{})
		}
		m, err := kp.DumpMaps()
		if err != nil {
			t.Fatal(err)
		}
		return out, m
	}
	return simRun, kernRun
}
