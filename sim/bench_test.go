package sim_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/gopacket/pcapgo"

	"github.com/xdpsim/xdpsim/sim"
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

// BenchmarkParserPacketsPerSecond runs Ethernet/IPv4/UDP parsers end to end (frame set-up, run,
// verdict) over the mixed corpus trace and reports packets per second: testdata/parser.c (about 40
// instructions for a UDP packet, the size the issue names) and the corpus's eth_stats.
func BenchmarkParserPacketsPerSecond(b *testing.B) {
	for _, obj := range []string{"testdata/parser.o", "../corpus/eth_stats.v4.o"} {
		b.Run(filepath.Base(obj), func(b *testing.B) { benchParser(b, obj) })
	}
}

func benchParser(b *testing.B, path string) {
	pkts := readPcap(b, "../corpus/traces/mixed.pcap")
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
	cond := sim.Conditions{IngressIfindex: 1}
	var insns uint64
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		o := x.Run(pkts[n%len(pkts)], nil, cond)
		insns += o.Executed
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "packets/s")
	b.ReportMetric(float64(insns)/float64(n), "insns/packet")
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
