package verifier

import (
	"fmt"

	"github.com/cilium/ebpf/btf"

	"github.com/xdpsim/xdpsim/vm"
)

// Kptr fields of map values: the program loads one (getting a kernel object pointer that may be
// NULL), stores into an untrusted one a pointer of the field's type, and exchanges a referenced
// one with bpf_kptr_xchg; no other access may touch them (check_map_access,
// check_map_kptr_access, process_kptr_func and map_kptr_match_type in Linux 6.18).

const fnKptrXchg = 194

// rcuProtected are the kernel structs whose referenced kptrs a program in an RCU critical
// section (XDP and tc programs always are) loads as RCU pointers rather than untrusted ones
// (Linux 6.18's rcu_protected_types; measured with prog_test_ref_kfunc, which loads as
// rcu_ptr_or_null_).
var rcuProtected = map[string]bool{
	"prog_test_ref_kfunc": true, "cgroup": true, "bpf_cpumask": true, "task_struct": true, "bpf_crypto_ctx": true,
}

// valueField is a special field of a map value: a spin lock, a timer or a kptr.
type valueField struct {
	off, size int
	name      string
	kptr      *Kptr
}

// fields are the special fields of m's values in offset order, as the kernel's btf_record
// lists them.
func (m *Map) fields() []valueField {
	var fs []valueField
	add := func(f valueField) {
		i := len(fs)
		for i > 0 && fs[i-1].off > f.off {
			i--
		}
		fs = append(fs, valueField{})
		copy(fs[i+1:], fs[i:])
		fs[i] = f
	}
	if m.SpinLock >= 0 {
		add(valueField{off: m.SpinLock, size: 4, name: "bpf_spin_lock"})
	}
	if m.Timer >= 0 {
		add(valueField{off: m.Timer, size: 16, name: "bpf_timer"})
	}
	for i := range m.Kptrs {
		add(valueField{off: m.Kptrs[i].Off, size: 8, name: "kptr", kptr: &m.Kptrs[i]})
	}
	return fs
}

// kptrAt is the kptr field at off in m's values, nil when none starts there.
func (m *Map) kptrAt(off int64) *Kptr {
	for i := range m.Kptrs {
		if int64(m.Kptrs[i].Off) == off {
			return &m.Kptrs[i]
		}
	}
	return nil
}

// checkMapSpecialFields refuses an access of size bytes at r + off (off includes r's fixed
// offset) that touches a spin lock or timer, and one that touches a kptr other than as a whole
// by a load or store of the instruction itself (direct; a helper's or global function's access
// is not).
func (e *env) checkMapSpecialFields(regno uint8, r *reg, m *Map, off, size int, direct bool) error {
	if m.SpinLock < 0 && m.Timer < 0 && len(m.Kptrs) == 0 {
		return nil
	}
	lo := int64(off) + r.smin
	hi := int64(off) + int64(r.umax) + int64(size)
	for _, f := range m.fields() {
		if !(lo < int64(f.off+f.size) && int64(f.off) < hi) {
			continue
		}
		if f.kptr == nil {
			return e.reject("%s cannot be accessed directly by load/store", f.name)
		}
		if !direct {
			return e.reject("kptr cannot be accessed indirectly by helper")
		}
		if !r.varOff.isConst() {
			return e.reject("kptr access cannot have variable offset")
		}
		if at := uint64(int64(off) + int64(r.varOff.value)); at != uint64(f.off) {
			return e.reject("kptr access misaligned expected=%d off=%d", f.off, at)
		}
		if size != 8 {
			return e.reject("kptr access size must be BPF_DW")
		}
	}
	return nil
}

// checkMapKptrAccess is check_map_kptr_access: the load or store at idx of the kptr field k;
// a load makes valueReg a pointer to k's type that may be NULL, untrusted unless k is a
// referenced kptr the program may read under RCU.
func (e *env) checkMapKptrAccess(idx int, valueReg int, k *Kptr) error {
	ins := e.p.Insns[idx]
	class := ins.Op & 0x07
	if ins.Op&0xe0 != vm.ModeMEM {
		return e.reject("kptr in map can only be accessed using BPF_MEM instruction mode")
	}
	if class != vm.ClassLDX && k.Ref {
		return e.reject("store to referenced kptr disallowed")
	}
	regs := e.regs()
	switch class {
	case vm.ClassLDX:
		d := &regs[valueReg]
		d.setPointer(ptrToBTFID)
		d.btf = k.Type
		d.flags = flagMaybeNull | flagUntrusted
		if k.Ref && rcuProtected[k.Type] {
			d.flags = flagMaybeNull | flagRCU
		}
		d.id = e.newID()
	case vm.ClassSTX:
		if v := &regs[valueReg]; !v.isNull() {
			return e.mapKptrMatchType(k, v, uint8(valueReg))
		}
	case vm.ClassST:
		if ins.Imm != 0 {
			return e.reject("BPF_ST imm must be 0 when storing to kptr at off=%d", k.Off)
		}
	default:
		return e.reject("kptr in map can only be accessed using BPF_LDX/BPF_STX/BPF_ST")
	}
	return nil
}

