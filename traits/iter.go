package traits

import (
	"iter"
	"math/bits"
)

// All yields the set keys of the store in increasing order, each with its
// value. A value is a slice of buf, not a copy: it is valid until the store
// next changes, and a V2 flag yields an empty one. All yields nothing if buf
// does not hold the whole store.
func (l Layout) All(buf []byte) iter.Seq2[uint64, []byte] {
	return func(yield func(uint64, []byte) bool) {
		end := l.Len(buf)
		if end == 0 || end > len(buf) {
			return
		}
		high, low := header(buf)
		off := HeaderLen
		for set := high | low; set != 0; set &= set - 1 {
			key := uint64(bits.TrailingZeros64(set))
			n := l.size(codeOf(high, low, key))
			if !yield(key, buf[off:off+n:off+n]) {
				return
			}
			off += n
		}
	}
}
