//go:build linux

package kernel

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/xdpsim/xdpsim/sim/result"
)

// Dispatcher is libxdp's dispatcher loaded into the kernel with its slots filled: a [Program]
// whose Run runs the dispatcher, with the maps of each slot's program of its own.
type Dispatcher struct {
	*Program
	slots []Slot
}

// LoadDispatcher builds libxdp's dispatcher from the dispatcher object libxdp ships (dispatcher,
// usually [DispatcherObject]) with config as its .rodata (struct xdp_dispatcher_config as libxdp
// writes it, for example the one [RunLibxdp] captured) and slots' programs in its slots, in slot
// order, and loads it.
//
// libxdp fills slot i by loading its program as an extension program that replaces the stub
// function prog<i> (freplace). This kernel refuses extension programs (EPERM, as it refuses
// tracing programs), so the program's code takes the stub's place inside the dispatcher
// instead: the dispatcher's own code (the chain-call tests on the configuration) calls it as it
// calls the stub, with the same context, and gets its return value, and the kernel verifies it as
// a global function, on its own, as it verifies an extension against the stub's signature. Each
// program keeps its own maps. One slot alone replaces the dispatcher's main function itself
// (libxdp's target is then "xdp_dispatcher"), so that program is loaded on its own. The
// dispatcher is loaded with BPF_F_XDP_HAS_FRAGS when the configuration says so.
func LoadDispatcher(dispatcher string, slots []Slot, config []byte) (*Dispatcher, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	spec, name, err := dispatcherCollection(dispatcher, slots, config)
	if err != nil {
		return nil, err
	}
	p, err := LoadSpec("dispatcher", spec, Options{Program: name})
	if err != nil {
		return nil, err
	}
	return &Dispatcher{Program: p, slots: slots}, nil
}

// RunDispatcherOnVeth is [RunOnVeth] for libxdp's dispatcher, built as [LoadDispatcher] builds it
// and attached (not device-bound, as libxdp attaches it) in native mode: real frames go through
// it. The maps of slot i are keyed "slot<i>/<name>" in the result.
func RunDispatcherOnVeth(dispatcher string, slots []Slot, config []byte, pkts [][]byte, vopts VethOptions) (*VethResult, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	spec, name, err := dispatcherCollection(dispatcher, slots, config)
	if err != nil {
		return nil, err
	}
	if _, err := prepare("dispatcher", spec, Options{Program: name}); err != nil {
		return nil, err
	}
	return runSpecOnVeth("dispatcher", spec, name, false, pkts, vopts, nil)
}

// dispatcherCollection is the collection LoadDispatcher loads and the name of its program.
func dispatcherCollection(dispatcher string, slots []Slot, config []byte) (*ebpf.CollectionSpec, string, error) {
	if len(slots) == 0 {
		return nil, "", fmt.Errorf("kernel: dispatcher: no programs")
	}
	if len(config) < 4 || int(config[2]) != len(slots) {
		return nil, "", fmt.Errorf("kernel: dispatcher: the configuration does not enable %d slots", len(slots))
	}
	frags := config[3] != 0
	if len(slots) == 1 {
		spec, err := ebpf.LoadCollectionSpec(slots[0].Path)
		if err != nil {
			return nil, "", fmt.Errorf("kernel: read %s: %w", slots[0].Path, err)
		}
		slotSpec, err := slotCollection(0, slots[0], spec)
		if err != nil {
			return nil, "", err
		}
		name := slotPrefix(0) + slots[0].Program
		setFrags(slotSpec.Programs[name], frags)
		return slotSpec, name, nil
	}
	spec, err := dispatcherSpec(dispatcher, slots, config)
	if err != nil {
		return nil, "", err
	}
	setFrags(spec.Programs["xdp_dispatcher"], frags)
	return spec, "xdp_dispatcher", nil
}

func setFrags(ps *ebpf.ProgramSpec, frags bool) {
	ps.Flags &^= flagXDPHasFrags
	if frags {
		ps.Flags |= flagXDPHasFrags
	}
}

// slotPrefix is what the names of slot i's maps and functions start with in the dispatcher.
func slotPrefix(i int) string { return fmt.Sprintf("slot%d/", i) }

