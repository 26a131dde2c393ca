package maps

import (
	"fmt"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/xdpsim/xdpsim/errno"
)

func lruSpec(max uint32, flags uint32) Spec {
	return Spec{Name: "lru", Type: ebpf.LRUHash, KeySize: 4, ValueSize: 4, MaxEntries: max, Flags: flags}
}

// The expected key sets were measured on Linux 6.18 with 2 possible CPUs, the syscalls and
// BPF_PROG_TEST_RUN pinned to CPU 0: insert 1..max, look 1..max/2 up from a program, insert
// max+1..max+max/2+1, update 2, look 1..3 up, insert 2max..2max+max/4+1.
func TestLRUEvictionMatchesTheKernel(t *testing.T) {
	tests := []struct {
		name  string
		max   uint32
		flags uint32
		want  []uint32
	}{
		{"a common LRU of 8 keeps the referenced keys and the newest", 8, 0, []uint32{1, 2, 3, 4, 16, 17, 18, 19}},
		{"a common LRU of 16 keeps the referenced keys and the newest", 16, 0, []uint32{1, 2, 3, 4, 5, 6, 7, 8, 24, 25, 32, 33, 34, 35, 36, 37}},
		{"a per-CPU LRU of 8 evicts within CPU 0's half", 8, FlagNoCommonLRU, []uint32{2, 18, 19}},
		{"a per-CPU LRU of 16 evicts within CPU 0's half", 16, FlagNoCommonLRU, []uint32{2, 25, 32, 33, 34, 35, 36, 37}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustNew(t, lruSpec(tt.max, tt.flags), 2)
			ins := func(i uint32) { wantErr(t, m.Update(u32(i), u32(i), UpdateAny, 0), nil) }
			look := func(i uint32) { m.Lookup(u32(i), 0) }
			for i := uint32(1); i <= tt.max; i++ {
				ins(i)
			}
			for i := uint32(1); i <= tt.max/2; i++ {
				look(i)
			}
			for i := tt.max + 1; i <= tt.max+tt.max/2+1; i++ {
				ins(i)
			}
			ins(2)
			for i := uint32(1); i <= 3; i++ {
				look(i)
			}
			for i := 2 * tt.max; i <= 2*tt.max+tt.max/4+1; i++ {
				ins(i)
			}
			if got := sortedKeys(t, m); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got  %v\nwant %v", got, tt.want)
			}
			for _, k := range tt.want {
				v, err := m.Lookup(u32(k), 0)
				if err != nil || string(v) != string(u32(k)) {
					t.Errorf("key %d: value %x, %v", k, v, err)
				}
			}
		})
	}
}

