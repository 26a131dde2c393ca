package sim

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/sim/maps"
	"github.com/xdpsim/xdpsim/sim/result"
	"github.com/xdpsim/xdpsim/vm"
)

// isGlobalData reports whether m holds global variables (.data, .bss, .rodata and their variants):
// programs address its single value directly.
func isGlobalData(m *maps.Map) bool {
	n := m.Name()
	return m.Type() == ebpf.Array && m.MaxEntries() == 1 &&
		(strings.HasPrefix(n, ".data") || strings.HasPrefix(n, ".bss") || strings.HasPrefix(n, ".rodata"))
}

func isReadOnlyData(m *maps.Map) bool { return strings.HasPrefix(m.Name(), ".rodata") }

// globalValue is the stable storage of a global-data map's single value.
func globalValue(m *maps.Map) ([]byte, error) {
	return m.Lookup(make([]byte, 4), 0)
}

// mapAt finds the map a map pointer (r1 of a map helper) names.
func (s *runState) mapAt(ptr uint64) *maps.Map {
	id, off := vm.SplitAddress(ptr)
	i := id - vm.FirstHostRegion
	if off != 0 || i < 0 || i >= len(s.obj.mapOrder) {
		return nil
	}
	return s.obj.mapOrder[i]
}

// errnoOf turns a maps error into the negative errno a helper returns.
func errnoOf(err error) uint64 {
	var e errno.Errno
	if errors.As(err, &e) {
		return uint64(e.Neg())
	}
	return errno.EINVAL.Return()
}

// DumpMaps writes the contents of the object's maps as xdpsim's --maps output shapes them: prog
// arrays, redirect maps, .rodata and maps that cannot be read without consuming them are left out.
func (o *Object) DumpMaps() (result.Maps, error) {
	out := result.Maps{}
	for _, m := range o.mapOrder {
		if !Dumpable(m.Type(), m.Name()) {
			continue
		}
		out[m.Name()] = maps.Dump(m)
	}
	return out, nil
}

// Dumpable says whether a map of this type and name appears in map dumps.
func Dumpable(t ebpf.MapType, name string) bool {
	switch t {
	case ebpf.ProgramArray, ebpf.DevMap, ebpf.DevMapHash, ebpf.CPUMap, ebpf.XSKMap,
		ebpf.Queue, ebpf.Stack, ebpf.RingBuf, ebpf.PerfEventArray, ebpf.ArrayOfMaps, ebpf.HashOfMaps:
		return false
	}
	return !strings.HasPrefix(name, ".rodata")
}

// LoadMaps preloads maps from a dump (the shape --maps writes; devmap and cpumap values included).
func (o *Object) LoadMaps(in result.Maps) error {
	for _, name := range sortedKeys(in) {
		m, ok := o.Maps[name]
		if !ok {
			return fmt.Errorf("map %q: no such map in %s", name, o.Path)
		}
		if err := maps.Load(m, in[name]); err != nil {
			return fmt.Errorf("map %q: %w", name, err)
		}
	}
	return nil
}
