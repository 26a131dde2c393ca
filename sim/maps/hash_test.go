package maps

import (
	"encoding/binary"
	"fmt"
	"sort"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/xdpsim/xdpsim/errno"
)

// The expected errors were checked against Linux 6.18.
func TestHashUpdateFlags(t *testing.T) {
	tests := []struct {
		name    string
		present bool
		key     uint32
		flags   uint64
		want    error
	}{
		{"BPF_ANY creates a missing key", false, 1, UpdateAny, nil},
		{"BPF_ANY replaces a present key", true, 1, UpdateAny, nil},
		{"BPF_NOEXIST creates a missing key", false, 1, UpdateNoExist, nil},
		{"BPF_NOEXIST on a present key fails with EEXIST", true, 1, UpdateNoExist, errno.EEXIST},
		{"BPF_EXIST replaces a present key", true, 1, UpdateExist, nil},
		{"BPF_EXIST on a missing key fails with ENOENT", false, 1, UpdateExist, errno.ENOENT},
		{"flags above BPF_EXIST fail with EINVAL", true, 1, 3, errno.EINVAL},
		{"BPF_F_LOCK without a spin lock fails with EINVAL", true, 1, UpdateLock, errno.EINVAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustNew(t, hashSpec(4), 1)
			if tt.present {
				wantErr(t, m.Update(u32(tt.key), u64(1), UpdateAny, 0), nil)
			}
			wantErr(t, m.Update(u32(tt.key), u64(2), tt.flags, 0), tt.want)
			v, err := m.Lookup(u32(tt.key), 0)
			switch {
			case tt.want == nil && string(v) != string(u64(2)):
				t.Errorf("value %x, %v", v, err)
			case tt.want != nil && tt.present && string(v) != string(u64(1)):
				t.Errorf("a failed update changed the value to %x", v)
			case tt.want != nil && !tt.present && err == nil:
				t.Errorf("a failed update created the key")
			}
		})
	}
}

func TestHashCapacityAndDelete(t *testing.T) {
	m := mustNew(t, hashSpec(2), 1)
	wantErr(t, m.Update(u32(1), u64(1), UpdateAny, 0), nil)
	wantErr(t, m.Update(u32(2), u64(2), UpdateAny, 0), nil)
	t.Run("a new key in a full map fails with E2BIG", func(t *testing.T) {
		wantErr(t, m.Update(u32(3), u64(3), UpdateAny, 0), errno.E2BIG)
	})
	t.Run("a present key can still be replaced in a full map", func(t *testing.T) {
		wantErr(t, m.Update(u32(2), u64(22), UpdateAny, 0), nil)
	})
	t.Run("a lookup of a missing key fails with ENOENT", func(t *testing.T) {
		_, err := m.Lookup(u32(3), 0)
		wantErr(t, err, errno.ENOENT)
	})
	t.Run("a delete of a missing key fails with ENOENT", func(t *testing.T) {
		wantErr(t, m.Delete(u32(3)), errno.ENOENT)
	})
	t.Run("a key of the wrong size fails with EINVAL", func(t *testing.T) {
		_, err := m.Lookup([]byte{1, 2}, 0)
		wantErr(t, err, errno.EINVAL)
	})
	t.Run("a delete makes room for a new key", func(t *testing.T) {
		wantErr(t, m.Delete(u32(1)), nil)
		wantErr(t, m.Update(u32(3), u64(3), UpdateAny, 0), nil)
		if m.Len() != 2 {
			t.Errorf("Len = %d", m.Len())
		}
	})
}

