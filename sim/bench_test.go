package sim_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/gopacket/pcapgo"

	"github.com/xdpsim/xdpsim/kernel/runcost"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/vm"
)

// readPcap returns every record of a pcap file.
func readPcap(tb testing.TB, path string) [][]byte {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Skipf("SKIP: trace %s not available: %v", path, err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	var out [][]byte
	for {
		data, _, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, data)
	}
}

// packetBenchObjects are the programs the per-packet benchmarks run over the mixed corpus trace:
// testdata/parser.c (about 26 instructions a packet: the parser the issue measures), the corpus's
// eth_stats (two counter lookups per packet, about 67 instructions) and icmp_echo (rewrites and
// checksums echo requests).
var packetBenchObjects = []string{"testdata/parser.o", "../corpus/eth_stats.v4.o", "../corpus/icmp_echo.v4.o"}

// BenchmarkPacket runs each program over packets of the mixed trace (runcost.Sample's evenly spread
// sample) through XDP.Run (frame set-up, run, verdict), on every engine, side by side with the
// kernel's own per-run cost of the same object on the same packets (BPF_PROG_TEST_RUN with a
// repeat count, its JIT on), measured within each engine's benchmark so that the ratio comes from
// one moment of a noisy machine. It reports
// ns/packet (wall time), cpu-ns/packet (the thread's CPU time, which a loaded machine does not
// inflate: the kernel's figure leaves out time it was rescheduled too), kernel-ns/run and
// x-kernel (cpu-ns/packet over kernel-ns/run). The kernel row reports the kernel's figure alone;
// without a kernel it skips, saying why, and the engine rows leave the kernel columns out.
func BenchmarkPacket(b *testing.B) {
	var all [][]byte
	for _, p := range readPcap(b, "../corpus/traces/mixed.pcap") {
		if len(p) >= sim.ETHHdrLen { // the rest the kernel refuses to run
			all = append(all, p)
		}
	}
	pkts := runcost.Sample(all)
	for _, path := range packetBenchObjects {
		b.Run(strings.TrimSuffix(filepath.Base(path), ".o"), func(b *testing.B) {
			k, kerr := runcost.NewKernel(path, "", pkts)
			if kerr == nil {
				defer k.Close()
			}
			for _, e := range vm.Engines() {
				b.Run(e.Name(), func(b *testing.B) { benchPackets(b, path, e, pkts, k) })
			}
			b.Run("kernel", func(b *testing.B) { benchKernel(b, k, kerr) })
		})
	}
}

// benchKernel is the kernel's row of a per-packet benchmark: its per-run cost, measured once
// whatever b.N is (each measurement takes seconds: see runcost.SamplePackets).
func benchKernel(b *testing.B, k *runcost.Kernel, kerr error) {
	if kerr != nil {
		b.Skipf("SKIP: no kernel to compare with: %v", kerr)
	}
	ns, err := k.PerRun()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(ns, "kernel-ns/run")
	b.ReportMetric(0, "ns/op")
}

// benchPackets is one engine's row of BenchmarkPacket.
func benchPackets(b *testing.B, path string, e vm.Engine, pkts [][]byte, k *runcost.Kernel) {
	obj, err := sim.Load(path, sim.LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	p, err := obj.FindProgram("")
	if err != nil {
		b.Fatal(err)
	}
	x, err := sim.NewXDP(p)
	if err != nil {
		b.Fatal(err)
	}
	x.Machine().SetEngine(e)
	cond := sim.Conditions{IngressIfindex: 1}
	for _, pkt := range pkts {
		if o := x.Run(pkt, nil, cond); o.Err != "" {
			b.Fatalf("%s: %s", path, o.Err)
		}
	}
	var insns uint64
	var clock runcost.Clock
	b.ReportAllocs()
	n := 0
	clock.Start()
	for b.Loop() {
		o := x.Run(pkts[n%len(pkts)], nil, cond)
		insns += o.Executed
		n++
	}
	cpu := clock.Stop()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/packet")
	cpuNs := float64(cpu.Nanoseconds()) / float64(n)
	b.ReportMetric(cpuNs, "cpu-ns/packet")
	b.ReportMetric(float64(insns)/float64(n), "insns/packet")
	b.ReportMetric(0, "ns/op") // ns/packet says it per packet
	if k != nil {
		kns, err := k.PerRun()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(kns, "kernel-ns/run")
		b.ReportMetric(cpuNs/kns, "x-kernel")
	}
}

// TestSteadyStatePacketsDoNotAllocate holds the data path to DESIGN.md's rule: no allocation per
// packet once the XDP is warm (here a parser with map updates, PASS hand-offs and refusals).
func TestSteadyStatePacketsDoNotAllocate(t *testing.T) {
	pkts := readPcap(t, "../corpus/traces/mixed.pcap")
	obj, err := sim.Load("../corpus/eth_stats.v4.o", sim.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := obj.FindProgram("")
	if err != nil {
		t.Fatal(err)
	}
	x, err := sim.NewXDP(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, pkt := range pkts {
		x.Run(pkt, nil, sim.Conditions{IngressIfindex: 1})
	}
	n := 0
	allocs := testing.AllocsPerRun(len(pkts), func() {
		o := x.Run(pkts[n%len(pkts)], nil, sim.Conditions{IngressIfindex: 1})
		if o.Err != "" && len(pkts[n%len(pkts)]) >= 14 {
			t.Fatal(o.Err)
		}
		n++
	})
	if allocs != 0 {
		t.Errorf("%v allocations per packet, want 0", allocs)
	}
}
