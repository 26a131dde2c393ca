package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/xdpsim/xdpsim/sim/btfjson"
	"github.com/xdpsim/xdpsim/sim/jsonfile"
	"github.com/xdpsim/xdpsim/sim/result"
)

// Map dumps are written and read in one of two forms: "hex" (keys and values as hex strings) or
// "btf" (as the C types the object's BTF declares, the way bpftool prints them).
const (
	mapsHex = "hex"
	mapsBTF = "btf"
)

// checkMapsFormats checks the values of --maps-format and --maps-in-format.
func checkMapsFormats(out, in string) error {
	for _, f := range []struct{ flag, value string }{{"--maps-format", out}, {"--maps-in-format", in}} {
		if f.value != mapsHex && f.value != mapsBTF {
			return fmt.Errorf("%s %q: want hex or btf", f.flag, f.value)
		}
	}
	return nil
}

// encodeMaps writes a dump in the given form.
func encodeMaps(dump result.Maps, format string, types btfjson.TypeOf) ([]byte, error) {
	if format == mapsBTF {
		return btfjson.FormatMaps(dump, types)
	}
	b, err := json.MarshalIndent(dump, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// readMaps reads a --maps-in file in the given form.
func readMaps(path, format string, types btfjson.TypeOf) (result.Maps, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if format == mapsBTF {
		m, err := btfjson.ParseMaps(b, types)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return m, nil
	}
	var m result.Maps
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, jsonfile.Explain(b, err))
	}
	return m, nil
}
