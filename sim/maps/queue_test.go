package maps

import (
	"testing"

	"github.com/cilium/ebpf"
	"github.com/xdpsim/xdpsim/errno"
)

func TestQueueAndStack(t *testing.T) {
	tests := []struct {
		name  string
		typ   ebpf.MapType
		push  []uint32
		flags uint64
		want  []uint32
		err   error
	}{
		{"a queue pops in push order", ebpf.Queue, []uint32{1, 2, 3}, UpdateAny, []uint32{1, 2, 3}, nil},
		{"a stack pops in reverse push order", ebpf.Stack, []uint32{1, 2, 3}, UpdateAny, []uint32{3, 2, 1}, nil},
		{"a push onto a full queue fails with E2BIG", ebpf.Queue, []uint32{1, 2, 3, 4}, UpdateAny, []uint32{1, 2, 3}, errno.E2BIG},
		{"BPF_EXIST on a full queue drops the oldest element", ebpf.Queue, []uint32{1, 2, 3, 4}, UpdateExist, []uint32{2, 3, 4}, nil},
		{"BPF_EXIST on a full stack drops the oldest element", ebpf.Stack, []uint32{1, 2, 3, 4}, UpdateExist, []uint32{4, 3, 2}, nil},
		{"flags above BPF_EXIST fail with EINVAL", ebpf.Queue, []uint32{1}, 3, nil, errno.EINVAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustNew(t, Spec{Type: tt.typ, ValueSize: 4, MaxEntries: 3}, 1)
			var err error
			for _, v := range tt.push {
				if e := m.Push(u32(v), tt.flags); e != nil {
					err = e
				}
			}
			wantErr(t, err, tt.err)
			dst := make([]byte, 4)
			for _, w := range tt.want {
				wantErr(t, m.Peek(dst), nil)
				if string(dst) != string(u32(w)) {
					t.Fatalf("peek %x, want %d", dst, w)
				}
				wantErr(t, m.Pop(dst), nil)
				if string(dst) != string(u32(w)) {
					t.Fatalf("pop %x, want %d", dst, w)
				}
			}
			copy(dst, u32(99))
			wantErr(t, m.Pop(dst), errno.ENOENT)
			if string(dst) != string(u32(0)) {
				t.Errorf("a pop of an empty map left %x in the buffer, want zeros", dst)
			}
		})
	}
	t.Run("the syscall forms push, peek and pop", func(t *testing.T) {
		m := mustNew(t, Spec{Type: ebpf.Queue, ValueSize: 4, MaxEntries: 3}, 1)
		wantErr(t, m.Update(nil, u32(5), UpdateAny, 0), nil)
		v, err := m.LookupPerCPU(nil)
		wantErr(t, err, nil)
		if string(v[0]) != string(u32(5)) {
			t.Errorf("peek %x", v)
		}
		v, err = m.LookupAndDelete(nil)
		wantErr(t, err, nil)
		if string(v[0]) != string(u32(5)) || m.Len() != 0 {
			t.Errorf("pop %x, left %d", v, m.Len())
		}
	})
	t.Run("delete and get_next_key fail with EINVAL", func(t *testing.T) {
		m := mustNew(t, Spec{Type: ebpf.Stack, ValueSize: 4, MaxEntries: 3}, 1)
		wantErr(t, m.Delete(nil), errno.EINVAL)
		_, err := m.NextKey(nil)
		wantErr(t, err, errno.EINVAL)
	})
	t.Run("the ring wraps around many times", func(t *testing.T) {
		m := mustNew(t, Spec{Type: ebpf.Queue, ValueSize: 4, MaxEntries: 3}, 1)
		dst := make([]byte, 4)
		for i := uint32(0); i < 20; i++ {
			wantErr(t, m.Push(u32(i), UpdateAny), nil)
			wantErr(t, m.Push(u32(i+100), UpdateAny), nil)
			wantErr(t, m.Pop(dst), nil)
			wantErr(t, m.Pop(dst), nil)
			if string(dst) != string(u32(i+100)) {
				t.Fatalf("round %d: %x", i, dst)
			}
		}
	})
}