// dispatcherSpec is the dispatcher's collection with the slots' programs in place of its stubs.
func dispatcherSpec(dispatcher string, slots []Slot, config []byte) (*ebpf.CollectionSpec, error) {
	dspec, err := ebpf.LoadCollectionSpec(dispatcher)
	if err != nil {
		return nil, fmt.Errorf("kernel: read libxdp's dispatcher %s: %w", dispatcher, err)
	}
	main, rodata := dspec.Programs["xdp_dispatcher"], dspec.Maps[".rodata"]
	if main == nil || rodata == nil || len(rodata.Contents) != 1 {
		return nil, fmt.Errorf("kernel: %s is not libxdp's dispatcher (no xdp_dispatcher program with a .rodata)", dispatcher)
	}
	if int(rodata.ValueSize) != len(config) {
		return nil, fmt.Errorf("kernel: %s: the configuration is %d bytes, its .rodata %d", dispatcher, len(config), rodata.ValueSize)
	}
	rodata = rodata.Copy()
	rodata.Contents = []ebpf.MapKV{{Key: uint32(0), Value: slices.Clone(config)}}
	out := &ebpf.CollectionSpec{
		Maps:      map[string]*ebpf.MapSpec{".rodata": rodata},
		Programs:  map[string]*ebpf.ProgramSpec{},
		Variables: map[string]*ebpf.VariableSpec{},
		Types:     dspec.Types,
		ByteOrder: dspec.ByteOrder,
	}
	insns := slices.Clone(main.Instructions)
	for i, s := range slots {
		spec, err := ebpf.LoadCollectionSpec(s.Path)
		if err != nil {
			return nil, fmt.Errorf("kernel: read %s: %w", s.Path, err)
		}
		sc, err := slotCollection(i, s, spec)
		if err != nil {
			return nil, err
		}
		maps.Copy(out.Maps, sc.Maps)
		body := sc.Programs[slotPrefix(i)+s.Program].Instructions
		stub := fmt.Sprintf("prog%d", i)
		body[0] = body[0].WithSymbol(stub)
		start := slices.IndexFunc(insns, func(in asm.Instruction) bool { return in.Symbol() == stub })
		if start < 0 {
			return nil, fmt.Errorf("kernel: %s has no stub %s", dispatcher, stub)
		}
		end := start + 1
		for end < len(insns) && insns[end].Symbol() == "" {
			end++
		}
		insns = slices.Concat(insns[:start], body, insns[end:])
	}
	ps := main.Copy()
	ps.Instructions = insns
	out.Programs["xdp_dispatcher"] = ps
	return out, nil
}

// slotCollection is slot i's object prepared for the dispatcher: its program (the entry
// function, named slotPrefix+name) with every function and map renamed with the slot's prefix,
// so that two slots' programs never share a name; maps are not pinned.
func slotCollection(i int, s Slot, spec *ebpf.CollectionSpec) (*ebpf.CollectionSpec, error) {
	name, err := prepare(s.Path, spec, Options{Program: s.Program})
	if err != nil {
		return nil, err
	}
	ps := spec.Programs[name]
	for _, m := range spec.Maps {
		if m.Type == ebpf.ProgramArray && len(m.Contents) > 0 {
			return nil, fmt.Errorf("kernel: %s: prog array %s: tail calls are not supported in a dispatcher's slot", s.Path, m.Name)
		}
	}
	prefix := slotPrefix(i)
	out := &ebpf.CollectionSpec{Maps: map[string]*ebpf.MapSpec{}, Programs: map[string]*ebpf.ProgramSpec{}, Types: spec.Types, ByteOrder: spec.ByteOrder}
	for n, m := range spec.Maps {
		out.Maps[prefix+n] = m.Copy()
	}
	insns := slices.Clone(ps.Instructions)
	for j := range insns {
		in := &insns[j]
		if sym := in.Symbol(); sym != "" {
			*in = in.WithSymbol(prefix + sym)
		}
		if ref := in.Reference(); ref != "" {
			if in.IsFunctionReference() || in.IsFunctionCall() || spec.Maps[ref] != nil {
				*in = in.WithReference(prefix + ref)
			} else {
				return nil, fmt.Errorf("kernel: %s: instruction %d refers to %q, which a dispatcher slot cannot resolve", s.Path, j, ref)
			}
		}
	}
	p := ps.Copy()
	p.Name = ps.Name
	p.Instructions = insns
	out.Programs[prefix+name] = p
	return out, nil
}

// SlotMaps dumps the maps of slot i's program (as [Program.DumpMaps] dumps an object's), under
// their own names.
func (d *Dispatcher) SlotMaps(i int) (result.Maps, error) {
	if d.coll == nil {
		return nil, errClosed
	}
	var names []string
	for n, m := range d.coll.Maps {
		if rest, ok := strings.CutPrefix(n, slotPrefix(i)); ok && !constantSection(rest) && dumpable(m.Type()) {
			names = append(names, n)
		}
	}
	all, err := dumpMaps(d.coll, names)
	if err != nil {
		return nil, err
	}
	out := result.Maps{}
	for n, entries := range all {
		out[strings.TrimPrefix(n, slotPrefix(i))] = entries
	}
	return out, nil
}

// DumpMaps dumps every slot's maps, keyed "slot<i>/<name>" as [RunDispatcherOnVeth] keys them
// (the maps of slot i as [Dispatcher.SlotMaps] gives them). The dispatcher's own configuration is
// left out, as constant sections are.
func (d *Dispatcher) DumpMaps() (result.Maps, error) {
	out := result.Maps{}
	for i := range d.slots {
		m, err := d.SlotMaps(i)
		if err != nil {
			return nil, err
		}
		for n, entries := range m {
			out[slotPrefix(i)+n] = entries
		}
	}
	return out, nil
}
