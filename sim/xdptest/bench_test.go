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
