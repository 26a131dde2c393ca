package maps

import (
	"errors"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/xdpsim/xdpsim/errno"
)

// The expected errnos were checked against BPF_MAP_CREATE on Linux 6.18.
func TestNewRejectsWhatTheKernelRejects(t *testing.T) {
	inner := &Spec{Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1}
	tests := []struct {
		name   string
		spec   Spec
		errno  errno.Errno
		reason string
	}{
		{"an array key must be 4 bytes", Spec{Type: ebpf.Array, KeySize: 8, ValueSize: 4, MaxEntries: 4}, errno.EINVAL, "key size must be 4"},
		{"an array value must not be empty", Spec{Type: ebpf.Array, KeySize: 4, MaxEntries: 4}, errno.EINVAL, "value size"},
		{"max_entries 0 is refused", Spec{Type: ebpf.Array, KeySize: 4, ValueSize: 4}, errno.EINVAL, "max_entries"},
		{"an array refuses BPF_F_NO_PREALLOC", Spec{Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 4, Flags: FlagNoPrealloc}, errno.EINVAL, "flags"},
		{"a percpu_array value above 32 KiB is too big", Spec{Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 32769, MaxEntries: 4}, errno.E2BIG, "PCPU_MIN_UNIT_SIZE"},
		{"a hash key must not be empty", Spec{Type: ebpf.Hash, ValueSize: 4, MaxEntries: 4}, errno.EINVAL, "key size"},
		{"BPF_F_NO_COMMON_LRU is only for LRU maps", Spec{Type: ebpf.Hash, KeySize: 4, ValueSize: 4, MaxEntries: 4, Flags: FlagNoCommonLRU}, errno.EINVAL, "only for LRU"},
		{"an LRU map must be preallocated", Spec{Type: ebpf.LRUHash, KeySize: 4, ValueSize: 4, MaxEntries: 4, Flags: FlagNoPrealloc}, errno.ENOTSUPP, "BPF_F_NO_PREALLOC"},
		{"a hash element above KMALLOC_MAX_SIZE is too big", Spec{Type: ebpf.Hash, KeySize: 4, ValueSize: 4 << 20, MaxEntries: 4}, errno.E2BIG, "too large"},
		{"an lpm_trie needs BPF_F_NO_PREALLOC", Spec{Type: ebpf.LPMTrie, KeySize: 8, ValueSize: 4, MaxEntries: 4}, errno.EINVAL, "BPF_F_NO_PREALLOC"},
		{"an lpm_trie key needs at least 5 bytes", Spec{Type: ebpf.LPMTrie, KeySize: 4, ValueSize: 4, MaxEntries: 4, Flags: FlagNoPrealloc}, errno.EINVAL, "5 to 260"},
		{"an lpm_trie key has at most 260 bytes", Spec{Type: ebpf.LPMTrie, KeySize: 261, ValueSize: 4, MaxEntries: 4, Flags: FlagNoPrealloc}, errno.EINVAL, "5 to 260"},
		{"a queue has no key", Spec{Type: ebpf.Queue, KeySize: 4, ValueSize: 4, MaxEntries: 4}, errno.EINVAL, "key size must be 0"},
		{"a ringbuf size must be a power of 2", Spec{Type: ebpf.RingBuf, MaxEntries: 3 * 4096}, errno.EINVAL, "power of 2"},
		{"a ringbuf size must be a page multiple", Spec{Type: ebpf.RingBuf, MaxEntries: 1024}, errno.EINVAL, "page size"},
		{"a ringbuf has no key or value", Spec{Type: ebpf.RingBuf, KeySize: 4, MaxEntries: 4096}, errno.EINVAL, "key and value size must be 0"},
		{"a devmap value is 4 or 8 bytes", Spec{Type: ebpf.DevMap, KeySize: 4, ValueSize: 6, MaxEntries: 4}, errno.EINVAL, "4 or 8"},
		{"an xskmap value is 4 bytes", Spec{Type: ebpf.XSKMap, KeySize: 4, ValueSize: 8, MaxEntries: 4}, errno.EINVAL, "must be 4"},
		{"a cpumap has at most NR_CPUS entries", Spec{Type: ebpf.CPUMap, KeySize: 4, ValueSize: 4, MaxEntries: 9000}, errno.E2BIG, "NR_CPUS"},
		{"a prog_array value is 4 bytes", Spec{Type: ebpf.ProgramArray, KeySize: 4, ValueSize: 8, MaxEntries: 4}, errno.EINVAL, "must be 4"},
		{"a map of maps needs an inner map", Spec{Type: ebpf.ArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 4}, errno.EINVAL, "inner map"},
		{"a map of maps cannot nest", Spec{Type: ebpf.HashOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 4, Inner: &Spec{Type: ebpf.ArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 1, Inner: inner}}, errno.EINVAL, "must not be a map of maps"},
		{"an invalid inner map is refused", Spec{Type: ebpf.ArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 4, Inner: &Spec{Type: ebpf.Array, KeySize: 2, ValueSize: 4, MaxEntries: 1}}, errno.EINVAL, "inner map"},
		{"read-only and write-only exclude each other", Spec{Type: ebpf.Hash, KeySize: 4, ValueSize: 4, MaxEntries: 4, Flags: FlagRdonlyProg | FlagWronlyProg}, errno.EINVAL, "exclude"},
		{"a spin lock must fit the value", Spec{Type: ebpf.Hash, KeySize: 4, ValueSize: 4, MaxEntries: 4, SpinLock: true, SpinLockOffset: 4}, errno.EINVAL, "spin_lock"},
		{"a per-CPU map cannot hold a spin lock", Spec{Type: ebpf.PerCPUHash, KeySize: 4, ValueSize: 8, MaxEntries: 4, SpinLock: true}, errno.EOPNOTSUPP, "spin_lock"},
		{"an unsupported type is refused", Spec{Type: ebpf.SockMap, KeySize: 4, ValueSize: 4, MaxEntries: 4}, errno.EINVAL, "not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.spec.Name = "my_map"
			_, err := New(tt.spec, 2)
			if !errors.Is(err, tt.errno) {
				t.Fatalf("got %v, want %v", err, tt.errno)
			}
			if !strings.Contains(err.Error(), `"my_map"`) || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q should name the map and say %q", err, tt.reason)
			}
			var se *SpecError
			if !errors.As(err, &se) {
				t.Errorf("error %T is not a *SpecError", err)
			}
		})
	}
}

