package maps

import (
	"testing"

	"github.com/cilium/ebpf"
	"github.com/xdpsim/xdpsim/errno"
)

// The expected errors were checked against Linux 6.18.
func TestDevMap(t *testing.T) {
	newDev := func(t *testing.T, vs uint32) *Map {
		return mustNew(t, Spec{Name: "tx_ports", Type: ebpf.DevMap, KeySize: 4, ValueSize: vs, MaxEntries: 4}, 1)
	}
	t.Run("an entry stores its bpf_devmap_val", func(t *testing.T) {
		m := newDev(t, 8)
		wantErr(t, m.Update(u32(1), append(u32(3), u32(0)...), UpdateAny, 0), nil)
		v, err := m.Lookup(u32(1), 0)
		wantErr(t, err, nil)
		if string(v) != string(append(u32(3), u32(0)...)) {
			t.Errorf("got %x", v)
		}
	})
	t.Run("an empty slot fails the lookup with ENOENT", func(t *testing.T) {
		_, err := newDev(t, 4).Lookup(u32(2), 0)
		wantErr(t, err, errno.ENOENT)
	})
	t.Run("BPF_NOEXIST fails with EEXIST even on an empty slot", func(t *testing.T) {
		wantErr(t, newDev(t, 4).Update(u32(1), u32(3), UpdateNoExist, 0), errno.EEXIST)
	})
	t.Run("an index at max_entries fails with E2BIG", func(t *testing.T) {
		wantErr(t, newDev(t, 4).Update(u32(4), u32(3), UpdateAny, 0), errno.E2BIG)
	})
	t.Run("flags above BPF_EXIST fail with EINVAL", func(t *testing.T) {
		wantErr(t, newDev(t, 4).Update(u32(1), u32(3), 3, 0), errno.EINVAL)
	})
	t.Run("ifindex 0 empties the slot", func(t *testing.T) {
		m := newDev(t, 4)
		wantErr(t, m.Update(u32(1), u32(3), UpdateAny, 0), nil)
		wantErr(t, m.Update(u32(1), u32(0), UpdateAny, 0), nil)
		_, err := m.Lookup(u32(1), 0)
		wantErr(t, err, errno.ENOENT)
	})
	t.Run("ifindex 0 with a program fd fails with EINVAL", func(t *testing.T) {
		wantErr(t, newDev(t, 8).Update(u32(1), append(u32(0), u32(5)...), UpdateAny, 0), errno.EINVAL)
	})
	t.Run("a delete of an empty slot succeeds, out of range fails with EINVAL", func(t *testing.T) {
		m := newDev(t, 4)
		wantErr(t, m.Delete(u32(2)), nil)
		wantErr(t, m.Delete(u32(4)), errno.EINVAL)
	})
	t.Run("get_next_key goes through every index, present or not", func(t *testing.T) {
		if n := len(keysOf(t, newDev(t, 4))); n != 4 {
			t.Errorf("%d keys", n)
		}
	})
}

func TestDevMapHash(t *testing.T) {
	newDevHash := func(t *testing.T) *Map {
		return mustNew(t, Spec{Name: "ports", Type: ebpf.DevMapHash, KeySize: 4, ValueSize: 4, MaxEntries: 2}, 1)
	}
	t.Run("ifindex 0 fails with EINVAL", func(t *testing.T) {
		wantErr(t, newDevHash(t).Update(u32(1), u32(0), UpdateAny, 0), errno.EINVAL)
	})
	t.Run("BPF_EXIST on a missing key still adds it", func(t *testing.T) {
		wantErr(t, newDevHash(t).Update(u32(1), u32(3), UpdateExist, 0), nil)
	})
	t.Run("BPF_NOEXIST on a present key fails with EEXIST", func(t *testing.T) {
		m := newDevHash(t)
		wantErr(t, m.Update(u32(1), u32(3), UpdateAny, 0), nil)
		wantErr(t, m.Update(u32(1), u32(3), UpdateNoExist, 0), errno.EEXIST)
	})
	t.Run("a new key in a full map fails with E2BIG", func(t *testing.T) {
		m := newDevHash(t)
		wantErr(t, m.Update(u32(1), u32(3), UpdateAny, 0), nil)
		wantErr(t, m.Update(u32(2), u32(3), UpdateAny, 0), nil)
		wantErr(t, m.Update(u32(9), u32(3), UpdateAny, 0), errno.E2BIG)
	})
	t.Run("a delete of a missing key fails with ENOENT", func(t *testing.T) {
		wantErr(t, newDevHash(t).Delete(u32(1)), errno.ENOENT)
	})
	t.Run("keys iterate by bucket, the key modulo the bucket count", func(t *testing.T) {
		m := mustNew(t, Spec{Type: ebpf.DevMapHash, KeySize: 4, ValueSize: 4, MaxEntries: 4}, 1)
		for _, k := range []uint32{7, 4, 5} {
			wantErr(t, m.Update(u32(k), u32(1), UpdateAny, 0), nil)
		}
		got := keysOf(t, m)
		if len(got) != 3 || got[0][0] != 4 || got[1][0] != 5 || got[2][0] != 7 {
			t.Errorf("got %x", got)
		}
	})
}

