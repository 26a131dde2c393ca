package xdptest

import (
	"bytes"
	"encoding/binary"

	"github.com/xdpsim/xdpsim/vm"
)

// maxNeighbours bounds the neighbours of one input.
const maxNeighbours = 4

// neighbours appends to out the packets that differ from pkt where the comparison cmp, which did
// not go the way it could, compared: for each place (at most maxNeighbours, starting at one the
// packet's hash picks) where the tested operand's bytes occur in pkt, as many bytes as the larger
// operand needs, little- or big-endian, pkt with a value there that takes the comparison the other
// way: the value an equality test tested for; for an ordering test, the bound and its neighbour on
// the far side. The packets live in out's spare capacity where they fit, so that a fuzz loop reuses
// them.
func neighbours(pkt []byte, cmp vm.Comparison, out [][]byte) [][]byte {
	var targets [2]uint64
	n := 0
	switch {
	case cmp.Equality && cmp.A != cmp.B:
		targets[0], n = cmp.B, 1
	case !cmp.Equality:
		less := cmp.A < cmp.B
		if cmp.Signed {
			less = signed(cmp.A, cmp.Bits) < signed(cmp.B, cmp.Bits)
		}
		step := uint64(1)
		if !less {
			step = ^uint64(0) // -1
		}
		targets[0], targets[1], n = cmp.B, cmp.B+step, 2
		if cmp.Bits == 32 {
			targets[1] = uint64(uint32(targets[1]))
		}
	}
	// A common value (a byte of 0, or of '0' after Go's minimiser made a packet printable)
	// occurs in many places: start looking at a place that follows from the packet, so that
	// different inputs try different ones, and the same input always the same.
	start := 0
	if len(pkt) > 0 && n > 0 {
		start = int(fnv32(pkt) % uint32(len(pkt)))
	}
	for _, t := range targets[:n] {
		out = replacing(pkt, start, cmp.A, t, out)
	}
	return out
}

// signed reads v as a signed number of bits bits.
func signed(v uint64, bits int) int64 {
	if bits == 32 {
		return int64(int32(v))
	}
	return int64(v)
}

// replacing appends pkt with from's bytes replaced by to's at the places maxNeighbours allows,
// looking from start on, then before it.
func replacing(pkt []byte, start int, from, to uint64, out [][]byte) [][]byte {
	if from == to {
		return out
	}
	width := 8
	switch m := max(from, to); {
	case m <= 0xff:
		width = 1
	case m <= 0xffff:
		width = 2
	case m <= 0xffffffff:
		width = 4
	}
	var have, want [2][8]byte
	binary.LittleEndian.PutUint64(have[0][:], from)
	binary.LittleEndian.PutUint64(want[0][:], to)
	binary.BigEndian.PutUint64(have[1][:], from)
	binary.BigEndian.PutUint64(want[1][:], to)
	orders := 2
	if width == 1 {
		orders = 1
	}
	for o := range orders {
		f, t := have[o][:width], want[o][:width]
		if o == 1 {
			f, t = have[o][8-width:], want[o][8-width:]
		}
		// The places from start to the end, then those before start (bytes.Index rather than
		// a loop over the bytes: under go test -fuzz, every iteration of a loop here would count
		// a coverage counter and call a comparison hook).
		for _, r := range [2][2]int{{start, len(pkt)}, {0, min(start+width-1, len(pkt))}} {
			for i := r[0]; len(out) < maxNeighbours; i++ {
				k := bytes.Index(pkt[i:r[1]], f)
				if k < 0 {
					break
				}
				i += k
				var n []byte
				if len(out) < cap(out) {
					n = out[:len(out)+1][len(out)]
				}
				n = append(n[:0], pkt...)
				copy(n[i:], t)
				out = append(out, n)
			}
		}
	}
	return out
}

// fnv32 is the 32-bit FNV-1a hash of b.
func fnv32(b []byte) uint32 {
	h := uint32(2166136261)
	for _, c := range b {
		h = (h ^ uint32(c)) * 16777619
	}
	return h
}
