package targets_test

import (
	"testing"

	"github.com/xdpsim/xdpsim/sim/xdptest"
)

// FuzzPlantedBug fuzzes corpus/planted_bug.c, whose parser returns XDP_ABORTED for a telemetry
// record whose tag starts with "xdp" (UDP port 7777, version 1, type below 4). The seeds are the
// packets of the mixed trace that add coverage; none holds the answer. go test runs the seeds
// (they pass); go test -fuzz=FuzzPlantedBug ./sim/xdptest/internal/targets finds the bug, with default flags.
func FuzzPlantedBug(f *testing.F) {
	p := xdptest.Load(f, "../../../../corpus/planted_bug.v4.o")
	p.AddSeeds(f, "../../../../corpus/traces/mixed.pcap")
	f.Fuzz(func(t *testing.T, pkt []byte) {
		p.Run(t, pkt)
	})
}