func TestLRUEvictionOrder(t *testing.T) {
	tests := []struct {
		name  string
		setup func(m *Map)
		want  []uint32
	}{
		{"without lookups the oldest keys go first, a batch at a time", func(m *Map) {}, []uint32{3, 4, 5}},
		{"a key a program looked up survives", func(m *Map) { m.Lookup(u32(1), 0) }, []uint32{1, 4, 5}},
		{"a user space lookup does not protect a key", func(m *Map) { m.LookupPerCPU(u32(1)) }, []uint32{3, 4, 5}},
		{"a deleted key's element is reused, but the free target of 2 still evicts the oldest key", func(m *Map) { m.Delete(u32(2)) }, []uint32{3, 4, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// One CPU and 4 entries: the local free target is 4/1/2 = 2.
			m := mustNew(t, lruSpec(4, 0), 1)
			for i := uint32(1); i <= 4; i++ {
				wantErr(t, m.Update(u32(i), u32(i), UpdateAny, 0), nil)
			}
			tt.setup(m)
			wantErr(t, m.Update(u32(5), u32(5), UpdateAny, 0), nil)
			if got := sortedKeys(t, m); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLRUUpdateSemantics(t *testing.T) {
	t.Run("a full LRU map never fails with E2BIG", func(t *testing.T) {
		m := mustNew(t, lruSpec(4, 0), 1)
		for i := uint32(0); i < 100; i++ {
			wantErr(t, m.Update(u32(i), u32(i), UpdateAny, 0), nil)
		}
		if m.Len() > 4 || m.Len() == 0 {
			t.Errorf("Len = %d", m.Len())
		}
	})
	t.Run("BPF_NOEXIST on a present key fails with EEXIST", func(t *testing.T) {
		m := mustNew(t, lruSpec(4, 0), 1)
		wantErr(t, m.Update(u32(1), u32(1), UpdateAny, 0), nil)
		wantErr(t, m.Update(u32(1), u32(2), UpdateNoExist, 0), errno.EEXIST)
	})
	t.Run("BPF_EXIST on a missing key fails with ENOENT", func(t *testing.T) {
		m := mustNew(t, lruSpec(4, 0), 1)
		wantErr(t, m.Update(u32(1), u32(1), UpdateExist, 0), errno.ENOENT)
	})
	t.Run("BPF_F_LOCK fails with EINVAL", func(t *testing.T) {
		m := mustNew(t, lruSpec(4, 0), 1)
		wantErr(t, m.Update(u32(1), u32(1), UpdateLock, 0), errno.EINVAL)
	})
	t.Run("replacing a key keeps the value slice a program holds", func(t *testing.T) {
		m := mustNew(t, lruSpec(4, 0), 1)
		wantErr(t, m.Update(u32(1), u32(1), UpdateAny, 0), nil)
		v, _ := m.Lookup(u32(1), 0)
		wantErr(t, m.Update(u32(1), u32(42), UpdateAny, 0), nil)
		if string(v) != string(u32(42)) {
			t.Errorf("got %x", v)
		}
	})
	t.Run("a failed update still takes a free element, as in the kernel", func(t *testing.T) {
		m := mustNew(t, lruSpec(4, 0), 1)
		for i := uint32(1); i <= 4; i++ {
			wantErr(t, m.Update(u32(i), u32(i), UpdateAny, 0), nil)
		}
		wantErr(t, m.Update(u32(4), u32(0), UpdateNoExist, 0), errno.EEXIST)
		if got := sortedKeys(t, m); fmt.Sprint(got) != "[3 4]" {
			t.Errorf("got %v", got)
		}
	})
	t.Run("BPF_F_NO_COMMON_LRU rounds max_entries up to a multiple of the CPUs", func(t *testing.T) {
		m := mustNew(t, lruSpec(3, FlagNoCommonLRU), 2)
		if m.MaxEntries() != 4 {
			t.Errorf("MaxEntries = %d", m.MaxEntries())
		}
	})
}

func TestLRUPerCPUHash(t *testing.T) {
	spec := Spec{Name: "lpch", Type: ebpf.LRUCPUHash, KeySize: 4, ValueSize: 4, MaxEntries: 8}
	t.Run("values are per CPU and a new element is zero elsewhere", func(t *testing.T) {
		m := mustNew(t, spec, 2)
		wantErr(t, m.Update(u32(1), u32(5), UpdateAny, 1), nil)
		vals, err := m.LookupPerCPU(u32(1))
		wantErr(t, err, nil)
		if fmt.Sprintf("%x", vals) != "[00000000 05000000]" {
			t.Errorf("got %x", vals)
		}
	})
	t.Run("an update of a present key is in place", func(t *testing.T) {
		m := mustNew(t, spec, 2)
		wantErr(t, m.UpdatePerCPU(u32(1), [][]byte{u32(1), u32(2)}, UpdateAny), nil)
		v, _ := m.Lookup(u32(1), 1)
		wantErr(t, m.Update(u32(1), u32(9), UpdateExist, 1), nil)
		if string(v) != string(u32(9)) {
			t.Errorf("got %x", v)
		}
	})
	t.Run("it evicts instead of failing when full", func(t *testing.T) {
		m := mustNew(t, spec, 2)
		for i := uint32(0); i < 50; i++ {
			wantErr(t, m.Update(u32(i), u32(i), UpdateAny, int(i%2)), nil)
		}
		if m.Len() > 8 {
			t.Errorf("Len = %d", m.Len())
		}
	})
}
