package maps

import (
	"encoding/binary"
	"unsafe"

	"github.com/xdpsim/xdpsim/errno"
)

// Ring buffer flags and bpf_ringbuf_query selectors, as the kernel numbers them.
const (
	// RBNoWakeup (BPF_RB_NO_WAKEUP) suppresses the consumer notification of a commit.
	RBNoWakeup uint64 = 1
	// RBForceWakeup (BPF_RB_FORCE_WAKEUP) forces a consumer notification.
	RBForceWakeup uint64 = 2

	// RBAvailData (BPF_RB_AVAIL_DATA) queries the bytes not yet consumed.
	RBAvailData uint64 = 0
	// RBRingSize (BPF_RB_RING_SIZE) queries the size of the data area.
	RBRingSize uint64 = 1
	// RBConsPos (BPF_RB_CONS_POS) queries the consumer position.
	RBConsPos uint64 = 2
	// RBProdPos (BPF_RB_PROD_POS) queries the producer position.
	RBProdPos uint64 = 3

	// RingBufHeaderSize is BPF_RINGBUF_HDR_SZ: each record starts with a u32 length (with the
	// busy and discard bits) and a u32 page offset, and is padded to 8 bytes.
	RingBufHeaderSize = 8
	// RingBufBusyBit marks a reserved record not yet committed.
	RingBufBusyBit = 1 << 31
	// RingBufDiscardBit marks a discarded record, which consumers skip.
	RingBufDiscardBit = 1 << 30

	ringbufMaxRecord = 0xffffffff / 4 // RINGBUF_MAX_RECORD_SZ
	ringbufDataPage  = 3              // data starts 3 pages into struct bpf_ringbuf
)

// RingBuf is a BPF_MAP_TYPE_RINGBUF map's ring: the producer side of kernel/bpf/ringbuf.c
// (reserve, submit, discard, output, query) and a user-space consumer like libbpf's. Positions
// are 64-bit byte counters that only grow; the data area is max_entries bytes.
//
// A reserved record's sample must be one contiguous slice even when it wraps past the end of the
// data area (the kernel maps the data pages twice in a row for this). The simulator keeps a
// second copy of the area behind the first: a sample that wraps is written there, and committing
// it copies the wrapped part to the start of the area.
type RingBuf struct {
	mask    uint64
	data    []byte
	cons    uint64
	prod    uint64
	pending uint64
	// Wakeups counts the consumer notifications the kernel would have sent.
	Wakeups uint64
	ringLock
}

func newRingBuf(size uint32) *RingBuf {
	return &RingBuf{mask: uint64(size) - 1, data: make([]byte, 2*uint64(size))}
}

func (r *RingBuf) size() uint64 { return r.mask + 1 }

func recordLen(size uint32) uint64 { return (uint64(size) + RingBufHeaderSize + 7) &^ 7 }

// Reserve is bpf_ringbuf_reserve: it reserves size bytes and returns the sample, which the
// program fills and then submits or discards. Flags must be 0 (EINVAL); a record that does not
// fit the free space fails with EAGAIN (the helper returns NULL in both cases).
func (r *RingBuf) Reserve(size uint64, flags uint64) ([]byte, error) {
	r.lock()
	defer r.unlock()
	return r.reserve(size, flags)
}

func (r *RingBuf) reserve(size uint64, flags uint64) ([]byte, error) {
	if flags != 0 {
		return nil, errno.EINVAL
	}
	if size > ringbufMaxRecord {
		return nil, errno.E2BIG
	}
	n := recordLen(uint32(size))
	if n > r.size() {
		return nil, errno.E2BIG
	}
	// Skip committed records in front of the oldest uncommitted one.
	for r.pending < r.prod {
		l := binary.LittleEndian.Uint32(r.data[r.pending&r.mask:])
		if l&RingBufBusyBit != 0 {
			break
		}
		r.pending += recordLen(l &^ RingBufDiscardBit)
	}
	next := r.prod + n
	if next-r.cons > r.mask || next-r.pending > r.mask {
		return nil, errno.EAGAIN
	}
	off := r.prod & r.mask
	binary.LittleEndian.PutUint32(r.data[off:], uint32(size)|RingBufBusyBit)
	binary.LittleEndian.PutUint32(r.data[off+4:], uint32(ringbufDataPage+off/pageSize))
	r.prod = next
	start := off + RingBufHeaderSize
	// A zero-size sample keeps a capacity of 1 so that its address still names the record.
	return r.data[start : start+size : start+max(size, 1)], nil
}

