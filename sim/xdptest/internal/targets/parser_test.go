package targets_test

import (
	"testing"

	"github.com/xdpsim/xdpsim/sim/xdptest"
)

// FuzzParser fuzzes the ~40-instruction Ethernet/IPv4/UDP parser of sim/testdata, the program the
// execs/s figures of the README are measured on (go test -fuzz=FuzzParser ./sim/xdptest/internal/targets). Seeds:
// the first 20 packets of the mixed trace, as the measurement's baseline harness has them.
func FuzzParser(f *testing.F) {
	p := xdptest.Load(f, "../../../testdata/parser.o")
	pkts, err := xdptest.ReadPcap("../../../../corpus/traces/mixed.pcap")
	if err != nil {
		f.Fatal(err)
	}
	for _, pkt := range pkts[:20] {
		f.Add(pkt)
	}
	f.Fuzz(func(t *testing.T, pkt []byte) {
		p.Run(t, pkt)
	})
}
