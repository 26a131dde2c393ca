package xdptest_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/xdpsim/xdpsim/sim/result"
	"github.com/xdpsim/xdpsim/sim/xdptest"
)

// A fuzz target for an XDP program: load the object once, seed the corpus with the packets of a
// trace that reach different paths, and run every input through the program; Run fails the input
// on a fault, an XDP exception (XDP_ABORTED, say) or a malformed frame out. go test runs the seeds;
// go test -fuzz=FuzzParser fuzzes, steered by the BPF program's own coverage.
func Example_fuzzTarget() {
	fuzzParser := func(f *testing.F) {
		p := xdptest.Load(f, "parser.o")
		p.AddSeeds(f, "testdata/traffic.pcap")
		f.Fuzz(func(t *testing.T, pkt []byte) {
			out := p.Run(t, pkt)
			// Invariants of your own go here, on out.
			_ = out
		})
	}
	_ = fuzzParser
}

// Running a packet without a test: the outcome, and the maps as the program left them. Every
// input starts from the maps as they were when the program was loaded.
func ExampleProgram_Outcome() {
	p, err := xdptest.Open("../../corpus/planted_bug.v4.o")
	if err != nil {
		panic(err)
	}
	// Ethernet, IPv4 from 10.0.0.1, UDP to port 7777: a telemetry record of type 2, tag "abcd".
	pkt, _ := hex.DecodeString("020000000002020000000001" + "0800" + "4500002800000000401166c30a0000010a000002" +
		"9c401e6100146b4c" + "0102000c00000001" + "61626364")
	for range 2 {
		out, err := p.Outcome(xdptest.Input{Packet: pkt})
		if err != nil {
			panic(err)
		}
		v, _ := p.Object.Maps["tlm_stats"].Lookup(binary.LittleEndian.AppendUint32(nil, 0), 0)
		fmt.Println(result.VerdictName(out.Ret), "records counted:", binary.LittleEndian.Uint64(v))
	}
	// Output:
	// XDP_PASS records counted: 1
	// XDP_PASS records counted: 1
}

// Searching for a failing input in process, as a quick check in go test: from a few packets of a
// trace, Search finds the telemetry record with the tag "xdp" that makes corpus/planted_bug.c
// return XDP_ABORTED.
func ExampleProgram_Search() {
	p, err := xdptest.Open("../../corpus/planted_bug.v4.o")
	if err != nil {
		panic(err)
	}
	pkts, err := xdptest.ReadPcap("../../corpus/traces/mixed.pcap")
	if err != nil {
		panic(err)
	}
	seeds := p.Distill(pkts)
	f := p.Search(seeds, 2_000_000, 2)
	fmt.Println(len(seeds), "seeds")
	fmt.Println(f.Problems)
	fmt.Println(bytes.Contains(f.Input.Packet, []byte("xdp")))
	// Output:
	// 11 seeds
	// [xdp_exception: XDP_ABORTED]
	// true
}
