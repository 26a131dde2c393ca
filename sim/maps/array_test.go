package maps

import (
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/xdpsim/xdpsim/errno"
)

// The expected errors were checked against Linux 6.18 (BPF_MAP_UPDATE_ELEM and friends).
func TestArrayUpdateFlags(t *testing.T) {
	tests := []struct {
		name  string
		key   uint32
		flags uint64
		want  error
	}{
		{"BPF_ANY writes an element", 1, UpdateAny, nil},
		{"BPF_EXIST writes an element, since every array element exists", 1, UpdateExist, nil},
		{"BPF_NOEXIST fails with EEXIST, since every array element exists", 1, UpdateNoExist, errno.EEXIST},
		{"an index at max_entries fails with E2BIG", 4, UpdateAny, errno.E2BIG},
		{"an index far out of range fails with E2BIG", 1 << 31, UpdateAny, errno.E2BIG},
		{"flags above BPF_EXIST fail with EINVAL", 1, 3, errno.EINVAL},
		{"BPF_F_LOCK without a spin lock fails with EINVAL", 1, UpdateLock, errno.EINVAL},
		{"unknown flags fail with EINVAL", 1, 8, errno.EINVAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustNew(t, arraySpec(4), 1)
			wantErr(t, m.Update(u32(tt.key), u64(42), tt.flags, 0), tt.want)
			if tt.want == nil {
				v, err := m.Lookup(u32(tt.key), 0)
				wantErr(t, err, nil)
				if string(v) != string(u64(42)) {
					t.Errorf("value %x", v)
				}
			}
		})
	}
}

func TestArrayLookupDeleteNextKey(t *testing.T) {
	m := mustNew(t, arraySpec(4), 1)
	t.Run("a fresh array holds zeros", func(t *testing.T) {
		v, err := m.Lookup(u32(3), 0)
		wantErr(t, err, nil)
		if string(v) != string(make([]byte, 8)) {
			t.Errorf("value %x", v)
		}
	})
	t.Run("a lookup out of range fails with ENOENT", func(t *testing.T) {
		_, err := m.Lookup(u32(4), 0)
		wantErr(t, err, errno.ENOENT)
	})
	t.Run("a key that is not 4 bytes fails with EINVAL", func(t *testing.T) {
		_, err := m.Lookup([]byte{1}, 0)
		wantErr(t, err, errno.EINVAL)
	})
	t.Run("a value of the wrong size fails with EINVAL", func(t *testing.T) {
		wantErr(t, m.Update(u32(0), []byte{1}, UpdateAny, 0), errno.EINVAL)
	})
	t.Run("delete fails with EINVAL", func(t *testing.T) {
		wantErr(t, m.Delete(u32(0)), errno.EINVAL)
	})
	t.Run("get_next_key goes in index order", func(t *testing.T) {
		keys := keysOf(t, m)
		if len(keys) != 4 {
			t.Fatalf("got %d keys", len(keys))
		}
		for i, k := range keys {
			if string(k) != string(u32(uint32(i))) {
				t.Errorf("key %d = %x", i, k)
			}
		}
	})
	t.Run("get_next_key of an index out of range restarts at 0", func(t *testing.T) {
		k, err := m.NextKey(u32(99))
		wantErr(t, err, nil)
		if string(k) != string(u32(0)) {
			t.Errorf("got %x", k)
		}
	})
	t.Run("get_next_key of the last index fails with ENOENT", func(t *testing.T) {
		_, err := m.NextKey(u32(3))
		wantErr(t, err, errno.ENOENT)
	})
}

func TestArrayValuesAliasStorage(t *testing.T) {
	m := mustNew(t, arraySpec(4), 1)
	v, _ := m.Lookup(u32(2), 0)
	t.Run("a write through the looked-up slice changes the map", func(t *testing.T) {
		v[0] = 0x55
		w, _ := m.Lookup(u32(2), 0)
		if w[0] != 0x55 {
			t.Errorf("got %x", w)
		}
	})
	t.Run("an update is visible through a slice looked up before", func(t *testing.T) {
		wantErr(t, m.Update(u32(2), u64(7), UpdateAny, 0), nil)
		if string(v) != string(u64(7)) {
			t.Errorf("got %x", v)
		}
	})
	t.Run("the slice cannot grow into the next element", func(t *testing.T) {
		if cap(v) != 8 {
			t.Errorf("cap %d", cap(v))
		}
	})
}

