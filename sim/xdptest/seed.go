package xdptest

import (
	"math/bits"
	"slices"
	"testing"

	"github.com/xdpsim/xdpsim/sim/replay"
)

// AddSeeds adds to the fuzz target's seed corpus the packets of the traces (pcap or pcapng files)
// that reach something in the program the others do not (see Distill): a handful of packets, not
// thousands, since Go's fuzzer works through its corpus one entry at a time. The fuzz function
// must take the packet as its only argument (func(t *testing.T, pkt []byte)); for other
// signatures, call Distill and f.Add yourself.
func (p *Program) AddSeeds(f *testing.F, traces ...string) {
	f.Helper()
	pkts, err := ReadPcap(traces...)
	if err != nil {
		f.Fatalf("xdptest: %v", err)
	}
	for _, pkt := range p.Distill(pkts) {
		f.Add(pkt)
	}
}

// Distill picks from pkts a few that together reach everything all of them reach in the program:
// every edge of every branch, every power of two of the times an edge ran, every way a run ended
// (not every closeness of every comparison, which is for the fuzzer to climb).
// It goes through the packets shortest first and keeps each that reaches something the kept ones
// do not, so that it prefers short packets (which fuzz faster). Each runs from the maps' snapshot.
func (p *Program) Distill(pkts [][]byte) [][]byte {
	order := make([]int, len(pkts))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return len(pkts[a]) - len(pkts[b]) })
	feats := p.features()
	rec := newRecorder(p)
	defer rec.done()
	seen := map[hit]bool{}
	var kept []int
	for _, i := range order {
		rec.reset()
		out, _, err := p.run(Input{Packet: pkts[i]}, nil)
		if err != nil {
			continue
		}
		feats.collect(rec.cov(), &out)
		added := false
		for _, h := range feats.pending {
			if h.near {
				continue // closeness is for fuzzing to climb, not for choosing seeds
			}
			h.n = uint64(1) << (bits.Len64(min(h.n, 255)) - 1) // what the fuzzer sees of a count
			if !seen[h] {
				seen[h] = true
				added = true
			}
		}
		if added {
			kept = append(kept, i)
		}
	}
	out := make([][]byte, len(kept))
	for k, i := range kept {
		out[k] = pkts[i]
	}
	return out
}

// ReadPcap returns the records of pcap or pcapng traces of Ethernet frames, in order (read by the
// replay loop's reader: errors name the file and the record).
func ReadPcap(paths ...string) ([][]byte, error) {
	var pkts [][]byte
	err := replay.ReadAll(paths, func(r *replay.Record) error {
		pkts = append(pkts, append([]byte(nil), r.Data...))
		return nil
	})
	return pkts, err
}
