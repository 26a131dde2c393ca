package vm

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"unsafe"
)

// BPF atomic instructions are atomic: programs on several machines at once (a parallel replay, where
// each RX queue's CPU runs on a goroutine of its own) may update the same map value, and a lock
// add, a fetch or a compare-and-exchange must not lose or tear an update, as on the kernel's
// CPUs. The words are little-endian and naturally aligned (the kernel's verifier demands it); on a
// big-endian host, or for a word the verifier would have refused as misaligned, the operation is
// made atomic by a lock that every such operation shares instead.

// hostLittleEndian says whether the host stores words as BPF memory does.
var hostLittleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// slowAtomics serialises the atomic operations that cannot use the host's.
var slowAtomics sync.Mutex

func atomic32(b []byte, regs *[16]uint64, src uint8, op int64) {
	p := unsafe.Pointer(unsafe.SliceData(b))
	if !hostLittleEndian || uintptr(p)%4 != 0 {
		slowAtomics.Lock()
		atomic32Plain(b, regs, src, op)
		slowAtomics.Unlock()
		return
	}
	w := (*uint32)(p)
	v := uint32(regs[src])
	var old uint32
	switch op {
	case AtomicAdd, AtomicAdd | AtomicFetch:
		old = atomic.AddUint32(w, v) - v
	case AtomicOr, AtomicOr | AtomicFetch:
		old = atomic.OrUint32(w, v)
	case AtomicAnd, AtomicAnd | AtomicFetch:
		old = atomic.AndUint32(w, v)
	case AtomicXchg:
		old = atomic.SwapUint32(w, v)
	case AtomicXor, AtomicXor | AtomicFetch:
		for old = atomic.LoadUint32(w); !atomic.CompareAndSwapUint32(w, old, old^v); old = atomic.LoadUint32(w) {
		}
	case AtomicCmpXchg:
		for old = atomic.LoadUint32(w); old == uint32(regs[0]) && !atomic.CompareAndSwapUint32(w, old, v); old = atomic.LoadUint32(w) {
		}
		regs[0] = uint64(old)
		return
	}
	if op&AtomicFetch != 0 {
		regs[src] = uint64(old)
	}
}

func atomic64(b []byte, regs *[16]uint64, src uint8, op int64) {
	p := unsafe.Pointer(unsafe.SliceData(b))
	if !hostLittleEndian || uintptr(p)%8 != 0 {
		slowAtomics.Lock()
		atomic64Plain(b, regs, src, op)
		slowAtomics.Unlock()
		return
	}
	w := (*uint64)(p)
	v := regs[src]
	var old uint64
	switch op {
	case AtomicAdd, AtomicAdd | AtomicFetch:
		old = atomic.AddUint64(w, v) - v
	case AtomicOr, AtomicOr | AtomicFetch:
		old = atomic.OrUint64(w, v)
	case AtomicAnd, AtomicAnd | AtomicFetch:
		old = atomic.AndUint64(w, v)
	case AtomicXchg:
		old = atomic.SwapUint64(w, v)
	case AtomicXor, AtomicXor | AtomicFetch:
		for old = atomic.LoadUint64(w); !atomic.CompareAndSwapUint64(w, old, old^v); old = atomic.LoadUint64(w) {
		}
	case AtomicCmpXchg:
		for old = atomic.LoadUint64(w); old == regs[0] && !atomic.CompareAndSwapUint64(w, old, v); old = atomic.LoadUint64(w) {
		}
		regs[0] = old
		return
	}
	if op&AtomicFetch != 0 {
		regs[src] = old
	}
}

// atomic32Plain and atomic64Plain are the operations as plain reads and writes of little-endian
// words, for callers that hold slowAtomics.
func atomic32Plain(b []byte, regs *[16]uint64, src uint8, op int64) {
	old := le.Uint32(b)
	v := uint32(regs[src])
	var nv uint32
	switch op &^ AtomicFetch {
	case AtomicAdd:
		nv = old + v
	case AtomicOr:
		nv = old | v
	case AtomicAnd:
		nv = old & v
	case AtomicXor:
		nv = old ^ v
	case AtomicXchg &^ AtomicFetch:
		nv = v
	case AtomicCmpXchg &^ AtomicFetch:
		if uint32(regs[0]) == old {
			le.PutUint32(b, v)
		}
		regs[0] = uint64(old)
		return
	}
	le.PutUint32(b, nv)
	if op&AtomicFetch != 0 {
		regs[src] = uint64(old)
	}
}

func atomic64Plain(b []byte, regs *[16]uint64, src uint8, op int64) {
	old := le.Uint64(b)
	v := regs[src]
	var nv uint64
	switch op &^ AtomicFetch {
	case AtomicAdd:
		nv = old + v
	case AtomicOr:
		nv = old | v
	case AtomicAnd:
		nv = old & v
	case AtomicXor:
		nv = old ^ v
	case AtomicXchg &^ AtomicFetch:
		nv = v
	case AtomicCmpXchg &^ AtomicFetch:
		if regs[0] == old {
			le.PutUint64(b, v)
		}
		regs[0] = old
		return
	}
	le.PutUint64(b, nv)
	if op&AtomicFetch != 0 {
		regs[src] = old
	}
}