// recordOf finds the header offset of a reserved sample.
func (r *RingBuf) recordOf(sample []byte) (uint64, error) {
	if cap(sample) == 0 {
		return 0, errno.EINVAL
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(r.data)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(sample)))
	if p < base+RingBufHeaderSize || p >= base+uintptr(r.size()) {
		return 0, errno.EINVAL
	}
	off := uint64(p-base) - RingBufHeaderSize
	if off%8 != 0 || binary.LittleEndian.Uint32(r.data[off:])&RingBufBusyBit == 0 {
		return 0, errno.EINVAL
	}
	return off, nil
}

// commit is bpf_ringbuf_commit.
func (r *RingBuf) commit(off uint64, flags uint64, discard bool) {
	l := binary.LittleEndian.Uint32(r.data[off:]) &^ RingBufBusyBit
	if end := off + RingBufHeaderSize + uint64(l); end > r.size() {
		copy(r.data[:end-r.size()], r.data[r.size():end])
	}
	if discard {
		l |= RingBufDiscardBit
	}
	binary.LittleEndian.PutUint32(r.data[off:], l)
	if flags&RBForceWakeup != 0 || (r.cons&r.mask == off && flags&RBNoWakeup == 0) {
		r.Wakeups++
	}
}

// Submit is bpf_ringbuf_submit: the reserved sample becomes visible to the consumer. It fails
// with EINVAL only if sample is not a reserved, uncommitted record of this ring (which the
// verifier rules out for programs).
func (r *RingBuf) Submit(sample []byte, flags uint64) error {
	r.lock()
	defer r.unlock()
	off, err := r.recordOf(sample)
	if err != nil {
		return err
	}
	r.commit(off, flags, false)
	return nil
}

// Discard is bpf_ringbuf_discard: the reserved sample is released and consumers skip it.
func (r *RingBuf) Discard(sample []byte, flags uint64) error {
	r.lock()
	defer r.unlock()
	off, err := r.recordOf(sample)
	if err != nil {
		return err
	}
	r.commit(off, flags, true)
	return nil
}

// Output is bpf_ringbuf_output: reserve, copy data and submit in one step. Flags other than
// RBNoWakeup and RBForceWakeup give EINVAL; no room gives EAGAIN.
func (r *RingBuf) Output(data []byte, flags uint64) error {
	if flags&^(RBNoWakeup|RBForceWakeup) != 0 {
		return errno.EINVAL
	}
	r.lock()
	defer r.unlock()
	s, err := r.reserve(uint64(len(data)), 0)
	if err != nil {
		return errno.EAGAIN
	}
	copy(s, data)
	off, _ := r.recordOf(s)
	r.commit(off, flags, false)
	return nil
}

// Query is bpf_ringbuf_query; unknown selectors return 0.
func (r *RingBuf) Query(flags uint64) uint64 {
	r.lock()
	defer r.unlock()
	switch flags {
	case RBAvailData:
		return r.prod - r.cons
	case RBRingSize:
		return r.size()
	case RBConsPos:
		return r.cons
	case RBProdPos:
		return r.prod
	}
	return 0
}

// Consume reads committed records in order as a user-space consumer does, calling fn with each
// submitted sample (discarded ones are skipped) and advancing the consumer position. It stops at
// the first record still reserved. The sample aliases the ring and is valid only during fn.
// Consume returns the number of samples passed to fn.
func (r *RingBuf) Consume(fn func(sample []byte)) int {
	r.lock()
	defer r.unlock()
	n := 0
	for r.cons < r.prod {
		off := r.cons & r.mask
		l := binary.LittleEndian.Uint32(r.data[off:])
		if l&RingBufBusyBit != 0 {
			break
		}
		size := uint64(l &^ RingBufDiscardBit)
		r.cons += recordLen(uint32(size))
		if l&RingBufDiscardBit == 0 {
			start := off + RingBufHeaderSize
			fn(r.data[start : start+size : start+size])
			n++
		}
	}
	return n
}

// ConsumerPos is the consumer position (bytes consumed since creation).
func (r *RingBuf) ConsumerPos() uint64 { return r.cons }

// ProducerPos is the producer position (bytes reserved since creation, headers and padding
// included).
func (r *RingBuf) ProducerPos() uint64 { return r.prod }
