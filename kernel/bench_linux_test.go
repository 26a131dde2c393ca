//go:build linux

package kernel

import (
	"bytes"
	"testing"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/sim/replay"
)

// benchTrace is the mixed corpus trace's packets the kernel accepts.
func benchTrace(b *testing.B) [][]byte {
	var out [][]byte
	err := replay.ReadAll([]string{corpus.TracePath("mixed.pcap")}, func(r *replay.Record) error {
		if len(r.Data) >= MinPacket {
			out = append(out, bytes.Clone(r.Data))
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// BenchmarkKernelRun measures Program.Run over the mixed corpus trace, one packet per call, from
// another goroutine (each packet handed to the test thread) and inside OnTestThread (as `xdpsim
// run --engine kernel` replays), next to the kernel's own cost per run: one
// BPF_PROG_TEST_RUN with a repeat count of 1000 reports the average duration of a run inside the
// kernel, with no system call, copy or thread hop around it.
func BenchmarkKernelRun(b *testing.B) {
	if err := Available(); err != nil {
		b.Skipf("SKIP: %v", err)
	}
	pkts := benchTrace(b)
	for _, name := range []string{"eth_stats", "calls"} {
		p, _ := corpus.Lookup(name)
		kp, err := Load(p.Object("v4"), Options{Program: p.Entry})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name+"/Program.Run", func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if r := kp.Run(pkts[n%len(pkts)], nil, Context{IngressIfindex: 1}); r.Err != "" {
					b.Fatal(r.Err)
				}
				n++
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/packet")
		})
		b.Run(name+"/OnTestThread", func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			err := kp.OnTestThread(func() error {
				for b.Loop() {
					if r := kp.Run(pkts[n%len(pkts)], nil, Context{IngressIfindex: 1}); r.Err != "" {
						b.Fatal(r.Err)
					}
					n++
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/packet")
		})
		b.Run(name+"/test_run-repeat", func(b *testing.B) {
			n, total := 0, 0.0
			for b.Loop() {
				_, per, err := kp.prog.Benchmark(pkts[n%len(pkts)], 1000, nil)
				if err != nil {
					b.Fatal(err)
				}
				total += float64(per.Nanoseconds())
				n++
			}
			b.ReportMetric(total/float64(n), "ns/packet")
		})
		kp.Close()
	}
}
