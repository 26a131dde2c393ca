package maps

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/sim/result"
)

func TestDump(t *testing.T) {
	t.Run("an array dump lists every index, sorted by key hex", func(t *testing.T) {
		m := mustNew(t, Spec{Name: "a", Type: ebpf.Array, KeySize: 4, ValueSize: 2, MaxEntries: 3}, 1)
		m.Update(u32(1), []byte{0xab, 0xcd}, UpdateAny, 0)
		want := []result.MapEntry{{Key: "00000000", Value: "0000"}, {Key: "01000000", Value: "abcd"}, {Key: "02000000", Value: "0000"}}
		if got := Dump(m); !reflect.DeepEqual(got, want) {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("a hash dump is sorted by key hex, not by bucket", func(t *testing.T) {
		m := mustNew(t, hashSpec(16), 1)
		for _, k := range []uint32{0x300, 0x1, 0x20} {
			m.Update(u32(k), u64(uint64(k)), UpdateAny, 0)
		}
		got := Dump(m)
		if len(got) != 3 || got[0].Key != "00030000" || got[1].Key != "01000000" || got[2].Key != "20000000" {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("a per-CPU dump has one value per CPU", func(t *testing.T) {
		m := mustNew(t, Spec{Type: ebpf.PerCPUHash, KeySize: 4, ValueSize: 2, MaxEntries: 4}, 2)
		m.UpdatePerCPU(u32(5), [][]byte{{1, 2}, {3, 4}}, UpdateAny)
		want := []result.MapEntry{{Key: "05000000", Values: []string{"0102", "0304"}}}
		if got := Dump(m); !reflect.DeepEqual(got, want) {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("a devmap dump lists the present entries only", func(t *testing.T) {
		m := mustNew(t, Spec{Type: ebpf.DevMap, KeySize: 4, ValueSize: 4, MaxEntries: 8}, 1)
		m.Update(u32(3), u32(9), UpdateAny, 0)
		want := []result.MapEntry{{Key: "03000000", Value: "09000000"}}
		if got := Dump(m); !reflect.DeepEqual(got, want) {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("a queue dump lists values in pop order with empty keys", func(t *testing.T) {
		m := mustNew(t, Spec{Type: ebpf.Stack, ValueSize: 1, MaxEntries: 4}, 1)
		m.Push([]byte{1}, 0)
		m.Push([]byte{2}, 0)
		want := []result.MapEntry{{Key: "", Value: "02"}, {Key: "", Value: "01"}}
		if got := Dump(m); !reflect.DeepEqual(got, want) {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("an LPM trie dump shows the prefix length and data", func(t *testing.T) {
		m := newTrie(t, 4, "10.0.0.0/8")
		want := []result.MapEntry{{Key: "080000000a000000", Value: "01000000"}}
		if got := Dump(m); !reflect.DeepEqual(got, want) {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("a ring buffer dump is empty", func(t *testing.T) {
		m := mustNew(t, Spec{Type: ebpf.RingBuf, MaxEntries: 4096}, 1)
		m.RingBuf().Output([]byte{1}, 0)
		if got := Dump(m); len(got) != 0 {
			t.Errorf("got %+v", got)
		}
	})
}

func TestDumpLoadRoundTrip(t *testing.T) {
	inner := Spec{Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1}
	specs := []struct {
		name string
		spec Spec
		fill func(m *Map)
	}{
		{"an array survives JSON", Spec{Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 4}, func(m *Map) {
			m.Update(u32(2), u32(7), UpdateAny, 0)
		}},
		{"a per-CPU array survives JSON", Spec{Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 4, MaxEntries: 2}, func(m *Map) {
			m.UpdatePerCPU(u32(1), [][]byte{u32(1), u32(2)}, UpdateAny)
		}},
		{"a hash survives JSON", Spec{Type: ebpf.Hash, KeySize: 6, ValueSize: 3, MaxEntries: 8}, func(m *Map) {
			m.Update([]byte("abcdef"), []byte("xyz"), UpdateAny, 0)
			m.Update([]byte("ghijkl"), []byte("uvw"), UpdateAny, 0)
		}},
		{"an LRU per-CPU hash survives JSON", Spec{Type: ebpf.LRUCPUHash, KeySize: 4, ValueSize: 4, MaxEntries: 8}, func(m *Map) {
			m.UpdatePerCPU(u32(1), [][]byte{u32(1), u32(2)}, UpdateAny)
		}},
		{"an LPM trie survives JSON", Spec{Type: ebpf.LPMTrie, KeySize: 8, ValueSize: 4, MaxEntries: 8, Flags: FlagNoPrealloc}, func(m *Map) {
			m.Update(lpmKey("10.0.0.0/8"), u32(1), UpdateAny, 0)
			m.Update(lpmKey("10.1.0.0/16"), u32(2), UpdateAny, 0)
		}},
		{"a queue survives JSON in order", Spec{Type: ebpf.Queue, ValueSize: 2, MaxEntries: 4}, func(m *Map) {
			m.Push([]byte{1, 1}, 0)
			m.Push([]byte{2, 2}, 0)
		}},
		{"a devmap survives JSON", Spec{Type: ebpf.DevMap, KeySize: 4, ValueSize: 8, MaxEntries: 4}, func(m *Map) {
			m.Update(u32(1), append(u32(5), u32(0)...), UpdateAny, 0)
		}},
		{"a cpumap survives JSON", Spec{Type: ebpf.CPUMap, KeySize: 4, ValueSize: 4, MaxEntries: 2}, func(m *Map) {
			m.Update(u32(1), u32(2048), UpdateAny, 0)
		}},
		{"an array of maps survives JSON through a resolver", Spec{Type: ebpf.ArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 2, Inner: &inner}, func(m *Map) {
			im, _ := New(inner, 2)
			im.SetID(33)
			m.UpdateObject(u32(1), im, UpdateAny)
		}},
	}
	for _, tt := range specs {
		t.Run(tt.name, func(t *testing.T) {
			tt.spec.Name = "rt"
			src := mustNew(t, tt.spec, 2)
			tt.fill(src)
			js, err := json.Marshal(result.Maps{"rt": Dump(src)})
			if err != nil {
				t.Fatal(err)
			}
			var back result.Maps
			if err := json.Unmarshal(js, &back); err != nil {
				t.Fatal(err)
			}
			dst := mustNew(t, tt.spec, 2)
			dst.SetResolver(func(id uint32) (any, error) {
				im, _ := New(inner, 2)
				im.SetID(id)
				return im, nil
			})
			if err := Load(dst, back["rt"]); err != nil {
				t.Fatal(err)
			}
			if a, b := Dump(src), Dump(dst); !reflect.DeepEqual(a, b) {
				t.Errorf("before %+v\nafter  %+v\njson %s", a, b, js)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		spec    Spec
		entries []result.MapEntry
		say     string
	}{
		{"bad key hex is reported", hashSpec(4), []result.MapEntry{{Key: "zz", Value: "00"}}, "bad key hex"},
		{"a key of the wrong size is reported", hashSpec(4), []result.MapEntry{{Key: "00", Value: "0000000000000000"}}, "key is 1 bytes"},
		{"a value of the wrong size is reported", hashSpec(4), []result.MapEntry{{Key: "00000000", Value: "00"}}, "value is 1 bytes"},
		{"a full map is reported with the errno", hashSpec(1), []result.MapEntry{{Key: "00000000", Value: "0000000000000000"}, {Key: "01000000", Value: "0000000000000000"}}, "entry 1"},
		{"per-CPU values for a plain map are reported", hashSpec(4), []result.MapEntry{{Key: "00000000", Values: []string{"0000000000000000"}}}, "per-CPU"},
		{"the wrong number of per-CPU values is reported", Spec{Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 1, MaxEntries: 1}, []result.MapEntry{{Key: "00000000", Values: []string{"00"}}}, "1 per-CPU values for 2 CPUs"},
		{"a ring buffer cannot be loaded", Spec{Type: ebpf.RingBuf, MaxEntries: 4096}, []result.MapEntry{{}}, "cannot be preloaded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.spec.Name = "target"
			err := Load(mustNew(t, tt.spec, 2), tt.entries)
			if err == nil || !strings.Contains(err.Error(), tt.say) || !strings.Contains(err.Error(), `"target"`) {
				t.Errorf("got %v, want it to name the map and say %q", err, tt.say)
			}
		})
	}
	t.Run("a per-CPU map takes one value for every CPU", func(t *testing.T) {
		m := mustNew(t, Spec{Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 1, MaxEntries: 1}, 2)
		wantErr(t, Load(m, []result.MapEntry{{Key: "00000000", Value: "07"}}), nil)
		if got := Dump(m); got[0].Values[1] != "07" {
			t.Errorf("got %+v", got)
		}
	})
}
