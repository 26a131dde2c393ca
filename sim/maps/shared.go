package maps

import (
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Maps shared by programs that run at once. A parallel replay runs each RX queue's CPU on a
// goroutine of its own, over the same maps, as the kernel's CPUs run their programs; SetShared makes
// a map keep the kernel's guarantees under that concurrency:
//
//   - array-indexed maps (array, percpu_array, devmap, cpumap, xskmap, prog_array, array_of_maps)
//     are looked up and updated without a lock, as in the kernel: their values are updated in
//     place, and two writes of one element race as they do there (BPF_F_LOCK updates take the
//     value's bpf_spin_lock);
//   - hash maps (plain, per-CPU, LRU, of maps, devmap_hash), LPM tries, queues, stacks, ring
//     buffers and perf event arrays hold the map's lock for every operation, so that their
//     structures stay whole whatever the interleaving (where the kernel takes bucket and ring spin
//     locks, or relies on RCU);
//   - the values Lookup hands out alias the storage and are read and written without a lock, as
//     programs do; BPF atomic instructions on them are atomic (the vm's engines), bpf_spin_lock is
//     a real lock (SpinLock);
//   - per-CPU values are per CPU: the replay runs each CPU's packets on one goroutine, in order.
//
// A map that is not shared takes no lock at all.

// SetShared makes the map safe for programs that run on several goroutines at once. Call it before
// they start; it cannot be undone.
func (m *Map) SetShared() {
	m.shared = true
	if m.rb != nil {
		m.rb.shared = true
	}
}

// Shared reports whether SetShared was called.
func (m *Map) Shared() bool { return m.shared }

// locks says the map's operations hold its lock: it is shared, and of a kind whose structure
// changes under updates.
func (m *Map) locks() bool {
	if !m.shared {
		return false
	}
	switch m.kind {
	case kArray, kPerCPUArray, kDevMap, kCPUMap, kXSKMap, kProgArray, kArrayOfMaps:
		return false
	}
	return true
}

// SpinLock takes the bpf_spin_lock in word (the 4 bytes of struct bpf_spin_lock in a map value):
// it waits until no one else holds it, yielding the processor while it waits, as programs on other
// CPUs hold it only for a few instructions.
func SpinLock(word []byte) {
	w := spinWord(word)
	for spins := 0; !atomic.CompareAndSwapUint32(w, 0, 1); spins++ {
		if spins >= 64 {
			runtime.Gosched()
		}
	}
}

// SpinUnlock releases a lock SpinLock took.
func SpinUnlock(word []byte) { atomic.StoreUint32(spinWord(word), 0) }

// spinWord is the lock word: aligned as struct bpf_spin_lock is (map values start 8-byte aligned
// and BTF places the lock at a multiple of 4), or, where a caller hands a misaligned one, a word of
// a table it hashes to, so that the lock still excludes.
func spinWord(word []byte) *uint32 {
	p := unsafe.Pointer(unsafe.SliceData(word))
	if uintptr(p)%4 == 0 {
		return (*uint32)(p)
	}
	return &misaligned[uintptr(p)%uintptr(len(misaligned))]
}

var misaligned [64]uint32

// ringLock is a ring buffer's lock while it is shared (the kernel's reservation spin lock).
type ringLock struct {
	shared bool
	mu     sync.Mutex
}

func (l *ringLock) lock() {
	if l.shared {
		l.mu.Lock()
	}
}

func (l *ringLock) unlock() {
	if l.shared {
		l.mu.Unlock()
	}
}
