package sim

import (
	"sort"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"

	"github.com/xdpsim/xdpsim/kfuncs"
	"github.com/xdpsim/xdpsim/kfuncs/conntrack"
	"github.com/xdpsim/xdpsim/sim/maps"
	"github.com/xdpsim/xdpsim/verifier"
	"github.com/xdpsim/xdpsim/vm"
)

// What the verifier needs to know about a program, filled from what loading learnt: the maps
// its lddw instructions name, its kfuncs, its functions from BTF and its source lines.

// poisonedHelper is the helper number libbpf (and cilium/ebpf) write into a call whose CO-RE
// relocation failed; the kernel's verifier refuses to reach it with "invalid func unknown#...".
const poisonedHelper = btf.COREBadRelocationSentinel

func (o *Object) verifierProgram(p *Program, ps *ebpf.ProgramSpec, raw []vm.Instruction, kfns map[int32]*kfuncs.Kfunc, poisoned map[int32]bool) *verifier.Program {
	vp := &verifier.Program{
		Name:       p.Name,
		Type:       p.Type,
		AttachType: p.AttachType,
		Lines:      p.Line,
		DevBound:   p.DevBound,
		Frags:      p.Frags,
		GPL:        gplCompatible(ps.License),
		Kfuncs:     kfns,
		NrCPUs:     o.opts.CPUs,
	}
	vp.WritableBTF = o.writableBTF(kfns)
	var (
		spec   *btf.Spec
		looked bool
	)
	vp.KernelBTF = func() *btf.Spec {
		if !looked {
			// A kernel without BTF leaves loads from kernel structs unchecked, as before.
			spec, _ = o.kernelBTF()
			looked = true
		}
		return spec
	}
	insns := raw
	if len(poisoned) > 0 {
		insns = append([]vm.Instruction(nil), raw...)
		for i, in := range insns {
			if in.Op == vm.OpCall && in.Src() == vm.PseudoKfuncCall && poisoned[in.Imm] {
				insns[i] = vm.Make(vm.OpCall, 0, 0, 0, int32(poisonedHelper))
			}
		}
	}
	vp.Insns = insns
	for _, m := range o.mapOrder {
		vp.Maps = append(vp.Maps, verifierMap(m, o.Spec.Maps[m.Name()]))
	}
	iter := p.Insns.Iterate()
	for iter.Next() {
		fn := btf.FuncMetadata(iter.Ins)
		if fn == nil {
			continue
		}
		vp.Funcs = append(vp.Funcs, verifierFunc(fn, int(iter.Offset), p.Type))
	}
	return vp
}

func gplCompatible(license string) bool {
	switch license {
	case "GPL", "GPL v2", "GPL and additional rights", "Dual BSD/GPL", "Dual MIT/GPL", "Dual MPL/GPL":
		return true
	}
	return false
}

func verifierMap(m *maps.Map, ms *ebpf.MapSpec) verifier.Map {
	s := m.Spec()
	vm := verifier.Map{Name: m.Name(), Type: m.Type(), KeySize: uint32(m.KeySize()), ValueSize: uint32(m.ValueSize()),
		MaxEntries: m.MaxEntries(), Flags: s.Flags, SpinLock: -1, Timer: -1}
	// A control map's values are snapshots a program reads; only bpf_map_update_elem changes
	// them (the proposal's BPF_MAP_TYPE_CONTROL, as xdpsim models it).
	if s.Flags&maps.FlagRdonlyProg != 0 || m.ReadOnlyForPrograms() {
		vm.ReadOnly = true
	}
	vm.WriteOnly = s.Flags&maps.FlagWronlyProg != 0
	vm.Control = m.Type() == maps.Control
	if ms != nil {
		if ms.Value != nil {
			vm.SpinLock = valueMemberOffset(ms.Value, "bpf_spin_lock")
			vm.Timer = valueMemberOffset(ms.Value, "bpf_timer")
			vm.Kptrs = valueKptrs(ms.Value)
			vm.BTF = true
		}
		vm.ReadOnly = vm.ReadOnly || ms.Flags&maps.FlagRdonlyProg != 0
		if vm.ReadOnly && len(ms.Contents) == 1 {
			if b, ok := ms.Contents[0].Value.([]byte); ok {
				vm.Data = b
			}
		}
		if ms.InnerMap != nil {
			in := verifierMapSpec(ms.InnerMap)
			vm.Inner = &in
		}
	}
	if s.Inner != nil && vm.Inner == nil {
		in := verifier.Map{Name: s.Inner.Name, Type: s.Inner.Type, KeySize: s.Inner.KeySize, ValueSize: s.Inner.ValueSize,
			MaxEntries: s.Inner.MaxEntries, Flags: s.Inner.Flags, SpinLock: -1, Timer: -1}
		vm.Inner = &in
	}
	return vm
}

func verifierMapSpec(ms *ebpf.MapSpec) verifier.Map {
	vm := verifier.Map{Name: ms.Name, Type: ms.Type, KeySize: ms.KeySize, ValueSize: ms.ValueSize,
		MaxEntries: ms.MaxEntries, Flags: ms.Flags, SpinLock: -1, Timer: -1}
	if ms.Value != nil {
		vm.SpinLock = valueMemberOffset(ms.Value, "bpf_spin_lock")
		vm.Timer = valueMemberOffset(ms.Value, "bpf_timer")
		vm.Kptrs = valueKptrs(ms.Value)
		vm.BTF = true
	}
	return vm
}

