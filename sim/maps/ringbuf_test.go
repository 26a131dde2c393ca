package maps

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/xdpsim/xdpsim/errno"
)

func newRing(t *testing.T, size uint32) *RingBuf {
	m := mustNew(t, Spec{Name: "rb", Type: ebpf.RingBuf, MaxEntries: size}, 1)
	return m.RingBuf()
}

func TestRingBufPositions(t *testing.T) {
	r := newRing(t, 4096)
	s, err := r.Reserve(10, 0)
	wantErr(t, err, nil)
	copy(s, "0123456789")
	t.Run("a reservation advances the producer by header plus size rounded to 8", func(t *testing.T) {
		if r.Query(RBProdPos) != 24 || r.Query(RBConsPos) != 0 || r.Query(RBAvailData) != 24 {
			t.Errorf("prod %d cons %d avail %d", r.Query(RBProdPos), r.Query(RBConsPos), r.Query(RBAvailData))
		}
		if r.Query(RBRingSize) != 4096 || r.Query(99) != 0 {
			t.Errorf("ring size %d, unknown query %d", r.Query(RBRingSize), r.Query(99))
		}
	})
	t.Run("the record header holds the length with the busy bit until commit", func(t *testing.T) {
		if h := binary.LittleEndian.Uint32(r.data[0:]); h != 10|RingBufBusyBit {
			t.Errorf("header %#x", h)
		}
		if n := r.Consume(func([]byte) {}); n != 0 {
			t.Errorf("a busy record was consumed")
		}
	})
	t.Run("a submitted record reaches the consumer, which advances its position", func(t *testing.T) {
		wantErr(t, r.Submit(s, 0), nil)
		if h := binary.LittleEndian.Uint32(r.data[0:]); h != 10 {
			t.Errorf("header %#x", h)
		}
		var got []string
		r.Consume(func(b []byte) { got = append(got, string(b)) })
		if len(got) != 1 || got[0] != "0123456789" {
			t.Errorf("got %q", got)
		}
		if r.ConsumerPos() != 24 || r.Query(RBAvailData) != 0 {
			t.Errorf("cons %d", r.ConsumerPos())
		}
	})
	t.Run("the commit of the record at the consumer position wakes the consumer", func(t *testing.T) {
		if r.Wakeups != 1 {
			t.Errorf("wakeups %d", r.Wakeups)
		}
	})
}

func TestRingBufSpace(t *testing.T) {
	tests := []struct {
		name string
		size uint64
		want error
	}{
		{"a record filling the ring but 8 bytes fits", 4080, nil},
		{"a record that would fill the ring exactly does not fit", 4081, errno.EAGAIN},
		{"a record larger than the ring fails at once", 4089, errno.E2BIG},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRing(t, 4096)
			_, err := r.Reserve(tt.size, 0)
			wantErr(t, err, tt.want)
		})
	}
	t.Run("an unconsumed ring refuses new records until the consumer catches up", func(t *testing.T) {
		r := newRing(t, 4096)
		wantErr(t, r.Output(make([]byte, 3000), 0), nil)
		wantErr(t, r.Output(make([]byte, 2000), 0), errno.EAGAIN)
		r.Consume(func([]byte) {})
		wantErr(t, r.Output(make([]byte, 2000), 0), nil)
	})
	t.Run("reserve flags must be zero", func(t *testing.T) {
		_, err := newRing(t, 4096).Reserve(8, 1)
		wantErr(t, err, errno.EINVAL)
	})
	t.Run("output flags other than the wakeup flags fail with EINVAL", func(t *testing.T) {
		wantErr(t, newRing(t, 4096).Output([]byte{1}, 4), errno.EINVAL)
	})
	t.Run("a slice the ring did not reserve cannot be submitted", func(t *testing.T) {
		r := newRing(t, 4096)
		wantErr(t, r.Submit(make([]byte, 8), 0), errno.EINVAL)
		s, _ := r.Reserve(8, 0)
		wantErr(t, r.Submit(s, 0), nil)
		wantErr(t, r.Submit(s, 0), errno.EINVAL)
	})
}

