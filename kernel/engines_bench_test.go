package kernel_test

import (
	"testing"
	"time"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/vm"
)

// BenchmarkEngines runs the same objects over the mixed corpus trace in the simulator on every
// engine and in the kernel, side by side in one run: ns/packet and ns/insn for each (the kernel's
// from BPF_PROG_TEST_RUN with a repeat count, its own time per run; its ns/insn divides that by the
// instructions the simulator counts for the same packet, as the kernel's JIT runs the same
// program), and allocations per packet.
func BenchmarkEngines(b *testing.B) {
	pkts := readTrace(b, corpus.TracePath("mixed.pcap"))
	objects := []struct{ name, path, entry string }{
		{"parser", "../sim/testdata/parser.o", "xdp_parser"},
		{"eth_stats", "", "eth_stats"},
		{"calls", "", "calls"},
	}
	for _, o := range objects {
		path, entry := o.path, o.entry
		if path == "" {
			p, _ := corpus.Lookup(o.name)
			path, entry = p.Object("v4"), p.Entry
		}
		var insns []uint64 // per packet, as the simulator counts them
		for _, e := range vm.Engines() {
			b.Run(o.name+"/"+e.Name(), func(b *testing.B) {
				obj, err := sim.Load(path, sim.LoadOptions{})
				if err != nil {
					b.Fatal(err)
				}
				p, err := obj.FindProgram(entry)
				if err != nil {
					b.Fatal(err)
				}
				x, err := sim.NewXDP(p)
				if err != nil {
					b.Fatal(err)
				}
				x.Machine().SetEngine(e)
				if insns == nil {
					for _, pkt := range pkts {
						insns = append(insns, x.Run(pkt.data, nil, sim.Conditions{IngressIfindex: 1}).Executed)
					}
				}
				b.ReportAllocs()
				n, executed := 0, uint64(0)
				for b.Loop() {
					executed += x.Run(pkts[n%len(pkts)].data, nil, sim.Conditions{IngressIfindex: 1}).Executed
					n++
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/packet")
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(executed), "ns/insn")
			})
		}
		b.Run(o.name+"/kernel-test_run", func(b *testing.B) {
			if err := kernel.Available(); err != nil {
				b.Skipf("SKIP: %v", err)
			}
			kp, err := kernel.Load(path, kernel.Options{Program: entry})
			if err != nil {
				b.Fatal(err)
			}
			defer kp.Close()
			n, executed, total := 0, uint64(0), time.Duration(0)
			for b.Loop() {
				i := n % len(pkts)
				n++
				if len(pkts[i].data) < kernel.MinPacket {
					continue // the kernel refuses it
				}
				per, err := kp.RunTime(pkts[i].data, 100)
				if err != nil {
					b.Fatal(err)
				}
				total += per
				executed += insns[i]
			}
			b.ReportMetric(float64(total.Nanoseconds())/float64(n), "ns/packet")
			b.ReportMetric(float64(total.Nanoseconds())/float64(executed), "ns/insn")
		})
	}
}
