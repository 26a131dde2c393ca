package baseline_test

import (
	"encoding/binary"
	"testing"

	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/replay"
)

// load loads an object's only program for sim directly.
func load(f *testing.F, path string) *sim.XDP {
	f.Helper()
	obj, err := sim.Load(path, sim.LoadOptions{})
	if err != nil {
		f.Fatal(err)
	}
	p, err := obj.FindProgram("")
	if err != nil {
		f.Fatal(err)
	}
	x, err := sim.NewXDP(p)
	if err != nil {
		f.Fatal(err)
	}
	return x
}

// packets reads a trace's packets.
func packets(f *testing.F, path string) [][]byte {
	f.Helper()
	var out [][]byte
	err := replay.ReadAll([]string{path}, func(r *replay.Record) error {
		out = append(out, append([]byte(nil), r.Data...))
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	return out
}

// FuzzSimDirectly fuzzes corpus/planted_bug.c through sim, seeded with the mixed trace's IPv4
// packets to UDP port 7777, and fails on XDP_ABORTED or a fault.
func FuzzSimDirectly(f *testing.F) {
	x := load(f, "../../../../corpus/planted_bug.v4.o")
	for _, pkt := range packets(f, "../../../../corpus/traces/mixed.pcap") {
		if len(pkt) > 42 && pkt[12] == 8 && pkt[13] == 0 && pkt[23] == 17 && binary.BigEndian.Uint16(pkt[36:]) == 7777 {
			f.Add(pkt)
		}
	}
	f.Fuzz(func(t *testing.T, pkt []byte) {
		o := x.Run(pkt, nil, sim.Conditions{IngressIfindex: 1})
		if o.Fault != nil {
			t.Fatal(o.Fault)
		}
		if o.Err == "" && o.Ret == 0 {
			t.Fatalf("XDP_ABORTED on %x", pkt)
		}
	})
}

// FuzzSimDirectlyParser fuzzes the ~40-instruction parser of sim/testdata through sim, seeded
// with the first 20 packets of the mixed trace (as targets.FuzzParser is).
func FuzzSimDirectlyParser(f *testing.F) {
	x := load(f, "../../../testdata/parser.o")
	for _, pkt := range packets(f, "../../../../corpus/traces/mixed.pcap")[:20] {
		f.Add(pkt)
	}
	f.Fuzz(func(t *testing.T, pkt []byte) {
		if o := x.Run(pkt, nil, sim.Conditions{IngressIfindex: 1}); o.Fault != nil {
			t.Fatal(o.Fault)
		}
	})
}
