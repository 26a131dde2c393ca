package sim

import (
	"errors"

	"github.com/cilium/ebpf"

	"github.com/cilium/ebpf/asm"

	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/sim/maps"
	"github.com/xdpsim/xdpsim/vm"
)

// The base helpers (bpf_base_func_proto) every simulated program type may call.

func init() {
	registerBase(asm.FnMapLookupElem, mapLookup)
	registerBase(asm.FnMapUpdateElem, mapUpdate)
	registerBase(asm.FnMapDeleteElem, mapDelete)
	registerBase(asm.FnMapPushElem, mapPush)
	registerBase(asm.FnMapPopElem, func(s *runState, m *vm.Machine, mp, val, _, _, _ uint64) (uint64, error) {
		return s.queueOp(m, mp, val, (*maps.Map).Pop)
	})
	registerBase(asm.FnMapPeekElem, func(s *runState, m *vm.Machine, mp, val, _, _, _ uint64) (uint64, error) {
		return s.queueOp(m, mp, val, (*maps.Map).Peek)
	})
	clock := func(s *runState, m *vm.Machine, _, _, _, _, _ uint64) (uint64, error) { return s.cond.TimeNs, nil }
	registerBase(asm.FnKtimeGetNs, clock)
	registerBase(asm.FnKtimeGetBootNs, clock)
	registerBase(asm.FnKtimeGetCoarseNs, clock)
	registerBase(asm.FnKtimeGetTaiNs, clock)
	registerBase(asm.FnJiffies64, func(s *runState, m *vm.Machine, _, _, _, _, _ uint64) (uint64, error) {
		return s.cond.TimeNs / (1e9 / jiffiesHZ), nil
	})
	registerBase(asm.FnGetPrandomU32, func(s *runState, m *vm.Machine, _, _, _, _, _ uint64) (uint64, error) {
		return uint64(s.random()), nil
	})
	registerBase(asm.FnGetSmpProcessorId, func(s *runState, m *vm.Machine, _, _, _, _, _ uint64) (uint64, error) {
		return uint64(s.cond.CPU), nil
	})
	registerBase(asm.FnTailCall, tailCall)
}

// errNotAMap ends a run whose program passed something other than a map where a helper wants one:
// the kernel's verifier would not have let the program load.
var errNotAMap = errors.New("helper argument is not a map")

// jiffiesHZ is the tick rate bpf_jiffies64 counts in (Debian's CONFIG_HZ).
const jiffiesHZ = 250

// SetSeed seeds bpf_get_prandom_u32 and, unless SetSyncookieSecret chose one, the SYN cookie secret.
func (x *XDP) SetSeed(seed uint64) {
	for _, rs := range x.runStates() {
		rs.setSeed(seed)
	}
}

func mapLookup(s *runState, m *vm.Machine, mp, key, _, _, _ uint64) (uint64, error) {
	mm, k, err := s.mapArg(m, mp, key, false, false)
	if err != nil {
		return 0, err
	}
	if t := mm.Type(); t == ebpf.ArrayOfMaps || t == ebpf.HashOfMaps {
		// A map of maps yields the inner map itself, which the program passes on to helpers.
		obj, err := mm.LookupObject(k)
		inner, ok := obj.(*maps.Map)
		if err != nil || !ok {
			return 0, nil
		}
		i, ok := s.obj.mapIdx[inner]
		if !ok {
			return 0, nil
		}
		return vm.Address(s.obj.MapRegion(i), 0), nil
	}
	v, err := mm.Lookup(k, s.cond.CPU)
	if err != nil || v == nil {
		return 0, nil
	}
	id, _ := vm.SplitAddress(mp)
	idx := id - vm.FirstHostRegion
	return m.AddTempData(v, s.valueNames[idx], mm.ReadOnlyForPrograms()), nil
}

// mapArg finds the map a helper's map argument names and the n bytes its pointer argument points
// at (the key or the value, as the helper's prototype sizes it).
func (s *runState) mapArg(m *vm.Machine, mp, ptr uint64, value, write bool) (*maps.Map, []byte, error) {
	mm := s.mapAt(mp)
	if mm == nil {
		return nil, nil, errNotAMap
	}
	n := mm.KeySize()
	if value {
		n = mm.ValueSize()
	}
	b, err := m.Bytes(ptr, n, write)
	return mm, b, err
}

// errnoResult is a map operation's outcome as a helper returns it: 0, or -errno.
func errnoResult(err error) (uint64, error) {
	if err != nil {
		return errnoOf(err), nil
	}
	return 0, nil
}

func mapUpdate(s *runState, m *vm.Machine, mp, key, val, flags, _ uint64) (uint64, error) {
	mm, k, err := s.mapArg(m, mp, key, false, false)
	if err != nil {
		return 0, err
	}
	v, err := m.Bytes(val, mm.ValueSize(), false)
	if err != nil {
		return 0, err
	}
	return errnoResult(mm.Update(k, v, flags, s.cond.CPU))
}

func mapDelete(s *runState, m *vm.Machine, mp, key, _, _, _ uint64) (uint64, error) {
	mm, k, err := s.mapArg(m, mp, key, false, false)
	if err != nil {
		return 0, err
	}
	return errnoResult(mm.Delete(k))
}

func mapPush(s *runState, m *vm.Machine, mp, val, flags, _, _ uint64) (uint64, error) {
	mm, v, err := s.mapArg(m, mp, val, true, false)
	if err != nil {
		return 0, err
	}
	return errnoResult(mm.Push(v, flags))
}

func (s *runState) queueOp(m *vm.Machine, mp, val uint64, op func(*maps.Map, []byte) error) (uint64, error) {
	mm, v, err := s.mapArg(m, mp, val, true, true)
	if err != nil {
		return 0, err
	}
	return errnoResult(op(mm, v))
}

func tailCall(s *runState, m *vm.Machine, ctx, mp, index, _, _ uint64) (uint64, error) {
	mm := s.mapAt(mp)
	if mm == nil {
		return 0, errNotAMap
	}
	var key [4]byte
	le.PutUint32(key[:], uint32(index))
	obj, err := mm.LookupObject(key[:])
	if err != nil {
		return errno.ENOENT.Return(), nil
	}
	p, ok := obj.(*Program)
	if !ok || p == nil || !m.TailCall(p.VM) {
		return errno.ENOENT.Return(), nil
	}
	return 0, nil
}
