package maps

import (
	"encoding/binary"

	"github.com/xdpsim/xdpsim/errno"
)

// Perf event output flags, as the kernel numbers them.
const (
	// CurrentCPU (BPF_F_CURRENT_CPU) as the index of a perf event output selects the entry of
	// the CPU the program runs on.
	CurrentCPU uint64 = 0xffffffff
	// IndexMask (BPF_F_INDEX_MASK) is the part of the flags that selects the entry.
	IndexMask uint64 = 0xffffffff
	// CtxLenMask (BPF_F_CTXLEN_MASK) is the part of bpf_xdp_event_output's flags that gives how
	// many packet bytes to append; the helper layer reads it, not the map.
	CtxLenMask uint64 = 0xfffff << 32
)

// PerfRecord is one sample written to a perf event array.
type PerfRecord struct {
	// Index is the map entry (event) the sample went to.
	Index uint32
	// CPU is the CPU that wrote it.
	CPU int
	// Data is the raw sample: the program's data followed by any context bytes.
	Data []byte
}

// PerfEventArray is the output side of a BPF_MAP_TYPE_PERF_EVENT_ARRAY map. Each present entry
// stands for a BPF-output perf event bound to one CPU (in the kernel: a perf event file
// descriptor). A new map has entry i bound to CPU i for every simulated CPU, as a user-space
// perf reader sets it up; Update stores a CPU number (u32) to bind an entry, Delete removes one.
type PerfEventArray struct {
	m       *Map
	records []PerfRecord
}

// Output is the map side of bpf_perf_event_output and bpf_xdp_event_output, run on cpu: the
// entry is flags&IndexMask (CurrentCPU for the running CPU); E2BIG if it is out of range,
// ENOENT if it is empty, EOPNOTSUPP if its event is bound to another CPU. The parts are
// concatenated into one sample. The helper layer checks the bits outside IndexMask first.
func (p *PerfEventArray) Output(cpu int, flags uint64, parts ...[]byte) error {
	if p.m.shared {
		p.m.mu.Lock()
		defer p.m.mu.Unlock()
	}
	s := p.m.slots
	idx := flags & IndexMask
	if idx == CurrentCPU {
		idx = uint64(cpu)
	}
	if idx >= uint64(s.n) {
		return errno.E2BIG
	}
	if !s.present[idx] {
		return errno.ENOENT
	}
	if int(binary.LittleEndian.Uint32(s.value(uint32(idx)))) != cpu {
		return errno.EOPNOTSUPP
	}
	n := 0
	for _, b := range parts {
		n += len(b)
	}
	data := make([]byte, 0, n)
	for _, b := range parts {
		data = append(data, b...)
	}
	p.records = append(p.records, PerfRecord{Index: uint32(idx), CPU: cpu, Data: data})
	return nil
}

// Records returns the samples written so far, in the order they were written, and forgets them.
func (p *PerfEventArray) Records() []PerfRecord {
	if p.m.shared {
		p.m.mu.Lock()
		defer p.m.mu.Unlock()
	}
	r := p.records
	p.records = nil
	return r
}
