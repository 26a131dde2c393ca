package maps

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/xdpsim/xdpsim/errno"
)

func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

func u64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

func mustNew(t testing.TB, s Spec, ncpu int) *Map {
	t.Helper()
	if s.Name == "" {
		s.Name = "test"
	}
	m, err := New(s, ncpu)
	if err != nil {
		t.Fatalf("New(%+v): %v", s, err)
	}
	return m
}

func wantErr(t *testing.T, got error, want error) {
	t.Helper()
	if want == nil {
		if got != nil {
			t.Fatalf("got error %v, want success", got)
		}
		return
	}
	if !errors.Is(got, want) {
		t.Fatalf("got error %v, want %v", got, want)
	}
}

func arraySpec(n uint32) Spec {
	return Spec{Name: "arr", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: n}
}

func hashSpec(n uint32) Spec {
	return Spec{Name: "hash", Type: ebpf.Hash, KeySize: 4, ValueSize: 8, MaxEntries: n}
}

// keysOf lists a map's keys through NextKey, as user space walks a map.
func keysOf(t *testing.T, m *Map) [][]byte {
	t.Helper()
	var out [][]byte
	var key []byte
	for i := 0; ; i++ {
		next, err := m.NextKey(key)
		if errors.Is(err, errno.ENOENT) {
			return out
		}
		if err != nil {
			t.Fatalf("NextKey: %v", err)
		}
		if i > 1<<16 {
			t.Fatal("NextKey does not end")
		}
		out = append(out, next)
		key = next
	}
}
