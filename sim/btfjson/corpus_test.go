package btfjson_test

import (
	"bytes"
	"testing"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/btfjson"
	"github.com/xdpsim/xdpsim/sim/simtest"
)

// Every corpus program's maps, after its first trace, print as their C types and read back.
func TestEveryCorpusProgramsMapsPrintAndReadBack(t *testing.T) {
	for _, p := range corpus.Programs() {
		t.Run(p.Name+"'s maps print as C types and read back to the same bytes", func(t *testing.T) {
			x := simtest.XDP(t, p)
			obj := x.Program().Object()
			for _, r := range simtest.Records(t, corpus.TracePath(p.Traces[0]), 300) {
				x.Run(r.Data, nil, sim.Conditions{IngressIfindex: 1})
			}
			dump, err := obj.DumpMaps()
			if err != nil {
				t.Fatal(err)
			}
			types := btfjson.SpecTypes(obj.Spec)
			js, err := btfjson.FormatMaps(dump, types)
			if err != nil {
				t.Fatal(err)
			}
			back, err := btfjson.ParseMaps(js, types)
			if err != nil {
				t.Fatalf("reading our own dump back: %v", err)
			}
			again, err := btfjson.FormatMaps(back, types)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(js, again) {
				t.Errorf("the dump read back prints differently")
			}
			// Loading it into the maps must work and leave them as they were.
			if err := obj.LoadMaps(back); err != nil {
				t.Fatalf("loading the dump read back: %v", err)
			}
			after, _ := obj.DumpMaps()
			if js2, _ := btfjson.FormatMaps(after, types); !bytes.Equal(js, js2) {
				t.Errorf("loading the read-back dump changed the maps")
			}
		})
	}
}