func TestPerCPUArray(t *testing.T) {
	spec := Spec{Name: "pcpu", Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 4, MaxEntries: 2}
	t.Run("each CPU has its own value", func(t *testing.T) {
		m := mustNew(t, spec, 3)
		for cpu := range 3 {
			wantErr(t, m.Update(u32(1), u32(uint32(10+cpu)), UpdateAny, cpu), nil)
		}
		for cpu := range 3 {
			v, err := m.Lookup(u32(1), cpu)
			wantErr(t, err, nil)
			if string(v) != string(u32(uint32(10+cpu))) {
				t.Errorf("cpu %d: %x", cpu, v)
			}
		}
		vals, err := m.LookupPerCPU(u32(1))
		wantErr(t, err, nil)
		if len(vals) != 3 || string(vals[2]) != string(u32(12)) {
			t.Errorf("LookupPerCPU = %x", vals)
		}
	})
	t.Run("a program's update writes only its own CPU's value", func(t *testing.T) {
		m := mustNew(t, spec, 2)
		wantErr(t, m.Update(u32(0), u32(5), UpdateAny, 1), nil)
		v, _ := m.Lookup(u32(0), 0)
		if string(v) != string(u32(0)) {
			t.Errorf("cpu 0 got %x", v)
		}
	})
	t.Run("a user space update writes every CPU's value", func(t *testing.T) {
		m := mustNew(t, spec, 2)
		wantErr(t, m.UpdatePerCPU(u32(0), [][]byte{u32(1), u32(2)}, UpdateAny), nil)
		a, _ := m.Lookup(u32(0), 0)
		b, _ := m.Lookup(u32(0), 1)
		if string(a) != string(u32(1)) || string(b) != string(u32(2)) {
			t.Errorf("got %x %x", a, b)
		}
	})
	t.Run("a user space update needs one value per CPU", func(t *testing.T) {
		m := mustNew(t, spec, 2)
		wantErr(t, m.UpdatePerCPU(u32(0), [][]byte{u32(1)}, UpdateAny), errno.EINVAL)
	})
	t.Run("a user space update with BPF_NOEXIST fails with EEXIST", func(t *testing.T) {
		m := mustNew(t, spec, 2)
		wantErr(t, m.UpdatePerCPU(u32(0), [][]byte{u32(1), u32(2)}, UpdateNoExist), errno.EEXIST)
	})
	t.Run("a CPU out of range fails with EINVAL", func(t *testing.T) {
		m := mustNew(t, spec, 2)
		_, err := m.Lookup(u32(0), 2)
		wantErr(t, err, errno.EINVAL)
		_, err = m.Lookup(u32(0), -1)
		wantErr(t, err, errno.EINVAL)
	})
}

func TestArraySpinLock(t *testing.T) {
	spec := Spec{Name: "locked", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1, SpinLock: true, SpinLockOffset: 4}
	m := mustNew(t, spec, 1)
	v, _ := m.Lookup(u32(0), 0)
	t.Run("BPF_F_LOCK is accepted when the value has a spin lock", func(t *testing.T) {
		wantErr(t, m.Update(u32(0), []byte{8, 8, 8, 8, 7, 7, 7, 7}, UpdateLock, 0), nil)
		if string(v) != "\x08\x08\x08\x08\x00\x00\x00\x00" {
			t.Errorf("got %x, want the value written and the lock free again", v)
		}
	})
	t.Run("a BPF_F_LOCK update waits for the holder of the spin lock", func(t *testing.T) {
		SpinLock(v[4:8])
		done := make(chan error)
		go func() { done <- m.Update(u32(0), []byte{5, 5, 5, 5, 7, 7, 7, 7}, UpdateLock, 0) }()
		select {
		case err := <-done:
			t.Fatalf("the update went through while the lock was held (error %v)", err)
		case <-time.After(50 * time.Millisecond):
		}
		SpinUnlock(v[4:8])
		wantErr(t, <-done, nil)
		if string(v[:4]) != "\x05\x05\x05\x05" {
			t.Errorf("got %x after the lock was released", v)
		}
	})
	copy(v[4:], []byte{1, 0, 0, 0}) // the lock is held
	t.Run("an update leaves the spin lock bytes alone", func(t *testing.T) {
		wantErr(t, m.Update(u32(0), []byte{9, 9, 9, 9, 7, 7, 7, 7}, 0, 0), nil)
		if string(v) != "\x09\x09\x09\x09\x01\x00\x00\x00" {
			t.Errorf("got %x", v)
		}
	})
	t.Run("user space reads the spin lock as zero", func(t *testing.T) {
		vals, _ := m.LookupPerCPU(u32(0))
		if string(vals[0]) != "\x09\x09\x09\x09\x00\x00\x00\x00" {
			t.Errorf("got %x", vals[0])
		}
	})
}

func TestArrayForEach(t *testing.T) {
	m := mustNew(t, arraySpec(5), 1)
	t.Run("for_each visits every index in order and counts the calls", func(t *testing.T) {
		var seen []uint32
		n, err := m.ForEach(0, func(key, value []byte) bool {
			seen = append(seen, uint32(key[0]))
			value[0] = key[0] + 1
			return true
		})
		wantErr(t, err, nil)
		if n != 5 || len(seen) != 5 || seen[4] != 4 {
			t.Errorf("n=%d seen=%v", n, seen)
		}
		v, _ := m.Lookup(u32(3), 0)
		if v[0] != 4 {
			t.Errorf("the callback's write is lost: %x", v)
		}
	})
	t.Run("for_each stops when the callback says so, counting that call", func(t *testing.T) {
		n, _ := m.ForEach(0, func(key, value []byte) bool { return key[0] < 2 })
		if n != 3 {
			t.Errorf("n=%d", n)
		}
	})
	t.Run("for_each is refused on a queue", func(t *testing.T) {
		q := mustNew(t, Spec{Type: ebpf.Queue, ValueSize: 4, MaxEntries: 1}, 1)
		_, err := q.ForEach(0, func(k, v []byte) bool { return true })
		wantErr(t, err, errno.EINVAL)
	})
}
