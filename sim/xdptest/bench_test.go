package xdptest_test

import (
	"testing"

	"github.com/xdpsim/xdpsim/sim/xdptest"
)

// BenchmarkRun is the cost of one input of a fuzz target on the ~40-instruction parser: restoring
// the maps, running the packet, the checks and, in a binary built by go test -fuzz (go test -c
// -fuzz=FuzzParser, then run it with -test.bench), hiding and showing coverage.
func BenchmarkRun(b *testing.B) {
	p := xdptest.Load(b, "../testdata/parser.o")
	pkts, err := xdptest.ReadPcap("../../corpus/traces/mixed.pcap")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		p.Run(b, pkts[n%len(pkts)])
		n++
	}
}

// TestRunDoesNotAllocate holds a fuzz input to no allocation once warm: maps restored, the packet
// and its neighbours run, the checks, the features.
func TestRunDoesNotAllocate(t *testing.T) {
	p := xdptest.Load(t, "../testdata/parser.o")
	pkts, err := xdptest.ReadPcap("../../corpus/traces/mixed.pcap")
	if err != nil {
		t.Fatal(err)
	}
	for _, pkt := range pkts {
		p.Run(t, pkt)
	}
	n := 0
	if allocs := testing.AllocsPerRun(len(pkts), func() {
		p.Run(t, pkts[n%len(pkts)])
		n++
	}); allocs != 0 {
		t.Errorf("%v allocations per input, want 0", allocs)
	}
}
