package maps

import (
	"testing"

	"github.com/cilium/ebpf"
	"github.com/xdpsim/xdpsim/errno"
)

func TestPerfEventOutput(t *testing.T) {
	newPerf := func(t *testing.T) *Map {
		return mustNew(t, Spec{Name: "events", Type: ebpf.PerfEventArray, KeySize: 4, ValueSize: 4, MaxEntries: 4}, 2)
	}
	tests := []struct {
		name  string
		cpu   int
		flags uint64
		setup func(m *Map)
		want  error
		index uint32
	}{
		{"BPF_F_CURRENT_CPU writes to the running CPU's entry", 1, CurrentCPU, nil, nil, 1},
		{"an explicit index of the running CPU works", 0, 0, nil, nil, 0},
		{"an index out of range fails with E2BIG", 0, 4, nil, errno.E2BIG, 0},
		{"an entry without an event fails with ENOENT", 0, 2, nil, errno.ENOENT, 0},
		{"an event bound to another CPU fails with EOPNOTSUPP", 0, 1, nil, errno.EOPNOTSUPP, 0},
		{"a deleted entry fails with ENOENT", 0, CurrentCPU, func(m *Map) { m.Delete(u32(0)) }, errno.ENOENT, 0},
		{"an entry rebound to the running CPU works", 0, 3, func(m *Map) { m.Update(u32(3), u32(0), UpdateAny, 0) }, nil, 3},
		{"the context length bits are left to the helper", 1, 16<<32 | CurrentCPU, nil, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newPerf(t)
			if tt.setup != nil {
				tt.setup(m)
			}
			wantErr(t, m.PerfEventArray().Output(tt.cpu, tt.flags, []byte("ab"), []byte("cd")), tt.want)
			recs := m.PerfEventArray().Records()
			if tt.want != nil {
				if len(recs) != 0 {
					t.Errorf("a failed output left %d records", len(recs))
				}
				return
			}
			if len(recs) != 1 || string(recs[0].Data) != "abcd" || recs[0].CPU != tt.cpu || recs[0].Index != tt.index {
				t.Errorf("records %+v", recs)
			}
		})
	}
	t.Run("records are handed out once", func(t *testing.T) {
		m := newPerf(t)
		m.PerfEventArray().Output(0, CurrentCPU, []byte{1})
		m.PerfEventArray().Records()
		if n := len(m.PerfEventArray().Records()); n != 0 {
			t.Errorf("%d records again", n)
		}
	})
	t.Run("user space lookup fails with ENOTSUPP and updates need BPF_ANY", func(t *testing.T) {
		m := newPerf(t)
		_, err := m.Lookup(u32(0), 0)
		wantErr(t, err, errno.ENOTSUPP)
		wantErr(t, m.Update(u32(0), u32(0), UpdateNoExist, 0), errno.EINVAL)
		wantErr(t, m.Update(u32(4), u32(0), UpdateAny, 0), errno.E2BIG)
		wantErr(t, m.Delete(u32(2)), errno.ENOENT)
		wantErr(t, m.Delete(u32(4)), errno.E2BIG)
	})
}
