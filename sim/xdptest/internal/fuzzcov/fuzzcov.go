// Package fuzzcov shows Go's fuzzer the coverage of the BPF program instead of the simulator's.
//
// Under go test -fuzz, cmd/go compiles every package of the test binary (all but a fixed list of
// standard ones: runtime, reflect, sync, testing, time, ...) with -d=libfuzzer, which gives every
// basic block an 8-bit counter in one section of the binary. Before each input the fuzzer zeroes
// the counters; after it, it rounds each to a power of two and keeps the input if any counter
// reached a value none had before. For a program run by the simulator, those counters are the
// interpreter's, the helpers', the maps': every new count of an interpreter opcode looks like new
// coverage, and the fuzzer spends its time keeping and minimising inputs that changed nothing in
// the BPF program. There is no way to leave packages out of the instrumentation.
//
// This package finds the counters at run time (the linker marks the section with the symbols
// libFuzzer knows it by), saves them before the simulator runs an input and puts them back after,
// so that what the simulator's Go code did leaves no trace; it then writes the BPF program's own
// features (edges, hit counts, comparisons) into counters it owns: those of hit, a function with
// one branch per slot, whose counters it locates once at start-up. In a binary built without the
// instrumentation (plain go test) it finds no counters and does nothing.
package fuzzcov

import (
	"unsafe"
)

// The linker defines these two symbols at the start and end of the section of -d=libfuzzer
// counters (.go.fuzzcntrs), for libFuzzer's __sancov_cntrs convention. In a build without
// counters, the declarations here stand for them, and find sees no counters between them.
//
//go:linkname counters runtime.__start___sancov_cntrs
var counters [0]byte

//go:linkname countersEnd runtime.__stop___sancov_cntrs
var countersEnd [0]byte

var sink int

var (
	// region is the counters of the whole binary; nil when the build has none (or they could
	// not be located for sure).
	region []byte
	// slots holds the offset in region of the counter of each slot of hit.
	slots [Slots]int32
	// saved is the copy Mask makes.
	saved []byte
)

func init() { locate() }

// Active reports whether the binary has fuzzing coverage counters and the slots were found: the
// binary was built by go test -fuzz on a platform with coverage instrumentation.
func Active() bool { return region != nil }

// Mask remembers the counters as they are. Call it before the simulator runs an input.
func Mask() {
	if region != nil {
		copy(saved, region)
	}
}

// Unmask puts the counters back as Mask found them, undoing whatever the Go code that ran in
// between counted.
func Unmask() {
	if region != nil {
		copy(region, saved)
	}
}

// Hit shows the fuzzer slot i (taken modulo Slots) as hit n times in this input. The fuzzer sees
// n rounded down to a power of two, up to 128; hits of the same slot keep the largest n.
func Hit(i int, n uint64) {
	if region == nil || n == 0 {
		return
	}
	c := &region[slots[uint(i)%Slots]]
	v := byte(min(n, 255))
	if v > *c {
		*c = v
	}
}

// next is what an instrumented block does to its counter: add one, but never wrap to zero.
func next(c byte) byte {
	if c == 0xff {
		return 1
	}
	return c + 1
}

// locate finds the counters and the slots of hit. It runs hit for every slot once, then, for
// each bit of the slot numbers, for the slots with that bit set: the bytes that change by one in
// the first pass are the slots' counters, and which later passes change each one spells its slot
// number. Anything unexpected (no counters, another count of changed bytes, a slot found twice)
// leaves the package inactive.
func locate() {
	start, end := uintptr(unsafe.Pointer(&counters)), uintptr(unsafe.Pointer(&countersEnd))
	if end <= start || end-start > 1<<30 {
		return
	}
	r := unsafe.Slice((*byte)(unsafe.Pointer(&counters)), int(end-start))
	before := make([]byte, len(r))
	copy(before, r)
	for i := range Slots {
		hit(i)
	}
	var found []int32
	for off := range r {
		if r[off] != before[off] && r[off] == next(before[off]) {
			found = append(found, int32(off))
		}
	}
	if len(found) != Slots {
		return
	}
	index := make([]int, len(found))
	for bit := 0; 1<<bit < Slots; bit++ {
		copy(before, r)
		for i := range Slots {
			if i&(1<<bit) != 0 {
				hit(i)
			}
		}
		for k, off := range found {
			switch r[off] {
			case next(before[off]):
				index[k] |= 1 << bit
			case before[off]:
			default:
				return
			}
		}
	}
	var seen [Slots]bool
	for k, i := range index {
		if seen[i] {
			return
		}
		seen[i] = true
		slots[i] = found[k]
	}
	region = r
	saved = make([]byte, len(r))
}