// mapKptrMatchType is map_kptr_match_type: r, stored into the kptr field k or given to
// bpf_kptr_xchg for it, must point to k's type (or, for an untrusted field, to a struct that
// has one at r's offset), without a variable offset; a referenced field takes no untrusted
// pointer.
func (e *env) mapKptrMatchType(k *Kptr, r *reg, regno uint8) error {
	perm := flagMaybeNull | flagTrusted | flagRCU
	if !k.Ref {
		perm |= flagUntrusted
	}
	if r.flags&flagAlloc != 0 {
		// an object of the program's own BTF (bpf_obj_new's)
		perm = flagMaybeNull | flagAlloc
	}
	name := ""
	if r.typ == ptrToBTFID && r.flags&^perm == 0 {
		name = r.btf
		if err := e.checkPtrOffReg(regno, r, true); err != nil {
			return err
		}
		if e.structIDsMatch(r.btf, int(r.off), k.Type, k.Ref) {
			return nil
		}
	}
	msg := fmt.Sprintf("invalid kptr access, R%d type=%s%s expected=%s%s", regno, r.typeStr(), name, typeString(ptrToBTFID, 0), k.Type)
	if !k.Ref {
		msg += fmt.Sprintf(" or %s%s", typeString(ptrToBTFID, flagUntrusted), k.Type)
	}
	return e.reject("%s", msg)
}

// structIDsMatch is btf_struct_ids_match: a pointer to struct have at off points to a struct
// want, itself or (unless strict) one nested in it at that offset.
func (e *env) structIDsMatch(have string, off int, want string, strict bool) bool {
	if off == 0 && have == want {
		return true
	}
	if strict {
		return false
	}
	t := e.kernelStruct(have)
	for depth := 0; t != nil && depth < 32; depth++ {
		next := nestedStructAt(t, off)
		if next == nil {
			return false
		}
		if next.TypeName() == want {
			return true
		}
		t, off = next, 0
	}
	return false
}

// nestedStructAt is the struct or union member that starts at off in t, looked for inside the
// nested structs that cover off; nil when off falls in anything else.
func nestedStructAt(t btf.Type, off int) btf.Type {
	for {
		members, _, _, ok := composite(t)
		if !ok {
			return nil
		}
		var next btf.Type
		for _, m := range members {
			mt, size, _, _, err := resolveSize(m.Type)
			moff := int(m.Offset.Bytes())
			if err != nil || off < moff || off >= moff+size {
				continue
			}
			if _, _, _, ok := composite(mt); !ok {
				return nil
			}
			if off == moff {
				return mt
			}
			next, off = mt, off-moff
			break
		}
		if next == nil {
			return nil
		}
		t = next
	}
}

// processKptrArg is process_kptr_func for bpf_kptr_xchg's first argument: a pointer to a value
// of a map with BTF, at a constant offset where a referenced kptr field is. A local object's kptrs are not
// modelled: such an argument is left unchecked.
func (e *env) processKptrArg(regno uint8, r *reg, meta *callMeta) error {
	if r.typ != ptrToMapValue {
		return nil
	}
	m := &e.p.Maps[r.mapIdx]
	if !m.BTF {
		return e.reject("map '%s' has to have BTF in order to use bpf_kptr_xchg", m.Name)
	}
	if !r.varOff.isConst() {
		return e.reject("R%d doesn't have constant offset. kptr has to be at the constant offset", regno)
	}
	if len(m.Kptrs) == 0 {
		return e.reject("R%d has no valid kptr", regno)
	}
	off := int64(r.off) + int64(r.varOff.value)
	k := m.kptrAt(off)
	if k == nil {
		return e.reject("off=%d doesn't point to kptr", off)
	}
	if !k.Ref {
		return e.reject("off=%d kptr isn't referenced kptr", off)
	}
	meta.kptr = k
	return nil
}
