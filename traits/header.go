package traits

import (
	"encoding/binary"
	"math/bits"
)

// HeaderLen is the size in bytes of the header that starts every store: the
// high bitmap, then the low bitmap, each a little-endian uint64.
const HeaderLen = 16

// NumKeys is the number of keys of a store: valid keys are 0 to NumKeys-1.
const NumKeys = 64

// header reads the two bitmaps; len(buf) must be at least HeaderLen.
func header(buf []byte) (high, low uint64) {
	return binary.LittleEndian.Uint64(buf[0:8]), binary.LittleEndian.Uint64(buf[8:16])
}

// putHeader writes the two bitmaps; len(buf) must be at least HeaderLen.
func putHeader(buf []byte, high, low uint64) {
	binary.LittleEndian.PutUint64(buf[0:8], high)
	binary.LittleEndian.PutUint64(buf[8:16], low)
}

// codeOf gives the size code of key: the bit of high, then the bit of low.
func codeOf(high, low, key uint64) uint64 {
	return (high>>key&1)<<1 | low>>key&1
}

// total gives the number of value bytes that the keys of the two bitmaps
// hold. Each key set in high counts 4 bytes. For V1, each key set in low
// adds 2, and a key set in both adds 2 more (2+4+2 = 8). For V2, only a key
// set in both adds 4 more (4+4 = 8), so a key set in low alone counts 0.
func (l Layout) total(high, low uint64) int {
	n := bits.OnesCount64(high) << 2
	if l == V2 {
		return n + bits.OnesCount64(high&low)<<2
	}
	return n + (bits.OnesCount64(low)+bits.OnesCount64(high&low))<<1
}

// maxLen is the longest value of any layout.
const maxLen = 8

// fits reports whether a store with these bitmaps fits in room bytes. As no
// value is longer than maxLen, one population count settles it for stores
// well inside their room, the usual case; the others get the exact sum.
func (l Layout) fits(high, low uint64, room int) bool {
	if HeaderLen+bits.OnesCount64(high|low)*maxLen <= room {
		return true
	}
	return HeaderLen+l.total(high, low) <= room
}