func TestHashValuesAliasStorage(t *testing.T) {
	m := mustNew(t, hashSpec(8), 1)
	wantErr(t, m.Update(u32(1), u64(1), UpdateAny, 0), nil)
	v, _ := m.Lookup(u32(1), 0)
	t.Run("a write through the looked-up slice changes the map", func(t *testing.T) {
		v[0] = 9
		w, _ := m.Lookup(u32(1), 0)
		if w[0] != 9 {
			t.Errorf("got %x", w)
		}
	})
	t.Run("the slice stays valid across updates and other keys' churn", func(t *testing.T) {
		for i := uint32(2); i < 8; i++ {
			wantErr(t, m.Update(u32(i), u64(uint64(i)), UpdateAny, 0), nil)
		}
		for i := uint32(2); i < 8; i++ {
			wantErr(t, m.Delete(u32(i)), nil)
		}
		wantErr(t, m.Update(u32(1), u64(77), UpdateAny, 0), nil)
		if string(v) != string(u64(77)) {
			t.Errorf("got %x", v)
		}
	})
}

// kernelKey builds the keys of the measurement below: i little-endian, last byte xor i*7.
func kernelKey(i uint32, size int) []byte {
	b := make([]byte, size)
	binary.LittleEndian.PutUint32(b, i)
	b[size-1] ^= byte(i * 7)
	return b
}

// The orders below are what get_next_key returned on Linux 6.18 for BPF_F_ZERO_SEED maps after
// inserting keys 0..7 and then replacing key 3.
func TestHashIterationOrderIsTheKernels(t *testing.T) {
	tests := []struct {
		name    string
		keySize uint32
		want    []string
	}{
		{"4-byte keys (jhash2) come in the kernel's bucket order", 4,
			[]string{"03000015", "0600002a", "05000023", "00000000", "0400001c", "07000031", "0200000e", "01000007"}},
		{"6-byte keys (jhash) come in the kernel's bucket order", 6,
			[]string{"02000000000e", "030000000015", "04000000001c", "06000000002a", "010000000007", "000000000000", "070000000031", "050000000023"}},
		{"16-byte keys come in the kernel's bucket order", 16,
			[]string{"0400000000000000000000000000001c", "03000000000000000000000000000015", "05000000000000000000000000000023", "0200000000000000000000000000000e",
				"01000000000000000000000000000007", "00000000000000000000000000000000", "07000000000000000000000000000031", "0600000000000000000000000000002a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustNew(t, Spec{Type: ebpf.Hash, KeySize: tt.keySize, ValueSize: 4, MaxEntries: 8, Flags: FlagZeroSeed}, 2)
			for i := uint32(0); i < 8; i++ {
				wantErr(t, m.Update(kernelKey(i, int(tt.keySize)), u32(i), UpdateAny, 0), nil)
			}
			wantErr(t, m.Update(kernelKey(3, int(tt.keySize)), u32(9), UpdateAny, 0), nil)
			var got []string
			for _, k := range keysOf(t, m) {
				got = append(got, fmt.Sprintf("%x", k))
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got  %v\nwant %v", got, tt.want)
			}
			var each []string
			n, _ := m.ForEach(0, func(k, v []byte) bool { each = append(each, fmt.Sprintf("%x", k)); return true })
			if n != 8 || fmt.Sprint(each) != fmt.Sprint(tt.want) {
				t.Errorf("for_each order %v", each)
			}
		})
	}
	t.Run("get_next_key of a missing key starts over at the first key", func(t *testing.T) {
		m := mustNew(t, hashSpec(8), 1)
		wantErr(t, m.Update(u32(1), u64(1), UpdateAny, 0), nil)
		wantErr(t, m.Update(u32(2), u64(2), UpdateAny, 0), nil)
		first, _ := m.NextKey(nil)
		k, err := m.NextKey(u32(99))
		wantErr(t, err, nil)
		if string(k) != string(first) {
			t.Errorf("got %x, want %x", k, first)
		}
	})
	t.Run("get_next_key of an empty map fails with ENOENT", func(t *testing.T) {
		m := mustNew(t, hashSpec(8), 1)
		_, err := m.NextKey(nil)
		wantErr(t, err, errno.ENOENT)
	})
}

