package xdptest

import (
	"bytes"
	"encoding/binary"

	"github.com/xdpsim/xdpsim/vm"
)

// maxNeighbours bounds the neighbours of one input.
const maxNeighbours = 4

// neighbours appends to out the packets that differ from pkt where the equality test cmp compared:
// for each place (at most maxNeighbours) where the tested operand's bytes occur in pkt, as many
// bytes as the larger operand needs, little- or big-endian, pkt with the other operand's bytes
// there instead. Nothing when cmp held or is no equality test. The packets live in out's spare
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
	for o := range orders {
		from, to := have[o][:width], want[o][:width]
		if o == 1 {
			from, to = have[o][8-width:], want[o][8-width:]
		}
		for i := 0; i+width <= len(pkt) && len(out) < maxNeighbours; i++ {
			k := bytes.Index(pkt[i:], from)
			if k < 0 {
				break
			}
			i += k
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
