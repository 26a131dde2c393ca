package maps

import (
	"encoding/hex"
	"fmt"
	"sort"

	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/sim/result"
)

// Dump lists a map's contents as result.MapEntry values sorted by key hex (entries with equal
// keys, the values of a queue or stack, stay in pop order). Array maps list every index;
// maps with optional entries list the present ones; per-CPU maps fill Values with one value per
// CPU; prog_array and maps of maps show the stored 4-byte IDs; spin lock bytes read as zero.
// Ring buffers and perf event arrays' samples are not map contents and are not listed (a perf
// event array lists its entries, each the CPU its event is bound to).
func Dump(m *Map) []result.MapEntry {
	var out []result.MapEntry
	m.Iterate(func(key []byte, values [][]byte) bool {
		e := result.MapEntry{Key: result.Hex(key)}
		if m.percpu() {
			e.Values = make([]string, len(values))
			for c, v := range values {
				e.Values[c] = result.Hex(m.readOut(v))
			}
		} else {
			e.Value = result.Hex(m.readOut(values[0]))
		}
		out = append(out, e)
		return true
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Load writes entries into a map with UpdateAny, as a user would preload it: keys and values in
// the hex of Dump. Per-CPU maps take Values (one per CPU), or a Value that every CPU gets.
// Queues and stacks push the values in order (keys must be empty). prog_array, maps of maps and
// xskmap entries hold IDs that the map's resolver (SetResolver) turns into objects; devmap and
// cpumap values are struct bpf_devmap_val / bpf_cpumap_val bytes. The first failing entry stops
// the load with an error naming the map and the entry.
func Load(m *Map, entries []result.MapEntry) error {
	if m.kind == kRingBuf && len(entries) > 0 {
		return fmt.Errorf("map %q: a ringbuf cannot be preloaded", m.spec.Name)
	}
	for i, e := range entries {
		if err := loadEntry(m, e); err != nil {
			return fmt.Errorf("map %q: entry %d (key %q): %w", m.spec.Name, i, e.Key, err)
		}
	}
	return nil
}

func loadEntry(m *Map, e result.MapEntry) error {
	key, err := hex.DecodeString(e.Key)
	if err != nil {
		return fmt.Errorf("bad key hex: %w", err)
	}
	if len(key) != int(m.spec.KeySize) {
		return fmt.Errorf("key is %d bytes, the map's keys are %d: %w", len(key), m.spec.KeySize, errno.EINVAL)
	}
	decode := func(s string) ([]byte, error) {
		v, err := hex.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("bad value hex: %w", err)
		}
		if len(v) != int(m.spec.ValueSize) {
			return nil, fmt.Errorf("value is %d bytes, the map's values are %d: %w", len(v), m.spec.ValueSize, errno.EINVAL)
		}
		return v, nil
	}
	if m.percpu() {
		vals := make([][]byte, m.ncpu)
		switch {
		case len(e.Values) > 0:
			if len(e.Values) != m.ncpu {
				return fmt.Errorf("%d per-CPU values for %d CPUs: %w", len(e.Values), m.ncpu, errno.EINVAL)
			}
			for c, s := range e.Values {
				if vals[c], err = decode(s); err != nil {
					return err
				}
			}
		default:
			v, err := decode(e.Value)
			if err != nil {
				return err
			}
			for c := range vals {
				vals[c] = v
			}
		}
		return m.UpdatePerCPU(key, vals, UpdateAny)
	}
	if len(e.Values) > 0 {
		return fmt.Errorf("per-CPU values for a map without per-CPU values: %w", errno.EINVAL)
	}
	v, err := decode(e.Value)
	if err != nil {
		return err
	}
	return m.UpdateUser(key, v, UpdateAny)
}
