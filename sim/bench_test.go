package sim_test

import (
	"errors"
	"io"
	"os"
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

// BenchmarkParserPacketsPerSecond runs a corpus Ethernet/VLAN/IPv4/IPv6/UDP parser end to end (frame
// set-up, run, verdict) over the mixed corpus trace and reports packets per second.
func BenchmarkParserPacketsPerSecond(b *testing.B) {
	pkts := readPcap(b, "../corpus/traces/mixed.pcap")
	obj, err := sim.Load("../corpus/eth_stats.v4.o", sim.LoadOptions{})
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
