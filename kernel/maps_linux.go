//go:build linux

package kernel

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/sim/result"
)

// dumpable says whether DumpMaps lists a map of this type. Maps holding programs, devices, CPUs,
// sockets or other maps name kernel objects rather than data; queues, stacks, ring buffers and perf
// buffers cannot be read without consuming them; bloom filters cannot be listed at all.
func dumpable(t ebpf.MapType) bool {
	switch t {
	case ebpf.Array, ebpf.PerCPUArray, ebpf.Hash, ebpf.PerCPUHash, ebpf.LRUHash, ebpf.LRUCPUHash, ebpf.LPMTrie:
		return true
	}
	return false
}

// constantSection says whether a map holds read-only globals (".rodata", ".rodata.<name>",
// ".kconfig"), which DumpMaps leaves out: they cannot change.
func constantSection(name string) bool {
	return strings.HasPrefix(name, ".rodata") || name == ".kconfig"
}

// DumpMaps returns the contents of the object's maps, keyed by map name (the names cilium/ebpf
// uses: the ELF names of BTF maps, ".data", ".bss" and ".data.<name>" for global variables), each a
// list sorted by key hex. Array maps list every index (keys are 4-byte little-endian on x86), so
// ".data" and ".bss" appear as one entry keyed "00000000"; hash maps and LPM tries list their
// entries; per-CPU maps fill Values with one value per possible CPU ([Program.NumCPU]).
//
// Left out: ".rodata" (and ".kconfig"), which cannot change; program arrays, devmaps,
// devmap_hash, cpumaps, xskmaps, sockmaps and maps of maps, whose values name kernel objects;
// queue, stack, ring buffer and perf event maps, which cannot be read without consuming them; and
// bloom filters, which cannot be listed.
func (p *Program) DumpMaps() (result.Maps, error) {
	if p.coll == nil {
		return nil, errClosed
	}
	return dumpMaps(p.coll, nil)
}

// dumpMaps dumps the named maps of coll (all dumpable ones when names is nil).
func dumpMaps(coll *ebpf.Collection, names []string) (result.Maps, error) {
	out := result.Maps{}
	if names == nil {
		for _, n := range sortedKeys(coll.Maps) {
			if !constantSection(n) && dumpable(coll.Maps[n].Type()) {
				names = append(names, n)
			}
		}
	}
	for _, n := range names {
		m := coll.Maps[n]
		if m == nil {
			return nil, fmt.Errorf("kernel: no map %q (maps: %s)", n, strings.Join(sortedKeys(coll.Maps), ", "))
		}
		if !dumpable(m.Type()) {
			return nil, fmt.Errorf("kernel: map %s of type %s cannot be dumped", n, m.Type())
		}
		entries, err := dumpMap(m)
		if err != nil {
			return nil, fmt.Errorf("kernel: dump map %s: %w", n, err)
		}
		out[n] = entries
	}
	return out, nil
}

func dumpMap(m *ebpf.Map) ([]result.MapEntry, error) {
	var keys [][]byte
	switch m.Type() {
	case ebpf.Array, ebpf.PerCPUArray:
		for i := range m.MaxEntries() {
			keys = append(keys, binary.NativeEndian.AppendUint32(nil, i))
		}
	default:
		// Walk the keys first, then read the values; bounded in case of concurrent changes.
		var cur any // nil asks for the first key
		for range int(m.MaxEntries()) + 1 {
			next, err := m.NextKeyBytes(cur)
			if err != nil {
				return nil, err
			}
			if next == nil {
				break
			}
			keys = append(keys, next)
			cur = next
		}
	}
	perCPU := m.Type() == ebpf.PerCPUArray || m.Type() == ebpf.PerCPUHash || m.Type() == ebpf.LRUCPUHash
	entries := make([]result.MapEntry, 0, len(keys))
	for _, k := range keys {
		e := result.MapEntry{Key: result.Hex(k)}
		if perCPU {
			var vals [][]byte
			if err := m.Lookup(k, &vals); err != nil {
				if errors.Is(err, ebpf.ErrKeyNotExist) {
					continue
				}
				return nil, err
			}
			for _, v := range vals {
				e.Values = append(e.Values, result.Hex(v))
			}
		} else {
			v, err := m.LookupBytes(k)
			if err != nil {
				return nil, err
			}
			if v == nil { // deleted meanwhile
				continue
			}
			e.Value = result.Hex(v)
		}
		entries = append(entries, e)
	}
	slices.SortFunc(entries, func(a, b result.MapEntry) int { return strings.Compare(a.Key, b.Key) })
	return entries, nil
}

// LoadMaps writes entries into the object's maps, in the shape [Program.DumpMaps] returns, before
// runs. Any map but program arrays and read-only globals can be written, devmaps included (their
// values name interfaces in the caller's network namespace). A per-CPU entry gives either Values
// (one per possible CPU) or Value (written to every CPU). Entries not mentioned are left alone.
func (p *Program) LoadMaps(maps result.Maps) error {
	if p.coll == nil {
		return errClosed
	}
	return loadMaps(p.coll, maps)
}

func loadMaps(coll *ebpf.Collection, maps result.Maps) error {
	ncpu, err := ebpf.PossibleCPU()
	if err != nil {
		return err
	}
	for _, n := range sortedKeys(maps) {
		m := coll.Maps[n]
		if m == nil {
			return fmt.Errorf("kernel: no map %q (maps: %s)", n, strings.Join(sortedKeys(coll.Maps), ", "))
		}
		if constantSection(n) {
			return fmt.Errorf("kernel: map %s is read-only after load; set its variables through Options.Variables", n)
		}
		if m.Type() == ebpf.ProgramArray {
			return fmt.Errorf("kernel: map %s is a program array, whose values are program file descriptors", n)
		}
		for _, e := range maps[n] {
			if err := loadEntry(m, e, ncpu); err != nil {
				return fmt.Errorf("kernel: map %s key %s: %w", n, e.Key, err)
			}
		}
	}
	return nil
}

func loadEntry(m *ebpf.Map, e result.MapEntry, ncpu int) error {
	key, err := hexOfSize(e.Key, int(m.KeySize()), "key")
	if err != nil {
		return err
	}
	perCPU := m.Type() == ebpf.PerCPUArray || m.Type() == ebpf.PerCPUHash || m.Type() == ebpf.LRUCPUHash
	if !perCPU {
		if e.Values != nil {
			return fmt.Errorf("per-CPU values given for a map of type %s", m.Type())
		}
		v, err := hexOfSize(e.Value, int(m.ValueSize()), "value")
		if err != nil {
			return err
		}
		return m.Put(key, v)
	}
	vals := make([][]byte, ncpu)
	switch {
	case e.Values != nil:
		if len(e.Values) != ncpu {
			return fmt.Errorf("%d per-CPU values given, the kernel has %d possible CPUs", len(e.Values), ncpu)
		}
		for i, s := range e.Values {
			if vals[i], err = hexOfSize(s, int(m.ValueSize()), "value"); err != nil {
				return err
			}
		}
	default:
		v, err := hexOfSize(e.Value, int(m.ValueSize()), "value")
		if err != nil {
			return err
		}
		for i := range vals {
			vals[i] = v
		}
	}
	return m.Put(key, vals)
}

func hexOfSize(s string, size int, what string) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%s %q is not hex: %w", what, s, err)
	}
	if len(b) != size {
		return nil, fmt.Errorf("%s has %d bytes, the map's are %d", what, len(b), size)
	}
	return b, nil
}