func TestNewAcceptsValidSpecs(t *testing.T) {
	inner := &Spec{Type: ebpf.Hash, KeySize: 4, ValueSize: 4, MaxEntries: 16}
	specs := []Spec{
		{Type: ebpf.Array, KeySize: 4, ValueSize: 1, MaxEntries: 1},
		{Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 32768, MaxEntries: 1},
		{Type: ebpf.Hash, KeySize: 1, ValueSize: 1, MaxEntries: 1, Flags: FlagNoPrealloc | FlagZeroSeed},
		{Type: ebpf.PerCPUHash, KeySize: 16, ValueSize: 8, MaxEntries: 100},
		{Type: ebpf.LRUHash, KeySize: 4, ValueSize: 8, MaxEntries: 100},
		{Type: ebpf.LRUCPUHash, KeySize: 4, ValueSize: 8, MaxEntries: 100, Flags: FlagNoCommonLRU},
		{Type: ebpf.LPMTrie, KeySize: 5, ValueSize: 1, MaxEntries: 1, Flags: FlagNoPrealloc},
		{Type: ebpf.LPMTrie, KeySize: 260, ValueSize: 1, MaxEntries: 1, Flags: FlagNoPrealloc},
		{Type: ebpf.ProgramArray, KeySize: 4, ValueSize: 4, MaxEntries: 8},
		{Type: ebpf.ArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 8, Inner: inner},
		{Type: ebpf.HashOfMaps, KeySize: 8, ValueSize: 4, MaxEntries: 8, Inner: inner},
		{Type: ebpf.Queue, ValueSize: 4, MaxEntries: 8},
		{Type: ebpf.Stack, ValueSize: 4, MaxEntries: 8},
		{Type: ebpf.RingBuf, MaxEntries: 4096},
		{Type: ebpf.PerfEventArray, KeySize: 4, ValueSize: 4, MaxEntries: 2},
		{Type: ebpf.DevMap, KeySize: 4, ValueSize: 8, MaxEntries: 8},
		{Type: ebpf.DevMapHash, KeySize: 4, ValueSize: 4, MaxEntries: 8},
		{Type: ebpf.CPUMap, KeySize: 4, ValueSize: 8, MaxEntries: 2},
		{Type: ebpf.XSKMap, KeySize: 4, ValueSize: 4, MaxEntries: 8},
	}
	for _, s := range specs {
		t.Run("a valid "+typeName(s.Type)+" is created", func(t *testing.T) {
			s.Name = "ok"
			m, err := New(s, 2)
			if err != nil {
				t.Fatal(err)
			}
			if m.Type() != s.Type || m.Name() != "ok" || m.NumCPU() != 2 {
				t.Errorf("got %v", m)
			}
		})
	}
	t.Run("a CPU count of 0 means one CPU", func(t *testing.T) {
		m := mustNew(t, Spec{Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 4, MaxEntries: 1}, 0)
		if m.NumCPU() != 1 {
			t.Errorf("NumCPU = %d", m.NumCPU())
		}
	})
}

