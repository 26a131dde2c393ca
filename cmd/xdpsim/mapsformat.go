package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/sim/btfjson"
	"github.com/xdpsim/xdpsim/sim/result"
)

// Map dumps are written and read in one of two forms: "hex" (keys and values as hex strings) or
// "btf" (as the C types the object's BTF declares, the way bpftool prints them).
const (
	mapsHex = "hex"
	mapsBTF = "btf"
)

func checkMapsFormat(f string) error {
	if f != mapsHex && f != mapsBTF {
		return fmt.Errorf("--maps-format %q: want hex or btf", f)
	}
	return nil
}

// mapTypes gives btfjson the key and value types of an object's maps.
func mapTypes(spec *ebpf.CollectionSpec) btfjson.TypeOf {
	return func(name string) btfjson.MapType {
		ms, ok := spec.Maps[name]
		if !ok {
			return btfjson.MapType{}
		}
		return btfjson.MapType{Key: ms.Key, Value: ms.Value, KeySize: int(ms.KeySize)}
	}
}

// encodeMaps writes a dump in the given form.
func encodeMaps(dump result.Maps, format string, spec *ebpf.CollectionSpec) ([]byte, error) {
	if format == mapsBTF {
		return btfjson.FormatMaps(dump, mapTypes(spec))
	}
	b, err := json.MarshalIndent(dump, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// readMaps reads a --maps-in file in the given form.
func readMaps(path, format string, spec *ebpf.CollectionSpec) (result.Maps, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if format == mapsBTF {
		m, err := btfjson.ParseMaps(b, mapTypes(spec))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return m, nil
	}
	var m result.Maps
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}