func TestRingBufOrderAndDiscard(t *testing.T) {
	r := newRing(t, 4096)
	a, _ := r.Reserve(4, 0)
	b, _ := r.Reserve(4, 0)
	copy(a, "aaaa")
	copy(b, "bbbb")
	wantErr(t, r.Submit(b, 0), nil)
	t.Run("a later record waits behind an earlier uncommitted one", func(t *testing.T) {
		if n := r.Consume(func([]byte) {}); n != 0 {
			t.Errorf("consumed %d", n)
		}
	})
	t.Run("a discarded record is skipped by the consumer", func(t *testing.T) {
		wantErr(t, r.Discard(a, 0), nil)
		var got []string
		r.Consume(func(s []byte) { got = append(got, string(s)) })
		if len(got) != 1 || got[0] != "bbbb" || r.ConsumerPos() != 32 {
			t.Errorf("got %q, cons %d", got, r.ConsumerPos())
		}
	})
	t.Run("a zero-size record can be reserved and submitted", func(t *testing.T) {
		s, err := r.Reserve(0, 0)
		wantErr(t, err, nil)
		wantErr(t, r.Submit(s, 0), nil)
		if n := r.Consume(func(s []byte) {}); n != 1 {
			t.Errorf("consumed %d", n)
		}
	})
}

func TestRingBufWrapAround(t *testing.T) {
	r := newRing(t, 4096)
	for range 2 {
		wantErr(t, r.Output(make([]byte, 2000), 0), nil)
		r.Consume(func([]byte) {})
	}
	if r.ProducerPos() != 4016 {
		t.Fatalf("prod %d", r.ProducerPos())
	}
	want := bytes.Repeat([]byte("xyz"), 34)[:100]
	s, err := r.Reserve(100, 0)
	wantErr(t, err, nil)
	t.Run("a record crossing the end is one contiguous sample", func(t *testing.T) {
		if len(s) != 100 {
			t.Fatalf("len %d", len(s))
		}
		copy(s, want)
		wantErr(t, r.Submit(s, 0), nil)
		var got []byte
		r.Consume(func(b []byte) { got = append([]byte(nil), b...) })
		if !bytes.Equal(got, want) {
			t.Errorf("got %q", got)
		}
	})
	t.Run("its wrapped part lands at the start of the data area", func(t *testing.T) {
		// Header at 4016, data 4024..4124: 28 bytes wrap to 0..28.
		if !bytes.Equal(r.data[:28], want[72:]) {
			t.Errorf("start of ring %q", r.data[:28])
		}
		if r.ProducerPos() != 4016+112 || r.ConsumerPos() != r.ProducerPos() {
			t.Errorf("prod %d cons %d", r.ProducerPos(), r.ConsumerPos())
		}
	})
}

func TestRingBufWakeups(t *testing.T) {
	tests := []struct {
		name  string
		first bool // commit the record at the consumer position
		flags uint64
		want  uint64
	}{
		{"a commit at the consumer position wakes up", true, 0, 1},
		{"BPF_RB_NO_WAKEUP suppresses the wakeup", true, RBNoWakeup, 0},
		{"a commit behind other records does not wake up", false, 0, 0},
		{"BPF_RB_FORCE_WAKEUP always wakes up", false, RBForceWakeup, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRing(t, 4096)
			if !tt.first {
				wantErr(t, r.Output([]byte{1}, RBNoWakeup), nil)
			}
			wantErr(t, r.Output([]byte{2}, tt.flags), nil)
			if r.Wakeups != tt.want {
				t.Errorf("wakeups %d, want %d", r.Wakeups, tt.want)
			}
		})
	}
}

func TestRingBufIsNotAKeyValueMap(t *testing.T) {
	m := mustNew(t, Spec{Type: ebpf.RingBuf, MaxEntries: 4096}, 1)
	_, err := m.Lookup(nil, 0)
	wantErr(t, err, errno.ENOTSUPP)
	wantErr(t, m.Update(nil, nil, 0, 0), errno.ENOTSUPP)
	wantErr(t, m.Delete(nil), errno.ENOTSUPP)
	_, err = m.NextKey(nil)
	wantErr(t, err, errno.ENOTSUPP)
}
