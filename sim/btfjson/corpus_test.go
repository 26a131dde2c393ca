package btfjson_test

import (
	"bytes"
	"testing"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/btfjson"
	"github.com/xdpsim/xdpsim/sim/result"
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
			roundTrip(t, obj.DumpMaps, obj.LoadMaps, btfjson.SpecTypes(obj.Spec))
		})
	}
}

// Every tc program's maps, after its first trace, print as their C types and read back.
func TestEveryTCProgramsMapsPrintAndReadBack(t *testing.T) {
	for _, p := range corpus.TCPrograms() {
		t.Run(p.Name+"'s maps print as C types and read back to the same bytes", func(t *testing.T) {
			tc := simtest.TC(t, p)
			for _, r := range simtest.Records(t, corpus.TracePath(p.Traces[0]), 300) {
				tc.Run(r.Data, &sim.SkbContext{}, sim.Conditions{})
			}
			obj := tc.Programs()[0].Object()
			roundTrip(t, obj.DumpMaps, obj.LoadMaps, btfjson.SpecTypes(obj.Spec))
		})
	}
}

// Every dispatcher set's maps, every slot's named slot<N>/<map>, print as the C types of their own
// object's BTF and read back.
func TestEveryDispatcherSetsMapsPrintAndReadBack(t *testing.T) {
	for _, set := range corpus.Dispatchers() {
		t.Run(set.Name+"'s maps print as C types and read back to the same bytes", func(t *testing.T) {
			x := simtest.Dispatcher(t, set)
			for _, r := range simtest.Records(t, corpus.TracePath(set.Traces[0]), 300) {
				x.Run(r.Data, nil, sim.Conditions{IngressIfindex: 1})
			}
			types := btfjson.MapSpecTypes(x.MapSpecs())
			js := roundTrip(t, x.DumpMaps, x.LoadMaps, types)
			if !bytes.Contains(js, []byte(`"slot0/`)) {
				t.Errorf("no map is named for slot 0:\n%s", js)
			}
			d, _ := x.DumpMaps()
			for name := range d {
				if types(name).Value == nil {
					t.Errorf("map %s prints in hex: its type was not found", name)
				}
			}
		})
	}
}

// roundTrip prints a dump as C types, reads it back, prints that again and loads it, and checks
// nothing changed on the way; it returns the printed dump.
func roundTrip(t *testing.T, dump func() (result.Maps, error), load func(result.Maps) error, types btfjson.TypeOf) []byte {
	t.Helper()
	d, err := dump()
	if err != nil {
		t.Fatal(err)
	}
	js, err := btfjson.FormatMaps(d, types)
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
	if err := load(back); err != nil {
		t.Fatalf("loading the dump read back: %v", err)
	}
	after, _ := dump()
	if js2, _ := btfjson.FormatMaps(after, types); !bytes.Equal(js, js2) {
		t.Errorf("loading the read-back dump changed the maps")
	}
	return js
}