// valueMemberOffset finds a member of struct type name in a map's value type (a struct, or the
// variables of a global data section), -1 when none.
func valueMemberOffset(t btf.Type, name string) int {
	found := -1
	walkValue(t, func(t btf.Type, off int) bool {
		if s, ok := t.(*btf.Struct); ok && s.Name == name {
			found = off
			return true
		}
		return false
	})
	return found
}

// valueKptrs finds the kptr fields of a map's value type: the pointers to a struct tagged
// "kptr" (__kptr, a referenced one) or "kptr_untrusted" (__kptr_untrusted), in offset order.
func valueKptrs(t btf.Type) []verifier.Kptr {
	var ks []verifier.Kptr
	walkValue(t, func(t btf.Type, off int) bool {
		p, ok := t.(*btf.Pointer)
		if !ok {
			return false
		}
		tag, ok := p.Target.(*btf.TypeTag)
		if !ok || (tag.Value != "kptr" && tag.Value != "kptr_untrusted") {
			return false
		}
		ks = append(ks, verifier.Kptr{Off: off, Type: btf.UnderlyingType(tag.Type).TypeName(), Ref: tag.Value == "kptr"})
		return false
	})
	sort.Slice(ks, func(i, j int) bool { return ks[i].Off < ks[j].Off })
	return ks
}

// walkValue visits the types of a map's value type and of its members, nested structs and
// unions, and the variables of a global data section ("static struct bpf_spin_lock lock
// SEC(".data.A")" puts the lock in .data.A's value), with their offsets in the value, until
// visit says it is done.
func walkValue(t btf.Type, visit func(t btf.Type, off int) bool) {
	var walk func(t btf.Type, base int, depth int) bool
	walk = func(t btf.Type, base int, depth int) bool {
		if depth > 8 {
			return false
		}
		t = btf.UnderlyingType(t)
		if visit(t, base) {
			return true
		}
		switch v := t.(type) {
		case *btf.Struct:
			for _, m := range v.Members {
				if walk(m.Type, base+int(m.Offset.Bytes()), depth+1) {
					return true
				}
			}
		case *btf.Union:
			for _, m := range v.Members {
				if walk(m.Type, base+int(m.Offset.Bytes()), depth+1) {
					return true
				}
			}
		case *btf.Datasec:
			for _, vs := range v.Vars {
				if walk(vs.Type, base+int(vs.Offset), depth+1) {
					return true
				}
			}
		case *btf.Var:
			return walk(v.Type, base, depth+1)
		}
		return false
	}
	walk(t, 0, 0)
}

// verifierFunc describes a function from its BTF: global or static, and its arguments.
func verifierFunc(fn *btf.Func, insn int, pt ebpf.ProgramType) verifier.Func {
	f := verifier.Func{Insn: insn, Name: fn.Name, Global: fn.Linkage == btf.GlobalFunc}
	proto, ok := fn.Type.(*btf.FuncProto)
	if !ok {
		return f
	}
	if proto.Return == nil {
		f.RetVoid = true
	} else if _, ok := proto.Return.(*btf.Void); ok {
		f.RetVoid = true
	}
	for i, prm := range proto.Params {
		a := verifier.FuncArg{Name: prm.Name, Kind: verifier.FuncArgOther}
		var tags []string
		if i < len(fn.ParamTags) {
			tags = fn.ParamTags[i]
		}
		for _, tg := range tags {
			if tg == "arg:nonnull" {
				a.Nonnull = true
			}
		}
		t := btf.UnderlyingType(prm.Type)
		switch v := t.(type) {
		case *btf.Int, *btf.Enum:
			a.Kind = verifier.FuncArgScalar
		case *btf.Pointer:
			target := btf.UnderlyingType(v.Target)
			isCtx := false
			for _, tg := range tags {
				if tg == "arg:ctx" {
					isCtx = true
				}
			}
			if st, ok := target.(*btf.Struct); ok && isProgCtx(st.Name, pt) {
				isCtx = true
			}
			switch {
			case isCtx:
				a.Kind = verifier.FuncArgCtx
			default:
				if st, ok := target.(*btf.Struct); ok && st.Name == "bpf_dynptr" {
					a.Kind = verifier.FuncArgDynptr
					break
				}
				if sz, err := btf.Sizeof(target); err == nil && sz > 0 {
					a.Kind = verifier.FuncArgMem
					a.Size = uint32(sz)
				}
			}
		}
		f.Args = append(f.Args, a)
	}
	return f
}

// isProgCtx says a struct is the context of the program type as global functions see it.
func isProgCtx(name string, pt ebpf.ProgramType) bool {
	switch pt {
	case ebpf.XDP:
		return name == "xdp_md" || name == "xdp_buff"
	case ebpf.SchedCLS, ebpf.SchedACT:
		return name == "__sk_buff" || name == "sk_buff"
	}
	return false
}

var _ = asm.Instruction{}

// writableBTF is what the verifier needs to let a program write ct->mark: where the kernel BTF
// the object is relocated against puts it, when the program calls a kfunc that hands out a
// struct nf_conn.
func (o *Object) writableBTF(kfns map[int32]*kfuncs.Kfunc) map[string]verifier.BTFMember {
	for _, k := range kfns {
		if k.RetType != "struct nf_conn" && k.RetType != "struct nf_conn___init" {
			continue
		}
		spec, err := o.kernelBTF()
		if err != nil {
			return nil
		}
		l, err := conntrack.LayoutFromBTF(spec)
		if err != nil {
			return nil
		}
		mark := verifier.BTFMember{Owner: "nf_conn", Off: l.Mark, Size: 4}
		return map[string]verifier.BTFMember{"nf_conn": mark, "nf_conn___init": mark}
	}
	return nil
}
