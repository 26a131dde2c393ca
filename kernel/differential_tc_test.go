package kernel_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/result"
)

// diffRunTC runs one tc program of an object over one trace on both sides, as BPF_PROG_TEST_RUN
// runs a tc program, from fresh maps, and returns every divergence: return value, packet,
// __sk_buff given back, and maps.
func diffRunTC(t testing.TB, obj, entry string, pkts []tracePacket) (divergences []string, packets int) {
	kp, err := kernel.Load(obj, kernel.Options{Program: entry})
	if err != nil {
		t.Fatalf("kernel: %v", err)
	}
	defer kp.Close()
	o, err := sim.Load(obj, sim.LoadOptions{CPUs: kp.NumCPU()})
	if err != nil {
		t.Fatalf("simulator: %v", err)
	}
	p, err := o.FindProgram(entry)
	if err != nil {
		t.Fatalf("simulator: %v", err)
	}
	tc, err := sim.NewTC(p)
	if err != nil {
		t.Fatal(err)
	}
	for i, pkt := range pkts {
		ctx := sim.SkbContext{Ifindex: 1, Mark: uint32(i), Priority: 3, CB: [5]uint32{uint32(i), 0, 0, 0, 0xcb}}
		s := tc.Run(pkt.data, &ctx, sim.Conditions{TimeNs: pkt.tsNs})
		k := kp.RunTC(pkt.data, ctx.Marshal(), kernel.Context{})
		divergences = append(divergences, result.ComparePackets(i+1, s.Packet, k)...)
	}
	sm, err := o.DumpMaps()
	if err != nil {
		t.Fatal(err)
	}
	km, err := kp.DumpMaps()
	if err != nil {
		t.Fatal(err)
	}
	return append(divergences, result.CompareMaps(sm, km)...), len(pkts)
}

// TestTCSimulatorAgreesWithKernel runs every tc program of the corpus (each program of a tcx chain
// on its own), at both ISA levels, over every corpus trace, in the simulator and through
// BPF_PROG_TEST_RUN in the real kernel, with a __sk_buff passed in (mark, priority and cb set) and
// given back, and requires full agreement: return value, output bytes, every __sk_buff field the
// kernel gives back, and the contents of every map after each trace.
func TestTCSimulatorAgreesWithKernel(t *testing.T) {
	if err := kernel.Available(); err != nil {
		t.Skipf("SKIP: %v", err)
	}
	traces := map[string][]tracePacket{}
	for _, tr := range corpus.Traces() {
		traces[tr.Name] = readTrace(t, tr.Path())
	}
	total, runs, divs, programs := 0, 0, 0, 0
	for _, p := range corpus.TCPrograms() {
		entries := p.Chain
		if len(entries) == 0 {
			entries = []string{p.Entry}
		}
		programs += len(entries)
		for _, entry := range entries {
			for _, cpu := range corpus.CPUs {
				for _, tr := range corpus.Traces() {
					name := entry + "." + cpu + "/" + strings.TrimSuffix(tr.Name, filepath.Ext(tr.Name))
					t.Run(name, func(t *testing.T) {
						d, n := diffRunTC(t, p.Object(cpu), entry, traces[tr.Name])
						total += n
						runs++
						divs += len(d)
						for i, msg := range d {
							if i == 10 {
								t.Errorf("... and %d more divergences", len(d)-10)
								break
							}
							t.Error(msg)
						}
					})
				}
			}
		}
	}
	t.Logf("%d tc programs (%d objects) x %d ISA levels x %d traces: %d runs, %d packets on each side, %d divergences",
		programs, len(corpus.TCPrograms()), len(corpus.CPUs), len(corpus.Traces()), runs, total, divs)
}
