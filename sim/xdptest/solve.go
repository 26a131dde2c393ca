package xdptest

import (
	"bytes"
	"encoding/binary"

	"github.com/xdpsim/xdpsim/vm"
)

// maxNeighbours bounds the neighbours of one input.
const maxNeighbours = 4

// neighbours appends to out the packets that differ from pkt where the equality test cmp compared:
// for each place (at most maxNeighbours, starting at one the packet's hash picks) where the tested
// operand's bytes occur in pkt, as many bytes as the larger operand needs, little- or big-endian,
// pkt with the other operand's bytes there instead. Nothing when cmp held or is no equality test. The packets live in out's spare
// capacity where they fit, so that a fuzz loop reuses them.
func neighbours(pkt []byte, cmp vm.Comparison, out [][]byte) [][]byte {
	if !cmp.Equality || cmp.A == cmp.B {
		return out
	}
	width := 8
	switch m := max(cmp.A, cmp.B); {
	case m <= 0xff:
		width = 1
	case m <= 0xffff:
		width = 2
	case m <= 0xffffffff:
		width = 4
	}
	var have, want [2][8]byte
	binary.LittleEndian.PutUint64(have[0][:], cmp.A)
	binary.LittleEndian.PutUint64(want[0][:], cmp.B)
	binary.BigEndian.PutUint64(have[1][:], cmp.A)
	binary.BigEndian.PutUint64(want[1][:], cmp.B)
	orders := 2
	if width == 1 {
		orders = 1
	}
	// A common value (a byte of 0, or of '0' after Go's minimiser made a packet printable)
	// occurs in many places: start looking at a place that follows from the packet, so that
	// different inputs try different ones, and the same input always the same.
	start := 0
	if len(pkt) > 0 {
		start = int(fnv32(pkt) % uint32(len(pkt)))
	}
	for o := range orders {
		from, to := have[o][:width], want[o][:width]
		if o == 1 {
			from, to = have[o][8-width:], want[o][8-width:]
		}
		for k := 0; k < len(pkt) && len(out) < maxNeighbours; k++ {
			i := (start + k) % len(pkt)
			if i+width > len(pkt) || !bytes.Equal(pkt[i:i+width], from) {
				continue
			}
			var n []byte
			if len(out) < cap(out) {
				n = out[:len(out)+1][len(out)]
			}
			n = append(n[:0], pkt...)
			copy(n[i:], to)
			out = append(out, n)
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
