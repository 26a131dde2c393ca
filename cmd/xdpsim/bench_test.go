package main

import (
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/kernel/runcost"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/simtest"
	"github.com/xdpsim/xdpsim/vm"
)

// commandBenchObjects are the programs BenchmarkRunCommand runs: the parser of sim's benchmarks and
// the corpus's eth_stats.
var commandBenchObjects = []string{"../../sim/testdata/parser.o", "../../corpus/eth_stats.v4.o"}

// BenchmarkRunCommand runs the whole `xdpsim run PROG.o TRACE.pcap` command in process, on every
// engine, over two traces generated from the mixed corpus trace (20,000 and 100,000 packets) and
// reports the marginal cost of a packet: the difference between the two runs over the difference
// in packets, so that loading the object and writing the summary drop out. ns/packet is wall time,
// cpu-ns/packet the process's CPU time (its garbage collector included; a loaded machine does not
// inflate it), allocs/packet the heap allocations. Beside them, kernel-ns/run is the kernel's own
// per-run cost of the same object on a sample of the same packets (see runcost), and x-kernel the
// ratio of the two CPU figures; without a kernel those two are left out, and the kernel row skips
// saying why.
func BenchmarkRunCommand(b *testing.B) {
	mixed := corpus.TracePath("mixed.pcap")
	dir := b.TempDir()
	small, large := filepath.Join(dir, "small.pcap"), filepath.Join(dir, "large.pcap")
	nSmall := simtest.RepeatTrace(b, mixed, small, 5)
	nLarge := simtest.RepeatTrace(b, mixed, large, 25)
	var sample [][]byte
	for _, r := range simtest.Records(b, mixed, -1) {
		if len(r.Data) >= sim.ETHHdrLen {
			sample = append(sample, r.Data)
		}
	}
	sample = runcost.Sample(sample)
	for _, obj := range commandBenchObjects {
		b.Run(strings.TrimSuffix(filepath.Base(obj), ".o"), func(b *testing.B) {
			k, kerr := runcost.NewKernel(obj, "", sample)
			if kerr == nil {
				defer k.Close()
			}
			for _, e := range vm.Engines() {
				b.Run(e.Name(), func(b *testing.B) {
					args := []string{"run", "--engine", e.Name(), obj}
					var wall, cpu time.Duration
					// Signed: with no allocation per packet, the two runs' counts differ by noise.
					var allocs int64
					for b.Loop() {
						ws, cs, as := runCommand(b, append(args, small))
						wl, cl, al := runCommand(b, append(args, large))
						wall += wl - ws
						cpu += cl - cs
						allocs += int64(al) - int64(as)
					}
					pkts := float64(b.N * (nLarge - nSmall))
					b.ReportMetric(float64(wall.Nanoseconds())/pkts, "ns/packet")
					b.ReportMetric(float64(cpu.Nanoseconds())/pkts, "cpu-ns/packet")
					b.ReportMetric(float64(allocs)/pkts, "allocs/packet")
					b.ReportMetric(0, "ns/op")
					if k != nil {
						kns, err := k.PerRun()
						if err != nil {
							b.Fatal(err)
						}
						b.ReportMetric(kns, "kernel-ns/run")
						b.ReportMetric(float64(cpu.Nanoseconds())/pkts/kns, "x-kernel")
					}
				})
			}
			b.Run("kernel", func(b *testing.B) {
				if kerr != nil {
					b.Skipf("SKIP: no kernel to compare with: %v", kerr)
				}
				kns, err := k.PerRun()
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(kns, "kernel-ns/run")
				b.ReportMetric(0, "ns/op")
			})
		})
	}
}

// runCommand runs xdpsim with args in process and returns the wall time, process CPU time and heap
// allocations it took.
func runCommand(b *testing.B, args []string) (wall, cpu time.Duration, allocs uint64) {
	b.Helper()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m0, c0, t0 := ms.Mallocs, runcost.ProcessCPU(), time.Now()
	var stderr strings.Builder
	if code := run(args, nil, io.Discard, &stderr); code != exitOK {
		b.Fatalf("xdpsim %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
	}
	wall, cpu = time.Since(t0), runcost.ProcessCPU()-c0
	runtime.ReadMemStats(&ms)
	return wall, cpu, ms.Mallocs - m0
}
