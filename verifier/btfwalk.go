package verifier

import (
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

// btfLoad is what a load from a kernel struct finds (btf_struct_access): a scalar, or a pointer
// to the struct target read from the member name, with the flags the walk gave it.
type btfLoad struct {
	ptr    bool
	target string
	member string
	flags  typeFlag
}

// kernelStruct is the struct or union of that name in the kernel BTF the program is relocated
// against, nil when there is no such BTF or type.
func (e *env) kernelStruct(name string) btf.Type {
	if e.p.KernelBTF == nil || name == "" {
		return nil
	}
	spec := e.p.KernelBTF()
	if spec == nil {
		return nil
	}
	var s *btf.Struct
	if spec.TypeByName(name, &s) == nil {
		return s
	}
	var u *btf.Union
	if spec.TypeByName(name, &u) == nil {
		return u
	}
	return nil
}

func composite(t btf.Type) (members []btf.Member, size int, union, ok bool) {
	switch c := t.(type) {
	case *btf.Struct:
		return c.Members, int(c.Size), false, true
	case *btf.Union:
		return c.Members, int(c.Size), true, true
	}
	return nil, 0, false, false
}

// resolveSize is __btf_resolve_size: the member's type without modifiers and its size; for an
// array (multi-dimensional ones linearised) also the element type and the number of elements.
func resolveSize(t btf.Type) (typ btf.Type, size int, elem btf.Type, nelems int, err error) {
	typ = btf.UnderlyingType(t)
	a, isArray := typ.(*btf.Array)
	if !isArray {
		s, err := btf.Sizeof(typ)
		return typ, s, nil, 0, err
	}
	nelems = 1
	var et btf.Type = a
	for {
		arr, ok := et.(*btf.Array)
		if !ok {
			break
		}
		nelems *= int(arr.Nelems)
		et = btf.UnderlyingType(arr.Type)
	}
	es, err := btf.Sizeof(et)
	if err != nil {
		return nil, 0, nil, 0, err
	}
	return typ, es * nelems, et, nelems, nil
}

// walkBTF finds what a load of size bytes at off from a t reads (btf_struct_walk as
// btf_struct_access repeats it into nested structs); the error is the kernel's log line.
func walkBTF(t btf.Type, off, size int) (btfLoad, error) {
	var res btfLoad
again:
	t = btf.UnderlyingType(t)
	members, tsize, union, ok := composite(t)
	tname := t.TypeName()
	if !ok {
		return res, fmt.Errorf("Type '%s' is not a struct", tname)
	}
	if union && len(members) != 1 {
		// Walking unions yields untrusted pointers, but for single-member ones.
		res.flags |= flagUntrusted
	}
	if off+size > tsize {
		// A flexible array as the last member may be indexed past the struct's size.
		if len(members) > 0 {
			last := members[len(members)-1]
			if a, isArray := btf.UnderlyingType(last.Type).(*btf.Array); isArray && a.Nelems == 0 && off >= int(last.Offset/8) {
				et := btf.UnderlyingType(a.Type)
				if _, isInt := et.(*btf.Int); isInt {
					return res, nil
				}
				if _, esize, _, isComp := composite(et); isComp && esize > 0 {
					off = (off - int(last.Offset/8)) % esize
					t = et
					goto again
				}
			}
		}
		return res, fmt.Errorf("access beyond struct %s at off %d size %d", tname, off, size)
	}
	for _, m := range members {
		moff := int(m.Offset / 8)
		if off+size <= moff {
			break
		}
		if m.BitfieldSize != 0 {
			endBit := int(m.Offset + m.BitfieldSize)
			if off <= moff && (endBit+7)/8 <= off+size {
				return res, nil
			}
			continue
		}
		if off < moff {
			break
		}
		mtype, msize, elem, nelems, err := resolveSize(m.Type)
		if err != nil {
			return res, fmt.Errorf("field %s doesn't have size", m.Name)
		}
		trueEnd := moff + msize
		if off >= trueEnd {
			continue
		}
		if elem != nil {
			if moff == trueEnd {
				continue
			}
			msize /= nelems
			moff += (off - moff) / msize * msize
			mtype = elem
		}
		if _, _, _, isComp := composite(mtype); isComp {
			t = mtype
			off -= moff
			goto again
		}
		if p, isPtr := mtype.(*btf.Pointer); isPtr {
			if msize != size || off != moff {
				return res, fmt.Errorf("cannot access ptr member %s with moff %d in struct %s with off %d size %d", m.Name, moff, tname, off, size)
			}
			var tag typeFlag
			if tt, isTag := p.Target.(*btf.TypeTag); isTag {
				switch tt.Value {
				case "user":
					tag = flagUser
				case "percpu":
					tag = flagPercpu
				case "rcu":
					tag = flagRCU
				}
			}
			target := btf.UnderlyingType(p.Target)
			if _, _, _, isComp := composite(target); isComp {
				return btfLoad{ptr: true, target: target.TypeName(), member: m.Name, flags: res.flags | tag}, nil
			}
		}
		if off+size > trueEnd && res.flags&flagUntrusted == 0 {
			return res, fmt.Errorf("access beyond the end of member %s (mend:%d) in struct %s with off %d size %d", m.Name, trueEnd, tname, off, size)
		}
		return res, nil
	}
	return res, fmt.Errorf("struct %s doesn't have field at offset %d", tname, off)
}

// nestedTrusted is btf_nested_type_is_trusted: the kernel lists the members that keep their
// parent's trust in structs named after the parent with a suffix ("__safe_trusted", ...).
func (e *env) nestedTrusted(parent, member, target, suffix string) bool {
	s, ok := e.kernelStruct(parent + suffix).(*btf.Struct)
	if !ok {
		return false
	}
	for _, m := range s.Members {
		p, isPtr := m.Type.(*btf.Pointer)
		if isPtr && m.Name == member && btf.UnderlyingType(p.Target).TypeName() == target {
			return true
		}
	}
	return false
}

// walkLoad walks st for a load of size bytes at off into d: a scalar member makes d an unknown
// scalar; ptr says the load reads the pointer ld describes, which the caller gives d.
func (e *env) walkLoad(st btf.Type, off, size int, d *reg) (ld btfLoad, ptr bool, err error) {
	ld, err = walkBTF(st, off, size)
	if err != nil {
		return ld, false, e.reject("%s", err.Error())
	}
	if d != nil && !ld.ptr {
		d.setUnknown()
	}
	return ld, d != nil && ld.ptr, nil
}

// checkBTFRead is the read side of check_ptr_to_btf_access for a struct found in the kernel
// BTF: the load gives a scalar or a PTR_TO_BTF_ID with the trust the kernel gives it.
func (e *env) checkBTFRead(regno uint8, r *reg, st btf.Type, off, size int, d *reg) error {
	if off < 0 {
		return e.reject("R%d is ptr_%s invalid negative access: off=%d", regno, r.btf, off)
	}
	if !r.varOff.isConst() || r.varOff.value != 0 {
		return e.reject("R%d is ptr_%s invalid variable offset: off=%d, var_off=%s", regno, r.btf, off, r.varOff)
	}
	if r.flags&flagUser != 0 {
		return e.reject("R%d is ptr_%s access user memory: off=%d", regno, r.btf, off)
	}
	if r.flags&flagPercpu != 0 {
		return e.reject("R%d is ptr_%s access percpu memory: off=%d", regno, r.btf, off)
	}
	ld, ptr, err := e.walkLoad(st, off, size, d)
	if !ptr {
		return err
	}
	flags := ld.flags
	trusted := r.refID != 0 || (r.flags&(flagAlloc|flagTrusted) != 0 && r.flags&(flagUntrusted|flagMaybeNull|flagUser|flagPercpu|flagRCU) == 0)
	switch {
	case r.flags&flagUntrusted != 0:
		flags = flagUntrusted
	case trusted || r.flags&flagRCU != 0:
		switch {
		case e.nestedTrusted(r.btf, ld.member, ld.target, "__safe_trusted"):
			flags |= flagTrusted
		case e.nestedTrusted(r.btf, ld.member, ld.target, "__safe_trusted_or_null"):
			flags |= flagTrusted | flagMaybeNull
		case r.maybeNull():
			flags = flagUntrusted
		case e.nestedTrusted(r.btf, ld.member, ld.target, "__safe_rcu"):
			// XDP and tc programs are not sleepable: always in an RCU critical section.
			flags |= flagRCU
		case flags&flagRCU != 0 || e.nestedTrusted(r.btf, ld.member, ld.target, "__safe_rcu_or_null"):
			flags |= flagRCU | flagMaybeNull
			if e.nestedTrusted(r.btf, ld.member, ld.target, "__safe_rcu_or_null") {
				flags &^= flagUntrusted
			}
		case flags&(flagPercpu|flagUser) != 0:
		default:
			flags &^= flagTrusted | flagAlloc | flagRCU
		}
	default:
		flags &^= flagTrusted | flagAlloc | flagRCU
	}
	d.setPointer(ptrToBTFID)
	d.btf = ld.target
	d.flags = flags
	if d.maybeNull() {
		d.id = e.newID()
	}
	return nil
}

// mapStructs names the kernel struct each map type's ops give its maps (map_btf_id): what a
// program reads through a map pointer. Map types without one are left unchecked.
var mapStructs = map[ebpf.MapType]string{
	ebpf.Array: "bpf_array", ebpf.PerCPUArray: "bpf_array", ebpf.ProgramArray: "bpf_array",
	ebpf.PerfEventArray: "bpf_array", ebpf.CGroupArray: "bpf_array", ebpf.ArrayOfMaps: "bpf_array",
	ebpf.Hash: "bpf_htab", ebpf.LRUHash: "bpf_htab", ebpf.PerCPUHash: "bpf_htab",
	ebpf.LRUCPUHash: "bpf_htab", ebpf.HashOfMaps: "bpf_htab",
	ebpf.DevMap: "bpf_dtab", ebpf.DevMapHash: "bpf_dtab", ebpf.CPUMap: "bpf_cpu_map", ebpf.XSKMap: "xsk_map",
	ebpf.SockMap: "bpf_stab", ebpf.SockHash: "bpf_shtab", ebpf.ReusePortSockArray: "reuseport_array",
	ebpf.RingBuf: "bpf_ringbuf_map", ebpf.UserRingbuf: "bpf_ringbuf_map",
	ebpf.Queue: "bpf_queue_stack", ebpf.Stack: "bpf_queue_stack", ebpf.LPMTrie: "lpm_trie",
	ebpf.BloomFilter: "bpf_bloom_filter", ebpf.StackTrace: "bpf_stack_map", ebpf.Arena: "bpf_arena",
	ebpf.StructOpsMap: "bpf_struct_ops_map", ebpf.CGroupStorage: "bpf_cgroup_storage_map",
	ebpf.PerCPUCGroupStorage: "bpf_cgroup_storage_map", ebpf.SkStorage: "bpf_local_storage_map",
	ebpf.InodeStorage: "bpf_local_storage_map", ebpf.TaskStorage: "bpf_local_storage_map",
	ebpf.CgroupStorage: "bpf_local_storage_map",
}

// checkMapPtrAccess is check_ptr_to_map_access: a map pointer reads its map's kernel struct as
// a PTR_TO_BTF_ID of it would, with no trust of its own.
func (e *env) checkMapPtrAccess(regno uint8, r *reg, off, size, t int, d *reg) error {
	tname, known := mapStructs[e.p.Maps[r.mapIdx].Type]
	if !known {
		tname = "bpf_map"
	}
	if known && off < 0 {
		return e.reject("R%d is %s invalid negative access: off=%d", regno, tname, off)
	}
	if t == accWrite {
		return e.reject("only read from %s is supported", tname)
	}
	st := e.kernelStruct(tname)
	if !known || st == nil {
		if d != nil {
			d.setUnknown()
		}
		return nil
	}
	ld, ptr, err := e.walkLoad(st, off, size, d)
	if !ptr {
		return err
	}
	d.setPointer(ptrToBTFID)
	d.btf = ld.target
	d.flags = ld.flags
	return nil
}