func TestHashForEachMayDelete(t *testing.T) {
	m := mustNew(t, hashSpec(64), 1)
	for i := uint32(0); i < 50; i++ {
		wantErr(t, m.Update(u32(i), u64(uint64(i)), UpdateAny, 0), nil)
	}
	t.Run("a callback deleting every element visits each once", func(t *testing.T) {
		seen := map[uint32]int{}
		n, err := m.ForEach(0, func(k, v []byte) bool {
			seen[binary.LittleEndian.Uint32(k)]++
			wantErr(t, m.Delete(k), nil)
			return true
		})
		wantErr(t, err, nil)
		if n != 50 || len(seen) != 50 || m.Len() != 0 {
			t.Errorf("n=%d seen=%d left=%d", n, len(seen), m.Len())
		}
	})
}

func TestPerCPUHash(t *testing.T) {
	spec := Spec{Name: "pch", Type: ebpf.PerCPUHash, KeySize: 4, ValueSize: 4, MaxEntries: 4}
	t.Run("a program's new element is zero on the other CPUs", func(t *testing.T) {
		m := mustNew(t, spec, 3)
		wantErr(t, m.Update(u32(1), u32(7), UpdateAny, 1), nil)
		vals, err := m.LookupPerCPU(u32(1))
		wantErr(t, err, nil)
		if fmt.Sprintf("%x", vals) != "[00000000 07000000 00000000]" {
			t.Errorf("got %x", vals)
		}
	})
	t.Run("a program's update of a present element keeps the other CPUs' values", func(t *testing.T) {
		m := mustNew(t, spec, 2)
		wantErr(t, m.UpdatePerCPU(u32(1), [][]byte{u32(1), u32(2)}, UpdateAny), nil)
		wantErr(t, m.Update(u32(1), u32(9), UpdateAny, 0), nil)
		vals, _ := m.LookupPerCPU(u32(1))
		if fmt.Sprintf("%x", vals) != "[09000000 02000000]" {
			t.Errorf("got %x", vals)
		}
	})
	t.Run("each CPU's lookup sees its own value", func(t *testing.T) {
		m := mustNew(t, spec, 2)
		wantErr(t, m.UpdatePerCPU(u32(1), [][]byte{u32(1), u32(2)}, UpdateAny), nil)
		a, _ := m.Lookup(u32(1), 0)
		b, _ := m.Lookup(u32(1), 1)
		if string(a) != string(u32(1)) || string(b) != string(u32(2)) {
			t.Errorf("got %x %x", a, b)
		}
	})
	t.Run("BPF_F_LOCK fails with EINVAL", func(t *testing.T) {
		m := mustNew(t, spec, 2)
		wantErr(t, m.Update(u32(1), u32(9), UpdateLock, 0), errno.EINVAL)
	})
}

func TestHashSpinLockUpdateInPlace(t *testing.T) {
	m := mustNew(t, Spec{Type: ebpf.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 4, SpinLock: true, Flags: FlagZeroSeed}, 1)
	for i := uint32(0); i < 3; i++ {
		wantErr(t, m.Update(u32(i), u64(0), UpdateAny, 0), nil)
	}
	before := keysOf(t, m)
	t.Run("BPF_F_LOCK updates in place and keeps the iteration order", func(t *testing.T) {
		wantErr(t, m.Update(before[2], u64(0x0101010100000000), UpdateLock, 0), nil)
		after := keysOf(t, m)
		if fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("order %x, was %x", after, before)
		}
	})
	t.Run("BPF_F_LOCK with BPF_NOEXIST on a present key fails with EEXIST", func(t *testing.T) {
		wantErr(t, m.Update(before[0], u64(0), UpdateLock|UpdateNoExist, 0), errno.EEXIST)
	})
}

// sortedKeys lists u32 keys in numeric order.
func sortedKeys(t *testing.T, m *Map) []uint32 {
	var out []uint32
	for _, k := range keysOf(t, m) {
		out = append(out, binary.LittleEndian.Uint32(k))
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
