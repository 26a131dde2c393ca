package maps

import (
	"errors"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/xdpsim/xdpsim/errno"
)

type fakeProg struct{ id uint32 }

func (p *fakeProg) ID() uint32 { return p.id }

func TestProgArray(t *testing.T) {
	newProgs := func(t *testing.T) *Map {
		return mustNew(t, Spec{Name: "jmp", Type: ebpf.ProgramArray, KeySize: 4, ValueSize: 4, MaxEntries: 4}, 1)
	}
	t.Run("a tail call target is found by index", func(t *testing.T) {
		m := newProgs(t)
		p := &fakeProg{id: 7}
		wantErr(t, m.UpdateObject(u32(1), p, UpdateAny), nil)
		got, err := m.LookupObject(u32(1))
		wantErr(t, err, nil)
		if got != p {
			t.Errorf("got %v", got)
		}
		v, _ := m.Lookup(u32(1), 0)
		if string(v) != string(u32(7)) {
			t.Errorf("the stored value is %x, want the program's ID", v)
		}
	})
	t.Run("an empty slot has no tail call target", func(t *testing.T) {
		_, err := newProgs(t).LookupObject(u32(2))
		wantErr(t, err, errno.ENOENT)
	})
	t.Run("an index out of range has no tail call target", func(t *testing.T) {
		_, err := newProgs(t).LookupObject(u32(9))
		wantErr(t, err, errno.ENOENT)
	})
	t.Run("only BPF_ANY is accepted", func(t *testing.T) {
		wantErr(t, newProgs(t).UpdateObject(u32(1), &fakeProg{}, UpdateExist), errno.EINVAL)
	})
	t.Run("an index at max_entries fails with E2BIG", func(t *testing.T) {
		wantErr(t, newProgs(t).UpdateObject(u32(4), &fakeProg{}, UpdateAny), errno.E2BIG)
	})
	t.Run("a delete of an empty slot fails with ENOENT", func(t *testing.T) {
		wantErr(t, newProgs(t).Delete(u32(1)), errno.ENOENT)
	})
	t.Run("an ID without a resolver fails with EINVAL", func(t *testing.T) {
		wantErr(t, newProgs(t).Update(u32(1), u32(7), UpdateAny, 0), errno.EINVAL)
	})
	t.Run("an ID is turned into a program by the resolver", func(t *testing.T) {
		m := newProgs(t)
		p := &fakeProg{id: 7}
		m.SetResolver(func(id uint32) (any, error) {
			if id == 7 {
				return p, nil
			}
			return nil, errno.ENOENT
		})
		wantErr(t, m.Update(u32(1), u32(7), UpdateAny, 0), nil)
		got, _ := m.LookupObject(u32(1))
		if got != p {
			t.Errorf("got %v", got)
		}
		wantErr(t, m.Update(u32(2), u32(8), UpdateAny, 0), errno.ENOENT)
	})
}

func TestMapsOfMaps(t *testing.T) {
	innerSpec := Spec{Name: "inner", Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 2}
	t.Run("an array of maps holds inner maps a program can use", func(t *testing.T) {
		outer := mustNew(t, Spec{Name: "outer", Type: ebpf.ArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 2, Inner: &innerSpec}, 1)
		inner := mustNew(t, innerSpec, 1)
		inner.SetID(12)
		wantErr(t, outer.UpdateObject(u32(0), inner, UpdateAny), nil)
		got, err := outer.LookupObject(u32(0))
		wantErr(t, err, nil)
		if got.(*Map) != inner {
			t.Fatal("wrong inner map")
		}
		v, _ := outer.Lookup(u32(0), 0)
		if string(v) != string(u32(12)) {
			t.Errorf("the stored value is %x, want the inner map's ID", v)
		}
	})
	t.Run("an inner map with other attributes fails with EINVAL", func(t *testing.T) {
		outer := mustNew(t, Spec{Type: ebpf.ArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 2, Inner: &innerSpec}, 1)
		other := innerSpec
		other.MaxEntries = 3
		wantErr(t, outer.UpdateObject(u32(0), mustNew(t, other, 1), UpdateAny), errno.EINVAL)
		wantErr(t, outer.UpdateObject(u32(0), "not a map", UpdateAny), errno.EINVAL)
	})
	t.Run("BPF_F_INNER_MAP lets inner maps differ in max_entries", func(t *testing.T) {
		flexible := innerSpec
		flexible.Flags = FlagInnerMap
		outer := mustNew(t, Spec{Type: ebpf.ArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 2, Inner: &flexible}, 1)
		bigger := flexible
		bigger.MaxEntries = 100
		wantErr(t, outer.UpdateObject(u32(0), mustNew(t, bigger, 1), UpdateAny), nil)
	})
	t.Run("a hash of maps follows the hash map's flag rules", func(t *testing.T) {
		outer := mustNew(t, Spec{Type: ebpf.HashOfMaps, KeySize: 8, ValueSize: 4, MaxEntries: 1, Inner: &innerSpec}, 1)
		inner := mustNew(t, innerSpec, 1)
		wantErr(t, outer.UpdateObject(u64(1), inner, UpdateExist), errno.ENOENT)
		wantErr(t, outer.UpdateObject(u64(1), inner, UpdateAny), nil)
		wantErr(t, outer.UpdateObject(u64(1), inner, UpdateNoExist), errno.EEXIST)
		wantErr(t, outer.UpdateObject(u64(2), inner, UpdateAny), errno.E2BIG)
		got, err := outer.LookupObject(u64(1))
		if err != nil || got.(*Map) != inner {
			t.Errorf("got %v, %v", got, err)
		}
		wantErr(t, outer.Delete(u64(1)), nil)
		_, err = outer.LookupObject(u64(1))
		if !errors.Is(err, errno.ENOENT) {
			t.Errorf("got %v", err)
		}
	})
}
