package btfjson

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"

	"github.com/xdpsim/xdpsim/sim/result"
)

// MapType is what the conversion needs to know of a map: its key and value types (nil for a map
// without BTF: that side stays hex) and its key size. A key of type void (global data's) is left
// out, as bpftool leaves it out, and reads back as zero.
type MapType struct {
	Key, Value btf.Type
	KeySize    int
}

// TypeOf gives a map's types by name.
type TypeOf func(mapName string) MapType

// SpecTypes gives the types of a collection's maps, as its BTF declares them.
func SpecTypes(spec *ebpf.CollectionSpec) TypeOf {
	if spec == nil {
		return MapSpecTypes(nil)
	}
	return MapSpecTypes(spec.Maps)
}

// MapSpecTypes gives the types of maps by the names a dump gives them (for several objects'
// maps, see sim.XDP.MapSpecs), as their BTF declares them.
func MapSpecTypes(specs map[string]*ebpf.MapSpec) TypeOf {
	return func(name string) MapType {
		ms, ok := specs[name]
		if !ok {
			return MapType{}
		}
		return MapType{Key: ms.Key, Value: ms.Value, KeySize: int(ms.KeySize)}
	}
}

// FormatMaps writes a map dump as JSON with every key and value printed by its BTF type: an object
// keyed by map name (sorted), each a list of {"key": K, "value": V} entries, or for per-CPU maps
// {"key": K, "values": [{"cpu": N, "value": V}, ...]}, as bpftool's "formatted" objects are shaped.
func FormatMaps(dump result.Maps, types TypeOf) ([]byte, error) {
	names := make([]string, 0, len(dump))
	for n := range dump {
		names = append(names, n)
	}
	sort.Strings(names)
	var w strings.Builder
	w.WriteByte('{')
	for i, name := range names {
		if i > 0 {
			w.WriteByte(',')
		}
		writeString(&w, name)
		w.WriteString(":[")
		mt := types(name)
		for j, e := range dump[name] {
			if j > 0 {
				w.WriteByte(',')
			}
			if err := formatEntry(&w, e, mt.Key, mt.Value); err != nil {
				return nil, fmt.Errorf("map %s: entry %d (key %s): %w", name, j, e.Key, err)
			}
		}
		w.WriteByte(']')
	}
	w.WriteByte('}')
	var out bytes.Buffer
	if err := json.Indent(&out, []byte(w.String()), "", "  "); err != nil {
		return nil, fmt.Errorf("internal: the map dump is not JSON: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

func formatEntry(w *strings.Builder, e result.MapEntry, kt, vt btf.Type) error {
	w.WriteByte('{')
	if _, void := kt.(*btf.Void); !void {
		w.WriteString(`"key":`)
		if err := formatHex(w, kt, e.Key); err != nil {
			return err
		}
		w.WriteByte(',')
	}
	if e.Values != nil {
		w.WriteString(`"values":[`)
		for c, v := range e.Values {
			if c > 0 {
				w.WriteByte(',')
			}
			fmt.Fprintf(w, `{"cpu":%d,"value":`, c)
			if err := formatHex(w, vt, v); err != nil {
				return err
			}
			w.WriteByte('}')
		}
		w.WriteString("]}")
		return nil
	}
	w.WriteString(`"value":`)
	if err := formatHex(w, vt, e.Value); err != nil {
		return err
	}
	w.WriteByte('}')
	return nil
}

func formatHex(w *strings.Builder, t btf.Type, h string) error {
	if t == nil {
		writeString(w, h)
		return nil
	}
	b, err := hex.DecodeString(h)
	if err != nil {
		return err
	}
	js, err := Format(t, b)
	if err != nil {
		return err
	}
	w.Write(js)
	return nil
}

// ParseMaps reads JSON of the shape FormatMaps writes back into a dump with hex keys and values.
// An entry may also be bpftool's own (its "formatted" object is used), and per-CPU maps take
// either "values" (one per CPU, with or without "cpu") or one "value" for every CPU.
func ParseMaps(js []byte, types TypeOf) (result.Maps, error) {
	d := json.NewDecoder(bytes.NewReader(js))
	d.UseNumber()
	var in map[string][]map[string]any
	if err := d.Decode(&in); err != nil {
		return nil, fmt.Errorf("want {map: [{\"key\": ..., \"value\": ...}, ...]}: %w", err)
	}
	out := result.Maps{}
	// In name order, so that an error names the same map every time.
	for _, name := range slices.Sorted(maps.Keys(in)) {
		entries := in[name]
		mt := types(name)
		list := []result.MapEntry{}
		for i, e := range entries {
			if f, ok := e["formatted"].(map[string]any); ok {
				e = f
			}
			me, err := parseEntry(e, mt)
			if err != nil {
				return nil, fmt.Errorf("map %s: entry %d: %w", name, i, err)
			}
			list = append(list, me)
		}
		out[name] = list
	}
	return out, nil
}

func parseEntry(e map[string]any, mt MapType) (result.MapEntry, error) {
	kt, vt := mt.Key, mt.Value
	me := result.MapEntry{Key: strings.Repeat("00", mt.KeySize)}
	for k := range e {
		if k != "key" && k != "value" && k != "values" {
			return me, fmt.Errorf("unknown field %q (want key and value or values)", k)
		}
	}
	var err error
	if k, ok := e["key"]; ok {
		if me.Key, err = parseHex(kt, k, "key"); err != nil {
			return me, err
		}
	}
	if v, ok := e["value"]; ok {
		if me.Value, err = parseHex(vt, v, "value"); err != nil {
			return me, err
		}
	}
	if vs, ok := e["values"]; ok {
		list, ok := vs.([]any)
		if !ok {
			return me, fmt.Errorf("values: want a list, one per CPU")
		}
		me.Values = make([]string, len(list))
		for c, item := range list {
			if obj, ok := item.(map[string]any); ok {
				if _, per := obj["value"]; per {
					if cpu, ok := obj["cpu"].(json.Number); ok && cpu.String() != fmt.Sprint(c) {
						return me, fmt.Errorf("values[%d] says cpu %s: list the CPUs in order", c, cpu)
					}
					item = obj["value"]
				}
			}
			if me.Values[c], err = parseHex(vt, item, fmt.Sprintf("values[%d]", c)); err != nil {
				return me, err
			}
		}
	}
	return me, nil
}

func parseHex(t btf.Type, v any, path string) (string, error) {
	if _, void := t.(*btf.Void); t == nil || void {
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("%s: the map has no BTF type for it: want hex bytes as a string", path)
		}
		return s, nil
	}
	size, err := btf.Sizeof(t)
	if err != nil {
		return "", err
	}
	b := make([]byte, size)
	if err := parse(t, v, b, path); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
