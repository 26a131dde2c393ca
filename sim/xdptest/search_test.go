package xdptest_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/xdpsim/xdpsim/sim/xdptest"
)

// TestSearchFindsThePlantedBug fuzzes corpus/planted_bug.c through the public API, in process:
// from the seeds Distill picks out of the mixed trace (none of which fails), Search must reach the
// XDP_ABORTED behind the three bytes "xdp" at the tag of a UDP 7777 telemetry record. The search
// is deterministic (a fixed rng seed), so the number of runs it needs does not depend on the
// machine's load; only the time does.
func TestSearchFindsThePlantedBug(t *testing.T) {
	p := xdptest.Load(t, "../../corpus/planted_bug.v4.o")
	pkts, err := xdptest.ReadPcap("../../corpus/traces/mixed.pcap")
	if err != nil {
		t.Fatal(err)
	}
	seeds := p.Distill(pkts)
	for _, s := range seeds {
		if bytes.Contains(s, []byte("xdp")) {
			t.Fatalf("a seed holds the answer: %x", s)
		}
		p.Run(t, s) // and none fails the checks
	}
	start := time.Now()
	f := p.Search(seeds, 2_000_000, 1)
	if f == nil {
		t.Fatalf("2,000,000 inputs from %d seeds did not find the planted bug", len(seeds))
	}
	t.Logf("found after %d inputs in %v: %s\n%x", f.Runs, time.Since(start), f.Problems, f.Input.Packet)
	out, err := p.Outcome(f.Input)
	if err != nil || out.Ret != 0 {
		t.Fatalf("the input Search found returns %d (%v), not XDP_ABORTED", out.Ret, err)
	}
	if !bytes.Contains(f.Input.Packet, []byte("xdp")) {
		t.Fatalf("the input Search found aborts without the planted tag: %x", f.Input.Packet)
	}
}