func TestFromMapSpec(t *testing.T) {
	t.Run("a data section is created with its contents", func(t *testing.T) {
		ms := &ebpf.MapSpec{Name: ".data", Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1,
			Contents: []ebpf.MapKV{{Key: uint32(0), Value: []byte{1, 2, 3, 4}}}}
		m, err := FromMapSpec(ms, 1)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := m.Lookup(u32(0), 0)
		if string(v) != "\x01\x02\x03\x04" {
			t.Errorf("value %x", v)
		}
	})
	t.Run("integer contents are encoded little-endian at the key and value size", func(t *testing.T) {
		ms := &ebpf.MapSpec{Name: "h", Type: ebpf.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 4,
			Contents: []ebpf.MapKV{{Key: uint32(7), Value: uint64(0x0102)}, {Key: int32(-1), Value: int64(-2)}}}
		m, err := FromMapSpec(ms, 1)
		if err != nil {
			t.Fatal(err)
		}
		v, err := m.Lookup(u32(7), 0)
		if err != nil || string(v) != string(u64(0x0102)) {
			t.Errorf("value %x, %v", v, err)
		}
		v, err = m.Lookup(u32(0xffffffff), 0)
		if err != nil || string(v) != string(u64(0xfffffffffffffffe)) {
			t.Errorf("negative value %x, %v", v, err)
		}
	})
	t.Run("contents of the wrong size are an error naming the map", func(t *testing.T) {
		ms := &ebpf.MapSpec{Name: "h", Type: ebpf.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 4,
			Contents: []ebpf.MapKV{{Key: []byte{1}, Value: uint64(1)}}}
		_, err := FromMapSpec(ms, 1)
		if err == nil || !strings.Contains(err.Error(), `"h"`) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("a perf event array gets cilium/ebpf's sizes and one entry per CPU", func(t *testing.T) {
		s, err := SpecFromMapSpec(&ebpf.MapSpec{Name: "events", Type: ebpf.PerfEventArray}, 4)
		if err != nil {
			t.Fatal(err)
		}
		if s.KeySize != 4 || s.ValueSize != 4 || s.MaxEntries != 4 {
			t.Errorf("got %+v", s)
		}
	})
	t.Run("a map of maps gets a 4-byte value and its inner spec", func(t *testing.T) {
		s, err := SpecFromMapSpec(&ebpf.MapSpec{Name: "outer", Type: ebpf.ArrayOfMaps, KeySize: 4, MaxEntries: 2,
			InnerMap: &ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1}}, 1)
		if err != nil {
			t.Fatal(err)
		}
		if s.ValueSize != 4 || s.Inner == nil || s.Inner.Type != ebpf.Array {
			t.Errorf("got %+v", s)
		}
		if _, err := New(s, 1); err != nil {
			t.Error(err)
		}
	})
	t.Run("a bpf_spin_lock in the value's BTF is found", func(t *testing.T) {
		lock := &btf.Struct{Name: "bpf_spin_lock", Size: 4, Members: []btf.Member{{Name: "val", Type: &btf.Int{Size: 4}}}}
		val := &btf.Struct{Name: "v", Size: 8, Members: []btf.Member{
			{Name: "n", Type: &btf.Int{Size: 4}},
			{Name: "lock", Type: lock, Offset: 32},
		}}
		s, err := SpecFromMapSpec(&ebpf.MapSpec{Name: "l", Type: ebpf.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 1, Value: val}, 1)
		if err != nil {
			t.Fatal(err)
		}
		if !s.SpinLock || s.SpinLockOffset != 4 {
			t.Errorf("got %+v", s)
		}
	})
}