// The expected errors were checked against Linux 6.18.
func TestCPUMap(t *testing.T) {
	newCPU := func(t *testing.T) *Map {
		return mustNew(t, Spec{Name: "cpus", Type: ebpf.CPUMap, KeySize: 4, ValueSize: 4, MaxEntries: 4}, 2)
	}
	tests := []struct {
		name  string
		key   uint32
		qsize uint32
		flags uint64
		want  error
	}{
		{"a queue size stores the entry", 1, 192, UpdateAny, nil},
		{"a queue size above 16384 fails with EOVERFLOW", 1, 16385, UpdateAny, errno.EOVERFLOW},
		{"BPF_NOEXIST fails with EEXIST", 1, 192, UpdateNoExist, errno.EEXIST},
		{"an index at max_entries fails with E2BIG", 4, 192, UpdateAny, errno.E2BIG},
		{"a CPU that is not simulated fails with ENODEV", 3, 192, UpdateAny, errno.ENODEV},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, newCPU(t).Update(u32(tt.key), u32(tt.qsize), tt.flags, 0), tt.want)
		})
	}
	t.Run("a queue size of 0 empties the entry", func(t *testing.T) {
		m := newCPU(t)
		wantErr(t, m.Update(u32(1), u32(64), UpdateAny, 0), nil)
		wantErr(t, m.Update(u32(1), u32(0), UpdateAny, 0), nil)
		_, err := m.Lookup(u32(1), 0)
		wantErr(t, err, errno.ENOENT)
	})
}

func TestXSKMap(t *testing.T) {
	type socket struct{ id uint32 }
	newXSK := func(t *testing.T) *Map {
		return mustNew(t, Spec{Name: "xsks", Type: ebpf.XSKMap, KeySize: 4, ValueSize: 4, MaxEntries: 4}, 1)
	}
	t.Run("BPF_EXIST on an empty slot fails with ENOENT", func(t *testing.T) {
		wantErr(t, newXSK(t).UpdateObject(u32(0), &socket{1}, UpdateExist), errno.ENOENT)
	})
	t.Run("BPF_NOEXIST on a used slot fails with EEXIST", func(t *testing.T) {
		m := newXSK(t)
		wantErr(t, m.UpdateObject(u32(0), &socket{1}, UpdateAny), nil)
		wantErr(t, m.UpdateObject(u32(0), &socket{2}, UpdateNoExist), errno.EEXIST)
	})
	t.Run("the socket is found again by key", func(t *testing.T) {
		m := newXSK(t)
		s := &socket{1}
		wantErr(t, m.UpdateObject(u32(2), s, UpdateAny), nil)
		got, err := m.LookupObject(u32(2))
		wantErr(t, err, nil)
		if got != s {
			t.Errorf("got %v", got)
		}
		_, err = m.LookupObject(u32(1))
		wantErr(t, err, errno.ENOENT)
	})
	t.Run("a delete of an empty slot succeeds", func(t *testing.T) {
		wantErr(t, newXSK(t).Delete(u32(1)), nil)
	})
}
