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

// mapCase is a corpus program as it runs (an XDP program, or a tc program alone), with the
// object whose maps its runs fill.
type mapCase struct {
	name, trace string
	build       func(t *testing.T) (*sim.Object, func(pkt []byte))
}

// Every corpus program's maps, XDP and tc programs alike, after its first trace, print as their C
// types and read back.
func TestEveryCorpusProgramsMapsPrintAndReadBack(t *testing.T) {
	var cases []mapCase
	for _, p := range corpus.Programs() {
		cases = append(cases, mapCase{p.Name, p.Traces[0], func(t *testing.T) (*sim.Object, func([]byte)) {
			x := simtest.XDP(t, p)
			return x.Program().Object(), func(pkt []byte) { x.Run(pkt, nil, sim.Conditions{IngressIfindex: 1}) }
		}})
	}
	for _, p := range corpus.TCPrograms() {
		cases = append(cases, mapCase{p.Name + " (tc)", p.Traces[0], func(t *testing.T) (*sim.Object, func([]byte)) {
			tc := simtest.TC(t, p)
			return tc.Programs()[0].Object(), func(pkt []byte) { tc.Run(pkt, &sim.SkbContext{}, sim.Conditions{}) }
		}})
	}
	for _, c := range cases {
		t.Run(c.name+"'s maps print as C types and read back to the same bytes", func(t *testing.T) {
			obj, run := c.build(t)
			for _, r := range simtest.Records(t, corpus.TracePath(c.trace), 300) {
				run(r.Data)
			}
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
